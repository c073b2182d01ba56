-- PostgreSQL port of migrations/sqlite/0177_proration_discounts.sql: a proration's billing mode
-- (classic | included | itemized) and what the subscription's discounts took from it (a JSON
-- array of {amount, discount}); NULL on every other item.
ALTER TABLE invoice_items ADD COLUMN proration_discount_mode TEXT;
ALTER TABLE invoice_items ADD COLUMN proration_discount_amounts TEXT;
