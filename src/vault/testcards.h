/* Stripe's published test cards and the test-mode aliases that stand for them (vault-internal). */
#ifndef TENDER_VAULT_TESTCARDS_H
#define TENDER_VAULT_TESTCARDS_H

#include "processor/processor.h"

struct testcard {
	const char *number;
	const char *brand;
	const char *funding;
	const char *country;
	enum acq_behavior behavior;
};

const struct testcard *testcard_by_number(const char *digits);
/* pm_card_visa, tok_visa, …: the card, or NULL. */
const struct testcard *testcard_by_alias(const char *alias);

#endif
