/*
 * struct store: where Tender's state lives, and the only way to reach it.
 *
 * All writes go through store_write(): the caller passes a callback that performs its statements
 * on the connection it is given, inside a transaction that the store owns. The SQLite backend runs
 * every callback on one writer thread and gathers concurrent callbacks into one durable commit
 * (group commit, issue 10): each callback runs inside its own SAVEPOINT, so a callback that returns
 * an error is rolled back alone, while the commit that makes the survivors durable is shared.
 * store_write() returns only after that commit reached the disk (the WAL fsync'd), so a response
 * sent after it describes durable effects. If the commit fails, every callback in the group gets
 * STORE_COMMIT_FAILED and nothing of any of them is applied.
 *
 * Rules for callbacks: run SQL only on the db you are given; do no slow I/O (network, processor
 * calls, sleeps: do those before or after); keep any output in ctx and treat it as valid only when
 * store_write() returned 0. A callback may be run again after a retryable failure (PostgreSQL
 * serialization errors; on SQLite, when another callback of its group failed: see run_group in
 * store_sqlite.c), so it must not have side effects outside the database, and whatever it keeps
 * in ctx must come out the same when it is run again (assign; do not add to what a previous run
 * left there).
 *
 * store_read() runs a callback on a read connection inside a read transaction (a consistent
 * snapshot). Every query in both is scoped by merchant: the merchant id picks the shard and must be
 * bound in every WHERE clause.
 */
#ifndef TENDER_STORE_STORE_H
#define TENDER_STORE_STORE_H

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

#include "store/db.h"

#define STORE_COMMIT_FAILED (-100)
#define STORE_OVERLOADED (-101)	 /* the write queue is full: answer 503 */
#define STORE_UNSUPPORTED (-102) /* the operation needs the PostgreSQL backend */

struct store;

struct store_config {
	const char *data_dir;		  /* SQLite: DIR/tender.db */
	const char *const *database_urls; /* PostgreSQL shards (NULL-terminated); NULL for SQLite */
	int read_only;			  /* open without creating or migrating (CLI inspection) */
	/* SQLite: this process never checkpoints; a CLI command that may run beside `tender serve`
	 * on the same files leaves that to the server's checkpointer, the only one (see "The
	 * WAL-reset race" in store_sqlite.c). Ignored by PostgreSQL. */
	int no_checkpoints;
};

typedef int (*store_fn)(struct db *db, void *ctx);

int store_open(struct store **ret, const struct store_config *cfg, char *err, size_t errlen);
void store_close(struct store *s);

/* The backend behind the store: what db_kind() says of each of its connections. */
enum db_kind store_kind(const struct store *s);

/* Runs fn in a write transaction on merchant's shard (merchant_id may be NULL for global rows such
 * as the merchant table itself). Returns fn's return value, or STORE_COMMIT_FAILED /
 * STORE_OVERLOADED. */
int store_write(struct store *s, const char *merchant_id, store_fn fn, void *ctx);
int store_read(struct store *s, const char *merchant_id, store_fn fn, void *ctx);

/*
 * Durability of what reads saw (SQLite). A group of writes becomes visible to readers when it is
 * committed, a moment before its fsync completes (store_sqlite.c). store_read() therefore returns
 * only once everything its snapshot could contain is durable, unless the calling thread has
 * deferred that wait: then the read returns at once and the thread must, before anything it read
 * leaves the process (an HTTP answer), take what it owes (store_barrier_take: 0 when nothing)
 * and wait for it (store_barrier_wait, on any thread; STORE_COMMIT_FAILED if the fsync failed).
 * The HTTP threads defer, so a read on the epoll thread never blocks it: the answer is handed to
 * a worker to wait instead. On PostgreSQL a commit is durable before it is visible: no-ops.
 */
void store_barrier_defer(int on);
uint64_t store_barrier_take(struct store *s);
int store_barrier_wait(struct store *s, uint64_t need);
/* need, or 0 once it is durable (never blocks) */
uint64_t store_barrier_pending(struct store *s, uint64_t need);

/*
 * Reads back to back in one transaction (SQLite; nothing on PostgreSQL). After store_read_hold,
 * this thread's store_read() calls leave their read transaction open for the next one, until
 * store_read_release commits it: a request's reads on its epoll thread (the idempotency lookup,
 * then the card and what the fraud model reads) start one transaction instead of two. Only for
 * reads with nothing in between that runs another request or waits: the snapshot is as old as
 * the first read, and another request's reads must never see it. A read that fails ends it.
 */
void store_read_hold(struct store *s);
void store_read_release(struct store *s);

/* Whether store_write(), called in a coroutine (core/coro.h), parks the coroutine until its commit
 * is durable instead of blocking the thread: SQLite's group commit does; PostgreSQL's writes run
 * on the calling thread's own connection, so they block it. */
bool store_writes_park(const struct store *s);
/* False once the embedded store has refused writes for good (a failed WAL fsync: nothing written
 * since can be trusted until a restart); always true on PostgreSQL, whose failures are per
 * transaction. */
bool store_writable(struct store *s);

/* Every shard in turn (verify, pruning, schedulers). fn gets the shard index via ctx if needed. */
int store_each_shard_write(struct store *s, store_fn fn, void *ctx);

/* For a callback of store_each_shard_write that adds its shard's count to a total in ctx: it may
 * be run again on the same shard (above), right after the run that is undone, so that run's
 * share is taken back. Returns what to add to the total. Zeroed with its ctx. */
struct shard_share {
	const struct db *db;
	int64_t n;
};
static inline int64_t shard_share_add(struct shard_share *s, const struct db *db, int64_t n)
{
	int64_t delta = s->db == db ? n - s->n : n;
	s->db = db;
	s->n = n;
	return delta;
}
int store_each_shard_read(struct store *s, store_fn fn, void *ctx);

/* ---- shards (PostgreSQL; SQLite is one shard, index 0) ---- */

/* Inside a store_each_shard_* callback: the index of the shard it runs on; 0 elsewhere. */
int store_current_shard(void);
int store_shard_count(const struct store *s);
/* The shard merchant_id lives on (from the shard map); 0 on SQLite. */
int store_shard_of(struct store *s, const char *merchant_id, int *ret_shard);
/* Moves one merchant's rows to shard `to`, online: freeze its writes on the old shard, copy,
 * switch the shard map, delete the old rows. Idempotent: an interrupted move is finished (or
 * redone) by running it again. PostgreSQL only. */
int store_move_merchant(struct store *s, const char *merchant_id, int to, char *err, size_t errlen);
/* Every merchant in the shard map: fn(merchant_id, shard, ready, ctx). */
typedef void (*store_shard_each_fn)(const char *merchant_id, int shard, int ready, void *ctx);
int store_shards_list(struct store *s, store_shard_each_fn fn, void *ctx);

#endif
