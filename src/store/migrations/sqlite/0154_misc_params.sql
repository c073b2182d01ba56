-- Parameters of existing routes (the misc sweep). Shipping rates (api/shipping_rates.c):
-- tax_code, a tax code id, and currency_options, the fixed amount in other currencies as one
-- JSON object {"eur":{"amount":…,"tax_behavior":…},…}; NULL: none.
ALTER TABLE shipping_rates ADD COLUMN tax_code TEXT;
ALTER TABLE shipping_rates ADD COLUMN currency_options TEXT;
-- External accounts (api/external_accounts.c): what an update sets beyond the columns (a
-- card's name and address_*, a bank account's account_type and documents' file ids) as one
-- JSON object; NULL: nothing.
ALTER TABLE external_accounts ADD COLUMN extra TEXT;
-- Connected accounts (api/accounts.c): documents[…][files] an update gave, {kind: [file, …]}
-- (checked and kept; Stripe's account object shows none).
ALTER TABLE connected_accounts ADD COLUMN documents TEXT;
-- cvc_update tokens (api/tokens.c): that a CVC was given, never the CVC; used once by a
-- PaymentIntent's confirmation (payment_method_options[card][cvc_token]).
CREATE TABLE cvc_tokens (
  merchant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  created INTEGER NOT NULL,
  client_ip TEXT,
  used INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (merchant_id, id)
) WITHOUT ROWID;
