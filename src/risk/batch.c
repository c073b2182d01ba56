#include "risk/batch.h"

#include <stdbool.h>
#include <string.h>

#include "core/coro.h"

struct waiter {
	double p;
	int rc;
	struct coro *co;
};

/* This thread's batch: each request's row is copied in as it joins, so the prediction reads
 * them where they are. */
struct batch {
	struct risk_model *m;
	float rows[RISK_MODEL_ROWS_MAX][RISK_FEATURE_COUNT];
	struct waiter *w[RISK_MODEL_ROWS_MAX];
	size_t n;
};

static _Thread_local struct batch tb;

/* The first waiter's park: woken at once, so the thread resumes it after what is ready now. */
static void wake_self(void *arg)
{
	struct waiter *me = arg;
	coro_wake(me->co);
}

/* The others' park: the first one wakes them once it has scored them. */
static void wait_for_first(void *arg)
{
	(void)arg;
}

/* Scores the batch (waiter 0 is the caller) and wakes the rest. The batch is emptied before
 * anyone is woken; a woken coroutine runs only once the caller has given its thread back (the
 * HTTP server runs it right then, in the same turn: src/http/server.c, run_ready). */
static void flush(void)
{
	size_t n = tb.n;
	struct waiter *w[RISK_MODEL_ROWS_MAX];
	memcpy(w, tb.w, n * sizeof(w[0]));
	double p[RISK_MODEL_ROWS_MAX];
	int rc = risk_model_score_rows(tb.m, &tb.rows[0][0], n, p);
	tb.n = 0;
	tb.m = NULL;
	for (size_t i = 0; i < n; i++) {
		w[i]->rc = rc;
		w[i]->p = rc == 0 ? p[i] : 0.0;
	}
	for (size_t i = 1; i < n; i++)
		coro_wake(w[i]->co);
}

int risk_score_batched(struct risk_model *m, const float *row, double *ret_probability)
{
	struct coro *co = coro_current();
	if (!co || !coro_owner_serves_others() || tb.n == RISK_MODEL_ROWS_MAX ||
	    (tb.n > 0 && tb.m != m))
		return risk_model_score_vector(m, row, ret_probability);
	struct waiter me = {.co = co};
	bool first = tb.n == 0;
	if (first)
		tb.m = m;
	memcpy(tb.rows[tb.n], row, sizeof(tb.rows[0]));
	tb.w[tb.n++] = &me;
	coro_park(first ? wake_self : wait_for_first, &me);
	if (first)
		flush();
	if (me.rc == 0)
		*ret_probability = me.p;
	return me.rc;
}
