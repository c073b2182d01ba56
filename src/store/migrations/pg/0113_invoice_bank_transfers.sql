-- Invoices and subscriptions paid by bank transfer (payment method type customer_balance):
-- payment_settings[payment_method_options][customer_balance] as the invoice shows it (JSON:
-- {"bank_transfer": {"eu_bank_transfer": {"country"} | null, "type"}, "funding_type"}), NULL
-- when not set. A subscription's is copied onto each of its invoices.
-- Written and read by api/invoices.c and api/subscriptions.c.
ALTER TABLE invoices ADD COLUMN pmo_customer_balance TEXT;
ALTER TABLE subscriptions ADD COLUMN pmo_customer_balance TEXT;
