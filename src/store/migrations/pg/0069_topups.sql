-- PostgreSQL port of migrations/sqlite/0074_topups.sql.
-- Top-ups (api/topups.c): money a merchant sends from its bank account into its balance. A
-- top-up is pending until the scheduler hears from the bank (settle_at), then succeeded (its
-- "topup" balance transaction and journal entries are made in that write) or failed (nothing
-- moved); a pending one can be canceled. source is the bank token or account it was pulled from.
CREATE TABLE topups (
  merchant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  created BIGINT NOT NULL,
  amount BIGINT NOT NULL,
  currency TEXT NOT NULL,
  status TEXT NOT NULL,
  description TEXT,
  statement_descriptor TEXT,
  transfer_group TEXT,
  metadata TEXT NOT NULL DEFAULT '{}',
  source TEXT,
  failure_code TEXT,
  balance_transaction TEXT,
  expected_availability_date BIGINT,
  settle_at BIGINT,
  PRIMARY KEY (merchant_id, id)
);
CREATE INDEX topups_settle ON topups (settle_at) WHERE settle_at IS NOT NULL;
