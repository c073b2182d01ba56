-- PostgreSQL port of migrations/sqlite/0187_transfers_payment.sql: a transfer found from its
-- destination payment's id (py_…), which the connected account retrieves as a Charge.
CREATE INDEX transfers_destination_payment ON transfers (merchant_id, destination_payment);
