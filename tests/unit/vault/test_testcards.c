/* Stripe's test cards and aliases: every entry is a valid card whose table facts agree with the
 * validator, and every alias Stripe documents resolves (pm_card_* and tok_*). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "vault/testcards.h"
#include "vault/vault.h"

static const int64_t NOW = 1795593221; /* 2026-11-25 */

Test(testcards, every_card_validates_and_agrees_with_the_table)
{
	cr_assert_gt(testcard_count(), 30);
	for (size_t i = 0; i < testcard_count(); i++) {
		const struct testcard *tc = testcard_at(i);
		struct vault_card_info info;
		const char *cvc = strcmp(tc->pub.brand, "amex") == 0 ? "1234" : "123";
		cr_assert_eq(vault_card_validate(tc->number, "12", "2034", cvc, NOW, &info), 0,
			     "card %zu", i);
		cr_assert_str_eq(info.brand, tc->pub.brand, "card %zu", i);
		cr_assert_str_eq(info.funding, tc->pub.funding);
		cr_assert_str_eq(info.country, tc->pub.country);
		cr_assert_str_eq(info.last4, tc->pub.last4, "card %zu: last4 spelled out wrong", i);
		cr_assert_eq(strlen(tc->pub.country), 2);
		cr_assert_eq(testcard_by_number(tc->number), tc);
		for (size_t j = 0; j < i; j++)
			cr_assert_str_neq(testcard_at(j)->number, tc->number, "duplicate %zu", i);
	}
	cr_assert_null(testcard_at(testcard_count()));
	cr_assert_null(testcard_by_number("4111111111111111"));
}

Test(testcards, every_alias_points_at_a_card)
{
	for (size_t i = 0; i < testcard_alias_count(); i++) {
		const char *number = NULL;
		const char *name = testcard_alias_at(i, &number);
		cr_assert_not_null(name);
		cr_assert_not_null(testcard_by_number(number), "%s", name);
		char a[96];
		snprintf(a, sizeof(a), "pm_card_%s", name);
		cr_assert_eq(testcard_by_alias(a), testcard_by_number(number), "%s", a);
		snprintf(a, sizeof(a), "tok_%s", name);
		cr_assert_eq(testcard_by_alias(a), testcard_by_number(number), "%s", a);
	}
}

Test(testcards, stripes_aliases)
{
	struct {
		const char *alias, *brand, *funding, *last4;
		enum acq_behavior beh;
	} t[] = {
	    {"pm_card_visa", "visa", "credit", "4242", ACQ_SUCCEED},
	    {"pm_card_visa_debit", "visa", "debit", "5556", ACQ_SUCCEED},
	    {"pm_card_mastercard", "mastercard", "credit", "4444", ACQ_SUCCEED},
	    {"pm_card_mastercard_debit", "mastercard", "debit", "8210", ACQ_SUCCEED},
	    {"pm_card_mastercard_prepaid", "mastercard", "prepaid", "5100", ACQ_SUCCEED},
	    {"pm_card_amex", "amex", "credit", "0005", ACQ_SUCCEED},
	    {"pm_card_discover", "discover", "credit", "1117", ACQ_SUCCEED},
	    {"pm_card_diners", "diners", "credit", "0004", ACQ_SUCCEED},
	    {"pm_card_jcb", "jcb", "credit", "0505", ACQ_SUCCEED},
	    {"pm_card_unionpay", "unionpay", "credit", "0005", ACQ_SUCCEED},
	    {"pm_card_chargeDeclined", "visa", "credit", "0002", ACQ_DECLINE_GENERIC},
	    {"pm_card_chargeDeclinedInsufficientFunds", "visa", "credit", "9995",
	     ACQ_DECLINE_INSUFFICIENT_FUNDS},
	    {"pm_card_chargeDeclinedLostCard", "visa", "credit", "9987", ACQ_DECLINE_LOST_CARD},
	    {"pm_card_chargeDeclinedStolenCard", "visa", "credit", "9979", ACQ_DECLINE_STOLEN_CARD},
	    {"pm_card_chargeDeclinedExpiredCard", "visa", "credit", "0069", ACQ_EXPIRED_CARD},
	    {"pm_card_chargeDeclinedIncorrectCvc", "visa", "credit", "0127", ACQ_INCORRECT_CVC},
	    {"pm_card_chargeDeclinedProcessingError", "visa", "credit", "0119",
	     ACQ_PROCESSING_ERROR},
	    {"pm_card_chargeDeclinedFraudulent", "visa", "credit", "0019", ACQ_FRAUD_BLOCK},
	    {"pm_card_radarBlock", "visa", "credit", "0019", ACQ_FRAUD_BLOCK},
	    {"pm_card_riskLevelHighest", "visa", "credit", "4954", ACQ_RISK_HIGHEST},
	    {"pm_card_riskLevelElevated", "visa", "credit", "9235", ACQ_RISK_ELEVATED},
	    {"pm_card_authenticationRequired", "visa", "credit", "3184", ACQ_3DS_REQUIRED},
	    {"pm_card_authenticationRequiredOnSetup", "visa", "credit", "3155",
	     ACQ_3DS_UNLESS_SET_UP},
	    {"pm_card_threeDSecure2Required", "visa", "credit", "3220", ACQ_3DS_REQUIRED},
	    {"pm_card_createDispute", "visa", "credit", "0259", ACQ_DISPUTE_FRAUDULENT},
	    {"pm_card_createDisputeProductNotReceived", "visa", "credit", "2685",
	     ACQ_DISPUTE_PRODUCT_NOT_RECEIVED},
	    {"pm_card_createDisputeInquiry", "visa", "credit", "1976", ACQ_DISPUTE_INQUIRY},
	    {"pm_card_refundFail", "visa", "credit", "5126", ACQ_REFUND_FAILS},
	    {"pm_card_pendingRefund", "visa", "credit", "7726", ACQ_REFUND_PENDING},
	    {"pm_card_bypassPending", "visa", "credit", "0077", ACQ_AVAILABLE_IMMEDIATELY},
	    {"tok_visa", "visa", "credit", "4242", ACQ_SUCCEED},
	    {"tok_mastercard", "mastercard", "credit", "4444", ACQ_SUCCEED},
	    {"tok_amex", "amex", "credit", "0005", ACQ_SUCCEED},
	    {"tok_chargeDeclined", "visa", "credit", "0002", ACQ_DECLINE_GENERIC},
	    {"tok_chargeDeclinedFraudulent", "visa", "credit", "0019", ACQ_FRAUD_BLOCK},
	    {"tok_riskLevelElevated", "visa", "credit", "9235", ACQ_RISK_ELEVATED},
	};
	for (size_t k = 0; k < sizeof(t) / sizeof(t[0]); k++) {
		const struct vault_testcard *c = vault_testcard_by_alias(t[k].alias);
		cr_assert_not_null(c, "%s", t[k].alias);
		cr_assert_str_eq(c->brand, t[k].brand, "%s", t[k].alias);
		cr_assert_str_eq(c->funding, t[k].funding, "%s", t[k].alias);
		cr_assert_str_eq(c->last4, t[k].last4, "%s", t[k].alias);
		cr_assert_eq(c->behavior, t[k].beh, "%s", t[k].alias);
		cr_assert(vault_is_test_alias(t[k].alias));
	}
	static const char *not_aliases[] = {"pm_card_",	    "tok_",	     "pm_card_VISA",
					    "pm_visa",	    "card_visa",     "pm_card_visa ",
					    "tok_visa_xyz", "pm_1234567890", ""};
	for (size_t k = 0; k < sizeof(not_aliases) / sizeof(not_aliases[0]); k++) {
		cr_assert_null(vault_testcard_by_alias(not_aliases[k]), "%s", not_aliases[k]);
		cr_assert(!vault_is_test_alias(not_aliases[k]));
	}
	cr_assert_null(vault_testcard_by_alias(NULL));
}
