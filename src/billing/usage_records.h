/*
 * Legacy metered billing: a subscription item's usage records aggregated over a period, as
 * Stripe's price recurring[aggregate_usage] says (API 2023-08-16):
 *  - sum (the default): the usage of every timestamp in the period added up;
 *  - last_during_period: the usage at the latest timestamp in the period (0 without one);
 *  - last_ever: the usage at the latest timestamp before the period's end, whenever it was
 *    (the caller feeds records from the item's beginning);
 *  - max: the largest usage of a timestamp in the period.
 * "The usage at a timestamp" is what its records make of it in the order they were written:
 * `increment` adds its quantity, `set` replaces what the timestamp had. Records are added in
 * the order of their timestamps, ties in the order they were written.
 *
 * Quantities are whole numbers ≥ 0 (int64); a sum past int64 sets `overflow` and stops moving.
 */
#ifndef TENDER_BILLING_USAGE_RECORDS_H
#define TENDER_BILLING_USAGE_RECORDS_H

#include <stdbool.h>
#include <stdint.h>

enum usage_aggregate {
	USAGE_SUM,
	USAGE_LAST_DURING_PERIOD,
	USAGE_LAST_EVER,
	USAGE_MAX,
};

/* "sum" / "last_during_period" / "last_ever" / "max" into *ret: 0, or -1 for another name
 * (NULL reads as sum, Stripe's default). */
int usage_aggregate_parse(const char *s, enum usage_aggregate *ret);
const char *usage_aggregate_name(enum usage_aggregate a);

struct usage_total {
	enum usage_aggregate agg;
	int64_t start;	  /* records before it count only for last_ever */
	bool has_ts;	  /* a timestamp is being added up (cur is its usage) */
	int64_t ts, cur;  /* the latest timestamp and its usage so far */
	int64_t sum, max; /* over the timestamps before ts, from start on */
	bool overflow;
};

/* Usage over [start, …): records given before start are only the last_ever value's. */
void usage_total_init(struct usage_total *u, enum usage_aggregate agg, int64_t start);
/* One record: its timestamp, quantity (≥ 0) and whether it is a `set`. */
void usage_total_add(struct usage_total *u, int64_t ts, int64_t quantity, bool set);
/* The aggregated usage into *ret (0 when nothing counts): 0, or -1 when it does not fit int64. */
int usage_total_value(const struct usage_total *u, int64_t *ret);

#endif
