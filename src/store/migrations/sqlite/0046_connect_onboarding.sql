-- Connect onboarding (src/api/accounts.c, account_links.c, persons.c).
--
-- An account's company (company[…]): its columns, merged field by field like business_profile.
-- Of the tax id only that one was given is kept.
ALTER TABLE connected_accounts ADD COLUMN co_name TEXT;
ALTER TABLE connected_accounts ADD COLUMN co_phone TEXT;
ALTER TABLE connected_accounts ADD COLUMN co_address TEXT;
ALTER TABLE connected_accounts ADD COLUMN co_structure TEXT;
ALTER TABLE connected_accounts ADD COLUMN co_tax_id_provided INTEGER NOT NULL DEFAULT 0;

-- The people of an account (/v1/accounts/{id}/persons), and its individual (individual = 1):
-- merchant_id is the account they belong to, as external_accounts' is. No identity number is
-- kept, only that one was provided. address is Stripe's address hash as JSON; rel_*: NULL unset,
-- 0 or 1; rel_percent: percent_ownership as decimal text (0 to 100, 2 decimals at most).
CREATE TABLE persons (
  merchant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  created INTEGER NOT NULL,
  first_name TEXT,
  last_name TEXT,
  email TEXT,
  phone TEXT,
  dob_day INTEGER,
  dob_month INTEGER,
  dob_year INTEGER,
  address TEXT,
  rel_director INTEGER,
  rel_executive INTEGER,
  rel_owner INTEGER,
  rel_representative INTEGER,
  rel_title TEXT,
  rel_percent TEXT,
  id_number_provided INTEGER NOT NULL DEFAULT 0,
  ssn_last_4_provided INTEGER NOT NULL DEFAULT 0,
  metadata TEXT NOT NULL DEFAULT '{}',
  individual INTEGER NOT NULL DEFAULT 0,
  deleted INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (merchant_id, id)
) WITHOUT ROWID;

-- Account links and login links: single-use URLs to the pages Tender serves. merchant_id is the
-- platform that made the link; id is the SHA-256 (hex) of the secret in the URL, so the store
-- never holds a usable link. An account link is new until its page is opened (then `opened`,
-- with the hash of the one-time value its form posts back), and `done` once the form completed
-- onboarding; a new one past expires_at, or one opened more than an hour ago, sends the browser
-- to refresh_url. A login link is used by its one visit.
CREATE TABLE account_links (
  merchant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  account TEXT NOT NULL,
  created INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  type TEXT NOT NULL,
  collect TEXT NOT NULL,
  refresh_url TEXT NOT NULL,
  return_url TEXT NOT NULL,
  state TEXT NOT NULL,
  opened_at INTEGER,
  form_hash TEXT,
  PRIMARY KEY (merchant_id, id)
) WITHOUT ROWID;
CREATE TABLE login_links (
  merchant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  account TEXT NOT NULL,
  created INTEGER NOT NULL,
  used INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (merchant_id, id)
) WITHOUT ROWID;
