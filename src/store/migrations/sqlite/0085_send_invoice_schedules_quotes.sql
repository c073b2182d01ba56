-- collection_method=send_invoice for subscription schedules and quotes: a schedule's
-- default_settings (collection_method NULL: charge_automatically; days_until_due its
-- invoice_settings', NULL: none; its phases keep their own in their stored JSON) and a quote's
-- (collection_method NULL: charge_automatically; days_until_due its invoice_settings').
ALTER TABLE subscription_schedules ADD COLUMN collection_method TEXT;
ALTER TABLE subscription_schedules ADD COLUMN days_until_due INTEGER;
ALTER TABLE quotes ADD COLUMN collection_method TEXT;
ALTER TABLE quotes ADD COLUMN days_until_due INTEGER;
