-- Checkout Sessions with ui_mode (api/checkout.c): the page the merchant shows, as given
-- (hosted / hosted_page, embedded / embedded_page, custom / elements; NULL: a session made
-- before, hosted), the return_url of an embedded or custom session and its
-- redirect_on_completion (always, if_required, never; NULL for hosted). The client_secret is
-- derived from the vault's page key (vault_page_token of the session id), never stored.
ALTER TABLE checkout_sessions ADD COLUMN ui_mode TEXT;
ALTER TABLE checkout_sessions ADD COLUMN return_url TEXT;
ALTER TABLE checkout_sessions ADD COLUMN redirect_on_completion TEXT;
