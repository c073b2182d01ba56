-- automatic_payment_methods on PaymentIntents and SetupIntents: allow_redirects ('always' or
-- 'never') of an intent created with automatic_payment_methods[enabled]=true, NULL for one that
-- did not ask (it renders automatic_payment_methods: null and offers the payment_method_types
-- it was given). payment_method_configuration and _parent: the configuration its types come
-- from (pmc_…, the one named or the merchant's default) and that configuration's parent, shown
-- as payment_method_configuration_details; its types are computed again from it when the
-- currency changes. NULL for an intent that did not ask.
ALTER TABLE payment_intents ADD COLUMN automatic_payment_methods TEXT;
ALTER TABLE payment_intents ADD COLUMN payment_method_configuration TEXT;
ALTER TABLE payment_intents ADD COLUMN payment_method_configuration_parent TEXT;
ALTER TABLE setup_intents ADD COLUMN automatic_payment_methods TEXT;
ALTER TABLE setup_intents ADD COLUMN payment_method_configuration TEXT;
ALTER TABLE setup_intents ADD COLUMN payment_method_configuration_parent TEXT;
