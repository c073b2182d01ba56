/* Coroutines on ucontext and sigsetjmp; see coro.h. */
/* glibc's fortified longjmp (__longjmp_chk) refuses a jump to a frame below the current stack
 * pointer unless it is on the signal stack: a jump into a coroutine's stack is exactly that. */
#undef _FORTIFY_SOURCE
#include "core/coro.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#define CORO_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CORO_ASAN 1
#endif
#endif
#ifdef CORO_ASAN
#include <sanitizer/common_interface_defs.h>
#endif

struct coro {
	ucontext_t ctx;	   /* the coroutine's first entry (makecontext) */
	sigjmp_buf self;   /* where the coroutine parked */
	sigjmp_buf caller; /* where coro_resume() was called */
	bool started;
	void *map; /* guard page + stack */
	size_t map_len;
	void (*fn)(void *);
	void *arg;
	void (*waker)(void *);
	void *waker_arg;
	void (*submit)(void *); /* set by coro_park, run by coro_submit */
	void *submit_arg;
	bool done;
#ifdef CORO_ASAN
	void *fake_caller; /* ASan's fake stacks, saved while the side is switched away */
	void *fake_coro;
	const void *caller_bottom; /* the resumer's stack, to switch back to */
	size_t caller_size;
#endif
};

static __thread struct coro *current;
static __thread bool owner_blocks; /* coro_owner_blocks */
static atomic_int live;

/* Finished coroutines whose stacks are still entered: each waits in trampoline's loop for its
 * next fn, so reusing one costs a siglongjmp instead of getcontext + setcontext. */
static pthread_mutex_t pool_mu = PTHREAD_MUTEX_INITIALIZER;
static struct coro *pool[CORO_POOL_MAX];
static size_t pool_len;

static size_t page_size(void)
{
	long p = sysconf(_SC_PAGESIZE);
	return p > 0 ? (size_t)p : 4096;
}

static void *stack_get(size_t *ret_len)
{
	size_t len = CORO_STACK_SIZE + page_size();
	*ret_len = len;
	void *m =
	    mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	if (m == MAP_FAILED)
		return NULL;
	/* the guard: stacks grow down, an overflow hits this page and faults */
	if (mprotect(m, page_size(), PROT_NONE) != 0) {
		munmap(m, len);
		return NULL;
	}
	/* request data (card numbers among it) passes through handler stacks */
	madvise(m, len, MADV_DONTDUMP);
	return m;
}

static void stack_put(void *m, size_t len)
{
	munmap(m, len);
}

/* Switching. start_switch announces the stack being switched to; finish_switch, run on arrival,
 * completes the switch (and, on the coroutine's first arrival, learns the resumer's stack). */
static void start_switch(struct coro *co, bool into, bool exiting)
{
#ifdef CORO_ASAN
	if (into)
		__sanitizer_start_switch_fiber(&co->fake_caller, (char *)co->map + page_size(),
					       co->map_len - page_size());
	else
		__sanitizer_start_switch_fiber(exiting ? NULL : &co->fake_coro, co->caller_bottom,
					       co->caller_size);
#else
	(void)co, (void)into, (void)exiting;
#endif
}

static void finish_switch(struct coro *co, bool into)
{
#ifdef CORO_ASAN
	if (into)
		__sanitizer_finish_switch_fiber(co->fake_coro, &co->caller_bottom,
						&co->caller_size);
	else
		__sanitizer_finish_switch_fiber(co->fake_caller, NULL, NULL);
#else
	(void)co, (void)into;
#endif
}

/* A coroutine's stack runs fn after fn: once fn returns, the coroutine parks here finished, and
 * if coro_free pools it, coro_new's next caller resumes it here with its own fn. uc_link is NULL
 * (returning would end the thread), so it never returns. */
static void trampoline(void)
{
	struct coro *co = current;
	finish_switch(co, true);
	for (;;) {
		co->fn(co->arg);
		co->done = true;
		start_switch(co, false, false);
		if (sigsetjmp(co->self, 0) == 0)
			siglongjmp(co->caller, 1);
		finish_switch(co, true);
	}
}

/* getcontext returns twice in principle: kept apart so no caller's local lives across it */
static __attribute__((noinline)) int ctx_init(struct coro *co)
{
	if (getcontext(&co->ctx) != 0)
		return -1;
	co->ctx.uc_stack.ss_sp = (char *)co->map + page_size();
	co->ctx.uc_stack.ss_size = co->map_len - page_size();
	co->ctx.uc_link = NULL;
	makecontext(&co->ctx, trampoline, 0);
	return 0;
}

struct coro *coro_new(void (*fn)(void *), void *arg, void (*waker)(void *), void *waker_arg)
{
	if (atomic_fetch_add(&live, 1) >= CORO_LIVE_MAX) {
		atomic_fetch_sub(&live, 1);
		return NULL;
	}
	pthread_mutex_lock(&pool_mu);
	struct coro *co = pool_len ? pool[--pool_len] : NULL;
	pthread_mutex_unlock(&pool_mu);
	if (co) {
		/* parked finished in trampoline's loop: started stays true, so the first resume
		 * jumps back into that loop */
		co->done = false;
		co->submit = NULL;
		co->submit_arg = NULL;
	} else {
		co = calloc(1, sizeof(*co));
		if (co)
			co->map = stack_get(&co->map_len);
		if (!co || !co->map || ctx_init(co) != 0) {
			if (co && co->map)
				stack_put(co->map, co->map_len);
			free(co);
			atomic_fetch_sub(&live, 1);
			return NULL;
		}
	}
	co->fn = fn;
	co->arg = arg;
	co->waker = waker;
	co->waker_arg = waker_arg;
	return co;
}

bool coro_resume(struct coro *co)
{
	if (current || co->done)
		abort(); /* nested, or resuming a finished coroutine: a programming error */
	current = co;
	start_switch(co, true, false);
	/* Switches save and restore registers only (sigsetjmp with savemask 0, as QEMU's ucontext
	 * coroutines do): swapcontext also sets the signal mask, a system call per switch (about
	 * five per write request), for a mask nothing here changes. ucontext is used once, to enter
	 * the new stack. */
	if (sigsetjmp(co->caller, 0) == 0) {
		if (co->started)
			siglongjmp(co->self, 1);
		co->started = true;
		setcontext(&co->ctx);
		abort();
	}
	finish_switch(co, false);
	current = NULL;
	return co->done;
}

void coro_park(void (*submit)(void *), void *arg)
{
	struct coro *co = current;
	if (!co)
		abort();
	co->submit = submit;
	co->submit_arg = arg;
	start_switch(co, false, false);
	if (sigsetjmp(co->self, 0) == 0)
		siglongjmp(co->caller, 1);
	finish_switch(co, true);
}

void coro_submit(struct coro *co)
{
	void (*submit)(void *) = co->submit;
	co->submit = NULL;
	if (!submit)
		abort();
	submit(co->submit_arg);
}

void coro_wake(struct coro *co)
{
	co->waker(co->waker_arg);
}

bool coro_owner_serves_others(void)
{
	return !owner_blocks;
}

void coro_owner_blocks(bool on)
{
	owner_blocks = on;
}

struct coro *coro_current(void)
{
	return current;
}

void coro_free(struct coro *co)
{
	if (!co)
		return;
	if (!co->done)
		abort(); /* its stack is still in use */
	atomic_fetch_sub(&live, 1);
	pthread_mutex_lock(&pool_mu);
	if (pool_len < CORO_POOL_MAX) {
		pool[pool_len++] = co;
		co = NULL;
	}
	pthread_mutex_unlock(&pool_mu);
	if (co) {
		stack_put(co->map, co->map_len);
		free(co);
	}
}

int coro_live(void)
{
	return atomic_load(&live);
}

int coro_pooled(void)
{
	pthread_mutex_lock(&pool_mu);
	int n = (int)pool_len;
	pthread_mutex_unlock(&pool_mu);
	return n;
}
