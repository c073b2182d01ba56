/*
 * quote_discount_lines: what a quote's coupons take off its lines, in order, each on what the
 * previous left; percentages per line (halves up), amounts off spread in proportion (odd units
 * to the largest remainders), only lines of products a coupon applies to, never below zero;
 * bad input refused with nothing written.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "api/billing_internal.h"

static struct coupon percent(int64_t e4)
{
	struct coupon c;
	memset(&c, 0, sizeof(c));
	c.percent_e4 = e4;
	c.duration = "once";
	return c;
}

static struct coupon amount_off(int64_t a)
{
	struct coupon c;
	memset(&c, 0, sizeof(c));
	c.amount_off = a;
	c.duration = "forever";
	return c;
}

Test(quotes, percent_per_line_rounded_half_up)
{
	int64_t amounts[] = {3000, 250, 5};
	const char *products[] = {"prod_a", "prod_a", "prod_a"};
	struct coupon c = percent(100000); /* 10 % */
	int64_t d[3], total;
	cr_assert_eq(quote_discount_lines(amounts, products, 3, &c, 1, d, &total), 0);
	cr_assert_eq(d[0], 300);
	cr_assert_eq(d[1], 25);
	cr_assert_eq(d[2], 1); /* 0.5 rounds up */
	cr_assert_eq(total, 326);
}

Test(quotes, amount_off_spread_in_proportion)
{
	int64_t amounts[] = {4000, 300};
	const char *products[] = {NULL, NULL};
	struct coupon c = amount_off(500);
	int64_t d[2], total;
	cr_assert_eq(quote_discount_lines(amounts, products, 2, &c, 1, d, &total), 0);
	cr_assert_eq(d[0], 465);
	cr_assert_eq(d[1], 35);
	cr_assert_eq(total, 500);
}

Test(quotes, coupons_in_order_on_what_is_left_never_below_zero)
{
	int64_t amounts[] = {1000};
	const char *products[] = {"prod_a"};
	struct coupon cs[2] = {amount_off(900), percent(500000)}; /* 900 off, then 50 % of 100 */
	int64_t d[1], total;
	cr_assert_eq(quote_discount_lines(amounts, products, 1, cs, 2, d, &total), 0);
	cr_assert_eq(d[0], 950);
	cr_assert_eq(total, 950);
	struct coupon big = amount_off(5000);
	cr_assert_eq(quote_discount_lines(amounts, products, 1, &big, 1, d, &total), 0);
	cr_assert_eq(d[0], 1000);
	cr_assert_eq(total, 1000);
}

Test(quotes, applies_to_limits_the_lines)
{
	int64_t amounts[] = {1000, 1000};
	const char *products[] = {"prod_a", "prod_b"};
	struct coupon c = percent(200000); /* 20 % */
	c.applies_to = "[\"prod_b\"]";
	int64_t d[2], total;
	cr_assert_eq(quote_discount_lines(amounts, products, 2, &c, 1, d, &total), 0);
	cr_assert_eq(d[0], 0);
	cr_assert_eq(d[1], 200);
	cr_assert_eq(total, 200);
}

Test(quotes, bad_input_refused_nothing_written)
{
	int64_t amounts[] = {-1};
	const char *products[] = {NULL};
	struct coupon c = percent(100000);
	int64_t d[1] = {77}, total = 77;
	cr_assert_eq(quote_discount_lines(amounts, products, 1, &c, 1, d, &total), -1);
	cr_assert_eq(d[0], 77);
	cr_assert_eq(total, 77);
	int64_t huge[] = {BILLING_AMOUNT_MAX + 1};
	cr_assert_eq(quote_discount_lines(huge, products, 1, &c, 1, d, &total), -1);
	int64_t many[21] = {0};
	const char *np[21] = {0};
	cr_assert_eq(quote_discount_lines(many, np, 21, &c, 1, d, &total), -1);
	cr_assert_eq(total, 77);
}
