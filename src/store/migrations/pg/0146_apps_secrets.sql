-- PostgreSQL port of migrations/sqlite/0151_apps_secrets.sql.
-- Stripe Apps' Secret Store (api/apps_secrets.c): a merchant's secrets by scope (account, or a
-- user) and name, at most one live secret per name in a scope. The payload is sealed by the
-- vault in vault_app_secrets under the secret's id (never here, never in clear); a deleted or
-- replaced secret keeps its row (deleted = 1) and its sealed payload is erased in the same
-- write. expires_at: after it the secret is gone for find and list, as deleted.
CREATE TABLE apps_secrets (
  merchant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  created BIGINT NOT NULL,
  name TEXT NOT NULL,
  scope_type TEXT NOT NULL,
  scope_user TEXT,
  expires_at BIGINT,
  deleted INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (merchant_id, id)
);
CREATE INDEX apps_secrets_name ON apps_secrets (merchant_id, scope_type, name);
CREATE TABLE vault_app_secrets (
  merchant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  data_key_id TEXT NOT NULL,
  sealed BYTEA NOT NULL,
  created BIGINT NOT NULL,
  PRIMARY KEY (merchant_id, id)
);
