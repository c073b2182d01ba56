/*
 * The store's front: store_open picks the backend (SQLite for --data, PostgreSQL shards for
 * --database-url) and every store_* call is forwarded to it. The backends live in
 * store_sqlite.c (one file, group commit) and store_pg.c (shards, connection pools).
 */
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>

#include "core/clock.h"
#include "metrics/metrics.h"
#include "store/store_impl.h"

struct store {
	struct sqlite_store *sq;
	struct pg_store *pg;
};

static __thread int current_shard;

void store_set_current_shard(int idx)
{
	current_shard = idx;
}

int store_current_shard(void)
{
	return current_shard;
}

int store_open(struct store **ret, const struct store_config *cfg, char *err, size_t errlen)
{
	struct store *s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	int rc = cfg->database_urls && cfg->database_urls[0]
		     ? pg_store_open(&s->pg, cfg, err, errlen)
		     : sqlite_store_open(&s->sq, cfg, err, errlen);
	if (rc != 0) {
		free(s);
		return rc;
	}
	*ret = s;
	return 0;
}

enum db_kind store_kind(const struct store *s)
{
	return s && s->pg ? DB_POSTGRES : DB_SQLITE;
}

void store_close(struct store *s)
{
	if (!s)
		return;
	if (s->pg)
		pg_store_close(s->pg);
	else
		sqlite_store_close(s->sq);
	free(s);
}

void store_barrier_defer(int on)
{
	sqlite_store_barrier_defer(on);
}

void store_read_hold(struct store *s)
{
	if (!s->pg)
		sqlite_store_read_hold(s->sq, 1);
}

void store_read_release(struct store *s)
{
	if (!s->pg)
		sqlite_store_read_hold(s->sq, 0);
}

uint64_t store_barrier_take(struct store *s)
{
	return s->pg ? 0 : sqlite_store_barrier_take(s->sq);
}

int store_barrier_wait(struct store *s, uint64_t need)
{
	return s->pg ? 0 : sqlite_store_barrier_wait(s->sq, need);
}

uint64_t store_barrier_pending(struct store *s, uint64_t need)
{
	return s->pg ? 0 : sqlite_store_barrier_pending(s->sq, need);
}

bool store_writes_park(const struct store *s)
{
	return !s->pg;
}

bool store_writable(struct store *s)
{
	return s->pg || sqlite_store_writable(s->sq);
}

void store_test_hold_checkpoints(struct store *s, int on)
{
	if (!s->pg)
		sqlite_store_hold_checkpoints(s->sq, on);
}

int store_test_reset_armed(struct store *s)
{
	return s->pg ? 0 : sqlite_store_reset_armed(s->sq);
}

int64_t store_test_writebacks(struct store *s)
{
	return s->pg ? 0 : sqlite_store_writebacks(s->sq);
}

void store_test_hold_syncs(struct store *s, int on)
{
	if (!s->pg)
		sqlite_store_hold_syncs(s->sq, on);
}

int store_test_syncing(struct store *s)
{
	return s->pg ? 0 : sqlite_store_syncing(s->sq);
}

int store_write(struct store *s, const char *merchant_id, store_fn fn, void *ctx)
{
	int64_t t0 = clock_mono_us();
	int rc = s->pg ? pg_store_write(s->pg, merchant_id, fn, ctx)
		       : sqlite_store_write(s->sq, merchant_id, fn, ctx);
	metrics_store_write(clock_mono_us() - t0, rc);
	return rc;
}

int store_read(struct store *s, const char *merchant_id, store_fn fn, void *ctx)
{
	return s->pg ? pg_store_read(s->pg, merchant_id, fn, ctx)
		     : sqlite_store_read(s->sq, merchant_id, fn, ctx);
}

int store_each_shard_write(struct store *s, store_fn fn, void *ctx)
{
	return s->pg ? pg_store_each_shard_write(s->pg, fn, ctx)
		     : sqlite_store_each_shard_write(s->sq, fn, ctx);
}

int store_each_shard_read(struct store *s, store_fn fn, void *ctx)
{
	return s->pg ? pg_store_each_shard_read(s->pg, fn, ctx)
		     : sqlite_store_each_shard_read(s->sq, fn, ctx);
}

int store_shard_count(const struct store *s)
{
	return s->pg ? pg_store_shard_count(s->pg) : 1;
}

int store_shard_of(struct store *s, const char *merchant_id, int *ret_shard)
{
	if (!s->pg) {
		*ret_shard = 0;
		return 0;
	}
	return pg_store_shard_of(s->pg, merchant_id, ret_shard);
}

int store_move_merchant(struct store *s, const char *merchant_id, int to, char *err, size_t errlen)
{
	if (!s->pg) {
		snprintf(err, errlen,
			 "moving merchants between shards needs --database-url "
			 "(PostgreSQL); the SQLite store is a single shard");
		return STORE_UNSUPPORTED;
	}
	return pg_store_move(s->pg, merchant_id, to, err, errlen);
}

int store_shards_list(struct store *s, store_shard_each_fn fn, void *ctx)
{
	if (!s->pg)
		return STORE_UNSUPPORTED;
	return pg_store_shards_list(s->pg, fn, ctx);
}
