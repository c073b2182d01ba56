/*
 * Stripe's billing alerts (/v1/billing/alerts): a usage threshold on one billing meter
 * (alert_type=usage_threshold, usage_threshold[meter, gte, recurrence=one_time], and at most one
 * filter, filters[0][type=customer, customer], that limits it to one customer). Create,
 * retrieve, list (alert_type, meter; archived alerts are left out, as Stripe's list leaves
 * them), activate, deactivate and archive: statuses active / inactive / archived, where
 * activate and deactivate move between the first two and archive is for good.
 *
 * Evaluation: usage recorded by POST /v1/billing/meter_events (billing_meters.c) calls
 * billing_alerts_usage_recorded in its own write. Each active alert of the meter that watches
 * the event's customer (every customer, or its filter's one) and has not fired for that
 * customer yet sums the customer's usage with the meter's own aggregation (meter_usage: sum,
 * count or last, the one invoices use) over the usage Stripe documents an alert counts: what
 * was reported after the alert was made (a meter event's recording time, so a backdated
 * timestamp still counts and usage before the alert never does). When that reaches gte, the
 * alert fires for the customer: a row in billing_alert_triggers (the append-only record that it
 * did, so one_time never fires twice for one customer) and billing.alert.triggered (object
 * billing.alert_triggered), in the same write that recorded the usage. A customer on a test
 * clock has it at the clock's time (its created and the event's), as its other billing events.
 * An inactive or archived alert watches nothing; usage reported meanwhile still counts once an
 * inactive alert is activated again, at the customer's next report.
 *
 * Stripe sends no events for the alert object itself (webhooks/event_types.def has only
 * billing.alert.triggered), so creating, activating, deactivating and archiving append none.
 */
#include <stdio.h>
#include <string.h>

#include "api/common.h"
#include "api/list.h"
#include "api/resources.h"
#include "billing/meter_usage.h"
#include "core/str.h"
#include "events/events.h"
#include "http/form.h"

#define TITLE_MAX 256
/* Stripe's bound: 25 alerts for one meter and one customer (here also for all customers) */
#define ALERTS_PER_SCOPE_MAX 25

struct alert {
	char id[ID_MAX];
	int64_t created, gte;
	const char *title, *meter, *status;
	const char *customer; /* the filter's customer; NULL: every customer */
};

#define ALERT_COLS "id, created, title, meter, gte, customer, status"
static const char SQL_ALERT_GET[] =
    "SELECT " ALERT_COLS " FROM billing_alerts WHERE merchant_id = $1 AND id = $2";
static const char SQL_ALERT_INSERT[] =
    "INSERT INTO billing_alerts (merchant_id, id, created, title, meter, gte, customer, status)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, 'active')";
/* guarded by the status read in the same write */
static const char SQL_ALERT_STATUS[] = "UPDATE billing_alerts SET status = $3"
				       " WHERE merchant_id = $1 AND id = $2 AND status = $4";
static const char SQL_ALERT_SCOPE_COUNT[] =
    "SELECT COUNT(*) FROM billing_alerts WHERE merchant_id = $1 AND meter = $2"
    " AND COALESCE(customer, '') = $3 AND status <> 'archived'";

/* The current row of a statement selecting ALERT_COLS into a (strings in r's arena). */
static int alert_from_row(struct req *r, struct db_stmt *st, struct alert *a)
{
	memset(a, 0, sizeof(*a));
	str_copy(a->id, sizeof(a->id), db_col_text(st, 0, NULL));
	a->created = db_col_int64(st, 1);
	a->title = col_text_dup(&r->arena, st, 2);
	a->meter = col_text_dup(&r->arena, st, 3);
	a->gte = db_col_int64(st, 4);
	a->customer = col_text_dup(&r->arena, st, 5);
	a->status = col_text_dup(&r->arena, st, 6);
	return a->title && a->meter && a->status ? DB_OK : DB_ERR;
}

static int alert_load(struct req *r, struct db *db, const char *id, struct alert *a)
{
	struct db_stmt *st = NULL;
	int rc = db_row_by_id(db, SQL_ALERT_GET, r->merchant_id, id, &st);
	if (rc != DB_OK)
		return rc;
	rc = alert_from_row(r, st, a);
	db_reset(st);
	return rc;
}

static void alert_render(struct req *r, const struct alert *a, struct json *j)
{
	json_obj_open(j);
	json_kv_str(j, "id", a->id);
	json_kv_str(j, "object", "billing.alert");
	json_kv_str(j, "alert_type", "usage_threshold");
	json_kv_bool(j, "livemode", r->livemode);
	json_kv_str(j, "status", a->status);
	json_kv_str(j, "title", a->title);
	json_key(j, "usage_threshold");
	json_obj_open(j);
	json_key(j, "filters");
	if (a->customer) {
		json_arr_open(j);
		json_obj_open(j);
		json_kv_str(j, "customer", a->customer);
		json_kv_str(j, "type", "customer");
		json_obj_close(j);
		json_arr_close(j);
	} else {
		json_nil(j);
	}
	json_kv_int(j, "gte", a->gte);
	json_kv_str(j, "meter", a->meter);
	json_kv_str(j, "recurrence", "one_time");
	json_obj_close(j);
	json_obj_close(j);
}

/* ---- parameters ---- */

static const char *const alert_types[] = {"usage_threshold", NULL};
static const char *const recurrences[] = {"one_time", NULL};
static const char *const filter_types[] = {"customer", NULL};

static const struct param_spec filter_children[] = {
    {"type", PT_ENUM, PF_REQUIRED, 0, filter_types, NULL},
    {"customer", PT_STRING, 0, ID_MAX - 1, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec threshold_children[] = {
    {"gte", PT_INT, PF_REQUIRED, 0, NULL, NULL},
    {"meter", PT_STRING, PF_REQUIRED, ID_MAX - 1, NULL, NULL},
    {"recurrence", PT_ENUM, PF_REQUIRED, 0, recurrences, NULL},
    /* "You can only specify up to one filter at this time." */
    {"filters", PT_OBJECT_ARRAY, 0, 1, NULL, filter_children},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec alert_create_params[] = {
    {"alert_type", PT_ENUM, PF_REQUIRED, 0, alert_types, NULL},
    {"title", PT_STRING, PF_REQUIRED, TITLE_MAX, NULL, NULL},
    {"usage_threshold", PT_OBJECT, 0, 0, NULL, threshold_children},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec alert_list_params[] = {
    {"alert_type", PT_ENUM, 0, 0, alert_types, NULL},
    {"meter", PT_STRING, 0, ID_MAX - 1, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec no_params[] = {{NULL, 0, 0, 0, NULL, NULL}};

/* A required string parameter sent empty: Stripe's answer for it. */
static int fail_blank(struct req *r, const char *param)
{
	return req_fail(r, ERR_PARAM_INVALID_STRING, param,
			"You passed an empty string for '%s'. We assume empty values are an "
			"attempt to unset a parameter; however '%s' cannot be unset. You should "
			"remove '%s' from your request or supply a non-empty value.",
			param, param, param);
}

/* ---- create ---- */

struct alert_ctx {
	struct req *r;
	const char *id;
	struct alert a;
	int op; /* activate: 0, deactivate: 1, archive: 2 */
};

static int alert_create_fn(struct db *db, void *arg)
{
	struct alert_ctx *c = arg;
	struct req *r = c->r;
	struct alert *a = &c->a;
	int rc = billing_meter_find(db, r->merchant_id, a->meter);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(r, "billing.meter", a->meter, "usage_threshold[meter]");
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (a->customer && customer_check(r, db, a->customer) != 0) {
		/* the filter names the customer: the error names the filter */
		str_copy(r->err.param, sizeof(r->err.param),
			 "usage_threshold[filters][0][customer]");
		return -1;
	}
	struct db_stmt *st = db_prepare(db, SQL_ALERT_SCOPE_COUNT);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, a->meter, -1);
	db_bind_text(st, 3, a->customer ? a->customer : "", -1);
	rc = db_step(st);
	int64_t n = rc == DB_ROW ? db_col_int64(st, 0) : -1;
	db_reset(st);
	if (n < 0)
		return req_fail(r, ERR_API, NULL, NULL);
	if (n >= ALERTS_PER_SCOPE_MAX)
		return req_fail(r, ERR_PARAM_BAD, "usage_threshold[meter]",
				"You can create at most %d alerts for one meter and %s. Archive "
				"one you no longer need first.",
				ALERTS_PER_SCOPE_MAX, a->customer ? "customer" : "all customers");
	st = db_prepare(db, SQL_ALERT_INSERT);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, a->id, -1);
	db_bind_int64(st, 3, a->created);
	db_bind_text(st, 4, a->title, -1);
	db_bind_text(st, 5, a->meter, -1);
	db_bind_int64(st, 6, a->gte);
	if (a->customer)
		db_bind_text(st, 7, a->customer, -1);
	else
		db_bind_null(st, 7);
	if (db_step_done(st) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	alert_render(r, a, req_json(r));
	return 0;
}

static int h_alert_create(struct req *r)
{
	struct alert_ctx c = {.r = r};
	struct alert *a = &c.a;
	id_new_at(a->id, "alrt_", r->now);
	a->created = r->now;
	a->status = "active";
	a->title = param_str(r, "title");
	if (!a->title || !*a->title)
		return fail_blank(r, "title");
	/* the only alert_type: its configuration is then required */
	if (!param_present(r, "usage_threshold"))
		return req_fail(r, ERR_PARAM_MISSING, "usage_threshold", "usage_threshold");
	if (param_int(r, "usage_threshold.gte", &a->gte) != 1)
		return req_fail(r, ERR_PARAM_MISSING, "usage_threshold[gte]",
				"usage_threshold[gte]");
	if (a->gte <= 0)
		return req_fail(r, ERR_PARAM_INTEGER_RANGE, "usage_threshold[gte]",
				"Invalid usage_threshold[gte]: the threshold must be greater than "
				"0.");
	a->meter = param_str(r, "usage_threshold.meter");
	if (!a->meter || !*a->meter)
		return fail_blank(r, "usage_threshold[meter]");
	const struct form_node *fs = param_node(r, "usage_threshold.filters");
	if (fs && fs->first_child) {
		const struct form_node *cust = form_get(fs->first_child, "customer");
		/* a customer filter without its customer limits nothing: Stripe's 400 */
		if (!cust || !cust->value || !*cust->value)
			return req_fail(r, ERR_PARAM_MISSING,
					"usage_threshold[filters][0][customer]",
					"usage_threshold[filters][0][customer]");
		a->customer = cust->value;
	}
	return req_write(r, alert_create_fn, &c);
}

/* ---- retrieve, status changes ---- */

static int alert_load_fn(struct db *db, void *arg)
{
	struct alert_ctx *x = arg;
	int rc = alert_load(x->r, db, x->id, &x->a);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(x->r, "billing.alert", x->id, "id");
	return rc == DB_OK ? 0 : req_fail(x->r, ERR_API, NULL, NULL);
}

static int alert_retrieve_fn(struct db *db, void *arg)
{
	struct alert_ctx *x = arg;
	if (alert_load_fn(db, arg) != 0)
		return -1;
	alert_render(x->r, &x->a, req_json(x->r));
	return 0;
}

static int h_alert_retrieve(struct req *r)
{
	struct alert_ctx x = {.r = r, .id = r->args[0]};
	return req_read(r, alert_retrieve_fn, &x) == 0 ? 0 : -1;
}

/* activate (inactive → active), deactivate (active → inactive), archive (either → archived,
 * for good): anything else is a 400 and changes nothing */
static int alert_change_fn(struct db *db, void *arg)
{
	struct alert_ctx *x = arg;
	struct req *r = x->r;
	if (alert_load_fn(db, arg) != 0)
		return -1;
	struct alert *a = &x->a;
	static const char *const to[] = {"active", "inactive", "archived"};
	const char *old = a->status;
	if (strcmp(old, "archived") == 0)
		return req_fail(r, ERR_INVALID_STATE, NULL,
				"The alert '%s' is archived and can no longer be changed.", a->id);
	if (strcmp(old, to[x->op]) == 0)
		return req_fail(r, ERR_INVALID_STATE, NULL, "The alert '%s' is already %s.", a->id,
				old);
	struct db_stmt *st = db_prepare(db, SQL_ALERT_STATUS);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, a->id, -1);
	db_bind_text(st, 3, to[x->op], -1);
	db_bind_text(st, 4, old, -1);
	int64_t n = 0;
	if (db_step_changes(st, &n) != DB_OK || n != 1)
		return req_fail(r, ERR_API, NULL, NULL);
	a->status = to[x->op];
	alert_render(r, a, req_json(r));
	return 0;
}

static int h_alert_activate(struct req *r)
{
	struct alert_ctx x = {.r = r, .id = r->args[0], .op = 0};
	return req_write(r, alert_change_fn, &x);
}

static int h_alert_deactivate(struct req *r)
{
	struct alert_ctx x = {.r = r, .id = r->args[0], .op = 1};
	return req_write(r, alert_change_fn, &x);
}

static int h_alert_archive(struct req *r)
{
	struct alert_ctx x = {.r = r, .id = r->args[0], .op = 2};
	return req_write(r, alert_change_fn, &x);
}

/* ---- list ---- */

static const char SQL_ALERT_CURSOR[] =
    "SELECT created FROM billing_alerts WHERE merchant_id = $1 AND id = $2";
#define ALERT_LIST_WHERE                                                                           \
	"SELECT id FROM billing_alerts WHERE merchant_id = $1 AND id > $2 AND id < $3"             \
	" AND status <> 'archived' AND ($5 IS NULL OR meter = $5)"
static const char SQL_ALERT_DESC[] = ALERT_LIST_WHERE " ORDER BY id DESC LIMIT $4";
static const char SQL_ALERT_ASC[] = ALERT_LIST_WHERE " ORDER BY id ASC LIMIT $4";

static int alert_list_bind(struct req *r, struct db_stmt *st, int first, void *ctx)
{
	(void)ctx;
	/* alert_type: every alert is a usage_threshold one, so it filters out none */
	list_bind_filter(r, st, first, "meter");
	return 0;
}

static int alert_list_render(struct req *r, struct db *db, const char *id, struct json *j,
			     void *ctx)
{
	(void)ctx;
	struct alert a;
	int rc = alert_load(r, db, id, &a);
	if (rc == DB_OK)
		alert_render(r, &a, j);
	return rc;
}

static int h_alert_list(struct req *r)
{
	static const struct list_spec spec = {
	    .url = "/v1/billing/alerts",
	    .object_name = "billing.alert",
	    .id_prefix = "alrt_",
	    .sql_cursor = SQL_ALERT_CURSOR,
	    .sql_desc = SQL_ALERT_DESC,
	    .sql_asc = SQL_ALERT_ASC,
	    .bind_filters = alert_list_bind,
	    .render = alert_list_render,
	};
	return list_respond(r, &spec);
}

/* ---- evaluation ---- */

/* The active alerts of a meter watching a customer that have not fired for it yet. */
static const char SQL_ALERTS_WATCHING[] =
    "SELECT " ALERT_COLS " FROM billing_alerts a WHERE a.merchant_id = $1 AND a.meter = $2"
    " AND a.status = 'active' AND (a.customer IS NULL OR a.customer = $3)"
    " AND NOT EXISTS (SELECT 1 FROM billing_alert_triggers t WHERE t.merchant_id = $1"
    " AND t.alert = a.id AND t.customer = $3) ORDER BY a.id";
static const char SQL_METER_OF_ALERT[] =
    "SELECT event_name, formula FROM billing_meters WHERE merchant_id = $1 AND id = $2";
/* the customer's usage reported since the alert was made, in the order meter_usage takes it */
static const char SQL_USAGE_SINCE[] =
    "SELECT value FROM billing_meter_events WHERE merchant_id = $1 AND event_name = $2"
    " AND customer = $3 AND created >= $4 AND canceled = 0 ORDER BY ts, created, identifier";
static const char SQL_TRIGGER_INSERT[] =
    "INSERT INTO billing_alert_triggers (merchant_id, alert, customer, created, value)"
    " VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING";

static int usage_since(struct db *db, const char *merchant_id, const char *event_name,
		       enum meter_formula f, const char *customer, int64_t since,
		       struct meter_usage *u)
{
	meter_usage_init(u, f);
	struct db_stmt *st = db_prepare(db, SQL_USAGE_SINCE);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, event_name, -1);
	db_bind_text(st, 3, customer, -1);
	db_bind_int64(st, 4, since);
	int rc;
	while ((rc = db_step(st)) == DB_ROW)
		meter_usage_add(u, db_col_int64(st, 0));
	db_reset(st);
	return rc == DB_DONE ? DB_OK : DB_ERR;
}

/* Fires a for customer: its record and billing.alert.triggered, at the customer's time now. */
static int alert_fire(struct req *r, struct db *db, const struct alert *a, const char *customer,
		      int64_t value, int64_t now)
{
	struct db_stmt *st = db_prepare(db, SQL_TRIGGER_INSERT);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, a->id, -1);
	db_bind_text(st, 3, customer, -1);
	db_bind_int64(st, 4, now);
	db_bind_int64(st, 5, value);
	int64_t n = 0;
	if (db_step_changes(st, &n) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (n == 0) /* already fired for it: never twice */
		return 0;
	struct buf b;
	struct json j;
	buf_init(&b, 16 * 1024);
	json_init(&j, &b);
	json_obj_open(&j);
	json_kv_str(&j, "object", "billing.alert_triggered");
	json_key(&j, "alert");
	alert_render(r, a, &j);
	json_kv_int(&j, "created", now);
	json_kv_str(&j, "customer", customer);
	json_kv_bool(&j, "livemode", r->livemode);
	json_kv_int(&j, "value", value);
	json_obj_close(&j);
	struct event_origin o = {r->request_id[0] ? r->request_id : NULL, r->idempotency_key,
				 r->livemode};
	int rc = b.failed ? DB_ERR
			  : event_append(db, r->merchant_id, &o, "billing.alert.triggered", a->id,
					 b.data, b.len, NULL, now, NULL);
	buf_release(&b);
	return rc == DB_OK ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

int billing_alerts_usage_recorded(struct req *r, struct db *db, const char *meter_id,
				  const char *customer, int64_t now)
{
	struct db_stmt *st = db_prepare(db, SQL_ALERTS_WATCHING);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, meter_id, -1);
	db_bind_text(st, 3, customer, -1);
	/* read them all first: evaluating one runs other statements */
	struct alert *as = NULL;
	size_t n = 0, cap = 0;
	int rc;
	while ((rc = db_step(st)) == DB_ROW) {
		struct alert *na = arena_grow(&r->arena, as, n, &cap, sizeof(*na));
		if (!na) {
			db_reset(st);
			return req_fail(r, ERR_API, NULL, NULL);
		}
		as = na;
		if (alert_from_row(r, st, &as[n++]) != DB_OK) {
			db_reset(st);
			return req_fail(r, ERR_API, NULL, NULL);
		}
	}
	db_reset(st);
	if (rc != DB_DONE)
		return req_fail(r, ERR_API, NULL, NULL);
	if (n == 0)
		return 0;
	st = NULL;
	rc = db_row_by_id(db, SQL_METER_OF_ALERT, r->merchant_id, meter_id, &st);
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	const char *event_name = col_text_dup(&r->arena, st, 0);
	enum meter_formula f;
	if (meter_formula_parse(db_col_text(st, 1, NULL), &f) != 0)
		f = METER_SUM;
	db_reset(st);
	if (!event_name)
		return req_fail(r, ERR_API, NULL, NULL);
	for (size_t i = 0; i < n; i++) {
		struct meter_usage u;
		if (usage_since(db, r->merchant_id, event_name, f, customer, as[i].created, &u) !=
		    DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		/* a sum past int64 has no value to report; no event is that large alone */
		if (u.overflow || u.events == 0)
			continue;
		int64_t value = meter_usage_value(&u);
		if (value >= as[i].gte && alert_fire(r, db, &as[i], customer, value, now) != 0)
			return -1;
	}
	return 0;
}

const struct route billing_alerts_routes[] = {
    {"POST", "/v1/billing/alerts", h_alert_create, alert_create_params, 0},
    {"GET", "/v1/billing/alerts", h_alert_list, alert_list_params, ROUTE_LIST},
    {"GET", "/v1/billing/alerts/{id}", h_alert_retrieve, no_params, 0},
    {"POST", "/v1/billing/alerts/{id}/activate", h_alert_activate, no_params, 0},
    {"POST", "/v1/billing/alerts/{id}/archive", h_alert_archive, no_params, 0},
    {"POST", "/v1/billing/alerts/{id}/deactivate", h_alert_deactivate, no_params, 0},
    {NULL, NULL, NULL, NULL, 0},
};
