-- Connect external accounts (src/api/external_accounts.c): the bank accounts an account is paid
-- out to, its bank account tokens (btok_), and the payout's destination and failure.
--
-- merchant_id is the account that OWNS the external account (a connected account, or a
-- merchant's own), so that a payout (which runs as that account) finds its destination in its
-- own scope; the platform reaches a connected account's rows from its own transaction, on the
-- same shard (a Connect family lives on one). Only the last four digits of an account number are
-- kept: the number itself is never stored (Tender pays out to no real bank), nor is anything
-- derived from it but its HMAC fingerprint under the merchant's fingerprint key (vault.h).
-- payout_failure is what the bank will answer a payout to a Stripe test number (no_account,
-- account_closed, …), decided when the number is given; NULL: payouts to it are paid.
-- status: new, or errored once a payout to it failed. Lists page by id (0021).
CREATE TABLE external_accounts (
  merchant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  created INTEGER NOT NULL,
  country TEXT NOT NULL,
  currency TEXT NOT NULL,
  last4 TEXT NOT NULL,
  routing_number TEXT,
  bank_name TEXT,
  account_holder_name TEXT,
  account_holder_type TEXT,
  fingerprint TEXT NOT NULL,
  status TEXT NOT NULL,
  default_for_currency INTEGER NOT NULL DEFAULT 0,
  payout_failure TEXT,
  metadata TEXT NOT NULL DEFAULT '{}',
  deleted INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (merchant_id, id)
) WITHOUT ROWID;

-- Single-use bank account tokens (POST /v1/tokens with bank_account[…]): the same public facts,
-- and the id (ba_…) the external account made from the token takes. merchant_id: the caller.
CREATE TABLE bank_tokens (
  merchant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  created INTEGER NOT NULL,
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
  used INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (merchant_id, id)
) WITHOUT ROWID;

-- A payout's external account (NULL: made while the account had none in its currency) and why
-- the bank returned it (status failed).
ALTER TABLE payouts ADD COLUMN destination TEXT;
ALTER TABLE payouts ADD COLUMN failure_code TEXT;
