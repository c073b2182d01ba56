/*
 * Tiered prices (billing_scheme=tiered): the amount of a quantity under a price's tiers, with no
 * store and no request.
 *
 * A tier covers the quantities up to and including its up_to (the last tier's is infinite) and
 * has a unit amount and a flat amount, each a decimal count of minor units with up to 12
 * decimals (Stripe's unit_amount_decimal / flat_amount_decimal). Graduated: each tier prices the
 * units that fall in it, plus its flat amount when any unit does (a quantity of 0 falls in the
 * first tier); volume: the one tier the whole quantity falls in prices every unit, plus its flat
 * amount. Amounts are kept exactly, as whole minor units and a 12-digit fraction, and the sum is
 * rounded once, at the end, to the nearest minor unit (halves up: amounts are never negative).
 * Integer arithmetic only, every step overflow-checked.
 */
#ifndef TENDER_BILLING_TIERS_H
#define TENDER_BILLING_TIERS_H

#include <stddef.h>
#include <stdint.h>

/* Tender's bound on a price's tiers (a request's array and a stored price alike). */
#define TIERS_MAX 100
/* up_to of the last tier: "inf" on the wire, null when rendered */
#define TIER_UP_TO_INF 0
/* 10^12: one minor unit in the fractions below */
#define TIER_FRAC_ONE 1000000000000LL

enum tiers_mode { TIERS_GRADUATED, TIERS_VOLUME };

struct tier {
	int64_t up_to;		       /* >= 1, or TIER_UP_TO_INF (the last tier only) */
	int64_t unit_whole, unit_frac; /* unit amount: whole minor units + frac / 10^12 */
	int64_t flat_whole, flat_frac; /* flat amount, the same way */
};

struct tiers {
	enum tiers_mode mode;
	int n; /* 1 … TIERS_MAX */
	const struct tier *tier;
};

/* "graduated" / "volume" → the mode; -1 for anything else. */
int tiers_mode_parse(const char *s, enum tiers_mode *ret);

/* A decimal count of minor units: 1–8 digits, optionally '.' and 1–12 more digits, into its
 * whole part and its fraction in 10^-12 units ("1.5" → 1, 500000000000). 0, or -1 when
 * malformed. */
int tiers_decimal_parse(const char *s, int64_t *ret_whole, int64_t *ret_frac);

/* Checks a list of tiers: 1 … TIERS_MAX of them, up_to strictly ascending and >= 1, infinite
 * for the last tier and only for it, amounts non-negative with fractions below 10^12. 0; or
 * -1 with *ret_index the first bad tier and *ret_why: 1 up_to not ascending (or < 1), 2 the
 * last tier not infinite, 3 an infinite tier before the last, 4 a bad amount, 5 a bad count. */
int tiers_check(const struct tiers *t, int *ret_index, int *ret_why);

/* The amount, in minor units, of `quantity` (>= 0) under t (checked by tiers_check), rounded
 * once to the nearest minor unit. 0, or -1 on bad input or when it does not fit an int64_t. */
int tiers_amount(const struct tiers *t, int64_t quantity, int64_t *ret);

/* quantity (>= 0) × a per-unit decimal amount (whole minor units + frac / 10^12, as
 * tiers_decimal_parse gives), computed exactly and rounded once to the nearest minor unit,
 * halves up — the rule tiers_amount uses (Stripe rounds each invoice line once, after the
 * quantity is multiplied: 0.25 × 12,345 = 3,086.25 → 3,086; 0.5 × 5 = 2.5 → 3). 0, or -1 on
 * bad input or when it does not fit an int64_t. */
int tiers_decimal_amount(int64_t whole, int64_t frac, int64_t quantity, int64_t *ret);

/* A decimal unit amount (whole + frac / 10^12 minor units) × a decimal quantity (q_whole +
 * q_frac / 10^12 units, both as tiers_decimal_parse gives), computed exactly and rounded once
 * to the nearest minor unit, halves up, as tiers_decimal_amount rounds (Stripe's
 * quantity_decimal: 1.5 units at 0.5 → 0.75 → 1). 0, or -1 on bad input or when it does not
 * fit (the exact product is held in an i128: up to about 1.7 × 10^14 minor units). */
int tiers_decimal_product(int64_t whole, int64_t frac, int64_t q_whole, int64_t q_frac,
			  int64_t *ret);

/* A decimal count of minor units (as tiers_decimal_parse takes) in major units of a currency
 * of exponent e (0 … 4), by moving its point, with no arithmetic: "0.25", 2 → "0.0025";
 * "105.5", 2 → "1.055"; "12.5", 0 → "12.5" (trailing zeros of the fraction dropped). What a
 * description shows of a sub-cent unit price. 0, or -1 (too long, bad e). */
int tiers_decimal_major(const char *dec, int e, char *out, size_t n);

/* amount / quantity as a decimal string of minor units with at most 12 decimals (trailing
 * zeros dropped, truncated past the 12th): what a line of a tiered price shows as its unit
 * amount. 0, or -1 (quantity < 1, amount < 0, n too small). */
int tiers_unit_decimal(int64_t amount, int64_t quantity, char *out, size_t n);

#endif
