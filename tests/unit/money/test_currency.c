#include <criterion/criterion.h>
#include <string.h>

#include "money/currency.h"

static const char *zero[] = {"bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga",
			     "pyg", "rwf", "ugx", "vnd", "vuv", "xaf", "xof", "xpf"};
static const char *three_stripe[] = {"bhd", "jod", "kwd", "omr", "tnd"};
#define N(a) (sizeof(a) / sizeof((a)[0]))

Test(currency, stripe_zero_and_three_decimal_lists)
{
	for (size_t i = 0; i < N(zero); i++) {
		cr_assert_not_null(currency_find(zero[i]), "%s", zero[i]);
		cr_assert_eq(currency_find(zero[i])->exponent, 0, "%s", zero[i]);
	}
	for (size_t i = 0; i < N(three_stripe); i++) {
		cr_assert_not_null(currency_find(three_stripe[i]), "%s", three_stripe[i]);
		cr_assert_eq(currency_find(three_stripe[i])->exponent, 3, "%s", three_stripe[i]);
	}
	cr_assert_eq(currency_find("usd")->exponent, 2);
	cr_assert_eq(currency_find("eur")->numeric, 978);
	cr_assert_eq(currency_find("jpy")->numeric, 392);
	cr_assert_eq(currency_find("kwd")->numeric, 414);
}

/* Exactly Stripe's zero-decimal list is exponent 0, and exactly Stripe's three-decimal list
 * plus ISO's iqd and lyd is exponent 3; everything else, Stripe's special cases included, is 2. */
Test(currency, every_other_currency_is_two_decimal)
{
	size_t n0 = 0, n3 = 0;
	for (size_t i = 0; i < currency_count(); i++) {
		const struct currency *c = currency_at(i);
		bool in0 = false, in3 = false;
		for (size_t k = 0; k < N(zero); k++)
			in0 |= strcmp(zero[k], c->code) == 0;
		for (size_t k = 0; k < N(three_stripe); k++)
			in3 |= strcmp(three_stripe[k], c->code) == 0;
		in3 |= strcmp(c->code, "iqd") == 0 || strcmp(c->code, "lyd") == 0;
		int want = in0 ? 0 : in3 ? 3 : 2;
		cr_assert_eq(c->exponent, want, "%s: exponent %d, want %d", c->code, c->exponent,
			     want);
		n0 += c->exponent == 0;
		n3 += c->exponent == 3;
	}
	cr_assert_eq(n0, 16);
	cr_assert_eq(n3, 7);
	/* Stripe's special cases: two-decimal in the API. */
	cr_assert_eq(currency_find("isk")->exponent, 2);
	cr_assert_eq(currency_find("huf")->exponent, 2);
	cr_assert_eq(currency_find("twd")->exponent, 2);
}

Test(currency, stripe_published_minimums)
{
	static const struct {
		const char *code;
		int64_t min;
	} want[] = {{"usd", 50},   {"aed", 200}, {"aud", 50},	 {"bgn", 100}, {"brl", 50},
		    {"cad", 50},   {"chf", 50},	 {"czk", 1500},	 {"dkk", 250}, {"eur", 50},
		    {"gbp", 30},   {"hkd", 400}, {"huf", 17500}, {"inr", 50},  {"jpy", 50},
		    {"mxn", 1000}, {"myr", 200}, {"nok", 300},	 {"nzd", 50},  {"pln", 200},
		    {"ron", 200},  {"sek", 300}, {"sgd", 50},	 {"thb", 1000}};
	for (size_t i = 0; i < N(want); i++) {
		const struct currency *c = currency_find(want[i].code);
		cr_assert_not_null(c, "%s", want[i].code);
		cr_assert_eq(c->min_charge_minor, want[i].min, "%s", want[i].code);
	}
	/* No published minimum and no bundled rate: none enforced. */
	cr_assert_eq(currency_find("xof")->min_charge_minor, 0);
	cr_assert_eq(currency_find("kwd")->min_charge_minor, 0);
}

Test(currency, charge_steps_and_minimums_respect_them)
{
	cr_assert_eq(currency_find("isk")->charge_step_minor, 100);
	for (size_t i = 0; i < N(three_stripe); i++)
		cr_assert_eq(currency_find(three_stripe[i])->charge_step_minor, 10);
	cr_assert_eq(currency_find("usd")->charge_step_minor, 1);
	cr_assert_eq(currency_find("huf")->charge_step_minor, 1);
	for (size_t i = 0; i < currency_count(); i++) {
		const struct currency *c = currency_at(i);
		cr_assert_geq(c->charge_step_minor, 1, "%s", c->code);
		cr_assert_geq(c->min_charge_minor, 0, "%s", c->code);
		cr_assert_eq(c->min_charge_minor % c->charge_step_minor, 0, "%s", c->code);
	}
}

Test(currency, table_is_sorted_unique_and_complete_enough)
{
	cr_assert_geq(currency_count(), 155);
	cr_assert_null(currency_at(currency_count()));
	for (size_t i = 1; i < currency_count(); i++)
		cr_assert_lt(strcmp(currency_at(i - 1)->code, currency_at(i)->code), 0, "%s",
			     currency_at(i)->code);
	for (size_t i = 0; i < currency_count(); i++) {
		const struct currency *c = currency_at(i);
		cr_assert_eq(strlen(c->code), 3);
		for (int k = 0; k < 3; k++)
			cr_assert(c->code[k] >= 'a' && c->code[k] <= 'z', "%s", c->code);
		cr_assert(c->numeric > 0 && c->numeric < 1000, "%s", c->code);
		cr_assert_eq(currency_find(c->code), c);
	}
	/* Recent ISO additions are there. */
	cr_assert_not_null(currency_find("xcg"));
	cr_assert_not_null(currency_find("zwg"));
	cr_assert_not_null(currency_find("sle"));
}

Test(currency, unknown_codes)
{
	cr_assert_null(currency_find("zzz"));
	cr_assert_null(currency_find("USD"));
	cr_assert_null(currency_find("Usd"));
	cr_assert_null(currency_find("us"));
	cr_assert_null(currency_find("usdx"));
	cr_assert_null(currency_find(""));
	cr_assert_null(currency_find(NULL));
	cr_assert_null(currency_find("xau")); /* metals, funds, test codes are left out */
	cr_assert_null(currency_find("xts"));
	cr_assert_null(currency_find("hrk")); /* withdrawn 2023 */
}

Test(currency, list_codes_for_error_messages)
{
	struct buf b;
	buf_init(&b, 0);
	currency_list_codes(&b);
	const char *s = buf_cstr(&b);
	cr_assert(strncmp(s, "aed, afn, ", 10) == 0, "%s", s);
	cr_assert_not_null(strstr(s, ", usd, "));
	size_t commas = 0;
	for (const char *p = s; *p; p++)
		commas += *p == ',';
	cr_assert_eq(commas, currency_count() - 1);
	const char *last = currency_at(currency_count() - 1)->code;
	cr_assert_str_eq(s + strlen(s) - 3, last);
	buf_release(&b);
}

Test(currency, documented_minimums_are_the_published_table)
{
	static const char *const published[] = {
	    "aed", "aud", "bgn", "brl", "cad", "chf", "czk", "dkk", "eur", "gbp", "hkd", "huf",
	    "inr", "jpy", "mxn", "myr", "nok", "nzd", "pln", "ron", "sek", "sgd", "thb", "usd",
	};
	size_t documented = 0;
	for (size_t i = 0; currency_at(i); i++)
		documented += currency_min_documented(currency_at(i)->code) ? 1 : 0;
	cr_assert_eq(documented, sizeof(published) / sizeof(published[0]));
	for (size_t i = 0; i < sizeof(published) / sizeof(published[0]); i++) {
		cr_assert(currency_min_documented(published[i]), "%s", published[i]);
		cr_assert_gt(currency_find(published[i])->min_charge_minor, 0, "%s", published[i]);
	}
	/* derived or unknown minimums are not Stripe's published ones */
	cr_assert_not(currency_min_documented("krw"));
	cr_assert_not(currency_min_documented("kwd"));
	cr_assert_not(currency_min_documented("zzz"));
	cr_assert_not(currency_min_documented(NULL));
}
