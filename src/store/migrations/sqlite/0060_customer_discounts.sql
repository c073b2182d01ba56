-- A customer's own discount (coupon / promotion_code on customers): a discounts row naming the
-- customer and no subscription, invoice, invoice item or checkout session. Found by this index.
CREATE INDEX discounts_customer ON discounts (merchant_id, customer, pos)
  WHERE customer IS NOT NULL AND subscription IS NULL AND invoice IS NULL
  AND invoice_item IS NULL AND checkout_session IS NULL;
-- One-off invoices the scheduler advances by itself (an auto_advance draft an hour after it is
-- made, an open one's next attempt): found by their time.
CREATE INDEX invoices_next_step ON invoices (next_payment_attempt)
  WHERE subscription IS NULL AND next_payment_attempt IS NOT NULL;
