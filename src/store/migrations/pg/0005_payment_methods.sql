-- PostgreSQL port of migrations/sqlite/0005_payment_methods.sql: the same tables; INTEGER is BIGINT, BLOB is BYTEA.
-- PaymentMethods and single-use tokens: the public facts of a card (brand, last4, expiry,
-- fingerprint) and the id of its sealed number in vault_cards. Never the number or the CVC.

CREATE TABLE payment_methods (
  merchant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  created BIGINT NOT NULL,
  customer TEXT,
  card_id TEXT NOT NULL,
  brand TEXT NOT NULL,
  last4 TEXT NOT NULL,
  exp_month BIGINT NOT NULL,
  exp_year BIGINT NOT NULL,
  funding TEXT NOT NULL,
  country TEXT,
  fingerprint TEXT NOT NULL,
  cvc_provided BIGINT NOT NULL,
  billing_details TEXT,
  metadata TEXT NOT NULL DEFAULT '{}',
  PRIMARY KEY (merchant_id, id)
);
CREATE INDEX payment_methods_list ON payment_methods (merchant_id, created DESC, id DESC);
CREATE INDEX payment_methods_customer ON payment_methods (merchant_id, customer);

CREATE TABLE tokens (
  merchant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  created BIGINT NOT NULL,
  card_id TEXT NOT NULL,
  brand TEXT NOT NULL,
  last4 TEXT NOT NULL,
  exp_month BIGINT NOT NULL,
  exp_year BIGINT NOT NULL,
  funding TEXT NOT NULL,
  country TEXT,
  fingerprint TEXT NOT NULL,
  cvc_provided BIGINT NOT NULL,
  client_ip TEXT,
  used BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (merchant_id, id)
);
