/* The Connect terms a payment's request names (api/payments_connect.h), checked the one way
 * PaymentIntents and the Charges API share, and a confirmation's client_secret
 * (payments_client_secret_check): what is refused, on which parameter, and what a capture's
 * terms leave on the payment. */
#include <criterion/criterion.h>
#include <string.h>

#include "api/payments_common.h"
#include "api/payments_connect.h"
#include "http/form.h"
#include "http/req.h"

static struct req r;

static void setup(void)
{
	memset(&r, 0, sizeof(r));
	arena_init(&r.arena, 1 << 16);
}

static void teardown(void)
{
	arena_release(&r.arena);
}

TestSuite(payments_connect, .init = setup, .fini = teardown);

static void params(const char *body)
{
	struct form_node *root = NULL;
	struct form_error fe;
	memset(&fe, 0, sizeof(fe));
	memset(&r.err, 0, sizeof(r.err));
	cr_assert_eq(form_parse(&r.arena, body, strlen(body), &root, &fe), 0, "%s", body);
	r.params = root;
}

static const struct connect_params PI = {"PaymentIntent", "transfer_data[destination]",
					 "application_fee_amount", "transfer_data[amount]"};

Test(payments_connect, terms_are_refused_on_their_own_parameter)
{
	params("");
	struct payment_connect c = {.destination = "acct_1", .application_fee_amount = 100};
	cr_assert_eq(payments_connect_check_terms(&r, &c, 1000, &PI), 0);
	/* a fee needs a destination, or a direct charge through Stripe-Account */
	c = (struct payment_connect){.application_fee_amount = 100};
	cr_assert_eq(payments_connect_check_terms(&r, &c, 1000, &PI), -1);
	cr_assert_str_eq(r.err.param, "application_fee_amount");
	memcpy(r.platform_id, "acct_platform", 14);
	cr_assert_eq(payments_connect_check_terms(&r, &c, 1000, &PI), 0);
	r.platform_id[0] = '\0';
	/* not both a fee and a transfer amount; each at most the amount */
	c = (struct payment_connect){
	    .destination = "acct_1", .application_fee_amount = 1, .transfer_amount = 2};
	cr_assert_eq(payments_connect_check_terms(&r, &c, 1000, &PI), -1);
	cr_assert_str_eq(r.err.param, "application_fee_amount");
	c = (struct payment_connect){.destination = "acct_1", .application_fee_amount = 1001};
	cr_assert_eq(payments_connect_check_terms(&r, &c, 1000, &PI), -1);
	c = (struct payment_connect){.destination = "acct_1", .transfer_amount = 1001};
	cr_assert_eq(payments_connect_check_terms(&r, &c, 1000, &PI), -1);
	cr_assert_str_eq(r.err.param, "transfer_data[amount]");
	/* a transfer amount needs a destination; the legacy names are the ones refused */
	const struct connect_params legacy = {"charge", "destination[account]", "application_fee",
					      "destination[amount]"};
	c = (struct payment_connect){.transfer_amount = 5};
	cr_assert_eq(payments_connect_check_terms(&r, &c, 1000, &legacy), -1);
	cr_assert_str_eq(r.err.param, "destination[amount]");
}

Test(payments_connect, a_captures_terms_replace_the_payments_when_given)
{
	struct payment_connect c = {.destination = "acct_1", .transfer_amount = 700};
	params("amount_to_capture=500");
	cr_assert_eq(payments_connect_at_capture(&r, &c, 1000, false, "PaymentIntent"), 0);
	cr_assert_eq(c.transfer_amount, 700); /* nothing named: unchanged */
	params("transfer_data[amount]=400");
	cr_assert_eq(payments_connect_at_capture(&r, &c, 1000, false, "PaymentIntent"), 0);
	cr_assert_eq(c.transfer_amount, 400);
	/* a fee beside the transfer amount is refused, the terms left as they were */
	params("application_fee_amount=50");
	cr_assert_eq(payments_connect_at_capture(&r, &c, 1000, false, "PaymentIntent"), -1);
	cr_assert_eq(c.application_fee_amount, 0);
	cr_assert_eq(c.transfer_amount, 400);
	params("application_fee_amount=50&transfer_data[amount]=0");
	cr_assert_eq(payments_connect_at_capture(&r, &c, 1000, false, "PaymentIntent"), 0);
	cr_assert_eq(c.application_fee_amount, 50);
	cr_assert_eq(c.transfer_amount, 0);
	/* the charge's legacy application_fee, not beside application_fee_amount */
	params("application_fee=60");
	cr_assert_eq(payments_connect_at_capture(&r, &c, 1000, true, "charge"), 0);
	cr_assert_eq(c.application_fee_amount, 60);
	params("application_fee=60&application_fee_amount=60");
	cr_assert_eq(payments_connect_at_capture(&r, &c, 1000, true, "charge"), -1);
	cr_assert_str_eq(r.err.param, "application_fee");
	/* no transfer to set the amount of */
	struct payment_connect none = {0};
	params("transfer_data[amount]=10");
	cr_assert_eq(payments_connect_at_capture(&r, &none, 1000, false, "charge"), -1);
	cr_assert_str_eq(r.err.param, "transfer_data[amount]");
}

Test(payments_connect, client_secret_must_be_the_intents_own)
{
	const char *own = "pi_123_secret_abc";
	params("");
	cr_assert_eq(payments_client_secret_check(&r, own, "PaymentIntent"), 0);
	r.publishable = true; /* a publishable key must send it */
	cr_assert_eq(payments_client_secret_check(&r, own, "PaymentIntent"), -1);
	cr_assert_str_eq(r.err.param, "client_secret");
	params("client_secret=pi_123_secret_abc");
	cr_assert_eq(payments_client_secret_check(&r, own, "PaymentIntent"), 0);
	params("client_secret=pi_123_secret_abd");
	cr_assert_eq(payments_client_secret_check(&r, own, "PaymentIntent"), -1);
	params("client_secret=pi_123_secret_ab");
	cr_assert_eq(payments_client_secret_check(&r, own, "PaymentIntent"), -1);
	r.publishable = false;
	params("client_secret=pi_123_secret_abcd");
	cr_assert_eq(payments_client_secret_check(&r, own, "PaymentIntent"), -1);
}
