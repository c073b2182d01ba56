-- Stripe Tax (api/tax.c): the merchant's tax settings, registrations, calculations and
-- transactions. A calculation is immutable once made: its breakdowns and customer details are
-- kept as the JSON it answered with. A calculation makes at most one transaction
-- (tax_transaction, claimed by a guarded update); a transaction's reference is the merchant's,
-- once; a reversal's lines name the line they reverse (original_line_item) and its
-- transaction (original_transaction), so what is left of a line is its amount plus the sum of
-- its reversals. Lists page through the primary key (ids are time-ordered, core/id.h): no list index.
CREATE TABLE tax_settings (
  merchant_id TEXT NOT NULL,
  tax_behavior TEXT,
  tax_code TEXT,
  head_office TEXT,
  updated BIGINT NOT NULL,
  PRIMARY KEY (merchant_id)
);

CREATE TABLE tax_registrations (
  merchant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  created BIGINT NOT NULL,
  country TEXT NOT NULL,
  state TEXT NOT NULL,
  type TEXT NOT NULL,
  active_from BIGINT NOT NULL,
  expires_at BIGINT,
  PRIMARY KEY (merchant_id, id)
);
CREATE INDEX tax_registrations_place ON tax_registrations (merchant_id, country, state);

CREATE TABLE tax_calculations (
  merchant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  created BIGINT NOT NULL,
  currency TEXT NOT NULL,
  customer TEXT,
  customer_details TEXT NOT NULL,
  amount_total BIGINT NOT NULL,
  tax_amount_exclusive BIGINT NOT NULL,
  tax_amount_inclusive BIGINT NOT NULL,
  tax_breakdown TEXT NOT NULL,
  shipping_cost TEXT,
  tax_date BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  tax_transaction TEXT,
  PRIMARY KEY (merchant_id, id)
);

CREATE TABLE tax_calculation_lines (
  merchant_id TEXT NOT NULL,
  calculation TEXT NOT NULL,
  idx BIGINT NOT NULL,
  id TEXT NOT NULL,
  amount BIGINT NOT NULL,
  amount_tax BIGINT NOT NULL,
  quantity BIGINT NOT NULL,
  product TEXT,
  reference TEXT,
  tax_behavior TEXT NOT NULL,
  tax_code TEXT NOT NULL,
  tax_breakdown TEXT NOT NULL,
  metadata TEXT,
  PRIMARY KEY (merchant_id, calculation, idx)
);

CREATE TABLE tax_transactions (
  merchant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  created BIGINT NOT NULL,
  type TEXT NOT NULL,
  reference TEXT NOT NULL,
  calculation TEXT,
  original_transaction TEXT,
  currency TEXT NOT NULL,
  customer TEXT,
  customer_details TEXT NOT NULL,
  ship_amount BIGINT,
  ship_amount_tax BIGINT,
  ship_tax_behavior TEXT,
  ship_tax_code TEXT,
  tax_date BIGINT NOT NULL,
  metadata TEXT NOT NULL,
  PRIMARY KEY (merchant_id, id)
);
CREATE UNIQUE INDEX tax_transactions_reference ON tax_transactions (merchant_id, reference);
CREATE INDEX tax_transactions_original ON tax_transactions (merchant_id, original_transaction);

CREATE TABLE tax_transaction_lines (
  merchant_id TEXT NOT NULL,
  tax_transaction TEXT NOT NULL,
  idx BIGINT NOT NULL,
  original_transaction TEXT,
  id TEXT NOT NULL,
  original_line_item TEXT,
  amount BIGINT NOT NULL,
  amount_tax BIGINT NOT NULL,
  quantity BIGINT NOT NULL,
  product TEXT,
  reference TEXT NOT NULL,
  tax_behavior TEXT NOT NULL,
  tax_code TEXT NOT NULL,
  metadata TEXT NOT NULL,
  PRIMARY KEY (merchant_id, tax_transaction, idx)
);
CREATE INDEX tax_transaction_lines_original ON tax_transaction_lines
  (merchant_id, original_transaction, original_line_item);
