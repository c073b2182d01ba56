-- SetupIntents (/v1/setup_intents): a card checked and saved for later payments. One row per
-- intent, updated in place under its version (a confirmation checks the card outside the write
-- and refuses when the intent changed meanwhile); every state it reaches appends a
-- setup_intent.* event, which is the intent's history. Lists page by id (0021); the customer
-- and payment_method filters have partial indexes.
CREATE TABLE setup_intents (
  merchant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  created BIGINT NOT NULL,
  version BIGINT NOT NULL,
  status TEXT NOT NULL,
  client_secret TEXT NOT NULL,
  customer TEXT,
  description TEXT,
  metadata TEXT NOT NULL DEFAULT '{}',
  payment_method TEXT,
  usage TEXT NOT NULL,
  cancellation_reason TEXT,
  last_setup_error TEXT,
  next_action TEXT,
  return_url TEXT,
  three_d_secure_token TEXT,
  request_three_d_secure TEXT,
  checkout_session TEXT,
  PRIMARY KEY (merchant_id, id)
);
CREATE INDEX setup_intents_customer ON setup_intents (merchant_id, customer, id)
  WHERE customer IS NOT NULL;
CREATE INDEX setup_intents_payment_method ON setup_intents (merchant_id, payment_method, id)
  WHERE payment_method IS NOT NULL;
