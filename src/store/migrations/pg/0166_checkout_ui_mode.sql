-- PostgreSQL port of migrations/sqlite/0170_checkout_ui_mode.sql: a Checkout Session's ui_mode,
-- return_url and redirect_on_completion (NULL: hosted, as sessions made before); the
-- client_secret is derived (vault_page_token), never stored.
ALTER TABLE checkout_sessions ADD COLUMN ui_mode TEXT;
ALTER TABLE checkout_sessions ADD COLUMN return_url TEXT;
ALTER TABLE checkout_sessions ADD COLUMN redirect_on_completion TEXT;
