-- Stripe Terminal (api/terminal.c, api/terminal_readers.c): locations, readers and reader
-- configurations, each a merchant's row; a deleted one keeps its row (deleted = 1) so that its id
-- answers as deleted and is never reused. A reader's action is the JSON its `action` shows (NULL
-- until one is set); action_object is the PaymentIntent or SetupIntent it names (NULL for none),
-- which present_payment_method confirms. Connection tokens are not stored: nothing in Tender
-- redeems one. payment_methods.type 'card_present' is a card read by a reader (its number sealed
-- in the vault as any card's); generated_from is the card.generated_from JSON of a reusable card
-- PaymentMethod generated from one when a reader saved it (a SetupIntent), else NULL.
CREATE TABLE terminal_locations (
  merchant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  created INTEGER NOT NULL,
  display_name TEXT NOT NULL,
  address TEXT NOT NULL,
  configuration_overrides TEXT,
  metadata TEXT NOT NULL,
  deleted INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (merchant_id, id)
) WITHOUT ROWID;
CREATE TABLE terminal_readers (
  merchant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  created INTEGER NOT NULL,
  device_type TEXT NOT NULL,
  label TEXT NOT NULL,
  location TEXT,
  serial_number TEXT NOT NULL,
  metadata TEXT NOT NULL,
  action TEXT,
  action_object TEXT,
  deleted INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (merchant_id, id)
) WITHOUT ROWID;
CREATE TABLE terminal_configurations (
  merchant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  created INTEGER NOT NULL,
  bbpos_wisepos_e TEXT,
  verifone_p400 TEXT,
  tipping TEXT,
  deleted INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (merchant_id, id)
) WITHOUT ROWID;
ALTER TABLE payment_methods ADD COLUMN generated_from TEXT;
