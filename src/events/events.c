#include "events/events.h"

#include <string.h>

#include "events/pack.h"
#include "merchant/merchant.h"

static event_outbox_fn outbox_hook;

void event_set_outbox(event_outbox_fn fn)
{
	outbox_hook = fn;
}

static const char SQL_INSERT[] =
    "INSERT INTO events (merchant_id, id, created, type, object_id, data_object,"
    " previous_attributes, request_id, idempotency_key, pending_webhooks)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";

/* The SQLite store keeps objects packed (pack.h); PostgreSQL keeps them as JSON text. */
static int append(struct db *db, const char *merchant_id, const struct event_origin *origin,
		  const char *type, const char *object_id, const char *object_json,
		  size_t object_len, const struct buf *packed, const char *previous_attributes_json,
		  int64_t created, char ret_id[ID_MAX])
{
	char id[ID_MAX];
	id_new_at(id, "evt_", created);
	int pending = 0;
	if (outbox_hook) {
		pending = outbox_hook(db, merchant_id, id, type, origin ? origin->livemode : 0);
		if (pending < 0)
			return DB_ERR;
	}
	struct buf own = {0};
	bool pack = event_packs(db_kind(db));
	if (pack && !packed) {
		buf_init(&own, BUF_MAX_DEFAULT);
		/* one that cannot be packed (out of memory, or past what a reader unpacks) is kept
		 * as JSON text, which every reader takes as it is */
		if (event_pack(object_json, object_len, &own) == 0)
			packed = &own;
		else
			pack = false;
	}
	struct db_stmt *st = db_prepare(db, SQL_INSERT);
	if (!st) {
		buf_release(&own);
		return DB_ERR;
	}
	db_bind_text_ref(st, 1, merchant_id, -1);
	db_bind_text_ref(st, 2, id, -1);
	db_bind_int64(st, 3, created);
	db_bind_text_ref(st, 4, type, -1);
	db_bind_text_ref(st, 5, object_id, -1);
	if (pack)
		db_bind_blob(st, 6, packed->data, packed->len);
	else
		db_bind_text_ref(st, 6, object_json, (ptrdiff_t)object_len);
	db_bind_text_ref(st, 7, previous_attributes_json, -1);
	db_bind_text_ref(st, 8, origin ? origin->request_id : NULL, -1);
	db_bind_text_ref(st, 9, origin ? origin->idempotency_key : NULL, -1);
	db_bind_int64(st, 10, pending);
	int rc = db_step_done(st);
	buf_release(&own);
	if (rc == DB_OK)
		db_tally_event(db, type);
	if (rc == DB_OK && ret_id)
		memcpy(ret_id, id, ID_MAX);
	return rc;
}

int event_append(struct db *db, const char *merchant_id, const struct event_origin *origin,
		 const char *type, const char *object_id, const char *object_json,
		 size_t object_len, const char *previous_attributes_json, int64_t created,
		 char ret_id[ID_MAX])
{
	return append(db, merchant_id, origin, type, object_id, object_json, object_len, NULL,
		      previous_attributes_json, created, ret_id);
}

int event_append_packed(struct db *db, const char *merchant_id, const struct event_origin *origin,
			const char *type, const char *object_id, const char *object_json,
			size_t object_len, const struct buf *packed,
			const char *previous_attributes_json, int64_t created, char ret_id[ID_MAX])
{
	if (packed && (packed->failed || !event_is_packed(packed->data, packed->len)))
		packed = NULL;
	return append(db, merchant_id, origin, type, object_id, object_json, object_len, packed,
		      previous_attributes_json, created, ret_id);
}

static const char SQL_GET[] =
    "SELECT id, created, type, data_object, previous_attributes, request_id, idempotency_key,"
    " pending_webhooks FROM events WHERE merchant_id = $1 AND id = $2";

int event_render(struct db *db, const char *merchant_id, const char *id, struct json *j)
{
	/* A connected account's event names the account (Stripe's `account`), whoever reads it:
	 * the account through Stripe-Account, or its platform's connect endpoint. Stripe omits the
	 * field for a merchant's own events, so ordinary events stay as they were. The terms are
	 * cached (merchant.h): no SQL after a merchant's first event. A merchant the store does not
	 * know (a test's made-up id) has no platform. */
	struct merchant_terms t;
	int trc = merchant_terms_get(db, merchant_id, &t);
	if (trc != DB_OK && trc != DB_NOTFOUND)
		return trc;
	bool connected = trc == DB_OK && t.platform[0];
	struct db_stmt *st = db_prepare(db, SQL_GET);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, id, -1);
	int rc = db_step(st);
	if (rc != DB_ROW) {
		db_reset(st);
		return rc == DB_DONE ? DB_NOTFOUND : rc;
	}
	size_t n = 0;
	const char *raw = db_col_text(st, 3, &n);
	const char *obj = NULL;
	size_t obj_len = 0;
	struct buf scratch;
	buf_init(&scratch, BUF_MAX_DEFAULT);
	if (raw && event_unpack(raw, n, &scratch, &obj, &obj_len) != 0) {
		buf_release(&scratch);
		db_reset(st);
		return DB_ERR;
	}
	json_obj_open(j);
	json_kv_str(j, "id", db_col_text(st, 0, NULL));
	json_kv_str(j, "object", "event");
	if (connected)
		json_kv_str(j, "account", merchant_id);
	json_kv_str(j, "api_version", EVENT_API_VERSION);
	json_kv_int(j, "created", db_col_int64(st, 1));
	json_key(j, "data");
	json_obj_open(j);
	json_kv_raw(j, "object", obj ? obj : "{}", obj ? obj_len : 2);
	const char *prev = db_col_text(st, 4, &n);
	if (prev)
		json_kv_raw(j, "previous_attributes", prev, n);
	json_obj_close(j);
	json_kv_bool(j, "livemode", false);
	json_kv_int(j, "pending_webhooks", db_col_int64(st, 7));
	json_key(j, "request");
	json_obj_open(j);
	json_kv_str_or_null(j, "id", db_col_text(st, 5, NULL));
	json_kv_str_or_null(j, "idempotency_key", db_col_text(st, 6, NULL));
	json_obj_close(j);
	json_kv_str(j, "type", db_col_text(st, 2, NULL));
	json_obj_close(j);
	db_reset(st);
	buf_release(&scratch);
	return DB_OK;
}
