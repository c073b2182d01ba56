-- Indexes for list filters that had none (api/list.h, list_narrow): GET /v1/refunds?payment_intent=
-- and GET /v1/checkout/sessions?payment_intent= / ?customer= walked the merchant's whole
-- primary key and tested every row. Each is (merchant_id, filter column, id), so the filter and
-- the newest-first order both come from it, and partial on the column being set, so a row
-- without one (a refund of a charge made without an intent, a session without a customer)
-- costs nothing here. Neither table is on the payment path's writes.
CREATE INDEX refunds_payment_intent ON refunds (merchant_id, payment_intent, id)
  WHERE payment_intent IS NOT NULL;
CREATE INDEX sessions_payment_intent ON checkout_sessions (merchant_id, payment_intent, id)
  WHERE payment_intent IS NOT NULL;
CREATE INDEX sessions_customer ON checkout_sessions (merchant_id, customer, id)
  WHERE customer IS NOT NULL;
