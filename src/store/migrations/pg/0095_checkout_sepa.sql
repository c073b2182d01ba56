-- SEPA Direct Debit in Checkout: a session's (and a payment link's) payment_method_types as a
-- JSON array (["card","sepa_debit"]), NULL meaning Stripe's default for them (["card"]).
ALTER TABLE checkout_sessions ADD COLUMN payment_method_types TEXT;
ALTER TABLE payment_links ADD COLUMN payment_method_types TEXT;
