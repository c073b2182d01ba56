/*
 * A redirect payment's charge details: the whole payment_method_details Stripe shows for an
 * iDEAL (bank, BIC, test IBAN last4 and verified name) or Bancontact charge, headed by the type's
 * key so that charge_render recognises the column; and the recognition itself.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "core/arena.h"
#include "payments/payments.h"
#include "payments/redirect.h"
#include "vault/payment_method.h"

Test(redirect, ideal_details)
{
	struct arena a;
	arena_init(&a, 1 << 20);
	struct pm_card pm;
	memset(&pm, 0, sizeof(pm));
	struct payment_intent pi;
	memset(&pi, 0, sizeof(pi));
	strcpy(pm.type, "ideal");
	strcpy(pm.ideal_bank, "rabobank");
	const char *d = redirect_charge_details(&a, &pm, &pi, NULL, NULL);
	cr_assert_str_eq(d, "{\"ideal\":{\"bank\":\"rabobank\",\"bic\":\"RABONL2U\","
			    "\"generated_sepa_debit\":null,\"generated_sepa_debit_mandate\":null,"
			    "\"iban_last4\":\"5264\",\"verified_name\":\"Jenny Rosen\"},"
			    "\"type\":\"ideal\"}");
	cr_assert(redirect_details_is(d));
	/* no bank chosen: bank and bic null */
	pm.ideal_bank[0] = '\0';
	d = redirect_charge_details(&a, &pm, &pi, NULL, NULL);
	cr_assert_not_null(strstr(d, "\"bank\":null,\"bic\":null"));
	/* a payment that generated a sepa_debit PaymentMethod names it and its mandate */
	d = redirect_charge_details(&a, &pm, &pi, "pm_gen", "mandate_gen");
	cr_assert_not_null(strstr(d, "\"generated_sepa_debit\":\"pm_gen\","
				     "\"generated_sepa_debit_mandate\":\"mandate_gen\""));
	arena_release(&a);
}

Test(redirect, bancontact_details)
{
	struct arena a;
	arena_init(&a, 1 << 20);
	struct pm_card pm;
	memset(&pm, 0, sizeof(pm));
	struct payment_intent pi;
	memset(&pi, 0, sizeof(pi));
	strcpy(pm.type, "bancontact");
	const char *d = redirect_charge_details(&a, &pm, &pi, NULL, NULL);
	cr_assert_str_eq(d, "{\"bancontact\":{\"bank_code\":\"VAPE\",\"bank_name\":\"VAN DE PUT & "
			    "CO\",\"bic\":\"VAPEBE22\",\"generated_sepa_debit\":null,"
			    "\"generated_sepa_debit_mandate\":null,\"iban_last4\":\"7061\","
			    "\"preferred_language\":\"en\",\"verified_name\":\"Jenny Rosen\"},"
			    "\"type\":\"bancontact\"}");
	cr_assert(redirect_details_is(d));
	arena_release(&a);
}

Test(redirect, setup_details)
{
	struct arena a;
	arena_init(&a, 1 << 20);
	struct pm_card pm;
	memset(&pm, 0, sizeof(pm));
	strcpy(pm.type, "ideal");
	strcpy(pm.ideal_bank, "ing");
	/* waiting at the bank: the chosen bank is known, the account is not */
	const char *d = redirect_setup_details(&a, &pm, false, NULL, NULL);
	cr_assert_str_eq(d, "{\"ideal\":{\"bank\":\"ing\",\"bic\":\"INGBNL2A\","
			    "\"generated_sepa_debit\":null,\"generated_sepa_debit_mandate\":null,"
			    "\"iban_last4\":null,\"verified_name\":null},\"type\":\"ideal\"}");
	cr_assert(redirect_details_is(d));
	d = redirect_setup_details(&a, &pm, true, "pm_gen", "mandate_gen");
	cr_assert_str_eq(d, "{\"ideal\":{\"bank\":\"ing\",\"bic\":\"INGBNL2A\","
			    "\"generated_sepa_debit\":\"pm_gen\","
			    "\"generated_sepa_debit_mandate\":\"mandate_gen\","
			    "\"iban_last4\":\"5264\",\"verified_name\":\"Jenny Rosen\"},"
			    "\"type\":\"ideal\"}");
	/* Bancontact: the bank is the account's, known once authorized; no intent: English */
	strcpy(pm.type, "bancontact");
	d = redirect_setup_details(&a, &pm, false, NULL, NULL);
	cr_assert_not_null(strstr(d, "\"bank_code\":null,\"bank_name\":null,\"bic\":null"));
	cr_assert_not_null(strstr(d, "\"preferred_language\":\"en\""));
	d = redirect_setup_details(&a, &pm, true, "pm_gen", "mandate_gen");
	cr_assert_not_null(strstr(d, "\"bank_code\":\"VAPE\""));
	cr_assert_not_null(strstr(d, "\"iban_last4\":\"7061\""));
	cr_assert(redirect_details_is(d));
	arena_release(&a);
}

Test(redirect, recognition)
{
	cr_assert_not(redirect_details_is(NULL));
	cr_assert_not(redirect_details_is("{\"brand\":\"visa\"}"));
	cr_assert_not(redirect_details_is("{\"sepa_debit\":{},\"type\":\"sepa_debit\"}"));
	cr_assert_not(redirect_details_is("{\"idealx\":{}}"));
}

Test(redirect, bnpl_details)
{
	struct arena a;
	arena_init(&a, 1 << 20);
	struct pm_card pm;
	memset(&pm, 0, sizeof(pm));
	struct payment_intent pi;
	memset(&pi, 0, sizeof(pi));
	strcpy(pm.type, "afterpay_clearpay");
	const char *d = redirect_charge_details(&a, &pm, &pi, NULL, NULL);
	cr_assert_str_eq(d, "{\"afterpay_clearpay\":{\"order_id\":null,\"reference\":null},"
			    "\"type\":\"afterpay_clearpay\"}");
	cr_assert(redirect_details_is(d));
	strcpy(pm.type, "klarna");
	d = redirect_charge_details(&a, &pm, &pi, NULL, NULL);
	cr_assert_str_eq(d, "{\"klarna\":{\"payment_method_category\":\"pay_later\","
			    "\"preferred_locale\":null},\"type\":\"klarna\"}");
	cr_assert(redirect_details_is(d));
	strcpy(pm.type, "affirm");
	d = redirect_charge_details(&a, &pm, &pi, NULL, NULL);
	cr_assert_str_eq(d, "{\"affirm\":{},\"type\":\"affirm\"}");
	cr_assert(redirect_details_is(d));
	cr_assert_not(redirect_details_is("{\"affirmx\":{}}"));
	arena_release(&a);
}

/* the intent's payment_method_options show on the charge: Bancontact's preferred_language,
 * Klarna's preferred_locale, Afterpay's reference */
Test(redirect, details_from_options)
{
	struct arena a;
	arena_init(&a, 1 << 20);
	struct pm_card pm;
	memset(&pm, 0, sizeof(pm));
	struct payment_intent pi;
	memset(&pi, 0, sizeof(pi));
	pi.pmo_bancontact_preferred_language = "nl";
	pi.pmo_klarna_preferred_locale = "de-DE";
	pi.pmo_afterpay_reference = "order-42";
	strcpy(pm.type, "bancontact");
	const char *d = redirect_charge_details(&a, &pm, &pi, NULL, NULL);
	cr_assert_not_null(strstr(d, "\"preferred_language\":\"nl\""));
	strcpy(pm.type, "klarna");
	d = redirect_charge_details(&a, &pm, &pi, NULL, NULL);
	cr_assert_not_null(strstr(d, "\"preferred_locale\":\"de-DE\""));
	strcpy(pm.type, "afterpay_clearpay");
	d = redirect_charge_details(&a, &pm, &pi, NULL, NULL);
	cr_assert_not_null(strstr(d, "\"reference\":\"order-42\""));
	arena_release(&a);
}

Test(redirect, bnpl_limits)
{
	int64_t min = 0, max = 0;
	cr_assert(redirect_bnpl_limits("affirm", "usd", &min, &max));
	cr_assert_eq(min, 5000);
	cr_assert_eq(max, 3000000);
	cr_assert(redirect_bnpl_limits("afterpay_clearpay", "gbp", &min, &max));
	cr_assert_eq(min, 100);
	cr_assert_eq(max, 120000);
	cr_assert(redirect_bnpl_limits("afterpay_clearpay", "usd", &min, &max));
	cr_assert_eq(max, 400000);
	cr_assert_not(redirect_bnpl_limits("klarna", "eur", &min, &max));
	cr_assert_not(redirect_bnpl_limits("affirm", "eur", &min, &max));
	cr_assert_not(redirect_bnpl_limits(NULL, "usd", &min, &max));
}

Test(redirect, bnpl_missing)
{
	static const char FULL[] =
	    "{\"address\":{\"city\":null,\"country\":\"US\",\"line1\":\"1 Main"
	    " St\",\"postal_code\":\"94110\"},\"email\":\"j@example.com\","
	    "\"name\":\"Jenny Rosen\",\"phone\":null}";
	static const char SHIP[] = "{\"address\":{\"country\":\"US\",\"line1\":\"1 Main St\"},"
				   "\"name\":\"Jenny Rosen\"}";
	cr_assert_null(redirect_bnpl_missing("afterpay_clearpay", FULL, SHIP));
	cr_assert_str_eq(redirect_bnpl_missing("afterpay_clearpay", FULL, NULL), "shipping");
	cr_assert_str_eq(redirect_bnpl_missing("afterpay_clearpay", NULL, SHIP),
			 "billing_details[name]");
	cr_assert_str_eq(
	    redirect_bnpl_missing("afterpay_clearpay", "{\"name\":\"J\",\"email\":null}", SHIP),
	    "billing_details[email]");
	cr_assert_str_eq(redirect_bnpl_missing("afterpay_clearpay", FULL, "{\"name\":\"J\"}"),
			 "shipping[address][line1]");
	cr_assert_null(redirect_bnpl_missing("klarna", FULL, NULL));
	cr_assert_str_eq(redirect_bnpl_missing("klarna", "{\"email\":\"j@example.com\"}", NULL),
			 "billing_details[address][country]");
	cr_assert_str_eq(redirect_bnpl_missing("klarna", NULL, NULL), "billing_details[email]");
	cr_assert_null(redirect_bnpl_missing("affirm", NULL, NULL));
	cr_assert_null(redirect_bnpl_missing("ideal", NULL, NULL));
}
