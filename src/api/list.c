#include "api/list.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/id.h"
#include "http/form.h"

#define LIST_LIMIT_MAX 100
#define LIST_LIMIT_DEFAULT 10

struct list_query {
	int64_t limit;
	int64_t lo, hi;
	const char *starting_after;
	const char *ending_before;
};

int list_page_params(struct req *r, int64_t max, int64_t *ret_limit, const char **ret_after,
		     const char **ret_before)
{
	*ret_limit = LIST_LIMIT_DEFAULT;
	const char *ls = param_str(r, "limit");
	if (ls && *ls && (parse_i64(ls, ret_limit) != 0 || *ret_limit < 1 || *ret_limit > max))
		return req_fail(r, ERR_LIST_LIMIT, "limit", "%s", ls);
	const char *after = param_str(r, "starting_after");
	const char *before = param_str(r, "ending_before");
	*ret_after = after && *after ? after : NULL;
	*ret_before = before && *before ? before : NULL;
	if (*ret_after && *ret_before)
		return req_fail(r, ERR_PARAM_BAD, "ending_before",
				"You may only specify one of these parameters: ending_before, "
				"starting_after.");
	return 0;
}

static int parse_query(struct req *r, struct list_query *q)
{
	q->limit = LIST_LIMIT_DEFAULT;
	q->lo = INT64_MIN;
	q->hi = INT64_MAX;
	const char *ls = param_str(r, "limit");
	if (ls && *ls) {
		if (parse_i64(ls, &q->limit) != 0 || q->limit < 1 || q->limit > LIST_LIMIT_MAX)
			return req_fail(r, ERR_LIST_LIMIT, "limit", "%s", ls);
	}
	const struct form_node *c = param_node(r, "created");
	if (c && c->kind == FORM_SCALAR && c->value_len) {
		int64_t v;
		if (parse_i64(c->value, &v) != 0)
			return req_fail(r, ERR_PARAM_INVALID_INTEGER, "created", "%s", c->value);
		q->lo = q->hi = v;
	} else if (c && c->kind != FORM_SCALAR) {
		int64_t v;
		/* gt/lt become inclusive bounds; the extremes cannot overflow because an
		 * int64 timestamp of INT64_MAX/MIN means "no bound" anyway */
		if (param_int(r, "created.gt", &v) == 1 && v < INT64_MAX && v + 1 > q->lo)
			q->lo = v + 1;
		if (param_int(r, "created.gte", &v) == 1 && v > q->lo)
			q->lo = v;
		if (param_int(r, "created.lt", &v) == 1 && v > INT64_MIN && v - 1 < q->hi)
			q->hi = v - 1;
		if (param_int(r, "created.lte", &v) == 1 && v < q->hi)
			q->hi = v;
	}
	q->starting_after = param_str(r, "starting_after");
	q->ending_before = param_str(r, "ending_before");
	if (q->starting_after && !*q->starting_after)
		q->starting_after = NULL;
	if (q->ending_before && !*q->ending_before)
		q->ending_before = NULL;
	if (q->starting_after && q->ending_before)
		return req_fail(r, ERR_PARAM_BAD, "ending_before",
				"You may only specify one of these parameters: ending_before, "
				"starting_after.");
	return 0;
}

struct list_run {
	struct req *r;
	const struct list_spec *spec;
	struct list_query q;
};

#define ID_BATCH_MAX (LIST_LIMIT_MAX + 1)

static int list_fn(struct db *db, void *p)
{
	struct list_run *run = p;
	struct req *r = run->r;
	const struct list_spec *spec = run->spec;
	const char *cursor = run->q.starting_after ? run->q.starting_after : run->q.ending_before;
	if (cursor) {
		struct db_stmt *cs = db_prepare(db, spec->sql_cursor);
		if (!cs)
			return req_fail(r, ERR_API, NULL, NULL);
		db_bind_text(cs, 1, r->merchant_id, -1);
		db_bind_text(cs, 2, cursor, -1);
		int rc = db_step(cs);
		const char *key = rc == DB_ROW && spec->keyed ? db_col_text(cs, 0, NULL) : NULL;
		if (key)
			key = arena_strdup(&r->arena, key);
		db_reset(cs);
		if (rc != DB_ROW)
			return req_fail_missing(r, spec->object_name, cursor,
						run->q.starting_after ? "starting_after"
								      : "ending_before");
		if (spec->keyed) {
			if (!key)
				return req_fail(r, ERR_API, NULL, NULL);
			cursor = key; /* the bounds below are list keys */
		}
	}
	/* created >= lo is id > bound(lo); created <= hi is id < bound(hi + 1) */
	char lo[ID_MAX], hi[ID_MAX];
	id_created_bound(lo, spec->id_prefix, run->q.lo);
	id_created_bound(hi, spec->id_prefix,
			 run->q.hi >= ID_CREATED_MAX ? INT64_MAX : run->q.hi + 1);
	const char *after = lo, *before = hi;
	bool asc = run->q.ending_before != NULL;
	if (asc && strcmp(cursor, after) > 0)
		after = cursor;
	else if (!asc && cursor && strcmp(cursor, before) < 0)
		before = cursor;
	const char *sql = asc ? spec->sql_asc : spec->sql_desc;
	for (int i = 0; i < LIST_NARROW_MAX && spec->narrow[i].param; i++) {
		const char *v = param_str(r, spec->narrow[i].param);
		if (v && *v) {
			sql = asc ? spec->narrow[i].sql_asc : spec->narrow[i].sql_desc;
			break;
		}
	}
	struct db_stmt *st = db_prepare(db, sql);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, after, -1);
	db_bind_text(st, 3, before, -1);
	db_bind_int64(st, 4, run->q.limit + 1);
	if (spec->bind_filters && spec->bind_filters(r, st, 5, spec->ctx) != 0) {
		db_reset(st);
		return -1;
	}
	char *ids[ID_BATCH_MAX];
	size_t n = 0;
	int rc;
	while ((rc = db_step(st)) == DB_ROW && n < ID_BATCH_MAX) {
		const char *id = db_col_text(st, 0, NULL);
		ids[n] = arena_strdup(&r->arena, id ? id : "");
		if (!ids[n]) {
			db_reset(st);
			return req_fail(r, ERR_API, NULL, NULL);
		}
		n++;
	}
	db_reset(st);
	if (rc != DB_ROW && rc != DB_DONE)
		return req_fail(r, ERR_API, NULL, NULL);
	bool has_more = n > (size_t)run->q.limit;
	if (has_more)
		n = (size_t)run->q.limit;
	if (asc) {
		/* we walked towards newer objects; Stripe still lists newest first. The extra
		 * row fetched for has_more is the newest one, beyond the page. */
		for (size_t i = 0; i < n / 2; i++) {
			char *t = ids[i];
			ids[i] = ids[n - 1 - i];
			ids[n - 1 - i] = t;
		}
	}
	struct json *j = req_json(r);
	json_obj_open(j);
	json_kv_str(j, "object", "list");
	json_key(j, "data");
	json_arr_open(j);
	for (size_t i = 0; i < n; i++) {
		int rr = spec->render(r, db, ids[i], j, spec->ctx);
		if (rr == DB_NOTFOUND)
			continue;
		if (rr != DB_OK)
			return r->err.set ? -1 : req_fail(r, ERR_API, NULL, NULL);
	}
	json_arr_close(j);
	json_kv_bool(j, "has_more", has_more);
	json_kv_str(j, "url", spec->url);
	json_obj_close(j);
	return 0;
}

int list_respond(struct req *r, const struct list_spec *spec)
{
	struct list_run run = {.r = r, .spec = spec};
	if (parse_query(r, &run.q) != 0)
		return -1;
	int rc = req_read(r, list_fn, &run);
	return rc == 0 ? 0 : -1;
}

void list_bind_bool(struct req *r, struct db_stmt *st, int idx, const char *name)
{
	bool v;
	if (param_bool(r, name, &v) == 1)
		db_bind_int64(st, idx, v ? 1 : 0);
	else
		db_bind_null(st, idx);
}

void list_bind_filter(struct req *r, struct db_stmt *st, int idx, const char *name)
{
	const char *v = param_str(r, name);
	db_bind_text(st, idx, v && *v ? v : NULL, -1);
}

void list_bind_range(struct req *r, struct db_stmt *st, int idx, const char *name)
{
	const struct form_node *c = param_node(r, name);
	if (!c || (c->kind == FORM_SCALAR && !c->value_len)) {
		db_bind_null(st, idx);
		db_bind_null(st, idx + 1);
		return;
	}
	int64_t lo = INT64_MIN, hi = INT64_MAX, v;
	char path[64];
	if (param_int(r, name, &v) == 1) {
		lo = hi = v;
	} else {
		snprintf(path, sizeof(path), "%s.gt", name);
		if (param_int(r, path, &v) == 1 && v < INT64_MAX && v + 1 > lo)
			lo = v + 1;
		snprintf(path, sizeof(path), "%s.gte", name);
		if (param_int(r, path, &v) == 1 && v > lo)
			lo = v;
		snprintf(path, sizeof(path), "%s.lt", name);
		if (param_int(r, path, &v) == 1 && v > INT64_MIN && v - 1 < hi)
			hi = v - 1;
		snprintf(path, sizeof(path), "%s.lte", name);
		if (param_int(r, path, &v) == 1 && v < hi)
			hi = v;
	}
	db_bind_int64(st, idx, lo);
	db_bind_int64(st, idx + 1, hi);
}
