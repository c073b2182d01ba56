-- A product's id may be the merchant's own (POST /v1/products with `id`), so ids no longer sort
-- by creation. Each product keeps a second, time-ordered key of its creation, made like an id
-- (list_key, api/list.h), by which lists and searches page. Products made before have
-- time-ordered ids of their own: their key is their id.
ALTER TABLE products ADD COLUMN list_key TEXT;
UPDATE products SET list_key = id;
CREATE UNIQUE INDEX products_by_list_key ON products (merchant_id, list_key);
