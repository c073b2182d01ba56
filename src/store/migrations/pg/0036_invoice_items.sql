-- Invoice items (src/api/invoice_items.c): one-off amounts, and the prorations a change of a
-- subscription's items makes, billed on a customer's next invoice. An item is pending while
-- invoice is NULL; the invoice that takes it (a subscription's renewal, or a one-off invoice made
-- by POST /v1/invoices) names itself here, in the same write that makes or finalizes it, and the
-- invoice's lines show its items. amount = unit_amount × quantity (or the amount given), in
-- minor units, negative for a credit (a proration: amount is the line rounded, unit_amount the
-- unit's share rounded on its own). Rows are never removed: a deleted item keeps its row with
-- deleted = 1 (its event says so). Lists page by id (0021).
CREATE TABLE invoice_items (
  merchant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  created BIGINT NOT NULL,
  customer TEXT NOT NULL,
  currency TEXT NOT NULL,
  amount BIGINT NOT NULL,
  unit_amount BIGINT NOT NULL,
  quantity BIGINT NOT NULL,
  price TEXT,
  description TEXT,
  period_start BIGINT NOT NULL,
  period_end BIGINT NOT NULL,
  metadata TEXT NOT NULL DEFAULT '{}',
  subscription TEXT,
  subscription_item TEXT,
  invoice TEXT,
  proration BIGINT NOT NULL DEFAULT 0,
  discountable BIGINT NOT NULL DEFAULT 1,
  test_clock TEXT,
  deleted BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (merchant_id, id)
);
CREATE INDEX invoice_items_customer ON invoice_items (merchant_id, customer, id);
CREATE INDEX invoice_items_invoice ON invoice_items (merchant_id, invoice, id);
