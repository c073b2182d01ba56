/* Stripe's published test cards and the test-mode aliases that stand for them (vault-internal:
 * only src/vault/ includes this header, because it carries the numbers). */
#ifndef TENDER_VAULT_TESTCARDS_H
#define TENDER_VAULT_TESTCARDS_H

#include <stddef.h>

#include "vault/vault.h"

struct testcard {
	struct vault_testcard pub; /* what the API may show; first, so &tc->pub == (void *)tc */
	const char *number;
};

const struct testcard *testcard_by_number(const char *digits);
/* pm_card_visa, tok_visa, …: the card, or NULL. */
const struct testcard *testcard_by_alias(const char *alias);
/* The whole table (for the unit tests that check it against the validator). */
const struct testcard *testcard_at(size_t i);
size_t testcard_count(void);
const char *testcard_alias_at(size_t i, const char **ret_number);
size_t testcard_alias_count(void);

#endif
