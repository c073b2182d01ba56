-- Credit notes (api/credit_notes.c): Stripe's credit_note, adjusting a finalized invoice. Its
-- money is split once, when it is issued: pre_payment_amount lowered what the invoice still
-- asked for, post_payment_amount went back after payment as refund_amount (the refund named by
-- `refund`), credit_amount (the customer balance transaction customer_balance_transaction) and
-- out_of_band_amount (NULL: not given). The invoice's pre/post_payment_credit_notes_amount are
-- sums over its issued (not void) credit notes. number: the invoice's number, -CN-, its count.
CREATE TABLE credit_notes (
  merchant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  created INTEGER NOT NULL,
  invoice TEXT NOT NULL,
  customer TEXT NOT NULL,
  currency TEXT NOT NULL,
  number TEXT NOT NULL,
  type TEXT NOT NULL,
  status TEXT NOT NULL,
  total INTEGER NOT NULL,
  pre_payment_amount INTEGER NOT NULL,
  post_payment_amount INTEGER NOT NULL,
  refund_amount INTEGER NOT NULL,
  credit_amount INTEGER NOT NULL,
  out_of_band_amount INTEGER,
  refund TEXT,
  customer_balance_transaction TEXT,
  reason TEXT,
  memo TEXT,
  metadata TEXT NOT NULL DEFAULT '{}',
  effective_at INTEGER NOT NULL,
  voided_at INTEGER,
  PRIMARY KEY (merchant_id, id)
) WITHOUT ROWID;
CREATE INDEX credit_notes_invoice ON credit_notes (merchant_id, invoice, id);
CREATE INDEX credit_notes_customer ON credit_notes (merchant_id, customer, id);
CREATE UNIQUE INDEX credit_notes_number ON credit_notes (merchant_id, number);

-- Its lines (credit_note_line_item), in order (idx): an invoice line credited (invoice_line_item
-- set; the sum over a line's issued credit notes never exceeds the line's amount) or a custom one.
CREATE TABLE credit_note_lines (
  merchant_id TEXT NOT NULL,
  credit_note TEXT NOT NULL,
  idx INTEGER NOT NULL,
  id TEXT NOT NULL,
  type TEXT NOT NULL,
  invoice_line_item TEXT,
  amount INTEGER NOT NULL,
  quantity INTEGER,
  unit_amount INTEGER,
  description TEXT,
  PRIMARY KEY (merchant_id, credit_note, idx)
) WITHOUT ROWID;
CREATE INDEX credit_note_lines_line ON credit_note_lines (merchant_id, invoice_line_item)
  WHERE invoice_line_item IS NOT NULL;

-- A `credit_note` customer balance transaction names its credit note.
ALTER TABLE customer_balance_transactions ADD COLUMN credit_note TEXT;
