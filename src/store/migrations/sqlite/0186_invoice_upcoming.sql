-- invoice.upcoming: the renewal (current_period_end, or trial_end while trialing) whose upcoming
-- invoice was announced (NULL: none yet), so that each renewal is announced once, whichever node
-- runs the scheduler and however often it restarts (the step claims it by the subscription's
-- version, in the same transaction as the event).
ALTER TABLE subscriptions ADD COLUMN upcoming_notice_for INTEGER;
