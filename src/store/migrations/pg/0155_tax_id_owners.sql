-- Tax ids of every owner (api/tax_ids.c, the top-level /v1/tax_ids): owner_type is Stripe's
-- owner[type]: 'customer' (customer names it, as every existing row), 'self' (the merchant's
-- own, shown on its invoices) or 'account' (a connected account's, owner_account names it;
-- the platform's view). Only a customer's has a customer, so customer may now be NULL.
ALTER TABLE tax_ids ALTER COLUMN customer DROP NOT NULL;
ALTER TABLE tax_ids ADD COLUMN owner_type TEXT NOT NULL DEFAULT 'customer';
ALTER TABLE tax_ids ADD COLUMN owner_account TEXT;
-- the list of one owner's (owner[type] self or account)
CREATE INDEX tax_ids_owner ON tax_ids (merchant_id, owner_type, owner_account, id);
-- a subscription's invoice_settings[account_tax_ids] (api/subscriptions.c): a JSON array of
-- the merchant's own tax ids each of its invoices carries (NULL: none)
ALTER TABLE subscriptions ADD COLUMN account_tax_ids TEXT;
-- a subscription schedule's default_settings[invoice_settings][account_tax_ids] (api/
-- subscription_schedules.c; its phases' are in their JSON): a JSON array, NULL: none
ALTER TABLE subscription_schedules ADD COLUMN account_tax_ids TEXT;
