/* Stripe Terminal's pure rules: the test amounts Stripe's Terminal testing guide declines (by
 * the amount's last two digits) and the decline they make of an approved decision. */
#include <criterion/criterion.h>
#include <string.h>

#include "api/terminal.h"

Test(terminal, test_amounts_decline_as_stripe_lists_them)
{
	cr_assert_null(terminal_test_amount_decline(2500));
	cr_assert_null(terminal_test_amount_decline(100));
	cr_assert_null(terminal_test_amount_decline(0));
	cr_assert_null(terminal_test_amount_decline(1002));
	cr_assert_null(terminal_test_amount_decline(-5));
	cr_assert_str_eq(terminal_test_amount_decline(1001), "call_issuer");
	cr_assert_str_eq(terminal_test_amount_decline(1005), "generic_decline");
	cr_assert_str_eq(terminal_test_amount_decline(5), "generic_decline");
	cr_assert_str_eq(terminal_test_amount_decline(2055), "incorrect_pin");
	cr_assert_str_eq(terminal_test_amount_decline(65), "withdrawal_count_limit_exceeded");
	cr_assert_str_eq(terminal_test_amount_decline(99975), "pin_try_exceeded");
	/* only the cents count: 10.50 is approved, 5.05 declined */
	cr_assert_null(terminal_test_amount_decline(1050));
	cr_assert_str_eq(terminal_test_amount_decline(505), "generic_decline");
}

Test(terminal, decline_replaces_an_approval)
{
	struct processor_decision d;
	memset(&d, 0, sizeof(d));
	d.approved = true;
	strcpy(d.auth_code, "ABC123");
	d.network_status = "approved_by_network";
	d.outcome_type = "authorized";
	terminal_decline(&d, "incorrect_pin");
	cr_assert_not(d.approved);
	cr_assert_str_eq(d.auth_code, "");
	cr_assert_eq(d.err, ERR_CARD_DECLINED);
	cr_assert_str_eq(d.decline_code, "incorrect_pin");
	cr_assert_str_eq(d.reason, "incorrect_pin");
	cr_assert_str_eq(d.network_status, "declined_by_network");
	cr_assert_str_eq(d.outcome_type, "issuer_declined");
}
