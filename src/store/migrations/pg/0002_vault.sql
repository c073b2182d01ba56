-- PostgreSQL port of migrations/sqlite/0002_vault.sql: the same tables; INTEGER is BIGINT, BLOB is BYTEA.
-- The vault's tables. Card numbers exist here only sealed (AES-256-GCM); data keys only wrapped
-- under the master key's KEK; the check value proves a key file belongs to this store.

CREATE TABLE vault_meta (
  id BIGINT PRIMARY KEY CHECK (id = 1),
  master_key_id TEXT NOT NULL,
  check_value BYTEA NOT NULL,
  rotated BIGINT
);

CREATE TABLE vault_data_keys (
  id TEXT PRIMARY KEY,
  master_key_id TEXT NOT NULL,
  wrapped BYTEA NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('active', 'retired')),
  created BIGINT NOT NULL
);

CREATE TABLE vault_cards (
  merchant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  data_key_id TEXT NOT NULL,
  sealed BYTEA NOT NULL,
  fingerprint TEXT NOT NULL,
  exp_month BIGINT NOT NULL,
  exp_year BIGINT NOT NULL,
  cvc_provided BIGINT NOT NULL,
  created BIGINT NOT NULL,
  PRIMARY KEY (merchant_id, id)
);

-- Append-only: who decrypted which card, when and why.
CREATE TABLE vault_access_log (
  merchant_id TEXT NOT NULL,
  card_id TEXT NOT NULL,
  purpose TEXT NOT NULL,
  at BIGINT NOT NULL
);
CREATE INDEX vault_access_card ON vault_access_log (merchant_id, card_id);
