-- Stripe Identity (api/identity.c, api/identity_page.c): verification sessions and the reports
-- their hosted page makes.
--
-- A session's url and client_secret are derived from the vault's page key (vault_page_token of
-- the session id and link_gen), never stored: link_gen counts the hosted page links used up (a
-- link works once, as Stripe's url does; opening it moves link_gen on, so a retrieve shows a
-- fresh one). form_hash is the SHA-256 of the one-time value the opened page's form must post
-- back, form_opened_at when it was handed out. options, provided_details, verified_outputs and
-- metadata are JSON text; related_customer the customer (cus_…) the merchant named; verified_outputs holds no date of birth and no id number (those are
-- sealed in vault_identity, under the report's id).
CREATE TABLE identity_verification_sessions (
  merchant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  created INTEGER NOT NULL,
  type TEXT NOT NULL,
  status TEXT NOT NULL,
  client_reference_id TEXT,
  related_customer TEXT,
  return_url TEXT,
  options TEXT NOT NULL,
  provided_details TEXT,
  metadata TEXT NOT NULL DEFAULT '{}',
  last_error_code TEXT,
  last_error_reason TEXT,
  last_report TEXT,
  verified_outputs TEXT,
  redaction_status TEXT,
  link_gen INTEGER NOT NULL DEFAULT 0,
  form_hash TEXT,
  form_opened_at INTEGER,
  PRIMARY KEY (merchant_id, id)
) WITHOUT ROWID;

-- A verification report: one per submission of a session's hosted page. document, id_number and
-- selfie are the checks' JSON (NULL: not run) without the date of birth, the document number or
-- the id number, which are sealed in vault_identity under the report's id when the check read
-- them (sealed = 1). redacted = 1 once its session was redacted (the sealed row is gone then).
CREATE TABLE identity_verification_reports (
  merchant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  created INTEGER NOT NULL,
  verification_session TEXT NOT NULL,
  type TEXT NOT NULL,
  client_reference_id TEXT,
  options TEXT NOT NULL,
  document TEXT,
  id_number TEXT,
  selfie TEXT,
  sealed INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (merchant_id, id)
) WITHOUT ROWID;
CREATE INDEX identity_verification_reports_session
  ON identity_verification_reports (merchant_id, verification_session, id);

-- The personal data of a verification report (date of birth, document and id numbers) as JSON,
-- sealed by the vault as IBANs are (AES-256-GCM under the shard's data key, the AAD binding
-- merchant and report id). Deleted when the session is redacted.
CREATE TABLE vault_identity (
  merchant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  data_key_id TEXT NOT NULL,
  sealed BLOB NOT NULL,
  created INTEGER NOT NULL,
  PRIMARY KEY (merchant_id, id)
) WITHOUT ROWID;
