-- Tax ids of every owner (api/tax_ids.c, the top-level /v1/tax_ids): owner_type is Stripe's
-- owner[type]: 'customer' (customer names it, as every existing row), 'self' (the merchant's
-- own, shown on its invoices) or 'account' (a connected account's, owner_account names it;
-- the platform's view). Only a customer's has a customer, so customer may now be NULL.
-- SQLite cannot drop a NOT NULL: the table is rebuilt with every column and index it had.
CREATE TABLE tax_ids_new (
  merchant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  created INTEGER NOT NULL,
  customer TEXT,
  type TEXT NOT NULL,
  value TEXT NOT NULL,
  country TEXT,
  verification_status TEXT,
  verified_name TEXT,
  verified_address TEXT,
  deleted INTEGER NOT NULL DEFAULT 0,
  owner_type TEXT NOT NULL DEFAULT 'customer',
  owner_account TEXT,
  PRIMARY KEY (merchant_id, id)
) WITHOUT ROWID;
INSERT INTO tax_ids_new (merchant_id, id, created, customer, type, value, country,
  verification_status, verified_name, verified_address, deleted)
  SELECT merchant_id, id, created, customer, type, value, country, verification_status,
  verified_name, verified_address, deleted FROM tax_ids;
DROP TABLE tax_ids;
ALTER TABLE tax_ids_new RENAME TO tax_ids;
CREATE INDEX tax_ids_customer ON tax_ids (merchant_id, customer, id);
-- the list of one owner's (owner[type] self or account)
CREATE INDEX tax_ids_owner ON tax_ids (merchant_id, owner_type, owner_account, id);
-- a subscription's invoice_settings[account_tax_ids] (api/subscriptions.c): a JSON array of
-- the merchant's own tax ids each of its invoices carries (NULL: none)
ALTER TABLE subscriptions ADD COLUMN account_tax_ids TEXT;
-- a subscription schedule's default_settings[invoice_settings][account_tax_ids] (api/
-- subscription_schedules.c; its phases' are in their JSON): a JSON array, NULL: none
ALTER TABLE subscription_schedules ADD COLUMN account_tax_ids TEXT;
