-- ConfirmationTokens (api/confirmation_tokens.c): the payment details a client collected, for
-- one later confirmation of a PaymentIntent or SetupIntent within 12 hours. pm_ref is what the
-- confirmation pays with: an existing PaymentMethod (pm_…), a test alias (pm_card_visa …), or a
-- single-use card token (tok_…) made for the token's own card data, so that the number stays
-- sealed in vault_cards and nothing here can reveal it. preview is the payment_method_preview
-- hash rendered when the token was made (public card facts only). payment_intent / setup_intent
-- name the intent that used it (NULL until then; a conditional update makes the use single).
CREATE TABLE confirmation_tokens (
  merchant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  created INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  pm_ref TEXT NOT NULL,
  preview TEXT NOT NULL,
  billing_details TEXT,
  pm_metadata TEXT,
  return_url TEXT,
  setup_future_usage TEXT,
  shipping TEXT,
  payment_intent TEXT,
  setup_intent TEXT,
  PRIMARY KEY (merchant_id, id)
) WITHOUT ROWID;
