-- events is a WITHOUT ROWID table again (issue 10): one b-tree insert per event instead of two.
-- 0013 made it a rowid table because an event then kept its object as 1.1-1.7 KB of JSON, more
-- than SQLite keeps of a row on an index b-tree's page (~1,000 bytes of 4 KiB; the rest went to a
-- mostly empty overflow page). Objects have been packed since (events/pack.h): an event row is
-- now ~300 bytes (a packed object 140-230), and as a rowid table every event also paid an entry
-- in the primary key's separate index, three per confirmed payment, and that index's leaf pages
-- in every group commit's WAL frames. A rare large object (much metadata) overflows again, and
-- only that one.
CREATE TABLE events_0025 (
  merchant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  created INTEGER NOT NULL,
  type TEXT NOT NULL,
  object_id TEXT NOT NULL,
  data_object TEXT NOT NULL,
  previous_attributes TEXT,
  request_id TEXT,
  idempotency_key TEXT,
  pending_webhooks INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (merchant_id, id)
) WITHOUT ROWID;
INSERT INTO events_0025 (merchant_id, id, created, type, object_id, data_object,
  previous_attributes, request_id, idempotency_key, pending_webhooks)
  SELECT merchant_id, id, created, type, object_id, data_object, previous_attributes, request_id,
  idempotency_key, pending_webhooks FROM events ORDER BY merchant_id, id;
DROP TABLE events;
ALTER TABLE events_0025 RENAME TO events;
-- The copy takes ~0.7 s per 125,000 events on the benchmark machine (a store of 20 M events:
-- ~2 minutes, once, at the first start of this version).
