-- A customer's own discount (coupon / promotion_code on customers): a discounts row naming the
-- customer and no subscription, invoice, invoice item or checkout session. Found by this index.
CREATE INDEX discounts_customer ON discounts (merchant_id, customer, pos)
  WHERE customer IS NOT NULL AND subscription IS NULL AND invoice IS NULL
  AND invoice_item IS NULL AND checkout_session IS NULL;
