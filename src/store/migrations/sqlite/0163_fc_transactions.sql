-- Financial Connections transactions (api/financial_connections_txns.c). An account's
-- subscriptions (JSON array text, ["transactions"] or []; NULL shows []), its last transaction
-- refresh as the object shows it (JSON text, NULL before the first) and, while it is subscribed,
-- when the scheduler refreshes it next (NULL: not subscribed).
ALTER TABLE fc_accounts ADD COLUMN subscriptions TEXT;
ALTER TABLE fc_accounts ADD COLUMN transaction_refresh TEXT;
ALTER TABLE fc_accounts ADD COLUMN next_transaction_refresh_at INTEGER;
CREATE INDEX fc_accounts_txn_due ON fc_accounts (next_transaction_refresh_at)
  WHERE next_transaction_refresh_at IS NOT NULL;

-- Every transaction refresh (fctxnref_…), appended, never changed: the record of what each
-- refresh did, and the bound of transaction_refresh[after].
CREATE TABLE fc_transaction_refreshes (
  merchant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  created INTEGER NOT NULL,
  account TEXT NOT NULL,
  status TEXT NOT NULL,
  inserted INTEGER NOT NULL,
  updated INTEGER NOT NULL,
  PRIMARY KEY (merchant_id, id)
) WITHOUT ROWID;

-- The test institution's transactions as refreshes read them (fctxn_…): seq is the generator's
-- number of the transaction in the account's history (one row each); a refresh that sees a
-- pending one posted or voided updates its status, status times, transaction_refresh and
-- updated (that refresh's row records it).
CREATE TABLE fc_transactions (
  merchant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  created INTEGER NOT NULL,
  account TEXT NOT NULL,
  seq INTEGER NOT NULL,
  amount INTEGER NOT NULL,
  currency TEXT NOT NULL,
  description TEXT NOT NULL,
  status TEXT NOT NULL,
  transacted_at INTEGER NOT NULL,
  posted_at INTEGER,
  void_at INTEGER,
  transaction_refresh TEXT NOT NULL,
  updated INTEGER NOT NULL,
  PRIMARY KEY (merchant_id, id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX fc_transactions_seq ON fc_transactions (merchant_id, account, seq);
CREATE INDEX fc_transactions_account ON fc_transactions (merchant_id, account, id);
