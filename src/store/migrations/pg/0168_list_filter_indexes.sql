-- PostgreSQL port of migrations/sqlite/0167_list_filter_indexes.sql: indexes for the list
-- filters that had none (refunds by payment_intent, checkout sessions by payment_intent and by
-- customer), (merchant_id, column, id) so the filter and the order come from one index,
-- partial on the column being set.
CREATE INDEX refunds_payment_intent ON refunds (merchant_id, payment_intent, id)
  WHERE payment_intent IS NOT NULL;
CREATE INDEX sessions_payment_intent ON checkout_sessions (merchant_id, payment_intent, id)
  WHERE payment_intent IS NOT NULL;
CREATE INDEX sessions_customer ON checkout_sessions (merchant_id, customer, id)
  WHERE customer IS NOT NULL;
