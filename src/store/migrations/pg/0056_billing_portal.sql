-- The customer portal (src/api/billing_portal.c). A configuration keeps its features and
-- business_profile as the JSON objects the API renders (every field filled in when it is made),
-- so an update edits them in place. At most one configuration of a merchant is its default
-- (is_default = 1), made on the first session that names none.
CREATE TABLE billing_portal_configurations (
  merchant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  created BIGINT NOT NULL,
  updated BIGINT NOT NULL,
  active BIGINT NOT NULL,
  is_default BIGINT NOT NULL,
  default_return_url TEXT,
  business_profile TEXT NOT NULL,
  features TEXT NOT NULL,
  metadata TEXT NOT NULL,
  PRIMARY KEY (merchant_id, id)
);
CREATE UNIQUE INDEX billing_portal_configurations_default
  ON billing_portal_configurations (merchant_id, is_default) WHERE is_default = 1;

-- A portal session: key_hash is the SHA-256 (hex) of the secret in its URL, so the store never
-- holds a usable link. It is `new` until its page is opened once, then `opened` with the hash of
-- the one-time value its forms post back (a new one after every post); last_active is the time
-- of its last visit or post, for the inactivity bound.
CREATE TABLE billing_portal_sessions (
  merchant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  key_hash TEXT NOT NULL,
  created BIGINT NOT NULL,
  customer TEXT NOT NULL,
  configuration TEXT NOT NULL,
  return_url TEXT,
  locale TEXT,
  on_behalf_of TEXT,
  state TEXT NOT NULL,
  opened_at BIGINT,
  last_active BIGINT NOT NULL,
  form_hash TEXT,
  PRIMARY KEY (merchant_id, id)
);
CREATE UNIQUE INDEX billing_portal_sessions_key ON billing_portal_sessions (merchant_id, key_hash);
