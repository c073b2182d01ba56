#include "risk/batch.h"

#include <stdbool.h>
#include <string.h>

#include "core/coro.h"

struct waiter {
	const float *row;
	double p;
	int rc;
	struct coro *co;
};

struct batch {
	struct risk_model *m;
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
 * anyone is woken: a woken coroutine only runs on a later turn of this thread. */
static void flush(void)
{
	struct waiter *w[RISK_MODEL_ROWS_MAX];
	size_t n = tb.n;
	struct risk_model *m = tb.m;
	memcpy(w, tb.w, n * sizeof(w[0]));
	tb.n = 0;
	tb.m = NULL;
	float rows[RISK_MODEL_ROWS_MAX][RISK_FEATURE_COUNT] = {{0}};
	double p[RISK_MODEL_ROWS_MAX];
	for (size_t i = 0; i < n; i++)
		memcpy(rows[i], w[i]->row, sizeof(rows[i]));
	int rc = risk_model_score_rows(m, &rows[0][0], n, p);
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
	struct waiter me = {.row = row, .co = co};
	bool first = tb.n == 0;
	if (first)
		tb.m = m;
	tb.w[tb.n++] = &me;
	coro_park(first ? wake_self : wait_for_first, &me);
	if (first)
		flush();
	if (me.rc == 0)
		*ret_probability = me.p;
	return me.rc;
}
