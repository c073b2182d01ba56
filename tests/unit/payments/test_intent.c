/*
 * Which setup_future_usage and capture_method apply to a PaymentIntent's payment with a
 * PaymentMethod of a given type: the type's own payment_method_options when set, else the
 * intent's (Stripe's rule); "none" switches the intent's setup_future_usage off for that type.
 * And where an intent shows what its details column holds (api/pi_details.c).
 */
#include <criterion/criterion.h>
#include <string.h>

#include "api/pi_details.h"
#include "payments/payments.h"
#include "payments/pm_types.h"

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

static const char *render(const struct payment_intent *pi, bool line_items, struct arena *a)
{
	struct expand_set ex;
	memset(&ex, 0, sizeof(ex));
	ex.line_items = line_items;
	struct buf b;
	struct json j;
	buf_init(&b, 1u << 20);
	json_init(&j, &b);
	cr_assert_eq(pi_render(NULL, a, "acct_1", 0, pi, &ex, &j), DB_OK);
	const char *s = arena_strdup(a, buf_cstr(&b));
	buf_release(&b);
	return s;
}

Test(intent, details_shown_where_stripe_shows_them)
{
	struct arena a;
	arena_init(&a, 1 << 20);
	struct payment_intent pi;
	memset(&pi, 0, sizeof(pi));
	strcpy(pi.id, "pi_1");
	strcpy(pi.currency, "usd");
	pi.amount = 1005;
	pi.status = "requires_payment_method";
	pi.capture_method = pi.confirmation_method = "automatic";
	pi.client_secret = "pi_1_secret_x";
	/* none: as every intent rendered before them, byte for byte */
	const char *plain = render(&pi, true, &a);
	cr_assert_not_null(strstr(plain, "\"amount_details\":{\"tip\":{}},"));
	cr_assert_null(strstr(plain, "excluded_payment_method_types"));
	cr_assert_null(strstr(plain, "payment_details"));
	cr_assert_null(strstr(plain, "hooks"));
	cr_assert_eq(pi_details_excluded(NULL), 0);

	pi.details =
	    "{\"amount_details\":{\"discount_amount\":100,\"line_items\":[{\"id\":"
	    "\"uli_1\",\"product_name\":\"Lamp\"}],\"tax\":{\"total_tax_amount\":5}},"
	    "\"payment_details\":{\"customer_reference\":null,\"order_reference\":\"o-1\"},"
	    "\"excluded_payment_method_types\":[\"klarna\",\"paypal\"],"
	    "\"hooks\":{\"inputs\":{\"tax\":{\"calculation\":\"taxcalc_1\"}}}}";
	const char *s = render(&pi, false, &a);
	/* the line items only when expanded, the tip always */
	cr_assert_not_null(strstr(s, "\"amount_details\":{\"discount_amount\":100,\"tax\":{"
				     "\"total_tax_amount\":5},\"tip\":{}},"));
	cr_assert_not_null(
	    strstr(s, "\"excluded_payment_method_types\":[\"klarna\",\"paypal\"],"
		      "\"hooks\":{\"inputs\":{\"tax\":{\"calculation\":\"taxcalc_1\"}}},"));
	cr_assert_not_null(
	    strstr(s, "\"payment_details\":{\"customer_reference\":null,\"order_reference\":"
		      "\"o-1\"},\"payment_method\":null"));
	s = render(&pi, true, &a);
	cr_assert_not_null(strstr(
	    s, "\"discount_amount\":100,\"line_items\":{\"object\":\"list\",\"data\":[{\"id\":"
	       "\"uli_1\",\"product_name\":\"Lamp\"}],\"has_more\":false,\"url\":"
	       "\"/v1/payment_intents/pi_1/amount_details_line_items\"},\"tax\""));
	/* the types Tender offers are excluded; the others have no bit */
	cr_assert_eq(pi_details_excluded(pi.details), PMT_KLARNA);
	/* a column that is not JSON is refused, not rendered as something else */
	pi.details = "{";
	struct buf b;
	struct json j;
	buf_init(&b, 1u << 20);
	json_init(&j, &b);
	cr_assert_neq(pi_render(NULL, &a, "acct_1", 0, &pi, NULL, &j), DB_OK);
	buf_release(&b);
	arena_release(&a);
}
