-- Checkout Sessions' after_expiration[recovery]: when a session that enabled it expires, its
-- recovery URL (the page /checkout/{acct}/{cs}/recover, whose POST opens a new session copying
-- it) is valid until recovery_expires_at (30 days, as on Stripe); the new session names the old
-- one in recovered_from.
ALTER TABLE checkout_sessions ADD COLUMN recovered_from TEXT;
ALTER TABLE checkout_sessions ADD COLUMN recovery_expires_at INTEGER;
-- A subscription schedule's default_settings[automatic_tax][enabled] (its phases' own are in
-- their JSON).
ALTER TABLE subscription_schedules ADD COLUMN automatic_tax INTEGER NOT NULL DEFAULT 0;
