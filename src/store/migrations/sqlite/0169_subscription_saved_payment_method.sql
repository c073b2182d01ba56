-- Stripe's subscriptions integration with Elements (api/subscriptions.c).
-- save_default_payment_method: payment_settings[save_default_payment_method] (NULL: 'off';
-- 'on_subscription': a payment of one of its invoices, or its pending SetupIntent, that
-- succeeds makes its PaymentMethod the subscription's default_payment_method).
-- pending_setup_intent: the SetupIntent a default_incomplete subscription with nothing due now
-- waits on (NULL: none); its success clears it, found by the index below.
ALTER TABLE subscriptions ADD COLUMN save_default_payment_method TEXT;
ALTER TABLE subscriptions ADD COLUMN pending_setup_intent TEXT;
CREATE INDEX subscriptions_pending_setup_intent ON subscriptions (merchant_id, pending_setup_intent)
  WHERE pending_setup_intent IS NOT NULL;
