#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "money/currency.h"
#include "money/fx.h"
#include "money/rates_bundled.h"

#define SENTINEL INT64_C(0x5A5A5A5A)
#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Unix times used below. */
#define T_2026_01_01 INT64_C(1767225600)
#define T_2026_03_01 INT64_C(1772323200)
#define T_2026_06_01 INT64_C(1780272000)
#define T_2026_11_20 INT64_C(1795132800) /* the bundled snapshot's date */

static struct fx_table *csv(const char *text)
{
	char err[256] = "";
	struct fx_table *t = fx_table_load_csv(text, strlen(text), err, sizeof(err));
	cr_assert_not_null(t, "refused: %s", err);
	return t;
}

static void csv_fails(const char *text, const char *want)
{
	char err[256] = "";
	struct fx_table *t = fx_table_load_csv(text, strlen(text), err, sizeof(err));
	cr_assert_null(t, "accepted: %s", text);
	cr_assert_not_null(strstr(err, want), "error '%s' for '%s', want '%s'", err, text, want);
}

static void ecb_fails(const char *text, const char *want)
{
	char err[256] = "";
	struct fx_table *t = fx_table_load_ecb(text, strlen(text), err, sizeof(err));
	cr_assert_null(t, "accepted: %s", text);
	cr_assert_not_null(strstr(err, want), "error '%s' for '%s', want '%s'", err, text, want);
}

static int64_t conv(const struct fx_table *t, int64_t amount, const char *from, const char *to,
		    int64_t at)
{
	int64_t out = SENTINEL;
	int rc = fx_convert(t, amount, from, to, at, &out, NULL);
	cr_assert_eq(rc, 0, "%lld %s->%s: rc %d", (long long)amount, from, to, rc);
	return out;
}

static int64_t conv_rate(const struct fx_rate *r, int64_t amount, const char *from, const char *to)
{
	int64_t out = SENTINEL;
	int rc = fx_convert_with_rate(r, amount, from, to, &out);
	cr_assert_eq(rc, 0, "%lld %s->%s: rc %d", (long long)amount, from, to, rc);
	return out;
}

static const char *rate_str(const struct fx_rate *r)
{
	static char s[FX_RATE_STR_MAX];
	cr_assert_eq(fx_rate_to_decimal_string(r, s, sizeof(s)), 0);
	return s;
}

/* Rates for the hand-worked examples. */
static const char *HAND = "base,quote,rate,valid_from\n"
			  "eur,usd,1.0823,2026-01-01\n"
			  "eur,jpy,162.35,2026-01-01\n"
			  "usd,kwd,0.3075,2026-01-01\n";

Test(fx, usd_to_eur_inverts_the_eur_rate)
{
	struct fx_table *t = csv(HAND);
	struct fx_rate r;
	int64_t out = SENTINEL;
	/* usd→eur = 1 / 1.0823 = 0.923958237087683…, rounded to 12 decimals: 0.923958237088.
	 * 100.00 usd = 10000 cents × 0.923958237088 = 9239.58… → 9240 cents (92.40 eur). */
	cr_assert_eq(fx_convert(t, 10000, "usd", "eur", FX_LATEST, &out, &r), 0);
	cr_assert_eq(out, 9240);
	cr_assert_eq(r.rate_e12, INT64_C(923958237088));
	cr_assert_str_eq(r.base, "usd");
	cr_assert_str_eq(r.quote, "eur");
	cr_assert_eq(r.valid_from, T_2026_01_01);
	cr_assert_str_eq(rate_str(&r), "0.923958237088");
	fx_table_free(t);
}

Test(fx, eur_to_jpy_changes_exponent)
{
	struct fx_table *t = csv(HAND);
	/* 100.00 eur × 162.35 = 16235 yen exactly (cents → yen divides by 10^2). */
	cr_assert_eq(conv(t, 10000, "eur", "jpy", FX_LATEST), 16235);
	/* 12.34 eur × 162.35 = 2003.399 → 2003. */
	cr_assert_eq(conv(t, 1234, "eur", "jpy", FX_LATEST), 2003);
	/* 0.01 eur = 1.6235 → 2. */
	cr_assert_eq(conv(t, 1, "eur", "jpy", FX_LATEST), 2);
	cr_assert_eq(conv(t, -1234, "eur", "jpy", FX_LATEST), -2003);
	fx_table_free(t);
}

Test(fx, usd_to_kwd_three_decimals)
{
	struct fx_table *t = csv(HAND);
	/* 100.00 usd × 0.3075 = 30.750 kwd = 30750 fils. */
	cr_assert_eq(conv(t, 10000, "usd", "kwd", FX_LATEST), 30750);
	/* 1.23 usd × 0.3075 = 0.378225 kwd = 378.225 fils → 378. */
	cr_assert_eq(conv(t, 123, "usd", "kwd", FX_LATEST), 378);
	/* 0.01 usd = 3.075 fils → 3; 0.02 usd = 6.15 → 6. */
	cr_assert_eq(conv(t, 1, "usd", "kwd", FX_LATEST), 3);
	cr_assert_eq(conv(t, 2, "usd", "kwd", FX_LATEST), 6);
	/* Back: kwd→usd = 1 / 0.3075 = 3.252032520325 (12 decimals); 30750 fils × that / 10 =
	 * 9999.99999999937… cents → 10000. */
	cr_assert_eq(conv(t, 30750, "kwd", "usd", FX_LATEST), 10000);
	/* eur→kwd crosses through usd (eur is the from side): 1.0823 × 0.3075 = 0.33280725;
	 * 100.00 eur = 33.280725 kwd = 33280.725 fils → 33281. */
	struct fx_rate r;
	int64_t out;
	cr_assert_eq(fx_convert(t, 10000, "eur", "kwd", FX_LATEST, &out, &r), 0);
	cr_assert_eq(out, 33281);
	cr_assert_eq(r.rate_e12, INT64_C(332807250000));
	fx_table_free(t);
}

Test(fx, jpy_usd_cross_rates_via_eur)
{
	struct fx_table *t = csv(HAND);
	struct fx_rate r;
	int64_t out = SENTINEL;
	/* jpy→usd = 1.0823 / 162.35 = 0.006666461349091… → 0.006666461349.
	 * 10000 yen × 0.006666461349 = 66.66461349 usd = 6666.46… cents → 6666. */
	cr_assert_eq(fx_convert(t, 10000, "jpy", "usd", FX_LATEST, &out, &r), 0);
	cr_assert_eq(out, 6666);
	cr_assert_eq(r.rate_e12, INT64_C(6666461349));
	cr_assert_str_eq(rate_str(&r), "0.006666461349");
	cr_assert_eq(r.valid_from, T_2026_01_01);
	/* usd→jpy = 162.35 / 1.0823 = 150.004619791185… → 150.004619791185;
	 * 100.00 usd → 15000.46… yen → 15000. */
	cr_assert_eq(fx_convert(t, 10000, "usd", "jpy", FX_LATEST, &out, &r), 0);
	cr_assert_eq(out, 15000);
	cr_assert_eq(r.rate_e12, INT64_C(150004619791185));
	/* Two hops: kwd reaches usd, jpy reaches eur. kwd→eur = 1 / (0.3075 × 1.0823) =
	 * 3.004742234430…→ 3.004742234431 (rounded once), then × 162.35 = 487.819901759873…;
	 * 10.000 kwd → 4878 yen. (Exactly 162.35 / (0.3075 × 1.0823) = 487.8199017598… too.) */
	cr_assert_eq(fx_convert(t, 10000, "kwd", "jpy", FX_LATEST, &out, &r), 0);
	cr_assert_eq(out, 4878);
	cr_assert_eq(r.rate_e12, INT64_C(487819901759873));
	/* Only eur and usd are pivots: a pair joined through a third currency has no rate. */
	struct fx_table *g = csv("gbp,chf,1.12,0\nchf,sek,11.5,0\n");
	cr_assert_eq(fx_convert(g, 1000, "gbp", "sek", FX_LATEST, &out, &r), MONEY_ERR_NO_RATE);
	fx_table_free(g);
	fx_table_free(t);
}

Test(fx, eur_is_the_first_pivot_then_usd)
{
	/* Two inconsistent paths gbp→chf: via eur (0.9 / 0.8 = 1.125) and via usd (1.0 / 0.5 = 2).
	 * eur is tried first; without the eur legs, usd is used. */
	struct fx_table *t = csv("eur,gbp,0.8,0\neur,chf,0.9,0\nusd,gbp,0.5,0\nusd,chf,1.0,0\n");
	struct fx_rate r;
	cr_assert_eq(fx_lookup(t, "gbp", "chf", FX_LATEST, &r), 0);
	cr_assert_eq(r.rate_e12, INT64_C(1125000000000));
	fx_table_free(t);
	t = csv("eur,gbp,0.8,0\nusd,gbp,0.5,0\nusd,chf,1.0,0\n");
	cr_assert_eq(fx_lookup(t, "gbp", "chf", FX_LATEST, &r), 0);
	cr_assert_eq(r.rate_e12, INT64_C(2000000000000));
	fx_table_free(t);
}

/* Each leg of a cross rate may be stored either way round; all four combinations. */
Test(fx, cross_rate_leg_directions)
{
	struct fx_rate r;
	/* usd→eur stored, eur→jpy stored: 0.9 × 160 = 144. */
	struct fx_table *t = csv("usd,eur,0.9,0\neur,jpy,160,0\n");
	cr_assert_eq(fx_lookup(t, "usd", "jpy", FX_LATEST, &r), 0);
	cr_assert_eq(r.rate_e12, INT64_C(144000000000000));
	fx_table_free(t);
	/* usd→eur stored, jpy→eur stored: 0.9 / 0.007 = 128.571428571428571… → …429. */
	t = csv("usd,eur,0.9,0\njpy,eur,0.007,0\n");
	cr_assert_eq(fx_lookup(t, "usd", "jpy", FX_LATEST, &r), 0);
	cr_assert_eq(r.rate_e12, INT64_C(128571428571429));
	fx_table_free(t);
	/* eur→usd stored, jpy→eur stored: 1 / (1.1 × 0.0061) = 149.031296572280178… */
	t = csv("eur,usd,1.1,0\njpy,eur,0.0061,0\n");
	cr_assert_eq(fx_lookup(t, "usd", "jpy", FX_LATEST, &r), 0);
	cr_assert_eq(r.rate_e12, INT64_C(149031296572280));
	fx_table_free(t);
	/* eur→usd stored, eur→jpy stored: the ECB case, checked by the hand-worked tests above. */
}

Test(fx, ties_round_half_away_from_zero)
{
	struct fx_table *t = csv("eur,jpy,2.5,0\n");
	cr_assert_eq(conv(t, 100, "eur", "jpy", FX_LATEST), 3);	  /* 2.5 → 3 */
	cr_assert_eq(conv(t, -100, "eur", "jpy", FX_LATEST), -3); /* −2.5 → −3 */
	cr_assert_eq(conv(t, 300, "eur", "jpy", FX_LATEST), 8);	  /* 7.5 → 8 */
	cr_assert_eq(conv(t, 500, "eur", "jpy", FX_LATEST), 13);  /* 12.5 → 13 (half-even: 12) */
	cr_assert_eq(conv(t, 1, "eur", "jpy", FX_LATEST), 0);	  /* 0.025 → 0 */
	cr_assert_eq(conv(t, 20, "eur", "jpy", FX_LATEST), 1);	  /* 0.5 → 1 */
	cr_assert_eq(conv(t, 19, "eur", "jpy", FX_LATEST), 0);	  /* 0.475 → 0 */
	/* jpy→eur = 0.4: 5 yen = 2.00 eur exactly; 1 yen = 40 cents. */
	cr_assert_eq(conv(t, 5, "jpy", "eur", FX_LATEST), 200);
	for (int64_t a = 1; a < 5000; a += 3)
		cr_assert_eq(conv(t, -a, "eur", "jpy", FX_LATEST),
			     -conv(t, a, "eur", "jpy", FX_LATEST));
	fx_table_free(t);
}

Test(fx, same_currency_is_identity)
{
	struct fx_table *t = csv(HAND);
	struct fx_rate r;
	int64_t out;
	cr_assert_eq(fx_convert(t, 12345, "usd", "usd", FX_LATEST, &out, &r), 0);
	cr_assert_eq(out, 12345);
	cr_assert_eq(r.rate_e12, FX_RATE_SCALE);
	cr_assert_str_eq(rate_str(&r), "1");
	/* Even a currency with no rates at all. */
	cr_assert_eq(conv(t, 7, "xof", "xof", 0), 7);
	fx_table_free(t);
}

Test(fx, errors_leave_outputs_alone)
{
	struct fx_table *t = csv(HAND);
	struct fx_rate r = {.rate_e12 = 77};
	int64_t out = SENTINEL;
	cr_assert_eq(fx_convert(t, 1, "usd", "zzz", FX_LATEST, &out, &r),
		     MONEY_ERR_UNKNOWN_CURRENCY);
	cr_assert_eq(fx_convert(t, 1, "USD", "eur", FX_LATEST, &out, &r),
		     MONEY_ERR_UNKNOWN_CURRENCY);
	cr_assert_eq(fx_convert(t, 1, "usd", "xof", FX_LATEST, &out, &r), MONEY_ERR_NO_RATE);
	cr_assert_eq(fx_convert(NULL, 1, "usd", "eur", FX_LATEST, &out, &r), MONEY_ERR_INVALID);
	cr_assert_eq(out, SENTINEL);
	cr_assert_eq(r.rate_e12, 77);
	fx_table_free(t);
}

Test(fx, rates_by_time)
{
	struct fx_table *t = csv("eur,usd,1.08,2026-01-01\n"
				 "eur,usd,1.10,1780272000\n" /* 2026-06-01 */
				 "eur,jpy,160,2026-03-01\n");
	struct fx_rate r;
	cr_assert_eq(fx_lookup(t, "eur", "usd", T_2026_03_01, &r), 0);
	cr_assert_eq(r.rate_e12, INT64_C(1080000000000));
	cr_assert_eq(fx_lookup(t, "eur", "usd", T_2026_06_01 - 1, &r), 0);
	cr_assert_eq(r.rate_e12, INT64_C(1080000000000));
	cr_assert_eq(fx_lookup(t, "eur", "usd", T_2026_06_01, &r), 0);
	cr_assert_eq(r.rate_e12, INT64_C(1100000000000));
	cr_assert_eq(r.valid_from, T_2026_06_01);
	cr_assert_eq(fx_lookup(t, "eur", "usd", FX_LATEST, &r), 0);
	cr_assert_eq(r.rate_e12, INT64_C(1100000000000));
	cr_assert_eq(fx_lookup(t, "eur", "usd", T_2026_01_01 - 1, &r), MONEY_ERR_NO_RATE);
	/* A cross rate needs both legs valid; its valid_from is the later leg's. */
	cr_assert_eq(fx_lookup(t, "usd", "jpy", T_2026_03_01 - 1, &r), MONEY_ERR_NO_RATE);
	cr_assert_eq(fx_lookup(t, "usd", "jpy", T_2026_03_01, &r), 0);
	cr_assert_eq(r.valid_from, T_2026_03_01);
	cr_assert_eq(fx_lookup(t, "usd", "jpy", FX_LATEST, &r), 0);
	cr_assert_eq(r.valid_from, T_2026_06_01);
	fx_table_free(t);
}

Test(fx, refund_reuses_the_recorded_rate)
{
	struct fx_table *t = csv("eur,usd,1.08,2026-01-01\neur,usd,1.10,2026-06-01\n");
	struct fx_rate charged;
	int64_t settled;
	/* A 100.00 eur charge in March settles 108.00 usd … */
	cr_assert_eq(fx_convert(t, 10000, "eur", "usd", T_2026_03_01, &settled, &charged), 0);
	cr_assert_eq(settled, 10800);
	/* … and its refund in July takes back 108.00, not 110.00 at July's rate. */
	cr_assert_eq(conv_rate(&charged, -10000, "eur", "usd"), -10800);
	cr_assert_eq(conv(t, -10000, "eur", "usd", FX_LATEST), -11000);
	/* The recorded rate survives a trip through storage (two codes and two integers). */
	struct fx_rate stored;
	cr_assert_eq(fx_rate_init(&stored, charged.base, charged.quote, charged.rate_e12,
				  charged.valid_from),
		     0);
	cr_assert_eq(conv_rate(&stored, 2500, "eur", "usd"), 2700);
	/* A rate only converts the pair it is for. */
	int64_t out = SENTINEL;
	cr_assert_eq(fx_convert_with_rate(&charged, 1, "eur", "jpy", &out), MONEY_ERR_INVALID);
	cr_assert_eq(fx_convert_with_rate(&charged, 1, "eur", "nope", &out),
		     MONEY_ERR_UNKNOWN_CURRENCY);
	struct fx_rate bad = charged;
	bad.rate_e12 = 0;
	cr_assert_eq(fx_convert_with_rate(&bad, 1, "eur", "usd", &out), MONEY_ERR_INVALID);
	cr_assert_eq(fx_convert_with_rate(NULL, 1, "eur", "usd", &out), MONEY_ERR_INVALID);
	cr_assert_eq(out, SENTINEL);
	fx_table_free(t);
}

/*
 * A→B with a recorded rate, then B→A with the same rate. Documented bound: exact when one minor
 * unit of A is worth at least one of B (r >= 1), else within ceil(1 / (2r)) minor units of A.
 */
static void round_trip(const struct fx_rate *rate, const char *a_cur, const char *b_cur,
		       int64_t max_err)
{
	for (int64_t a = -3000; a <= 30000; a += (a < 0 || a > 3000) ? 7 : 1) {
		int64_t b = conv_rate(rate, a, a_cur, b_cur);
		int64_t back = conv_rate(rate, b, b_cur, a_cur);
		int64_t d = back > a ? back - a : a - back;
		cr_assert_leq(d, max_err, "%lld %s → %lld %s → %lld", (long long)a, a_cur,
			      (long long)b, b_cur, (long long)back);
	}
}

Test(fx, round_trips_net_within_the_documented_rounding)
{
	struct fx_table *t = fx_table_load_bundled();
	cr_assert_not_null(t);
	struct fx_rate usd_jpy, jpy_usd, eur_gbp;
	cr_assert_eq(fx_lookup(t, "usd", "jpy", FX_LATEST, &usd_jpy), 0);
	cr_assert_eq(fx_lookup(t, "jpy", "usd", FX_LATEST, &jpy_usd), 0);
	cr_assert_eq(fx_lookup(t, "eur", "gbp", FX_LATEST, &eur_gbp), 0);
	/* One cent is 1.567 yen (r >= 1): exact both ways round. */
	round_trip(&usd_jpy, "usd", "jpy", 0);
	/* One yen is 0.638 cents: ceil(1 / 1.276) = 1 yen. */
	round_trip(&jpy_usd, "jpy", "usd", 1);
	/* Also when the recorded rate is used in its reverse direction. */
	round_trip(&usd_jpy, "jpy", "usd", 1);
	/* One euro cent is 0.869 pence: within ceil(1 / 1.739) = 1 cent. */
	round_trip(&eur_gbp, "eur", "gbp", 1);
	struct fx_table *h = csv(HAND);
	struct fx_rate usd_kwd;
	cr_assert_eq(fx_lookup(h, "usd", "kwd", FX_LATEST, &usd_kwd), 0);
	round_trip(&usd_kwd, "usd", "kwd", 0); /* one cent = 3.075 fils */
	round_trip(&usd_kwd, "kwd", "usd", 2); /* one fils = 0.325 cents: ceil(1.54) = 2 */
	fx_table_free(h);
	fx_table_free(t);
}

Test(fx, overflow_and_unrepresentable_rates)
{
	struct fx_table *t = fx_table_load_bundled();
	int64_t out = SENTINEL;
	struct fx_rate r;
	cr_assert_eq(fx_convert(t, INT64_MAX, "usd", "jpy", FX_LATEST, &out, &r),
		     MONEY_ERR_OVERFLOW);
	cr_assert_eq(fx_convert(t, INT64_MIN, "usd", "jpy", FX_LATEST, &out, &r),
		     MONEY_ERR_OVERFLOW);
	/* Large but fine: 92,233,720,368,547,758.07 usd → eur (rate < 1) fits. */
	cr_assert_eq(fx_convert(t, INT64_MAX, "usd", "eur", FX_LATEST, &out, &r), 0);
	cr_assert_lt(out, INT64_MAX);
	fx_table_free(t);

	/* The largest rate and exponent growth 0 → 3: amount × rate × 1000 passes 2^127. */
	t = csv("jpy,kwd,9223372.036854775807,0\n");
	out = SENTINEL;
	cr_assert_eq(fx_convert(t, INT64_MAX, "jpy", "kwd", FX_LATEST, &out, &r),
		     MONEY_ERR_OVERFLOW);
	cr_assert_eq(fx_convert(t, INT64_MIN, "jpy", "kwd", FX_LATEST, &out, &r),
		     MONEY_ERR_OVERFLOW);
	cr_assert_eq(out, SENTINEL);
	/* 1 yen = 9223372.036854775807 kwd = 9223372036.854775807 fils → 9223372037. */
	cr_assert_eq(conv(t, 1, "jpy", "kwd", FX_LATEST), INT64_C(9223372037));
	fx_table_free(t);

	/* Inverting 10^-12 gives 10^12 per unit: above the 9,223,372 limit. */
	t = csv("eur,idr,0.000000000001,0\n");
	cr_assert_eq(fx_lookup(t, "idr", "eur", FX_LATEST, &r), MONEY_ERR_OVERFLOW);
	fx_table_free(t);
	/* Cross rates out of range both ways: 10^-6 / 9·10^6 < 10^-12, 9·10^6 / 10^-6 > 9.2·10^6.
	 */
	t = csv("eur,usd,0.000001,0\neur,jpy,9000000,0\n");
	cr_assert_eq(fx_lookup(t, "jpy", "usd", FX_LATEST, &r), MONEY_ERR_OVERFLOW);
	cr_assert_eq(fx_lookup(t, "usd", "jpy", FX_LATEST, &r), MONEY_ERR_OVERFLOW);
	fx_table_free(t);
}

/* ---- parsing ---- */

Test(fx, parse_decimal_exactly)
{
	int64_t v = SENTINEL;
	cr_assert_eq(fx_rate_parse_decimal("1.0823", 6, &v), 0);
	cr_assert_eq(v, INT64_C(1082300000000));
	cr_assert_eq(fx_rate_parse_decimal("156", 3, &v), 0);
	cr_assert_eq(v, INT64_C(156000000000000));
	cr_assert_eq(fx_rate_parse_decimal("0.000123456789", 14, &v), 0); /* 12 decimals */
	cr_assert_eq(v, INT64_C(123456789));
	cr_assert_eq(fx_rate_parse_decimal("0.000000000001", 14, &v), 0);
	cr_assert_eq(v, 1);
	cr_assert_eq(fx_rate_parse_decimal("2.5000000000000000", 18, &v), 0); /* extra zeros */
	cr_assert_eq(v, INT64_C(2500000000000));
	cr_assert_eq(fx_rate_parse_decimal("0009223372.036854775807", 23, &v), 0);
	cr_assert_eq(v, INT64_MAX);
	/* "1.5" followed by more text: only len bytes count. */
	cr_assert_eq(fx_rate_parse_decimal("1.5xyz", 3, &v), 0);
	cr_assert_eq(v, INT64_C(1500000000000));

	v = SENTINEL;
	const char *bad[] = {"",      "0",    "0.0", "-1.2",
			     "+1",    "1e3",  "1.",  ".5",
			     "1.2.3", "abc",  " 1",  "1 ",
			     "1,5",   "0x10", "١",   "0.0000000000001" /* 13th decimal not zero */};
	for (size_t i = 0; i < N(bad); i++)
		cr_assert_eq(fx_rate_parse_decimal(bad[i], strlen(bad[i]), &v), MONEY_ERR_INVALID,
			     "'%s'", bad[i]);
	cr_assert_eq(fx_rate_parse_decimal("9223372.036854775808", 20, &v), MONEY_ERR_OVERFLOW);
	cr_assert_eq(fx_rate_parse_decimal("9223373", 7, &v), MONEY_ERR_OVERFLOW);
	cr_assert_eq(fx_rate_parse_decimal("99999999999999999999999", 23, &v), MONEY_ERR_OVERFLOW);
	cr_assert_eq(fx_rate_parse_decimal(NULL, 0, &v), MONEY_ERR_INVALID);
	cr_assert_eq(v, SENTINEL);
}

Test(fx, csv_accepts_headers_comments_crlf_and_case)
{
	struct fx_table *t = csv("# Tender rates\r\n"
				 "base,quote,rate,valid_from\r\n"
				 "\r\n"
				 "  USD , BTN , 0.000123456789 , 1767225600 \r\n"
				 "eur,usd,1.0823,2026-01-01\r\n"
				 "# a comment\n"
				 "eur,usd,1.09,2028-02-29"); /* leap day, no final newline */
	cr_assert_eq(fx_table_count(t), 3);
	struct fx_rate r;
	/* In (base, quote, valid_from) order of the currency table. */
	cr_assert_eq(fx_table_at(t, 0, &r), 0);
	cr_assert_str_eq(r.base, "eur");
	cr_assert_str_eq(r.quote, "usd");
	cr_assert_eq(r.valid_from, T_2026_01_01);
	cr_assert_eq(fx_table_at(t, 1, &r), 0);
	cr_assert_eq(r.rate_e12, INT64_C(1090000000000));
	cr_assert_eq(r.valid_from, INT64_C(1835395200)); /* 2028-02-29 */
	cr_assert_eq(fx_table_at(t, 2, &r), 0);
	cr_assert_str_eq(r.base, "usd");
	cr_assert_str_eq(r.quote, "btn");
	cr_assert_eq(r.rate_e12, INT64_C(123456789));
	cr_assert_str_eq(rate_str(&r), "0.000123456789");
	cr_assert_eq(fx_table_at(t, 3, &r), MONEY_ERR_INVALID);
	/* 1000.00 usd × 0.000123456789 = 0.123456789 btn → 12 (0.12). */
	cr_assert_eq(conv(t, 100000, "usd", "btn", FX_LATEST), 12);
	fx_table_free(t);
}

Test(fx, csv_malformed_lines_fail_with_their_line_number)
{
	csv_fails("eur,usd,1.0823\n", "csv line 1: want 4 fields");
	csv_fails("# x\neur,usd,1.1,2026-01-01\neur,jpy\n", "csv line 3");
	csv_fails("eur,usd,1.0823,2026-01-01,extra\n", "want 4 fields");
	csv_fails("eur,usd,1.0823,2026-01-01,,\n", "want 4 fields");
	csv_fails("base,quote,rate,valid_from\nbase,quote,rate,valid_from\n", "csv line 2");
	csv_fails("eur,xyz,1.1,2026-01-01\n", "unknown currency 'xyz'");
	csv_fails("eur,usdd,1.1,2026-01-01\n", "unknown currency");
	csv_fails("xau,usd,1.1,2026-01-01\n", "unknown currency 'xau'");
	csv_fails("eur,EUR,1,2026-01-01\n", "both eur");
	csv_fails("eur,usd,0,2026-01-01\n", "rate '0'");
	csv_fails("eur,usd,0.000,2026-01-01\n", "not a positive decimal");
	csv_fails("eur,usd,-1.08,2026-01-01\n", "rate '-1.08'");
	csv_fails("eur,usd,1e3,2026-01-01\n", "not a positive decimal");
	csv_fails("eur,usd,,2026-01-01\n", "not a positive decimal");
	csv_fails("eur,usd,1.0000000000001,2026-01-01\n", "not a positive decimal");
	csv_fails("eur,usd,9223373,2026-01-01\n", "not a positive decimal");
	csv_fails("eur,usd,1.1,2026-02-29\n", "valid_from '2026-02-29'"); /* not a leap year */
	csv_fails("eur,usd,1.1,2026-13-01\n", "valid_from");
	csv_fails("eur,usd,1.1,2026-04-31\n", "valid_from");
	csv_fails("eur,usd,1.1,1969-12-31\n", "valid_from");
	csv_fails("eur,usd,1.1,2026-1-1\n", "valid_from");
	csv_fails("eur,usd,1.1,-5\n", "valid_from");
	csv_fails("eur,usd,1.1,yesterday\n", "valid_from");
	csv_fails("eur,usd,1.1,99999999999999999999\n", "valid_from");
	csv_fails("eur,usd,1.1,2026-01-01\nEUR,USD,1.2,1767225600\n", "duplicate rate eur->usd");
	csv_fails("", "no exchange rates");
	csv_fails("# only a comment\n\nbase,quote,rate,valid_from\n", "no exchange rates");
	char *big = malloc(1200);
	memset(big, '1', 1199);
	big[1199] = '\0';
	memcpy(big, "eur,usd,", 8);
	csv_fails(big, "longer than 1024");
	free(big);
	/* An embedded NUL is just a bad byte. */
	char nul[] = "eur,usd,1.1,2026-01-01\n";
	nul[9] = '\0';
	char err[128] = "";
	cr_assert_null(fx_table_load_csv(nul, sizeof(nul) - 1, err, sizeof(err)));
	cr_assert_not_null(strstr(err, "csv line 1"), "%s", err);
	/* NULL err is allowed. */
	cr_assert_null(fx_table_load_csv("junk", 4, NULL, 0));
}

/* Any byte clobbered, any prefix: a table or a refusal, never a crash or a leak. */
Test(fx, csv_truncated_and_mutated_input)
{
	const char *good = "base,quote,rate,valid_from\r\n# c\neur,usd,1.0823,2026-01-01\n"
			   "usd,jpy,156.734238103419,1767225600\n";
	size_t len = strlen(good);
	const char clobber[] = {',', '\n', '\r', '.', '#', '\0', ' ', '-', '9', 'x'};
	char *copy = malloc(len);
	for (size_t i = 0; i < len; i++) {
		for (size_t k = 0; k < sizeof(clobber); k++) {
			memcpy(copy, good, len);
			copy[i] = clobber[k];
			fx_table_free(fx_table_load_csv(copy, len, NULL, 0));
		}
		fx_table_free(fx_table_load_csv(good, i, NULL, 0));
	}
	free(copy);
}

Test(fx, bundled_snapshot_loads)
{
	struct fx_table *t = fx_table_load_bundled();
	cr_assert_not_null(t);
	cr_assert_eq(fx_table_count(t), 29);
	struct fx_rate r;
	cr_assert_eq(fx_lookup(t, "eur", "usd", FX_LATEST, &r), 0);
	cr_assert_eq(r.rate_e12, INT64_C(1164200000000));
	cr_assert_eq(r.valid_from, T_2026_11_20);
	cr_assert_eq(fx_lookup(t, "eur", "usd", T_2026_11_20 - 1, &r), MONEY_ERR_NO_RATE);
	/* usd→jpy = 182.47 / 1.1642 = 156.734238103418655… → 156.734238103419. */
	cr_assert_eq(fx_lookup(t, "usd", "jpy", T_2026_11_20, &r), 0);
	cr_assert_eq(r.rate_e12, INT64_C(156734238103419));
	cr_assert_str_eq(rate_str(&r), "156.734238103419");
	/* Every rate in the snapshot is eur-based and reachable from usd. */
	for (size_t i = 0; i < fx_table_count(t); i++) {
		cr_assert_eq(fx_table_at(t, i, &r), 0);
		cr_assert_str_eq(r.base, "eur");
		struct fx_rate x;
		if (strcmp(r.quote, "usd") != 0)
			cr_assert_eq(fx_lookup(t, "usd", r.quote, FX_LATEST, &x), 0, "%s", r.quote);
	}
	fx_table_free(t);
}

/* data/rates/ecb-snapshot.xml is the source of rates_bundled.c: they must not drift apart. */
Test(fx, embedded_snapshot_matches_its_source_file)
{
	const char *self = __FILE__, *suffix = "tests/unit/money/test_fx.c";
	size_t n = strlen(self), sn = strlen(suffix);
	if (n < sn || strcmp(self + n - sn, suffix) != 0)
		cr_skip_test("cannot locate the source tree from %s", self);
	char path[4096];
	snprintf(path, sizeof(path), "%.*sdata/rates/ecb-snapshot.xml", (int)(n - sn), self);
	FILE *f = fopen(path, "rb");
	if (!f)
		cr_skip_test("%s not found (tests run outside the source tree?)", path);
	char *data = malloc(fx_rates_bundled_xml_len + 2);
	size_t got = fread(data, 1, fx_rates_bundled_xml_len + 2, f);
	fclose(f);
	cr_assert_eq(got, fx_rates_bundled_xml_len, "rerun data/rates/embed.sh");
	cr_assert(memcmp(data, fx_rates_bundled_xml, got) == 0, "rerun data/rates/embed.sh");
	free(data);
}

static const char *HIST = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
			  "<!-- a comment with <Cube currency='USD' rate='9'/> inside -->\n"
			  "<gesmes:Envelope xmlns:gesmes=\"http://www.gesmes.org/xml/2002-08-01\" "
			  "xmlns=\"http://www.ecb.int/vocabulary/2002-08-01/eurofxref\">\n"
			  "<gesmes:subject>Reference rates</gesmes:subject>\n"
			  "<Cube>\n"
			  "<Cube time=\"2026-11-20\"><Cube currency=\"USD\" rate=\"1.1700\"/>"
			  "<Cube currency=\"CYP\" rate=\"0.5\"/></Cube>\n"
			  "<Cube time='2026-11-19'>\n"
			  "  <Cube currency = 'USD' rate = '1.1600' />\n"
			  "  <Cube currency='JPY' rate='180'></Cube>\n"
			  "</Cube>\n"
			  "</Cube>\n"
			  "</gesmes:Envelope>\n";

Test(fx, ecb_history_layout)
{
	char err[256] = "";
	struct fx_table *t = fx_table_load_ecb(HIST, strlen(HIST), err, sizeof(err));
	cr_assert_not_null(t, "%s", err);
	cr_assert_eq(fx_table_count(t), 3); /* CYP (withdrawn) skipped */
	struct fx_rate r;
	cr_assert_eq(fx_lookup(t, "eur", "usd", T_2026_11_20 - 1, &r), 0);
	cr_assert_eq(r.rate_e12, INT64_C(1160000000000));
	cr_assert_eq(fx_lookup(t, "eur", "usd", FX_LATEST, &r), 0);
	cr_assert_eq(r.rate_e12, INT64_C(1170000000000));
	/* jpy only on the 19th: still the newest jpy rate on the 20th. */
	cr_assert_eq(fx_lookup(t, "usd", "jpy", FX_LATEST, &r), 0);
	cr_assert_eq(r.valid_from, T_2026_11_20);
	fx_table_free(t);
}

#define CUBE_OPEN "<Cube><Cube time='2026-11-20'>"
#define CUBE_CLOSE "</Cube></Cube>"

Test(fx, ecb_malformed_documents_fail_cleanly)
{
	ecb_fails(CUBE_OPEN "<Cube currency='USD' rate='1.1'", "unterminated tag");
	ecb_fails("<Cube><Cube currency='USD' rate='1.1'/></Cube>", "outside");
	ecb_fails("<Cube><Cube time='2026-11-20'></Cube><Cube currency='USD' rate='1.1'/></Cube>",
		  "outside");
	ecb_fails(CUBE_OPEN "<Cube currency='USD'/>" CUBE_CLOSE, "both currency and rate");
	ecb_fails(CUBE_OPEN "<Cube rate='1.1'/>" CUBE_CLOSE, "both currency and rate");
	ecb_fails(CUBE_OPEN "<Cube currency='USD' rate='-1.1'/>" CUBE_CLOSE, "rate is not");
	ecb_fails(CUBE_OPEN "<Cube currency='USD' rate='0'/>" CUBE_CLOSE, "rate is not");
	ecb_fails(CUBE_OPEN "<Cube currency='USD' rate='1,1'/>" CUBE_CLOSE, "rate is not");
	ecb_fails(CUBE_OPEN "<Cube currency='USD' rate=''/>" CUBE_CLOSE, "rate is not");
	ecb_fails(CUBE_OPEN "<Cube currency='US' rate='1.1'/>" CUBE_CLOSE, "three-letter");
	ecb_fails(CUBE_OPEN "<Cube currency='EUR' rate='1'/>" CUBE_CLOSE, "eur rate");
	ecb_fails(CUBE_OPEN "<Cube currency=USD rate='1.1'/>" CUBE_CLOSE, "malformed attribute");
	ecb_fails(CUBE_OPEN "<Cube currency='USD rate='1.1'/>" CUBE_CLOSE, "malformed attribute");
	ecb_fails(CUBE_OPEN "<Cube currency='USD' rate='1.1'/ >" CUBE_CLOSE, "malformed '/>'");
	ecb_fails("<Cube><Cube time='2026-1-01'>" CUBE_CLOSE, "time");
	ecb_fails("<Cube><Cube time='1795132800'>" CUBE_CLOSE, "time");
	ecb_fails("<Cube><Cube time='2026-02-30'>" CUBE_CLOSE, "time");
	ecb_fails("<!DOCTYPE x [<!ENTITY a 'b'>]><Cube/>", "not supported");
	ecb_fails("<![CDATA[x]]>", "not supported");
	ecb_fails(CUBE_OPEN "<Cube currency='USD' rate='1.1'/></Cube>", "unclosed");
	ecb_fails("</Cube>", "unbalanced");
	ecb_fails("</>", "malformed end tag");
	ecb_fails("< Cube>", "malformed start tag");
	ecb_fails("<!-- never closed <Cube>", "unterminated comment");
	ecb_fails("<?xml version='1.0'", "unterminated");
	ecb_fails("", "no exchange rates");
	ecb_fails("<Cube></Cube>", "no exchange rates");
	ecb_fails(CUBE_OPEN
		  "<Cube currency='USD' rate='1.1'/><Cube currency='usd' rate='1.2'/>" CUBE_CLOSE,
		  "duplicate rate eur->usd");
	ecb_fails("<Cube a='1' b='1' c='1' d='1' e='1' f='1' g='1' h='1' i='1' j='1' k='1' l='1' "
		  "m='1' n='1' o='1' p='1' q='1'/>",
		  "too many attributes");
	/* Errors name the line. */
	ecb_fails("\n\n<Cube>\n<Cube currency='USD' rate='1.1'/>", "ecb line 4: rate outside");
	/* Deep nesting is bounded. */
	char deep[65 * 6 + 1];
	for (int i = 0; i < 65; i++)
		memcpy(deep + i * 6, "<Cube>", 6);
	deep[65 * 6] = '\0';
	ecb_fails(deep, "nested too deeply");
}

/* Every prefix of a valid file, and the file with any byte clobbered: no crash, no leak
 * (the sanitizer build checks), and a cut before the last </Cube> is always refused. */
Test(fx, ecb_truncated_and_mutated_input)
{
	size_t len = fx_rates_bundled_xml_len;
	const char *last = NULL;
	for (const char *p = fx_rates_bundled_xml; (p = strstr(p, "</Cube>")) != NULL; p++)
		last = p;
	cr_assert_not_null(last);
	size_t must_fail_below = (size_t)(last - fx_rates_bundled_xml) + strlen("</Cube>");
	for (size_t n = 0; n < len; n++) {
		char *copy = malloc(n ? n : 1); /* exact size: ASan catches any read past the end */
		memcpy(copy, fx_rates_bundled_xml, n);
		struct fx_table *t = fx_table_load_ecb(copy, n, NULL, 0);
		if (n < must_fail_below)
			cr_assert_null(t, "prefix of %zu bytes accepted", n);
		fx_table_free(t);
		free(copy);
	}
	const char clobber[] = {'<', '>', '\'', '"', '/', '=', '\0', '!', '?', '-'};
	char *copy = malloc(len);
	for (size_t i = 0; i < len; i++) {
		for (size_t k = 0; k < sizeof(clobber); k++) {
			memcpy(copy, fx_rates_bundled_xml, len);
			copy[i] = clobber[k];
			fx_table_free(fx_table_load_ecb(copy, len, NULL, 0));
		}
	}
	free(copy);
}

static char *write_temp(const char *content, size_t len)
{
	static char path[64];
	snprintf(path, sizeof(path), "/tmp/tender-fx-XXXXXX");
	int fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, content, len), (ssize_t)len);
	close(fd);
	return path;
}

Test(fx, load_file_detects_the_format)
{
	char err[256] = "";
	const char *c = "\xEF\xBB\xBF"
			"eur,usd,1.25,2026-01-01\n";
	char *p = write_temp(c, strlen(c));
	struct fx_table *t = fx_table_load_file(p, err, sizeof(err));
	unlink(p);
	cr_assert_not_null(t, "%s", err);
	cr_assert_eq(conv(t, 100, "eur", "usd", FX_LATEST), 125);
	fx_table_free(t);

	char *x = malloc(strlen(HIST) + 8);
	snprintf(x, strlen(HIST) + 8, "\n  %s", HIST);
	p = write_temp(x, strlen(x));
	free(x);
	t = fx_table_load_file(p, err, sizeof(err));
	unlink(p);
	cr_assert_not_null(t, "%s", err);
	cr_assert_eq(fx_table_count(t), 3);
	fx_table_free(t);

	p = write_temp("<Cube>", 6);
	cr_assert_null(fx_table_load_file(p, err, sizeof(err)));
	unlink(p);
	cr_assert_not_null(strstr(err, "ecb"), "%s", err);

	cr_assert_null(fx_table_load_file("/nonexistent/rates.csv", err, sizeof(err)));
	cr_assert_not_null(strstr(err, "/nonexistent/rates.csv"), "%s", err);
}

Test(fx, rate_strings_for_exchange_rate)
{
	struct fx_rate r;
	cr_assert_eq(fx_rate_init(&r, "eur", "usd", INT64_C(1082300000000), 0), 0);
	cr_assert_str_eq(rate_str(&r), "1.0823");
	r.rate_e12 = INT64_C(2000000000000);
	cr_assert_str_eq(rate_str(&r), "2");
	r.rate_e12 = 1;
	cr_assert_str_eq(rate_str(&r), "0.000000000001");
	r.rate_e12 = INT64_C(38000000);
	cr_assert_str_eq(rate_str(&r), "0.000038");
	r.rate_e12 = INT64_MAX;
	cr_assert_str_eq(rate_str(&r), "9223372.036854775807");
	cr_assert_lt(strlen(rate_str(&r)), FX_RATE_STR_MAX);
	/* The text parses back to the same integer. */
	int64_t back;
	cr_assert_eq(fx_rate_parse_decimal(rate_str(&r), strlen(rate_str(&r)), &back), 0);
	cr_assert_eq(back, INT64_MAX);

	char small[6] = "xxxxx";
	r.rate_e12 = INT64_C(1082300000000);
	cr_assert_eq(fx_rate_to_decimal_string(&r, small, sizeof(small)), MONEY_ERR_INVALID);
	cr_assert_str_eq(small, "");
	char ok[7];
	cr_assert_eq(fx_rate_to_decimal_string(&r, ok, sizeof(ok)), 0);
	cr_assert_str_eq(ok, "1.0823");
	r.rate_e12 = 0;
	cr_assert_eq(fx_rate_to_decimal_string(&r, ok, sizeof(ok)), MONEY_ERR_INVALID);
}

Test(fx, rate_init_validates)
{
	struct fx_rate r = {.rate_e12 = 77};
	cr_assert_eq(fx_rate_init(&r, "eur", "zzz", 1, 0), MONEY_ERR_UNKNOWN_CURRENCY);
	cr_assert_eq(fx_rate_init(&r, "eur", "usd", 0, 0), MONEY_ERR_INVALID);
	cr_assert_eq(fx_rate_init(&r, "eur", "usd", -5, 0), MONEY_ERR_INVALID);
	cr_assert_eq(fx_rate_init(&r, "eur", "eur", 2, 0), MONEY_ERR_INVALID);
	cr_assert_eq(r.rate_e12, 77);
	cr_assert_eq(fx_rate_init(&r, "eur", "eur", FX_RATE_SCALE, 0), 0);
	cr_assert_eq(fx_rate_init(&r, "jpy", "usd", 5, 42), 0);
	cr_assert_str_eq(r.base, "jpy");
	cr_assert_eq(r.valid_from, 42);
}

Test(fx, minimum_charges)
{
	struct fx_table *t = fx_table_load_bundled();
	int64_t m = SENTINEL;
	cr_assert_eq(fx_min_charge_minor(t, "usd", FX_LATEST, &m), 0);
	cr_assert_eq(m, 50);
	cr_assert_eq(fx_min_charge_minor(t, "huf", FX_LATEST, &m), 0); /* Stripe's table wins */
	cr_assert_eq(m, 17500);
	/* isk: 0.50 usd × 146.90 / 1.1642 = 63.0905… krona = 6309.05… → 6310 → step 100 → 6400. */
	cr_assert_eq(fx_min_charge_minor(t, "isk", FX_LATEST, &m), 0);
	cr_assert_eq(m, 6400);
	m = SENTINEL;
	cr_assert_eq(fx_min_charge_minor(t, "xof", FX_LATEST, &m), MONEY_ERR_NO_RATE);
	cr_assert_eq(fx_min_charge_minor(t, "nope", FX_LATEST, &m), MONEY_ERR_UNKNOWN_CURRENCY);
	cr_assert_eq(m, SENTINEL);

	/* currencies.def's derived minimums are exactly what the rule gives on the bundled rates:
	 * every currency the snapshot reaches has a minimum, Stripe's or derived. */
	static const char *stripe[] = {"usd", "aed", "aud", "bgn", "brl", "cad", "chf", "czk",
				       "dkk", "eur", "gbp", "hkd", "huf", "inr", "jpy", "mxn",
				       "myr", "nok", "nzd", "pln", "ron", "sek", "sgd", "thb"};
	size_t derived = 0;
	for (size_t i = 0; i < currency_count(); i++) {
		const struct currency *c = currency_at(i);
		struct fx_rate r;
		if (fx_lookup(t, "usd", c->code, FX_LATEST, &r) != 0)
			continue;
		bool published = false;
		for (size_t k = 0; k < N(stripe); k++)
			published |= strcmp(stripe[k], c->code) == 0;
		cr_assert_gt(c->min_charge_minor, 0, "%s has a rate but no minimum", c->code);
		if (published)
			continue;
		/* The rule itself, ignoring the table's value. */
		int64_t want = SENTINEL;
		cr_assert_eq(fx_min_charge_by_rule_minor(t, c->code, FX_LATEST, &want), 0);
		cr_assert_eq(c->min_charge_minor, want,
			     "%s: currencies.def says %lld, rule gives %lld", c->code,
			     (long long)c->min_charge_minor, (long long)want);
		derived++;
	}
	cr_assert_eq(derived, 8);

	/* Stripe's own figure differs from the rule: the table keeps Stripe's. */
	cr_assert_eq(fx_min_charge_by_rule_minor(t, "usd", FX_LATEST, &m), 0);
	cr_assert_eq(m, 50);
	cr_assert_eq(fx_min_charge_by_rule_minor(t, "huf", FX_LATEST, &m), 0);
	cr_assert_lt(m, 17500);
	fx_table_free(t);

	/* Three-decimal step: 0.50 usd × 0.376 = 0.188 bhd = 188 fils → step 10 → 190. */
	t = csv("usd,bhd,0.376,0\n");
	cr_assert_eq(fx_min_charge_minor(t, "bhd", FX_LATEST, &m), 0);
	cr_assert_eq(m, 190);
	fx_table_free(t);
}

/* ---- sharing ---- */

struct reader_arg {
	struct fx_table *t;
	int64_t want;
	int bad;
};

static void *reader(void *p)
{
	struct reader_arg *a = p;
	for (int i = 0; i < 20000; i++) {
		int64_t out;
		if (fx_convert(a->t, 10000, "usd", "jpy", FX_LATEST, &out, NULL) || out != a->want)
			a->bad++;
	}
	fx_table_free(a->t); /* drops the reference this thread was given */
	return NULL;
}

Test(fx, shared_table_with_references)
{
	struct fx_table *t = fx_table_load_bundled();
	pthread_t th[4];
	struct reader_arg args[4];
	for (int i = 0; i < 4; i++) {
		args[i] = (struct reader_arg){fx_table_ref(t), 15673, 0};
		cr_assert_eq(pthread_create(&th[i], NULL, reader, &args[i]), 0);
	}
	fx_table_free(t); /* the "swap": the owner lets go while readers still hold it */
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		cr_assert_eq(args[i].bad, 0);
	}
	fx_table_free(NULL);
}

Test(fx, names_the_currencies_its_rates_use)
{
	struct fx_table *t = csv("eur,usd,1.0823,2026-01-01\nusd,jpy,156.73,2026-01-01\n");
	cr_assert(fx_table_names(t, "eur"));
	cr_assert(fx_table_names(t, "usd"));
	cr_assert(fx_table_names(t, "jpy"));
	cr_assert_not(fx_table_names(t, "gbp"), "a known currency without a rate");
	cr_assert_not(fx_table_names(t, "EUR"), "codes are lowercase");
	cr_assert_not(fx_table_names(t, "xyz"));
	cr_assert_not(fx_table_names(NULL, "usd"));
	fx_table_free(t);
}
