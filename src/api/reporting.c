/*
 * /v1/reporting/report_types and /v1/reporting/report_runs: Stripe's Reporting API, the
 * reconciliation reports of the merchant's balance (src/reporting/report.c computes them).
 *
 * A report type's data_available_start is the UTC day of the merchant's first balance
 * transaction (today's for a fresh account, which still lists every type) and data_available_end
 * is now: the ledger is written in the same transaction as what moved the money, so Tender's
 * data never lags as Stripe's does. `updated` is data_available_end for the same reason.
 *
 * A run is made `pending` after its parameters are checked against its type (parameters it does
 * not take, unknown columns, an interval outside the data available: Stripe's 400s; a refused run
 * writes nothing). The scheduler then computes it (reporting_runs_tick, in a read transaction: see
 * compute_fn) and, in one write, stores
 * the CSV as a file of purpose finance_report_run (its bytes in the store, downloaded from the
 * file's url with the secret key, never uploadable), sets `result` (the file object, as Stripe
 * embeds it), `succeeded_at` and `succeeded`, and appends reporting.report_run.succeeded; a report
 * past its bounds (rows, bytes) or a sum past int64 makes the run `failed` with its `error` and
 * reporting.report_run.failed instead. The guarded UPDATE … AND status = 'pending' decides a race
 * between two nodes. Stripe sends no event when a run is made; neither does Tender.
 */
#include <stdio.h>
#include <string.h>

#include "api/common.h"
#include "api/files.h"
#include "api/list.h"
#include "api/resources.h"
#include "core/str.h"
#include "events/events.h"
#include "http/form.h"
#include "money/currency.h"
#include "reporting/report.h"
#include "scheduler/scheduler.h"
#include "store/store.h"

#define REPORT_RUN_BATCH 2

/* ---- SQL ---- */

static const char SQL_INSERT[] =
    "INSERT INTO report_runs (merchant_id, id, created, livemode, report_type, interval_start,"
    " interval_end, currency, reporting_category, timezone, columns, status, host)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'pending', $12)";
static const char SQL_GET[] =
    "SELECT id, created, livemode, report_type, interval_start, interval_end, currency,"
    " reporting_category, timezone, columns, status, result, succeeded_at, error, host"
    " FROM report_runs WHERE merchant_id = $1 AND id = $2";
static const char SQL_SUCCEED[] =
    "UPDATE report_runs SET status = 'succeeded', result = $3, succeeded_at = $4"
    " WHERE merchant_id = $1 AND id = $2 AND status = 'pending'";
static const char SQL_FAIL[] = "UPDATE report_runs SET status = 'failed', error = $3"
			       " WHERE merchant_id = $1 AND id = $2 AND status = 'pending'";
static const char SQL_CURSOR[] =
    "SELECT created FROM report_runs WHERE merchant_id = $1 AND id = $2";
static const char SQL_DESC[] = "SELECT id FROM report_runs WHERE merchant_id = $1 AND id > $2"
			       " AND id < $3 ORDER BY id DESC LIMIT $4";
static const char SQL_ASC[] = "SELECT id FROM report_runs WHERE merchant_id = $1 AND id > $2"
			      " AND id < $3 ORDER BY id ASC LIMIT $4";
const char REPORTING_DUE_SQL[] =
    "SELECT 1 FROM report_runs WHERE status = 'pending' AND created <= $1 LIMIT 1";
static const char SQL_DUE[] = "SELECT merchant_id, id FROM report_runs WHERE status = 'pending'"
			      " AND created <= $1 ORDER BY created LIMIT $2";

/* ---- a run ---- */

struct run {
	const char *id, *report_type, *currency, *reporting_category, *timezone, *columns;
	const char *status, *result, *error, *host;
	int64_t created, interval_start, interval_end, succeeded_at;
	bool livemode;
};

static int run_load(struct arena *a, struct db *db, const char *merchant_id, const char *id,
		    struct run *ret)
{
	struct db_stmt *st;
	int rc = db_row_by_id(db, SQL_GET, merchant_id, id, &st);
	if (rc != DB_OK)
		return rc;
	struct run u;
	memset(&u, 0, sizeof(u));
	u.id = col_text_dup(a, st, 0);
	u.created = db_col_int64(st, 1);
	u.livemode = db_col_int64(st, 2) != 0;
	u.report_type = col_text_dup(a, st, 3);
	u.interval_start = db_col_int64(st, 4);
	u.interval_end = db_col_int64(st, 5);
	u.currency = col_text_dup(a, st, 6);
	u.reporting_category = col_text_dup(a, st, 7);
	u.timezone = col_text_dup(a, st, 8);
	u.columns = col_text_dup(a, st, 9);
	u.status = col_text_dup(a, st, 10);
	u.result = col_text_dup(a, st, 11);
	u.succeeded_at = db_col_int64_or0(st, 12);
	u.error = col_text_dup(a, st, 13);
	u.host = col_text_dup(a, st, 14);
	db_reset(st);
	if (!u.id || !u.report_type || !u.status)
		return DB_ERR;
	*ret = u;
	return DB_OK;
}

/* Splits the stored comma-separated columns into p (names hold no comma). */
static int columns_split(struct arena *a, const char *cols, struct report_params *p)
{
	p->ncolumns = 0;
	if (!cols || !*cols)
		return 0;
	char *s = arena_strdup(a, cols);
	if (!s)
		return -1;
	for (char *c = s; c && p->ncolumns < REPORT_COLUMNS_MAX;) {
		char *comma = strchr(c, ',');
		if (comma)
			*comma = '\0';
		p->columns[p->ncolumns++] = c;
		c = comma ? comma + 1 : NULL;
	}
	return 0;
}

static int run_render(struct req *r, struct db *db, const struct run *u, struct json *j)
{
	struct report_params p;
	memset(&p, 0, sizeof(p));
	if (columns_split(&r->arena, u->columns, &p) != 0)
		return DB_ERR;
	json_obj_open(j);
	json_kv_str(j, "id", u->id);
	json_kv_str(j, "object", "reporting.report_run");
	json_kv_int(j, "created", u->created);
	json_kv_str_or_null(j, "error", u->error);
	json_kv_bool(j, "livemode", u->livemode);
	json_key(j, "parameters");
	json_obj_open(j);
	if (p.ncolumns) {
		json_key(j, "columns");
		json_arr_open(j);
		for (int i = 0; i < p.ncolumns; i++)
			json_str(j, p.columns[i]);
		json_arr_close(j);
	}
	if (u->currency)
		json_kv_str(j, "currency", u->currency);
	json_kv_int(j, "interval_end", u->interval_end);
	json_kv_int(j, "interval_start", u->interval_start);
	if (u->reporting_category)
		json_kv_str(j, "reporting_category", u->reporting_category);
	if (u->timezone)
		json_kv_str(j, "timezone", u->timezone);
	json_obj_close(j);
	json_kv_str(j, "report_type", u->report_type);
	json_key(j, "result");
	if (u->result) {
		int rc = file_render_by_id(r, db, u->result, j);
		if (rc != DB_OK)
			return rc == DB_NOTFOUND ? DB_ERR : rc;
	} else {
		json_nil(j);
	}
	json_kv_str(j, "status", u->status);
	json_key(j, "succeeded_at");
	if (u->succeeded_at)
		json_int(j, u->succeeded_at);
	else
		json_nil(j);
	json_obj_close(j);
	return DB_OK;
}

static int run_render_by_id(struct req *r, struct db *db, const char *id, struct json *j)
{
	struct run u;
	int rc = run_load(&r->arena, db, r->merchant_id, id, &u);
	return rc == DB_OK ? run_render(r, db, &u, j) : rc;
}

/* ---- report types ---- */

static void type_render(struct req *r, const struct report_type *t, int64_t start, int64_t end,
			struct json *j)
{
	json_obj_open(j);
	json_kv_str(j, "id", t->id);
	json_kv_str(j, "object", "reporting.report_type");
	json_kv_int(j, "data_available_end", end);
	json_kv_int(j, "data_available_start", start);
	json_key(j, "default_columns");
	json_arr_open(j);
	for (int i = 0; t->defaults[i]; i++)
		json_str(j, t->defaults[i]);
	json_arr_close(j);
	json_kv_bool(j, "livemode", r->livemode);
	json_kv_str(j, "name", t->name);
	json_kv_int(j, "updated", end);
	json_kv_int(j, "version", t->version);
	json_obj_close(j);
}

struct type_ctx {
	struct req *r;
	const struct report_type *t; /* NULL: the list */
};

static int types_fn(struct db *db, void *p)
{
	struct type_ctx *x = p;
	struct req *r = x->r;
	int64_t start = 0, end = 0;
	if (report_data_available(db, r->merchant_id, r->now, &start, &end) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	struct json *j = req_json(r);
	if (x->t) {
		type_render(r, x->t, start, end, j);
		return 0;
	}
	json_obj_open(j);
	json_kv_str(j, "object", "list");
	json_key(j, "data");
	json_arr_open(j);
	for (size_t i = 0; report_type_at(i); i++)
		type_render(r, report_type_at(i), start, end, j);
	json_arr_close(j);
	json_kv_bool(j, "has_more", false);
	json_kv_str(j, "url", "/v1/reporting/report_types");
	json_obj_close(j);
	return 0;
}

static int h_types(struct req *r)
{
	struct type_ctx x = {r, NULL};
	return req_read(r, types_fn, &x);
}

static int h_type(struct req *r)
{
	struct type_ctx x = {r, report_type_find(r->args[0])};
	if (!x.t)
		return req_fail_missing(r, "report type", r->args[0], "id");
	return req_read(r, types_fn, &x);
}

/* ---- runs ---- */

struct create_ctx {
	struct req *r;
	const struct report_type *t;
	bool has_start, has_end;
	int64_t interval_start, interval_end;
	const char *currency, *reporting_category, *timezone, *columns;
};

static int create_fn(struct db *db, void *p)
{
	struct create_ctx *x = p;
	struct req *r = x->r;
	int64_t avail_start = 0, avail_end = 0;
	if (report_data_available(db, r->merchant_id, r->now, &avail_start, &avail_end) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	int64_t start = x->has_start ? x->interval_start : avail_start;
	int64_t end = x->has_end ? x->interval_end : avail_end;
	if (start < avail_start)
		return req_fail(r, ERR_PARAM_BAD, "parameters[interval_start]",
				"parameters[interval_start] must be on or after the report type's "
				"data_available_start (%lld) for report type %s.",
				(long long)avail_start, x->t->id);
	if (end > avail_end)
		return req_fail(r, ERR_PARAM_BAD, "parameters[interval_end]",
				"parameters[interval_end] must be on or before the report type's "
				"data_available_end (%lld) for report type %s.",
				(long long)avail_end, x->t->id);
	if (start >= end)
		return req_fail(
		    r, ERR_PARAM_BAD, "parameters[interval_end]",
		    "parameters[interval_end] must be after parameters[interval_start].");
	char id[ID_MAX];
	id_new_at(id, "frr_", r->now);
	struct db_stmt *st = db_prepare(db, SQL_INSERT);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, id, -1);
	db_bind_int64(st, 3, r->now);
	db_bind_int64(st, 4, r->livemode ? 1 : 0);
	db_bind_text(st, 5, x->t->id, -1);
	db_bind_int64(st, 6, start);
	db_bind_int64(st, 7, end);
	db_bind_text(st, 8, x->currency, -1);
	db_bind_text(st, 9, x->reporting_category, -1);
	db_bind_text(st, 10, x->timezone, -1);
	db_bind_text(st, 11, x->columns, -1);
	db_bind_text(st, 12, r->host && *r->host ? r->host : NULL, -1);
	if (db_step_done(st) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (run_render_by_id(r, db, id, req_json(r)) != DB_OK || r->out.failed)
		return req_fail(r, ERR_API, NULL, NULL);
	return 0;
}

static bool category_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 64)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || s[i] == '_'))
			return false;
	return true;
}

/* parameters[name] given to a type that does not take it */
static int refuse_param(struct req *r, const struct report_type *t, const char *name)
{
	char shown[64];
	snprintf(shown, sizeof(shown), "parameters[%s]", name);
	return req_fail(r, ERR_PARAM_BAD, shown, "%s is not a valid parameter for report type %s.",
			shown, t->id);
}

/* parameters[columns]: each one of the type's, none twice, at most REPORT_COLUMNS_MAX; *ret the
 * comma-joined list (untouched when none is given). 0, or -1 with r->err. */
static int columns_param(struct req *r, const struct report_type *t, const char **ret)
{
	const struct form_node *cols = param_node(r, "parameters.columns");
	if (!cols || (cols->kind == FORM_SCALAR && cols->value_len == 0))
		return 0;
	const char *names[REPORT_COLUMNS_MAX];
	int n = 0;
	size_t len = 0;
	const struct form_node *c = cols->kind == FORM_SCALAR ? cols : cols->first_child;
	for (; c; c = cols->kind == FORM_SCALAR ? NULL : c->next) {
		const char *name = c->value ? c->value : "";
		if (!report_column_known(t, name))
			return req_fail(r, ERR_PARAM_BAD, "parameters[columns]",
					"Unknown column: '%s' is not a column of report type %s.",
					name, t->id);
		for (int i = 0; i < n; i++)
			if (strcmp(names[i], name) == 0)
				return req_fail(r, ERR_PARAM_BAD, "parameters[columns]",
						"Column '%s' is asked for more than once.", name);
		if (n == REPORT_COLUMNS_MAX)
			return req_fail(r, ERR_PARAM_BAD, "parameters[columns]",
					"At most %d columns may be asked for.", REPORT_COLUMNS_MAX);
		names[n++] = name;
		len += strlen(name) + 1;
	}
	if (n == 0)
		return 0;
	char *joined = arena_alloc(&r->arena, len);
	if (!joined)
		return req_fail(r, ERR_API, NULL, NULL);
	size_t at = 0;
	for (int i = 0; i < n; i++) {
		size_t k = strlen(names[i]);
		if (i)
			joined[at++] = ',';
		memcpy(joined + at, names[i], k);
		at += k;
	}
	joined[at] = '\0';
	*ret = joined;
	return 0;
}

static int h_create(struct req *r)
{
	const char *type = param_str(r, "report_type");
	struct create_ctx x = {.r = r, .t = report_type_find(type)};
	if (!x.t)
		return req_fail(r, ERR_PARAM_BAD, "report_type",
				"Invalid report_type: %s is not a report type Tender runs (see GET "
				"/v1/reporting/report_types).",
				type ? type : "");
	static const struct {
		const char *name;
		unsigned bit;
	} takes[] = {{"currency", RP_CURRENCY},
		     {"columns", RP_COLUMNS},
		     {"timezone", RP_TIMEZONE},
		     {"reporting_category", RP_REPORTING_CATEGORY}};
	for (size_t i = 0; i < sizeof(takes) / sizeof(takes[0]); i++) {
		char path[64];
		snprintf(path, sizeof(path), "parameters.%s", takes[i].name);
		if (param_present(r, path) && !(x.t->params & takes[i].bit))
			return refuse_param(r, x.t, takes[i].name);
	}
	x.has_start = param_int(r, "parameters.interval_start", &x.interval_start) == 1;
	x.has_end = param_int(r, "parameters.interval_end", &x.interval_end) == 1;
	const char *cur = param_str(r, "parameters.currency");
	if (cur && *cur) {
		char *lc = arena_strdup(&r->arena, cur);
		if (!lc)
			return req_fail(r, ERR_API, NULL, NULL);
		for (char *c = lc; *c; c++)
			if (*c >= 'A' && *c <= 'Z')
				*c = (char)(*c - 'A' + 'a');
		if (!currency_find(lc))
			return req_fail(r, ERR_INVALID_CURRENCY, "parameters[currency]",
					"Invalid currency: %s.", lc);
		x.currency = lc;
	}
	const char *cat = param_str(r, "parameters.reporting_category");
	if (cat && *cat) {
		if (!category_ok(cat))
			return req_fail(r, ERR_PARAM_BAD, "parameters[reporting_category]",
					"Invalid reporting_category: %s.", cat);
		x.reporting_category = cat;
	}
	const char *tz = param_str(r, "parameters.timezone");
	if (tz && *tz) {
		if (!report_timezone_supported(tz))
			return req_fail(r, ERR_PARAM_BAD, "parameters[timezone]",
					"Invalid timezone: %s. Use a name of the IANA time zone "
					"database, such as Etc/UTC or America/New_York.",
					tz);
		x.timezone = tz;
	}
	if (columns_param(r, x.t, &x.columns) != 0)
		return -1;
	return req_write(r, create_fn, &x);
}

struct id_ctx {
	struct req *r;
	const char *id;
};

static int retrieve_fn(struct db *db, void *p)
{
	struct id_ctx *x = p;
	int rc = run_render_by_id(x->r, db, x->id, req_json(x->r));
	if (rc == DB_NOTFOUND)
		return req_fail_missing(x->r, "report run", x->id, "id");
	return rc == DB_OK ? 0 : req_fail(x->r, ERR_API, NULL, NULL);
}

static int h_retrieve(struct req *r)
{
	struct id_ctx x = {r, r->args[0]};
	return req_read(r, retrieve_fn, &x);
}

static int list_render(struct req *r, struct db *db, const char *id, struct json *j, void *ctx)
{
	(void)ctx;
	return run_render_by_id(r, db, id, j);
}

static int h_list(struct req *r)
{
	static const struct list_spec spec = {
	    .url = "/v1/reporting/report_runs",
	    .object_name = "report run",
	    .id_prefix = "frr_",
	    .sql_cursor = SQL_CURSOR,
	    .sql_desc = SQL_DESC,
	    .sql_asc = SQL_ASC,
	    .render = list_render,
	};
	return list_respond(r, &spec);
}

/* ---- the scheduler: pending runs are computed ---- */

static const char *report_error_text(int rc)
{
	switch (rc) {
	case REPORT_TOO_LARGE:
		return "The report is larger than Tender's limit (100000 rows, 16 MB); run it over "
		       "a shorter interval or for one currency.";
	case REPORT_OVERFLOW:
		return "A sum in the report is too large to represent.";
	default:
		return "The report could not be computed from its parameters.";
	}
}

/*
 * A run is computed in a read transaction of its merchant's shard, off the writer, then stored in
 * a write of its own: the file, the run's new state and its event together. Reading first is
 * exact because a run's interval ends no later than its creation and balance transactions are
 * never changed once written, except a transaction's `payout`, set in the automatic payout's own
 * write at its creation, before its arrival_date (payout reconciliation's interval) can pass.
 */
struct compute_ctx {
	const char *merchant, *id;
	int64_t now;
	struct buf csv;
	int crc;       /* report_compute's */
	bool pending;  /* the run was still pending when read */
	bool livemode; /* the run's */
	bool done;     /* the write stored it */
};

static int compute_fn(struct db *db, void *p)
{
	struct compute_ctx *c = p;
	struct arena a;
	arena_init(&a, 1u << 16);
	buf_reset(&c->csv);
	c->pending = false;
	struct report_params rp;
	memset(&rp, 0, sizeof(rp));
	struct run u;
	int rc = run_load(&a, db, c->merchant, c->id, &u);
	if (rc == DB_NOTFOUND || (rc == DB_OK && strcmp(u.status, "pending") != 0)) {
		rc = DB_OK;
		goto out;
	}
	if (rc != DB_OK)
		goto out;
	rp.interval_start = u.interval_start;
	rp.interval_end = u.interval_end;
	rp.currency = u.currency;
	rp.reporting_category = u.reporting_category;
	if (u.timezone && report_zone_open(u.timezone, &rp.zone) != 0)
		rp.zone = NULL; /* checked when the run was made: UTC if ICU lost it since */
	if (columns_split(&a, u.columns, &rp) != 0) {
		rc = DB_ERR;
		goto out;
	}
	c->crc = report_compute(db, c->merchant, report_type_find(u.report_type), &rp, &c->csv);
	if (c->crc < 0 && c->crc != REPORT_TOO_LARGE && c->crc != REPORT_OVERFLOW &&
	    c->crc != REPORT_BAD) {
		rc = c->crc; /* the store's: tried again at a later tick */
		goto out;
	}
	c->pending = true;
	c->livemode = u.livemode;
out:
	report_zone_close(rp.zone);
	arena_release(&a);
	return rc;
}

static int save_fn(struct db *db, void *p)
{
	struct compute_ctx *c = p;
	c->done = false;
	struct req r;
	req_internal_init(&r, NULL, c->merchant, c->now, NULL);
	r.livemode = c->livemode;
	char file_id[ID_MAX] = "";
	struct db_stmt *st;
	int rc;
	if (c->crc == REPORT_OK) {
		id_new_at(file_id, "file_", c->now);
		st = db_prepare(db, SQL_SUCCEED);
		if (!st) {
			rc = DB_ERR;
			goto out;
		}
		db_bind_text(st, 1, c->merchant, -1);
		db_bind_text(st, 2, c->id, -1);
		db_bind_text(st, 3, file_id, -1);
		db_bind_int64(st, 4, c->now);
	} else {
		st = db_prepare(db, SQL_FAIL);
		if (!st) {
			rc = DB_ERR;
			goto out;
		}
		db_bind_text(st, 1, c->merchant, -1);
		db_bind_text(st, 2, c->id, -1);
		db_bind_text(st, 3, report_error_text(c->crc), -1);
	}
	int64_t changed = 0;
	rc = db_step_changes(st, &changed);
	if (rc != DB_OK || changed != 1)
		goto out; /* another node stored it first */
	if (c->crc == REPORT_OK) {
		rc = file_store_generated(db, c->merchant, file_id, c->now, "finance_report_run",
					  file_id, c->csv.data, c->csv.len);
		if (rc != DB_OK)
			goto out;
	}
	struct run u;
	rc = run_load(&r.arena, db, c->merchant, c->id, &u);
	if (rc != DB_OK)
		goto out;
	r.host = u.host; /* the result file's url names the address the run was asked through */
	rc = run_render(&r, db, &u, req_json(&r));
	if (rc != DB_OK)
		goto out;
	if (r.out.failed) {
		rc = DB_ERR;
		goto out;
	}
	const struct event_origin o = {NULL, NULL, u.livemode};
	char evt[ID_MAX];
	rc = event_append(db, c->merchant, &o,
			  c->crc == REPORT_OK ? "reporting.report_run.succeeded"
					      : "reporting.report_run.failed",
			  c->id, r.out.data, r.out.len, NULL, c->now, evt);
	if (rc == DB_OK)
		c->done = true;
out:
	req_internal_release(&r);
	return rc;
}

struct due_ctx {
	int64_t now;
	struct scheduler_due due[REPORT_RUN_BATCH];
	int n;
	const struct db *shard; /* the shard being read, and where its rows start in due[] */
	int shard_start;
};

/* store_each_shard_write's callback, reading only: the due runs, at most REPORT_RUN_BATCH in all
 * (a re-run on the same shard replaces that shard's rows) */
static int due_fn(struct db *db, void *arg)
{
	struct due_ctx *c = arg;
	if (c->shard == db)
		c->n = c->shard_start;
	else {
		c->shard = db;
		c->shard_start = c->n;
	}
	int room = scheduler_batch(REPORT_RUN_BATCH) - c->n, n = 0;
	if (room <= 0)
		return 0;
	if (scheduler_due_read(db, SQL_DUE, c->now, c->due + c->n, &n, room) != DB_OK)
		return DB_ERR;
	c->n += n;
	return 0;
}

int reporting_runs_tick(struct store *s, int64_t now)
{
	struct due_ctx d;
	memset(&d, 0, sizeof(d));
	d.now = now;
	int rc = store_each_shard_write(s, due_fn, &d);
	if (rc != 0)
		return rc;
	int done = 0;
	for (int i = 0; i < d.n; i++) {
		struct compute_ctx c = {
		    .merchant = d.due[i].merchant, .id = d.due[i].id, .now = now};
		buf_init(&c.csv, REPORT_BYTES_MAX);
		rc = store_read(s, c.merchant, compute_fn, &c);
		if (rc == 0 && c.pending)
			rc = store_write(s, c.merchant, save_fn, &c);
		buf_release(&c.csv);
		if (rc != 0)
			return rc;
		done += c.done;
	}
	return done;
}

/* ---- routes ---- */

static const struct param_spec no_params[] = {{NULL, 0, 0, 0, NULL, NULL}};
static const struct param_spec run_parameters[] = {
    {"interval_start", PT_INT, 0, 0, NULL, NULL},
    {"interval_end", PT_INT, 0, 0, NULL, NULL},
    {"currency", PT_STRING, 0, 3, NULL, NULL},
    {"columns", PT_STRING_ARRAY, PF_EMPTYABLE, 0, NULL, NULL},
    {"reporting_category", PT_STRING, 0, 64, NULL, NULL},
    {"timezone", PT_STRING, 0, 64, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec create_params[] = {
    {"report_type", PT_STRING, PF_REQUIRED, 200, NULL, NULL},
    {"parameters", PT_OBJECT, 0, 0, NULL, run_parameters},
    {NULL, 0, 0, 0, NULL, NULL},
};

const struct route reporting_routes[] = {
    {"GET", "/v1/reporting/report_types", h_types, no_params, 0},
    {"GET", "/v1/reporting/report_types/{id}", h_type, no_params, 0},
    {"POST", "/v1/reporting/report_runs", h_create, create_params, 0},
    {"GET", "/v1/reporting/report_runs", h_list, no_params, ROUTE_LIST},
    {"GET", "/v1/reporting/report_runs/{id}", h_retrieve, no_params, 0},
    {NULL, NULL, NULL, NULL, 0},
};
