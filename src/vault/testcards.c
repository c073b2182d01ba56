/*
 * Stripe's test cards (docs.stripe.com/testing, docs.stripe.com/radar/testing): the only card
 * numbers anywhere in src/. In test mode these numbers, and the pm_card_* / tok_* aliases that
 * stand for them, behave as Stripe documents (declines, Radar outcomes, 3-D Secure, disputes,
 * refund failures); the behaviour travels to the acquirer through the reveal callback
 * (vault_secret_behavior), never through the number itself. last4 is spelled out so that the
 * public view of a card never points into its number; a unit test checks it agrees.
 */
#include "vault/testcards.h"

#include <string.h>

#define TC(num, brand, funding, country, last4, beh)                                               \
	{                                                                                          \
		{brand, funding, country, last4, beh}, num                                         \
	}

static const struct testcard cards[] = {
    /* cards by brand */
    TC("4242424242424242", "visa", "credit", "US", "4242", ACQ_SUCCEED),
    TC("4000056655665556", "visa", "debit", "US", "5556", ACQ_SUCCEED),
    TC("4012888888881881", "visa", "credit", "US", "1881", ACQ_SUCCEED),
    TC("5555555555554444", "mastercard", "credit", "US", "4444", ACQ_SUCCEED),
    TC("2223003122003222", "mastercard", "credit", "US", "3222", ACQ_SUCCEED),
    TC("5200828282828210", "mastercard", "debit", "US", "8210", ACQ_SUCCEED),
    TC("5105105105105100", "mastercard", "prepaid", "US", "5100", ACQ_SUCCEED),
    TC("378282246310005", "amex", "credit", "US", "0005", ACQ_SUCCEED),
    TC("371449635398431", "amex", "credit", "US", "8431", ACQ_SUCCEED),
    TC("6011111111111117", "discover", "credit", "US", "1117", ACQ_SUCCEED),
    TC("6011000990139424", "discover", "credit", "US", "9424", ACQ_SUCCEED),
    TC("6011981111111113", "discover", "debit", "US", "1113", ACQ_SUCCEED),
    TC("3056930009020004", "diners", "credit", "US", "0004", ACQ_SUCCEED),
    TC("36227206271667", "diners", "credit", "US", "1667", ACQ_SUCCEED),
    TC("3566002020360505", "jcb", "credit", "JP", "0505", ACQ_SUCCEED),
    TC("6200000000000005", "unionpay", "credit", "CN", "0005", ACQ_SUCCEED),
    TC("6200000000000047", "unionpay", "debit", "CN", "0047", ACQ_SUCCEED),
    TC("6205500000000000004", "unionpay", "credit", "CN", "0004", ACQ_SUCCEED),
    /* cards by country: the issuer's country, the rest as 4242… */
    TC("4000000320000021", "visa", "credit", "AR", "0021", ACQ_SUCCEED),
    TC("4000000760000002", "visa", "credit", "BR", "0002", ACQ_SUCCEED),
    TC("4000001240000000", "visa", "credit", "CA", "0000", ACQ_SUCCEED),
    TC("4000001520000001", "visa", "credit", "CL", "0001", ACQ_SUCCEED),
    TC("4000001700000003", "visa", "credit", "CO", "0003", ACQ_SUCCEED),
    TC("4000001880000005", "visa", "credit", "CR", "0005", ACQ_SUCCEED),
    TC("4000002180000000", "visa", "credit", "EC", "0000", ACQ_SUCCEED),
    TC("4000004840008001", "visa", "credit", "MX", "8001", ACQ_SUCCEED),
    TC("4000005910000000", "visa", "credit", "PA", "0000", ACQ_SUCCEED),
    TC("4000006000000066", "visa", "credit", "PY", "0066", ACQ_SUCCEED),
    TC("4000006040000068", "visa", "credit", "PE", "0068", ACQ_SUCCEED),
    TC("4000008580000003", "visa", "credit", "UY", "0003", ACQ_SUCCEED),
    TC("4000007840000001", "visa", "credit", "AE", "0001", ACQ_SUCCEED),
    TC("4000000400000008", "visa", "credit", "AT", "0008", ACQ_SUCCEED),
    TC("4000000560000004", "visa", "credit", "BE", "0004", ACQ_SUCCEED),
    TC("4000001000000000", "visa", "credit", "BG", "0000", ACQ_SUCCEED),
    TC("4000001120000005", "visa", "credit", "BY", "0005", ACQ_SUCCEED),
    TC("4000001910000009", "visa", "credit", "HR", "0009", ACQ_SUCCEED),
    TC("4000001960000008", "visa", "credit", "CY", "0008", ACQ_SUCCEED),
    TC("4000002030000002", "visa", "credit", "CZ", "0002", ACQ_SUCCEED),
    TC("4000002080000001", "visa", "credit", "DK", "0001", ACQ_SUCCEED),
    TC("4000002330000009", "visa", "credit", "EE", "0009", ACQ_SUCCEED),
    TC("4000002460000001", "visa", "credit", "FI", "0001", ACQ_SUCCEED),
    TC("4000002500000003", "visa", "credit", "FR", "0003", ACQ_SUCCEED),
    TC("4000002760000016", "visa", "credit", "DE", "0016", ACQ_SUCCEED),
    TC("4000002920000005", "visa", "credit", "GI", "0005", ACQ_SUCCEED),
    TC("4000003000000030", "visa", "credit", "GR", "0030", ACQ_SUCCEED),
    TC("4000003480000005", "visa", "credit", "HU", "0005", ACQ_SUCCEED),
    TC("4000003720000005", "visa", "credit", "IE", "0005", ACQ_SUCCEED),
    TC("4000003800000008", "visa", "credit", "IT", "0008", ACQ_SUCCEED),
    TC("4000004280000005", "visa", "credit", "LV", "0005", ACQ_SUCCEED),
    TC("4000004380000004", "visa", "credit", "LI", "0004", ACQ_SUCCEED),
    TC("4000004400000000", "visa", "credit", "LT", "0000", ACQ_SUCCEED),
    TC("4000004420000006", "visa", "credit", "LU", "0006", ACQ_SUCCEED),
    TC("4000004700000007", "visa", "credit", "MT", "0007", ACQ_SUCCEED),
    TC("4000005280000002", "visa", "credit", "NL", "0002", ACQ_SUCCEED),
    TC("4000005780000007", "visa", "credit", "NO", "0007", ACQ_SUCCEED),
    TC("4000006160000005", "visa", "credit", "PL", "0005", ACQ_SUCCEED),
    TC("4000006200000007", "visa", "credit", "PT", "0007", ACQ_SUCCEED),
    TC("4000006420000001", "visa", "credit", "RO", "0001", ACQ_SUCCEED),
    TC("4000006820000007", "visa", "credit", "SA", "0007", ACQ_SUCCEED),
    TC("4000007050000006", "visa", "credit", "SI", "0006", ACQ_SUCCEED),
    TC("4000007030000001", "visa", "credit", "SK", "0001", ACQ_SUCCEED),
    TC("4000007240000007", "visa", "credit", "ES", "0007", ACQ_SUCCEED),
    TC("4000007520000008", "visa", "credit", "SE", "0008", ACQ_SUCCEED),
    TC("4000007560000009", "visa", "credit", "CH", "0009", ACQ_SUCCEED),
    TC("4000008260000000", "visa", "credit", "GB", "0000", ACQ_SUCCEED),
    TC("4000058260000005", "visa", "debit", "GB", "0005", ACQ_SUCCEED),
    TC("4000000360000006", "visa", "credit", "AU", "0006", ACQ_SUCCEED),
    TC("4000001560000002", "visa", "credit", "CN", "0002", ACQ_SUCCEED),
    TC("4000003440000004", "visa", "credit", "HK", "0004", ACQ_SUCCEED),
    TC("4000003560000008", "visa", "credit", "IN", "0008", ACQ_SUCCEED),
    TC("4000003920000003", "visa", "credit", "JP", "0003", ACQ_SUCCEED),
    TC("4000004580000002", "visa", "credit", "MY", "0002", ACQ_SUCCEED),
    TC("4000005540000008", "visa", "credit", "NZ", "0008", ACQ_SUCCEED),
    TC("4000007020000003", "visa", "credit", "SG", "0003", ACQ_SUCCEED),
    TC("4000001580000008", "visa", "credit", "TW", "0008", ACQ_SUCCEED),
    TC("4000007640000003", "visa", "credit", "TH", "0003", ACQ_SUCCEED),
    TC("4000057640000008", "visa", "debit", "TH", "0008", ACQ_SUCCEED),
    /* balance: available immediately */
    TC("4000000000000077", "visa", "credit", "US", "0077", ACQ_AVAILABLE_IMMEDIATELY),
    /* declines */
    TC("4000000000000002", "visa", "credit", "US", "0002", ACQ_DECLINE_GENERIC),
    TC("4000000000009995", "visa", "credit", "US", "9995", ACQ_DECLINE_INSUFFICIENT_FUNDS),
    TC("4000000000009987", "visa", "credit", "US", "9987", ACQ_DECLINE_LOST_CARD),
    TC("4000000000009979", "visa", "credit", "US", "9979", ACQ_DECLINE_STOLEN_CARD),
    TC("4000000000000069", "visa", "credit", "US", "0069", ACQ_EXPIRED_CARD),
    TC("4000000000000127", "visa", "credit", "US", "0127", ACQ_INCORRECT_CVC),
    TC("4000000000000119", "visa", "credit", "US", "0119", ACQ_PROCESSING_ERROR),
    TC("4000000000006975", "visa", "credit", "US", "6975", ACQ_DECLINE_VELOCITY),
    /* attaching succeeds, charging fails */
    TC("4000000000000341", "visa", "credit", "US", "0341", ACQ_DECLINE_CHARGES),
    /* Radar */
    TC("4100000000000019", "visa", "credit", "US", "0019", ACQ_FRAUD_BLOCK),
    TC("4000000000004954", "visa", "credit", "US", "4954", ACQ_RISK_HIGHEST),
    TC("4000000000009235", "visa", "credit", "US", "9235", ACQ_RISK_ELEVATED),
    TC("4000000000000101", "visa", "credit", "US", "0101", ACQ_CVC_CHECK_FAIL),
    TC("4000000000000010", "visa", "credit", "US", "0010", ACQ_AVS_FAIL),
    TC("4000000000000028", "visa", "credit", "US", "0028", ACQ_AVS_LINE1_FAIL),
    TC("4000000000000036", "visa", "credit", "US", "0036", ACQ_AVS_ZIP_FAIL),
    TC("4000000000000044", "visa", "credit", "US", "0044", ACQ_AVS_UNAVAILABLE),
    /* 3-D Secure */
    TC("4000002760003184", "visa", "credit", "DE", "3184", ACQ_3DS_REQUIRED),
    TC("4000002500003155", "visa", "credit", "FR", "3155", ACQ_3DS_UNLESS_SET_UP),
    TC("4000000000003220", "visa", "credit", "US", "3220", ACQ_3DS_REQUIRED),
    TC("4000000000003063", "visa", "credit", "US", "3063", ACQ_3DS_REQUIRED),
    TC("4000000000003055", "visa", "credit", "US", "3055", ACQ_SUCCEED),
    TC("4000003800000446", "visa", "credit", "IT", "0446", ACQ_3DS_ON_SESSION),
    TC("4000008260003178", "visa", "credit", "GB", "3178", ACQ_3DS_THEN_INSUFFICIENT_FUNDS),
    TC("4000008400001629", "visa", "credit", "US", "1629", ACQ_3DS_THEN_DECLINE),
    TC("4000008400001280", "visa", "credit", "US", "1280", ACQ_3DS_REQUIRED_LOOKUP_ERROR),
    TC("4000000000003097", "visa", "credit", "US", "3097", ACQ_3DS_OPTIONAL_ERROR),
    /* disputes */
    TC("4000000000000259", "visa", "credit", "US", "0259", ACQ_DISPUTE_FRAUDULENT),
    TC("4000000000002685", "visa", "credit", "US", "2685", ACQ_DISPUTE_PRODUCT_NOT_RECEIVED),
    TC("4000000000001976", "visa", "credit", "US", "1976", ACQ_DISPUTE_INQUIRY),
    /* an early fraud warning after the charge */
    TC("4000000000005423", "visa", "credit", "US", "5423", ACQ_EARLY_FRAUD_WARNING),
    /* refunds */
    TC("4000000000007726", "visa", "credit", "US", "7726", ACQ_REFUND_PENDING),
    TC("4000000000005126", "visa", "credit", "US", "5126", ACQ_REFUND_FAILS),
};

struct alias {
	const char *name; /* without the pm_card_ / tok_ prefix */
	const char *number;
};

/* Stripe's names; tok_NAME and pm_card_NAME stand for the same card. */
static const struct alias aliases[] = {
    {"visa", "4242424242424242"},
    {"visa_debit", "4000056655665556"},
    {"mastercard", "5555555555554444"},
    {"mastercard_debit", "5200828282828210"},
    {"mastercard_prepaid", "5105105105105100"},
    {"amex", "378282246310005"},
    {"discover", "6011111111111117"},
    {"diners", "3056930009020004"},
    {"jcb", "3566002020360505"},
    {"unionpay", "6200000000000005"},
    {"bypassPending", "4000000000000077"},
    {"chargeDeclined", "4000000000000002"},
    {"visa_chargeDeclined", "4000000000000002"},
    {"chargeDeclinedInsufficientFunds", "4000000000009995"},
    {"visa_chargeDeclinedInsufficientFunds", "4000000000009995"},
    {"chargeDeclinedLostCard", "4000000000009987"},
    {"visa_chargeDeclinedLostCard", "4000000000009987"},
    {"chargeDeclinedStolenCard", "4000000000009979"},
    {"visa_chargeDeclinedStolenCard", "4000000000009979"},
    {"chargeDeclinedExpiredCard", "4000000000000069"},
    {"chargeDeclinedIncorrectCvc", "4000000000000127"},
    {"chargeDeclinedProcessingError", "4000000000000119"},
    {"chargeDeclinedFraudulent", "4100000000000019"},
    {"chargeCustomerFail", "4000000000000341"},
    {"visa_chargeDeclinedVelocityLimitExceeded", "4000000000006975"},
    {"cvcCheckFail", "4000000000000101"},
    {"avsFail", "4000000000000010"},
    {"avsLine1Fail", "4000000000000028"},
    {"avsZipFail", "4000000000000036"},
    {"avsUnchecked", "4000000000000044"},
    {"authenticationRequiredSetupForOffSession", "4000003800000446"},
    {"authenticationRequiredChargeDeclinedInsufficientFunds", "4000008260003178"},
    {"threeDSecureRequiredChargeDeclined", "4000008400001629"},
    {"threeDSecureRequiredProcessingError", "4000008400001280"},
    {"threeDSecureOptionalProcessingError", "4000000000003097"},
    {"radarBlock", "4100000000000019"},
    {"riskLevelHighest", "4000000000004954"},
    {"riskLevelElevated", "4000000000009235"},
    {"authenticationRequired", "4000002760003184"},
    {"authenticationRequiredOnSetup", "4000002500003155"},
    {"threeDSecure2Required", "4000000000003220"},
    {"threeDSecureRequired", "4000000000003063"},
    {"threeDSecureOptional", "4000000000003055"},
    {"createDispute", "4000000000000259"},
    {"createDisputeProductNotReceived", "4000000000002685"},
    {"createDisputeInquiry", "4000000000001976"},
    {"createIssuerFraudRecord", "4000000000005423"},
    {"pendingRefund", "4000000000007726"},
    {"refundFail", "4000000000005126"},
};

const struct testcard *testcard_by_number(const char *digits)
{
	for (size_t i = 0; i < sizeof(cards) / sizeof(cards[0]); i++)
		if (strcmp(cards[i].number, digits) == 0)
			return &cards[i];
	return NULL;
}

const struct testcard *testcard_by_alias(const char *alias)
{
	const char *name = NULL;
	if (!alias)
		return NULL;
	if (strncmp(alias, "pm_card_", 8) == 0)
		name = alias + 8;
	else if (strncmp(alias, "tok_", 4) == 0)
		name = alias + 4;
	if (!name)
		return NULL;
	for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++)
		if (strcmp(aliases[i].name, name) == 0)
			return testcard_by_number(aliases[i].number);
	return NULL;
}

const struct vault_testcard *vault_testcard_by_alias(const char *alias)
{
	const struct testcard *tc = testcard_by_alias(alias);
	return tc ? &tc->pub : NULL;
}

const struct testcard *testcard_at(size_t i)
{
	return i < sizeof(cards) / sizeof(cards[0]) ? &cards[i] : NULL;
}

size_t testcard_count(void)
{
	return sizeof(cards) / sizeof(cards[0]);
}

const char *testcard_alias_at(size_t i, const char **ret_number)
{
	if (i >= sizeof(aliases) / sizeof(aliases[0]))
		return NULL;
	*ret_number = aliases[i].number;
	return aliases[i].name;
}

const char *testcard_alias_number(const char *name)
{
	for (size_t i = 0; name && i < sizeof(aliases) / sizeof(aliases[0]); i++)
		if (strcmp(aliases[i].name, name) == 0)
			return aliases[i].number;
	return NULL;
}

size_t testcard_alias_count(void)
{
	return sizeof(aliases) / sizeof(aliases[0]);
}
