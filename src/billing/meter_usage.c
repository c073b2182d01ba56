#include "billing/meter_usage.h"

#include <string.h>

int meter_formula_parse(const char *s, enum meter_formula *ret)
{
	if (!s)
		return -1;
	if (strcmp(s, "sum") == 0)
		*ret = METER_SUM;
	else if (strcmp(s, "count") == 0)
		*ret = METER_COUNT;
	else if (strcmp(s, "last") == 0)
		*ret = METER_LAST;
	else
		return -1;
	return 0;
}

const char *meter_formula_name(enum meter_formula f)
{
	switch (f) {
	case METER_COUNT:
		return "count";
	case METER_LAST:
		return "last";
	case METER_SUM:
		break;
	}
	return "sum";
}

void meter_usage_init(struct meter_usage *u, enum meter_formula f)
{
	memset(u, 0, sizeof(*u));
	u->formula = f;
}

void meter_usage_add(struct meter_usage *u, int64_t value)
{
	u->events++;
	u->last = value;
	int64_t sum;
	if (u->overflow)
		return;
	if (__builtin_add_overflow(u->sum, value, &sum))
		u->overflow = true; /* the sum stays where it was: the caller refuses it */
	else
		u->sum = sum;
}

int64_t meter_usage_value(const struct meter_usage *u)
{
	switch (u->formula) {
	case METER_COUNT:
		return u->events;
	case METER_LAST:
		return u->events ? u->last : 0;
	case METER_SUM:
		break;
	}
	return u->sum;
}

int64_t meter_usage_quantity(const struct meter_usage *u)
{
	int64_t v = meter_usage_value(u);
	return v < 0 ? 0 : v;
}

int meter_value_parse(const char *s, int64_t *ret)
{
	if (!s || !*s)
		return -1;
	const char *p = s;
	bool neg = *p == '-';
	if (neg)
		p++;
	if (!*p || strlen(p) > 16)
		return -1;
	int64_t v = 0;
	for (; *p; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		v = v * 10 + (*p - '0'); /* at most 16 digits: no overflow */
	}
	if (v > METER_VALUE_MAX)
		return -1;
	*ret = neg ? -v : v;
	return 0;
}
