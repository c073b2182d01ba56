/* Treasury account numbers (vault/treasury_address.h): twelve digits, never a leading zero,
 * made from the whole random seed. */
#include <criterion/criterion.h>
#include <ctype.h>
#include <string.h>

#include "vault/treasury_address.h"

Test(treasury_address, numbers_are_twelve_digits_without_a_leading_zero)
{
	const uint64_t seeds[] = {0, 1, 8, 9, 123456789, UINT64_MAX};
	for (size_t i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
		char n[TREASURY_ACCOUNT_LEN + 1];
		treasury_account_number_make(seeds[i], n);
		cr_assert_eq(strlen(n), TREASURY_ACCOUNT_LEN);
		cr_assert_neq(n[0], '0', "%s", n);
		for (size_t k = 0; k < TREASURY_ACCOUNT_LEN; k++)
			cr_assert(isdigit((unsigned char)n[k]), "%s", n);
	}
	char a[TREASURY_ACCOUNT_LEN + 1], b[TREASURY_ACCOUNT_LEN + 1];
	treasury_account_number_make(0, a);
	cr_assert_str_eq(a, "100000000000");
	treasury_account_number_make(9, b); /* 9 = 1 × 9 + 0: first digit 1, next digit 1 */
	cr_assert_str_eq(b, "110000000000");
	treasury_account_number_make(10, a);
	treasury_account_number_make(11, b);
	cr_assert_str_neq(a, b);
}
