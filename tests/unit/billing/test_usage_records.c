#include <criterion/criterion.h>
#include <stdint.h>

#include "billing/usage_records.h"

/* records (ts, quantity, set) in timestamp order; the period starts at 100 */
static const struct {
	int64_t ts, q;
	bool set;
} recs[] = {
    {50, 40, false}, /* before the period: only last_ever sees it */
    {100, 3, false}, /* ts 100: 3 + 4 = 7 */
    {100, 4, false}, /* */
    {120, 9, false}, /* ts 120: 9, then set to 2 */
    {120, 2, true},  /* */
    {150, 5, false}, /* ts 150: 5 */
};

static int64_t total(enum usage_aggregate a, int n)
{
	struct usage_total u;
	usage_total_init(&u, a, 100);
	for (int i = 0; i < n; i++)
		usage_total_add(&u, recs[i].ts, recs[i].q, recs[i].set);
	int64_t v = -1;
	cr_assert_eq(usage_total_value(&u, &v), 0);
	return v;
}

Test(usage_records, aggregations)
{
	cr_assert_eq(total(USAGE_SUM, 6), 7 + 2 + 5);
	cr_assert_eq(total(USAGE_MAX, 6), 7);
	cr_assert_eq(total(USAGE_LAST_DURING_PERIOD, 6), 5);
	cr_assert_eq(total(USAGE_LAST_EVER, 6), 5);
}

/* a set replaces what its timestamp had, whatever came before it there */
Test(usage_records, set_overwrites_its_timestamp)
{
	cr_assert_eq(total(USAGE_SUM, 5), 7 + 2);
	cr_assert_eq(total(USAGE_LAST_DURING_PERIOD, 5), 2);
	cr_assert_eq(total(USAGE_MAX, 5), 7);
}

/* nothing in the period: 0, except last_ever, which carries the last usage ever */
Test(usage_records, empty_period)
{
	cr_assert_eq(total(USAGE_SUM, 1), 0);
	cr_assert_eq(total(USAGE_MAX, 1), 0);
	cr_assert_eq(total(USAGE_LAST_DURING_PERIOD, 1), 0);
	cr_assert_eq(total(USAGE_LAST_EVER, 1), 40);
	cr_assert_eq(total(USAGE_LAST_EVER, 0), 0);
}

Test(usage_records, overflow_is_refused)
{
	struct usage_total u;
	usage_total_init(&u, USAGE_SUM, 0);
	usage_total_add(&u, 1, INT64_MAX, false);
	usage_total_add(&u, 2, 1, false);
	int64_t v;
	cr_assert_eq(usage_total_value(&u, &v), -1);
}

Test(usage_records, names)
{
	enum usage_aggregate a;
	cr_assert_eq(usage_aggregate_parse(NULL, &a), 0);
	cr_assert_eq(a, USAGE_SUM);
	cr_assert_eq(usage_aggregate_parse("last_ever", &a), 0);
	cr_assert_str_eq(usage_aggregate_name(a), "last_ever");
	cr_assert_eq(usage_aggregate_parse("count", &a), -1);
}
