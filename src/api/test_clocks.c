/*
 * /v1/test_helpers/test_clocks: create, retrieve, list, delete, advance.
 *
 * A test clock is a time of its own: customers created with test_clock=clock_… bill their
 * subscriptions on it (subscriptions.c), and nothing of theirs happens until the clock is
 * advanced. Advancing is asynchronous, as on Stripe: POST …/advance only records the target
 * time and answers with status `advancing`; the scheduler (subscriptions_tick) then runs,
 * one step at a time and in time order, everything those subscriptions had due up to the
 * target (renewal invoices and their payments, retries, expiries, cancellations), each step in
 * its own transaction at the step's own time, and when nothing is left due it moves
 * frozen_time to the target and the status to `ready` (test_helpers.test_clock.ready). A client
 * polls the clock until it is ready, as Stripe's documentation says to. While it advances, the
 * clock's customers cannot get new subscriptions or change theirs.
 *
 * Bounds (Stripe's): at most 3 customers per clock, an advance of at most two years at once.
 */
#include <stdio.h>
#include <string.h>

#include "api/billing_internal.h"
#include "api/common.h"
#include "api/list.h"
#include "api/resources.h"
#include "core/clock.h"
#include "core/str.h"
#include "events/events.h"

#define CLOCK_CUSTOMERS_MAX 3
#define CLOCK_ADVANCE_MAX_S (2 * 366 * 86400LL)
#define CLOCK_LIFETIME_S (30 * 86400LL) /* deletes_after (shown; Tender keeps the clock) */

static const char SQL_GET[] =
    "SELECT id, created, frozen_time, target_time, name, status, deleted FROM test_clocks"
    " WHERE merchant_id = $1 AND id = $2";
static const char SQL_INSERT[] =
    "INSERT INTO test_clocks (merchant_id, id, created, frozen_time, target_time, name, status,"
    " deleted) VALUES ($1, $2, $3, $4, $4, $5, 'ready', 0)";
/* only a ready clock starts advancing: two advances at once cannot both start */
static const char SQL_ADVANCE[] =
    "UPDATE test_clocks SET status = 'advancing', target_time = $3 WHERE merchant_id = $1"
    " AND id = $2 AND status = 'ready' AND deleted = 0";
static const char SQL_READY[] =
    "UPDATE test_clocks SET status = 'ready', frozen_time = target_time WHERE merchant_id = $1"
    " AND id = $2 AND status = 'advancing' AND target_time = $3";
static const char SQL_DELETE[] =
    "UPDATE test_clocks SET deleted = 1 WHERE merchant_id = $1 AND id = $2 AND deleted = 0";
static const char SQL_CUSTOMERS[] =
    "SELECT id FROM customers WHERE merchant_id = $1 AND test_clock = $2 AND deleted = 0"
    " ORDER BY id LIMIT $3";
static const char SQL_CUSTOMER_DELETE[] =
    "UPDATE customers SET deleted = 1 WHERE merchant_id = $1 AND id = $2 AND deleted = 0";

int test_clock_load(struct req *r, struct db *db, const char *id, struct test_clock *c)
{
	struct db_stmt *st = db_prepare(db, SQL_GET);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, id, -1);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		memset(c, 0, sizeof(*c));
		str_copy(c->id, sizeof(c->id), db_col_text(st, 0, NULL));
		c->created = db_col_int64(st, 1);
		c->frozen_time = db_col_int64(st, 2);
		c->target_time = db_col_int64(st, 3);
		c->name = col_text_dup(&r->arena, st, 4);
		c->status = col_text_dup(&r->arena, st, 5);
		c->deleted = db_col_int64(st, 6) != 0;
		if (!c->status)
			rc = DB_ERR;
	}
	db_reset(st);
	if (rc == DB_ROW)
		return DB_OK;
	return rc == DB_DONE ? DB_NOTFOUND : rc < 0 ? rc : DB_ERR;
}

int billing_now(struct req *r, struct db *db, const char *clock, int64_t *ret)
{
	if (!clock) {
		*ret = r->now;
		return 0;
	}
	struct test_clock c;
	if (test_clock_load(r, db, clock, &c) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	*ret = strcmp(c.status, "advancing") == 0 ? r->now : c.frozen_time;
	return 0;
}

static void clock_render(const struct test_clock *c, struct json *j)
{
	json_obj_open(j);
	json_kv_str(j, "id", c->id);
	json_kv_str(j, "object", "test_helpers.test_clock");
	if (c->deleted) {
		json_kv_bool(j, "deleted", true);
		json_obj_close(j);
		return;
	}
	json_kv_int(j, "created", c->created);
	json_kv_int(j, "deletes_after", c->created + CLOCK_LIFETIME_S);
	json_kv_int(j, "frozen_time", c->frozen_time);
	json_kv_bool(j, "livemode", false);
	json_kv_str_or_null(j, "name", c->name);
	json_kv_str(j, "status", c->status);
	json_key(j, "status_details");
	json_obj_open(j);
	if (strcmp(c->status, "advancing") == 0) {
		json_key(j, "advancing");
		json_obj_open(j);
		json_kv_int(j, "target_frozen_time", c->target_time);
		json_obj_close(j);
	}
	json_obj_close(j);
	json_obj_close(j);
}

/* The event, and the same JSON as the answer when `answer`. */
static int clock_emit(struct req *r, struct db *db, const struct test_clock *c, const char *type,
		      bool answer)
{
	struct buf b;
	struct json j;
	buf_init(&b, 64 * 1024);
	json_init(&j, &b);
	clock_render(c, &j);
	const char *js;
	size_t len;
	char ev[ID_MAX];
	if (api_event_append(r, db, type, c->id, &b, NULL, &js, &len, ev) != 0)
		return -1;
	return answer ? req_answer_event(r, ev, js, len) : 0;
}

int test_clock_take_customer(struct req *r, struct db *db, const char *clock)
{
	struct test_clock c;
	int rc = test_clock_load(r, db, clock, &c);
	if (rc == DB_NOTFOUND || (rc == DB_OK && c.deleted))
		return req_fail_missing(r, "test_clock", clock, "test_clock");
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (strcmp(c.status, "ready") != 0)
		return req_fail(r, ERR_INVALID_STATE, "test_clock",
				"Test clock %s is advancing: wait until it is ready.", clock);
	struct db_stmt *st = db_prepare(db, SQL_CUSTOMERS);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, clock, -1);
	db_bind_int64(st, 3, CLOCK_CUSTOMERS_MAX);
	int n = 0;
	while (db_step(st) == DB_ROW)
		n++;
	db_reset(st);
	if (n >= CLOCK_CUSTOMERS_MAX)
		return req_fail(r, ERR_PARAM_BAD, "test_clock",
				"A test clock can have at most %d customers.", CLOCK_CUSTOMERS_MAX);
	return 0;
}

/* ---- handlers ---- */

struct clock_ctx {
	struct req *r;
	const char *id;
	struct test_clock c;
	/* advance: the requested frozen_time, kept apart from c, which every run of the write
	 * loads afresh (a callback may run again: store.h) */
	int64_t target;
};

static int create_fn(struct db *db, void *p)
{
	struct clock_ctx *x = p;
	struct req *r = x->r;
	struct db_stmt *st = db_prepare(db, SQL_INSERT);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, x->c.id, -1);
	db_bind_int64(st, 3, x->c.created);
	db_bind_int64(st, 4, x->c.frozen_time);
	db_bind_text(st, 5, x->c.name, -1);
	if (db_step_done(st) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	return clock_emit(r, db, &x->c, "test_helpers.test_clock.created", true);
}

static int h_create(struct req *r)
{
	struct clock_ctx x = {.r = r};
	id_new_at(x.c.id, "clock_", r->now);
	x.c.created = r->now;
	param_int(r, "frozen_time", &x.c.frozen_time);
	x.c.target_time = x.c.frozen_time;
	if (x.c.frozen_time < 0 || x.c.frozen_time > 253402300799LL)
		return req_fail(r, ERR_PARAM_BAD, "frozen_time",
				"Invalid frozen_time: must be a unix timestamp before year 10000.");
	const char *name = param_str(r, "name");
	x.c.name = name && *name ? name : NULL;
	x.c.status = "ready";
	return req_write(r, create_fn, &x);
}

static int load_fn(struct db *db, void *p)
{
	struct clock_ctx *x = p;
	int rc = test_clock_load(x->r, db, x->id, &x->c);
	if (rc == DB_NOTFOUND || (rc == DB_OK && x->c.deleted))
		return req_fail_missing(x->r, "test_clock", x->id, "id");
	return rc == DB_OK ? 0 : req_fail(x->r, ERR_API, NULL, NULL);
}

static int retrieve_fn(struct db *db, void *p)
{
	struct clock_ctx *x = p;
	if (load_fn(db, p) != 0)
		return -1;
	clock_render(&x->c, req_json(x->r));
	return 0;
}

static int h_retrieve(struct req *r)
{
	struct clock_ctx x = {.r = r, .id = r->args[0]};
	return req_read(r, retrieve_fn, &x);
}

static int advance_fn(struct db *db, void *p)
{
	struct clock_ctx *x = p;
	struct req *r = x->r;
	int64_t target = x->target;
	if (load_fn(db, p) != 0)
		return -1;
	struct test_clock *c = &x->c;
	if (strcmp(c->status, "ready") != 0)
		return req_fail(r, ERR_INVALID_STATE, NULL,
				"Test clock %s is %s: it can only be advanced when it is ready.",
				c->id, c->status);
	if (target <= c->frozen_time)
		return req_fail(r, ERR_PARAM_BAD, "frozen_time",
				"The frozen_time must be after the test clock's current frozen "
				"time (%lld).",
				(long long)c->frozen_time);
	if (target - c->frozen_time > CLOCK_ADVANCE_MAX_S)
		return req_fail(r, ERR_PARAM_BAD, "frozen_time",
				"A test clock can be advanced by at most two years at once.");
	struct db_stmt *st = db_prepare(db, SQL_ADVANCE);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, c->id, -1);
	db_bind_int64(st, 3, target);
	int64_t n;
	if (db_step_changes(st, &n) != DB_OK || n != 1)
		return req_fail(r, ERR_API, NULL, NULL);
	c->status = "advancing";
	c->target_time = target;
	return clock_emit(r, db, c, "test_helpers.test_clock.advancing", true);
}

static int h_advance(struct req *r)
{
	struct clock_ctx x = {.r = r, .id = r->args[0]};
	param_int(r, "frozen_time", &x.target);
	return req_write(r, advance_fn, &x);
}

static int delete_fn(struct db *db, void *p)
{
	struct clock_ctx *x = p;
	struct req *r = x->r;
	if (load_fn(db, p) != 0)
		return -1;
	/* Stripe deletes a clock with everything on it: its customers (and so their
	 * subscriptions, canceled) */
	char ids[CLOCK_CUSTOMERS_MAX][ID_MAX];
	int n = 0;
	struct db_stmt *st = db_prepare(db, SQL_CUSTOMERS);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, x->c.id, -1);
	db_bind_int64(st, 3, CLOCK_CUSTOMERS_MAX);
	while (n < CLOCK_CUSTOMERS_MAX && db_step(st) == DB_ROW)
		str_copy(ids[n++], ID_MAX, db_col_text(st, 0, NULL));
	db_reset(st);
	for (int i = 0; i < n; i++) {
		if (subscriptions_cancel_for_customer(r, db, ids[i]) != 0)
			return -1;
		st = db_prepare(db, SQL_CUSTOMER_DELETE);
		if (!st)
			return req_fail(r, ERR_API, NULL, NULL);
		db_bind_text(st, 1, r->merchant_id, -1);
		db_bind_text(st, 2, ids[i], -1);
		if (db_step_done(st) != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		char js[128];
		int len =
		    snprintf(js, sizeof(js),
			     "{\"id\":\"%s\",\"object\":\"customer\",\"deleted\":true}", ids[i]);
		struct event_origin o = {r->request_id[0] ? r->request_id : NULL,
					 r->idempotency_key, r->livemode};
		if (len < 0 || (size_t)len >= sizeof(js) ||
		    event_append(db, r->merchant_id, &o, "customer.deleted", ids[i], js,
				 (size_t)len, NULL, r->now, NULL) != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		/* as DELETE /v1/customers/{id}: a deleted customer's cards can pay no more */
		if (customer_pms_detach_all(r, db, ids[i]) != 0)
			return -1;
	}
	st = db_prepare(db, SQL_DELETE);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, x->c.id, -1);
	if (db_step_done(st) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	x->c.deleted = true;
	return clock_emit(r, db, &x->c, "test_helpers.test_clock.deleted", true);
}

static int h_delete(struct req *r)
{
	struct clock_ctx x = {.r = r, .id = r->args[0]};
	return req_write(r, delete_fn, &x);
}

static const char SQL_CURSOR[] =
    "SELECT created FROM test_clocks WHERE merchant_id = $1 AND id = $2";
static const char SQL_DESC[] =
    "SELECT id FROM test_clocks WHERE merchant_id = $1 AND deleted = 0 AND id > $2 AND id < $3"
    " ORDER BY id DESC LIMIT $4";
static const char SQL_ASC[] =
    "SELECT id FROM test_clocks WHERE merchant_id = $1 AND deleted = 0 AND id > $2 AND id < $3"
    " ORDER BY id ASC LIMIT $4";

static int list_render(struct req *r, struct db *db, const char *id, struct json *j, void *ctx)
{
	(void)ctx;
	struct test_clock c;
	int rc = test_clock_load(r, db, id, &c);
	if (rc != DB_OK)
		return rc;
	clock_render(&c, j);
	return DB_OK;
}

static int list_bind(struct req *r, struct db_stmt *st, int first, void *ctx)
{
	(void)r;
	(void)st;
	(void)first;
	(void)ctx;
	return 0;
}

static int h_list(struct req *r)
{
	static const struct list_spec spec = {
	    .url = "/v1/test_helpers/test_clocks",
	    .object_name = "test_clock",
	    .id_prefix = "clock_",
	    .sql_cursor = SQL_CURSOR,
	    .sql_desc = SQL_DESC,
	    .sql_asc = SQL_ASC,
	    .bind_filters = list_bind,
	    .render = list_render,
	};
	return list_respond(r, &spec);
}

/* ---- the scheduler's end of an advance ---- */

struct ready_ctx {
	struct app *app;
	const char *merchant, *id;
	int64_t target;
};

static int ready_fn(struct db *db, void *p)
{
	struct ready_ctx *x = p;
	struct db_stmt *st = db_prepare(db, SQL_READY);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, x->merchant, -1);
	db_bind_text(st, 2, x->id, -1);
	db_bind_int64(st, 3, x->target);
	int64_t n;
	int rc = db_step_changes(st, &n);
	if (rc != DB_OK || n != 1)
		return rc; /* deleted or finished meanwhile: nothing to do */
	struct req r;
	req_internal_init(&r, x->app, x->merchant, clock_now(), NULL);
	struct test_clock c;
	rc = test_clock_load(&r, db, x->id, &c) == DB_OK &&
		     clock_emit(&r, db, &c, "test_helpers.test_clock.ready", false) == 0
		 ? 0
		 : DB_ERR;
	req_internal_release(&r);
	return rc;
}

int test_clock_ready(struct app *app, struct store *s, const char *merchant, const char *id,
		     int64_t target)
{
	struct ready_ctx x = {app, merchant, id, target};
	return store_write(s, merchant, ready_fn, &x);
}

static const struct param_spec create_params[] = {
    {"frozen_time", PT_INT, PF_REQUIRED, 0, NULL, NULL},
    {"name", PT_STRING, 0, 300, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec advance_params[] = {
    {"frozen_time", PT_INT, PF_REQUIRED, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec no_params[] = {{NULL, 0, 0, 0, NULL, NULL}};

const struct route test_clocks_routes[] = {
    {"POST", "/v1/test_helpers/test_clocks", h_create, create_params, 0},
    {"GET", "/v1/test_helpers/test_clocks", h_list, no_params, ROUTE_LIST},
    {"GET", "/v1/test_helpers/test_clocks/{id}", h_retrieve, no_params, 0},
    {"DELETE", "/v1/test_helpers/test_clocks/{id}", h_delete, no_params, 0},
    {"POST", "/v1/test_helpers/test_clocks/{id}/advance", h_advance, advance_params, 0},
    {NULL, NULL, NULL, NULL, 0},
};
