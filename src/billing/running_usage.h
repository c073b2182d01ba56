/*
 * A running aggregate of one customer's meter events, kept so that a billing alert
 * (api/billing_alerts.c) adds each new event to it instead of re-reading every event since the
 * alert was made. It answers exactly what meter_usage gives for the same events added in their
 * order (timestamp, then recording time, then identifier):
 *  - count: the events taken;
 *  - last: the value of the greatest (ts, created, identifier), so a backdated event does not
 *    replace a newer one and ties fall as meter_usage's ORDER BY has them (identifiers compare
 *    bytewise: SQLite's BINARY, and Tender's PostgreSQL databases are collated "C");
 *  - sum: kept as the sum of the positive values and the sum of the negative ones, each with an
 *    overflow check. While neither overflows, every partial sum in any order lies between them,
 *    so meter_usage (which stops at the first partial sum past int64) cannot overflow either and
 *    the sum is theirs exactly. Once one overflows, `inexact` is set for good and the caller
 *    goes back to re-summing the events, which is then the only way to know what meter_usage
 *    says (such a total needs thousands of events near the largest value a meter takes).
 */
#ifndef TENDER_BILLING_RUNNING_USAGE_H
#define TENDER_BILLING_RUNNING_USAGE_H

#include <stdbool.h>
#include <stdint.h>

#include "billing/meter_usage.h"

/* a meter event's identifier: Stripe's 100 characters (or one Tender made), and its NUL */
#define RUNNING_USAGE_ID_MAX 128

/* The order meter_usage adds events in: (ts, created, identifier). */
struct usage_key {
	int64_t ts, created;
	char identifier[RUNNING_USAGE_ID_MAX];
};

struct running_usage {
	int64_t events;
	int64_t pos, neg; /* the sums of the positive and of the negative values */
	bool inexact;	  /* pos or neg went past int64: re-sum the events instead */
	bool has_last;	  /* the last event is known (false when there is none) */
	int64_t last;
	struct usage_key last_key;
};

/* <0, 0, >0 as a comes before, with, or after b in meter_usage's order. */
int usage_key_cmp(const struct usage_key *a, const struct usage_key *b);
void usage_key_set(struct usage_key *k, int64_t ts, int64_t created, const char *identifier);

void running_usage_init(struct running_usage *t);
void running_usage_add(struct running_usage *t, int64_t value, const struct usage_key *k);
/* Takes back an event that was added. Returns true when it was the last one and another
 * event (if any is left) must be found to be the last: the caller then calls
 * running_usage_set_last, or leaves has_last false when none is left. */
bool running_usage_remove(struct running_usage *t, int64_t value, const struct usage_key *k);
void running_usage_set_last(struct running_usage *t, int64_t value, const struct usage_key *k);
/* The aggregated value under f into *ret, as meter_usage_value would give it: 0, or -1 when
 * there is none to give here (inexact: re-sum; or no event at all). */
int running_usage_value(const struct running_usage *t, enum meter_formula f, int64_t *ret);

#endif
