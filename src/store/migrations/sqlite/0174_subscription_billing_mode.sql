-- A subscription's billing_mode (api/subscriptions.c): how its prorations are computed.
-- billing_mode: 'classic' or 'flexible' (NULL: a subscription made before, classic);
-- billing_mode_proration_discounts: billing_mode[flexible][proration_discounts] ('included';
-- NULL: classic); billing_mode_updated_at: when it took its current mode (its creation, or
-- POST /v1/subscriptions/{id}/migrate; NULL: made before).
ALTER TABLE subscriptions ADD COLUMN billing_mode TEXT;
ALTER TABLE subscriptions ADD COLUMN billing_mode_proration_discounts TEXT;
ALTER TABLE subscriptions ADD COLUMN billing_mode_updated_at INTEGER;
-- A Checkout Session's subscription_data[billing_mode][type] (api/checkout.c), as its create
-- asked or defaulted it by API version, for the subscription the buyer's payment makes
-- (NULL: a session made before, or a payment link's: classic).
ALTER TABLE checkout_sessions ADD COLUMN sub_billing_mode TEXT;
-- A subscription schedule's billing_mode (api/subscription_schedules.c), the subscription's it
-- makes (from_subscription: that one's), and when it took it (NULL: made before, classic).
ALTER TABLE subscription_schedules ADD COLUMN billing_mode TEXT;
ALTER TABLE subscription_schedules ADD COLUMN billing_mode_updated_at INTEGER;
-- A quote's subscription_data[billing_mode][type] (api/quotes.c), set by its create, for the
-- subscription its acceptance makes (NULL: a quote made before, classic).
ALTER TABLE quotes ADD COLUMN sub_billing_mode TEXT;
