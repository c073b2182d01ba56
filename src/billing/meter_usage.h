/*
 * A billing meter's aggregation (Stripe's default_aggregation.formula) over the meter events of
 * one customer in one time window: `sum` of their values, `count` of them, or the value of the
 * `last` one. Events are added in the order of their timestamps (ties: the order they were
 * recorded), so `last` is the value of the one added last.
 *
 * Values are whole numbers (Stripe's meter events take only those), kept as int64 and summed
 * with an overflow check: a sum past int64 sets `overflow` and stops moving.
 */
#ifndef TENDER_BILLING_METER_USAGE_H
#define TENDER_BILLING_METER_USAGE_H

#include <stdbool.h>
#include <stdint.h>

enum meter_formula { METER_SUM, METER_COUNT, METER_LAST };

struct meter_usage {
	enum meter_formula formula;
	int64_t events; /* how many were added */
	int64_t sum;
	int64_t last;
	bool overflow;
};

/* "sum" / "count" / "last" into *ret: 0, or -1 for another name. */
int meter_formula_parse(const char *s, enum meter_formula *ret);
const char *meter_formula_name(enum meter_formula f);

void meter_usage_init(struct meter_usage *u, enum meter_formula f);
void meter_usage_add(struct meter_usage *u, int64_t value);
/* The aggregated value: the sum, the count, or the last value (0 when no event was added). */
int64_t meter_usage_value(const struct meter_usage *u);

/* A meter event's value as Stripe takes it: a whole number in base 10, optionally negative,
 * at most METER_VALUE_MAX in magnitude. 0, or -1. */
#define METER_VALUE_MAX INT64_C(1000000000000000)
int meter_value_parse(const char *s, int64_t *ret);

/* The quantity an invoice bills for a period's usage: Stripe bills a negative total as 0. */
int64_t meter_usage_quantity(const struct meter_usage *u);

#endif
