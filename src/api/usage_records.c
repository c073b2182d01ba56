/*
 * Legacy metered billing (Stripe API 2023-08-16): a subscription item whose price is metered
 * without a billing meter (recurring[usage_type]=metered, no recurring[meter]) is billed from
 * the usage records reported on it.
 *  - POST /v1/subscription_items/{id}/usage_records: quantity (≥ 0), timestamp (a Unix time or
 *    "now", the default: the subscription's time, its test clock's when it has one), action
 *    increment (default: adds to the usage at that timestamp) or set (replaces it). The
 *    timestamp must be in the item's current period (from when the item came, for one added
 *    during it) and not in the future; Stripe's grace: while the renewal invoice of the period
 *    that ended is still a draft (its hour, subscriptions.c), a timestamp in that period is
 *    taken too, and that invoice bills it when it is finalized (draft_usage_refresh).
 *    A licensed item, an item of a meter-backed price (its usage is meter events) and an
 *    item of a canceled subscription are refused (400). Each record is a row of its own,
 *    never updated: `set` overwrites by coming later. Usage records have no v1 event, on
 *    Stripe or here.
 *  - GET /v1/subscription_items/{id}/usage_record_summaries: one summary per period of the
 *    item, newest first: the current period (invoice null, still changing), then each period
 *    an invoice of the subscription billed for it (its metered line's period; invoice named),
 *    total_usage the records aggregated over it as the price's aggregate_usage says.
 * How a period's usage adds up is billing/usage_records.h; the subscription's invoices bill it
 * through the same path as a meter's usage (item_usage in subscriptions.c), which calls
 * usage_records_total here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "api/billing_internal.h"
#include "api/common.h"
#include "api/list.h"
#include "api/resources.h"
#include "billing/usage_records.h"
#include "core/parse.h"
#include "core/str.h"
#include "http/form.h"

#define SUMMARIES_MAX 1000 /* periods listed (a daily item's ~3 years) */

static const char *const actions[] = {"increment", "set", NULL};
static const struct param_spec create_params[] = {
    {"quantity", PT_INT, PF_REQUIRED, 0, NULL, NULL},
    {"timestamp", PT_STRING, 0, 20, NULL, NULL},
    {"action", PT_ENUM, 0, 0, actions, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec no_params[] = {{NULL, 0, 0, 0, NULL, NULL}};

static const char SQL_RECORDS[] =
    "SELECT ts, quantity, action FROM usage_records WHERE merchant_id = $1"
    " AND subscription_item = $2 AND ts >= $3 AND ts < $4 ORDER BY ts, seq";
static const char SQL_NEXT_SEQ[] = "SELECT COALESCE(MAX(seq), 0) + 1 FROM usage_records"
				   " WHERE merchant_id = $1 AND subscription_item = $2";
static const char SQL_INSERT[] =
    "INSERT INTO usage_records (merchant_id, id, subscription_item, seq, created, ts, quantity,"
    " action) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
static const char SQL_INVOICES[] = "SELECT id, status, lines FROM invoices WHERE merchant_id = $1"
				   " AND subscription = $2 ORDER BY created, id";
static const char SQL_INVOICE[] =
    "SELECT id, status, lines FROM invoices WHERE merchant_id = $1 AND id = $2";

int usage_records_total(struct db *db, const char *merchant_id, const char *item,
			const char *aggregate_usage, int64_t start, int64_t end, int64_t *ret,
			bool *overflow)
{
	enum usage_aggregate agg;
	if (usage_aggregate_parse(aggregate_usage, &agg) != 0)
		agg = USAGE_SUM;
	struct usage_total u;
	usage_total_init(&u, agg, start);
	struct db_stmt *st = db_prepare(db, SQL_RECORDS);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, item, -1);
	db_bind_int64(st, 3, agg == USAGE_LAST_EVER ? INT64_MIN : start);
	db_bind_int64(st, 4, end);
	int rc;
	while ((rc = db_step(st)) == DB_ROW)
		usage_total_add(&u, db_col_int64(st, 0), db_col_int64(st, 1),
				str_eq(db_col_text(st, 2, NULL), "set"));
	db_reset(st);
	if (rc != DB_DONE)
		return rc < 0 ? rc : DB_ERR;
	*overflow = usage_total_value(&u, ret) != 0;
	if (*overflow)
		*ret = 0;
	return DB_OK;
}

/* Is invoice line l item's (a subscription item line, not a proration) with a period of its
 * own? Its period into *ps, *pe. */
static bool item_line(json_t *l, const char *item, int64_t *ps, int64_t *pe)
{
	json_t *d = json_object_get(json_object_get(l, "parent"), "subscription_item_details");
	const char *si = json_string_value(json_object_get(d, "subscription_item"));
	if (!si || !str_eq(si, item) || json_is_true(json_object_get(d, "proration")))
		return false;
	json_t *period = json_object_get(l, "period");
	*ps = json_integer_value(json_object_get(period, "start"));
	*pe = json_integer_value(json_object_get(period, "end"));
	return *pe > *ps;
}

/* ---- create ---- */

struct create_ctx {
	struct req *r;
	const char *item;
	int64_t quantity, ts;
	bool has_ts, set;
};

/* Stripe's grace for a timestamp before the current period: the renewal invoice of the period
 * that ended (the subscription's latest) is still a draft and bills item's usage of a window
 * that holds ts. 1 (taken), 0 (not), or < 0. */
static int draft_window_holds(struct req *r, struct db *db, const struct sub_item_usage *f,
			      const char *item, int64_t ts)
{
	if (!f->latest_invoice)
		return 0;
	struct db_stmt *st = NULL;
	int rc = db_row_by_id(db, SQL_INVOICE, r->merchant_id, f->latest_invoice, &st);
	if (rc == DB_NOTFOUND)
		return 0;
	if (rc != DB_OK)
		return rc;
	bool draft = str_eq(db_col_text(st, 1, NULL), "draft");
	json_t *lines = draft ? json_loads(db_col_text(st, 2, NULL), 0, NULL) : NULL;
	db_reset(st);
	int found = 0;
	size_t k;
	json_t *l;
	json_array_foreach(lines, k, l)
	{
		int64_t ps, pe;
		if (item_line(l, item, &ps, &pe) && pe <= f->period_start && ps <= ts && ts < pe)
			found = 1;
	}
	json_decref(lines);
	return found;
}

static int create_fn(struct db *db, void *arg)
{
	struct create_ctx *c = arg;
	struct req *r = c->r;
	struct sub_item_usage f;
	int rc = subscription_item_usage_facts(r, db, c->item, &f);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(r, "subscription_item", c->item, "subscription_item");
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (!f.metered)
		return req_fail(r, ERR_PARAM_BAD, NULL,
				"Usage records can only be created for subscription items with a "
				"metered price (recurring[usage_type]=metered); %s has a licensed "
				"quantity.",
				c->item);
	if (f.meter)
		return req_fail(r, ERR_PARAM_BAD, NULL,
				"The price of %s is backed by the billing meter %s: report its "
				"usage with meter events (POST /v1/billing/meter_events), not "
				"usage records.",
				c->item, f.meter);
	if (str_eq(f.status, "canceled") || str_eq(f.status, "incomplete_expired"))
		return req_fail(r, ERR_INVALID_STATE, NULL,
				"Usage records cannot be created for %s: its subscription %s is "
				"%s.",
				c->item, f.subscription, f.status);
	int64_t now;
	if (billing_now(r, db, f.test_clock, &now) != 0)
		return -1;
	int64_t ts = c->has_ts ? c->ts : now;
	if (ts > now || ts >= f.period_end)
		return req_fail(r, ERR_PARAM_BAD, "timestamp",
				"Cannot create the usage record with this timestamp because "
				"timestamps must not be in the future%s and must be before the "
				"subscription's current period end time.",
				f.test_clock ? " of the subscription's test clock" : "");
	int64_t from = f.usage_since > f.period_start ? f.usage_since : f.period_start;
	if (ts < from) {
		int in = draft_window_holds(r, db, &f, c->item, ts);
		if (in < 0)
			return req_fail(r, ERR_API, NULL, NULL);
		if (!in)
			return req_fail(
			    r, ERR_PARAM_BAD, "timestamp",
			    "Cannot create the usage record with this timestamp because "
			    "timestamps must be after the subscription's last invoice "
			    "period (or current period start time).");
	}
	struct db_stmt *st = db_prepare(db, SQL_NEXT_SEQ);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, c->item, -1);
	rc = db_step(st);
	int64_t seq = rc == DB_ROW ? db_col_int64(st, 0) : 0;
	db_reset(st);
	if (rc != DB_ROW)
		return req_fail(r, ERR_API, NULL, NULL);
	char id[ID_MAX];
	id_new_at(id, "mbur_", r->now);
	st = db_prepare(db, SQL_INSERT);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, id, -1);
	db_bind_text(st, 3, c->item, -1);
	db_bind_int64(st, 4, seq);
	db_bind_int64(st, 5, r->now);
	db_bind_int64(st, 6, ts);
	db_bind_int64(st, 7, c->quantity);
	db_bind_text(st, 8, c->set ? "set" : "increment", -1);
	if (db_step_done(st) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	/* its subscription's billing thresholds are checked by its next step, brought to now */
	if (subscription_thresholds_due(r, db, NULL, f.subscription, now) != 0)
		return -1;
	struct json *j = req_json(r);
	json_obj_open(j);
	json_kv_str(j, "id", id);
	json_kv_str(j, "object", "usage_record");
	json_kv_bool(j, "livemode", r->livemode);
	json_kv_int(j, "quantity", c->quantity);
	json_kv_str(j, "subscription_item", c->item);
	json_kv_int(j, "timestamp", ts);
	json_obj_close(j);
	return 0;
}

static int h_create(struct req *r)
{
	struct create_ctx c = {.r = r, .item = r->args[0]};
	if (param_int(r, "quantity", &c.quantity) != 1)
		return req_fail(r, ERR_PARAM_MISSING, "quantity", "quantity");
	if (c.quantity < 0)
		return req_fail(r, ERR_PARAM_BAD, "quantity",
				"Invalid quantity: must be greater than or equal to 0.");
	const char *ts = param_str(r, "timestamp");
	if (ts && !*ts)
		return req_fail(
		    r, ERR_PARAM_INVALID_STRING, "timestamp",
		    "You passed an empty string for 'timestamp'. We assume empty values "
		    "are an attempt to unset a parameter; however 'timestamp' cannot be "
		    "unset. You should remove 'timestamp' from your request or supply a "
		    "non-empty value.");
	if (ts && !str_eq(ts, "now")) {
		if (parse_i64(ts, &c.ts) != 0 || c.ts < 0)
			return req_fail(r, ERR_PARAM_BAD, "timestamp",
					"Invalid timestamp: must be an integer Unix timestamp or "
					"`now`.");
		c.has_ts = true;
	}
	const char *action = param_str(r, "action");
	c.set = action && str_eq(action, "set");
	return req_write(r, create_fn, &c);
}

/* ---- summaries ---- */

struct summary {
	int64_t start, end, total;
	const char *invoice; /* NULL: the current period */
};

struct summary_ctx {
	struct req *r;
	const char *item;
	struct sub_item_usage f;
	struct summary *s;
	int n;
};

/* The summary starting at `start` (replacing one there: a later invoice's line for the same
 * period, as a renewal's after a first invoice's 0 line), or a new one. NULL when full. */
static struct summary *summary_at(struct summary_ctx *c, int64_t start)
{
	for (int i = 0; i < c->n; i++)
		if (c->s[i].start == start)
			return &c->s[i];
	return c->n < SUMMARIES_MAX ? &c->s[c->n++] : NULL;
}

static int cmp_start(const void *a, const void *b)
{
	const struct summary *x = a, *y = b;
	return x->start < y->start ? -1 : x->start > y->start;
}

static int summaries_fn(struct db *db, void *arg)
{
	struct summary_ctx *c = arg;
	struct req *r = c->r;
	int rc = subscription_item_usage_facts(r, db, c->item, &c->f);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(r, "subscription_item", c->item, "subscription_item");
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (!c->f.metered || c->f.meter)
		return req_fail(r, ERR_PARAM_BAD, NULL,
				"Usage record summaries are only available for subscription items "
				"of a metered price without a meter; %s is not one.",
				c->item);
	c->s = arena_alloc(&r->arena, SUMMARIES_MAX * sizeof(*c->s));
	if (!c->s)
		return req_fail(r, ERR_API, NULL, NULL);
	c->n = 0;
	bool ended = str_eq(c->f.status, "canceled") || str_eq(c->f.status, "incomplete_expired");
	struct db_stmt *st = db_prepare(db, SQL_INVOICES);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, c->f.subscription, -1);
	while ((rc = db_step(st)) == DB_ROW) {
		if (str_eq(db_col_text(st, 1, NULL), "void"))
			continue;
		const char *inv = col_text_dup(&r->arena, st, 0);
		json_t *lines = json_loads(db_col_text(st, 2, NULL), 0, NULL);
		size_t k;
		json_t *l;
		json_array_foreach(lines, k, l)
		{
			int64_t ps, pe;
			/* the line billed ahead for the current period (a first invoice's 0) is
			 * the current period's summary below */
			if (!item_line(l, c->item, &ps, &pe) || (!ended && pe > c->f.period_start))
				continue;
			struct summary *s = summary_at(c, ps);
			if (s)
				*s = (struct summary){ps, pe, 0, inv};
		}
		json_decref(lines);
		if (!inv) {
			rc = DB_ERR;
			break;
		}
	}
	db_reset(st);
	if (rc != DB_DONE)
		return req_fail(r, ERR_API, NULL, NULL);
	if (!ended) {
		int64_t from =
		    c->f.usage_since > c->f.period_start ? c->f.usage_since : c->f.period_start;
		struct summary *s = summary_at(c, from);
		if (s)
			*s = (struct summary){from, c->f.period_end, 0, NULL};
	}
	qsort(c->s, (size_t)c->n, sizeof(*c->s), cmp_start);
	for (int i = 0; i < c->n; i++) {
		bool overflow = false;
		/* a canceled subscription's last period ends at its cancellation, whose final
		 * invoice billed the records stamped at that very second too */
		int64_t end = c->s[i].end + (ended && i == c->n - 1 ? 1 : 0);
		if (usage_records_total(db, r->merchant_id, c->item, c->f.aggregate_usage,
					c->s[i].start, end, &c->s[i].total, &overflow) != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		if (overflow)
			return req_fail(r, ERR_AMOUNT_TOO_LARGE, NULL,
					"The usage of %s is too large to add up.", c->item);
	}
	return 0;
}

/* A summary's id names its item's period: "sis_" + the period's start in 12 hex digits + 8 of
 * a hash of the item, so a cursor finds its place again. */
static void summary_id(char out[ID_MAX], const char *item, int64_t start)
{
	uint32_t h = 2166136261u;
	for (const char *p = item; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	snprintf(out, ID_MAX, "sis_%012llx%08x", (unsigned long long)start, h);
}

/* The index of the summary a cursor names, or -1. */
static int summary_cursor(const struct summary_ctx *c, const char *id)
{
	char want[ID_MAX];
	for (int i = 0; i < c->n; i++) {
		summary_id(want, c->item, c->s[i].start);
		if (str_eq(want, id))
			return i;
	}
	return -1;
}

static void summary_render(struct req *r, const struct summary_ctx *c, const struct summary *s,
			   struct json *j)
{
	char id[ID_MAX];
	summary_id(id, c->item, s->start);
	json_obj_open(j);
	json_kv_str(j, "id", id);
	json_kv_str(j, "object", "usage_record_summary");
	json_kv_str_or_null(j, "invoice", s->invoice);
	json_kv_bool(j, "livemode", r->livemode);
	json_key(j, "period");
	json_obj_open(j);
	json_kv_int(j, "end", s->end);
	json_kv_int(j, "start", s->start);
	json_obj_close(j);
	json_kv_str(j, "subscription_item", c->item);
	json_kv_int(j, "total_usage", s->total);
	json_obj_close(j);
}

static int h_summaries(struct req *r)
{
	struct summary_ctx c = {.r = r, .item = r->args[0]};
	int64_t limit;
	const char *after, *before;
	if (list_page_params(r, 100, &limit, &after, &before) != 0)
		return -1;
	if (req_read(r, summaries_fn, &c) != 0)
		return -1;
	/* newest first: [0, n) ascending, the page walks them backwards */
	int hi = c.n - 1, lo = 0;
	if (after || before) {
		int at = summary_cursor(&c, after ? after : before);
		if (at < 0)
			return req_fail_missing(r, "usage_record_summary", after ? after : before,
						after ? "starting_after" : "ending_before");
		if (after)
			hi = at - 1;
		else
			lo = at + 1;
	}
	int first = hi, last = hi - (int)limit + 1;
	if (before) { /* the page ends right before the cursor: the oldest `limit` of [lo, n) */
		last = lo;
		first = lo + (int)limit - 1 < c.n - 1 ? lo + (int)limit - 1 : c.n - 1;
	}
	if (last < lo)
		last = lo;
	bool more = before ? first < c.n - 1 : last > lo;
	struct json *j = req_json(r);
	json_obj_open(j);
	json_kv_str(j, "object", "list");
	json_key(j, "data");
	json_arr_open(j);
	for (int i = first; i >= last && i >= 0; i--)
		summary_render(r, &c, &c.s[i], j);
	json_arr_close(j);
	json_kv_bool(j, "has_more", more);
	char url[ID_MAX + 64];
	snprintf(url, sizeof(url), "/v1/subscription_items/%s/usage_record_summaries", c.item);
	json_kv_str(j, "url", url);
	json_obj_close(j);
	return 0;
}

const struct route usage_records_routes[] = {
    {"POST", "/v1/subscription_items/{id}/usage_records", h_create, create_params, 0},
    {"GET", "/v1/subscription_items/{id}/usage_record_summaries", h_summaries, no_params,
     ROUTE_LIST},
    {NULL, NULL, NULL, NULL, 0},
};
