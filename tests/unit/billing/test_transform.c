#include <criterion/criterion.h>
#include <stdint.h>

#include "billing/transform.h"

static int64_t billed(int64_t divide_by, bool up, int64_t q)
{
	struct qty_transform t = {divide_by, up};
	int64_t v = -1;
	cr_assert_eq(qty_transform_apply(&t, q, &v), 0, "quantity %lld / %lld", (long long)q,
		     (long long)divide_by);
	return v;
}

Test(transform, none_bills_the_quantity_itself)
{
	int64_t v = -1;
	cr_assert_eq(qty_transform_apply(NULL, 25, &v), 0);
	cr_assert_eq(v, 25);
	struct qty_transform unset = {0, true};
	cr_assert_eq(qty_transform_apply(&unset, 7, &v), 0);
	cr_assert_eq(v, 7);
}

Test(transform, divide_by_one_changes_nothing)
{
	cr_assert_eq(billed(1, true, 25), 25);
	cr_assert_eq(billed(1, false, 25), 25);
	cr_assert_eq(billed(1, true, INT64_MAX), INT64_MAX);
}

Test(transform, exact_multiple_is_the_same_either_way)
{
	cr_assert_eq(billed(10, true, 30), 3);
	cr_assert_eq(billed(10, false, 30), 3);
}

Test(transform, rounds_up_or_down)
{
	/* Stripe's "sold in packs of 10" */
	cr_assert_eq(billed(10, true, 25), 3);
	cr_assert_eq(billed(10, false, 25), 2);
	cr_assert_eq(billed(5, true, 6), 2);
	cr_assert_eq(billed(5, false, 6), 1);
	cr_assert_eq(billed(5, true, 1), 1);
	cr_assert_eq(billed(5, false, 4), 0);
}

Test(transform, quantity_zero_bills_nothing)
{
	cr_assert_eq(billed(10, true, 0), 0);
	cr_assert_eq(billed(10, false, 0), 0);
}

Test(transform, huge_values_do_not_overflow)
{
	cr_assert_eq(billed(2, true, INT64_MAX), INT64_MAX / 2 + 1);
	cr_assert_eq(billed(2, false, INT64_MAX), INT64_MAX / 2);
	cr_assert_eq(billed(INT64_MAX, true, 1), 1);
	cr_assert_eq(billed(INT64_MAX, false, INT64_MAX - 1), 0);
	cr_assert_eq(billed(INT64_MAX, true, INT64_MAX), 1);
}

Test(transform, refuses_bad_input)
{
	int64_t v = 42;
	struct qty_transform t = {10, true};
	cr_assert_eq(qty_transform_apply(&t, -1, &v), -1);
	struct qty_transform neg = {-3, false};
	cr_assert_eq(qty_transform_apply(&neg, 5, &v), -1);
	cr_assert_eq(v, 42);
}
