-- Core schema: merchants and their API keys, idempotency records, events, customers.
-- Every merchant-owned table leads with merchant_id in its primary key: a lookup without the
-- merchant cannot use the key, and the store API always binds it.

CREATE TABLE merchants (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  settlement_currency TEXT NOT NULL,
  fee_percent_bps INTEGER NOT NULL DEFAULT 290,
  fee_fixed_minor INTEGER NOT NULL DEFAULT 30,
  created INTEGER NOT NULL
);

-- API keys are stored only as SHA-256 hashes: they are 32 random base62 characters (~190 bits),
-- so a fast hash is not guessable, and a stolen database yields no usable key.
CREATE TABLE api_keys (
  key_hash TEXT PRIMARY KEY,
  merchant_id TEXT NOT NULL REFERENCES merchants(id),
  kind TEXT NOT NULL CHECK (kind IN ('secret', 'publishable')),
  livemode INTEGER NOT NULL DEFAULT 0,
  display TEXT NOT NULL,
  created INTEGER NOT NULL,
  revoked INTEGER
);
CREATE INDEX api_keys_merchant ON api_keys (merchant_id);

-- The saved first result of every keyed POST. Written in the same transaction as the effects.
CREATE TABLE idempotency_keys (
  merchant_id TEXT NOT NULL,
  livemode INTEGER NOT NULL,
  idem_key TEXT NOT NULL,
  request_hash TEXT NOT NULL,
  request_id TEXT NOT NULL,
  status INTEGER NOT NULL,
  body TEXT NOT NULL,
  object_id TEXT,
  created INTEGER NOT NULL,
  PRIMARY KEY (merchant_id, livemode, idem_key)
) WITHOUT ROWID;
CREATE INDEX idempotency_keys_created ON idempotency_keys (created);

-- Events: an append-only log of every state change, written in the transaction that made it.
-- data_object is the object's JSON as it was right after the change.
CREATE TABLE events (
  merchant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  created INTEGER NOT NULL,
  type TEXT NOT NULL,
  object_id TEXT NOT NULL,
  data_object TEXT NOT NULL,
  previous_attributes TEXT,
  request_id TEXT,
  idempotency_key TEXT,
  pending_webhooks INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (merchant_id, id)
) WITHOUT ROWID;
CREATE INDEX events_list ON events (merchant_id, created DESC, id DESC);
CREATE INDEX events_object ON events (merchant_id, object_id);

CREATE TABLE customers (
  merchant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  created INTEGER NOT NULL,
  email TEXT,
  name TEXT,
  description TEXT,
  phone TEXT,
  address TEXT,
  shipping TEXT,
  metadata TEXT NOT NULL DEFAULT '{}',
  balance INTEGER NOT NULL DEFAULT 0,
  currency TEXT,
  invoice_prefix TEXT NOT NULL,
  preferred_locales TEXT NOT NULL DEFAULT '[]',
  tax_exempt TEXT NOT NULL DEFAULT 'none',
  default_payment_method TEXT,
  deleted INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (merchant_id, id)
) WITHOUT ROWID;
CREATE INDEX customers_list ON customers (merchant_id, created DESC, id DESC);
CREATE INDEX customers_email ON customers (merchant_id, email);
