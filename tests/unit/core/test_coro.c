#include <criterion/criterion.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>

#include "core/coro.h"

/* ---- run to completion ---- */

struct plain {
	struct coro *self_seen;
	int ran;
};

static void plain_fn(void *arg)
{
	struct plain *p = arg;
	p->self_seen = coro_current();
	p->ran++;
}

static void no_waker(void *arg)
{
	(void)arg;
	cr_assert_fail("nothing parks here, so nothing wakes");
}

Test(coro, runs_to_completion_on_its_own_stack)
{
	int before = coro_live();
	struct plain p = {0};
	struct coro *co = coro_new(plain_fn, &p, no_waker, NULL);
	cr_assert_not_null(co);
	cr_assert_eq(coro_live(), before + 1);
	cr_assert_null(coro_current(), "outside any coroutine");
	cr_assert(coro_resume(co), "fn returned: finished");
	cr_assert_eq(p.ran, 1);
	cr_assert_eq(p.self_seen, co, "inside, coro_current is the coroutine");
	cr_assert_null(coro_current());
	coro_free(co);
	cr_assert_eq(coro_live(), before);
}

/* ---- park, submit, wake, resume ---- */

struct parker {
	int submits, wakes;
	int step;
	long sum; /* a local on the coroutine's stack must survive every park */
	struct coro *co;
};

static void parker_submit(void *arg)
{
	struct parker *p = arg;
	p->submits++;
	coro_wake(p->co); /* completes at once: the owner resumes it after this */
}

static void parker_waker(void *arg)
{
	struct parker *p = arg;
	p->wakes++;
}

static void parker_fn(void *arg)
{
	struct parker *p = arg;
	long local = 0;
	char big[8192]; /* a handler's stack buffers fit */
	memset(big, 7, sizeof(big));
	for (int i = 1; i <= 3; i++) {
		local += i * (long)big[i];
		p->step = i;
		coro_park(parker_submit, p);
	}
	p->sum = local;
}

Test(coro, parks_and_resumes_with_its_locals_intact)
{
	struct parker p = {0};
	p.co = coro_new(parker_fn, &p, parker_waker, &p);
	cr_assert_not_null(p.co);
	int rounds = 0;
	while (!coro_resume(p.co)) {
		rounds++;
		cr_assert_eq(p.step, rounds, "parked after step %d", rounds);
		cr_assert_eq(p.submits, rounds - 1, "the submit runs only when the owner says so");
		coro_submit(p.co);
		cr_assert_eq(p.wakes, rounds);
	}
	cr_assert_eq(rounds, 3);
	cr_assert_eq(p.sum, 7 * (1 + 2 + 3));
	coro_free(p.co);
}

/* ---- completion on another thread, as the store's syncer does ---- */

struct remote {
	struct coro *co;
	sem_t woken;
	pthread_t th;
	int result;
	int seen;
};

static void *remote_complete(void *arg)
{
	struct remote *r = arg;
	r->result = 42;
	coro_wake(r->co);
	return NULL;
}

static void remote_submit(void *arg)
{
	struct remote *r = arg;
	cr_assert_eq(pthread_create(&r->th, NULL, remote_complete, r), 0);
}

static void remote_waker(void *arg)
{
	sem_post(&((struct remote *)arg)->woken);
}

static void remote_fn(void *arg)
{
	struct remote *r = arg;
	coro_park(remote_submit, r);
	r->seen = r->result;
}

Test(coro, a_wake_from_another_thread_gets_it_resumed_by_its_owner)
{
	struct remote r = {0};
	sem_init(&r.woken, 0, 0);
	r.co = coro_new(remote_fn, &r, remote_waker, &r);
	cr_assert_not_null(r.co);
	cr_assert_not(coro_resume(r.co));
	coro_submit(r.co);
	sem_wait(&r.woken);
	pthread_join(r.th, NULL);
	cr_assert(coro_resume(r.co));
	cr_assert_eq(r.seen, 42);
	coro_free(r.co);
	sem_destroy(&r.woken);
}

/* ---- many interleaved ---- */

#define MANY 200

struct many {
	struct coro *co;
	int id;
	long out;
	bool woken;
};

static void many_submit(void *arg)
{
	(void)arg; /* woken by the test's loop instead */
}

static void many_waker(void *arg)
{
	((struct many *)arg)->woken = true;
}

static void many_fn(void *arg)
{
	struct many *m = arg;
	long acc = m->id;
	for (int i = 0; i < 5; i++) {
		acc = acc * 3 + i;
		coro_park(many_submit, m);
	}
	m->out = acc;
}

Test(coro, interleaved_coroutines_keep_their_own_stacks)
{
	static struct many ms[MANY];
	int before = coro_live();
	for (int i = 0; i < MANY; i++) {
		ms[i].id = i;
		ms[i].co = coro_new(many_fn, &ms[i], many_waker, &ms[i]);
		cr_assert_not_null(ms[i].co);
	}
	cr_assert_eq(coro_live(), before + MANY);
	int finished = 0;
	bool done[MANY] = {0};
	while (finished < MANY) {
		/* backwards, so the order differs from creation */
		for (int i = MANY - 1; i >= 0; i--) {
			if (done[i])
				continue;
			if (coro_resume(ms[i].co)) {
				done[i] = true;
				finished++;
				coro_free(ms[i].co);
			} else {
				coro_submit(ms[i].co);
				coro_wake(ms[i].co);
				cr_assert(ms[i].woken);
			}
		}
	}
	for (int i = 0; i < MANY; i++) {
		long want = i;
		for (int k = 0; k < 5; k++)
			want = want * 3 + k;
		cr_assert_eq(ms[i].out, want, "coroutine %d", i);
	}
	cr_assert_eq(coro_live(), before);
}

/* ---- the signal mask is the thread's, not the coroutine's ---- */

static void mask_submit(void *arg)
{
	(void)arg;
}

static void mask_fn(void *arg)
{
	sigset_t *seen = arg;
	sigset_t usr2;
	sigemptyset(&usr2);
	sigaddset(&usr2, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &usr2, NULL);
	coro_park(mask_submit, NULL);
	pthread_sigmask(SIG_SETMASK, NULL, seen);
}

/* A switch saves and restores registers only (coro.c): a mask the coroutine sets stays set on
 * its thread after it parks, and one its owner sets meanwhile is the one it finds on resuming.
 * swapcontext would have swapped the masks with the stacks (a system call per switch). */
Test(coro, a_switch_leaves_the_signal_mask_as_it_is)
{
	sigset_t old, now, seen;
	pthread_sigmask(SIG_SETMASK, NULL, &old);
	cr_assert_not(sigismember(&old, SIGUSR2));
	struct coro *co = coro_new(mask_fn, &seen, no_waker, NULL);
	cr_assert_not_null(co);
	cr_assert_not(coro_resume(co), "parked");
	pthread_sigmask(SIG_SETMASK, NULL, &now);
	cr_assert(sigismember(&now, SIGUSR2), "the coroutine's block holds on its thread");
	sigset_t usr1;
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &usr1, NULL);
	coro_submit(co);
	cr_assert(coro_resume(co), "finished");
	cr_assert(sigismember(&seen, SIGUSR1), "the owner's block is what it found");
	cr_assert(sigismember(&seen, SIGUSR2));
	coro_free(co);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* ---- a finished coroutine is reused, stack and all ---- */

struct reuse {
	int which;
	long out;
	struct coro *co;
};

static void reuse_submit(void *arg)
{
	(void)arg;
}

static void reuse_waker(void *arg)
{
	(void)arg;
}

static void reuse_a(void *arg)
{
	struct reuse *r = arg;
	char big[4096];
	memset(big, 'a', sizeof(big));
	coro_park(reuse_submit, r);
	r->which = 1;
	r->out = big[100];
}

static void reuse_b(void *arg)
{
	struct reuse *r = arg;
	long local = 5;
	coro_park(reuse_submit, r);
	local *= 3;
	coro_park(reuse_submit, r);
	r->which = 2;
	r->out = local;
}

static void *resume_elsewhere(void *arg)
{
	struct reuse *r = arg;
	coro_submit(r->co);
	return (void *)(intptr_t)coro_resume(r->co);
}

/* coro_free pools a finished coroutine parked inside its stack; the next coro_new hands it out
 * with the new fn, which runs from the start (entering through a jump, not ucontext's two
 * signal-mask system calls), parks and finishes like a fresh one, on any thread. */
Test(coro, a_freed_coroutine_is_reused_for_the_next_fn)
{
	int before = coro_live();
	struct reuse a = {0}, b = {0};
	a.co = coro_new(reuse_a, &a, reuse_waker, &a);
	cr_assert_not_null(a.co);
	cr_assert_not(coro_resume(a.co));
	coro_submit(a.co);
	cr_assert(coro_resume(a.co));
	cr_assert_eq(a.which, 1);
	cr_assert_eq(a.out, 'a');
	struct coro *old = a.co;
	int pooled = coro_pooled();
	coro_free(a.co);
	cr_assert_eq(coro_live(), before);
	cr_assert_eq(coro_pooled(), pooled + 1, "kept, not unmapped");

	b.co = coro_new(reuse_b, &b, reuse_waker, &b);
	cr_assert_eq(b.co, old, "the pooled coroutine comes back");
	cr_assert_eq(coro_pooled(), pooled);
	cr_assert_eq(coro_live(), before + 1);
	cr_assert_null(coro_current());
	cr_assert_not(coro_resume(b.co), "runs the new fn from its start, up to its first park");
	cr_assert_eq(b.which, 0, "not the old fn's rest");
	pthread_t th;
	void *done = NULL;
	cr_assert_eq(pthread_create(&th, NULL, resume_elsewhere, &b), 0);
	pthread_join(th, &done);
	cr_assert_not((intptr_t)done, "parked again, resumed on another thread");
	coro_submit(b.co);
	cr_assert(coro_resume(b.co));
	cr_assert_eq(b.which, 2);
	cr_assert_eq(b.out, 15);
	coro_free(b.co);
	cr_assert_eq(coro_live(), before);
}

/* More finished coroutines than the pool keeps: the extra ones are unmapped, the rest reused. */
Test(coro, the_pool_is_bounded_and_every_coroutine_still_runs)
{
	enum { N = 300 };
	static struct many ms[N];
	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < N; i++) {
			ms[i] = (struct many){.id = i + round};
			ms[i].co = coro_new(many_fn, &ms[i], many_waker, &ms[i]);
			cr_assert_not_null(ms[i].co);
		}
		for (int i = 0; i < N; i++) {
			while (!coro_resume(ms[i].co))
				coro_submit(ms[i].co);
			long want = i + round;
			for (int k = 0; k < 5; k++)
				want = want * 3 + k;
			cr_assert_eq(ms[i].out, want, "round %d coroutine %d", round, i);
			coro_free(ms[i].co);
		}
		cr_assert_eq(coro_pooled(), CORO_POOL_MAX, "CORO_POOL_MAX kept, the rest unmapped");
	}
	cr_assert_eq(coro_live(), 0);
}
