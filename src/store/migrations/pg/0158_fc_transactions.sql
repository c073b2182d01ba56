-- Financial Connections transactions (api/financial_connections_txns.c). An account's
-- subscriptions (JSON array text, ["transactions"] or []; NULL shows []), its last transaction
-- refresh as the object shows it (JSON text, NULL before the first) and, while it is subscribed,
-- when the scheduler refreshes it next (NULL: not subscribed).
ALTER TABLE fc_accounts ADD COLUMN subscriptions TEXT;
ALTER TABLE fc_accounts ADD COLUMN transaction_refresh TEXT;
ALTER TABLE fc_accounts ADD COLUMN next_transaction_refresh_at BIGINT;
CREATE INDEX fc_accounts_txn_due ON fc_accounts (next_transaction_refresh_at)
  WHERE next_transaction_refresh_at IS NOT NULL;

-- Every transaction refresh (fctxnref_…), appended, never changed: the record of what each
-- refresh did, and the bound of transaction_refresh[after].
CREATE TABLE fc_transaction_refreshes (
  merchant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  created BIGINT NOT NULL,
  account TEXT NOT NULL,
  status TEXT NOT NULL,
  inserted BIGINT NOT NULL,
  updated BIGINT NOT NULL,
  PRIMARY KEY (merchant_id, id)
);

-- The test institution's transactions as refreshes read them (fctxn_…): seq is the generator's
-- number of the transaction in the account's history (one row each); a refresh that sees a
-- pending one posted or voided updates its status, status times, transaction_refresh and
-- updated (that refresh's row records it).
CREATE TABLE fc_transactions (
  merchant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  created BIGINT NOT NULL,
  account TEXT NOT NULL,
  seq BIGINT NOT NULL,
  amount BIGINT NOT NULL,
  currency TEXT NOT NULL,
  description TEXT NOT NULL,
  status TEXT NOT NULL,
  transacted_at BIGINT NOT NULL,
  posted_at BIGINT,
  void_at BIGINT,
  transaction_refresh TEXT NOT NULL,
  updated BIGINT NOT NULL,
  PRIMARY KEY (merchant_id, id)
);
CREATE UNIQUE INDEX fc_transactions_seq ON fc_transactions (merchant_id, account, seq);
CREATE INDEX fc_transactions_account ON fc_transactions (merchant_id, account, id);
