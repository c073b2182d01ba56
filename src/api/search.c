#include "api/search.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/id.h"
#include "core/str.h"
#include "http/errors.h"
#include "events/pack.h"
#include "store/db.h"

#define QUERY_MAX 1000

const struct param_spec search_params[] = {
    {"query", PT_STRING, PF_REQUIRED, 1000, NULL, NULL},
    {"limit", PT_STRING, 0, 8, NULL, NULL},
    {"page", PT_STRING, 0, 255, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};

/* ---- the query language ---- */

struct lexer {
	struct req *r;
	const struct search_spec *spec;
	const char *p;
};

static int bad(struct lexer *lx, const char *what)
{
	return req_fail(lx->r, ERR_PARAM_BAD, "query", "Query is invalid: %s", what);
}

static void skip_space(struct lexer *lx)
{
	while (*lx->p == ' ' || *lx->p == '\t' || *lx->p == '\n' || *lx->p == '\r')
		lx->p++;
}

/* A quoted value ('…' or "…", backslash escapes the next character) into arena memory. */
static int quoted(struct lexer *lx, const char **ret)
{
	char q = *lx->p++;
	size_t cap = strlen(lx->p) + 1;
	char *out = arena_alloc(&lx->r->arena, cap);
	if (!out)
		return req_fail(lx->r, ERR_API, NULL, NULL);
	size_t n = 0;
	for (;;) {
		char ch = *lx->p;
		if (!ch)
			return bad(lx, "a quoted value is not closed.");
		lx->p++;
		if (ch == q)
			break;
		if (ch == '\\' && *lx->p)
			ch = *lx->p++;
		out[n++] = ch;
	}
	out[n] = '\0';
	*ret = out;
	return 0;
}

static bool bare_char(char ch)
{
	return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       ch == '_' || ch == '-' || ch == '.' || ch == '@' || ch == '+';
}

/* A bare value (a number, null, true/false, an id) into arena memory. */
static int bare(struct lexer *lx, const char **ret)
{
	const char *s = lx->p;
	while (bare_char(*lx->p))
		lx->p++;
	if (lx->p == s)
		return bad(lx, "a value is missing after the operator.");
	*ret = arena_strndup(&lx->r->arena, s, (size_t)(lx->p - s));
	return *ret ? 0 : req_fail(lx->r, ERR_API, NULL, NULL);
}

static const struct search_field *field_find(const struct search_spec *spec, const char *name,
					     size_t len)
{
	for (const struct search_field *f = spec->fields; f->name; f++)
		if (strlen(f->name) == len && strncmp(f->name, name, len) == 0)
			return f;
	return NULL;
}

static bool parse_int(const char *s, int64_t *ret)
{
	if (!*s)
		return false;
	const char *p = s;
	if (*p == '-')
		p++;
	if (!*p)
		return false;
	int64_t v = 0;
	for (; *p; p++) {
		if (*p < '0' || *p > '9')
			return false;
		if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, *p - '0', &v))
			return false;
	}
	*ret = *s == '-' ? -v : v;
	return true;
}

static int parse_clause(struct lexer *lx, struct search_clause *c)
{
	memset(c, 0, sizeof(*c));
	if (*lx->p == '-') {
		c->negate = true;
		lx->p++;
	}
	const char *name = lx->p;
	while ((*lx->p >= 'a' && *lx->p <= 'z') || *lx->p == '_' || *lx->p == '.' ||
	       (*lx->p >= '0' && *lx->p <= '9'))
		lx->p++;
	size_t len = (size_t)(lx->p - name);
	if (!len)
		return req_fail(lx->r, ERR_PARAM_BAD, "query",
				"Query is invalid: expected a field name at \"%s\".", lx->p);
	c->field = field_find(lx->spec, name, len);
	if (!c->field) {
		char *fname = arena_strndup(&lx->r->arena, name, len);
		return req_fail(lx->r, ERR_PARAM_BAD, "query",
				"Field `%s` is an unsupported search field for resource `%s`. See "
				"https://stripe.com/docs/search#query-fields-for-%s for a list of "
				"supported fields.",
				fname ? fname : "", lx->spec->resource, lx->spec->resource);
	}
	if (c->field->kind == SEARCH_METADATA) {
		if (*lx->p != '[' || (lx->p[1] != '"' && lx->p[1] != '\''))
			return bad(lx, "metadata is searched as "
				       "metadata[\"key\"]:\"value\".");
		lx->p++;
		if (quoted(lx, &c->key) != 0)
			return -1;
		if (*lx->p != ']')
			return bad(lx, "metadata[\"key\"] is not closed.");
		lx->p++;
		if (!*c->key)
			return bad(lx, "a metadata key is empty.");
	}
	switch (*lx->p) {
	case ':':
	case '~':
		c->op = *lx->p++;
		break;
	case '>':
	case '<':
		c->op = *lx->p++;
		if (*lx->p == '=') {
			c->op = c->op == '>' ? 'g' : 'l';
			lx->p++;
		}
		break;
	default:
		return req_fail(lx->r, ERR_PARAM_BAD, "query",
				"Query is invalid: expected an operator (:, ~, >, <, >=, <=) at "
				"\"%s\".",
				lx->p);
	}
	bool was_quoted = *lx->p == '"' || *lx->p == '\'';
	if (was_quoted ? quoted(lx, &c->value) != 0 : bare(lx, &c->value) != 0)
		return -1;
	c->is_null = !was_quoted && strcmp(c->value, "null") == 0;
	const struct search_field *f = c->field;
	bool ordering = c->op == '>' || c->op == '<' || c->op == 'g' || c->op == 'l';
	if (c->op == '~') {
		if (!f->substring)
			return req_fail(lx->r, ERR_PARAM_BAD, "query",
					"Field `%s` does not support the substring operator (~).",
					f->name);
		if (c->is_null || strlen(c->value) < 3)
			return bad(lx, "a substring search (~) needs at least 3 "
				       "characters.");
	}
	if (ordering && f->kind != SEARCH_NUMBER)
		return req_fail(lx->r, ERR_PARAM_BAD, "query",
				"Field `%s` cannot be compared with >, <, >= or <=.", f->name);
	if (c->is_null)
		return 0;
	if (f->kind == SEARCH_NUMBER && !parse_int(c->value, &c->number))
		return req_fail(lx->r, ERR_PARAM_BAD, "query",
				"Field `%s` takes a whole number, not \"%s\".", f->name, c->value);
	if (f->kind == SEARCH_BOOL) {
		if (strcmp(c->value, "true") == 0)
			c->number = 1;
		else if (strcmp(c->value, "false") == 0)
			c->number = 0;
		else
			return req_fail(lx->r, ERR_PARAM_BAD, "query",
					"Field `%s` takes true or false, not \"%s\".", f->name,
					c->value);
	}
	return 0;
}

/* AND / OR, case-insensitive, followed by a space. 1 when it is one, with *any set. */
static int conjunction(struct lexer *lx, bool *any)
{
	if (strncasecmp(lx->p, "AND", 3) == 0 && (lx->p[3] == ' ' || lx->p[3] == '\t')) {
		lx->p += 3;
		*any = false;
		return 1;
	}
	if (strncasecmp(lx->p, "OR", 2) == 0 && (lx->p[2] == ' ' || lx->p[2] == '\t')) {
		lx->p += 2;
		*any = true;
		return 1;
	}
	return 0;
}

int search_parse(struct req *r, const struct search_spec *spec, const char *query,
		 struct search_query *q)
{
	memset(q, 0, sizeof(*q));
	struct lexer lx = {r, spec, query};
	if (strlen(query) > QUERY_MAX)
		return req_fail(r, ERR_PARAM_BAD, "query",
				"Query is too long: at most %s characters.", "1000");
	skip_space(&lx);
	if (!*lx.p)
		return req_fail(r, ERR_PARAM_BAD, "query", "Query is invalid: it is empty.%s", "");
	bool joined = false;
	for (;;) {
		if (q->n == SEARCH_CLAUSES_MAX)
			return req_fail(r, ERR_PARAM_BAD, "query",
					"Query is invalid: at most %s clauses.", "10");
		if (parse_clause(&lx, &q->c[q->n]) != 0)
			return -1;
		q->n++;
		skip_space(&lx);
		if (!*lx.p)
			return 0;
		bool any = false;
		if (!conjunction(&lx, &any))
			return req_fail(r, ERR_PARAM_BAD, "query",
					"Query is invalid: expected AND or OR at \"%s\".", lx.p);
		if (joined && any != q->any)
			return req_fail(r, ERR_PARAM_BAD, "query",
					"Query is invalid: AND and OR cannot be combined in one "
					"query.%s",
					"");
		joined = true;
		q->any = any;
		skip_space(&lx);
	}
}

/* ---- evaluation ---- */

/* ASCII case-insensitive substring. */
static bool contains_ci(const char *hay, const char *needle)
{
	size_t n = strlen(needle);
	for (; *hay; hay++)
		if (strncasecmp(hay, needle, n) == 0)
			return true;
	return false;
}

/* The documents (JSON object columns) a row's clauses read by path, each decoded once per row
 * and only when a clause asks for it. */
#define ROW_DOCS_MAX 4

struct row {
	struct db_stmt *st;
	json_t *meta;
	int ndocs;
	int doc_col[ROW_DOCS_MAX];
	json_t *doc[ROW_DOCS_MAX];
};

/* The JSON object in column col: plain JSON text, or a packed object (events/pack.h), as a
 * charge's card details are kept on SQLite. NULL when the column is NULL or not an object. */
static json_t *row_doc(struct row *rw, int col)
{
	for (int i = 0; i < rw->ndocs; i++)
		if (rw->doc_col[i] == col)
			return rw->doc[i];
	size_t n = 0;
	const char *bytes = db_col_text(rw->st, col, &n);
	json_t *doc = NULL;
	if (bytes) {
		struct buf scratch;
		buf_init(&scratch, BUF_MAX_DEFAULT);
		const char *js = NULL;
		size_t len = 0;
		json_error_t e;
		if (event_unpack(bytes, n, &scratch, &js, &len) == 0)
			doc = json_loadb(js, len, 0, &e);
		buf_release(&scratch);
	}
	if (rw->ndocs < ROW_DOCS_MAX) {
		rw->doc_col[rw->ndocs] = col;
		rw->doc[rw->ndocs++] = doc;
	}
	return doc;
}

/* The value at a dotted path ("address.postal_code") of the field's document, or NULL. */
static json_t *path_value(const struct search_field *f, struct row *rw)
{
	json_t *v = row_doc(rw, f->col);
	const char *p = f->path;
	while (v && *p) {
		const char *dot = strchr(p, '.');
		size_t len = dot ? (size_t)(dot - p) : strlen(p);
		v = json_object_getn(v, p, len);
		p += len + (dot ? 1 : 0);
	}
	return json_is_null(v) ? NULL : v;
}

static bool number_match(const struct search_clause *c, int64_t v)
{
	switch (c->op) {
	case '>':
		return v > c->number;
	case '<':
		return v < c->number;
	case 'g':
		return v >= c->number;
	case 'l':
		return v <= c->number;
	default:
		return v == c->number;
	}
}

static bool string_match(const struct search_clause *c, const char *v)
{
	if (c->is_null)
		return v == NULL || !*v;
	if (!v)
		return false;
	return c->op == '~' ? contains_ci(v, c->value) : strcasecmp(v, c->value) == 0;
}

static bool clause_match(const struct search_clause *c, struct row *rw)
{
	const struct search_field *f = c->field;
	bool m;
	if (f->kind == SEARCH_METADATA) {
		const char *v = json_string_value(json_object_get(rw->meta, c->key));
		m = c->is_null ? v == NULL : v && strcasecmp(v, c->value) == 0;
	} else if (f->path) {
		json_t *v = path_value(f, rw);
		if (f->kind == SEARCH_STRING)
			m = string_match(c, json_string_value(v));
		else if (!json_is_integer(v))
			m = c->is_null;
		else
			m = !c->is_null && number_match(c, (int64_t)json_integer_value(v));
	} else if (f->kind == SEARCH_STRING) {
		m = string_match(c, db_col_text(rw->st, f->col, NULL));
	} else if (db_col_is_null(rw->st, f->col)) {
		m = c->is_null;
	} else {
		m = !c->is_null && number_match(c, db_col_int64(rw->st, f->col));
	}
	return c->negate ? !m : m;
}

/* A key the JSON text may hold escaped (quotes, backslashes, control or non-ASCII bytes): it
 * cannot be looked for in the text as it is. */
static bool json_escaped(const char *key)
{
	for (const unsigned char *p = (const unsigned char *)key; *p; p++)
		if (*p == '"' || *p == '\\' || *p < 0x20 || *p >= 0x7f)
			return true;
	return false;
}

/* The row's metadata object, parsed only when one of the keys the query names appears in its
 * text at all (most rows of a metadata search do not hold the key). NULL when none does. */
static json_t *row_metadata(const struct search_query *q, struct db_stmt *st, int meta_col)
{
	const char *js = db_col_text(st, meta_col, NULL);
	if (!js)
		return NULL;
	bool maybe = false;
	for (int i = 0; i < q->n && !maybe; i++)
		maybe = q->c[i].key && (json_escaped(q->c[i].key) || strstr(js, q->c[i].key));
	json_error_t e;
	return maybe ? json_loads(js, 0, &e) : NULL;
}

static bool row_match(const struct search_query *q, struct db_stmt *st, int meta_col)
{
	struct row rw = {.st = st, .meta = meta_col >= 0 ? row_metadata(q, st, meta_col) : NULL};
	bool all = true, one = false;
	for (int i = 0; i < q->n; i++) {
		bool m = clause_match(&q->c[i], &rw);
		all = all && m;
		one = one || m;
	}
	json_decref(rw.meta);
	for (int i = 0; i < rw.ndocs; i++)
		json_decref(rw.doc[i]);
	return q->any ? one : all;
}

/* ---- the page ---- */

struct search_run {
	struct req *r;
	const struct search_spec *spec;
	struct search_query q;
	int64_t limit;
	const char *page; /* scan ids below this one */
};

/* An AND query's exact clause on the prefilter field, and its created bounds, narrow the scan. */
static void narrow(const struct search_run *run, const char **prefilter, int64_t *lo, int64_t *hi)
{
	*prefilter = NULL;
	*lo = INT64_MIN;
	*hi = INT64_MAX;
	if (run->q.any && run->q.n > 1)
		return;
	for (int i = 0; i < run->q.n; i++) {
		const struct search_clause *c = &run->q.c[i];
		if (c->negate || c->is_null)
			continue;
		if (run->spec->prefilter && c->op == ':' &&
		    strcmp(c->field->name, run->spec->prefilter) == 0)
			*prefilter = c->value;
		if (strcmp(c->field->name, "created") != 0)
			continue;
		int64_t v = c->number;
		if ((c->op == ':' || c->op == 'g') && v > *lo)
			*lo = v;
		if (c->op == '>' && v < INT64_MAX && v + 1 > *lo)
			*lo = v + 1;
		if ((c->op == ':' || c->op == 'l') && v < *hi)
			*hi = v;
		if (c->op == '<' && v > INT64_MIN && v - 1 < *hi)
			*hi = v - 1;
	}
}

static int search_fn(struct db *db, void *p)
{
	struct search_run *run = p;
	struct req *r = run->r;
	const struct search_spec *spec = run->spec;
	int meta_col = -1;
	for (int i = 0; i < run->q.n; i++)
		if (run->q.c[i].field->kind == SEARCH_METADATA)
			meta_col = run->q.c[i].field->col;
	const char *prefilter;
	int64_t lo_t, hi_t;
	narrow(run, &prefilter, &lo_t, &hi_t);
	/* created >= lo is id > bound(lo); created <= hi is id < bound(hi + 1) */
	char lo[ID_MAX], hi[ID_MAX];
	id_created_bound(lo, spec->id_prefix, lo_t);
	id_created_bound(hi, spec->id_prefix, hi_t >= ID_CREATED_MAX ? INT64_MAX : hi_t + 1);
	const char *before = hi;
	if (run->page && strcmp(run->page, before) < 0)
		before = run->page;
	struct db_stmt *st = db_prepare(
	    db, prefilter && spec->sql_scan_narrow ? spec->sql_scan_narrow : spec->sql_scan);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, lo, -1);
	db_bind_text(st, 3, before, -1);
	db_bind_int64(st, 4, SEARCH_SCAN_MAX);
	db_bind_text(st, 5, prefilter, -1);
	const char **ids = arena_alloc(&r->arena, sizeof(char *) * (size_t)(run->limit + 1));
	if (!ids) {
		db_reset(st);
		return req_fail(r, ERR_API, NULL, NULL);
	}
	size_t n = 0, scanned = 0;
	const char *last = NULL; /* the last row this page looked at: the next page starts below */
	bool has_more = false;
	int rc;
	while ((rc = db_step(st)) == DB_ROW) {
		const char *key = db_col_text(st, 0, NULL);
		const char *id = spec->id_col ? db_col_text(st, spec->id_col, NULL) : key;
		if (!id || !key)
			continue;
		bool m = row_match(&run->q, st, meta_col);
		if (m && (int64_t)n == run->limit) {
			/* a match past the page: the next page starts with it */
			has_more = true;
			break;
		}
		last = arena_strdup(&r->arena, key);
		if (!last) {
			db_reset(st);
			return req_fail(r, ERR_API, NULL, NULL);
		}
		if (m) {
			ids[n] = spec->id_col ? arena_strdup(&r->arena, id) : last;
			if (!ids[n]) {
				db_reset(st);
				return req_fail(r, ERR_API, NULL, NULL);
			}
			n++;
		}
		scanned++;
	}
	db_reset(st);
	if (rc != DB_ROW && rc != DB_DONE)
		return req_fail(r, ERR_API, NULL, NULL);
	/* the scan's budget ran out before the table did: a later page goes on from there */
	if (!has_more && scanned == SEARCH_SCAN_MAX)
		has_more = true;
	struct json *j = req_json(r);
	json_obj_open(j);
	json_kv_str(j, "object", "search_result");
	json_key(j, "data");
	json_arr_open(j);
	for (size_t i = 0; i < n; i++) {
		int rr = spec->render(r, db, ids[i], j);
		if (rr == DB_NOTFOUND)
			continue;
		if (rr != DB_OK)
			return r->err.set ? -1 : req_fail(r, ERR_API, NULL, NULL);
	}
	json_arr_close(j);
	json_kv_bool(j, "has_more", has_more);
	if (has_more && last)
		json_kv_str(j, "next_page", last);
	else
		json_kv_null(j, "next_page");
	json_kv_str(j, "url", spec->url);
	json_obj_close(j);
	return 0;
}

int search_respond(struct req *r, const struct search_spec *spec)
{
	struct search_run run = {.r = r, .spec = spec, .limit = 10};
	const char *query = param_str(r, "query");
	if (!query)
		return req_fail(r, ERR_PARAM_MISSING, "query", "%s", "query");
	if (search_parse(r, spec, query, &run.q) != 0)
		return -1;
	const char *ls = param_str(r, "limit");
	if (ls && *ls && (!parse_int(ls, &run.limit) || run.limit < 1 || run.limit > 100))
		return req_fail(r, ERR_LIST_LIMIT, "limit", "%s", ls);
	const char *page = param_str(r, "page");
	if (page && *page) {
		if (!id_valid(page, spec->id_prefix))
			return req_fail(r, ERR_PARAM_BAD, "page",
					"Invalid page: it must be a next_page given by an earlier "
					"search of the same resource.%s",
					"");
		run.page = page;
	}
	return req_read(r, search_fn, &run) == 0 ? 0 : -1;
}
