-- Sub-cent invoice items: unit_amount_decimal is the item's unit amount as the decimal text of
-- minor units it was given (up to 12 decimals, never a float), NULL when the unit amount is the
-- integer unit_amount. With it, amount is quantity × unit_amount_decimal rounded once to the
-- nearest minor unit (halves up, src/billing/tiers.h) and unit_amount is not shown.
ALTER TABLE invoice_items ADD COLUMN unit_amount_decimal TEXT;
