-- Stripe Connect: connected accounts (src/api/accounts.c, src/merchant/connect.c).
--
-- A connected account is a merchant like any other (its own payments, balance, idempotency
-- keys, events), reached through its platform's key and the Stripe-Account header; it has no
-- API keys of its own. merchants.platform names its platform, NULL for an ordinary merchant.
-- The merchants row stays immutable once created (the key and terms caches of merchant.c keep
-- it), so platform is set at the insert and never changed.
ALTER TABLE merchants ADD COLUMN platform TEXT;
CREATE INDEX merchants_platform ON merchants (platform) WHERE platform IS NOT NULL;

-- The platform's view of the account: what POST /v1/accounts/{id} may change, and the deleted
-- flag (a deleted account is refused in Stripe-Account and by connect_account_check). merchant_id
-- is the PLATFORM's id, so every query is scoped by the platform, and the rows live on the
-- platform's shard (PostgreSQL). The account's id is made for its created second (id_new_at),
-- so lists page by id (0021). business_profile, tos_acceptance and the requested capabilities
-- are columns: updates merge field by field and previous_attributes name the old values.
-- cap_*: NULL not requested, 0 requested false, 1 requested true.
CREATE TABLE connected_accounts (
  merchant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  created INTEGER NOT NULL,
  type TEXT NOT NULL,
  country TEXT NOT NULL,
  email TEXT,
  business_type TEXT,
  default_currency TEXT NOT NULL,
  metadata TEXT NOT NULL DEFAULT '{}',
  bp_name TEXT,
  bp_url TEXT,
  bp_mcc TEXT,
  bp_product_description TEXT,
  bp_support_email TEXT,
  bp_support_phone TEXT,
  bp_support_url TEXT,
  cap_card_payments INTEGER,
  cap_transfers INTEGER,
  tos_date INTEGER,
  tos_ip TEXT,
  tos_user_agent TEXT,
  tos_service_agreement TEXT,
  deleted INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (merchant_id, id)
) WITHOUT ROWID;
