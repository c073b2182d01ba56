-- Checkout Sessions in mode=subscription (checkout.c): what the session buys besides its line
-- items (subscription_data: trial days, the subscription's metadata and description), and what
-- paying it made. subscription is the last attempt's subscription, recorded with the attempt
-- before it is made (as payment_intent is for mode=payment; the attempt's PaymentIntent, the
-- one paying the first invoice, stays in payment_intent); invoice is that subscription's first
-- invoice. Both are shown once the session is complete.
ALTER TABLE checkout_sessions ADD COLUMN subscription TEXT;
ALTER TABLE checkout_sessions ADD COLUMN invoice TEXT;
ALTER TABLE checkout_sessions ADD COLUMN sub_trial_days INTEGER NOT NULL DEFAULT 0;
ALTER TABLE checkout_sessions ADD COLUMN sub_metadata TEXT;
ALTER TABLE checkout_sessions ADD COLUMN sub_description TEXT;
