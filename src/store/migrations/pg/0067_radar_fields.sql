-- PostgreSQL port of migrations/sqlite/0072_radar_fields.sql.
ALTER TABLE payment_methods ADD COLUMN bin TEXT;
ALTER TABLE tokens ADD COLUMN bin TEXT;
