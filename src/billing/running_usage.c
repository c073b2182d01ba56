#include "billing/running_usage.h"

#include <string.h>

#include "core/str.h"

int usage_key_cmp(const struct usage_key *a, const struct usage_key *b)
{
	if (a->ts != b->ts)
		return a->ts < b->ts ? -1 : 1;
	if (a->created != b->created)
		return a->created < b->created ? -1 : 1;
	return strcmp(a->identifier, b->identifier);
}

void usage_key_set(struct usage_key *k, int64_t ts, int64_t created, const char *identifier)
{
	k->ts = ts;
	k->created = created;
	str_copy(k->identifier, sizeof(k->identifier), identifier ? identifier : "");
}

void running_usage_init(struct running_usage *t)
{
	memset(t, 0, sizeof(*t));
}

void running_usage_add(struct running_usage *t, int64_t value, const struct usage_key *k)
{
	t->events++;
	if (!t->has_last || usage_key_cmp(k, &t->last_key) > 0) {
		t->has_last = true;
		t->last = value;
		t->last_key = *k;
	}
	if (t->inexact)
		return;
	int64_t *side = value >= 0 ? &t->pos : &t->neg, v;
	if (__builtin_add_overflow(*side, value, &v))
		t->inexact = true; /* for good: what it held is no longer known */
	else
		*side = v;
}

bool running_usage_remove(struct running_usage *t, int64_t value, const struct usage_key *k)
{
	if (t->events > 0)
		t->events--;
	/* pos and neg held this value: taking it back cannot overflow */
	if (!t->inexact) {
		if (value >= 0)
			t->pos -= value;
		else
			t->neg -= value;
	}
	if (!t->has_last || usage_key_cmp(k, &t->last_key) != 0)
		return false;
	t->has_last = false;
	return t->events > 0;
}

void running_usage_set_last(struct running_usage *t, int64_t value, const struct usage_key *k)
{
	t->has_last = true;
	t->last = value;
	t->last_key = *k;
}

int running_usage_value(const struct running_usage *t, enum meter_formula f, int64_t *ret)
{
	if (t->inexact || t->events == 0)
		return -1;
	switch (f) {
	case METER_COUNT:
		*ret = t->events;
		return 0;
	case METER_LAST:
		if (!t->has_last)
			return -1;
		*ret = t->last;
		return 0;
	case METER_SUM:
		break;
	}
	*ret = t->pos + t->neg; /* pos >= 0 >= neg: no overflow */
	return 0;
}
