-- An idempotency record whose answer is the object of an event appended by the same request (a
-- confirmed PaymentIntent is payment_intent.succeeded's) names that event instead of keeping a
-- second copy of the body (issue 10): ~1.1 KB less to write per payment. body is then ''.
ALTER TABLE idempotency_keys ADD COLUMN body_event TEXT;
