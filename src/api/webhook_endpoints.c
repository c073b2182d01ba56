/*
 * /v1/webhook_endpoints: create (the secret is shown only here), retrieve, update (url,
 * enabled_events, description, metadata, disabled), list, delete. Delivery lives in
 * src/webhooks/; this file only keeps the endpoint rows the outbox reads. URLs pass the syntax
 * rules and the SSRF target rule (webhooks.h) on create and on every url change; a merchant keeps
 * at most WEBHOOK_ENDPOINTS_MAX endpoints per mode, as Stripe does.
 *
 * connect (create only, as on Stripe): a platform's endpoint made with connect=true receives the
 * events of its connected accounts and none of its own; one without, only its own. Stripe's
 * webhook_endpoint object has no connect field (its spec defines `application`, the Connect
 * OAuth application, null here as Tender has none), so it is stored and not rendered. An
 * endpoint made with Stripe-Account belongs to the connected account, takes the account's own
 * events, and cannot be a connect endpoint: an account has no connected accounts of its own.
 */
#include <stdio.h>
#include <string.h>

#include "api/common.h"
#include "api/list.h"
#include "api/resources.h"
#include "core/str.h"
#include "events/events.h"
#include "http/form.h"
#include "webhooks/webhooks.h"

static const struct param_spec create_params[] = {
    {"url", PT_STRING, PF_REQUIRED, WEBHOOK_URL_MAX, NULL, NULL},
    {"enabled_events", PT_STRING_ARRAY, PF_REQUIRED, 0, NULL, NULL},
    {"description", PT_STRING, PF_EMPTYABLE, 5000, NULL, NULL},
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {"api_version", PT_STRING, 0, 64, NULL, NULL},
    {"connect", PT_BOOL, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec update_params[] = {
    {"url", PT_STRING, 0, WEBHOOK_URL_MAX, NULL, NULL},
    {"enabled_events", PT_STRING_ARRAY, 0, 0, NULL, NULL},
    {"description", PT_STRING, PF_EMPTYABLE, 5000, NULL, NULL},
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {"disabled", PT_BOOL, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec no_params[] = {{NULL, 0, 0, 0, NULL, NULL}};

struct endpoint {
	char id[ID_MAX];
	int64_t created;
	const char *url, *description, *enabled_events, *metadata, *api_version, *status, *secret;
	int deleted;
	int livemode;
	int connect; /* only written: see the top of the file */
};

static const char *dup(struct req *r, struct db_stmt *st, int col)
{
	const char *t = db_col_text(st, col, NULL);
	return t ? arena_strdup(&r->arena, t) : NULL;
}

static const char SQL_GET[] =
    "SELECT id, created, url, description, enabled_events, metadata, api_version, status, secret,"
    " deleted, livemode FROM webhook_endpoints WHERE merchant_id = $1 AND id = $2";

static int load(struct req *r, struct db *db, const char *id, struct endpoint *e)
{
	struct db_stmt *st = db_prepare(db, SQL_GET);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, id, -1);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		memset(e, 0, sizeof(*e));
		str_copy(e->id, sizeof(e->id), db_col_text(st, 0, NULL));
		e->created = db_col_int64(st, 1);
		e->url = dup(r, st, 2);
		e->description = dup(r, st, 3);
		e->enabled_events = dup(r, st, 4);
		e->metadata = dup(r, st, 5);
		e->api_version = dup(r, st, 6);
		e->status = dup(r, st, 7);
		e->secret = dup(r, st, 8);
		e->deleted = (int)db_col_int64(st, 9);
		e->livemode = db_col_int64(st, 10) != 0;
	}
	db_reset(st);
	if (rc == DB_ROW)
		return e->deleted ? DB_NOTFOUND : DB_OK;
	return rc == DB_DONE ? DB_NOTFOUND : rc;
}

static void render(const struct endpoint *e, bool with_secret, struct json *j)
{
	json_obj_open(j);
	json_kv_str(j, "id", e->id);
	json_kv_str(j, "object", "webhook_endpoint");
	json_kv_str_or_null(j, "api_version", e->api_version);
	json_kv_null(j, "application");
	json_kv_int(j, "created", e->created);
	json_kv_str_or_null(j, "description", e->description);
	json_kv_raw(j, "enabled_events", e->enabled_events, strlen(e->enabled_events));
	json_kv_bool(j, "livemode", e->livemode != 0);
	json_kv_raw(j, "metadata", e->metadata ? e->metadata : "{}",
		    strlen(e->metadata ? e->metadata : "{}"));
	if (with_secret)
		json_kv_str(j, "secret", e->secret);
	json_kv_str(j, "status", e->status);
	json_kv_str(j, "url", e->url);
	json_obj_close(j);
}

/* enabled_events[] → JSON array; every name must be a real event type or "*". */
static int events_from_params(struct req *r, const char **ret)
{
	const struct form_node *n = param_node(r, "enabled_events");
	if (!n)
		return 0;
	struct buf b;
	struct json j;
	buf_init(&b, 64 * 1024);
	json_init(&j, &b);
	json_arr_open(&j);
	int count = 0;
	for (const struct form_node *x = n->kind == FORM_SCALAR ? n : n->first_child; x;
	     x = n->kind == FORM_SCALAR ? NULL : x->next) {
		if (!webhook_event_type_known(x->value)) {
			buf_release(&b);
			return req_fail(
			    r, ERR_PARAM_BAD, "enabled_events",
			    "Invalid enabled_events: '%.100s' is not a valid event type.",
			    x->value);
		}
		json_str(&j, x->value);
		count++;
	}
	json_arr_close(&j);
	if (count == 0) {
		buf_release(&b);
		return req_fail(r, ERR_PARAM_MISSING, "enabled_events", "%s", "enabled_events");
	}
	*ret = arena_strdup(&r->arena, buf_cstr(&b));
	buf_release(&b);
	return 0;
}

static int check_url(struct req *r, const char *url)
{
	char err[256];
	if (webhook_url_check(url, err, sizeof(err)) != 0 ||
	    webhook_url_check_target(url, r->livemode, false, err, sizeof(err)) != 0)
		return req_fail(r, ERR_URL_INVALID, "url", "%s", err);
	/* Live endpoints may not point inside the network Tender runs in (SSRF); test mode allows
	 * loopback so local development works. Delivery checks the connected address again. */
	bool internal = false;
	if (r->livemode && (webhook_url_internal(url, &internal) != 0 || internal))
		return req_fail(
		    r, ERR_URL_INVALID, "url",
		    "Invalid URL: live webhook endpoints must resolve to public addresses.");
	return 0;
}

static const char SQL_COUNT[] =
    "SELECT COUNT(*) FROM webhook_endpoints WHERE merchant_id = $1 AND livemode = $2"
    " AND deleted = 0";

/* The outbox queues at most WEBHOOK_ENDPOINTS_MAX deliveries per event: never more endpoints. */
static int check_room(struct req *r, struct db *db)
{
	struct db_stmt *st = db_prepare(db, SQL_COUNT);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_int64(st, 2, r->livemode ? 1 : 0);
	int rc = db_step(st);
	int64_t n = rc == DB_ROW ? db_col_int64(st, 0) : -1;
	db_reset(st);
	if (n < 0)
		return req_fail(r, ERR_API, NULL, NULL);
	if (n >= WEBHOOK_ENDPOINTS_MAX)
		return req_fail(r, ERR_PARAM_BAD, NULL,
				"You have reached the maximum of %d %s webhook endpoints.",
				WEBHOOK_ENDPOINTS_MAX, r->livemode ? "live" : "test");
	return 0;
}

static const char SQL_INSERT[] =
    "INSERT INTO webhook_endpoints (merchant_id, id, created, url, description, enabled_events,"
    " metadata, api_version, status, secret, livemode, connect) VALUES ($1, $2, $3, $4, $5, $6,"
    " $7, $8, 'enabled', $9, $10, $11)";
static const char SQL_UPDATE[] =
    "UPDATE webhook_endpoints SET url = $3, description = $4, enabled_events = $5, metadata = $6,"
    " status = $7 WHERE merchant_id = $1 AND id = $2 AND deleted = 0";
static const char SQL_DELETE[] =
    "UPDATE webhook_endpoints SET deleted = 1, status = 'disabled' WHERE merchant_id = $1"
    " AND id = $2 AND deleted = 0";

struct ctx {
	struct req *r;
	const char *id;
	struct endpoint e;
};

static int create_fn(struct db *db, void *p)
{
	struct ctx *c = p;
	struct req *r = c->r;
	struct endpoint *e = &c->e;
	if (check_room(r, db) != 0)
		return -1;
	struct db_stmt *st = db_prepare(db, SQL_INSERT);
	webhooks_endpoints_changed(); /* what this write's events see */
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, e->id, -1);
	db_bind_int64(st, 3, e->created);
	db_bind_text(st, 4, e->url, -1);
	db_bind_text(st, 5, e->description, -1);
	db_bind_text(st, 6, e->enabled_events, -1);
	db_bind_text(st, 7, e->metadata, -1);
	db_bind_text(st, 8, e->api_version, -1);
	db_bind_text(st, 9, e->secret, -1);
	db_bind_int64(st, 10, r->livemode);
	db_bind_int64(st, 11, e->connect);
	if (db_step_done(st) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	render(e, true, req_json(r));
	return 0;
}

static int h_create(struct req *r)
{
	struct ctx c;
	memset(&c, 0, sizeof(c));
	c.r = r;
	struct endpoint *e = &c.e;
	e->url = param_str(r, "url");
	if (check_url(r, e->url) != 0 || events_from_params(r, &e->enabled_events) != 0)
		return -1;
	const char *d = param_str(r, "description");
	e->description = d && *d ? d : NULL;
	e->metadata = "{}";
	if (metadata_apply(r, NULL, "metadata", &e->metadata) != 0)
		return -1;
	e->api_version = param_str(r, "api_version");
	bool connect = false;
	if (param_bool(r, "connect", &connect) == 1 && connect && r->platform_id[0])
		return req_fail(
		    r, ERR_PARAM_BAD, "connect",
		    "A connected account cannot create a Connect webhook endpoint: it "
		    "has no connected accounts. Create it without Stripe-Account, as the "
		    "platform.");
	e->connect = connect ? 1 : 0;
	e->status = "enabled";
	e->livemode = r->livemode ? 1 : 0;
	id_new_at(e->id, "we_", r->now);
	e->created = r->now;
	char secret[40];
	id_random_base62(secret, 32);
	e->secret = arena_printf(&r->arena, "whsec_%s", secret);
	return req_write(r, create_fn, &c);
}

static int retrieve_fn(struct db *db, void *p)
{
	struct ctx *c = p;
	int rc = load(c->r, db, c->id, &c->e);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(c->r, "webhook_endpoint", c->id, "id");
	if (rc != DB_OK)
		return req_fail(c->r, ERR_API, NULL, NULL);
	render(&c->e, false, req_json(c->r));
	return 0;
}

static int h_retrieve(struct req *r)
{
	struct ctx c = {.r = r, .id = r->args[0]};
	return req_read(r, retrieve_fn, &c) == 0 ? 0 : -1;
}

static int update_fn(struct db *db, void *p)
{
	struct ctx *c = p;
	struct req *r = c->r;
	struct endpoint *e = &c->e;
	int rc = load(r, db, c->id, e);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(r, "webhook_endpoint", c->id, "id");
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	const char *url = param_str(r, "url");
	if (url) {
		if (check_url(r, url) != 0)
			return -1;
		e->url = url;
	}
	if (events_from_params(r, &e->enabled_events) != 0)
		return -1;
	e->description = str_update(r, "description", e->description);
	if (metadata_apply(r, e->metadata, "metadata", &e->metadata) != 0)
		return -1;
	bool disabled;
	if (param_bool(r, "disabled", &disabled) == 1)
		e->status = disabled ? "disabled" : "enabled";
	struct db_stmt *st = db_prepare(db, SQL_UPDATE);
	webhooks_endpoints_changed(); /* what this write's events see */
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, e->id, -1);
	db_bind_text(st, 3, e->url, -1);
	db_bind_text(st, 4, e->description, -1);
	db_bind_text(st, 5, e->enabled_events, -1);
	db_bind_text(st, 6, e->metadata, -1);
	db_bind_text(st, 7, e->status, -1);
	if (db_step_done(st) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	render(e, false, req_json(r));
	return 0;
}

static int h_update(struct req *r)
{
	struct ctx c = {.r = r, .id = r->args[0]};
	return req_write(r, update_fn, &c);
}

static int delete_fn(struct db *db, void *p)
{
	struct ctx *c = p;
	struct req *r = c->r;
	struct db_stmt *st = db_prepare(db, SQL_DELETE);
	webhooks_endpoints_changed(); /* what this write's events see */
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, c->id, -1);
	int rc = db_step(st);
	int64_t n = rc == DB_DONE ? db_changes(st) : 0;
	db_reset(st);
	if (n != 1)
		return req_fail_missing(r, "webhook_endpoint", c->id, "id");
	struct json *j = req_json(r);
	json_obj_open(j);
	json_kv_str(j, "id", c->id);
	json_kv_str(j, "object", "webhook_endpoint");
	json_kv_bool(j, "deleted", true);
	json_obj_close(j);
	return 0;
}

static int h_delete(struct req *r)
{
	struct ctx c = {.r = r, .id = r->args[0]};
	return req_write(r, delete_fn, &c);
}

static const char SQL_CURSOR[] =
    "SELECT created FROM webhook_endpoints WHERE merchant_id = $1 AND id = $2";
static const char SQL_DESC[] =
    "SELECT id FROM webhook_endpoints WHERE merchant_id = $1 AND deleted = 0 AND id > $2"
    " AND id < $3 ORDER BY id DESC LIMIT $4";
static const char SQL_ASC[] =
    "SELECT id FROM webhook_endpoints WHERE merchant_id = $1 AND deleted = 0 AND id > $2"
    " AND id < $3 ORDER BY id ASC LIMIT $4";

static int list_render(struct req *r, struct db *db, const char *id, struct json *j, void *ctx)
{
	struct endpoint e;
	int rc = load(r, db, id, &e);
	if (rc == DB_OK)
		render(&e, false, j);
	return rc;
}

static int h_list(struct req *r)
{
	static const struct list_spec spec = {
	    .url = "/v1/webhook_endpoints",
	    .object_name = "webhook_endpoint",
	    .id_prefix = "we_",
	    .sql_cursor = SQL_CURSOR,
	    .sql_desc = SQL_DESC,
	    .sql_asc = SQL_ASC,
	    .render = list_render,
	};
	return list_respond(r, &spec);
}

const struct route webhook_endpoints_routes[] = {
    {"POST", "/v1/webhook_endpoints", h_create, create_params, 0},
    {"GET", "/v1/webhook_endpoints", h_list, no_params, ROUTE_LIST},
    {"GET", "/v1/webhook_endpoints/{id}", h_retrieve, no_params, 0},
    {"POST", "/v1/webhook_endpoints/{id}", h_update, update_params, 0},
    {"DELETE", "/v1/webhook_endpoints/{id}", h_delete, no_params, 0},
    {NULL, NULL, NULL, NULL, 0},
};
