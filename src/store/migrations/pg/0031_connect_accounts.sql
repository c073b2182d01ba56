-- PostgreSQL port of migrations/sqlite/0036_connect_accounts.sql, and the shard rule of a
-- Connect family.
ALTER TABLE merchants ADD COLUMN platform TEXT;
CREATE INDEX merchants_platform ON merchants (platform) WHERE platform IS NOT NULL;

CREATE TABLE connected_accounts (
  merchant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  created BIGINT NOT NULL,
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
  cap_card_payments BIGINT,
  cap_transfers BIGINT,
  tos_date BIGINT,
  tos_ip TEXT,
  tos_user_agent TEXT,
  tos_service_agreement TEXT,
  deleted BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (merchant_id, id)
);

-- A connected account lives on its platform's shard, so that a transfer or a destination charge
-- between them is one transaction on one database. Its merchants row (inserted on shard 0, like
-- every merchant's) takes the platform's shard from shard_map instead of the emptiest one; the
-- platform's map row is read FOR SHARE so that a concurrent switch of it (a move) either commits
-- first and is seen, or waits for this insert. A platform missing from the map (it cannot be:
-- its row was made first) falls back to the usual choice. `tender shards rebalance` refuses to
-- move a platform with connected accounts, or a connected account (store_pg.c): a family moves
-- whole or not at all, and moving it together is future work.
CREATE OR REPLACE FUNCTION tender_assign_shard() RETURNS trigger LANGUAGE plpgsql AS $f$
DECLARE
  target INTEGER;
BEGIN
  IF (SELECT idx FROM shard_identity WHERE id = 1) IS DISTINCT FROM 0 THEN
    RETURN NEW;
  END IF;
  IF NEW.platform IS NOT NULL THEN
    SELECT m.shard INTO target FROM shard_map m WHERE m.merchant_id = NEW.platform FOR SHARE;
  END IF;
  IF target IS NULL THEN
    SELECT s.idx INTO target FROM shards s WHERE s.accepting = 1
      ORDER BY (SELECT count(*) FROM shard_map m WHERE m.shard = s.idx), s.idx LIMIT 1;
  END IF;
  INSERT INTO shard_map (merchant_id, shard, state, updated)
    VALUES (NEW.id, COALESCE(target, 0), 'new', NEW.created)
    ON CONFLICT (merchant_id) DO NOTHING;
  RETURN NEW;
END
$f$;
