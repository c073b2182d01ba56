-- PostgreSQL port of migrations/sqlite/0004_ledger.sql: the same tables; INTEGER is BIGINT, BLOB is BYTEA.
-- The double-entry journal and Stripe's balance transactions.
-- journal_entries are insert-only: a correction is a new journal transaction, never an update.
-- Debits are positive, credits negative; each journal transaction sums to zero per currency.

CREATE TABLE journal_txns (
  merchant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  kind TEXT NOT NULL,
  source TEXT NOT NULL,
  created BIGINT NOT NULL,
  PRIMARY KEY (merchant_id, id)
);

CREATE TABLE journal_entries (
  merchant_id TEXT NOT NULL,
  txn_id TEXT NOT NULL,
  seq BIGINT NOT NULL,
  account TEXT NOT NULL,
  currency TEXT NOT NULL,
  amount BIGINT NOT NULL CHECK (amount <> 0),
  PRIMARY KEY (merchant_id, txn_id, seq)
);
CREATE INDEX journal_entries_account ON journal_entries (merchant_id, account, currency);

-- status moves pending → available once (scheduler, guarded); the journal records the move.
CREATE TABLE balance_transactions (
  merchant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  created BIGINT NOT NULL,
  type TEXT NOT NULL,
  reporting_category TEXT NOT NULL,
  source TEXT NOT NULL,
  amount BIGINT NOT NULL,
  fee BIGINT NOT NULL,
  net BIGINT NOT NULL,
  currency TEXT NOT NULL,
  exchange_rate TEXT,
  status TEXT NOT NULL CHECK (status IN ('pending', 'available')),
  available_on BIGINT NOT NULL,
  description TEXT,
  journal_txn TEXT NOT NULL,
  CHECK (net = amount - fee),
  PRIMARY KEY (merchant_id, id)
);
CREATE INDEX balance_transactions_list ON balance_transactions (merchant_id, created DESC, id DESC);
CREATE INDEX balance_transactions_due ON balance_transactions (status, available_on);
CREATE INDEX balance_transactions_source ON balance_transactions (merchant_id, source);
