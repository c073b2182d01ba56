/*
 * The scheduler calls a job only when its probe finds work on some shard: an idle job costs a
 * read, not a write transaction.
 */
#include <criterion/criterion.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "core/clock.h"
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
	    {"probed", probed_job, "SELECT 1 FROM merchants WHERE created <= $1 LIMIT 1"},
	    {"plain", plain_job, NULL},
	    {NULL, NULL, NULL},
	};
	struct scheduler *sc;
	cr_assert_eq(scheduler_start(&sc, s, jobs, 5), 0);
	cr_assert(wait_for(&plain_runs, 5));
	cr_assert_eq(atomic_load(&probed_runs), 0, "no work: the job must not run");
	cr_assert_eq(store_write(s, NULL, insert_merchant, NULL), 0);
	cr_assert(wait_for(&probed_runs, 1), "work appeared: the job must run");
	scheduler_stop(sc);
}
