-- Connect money movements (src/ledger/ledger_connect.h): transfers from a platform to its
-- connected accounts, their reversals, and the application fees a platform collects on
-- destination charges. Each row belongs to the platform (merchant_id); the money moves in both
-- merchants' journals through the connect_clearing account, which sums to zero over a shard
-- (a connected account lives on its platform's shard, migration 0036). Lists page by id (0021).
CREATE TABLE transfers (
  merchant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  created INTEGER NOT NULL,
  amount INTEGER NOT NULL,
  amount_reversed INTEGER NOT NULL DEFAULT 0,
  currency TEXT NOT NULL,
  destination TEXT NOT NULL,
  destination_payment TEXT NOT NULL,
  balance_transaction TEXT NOT NULL,
  destination_balance_transaction TEXT NOT NULL,
  source_transaction TEXT,
  transfer_group TEXT,
  description TEXT,
  metadata TEXT NOT NULL DEFAULT '{}',
  PRIMARY KEY (merchant_id, id)
) WITHOUT ROWID;
-- what a charge has already funded (a transfer's source_transaction, a destination charge)
CREATE INDEX transfers_source ON transfers (merchant_id, source_transaction)
  WHERE source_transaction IS NOT NULL;
CREATE INDEX transfers_destination ON transfers (merchant_id, destination, id);
CREATE TABLE transfer_reversals (
  merchant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  transfer TEXT NOT NULL,
  created INTEGER NOT NULL,
  amount INTEGER NOT NULL,
  currency TEXT NOT NULL,
  balance_transaction TEXT NOT NULL,
  destination_payment_refund TEXT NOT NULL,
  destination_balance_transaction TEXT NOT NULL,
  source_refund TEXT,
  metadata TEXT NOT NULL DEFAULT '{}',
  PRIMARY KEY (merchant_id, id)
) WITHOUT ROWID;
CREATE INDEX transfer_reversals_transfer ON transfer_reversals (merchant_id, transfer, id);
CREATE TABLE application_fees (
  merchant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  created INTEGER NOT NULL,
  amount INTEGER NOT NULL,
  amount_refunded INTEGER NOT NULL DEFAULT 0,
  currency TEXT NOT NULL,
  account TEXT NOT NULL,
  charge TEXT NOT NULL,
  originating_transaction TEXT,
  balance_transaction TEXT NOT NULL,
  PRIMARY KEY (merchant_id, id)
) WITHOUT ROWID;
-- An application fee given back to the connected account that paid it (fr_…).
CREATE TABLE application_fee_refunds (
  merchant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  fee TEXT NOT NULL,
  created INTEGER NOT NULL,
  amount INTEGER NOT NULL,
  currency TEXT NOT NULL,
  balance_transaction TEXT NOT NULL,
  account_balance_transaction TEXT NOT NULL,
  metadata TEXT NOT NULL DEFAULT '{}',
  PRIMARY KEY (merchant_id, id)
) WITHOUT ROWID;
CREATE INDEX application_fee_refunds_fee ON application_fee_refunds (merchant_id, fee, id);
-- A Connect payment's terms (payments/connect.h: transfer_data, application_fee_amount,
-- transfer_group, on_behalf_of), on the intent (what the merchant asked) and on the charge
-- (with the transfer and the application fee its capture made), as one JSON object: NULL on
-- every other payment, so that an ordinary payment's rows carry one more column, not twelve
-- (each column costs the single writer a few hundred instructions an insert).
ALTER TABLE payment_intents ADD COLUMN connect TEXT;
ALTER TABLE charges ADD COLUMN connect TEXT;
-- the transfer reversal a refund of a destination charge made (reverse_transfer=true)
ALTER TABLE refunds ADD COLUMN transfer_reversal TEXT;
