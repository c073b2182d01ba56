-- Pay-what-you-want prices (custom_unit_amount): the JSON object the API shows,
-- {maximum, minimum, preset} with null for the bounds not given, written and read by
-- api/products.c only; NULL for a price with a fixed amount. Such a price has no unit_amount:
-- unit_amount is NULL and unit_amount_decimal '' (rendered null), as a tiered price's.
ALTER TABLE prices ADD COLUMN custom_unit_amount TEXT;
