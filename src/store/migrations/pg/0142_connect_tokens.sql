-- PostgreSQL port of migrations/sqlite/0147_connect_tokens.sql.
-- Connect's tokens (api/connect_tokens.c): account tokens (ct_), person tokens (cpt_) and PII
-- tokens (pii_) of POST /v1/tokens, each a platform's row. `data` holds the token's parameters
-- form-encoded (account[…] or person[…]) exactly as validated when the token was made, with the
-- identity numbers and a company's tax id left out: as for persons and accounts, only that one
-- was provided is kept (the *_provided columns). A token is used once: a conditional update of
-- `used` in the write that applies it.
CREATE TABLE connect_tokens (
  merchant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  type TEXT NOT NULL,
  created BIGINT NOT NULL,
  client_ip TEXT,
  data TEXT NOT NULL,
  id_number_provided INTEGER NOT NULL DEFAULT 0,
  ssn_last_4_provided INTEGER NOT NULL DEFAULT 0,
  tax_id_provided INTEGER NOT NULL DEFAULT 0,
  id_number_secondary_provided INTEGER NOT NULL DEFAULT 0,
  used INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (merchant_id, id)
);
