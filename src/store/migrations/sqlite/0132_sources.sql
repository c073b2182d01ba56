-- Stripe's Sources API (src_…, api/sources_api.c): card sources and the 3-D Secure sources made
-- from them. A card source's card is also a payment_methods row under the same src_… id (its
-- number sealed in vault_cards like any other card), so that it pays through the one payment
-- path; this row keeps what a source has beyond a card. type: card or three_d_secure. status:
-- pending, chargeable, consumed, failed or canceled. card: a three_d_secure source's card
-- source (src_…). three_d_secure: the card's support for it (optional, required,
-- not_supported). redirect_status, redirect_failure_reason, redirect_return_url: a redirect
-- flow's (NULL for flow none); redirect_base: the start of its page's URL (the create's
-- req_url_base: --public-url, or http:// and its Host). owner: Stripe's owner hash (JSON).
-- customer: the customer a card source is attached to (NULL when not, or once detached: a
-- detached source is consumed), or the one a 3-D Secure source was made for. Neither the
-- client secret nor the redirect page's secret is stored: both are derived (vault_page_token).
CREATE TABLE sources (
  merchant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  created INTEGER NOT NULL,
  type TEXT NOT NULL,
  status TEXT NOT NULL,
  usage TEXT NOT NULL,
  flow TEXT NOT NULL,
  amount INTEGER,
  currency TEXT,
  customer TEXT,
  card TEXT,
  three_d_secure TEXT NOT NULL,
  cvc_check TEXT,
  redirect_status TEXT,
  redirect_failure_reason TEXT,
  redirect_return_url TEXT,
  redirect_base TEXT,
  owner TEXT NOT NULL,
  statement_descriptor TEXT,
  metadata TEXT NOT NULL DEFAULT '{}',
  PRIMARY KEY (merchant_id, id)
) WITHOUT ROWID;
CREATE INDEX sources_customer ON sources (merchant_id, customer, id);
