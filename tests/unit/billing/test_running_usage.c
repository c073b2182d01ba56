#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "billing/meter_usage.h"
#include "billing/running_usage.h"

/* One meter event: its value and its place in meter_usage's order. */
struct ev {
	int64_t value, ts, created;
	const char *id;
	bool canceled;
};

/* meter_usage's ORDER BY ts, created, identifier, written out apart from usage_key_cmp */
static int ev_cmp(const void *a, const void *b)
{
	const struct ev *x = a, *y = b;
	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	if (x->created != y->created)
		return x->created < y->created ? -1 : 1;
	return strcmp(x->id, y->id);
}

/* What the re-sum gives: the events not canceled, sorted, through meter_usage. has: false
 * where the alert had nothing to compare (no event, or a sum past int64). */
static int64_t resum(const struct ev *evs, size_t n, enum meter_formula f, bool *has)
{
	struct ev sorted[64];
	cr_assert_leq(n, 64);
	memcpy(sorted, evs, n * sizeof(*evs));
	qsort(sorted, n, sizeof(*sorted), ev_cmp);
	struct meter_usage u;
	meter_usage_init(&u, f);
	for (size_t i = 0; i < n; i++)
		if (!sorted[i].canceled)
			meter_usage_add(&u, sorted[i].value);
	*has = !u.overflow && u.events > 0;
	return meter_usage_value(&u);
}

static void add(struct running_usage *t, const struct ev *e)
{
	struct usage_key k;
	usage_key_set(&k, e->ts, e->created, e->id);
	running_usage_add(t, e->value, &k);
}

/* Takes e back as billing_alerts.c does: the new last found among what is left. */
static void cancel(struct running_usage *t, struct ev *evs, size_t n, size_t i)
{
	evs[i].canceled = true;
	struct usage_key k;
	usage_key_set(&k, evs[i].ts, evs[i].created, evs[i].id);
	if (!running_usage_remove(t, evs[i].value, &k))
		return;
	const struct ev *best = NULL;
	for (size_t j = 0; j < n; j++)
		if (!evs[j].canceled && (!best || ev_cmp(&evs[j], best) > 0))
			best = &evs[j];
	cr_assert_not_null(best);
	usage_key_set(&k, best->ts, best->created, best->id);
	running_usage_set_last(t, best->value, &k);
}

static void assert_same(const struct running_usage *t, const struct ev *evs, size_t n)
{
	static const enum meter_formula fs[] = {METER_SUM, METER_COUNT, METER_LAST};
	for (int i = 0; i < 3; i++) {
		bool has;
		int64_t want = resum(evs, n, fs[i], &has), got = 0;
		int rc = running_usage_value(t, fs[i], &got);
		if (t->inexact) { /* the caller sums again: no answer from the total */
			cr_assert_eq(rc, -1);
			continue;
		}
		cr_assert_eq(rc == 0, has, "formula %d after %zu events", i, n);
		if (has)
			cr_assert_eq(got, want, "formula %d after %zu events", i, n);
	}
}

/* last: a backdated event does not replace a newer one; ties fall by created, then identifier */
Test(running_usage, last_by_timestamp_then_recording_then_identifier)
{
	struct ev evs[] = {
	    {7, 1000, 50, "b", false},	{3, 900, 60, "c", false}, /* backdated: not the last */
	    {9, 1000, 50, "a", false}, /* same ts and created, smaller identifier */
	    {4, 1000, 49, "z", false}, /* same ts, recorded earlier */
	    {5, 1000, 50, "bb", false},
	};
	struct running_usage t;
	running_usage_init(&t);
	for (size_t i = 0; i < 5; i++) {
		add(&t, &evs[i]);
		assert_same(&t, evs, i + 1);
	}
	int64_t v = 0;
	cr_assert_eq(running_usage_value(&t, METER_LAST, &v), 0);
	cr_assert_eq(v, 5);
	cr_assert_eq(running_usage_value(&t, METER_SUM, &v), 0);
	cr_assert_eq(v, 28);
	cr_assert_eq(running_usage_value(&t, METER_COUNT, &v), 0);
	cr_assert_eq(v, 5);
}

Test(running_usage, canceled_events_leave_it)
{
	struct ev evs[] = {
	    {10, 100, 1, "a", false},
	    {-4, 300, 2, "b", false},
	    {6, 200, 3, "c", false},
	    {8, 300, 2, "c", false},
	};
	struct running_usage t;
	running_usage_init(&t);
	for (size_t i = 0; i < 4; i++)
		add(&t, &evs[i]);
	assert_same(&t, evs, 4);
	cancel(&t, evs, 4, 3); /* the last: "b" at the same ts becomes it */
	assert_same(&t, evs, 4);
	int64_t v = 0;
	cr_assert_eq(running_usage_value(&t, METER_LAST, &v), 0);
	cr_assert_eq(v, -4);
	cancel(&t, evs, 4, 0); /* not the last */
	assert_same(&t, evs, 4);
	cancel(&t, evs, 4, 1);
	cancel(&t, evs, 4, 2);
	assert_same(&t, evs, 4);
	cr_assert_eq(running_usage_value(&t, METER_SUM, &v), -1); /* nothing left */
	cr_assert_not(t.has_last);
}

/* A sum whose partial sums go past int64 in meter_usage's order (not in the order reported):
 * the total cannot say so, and asks for a re-sum instead of answering differently. */
Test(running_usage, too_large_asks_for_a_resum)
{
	struct running_usage t;
	running_usage_init(&t);
	struct usage_key k;
	int64_t big = INT64_MAX / 2 + 1;
	usage_key_set(&k, 2, 1, "a");
	running_usage_add(&t, big, &k);
	usage_key_set(&k, 3, 1, "b");
	running_usage_add(&t, -big, &k);
	cr_assert_not(t.inexact);
	usage_key_set(&k, 1, 1, "c"); /* backdated: first in meter_usage's order, big + big */
	running_usage_add(&t, big, &k);
	cr_assert(t.inexact);
	int64_t v = 0;
	cr_assert_eq(running_usage_value(&t, METER_SUM, &v), -1);
	cr_assert_eq(running_usage_value(&t, METER_COUNT, &v), -1);
}

/* Pseudo-random reports and cancellations: after each, the total says what the re-sum says. */
Test(running_usage, matches_the_resum)
{
	uint64_t seed = 0x9e3779b97f4a7c15u;
	for (int round = 0; round < 200; round++) {
		struct ev evs[64];
		char ids[64][8];
		size_t n = 0;
		struct running_usage t;
		running_usage_init(&t);
		for (int step = 0; step < 60; step++) {
			seed = seed * 6364136223846793005u + 1442695040888963407u;
			uint32_t x = (uint32_t)(seed >> 33);
			if (n > 0 && x % 5 == 0) {
				size_t i = (x >> 3) % n;
				if (!evs[i].canceled)
					cancel(&t, evs, n, i);
			} else if (n < 64) {
				/* identifiers are unique; their order is not the reports' */
				snprintf(ids[n], sizeof(ids[n]), "%c%zu", 'a' + (x >> 8) % 3, n);
				evs[n] = (struct ev){(int64_t)((x >> 14) % 21) - 5, (x >> 20) % 6,
						     (x >> 24) % 3, ids[n], false};
				add(&t, &evs[n]);
				n++;
			}
			assert_same(&t, evs, n);
		}
	}
}
