-- What a subscription's discounts took from a proration (src/api/subscriptions.c,
-- proration_add), as Stripe shows it: the billing mode it was made under (classic, included:
-- its amount is net of the discounts; itemized: its amount is gross and its line's
-- discount_amounts take them off on the invoice) and the discounts' shares of it (a JSON array
-- of {amount, discount}). NULL on every other item, and on a proration no discount applied to.
ALTER TABLE invoice_items ADD COLUMN proration_discount_mode TEXT;
ALTER TABLE invoice_items ADD COLUMN proration_discount_amounts TEXT;
