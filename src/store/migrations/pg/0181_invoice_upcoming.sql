-- PostgreSQL port of migrations/sqlite/0186_invoice_upcoming.sql: the renewal whose upcoming
-- invoice was announced (invoice.upcoming), NULL when none yet; subscriptions made before are
-- brought to a week before their renewal so it is announced too.
ALTER TABLE subscriptions ADD COLUMN upcoming_notice_for BIGINT;
UPDATE subscriptions SET next_action_at = current_period_end - 604800
  WHERE status IN ('active', 'past_due', 'unpaid') AND collection_method = 'charge_automatically'
    AND pause_behavior IS NULL AND cancel_at_period_end = 0 AND cancel_at IS NULL
    AND next_action_at = current_period_end
    AND current_period_end - 604800 >= current_period_start;
