-- payment_settings[payment_method_types] of invoices and subscriptions (a JSON array of types,
-- e.g. ["card","sepa_debit"]; NULL: not set, Stripe's null). A subscription's invoices take
-- its types when they are made.
ALTER TABLE invoices ADD COLUMN payment_method_types TEXT;
ALTER TABLE subscriptions ADD COLUMN payment_method_types TEXT;
