-- payment_method_options[card][request_incremental_authorization] of a PaymentIntent
-- ('if_available', 'never', or NULL: not asked, which Stripe renders as absent). Only an intent
-- that asked can be incremented (POST /v1/payment_intents/{id}/increment_authorization).
ALTER TABLE payment_intents ADD COLUMN pmo_card_request_incremental_authorization TEXT;
