/*
 * Background work that time drives: funds becoming available, test refunds settling, expired
 * idempotency records being pruned. One thread runs every job in turn each tick; each job does a
 * bounded batch per tick, so a backlog drains over several ticks and never holds the writer long.
 */
#ifndef TENDER_SCHEDULER_SCHEDULER_H
#define TENDER_SCHEDULER_SCHEDULER_H

#include <stdint.h>

#include "core/id.h"

struct db;
struct store;
struct scheduler;

typedef int (*scheduler_job_fn)(struct store *s, int64_t now);

struct scheduler_job {
	const char *name;
	scheduler_job_fn fn;
	/* A read-only probe, $1 = now (unix seconds), that returns a row when the job has work on a
	 * shard. The scheduler runs it in a read transaction first and calls fn only when some
	 * shard answered a row, so an idle job costs one indexed read per shard instead of a write
	 * transaction through the writer (SQLite) or a SERIALIZABLE transaction (PostgreSQL).
	 * NULL (and no due_fn): fn runs every tick. */
	const char *due_sql;
	/* Instead of due_sql, when the probe differs between the stores: 1 when the job has work
	 * on db's shard, 0 when not, < 0 on error (run in the same read transaction). */
	int (*due_fn)(struct db *db, int64_t now);
};

int scheduler_start(struct scheduler **ret, struct store *s, const struct scheduler_job *jobs,
		    int tick_ms);
/* The batch the running job should take, at most max: less after the store refused its runs as
 * overloaded (scheduler.c, "Batches that shrink when they are refused"); max outside the
 * scheduler's thread. Never below one. */
int scheduler_batch(int max);

/* One row of a job's due statement: what is due, and whose. */
struct scheduler_due {
	char merchant[ID_MAX], id[ID_MAX];
};
/* Reads the rows (merchant_id, id) of a job's due statement (sql: $1 now, $2 a LIMIT) into
 * rows[*n] up to rows[max - 1], *n counting them. DB_OK or < 0. */
int scheduler_due_read(struct db *db, const char *sql, int64_t now, struct scheduler_due *rows,
		       int *n, int max);
void scheduler_stop(struct scheduler *sc);

/* Built-in job: prunes expired idempotency records (bounded batch); its probe (due_fn). */
int scheduler_prune_idempotency(struct store *s, int64_t now);
int scheduler_prune_due(struct db *db, int64_t now);

#endif
