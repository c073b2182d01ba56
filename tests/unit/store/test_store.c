#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/id.h"
#include "metrics/metrics.h"
#include "store/db.h"
#include "store/store.h"
#include "store/store_impl.h"
#include <sys/resource.h>
#include <unistd.h>

static char dir[256];
static struct store *s;

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/tender-unit-store-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	char err[256];
	struct store_config cfg = {.data_dir = dir};
	cr_assert_eq(store_open(&s, &cfg, err, sizeof(err)), 0, "%s", err);
}

static void teardown(void)
{
	store_close(s);
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(store, .init = setup, .fini = teardown);

static const char SQL_INS[] =
    "INSERT INTO merchants (id, name, settlement_currency, created) VALUES ($1, $2, 'usd', $3)";
static const char SQL_COUNT[] = "SELECT COUNT(*) FROM merchants WHERE name = $1";

struct ins {
	const char *name;
	int fail;
};

static int ins_fn(struct db *db, void *p)
{
	struct ins *x = p;
	char id[ID_MAX];
	id_new(id, "acct_");
	struct db_stmt *st = db_prepare(db, SQL_INS);
	if (!st)
		return -1;
	/* bind out of order on purpose: $N must map by number, not by appearance */
	db_bind_int64(st, 3, 7);
	db_bind_text(st, 2, x->name, -1);
	db_bind_text(st, 1, id, -1);
	int rc = db_step_done(st);
	if (rc != DB_OK)
		return rc;
	return x->fail ? -7 : 0;
}

struct count {
	const char *name;
	int64_t n;
};

static int count_fn(struct db *db, void *p)
{
	struct count *c = p;
	struct db_stmt *st = db_prepare(db, SQL_COUNT);
	db_bind_text(st, 1, c->name, -1);
	cr_assert_eq(db_step(st), DB_ROW);
	c->n = db_col_int64(st, 0);
	db_reset(st);
	return 0;
}

Test(store, failing_callback_rolls_back_alone)
{
	struct ins ok = {"kept", 0}, bad = {"dropped", 1};
	cr_assert_eq(store_write(s, NULL, ins_fn, &ok), 0);
	cr_assert_eq(store_write(s, NULL, ins_fn, &bad), -7);
	struct count c1 = {"kept", 0}, c2 = {"dropped", 0};
	store_read(s, NULL, count_fn, &c1);
	store_read(s, NULL, count_fn, &c2);
	cr_assert_eq(c1.n, 1);
	cr_assert_eq(c2.n, 0);
}

struct counted {
	struct ins x;
	int calls;
};

static int counted_fn(struct db *db, void *p)
{
	struct counted *c = p;
	c->calls++;
	return ins_fn(db, &c->x);
}

Test(store, a_failing_job_runs_its_group_again_with_savepoints)
{
	/* a group runs without savepoints first: a job that succeeds runs once */
	struct counted ok = {{"optimistic", 0}, 0};
	cr_assert_eq(store_write(s, NULL, counted_fn, &ok), 0);
	cr_assert_eq(ok.calls, 1);
	/* a failing job rolls the whole transaction back, and the group runs again with a
	 * savepoint per job (so each callback may be run twice, as store.h allows) */
	struct counted bad = {{"optimistic-bad", 1}, 0};
	cr_assert_eq(store_write(s, NULL, counted_fn, &bad), -7);
	cr_assert_eq(bad.calls, 2);
	/* the groups after it start with savepoints: a failure there is rolled back alone */
	struct counted bad2 = {{"optimistic-bad", 1}, 0};
	cr_assert_eq(store_write(s, NULL, counted_fn, &bad2), -7);
	cr_assert_eq(bad2.calls, 1);
	struct count kept = {"optimistic", 0}, dropped = {"optimistic-bad", 0};
	store_read(s, NULL, count_fn, &kept);
	store_read(s, NULL, count_fn, &dropped);
	cr_assert_eq(kept.n, 1);
	cr_assert_eq(dropped.n, 0);
}

static void *writer(void *p)
{
	long i = (long)p;
	for (int k = 0; k < 50; k++) {
		struct ins x = {"group", (i + k) % 7 == 0};
		int rc = store_write(s, NULL, ins_fn, &x);
		if ((i + k) % 7 == 0)
			cr_assert_eq(rc, -7);
		else
			cr_assert_eq(rc, 0);
	}
	return NULL;
}

Test(store, concurrent_writers_group_commit)
{
	pthread_t t[16];
	for (long i = 0; i < 16; i++)
		pthread_create(&t[i], NULL, writer, (void *)i);
	for (int i = 0; i < 16; i++)
		pthread_join(t[i], NULL);
	int expected = 0;
	for (long i = 0; i < 16; i++)
		for (int k = 0; k < 50; k++)
			expected += (i + k) % 7 != 0;
	struct count c = {"group", 0};
	store_read(s, NULL, count_fn, &c);
	cr_assert_eq(c.n, expected);
}

/* Deferred counters: the writer sums every job's deltas per key and upserts once per group;
 * a job that fails takes its deltas with it, whatever else its group did. */
static const char SQL_BUMP[] =
    "INSERT INTO risk_velocity (merchant_id, kind, key, hour, attempts, amount, declines)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (merchant_id, kind, key, hour) DO UPDATE"
    " SET attempts = risk_velocity.attempts + $5, amount = risk_velocity.amount + $6,"
    " declines = risk_velocity.declines + $7";
static const char SQL_ADD[] =
    "UPDATE risk_velocity SET attempts = attempts + $5, amount = amount + $6,"
    " declines = declines + $7 WHERE merchant_id = $1 AND kind = $2 AND key = $3 AND hour = $4";
static const char SQL_SUM[] = "SELECT COALESCE(SUM(attempts), 0), COALESCE(SUM(amount), 0),"
			      " COUNT(*) FROM risk_velocity WHERE merchant_id = $1 AND key = $2";

struct bump {
	long thread;
	int k;
};

static int bump_fn(struct db *db, void *p)
{
	struct bump *b = p;
	char key[16];
	snprintf(key, sizeof(key), "card%ld", b->thread % 3);
	/* two keys per job: one shared by every thread, one by a third of them */
	if (db_counter_add(db, SQL_BUMP, SQL_ADD, "acct_c", "card", "shared", 1, 1, 10, 0) !=
		DB_OK ||
	    db_counter_add(db, SQL_BUMP, SQL_ADD, "acct_c", "card", key, 1, 1, b->k, 0) != DB_OK)
		return -1;
	return (b->thread + b->k) % 5 == 0 ? -7 : 0;
}

static void *bumper(void *p)
{
	long i = (long)p;
	for (int k = 1; k <= 40; k++) {
		struct bump b = {i, k};
		int rc = store_write(s, NULL, bump_fn, &b);
		cr_assert_eq(rc, (i + k) % 5 == 0 ? -7 : 0);
	}
	return NULL;
}

struct sum {
	const char *key;
	int64_t attempts, amount, rows;
};

static int sum_fn(struct db *db, void *p)
{
	struct sum *x = p;
	struct db_stmt *st = db_prepare(db, SQL_SUM);
	db_bind_text(st, 1, "acct_c", -1);
	db_bind_text(st, 2, x->key, -1);
	if (db_step(st) == DB_ROW) {
		x->attempts = db_col_int64(st, 0);
		x->amount = db_col_int64(st, 1);
		x->rows = db_col_int64(st, 2);
	}
	db_reset(st);
	return 0;
}

Test(store, counters_sum_per_group_and_roll_back_with_their_job)
{
	pthread_t t[12];
	for (long i = 0; i < 12; i++)
		pthread_create(&t[i], NULL, bumper, (void *)i);
	for (int i = 0; i < 12; i++)
		pthread_join(t[i], NULL);
	int64_t shared = 0, per[3] = {0, 0, 0}, per_n[3] = {0, 0, 0};
	for (long i = 0; i < 12; i++)
		for (int k = 1; k <= 40; k++)
			if ((i + k) % 5 != 0) {
				shared++;
				per[i % 3] += k;
				per_n[i % 3]++;
			}
	struct sum sh = {"shared", 0, 0, 0};
	store_read(s, NULL, sum_fn, &sh);
	cr_assert_eq(sh.attempts, shared);
	cr_assert_eq(sh.amount, shared * 10);
	cr_assert_eq(sh.rows, 1);
	for (int c = 0; c < 3; c++) {
		char key[16];
		snprintf(key, sizeof(key), "card%d", c);
		struct sum x = {key, 0, 0, 0};
		store_read(s, NULL, sum_fn, &x);
		cr_assert_eq(x.attempts, per_n[c], "%s: %lld attempts", key, (long long)x.attempts);
		cr_assert_eq(x.amount, per[c]);
	}
}

/* Event counts for the metrics: a job's events count once its group commits, and a job that
 * fails (rolled back to its savepoint, or its group run again with savepoints) counts none. */
static int tally_fn(struct db *db, void *p)
{
	long k = (long)(intptr_t)p;
	db_tally_event(db, "unit.tally");
	db_tally_event(db, "unit.tally");
	return k % 4 == 0 ? -7 : 0;
}

static void *tallier(void *p)
{
	long i = (long)p;
	for (long k = 1; k <= 30; k++)
		cr_assert_eq(store_write(s, NULL, tally_fn, (void *)(intptr_t)(i * 30 + k)),
			     (i * 30 + k) % 4 == 0 ? -7 : 0);
	return NULL;
}

Test(store, events_count_for_the_metrics_only_when_their_job_commits)
{
	pthread_t t[8];
	for (long i = 0; i < 8; i++)
		pthread_create(&t[i], NULL, tallier, (void *)i);
	for (int i = 0; i < 8; i++)
		pthread_join(t[i], NULL);
	long ok = 0;
	for (long n = 1; n <= 8 * 30; n++)
		ok += n % 4 != 0;
	struct buf b;
	buf_init(&b, 1 << 20);
	cr_assert_eq(metrics_render(&b), 0);
	char want[128];
	snprintf(want, sizeof(want), "tender_events_total{type=\"unit.tally\"} %ld\n", 2 * ok);
	cr_assert_not_null(strstr(buf_cstr(&b), want), "want %s", want);
	buf_release(&b);
}

/* A hold keeps this thread's reads in one transaction: a commit made meanwhile is not in the
 * second read's snapshot, and is in the first read after the release. */
static int failing_read_fn(struct db *db, void *p)
{
	count_fn(db, p);
	return -5;
}

Test(store, a_read_hold_is_one_snapshot_until_released)
{
	struct ins x = {"held", 0};
	cr_assert_eq(store_write(s, NULL, ins_fn, &x), 0);
	store_read_hold(s);
	struct count a = {"held", 0}, b = {"held", 0}, c = {"held", 0};
	cr_assert_eq(store_read(s, NULL, count_fn, &a), 0);
	cr_assert_eq(store_write(s, NULL, ins_fn, &x), 0); /* committed and durable */
	cr_assert_eq(store_read(s, NULL, count_fn, &b), 0);
	cr_assert_eq(b.n, a.n, "the second read of a hold saw a later commit");
	store_read_release(s);
	cr_assert_eq(store_read(s, NULL, count_fn, &c), 0);
	cr_assert_eq(c.n, a.n + 1);
	/* a read that fails ends the hold's transaction: the next read is a new snapshot */
	store_read_hold(s);
	struct count d = {"held", 0}, e = {"held", 0};
	cr_assert_eq(store_read(s, NULL, count_fn, &d), 0);
	cr_assert_eq(store_read(s, NULL, failing_read_fn, &d), -5);
	cr_assert_eq(store_write(s, NULL, ins_fn, &x), 0);
	cr_assert_eq(store_read(s, NULL, count_fn, &e), 0);
	cr_assert_eq(e.n, d.n + 1);
	store_read_release(s);
}

/* ---- pipelined durability: nothing committed is answered, or shown, before its fsync ---- */

static atomic_int held_read_done;
static int64_t held_read_n;

/* a write on a thread of its own: done once store_write has returned (after the fsync) */
struct bg_write {
	const char *name;
	int fail;
	int rc;
	pthread_t t;
	atomic_int done;
};

static void *bg_writer(void *p)
{
	struct bg_write *w = p;
	struct ins x = {w->name, w->fail};
	w->rc = store_write(s, NULL, ins_fn, &x);
	atomic_store(&w->done, 1);
	return NULL;
}

/* rows named so, as a deferring reader sees them; *ret_seq gets the group it waited for */
static int64_t count_deferred(const char *name, uint64_t *ret_seq)
{
	store_barrier_defer(1);
	struct count c = {name, 0};
	store_read(s, NULL, count_fn, &c);
	uint64_t seq = store_barrier_take(s);
	store_barrier_defer(0);
	if (ret_seq)
		*ret_seq = seq;
	return c.n;
}

/* the number of the (committed, not yet durable) group that holds the row named so */
static uint64_t group_of(const char *name)
{
	uint64_t seq = 0;
	for (int i = 0; i < 5000 && count_deferred(name, &seq) == 0; i++)
		usleep(1000);
	cr_assert_neq(seq, 0, "%s never committed, or was durable already", name);
	return seq;
}

static void *held_reader(void *p)
{
	(void)p;
	struct count c = {"held", 0};
	store_read(s, NULL, count_fn, &c); /* not deferred: waits for the fsync itself */
	held_read_n = c.n;
	atomic_store(&held_read_done, 1);
	return NULL;
}

Test(store, nothing_is_answered_or_shown_before_its_fsync)
{
	store_test_hold_syncs(s, 1);
	struct bg_write w = {"held", 0, -1, 0, 0};
	pthread_t r;
	pthread_create(&w.t, NULL, bg_writer, &w);
	/* the group commits (a deferring reader sees it) but its writer is not answered */
	uint64_t need = group_of("held");
	cr_assert_eq(count_deferred("held", NULL), 1, "the held group never committed");
	cr_assert_neq(need, 0, "a read of an un-fsync'd group owes nothing");
	cr_assert_eq(store_barrier_take(s), 0, "take resets what the thread owes");
	/* a reader that does not defer is held back with it */
	pthread_create(&r, NULL, held_reader, NULL);
	usleep(100000);
	cr_assert_eq(atomic_load(&w.done), 0, "answered before the fsync");
	cr_assert_eq(atomic_load(&held_read_done), 0, "a read returned an un-fsync'd group");
	store_test_hold_syncs(s, 0);
	cr_assert_eq(store_barrier_wait(s, need), 0);
	pthread_join(w.t, NULL);
	pthread_join(r, NULL);
	cr_assert_eq(w.rc, 0);
	cr_assert_eq(held_read_n, 1);
	/* durable now: reading it again owes nothing */
	uint64_t owed = 1;
	cr_assert_eq(count_deferred("held", &owed), 1);
	cr_assert_eq(owed, 0);
}

/* ---- the open group: jobs that come while the syncer is busy join one group ---- */

Test(store, jobs_that_come_during_an_fsync_join_one_open_group)
{
	/* c fails: the open group runs again, each job in a savepoint, and c rolls back alone */
	struct bg_write a = {"open-a", 0, -1, 0, 0}, b = {"open-b", 0, -1, 0, 0},
			c = {"open-c", 1, -1, 0, 0}, d = {"open-d", 0, -1, 0, 0};
	store_test_hold_syncs(s, 1);
	pthread_create(&a.t, NULL, bg_writer, &a);
	uint64_t seq_a = group_of("open-a"); /* committed */
	for (int i = 0; i < 5000 && !store_test_syncing(s); i++)
		usleep(1000);
	cr_assert(store_test_syncing(s), "the syncer never took the group"); /* in its fsync */
	pthread_create(&b.t, NULL, bg_writer, &b);
	pthread_create(&c.t, NULL, bg_writer, &c);
	usleep(200000);
	/* both ran in the writer's open transaction, which does not commit while the syncer is
	 * busy */
	cr_assert_eq(count_deferred("open-b", NULL), 0, "committed while the syncer was busy");
	cr_assert_eq(count_deferred("open-c", NULL), 0, "committed while the syncer was busy");
	store_test_hold_syncs(s, 0);
	pthread_join(a.t, NULL);
	pthread_join(b.t, NULL);
	pthread_join(c.t, NULL);
	cr_assert_eq(a.rc, 0);
	cr_assert_eq(b.rc, 0);
	cr_assert_eq(c.rc, -7);
	cr_assert_eq(count_deferred("open-b", NULL), 1);
	cr_assert_eq(count_deferred("open-c", NULL), 0, "the failed job's row stayed");
	/* b and c went in one group: the next one is numbered two after a's */
	store_test_hold_syncs(s, 1);
	pthread_create(&d.t, NULL, bg_writer, &d);
	cr_assert_eq(group_of("open-d"), seq_a + 2, "b and c were not one group");
	store_test_hold_syncs(s, 0);
	pthread_join(d.t, NULL);
	cr_assert_eq(d.rc, 0);
}

/* $1, $2, $4 without $3: SQLite counts three parameters; $4 must still be bound by its number
 * (docs/FRAMEWORK.md: a gap is fine, an unbound number is NULL) */
static int gap_fn(struct db *db, void *p)
{
	int64_t *got = p;
	struct db_stmt *st = db_prepare(db, "SELECT $1 + $2 + $4");
	cr_assert_not_null(st);
	db_bind_int64(st, 1, 1);
	db_bind_int64(st, 2, 20);
	db_bind_int64(st, 4, 300);
	cr_assert_eq(db_step(st), DB_ROW);
	*got = db_col_int64(st, 0);
	db_reset(st);
	return 0;
}

Test(store, a_statement_may_leave_a_parameter_number_out)
{
	int64_t got = 0;
	cr_assert_eq(store_read(s, NULL, gap_fn, &got), 0);
	cr_assert_eq(got, 321);
}

Test(store, reopen_keeps_data_and_migrations_are_idempotent)
{
	struct ins ok = {"durable", 0};
	cr_assert_eq(store_write(s, NULL, ins_fn, &ok), 0);
	store_close(s);
	char err[256];
	struct store_config cfg = {.data_dir = dir};
	cr_assert_eq(store_open(&s, &cfg, err, sizeof(err)), 0, "%s", err);
	struct count c = {"durable", 0};
	store_read(s, NULL, count_fn, &c);
	cr_assert_eq(c.n, 1);
}

Test(store, postgres_urls_are_refused_clearly_until_the_backend_exists)
{
	struct store *p = NULL;
	char err[256];
	const char *urls[] = {"postgres://x", NULL};
	struct store_config cfg = {.data_dir = dir, .database_urls = urls};
	cr_assert_neq(store_open(&p, &cfg, err, sizeof(err)), 0);
	cr_assert(strstr(err, "PostgreSQL") != NULL);
}

/* ---- writes from a coroutine park until their fsync (the HTTP server's async write path) ---- */

#include <semaphore.h>

#include "core/coro.h"

struct parked {
	struct coro *co;
	sem_t woken;
	atomic_int wakes;
	int rc, fail_rc;
	bool in_read; /* write from inside a read callback: must block, not park */
};

static void parked_waker(void *p)
{
	struct parked *x = p;
	atomic_fetch_add(&x->wakes, 1);
	sem_post(&x->woken);
}

static int write_in_read_fn(struct db *db, void *p)
{
	(void)db;
	struct parked *x = p;
	struct ins w = {"from-read", 0};
	x->rc = store_write(s, NULL, ins_fn, &w);
	return 0;
}

static void parked_fn(void *p)
{
	struct parked *x = p;
	if (x->in_read) {
		store_read(s, NULL, write_in_read_fn, x);
		return;
	}
	struct ins a = {"parked", 0};
	x->rc = store_write(s, NULL, ins_fn, &a);
	struct ins b = {"parked-fails", 1};
	x->fail_rc = store_write(s, NULL, ins_fn, &b);
}

Test(store, a_write_in_a_coroutine_parks_until_its_fsync_wakes_it)
{
	cr_assert(store_writes_park(s));
	struct parked x = {0};
	sem_init(&x.woken, 0, 0);
	x.co = coro_new(parked_fn, &x, parked_waker, &x);
	cr_assert_not_null(x.co);
	store_test_hold_syncs(s, 1);
	cr_assert_not(coro_resume(x.co), "the write parked the coroutine");
	cr_assert_eq(atomic_load(&x.wakes), 0);
	coro_submit(x.co); /* the job goes to the writer only now */
	/* committed (visible to a deferring reader) but not fsync'd: not woken */
	store_barrier_defer(1);
	struct count c = {"parked", 0};
	for (int i = 0; i < 5000 && c.n == 0; i++) {
		usleep(1000);
		store_read(s, NULL, count_fn, &c);
	}
	store_barrier_take(s);
	store_barrier_defer(0);
	cr_assert_eq(c.n, 1, "the group never committed");
	usleep(50000);
	cr_assert_eq(atomic_load(&x.wakes), 0, "woken before the fsync");
	store_test_hold_syncs(s, 0);
	sem_wait(&x.woken);
	cr_assert_not(coro_resume(x.co), "its second write parks again");
	cr_assert_eq(x.rc, 0);
	coro_submit(x.co);
	sem_wait(&x.woken);
	cr_assert(coro_resume(x.co), "done after the second write");
	cr_assert_eq(x.fail_rc, -7, "a failing callback's rc comes back through the park");
	cr_assert_eq(atomic_load(&x.wakes), 2);
	struct count f = {"parked-fails", 0};
	store_read(s, NULL, count_fn, &f);
	cr_assert_eq(f.n, 0, "the failed job rolled back alone");
	coro_free(x.co);
	sem_destroy(&x.woken);
}

Test(store, a_write_inside_a_read_callback_blocks_instead_of_parking)
{
	struct parked x = {.in_read = true};
	sem_init(&x.woken, 0, 0);
	x.co = coro_new(parked_fn, &x, parked_waker, &x);
	cr_assert_not_null(x.co);
	cr_assert(coro_resume(x.co), "ran to the end without parking");
	cr_assert_eq(x.rc, 0);
	cr_assert_eq(atomic_load(&x.wakes), 0);
	struct count c = {"from-read", 0};
	store_read(s, NULL, count_fn, &c);
	cr_assert_eq(c.n, 1);
	coro_free(x.co);
	sem_destroy(&x.woken);
}

/* ---- the WAL-reset race: no COMMIT that may restart the WAL while a checkpoint runs ---- */

static atomic_int ckpt_write_done;

static void *ckpt_writer(void *p)
{
	struct ins x = {p, 0};
	cr_assert_eq(store_write(s, NULL, ins_fn, &x), 0);
	atomic_store(&ckpt_write_done, 1);
	return NULL;
}

struct pragma_q {
	const char *sql;
	int64_t value;
};

static int pragma_fn(struct db *db, void *p)
{
	struct pragma_q *q = p;
	struct db_stmt *st = db_prepare(db, q->sql);
	cr_assert_not_null(st);
	cr_assert_eq(db_step(st), DB_ROW);
	q->value = db_col_int64(st, 0);
	db_reset(st);
	return 0;
}

/* The writer connection's value of a pragma. */
static int64_t writer_pragma(const char *sql)
{
	struct pragma_q q = {sql, -1};
	cr_assert_eq(store_write(s, NULL, pragma_fn, &q), 0);
	return q.value;
}

Test(store, the_writer_does_not_zero_pages_for_secure_delete)
{
	/* Debian's SQLite defaults to secure_delete=1: a second zeroing of every new page */
	cr_assert_eq(writer_pragma("PRAGMA secure_delete"), 0);
}

/* The nice value of this process's thread named name, or INT_MIN when there is none */
static int thread_nice(const char *name)
{
	DIR *d = opendir("/proc/self/task");
	cr_assert_not_null(d);
	int nice = INT_MIN;
	struct dirent *e;
	while ((e = readdir(d)) && nice == INT_MIN) {
		char path[300], comm[32] = "";
		snprintf(path, sizeof(path), "/proc/self/task/%s/comm", e->d_name);
		FILE *f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(comm, sizeof(comm), f) && strncmp(comm, name, strlen(name)) == 0 &&
		    comm[strlen(name)] == '\n') {
			errno = 0;
			int v = getpriority(PRIO_PROCESS, (id_t)atoi(e->d_name));
			if (errno == 0)
				nice = v;
		}
		fclose(f);
	}
	closedir(d);
	return nice;
}

Test(store, the_checkpointer_yields_the_cores_to_request_threads)
{
	/* background copying runs ten steps below the rest (at most 19); the writer and syncer
	 * (the answers' path) do not. A new thread starts at its creator's value: this one's. */
	int base = getpriority(PRIO_PROCESS, 0), want = base + 10 > 19 ? 19 : base + 10;
	/* the threads name themselves, and the checkpointer lowers itself, once they run: up to
	 * 2 s for that (store_open returns as soon as they are created) */
	for (int i = 0; i < 2000 && (thread_nice("tender-ckpt") != want ||
				     thread_nice("tender-writer") == INT_MIN ||
				     thread_nice("tender-syncer") == INT_MIN);
	     i++)
		usleep(1000);
	cr_assert_eq(thread_nice("tender-ckpt"), want);
	cr_assert_eq(thread_nice("tender-writer"), base);
	cr_assert_eq(thread_nice("tender-syncer"), base);
}

static int64_t rows_named(const char *name)
{
	struct count c = {name, 0};
	store_barrier_defer(1); /* see committed-but-unsynced groups too */
	store_read(s, NULL, count_fn, &c);
	store_barrier_take(s);
	store_barrier_defer(0);
	return c.n;
}

static void write_named(const char *name)
{
	struct ins x = {name, 0};
	cr_assert_eq(store_write(s, NULL, ins_fn, &x), 0);
}

/* Waits (up to 5 s) until the server's checkpointer has copied everything back and started a
 * writeback since n0 writebacks. */
static void wait_copied_back(int64_t n0)
{
	for (int i = 0; i < 500 && (store_test_writebacks(s) == n0 || !store_test_reset_armed(s));
	     i++)
		usleep(10000);
}

/* A checkpoint that copied pages into the database file is followed by the start of that file's
 * writeback (store_sqlite.c, checkpointer_main), so that the fsync SQLite makes at the end of a
 * complete checkpoint finds little left to write; with nothing committed since, no checkpoint
 * runs and none is started. */
Test(store, the_checkpointer_starts_the_database_files_writeback_after_a_checkpoint)
{
	int64_t n0 = store_test_writebacks(s);
	write_named("to-copy-back");
	wait_copied_back(n0);
	cr_assert(store_test_reset_armed(s), "no complete checkpoint");
	int64_t n1 = store_test_writebacks(s);
	cr_assert_gt(n1, n0, "no writeback started after the checkpoint");
	/* idle: three of the checkpointer's idle turns (200 ms apart) find nothing to copy */
	usleep(700000);
	cr_assert_eq(store_test_writebacks(s), n1);
	cr_assert_eq(rows_named("to-copy-back"), 1);
}

/* A command's store beside the server's on the same files (`tender dispute open` beside
 * `tender serve`) runs no checkpointer: the lock that orders checkpoints against a WAL restart
 * is per process ("The WAL-reset race"), so only the server's store checkpoints. What the
 * command writes is the server's to read and to copy back. */
Test(store, a_store_opened_without_checkpoints_never_checkpoints)
{
	struct store *cmd;
	char err[256];
	struct store_config cfg = {.data_dir = dir, .no_checkpoints = 1};
	cr_assert_eq(store_open(&cmd, &cfg, err, sizeof(err)), 0, "%s", err);
	struct ins x = {"from-a-command", 0};
	cr_assert_eq(store_write(cmd, NULL, ins_fn, &x), 0);
	/* longer than two idle turns of a checkpointer (200 ms): it would have copied that */
	usleep(700000);
	cr_assert_eq(store_test_writebacks(cmd), 0, "the command's store checkpointed");
	cr_assert(!store_test_reset_armed(cmd));
	store_close(cmd);
	cr_assert_eq(rows_named("from-a-command"), 1);
	/* the server's next write, and its checkpointer copies everything back */
	int64_t n0 = store_test_writebacks(s);
	write_named("after-the-command");
	wait_copied_back(n0);
	cr_assert(store_test_reset_armed(s), "the server's checkpointer did not copy it all back");
	cr_assert_eq(rows_named("from-a-command"), 1);
	cr_assert_eq(rows_named("after-the-command"), 1);
}

Test(store, only_a_commit_that_may_restart_the_wal_waits_for_a_checkpoint)
{
	/* the writer's transactions never spill frames into the WAL before their COMMIT */
	cr_assert_eq(writer_pragma("PRAGMA cache_spill"), 0, "cache_spill is on for the writer");

	/* idle, the background checkpointer copies the whole WAL back and arms the reset */
	write_named("before-checkpoint");
	for (int i = 0; i < 500 && !store_test_reset_armed(s); i++)
		usleep(10000);
	cr_assert(store_test_reset_armed(s), "a complete checkpoint did not arm the reset");

	/* that COMMIT may restart the WAL: it waits while a checkpoint holds the lock */
	store_test_hold_checkpoints(s, 1);
	pthread_t w;
	atomic_store(&ckpt_write_done, 0);
	pthread_create(&w, NULL, ckpt_writer, "after-checkpoint");
	usleep(200000);
	int64_t early = rows_named("after-checkpoint");
	int done_early = atomic_load(&ckpt_write_done);
	int still_armed = store_test_reset_armed(s);
	store_test_hold_checkpoints(s, 0); /* before any assert: the checkpointer needs it back */
	cr_assert_eq(early, 0, "a COMMIT that may restart the WAL ran beside a checkpoint");
	cr_assert_eq(done_early, 0);
	cr_assert(still_armed, "no checkpoint ran, so nothing may have disarmed the reset");
	pthread_join(w, NULL);
	cr_assert_eq(rows_named("after-checkpoint"), 1);

	/* a COMMIT after one that appended frames cannot restart the WAL: it does not wait. The
	 * checkpointer may complete again between two writes and re-arm; holding the lock, the
	 * flag cannot change, so try until it is found clear. */
	int held_clear = 0;
	for (int i = 0; i < 50 && !held_clear; i++) {
		write_named("filler");
		store_test_hold_checkpoints(s, 1);
		if (!store_test_reset_armed(s))
			held_clear = 1;
		else
			store_test_hold_checkpoints(s, 0);
	}
	cr_assert(held_clear, "the reset stayed armed after COMMITs that appended frames");
	atomic_store(&ckpt_write_done, 0);
	pthread_create(&w, NULL, ckpt_writer, "beside-checkpoint");
	for (int i = 0; i < 500 && !atomic_load(&ckpt_write_done); i++)
		usleep(10000);
	int done = atomic_load(&ckpt_write_done);
	store_test_hold_checkpoints(s, 0);
	pthread_join(w, NULL);
	cr_assert(done, "a COMMIT that cannot restart the WAL waited for the checkpoint lock");
	cr_assert_eq(rows_named("beside-checkpoint"), 1);
}

/* Migration 0021: lists page by id through each table's primary key (ids are made for their
 * `created` second, core/id.h), so the (merchant_id, created, id) list indexes are gone, and a
 * newest-first page of any list is a SEARCH on the key read backwards, without a sort. */
struct list_plan_check {
	int list_indexes, lists, sorted_plans, scans;
};

/* Runs an EXPLAIN QUERY PLAN statement and counts its steps that sort in a temporary b-tree
 * (TEMP B-TREE) or read a whole table or index (SCAN). */
static void plan_count(struct db *db, const char *explain, int *temp_btrees, int *scans)
{
	struct db_stmt *st = db_prepare(db, explain);
	cr_assert_not_null(st, "%s", explain);
	while (db_step(st) == DB_ROW) {
		const char *d = db_col_text(st, 3, NULL);
		if (d && strstr(d, "TEMP B-TREE"))
			(*temp_btrees)++;
		if (d && strncmp(d, "SCAN", 4) == 0)
			(*scans)++;
	}
	db_reset(st);
}

static int list_plan_fn(struct db *db, void *p)
{
	struct list_plan_check *c = p;
	static const char *const tables[] = {
	    "payment_intents", "charges",   "payment_methods", "balance_transactions", "events",
	    "refunds",	       "customers", "disputes",	       "webhook_endpoints"};
	struct db_stmt *st = db_prepare(db, "SELECT count(*) FROM sqlite_schema WHERE type = "
					    "'index' AND name LIKE '%\\_list' ESCAPE '\\'");
	cr_assert_not_null(st);
	cr_assert_eq(db_step(st), DB_ROW);
	c->list_indexes = (int)db_col_int64(st, 0);
	db_reset(st);
	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
		char sql[256];
		snprintf(sql, sizeof(sql),
			 "EXPLAIN QUERY PLAN SELECT id FROM %s WHERE merchant_id = $1 AND id > $2"
			 " AND id < $3 ORDER BY id DESC LIMIT $4",
			 tables[i]);
		plan_count(db, sql, &c->sorted_plans, &c->scans);
		c->lists++;
	}
	/* a filter that is not in the key reads the rows it walks, still without a sort */
	plan_count(db,
		   "EXPLAIN QUERY PLAN SELECT id FROM events WHERE merchant_id = $1 AND id > $2"
		   " AND id < $3 AND ($5 IS NULL OR type = $5) ORDER BY id ASC LIMIT $4",
		   &c->sorted_plans, &c->scans);
	return 0;
}

Test(store, lists_page_through_the_primary_key)
{
	struct list_plan_check c = {0};
	cr_assert_eq(store_read(s, NULL, list_plan_fn, &c), 0);
	cr_assert_eq(c.list_indexes, 0);
	cr_assert_eq(c.lists, 9);
	cr_assert_eq(c.sorted_plans, 0);
	cr_assert_eq(c.scans, 0);
}

/* Filtered lists (api/list.h, list_narrow) read their filter's index. Without planner statistics
 * SQLite took `merchant_id = $1` for as narrow as `customer = $5` and walked the merchant's
 * whole primary key instead (store/migrate.c writes fixed statistics), and three filters had no
 * index (migration 0173). The statements are the lists' narrow forms, with the other filters
 * they carry, which make the filter's index a non-covering one. */
struct narrow_plan {
	const char *sql;
	const char *index; /* the plan reads this index with `column=?` */
	const char *column;
};

static const struct narrow_plan narrow_plans[] = {
    {"SELECT id FROM payment_intents WHERE merchant_id = $1 AND customer = $5 AND id > $2"
     " AND id < $3 AND ($6 IS NULL OR status = $6) ORDER BY id DESC LIMIT $4",
     "payment_intents_customer", "customer"},
    {"SELECT id FROM charges WHERE merchant_id = $1 AND id > $2 AND id < $3 AND customer = $5"
     " AND ($6 IS NULL OR payment_intent = $6) ORDER BY id DESC LIMIT $4",
     "charges_customer", "customer"},
    {"SELECT id FROM invoices WHERE merchant_id = $1 AND customer = $5 AND ($6 IS NULL OR"
     " subscription = $6) AND id > $2 AND id < $3 AND ($7 IS NULL OR status = $7)"
     " ORDER BY id DESC LIMIT $4",
     "invoices_customer", "customer"},
    {"SELECT id FROM invoices WHERE merchant_id = $1 AND ($5 IS NULL OR customer = $5) AND"
     " subscription = $6 AND id > $2 AND id < $3 AND ($7 IS NULL OR status = $7)"
     " ORDER BY id ASC LIMIT $4",
     "invoices_subscription", "subscription"},
    {"SELECT id FROM subscriptions WHERE merchant_id = $1 AND customer = $5 AND id > $2"
     " AND id < $3 AND ($7 IS NULL OR status = $7) ORDER BY id DESC LIMIT $4",
     "subscriptions_customer", "customer"},
    {"SELECT id FROM refunds WHERE merchant_id = $1 AND charge = $5 AND ($6 IS NULL OR"
     " payment_intent = $6) AND id > $2 AND id < $3 ORDER BY id DESC LIMIT $4",
     "refunds_charge", "charge"},
    {"SELECT id FROM refunds WHERE merchant_id = $1 AND ($5 IS NULL OR charge = $5) AND"
     " payment_intent = $6 AND id > $2 AND id < $3 ORDER BY id DESC LIMIT $4",
     "refunds_payment_intent", "payment_intent"},
    {"SELECT id FROM disputes WHERE merchant_id = $1 AND ($5 IS NULL OR charge = $5) AND"
     " payment_intent = $6 AND id > $2 AND id < $3 ORDER BY id DESC LIMIT $4",
     "disputes_intent", "payment_intent"},
    {"SELECT id FROM checkout_sessions WHERE merchant_id = $1 AND payment_intent = $5 AND"
     " mode <> 'subscription' AND ($7 IS NULL OR customer = $7) AND id > $2 AND id < $3"
     " AND ($8 IS NULL OR status = $8) ORDER BY id DESC LIMIT $4",
     "sessions_payment_intent", "payment_intent"},
    {"SELECT id FROM checkout_sessions WHERE merchant_id = $1 AND customer = $7 AND id > $2"
     " AND id < $3 AND ($8 IS NULL OR status = $8) ORDER BY id DESC LIMIT $4",
     "sessions_customer", "customer"},
    {"SELECT id FROM payment_methods WHERE merchant_id = $1 AND customer = $2 AND"
     " substr(id, length(id) - 23) > $3 AND substr(id, length(id) - 23) < $4 AND ($6 IS NULL"
     " OR COALESCE(type, 'card') = $6) ORDER BY substr(id, length(id) - 23) DESC LIMIT $5",
     "payment_methods_customer", "customer"},
    {"SELECT id FROM customers WHERE merchant_id = $1 AND email = $5 AND deleted = 0 AND id > $2"
     " AND id < $3 AND ($6 IS NULL OR test_clock = $6) ORDER BY id DESC LIMIT $4",
     "customers_email", "email"},
    {"SELECT id FROM setup_intents WHERE merchant_id = $1 AND customer = $5 AND ($6 IS NULL OR"
     " payment_method = $6) AND id > $2 AND id < $3 AND ($7 IS NULL OR"
     " COALESCE(attach_to_self, 0) = $7) ORDER BY id DESC LIMIT $4",
     "setup_intents_customer", "customer"},
    {"SELECT id FROM transfers WHERE merchant_id = $1 AND destination = $5 AND id > $2 AND"
     " id < $3 AND ($6 IS NULL OR transfer_group = $6) ORDER BY id DESC LIMIT $4",
     "transfers_destination", "destination"},
    {"SELECT id FROM balance_transactions WHERE merchant_id = $1 AND payout = $5 AND id > $2"
     " AND id < $3 AND ($6 IS NULL OR type = $6) AND ($7 IS NULL OR source = $7)"
     " AND ($8 IS NULL OR currency = $8) ORDER BY id DESC LIMIT $4",
     "balance_transactions_payout", "payout"},
};

/* The plan of sql (with EXPLAIN QUERY PLAN put before it) as its steps joined by " | ". */
static void plan_of(struct db *db, const char *sql, char *out, size_t cap)
{
	/* db_prepare caches statements by the address of their text: each text gets its own
	 * buffer for the whole run */
	static char explains[32][1024];
	static size_t used;
	char *explain = NULL;
	for (size_t i = 0; i < used && !explain; i++)
		if (strcmp(explains[i] + strlen("EXPLAIN QUERY PLAN "), sql) == 0)
			explain = explains[i];
	if (!explain) {
		cr_assert_lt(used, sizeof(explains) / sizeof(explains[0]));
		cr_assert_lt(strlen(sql) + 20, sizeof(explains[0]));
		explain = explains[used++];
		snprintf(explain, sizeof(explains[0]), "EXPLAIN QUERY PLAN %s", sql);
	}
	struct db_stmt *st = db_prepare(db, explain);
	cr_assert_not_null(st, "%s: %s", sql, db_errmsg(db));
	out[0] = 0;
	while (db_step(st) == DB_ROW) {
		const char *d = db_col_text(st, 3, NULL);
		size_t n = strlen(out);
		snprintf(out + n, cap - n, "%s%s", n ? " | " : "", d ? d : "");
	}
	db_reset(st);
}

struct narrow_check {
	char plans[sizeof(narrow_plans) / sizeof(narrow_plans[0])][512];
	char pi_by_id[512], idempotency[512];
};

static int narrow_plan_fn(struct db *db, void *p)
{
	struct narrow_check *c = p;
	for (size_t i = 0; i < sizeof(narrow_plans) / sizeof(narrow_plans[0]); i++)
		plan_of(db, narrow_plans[i].sql, c->plans[i], sizeof(c->plans[i]));
	/* the benchmark's reads keep their unique keys */
	plan_of(db, "SELECT status FROM payment_intents WHERE merchant_id = $1 AND id = $2",
		c->pi_by_id, sizeof(c->pi_by_id));
	plan_of(db,
		"SELECT status FROM idempotency_keys WHERE merchant_id = $1 AND livemode = $2"
		" AND idem_key = $3",
		c->idempotency, sizeof(c->idempotency));
	return 0;
}

Test(store, filtered_lists_read_their_filters_index)
{
	static struct narrow_check c;
	cr_assert_eq(store_read(s, NULL, narrow_plan_fn, &c), 0);
	for (size_t i = 0; i < sizeof(narrow_plans) / sizeof(narrow_plans[0]); i++) {
		const char *plan = c.plans[i];
		char want[128];
		snprintf(want, sizeof(want), "INDEX %s (merchant_id=? AND %s=?",
			 narrow_plans[i].index, narrow_plans[i].column);
		cr_assert(strstr(plan, want), "%s\nplan: %s\nwanted: %s", narrow_plans[i].sql, plan,
			  want);
		cr_assert(!strstr(plan, "PRIMARY KEY") && strncmp(plan, "SCAN", 4) != 0, "%s",
			  plan);
	}
	cr_assert(strstr(c.pi_by_id, "PRIMARY KEY (merchant_id=? AND id=?)"), "%s", c.pi_by_id);
	cr_assert(strstr(c.idempotency, "(merchant_id=? AND livemode=? AND idem_key=?)"), "%s",
		  c.idempotency);
}

/* Migration 0022: a charge's balance transaction is found through its charge row, so the source
 * index leaves charges' out (one B-tree insert fewer for every payment), and that lookup reads
 * two primary keys. */
static int bt_source_fn(struct db *db, void *p)
{
	int *ok = p;
	struct db_stmt *st = db_prepare(db, "SELECT sql FROM sqlite_schema WHERE name ="
					    " 'balance_transactions_source'");
	cr_assert_not_null(st);
	cr_assert_eq(db_step(st), DB_ROW);
	const char *sql = db_col_text(st, 0, NULL);
	cr_assert(sql && strstr(sql, "WHERE type <> 'charge'"), "%s", sql ? sql : "(none)");
	db_reset(st);
	int temp = 0, scans = 0;
	plan_count(db,
		   "EXPLAIN QUERY PLAN SELECT b.amount FROM charges c JOIN balance_transactions b"
		   " ON b.merchant_id = c.merchant_id AND b.id = c.balance_transaction WHERE"
		   " c.merchant_id = $1 AND c.id = $2 AND b.type = 'charge'",
		   &temp, &scans);
	*ok = temp == 0 && scans == 0;
	return 0;
}

Test(store, a_charges_balance_transaction_is_found_through_the_charge)
{
	int ok = 0;
	cr_assert_eq(store_read(s, NULL, bt_source_fn, &ok), 0);
	cr_assert(ok);
}

/* Runs an EXPLAIN QUERY PLAN statement: asserts that the plan uses `index` and returns how many
 * of its steps sort in a temporary b-tree. */
static int plan_check(struct db *db, const char *explain, const char *index)
{
	struct db_stmt *st = db_prepare(db, explain);
	cr_assert_not_null(st);
	int temp_btrees = 0, uses_index = 0;
	while (db_step(st) == DB_ROW) {
		const char *d = db_col_text(st, 3, NULL);
		if (d && strstr(d, "TEMP B-TREE"))
			temp_btrees++;
		if (d && strstr(d, index))
			uses_index = 1;
	}
	db_reset(st);
	cr_assert(uses_index, "%s does not use %s", explain, index);
	return temp_btrees;
}

/* Migration 0020: the vault's lookup of the active data key (every stored card) reads an index
 * instead of sorting the table in a temporary b-tree. The query is vault.c's SQL_DK_ACTIVE. */
static int data_key_plan_fn(struct db *db, void *p)
{
	int *temp_btrees = p;
	*temp_btrees += plan_check(db,
				   "EXPLAIN QUERY PLAN SELECT id FROM vault_data_keys WHERE state ="
				   " 'active' ORDER BY created DESC, id DESC LIMIT 1",
				   "vault_data_keys_active");
	return 0;
}

Test(store, the_active_data_key_is_read_from_an_index)
{
	int temp_btrees = 0;
	cr_assert_eq(store_read(s, NULL, data_key_plan_fn, &temp_btrees), 0);
	cr_assert_eq(temp_btrees, 0);
}
