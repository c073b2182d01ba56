-- PostgreSQL port of migrations/sqlite/0045_connect_external_accounts.sql.
CREATE TABLE external_accounts (
  merchant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  created BIGINT NOT NULL,
  country TEXT NOT NULL,
  currency TEXT NOT NULL,
  last4 TEXT NOT NULL,
  routing_number TEXT,
  bank_name TEXT,
  account_holder_name TEXT,
  account_holder_type TEXT,
  fingerprint TEXT NOT NULL,
  status TEXT NOT NULL,
  default_for_currency BIGINT NOT NULL DEFAULT 0,
  payout_failure TEXT,
  metadata TEXT NOT NULL DEFAULT '{}',
  deleted BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (merchant_id, id)
);
CREATE TABLE bank_tokens (
  merchant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  created BIGINT NOT NULL,
  bank_account_id TEXT NOT NULL,
  country TEXT NOT NULL,
  currency TEXT NOT NULL,
  last4 TEXT NOT NULL,
  routing_number TEXT,
  bank_name TEXT,
  account_holder_name TEXT,
  account_holder_type TEXT,
  fingerprint TEXT NOT NULL,
  payout_failure TEXT,
  client_ip TEXT,
  used BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (merchant_id, id)
);
ALTER TABLE payouts ADD COLUMN destination TEXT;
ALTER TABLE payouts ADD COLUMN failure_code TEXT;
