-- What a charge authorized and then released uncaptured (the rest of a partial capture, or the
-- whole of a canceled or refunded authorization). Stripe shows it as refunded: in the charge's
-- amount_refunded and `refunded`, and as a refund of its own. amount_refunded stays the money
-- refunded (what every bound and the acquirer's books compare); payments/charge.c renders the
-- sum. Older releases are read from the built-in acquirer's books; their refunds were never
-- made. A refund that stands for a release (moved no money, has no balance transaction) is
-- marked, so that checks of the money refunded leave it out.
ALTER TABLE charges ADD COLUMN amount_released INTEGER NOT NULL DEFAULT 0;
UPDATE charges SET amount_released = (SELECT MAX(h.amount - h.captured) FROM acquirer_holds h
  WHERE h.merchant_id = charges.merchant_id AND h.charge_id = charges.id AND h.released = 1)
  WHERE EXISTS (SELECT 1 FROM acquirer_holds h WHERE h.merchant_id = charges.merchant_id
  AND h.charge_id = charges.id AND h.released = 1 AND h.captured < h.amount);
ALTER TABLE refunds ADD COLUMN releases INTEGER NOT NULL DEFAULT 0;
