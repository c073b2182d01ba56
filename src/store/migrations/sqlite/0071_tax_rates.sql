-- Tax rates (src/api/tax_rates.c) and what they take from invoices.
-- tax_rates: the merchant's rates; percentage kept exact as percent × 10,000 (an integer: 19.5 %
-- is 195,000), never a float.
-- tax_rate_links: the rates applied to one object, in order: an invoice item's tax_rates, an
-- invoice's or a subscription's default_tax_rates, a subscription item's tax_rates (owner is
-- the object's id; the ids' prefixes keep them apart).
-- invoice_tax_amounts: once computed, what each rate took from each line of an invoice (a
-- draft's computed again as it changes, with its discounts): amount, the taxable amount it was
-- computed on (after discounts), and for an inclusive rate the tax inside the line's amount
-- before discounts (pre_discount: the invoice's subtotal_excluding_tax).
CREATE TABLE tax_rates (
  merchant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  created INTEGER NOT NULL,
  display_name TEXT NOT NULL,
  percent_e4 INTEGER NOT NULL,
  inclusive INTEGER NOT NULL,
  active INTEGER NOT NULL,
  country TEXT,
  state TEXT,
  jurisdiction TEXT,
  description TEXT,
  tax_type TEXT,
  metadata TEXT NOT NULL DEFAULT '{}',
  PRIMARY KEY (merchant_id, id)
) WITHOUT ROWID;
CREATE TABLE tax_rate_links (
  merchant_id TEXT NOT NULL,
  owner TEXT NOT NULL,
  pos INTEGER NOT NULL,
  tax_rate TEXT NOT NULL,
  PRIMARY KEY (merchant_id, owner, pos)
) WITHOUT ROWID;
CREATE TABLE invoice_tax_amounts (
  merchant_id TEXT NOT NULL,
  invoice TEXT NOT NULL,
  line TEXT NOT NULL,
  pos INTEGER NOT NULL,
  tax_rate TEXT NOT NULL,
  inclusive INTEGER NOT NULL,
  amount INTEGER NOT NULL,
  taxable_amount INTEGER NOT NULL,
  pre_discount INTEGER NOT NULL,
  own INTEGER NOT NULL,
  PRIMARY KEY (merchant_id, invoice, line, pos)
) WITHOUT ROWID;
