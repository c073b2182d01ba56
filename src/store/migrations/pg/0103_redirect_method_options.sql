-- The redirect methods' payment_method_options on PaymentIntents, kept as the card's and the bank
-- debits' are (pmo_card_*, pmo_sepa_*): NULL where the request gave none.
-- [ideal|bancontact][setup_future_usage] (none | off_session: for a PaymentMethod of that type it
-- replaces the intent's own), [bancontact][preferred_language] (de | en | fr | nl),
-- [affirm|afterpay_clearpay|klarna][capture_method] (manual: that type's authorization is held
-- whatever the intent's own capture_method), [affirm|klarna][preferred_locale],
-- [afterpay_clearpay][reference].
ALTER TABLE payment_intents ADD COLUMN pmo_ideal_setup_future_usage TEXT;
ALTER TABLE payment_intents ADD COLUMN pmo_bancontact_setup_future_usage TEXT;
ALTER TABLE payment_intents ADD COLUMN pmo_bancontact_preferred_language TEXT;
ALTER TABLE payment_intents ADD COLUMN pmo_affirm_capture_method TEXT;
ALTER TABLE payment_intents ADD COLUMN pmo_affirm_preferred_locale TEXT;
ALTER TABLE payment_intents ADD COLUMN pmo_afterpay_capture_method TEXT;
ALTER TABLE payment_intents ADD COLUMN pmo_afterpay_reference TEXT;
ALTER TABLE payment_intents ADD COLUMN pmo_klarna_capture_method TEXT;
ALTER TABLE payment_intents ADD COLUMN pmo_klarna_preferred_locale TEXT;
