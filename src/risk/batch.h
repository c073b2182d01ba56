/*
 * Scoring in batches (issue 10). XGBoost's in-place prediction parses its two JSON arguments on
 * every call: one row costs ~22 µs, four rows at once ~7 µs each, eight ~4 µs each (`tender
 * fraud bench`-style loop, this build). Requests that reach their fraud score on the same HTTP
 * thread in the same turn of its event loop are scored together:
 *
 * The first one to ask parks its coroutine and has itself woken at once (so the thread resumes
 * it on its next turn, after the connections already ready in this one); each request the
 * thread runs meanwhile that asks too adds its row and parks. Resumed, the first one scores
 * every row in one prediction, hands each its probability and wakes them.
 *
 * Outside a coroutine (worker threads, the CLI, tests), when the owner cannot serve other work
 * while a coroutine is parked (coro_owner_serves_others), or when the batch is full, the row is
 * scored on its own, at once. The batch is per thread: a coroutine is only ever resumed by the
 * thread that owns it.
 */
#ifndef TENDER_RISK_BATCH_H
#define TENDER_RISK_BATCH_H

#include "risk/model.h"

/* Fraud probability of one row of RISK_FEATURE_COUNT floats (copied into the batch), scored
 * with the other rows of this thread's current batch. 0 or a negative code. */
int risk_score_batched(struct risk_model *m, const float *row, double *ret_probability);

#endif
