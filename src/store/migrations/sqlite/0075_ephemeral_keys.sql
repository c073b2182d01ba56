-- Ephemeral keys and customer sessions (api/ephemeral_keys.c): short-lived keys a merchant's
-- server makes for one customer, for Stripe's mobile and client SDKs. kind is 'ephemeral_key'
-- (ephkey_…, secret ek_test_…, an hour) or 'customer_session' (cuss_…, client_secret
-- cuss_secret_…, 30 minutes). The secret is kept only as its SHA-256 (secret_hash), as API keys
-- are; a deleted key has its expires moved to the moment it was deleted. components is a
-- customer session's components object as it was answered (NULL for an ephemeral key).
CREATE TABLE ephemeral_keys (
  merchant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  kind TEXT NOT NULL,
  customer TEXT NOT NULL,
  secret_hash TEXT NOT NULL,
  created INTEGER NOT NULL,
  expires INTEGER NOT NULL,
  livemode INTEGER NOT NULL DEFAULT 0,
  components TEXT,
  PRIMARY KEY (merchant_id, id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX ephemeral_keys_secret ON ephemeral_keys (merchant_id, secret_hash);
