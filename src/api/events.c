/* GET /v1/events (type, types[] filters) and GET /v1/events/{id}. */
#include <stdbool.h>
#include <string.h>

#include "api/list.h"
#include "api/resources.h"
#include "events/events.h"
#include "http/form.h"

static const struct param_spec no_params[] = {{NULL, 0, 0, 0, NULL, NULL}};
static const struct param_spec list_params[] = {
    {"type", PT_STRING, 0, 200, NULL, NULL},
    {"types", PT_STRING_ARRAY, 0, 200, NULL, NULL},
    {"delivery_success", PT_BOOL, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};

struct read_ctx {
	struct req *r;
	const char *id;
};

static int retrieve_fn(struct db *db, void *p)
{
	struct read_ctx *x = p;
	int rc = event_render(db, x->r->merchant_id, x->id, req_json(x->r));
	if (rc == DB_NOTFOUND)
		return req_fail_missing(x->r, "event", x->id, "id");
	return rc == DB_OK ? 0 : req_fail(x->r, ERR_API, NULL, NULL);
}

static int h_retrieve(struct req *r)
{
	struct read_ctx x = {r, r->args[0]};
	return req_read(r, retrieve_fn, &x) == 0 ? 0 : -1;
}

/* `type` may end in ".*" (Stripe's wildcard): "charge.*" matches every charge event; it becomes
 * a LIKE prefix with the wildcard characters of the rest escaped. `types[]` names up to 20 exact
 * types, in the 20 slots of the IN list (the unused ones NULL); Stripe takes one or the other.
 * `delivery_success`: true, every webhook of the event was delivered (none pending, none given
 * up on; an event no endpoint wanted counts as delivered); false, one is still pending or has
 * failed all its attempts. A connected account's event may also have gone to its platform's
 * connect endpoints, whose deliveries are the platform's rows naming the account
 * (event_merchant_id): both are looked up through webhook_deliveries_event. */
#define TYPES_MAX 20
#define TYPES_FILTER                                                                               \
	" AND ($5 IS NULL OR type = $5) AND ($6 IS NULL OR type LIKE $6 ESCAPE '\\')"              \
	" AND ($7 IS NULL OR type IN ($7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18,"    \
	" $19, $20, $21, $22, $23, $24, $25, $26))"                                                \
	" AND ($27 IS NULL OR $27 = CASE WHEN pending_webhooks = 0 AND NOT EXISTS ("               \
	" SELECT 1 FROM webhook_deliveries d WHERE d.merchant_id IN ($1,"                          \
	" (SELECT platform FROM merchants WHERE id = $1)) AND d.event_id = events.id"              \
	" AND COALESCE(d.event_merchant_id, d.merchant_id) = $1 AND d.status = 'failed')"          \
	" THEN 1 ELSE 0 END)"
static const char SQL_CURSOR[] = "SELECT created FROM events WHERE merchant_id = $1 AND id = $2";
static const char SQL_DESC[] =
    "SELECT id FROM events WHERE merchant_id = $1 AND id > $2 AND id < $3" TYPES_FILTER
    " ORDER BY id DESC LIMIT $4";
static const char SQL_ASC[] =
    "SELECT id FROM events WHERE merchant_id = $1 AND id > $2 AND id < $3" TYPES_FILTER
    " ORDER BY id ASC LIMIT $4";

static int bind_types(struct req *r, struct db_stmt *st, int first)
{
	const struct form_node *ts = param_node(r, "types");
	int n = 0;
	if (ts) {
		if (param_str(r, "type"))
			return req_fail(r, ERR_PARAM_BAD, "types",
					"You may pass either `type` or `types`, but not both.");
		for (const struct form_node *x = ts->kind == FORM_SCALAR ? ts : ts->first_child; x;
		     x = ts->kind == FORM_SCALAR ? NULL : x->next) {
			if (n == TYPES_MAX)
				return req_fail(r, ERR_PARAM_BAD, "types",
						"At most %d types can be given.", TYPES_MAX);
			db_bind_text(st, first + n, x->value, -1);
			n++;
		}
	}
	for (; n < TYPES_MAX; n++)
		db_bind_null(st, first + n);
	return 0;
}

static int bind_filters(struct req *r, struct db_stmt *st, int first, void *ctx)
{
	if (bind_types(r, st, first + 2) != 0)
		return -1;
	bool delivered;
	if (param_bool(r, "delivery_success", &delivered))
		db_bind_int64(st, first + 2 + TYPES_MAX, delivered ? 1 : 0);
	else
		db_bind_null(st, first + 2 + TYPES_MAX);
	const char *type = param_str(r, "type");
	if (!type || !*type) {
		db_bind_null(st, first);
		db_bind_null(st, first + 1);
		return 0;
	}
	size_t n = strlen(type);
	if (n >= 2 && strcmp(type + n - 2, ".*") == 0) {
		struct buf b;
		buf_init(&b, 1024);
		for (size_t i = 0; i + 1 < n; i++) {
			if (type[i] == '%' || type[i] == '_' || type[i] == '\\')
				buf_putc(&b, '\\');
			buf_putc(&b, type[i]);
		}
		buf_putc(&b, '%');
		db_bind_null(st, first);
		db_bind_text(st, first + 1, buf_cstr(&b), -1);
		buf_release(&b);
		return 0;
	}
	db_bind_text(st, first, type, -1);
	db_bind_null(st, first + 1);
	return 0;
}

static int render(struct req *r, struct db *db, const char *id, struct json *j, void *ctx)
{
	return event_render(db, r->merchant_id, id, j);
}

static int h_list(struct req *r)
{
	static const struct list_spec spec = {
	    .url = "/v1/events",
	    .object_name = "event",
	    .id_prefix = "evt_",
	    .sql_cursor = SQL_CURSOR,
	    .sql_desc = SQL_DESC,
	    .sql_asc = SQL_ASC,
	    .bind_filters = bind_filters,
	    .render = render,
	};
	return list_respond(r, &spec);
}

const struct route events_routes[] = {
    {"GET", "/v1/events", h_list, list_params, ROUTE_LIST},
    {"GET", "/v1/events/{id}", h_retrieve, no_params, 0},
    {NULL, NULL, NULL, NULL, 0},
};
