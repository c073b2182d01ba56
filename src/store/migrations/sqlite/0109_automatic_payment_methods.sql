-- automatic_payment_methods on PaymentIntents and SetupIntents: allow_redirects ('always' or
-- 'never') of an intent created with automatic_payment_methods[enabled]=true, NULL for one that
-- did not ask (it renders automatic_payment_methods: null and offers the payment_method_types
-- it was given). payment_method_configuration: the configuration it was created with (pmc_…),
-- NULL for the merchant's default; its types are computed again when the currency changes.
ALTER TABLE payment_intents ADD COLUMN automatic_payment_methods TEXT;
ALTER TABLE payment_intents ADD COLUMN payment_method_configuration TEXT;
ALTER TABLE setup_intents ADD COLUMN automatic_payment_methods TEXT;
ALTER TABLE setup_intents ADD COLUMN payment_method_configuration TEXT;
