-- A subscription's billing_mode (api/subscriptions.c): how its prorations are computed.
-- billing_mode: 'classic' or 'flexible' (NULL: a subscription made before, classic);
-- billing_mode_proration_discounts: billing_mode[flexible][proration_discounts] ('included';
-- NULL: classic); billing_mode_updated_at: when it took its current mode (its creation, or
-- POST /v1/subscriptions/{id}/migrate; NULL: made before).
ALTER TABLE subscriptions ADD COLUMN billing_mode TEXT;
ALTER TABLE subscriptions ADD COLUMN billing_mode_proration_discounts TEXT;
ALTER TABLE subscriptions ADD COLUMN billing_mode_updated_at INTEGER;
