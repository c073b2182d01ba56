-- A customer's legacy bank account sources (ACH through the Sources / Bank Accounts API,
-- api/bank_sources.c): ba_… attached to a customer from a bank token (btok_…) or one of
-- Stripe's test tokens. The account number is never stored (the token kept only these public
-- facts); `failure` is what the bank answers a debit from it (Stripe's test accounts' return
-- code: account_closed, no_account, …; NULL: it pays). status: new, verified (microdeposits
-- matched) or verification_failed (too many wrong amounts); verify_failures counts the wrong
-- answers. deleted is 1 once the source is deleted (it is gone but from the charges that name
-- it, which still render it).
CREATE TABLE customer_bank_accounts (
  merchant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  customer TEXT NOT NULL,
  created INTEGER NOT NULL,
  country TEXT NOT NULL,
  currency TEXT NOT NULL,
  last4 TEXT NOT NULL,
  routing_number TEXT,
  bank_name TEXT,
  account_holder_name TEXT,
  account_holder_type TEXT,
  fingerprint TEXT NOT NULL,
  failure TEXT,
  status TEXT NOT NULL,
  verify_failures INTEGER NOT NULL DEFAULT 0,
  metadata TEXT NOT NULL DEFAULT '{}',
  deleted INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (merchant_id, id)
) WITHOUT ROWID;
CREATE INDEX customer_bank_accounts_customer ON customer_bank_accounts (merchant_id, customer, id);
