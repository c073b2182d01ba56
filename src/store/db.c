#include "store/db_impl.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/str.h"
#include "metrics/metrics.h"

enum db_kind db_kind(const struct db *db)
{
	return db->ops->kind;
}

struct db_stmt *db_prepare(struct db *db, const char *sql)
{
	return db->ops->prepare(db, sql);
}

int db_bind_int64(struct db_stmt *st, int idx, int64_t v)
{
	return st->db->ops->bind_int64(st, idx, v);
}

int db_bind_text(struct db_stmt *st, int idx, const char *s, ptrdiff_t len)
{
	if (!s)
		return st->db->ops->bind_null(st, idx);
	return st->db->ops->bind_text(st, idx, s, len < 0 ? strlen(s) : (size_t)len);
}

int db_bind_text_ref(struct db_stmt *st, int idx, const char *s, ptrdiff_t len)
{
	if (!s || !st->db->ops->bind_text_ref)
		return db_bind_text(st, idx, s, len);
	return st->db->ops->bind_text_ref(st, idx, s, len < 0 ? strlen(s) : (size_t)len);
}

int db_bind_blob(struct db_stmt *st, int idx, const void *p, size_t len)
{
	if (!p)
		return st->db->ops->bind_null(st, idx);
	return st->db->ops->bind_blob(st, idx, p, len);
}

int db_bind_null(struct db_stmt *st, int idx)
{
	return st->db->ops->bind_null(st, idx);
}

int db_step(struct db_stmt *st)
{
	return st->db->ops->step(st);
}

void db_reset(struct db_stmt *st)
{
	st->db->ops->reset(st);
}

int db_col_count(struct db_stmt *st)
{
	return st->db->ops->col_count(st);
}

bool db_col_is_null(struct db_stmt *st, int col)
{
	return st->db->ops->col_is_null(st, col);
}

int64_t db_col_int64(struct db_stmt *st, int col)
{
	return st->db->ops->col_int64(st, col);
}

const char *db_col_text(struct db_stmt *st, int col, size_t *ret_len)
{
	return st->db->ops->col_text(st, col, ret_len);
}

const void *db_col_blob(struct db_stmt *st, int col, size_t *ret_len)
{
	return st->db->ops->col_blob(st, col, ret_len);
}

int64_t db_changes(struct db_stmt *st)
{
	return st->db->ops->changes(st);
}

int db_exec(struct db *db, const char *sql)
{
	return db->ops->exec(db, sql);
}

const char *db_errmsg(struct db *db)
{
	return db->ops->errmsg(db);
}

int db_step_done(struct db_stmt *st)
{
	int rc = db_step(st);
	db_reset(st);
	if (rc == DB_ROW || rc == DB_DONE)
		return DB_OK;
	return rc;
}

int db_step_changes(struct db_stmt *st, int64_t *ret_n)
{
	int rc = db_step(st);
	*ret_n = rc == DB_DONE ? db_changes(st) : 0;
	db_reset(st);
	return rc == DB_DONE ? DB_OK : rc < 0 ? rc : DB_ERR;
}

int64_t db_col_int64_or0(struct db_stmt *st, int col)
{
	return db_col_is_null(st, col) ? 0 : db_col_int64(st, col);
}

void db_bind_int64_or_null(struct db_stmt *st, int idx, int64_t v)
{
	if (v)
		db_bind_int64(st, idx, v);
	else
		db_bind_null(st, idx);
}

/* ---- deferred counters ---- */

/* a full batch makes the next additions run at once */
#define COUNTERS_MAX 4096

struct counter {
	const char *sql;
	const char *update; /* the same deltas as an UPDATE of an existing row */
	char k[3][DB_COUNTER_KEY_MAX];
	int64_t k4;
	int64_t d[3];
};

struct db_counters {
	struct counter *v;
	size_t len, cap;
	/* the metrics counters of the events the transaction appended (db_tally_event), and their
	 * count at the last db_counters_mark: a job's rollback takes its events out of the tally
	 * with its counters */
	struct metrics_counter **tally;
	size_t tally_len, tally_cap, tally_mark;
};
#define TALLY_MAX 4096

static void counter_bind(struct db_stmt *st, const char *k1, const char *k2, const char *k3,
			 int64_t k4, const int64_t d[3])
{
	db_bind_text(st, 1, k1, -1);
	db_bind_text(st, 2, k2, -1);
	db_bind_text(st, 3, k3, -1);
	db_bind_int64(st, 4, k4);
	for (int i = 0; i < 3; i++)
		db_bind_int64(st, i + 5, d[i]);
}

/* The UPDATE first, and the upsert only when it found no row: a counter's row exists for all but
 * its first bump (an hour of a card, an IP), and SQLite runs the upsert's DO UPDATE on a WITHOUT
 * ROWID table through a temporary b-tree it creates and drops each time (~20 K instructions),
 * where the UPDATE changes the row in one pass. Another transaction inserting the row between
 * the two (PostgreSQL) only turns the upsert into its update. */
static int counter_exec(struct db *db, const char *upsert, const char *update, const char *k1,
			const char *k2, const char *k3, int64_t k4, const int64_t d[3])
{
	struct db_stmt *st = db_prepare(db, update);
	if (!st)
		return DB_ERR;
	counter_bind(st, k1, k2, k3, k4, d);
	int rc = db_step(st);
	int64_t n = rc == DB_DONE ? db_changes(st) : 0;
	db_reset(st);
	if (rc != DB_DONE && rc != DB_ROW)
		return rc;
	if (n > 0)
		return DB_OK;
	st = db_prepare(db, upsert);
	if (!st)
		return DB_ERR;
	counter_bind(st, k1, k2, k3, k4, d);
	return db_step_done(st);
}

static int counter_run(struct db *db, const struct counter *c)
{
	return counter_exec(db, c->sql, c->update, c->k[0], c->k[1], c->k[2], c->k4, c->d);
}

static int key_copy(char *dst, const char *src)
{
	size_t n = strlen(src);
	if (n >= DB_COUNTER_KEY_MAX)
		return -1;
	memcpy(dst, src, n + 1);
	return 0;
}

int db_counter_add(struct db *db, const char *sql, const char *update, const char *k1,
		   const char *k2, const char *k3, int64_t k4, int64_t d1, int64_t d2, int64_t d3)
{
	if (!k1 || !k2 || !k3)
		return DB_ERR;
	struct counter c = {.sql = sql, .update = update, .k4 = k4, .d = {d1, d2, d3}};
	if (key_copy(c.k[0], k1) != 0 || key_copy(c.k[1], k2) != 0 || key_copy(c.k[2], k3) != 0)
		/* too long to batch: bind the caller's strings directly */
		return counter_exec(db, sql, update, k1, k2, k3, k4, c.d);
	struct db_counters *b = db->counters;
	if (!b || b->len >= b->cap)
		return counter_run(db, &c);
	b->v[b->len++] = c;
	return DB_OK;
}

int db_counters_enable(struct db *db, size_t cap)
{
	if (db->counters)
		return 0;
	if (cap == 0 || cap > COUNTERS_MAX)
		cap = COUNTERS_MAX;
	struct db_counters *b = calloc(1, sizeof(*b));
	if (!b)
		return -1;
	b->v = calloc(cap, sizeof(*b->v));
	if (!b->v) {
		free(b);
		return -1;
	}
	b->cap = cap;
	db->counters = b;
	return 0;
}

void db_counters_free(struct db *db)
{
	if (!db || !db->counters)
		return;
	free(db->counters->v);
	free(db->counters->tally);
	free(db->counters);
	db->counters = NULL;
}

size_t db_counters_mark(struct db *db)
{
	if (!db->counters)
		return 0;
	db->counters->tally_mark = db->counters->tally_len;
	return db->counters->len;
}

void db_counters_rollback(struct db *db, size_t mark)
{
	if (!db->counters)
		return;
	if (mark < db->counters->len)
		db->counters->len = mark;
	if (db->counters->tally_mark < db->counters->tally_len)
		db->counters->tally_len = db->counters->tally_mark;
}

void db_counters_discard(struct db *db)
{
	if (db->counters) {
		db->counters->len = 0;
		db->counters->tally_len = db->counters->tally_mark = 0;
	}
}

/* The metrics' event counts (metrics.h): noted per transaction, published once it commits, so
 * that a job rolled back or a PostgreSQL attempt run again counts nothing. On a connection
 * without deferred counters (a CLI command's) the type is counted at once. */
void db_tally_event(struct db *db, const char *type)
{
	struct db_counters *b = db->counters;
	struct metrics_counter *c = metrics_event_counter(type);
	if (!b) {
		metrics_events_count(&c, 1);
		return;
	}
	if (b->tally_len == b->tally_cap) {
		size_t cap = b->tally_cap ? 2 * b->tally_cap : 64;
		void *t = cap <= TALLY_MAX ? realloc(b->tally, cap * sizeof(*b->tally)) : NULL;
		if (!t)
			return; /* statistics only: a transaction past TALLY_MAX events is
				   undercounted */
		b->tally = t;
		b->tally_cap = cap;
	}
	b->tally[b->tally_len++] = c;
}

static atomic_uint_fast64_t job_ids;

void db_job_begin(struct db *db)
{
	db->job = atomic_fetch_add_explicit(&job_ids, 1, memory_order_relaxed) + 1;
}

void db_job_end(struct db *db)
{
	db->job = 0;
}

uint64_t db_job(const struct db *db)
{
	return db->job;
}

void db_tally_publish(struct db *db)
{
	struct db_counters *b = db->counters;
	if (!b || b->tally_len == 0)
		return;
	metrics_events_count(b->tally, b->tally_len);
	b->tally_len = b->tally_mark = 0;
}

bool db_counters_pending(struct db *db)
{
	return db->counters && db->counters->len > 0;
}

static int counter_key_cmp(const void *pa, const void *pb)
{
	const struct counter *a = pa, *b = pb;
	if (a->sql != b->sql)
		return (uintptr_t)a->sql < (uintptr_t)b->sql ? -1 : 1;
	for (int i = 0; i < 3; i++) {
		int c = strcmp(a->k[i], b->k[i]);
		if (c)
			return c;
	}
	return a->k4 < b->k4 ? -1 : a->k4 > b->k4;
}

int db_counters_flush(struct db *db)
{
	struct db_counters *b = db->counters;
	if (!b || b->len == 0)
		return DB_OK;
	/* sorted, equal keys are neighbours; a sum that would overflow is written as it stands
	 * and the next delta starts a new one */
	qsort(b->v, b->len, sizeof(*b->v), counter_key_cmp);
	size_t n = b->len;
	b->len = 0;
	struct counter acc = b->v[0];
	for (size_t i = 1; i <= n; i++) {
		const struct counter *c = i < n ? &b->v[i] : NULL;
		if (c && counter_key_cmp(&acc, c) == 0) {
			int64_t sum[3];
			bool ok = true;
			for (int k = 0; k < 3; k++)
				ok = ok && !__builtin_add_overflow(acc.d[k], c->d[k], &sum[k]);
			if (ok) {
				memcpy(acc.d, sum, sizeof(sum));
				continue;
			}
		}
		int rc = counter_run(db, &acc);
		if (rc != DB_OK) {
			/* the batch is kept (sorted, whole) for the caller to retry or discard:
			 * what was written of it goes with the transaction's rollback */
			b->len = n;
			return rc;
		}
		if (c)
			acc = *c;
	}
	return DB_OK;
}

int db_row_by_id(struct db *db, const char *sql, const char *merchant_id, const char *id,
		 struct db_stmt **ret_st)
{
	struct db_stmt *st = db_prepare(db, sql);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, id, -1);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		*ret_st = st;
		return DB_OK;
	}
	db_reset(st);
	return rc == DB_DONE ? DB_NOTFOUND : rc < 0 ? rc : DB_ERR;
}

int db_run_by_id(struct db *db, const char *sql, const char *merchant_id, const char *id)
{
	struct db_stmt *st = db_prepare(db, sql);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, id, -1);
	return db_step_done(st);
}
