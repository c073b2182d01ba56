-- A draft's line's own tax_amounts (api/invoice_lines_edit.c: add_lines, update_lines, a line's
-- update): the taxes the merchant computed for the line of invoice item `invoice_item` on
-- invoice `invoice`, which the invoice takes for that line as they are instead of computing
-- them from tax rates (api/discounts.c). tax_rate: the archived rate made from the entry's
-- tax_rate_data (one per distinct data, reused). Rows of an item no longer on `invoice` are
-- not read.
CREATE TABLE invoice_item_tax_amounts (
  merchant_id TEXT NOT NULL,
  invoice_item TEXT NOT NULL,
  pos BIGINT NOT NULL,
  invoice TEXT NOT NULL,
  tax_rate TEXT NOT NULL,
  inclusive BIGINT NOT NULL,
  amount BIGINT NOT NULL,
  taxable_amount BIGINT NOT NULL,
  taxability_reason TEXT,
  PRIMARY KEY (merchant_id, invoice_item, pos)
);
