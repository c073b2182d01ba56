/* US bank account checks: Stripe's test routing number passes the ABA checksum and a changed digit
 * fails it, account numbers are 4 to 17 digits, and the test accounts map to Stripe's outcomes. */
#include <criterion/criterion.h>
#include <string.h>

#include "vault/ach.h"

Test(ach, routing_numbers_pass_the_aba_checksum)
{
	char out[ACH_ROUTING_LEN + 1];
	cr_assert_eq(ach_routing_check("110000000", out), 0);
	cr_assert_str_eq(out, "110000000");
	cr_assert_eq(ach_routing_check("021000021", out), 0); /* a real bank's */
	cr_assert_eq(ach_routing_check("011000015", out), 0);
	cr_assert_eq(ach_routing_check("110000001", out), -1);	/* a changed digit */
	cr_assert_eq(ach_routing_check("021000012", out), -1);	/* two swapped */
	cr_assert_eq(ach_routing_check("11000000", out), -1);	/* eight digits */
	cr_assert_eq(ach_routing_check("1100000000", out), -1); /* ten */
	cr_assert_eq(ach_routing_check("11000000a", out), -1);
	cr_assert_eq(ach_routing_check("", out), -1);
	cr_assert_eq(ach_routing_check(NULL, out), -1);
}

Test(ach, account_numbers_are_four_to_seventeen_digits)
{
	char out[ACH_ACCOUNT_MAX + 1];
	cr_assert_eq(ach_account_check("000123456789", out), 0);
	cr_assert_str_eq(out, "000123456789");
	cr_assert_eq(ach_account_check("1234", out), 0);
	cr_assert_eq(ach_account_check("12345678901234567", out), 0);
	cr_assert_eq(ach_account_check("123", out), -1);
	cr_assert_eq(out[0], '\0');
	cr_assert_eq(ach_account_check("123456789012345678", out), -1);
	cr_assert_eq(ach_account_check("0001234-6789", out), -1);
	cr_assert_eq(ach_account_check(NULL, out), -1);
}

Test(ach, test_accounts_map_to_stripes_outcomes)
{
	cr_assert_eq(ach_test_behavior("110000000", "000123456789"), SEPA_SUCCEED);
	cr_assert_eq(ach_test_behavior("110000000", "000111111116"), BANK_NO_ACCOUNT);
	cr_assert_eq(ach_test_behavior("110000000", "000111111113"), BANK_ACCOUNT_CLOSED);
	cr_assert_eq(ach_test_behavior("110000000", "000222222227"), SEPA_INSUFFICIENT_FUNDS);
	cr_assert_eq(ach_test_behavior("110000000", "000333333335"), BANK_DEBIT_NOT_AUTHORIZED);
	cr_assert_eq(ach_test_behavior("110000000", "000444444440"), BANK_INVALID_CURRENCY);
	cr_assert_eq(ach_test_behavior("110000000", "000999999991"), SEPA_DISPUTE);
	/* the same account at another bank is just an account */
	cr_assert_eq(ach_test_behavior("021000021", "000111111116"), SEPA_SUCCEED);
	cr_assert_eq(ach_test_behavior("110000000", "987654321"), SEPA_SUCCEED);
}

Test(ach, bank_name_of_the_test_routing_number)
{
	cr_assert_str_eq(ach_bank_name("110000000"), "STRIPE TEST BANK");
	cr_assert_null(ach_bank_name("021000021"));
}
