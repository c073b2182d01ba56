-- PostgreSQL port of migrations/sqlite/0172_subscription_billing_mode.sql: a subscription's
-- billing_mode ('classic' / 'flexible'; NULL: made before, classic), its
-- billing_mode[flexible][proration_discounts] and when it took that mode (NULL: made before).
ALTER TABLE subscriptions ADD COLUMN billing_mode TEXT;
ALTER TABLE subscriptions ADD COLUMN billing_mode_proration_discounts TEXT;
ALTER TABLE subscriptions ADD COLUMN billing_mode_updated_at BIGINT;
-- A Checkout Session's subscription_data[billing_mode][type] (NULL: made before, classic).
ALTER TABLE checkout_sessions ADD COLUMN sub_billing_mode TEXT;
-- A subscription schedule's billing_mode and since when (NULL: made before, classic).
ALTER TABLE subscription_schedules ADD COLUMN billing_mode TEXT;
ALTER TABLE subscription_schedules ADD COLUMN billing_mode_updated_at BIGINT;
-- A quote's subscription_data[billing_mode][type] (NULL: made before, classic).
ALTER TABLE quotes ADD COLUMN sub_billing_mode TEXT;
