-- A subscription made with a trial and a later billing_cycle_anchor: whether its create asked
-- proration_behavior=none, so the period from the trial's end up to the anchor is billed
-- nothing (else it is billed at its share of the full period ending at the anchor).
ALTER TABLE subscriptions ADD COLUMN anchor_proration_none INTEGER NOT NULL DEFAULT 0;
