/* Issued card numbers: sixteen digits in Stripe's test Issuing BIN, the random part taken modulo
 * 10^5, the Luhn check digit right (a changed digit fails it), and the expiry three years on. */
#include <criterion/criterion.h>
#include <string.h>

#include "vault/issuing_card.h"
#include "vault/vault.h"

Test(issuing_card, luhn_digit_completes_known_numbers)
{
	/* 4242 4242 4242 4242 and 4000 0566 5566 5556 are Stripe's test cards */
	cr_assert_eq(issuing_luhn_digit("424242424242424", 15), '2');
	cr_assert_eq(issuing_luhn_digit("400005566556655", 15), '6');
	cr_assert_eq(issuing_luhn_digit("7992739871", 10), '3'); /* the textbook example */
	cr_assert_eq(issuing_luhn_digit("", 0), '0');
}

Test(issuing_card, numbers_are_luhn_valid_in_the_test_bin)
{
	const uint64_t seeds[] = {0, 1, 99999, 100000, 123456789, UINT64_MAX};
	for (size_t i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
		char n[ISSUING_NUMBER_LEN + 1];
		issuing_number_make(seeds[i], n);
		cr_assert_eq(strlen(n), 16);
		cr_assert_eq(strncmp(n, ISSUING_BIN, 10), 0);
		struct vault_card_info info;
		cr_assert_eq(vault_card_validate(n, "12", "2040", NULL, 1700000000, &info), 0, "%s",
			     n);
		cr_assert_str_eq(info.brand, "visa");
		/* a changed digit fails the check */
		n[12] = n[12] == '9' ? '0' : (char)(n[12] + 1);
		cr_assert_neq(vault_card_validate(n, "12", "2040", NULL, 1700000000, &info), 0);
	}
	char a[17], b[17];
	issuing_number_make(12345, a);
	issuing_number_make(12345 + 100000, b);
	cr_assert_str_eq(a, b); /* only the seed modulo 10^5 counts */
	cr_assert_eq(strncmp(a + 10, "12345", 5), 0);
}

Test(issuing_card, expiry_is_three_years_on)
{
	int m = 0, y = 0;
	issuing_card_expiry(1700000000, &m, &y); /* 2023-11-14 */
	cr_assert_eq(m, 11);
	cr_assert_eq(y, 2026);
	issuing_card_expiry(1704067200, &m, &y); /* 2024-01-01 00:00 UTC */
	cr_assert_eq(m, 1);
	cr_assert_eq(y, 2027);
}
