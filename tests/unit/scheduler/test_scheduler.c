/*
 * The scheduler calls a job only when its probe finds work on some shard: an idle job costs a
 * read, not a write transaction. A job whose run the store refuses as overloaded is run again at
 * once with half its batch, and the batch grows back after runs that go through.
 */
#include <criterion/criterion.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "http/idempotency.h"
#include "scheduler/scheduler.h"
#include "store/db.h"
#include "store/store.h"

static char dir[256];
static struct store *s;
static atomic_int probed_runs, plain_runs;

static int probed_job(struct store *st, int64_t now)
{
	(void)st;
	(void)now;
	atomic_fetch_add(&probed_runs, 1);
	return 0;
}

static int plain_job(struct store *st, int64_t now)
{
	(void)st;
	(void)now;
	atomic_fetch_add(&plain_runs, 1);
	return 0;
}

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/tender-unit-sched-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	char err[256];
	struct store_config cfg = {.data_dir = dir};
	cr_assert_eq(store_open(&s, &cfg, err, sizeof(err)), 0, "%s", err);
	atomic_store(&probed_runs, 0);
	atomic_store(&plain_runs, 0);
}

static void teardown(void)
{
	store_close(s);
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(scheduler, .init = setup, .fini = teardown);

static int insert_merchant(struct db *db, void *p)
{
	(void)p;
	struct db_stmt *st = db_prepare(db, "INSERT INTO merchants (id, name, settlement_currency,"
					    " created) VALUES ('acct_1', 'm', 'usd', 1)");
	return st ? db_step_done(st) : DB_ERR;
}

/* polls (bounded) until *v reaches at least n */
static bool wait_for(atomic_int *v, int n)
{
	for (int i = 0; i < 5000 && atomic_load(v) < n; i++)
		nanosleep(&(struct timespec){0, 1000000}, NULL);
	return atomic_load(v) >= n;
}

Test(scheduler, a_job_runs_only_when_its_probe_finds_work)
{
	/* jobs run in order each tick: once the plain job has run 5 times, the probed one's probe
	 * was evaluated on at least 4 ticks */
	const struct scheduler_job jobs[] = {
	    {"probed", probed_job, "SELECT 1 FROM merchants WHERE created <= $1 LIMIT 1", NULL},
	    {"plain", plain_job, NULL, NULL},
	    {NULL, NULL, NULL, NULL},
	};
	struct scheduler *sc;
	cr_assert_eq(scheduler_start(&sc, s, jobs, 5), 0);
	cr_assert(wait_for(&plain_runs, 5));
	cr_assert_eq(atomic_load(&probed_runs), 0, "no work: the job must not run");
	cr_assert_eq(store_write(s, NULL, insert_merchant, NULL), 0);
	cr_assert(wait_for(&probed_runs, 1), "work appeared: the job must run");
	scheduler_stop(sc);
}

static int key_seq;

/* A saved record with created = *p (a key of its own each time) */
static int key_at(struct db *db, void *p)
{
	const int64_t *created = p;
	struct db_stmt *st = db_prepare(db, "INSERT INTO idempotency_keys (merchant_id, livemode,"
					    " idem_key, request_hash, request_id, status, body,"
					    " created) VALUES ('acct_1', 0, $1, 'h', 'req_1', 200,"
					    " '{}', $2)");
	if (!st)
		return DB_ERR;
	char key[32];
	snprintf(key, sizeof(key), "k%d", key_seq++);
	db_bind_text(st, 1, key, -1);
	db_bind_int64(st, 2, *created);
	return db_step_done(st);
}

struct prune {
	int64_t now;
	int due, pruned;
	char plan[512];
};

static int due_fn(struct db *db, void *p)
{
	struct prune *pr = p;
	pr->due = scheduler_prune_due(db, pr->now);
	/* SQLite's plan: no created index, and no scan of the whole table (a LIMIT inside) */
	struct db_stmt *st = db_prepare(db, "EXPLAIN QUERY PLAN SELECT 1 FROM (SELECT created FROM"
					    " idempotency_keys ORDER BY rowid LIMIT 1024) WHERE"
					    " created < 0 LIMIT 1");
	if (!st)
		return -1;
	pr->plan[0] = '\0';
	while (db_step(st) == DB_ROW) {
		const char *d = db_col_text(st, 3, NULL);
		snprintf(pr->plan + strlen(pr->plan), sizeof(pr->plan) - strlen(pr->plan), "%s;",
			 d ? d : "");
	}
	db_reset(st);
	return 0;
}

static int prune_fn(struct db *db, void *p)
{
	struct prune *pr = p;
	pr->pruned = idem_prune(db, pr->now, 500);
	return pr->pruned < 0 ? -1 : 0;
}

/* Migration 0023: on SQLite expired records are found at the front of the table, in rowid order
 * (the order they were saved), without a created index; the probe is due only once the oldest
 * record has expired, and both it and the pruning look at the oldest records only (they run
 * every tick, on stores of millions of records). */
Test(scheduler, expired_records_are_pruned_from_the_front)
{
	const int64_t now = 1800000000, ttl = 24 * 3600;
	cr_assert_eq(store_write(s, NULL, insert_merchant, NULL), 0);
	int64_t old = now - ttl - 5, fresh = now - ttl + 5;
	struct prune pr = {.now = now};
	cr_assert_eq(store_read(s, NULL, due_fn, &pr), 0);
	cr_assert_eq(pr.due, 0, "an empty table has nothing to prune");
	cr_assert_eq(store_write(s, NULL, key_at, &old), 0);
	cr_assert_eq(store_write(s, NULL, key_at, &fresh), 0);
	cr_assert_eq(store_write(s, NULL, key_at, &old), 0); /* saved late, expired too */
	cr_assert_eq(store_read(s, NULL, due_fn, &pr), 0);
	cr_assert_eq(pr.due, 1);
	cr_assert_null(strstr(pr.plan, "idempotency_keys_created"), "%s", pr.plan);
	cr_assert_eq(store_write(s, NULL, prune_fn, &pr), 0);
	cr_assert_eq(pr.pruned, 2, "both expired records, not the live one between them");
	cr_assert_eq(store_read(s, NULL, due_fn, &pr), 0);
	cr_assert_eq(pr.due, 0);
	pr.now = now + 10; /* the live one has expired now */
	cr_assert_eq(store_read(s, NULL, due_fn, &pr), 0);
	cr_assert_eq(pr.due, 1);
	cr_assert_eq(store_write(s, NULL, prune_fn, &pr), 0);
	cr_assert_eq(pr.pruned, 1);
	/* bounded: behind more than the window of live records, an expired one waits its turn */
	pr.now = now;
	for (int i = 0; i < 1100; i++)
		cr_assert_eq(store_write(s, NULL, key_at, &fresh), 0);
	cr_assert_eq(store_write(s, NULL, key_at, &old), 0);
	cr_assert_eq(store_read(s, NULL, due_fn, &pr), 0);
	cr_assert_eq(pr.due, 0);
	pr.now = now + 10; /* the front expires: all of it goes, over passes of 500 */
	int total = 0;
	for (int pass = 0; pass < 5; pass++) {
		cr_assert_eq(store_write(s, NULL, prune_fn, &pr), 0);
		total += pr.pruned;
	}
	cr_assert_eq(total, 1101);
}

/* A job whose runs are refused while its batch is above 5 (a transaction that conflicts when it
 * takes too much): the batches it is given, in order. */
static atomic_int batches[64];
static atomic_int nbatch;

static int picky_job(struct store *st, int64_t now)
{
	(void)st;
	(void)now;
	int b = scheduler_batch(64);
	int i = atomic_fetch_add(&nbatch, 1);
	if (i < 64)
		atomic_store(&batches[i], b);
	return b > 5 ? STORE_OVERLOADED : 0;
}

Test(scheduler, a_refused_run_is_retried_with_half_the_batch_which_grows_back)
{
	atomic_store(&nbatch, 0);
	const struct scheduler_job jobs[] = {
	    {"picky", picky_job, NULL, NULL},
	    {NULL, NULL, NULL, NULL},
	};
	struct scheduler *sc;
	cr_assert_eq(scheduler_start(&sc, s, jobs, 5), 0);
	cr_assert(wait_for(&nbatch, 12));
	scheduler_stop(sc);
	/* first tick: 64 refused, 32, 16, 8 refused, 4 goes through; the next tick tries 8
	 * (refused) then 4; and so on: it never asks more than twice what went through */
	const int want[] = {64, 32, 16, 8, 4, 8, 4, 8, 4, 8, 4};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		cr_assert_eq(atomic_load(&batches[i]), want[i], "run %zu: batch %d, not %d", i,
			     atomic_load(&batches[i]), want[i]);
	/* outside the scheduler's thread, a job takes its whole batch */
	cr_assert_eq(scheduler_batch(64), 64);
}
