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
 * customer yet aggregates the customer's usage with the meter's own aggregation (meter_usage: sum,
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
 * So that a report does not read every event since the alert was made (a customer's n-th event
 * would read n rows inside the write, n² in all), each active alert keeps a running total per
 * customer it has not fired for (billing_alert_usage, billing/running_usage.h): each report adds
 * its event, and a canceled event (meter_event_adjustments) is taken back out. The total gives
 * exactly what summing the events with meter_usage gives, so an alert fires at the same report
 * as it would by summing. Where there is no total (the customer's first report since the alert
 * was made or activated again: a status change drops the alert's totals, as they fall behind
 * while it watches nothing), or one too large to keep exactly, the events are summed once more
 * and the total made from them. Firing drops the customer's total: it never counts again.
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
#include "billing/running_usage.h"
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

/* The running totals of alerts (billing_alert_usage, see the evaluation below). */
static const char SQL_TOTAL_DELETE[] =
    "DELETE FROM billing_alert_usage WHERE merchant_id = $1 AND alert = $2 AND customer = $3";
static const char SQL_TOTALS_DELETE[] =
    "DELETE FROM billing_alert_usage WHERE merchant_id = $1 AND alert = $2";

/* Drops alert's totals: for customer, or for every customer when it is NULL. */
static int totals_drop(struct db *db, const char *merchant_id, const char *alert,
		       const char *customer)
{
	struct db_stmt *st = db_prepare(db, customer ? SQL_TOTAL_DELETE : SQL_TOTALS_DELETE);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, alert, -1);
	if (customer)
		db_bind_text(st, 3, customer, -1);
	return db_step_done(st);
}

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
	/* an alert that is not active watches nothing, so its running totals would fall behind:
	 * they are dropped, and made again from the events at each customer's next report */
	if (totals_drop(db, r->merchant_id, a->id, NULL) != DB_OK)
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
    "SELECT value, ts, created, identifier FROM billing_meter_events WHERE merchant_id = $1"
    " AND event_name = $2 AND customer = $3 AND created >= $4 AND canceled = 0"
    " ORDER BY ts, created, identifier";
/* the latest of it, for a running total whose last event was taken back */
static const char SQL_LAST_SINCE[] =
    "SELECT value, ts, created, identifier FROM billing_meter_events WHERE merchant_id = $1"
    " AND event_name = $2 AND customer = $3 AND created >= $4 AND canceled = 0"
    " ORDER BY ts DESC, created DESC, identifier DESC LIMIT 1";
static const char SQL_TRIGGER_INSERT[] =
    "INSERT INTO billing_alert_triggers (merchant_id, alert, customer, created, value)"
    " VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING";

/* The running totals (billing_alert_usage, billing/running_usage.h): one row an alert and
 * customer, while the alert is active and has not fired for the customer. */
#define TOTAL_COLS "events, pos, neg, inexact, last_value, last_ts, last_created, last_identifier"
static const char SQL_TOTAL_GET[] = "SELECT " TOTAL_COLS " FROM billing_alert_usage"
				    " WHERE merchant_id = $1 AND alert = $2 AND customer = $3";
static const char SQL_TOTAL_INSERT[] =
    "INSERT INTO billing_alert_usage (merchant_id, alert, customer, " TOTAL_COLS ")"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)";
static const char SQL_TOTAL_UPDATE[] =
    "UPDATE billing_alert_usage SET events = $4, pos = $5, neg = $6, inexact = $7,"
    " last_value = $8, last_ts = $9, last_created = $10, last_identifier = $11"
    " WHERE merchant_id = $1 AND alert = $2 AND customer = $3";
/* the alerts of a meter keeping a total for a customer (only active, unfired ones do) */
static const char SQL_TOTALS_OF_CUSTOMER[] =
    "SELECT a.id, a.created FROM billing_alerts a JOIN billing_alert_usage u"
    " ON u.merchant_id = a.merchant_id AND u.alert = a.id AND u.customer = $3"
    " WHERE a.merchant_id = $1 AND a.meter = $2 ORDER BY a.id";

/* Fills u (meter_usage, as invoices aggregate) and t (the running total of the same events)
 * from the customer's usage recorded since `since`. */
static int usage_since(struct db *db, const char *merchant_id, const char *event_name,
		       enum meter_formula f, const char *customer, int64_t since,
		       struct meter_usage *u, struct running_usage *t)
{
	meter_usage_init(u, f);
	running_usage_init(t);
	struct db_stmt *st = db_prepare(db, SQL_USAGE_SINCE);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, event_name, -1);
	db_bind_text(st, 3, customer, -1);
	db_bind_int64(st, 4, since);
	int rc;
	while ((rc = db_step(st)) == DB_ROW) {
		int64_t value = db_col_int64(st, 0);
		struct usage_key k;
		usage_key_set(&k, db_col_int64(st, 1), db_col_int64(st, 2),
			      db_col_text(st, 3, NULL));
		meter_usage_add(u, value);
		running_usage_add(t, value, &k);
	}
	db_reset(st);
	return rc == DB_DONE ? DB_OK : DB_ERR;
}

/* The running total of alert for customer into t: DB_OK, DB_NOTFOUND (none kept) or DB_ERR. */
static int total_load(struct db *db, const char *merchant_id, const char *alert,
		      const char *customer, struct running_usage *t)
{
	struct db_stmt *st = db_prepare(db, SQL_TOTAL_GET);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, alert, -1);
	db_bind_text(st, 3, customer, -1);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		running_usage_init(t);
		t->events = db_col_int64(st, 0);
		t->pos = db_col_int64(st, 1);
		t->neg = db_col_int64(st, 2);
		t->inexact = db_col_int64(st, 3) != 0;
		t->has_last = !db_col_is_null(st, 4);
		if (t->has_last) {
			t->last = db_col_int64(st, 4);
			usage_key_set(&t->last_key, db_col_int64(st, 5), db_col_int64(st, 6),
				      db_col_text(st, 7, NULL));
		}
		rc = DB_OK;
	} else {
		rc = rc == DB_DONE ? DB_NOTFOUND : DB_ERR;
	}
	db_reset(st);
	return rc;
}

/* Writes t as alert's total for customer with sql (SQL_TOTAL_INSERT or SQL_TOTAL_UPDATE). */
static int total_store(struct db *db, const char *sql, const char *merchant_id, const char *alert,
		       const char *customer, const struct running_usage *t)
{
	struct db_stmt *st = db_prepare(db, sql);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, alert, -1);
	db_bind_text(st, 3, customer, -1);
	db_bind_int64(st, 4, t->events);
	db_bind_int64(st, 5, t->pos);
	db_bind_int64(st, 6, t->neg);
	db_bind_int64(st, 7, t->inexact ? 1 : 0);
	if (t->has_last) {
		db_bind_int64(st, 8, t->last);
		db_bind_int64(st, 9, t->last_key.ts);
		db_bind_int64(st, 10, t->last_key.created);
		db_bind_text(st, 11, t->last_key.identifier, -1);
	} else {
		for (int i = 8; i <= 11; i++)
			db_bind_null(st, i);
	}
	return db_step_done(st);
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

/* Brings alert a's total for customer up to the event just recorded (ev, its value) and says
 * what the alert's usage now is: *has is false when there is none to compare (no event, or a
 * sum past int64), as the re-sum it replaces said. */
static int alert_usage_now(struct req *r, struct db *db, const struct alert *a,
			   const char *event_name, enum meter_formula f, const char *customer,
			   const struct usage_key *ev, int64_t ev_value, bool *has, int64_t *value)
{
	struct running_usage t;
	struct meter_usage u;
	int rc = total_load(db, r->merchant_id, a->id, customer, &t);
	if (rc != DB_OK && rc != DB_NOTFOUND)
		return DB_ERR;
	bool exists = rc == DB_OK;
	if (exists && !t.inexact) {
		/* only what was reported after the alert was made counts */
		if (ev->created >= a->created)
			running_usage_add(&t, ev_value, ev);
		*has = running_usage_value(&t, f, value) == 0;
	}
	if (!exists || t.inexact) {
		/* no total yet (the first report since the alert was made, activated again, or
		 * kept at all), or one too large to keep exactly: the events since the alert was
		 * made, this one among them, summed as before, and the total made again from them
		 */
		if (usage_since(db, r->merchant_id, event_name, f, customer, a->created, &u, &t) !=
		    DB_OK)
			return DB_ERR;
		*has = !u.overflow && u.events > 0;
		*value = meter_usage_value(&u);
	}
	if (*has && *value >= a->gte) /* it fires: the total is dropped, not kept */
		return DB_OK;
	return total_store(db, exists ? SQL_TOTAL_UPDATE : SQL_TOTAL_INSERT, r->merchant_id, a->id,
			   customer, &t);
}

int billing_alerts_usage_recorded(struct req *r, struct db *db, const char *meter_id,
				  const char *customer, const char *identifier, int64_t value,
				  int64_t ts, int64_t created, int64_t now)
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
	struct usage_key ev;
	usage_key_set(&ev, ts, created, identifier);
	for (size_t i = 0; i < n; i++) {
		bool has = false;
		int64_t v = 0;
		if (alert_usage_now(r, db, &as[i], event_name, f, customer, &ev, value, &has, &v) !=
		    DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		if (has && v >= as[i].gte) {
			if (alert_fire(r, db, &as[i], customer, v, now) != 0)
				return -1;
			if (totals_drop(db, r->merchant_id, as[i].id, customer) != DB_OK)
				return req_fail(r, ERR_API, NULL, NULL);
		}
	}
	return 0;
}

/* Takes a canceled event (already marked so) back out of the totals it was added to. */
int billing_alerts_usage_canceled(struct req *r, struct db *db, const char *meter_id,
				  const char *event_name, const char *customer,
				  const char *identifier, int64_t value, int64_t ts,
				  int64_t created)
{
	struct db_stmt *st = db_prepare(db, SQL_TOTALS_OF_CUSTOMER);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, meter_id, -1);
	db_bind_text(st, 3, customer, -1);
	struct alert *as = NULL; /* only id and created are read */
	size_t n = 0, cap = 0;
	int rc;
	while ((rc = db_step(st)) == DB_ROW) {
		struct alert *na = arena_grow(&r->arena, as, n, &cap, sizeof(*na));
		if (!na) {
			db_reset(st);
			return req_fail(r, ERR_API, NULL, NULL);
		}
		as = na;
		memset(&as[n], 0, sizeof(as[n]));
		str_copy(as[n].id, sizeof(as[n].id), db_col_text(st, 0, NULL));
		as[n++].created = db_col_int64(st, 1);
	}
	db_reset(st);
	if (rc != DB_DONE)
		return req_fail(r, ERR_API, NULL, NULL);
	struct usage_key ev;
	usage_key_set(&ev, ts, created, identifier);
	for (size_t i = 0; i < n; i++) {
		/* an event recorded before the alert was made was never in its total */
		if (created < as[i].created)
			continue;
		struct running_usage t;
		rc = total_load(db, r->merchant_id, as[i].id, customer, &t);
		if (rc == DB_NOTFOUND || (rc == DB_OK && t.inexact))
			continue; /* summed again from the events at the next report */
		if (rc != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		bool drop = false;
		if (running_usage_remove(&t, value, &ev)) {
			st = db_prepare(db, SQL_LAST_SINCE);
			if (!st)
				return req_fail(r, ERR_API, NULL, NULL);
			db_bind_text(st, 1, r->merchant_id, -1);
			db_bind_text(st, 2, event_name, -1);
			db_bind_text(st, 3, customer, -1);
			db_bind_int64(st, 4, as[i].created);
			rc = db_step(st);
			if (rc == DB_ROW) {
				struct usage_key k;
				usage_key_set(&k, db_col_int64(st, 1), db_col_int64(st, 2),
					      db_col_text(st, 3, NULL));
				running_usage_set_last(&t, db_col_int64(st, 0), &k);
			}
			db_reset(st);
			if (rc != DB_ROW && rc != DB_DONE)
				return req_fail(r, ERR_API, NULL, NULL);
			/* events left but none found: the total is not to be trusted; the next
			 * report sums the events again */
			drop = rc == DB_DONE;
		}
		rc = drop ? totals_drop(db, r->merchant_id, as[i].id, customer)
			  : total_store(db, SQL_TOTAL_UPDATE, r->merchant_id, as[i].id, customer,
					&t);
		if (rc != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
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
