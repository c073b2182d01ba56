/*
 * ISO 4217 currencies as Stripe's API uses them: lowercase code, minor-unit exponent (0, 2 or 3)
 * and Stripe's minimum charge amount. One data table (currencies.def); nothing else hard-codes a
 * currency's exponent.
 */
#ifndef TENDER_MONEY_CURRENCY_H
#define TENDER_MONEY_CURRENCY_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

struct currency {
	const char *code; /* lowercase, 3 letters */
	int numeric;
	int exponent;
	int64_t min_charge_minor; /* 0: no minimum */
};

/* The currency with that lowercase code, or NULL. */
const struct currency *currency_find(const char *code);
size_t currency_count(void);
const struct currency *currency_at(size_t i);
/* Comma-separated list of every code (for "Invalid currency" messages). */
void currency_list_codes(struct buf *b);

#endif
