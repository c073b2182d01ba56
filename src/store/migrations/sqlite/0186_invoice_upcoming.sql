-- invoice.upcoming: the renewal (current_period_end, or trial_end while trialing) whose upcoming
-- invoice was announced (NULL: none yet), so that each renewal is announced once, whichever node
-- runs the scheduler and however often it restarts (the step claims it by the subscription's
-- version, in the same transaction as the event).
ALTER TABLE subscriptions ADD COLUMN upcoming_notice_for INTEGER;
-- Subscriptions made before wait for their renewal (next_action_at = current_period_end): their
-- scheduler step is brought to a week before it, so the renewal is announced too. A step found
-- early only puts its time right (subscription_step), so an earlier time is always safe.
UPDATE subscriptions SET next_action_at = current_period_end - 604800
  WHERE status IN ('active', 'past_due', 'unpaid') AND collection_method = 'charge_automatically'
    AND pause_behavior IS NULL AND cancel_at_period_end = 0 AND cancel_at IS NULL
    AND next_action_at = current_period_end
    AND current_period_end - 604800 >= current_period_start;
