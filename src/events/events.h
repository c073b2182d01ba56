/*
 * Events: the append-only record of every state change (Stripe's /v1/events), and the outbox
 * that webhook delivery reads. event_append() must be called inside the write transaction that
 * made the change, with the object's JSON as it is after the change, so that an effect and its
 * event commit or vanish together.
 */
#ifndef TENDER_EVENTS_EVENTS_H
#define TENDER_EVENTS_EVENTS_H

#include <stddef.h>
#include <stdint.h>

#include "core/id.h"
#include "core/buf.h"
#include "core/json.h"
#include "store/db.h"

#define EVENT_API_VERSION "2023-08-16"

struct event_origin {
	const char *request_id;	     /* NULL for changes Tender made by itself (schedulers) */
	const char *idempotency_key; /* NULL when none */
	int livemode;
};

int event_append(struct db *db, const char *merchant_id, const struct event_origin *origin,
		 const char *type, const char *object_id, const char *object_json,
		 size_t object_len, const char *previous_attributes_json, int64_t created,
		 char ret_id[ID_MAX]);

/* event_append with the object already packed (event_pack, pack.h) by the caller, off the
 * writer's thread; the JSON is still given, for a store that keeps JSON text. A NULL or failed
 * packed is packed here. */
int event_append_packed(struct db *db, const char *merchant_id, const struct event_origin *origin,
			const char *type, const char *object_id, const char *object_json,
			size_t object_len, const struct buf *packed,
			const char *previous_attributes_json, int64_t created, char ret_id[ID_MAX]);

/* Renders the event with that id; DB_NOTFOUND when it does not exist for this merchant. */
int event_render(struct db *db, const char *merchant_id, const char *id, struct json *j);

/* Optional hook run by event_append inside the same transaction (the webhook outbox sets it). It
 * returns the number of deliveries it queued, stored as pending_webhooks, or < 0 to fail the
 * transaction. */
typedef int (*event_outbox_fn)(struct db *db, const char *merchant_id, const char *event_id,
			       const char *type, int livemode);
void event_set_outbox(event_outbox_fn fn);

#endif
