/*
 * Which setup_future_usage and capture_method apply to a PaymentIntent's payment with a
 * PaymentMethod of a given type: the type's own payment_method_options when set, else the
 * intent's (Stripe's rule); "none" switches the intent's setup_future_usage off for that type.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "payments/payments.h"

Test(intent, setup_future_usage_per_type)
{
	struct payment_intent pi;
	memset(&pi, 0, sizeof(pi));
	pi.setup_future_usage = "off_session";
	pi.pmo_ideal_setup_future_usage = "none";
	pi.pmo_bancontact_setup_future_usage = "off_session";
	cr_assert_null(pi_setup_future_usage(&pi, "ideal"));
	cr_assert_str_eq(pi_setup_future_usage(&pi, "bancontact"), "off_session");
	cr_assert_str_eq(pi_setup_future_usage(&pi, "card"), "off_session");
	/* the lenders have no option of their own: the intent's applies */
	cr_assert_str_eq(pi_setup_future_usage(&pi, "klarna"), "off_session");
	pi.setup_future_usage = NULL;
	cr_assert_null(pi_setup_future_usage(&pi, "klarna"));
	cr_assert_str_eq(pi_setup_future_usage(&pi, "bancontact"), "off_session");
}

Test(intent, capture_method_per_type)
{
	struct payment_intent pi;
	memset(&pi, 0, sizeof(pi));
	pi.capture_method = "automatic";
	pi.pmo_klarna_capture_method = "manual";
	cr_assert_str_eq(pi_capture_method(&pi, "klarna"), "manual");
	cr_assert_str_eq(pi_capture_method(&pi, "card"), "automatic");
	cr_assert_str_eq(pi_capture_method(&pi, "affirm"), "automatic");
	/* and the other way round: the card held, the lenders captured at once */
	pi.pmo_klarna_capture_method = NULL;
	pi.pmo_card_capture_method = "manual";
	cr_assert_str_eq(pi_capture_method(&pi, "card"), "manual");
	cr_assert_str_eq(pi_capture_method(&pi, "klarna"), "automatic");
	/* a bank has no option of its own: the intent's applies */
	pi.capture_method = "manual";
	cr_assert_str_eq(pi_capture_method(&pi, "ideal"), "manual");
	pi.pmo_afterpay_capture_method = "manual";
	cr_assert_str_eq(pi_capture_method(&pi, "afterpay_clearpay"), "manual");
}
