-- Bank debits' payment_method_options (PaymentIntents and SetupIntents), kept as the card's are
-- (pmo_card_*): NULL where the request gave none.
-- payment_intents: payment_method_options[card|sepa_debit|us_bank_account][setup_future_usage]
-- (none | off_session | on_session: for a PaymentMethod of that type it replaces the intent's
-- own setup_future_usage), [sepa_debit][mandate_options][reference_prefix] (the new mandate's
-- reference begins with it), [us_bank_account][verification_method] (automatic |
-- microdeposits; instant is refused).
ALTER TABLE payment_intents ADD COLUMN pmo_card_setup_future_usage TEXT;
ALTER TABLE payment_intents ADD COLUMN pmo_sepa_setup_future_usage TEXT;
ALTER TABLE payment_intents ADD COLUMN pmo_sepa_reference_prefix TEXT;
ALTER TABLE payment_intents ADD COLUMN pmo_ach_setup_future_usage TEXT;
ALTER TABLE payment_intents ADD COLUMN pmo_ach_verification_method TEXT;
ALTER TABLE setup_intents ADD COLUMN pmo_sepa_reference_prefix TEXT;
ALTER TABLE setup_intents ADD COLUMN pmo_ach_verification_method TEXT;

