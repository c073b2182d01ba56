/*
 * ISO 4217 currencies as Stripe's API uses them: lowercase code, minor-unit exponent (0, 2 or 3),
 * Stripe's minimum charge amount and the step charge amounts must be a multiple of. One data table
 * (currencies.def, whose header says where every number comes from); nothing else hard-codes a
 * currency's exponent. The table is constant: safe to read from any thread.
 */
#ifndef TENDER_MONEY_CURRENCY_H
#define TENDER_MONEY_CURRENCY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

struct currency {
	const char *code;	   /* lowercase, 3 letters */
	int numeric;		   /* ISO 4217 numeric code (not unique: ang and xcg share 532) */
	int exponent;		   /* minor units per major unit = 10^exponent; 0, 2 or 3 */
	int64_t min_charge_minor;  /* smallest charge amount; 0: no minimum known or enforced */
	int64_t charge_step_minor; /* charge amounts must be multiples of this: 1, 10 or 100 */
};

/* The currency with that code (exactly three lowercase letters), or NULL. O(log n). */
const struct currency *currency_find(const char *code);
size_t currency_count(void);
/* Rows in code order; NULL past the end. */
const struct currency *currency_at(size_t i);
/* True for the currencies whose minimum charge Stripe documents (its table of minimum and
 * maximum charge amounts: aed aud bgn brl cad chf czk dkk eur gbp hkd huf inr jpy mxn myr nok nzd
 * pln ron sek sgd thb usd). For the others currencies.def's min_charge_minor is derived from a
 * rate (or 0), and the payments use the settlement currency's minimum, converted, instead. */
bool currency_min_documented(const char *code);
/* Appends every code, comma-and-space separated ("aed, afn, …"), for "Invalid currency"
 * messages. */
void currency_list_codes(struct buf *b);

#endif
