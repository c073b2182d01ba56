#include <criterion/criterion.h>
#include <stdint.h>

#include "billing/billing.h"
#include "billing/tax.h"

Test(tax, percent_parse_exact)
{
	int64_t p = -1;
	cr_assert_eq(billing_tax_percent_parse("19.5", &p), 0);
	cr_assert_eq(p, 195000);
	cr_assert_eq(billing_tax_percent_parse("0", &p), 0);
	cr_assert_eq(p, 0);
	cr_assert_eq(billing_tax_percent_parse("100", &p), 0);
	cr_assert_eq(p, 1000000);
	cr_assert_eq(billing_tax_percent_parse("7.0001", &p), 0);
	cr_assert_eq(p, 70001);
	cr_assert_eq(billing_tax_percent_parse("8.25", &p), 0);
	cr_assert_eq(p, 82500);
	const char *bad[] = {"",   "-1", "100.0001", "1.23456", "1e2",
			     " 5", "5.", ".5",	     "abc",	"1000"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(billing_tax_percent_parse(bad[i], &p), -1, "%s", bad[i]);
}

Test(tax, rounding_halves_away_from_zero)
{
	int64_t v;
	/* 25 × 10 % = 2.5 → 3; -25 → -3 */
	cr_assert_eq(billing_mul_div_round(25, 100000, 1000000, &v), 0);
	cr_assert_eq(v, 3);
	cr_assert_eq(billing_mul_div_round(-25, 100000, 1000000, &v), 0);
	cr_assert_eq(v, -3);
	/* 24 × 10 % = 2.4 → 2; 26 → 2.6 → 3 */
	cr_assert_eq(billing_mul_div_round(24, 100000, 1000000, &v), 0);
	cr_assert_eq(v, 2);
	cr_assert_eq(billing_mul_div_round(26, 100000, 1000000, &v), 0);
	cr_assert_eq(v, 3);
	cr_assert_eq(billing_mul_div_round(1, 1, 0, &v), -1);
	cr_assert_eq(billing_mul_div_round(INT64_MAX, 2, 1, &v), -1);
}

Test(tax, exclusive_adds)
{
	int64_t p[] = {82500}; /* 8.25 % */
	bool inc[] = {false};
	int64_t a[1], net, exc, incl;
	cr_assert_eq(billing_tax_line(1000, p, inc, 1, a, &net, &exc, &incl), 0);
	cr_assert_eq(a[0], 83); /* 82.5 → 83 */
	cr_assert_eq(net, 1000);
	cr_assert_eq(exc, 83);
	cr_assert_eq(incl, 0);
	/* a credit is the exact negative */
	cr_assert_eq(billing_tax_line(-1000, p, inc, 1, a, &net, &exc, &incl), 0);
	cr_assert_eq(a[0], -83);
}

Test(tax, inclusive_split)
{
	int64_t p[] = {200000}; /* 20 % inside 1,200 is 200 */
	bool inc[] = {true};
	int64_t a[1], net, exc, incl;
	cr_assert_eq(billing_tax_line(1200, p, inc, 1, a, &net, &exc, &incl), 0);
	cr_assert_eq(a[0], 200);
	cr_assert_eq(net, 1000);
	cr_assert_eq(exc, 0);
	cr_assert_eq(incl, 200);
	/* 1,000 at 20 % inclusive: 166.67 → 167, net 833 */
	cr_assert_eq(billing_tax_line(1000, p, inc, 1, a, &net, &exc, &incl), 0);
	cr_assert_eq(a[0], 167);
	cr_assert_eq(net, 833);
}

Test(tax, inclusive_and_exclusive_together)
{
	/* 1,100 with 10 % inclusive (100 inside, net 1,000) and 5 % exclusive on the net (50) */
	int64_t p[] = {50000, 100000};
	bool inc[] = {false, true};
	int64_t a[2], net, exc, incl;
	cr_assert_eq(billing_tax_line(1100, p, inc, 2, a, &net, &exc, &incl), 0);
	cr_assert_eq(a[0], 50);
	cr_assert_eq(a[1], 100);
	cr_assert_eq(net, 1000);
	cr_assert_eq(exc, 50);
	cr_assert_eq(incl, 100);
	/* two inclusive rates share the denominator: 1,150 with 10 % + 5 % → 100 + 50 */
	int64_t p2[] = {100000, 50000};
	bool inc2[] = {true, true};
	cr_assert_eq(billing_tax_line(1150, p2, inc2, 2, a, &net, &exc, &incl), 0);
	cr_assert_eq(a[0], 100);
	cr_assert_eq(a[1], 50);
	cr_assert_eq(net, 1000);
}

Test(tax, bad_input_and_bounds)
{
	int64_t p[] = {1000000};
	bool inc[] = {false};
	int64_t a[1] = {-7}, net = -7, exc = -7, incl = -7;
	/* the largest amount at 100 % still fits */
	cr_assert_eq(billing_tax_line(BILLING_AMOUNT_MAX, p, inc, 1, a, &net, &exc, &incl), 0);
	cr_assert_eq(exc, BILLING_AMOUNT_MAX);
	a[0] = net = exc = incl = -7;
	cr_assert_eq(billing_tax_line(BILLING_AMOUNT_MAX + 1, p, inc, 1, a, &net, &exc, &incl), -1);
	cr_assert_eq(a[0], -7);
	cr_assert_eq(exc, -7);
	int64_t over[] = {1000001};
	cr_assert_eq(billing_tax_line(100, over, inc, 1, a, &net, &exc, &incl), -1);
	int64_t neg[] = {-1};
	cr_assert_eq(billing_tax_line(100, neg, inc, 1, a, &net, &exc, &incl), -1);
	cr_assert_eq(billing_tax_line(100, p, inc, BILLING_TAX_RATES_MAX + 1, a, &net, &exc, &incl),
		     -1);
	/* no rates: nothing */
	cr_assert_eq(billing_tax_line(100, p, inc, 0, a, &net, &exc, &incl), 0);
	cr_assert_eq(net, 100);
	cr_assert_eq(exc, 0);
	cr_assert_eq(incl, 0);
}
