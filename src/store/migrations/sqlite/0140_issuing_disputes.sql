-- Stripe Issuing disputes (api/issuing_authorizations.c): the merchant's disputes of its cards'
-- capture transactions, each a merchant's row; evidence is the JSON the object shows. A won
-- dispute's money back is the ledger's (an issuing_dispute balance transaction whose source is
-- the dispute). Never deleted.
CREATE TABLE issuing_disputes (
  merchant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  created INTEGER NOT NULL,
  transaction_id TEXT NOT NULL,
  amount INTEGER NOT NULL,
  currency TEXT NOT NULL,
  evidence TEXT NOT NULL,
  status TEXT NOT NULL,
  metadata TEXT NOT NULL,
  PRIMARY KEY (merchant_id, id)
) WITHOUT ROWID;
CREATE INDEX issuing_disputes_by_transaction ON issuing_disputes (merchant_id, transaction_id, id);
