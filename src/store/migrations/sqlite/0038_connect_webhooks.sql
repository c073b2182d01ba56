-- Connect webhooks (src/webhooks/webhooks.c, webhooks_outbox).
--
-- webhook_endpoints.connect: 1 for a platform's endpoint made with connect=true, which receives
-- the events of the platform's connected accounts and none of the platform's own; 0 for every
-- other endpoint (its merchant's own events only). Fixed at creation, as on Stripe.
--
-- webhook_deliveries.event_merchant_id: the merchant whose event a delivery carries when that is
-- not the delivery's own merchant: a connected account's event queued for its platform's connect
-- endpoint. The delivery belongs to the platform (merchant_id, with the endpoint and its secret);
-- the event, its pending_webhooks and its rendering stay the account's. NULL: the same merchant
-- (every delivery made before this migration, and every ordinary one). Both merchants live on
-- one shard (a Connect family never splits, 0036), so this never points across databases.
ALTER TABLE webhook_endpoints ADD COLUMN connect INTEGER NOT NULL DEFAULT 0;
ALTER TABLE webhook_deliveries ADD COLUMN event_merchant_id TEXT;
