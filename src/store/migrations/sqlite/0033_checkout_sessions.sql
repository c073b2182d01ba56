-- Checkout Sessions (/v1/checkout/sessions): an open checkout page, closed once: complete or
-- expired. mode payment: priced line items (as for payment links: the JSON of the items as
-- priced at creation, amount_total their sum), payment_intent the last attempt's PaymentIntent,
-- recorded before it is made (checkout.c). mode setup: a card saved for later (no items, amount
-- 0, currency ''), setup_intent the last attempt's SetupIntent. Lists page by id (0021); the scheduler finds open sessions
-- past expires_at through sessions_open.
CREATE TABLE checkout_sessions (
  merchant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  created INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  amount_total INTEGER NOT NULL,
  currency TEXT NOT NULL,
  status TEXT NOT NULL,
  payment_status TEXT NOT NULL,
  line_items TEXT NOT NULL,
  success_url TEXT,
  cancel_url TEXT,
  customer TEXT,
  customer_email TEXT,
  client_reference_id TEXT,
  metadata TEXT NOT NULL DEFAULT '{}',
  payment_intent TEXT,
  payment_link TEXT,
  pi_capture_method TEXT,
  pi_description TEXT,
  submit_type TEXT NOT NULL,
  confirmation_message TEXT,
  details_email TEXT,
  details_name TEXT,
  mode TEXT NOT NULL DEFAULT 'payment',
  setup_intent TEXT,
  attempt_at INTEGER,
  link_nonce TEXT,
  PRIMARY KEY (merchant_id, id)
) WITHOUT ROWID;
CREATE INDEX sessions_open ON checkout_sessions (expires_at) WHERE status = 'open';
-- a payment link's form carries a one-time nonce: the session it opens is found by it again,
-- so a form posted twice (a double click) pays through one session, not two
CREATE UNIQUE INDEX sessions_link_nonce ON checkout_sessions (merchant_id, link_nonce)
  WHERE link_nonce IS NOT NULL;
