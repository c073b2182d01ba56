#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "billing/tiers.h"

/* 1–5 at 10.00, 6–10 at 8.00 + 5.00 flat, 11+ at 6.00 */
static const struct tier three[] = {
    {5, 1000, 0, 0, 0},
    {10, 800, 0, 500, 0},
    {TIER_UP_TO_INF, 600, 0, 0, 0},
};

static int64_t amount(enum tiers_mode mode, const struct tier *t, int n, int64_t q)
{
	struct tiers ts = {mode, n, t};
	int64_t v = -1;
	cr_assert_eq(tiers_amount(&ts, q, &v), 0, "quantity %lld", (long long)q);
	return v;
}

Test(tiers, graduated_sums_each_tiers_share)
{
	cr_assert_eq(amount(TIERS_GRADUATED, three, 3, 1), 1000);
	cr_assert_eq(amount(TIERS_GRADUATED, three, 3, 5), 5000);
	/* 5 × 10.00 + 1 × 8.00 + 5.00 */
	cr_assert_eq(amount(TIERS_GRADUATED, three, 3, 6), 5000 + 800 + 500);
	cr_assert_eq(amount(TIERS_GRADUATED, three, 3, 10), 5000 + 4000 + 500);
	/* 5 × 10 + 5 × 8 + 5 flat + 5 × 6 */
	cr_assert_eq(amount(TIERS_GRADUATED, three, 3, 15), 5000 + 4000 + 500 + 3000);
}

Test(tiers, volume_prices_every_unit_at_one_tier)
{
	cr_assert_eq(amount(TIERS_VOLUME, three, 3, 5), 5000);
	cr_assert_eq(amount(TIERS_VOLUME, three, 3, 6), 6 * 800 + 500);
	cr_assert_eq(amount(TIERS_VOLUME, three, 3, 10), 10 * 800 + 500);
	cr_assert_eq(amount(TIERS_VOLUME, three, 3, 11), 11 * 600);
	cr_assert_eq(amount(TIERS_VOLUME, three, 3, 1000000), 600000000);
}

Test(tiers, quantity_zero_falls_in_the_first_tier)
{
	static const struct tier flat_first[] = {
	    {1, 0, 0, 2500, 0},
	    {TIER_UP_TO_INF, 300, 0, 0, 0},
	};
	cr_assert_eq(amount(TIERS_GRADUATED, flat_first, 2, 0), 2500);
	cr_assert_eq(amount(TIERS_VOLUME, flat_first, 2, 0), 2500);
	cr_assert_eq(amount(TIERS_GRADUATED, flat_first, 2, 3), 2500 + 600);
	cr_assert_eq(amount(TIERS_VOLUME, flat_first, 2, 3), 900);
}

Test(tiers, decimals_are_exact_and_rounded_once)
{
	int64_t w, f;
	cr_assert_eq(tiers_decimal_parse("1.5", &w, &f), 0);
	cr_assert_eq(w, 1);
	cr_assert_eq(f, 500000000000LL);
	cr_assert_eq(tiers_decimal_parse("0.000000000001", &w, &f), 0);
	cr_assert_eq(f, 1);
	const char *bad[] = {"", ".5", "5.", "1.0000000000001", "123456789", "1e3", "-1", "1,5"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(tiers_decimal_parse(bad[i], &w, &f), -1, "%s", bad[i]);
	/* 3 × 0.333333333333 = 0.999999999999 → 1; never 3 × round(0.33) = 0 */
	static const struct tier third[] = {{TIER_UP_TO_INF, 0, 333333333333LL, 0, 0}};
	cr_assert_eq(amount(TIERS_VOLUME, third, 1, 3), 1);
	/* 0.5 rounds up; 0.4999… down */
	static const struct tier half[] = {{TIER_UP_TO_INF, 0, 500000000000LL, 0, 0}};
	cr_assert_eq(amount(TIERS_GRADUATED, half, 1, 1), 1);
	static const struct tier under[] = {{TIER_UP_TO_INF, 0, 499999999999LL, 0, 0}};
	cr_assert_eq(amount(TIERS_GRADUATED, under, 1, 1), 0);
}

Test(tiers, check_refuses_bad_tiers)
{
	int idx, why;
	struct tier t[3];
	memcpy(t, three, sizeof(t));
	struct tiers ts = {TIERS_GRADUATED, 3, t};
	cr_assert_eq(tiers_check(&ts, &idx, &why), 0);
	t[1].up_to = 5; /* not ascending */
	cr_assert_eq(tiers_check(&ts, &idx, &why), -1);
	cr_assert_eq(idx, 1);
	cr_assert_eq(why, 1);
	memcpy(t, three, sizeof(t));
	t[2].up_to = 20; /* last not infinite */
	cr_assert_eq(tiers_check(&ts, &idx, &why), -1);
	cr_assert_eq(idx, 2);
	cr_assert_eq(why, 2);
	memcpy(t, three, sizeof(t));
	t[0].up_to = TIER_UP_TO_INF; /* infinite before the last */
	cr_assert_eq(tiers_check(&ts, &idx, &why), -1);
	cr_assert_eq(idx, 0);
	cr_assert_eq(why, 3);
	memcpy(t, three, sizeof(t));
	t[1].unit_frac = TIER_FRAC_ONE;
	cr_assert_eq(tiers_check(&ts, &idx, &why), -1);
	cr_assert_eq(why, 4);
	ts.n = 0;
	cr_assert_eq(tiers_check(&ts, &idx, &why), -1);
	cr_assert_eq(why, 5);
	int64_t v = 7;
	cr_assert_eq(tiers_amount(&ts, 1, &v), -1);
	cr_assert_eq(v, 7);
}

Test(tiers, overflow_is_refused)
{
	static const struct tier big[] = {{TIER_UP_TO_INF, 99999999, 999999999999LL, 0, 0}};
	struct tiers ts = {TIERS_VOLUME, 1, big};
	int64_t v = 7;
	cr_assert_eq(tiers_amount(&ts, INT64_MAX, &v), -1);
	cr_assert_eq(v, 7);
	cr_assert_eq(tiers_amount(&ts, -1, &v), -1);
	/* the largest that fits still comes out exact */
	cr_assert_eq(tiers_amount(&ts, 1000, &v), 0);
	cr_assert_eq(v, 100000000000LL);
}

Test(tiers, unit_decimal_is_amount_over_quantity)
{
	char buf[40];
	cr_assert_eq(tiers_unit_decimal(9500, 10, buf, sizeof(buf)), 0);
	cr_assert_str_eq(buf, "950");
	cr_assert_eq(tiers_unit_decimal(1000, 3, buf, sizeof(buf)), 0);
	cr_assert_str_eq(buf, "333.333333333333");
	cr_assert_eq(tiers_unit_decimal(5, 4, buf, sizeof(buf)), 0);
	cr_assert_str_eq(buf, "1.25");
	cr_assert_eq(tiers_unit_decimal(5, 0, buf, sizeof(buf)), -1);
	cr_assert_eq(tiers_unit_decimal(1000, 3, buf, 4), -1);
}

static int64_t per_unit(const char *dec, int64_t q)
{
	int64_t w, f, v = -1;
	cr_assert_eq(tiers_decimal_parse(dec, &w, &f), 0, "%s", dec);
	cr_assert_eq(tiers_decimal_amount(w, f, q, &v), 0, "%s × %lld", dec, (long long)q);
	return v;
}

Test(tiers, decimal_amount_is_exact_and_rounded_once_halves_up)
{
	/* 12,345 metered calls at a quarter of a cent: 3,086.25 → 3,086 */
	cr_assert_eq(per_unit("0.25", 12345), 3086);
	cr_assert_eq(per_unit("0.25", 3), 1);  /* 0.75 → 1 */
	cr_assert_eq(per_unit("0.25", 2), 1);  /* 0.5: half up (half-even would give 0) */
	cr_assert_eq(per_unit("0.5", 5), 3);   /* 2.5 → 3, not 2 */
	cr_assert_eq(per_unit("0.05", 30), 2); /* Stripe's example: 1.5 → 2 */
	cr_assert_eq(per_unit("0.25", 1), 0);  /* 0.25 → 0 */
	cr_assert_eq(per_unit("0.25", 0), 0);
	cr_assert_eq(per_unit("105.5", 3), 317); /* 316.5 → 317 */
	/* the twelfth decimal counts: 0.000000000001 × 5 × 10^11 = 0.5 → 1; one less → 0 */
	cr_assert_eq(per_unit("0.000000000001", 500000000000LL), 1);
	cr_assert_eq(per_unit("0.000000000001", 499999999999LL), 0);
	/* a product no double holds exactly */
	cr_assert_eq(per_unit("0.333333333333", 3000000000000LL), 1000000000000LL - 1);
	cr_assert_eq(per_unit("7", 11), 77);
}

Test(tiers, decimal_amount_refuses_overflow_and_bad_input)
{
	int64_t v = 42;
	/* 99,999,999.999… × INT64_MAX does not fit an int64_t (nor the 10^-12 product an i128) */
	cr_assert_eq(tiers_decimal_amount(99999999, TIER_FRAC_ONE - 1, INT64_MAX, &v), -1);
	/* 2 × (INT64_MAX / 2 + 1) > INT64_MAX after rounding */
	cr_assert_eq(tiers_decimal_amount(2, 0, INT64_MAX / 2 + 1, &v), -1);
	/* the largest that fits */
	cr_assert_eq(tiers_decimal_amount(1, 0, INT64_MAX, &v), 0);
	cr_assert_eq(v, INT64_MAX);
	/* INT64_MAX × 0.5 = …3.5 rounds up, still fits */
	cr_assert_eq(tiers_decimal_amount(0, TIER_FRAC_ONE / 2, INT64_MAX, &v), 0);
	cr_assert_eq(v, INT64_MAX / 2 + 1);
	v = 42;
	cr_assert_eq(tiers_decimal_amount(0, 25, -1, &v), -1);
	cr_assert_eq(tiers_decimal_amount(-1, 0, 1, &v), -1);
	cr_assert_eq(tiers_decimal_amount(0, TIER_FRAC_ONE, 1, &v), -1);
	cr_assert_eq(v, 42);
}

static const char *major(const char *dec, int e)
{
	static char out[48];
	cr_assert_eq(tiers_decimal_major(dec, e, out, sizeof(out)), 0, "%s", dec);
	return out;
}

Test(tiers, decimal_major_moves_the_point_exactly)
{
	cr_assert_str_eq(major("0.25", 2), "0.0025");
	cr_assert_str_eq(major("105.5", 2), "1.055");
	cr_assert_str_eq(major("25.5", 2), "0.255");
	cr_assert_str_eq(major("0012.5", 2), "0.125");
	cr_assert_str_eq(major("1000.5", 2), "10.005");
	cr_assert_str_eq(major("12.50", 0), "12.5");
	cr_assert_str_eq(major("0.5", 3), "0.0005");
	cr_assert_str_eq(major("0.000000000001", 2), "0.00000000000001");
	cr_assert_str_eq(major("150", 2), "1.5");
	char small[4];
	cr_assert_eq(tiers_decimal_major("0.25", 2, small, sizeof(small)), -1);
	cr_assert_eq(tiers_decimal_major(NULL, 2, small, sizeof(small)), -1);
	cr_assert_eq(tiers_decimal_major("1.5", 9, small, sizeof(small)), -1);
}

static int64_t product(const char *unit, const char *qty)
{
	int64_t w, f, qw, qf, v = -1;
	cr_assert_eq(tiers_decimal_parse(unit, &w, &f), 0, "%s", unit);
	cr_assert_eq(tiers_decimal_parse(qty, &qw, &qf), 0, "%s", qty);
	cr_assert_eq(tiers_decimal_product(w, f, qw, qf, &v), 0, "%s × %s", unit, qty);
	return v;
}

Test(tiers, decimal_product_is_exact_and_rounded_once_halves_up)
{
	cr_assert_eq(product("1000", "1.5"), 1500);
	cr_assert_eq(product("0.5", "1.5"), 1);		     /* 0.75 → 1 */
	cr_assert_eq(product("0.5", "0.5"), 0);		     /* 0.25 → 0 */
	cr_assert_eq(product("1", "2.5"), 3);		     /* 2.5: half up */
	cr_assert_eq(product("0.3", "1.5"), 0);		     /* 0.45 → 0 */
	cr_assert_eq(product("0.3", "5"), 2);		     /* 1.5 → 2 */
	cr_assert_eq(product("333", "0.333333333333"), 111); /* 110.999999999889 → 111 */
	cr_assert_eq(product("7", "11"), 77);		     /* whole × whole */
	/* the twelfth decimals of both count: 0.4999999999995 → 0, 0.5 → 1 */
	cr_assert_eq(product("0.999999999999", "0.5"), 0);
	cr_assert_eq(product("1", "0.5"), 1);
	cr_assert_eq(product("0.000000000001", "0.000000000001"), 0);
}

Test(tiers, decimal_product_refuses_overflow_and_bad_input)
{
	int64_t v = 42;
	cr_assert_eq(tiers_decimal_product(10000000, 0, 1000000, 0, &v), 0);
	cr_assert_eq(v, 10000000000000LL);
	/* past an i128 in 10^-24 minor units (far past any amount Tender bills) */
	cr_assert_eq(tiers_decimal_product(99999999, 0, 99999999, 0, &v), -1);
	cr_assert_eq(tiers_decimal_product(-1, 0, 1, 0, &v), -1);
	cr_assert_eq(tiers_decimal_product(1, TIER_FRAC_ONE, 1, 0, &v), -1);
	cr_assert_eq(tiers_decimal_product(1, 0, 1, -1, &v), -1);
	cr_assert_eq(v, 10000000000000LL);
}
