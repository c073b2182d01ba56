-- A payment link's buyer-facing settings (billing_address_collection, custom_text,
-- customer_creation, invoice_creation, phone_number_collection, payment_method_collection,
-- consent_collection, tax_id_collection, payment_intent_data[setup_future_usage]) as the JSON a
-- Checkout Session keeps them in (checkout_sessions.collect), and its custom_fields (JSON array):
-- NULL where none was given. Each session the link opens takes both. Written and read by
-- api/payment_links.c.
ALTER TABLE payment_links ADD COLUMN collect TEXT;
ALTER TABLE payment_links ADD COLUMN custom_fields TEXT;
-- A payment link of recurring prices (recurring 1) opens a subscription-mode session per
-- payment, with its subscription_data: trial_period_days (0: none), description and metadata
-- (JSON).
ALTER TABLE payment_links ADD COLUMN recurring INTEGER NOT NULL DEFAULT 0;
ALTER TABLE payment_links ADD COLUMN sub_trial_days INTEGER NOT NULL DEFAULT 0;
ALTER TABLE payment_links ADD COLUMN sub_description TEXT;
ALTER TABLE payment_links ADD COLUMN sub_metadata TEXT;
