/* Stripe's test cards (docs.stripe.com/testing), the only card numbers in src/. */
#include "vault/testcards.h"

#include <string.h>

static const struct testcard cards[] = {
    {"4242424242424242", "visa", "credit", "US", ACQ_SUCCEED},
    {"4000056655665556", "visa", "debit", "US", ACQ_SUCCEED},
    {"5555555555554444", "mastercard", "credit", "US", ACQ_SUCCEED},
    {"2223003122003222", "mastercard", "credit", "US", ACQ_SUCCEED},
    {"5200828282828210", "mastercard", "debit", "US", ACQ_SUCCEED},
    {"5105105105105100", "mastercard", "prepaid", "US", ACQ_SUCCEED},
    {"378282246310005", "amex", "credit", "US", ACQ_SUCCEED},
    {"371449635398431", "amex", "credit", "US", ACQ_SUCCEED},
    {"6011111111111117", "discover", "credit", "US", ACQ_SUCCEED},
    {"6011000990139424", "discover", "credit", "US", ACQ_SUCCEED},
    {"3056930009020004", "diners", "credit", "US", ACQ_SUCCEED},
    {"36227206271667", "diners", "credit", "US", ACQ_SUCCEED},
    {"3566002020360505", "jcb", "credit", "JP", ACQ_SUCCEED},
    {"6200000000000005", "unionpay", "credit", "CN", ACQ_SUCCEED},
    {"4000000000000077", "visa", "credit", "US", ACQ_AVAILABLE_IMMEDIATELY},
    {"4000000000000002", "visa", "credit", "US", ACQ_DECLINE_GENERIC},
    {"4000000000009995", "visa", "credit", "US", ACQ_DECLINE_INSUFFICIENT_FUNDS},
    {"4000000000009987", "visa", "credit", "US", ACQ_DECLINE_LOST_CARD},
    {"4000000000009979", "visa", "credit", "US", ACQ_DECLINE_STOLEN_CARD},
    {"4000000000000069", "visa", "credit", "US", ACQ_EXPIRED_CARD},
    {"4000000000000127", "visa", "credit", "US", ACQ_INCORRECT_CVC},
    {"4000000000000119", "visa", "credit", "US", ACQ_PROCESSING_ERROR},
    {"4100000000000019", "visa", "credit", "US", ACQ_FRAUD_BLOCK},
    {"4000000000004954", "visa", "credit", "US", ACQ_RISK_HIGHEST},
    {"4000000000009235", "visa", "credit", "US", ACQ_RISK_ELEVATED},
    {"4000002760003184", "visa", "credit", "DE", ACQ_3DS_REQUIRED},
    {"4000002500003155", "visa", "credit", "FR", ACQ_3DS_REQUIRED},
    {"4000000000003220", "visa", "credit", "US", ACQ_3DS_REQUIRED},
    {"4000000000000259", "visa", "credit", "US", ACQ_DISPUTE_FRAUDULENT},
    {"4000000000002685", "visa", "credit", "US", ACQ_DISPUTE_PRODUCT_NOT_RECEIVED},
    {"4000000000001976", "visa", "credit", "US", ACQ_DISPUTE_INQUIRY},
    {"4000000000007726", "visa", "credit", "US", ACQ_REFUND_PENDING},
    {"4000000000005126", "visa", "credit", "US", ACQ_REFUND_FAILS},
};

struct alias {
	const char *name; /* without the pm_card_ / tok_ prefix */
	const char *number;
};

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
    {"chargeDeclinedInsufficientFunds", "4000000000009995"},
    {"chargeDeclinedLostCard", "4000000000009987"},
    {"chargeDeclinedStolenCard", "4000000000009979"},
    {"chargeDeclinedExpiredCard", "4000000000000069"},
    {"chargeDeclinedIncorrectCvc", "4000000000000127"},
    {"chargeDeclinedProcessingError", "4000000000000119"},
    {"chargeDeclinedFraudulent", "4100000000000019"},
    {"radarBlock", "4100000000000019"},
    {"riskLevelHighest", "4000000000004954"},
    {"riskLevelElevated", "4000000000009235"},
    {"authenticationRequired", "4000002500003155"},
    {"threeDSecure2Required", "4000000000003220"},
    {"threeDSecureRequired", "4000002760003184"},
    {"createDispute", "4000000000000259"},
    {"createDisputeProductNotReceived", "4000000000002685"},
    {"createDisputeInquiry", "4000000000001976"},
    {"refundFail", "4000000000005126"},
    {"pendingRefund", "4000000000007726"},
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
