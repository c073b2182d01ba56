/*
 * risk/batch.h: requests' coroutines that ask for a score in the same turn of their thread are
 * scored in one prediction, each gets the probability it gets alone, and the batch never waits
 * on an owner that cannot serve it. The owner here is a small event loop like the HTTP thread's:
 * a wake queues the coroutine, and a turn resumes what the previous turns queued.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "core/coro.h"
#include "risk/batch.h"
#include "risk/synth.h"

#define N 5

struct req {
	struct coro *co;
	float row[RISK_FEATURE_COUNT];
	double p;
	int rc;
	int parks; /* times its coroutine gave the thread back */
};

static struct req *woken[64];
static int nwoken;

static void waker(void *arg)
{
	woken[nwoken++] = arg;
}

static struct risk_model *model;

static void handler(void *arg)
{
	struct req *q = arg;
	q->rc = risk_score_batched(model, q->row, &q->p);
}

/* Runs one request's coroutine until it parks or ends; submits its park. */
static bool run(struct req *q)
{
	bool done = coro_resume(q->co);
	if (!done) {
		q->parks++;
		coro_submit(q->co);
	}
	return done;
}

static void setup(struct req *q, int n, double *alone)
{
	char err[512] = "";
	cr_assert_eq(risk_model_load_bundled(&model, err, sizeof(err)), 0, "%s", err);
	struct risk_rng r;
	risk_rng_seed(&r, 5);
	for (int i = 0; i < n; i++) {
		risk_synth_vector(&r, q[i].row);
		cr_assert_eq(risk_model_score_vector(model, q[i].row, &alone[i]), 0);
		q[i].co = coro_new(handler, &q[i], waker, &q[i]);
		cr_assert_not_null(q[i].co);
	}
}

Test(risk_batch, requests_of_one_turn_are_scored_together)
{
	struct req q[N];
	memset(q, 0, sizeof(q));
	double alone[N];
	setup(q, N, alone);
	nwoken = 0;
	/* turn 1: every request reaches its score and parks; only the first has been woken */
	for (int i = 0; i < N; i++)
		cr_assert(!run(&q[i]));
	cr_assert_eq(nwoken, 1);
	cr_assert_eq(woken[0], &q[0]);
	/* turn 2: the first scores all five and wakes the others; it ends */
	nwoken = 0;
	cr_assert(run(&q[0]));
	cr_assert_eq(nwoken, N - 1);
	/* turn 3: the others end with their probabilities, no further park */
	for (int i = 0; i < nwoken; i++)
		cr_assert(run(woken[i]));
	for (int i = 0; i < N; i++) {
		cr_assert_eq(q[i].rc, 0);
		cr_assert_eq(q[i].p, alone[i], "request %d", i);
		cr_assert_eq(q[i].parks, 1);
		coro_free(q[i].co);
	}
	/* a later turn starts a batch of its own */
	struct req late;
	memset(&late, 0, sizeof(late));
	memcpy(late.row, q[2].row, sizeof(late.row));
	late.co = coro_new(handler, &late, waker, &late);
	nwoken = 0;
	cr_assert(!run(&late));
	cr_assert_eq(nwoken, 1);
	cr_assert(run(&late));
	cr_assert_eq(late.p, alone[2]);
	coro_free(late.co);
	risk_model_free(model);
}

/* An owner that blocks its thread until each park's wake (http/server.c finishing a request
 * whose client left) cannot resume a batch's first request: the score is taken at once. Outside
 * a coroutine too. */
Test(risk_batch, an_owner_that_blocks_gets_its_score_at_once)
{
	struct req q[1];
	memset(q, 0, sizeof(q));
	double alone[1];
	setup(q, 1, alone);
	nwoken = 0;
	coro_owner_blocks(true);
	cr_assert(run(&q[0]));
	coro_owner_blocks(false);
	cr_assert_eq(q[0].parks, 0);
	cr_assert_eq(nwoken, 0);
	cr_assert_eq(q[0].p, alone[0]);
	coro_free(q[0].co);
	double p = -1;
	cr_assert_eq(risk_score_batched(model, q[0].row, &p), 0);
	cr_assert_eq(p, alone[0]);
	risk_model_free(model);
}
