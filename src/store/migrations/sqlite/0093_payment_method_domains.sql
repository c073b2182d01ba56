-- Payment method domains (/v1/payment_method_domains), the legacy Apple Pay domains
-- (/v1/apple_pay/domains) and payment method configurations (/v1/payment_method_configurations).
-- A domain name is registered once per merchant (lower-cased before it is stored). Wallet
-- statuses are not stored: in test mode Stripe marks a domain active for every wallet at once, so
-- there is nothing to store.
CREATE TABLE payment_method_domains (
  merchant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  created INTEGER NOT NULL,
  domain_name TEXT NOT NULL,
  enabled INTEGER NOT NULL,
  PRIMARY KEY (merchant_id, id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX payment_method_domains_name ON payment_method_domains (merchant_id, domain_name);

CREATE TABLE apple_pay_domains (
  merchant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  created INTEGER NOT NULL,
  domain_name TEXT NOT NULL,
  PRIMARY KEY (merchant_id, id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX apple_pay_domains_name ON apple_pay_domains (merchant_id, domain_name);

-- prefs: one character per payment method type, in payment_method_configurations.c's table
-- order ('1' on, '0' off, 'n' or absent: no preference). is_default is 1 for the one default
-- configuration a merchant has (made on first read), else NULL, so the unique index allows one.
CREATE TABLE payment_method_configurations (
  merchant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  created INTEGER NOT NULL,
  name TEXT NOT NULL,
  active INTEGER NOT NULL,
  is_default INTEGER,
  parent TEXT,
  prefs TEXT NOT NULL,
  PRIMARY KEY (merchant_id, id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX payment_method_configurations_default
  ON payment_method_configurations (merchant_id, is_default);
