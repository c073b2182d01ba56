/*
 * Money arithmetic on int64_t minor units (cents, yen, fils), every step overflow-checked.
 *
 * One rounding rule for all of src/money: ROUND HALF AWAY FROM ZERO, applied once to the exact
 * rational result (computed in 128-bit integers, never in floating point). 2.5 → 3, −2.5 → −3,
 * 2.4999… → 2. For positive values that is the familiar "round half up"; for negative values
 * (refunds, reversals) it mirrors the positive case, so f(−x) = −f(x) and a refund computed
 * from a negative amount is the exact negation of the charge's figure.
 *
 * Errors: functions return 0 or one of the negative MONEY_ERR_* codes below; output parameters
 * (ret_*) are written only on success.
 */
#ifndef TENDER_MONEY_MONEY_H
#define TENDER_MONEY_MONEY_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

#define MONEY_ERR_OVERFLOW (-1) /* the exact result does not fit (int64, or a rate's range) */
#define MONEY_ERR_INVALID (-2)	/* a bad argument (negative fee parameters, NULL table, …) */
#define MONEY_ERR_UNKNOWN_CURRENCY (-3) /* a code currency_find() does not know */
#define MONEY_ERR_NO_RATE (-4)		/* no exchange rate for that pair at that time */

/* Pricing defaults: 2.9 % + 30 minor units. */
#define MONEY_FEE_DEFAULT_BPS 290
#define MONEY_FEE_DEFAULT_FIXED_MINOR 30
#define MONEY_FEE_BPS_MAX 10000 /* 100 % */

int money_add(int64_t a, int64_t b, int64_t *ret);
int money_sub(int64_t a, int64_t b, int64_t *ret);
int money_mul(int64_t a, int64_t b, int64_t *ret);
/* Sum of n amounts; the running total must stay in range (checked at every step). n == 0 → 0. */
int money_sum(const int64_t *amounts, size_t n, int64_t *ret);

/*
 * Processing fee for a charge of amount_minor:
 *   fee = round_half_away(amount × percent_bps / 10000) + fixed_minor      (amount > 0)
 *   fee(−amount) = −fee(amount)                                           (refunds, symmetric)
 *   fee(0) = 0
 * e.g. 1000 at 290 bps + 30 → 29 + 30 = 59; 50 → round(1.45) + 30 = 31; −1000 → −59.
 * percent_bps in 0..MONEY_FEE_BPS_MAX and fixed_minor ≥ 0, else MONEY_ERR_INVALID. The fee is not
 * capped at the amount: a caller that must never book a negative net (a 20-cent charge has a
 * 31-cent fee) caps it itself. Whether a refund gives back fees is the caller's policy too.
 */
int money_fee(int64_t amount_minor, int32_t percent_bps, int64_t fixed_minor, int64_t *ret_fee);

/*
 * Appends a human-readable amount: the exact major-unit value, a space and the lowercase code,
 * e.g. "0.50 usd", "-12.345 kwd", "500 jpy", "-92233720368547758.08 usd". Appends nothing and
 * returns MONEY_ERR_UNKNOWN_CURRENCY for an unknown code. For messages, not for the wire: the
 * API always carries integer minor units.
 */
int money_format(struct buf *b, int64_t amount_minor, const char *currency);

/*
 * An amount typed in major units ("25", "25.5", "25.50"; "500" for jpy) into minor units for a
 * currency of `exponent` decimals: digits, then at most one '.' followed by 1..exponent digits
 * (none for exponent 0); surrounding spaces allowed, nothing else (no sign, no grouping, no
 * exponent). No floating point: the digits are scaled exactly. MONEY_ERR_INVALID for text that
 * is not such a number, MONEY_ERR_OVERFLOW above max_minor.
 */
int money_parse_major(const char *s, int exponent, int64_t max_minor, int64_t *ret);

/* 10^exponent for exponent 0..18; 0 outside that range. */
int64_t money_pow10(int exponent);

#endif
