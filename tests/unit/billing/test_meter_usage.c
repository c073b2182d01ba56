#include <criterion/criterion.h>
#include <stdint.h>

#include "billing/meter_usage.h"

Test(meter_usage, formulas)
{
	struct meter_usage s, c, l;
	meter_usage_init(&s, METER_SUM);
	meter_usage_init(&c, METER_COUNT);
	meter_usage_init(&l, METER_LAST);
	const int64_t vals[] = {25, 5, -3, 10};
	for (int i = 0; i < 4; i++) {
		meter_usage_add(&s, vals[i]);
		meter_usage_add(&c, vals[i]);
		meter_usage_add(&l, vals[i]);
	}
	cr_assert_eq(meter_usage_value(&s), 37);
	cr_assert_eq(meter_usage_value(&c), 4);
	cr_assert_eq(meter_usage_value(&l), 10);
}

Test(meter_usage, empty_is_zero)
{
	struct meter_usage u;
	meter_usage_init(&u, METER_LAST);
	cr_assert_eq(meter_usage_value(&u), 0);
	cr_assert_eq(meter_usage_quantity(&u), 0);
}

/* Stripe bills a period whose usage adds up to less than zero as a quantity of 0 */
Test(meter_usage, negative_total_bills_zero)
{
	struct meter_usage u;
	meter_usage_init(&u, METER_SUM);
	meter_usage_add(&u, 4);
	meter_usage_add(&u, -9);
	cr_assert_eq(meter_usage_value(&u), -5);
	cr_assert_eq(meter_usage_quantity(&u), 0);
}

Test(meter_usage, sum_overflow_is_flagged)
{
	struct meter_usage u;
	meter_usage_init(&u, METER_SUM);
	for (int i = 0; i < 9300; i++)
		meter_usage_add(&u, METER_VALUE_MAX);
	cr_assert(u.overflow);
	struct meter_usage ok;
	meter_usage_init(&ok, METER_SUM);
	for (int i = 0; i < 9000; i++)
		meter_usage_add(&ok, METER_VALUE_MAX);
	cr_assert_not(ok.overflow);
	cr_assert_eq(meter_usage_value(&ok), INT64_C(9000) * METER_VALUE_MAX);
}

Test(meter_usage, values_are_whole_numbers)
{
	int64_t v = 0;
	cr_assert_eq(meter_value_parse("25", &v), 0);
	cr_assert_eq(v, 25);
	cr_assert_eq(meter_value_parse("-7", &v), 0);
	cr_assert_eq(v, -7);
	cr_assert_eq(meter_value_parse("1000000000000000", &v), 0);
	cr_assert_eq(meter_value_parse("1000000000000001", &v), -1);
	cr_assert_eq(meter_value_parse("99999999999999999999", &v), -1);
	cr_assert_eq(meter_value_parse("2.5", &v), -1);
	cr_assert_eq(meter_value_parse("", &v), -1);
	cr_assert_eq(meter_value_parse("-", &v), -1);
	cr_assert_eq(meter_value_parse("1e3", &v), -1);
	cr_assert_eq(meter_value_parse(" 3", &v), -1);
}

Test(meter_usage, formula_names)
{
	enum meter_formula f;
	cr_assert_eq(meter_formula_parse("count", &f), 0);
	cr_assert_eq(f, METER_COUNT);
	cr_assert_str_eq(meter_formula_name(f), "count");
	cr_assert_eq(meter_formula_parse("max", &f), -1);
}
