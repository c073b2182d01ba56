-- PostgreSQL port of migrations/sqlite/0046_connect_onboarding.sql.
ALTER TABLE connected_accounts ADD COLUMN co_name TEXT;
ALTER TABLE connected_accounts ADD COLUMN co_phone TEXT;
ALTER TABLE connected_accounts ADD COLUMN co_address TEXT;
ALTER TABLE connected_accounts ADD COLUMN co_structure TEXT;
ALTER TABLE connected_accounts ADD COLUMN co_tax_id_provided BIGINT NOT NULL DEFAULT 0;
CREATE TABLE persons (
  merchant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  created BIGINT NOT NULL,
  first_name TEXT,
  last_name TEXT,
  email TEXT,
  phone TEXT,
  dob_day BIGINT,
  dob_month BIGINT,
  dob_year BIGINT,
  address TEXT,
  rel_director BIGINT,
  rel_executive BIGINT,
  rel_owner BIGINT,
  rel_representative BIGINT,
  rel_title TEXT,
  rel_percent TEXT,
  id_number_provided BIGINT NOT NULL DEFAULT 0,
  ssn_last_4_provided BIGINT NOT NULL DEFAULT 0,
  metadata TEXT NOT NULL DEFAULT '{}',
  individual BIGINT NOT NULL DEFAULT 0,
  deleted BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (merchant_id, id)
);
CREATE TABLE account_links (
  merchant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  account TEXT NOT NULL,
  created BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  type TEXT NOT NULL,
  collect TEXT NOT NULL,
  refresh_url TEXT NOT NULL,
  return_url TEXT NOT NULL,
  state TEXT NOT NULL,
  opened_at BIGINT,
  form_hash TEXT,
  PRIMARY KEY (merchant_id, id)
);
CREATE TABLE login_links (
  merchant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  account TEXT NOT NULL,
  created BIGINT NOT NULL,
  used BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (merchant_id, id)
);
