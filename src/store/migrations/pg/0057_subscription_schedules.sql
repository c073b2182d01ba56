-- Subscription schedules (src/api/subscription_schedules.c). A schedule keeps its phases as a
-- JSON array in Tender's own shape (dates computed when they were set, items as price and
-- quantity), read and rewritten whole: a schedule has at most 10 phases of at most 20 items.
-- next_action_at is when the scheduler next has something to do for it (its start, or the end
-- of its current phase; NULL: nothing), in its own time: real time, or its customer's test
-- clock's (test_clock set). subscription names the subscription it manages while it is
-- not_started/active; the subscription shows the schedule through subscription_schedules_sub.
CREATE TABLE subscription_schedules (
  merchant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  created BIGINT NOT NULL,
  version BIGINT NOT NULL,
  customer TEXT NOT NULL,
  status TEXT NOT NULL,
  subscription TEXT,
  released_subscription TEXT,
  end_behavior TEXT NOT NULL,
  current_phase BIGINT NOT NULL,
  phases TEXT NOT NULL,
  default_payment_method TEXT,
  metadata TEXT NOT NULL DEFAULT '{}',
  test_clock TEXT,
  next_action_at BIGINT,
  canceled_at BIGINT,
  completed_at BIGINT,
  released_at BIGINT,
  PRIMARY KEY (merchant_id, id)
);
CREATE INDEX subscription_schedules_due ON subscription_schedules (next_action_at)
  WHERE next_action_at IS NOT NULL AND test_clock IS NULL;
CREATE INDEX subscription_schedules_clock
  ON subscription_schedules (merchant_id, test_clock, next_action_at)
  WHERE test_clock IS NOT NULL;
CREATE INDEX subscription_schedules_sub ON subscription_schedules (merchant_id, subscription);
CREATE INDEX subscription_schedules_customer ON subscription_schedules (merchant_id, customer, id);
