-- payment_method_options[card] on a PaymentIntent: capture_method ('manual' or NULL: the intent's
-- own capture_method applies) and request_three_d_secure ('any' or 'automatic'; NULL renders as
-- Stripe's default, 'automatic'). NULL for every intent made before.
ALTER TABLE payment_intents ADD COLUMN pmo_card_capture_method TEXT;
ALTER TABLE payment_intents ADD COLUMN pmo_card_request_three_d_secure TEXT;
