/*
 * Coroutines for the asynchronous write path (http/server.c): a request's handler runs on a
 * stack of its own, so when it reaches its durable write (store_write) it can park there and give
 * the epoll thread back, instead of holding a worker thread asleep until the group's fsync. The
 * write's completion wakes it; the thread that owns it resumes it where it stopped.
 *
 * A coroutine enters its stack once through glibc's ucontext (makecontext, setcontext); every
 * later switch is sigsetjmp/siglongjmp without the signal mask, which stays the thread's. A
 * finished coroutine stays parked on its stack and is handed out again by coro_new, so only a
 * new stack pays ucontext's signal-mask system calls.
 * Under AddressSanitizer each switch is announced (__sanitizer_start/finish_switch_fiber) so ASan
 * follows the stacks. Stacks are mmap'ed with a
 * guard page below them (an overflow faults instead of corrupting), excluded from core dumps
 * (request data passes through them), and kept with their coroutines in a bounded pool.
 *
 * A coroutine is resumed only by one thread at a time, and never from inside another coroutine.
 */
#ifndef TENDER_CORE_CORO_H
#define TENDER_CORE_CORO_H

#include <stdbool.h>
#include <stddef.h>

struct coro;

/* Live coroutines at most (stacks are virtual memory; a page or a few of each is touched). */
#define CORO_LIVE_MAX 8192
#define CORO_STACK_SIZE (256u * 1024u)
/* Finished coroutines kept for reuse at most, each with its stack: mmap and munmap cost a system
 * call and page faults each, and entering a new stack through ucontext two more (getcontext and
 * setcontext each set the signal mask). */
#define CORO_POOL_MAX 256

/* A coroutine that will run fn(arg) when first resumed. waker(waker_arg) is how coro_wake() gets
 * it resumed: it must arrange for the owner to call coro_resume() (on its own thread). NULL when
 * CORO_LIVE_MAX are live or memory is short: the caller runs fn some other way. */
struct coro *coro_new(void (*fn)(void *), void *arg, void (*waker)(void *), void *waker_arg);

/* Runs co until fn returns (true) or it parks (false). */
bool coro_resume(struct coro *co);

/* Inside a coroutine: parks it. Once its owner has seen coro_resume() return false and is ready to
 * be woken, it calls coro_submit(), which runs submit(arg): that starts whatever ends with
 * coro_wake(co). Returns when the owner resumes the coroutine. */
void coro_park(void (*submit)(void *), void *arg);

/* The owner's side of a park (see coro_park); exactly once per park. */
void coro_submit(struct coro *co);

/* Any thread: the parked operation is complete; calls the coroutine's waker. */
void coro_wake(struct coro *co);

/* Whether a coroutine parked now may wait for other work of its owner's thread (e.g. another
 * coroutine the thread will resume later): true, unless the owner has said it blocks the thread
 * until each park's wake (coro_owner_blocks), as http/server.c does to finish a request whose
 * client left. A park that such an owner cannot complete would never be woken. */
bool coro_owner_serves_others(void);
/* The owner's side: while on, this thread waits out each park of the coroutine it resumes. */
void coro_owner_blocks(bool on);

/* The coroutine this thread is running, or NULL. */
struct coro *coro_current(void);

/* Frees a coroutine whose fn has returned: up to a bound, it is kept, parked on its own stack,
 * for coro_new to hand out again. */
void coro_free(struct coro *co);

/* Live coroutines now, and finished ones kept for reuse (tests and statistics). */
int coro_live(void);
int coro_pooled(void);

#endif
