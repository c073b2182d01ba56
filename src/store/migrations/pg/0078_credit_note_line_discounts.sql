-- credit_note_line_discounts: what each line of type invoice_line_item of a credit note credited
-- of each discount its invoice line took (invoice_discount_amounts), kept as computed when the
-- credit note was issued, so that it renders the same later and a line's later credit notes
-- take their shares from what is left (summed over the issued ones: a void gives its share
-- back). pos: the discount's position on the credit note line; amount: this line's share.
CREATE TABLE credit_note_line_discounts (
  merchant_id TEXT NOT NULL,
  credit_note TEXT NOT NULL,
  idx BIGINT NOT NULL,
  pos BIGINT NOT NULL,
  invoice_line_item TEXT NOT NULL,
  discount TEXT NOT NULL,
  amount BIGINT NOT NULL,
  PRIMARY KEY (merchant_id, credit_note, idx, pos)
);
CREATE INDEX credit_note_line_discounts_line ON credit_note_line_discounts (merchant_id,
  invoice_line_item);
