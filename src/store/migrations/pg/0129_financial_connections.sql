-- Stripe Financial Connections (api/financial_connections.c, api/financial_connections_page.c):
-- sessions, the accounts their hosted test page links, and the ownership data of those accounts.
--
-- A session's client_secret is derived from the vault's page key (vault_page_token of the
-- session id), never stored. form_hash is the SHA-256 of the one-time value the page's form must
-- post back (form_opened_at when it was handed out); completed_at is set when the page linked its
-- accounts (a session links once). permissions, prefetch and filters are JSON text.
CREATE TABLE fc_sessions (
  merchant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  created BIGINT NOT NULL,
  holder_type TEXT NOT NULL,
  holder_customer TEXT,
  holder_account TEXT,
  permissions TEXT NOT NULL,
  prefetch TEXT,
  filters TEXT,
  return_url TEXT,
  form_hash TEXT,
  form_opened_at BIGINT,
  completed_at BIGINT,
  PRIMARY KEY (merchant_id, id)
);

-- A linked account (fca_…): one of Stripe's test institution accounts (test_account names it;
-- its account number is the vault's to know, api code never sees it). balance, balance_refresh
-- and ownership_refresh are the object's JSON hashes (NULL: none); ownership names the latest
-- fc_ownerships row.
CREATE TABLE fc_accounts (
  merchant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  created BIGINT NOT NULL,
  session TEXT NOT NULL,
  holder_type TEXT NOT NULL,
  holder_customer TEXT,
  holder_account TEXT,
  test_account TEXT NOT NULL,
  institution_name TEXT NOT NULL,
  display_name TEXT,
  last4 TEXT,
  category TEXT NOT NULL,
  subcategory TEXT NOT NULL,
  status TEXT NOT NULL,
  permissions TEXT NOT NULL,
  balance TEXT,
  balance_refresh TEXT,
  ownership TEXT,
  ownership_refresh TEXT,
  PRIMARY KEY (merchant_id, id)
);
CREATE INDEX fc_accounts_session ON fc_accounts (merchant_id, session, id);

-- An account's ownership data as one refresh read it (fcaowns_…), and its owners (fcaown_…).
-- Each refresh appends a new ownership; the old ones stay, as Stripe keeps them.
CREATE TABLE fc_ownerships (
  merchant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  created BIGINT NOT NULL,
  account TEXT NOT NULL,
  PRIMARY KEY (merchant_id, id)
);
CREATE TABLE fc_owners (
  merchant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  created BIGINT NOT NULL,
  ownership TEXT NOT NULL,
  name TEXT NOT NULL,
  email TEXT,
  phone TEXT,
  raw_address TEXT,
  refreshed_at BIGINT,
  PRIMARY KEY (merchant_id, id)
);
CREATE INDEX fc_owners_ownership ON fc_owners (merchant_id, ownership, id);

-- A us_bank_account PaymentMethod made from a linked account names it (NULL: entered by hand).
ALTER TABLE payment_methods ADD COLUMN ach_fc_account TEXT;

-- payment_method_options[us_bank_account][financial_connections] of PaymentIntents and
-- SetupIntents: the JSON they show (permissions, prefetch, return_url), NULL when not given.
ALTER TABLE payment_intents ADD COLUMN pmo_ach_financial_connections TEXT;
ALTER TABLE setup_intents ADD COLUMN pmo_ach_financial_connections TEXT;
