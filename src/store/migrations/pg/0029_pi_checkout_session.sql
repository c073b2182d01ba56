-- The Checkout Session a PaymentIntent pays (NULL for every other intent): the confirmation
-- that makes the payment also completes the session, in the same transaction (checkout.c).
ALTER TABLE payment_intents ADD COLUMN checkout_session TEXT;
