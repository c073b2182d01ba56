-- billing_cycle_anchor_config of a subscription's create, as the subscription shows it: the
-- JSON object {day_of_month, hour, minute, month, second} with null for the fields not given;
-- NULL for a subscription made without one.
ALTER TABLE subscriptions ADD COLUMN billing_cycle_anchor_config TEXT;
