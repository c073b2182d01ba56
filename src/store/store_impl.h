/*
 * The two implementations behind store.h; store.c picks one at store_open. Only src/store/
 * includes this.
 */
#ifndef TENDER_STORE_STORE_IMPL_H
#define TENDER_STORE_STORE_IMPL_H

#include <stdbool.h>
#include <stdint.h>

#include "store/migrate.h"
#include "store/store.h"

/* store_sqlite.c: one file, one writer thread with group commit, thread-local readers. */
struct sqlite_store;
int sqlite_store_open(struct sqlite_store **ret, const struct store_config *cfg, char *err,
		      size_t errlen);
void sqlite_store_close(struct sqlite_store *s);
int sqlite_store_write(struct sqlite_store *s, const char *merchant_id, store_fn fn, void *ctx);
int sqlite_store_read(struct sqlite_store *s, const char *merchant_id, store_fn fn, void *ctx);
int sqlite_store_each_shard_write(struct sqlite_store *s, store_fn fn, void *ctx);
int sqlite_store_each_shard_read(struct sqlite_store *s, store_fn fn, void *ctx);
void sqlite_store_barrier_defer(int on);
void sqlite_store_read_hold(struct sqlite_store *s, int on);
uint64_t sqlite_store_barrier_take(struct sqlite_store *s);
int sqlite_store_barrier_wait(struct sqlite_store *s, uint64_t need);
void sqlite_store_hold_checkpoints(struct sqlite_store *s, int on);
int sqlite_store_reset_armed(struct sqlite_store *s);
uint64_t sqlite_store_barrier_pending(struct sqlite_store *s, uint64_t need);
void sqlite_store_hold_syncs(struct sqlite_store *s, int on);
int sqlite_store_syncing(struct sqlite_store *s);
int64_t sqlite_store_writebacks(struct sqlite_store *s);
bool sqlite_store_writable(struct sqlite_store *s);

/* store_pg.c: PostgreSQL shards, a bounded connection pool per shard. */
struct pg_store;
int pg_store_open(struct pg_store **ret, const struct store_config *cfg, char *err, size_t errlen);
void pg_store_close(struct pg_store *s);
int pg_store_write(struct pg_store *s, const char *merchant_id, store_fn fn, void *ctx);
int pg_store_read(struct pg_store *s, const char *merchant_id, store_fn fn, void *ctx);
int pg_store_each_shard_write(struct pg_store *s, store_fn fn, void *ctx);
int pg_store_each_shard_read(struct pg_store *s, store_fn fn, void *ctx);
int pg_store_shard_count(const struct pg_store *s);
int pg_store_shard_of(struct pg_store *s, const char *merchant_id, int *ret_shard);
int pg_store_move(struct pg_store *s, const char *merchant_id, int to, char *err, size_t errlen);
int pg_store_shards_list(struct pg_store *s, store_shard_each_fn fn, void *ctx);

/* Tests: while on, the SQLite syncer stays in its fsync (from the next group it takes): committed
 * groups stay unanswered, and the writer keeps its next group open (run_group). */
void store_test_hold_syncs(struct store *s, int on);
/* Tests: whether the SQLite syncer is in an fsync (or held there). */
int store_test_syncing(struct store *s);
/* Tests: holds the checkpoint lock as a running checkpoint would (SQLite store; see "The
 * WAL-reset race" in store_sqlite.c): no COMMIT that may restart the WAL happens until it is let
 * go, and no checkpoint starts. */
void store_test_hold_checkpoints(struct store *s, int on);
/* Tests: whether the next COMMIT may restart the WAL (the last checkpoint copied it all back). */
int store_test_reset_armed(struct store *s);
/* Tests: checkpoints after which the SQLite checkpointer started the database file's writeback
 * (0 on PostgreSQL). */
int64_t store_test_writebacks(struct store *s);

/* The thread's shard while a store_each_shard_* callback runs (set by the backends). */
void store_set_current_shard(int idx);

extern const struct migration migrations_pg[];

#endif
