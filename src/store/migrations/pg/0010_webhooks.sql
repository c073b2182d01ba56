-- PostgreSQL port of migrations/sqlite/0010_webhooks.sql: the same tables; INTEGER is BIGINT, BLOB is BYTEA.
-- Webhook endpoints, the delivery outbox and the record of every attempt.
-- A delivery row is written in the same transaction as its event (the outbox): an event that
-- committed always has its deliveries, and a crash never loses one.

CREATE TABLE webhook_endpoints (
  merchant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  created BIGINT NOT NULL,
  url TEXT NOT NULL,
  description TEXT,
  enabled_events TEXT NOT NULL,
  metadata TEXT NOT NULL DEFAULT '{}',
  api_version TEXT,
  status TEXT NOT NULL CHECK (status IN ('enabled', 'disabled')),
  secret TEXT NOT NULL,
  livemode BIGINT NOT NULL DEFAULT 0,
  failing_since BIGINT,
  deleted BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (merchant_id, id)
);
CREATE INDEX webhook_endpoints_list ON webhook_endpoints (merchant_id, created DESC, id DESC);

CREATE TABLE webhook_deliveries (
  merchant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  event_id TEXT NOT NULL,
  endpoint_id TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending', 'delivering', 'succeeded', 'failed')),
  attempts BIGINT NOT NULL DEFAULT 0,
  next_at BIGINT NOT NULL,
  lease_until BIGINT,
  created BIGINT NOT NULL,
  PRIMARY KEY (merchant_id, id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_at);
CREATE INDEX webhook_deliveries_event ON webhook_deliveries (merchant_id, event_id);

-- Append-only.
CREATE TABLE webhook_attempts (
  merchant_id TEXT NOT NULL,
  delivery_id TEXT NOT NULL,
  event_id TEXT NOT NULL,
  endpoint_id TEXT NOT NULL,
  attempt BIGINT NOT NULL,
  at BIGINT NOT NULL,
  status_code BIGINT,
  duration_ms BIGINT NOT NULL,
  error TEXT
);
CREATE INDEX webhook_attempts_event ON webhook_attempts (merchant_id, event_id);
