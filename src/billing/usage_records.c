#include "billing/usage_records.h"

#include <string.h>

int usage_aggregate_parse(const char *s, enum usage_aggregate *ret)
{
	if (!s || strcmp(s, "sum") == 0)
		*ret = USAGE_SUM;
	else if (strcmp(s, "last_during_period") == 0)
		*ret = USAGE_LAST_DURING_PERIOD;
	else if (strcmp(s, "last_ever") == 0)
		*ret = USAGE_LAST_EVER;
	else if (strcmp(s, "max") == 0)
		*ret = USAGE_MAX;
	else
		return -1;
	return 0;
}

const char *usage_aggregate_name(enum usage_aggregate a)
{
	switch (a) {
	case USAGE_LAST_DURING_PERIOD:
		return "last_during_period";
	case USAGE_LAST_EVER:
		return "last_ever";
	case USAGE_MAX:
		return "max";
	case USAGE_SUM:
		break;
	}
	return "sum";
}

void usage_total_init(struct usage_total *u, enum usage_aggregate agg, int64_t start)
{
	memset(u, 0, sizeof(*u));
	u->agg = agg;
	u->start = start;
}

/* The timestamp being added up is complete: into the sum and the max (when it is in the
 * period). */
static void usage_total_close(struct usage_total *u)
{
	if (!u->has_ts || u->ts < u->start)
		return;
	if (u->cur > u->max)
		u->max = u->cur;
	if (!u->overflow && __builtin_add_overflow(u->sum, u->cur, &u->sum))
		u->overflow = true;
}

void usage_total_add(struct usage_total *u, int64_t ts, int64_t quantity, bool set)
{
	if (!u->has_ts || ts != u->ts) {
		usage_total_close(u);
		u->has_ts = true;
		u->ts = ts;
		u->cur = 0;
	}
	if (set)
		u->cur = quantity;
	else if (!u->overflow && __builtin_add_overflow(u->cur, quantity, &u->cur))
		u->overflow = true;
}

int usage_total_value(const struct usage_total *u, int64_t *ret)
{
	if (u->overflow)
		return -1;
	bool in = u->has_ts && u->ts >= u->start; /* the latest timestamp is in the period */
	switch (u->agg) {
	case USAGE_LAST_EVER:
		*ret = u->has_ts ? u->cur : 0;
		return 0;
	case USAGE_LAST_DURING_PERIOD:
		*ret = in ? u->cur : 0;
		return 0;
	case USAGE_MAX:
		*ret = in && u->cur > u->max ? u->cur : u->max;
		return 0;
	case USAGE_SUM:
		break;
	}
	if (!in) {
		*ret = u->sum;
		return 0;
	}
	return __builtin_add_overflow(u->sum, u->cur, ret) ? -1 : 0;
}
