/*
 * The store's SQLite backend, with group commit (store.c dispatches to it).
 *
 * One writer connection, owned by one writer thread. store_write() puts a job on a bounded queue
 * and sleeps on the job's semaphore. The writer takes every queued job (up to WRITE_BATCH_MAX),
 * opens one transaction, runs each job's callback (a failing callback is rolled back alone and does
 * not disturb the others: see run_group for how), commits once, and only then wakes the waiters
 * once the group is on disk: one fsync covers the whole group.
 *
 * Pipelined durability. The writer's connection runs with synchronous=NORMAL: COMMIT writes the
 * group's WAL frames but does not fsync them. The writer hands the group's jobs to the syncer
 * thread, which fdatasyncs the WAL and only then wakes them, while the writer already runs the
 * next group (with synchronous=FULL the writer sat idle in fsync for ~40 % of its time); that
 * group stays open until the fsync ends, and the jobs that arrive meanwhile join it. Nobody
 * is answered before the fsync that covers their group: a job's store_write() returns after it.
 * SQLite's WAL stays consistent across a crash in this mode (a torn group fails its checksum
 * chain and is dropped on recovery; checkpoints still fsync the WAL and the database before the
 * log is reused), and only unacknowledged groups can be lost.
 *
 * Readers, though, see a group as soon as it is committed, before its fsync. So what a read saw
 * is held back until it is durable too: the writer bumps committed_seq just before each COMMIT
 * and the syncer publishes durable_seq after each fsync; a read that ends while
 * committed_seq > durable_seq waits (store_read) or, on the HTTP threads, records what it needs
 * (store_barrier_defer) so that the answer is sent only after that fsync (store_barrier_take /
 * store_barrier_wait). A failed fsync fails every job it covered and every later write: after
 * fsyncgate nothing written since can be trusted until Tender restarts and SQLite recovers.
 *
 * Readers never touch the writer: each thread gets its own read-only connection (thread-local),
 * and WAL mode gives it a consistent snapshot without blocking the writer.
 */
#include "store/store_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/coro.h"
#include "core/hist.h"
#include "core/log.h"
#include "core/str.h"
#include "store/db_impl.h"
#include "store/migrate.h"
#include "metrics/metrics.h"

#define WRITE_QUEUE_MAX 8192
#define WRITE_BATCH_MAX 256
#define READ_CONNS_MAX 1024
/* groups that run with a savepoint per job after a job failed (see run_group) */
#define SAFE_GROUPS_AFTER_FAILURE 32
/* jobs committed and waiting for the syncer's fsync; beyond, the writer waits for it */
#define SYNC_PENDING_MAX (4 * WRITE_BATCH_MAX)

struct write_job {
	store_fn fn;
	void *ctx;
	struct sqlite_store *s;
	struct coro *co; /* a parked coroutine to wake when done (coro.h), else the semaphore */
	int rc;
	sem_t done;
	int64_t t_queued, t_started, t_committed; /* µs, for the phase statistics */
};

/* Where a write's time goes, for the debug statistics line: queued until its group started,
 * the group's run and COMMIT, the wait for the fsync, and all of it. */
enum { LAT_QUEUE, LAT_GROUP, LAT_SYNC, LAT_TOTAL, LAT_PHASES };

struct sqlite_store {
	char path[4096];
	int read_only;
	int no_checkpoints; /* store_config: no checkpointer and no catch-up in this process */
	struct db *writer_db;
	pthread_t writer;
	int writer_started;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct write_job *queue[WRITE_QUEUE_MAX];
	size_t q_head, q_len;
	int stopping;
	pthread_t checkpointer;
	pthread_cond_t ckpt_cv; /* its own: a job's signal on cv must only ever wake the writer */
	/* No checkpoint starts while a COMMIT may restart the WAL (see "The WAL-reset race") */
	pthread_mutex_t ckpt_mu;
	/* set (under ckpt_mu) when a checkpoint may have copied the whole WAL back, so the next
	 * COMMIT may restart the log; cleared by the COMMIT that then appends frames */
	_Atomic int reset_armed;
	int64_t stat_ckpt_waits, stat_ckpt_wait_us; /* writer thread: COMMITs that waited for one */
	int checkpointer_started;
	_Atomic int wal_frames; /* the WAL's length after the writer's last group */
	/* writer thread only: groups, jobs, time in the group, of it in COMMIT (the WAL write and
	 * fsync), statements stepped, WAL frames appended, since stat_since */
	int64_t stat_groups, stat_jobs, stat_us, stat_commit_us, stat_steps, stat_frames,
	    stat_catch_ups, stat_catch_up_us, stat_since;
	int safe_groups;     /* writer thread: groups left to run with savepoints (run_group) */
	int64_t stat_reruns; /* writer thread: groups run again with savepoints */
	/* pipelined durability (see the top of this file) */
	pthread_t syncer;
	int syncer_started;
	pthread_mutex_t sync_mu;    /* the writer's hand-over to the syncer only: held briefly */
	pthread_cond_t sync_cv;	    /* the syncer waits for a group */
	pthread_cond_t room_cv;	    /* the writer waits for room (SYNC_PENDING_MAX) */
	pthread_mutex_t durable_mu; /* readers waiting for an fsync */
	pthread_cond_t durable_cv;
	_Atomic int durable_waiters; /* the syncer wakes them only when there are some */
	struct write_job *sync_bufs[2][SYNC_PENDING_MAX];
	struct write_job **sync_jobs; /* under sync_mu: committed, not yet fsync'd */
	size_t sync_len;
	uint64_t sync_target; /* under sync_mu: the last group handed to the syncer */
	int sync_stopping;
	int hold_syncs; /* under sync_mu: tests hold the syncer in its fsync */
	/* the syncer is in an fsync (see run_group: the writer keeps its group open) */
	_Atomic int sync_busy;
	/* set under mu: the writer waits (on cv) for a job or for the syncer to be done */
	_Atomic int writer_holding;
	uint64_t group_seq; /* writer thread only */
	_Atomic uint64_t committed_seq, durable_seq;
	_Atomic int sync_failed;
	int wal_fd; /* syncer thread only */
	/* fsyncs since the writer's last statistics line: count, total and longest µs */
	_Atomic int64_t stat_syncs, stat_sync_us, stat_sync_max_us;
	/* checkpoints after which the checkpointer started the database file's writeback (since
	 * the store opened: tests read it; see checkpointer_main) */
	_Atomic int64_t stat_writebacks;
	struct hist lat[LAT_PHASES];
	char wal_path[4100];
	char dir_path[4096];
	pthread_key_t read_key;
	pthread_mutex_t read_mu;
	struct db *read_conns[READ_CONNS_MAX];
	size_t read_count;
};

static __thread int in_writer_callback;
/* inside a store_read callback: a write from there must not park (coro.h), the thread's read
 * connection is in a transaction that another coroutine on this thread would then reuse */
static __thread int in_read_callback;
/* store_read_hold: this thread's reads of hold_store stay in one transaction, open on held_db */
static __thread struct sqlite_store *hold_store;
static __thread struct db *held_db;
/* this thread's reads saw groups up to barrier_need of barrier_store, not yet durable */
static __thread int barrier_deferred;
static __thread uint64_t barrier_need;
static __thread struct sqlite_store *barrier_store;

static const char SQL_BEGIN[] = "BEGIN IMMEDIATE";
static const char SQL_BEGIN_READ[] = "BEGIN";
static const char SQL_COMMIT[] = "COMMIT";
static const char SQL_ROLLBACK[] = "ROLLBACK";
static const char SQL_SAVEPOINT[] = "SAVEPOINT job";
static const char SQL_RELEASE[] = "RELEASE job";
static const char SQL_ROLLBACK_TO[] = "ROLLBACK TO job";

/* A job's answer is ready (its rc set): wakes whoever waits for it. The job may be gone as soon
 * as this returns. */
static void job_done(struct write_job *j)
{
	if (j->co)
		coro_wake(j->co);
	else
		sem_post(&j->done);
}

static int run_simple(struct db *db, const char *sql)
{
	struct db_stmt *st = db_prepare(db, sql);
	if (!st)
		return DB_ERR;
	return db_step_done(st);
}

/* Runs jobs[0..n) in the open transaction. With savepoints, each job in its own: a failing job
 * is rolled back alone and the others go on. Without, the first failing job stops the run
 * (its effects are then mixed with the others': only a rollback of the whole transaction
 * undoes them). Returns RUN_OK, RUN_JOB_FAILED (without savepoints only) or RUN_ABORTED (the
 * transaction cannot commit: every job fails). */
enum { RUN_OK, RUN_JOB_FAILED, RUN_ABORTED };

static int run_jobs(struct db *db, struct write_job **jobs, size_t n, int savepoints)
{
	for (size_t i = 0; i < n; i++) {
		struct write_job *j = jobs[i];
		if (savepoints && run_simple(db, SQL_SAVEPOINT) != DB_OK)
			return RUN_ABORTED;
		size_t mark = db_counters_mark(db);
		in_writer_callback = 1;
		db_job_begin(db);
		j->rc = j->fn(db, j->ctx);
		db_job_end(db);
		in_writer_callback = 0;
		if (!sqlite_db_in_tx(db))
			/* SQLite rolled the whole transaction back (I/O error, disk full): every
			 * job in this group is lost, so every one of them fails. */
			return RUN_ABORTED;
		if (j->rc != 0) {
			if (!savepoints)
				return RUN_JOB_FAILED;
			db_counters_rollback(db, mark);
			if (run_simple(db, SQL_ROLLBACK_TO) != DB_OK)
				return RUN_ABORTED;
		}
		if (savepoints && run_simple(db, SQL_RELEASE) != DB_OK)
			return RUN_ABORTED;
	}
	return RUN_OK;
}

/* Moves up to max jobs from the queue's head into jobs[], marking when their group took them;
 * how many. Under s->mu. */
static size_t take_queued(struct sqlite_store *s, struct write_job **jobs, size_t max)
{
	size_t k = 0;
	int64_t now = clock_mono_us();
	while (s->q_len > 0 && k < max) {
		jobs[k] = s->queue[s->q_head];
		jobs[k++]->t_started = now;
		s->q_head = (s->q_head + 1) % WRITE_QUEUE_MAX;
		s->q_len--;
	}
	return k;
}

/* Takes up to max queued jobs into jobs[], once there are some. Only while the syncer is busy:
 * it returns 0 as soon as the syncer is done (or the store stops), and the group commits. */
static size_t hold_more(struct sqlite_store *s, struct write_job **jobs, size_t max)
{
	if (max == 0 || !atomic_load(&s->sync_busy))
		return 0;
	size_t k = 0;
	pthread_mutex_lock(&s->mu);
	atomic_store(&s->writer_holding, 1);
	while (s->q_len == 0 && atomic_load(&s->sync_busy) && !s->stopping)
		pthread_cond_wait(&s->cv, &s->mu);
	atomic_store(&s->writer_holding, 0);
	if (atomic_load(&s->sync_busy))
		k = take_queued(s, jobs, max);
	pthread_mutex_unlock(&s->mu);
	return k;
}

/*
 * Runs one group of jobs in one transaction. Sets each job's rc; returns 1 when the group was
 * committed (not yet fsync'd), 0 when every job failed. jobs has room for WRITE_BATCH_MAX; *n
 * jobs are in it, and more may join (*n is then their new count).
 *
 * Optimistically, without savepoints. A savepoint makes SQLite copy every page a job first
 * changes into the statement journal (4 KiB each, some 15 per payment) so that the job alone can
 * be rolled back, and it is almost never needed: a job fails only when its request does (a
 * conflicting state, an idempotency race), and declines commit. So a group first runs with
 * none; if a job fails, the whole transaction is rolled back and the group runs again with a
 * savepoint per job, which store_write's contract allows (a callback may be run again, as after
 * a PostgreSQL serialization failure). After such a failure the next SAFE_GROUPS_AFTER_FAILURE
 * groups use savepoints from the start, so that a load full of failing requests is not run
 * twice.
 *
 * The group stays open while the syncer is busy. A group committed then would only wait for the
 * fsync under way to end before its own could start; instead the jobs that arrive meanwhile join
 * it, and it commits when the syncer is done. Each COMMIT writes again the right-hand leaf of
 * every B-tree its group touched (some 27 WAL frames whatever the group's size), so fewer,
 * larger groups write fewer frames per job, which the checkpointer then copies and the fsync
 * writes out. A job waits no longer for that: only the COMMIT's own time moves after the fsync.
 */
static int run_group(struct sqlite_store *s, struct write_job **jobs, size_t *ret_n)
{
	int64_t t_commit = 0;
	size_t n = *ret_n;
	struct db *db = s->writer_db;
	int rc = run_simple(db, SQL_BEGIN);
	if (rc != DB_OK) {
		log_msg(LOG_ERROR, "store: BEGIN failed: %s", db_errmsg(db));
		for (size_t i = 0; i < n; i++)
			jobs[i]->rc = STORE_COMMIT_FAILED;
		return 0;
	}
	int savepoints = s->safe_groups > 0;
	if (savepoints)
		s->safe_groups--;
	int run = run_jobs(db, jobs, n, savepoints);
	for (;;) {
		if (run == RUN_JOB_FAILED) {
			/* start over, each job in its own savepoint */
			db_counters_discard(db);
			s->safe_groups = SAFE_GROUPS_AFTER_FAILURE;
			s->stat_reruns++;
			savepoints = 1;
			if (run_simple(db, SQL_ROLLBACK) != DB_OK ||
			    run_simple(db, SQL_BEGIN) != DB_OK)
				run = RUN_ABORTED;
			else
				run = run_jobs(db, jobs, n, 1);
		}
		if (run != RUN_OK)
			break;
		size_t more = hold_more(s, jobs + n, WRITE_BATCH_MAX - n);
		if (more == 0)
			break;
		run = run_jobs(db, jobs + n, more, savepoints);
		n += more;
	}
	*ret_n = n;
	int aborted = run != RUN_OK;
	/* the group's summed counters go in with it (a failure fails the whole group) */
	if (!aborted && db_counters_flush(db) != DB_OK)
		aborted = 1;
	if (!aborted) {
		/* before the COMMIT makes the group visible: a reader that can see it reads a
		 * committed_seq that makes it wait for the group's fsync */
		atomic_store(&s->committed_seq, ++s->group_seq);
		t_commit = clock_mono_us();
		/* only a COMMIT after a complete checkpoint can restart the WAL ("The WAL-reset
		 * race" below): that one waits for a running checkpoint, the others do not */
		int armed = atomic_load(&s->reset_armed);
		if (armed && pthread_mutex_trylock(&s->ckpt_mu) != 0) {
			pthread_mutex_lock(&s->ckpt_mu);
			s->stat_ckpt_waits++;
			s->stat_ckpt_wait_us += clock_mono_us() - t_commit;
		}
		int64_t steps, frames0, frames1;
		sqlite_db_stats(db, &steps, &frames0);
		int crc = run_simple(db, SQL_COMMIT);
		if (armed) {
			/* frames appended: the WAL (restarted or not) is no longer all copied back
			 */
			sqlite_db_stats(db, &steps, &frames1);
			if (frames1 != frames0)
				atomic_store(&s->reset_armed, 0);
			pthread_mutex_unlock(&s->ckpt_mu);
		}
		s->stat_commit_us += clock_mono_us() - t_commit;
		if (crc == DB_OK) {
			db_tally_publish(db);
			return 1;
		}
	}
	db_counters_discard(db);
	log_msg(LOG_ERROR, "store: group commit of %zu jobs failed: %s", n, db_errmsg(db));
	if (sqlite_db_in_tx(db))
		run_simple(db, SQL_ROLLBACK);
	for (size_t i = 0; i < n; i++)
		jobs[i]->rc = STORE_COMMIT_FAILED;
	return 0;
}

/* Hands a committed group (or, with n == 0, only its sequence number) to the syncer. */
static void sync_submit(struct sqlite_store *s, struct write_job **jobs, size_t n, uint64_t seq)
{
	pthread_mutex_lock(&s->sync_mu);
	while (s->sync_len + n > SYNC_PENDING_MAX)
		pthread_cond_wait(&s->room_cv, &s->sync_mu);
	memcpy(s->sync_jobs + s->sync_len, jobs, n * sizeof(*jobs));
	s->sync_len += n;
	s->sync_target = seq;
	pthread_cond_signal(&s->sync_cv);
	pthread_mutex_unlock(&s->sync_mu);
}

/* The file's identity (device and inode) through statx, asking for the inode number only: a
 * stat that asks for the timestamps (fstat, stat) marks them as seen, and Linux (6.13 on, ext4
 * among others: multigrain timestamps) then gives the file's next write a fine-grained mtime of
 * its own instead of the clock tick's. A changed mtime dirties the inode, and ext4's fdatasync
 * then writes the inode's table block and waits for it too: a third I/O round trip after the
 * data and before the cache flush, on every sync when each one stats first (measured here: an
 * fdatasync every 0.4 ms of 20 KB, p50 139-166 µs without the stat or with this statx, 190-195 µs
 * with fstat). */
static int file_id(int dirfd, const char *path, int flags, struct statx *ret)
{
	return statx(dirfd, path, flags, STATX_INO, ret) == 0 && (ret->stx_mask & STATX_INO) ? 0
											     : -1;
}

/* fdatasync of the WAL, through a descriptor of our own: SQLite's file handle belongs to the
 * writer thread. The WAL keeps its inode while any connection is open (SQLite deletes it only
 * at the last close), but the descriptor is checked against the path anyway, and a newly
 * opened WAL's directory entry is made durable too. */
static int wal_sync(struct sqlite_store *s)
{
	struct statx a, b;
	if (s->wal_fd >= 0 &&
	    (file_id(s->wal_fd, "", AT_EMPTY_PATH, &a) != 0 ||
	     file_id(AT_FDCWD, s->wal_path, 0, &b) != 0 || a.stx_ino != b.stx_ino ||
	     a.stx_dev_major != b.stx_dev_major || a.stx_dev_minor != b.stx_dev_minor)) {
		close(s->wal_fd);
		s->wal_fd = -1;
	}
	if (s->wal_fd < 0) {
		s->wal_fd = open(s->wal_path, O_RDONLY | O_CLOEXEC);
		if (s->wal_fd < 0)
			return -1;
		int dfd = open(s->dir_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd < 0)
			return -1;
		int rc = fsync(dfd);
		close(dfd);
		if (rc != 0)
			return -1;
	}
	return fdatasync(s->wal_fd) == 0 ? 0 : -1;
}

static void *syncer_main(void *arg)
{
	struct sqlite_store *s = arg;
	uint64_t done = 0;
	pthread_setname_np(pthread_self(), "tender-syncer");
	for (;;) {
		pthread_mutex_lock(&s->sync_mu);
		while (s->sync_target == done && !s->sync_stopping)
			pthread_cond_wait(&s->sync_cv, &s->sync_mu);
		if (s->sync_target == done) {
			pthread_mutex_unlock(&s->sync_mu);
			break; /* stopping, and every group is answered */
		}
		uint64_t target = s->sync_target;
		struct write_job **jobs = s->sync_jobs;
		size_t n = s->sync_len;
		atomic_store(&s->sync_busy, 1);
		s->sync_jobs = jobs == s->sync_bufs[0] ? s->sync_bufs[1] : s->sync_bufs[0];
		s->sync_len = 0;
		pthread_cond_signal(&s->room_cv);
		/* tests: held here, as in a long fsync */
		while (s->hold_syncs && !s->sync_stopping)
			pthread_cond_wait(&s->sync_cv, &s->sync_mu);
		pthread_mutex_unlock(&s->sync_mu);
		int failed = atomic_load(&s->sync_failed);
		int64_t t0 = clock_mono_us();
		int src = failed ? -1 : wal_sync(s);
		int64_t took = clock_mono_us() - t0;
		if (!failed)
			metrics_store_fsync(took, src == 0);
		atomic_fetch_add(&s->stat_syncs, 1);
		atomic_fetch_add(&s->stat_sync_us, took);
		if (took > atomic_load(&s->stat_sync_max_us))
			atomic_store(&s->stat_sync_max_us, took);
		if (!failed && src != 0) {
			log_msg(LOG_ALERT,
				"store: fsync of the WAL failed (%s): the store refuses writes "
				"from now "
				"on; restart Tender to recover",
				strerror(errno));
			atomic_store(&s->sync_failed, 1);
			failed = 1;
		}
		if (!failed)
			atomic_store(&s->durable_seq, target);
		done = target;
		/* before the answers: the writer's held group commits while they go out */
		atomic_store(&s->sync_busy, 0);
		/* the writer sets writer_holding before it reads sync_busy, and this reads it
		 * after clearing sync_busy (both sequentially consistent): one of the two sees
		 * the other's store, and the writer holds mu from its read to its wait */
		if (atomic_load(&s->writer_holding)) {
			pthread_mutex_lock(&s->mu);
			pthread_cond_signal(&s->cv);
			pthread_mutex_unlock(&s->mu);
		}
		/* a reader counts itself in before it checks durable_seq (durable_wait), so either
		 * it sees the new value or it is counted here and woken */
		if (atomic_load(&s->durable_waiters) > 0) {
			pthread_mutex_lock(&s->durable_mu);
			pthread_cond_broadcast(&s->durable_cv);
			pthread_mutex_unlock(&s->durable_mu);
		}
		int64_t now = clock_mono_us();
		int phases = log_enabled(LOG_DEBUG); /* the statistics line is a debug line */
		for (size_t i = 0; i < n; i++) {
			struct write_job *j = jobs[i];
			if (failed)
				j->rc = STORE_COMMIT_FAILED;
			if (phases) {
				hist_add(&s->lat[LAT_QUEUE], j->t_started - j->t_queued);
				hist_add(&s->lat[LAT_GROUP], j->t_committed - j->t_started);
				hist_add(&s->lat[LAT_SYNC], now - j->t_committed);
				hist_add(&s->lat[LAT_TOTAL], now - j->t_queued);
			}
			job_done(j);
		}
	}
	if (s->wal_fd >= 0)
		close(s->wal_fd);
	s->wal_fd = -1;
	return NULL;
}

/* Waits until every group up to need is on disk. */
static int durable_wait(struct sqlite_store *s, uint64_t need)
{
	if (atomic_load(&s->durable_seq) >= need)
		return 0;
	atomic_fetch_add(&s->durable_waiters, 1);
	pthread_mutex_lock(&s->durable_mu);
	while (atomic_load(&s->durable_seq) < need && !atomic_load(&s->sync_failed))
		pthread_cond_wait(&s->durable_cv, &s->durable_mu);
	int ok = atomic_load(&s->durable_seq) >= need;
	pthread_mutex_unlock(&s->durable_mu);
	atomic_fetch_sub(&s->durable_waiters, 1);
	return ok ? 0 : STORE_COMMIT_FAILED;
}

void sqlite_store_barrier_defer(int on)
{
	barrier_deferred = on;
}

uint64_t sqlite_store_barrier_take(struct sqlite_store *s)
{
	uint64_t need = barrier_store == s ? barrier_need : 0;
	barrier_need = 0;
	barrier_store = NULL;
	if (need && atomic_load(&s->durable_seq) >= need)
		need = 0;
	return need;
}

uint64_t sqlite_store_barrier_pending(struct sqlite_store *s, uint64_t need)
{
	return need && atomic_load(&s->durable_seq) >= need ? 0 : need;
}

int sqlite_store_barrier_wait(struct sqlite_store *s, uint64_t need)
{
	return need ? durable_wait(s, need) : 0;
}

bool sqlite_store_writable(struct sqlite_store *s)
{
	return !atomic_load(&s->sync_failed);
}

void sqlite_store_hold_checkpoints(struct sqlite_store *s, int on)
{
	if (on)
		pthread_mutex_lock(&s->ckpt_mu);
	else
		pthread_mutex_unlock(&s->ckpt_mu);
}

int sqlite_store_reset_armed(struct sqlite_store *s)
{
	return atomic_load(&s->reset_armed);
}

int64_t sqlite_store_writebacks(struct sqlite_store *s)
{
	return atomic_load(&s->stat_writebacks);
}

int sqlite_store_syncing(struct sqlite_store *s)
{
	return atomic_load(&s->sync_busy);
}

void sqlite_store_hold_syncs(struct sqlite_store *s, int on)
{
	pthread_mutex_lock(&s->sync_mu);
	s->hold_syncs = on;
	pthread_cond_broadcast(&s->sync_cv);
	pthread_mutex_unlock(&s->sync_mu);
}

/*
 * Keeping the WAL small. SQLite starts the log over from its first frame (overwriting the file in
 * place) only when a write transaction begins while every frame has been copied back into the
 * database. Under sustained load the background checkpointer never gets there: the writer adds
 * frames while it copies, so the WAL grew by ~40 MB a second, and every group commit appended
 * to a growing file, which makes fdatasync commit the file system's journal too (the new size),
 * on top of the data. So once the WAL holds WAL_RESTART_FRAMES frames, the writer, between two
 * groups (its waiters already answered), runs a passive checkpoint itself: nothing else writes
 * meanwhile, so it finishes the copy the background checkpointer has mostly done, and the next
 * group restarts the log. The next groups queue meanwhile, and join the next commit.
 */
#define WAL_RESTART_FRAMES 32768 /* 128 MiB of 4 KiB pages */

static const char SQL_CHECKPOINT[] = "PRAGMA wal_checkpoint(PASSIVE)";

enum { CKPT_SKIPPED, CKPT_BUSY, CKPT_DONE, CKPT_FAILED };

/* One PASSIVE checkpoint on db, unless the last one may have left the WAL all copied back and no
 * COMMIT has appended to it since: then a COMMIT may restart the WAL, and no checkpoint may start
 * until it has (see "The WAL-reset race"). */
static int checkpoint_once(struct sqlite_store *s, struct db *db)
{
	pthread_mutex_lock(&s->ckpt_mu);
	if (atomic_load(&s->reset_armed)) {
		pthread_mutex_unlock(&s->ckpt_mu);
		return CKPT_SKIPPED;
	}
	int busy = 1, failed = 1;
	int64_t log = -1, done = -1;
	struct db_stmt *st = db_prepare(db, SQL_CHECKPOINT);
	/* one row: busy (another checkpoint holds SQLite's lock), frames in the log as the
	 * checkpoint found it, frames copied back (the shared nBackfill) */
	if (st && db_step(st) == DB_ROW) {
		failed = 0;
		busy = (int)db_col_int64(st, 0);
		log = db_col_int64(st, 1);
		done = db_col_int64(st, 2);
	}
	if (st)
		db_reset(st);
	/* armed unless frames were certainly left: an error or a busy answer arms it too */
	if (busy || log < 0 || done >= log)
		atomic_store(&s->reset_armed, 1);
	pthread_mutex_unlock(&s->ckpt_mu);
	return failed ? CKPT_FAILED : busy ? CKPT_BUSY : CKPT_DONE;
}

static void wal_catch_up(struct sqlite_store *s)
{
	int64_t t0 = clock_mono_us();
	if (checkpoint_once(s, s->writer_db) != CKPT_DONE)
		return; /* busy or failed: again after the next group; skipped: nothing to copy */
	s->stat_catch_ups++;
	s->stat_catch_up_us += clock_mono_us() - t0;
}

static void *writer_main(void *arg)
{
	struct sqlite_store *s = arg;
	struct write_job *batch[WRITE_BATCH_MAX];
	pthread_setname_np(pthread_self(), "tender-writer");
	for (;;) {
		pthread_mutex_lock(&s->mu);
		while (s->q_len == 0 && !s->stopping)
			pthread_cond_wait(&s->cv, &s->mu);
		if (s->q_len == 0 && s->stopping) {
			pthread_mutex_unlock(&s->mu);
			break;
		}
		size_t n = take_queued(s, batch, WRITE_BATCH_MAX);
		pthread_mutex_unlock(&s->mu);
		int64_t t0 = clock_mono_us(), steps0, frames0, steps1, frames1;
		sqlite_db_stats(s->writer_db, &steps0, &frames0);
		uint64_t seq0 = s->group_seq;
		int committed = 0;
		if (atomic_load(&s->sync_failed)) {
			for (size_t i = 0; i < n; i++)
				batch[i]->rc = STORE_COMMIT_FAILED;
		} else {
			committed = run_group(s, batch, &n);
		}
		sqlite_db_stats(s->writer_db, &steps1, &frames1);
		int64_t t1 = clock_mono_us();
		for (size_t i = 0; i < n; i++)
			batch[i]->t_committed = t1;
		s->stat_groups++;
		s->stat_jobs += n;
		s->stat_us += clock_mono_us() - t0;
		s->stat_steps += steps1 - steps0;
		s->stat_frames += frames1 - frames0;
		if (clock_mono_us() - s->stat_since > 5000000) {
			double g = s->stat_groups ? (double)s->stat_groups : 1.0;
			double jb = s->stat_jobs ? (double)s->stat_jobs : 1.0;
			log_msg(
			    LOG_DEBUG,
			    "store: %lld groups (%lld run again with savepoints), %lld jobs (%.1f "
			    "per group), %.2f ms per group"
			    " (%.2f in COMMIT), %.1f statements and %.1f WAL frames per job;"
			    " WAL at %d frames, %lld catch-up checkpoints (%.1f ms each);"
			    " %lld COMMITs waited %.1f ms in all for a checkpoint;"
			    " %lld fsyncs, %.2f ms each, longest %.2f ms; writer page cache "
			    "%.1f MiB",
			    (long long)s->stat_groups, (long long)s->stat_reruns,
			    (long long)s->stat_jobs, (double)s->stat_jobs / g,
			    (double)s->stat_us / 1000.0 / g, (double)s->stat_commit_us / 1000.0 / g,
			    (double)s->stat_steps / jb, (double)s->stat_frames / jb,
			    sqlite_db_wal_size(s->writer_db), (long long)s->stat_catch_ups,
			    s->stat_catch_ups
				? (double)s->stat_catch_up_us / 1000.0 / (double)s->stat_catch_ups
				: 0.0,
			    (long long)s->stat_ckpt_waits, (double)s->stat_ckpt_wait_us / 1000.0,
			    (long long)atomic_load(&s->stat_syncs),
			    atomic_load(&s->stat_syncs)
				? (double)atomic_load(&s->stat_sync_us) / 1000.0 /
				      (double)atomic_load(&s->stat_syncs)
				: 0.0,
			    (double)atomic_load(&s->stat_sync_max_us) / 1000.0,
			    (double)sqlite_db_cache_bytes(s->writer_db) / 1048576.0);
			double p99[LAT_PHASES], p50[LAT_PHASES];
			for (int i = 0; i < LAT_PHASES; i++)
				hist_take(&s->lat[i], &p50[i], &p99[i]);
			log_msg(LOG_DEBUG,
				"store: write phases p50/p99 ms: queued %.1f/%.1f, group %.1f/%.1f,"
				" fsync wait %.1f/%.1f, total %.1f/%.1f",
				p50[LAT_QUEUE], p99[LAT_QUEUE], p50[LAT_GROUP], p99[LAT_GROUP],
				p50[LAT_SYNC], p99[LAT_SYNC], p50[LAT_TOTAL], p99[LAT_TOTAL]);
			atomic_store(&s->stat_syncs, 0);
			atomic_store(&s->stat_sync_us, 0);
			atomic_store(&s->stat_sync_max_us, 0);
			s->stat_catch_ups = s->stat_catch_up_us = 0;
			s->stat_ckpt_waits = s->stat_ckpt_wait_us = 0;
			s->stat_groups = s->stat_jobs = s->stat_us = s->stat_commit_us = 0;
			s->stat_reruns = 0;
			s->stat_steps = s->stat_frames = 0;
			s->stat_since = clock_mono_us();
		}
		if (committed) {
			/* answered by the syncer, after the fsync */
			sync_submit(s, batch, n, s->group_seq);
		} else {
			for (size_t i = 0; i < n; i++)
				job_done(batch[i]);
			/* a COMMIT that failed still bumped committed_seq: readers wait on it */
			if (s->group_seq != seq0)
				sync_submit(s, NULL, 0, s->group_seq);
		}
		int wal = sqlite_db_wal_size(s->writer_db);
		atomic_store_explicit(&s->wal_frames, wal, memory_order_relaxed);
		if (wal >= WAL_RESTART_FRAMES && !s->no_checkpoints)
			wal_catch_up(s);
	}
	return NULL;
}

/*
 * Checkpoints run on their own connection and thread. Left to SQLite, the commit that crosses
 * the WAL size threshold would copy pages into the database file and fsync it while every request
 * of its group waits; here the writer only ever appends to the WAL, and a PASSIVE checkpoint
 * (which never blocks the writer or readers) runs beside it. While the WAL is filling it runs
 * back to back (CHECKPOINT_BUSY_MS apart), so that when the writer's catch-up comes (above) only
 * the last few milliseconds of frames are left to copy and fsync: with one checkpoint every
 * 200 ms the catch-up copied up to 10 MB and stalled every waiting payment for 25-33 ms, the
 * confirms' p99. Idle, it checks every CHECKPOINT_IDLE_MS.
 */
/*
 * The WAL-reset race. SQLite 3.7.0 through 3.51.2 (Debian 12 ships 3.40.1, unpatched) has a data
 * race that corrupts the database or loses committed transactions (https://sqlite.org/wal.html,
 * "The WAL-Reset Bug"): a checkpoint completes, a second checkpoint starts on another connection,
 * and while it starts a commit resets the WAL (starts it over from its first frame); the second
 * checkpoint misses the reset and a later one skips frames, which never reach the database file.
 * This store is that shape exactly: a background checkpointer every 10 ms beside a writer that
 * restarts the WAL every WAL_RESTART_FRAMES. It was hit once (a 10-minute soak, 2026-12-02: one
 * group failed with "database disk image is malformed"). The race needs a reset, and SQLite
 * resets the WAL only at the first frame write of a transaction whose snapshot began while every
 * frame had been copied back (nBackfill == mxFrame > 0), that is right after a checkpoint that
 * completed; and the checkpoint at risk is one that *starts* meanwhile (it reads the header, then
 * finds nBackfill reset to 0 and copies with the old length). So: every checkpoint (the
 * background one and the writer's catch-up) runs under ckpt_mu, and one that may have copied
 * everything back (frames checkpointed == frames in the log it saw; a busy or failed one too)
 * sets reset_armed before it lets go. While it is set no checkpoint starts, and the writer's
 * next COMMIT takes ckpt_mu and clears it once that COMMIT has appended frames (after which the
 * log is not all copied back until another checkpoint completes and arms it again). Only those
 * COMMITs wait for a running checkpoint; the rest, which cannot reset the WAL, commit beside it
 * (before this, every COMMIT took ckpt_mu and they waited ~12 % of the writer's time). A
 * transaction that began in the instant between a completing checkpoint's last copy and its
 * arming can reset the WAL without the lock, but only while that checkpoint is finishing, past
 * the header read and the test the race is about, and it holds ckpt_mu, so no other one starts.
 * The writer's connection runs with cache_spill off so that a transaction writes frames only at
 * its COMMIT. Readers never write, so never checkpoint or reset.
 *
 * ckpt_mu is this process's: it cannot order a checkpoint in another process that has the same
 * files open. A CLI command may write beside a running `tender serve` (`tender dispute open`,
 * `tender merchant create`), and its store, opened like the server's, ran a checkpointer too (a
 * checkpoint at every exit, and the writer's catch-up when the server's WAL was long): the same
 * race between two processes. So such a store is opened with no_checkpoints (store.h): no
 * checkpointer thread and no catch-up, only the server's. Its commits may still restart the
 * WAL, which is safe for the reason above: a restart needs a checkpoint in the server that
 * copied everything back, and that one armed reset_armed, so no other server checkpoint starts
 * until the server's own next COMMIT has appended frames after the restart.
 */
#define CHECKPOINT_IDLE_MS 200
#define CHECKPOINT_BUSY_MS 10
#define CHECKPOINT_BUSY_FRAMES 1024
/*
 * The checkpointer runs at a lower CPU priority than the request threads (nice +10 relative to
 * them; Linux's nice is a per-thread attribute, and lowering one's own needs no privilege). Its
 * copying can wait a little; a request cannot. When the cores are contended, the scheduler then
 * gives them to the HTTP threads, the writer and the syncer first, and the checkpointer takes what
 * is left, which at half load is plenty. If it falls behind, the writer's catch-up
 * (WAL_RESTART_FRAMES) still bounds the WAL. Measured on 2 cores (bench-like sequence, half-rate
 * tokenization after full confirms and tokenizations): tokenization p99 2.07 / 2.04 / 2.12 -> 1.81
 * / 1.89 / 1.80 ms in three alternating pairs; half-rate confirm p99 stayed within 4.5-7.4 ms and
 * confirms/s did not move beyond the noise. No COMMIT waited for a running checkpoint in either
 * (the only wait a slower checkpoint could lengthen).
 */
#define CHECKPOINTER_NICE 10
/*
 * The database file's writeback starts after each checkpoint. Under load a PASSIVE checkpoint
 * copies pages into the database file without an fsync (SQLite syncs it only when a checkpoint
 * has copied the whole WAL back), so the pages it copies stay dirty in the page cache until the
 * kernel's flusher takes them (30 s later, or past 10 % of memory) or until that complete
 * checkpoint: the writer's catch-up, which then fsyncs everything copied since the last one
 * (~0.5 s of checkpoints at full load) while every waiting payment stalls, 5.6-8.9 ms each, and
 * the WAL fsyncs that queue behind that flush took up to 14-21 ms. So after every checkpoint the
 * checkpointer asks the kernel to start writing what is dirty (sync_file_range, WRITE only: it
 * neither waits for the writes nor flushes the disk's cache, and SQLite's fsync still makes them
 * durable before the WAL is restarted). Measured at full-load confirms (12 s, two runs each):
 * catch-ups 1.7-2.9 ms instead of 5.6-8.9, the longest WAL fsync 6.9-9.6 ms instead of
 * 14.1-20.8, the store's p99 from queue to answer 5.0-6.2 ms instead of 7.0-8.2; half-rate confirm
 * p99 over four pairs 4.45 / 7.16 / 4.79 / 4.57 against 6.45 / 5.40 / 6.22 / 5.18 ms.
 * Best effort: a failure (an I/O error shows up again at SQLite's fsync) only leaves the writeback
 * to the kernel, as before.
 */

static void *checkpointer_main(void *arg)
{
	struct sqlite_store *s = arg;
	char err[256];
	pthread_setname_np(pthread_self(), "tender-ckpt");
	/* ten steps below the thread that opened the store (whose value a new thread starts
	 * with), at most 19: nice() is relative and the kernel caps it, and on Linux it changes
	 * only the calling thread. Best effort: a failure (a sandbox that forbids it) leaves the
	 * thread where it was. */
	(void)nice(CHECKPOINTER_NICE);
	struct db *db = sqlite_db_open(s->path, 0, err, sizeof(err));
	if (!db) {
		log_msg(LOG_ERROR, "store: checkpointer: %s", err);
		return NULL;
	}
	/* the database file, only to start its writeback (above); -1 leaves that to the kernel */
	int db_fd = open(s->path, O_RDONLY | O_CLOEXEC);
	for (;;) {
		int busy = atomic_load_explicit(&s->wal_frames, memory_order_relaxed) >=
			   CHECKPOINT_BUSY_FRAMES;
		long wait_ms = busy ? CHECKPOINT_BUSY_MS : CHECKPOINT_IDLE_MS;
		pthread_mutex_lock(&s->mu);
		if (!s->stopping) {
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += wait_ms * 1000000L;
			ts.tv_sec += ts.tv_nsec / 1000000000L;
			ts.tv_nsec %= 1000000000L;
			pthread_cond_timedwait(&s->ckpt_cv, &s->mu, &ts);
		}
		int stop = s->stopping;
		pthread_mutex_unlock(&s->mu);
		int ck = checkpoint_once(s, db);
		if (ck == CKPT_FAILED)
			log_msg(LOG_WARN, "store: checkpoint failed: %s", db_errmsg(db));
		else if (ck == CKPT_DONE && db_fd >= 0 &&
			 sync_file_range(db_fd, 0, 0, SYNC_FILE_RANGE_WRITE) == 0)
			atomic_fetch_add(&s->stat_writebacks, 1);
		if (stop)
			break;
	}
	if (db_fd >= 0)
		close(db_fd);
	sqlite_db_close(db);
	return NULL;
}

static void read_conn_destroy(void *p)
{
	(void)p; /* connections are closed by store_close, which tracks them all */
}

int sqlite_store_open(struct sqlite_store **ret, const struct store_config *cfg, char *err,
		      size_t errlen)
{
	if (!cfg->data_dir || !cfg->data_dir[0]) {
		snprintf(err, errlen, "--data DIR is required");
		return -1;
	}
	if (!cfg->read_only && mkdir(cfg->data_dir, 0700) != 0 && errno != EEXIST) {
		snprintf(err, errlen, "cannot create data directory %s: %s", cfg->data_dir,
			 strerror(errno));
		return -1;
	}
	struct sqlite_store *s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	int n = snprintf(s->path, sizeof(s->path), "%s/tender.db", cfg->data_dir);
	if (n < 0 || (size_t)n >= sizeof(s->path)) {
		snprintf(err, errlen, "data directory path too long");
		free(s);
		return -1;
	}
	s->read_only = cfg->read_only;
	s->no_checkpoints = cfg->no_checkpoints;
	snprintf(s->wal_path, sizeof(s->wal_path), "%s-wal", s->path);
	str_copy(s->dir_path, sizeof(s->dir_path), cfg->data_dir);
	s->wal_fd = -1;
	/* whatever the files hold, the first COMMIT is treated as one that may restart the WAL */
	atomic_store(&s->reset_armed, 1);
	s->sync_jobs = s->sync_bufs[0];
	pthread_mutex_init(&s->sync_mu, NULL);
	pthread_mutex_init(&s->ckpt_mu, NULL);
	pthread_cond_init(&s->sync_cv, NULL);
	pthread_cond_init(&s->room_cv, NULL);
	pthread_mutex_init(&s->durable_mu, NULL);
	pthread_cond_init(&s->durable_cv, NULL);
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	pthread_cond_init(&s->ckpt_cv, NULL);
	pthread_mutex_init(&s->read_mu, NULL);
	pthread_key_create(&s->read_key, read_conn_destroy);

	if (cfg->read_only) {
		struct stat sb;
		if (stat(s->path, &sb) != 0) {
			snprintf(err, errlen, "no Tender store at %s", s->path);
			sqlite_store_close(s);
			return -1;
		}
		*ret = s;
		return 0;
	}
	s->writer_db = sqlite_db_open(s->path, 0, err, errlen);
	if (!s->writer_db) {
		sqlite_store_close(s);
		return -1;
	}
	if (migrate_run(s->writer_db, migrations_sqlite, err, errlen) != 0) {
		sqlite_store_close(s);
		return -1;
	}
	/* NORMAL: the syncer fsyncs each committed group before anyone hears of it (above) */
	/* cache_spill off: frames reach the WAL only at COMMIT (see "The WAL-reset race") */
	/* secure_delete off: Debian builds SQLite with it on, which zeroes every new b-tree page a
	 * second time (4 % of the writer's instructions per confirm). It guards deleted rows'
	 * bytes; the store deletes only expired idempotency records (everything else is soft
	 * deleted or append-only), and card data and keys are sealed by the vault before they
	 * reach it, so no freed page can hold a secret in clear. */
	if (db_exec(s->writer_db, "PRAGMA wal_autocheckpoint=0; PRAGMA synchronous=NORMAL;"
				  " PRAGMA cache_spill=OFF; PRAGMA secure_delete=OFF") != DB_OK) {
		snprintf(err, errlen, "cannot configure the store: %s", db_errmsg(s->writer_db));
		sqlite_store_close(s);
		return -1;
	}
	sqlite_db_track_wal(s->writer_db);
	if (db_counters_enable(s->writer_db, 0) != 0) {
		snprintf(err, errlen, "out of memory");
		sqlite_store_close(s);
		return -1;
	}
	if (!s->no_checkpoints) {
		if (pthread_create(&s->checkpointer, NULL, checkpointer_main, s) != 0) {
			snprintf(err, errlen, "cannot start the store checkpointer");
			sqlite_store_close(s);
			return -1;
		}
		s->checkpointer_started = 1;
	}
	if (pthread_create(&s->syncer, NULL, syncer_main, s) != 0) {
		snprintf(err, errlen, "cannot start the store syncer");
		sqlite_store_close(s);
		return -1;
	}
	s->syncer_started = 1;
	if (pthread_create(&s->writer, NULL, writer_main, s) != 0) {
		snprintf(err, errlen, "cannot start the store writer thread");
		sqlite_store_close(s);
		return -1;
	}
	s->writer_started = 1;
	*ret = s;
	return 0;
}

void sqlite_store_close(struct sqlite_store *s)
{
	if (!s)
		return;
	if (s->writer_started) {
		pthread_mutex_lock(&s->mu);
		s->stopping = 1;
		pthread_cond_broadcast(&s->cv);
		pthread_mutex_unlock(&s->mu);
		pthread_join(s->writer, NULL);
	}
	if (s->syncer_started) {
		/* after the writer: it answers the writer's last groups first */
		pthread_mutex_lock(&s->sync_mu);
		s->sync_stopping = 1;
		pthread_cond_broadcast(&s->sync_cv);
		pthread_mutex_unlock(&s->sync_mu);
		pthread_join(s->syncer, NULL);
	}
	if (s->checkpointer_started) {
		pthread_mutex_lock(&s->mu);
		s->stopping = 1;
		pthread_cond_broadcast(&s->ckpt_cv);
		pthread_mutex_unlock(&s->mu);
		pthread_join(s->checkpointer, NULL);
	}
	sqlite_db_close(s->writer_db);
	for (size_t i = 0; i < s->read_count; i++)
		sqlite_db_close(s->read_conns[i]);
	pthread_key_delete(s->read_key);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
	pthread_cond_destroy(&s->ckpt_cv);
	pthread_mutex_destroy(&s->read_mu);
	pthread_mutex_destroy(&s->ckpt_mu);
	pthread_mutex_destroy(&s->sync_mu);
	pthread_cond_destroy(&s->sync_cv);
	pthread_cond_destroy(&s->room_cv);
	pthread_mutex_destroy(&s->durable_mu);
	pthread_cond_destroy(&s->durable_cv);
	free(s);
}

/* Puts a job on the writer's queue; STORE_OVERLOADED when it is full or the store stops. */
static int job_enqueue(struct sqlite_store *s, struct write_job *job)
{
	pthread_mutex_lock(&s->mu);
	if (s->q_len >= WRITE_QUEUE_MAX || s->stopping) {
		pthread_mutex_unlock(&s->mu);
		return STORE_OVERLOADED;
	}
	s->queue[(s->q_head + s->q_len) % WRITE_QUEUE_MAX] = job;
	s->q_len++;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
	return 0;
}

/* coro_park's submit: runs on the coroutine's owner once it can be woken */
static void job_submit(void *arg)
{
	struct write_job *job = arg;
	int rc = job_enqueue(job->s, job);
	if (rc != 0) {
		job->rc = rc;
		job_done(job);
	}
}

int sqlite_store_write(struct sqlite_store *s, const char *merchant_id, store_fn fn, void *ctx)
{
	(void)merchant_id; /* one SQLite file holds every merchant */
	if (s->read_only || !s->writer_started)
		return STORE_COMMIT_FAILED;
	if (in_writer_callback)
		abort(); /* a write callback that writes again would deadlock: programmer error */
	struct write_job job = {.fn = fn, .ctx = ctx, .s = s, .rc = 0, .t_queued = clock_mono_us()};
	/* In a coroutine (the HTTP server's asynchronous write path) the request parks until the
	 * syncer's fsync wakes it, and its thread serves other requests meanwhile. The job lives on
	 * the coroutine's stack, which stays put while it is parked. */
	struct coro *co = in_read_callback ? NULL : coro_current();
	if (co) {
		job.co = co;
		coro_park(job_submit, &job);
		return job.rc;
	}
	sem_init(&job.done, 0, 0);
	int rc = job_enqueue(s, &job);
	if (rc != 0) {
		sem_destroy(&job.done);
		return rc;
	}
	while (sem_wait(&job.done) != 0 && errno == EINTR)
		;
	sem_destroy(&job.done);
	return job.rc;
}

static struct db *read_conn(struct sqlite_store *s)
{
	struct db *db = pthread_getspecific(s->read_key);
	if (db)
		return db;
	char err[512];
	db = sqlite_db_open(s->path, 1, err, sizeof(err));
	if (!db) {
		log_msg(LOG_ERROR, "store: %s", err);
		return NULL;
	}
	pthread_mutex_lock(&s->read_mu);
	if (s->read_count >= READ_CONNS_MAX) {
		pthread_mutex_unlock(&s->read_mu);
		sqlite_db_close(db);
		return NULL;
	}
	s->read_conns[s->read_count++] = db;
	pthread_mutex_unlock(&s->read_mu);
	pthread_setspecific(s->read_key, db);
	return db;
}

void sqlite_store_read_hold(struct sqlite_store *s, int on)
{
	if (held_db) {
		run_simple(held_db, SQL_COMMIT);
		held_db = NULL;
	}
	hold_store = on ? s : NULL;
}

int sqlite_store_read(struct sqlite_store *s, const char *merchant_id, store_fn fn, void *ctx)
{
	(void)merchant_id;
	struct db *db = read_conn(s);
	if (!db)
		return STORE_OVERLOADED;
	/* within a hold (store.h), the first read's transaction serves the next ones; a read of
	 * another store leaves it alone (its connection is another) */
	if (held_db == db)
		held_db = NULL;
	else if (run_simple(db, SQL_BEGIN_READ) != DB_OK)
		return STORE_COMMIT_FAILED;
	in_read_callback++;
	int rc = fn(db, ctx);
	in_read_callback--;
	if (hold_store == s && rc == 0)
		held_db = db;
	else
		run_simple(db, SQL_COMMIT);
	/* read after the snapshot: at least every group this read could have seen */
	uint64_t need = atomic_load(&s->committed_seq);
	if (need > atomic_load(&s->durable_seq)) {
		if (barrier_deferred) {
			if (barrier_store != s || need > barrier_need)
				barrier_need = need;
			barrier_store = s;
		} else {
			int w = durable_wait(s, need);
			if (w != 0 && rc == 0)
				rc = w;
		}
	}
	return rc;
}

int sqlite_store_each_shard_write(struct sqlite_store *s, store_fn fn, void *ctx)
{
	return sqlite_store_write(s, NULL, fn, ctx);
}

int sqlite_store_each_shard_read(struct sqlite_store *s, store_fn fn, void *ctx)
{
	return sqlite_store_read(s, NULL, fn, ctx);
}
