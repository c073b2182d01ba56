-- events_object (merchant_id, object_id) goes (issue 10): only `tender verify` read it, to find
-- objects without their event, and every event paid an insert into it (three per confirmed
-- payment). PostgreSQL answers verify's NOT EXISTS checks with a hash anti-join over events
-- instead (src/verify/verify.c).
DROP INDEX events_object;
