/*
 * Stripe's usage-based billing API (v1):
 *  - /v1/billing/meters: create (display_name, event_name, default_aggregation[formula] sum |
 *    count | last, customer_mapping[event_payload_key, type=by_id], value_settings
 *    [event_payload_key], event_time_window), retrieve, update (display_name only: Stripe fixes
 *    the rest at creation), list (status), deactivate, reactivate; each change with its
 *    billing.meter.* event.
 *  - /v1/billing/meter_events: a customer's usage, recorded against the active meter of its
 *    event_name. Its identifier (given, or made here) is the merchant's own for good (Stripe
 *    promises uniqueness for at least 24 hours), so a retried report counts once.
 *  - /v1/billing/meter_event_adjustments: type=cancel takes back one event recorded within the
 *    last 24 hours, as on Stripe; the adjustment is a row of its own (the record of the change).
 *  - /v1/billing/meters/{id}/event_summaries: a customer's aggregated usage over [start_time,
 *    end_time), as one summary or by hour / UTC day (only windows with events, newest first).
 *
 * Where Tender differs from Stripe: Stripe takes a meter event first and checks it later,
 * reporting problems through meter error reports (v1.billing.meter.error_report_triggered).
 * Tender checks at once and answers 400, changing nothing, when no active meter has the
 * event_name or the customer named by the payload is not the merchant's. Meter events
 * themselves have no v1 event, on Stripe or here: each one is its own append-only row.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/billing_internal.h"
#include "api/common.h"
#include "api/list.h"
#include "api/resources.h"
#include "billing/meter_usage.h"
#include "core/parse.h"
#include "core/str.h"
#include "events/events.h"
#include "http/form.h"

#define DISPLAY_NAME_MAX 250
#define EVENT_NAME_MAX 100
#define PAYLOAD_KEY_MAX 100
#define IDENTIFIER_MAX 100
/* a meter event's timestamp: at most 35 days past and 5 minutes ahead (Stripe's window) */
#define EVENT_PAST_S (35 * 86400)
#define EVENT_AHEAD_S 300
/* an event can be canceled for 24 hours after it was recorded (Stripe's window) */
#define CANCEL_WINDOW_S 86400
#define PAYLOAD_KEYS_MAX 50
#define PAYLOAD_VALUE_MAX 500

struct meter {
	char id[ID_MAX];
	int64_t created, updated, deactivated_at;
	const char *display_name, *event_name, *event_time_window; /* window: NULL if none */
	enum meter_formula formula;
	const char *customer_key, *value_key;
	bool active;
};

static const char SQL_METER_GET[] =
    "SELECT id, created, updated, display_name, event_name, event_time_window, formula,"
    " customer_key, value_key, active, deactivated_at FROM billing_meters"
    " WHERE merchant_id = $1 AND id = $2";
static const char SQL_METER_BY_EVENT[] =
    "SELECT id FROM billing_meters WHERE merchant_id = $1 AND event_name = $2";
static const char SQL_METER_INSERT[] =
    "INSERT INTO billing_meters (merchant_id, id, created, updated, display_name, event_name,"
    " event_time_window, formula, customer_key, value_key, active, deactivated_at)"
    " VALUES ($1, $2, $3, $3, $4, $5, $6, $7, $8, $9, 1, NULL) ON CONFLICT DO NOTHING";
static const char SQL_METER_UPDATE[] =
    "UPDATE billing_meters SET display_name = $3, updated = $4, active = $5,"
    " deactivated_at = $6 WHERE merchant_id = $1 AND id = $2";

static int meter_load(struct req *r, struct db *db, const char *id, struct meter *m)
{
	struct db_stmt *st = NULL;
	int rc = db_row_by_id(db, SQL_METER_GET, r->merchant_id, id, &st);
	if (rc != DB_OK)
		return rc;
	memset(m, 0, sizeof(*m));
	str_copy(m->id, sizeof(m->id), db_col_text(st, 0, NULL));
	m->created = db_col_int64(st, 1);
	m->updated = db_col_int64(st, 2);
	m->display_name = col_text_dup(&r->arena, st, 3);
	m->event_name = col_text_dup(&r->arena, st, 4);
	m->event_time_window = db_col_is_null(st, 5) ? NULL : col_text_dup(&r->arena, st, 5);
	const char *f = db_col_text(st, 6, NULL);
	if (meter_formula_parse(f, &m->formula) != 0)
		m->formula = METER_SUM;
	m->customer_key = col_text_dup(&r->arena, st, 7);
	m->value_key = col_text_dup(&r->arena, st, 8);
	m->active = db_col_int64(st, 9) != 0;
	m->deactivated_at = db_col_int64_or0(st, 10);
	db_reset(st);
	return m->display_name && m->event_name && m->customer_key && m->value_key ? DB_OK : DB_ERR;
}

static void meter_render(struct req *r, const struct meter *m, struct json *j)
{
	json_obj_open(j);
	json_kv_str(j, "id", m->id);
	json_kv_str(j, "object", "billing.meter");
	json_kv_int(j, "created", m->created);
	json_key(j, "customer_mapping");
	json_obj_open(j);
	json_kv_str(j, "event_payload_key", m->customer_key);
	json_kv_str(j, "type", "by_id");
	json_obj_close(j);
	json_key(j, "default_aggregation");
	json_obj_open(j);
	json_kv_str(j, "formula", meter_formula_name(m->formula));
	json_obj_close(j);
	json_kv_str(j, "display_name", m->display_name);
	json_kv_str(j, "event_name", m->event_name);
	json_kv_str_or_null(j, "event_time_window", m->event_time_window);
	json_kv_bool(j, "livemode", r->livemode);
	json_kv_str(j, "status", m->active ? "active" : "inactive");
	json_key(j, "status_transitions");
	json_obj_open(j);
	if (m->deactivated_at)
		json_kv_int(j, "deactivated_at", m->deactivated_at);
	else
		json_kv_null(j, "deactivated_at");
	json_obj_close(j);
	json_kv_int(j, "updated", m->updated);
	json_key(j, "value_settings");
	json_obj_open(j);
	json_kv_str(j, "event_payload_key", m->value_key);
	json_obj_close(j);
	json_obj_close(j);
}

/* Renders m, appends its event of type (prev: previous_attributes JSON or NULL) and answers
 * with it. 0, or -1 with r->err. */
static int meter_emit(struct req *r, struct db *db, const struct meter *m, const char *type,
		      const char *prev)
{
	struct buf b;
	struct json j;
	buf_init(&b, 64 * 1024);
	json_init(&j, &b);
	meter_render(r, m, &j);
	const char *js;
	size_t len;
	char ev[ID_MAX];
	if (api_event_append(r, db, type, m->id, &b, prev, &js, &len, ev) != 0)
		return -1;
	return req_answer_event(r, ev, js, len);
}

/* ---- parameters ---- */

static const char *const formulas[] = {"count", "last", "sum", NULL};
static const char *const windows[] = {"day", "hour", NULL};
static const char *const mapping_types[] = {"by_id", NULL};
static const char *const statuses[] = {"active", "inactive", NULL};
static const char *const adjustment_types[] = {"cancel", NULL};

static const struct param_spec aggregation_children[] = {
    {"formula", PT_ENUM, PF_REQUIRED, 0, formulas, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec mapping_children[] = {
    {"event_payload_key", PT_STRING, PF_REQUIRED, PAYLOAD_KEY_MAX, NULL, NULL},
    {"type", PT_ENUM, PF_REQUIRED, 0, mapping_types, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec value_children[] = {
    {"event_payload_key", PT_STRING, PF_REQUIRED, PAYLOAD_KEY_MAX, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec meter_create_params[] = {
    {"display_name", PT_STRING, PF_REQUIRED, DISPLAY_NAME_MAX, NULL, NULL},
    {"event_name", PT_STRING, PF_REQUIRED, EVENT_NAME_MAX, NULL, NULL},
    {"default_aggregation", PT_OBJECT, PF_REQUIRED, 0, NULL, aggregation_children},
    {"customer_mapping", PT_OBJECT, 0, 0, NULL, mapping_children},
    {"value_settings", PT_OBJECT, 0, 0, NULL, value_children},
    {"event_time_window", PT_ENUM, 0, 0, windows, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec meter_update_params[] = {
    {"display_name", PT_STRING, 0, DISPLAY_NAME_MAX, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec meter_list_params[] = {
    {"status", PT_ENUM, 0, 0, statuses, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec event_create_params[] = {
    {"event_name", PT_STRING, PF_REQUIRED, EVENT_NAME_MAX, NULL, NULL},
    {"payload", PT_HASH, PF_REQUIRED, 0, NULL, NULL},
    {"identifier", PT_STRING, 0, IDENTIFIER_MAX, NULL, NULL},
    {"timestamp", PT_INT, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec cancel_children[] = {
    {"identifier", PT_STRING, 0, IDENTIFIER_MAX, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec adjustment_params[] = {
    {"event_name", PT_STRING, PF_REQUIRED, EVENT_NAME_MAX, NULL, NULL},
    {"type", PT_ENUM, 0, 0, adjustment_types, NULL},
    {"cancel", PT_OBJECT, 0, 0, NULL, cancel_children},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec summary_params[] = {
    {"customer", PT_STRING, PF_REQUIRED, ID_MAX - 1, NULL, NULL},
    {"start_time", PT_INT, PF_REQUIRED, 0, NULL, NULL},
    {"end_time", PT_INT, PF_REQUIRED, 0, NULL, NULL},
    {"value_grouping_window", PT_ENUM, 0, 0, windows, NULL},
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

/* ---- meters ---- */

struct meter_ctx {
	struct req *r;
	const char *id;
	struct meter m;
	int op; /* update: 0, deactivate: 1, reactivate: 2 */
};

static int meter_create_fn(struct db *db, void *arg)
{
	struct meter_ctx *c = arg;
	struct req *r = c->r;
	struct meter *m = &c->m;
	struct db_stmt *st = db_prepare(db, SQL_METER_INSERT);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, m->id, -1);
	db_bind_int64(st, 3, m->created);
	db_bind_text(st, 4, m->display_name, -1);
	db_bind_text(st, 5, m->event_name, -1);
	if (m->event_time_window)
		db_bind_text(st, 6, m->event_time_window, -1);
	else
		db_bind_null(st, 6);
	db_bind_text(st, 7, meter_formula_name(m->formula), -1);
	db_bind_text(st, 8, m->customer_key, -1);
	db_bind_text(st, 9, m->value_key, -1);
	int64_t n = 0;
	if (db_step_changes(st, &n) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (n == 0) /* the event name is another meter's */
		return req_fail(r, ERR_PARAM_BAD, "event_name",
				"A meter with the event_name '%s' already exists.", m->event_name);
	return meter_emit(r, db, m, "billing.meter.created", NULL);
}

static int h_meter_create(struct req *r)
{
	struct meter_ctx c = {.r = r};
	struct meter *m = &c.m;
	id_new_at(m->id, "mtr_", r->now);
	m->created = m->updated = r->now;
	m->active = true;
	m->display_name = param_str(r, "display_name");
	m->event_name = param_str(r, "event_name");
	if (!m->display_name || !*m->display_name)
		return fail_blank(r, "display_name");
	if (!m->event_name || !*m->event_name)
		return fail_blank(r, "event_name");
	if (meter_formula_parse(param_str(r, "default_aggregation.formula"), &m->formula) != 0)
		return req_fail(r, ERR_PARAM_MISSING, "default_aggregation[formula]",
				"default_aggregation[formula]");
	m->customer_key = param_str(r, "customer_mapping.event_payload_key");
	if (!m->customer_key)
		m->customer_key = "stripe_customer_id";
	else if (!*m->customer_key)
		return fail_blank(r, "customer_mapping[event_payload_key]");
	m->value_key = param_str(r, "value_settings.event_payload_key");
	if (!m->value_key)
		m->value_key = "value";
	else if (!*m->value_key)
		return fail_blank(r, "value_settings[event_payload_key]");
	if (strcmp(m->customer_key, m->value_key) == 0)
		return req_fail(r, ERR_PARAM_BAD, "value_settings[event_payload_key]",
				"The customer mapping and value settings cannot use the same "
				"payload key '%s'.",
				m->value_key);
	const char *w = param_str(r, "event_time_window");
	m->event_time_window = w && *w ? w : NULL;
	return req_write(r, meter_create_fn, &c);
}

static int meter_load_fn(struct db *db, void *arg)
{
	struct meter_ctx *x = arg;
	int rc = meter_load(x->r, db, x->id, &x->m);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(x->r, "billing.meter", x->id, "id");
	return rc == DB_OK ? 0 : req_fail(x->r, ERR_API, NULL, NULL);
}

static int meter_retrieve_fn(struct db *db, void *arg)
{
	struct meter_ctx *x = arg;
	if (meter_load_fn(db, arg) != 0)
		return -1;
	meter_render(x->r, &x->m, req_json(x->r));
	return 0;
}

static int h_meter_retrieve(struct req *r)
{
	struct meter_ctx x = {.r = r, .id = r->args[0]};
	return req_read(r, meter_retrieve_fn, &x) == 0 ? 0 : -1;
}

/* update (display_name), deactivate and reactivate: one write each, with its event */
static int meter_change_fn(struct db *db, void *arg)
{
	struct meter_ctx *x = arg;
	struct req *r = x->r;
	if (meter_load_fn(db, arg) != 0)
		return -1;
	struct meter *m = &x->m;
	const char *type = "billing.meter.updated";
	char prev[512];
	prev[0] = '\0';
	if (x->op == 0) {
		const char *name = param_str(r, "display_name");
		if (name && !*name)
			return fail_blank(r, "display_name");
		if (name && strcmp(name, m->display_name) != 0) {
			struct buf b;
			struct json j;
			buf_init(&b, sizeof(prev));
			json_init(&j, &b);
			json_obj_open(&j);
			json_kv_str(&j, "display_name", m->display_name);
			json_obj_close(&j);
			if (b.failed || b.len >= sizeof(prev)) {
				buf_release(&b);
				return req_fail(r, ERR_API, NULL, NULL);
			}
			memcpy(prev, b.data, b.len);
			prev[b.len] = '\0';
			buf_release(&b);
			m->display_name = name;
		}
	} else if (x->op == 1) {
		if (!m->active)
			return req_fail(r, ERR_INVALID_STATE, NULL,
					"The meter '%s' is already inactive.", m->id);
		m->active = false;
		m->deactivated_at = r->now;
		type = "billing.meter.deactivated";
	} else {
		if (m->active)
			return req_fail(r, ERR_INVALID_STATE, NULL,
					"The meter '%s' is already active.", m->id);
		m->active = true;
		m->deactivated_at = 0;
		type = "billing.meter.reactivated";
	}
	if (x->op == 0 && !prev[0]) { /* nothing changed: no write, no event */
		meter_render(r, m, req_json(r));
		return 0;
	}
	m->updated = r->now;
	struct db_stmt *st = db_prepare(db, SQL_METER_UPDATE);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, m->id, -1);
	db_bind_text(st, 3, m->display_name, -1);
	db_bind_int64(st, 4, m->updated);
	db_bind_int64(st, 5, m->active ? 1 : 0);
	if (m->deactivated_at)
		db_bind_int64(st, 6, m->deactivated_at);
	else
		db_bind_null(st, 6);
	if (db_step_done(st) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	return meter_emit(r, db, m, type, prev[0] ? prev : NULL);
}

static int h_meter_update(struct req *r)
{
	struct meter_ctx x = {.r = r, .id = r->args[0], .op = 0};
	return req_write(r, meter_change_fn, &x);
}

static int h_meter_deactivate(struct req *r)
{
	struct meter_ctx x = {.r = r, .id = r->args[0], .op = 1};
	return req_write(r, meter_change_fn, &x);
}

static int h_meter_reactivate(struct req *r)
{
	struct meter_ctx x = {.r = r, .id = r->args[0], .op = 2};
	return req_write(r, meter_change_fn, &x);
}

static const char SQL_METER_CURSOR[] =
    "SELECT created FROM billing_meters WHERE merchant_id = $1 AND id = $2";
#define METER_LIST_WHERE                                                                           \
	"SELECT id FROM billing_meters WHERE merchant_id = $1 AND id > $2 AND id < $3"             \
	" AND ($5 IS NULL OR active = $5)"
static const char SQL_METER_DESC[] = METER_LIST_WHERE " ORDER BY id DESC LIMIT $4";
static const char SQL_METER_ASC[] = METER_LIST_WHERE " ORDER BY id ASC LIMIT $4";

static int meter_list_bind(struct req *r, struct db_stmt *st, int first, void *ctx)
{
	(void)ctx;
	const char *s = param_str(r, "status");
	if (s && *s)
		db_bind_int64(st, first, strcmp(s, "active") == 0 ? 1 : 0);
	else
		db_bind_null(st, first);
	return 0;
}

static int meter_list_render(struct req *r, struct db *db, const char *id, struct json *j,
			     void *ctx)
{
	(void)ctx;
	struct meter m;
	int rc = meter_load(r, db, id, &m);
	if (rc == DB_OK)
		meter_render(r, &m, j);
	return rc;
}

static int h_meter_list(struct req *r)
{
	static const struct list_spec spec = {
	    .url = "/v1/billing/meters",
	    .object_name = "billing.meter",
	    .id_prefix = "mtr_",
	    .sql_cursor = SQL_METER_CURSOR,
	    .sql_desc = SQL_METER_DESC,
	    .sql_asc = SQL_METER_ASC,
	    .bind_filters = meter_list_bind,
	    .render = meter_list_render,
	};
	return list_respond(r, &spec);
}

/* ---- meter events ---- */

static const char SQL_EVENT_INSERT[] =
    "INSERT INTO billing_meter_events (merchant_id, identifier, event_name, created, ts,"
    " customer, value, payload, canceled) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0)"
    " ON CONFLICT DO NOTHING";

struct event_ctx {
	struct req *r;
	const char *event_name, *identifier, *payload;
	int64_t ts;
	bool has_ts; /* timestamp given (else the customer's time) */
};

/* The active meter of event_name into m: 0, or -1 with r->err (400 when there is none). */
static int active_meter(struct req *r, struct db *db, const char *event_name, struct meter *m)
{
	struct db_stmt *st = NULL;
	int rc = db_row_by_id(db, SQL_METER_BY_EVENT, r->merchant_id, event_name, &st);
	char id[ID_MAX] = "";
	if (rc == DB_OK) {
		str_copy(id, sizeof(id), db_col_text(st, 0, NULL));
		db_reset(st);
		rc = meter_load(r, db, id, m);
	}
	if (rc == DB_NOTFOUND || (rc == DB_OK && !m->active))
		return req_fail(r, ERR_PARAM_BAD, "event_name",
				"No active meter was found for the event_name '%s'.", event_name);
	return rc == DB_OK ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

static int event_create_fn(struct db *db, void *arg)
{
	struct event_ctx *c = arg;
	struct req *r = c->r;
	struct meter m;
	if (active_meter(r, db, c->event_name, &m) != 0)
		return -1;
	char path[PAYLOAD_KEY_MAX + 16];
	snprintf(path, sizeof(path), "payload.%s", m.customer_key);
	const char *customer = param_str(r, path);
	if (!customer || !*customer)
		return req_fail(r, ERR_PARAM_MISSING, "payload", "payload[%s]", m.customer_key);
	if (customer_check(r, db, customer) != 0)
		return -1;
	/* the customer's time: its test clock's frozen time when it has one, so that a
	 * simulation can report usage in the clock's time (and its periods bill it) */
	struct billing_customer cf;
	int64_t now = r->now;
	if (billing_customer_get(r, db, customer, &cf) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (billing_now(r, db, cf.test_clock, &now) != 0)
		return -1;
	int64_t ts = c->has_ts ? c->ts : now;
	if (ts < now - EVENT_PAST_S || ts > now + EVENT_AHEAD_S)
		return req_fail(r, ERR_PARAM_BAD, "timestamp",
				"The timestamp must be within the past 35 calendar days and no "
				"more than 5 minutes in the future%s.",
				cf.test_clock ? " of the customer's test clock" : "");
	int64_t value = 1; /* a count meter counts events: the value may be left out */
	snprintf(path, sizeof(path), "payload.%s", m.value_key);
	const char *vs = param_str(r, path);
	if (vs || m.formula != METER_COUNT) {
		if (!vs || !*vs)
			return req_fail(r, ERR_PARAM_MISSING, "payload", "payload[%s]",
					m.value_key);
		if (meter_value_parse(vs, &value) != 0)
			return req_fail(r, ERR_PARAM_BAD, "payload",
					"The value of payload[%s] must be a whole number of at "
					"most 16 digits; '%s' is not.",
					m.value_key, vs);
	}
	struct db_stmt *st = db_prepare(db, SQL_EVENT_INSERT);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, c->identifier, -1);
	db_bind_text(st, 3, c->event_name, -1);
	db_bind_int64(st, 4, r->now);
	db_bind_int64(st, 5, ts);
	db_bind_text(st, 6, customer, -1);
	db_bind_int64(st, 7, value);
	db_bind_text(st, 8, c->payload, -1);
	int64_t n = 0;
	if (db_step_changes(st, &n) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (n == 0)
		return req_fail(r, ERR_PARAM_BAD, "identifier",
				"An event with the identifier '%s' already exists.", c->identifier);
	/* the meter's usage alerts watching the customer, in this same write */
	if (billing_alerts_usage_recorded(r, db, m.id, customer, c->identifier, value, ts, r->now,
					  now) != 0)
		return -1;
	/* a subscription's billing threshold is checked by its next step, brought to now */
	if (subscription_thresholds_due(r, db, customer, NULL, now) != 0)
		return -1;
	struct json *j = req_json(r);
	json_obj_open(j);
	json_kv_str(j, "object", "billing.meter_event");
	json_kv_int(j, "created", r->now);
	json_kv_str(j, "event_name", c->event_name);
	json_kv_str(j, "identifier", c->identifier);
	json_kv_bool(j, "livemode", r->livemode);
	json_kv_raw(j, "payload", c->payload, strlen(c->payload));
	json_kv_int(j, "timestamp", ts);
	json_obj_close(j);
	return 0;
}

/* The payload hash as a JSON object of strings (its keys in the order given). 0, or -1. */
static int payload_json(struct req *r, const char **ret)
{
	const struct form_node *p = param_node(r, "payload");
	if (!p || p->kind == FORM_SCALAR || p->child_count == 0)
		return req_fail(r, ERR_PARAM_MISSING, "payload", "payload");
	if (p->child_count > PAYLOAD_KEYS_MAX)
		return req_fail(r, ERR_PARAM_BAD, "payload",
				"A meter event's payload may have at most %d keys.",
				PAYLOAD_KEYS_MAX);
	struct buf b;
	struct json j;
	buf_init(&b, 64 * 1024);
	json_init(&j, &b);
	json_obj_open(&j);
	for (const struct form_node *c = p->first_child; c; c = c->next) {
		if (c->key_len > PAYLOAD_KEY_MAX || c->value_len > PAYLOAD_VALUE_MAX) {
			buf_release(&b);
			return req_fail(r, ERR_PARAM_BAD, "payload",
					"A payload key may have at most %d characters and a value "
					"at most %d.",
					PAYLOAD_KEY_MAX, PAYLOAD_VALUE_MAX);
		}
		json_key_n(&j, c->key, c->key_len, false);
		json_strn(&j, c->value, c->value_len);
	}
	json_obj_close(&j);
	*ret = b.failed ? NULL : arena_strndup(&r->arena, b.data, b.len);
	buf_release(&b);
	return *ret ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

static int h_event_create(struct req *r)
{
	struct event_ctx c = {.r = r, .ts = r->now};
	c.event_name = param_str(r, "event_name");
	if (!c.event_name || !*c.event_name)
		return fail_blank(r, "event_name");
	if (payload_json(r, &c.payload) != 0)
		return -1;
	c.identifier = param_str(r, "identifier");
	if (c.identifier && !*c.identifier)
		return fail_blank(r, "identifier");
	if (!c.identifier) {
		char *gen = arena_alloc(&r->arena, ID_MAX);
		if (!gen)
			return req_fail(r, ERR_API, NULL, NULL);
		id_new(gen, "");
		c.identifier = gen;
	}
	/* checked in the write against the customer's time (its test clock's, if any) */
	c.has_ts = param_int(r, "timestamp", &c.ts) == 1;
	return req_write(r, event_create_fn, &c);
}

/* ---- adjustments ---- */

static const char SQL_EVENT_GET[] =
    "SELECT event_name, created, canceled, customer, value, ts FROM billing_meter_events"
    " WHERE merchant_id = $1 AND identifier = $2";
static const char SQL_EVENT_CANCEL[] =
    "UPDATE billing_meter_events SET canceled = 1"
    " WHERE merchant_id = $1 AND identifier = $2 AND canceled = 0";
static const char SQL_ADJUSTMENT_INSERT[] =
    "INSERT INTO billing_meter_event_adjustments (merchant_id, id, created, event_name,"
    " identifier) VALUES ($1, $2, $3, $4, $5)";

struct adjust_ctx {
	struct req *r;
	const char *event_name, *identifier;
};

static int adjust_fn(struct db *db, void *arg)
{
	struct adjust_ctx *c = arg;
	struct req *r = c->r;
	struct db_stmt *st = NULL;
	int rc = db_row_by_id(db, SQL_EVENT_GET, r->merchant_id, c->identifier, &st);
	if (rc == DB_NOTFOUND)
		return req_fail(r, ERR_PARAM_BAD, "cancel[identifier]",
				"No meter event with the identifier '%s' was found.",
				c->identifier);
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	bool same = strcmp(db_col_text(st, 0, NULL), c->event_name) == 0;
	int64_t created = db_col_int64(st, 1);
	bool canceled = db_col_int64(st, 2) != 0;
	const char *customer = col_text_dup(&r->arena, st, 3);
	int64_t value = db_col_int64(st, 4), ts = db_col_int64(st, 5);
	db_reset(st);
	if (!customer)
		return req_fail(r, ERR_API, NULL, NULL);
	if (!same)
		return req_fail(r, ERR_PARAM_BAD, "cancel[identifier]",
				"The meter event '%s' is not an event of '%s'.", c->identifier,
				c->event_name);
	if (canceled)
		return req_fail(r, ERR_PARAM_BAD, "cancel[identifier]",
				"The meter event '%s' has already been canceled.", c->identifier);
	if (created < r->now - CANCEL_WINDOW_S)
		return req_fail(r, ERR_PARAM_BAD, "cancel[identifier]",
				"Only meter events recorded in the last 24 hours can be canceled.");
	st = db_prepare(db, SQL_EVENT_CANCEL);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, c->identifier, -1);
	if (db_step_done(st) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	/* the usage alerts counting it take it back, in this same write (its meter: the one of
	 * its event_name, which an event name keeps for good) */
	st = NULL;
	rc = db_row_by_id(db, SQL_METER_BY_EVENT, r->merchant_id, c->event_name, &st);
	if (rc == DB_OK) {
		char meter_id[ID_MAX];
		str_copy(meter_id, sizeof(meter_id), db_col_text(st, 0, NULL));
		db_reset(st);
		if (billing_alerts_usage_canceled(r, db, meter_id, c->event_name, customer,
						  c->identifier, value, ts, created) != 0)
			return -1;
	} else if (rc != DB_NOTFOUND) {
		return req_fail(r, ERR_API, NULL, NULL);
	}
	char id[ID_MAX];
	id_new_at(id, "mtradj_", r->now);
	st = db_prepare(db, SQL_ADJUSTMENT_INSERT);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, id, -1);
	db_bind_int64(st, 3, r->now);
	db_bind_text(st, 4, c->event_name, -1);
	db_bind_text(st, 5, c->identifier, -1);
	if (db_step_done(st) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	struct json *j = req_json(r);
	json_obj_open(j);
	json_kv_str(j, "object", "billing.meter_event_adjustment");
	json_key(j, "cancel");
	json_obj_open(j);
	json_kv_str(j, "identifier", c->identifier);
	json_obj_close(j);
	json_kv_str(j, "event_name", c->event_name);
	json_kv_bool(j, "livemode", r->livemode);
	/* applied in this write: what summaries and invoices read from now on */
	json_kv_str(j, "status", "complete");
	json_kv_str(j, "type", "cancel");
	json_obj_close(j);
	return 0;
}

static int h_adjust(struct req *r)
{
	struct adjust_ctx c = {.r = r};
	c.event_name = param_str(r, "event_name");
	if (!c.event_name || !*c.event_name)
		return fail_blank(r, "event_name");
	c.identifier = param_str(r, "cancel.identifier");
	if (!c.identifier || !*c.identifier)
		return req_fail(r, ERR_PARAM_MISSING, "cancel[identifier]", "cancel[identifier]");
	return req_write(r, adjust_fn, &c);
}

/* ---- usage ---- */

static const char SQL_USAGE[] =
    "SELECT ts, value FROM billing_meter_events WHERE merchant_id = $1 AND event_name = $2"
    " AND customer = $3 AND ts >= $4 AND ts < $5 AND canceled = 0"
    " ORDER BY ts, created, identifier";

int billing_meter_find(struct db *db, const char *merchant_id, const char *meter_id)
{
	struct db_stmt *st = NULL;
	int rc = db_row_by_id(db, SQL_METER_GET, merchant_id, meter_id, &st);
	if (rc == DB_OK)
		db_reset(st);
	return rc;
}

int billing_meter_usage(struct db *db, const char *merchant_id, const char *meter_id,
			const char *customer, int64_t start, int64_t end, struct meter_usage *ret)
{
	struct db_stmt *st = NULL;
	int rc = db_row_by_id(db, SQL_METER_GET, merchant_id, meter_id, &st);
	if (rc != DB_OK)
		return rc;
	char event_name[EVENT_NAME_MAX + 1];
	str_copy(event_name, sizeof(event_name), db_col_text(st, 4, NULL));
	enum meter_formula f;
	if (meter_formula_parse(db_col_text(st, 6, NULL), &f) != 0)
		f = METER_SUM;
	db_reset(st);
	meter_usage_init(ret, f);
	st = db_prepare(db, SQL_USAGE);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, event_name, -1);
	db_bind_text(st, 3, customer, -1);
	db_bind_int64(st, 4, start);
	db_bind_int64(st, 5, end);
	while ((rc = db_step(st)) == DB_ROW)
		meter_usage_add(ret, db_col_int64(st, 1));
	db_reset(st);
	return rc == DB_DONE ? DB_OK : DB_ERR;
}

/* One window of an event summary list: [start, end) and its usage. */
struct window {
	int64_t start, end;
	struct meter_usage u;
};

struct summary_ctx {
	struct req *r;
	const char *meter_id, *customer;
	int64_t start, end, step; /* step: the window's length, 0 for one summary */
	struct meter m;
	struct window *w;
	size_t n, cap;
};

/* The window that ts falls in, appended when it is new (events come in ts order). */
static struct window *window_for(struct summary_ctx *c, int64_t ts)
{
	int64_t ws = c->step ? c->start + (ts - c->start) / c->step * c->step : c->start;
	if (c->n && c->w[c->n - 1].start == ws)
		return &c->w[c->n - 1];
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 16;
		struct window *nw = arena_alloc(&c->r->arena, cap * sizeof(*nw));
		if (!nw)
			return NULL;
		if (c->n)
			memcpy(nw, c->w, c->n * sizeof(*nw));
		c->w = nw;
		c->cap = cap;
	}
	struct window *w = &c->w[c->n++];
	w->start = ws;
	w->end = c->step ? ws + c->step : c->end;
	meter_usage_init(&w->u, c->m.formula);
	return w;
}

static int summary_fn(struct db *db, void *arg)
{
	struct summary_ctx *c = arg;
	struct req *r = c->r;
	int rc = meter_load(r, db, c->meter_id, &c->m);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(r, "billing.meter", c->meter_id, "id");
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (customer_check(r, db, c->customer) != 0)
		return -1;
	struct db_stmt *st = db_prepare(db, SQL_USAGE);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, c->m.event_name, -1);
	db_bind_text(st, 3, c->customer, -1);
	db_bind_int64(st, 4, c->start);
	db_bind_int64(st, 5, c->end);
	c->n = 0;
	if (!c->step) { /* one summary, even of no usage */
		if (!window_for(c, c->start)) {
			db_reset(st);
			return req_fail(r, ERR_API, NULL, NULL);
		}
	}
	while ((rc = db_step(st)) == DB_ROW) {
		struct window *w = window_for(c, db_col_int64(st, 0));
		if (!w) {
			db_reset(st);
			return req_fail(r, ERR_API, NULL, NULL);
		}
		meter_usage_add(&w->u, db_col_int64(st, 1));
	}
	db_reset(st);
	if (rc != DB_DONE)
		return req_fail(r, ERR_API, NULL, NULL);
	for (size_t i = 0; i < c->n; i++)
		if (c->w[i].u.overflow)
			return req_fail(r, ERR_PARAM_BAD, "start_time",
					"The usage of this window is too large to add up; ask for "
					"shorter windows.");
	return 0;
}

/* A summary's id names its meter's window: "mtrusg_" + the window's start in 12 hex digits +
 * 8 of a hash of the meter, customer and window length, so a cursor finds its place again. */
static void summary_id(char out[ID_MAX], const struct summary_ctx *c, int64_t start)
{
	uint32_t h = 2166136261u;
	for (const char *p = c->meter_id; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	for (const char *p = c->customer; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	h = (h ^ (uint32_t)c->step) * 16777619u;
	snprintf(out, ID_MAX, "mtrusg_%012llx%08x", (unsigned long long)start, h);
}

/* The window start a summary id names (-1 if it is not one of this list's). */
static int64_t summary_cursor(const struct summary_ctx *c, const char *id)
{
	if (!id || strlen(id) != 7 + 12 + 8 || strncmp(id, "mtrusg_", 7) != 0)
		return -1;
	char hex[13];
	memcpy(hex, id + 7, 12);
	hex[12] = '\0';
	char *end = NULL;
	unsigned long long v = strtoull(hex, &end, 16);
	if (!end || *end || (int64_t)v < c->start || (int64_t)v >= c->end)
		return -1;
	char want[ID_MAX];
	summary_id(want, c, (int64_t)v);
	return strcmp(want, id) == 0 ? (int64_t)v : -1;
}

static void summary_render(struct req *r, const struct summary_ctx *c, const struct window *w,
			   struct json *j)
{
	char id[ID_MAX];
	summary_id(id, c, w->start);
	json_obj_open(j);
	json_kv_str(j, "id", id);
	json_kv_str(j, "object", "billing.meter_event_summary");
	json_kv_int(j, "aggregated_value", meter_usage_value(&w->u));
	json_kv_int(j, "end_time", w->end);
	json_kv_bool(j, "livemode", r->livemode);
	json_kv_str(j, "meter", c->m.id);
	json_kv_int(j, "start_time", w->start);
	json_obj_close(j);
}

static int h_summaries(struct req *r)
{
	struct summary_ctx c = {.r = r, .meter_id = r->args[0]};
	c.customer = param_str(r, "customer");
	if (!c.customer || !*c.customer)
		return fail_blank(r, "customer");
	if (param_int(r, "start_time", &c.start) != 1)
		return req_fail(r, ERR_PARAM_MISSING, "start_time", "start_time");
	if (param_int(r, "end_time", &c.end) != 1)
		return req_fail(r, ERR_PARAM_MISSING, "end_time", "end_time");
	const char *g = param_str(r, "value_grouping_window");
	c.step = !g || !*g ? 0 : strcmp(g, "hour") == 0 ? 3600 : 86400;
	int64_t align = c.step ? c.step : 60;
	if (c.start < 0 || c.start % align != 0)
		return req_fail(r, ERR_PARAM_BAD, "start_time",
				"start_time must be aligned with %s boundaries.",
				c.step == 86400 ? "UTC day"
				: c.step	? "hour"
						: "minute");
	if (c.end <= c.start || c.end % align != 0 || c.end > ID_CREATED_MAX)
		return req_fail(r, ERR_PARAM_BAD, "end_time",
				"end_time must be after start_time and aligned with %s boundaries.",
				c.step == 86400 ? "UTC day"
				: c.step	? "hour"
						: "minute");
	int64_t limit;
	const char *after, *before;
	if (list_page_params(r, 100, &limit, &after, &before) != 0)
		return -1;
	if (req_read(r, summary_fn, &c) != 0)
		return -1;
	/* newest first: windows [0, n) are in ascending order; the page walks them backwards */
	int64_t hi = (int64_t)c.n - 1, lo = 0; /* indexes the page may take */
	if (after || before) {
		int64_t at = summary_cursor(&c, after ? after : before);
		if (at < 0)
			return req_fail_missing(r, "billing.meter_event_summary",
						after ? after : before,
						after ? "starting_after" : "ending_before");
		/* the first window after the cursor in the list's order */
		int64_t i = 0;
		while (i < (int64_t)c.n && c.w[i].start < at)
			i++;
		if (after)
			hi = i - 1; /* older windows than the cursor's */
		else
			lo = i < (int64_t)c.n && c.w[i].start == at ? i + 1 : i;
	}
	int64_t first = hi, last = hi - limit + 1; /* the page: [last, first], newest first */
	if (before) { /* the page ends right before the cursor: the oldest `limit` of [lo, n) */
		last = lo;
		first = lo + limit - 1 < (int64_t)c.n - 1 ? lo + limit - 1 : (int64_t)c.n - 1;
	}
	if (last < lo)
		last = lo;
	bool more = before ? first < (int64_t)c.n - 1 : last > lo;
	struct json *j = req_json(r);
	json_obj_open(j);
	json_kv_str(j, "object", "list");
	json_key(j, "data");
	json_arr_open(j);
	for (int64_t i = first; i >= last && i >= 0; i--)
		summary_render(r, &c, &c.w[i], j);
	json_arr_close(j);
	json_kv_bool(j, "has_more", more);
	char url[ID_MAX + 64];
	snprintf(url, sizeof(url), "/v1/billing/meters/%s/event_summaries", c.m.id);
	json_kv_str(j, "url", url);
	json_obj_close(j);
	return 0;
}

const struct route billing_meters_routes[] = {
    {"POST", "/v1/billing/meters", h_meter_create, meter_create_params, 0},
    {"GET", "/v1/billing/meters", h_meter_list, meter_list_params, ROUTE_LIST},
    {"GET", "/v1/billing/meters/{id}", h_meter_retrieve, no_params, 0},
    {"POST", "/v1/billing/meters/{id}", h_meter_update, meter_update_params, 0},
    {"POST", "/v1/billing/meters/{id}/deactivate", h_meter_deactivate, no_params, 0},
    {"POST", "/v1/billing/meters/{id}/reactivate", h_meter_reactivate, no_params, 0},
    {"GET", "/v1/billing/meters/{id}/event_summaries", h_summaries, summary_params, ROUTE_LIST},
    {"POST", "/v1/billing/meter_events", h_event_create, event_create_params, 0},
    {"POST", "/v1/billing/meter_event_adjustments", h_adjust, adjustment_params, 0},
    {NULL, NULL, NULL, NULL, 0},
};
