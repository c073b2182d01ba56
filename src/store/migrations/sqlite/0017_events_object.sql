-- events_object (merchant_id, object_id) goes (issue 10): only `tender verify` read it, to find
-- objects without their event, and every event paid an insert into it (three per confirmed
-- payment; ~9 of the ~170 WAL frames of a group commit of ~21 confirms). Verify now asks
-- "(merchant_id, id) NOT IN (SELECT merchant_id, object_id FROM events WHERE type = ...)", which
-- SQLite answers by reading the events once into a temporary index (src/verify/verify.c).
DROP INDEX events_object;
