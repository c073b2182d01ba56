-- PostgreSQL port of migrations/sqlite/0073_plans.sql.
-- The legacy Plans API (api/plans.c) shows recurring prices as plans, and a plan's id may be the
-- merchant's own ("gold-monthly"), so price ids no longer sort by creation either. Each price
-- keeps a time-ordered key of its creation (list_key, api/list.h), by which price and plan
-- lists page; prices made before have time-ordered ids: their key is their id. A plan's default
-- trial, and whether it was deleted as a plan (the price stays, inactive, for what uses it).
ALTER TABLE prices ADD COLUMN list_key TEXT;
UPDATE prices SET list_key = id;
CREATE UNIQUE INDEX prices_by_list_key ON prices (merchant_id, list_key);
DROP INDEX prices_product;
CREATE INDEX prices_product ON prices (merchant_id, product, list_key);
ALTER TABLE prices ADD COLUMN trial_period_days INTEGER;
ALTER TABLE prices ADD COLUMN plan_deleted INTEGER NOT NULL DEFAULT 0;
