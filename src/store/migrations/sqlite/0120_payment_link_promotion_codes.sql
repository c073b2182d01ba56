-- A payment link's allow_promotion_codes (create, update): each session the link opens takes the
-- flag, so its page offers the promotion code field. Written and read by api/payment_links.c.
ALTER TABLE payment_links ADD COLUMN allow_promotion_codes INTEGER NOT NULL DEFAULT 0;
