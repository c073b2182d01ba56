-- PostgreSQL port of migrations/sqlite/0001_core.sql: the same tables; INTEGER is BIGINT, BLOB is BYTEA.
-- Core schema: merchants and their API keys, idempotency records, events, customers.
-- Every merchant-owned table leads with merchant_id in its primary key: a lookup without the
-- merchant cannot use the key, and the store API always binds it.

CREATE TABLE merchants (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  settlement_currency TEXT NOT NULL,
  fee_percent_bps BIGINT NOT NULL DEFAULT 290,
  fee_fixed_minor BIGINT NOT NULL DEFAULT 30,
  created BIGINT NOT NULL
);

-- API keys are stored only as SHA-256 hashes: they are 32 random base62 characters (~190 bits),
-- so a fast hash is not guessable, and a stolen database yields no usable key.
CREATE TABLE api_keys (
  key_hash TEXT PRIMARY KEY,
  merchant_id TEXT NOT NULL REFERENCES merchants(id),
  kind TEXT NOT NULL CHECK (kind IN ('secret', 'publishable')),
  livemode BIGINT NOT NULL DEFAULT 0,
  display TEXT NOT NULL,
  created BIGINT NOT NULL,
  revoked BIGINT
);
CREATE INDEX api_keys_merchant ON api_keys (merchant_id);

-- The saved first result of every keyed POST. Written in the same transaction as the effects.
CREATE TABLE idempotency_keys (
  merchant_id TEXT NOT NULL,
  livemode BIGINT NOT NULL,
  idem_key TEXT NOT NULL,
  request_hash TEXT NOT NULL,
  request_id TEXT NOT NULL,
  status BIGINT NOT NULL,
  body TEXT NOT NULL,
  object_id TEXT,
  created BIGINT NOT NULL,
  PRIMARY KEY (merchant_id, livemode, idem_key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created);

-- Events: an append-only log of every state change, written in the transaction that made it.
-- data_object is the object's JSON as it was right after the change.
CREATE TABLE events (
  merchant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  created BIGINT NOT NULL,
  type TEXT NOT NULL,
  object_id TEXT NOT NULL,
  data_object TEXT NOT NULL,
  previous_attributes TEXT,
  request_id TEXT,
  idempotency_key TEXT,
  pending_webhooks BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (merchant_id, id)
);
CREATE INDEX events_list ON events (merchant_id, created DESC, id DESC);
CREATE INDEX events_object ON events (merchant_id, object_id);

CREATE TABLE customers (
  merchant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  created BIGINT NOT NULL,
  email TEXT,
  name TEXT,
  description TEXT,
  phone TEXT,
  address TEXT,
  shipping TEXT,
  metadata TEXT NOT NULL DEFAULT '{}',
  balance BIGINT NOT NULL DEFAULT 0,
  currency TEXT,
  invoice_prefix TEXT NOT NULL,
  preferred_locales TEXT NOT NULL DEFAULT '[]',
  tax_exempt TEXT NOT NULL DEFAULT 'none',
  default_payment_method TEXT,
  deleted BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (merchant_id, id)
);
CREATE INDEX customers_list ON customers (merchant_id, created DESC, id DESC);
CREATE INDEX customers_email ON customers (merchant_id, email);

-- ---- PostgreSQL only: sharding (see src/store/store_pg.c) ----
-- Every shard carries these tables; which rows matter where:
--   shard_identity  every shard: its own index, written at the first start, checked at every
--                   start so a node given its --database-url flags in another order refuses.
--   shards          shard 0: the shards that exist; new merchants go to an accepting one.
--   shard_map       shard 0: merchant -> shard. 'new' until the merchant's home shard holds its
--                   residency row and its copy of the merchants row, then 'ready'.
--   shard_residents every shard: the merchants living there. 'resident' accepts writes;
--                   'moving' is frozen by `tender shards rebalance` while its rows are copied;
--                   'moved' is the tombstone left once they are deleted (it keeps a late
--                   "make ready" from resurrecting the merchant on a shard it left).
-- merchants and api_keys are authoritative on shard 0 (authentication, listing); a merchant's
-- home shard holds a copy of its merchants row, so payments read fees and names in their own
-- transaction.
CREATE TABLE shard_identity (
  id BIGINT PRIMARY KEY CHECK (id = 1),
  idx INTEGER NOT NULL,
  created BIGINT NOT NULL
);

CREATE TABLE shards (
  idx INTEGER PRIMARY KEY,
  accepting INTEGER NOT NULL DEFAULT 1,
  created BIGINT NOT NULL
);

CREATE TABLE shard_map (
  merchant_id TEXT PRIMARY KEY,
  shard INTEGER NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('new', 'ready')),
  updated BIGINT NOT NULL
);
CREATE INDEX shard_map_shard ON shard_map (shard);
CREATE INDEX shard_map_new ON shard_map (merchant_id) WHERE state = 'new';

CREATE TABLE shard_residents (
  merchant_id TEXT PRIMARY KEY,
  state TEXT NOT NULL CHECK (state IN ('resident', 'moving', 'moved')),
  moving_to INTEGER,
  updated BIGINT NOT NULL
);

-- A merchant's shard is chosen in the transaction that creates it (on shard 0 only): the
-- accepting shard with the fewest merchants.
CREATE FUNCTION tender_assign_shard() RETURNS trigger LANGUAGE plpgsql AS $f$
DECLARE
  target INTEGER;
BEGIN
  IF (SELECT idx FROM shard_identity WHERE id = 1) IS DISTINCT FROM 0 THEN
    RETURN NEW;
  END IF;
  SELECT s.idx INTO target FROM shards s WHERE s.accepting = 1
    ORDER BY (SELECT count(*) FROM shard_map m WHERE m.shard = s.idx), s.idx LIMIT 1;
  INSERT INTO shard_map (merchant_id, shard, state, updated)
    VALUES (NEW.id, COALESCE(target, 0), 'new', NEW.created)
    ON CONFLICT (merchant_id) DO NOTHING;
  RETURN NEW;
END
$f$;
CREATE TRIGGER merchants_assign_shard AFTER INSERT ON merchants
  FOR EACH ROW EXECUTE FUNCTION tender_assign_shard();

-- Moving a merchant: every row of every table with a merchant_id column (found in the catalog,
-- so tables added by later migrations move too), its merchants row, and the vault data keys its
-- cards are sealed under (imported as 'retired': readable, never chosen to seal).
-- Global tables never move: api_keys, and the sharding tables themselves.
CREATE FUNCTION tender_merchant_tables() RETURNS SETOF TEXT LANGUAGE sql STABLE AS $f$
  SELECT c.table_name::text FROM information_schema.columns c
    JOIN information_schema.tables t
      ON t.table_schema = c.table_schema AND t.table_name = c.table_name
   WHERE c.table_schema = current_schema() AND c.column_name = 'merchant_id'
     AND t.table_type = 'BASE TABLE'
     AND c.table_name NOT IN ('api_keys', 'shard_map', 'shard_residents')
   ORDER BY 1
$f$;

CREATE FUNCTION tender_export_merchant(mid TEXT) RETURNS TABLE (tbl TEXT, data TEXT)
LANGUAGE plpgsql STABLE AS $f$
DECLARE
  t TEXT;
BEGIN
  RETURN QUERY SELECT 'merchants'::text, to_jsonb(m)::text FROM merchants m WHERE m.id = mid;
  IF to_regclass('vault_data_keys') IS NOT NULL AND to_regclass('vault_cards') IS NOT NULL THEN
    RETURN QUERY EXECUTE
      'SELECT ''vault_data_keys''::text, (to_jsonb(k) || ''{"state":"retired"}''::jsonb)::text'
      ' FROM vault_data_keys k WHERE k.id IN'
      ' (SELECT data_key_id FROM vault_cards WHERE merchant_id = $1)' USING mid;
  END IF;
  FOR t IN SELECT * FROM tender_merchant_tables() LOOP
    RETURN QUERY EXECUTE format('SELECT %L::text, to_jsonb(x)::text FROM %I x'
                                ' WHERE x.merchant_id = $1', t, t) USING mid;
  END LOOP;
END
$f$;

CREATE FUNCTION tender_import_row(tbl TEXT, data TEXT) RETURNS VOID LANGUAGE plpgsql AS $f$
BEGIN
  IF tbl NOT IN ('merchants', 'vault_data_keys')
     AND tbl NOT IN (SELECT * FROM tender_merchant_tables()) THEN
    RAISE EXCEPTION 'tender_import_row: % is not a merchant table', tbl;
  END IF;
  EXECUTE format('INSERT INTO %I SELECT * FROM jsonb_populate_record(NULL::%I, $1::jsonb)'
                 ' ON CONFLICT DO NOTHING', tbl, tbl) USING data;
END
$f$;

-- Deletes a merchant's rows from this shard (not api_keys; its merchants row only when asked).
CREATE FUNCTION tender_delete_merchant(mid TEXT, drop_merchant_row INTEGER) RETURNS BIGINT
LANGUAGE plpgsql AS $f$
DECLARE
  t TEXT;
  n BIGINT;
  total BIGINT := 0;
BEGIN
  FOR t IN SELECT * FROM tender_merchant_tables() LOOP
    EXECUTE format('DELETE FROM %I WHERE merchant_id = $1', t) USING mid;
    GET DIAGNOSTICS n = ROW_COUNT;
    total := total + n;
  END LOOP;
  IF drop_merchant_row = 1 THEN
    DELETE FROM merchants WHERE id = mid;
  END IF;
  RETURN total;
END
$f$;
