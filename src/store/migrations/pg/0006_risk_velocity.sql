-- PostgreSQL port of migrations/sqlite/0006_risk_velocity.sql: the same tables; INTEGER is BIGINT, BLOB is BYTEA.
-- Fraud velocity: counts and sums of attempts per card fingerprint, customer and client IP in
-- hourly buckets, updated in the charge's own transaction. Reading a window is a bounded range
-- (at most 720 buckets for 30 days), however many payments a card has made.
CREATE TABLE risk_velocity (
  merchant_id TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('card', 'customer', 'ip')),
  key TEXT NOT NULL,
  hour BIGINT NOT NULL,
  attempts BIGINT NOT NULL,
  amount BIGINT NOT NULL,
  declines BIGINT NOT NULL,
  PRIMARY KEY (merchant_id, kind, key, hour)
);
