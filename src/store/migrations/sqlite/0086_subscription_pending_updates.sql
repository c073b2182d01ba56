-- A subscription's pending update (POST /v1/subscriptions/{id} or /v1/subscription_items with
-- payment_behavior=pending_if_incomplete): the change asked for, kept aside until its invoice is
-- paid. pending_update is the subscription as it will be (its items and, for a new interval, its
-- period; JSON written and read by subscriptions.c only), pending_invoice the invoice whose
-- payment applies it, pending_expires_at when the scheduler drops it (23 hours after). All NULL:
-- none.
ALTER TABLE subscriptions ADD COLUMN pending_update TEXT;
ALTER TABLE subscriptions ADD COLUMN pending_invoice TEXT;
ALTER TABLE subscriptions ADD COLUMN pending_expires_at INTEGER;
