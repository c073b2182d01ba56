#include <criterion/criterion.h>
#include <stdint.h>

#include "billing/tax.h"

/* 1100 paid for a line of 1000 + 100 exclusive tax: a quarter of it credits 25. */
Test(tax_share, proportional)
{
	int64_t s = -1;
	cr_assert_eq(billing_tax_share(100, 250, 1000, 0, 0, &s), 0);
	cr_assert_eq(s, 25);
	cr_assert_eq(billing_tax_share(100, 1000, 1000, 0, 0, &s), 0);
	cr_assert_eq(s, 100);
}

/* halves away from zero: 15 × 1/2 = 7.5 → 8; −15 × 1/2 → −8; 7.4 → 7 */
Test(tax_share, rounds_half_away_from_zero)
{
	int64_t s = 0;
	cr_assert_eq(billing_tax_share(15, 1, 2, 0, 0, &s), 0);
	cr_assert_eq(s, 8);
	cr_assert_eq(billing_tax_share(-15, 1, 2, 0, 0, &s), 0);
	cr_assert_eq(s, -8);
	cr_assert_eq(billing_tax_share(37, 1, 5, 0, 0, &s), 0); /* 7.4 */
	cr_assert_eq(s, 7);
}

/* thirds of 10: 3.33 → 3, 3, then the last takes the remainder 4; never more than the tax */
Test(tax_share, last_takes_remainder)
{
	int64_t a, b, c;
	cr_assert_eq(billing_tax_share(10, 1, 3, 0, 0, &a), 0);
	cr_assert_eq(billing_tax_share(10, 1, 3, 1, a, &b), 0);
	cr_assert_eq(billing_tax_share(10, 1, 3, 2, a + b, &c), 0);
	cr_assert_eq(a, 3);
	cr_assert_eq(b, 3);
	cr_assert_eq(c, 4);
	cr_assert_eq(a + b + c, 10);
}

/* halves rounding up could take more than is left: the share is capped at the remainder */
Test(tax_share, capped_at_remainder)
{
	int64_t a, b, c;
	/* 3 × 1/2 = 1.5 → 2, twice would be 4 > 3 */
	cr_assert_eq(billing_tax_share(3, 1, 4, 0, 0, &a), 0); /* 0.75 → 1 */
	cr_assert_eq(billing_tax_share(3, 2, 4, 1, a, &b), 0); /* 1.5 → 2 */
	cr_assert_eq(a, 1);
	cr_assert_eq(b, 2);
	cr_assert_eq(billing_tax_share(3, 1, 4, 3, a + b, &c), 0);
	cr_assert_eq(c, 0);
	/* 5 × 3/4 = 3.75 → 4 but only 1 is left after 4 taken */
	cr_assert_eq(billing_tax_share(5, 3, 8, 4, 4, &c), 0);
	cr_assert_eq(c, 1);
}

Test(tax_share, refuses_bad_input)
{
	int64_t s = 77;
	cr_assert_eq(billing_tax_share(10, 0, 3, 0, 0, &s), -1);  /* nothing credited */
	cr_assert_eq(billing_tax_share(10, 2, 3, 2, 0, &s), -1);  /* beyond the line */
	cr_assert_eq(billing_tax_share(10, 1, 0, 0, 0, &s), -1);  /* no line */
	cr_assert_eq(billing_tax_share(10, 1, 3, 0, 11, &s), -1); /* took more than it had */
	cr_assert_eq(billing_tax_share(10, 1, 3, -1, 0, &s), -1);
	cr_assert_eq(billing_tax_share(INT64_MIN, 1, 3, 0, 1, &s), -1); /* overflow */
	cr_assert_eq(billing_tax_share(1, INT64_MAX, INT64_MAX, 1, 0, &s), -1);
	cr_assert_eq(s, 77);
}

/* exact for large amounts (a 128-bit product) */
Test(tax_share, large)
{
	int64_t s;
	cr_assert_eq(billing_tax_share(INT64_C(9999999999), INT64_C(99999999998),
				       INT64_C(99999999999), 0, 0, &s),
		     0);
	cr_assert_eq(s, INT64_C(9999999999)); /* 9999999998.9 → 9999999999 */
}
