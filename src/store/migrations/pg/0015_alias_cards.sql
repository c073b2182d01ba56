-- PostgreSQL port of migrations/sqlite/0015_alias_cards.sql.
-- A test alias's sealed card, once per merchant, alias and expiry. Every use of pm_card_visa is a
-- new PaymentMethod (as on Stripe), but the card behind it is Stripe's published number, the same
-- each time: the first use seals it (vault_cards) and records it here in the same transaction,
-- later uses point their PaymentMethod at it. The expiry is part of the key because an alias's
-- card carries "this month, next year": a new month seals a new card, so a stored alias card never
-- expires under a PaymentMethod created after it. The fingerprint is the card's (kept here so a
-- use reads one row).
CREATE TABLE vault_alias_cards (
  merchant_id TEXT NOT NULL,
  alias TEXT NOT NULL,
  exp_year BIGINT NOT NULL,
  exp_month BIGINT NOT NULL,
  card_id TEXT NOT NULL,
  fingerprint TEXT NOT NULL,
  PRIMARY KEY (merchant_id, alias, exp_year, exp_month)
);
