/*
 * The backend side of struct db: each engine fills a struct db_ops. Only src/store/ includes this.
 */
#ifndef TENDER_STORE_DB_IMPL_H
#define TENDER_STORE_DB_IMPL_H

#include "store/db.h"

struct db_ops {
	enum db_kind kind;
	struct db_stmt *(*prepare)(struct db *db, const char *sql);
	int (*bind_int64)(struct db_stmt *st, int idx, int64_t v);
	int (*bind_text)(struct db_stmt *st, int idx, const char *s, size_t len);
	/* optional: s is not copied (db_bind_text_ref) */
	int (*bind_text_ref)(struct db_stmt *st, int idx, const char *s, size_t len);
	int (*bind_blob)(struct db_stmt *st, int idx, const void *p, size_t len);
	int (*bind_null)(struct db_stmt *st, int idx);
	int (*step)(struct db_stmt *st);
	void (*reset)(struct db_stmt *st);
	int (*col_count)(struct db_stmt *st);
	bool (*col_is_null)(struct db_stmt *st, int col);
	int64_t (*col_int64)(struct db_stmt *st, int col);
	const char *(*col_text)(struct db_stmt *st, int col, size_t *ret_len);
	const void *(*col_blob)(struct db_stmt *st, int col, size_t *ret_len);
	int64_t (*changes)(struct db_stmt *st);
	int (*exec)(struct db *db, const char *sql);
	const char *(*errmsg)(struct db *db);
};

/* Every backend's connection struct starts with this header, and every statement with its db. */
struct db_counters;
struct db {
	const struct db_ops *ops;
	struct db_counters *counters; /* non-NULL: db_counter_add defers (db_counters_enable) */
	uint64_t job;		      /* the write callback running on it (db_job), 0: none */
};

struct db_stmt {
	struct db *db;
};

/* Deferred counters (db.c; see db_counter_add). The group-commit writer enables them on its
 * connection, takes a mark at each job's SAVEPOINT, rolls back to it with the job, and flushes
 * before COMMIT. PostgreSQL connections enable them too, with a small batch, and flush after
 * COMMIT (store_pg.c, "Counters after the commit"). cap bounds the batch (0: the largest). */
int db_counters_enable(struct db *db, size_t cap);
void db_counters_free(struct db *db);
size_t db_counters_mark(struct db *db);
void db_counters_rollback(struct db *db, size_t mark);
/* Writes the summed deltas, one upsert per distinct (sql, key); empties the batch (on a failure
 * it keeps it, for a retry or db_counters_discard). */
int db_counters_flush(struct db *db);
/* Forgets the batch and the event tally (its transaction was rolled back). A mark also marks
 * the tally, and a rollback to it takes the job's events out of it. */
void db_counters_discard(struct db *db);
/* Hands the committed transaction's event tally (db_tally_event) to the metrics and empties
 * it: call right after a successful COMMIT. */
void db_tally_publish(struct db *db);
/* A store's write callback begins / ends on this connection (db_job): called around each run of
 * one (a rerun of a rolled-back job is a new job). */
void db_job_begin(struct db *db);
void db_job_end(struct db *db);
bool db_counters_pending(struct db *db);

/* SQLite backend (store/sqlite_db.c) */
struct db *sqlite_db_open(const char *path, int readonly, char *err, size_t errlen);
void sqlite_db_close(struct db *db);
/* True when the connection is inside a transaction. */
int sqlite_db_in_tx(struct db *db);
/* Counts the WAL frames each commit appends (replaces SQLite's auto-checkpoint hook: use only
 * with wal_autocheckpoint=0). */
void sqlite_db_track_wal(struct db *db);
/* Frames in the WAL after this connection's last commit (0 after a restart of the log). */
int sqlite_db_wal_size(struct db *db);
/* Heap held by the connection's page cache. */
int64_t sqlite_db_cache_bytes(struct db *db);
/* Statements stepped and WAL frames appended so far on this connection. */
void sqlite_db_stats(struct db *db, int64_t *ret_steps, int64_t *ret_wal_frames);

/* PostgreSQL backend (store/pg_db.c). conninfo is a libpq URL or key=value string. */
struct db *pg_db_open(const char *conninfo, char *err, size_t errlen);
void pg_db_close(struct db *db);
enum { PG_TX_IDLE = 0, PG_TX_OPEN = 1, PG_TX_FAILED = 2, PG_TX_BROKEN = -1 };
/* The session's transaction state (PG_TX_*); BROKEN when the connection was lost. */
int pg_db_tx_state(struct db *db);
/* True when a serialization failure or deadlock (40001/40P01/55P03) happened since the last
 * pg_db_clear_error: the transaction may be run again. */
int pg_db_retryable(struct db *db);
void pg_db_clear_error(struct db *db);
/* The SQLSTATE of the last error ("" when none since the last clear). */
const char *pg_db_sqlstate(struct db *db);
/* Re-opens a lost connection (prepared statements are forgotten and re-prepared on use). */
int pg_db_reconnect(struct db *db);

#endif
