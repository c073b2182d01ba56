-- A per-unit price's transform_quantity (a plan's transform_usage, the same row): the quantity or
-- usage is divided by transform_divide_by and rounded `up` or `down` (transform_round) before it
-- is multiplied by the unit amount. Both NULL: no transformation. Set at creation only, never
-- changed. Written and read by api/products.c (and api/plans.c through it).
ALTER TABLE prices ADD COLUMN transform_divide_by BIGINT;
ALTER TABLE prices ADD COLUMN transform_round TEXT;
