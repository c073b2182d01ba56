-- Products and prices (/v1/products, /v1/prices). A product is updated in place (its
-- product.updated events, with previous_attributes, are its history) and deleted by a flag; a
-- price's amount, currency, product and recurrence never change once made. Amounts are integer
-- minor units (unit_amount) or, for sub-cent prices, the decimal text they were given
-- (unit_amount_decimal, always set). lookup_key is unique among a merchant's prices. Lists page
-- by id (0021).
CREATE TABLE products (
  merchant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  created BIGINT NOT NULL,
  updated BIGINT NOT NULL,
  active BIGINT NOT NULL,
  deleted BIGINT NOT NULL DEFAULT 0,
  shippable BIGINT,
  name TEXT NOT NULL,
  description TEXT,
  images TEXT NOT NULL DEFAULT '[]',
  metadata TEXT NOT NULL DEFAULT '{}',
  url TEXT,
  unit_label TEXT,
  statement_descriptor TEXT,
  default_price TEXT,
  PRIMARY KEY (merchant_id, id)
);
CREATE TABLE prices (
  merchant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  created BIGINT NOT NULL,
  active BIGINT NOT NULL,
  currency TEXT NOT NULL,
  unit_amount BIGINT,
  unit_amount_decimal TEXT NOT NULL,
  product TEXT NOT NULL,
  nickname TEXT,
  lookup_key TEXT,
  metadata TEXT NOT NULL DEFAULT '{}',
  type TEXT NOT NULL,
  recurring_interval TEXT,
  recurring_interval_count BIGINT,
  recurring_usage_type TEXT,
  tax_behavior TEXT NOT NULL DEFAULT 'unspecified',
  PRIMARY KEY (merchant_id, id)
);
CREATE UNIQUE INDEX prices_lookup_key ON prices (merchant_id, lookup_key)
  WHERE lookup_key IS NOT NULL;
CREATE INDEX prices_product ON prices (merchant_id, product, id);
