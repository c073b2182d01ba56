-- A metered subscription item's usage counts from usage_start when it was added to the
-- subscription (or its price replaced) by a change after its period began: the meter's events
-- before it are not its usage. 0: from its subscription's usage window (an item there from the
-- start). Written and read by api/subscriptions.c.
ALTER TABLE subscription_items ADD COLUMN usage_start INTEGER NOT NULL DEFAULT 0;
