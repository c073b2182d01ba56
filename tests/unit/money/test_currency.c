#include <criterion/criterion.h>
#include <string.h>

#include "money/currency.h"

Test(currency, stripe_zero_and_three_decimal_lists)
{
	const char *zero[] = {"bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga",
	                      "pyg", "rwf", "ugx", "vnd", "vuv", "xaf", "xof", "xpf"};
	const char *three[] = {"bhd", "jod", "kwd", "omr", "tnd"};
	for (size_t i = 0; i < sizeof(zero) / sizeof(zero[0]); i++) {
		cr_assert_not_null(currency_find(zero[i]), "%s", zero[i]);
		cr_assert_eq(currency_find(zero[i])->exponent, 0, "%s", zero[i]);
	}
	for (size_t i = 0; i < sizeof(three) / sizeof(three[0]); i++)
		cr_assert_eq(currency_find(three[i])->exponent, 3, "%s", three[i]);
	cr_assert_eq(currency_find("usd")->exponent, 2);
	cr_assert_eq(currency_find("usd")->min_charge_minor, 50);
	cr_assert_eq(currency_find("eur")->numeric, 978);
}

Test(currency, table_is_sorted_unique_and_complete_enough)
{
	cr_assert_geq(currency_count(), 150);
	for (size_t i = 1; i < currency_count(); i++)
		cr_assert_lt(strcmp(currency_at(i - 1)->code, currency_at(i)->code), 0, "%s",
		             currency_at(i)->code);
	for (size_t i = 0; i < currency_count(); i++)
		cr_assert_eq(currency_find(currency_at(i)->code), currency_at(i));
}

Test(currency, unknown_codes)
{
	cr_assert_null(currency_find("zzz"));
	cr_assert_null(currency_find("USD"));
	cr_assert_null(currency_find("us"));
	cr_assert_null(currency_find(""));
	cr_assert_null(currency_find(NULL));
}
