#include <criterion/criterion.h>
#include <string.h>

#include "money/money.h"
#include "money/rational.h"

/* Output parameters stay untouched on failure: every check starts from this sentinel. */
#define SENTINEL INT64_C(0x5A5A5A5A)

Test(money, add_sub_mul_at_int64_limits)
{
	int64_t r = SENTINEL;
	cr_assert_eq(money_add(INT64_MAX, 1, &r), MONEY_ERR_OVERFLOW);
	cr_assert_eq(money_add(INT64_MIN, -1, &r), MONEY_ERR_OVERFLOW);
	cr_assert_eq(money_add(INT64_MAX, INT64_MAX, &r), MONEY_ERR_OVERFLOW);
	cr_assert_eq(r, SENTINEL);
	cr_assert_eq(money_add(INT64_MAX, INT64_MIN, &r), 0);
	cr_assert_eq(r, -1);
	cr_assert_eq(money_add(INT64_MAX - 1, 1, &r), 0);
	cr_assert_eq(r, INT64_MAX);

	r = SENTINEL;
	cr_assert_eq(money_sub(INT64_MIN, 1, &r), MONEY_ERR_OVERFLOW);
	cr_assert_eq(money_sub(0, INT64_MIN, &r), MONEY_ERR_OVERFLOW);
	cr_assert_eq(money_sub(INT64_MAX, -1, &r), MONEY_ERR_OVERFLOW);
	cr_assert_eq(r, SENTINEL);
	cr_assert_eq(money_sub(-1, INT64_MAX, &r), 0);
	cr_assert_eq(r, INT64_MIN);

	r = SENTINEL;
	cr_assert_eq(money_mul(INT64_MIN, -1, &r), MONEY_ERR_OVERFLOW);
	cr_assert_eq(money_mul(INT64_MAX, 2, &r), MONEY_ERR_OVERFLOW);
	cr_assert_eq(money_mul(INT64_C(3037000500), INT64_C(3037000500), &r), MONEY_ERR_OVERFLOW);
	cr_assert_eq(r, SENTINEL);
	cr_assert_eq(money_mul(INT64_C(3037000499), INT64_C(3037000499), &r), 0);
	cr_assert_eq(r, INT64_C(9223372030926249001));
	cr_assert_eq(money_mul(INT64_MIN, 1, &r), 0);
	cr_assert_eq(r, INT64_MIN);
}

Test(money, sum_checks_every_step)
{
	int64_t r = SENTINEL;
	const int64_t ok[] = {100, -30, 5};
	cr_assert_eq(money_sum(ok, 3, &r), 0);
	cr_assert_eq(r, 75);
	cr_assert_eq(money_sum(NULL, 0, &r), 0);
	cr_assert_eq(r, 0);
	r = SENTINEL;
	/* The final total would fit, but the running total passes INT64_MAX: refused, because a
	 * ledger that sums in another order must not see a different answer. */
	const int64_t mid[] = {INT64_MAX, 1, -1};
	cr_assert_eq(money_sum(mid, 3, &r), MONEY_ERR_OVERFLOW);
	const int64_t low[] = {INT64_MIN, -1};
	cr_assert_eq(money_sum(low, 2, &r), MONEY_ERR_OVERFLOW);
	cr_assert_eq(money_sum(NULL, 2, &r), MONEY_ERR_INVALID);
	cr_assert_eq(r, SENTINEL);
	const int64_t edge[] = {INT64_MAX, INT64_MIN, INT64_MAX};
	cr_assert_eq(money_sum(edge, 3, &r), 0);
	cr_assert_eq(r, INT64_MAX - 1);
}

static int64_t fee(int64_t amount, int32_t bps, int64_t fixed)
{
	int64_t f = SENTINEL;
	int rc = money_fee(amount, bps, fixed, &f);
	cr_assert_eq(rc, 0, "fee(%lld, %d, %lld) rc %d", (long long)amount, bps, (long long)fixed,
		     rc);
	return f;
}

Test(money, fee_examples)
{
	cr_assert_eq(fee(1000, 290, 30), 59);	/* 29.00 + 30 */
	cr_assert_eq(fee(50, 290, 30), 31);	/* 1.45 → 1, + 30 */
	cr_assert_eq(fee(10000, 290, 30), 320); /* 290 + 30 */
	cr_assert_eq(fee(1, 290, 30), 30);	/* 0.029 → 0 */
	cr_assert_eq(fee(0, 290, 30), 0);	/* no amount, no fee */
	cr_assert_eq(fee(1000, 0, 0), 0);
	cr_assert_eq(fee(1000, 10000, 0), 1000);
	cr_assert_eq(fee(MONEY_FEE_DEFAULT_FIXED_MINOR, MONEY_FEE_DEFAULT_BPS, 0),
		     1); /* 0.87 → 1 */
}

Test(money, fee_rounding_boundaries_and_symmetry)
{
	/* 500 × 2.9 % = 14.5 exactly: a tie, rounded away from zero → 15. */
	cr_assert_eq(fee(500, 290, 30), 45);
	cr_assert_eq(fee(499, 290, 30), 44);  /* 14.471 → 14 */
	cr_assert_eq(fee(1500, 290, 30), 74); /* 43.5 → 44 */
	/* 2.5 %: 20 → 0.5 → 1 (half-even would give 0); 19 → 0.475 → 0; 60 → 1.5 → 2. */
	cr_assert_eq(fee(20, 250, 0), 1);
	cr_assert_eq(fee(19, 250, 0), 0);
	cr_assert_eq(fee(60, 250, 0), 2);
	/* Refunds: fee(−x) = −fee(x), ties included. */
	cr_assert_eq(fee(-1000, 290, 30), -59);
	cr_assert_eq(fee(-500, 290, 30), -45);
	cr_assert_eq(fee(-20, 250, 0), -1);
	for (int64_t a = 1; a < 3000; a += 7)
		cr_assert_eq(fee(-a, 290, 30), -fee(a, 290, 30), "%lld", (long long)a);
}

Test(money, fee_limits_and_invalid_parameters)
{
	int64_t f = SENTINEL;
	cr_assert_eq(money_fee(INT64_MAX, 10000, 1, &f), MONEY_ERR_OVERFLOW);
	cr_assert_eq(money_fee(INT64_MIN, 10000, 1, &f), MONEY_ERR_OVERFLOW);
	cr_assert_eq(money_fee(100, -1, 0, &f), MONEY_ERR_INVALID);
	cr_assert_eq(money_fee(100, 10001, 0, &f), MONEY_ERR_INVALID);
	cr_assert_eq(money_fee(100, 290, -1, &f), MONEY_ERR_INVALID);
	cr_assert_eq(f, SENTINEL);
	/* 100 % of INT64_MIN is INT64_MIN itself, which fits. */
	cr_assert_eq(fee(INT64_MIN, 10000, 0), INT64_MIN);
	cr_assert_eq(fee(INT64_MAX, 10000, 0), INT64_MAX);
	/* 2.9 % of INT64_MAX: computed in 128 bits, no intermediate overflow.
	 * 9223372036854775807 × 290 / 10000 = 267477789068788498.403 → 267477789068788498. */
	cr_assert_eq(fee(INT64_MAX, 290, 30), INT64_C(267477789068788498) + 30);
}

static void check_format(int64_t amount, const char *cur, const char *want)
{
	struct buf b;
	buf_init(&b, 0);
	cr_assert_eq(money_format(&b, amount, cur), 0);
	cr_assert_str_eq(buf_cstr(&b), want);
	buf_release(&b);
}

Test(money, format_exact_major_units)
{
	check_format(50, "usd", "0.50 usd");
	check_format(-5, "usd", "-0.05 usd");
	check_format(123456, "usd", "1234.56 usd");
	check_format(500, "jpy", "500 jpy");
	check_format(-500, "jpy", "-500 jpy");
	check_format(-12345, "kwd", "-12.345 kwd");
	check_format(1, "kwd", "0.001 kwd");
	check_format(0, "eur", "0.00 eur");
	check_format(INT64_MIN, "usd", "-92233720368547758.08 usd");
	check_format(INT64_MAX, "jpy", "9223372036854775807 jpy");

	struct buf b;
	buf_init(&b, 0);
	cr_assert_eq(money_format(&b, 1, "zzz"), MONEY_ERR_UNKNOWN_CURRENCY);
	cr_assert_eq(money_format(&b, 1, "USD"), MONEY_ERR_UNKNOWN_CURRENCY);
	cr_assert_eq(b.len, 0);
	buf_release(&b);
}

static int64_t div_round(__int128 num, __int128 den, enum money_round mode)
{
	int64_t r = SENTINEL;
	cr_assert_eq(money_div_round_i64(num, den, mode, &r), 0);
	return r;
}

Test(money, rounding_rule_half_away_from_zero)
{
	const enum money_round H = MONEY_ROUND_HALF_AWAY, C = MONEY_ROUND_CEIL;
	cr_assert_eq(div_round(5, 2, H), 3);
	cr_assert_eq(div_round(-5, 2, H), -3);
	cr_assert_eq(div_round(5, -2, H), -3);
	cr_assert_eq(div_round(-5, -2, H), 3);
	cr_assert_eq(div_round(7, 2, H), 4);
	cr_assert_eq(div_round(7, 3, H), 2);
	cr_assert_eq(div_round(8, 3, H), 3);
	cr_assert_eq(div_round(-8, 3, H), -3);
	cr_assert_eq(div_round(6, 3, H), 2);
	cr_assert_eq(div_round(7, 3, C), 3);
	cr_assert_eq(div_round(-7, 3, C), -2);
	cr_assert_eq(div_round(6, 3, C), 2);
	/* A tie far beyond 64 bits: (2^100 + 1) / 2. */
	__int128 big = ((__int128)1 << 100) + 1;
	__int128 q;
	cr_assert_eq(money_div_round_i128(big, 2, H, &q), 0);
	cr_assert(q == ((__int128)1 << 99) + 1);

	int64_t r = SENTINEL;
	cr_assert_eq(money_div_round_i64(1, 0, H, &r), MONEY_ERR_INVALID);
	cr_assert_eq(money_div_round_i64((__int128)INT64_MAX * 2, 1, H, &r), MONEY_ERR_OVERFLOW);
	/* INT64_MAX + 0.5 rounds away to INT64_MAX + 1: overflow, not wrap. */
	cr_assert_eq(money_div_round_i64((__int128)INT64_MAX * 2 + 1, 2, H, &r),
		     MONEY_ERR_OVERFLOW);
	cr_assert_eq(r, SENTINEL);
	__int128 p;
	cr_assert_eq(money_mul_i128((__int128)1 << 100, (__int128)1 << 27, &p), MONEY_ERR_OVERFLOW);
	cr_assert_eq(money_mul_i128((__int128)1 << 100, (__int128)1 << 26, &p), 0);
}

Test(money, pow10)
{
	cr_assert_eq(money_pow10(0), 1);
	cr_assert_eq(money_pow10(3), 1000);
	cr_assert_eq(money_pow10(18), INT64_C(1000000000000000000));
	cr_assert_eq(money_pow10(19), 0);
	cr_assert_eq(money_pow10(-1), 0);
}

Test(money, parse_major_scales_exactly_by_the_currency_exponent)
{
	int64_t r = SENTINEL;
	cr_assert_eq(money_parse_major("25", 2, 99999999, &r), 0);
	cr_assert_eq(r, 2500);
	cr_assert_eq(money_parse_major(" 25.5 ", 2, 99999999, &r), 0);
	cr_assert_eq(r, 2550);
	cr_assert_eq(money_parse_major("0.07", 2, 99999999, &r), 0);
	cr_assert_eq(r, 7);
	cr_assert_eq(money_parse_major("500", 0, 99999999, &r), 0); /* jpy */
	cr_assert_eq(r, 500);
	cr_assert_eq(money_parse_major("1.234", 3, 99999999, &r), 0); /* kwd */
	cr_assert_eq(r, 1234);
	cr_assert_eq(money_parse_major("999999.99", 2, 99999999, &r), 0);
	cr_assert_eq(r, 99999999);
	r = SENTINEL;
	static const char *const bad[] = {"",	 " ",	  "25.",  ".5",	   "25.555",
					  "-1",	 "+1",	  "1e3",  "2,50",  "1 000",
					  "abc", "12.5x", "0x10", "25.5.5"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(money_parse_major(bad[i], 2, 99999999, &r), MONEY_ERR_INVALID, "%s",
			     bad[i]);
	cr_assert_eq(money_parse_major("1.5", 0, 99999999, &r), MONEY_ERR_INVALID); /* jpy */
	cr_assert_eq(money_parse_major("1000000.00", 2, 99999999, &r), MONEY_ERR_OVERFLOW);
	cr_assert_eq(money_parse_major("99999999999999999999999", 2, INT64_MAX, &r),
		     MONEY_ERR_OVERFLOW);
	cr_assert_eq(money_parse_major("92233720368547758.08", 2, INT64_MAX, &r),
		     MONEY_ERR_OVERFLOW);
	cr_assert_eq(r, SENTINEL);
	cr_assert_eq(money_parse_major(NULL, 2, 10, &r), MONEY_ERR_INVALID);
	cr_assert_eq(money_parse_major("1", 19, INT64_MAX, &r), MONEY_ERR_INVALID);
}
