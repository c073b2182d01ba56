-- Payouts (/v1/payouts): available funds sent to the merchant's bank. The money moves in the
-- journal (ledger_payout.h: merchant_available → payouts_in_transit → paid_out, or back on a
-- cancel); this row is the payout's state. settle_at is when the scheduler pays a pending payout
-- (NULL once it is paid or canceled). Lists page by id (0021).
CREATE TABLE payouts (
  merchant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  created BIGINT NOT NULL,
  amount BIGINT NOT NULL,
  currency TEXT NOT NULL,
  status TEXT NOT NULL,
  arrival_date BIGINT NOT NULL,
  description TEXT,
  statement_descriptor TEXT,
  metadata TEXT NOT NULL DEFAULT '{}',
  balance_transaction TEXT NOT NULL,
  failure_balance_transaction TEXT,
  settle_at BIGINT,
  PRIMARY KEY (merchant_id, id)
);
CREATE INDEX payouts_settle ON payouts (settle_at) WHERE settle_at IS NOT NULL;
-- How many payouts each merchant has made in each currency: a payout's write moves it from the
-- number its balance check saw to the next with a conditional update, so two payouts checked
-- against the same balance cannot both be made (on PostgreSQL the second update waits for the
-- first and then finds the number moved).
CREATE TABLE payout_counters (
  merchant_id TEXT NOT NULL,
  currency TEXT NOT NULL,
  made BIGINT NOT NULL,
  PRIMARY KEY (merchant_id, currency)
);
