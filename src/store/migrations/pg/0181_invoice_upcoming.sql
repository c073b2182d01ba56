-- PostgreSQL port of migrations/sqlite/0186_invoice_upcoming.sql: the renewal whose upcoming
-- invoice was announced (invoice.upcoming), NULL when none yet.
ALTER TABLE subscriptions ADD COLUMN upcoming_notice_for BIGINT;
