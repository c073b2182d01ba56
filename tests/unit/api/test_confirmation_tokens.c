/* A ConfirmationToken's payment_method_preview: the PaymentMethod's public shape, nothing that
 * names the PaymentMethod itself. */
#include <criterion/criterion.h>
#include <string.h>

#include "api/resources.h"
#include "core/arena.h"

static struct arena a;

static void setup(void)
{
	arena_init(&a, 1 << 20);
}

static void teardown(void)
{
	arena_release(&a);
}

TestSuite(confirmation_tokens, .init = setup, .fini = teardown);

Test(confirmation_tokens, preview_drops_what_names_the_payment_method)
{
	const char *pm =
	    "{\"id\":\"pm_123\",\"object\":\"payment_method\",\"allow_redisplay\":"
	    "\"unspecified\",\"billing_details\":{\"name\":\"Jenny\"},\"card\":{\"brand\":"
	    "\"visa\",\"last4\":\"4242\",\"exp_month\":12},\"created\":1700000000,"
	    "\"customer\":\"cus_1\",\"livemode\":false,\"metadata\":{\"k\":\"v\"},"
	    "\"type\":\"card\"}";
	const char *p = confirmation_token_preview(&a, pm);
	cr_assert_not_null(p);
	cr_assert_str_eq(p,
			 "{\"allow_redisplay\":\"unspecified\",\"billing_details\":{\"name\":"
			 "\"Jenny\"},\"card\":{\"brand\":\"visa\",\"last4\":\"4242\",\"exp_month\":"
			 "12},\"customer\":\"cus_1\",\"type\":\"card\",\"customer_account\":null}");
	cr_assert_null(strstr(p, "pm_123"));
}

Test(confirmation_tokens, preview_fills_what_an_older_rendering_lacks)
{
	const char *p =
	    confirmation_token_preview(&a, "{\"type\":\"card\",\"customer_account\":null}");
	cr_assert_str_eq(p, "{\"type\":\"card\",\"customer_account\":null,\"allow_redisplay\":"
			    "\"unspecified\"}");
}

Test(confirmation_tokens, preview_refuses_what_is_not_an_object)
{
	cr_assert_null(confirmation_token_preview(&a, "[1,2]"));
	cr_assert_null(confirmation_token_preview(&a, "{\"id\":"));
	cr_assert_null(confirmation_token_preview(&a, ""));
}
