-- Recurring billing (src/api/subscriptions.c): test clocks, subscriptions and their items, and
-- invoices. A subscription's next_action_at is when the scheduler next has something to do for
-- it (a renewal, a retry of its latest invoice, an expiry or a cancellation; NULL: nothing), in
-- its own time: real time, or its customer's test clock's time (test_clock set), which moves
-- only when the clock is advanced. An invoice keeps its lines as the JSON of Stripe's line_item
-- objects (at most 20, one per subscription item) and names the PaymentIntent that pays it; the
-- intent names the invoice back (payment_intents.invoice), so that the confirmation that pays
-- it also settles the invoice, in the same transaction. Lists page by id (0021).
CREATE TABLE test_clocks (
  merchant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  created BIGINT NOT NULL,
  frozen_time BIGINT NOT NULL,
  target_time BIGINT NOT NULL,
  name TEXT,
  status TEXT NOT NULL,
  deleted BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (merchant_id, id)
);
CREATE INDEX test_clocks_advancing ON test_clocks (status) WHERE status = 'advancing';
ALTER TABLE customers ADD COLUMN test_clock TEXT;
ALTER TABLE payment_intents ADD COLUMN invoice TEXT;
CREATE TABLE subscriptions (
  merchant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  created BIGINT NOT NULL,
  version BIGINT NOT NULL,
  customer TEXT NOT NULL,
  status TEXT NOT NULL,
  currency TEXT NOT NULL,
  billing_interval TEXT NOT NULL,
  billing_interval_count BIGINT NOT NULL,
  billing_cycle_anchor BIGINT NOT NULL,
  period_index BIGINT NOT NULL,
  current_period_start BIGINT NOT NULL,
  current_period_end BIGINT NOT NULL,
  start_date BIGINT NOT NULL,
  trial_start BIGINT,
  trial_end BIGINT,
  cancel_at_period_end BIGINT NOT NULL DEFAULT 0,
  canceled_at BIGINT,
  ended_at BIGINT,
  cancellation_reason TEXT,
  cancellation_comment TEXT,
  cancellation_feedback TEXT,
  default_payment_method TEXT,
  description TEXT,
  latest_invoice TEXT,
  metadata TEXT NOT NULL DEFAULT '{}',
  test_clock TEXT,
  next_action_at BIGINT,
  PRIMARY KEY (merchant_id, id)
);
CREATE INDEX subscriptions_due ON subscriptions (next_action_at)
  WHERE next_action_at IS NOT NULL AND test_clock IS NULL;
CREATE INDEX subscriptions_clock ON subscriptions (merchant_id, test_clock, next_action_at)
  WHERE test_clock IS NOT NULL;
CREATE INDEX subscriptions_customer ON subscriptions (merchant_id, customer, id);
CREATE TABLE subscription_items (
  merchant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  subscription TEXT NOT NULL,
  pos BIGINT NOT NULL,
  created BIGINT NOT NULL,
  price TEXT NOT NULL,
  quantity BIGINT NOT NULL,
  metadata TEXT NOT NULL DEFAULT '{}',
  PRIMARY KEY (merchant_id, id)
);
CREATE INDEX subscription_items_sub ON subscription_items (merchant_id, subscription, pos);
CREATE INDEX subscription_items_price ON subscription_items (merchant_id, price, subscription);
CREATE TABLE invoices (
  merchant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  created BIGINT NOT NULL,
  version BIGINT NOT NULL,
  customer TEXT NOT NULL,
  subscription TEXT,
  status TEXT NOT NULL,
  billing_reason TEXT NOT NULL,
  currency TEXT NOT NULL,
  subtotal BIGINT NOT NULL,
  total BIGINT NOT NULL,
  amount_paid BIGINT NOT NULL DEFAULT 0,
  attempt_count BIGINT NOT NULL DEFAULT 0,
  next_payment_attempt BIGINT,
  auto_advance BIGINT NOT NULL DEFAULT 1,
  period_start BIGINT NOT NULL,
  period_end BIGINT NOT NULL,
  number TEXT,
  payment_intent TEXT,
  customer_email TEXT,
  customer_name TEXT,
  description TEXT,
  metadata TEXT NOT NULL DEFAULT '{}',
  lines TEXT NOT NULL,
  test_clock TEXT,
  finalized_at BIGINT,
  paid_at BIGINT,
  voided_at BIGINT,
  PRIMARY KEY (merchant_id, id)
);
CREATE INDEX invoices_subscription ON invoices (merchant_id, subscription, id);
CREATE INDEX invoices_customer ON invoices (merchant_id, customer, id);
