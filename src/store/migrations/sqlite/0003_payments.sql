-- PaymentIntents, charges, refunds, and the test acquirer's own record of holds.
-- Mutable state (status, amounts) lives in columns updated only by conditional updates
-- (… WHERE version = $v / status guard); every change also appends an event, and every money
-- movement a journal transaction (0004_ledger.sql), so nothing financial changes without an
-- append-only record of it.

CREATE TABLE payment_intents (
  merchant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  created INTEGER NOT NULL,
  version INTEGER NOT NULL DEFAULT 1,
  amount INTEGER NOT NULL CHECK (amount > 0),
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
  amount_capturable INTEGER NOT NULL DEFAULT 0 CHECK (amount_capturable >= 0),
  amount_received INTEGER NOT NULL DEFAULT 0 CHECK (amount_received >= 0),
  latest_charge TEXT,
  last_payment_error TEXT,
  next_action TEXT,
  cancellation_reason TEXT,
  canceled_at INTEGER,
  -- 3-D Secure: the secret in the challenge URL while the intent requires_action
  three_d_secure_token TEXT,
  PRIMARY KEY (merchant_id, id)
) WITHOUT ROWID;
CREATE INDEX payment_intents_list ON payment_intents (merchant_id, created DESC, id DESC);
CREATE INDEX payment_intents_customer ON payment_intents (merchant_id, customer);

CREATE TABLE charges (
  merchant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  created INTEGER NOT NULL,
  payment_intent TEXT,
  amount INTEGER NOT NULL CHECK (amount > 0),
  amount_captured INTEGER NOT NULL DEFAULT 0,
  amount_refunded INTEGER NOT NULL DEFAULT 0,
  currency TEXT NOT NULL,
  status TEXT NOT NULL,
  captured INTEGER NOT NULL DEFAULT 0,
  paid INTEGER NOT NULL DEFAULT 0,
  disputed INTEGER NOT NULL DEFAULT 0,
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
  capture_before INTEGER,
  three_d_secure INTEGER NOT NULL DEFAULT 0,
  -- the card's per-merchant fingerprint and the client's IP (velocity lives in risk_velocity)
  fingerprint TEXT,
  client_ip TEXT,
  CHECK (amount_captured <= amount AND amount_refunded <= amount_captured),
  PRIMARY KEY (merchant_id, id)
) WITHOUT ROWID;
CREATE INDEX charges_list ON charges (merchant_id, created DESC, id DESC);
CREATE INDEX charges_intent ON charges (merchant_id, payment_intent);
CREATE INDEX charges_customer ON charges (merchant_id, customer, created);

CREATE TABLE refunds (
  merchant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  created INTEGER NOT NULL,
  charge TEXT NOT NULL,
  payment_intent TEXT,
  amount INTEGER NOT NULL CHECK (amount > 0),
  currency TEXT NOT NULL,
  status TEXT NOT NULL,
  reason TEXT,
  description TEXT,
  metadata TEXT NOT NULL DEFAULT '{}',
  balance_transaction TEXT,
  failure_balance_transaction TEXT,
  failure_reason TEXT,
  settle_at INTEGER,
  PRIMARY KEY (merchant_id, id)
) WITHOUT ROWID;
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
  amount INTEGER NOT NULL,
  currency TEXT NOT NULL,
  captured INTEGER NOT NULL DEFAULT 0,
  refunded INTEGER NOT NULL DEFAULT 0,
  released INTEGER NOT NULL DEFAULT 0,
  card_behavior INTEGER NOT NULL DEFAULT 0,
  created INTEGER NOT NULL,
  CHECK (captured <= amount AND refunded <= captured),
  PRIMARY KEY (merchant_id, auth_code)
) WITHOUT ROWID;
