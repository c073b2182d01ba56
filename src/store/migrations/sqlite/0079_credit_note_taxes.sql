-- credit_note_line_taxes: what each line of type invoice_line_item of a credit note credited of
-- each tax of its invoice line (invoice_tax_amounts), kept as it was computed when the credit
-- note was issued, so that it renders the same later and the shares of a line's later credit
-- notes are taken from what is left (summed over the issued ones: a void gives its share back).
-- pos: the tax's position on the invoice line; amount and taxable_amount: this line's shares.
CREATE TABLE credit_note_line_taxes (
  merchant_id TEXT NOT NULL,
  credit_note TEXT NOT NULL,
  idx INTEGER NOT NULL,
  pos INTEGER NOT NULL,
  invoice_line_item TEXT NOT NULL,
  tax_rate TEXT NOT NULL,
  inclusive INTEGER NOT NULL,
  amount INTEGER NOT NULL,
  taxable_amount INTEGER NOT NULL,
  PRIMARY KEY (merchant_id, credit_note, idx, pos)
) WITHOUT ROWID;
CREATE INDEX credit_note_line_taxes_line ON credit_note_line_taxes (merchant_id,
  invoice_line_item);
