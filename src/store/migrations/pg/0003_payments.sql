-- PostgreSQL port of migrations/sqlite/0003_payments.sql: the same tables; INTEGER is BIGINT, BLOB is BYTEA.
-- PaymentIntents, charges, refunds, and the test acquirer's own record of holds.
-- Mutable state (status, amounts) lives in columns updated only by conditional updates
-- (… WHERE version = $v / status guard); every change also appends an event, and every money
-- movement a journal transaction (0004_ledger.sql), so nothing financial changes without an
-- append-only record of it.

CREATE TABLE payment_intents (
  merchant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  created BIGINT NOT NULL,
  version BIGINT NOT NULL DEFAULT 1,
  amount BIGINT NOT NULL CHECK (amount > 0),
  currency TEXT NOT NULL,
  status TEXT NOT NULL,
  capture_method TEXT NOT NULL,
  confirmation_method TEXT NOT NULL DEFAULT 'automatic',
  client_secret TEXT NOT NULL,
  customer TEXT,
  payment_method TEXT,
  description TEXT,
  metadata TEXT NOT NULL DEFAULT '{}',
  receipt_email TEXT,
  statement_descriptor TEXT,
  statement_descriptor_suffix TEXT,
  setup_future_usage TEXT,
  return_url TEXT,
  shipping TEXT,
  amount_capturable BIGINT NOT NULL DEFAULT 0 CHECK (amount_capturable >= 0),
  amount_received BIGINT NOT NULL DEFAULT 0 CHECK (amount_received >= 0),
  latest_charge TEXT,
  last_payment_error TEXT,
  next_action TEXT,
  cancellation_reason TEXT,
  canceled_at BIGINT,
  -- 3-D Secure: the secret in the challenge URL while the intent requires_action
  three_d_secure_token TEXT,
  PRIMARY KEY (merchant_id, id)
);
CREATE INDEX payment_intents_list ON payment_intents (merchant_id, created DESC, id DESC);
CREATE INDEX payment_intents_customer ON payment_intents (merchant_id, customer);

CREATE TABLE charges (
  merchant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  created BIGINT NOT NULL,
  payment_intent TEXT,
  amount BIGINT NOT NULL CHECK (amount > 0),
  amount_captured BIGINT NOT NULL DEFAULT 0,
  amount_refunded BIGINT NOT NULL DEFAULT 0,
  currency TEXT NOT NULL,
  status TEXT NOT NULL,
  captured BIGINT NOT NULL DEFAULT 0,
  paid BIGINT NOT NULL DEFAULT 0,
  disputed BIGINT NOT NULL DEFAULT 0,
  customer TEXT,
  payment_method TEXT,
  description TEXT,
  metadata TEXT NOT NULL DEFAULT '{}',
  receipt_email TEXT,
  statement_descriptor TEXT,
  balance_transaction TEXT,
  failure_code TEXT,
  failure_message TEXT,
  outcome TEXT,
  card TEXT,
  billing_details TEXT,
  authorization_code TEXT,
  capture_before BIGINT,
  three_d_secure BIGINT NOT NULL DEFAULT 0,
  -- the card's per-merchant fingerprint and the client's IP (velocity lives in risk_velocity)
  fingerprint TEXT,
  client_ip TEXT,
  CHECK (amount_captured <= amount AND amount_refunded <= amount_captured),
  PRIMARY KEY (merchant_id, id)
);
CREATE INDEX charges_list ON charges (merchant_id, created DESC, id DESC);
CREATE INDEX charges_intent ON charges (merchant_id, payment_intent);
CREATE INDEX charges_customer ON charges (merchant_id, customer, created);

CREATE TABLE refunds (
  merchant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  created BIGINT NOT NULL,
  charge TEXT NOT NULL,
  payment_intent TEXT,
  amount BIGINT NOT NULL CHECK (amount > 0),
  currency TEXT NOT NULL,
  status TEXT NOT NULL,
  reason TEXT,
  description TEXT,
  metadata TEXT NOT NULL DEFAULT '{}',
  balance_transaction TEXT,
  failure_balance_transaction TEXT,
  failure_reason TEXT,
  settle_at BIGINT,
  PRIMARY KEY (merchant_id, id)
);
CREATE INDEX refunds_list ON refunds (merchant_id, created DESC, id DESC);
CREATE INDEX refunds_charge ON refunds (merchant_id, charge);
CREATE INDEX refunds_settle ON refunds (settle_at) WHERE settle_at IS NOT NULL;

-- The built-in test acquirer's books: what it authorized, captured, released and refunded.
-- It refuses to capture more than it holds, to capture a released hold, or to refund more than
-- it captured, so a bug in Tender's own accounting surfaces as a processor error.
CREATE TABLE acquirer_holds (
  merchant_id TEXT NOT NULL,
  auth_code TEXT NOT NULL,
  charge_id TEXT NOT NULL,
  amount BIGINT NOT NULL,
  currency TEXT NOT NULL,
  captured BIGINT NOT NULL DEFAULT 0,
  refunded BIGINT NOT NULL DEFAULT 0,
  released BIGINT NOT NULL DEFAULT 0,
  card_behavior BIGINT NOT NULL DEFAULT 0,
  created BIGINT NOT NULL,
  CHECK (captured <= amount AND refunded <= captured),
  PRIMARY KEY (merchant_id, auth_code)
);
