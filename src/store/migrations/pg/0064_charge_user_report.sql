-- PostgreSQL port of migrations/sqlite/0069_charge_user_report.sql.
ALTER TABLE charges ADD COLUMN user_report TEXT;
