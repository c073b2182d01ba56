#include "scheduler/scheduler.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/str.h"
#include "http/idempotency.h"
#include "store/db.h"
#include "store/store.h"

#define JOBS_MAX 16
#define PRUNE_BATCH 1000
/*
 * Batches that shrink when they are refused. A job's run is one write transaction per shard,
 * taking up to a batch of due items; on PostgreSQL the whole transaction is retried when it
 * conflicts with another (store_pg.c) and refused with STORE_OVERLOADED once its attempts run
 * out. The more items a run takes, the likelier each attempt meets a conflict, so under
 * contention a full batch could be refused at every tick and the work (a dispute to open, a
 * payout to settle) never done. So a refused run is retried at once with half the batch, down to
 * one item (BATCH_SHIFT_MAX halvings at most), and each run that goes through lets the next one
 * take twice as many again, up to the job's own maximum. Jobs ask scheduler_batch(max).
 */
#define BATCH_SHIFT_MAX 10

struct scheduler {
	struct store *store;
	struct scheduler_job jobs[JOBS_MAX];
	int shift[JOBS_MAX]; /* each job's batch is its maximum >> shift */
	int njobs;
	int tick_ms;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int stopping;
};

static _Thread_local int batch_shift; /* the running job's; 0 outside the scheduler */

int scheduler_batch(int max)
{
	int b = max >> batch_shift;
	return b < 1 ? 1 : b;
}

int scheduler_due_read(struct db *db, const char *sql, int64_t now, struct scheduler_due *rows,
		       int *n, int max)
{
	if (*n >= max)
		return DB_OK;
	struct db_stmt *st = db_prepare(db, sql);
	if (!st)
		return DB_ERR;
	db_bind_int64(st, 1, now);
	db_bind_int64(st, 2, max - *n);
	int rc;
	while (*n < max && (rc = db_step(st)) == DB_ROW) {
		str_copy(rows[*n].merchant, ID_MAX, db_col_text(st, 0, NULL));
		str_copy(rows[*n].id, ID_MAX, db_col_text(st, 1, NULL));
		(*n)++;
	}
	db_reset(st);
	return rc == DB_ROW || rc == DB_DONE ? DB_OK : (rc < 0 ? rc : DB_ERR);
}

/* Runs job i with its batch, halving the batch while the store refuses the run as overloaded. */
static int run_job(struct scheduler *sc, int i, int64_t now)
{
	int rc;
	for (;;) {
		batch_shift = sc->shift[i];
		rc = sc->jobs[i].fn(sc->store, now);
		if (rc != STORE_OVERLOADED || sc->shift[i] >= BATCH_SHIFT_MAX)
			break;
		sc->shift[i]++;
	}
	batch_shift = 0;
	if (rc >= 0 && sc->shift[i] > 0)
		sc->shift[i]--;
	return rc;
}

struct probe_ctx {
	const char *sql;
	int (*fn)(struct db *db, int64_t now);
	int64_t now;
	bool due;
};

/* once per shard: accumulates, never overwrites another shard's answer */
static int probe_fn(struct db *db, void *p)
{
	struct probe_ctx *c = p;
	if (c->fn) {
		int due = c->fn(db, c->now);
		c->due = c->due || due > 0;
		return due < 0 ? -1 : 0;
	}
	struct db_stmt *st = db_prepare(db, c->sql);
	if (!st)
		return -1;
	db_bind_int64(st, 1, c->now);
	int rc = db_step(st);
	c->due = c->due || rc == DB_ROW;
	db_reset(st);
	return rc < 0 ? -1 : 0;
}

/* Whether job j has work: its probe answered a row on some shard (or it has no probe, or the
 * probe failed: then the job itself runs and reports what is wrong). */
static bool job_due(struct scheduler *sc, const struct scheduler_job *j, int64_t now)
{
	if (!j->due_sql && !j->due_fn)
		return true;
	struct probe_ctx c = {j->due_sql, j->due_fn, now, false};
	if (store_each_shard_read(sc->store, probe_fn, &c) != 0) {
		log_msg(LOG_ERROR, "scheduler: the probe of job %s failed; running the job",
			j->name);
		return true;
	}
	return c.due;
}

static void *scheduler_main(void *p)
{
	struct scheduler *sc = p;
	pthread_setname_np(pthread_self(), "tender-sched");
	for (;;) {
		pthread_mutex_lock(&sc->mu);
		if (!sc->stopping) {
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			int64_t ns = ts.tv_nsec + (int64_t)sc->tick_ms * 1000000;
			ts.tv_sec += ns / 1000000000;
			ts.tv_nsec = ns % 1000000000;
			pthread_cond_timedwait(&sc->cv, &sc->mu, &ts);
		}
		int stop = sc->stopping;
		pthread_mutex_unlock(&sc->mu);
		if (stop)
			return NULL;
		int64_t now = clock_now();
		for (int i = 0; i < sc->njobs; i++) {
			if (!job_due(sc, &sc->jobs[i], now))
				continue;
			int rc = run_job(sc, i, now);
			if (rc < 0)
				log_msg(LOG_ERROR, "scheduler: job %s failed (%d)",
					sc->jobs[i].name, rc);
		}
	}
}

int scheduler_start(struct scheduler **ret, struct store *s, const struct scheduler_job *jobs,
		    int tick_ms)
{
	struct scheduler *sc = calloc(1, sizeof(*sc));
	if (!sc)
		return -1;
	sc->store = s;
	sc->tick_ms = tick_ms > 0 ? tick_ms : 500;
	for (const struct scheduler_job *j = jobs; j && j->fn && sc->njobs < JOBS_MAX; j++)
		sc->jobs[sc->njobs++] = *j;
	pthread_mutex_init(&sc->mu, NULL);
	pthread_cond_init(&sc->cv, NULL);
	if (pthread_create(&sc->thread, NULL, scheduler_main, sc) != 0) {
		free(sc);
		return -1;
	}
	*ret = sc;
	return 0;
}

void scheduler_stop(struct scheduler *sc)
{
	if (!sc)
		return;
	pthread_mutex_lock(&sc->mu);
	sc->stopping = 1;
	pthread_cond_broadcast(&sc->cv);
	pthread_mutex_unlock(&sc->mu);
	pthread_join(sc->thread, NULL);
	pthread_mutex_destroy(&sc->mu);
	pthread_cond_destroy(&sc->cv);
	free(sc);
}

struct prune_ctx {
	int64_t now;
	int n;
};

static int prune_fn(struct db *db, void *p)
{
	struct prune_ctx *c = p;
	c->n = idem_prune(db, c->now, scheduler_batch(PRUNE_BATCH));
	return c->n < 0 ? -1 : 0;
}

/* On PostgreSQL an index seek for one expired record; on SQLite a look at the oldest records
 * only (http/idempotency.c), never a scan of the whole table (it runs every tick). */
int scheduler_prune_due(struct db *db, int64_t now)
{
	return idem_prune_due(db, now);
}

int scheduler_prune_idempotency(struct store *s, int64_t now)
{
	struct prune_ctx c = {now, 0};
	int rc = store_each_shard_write(s, prune_fn, &c);
	return rc == 0 ? c.n : rc;
}
