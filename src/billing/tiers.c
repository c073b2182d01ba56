#include "billing/tiers.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

typedef __int128 i128;

int tiers_mode_parse(const char *s, enum tiers_mode *ret)
{
	if (s && strcmp(s, "graduated") == 0) {
		*ret = TIERS_GRADUATED;
		return 0;
	}
	if (s && strcmp(s, "volume") == 0) {
		*ret = TIERS_VOLUME;
		return 0;
	}
	return -1;
}

int tiers_decimal_parse(const char *s, int64_t *ret_whole, int64_t *ret_frac)
{
	if (!s)
		return -1;
	const char *dot = strchr(s, '.');
	size_t int_len = dot ? (size_t)(dot - s) : strlen(s);
	size_t frac_len = dot ? strlen(dot + 1) : 0;
	if (int_len < 1 || int_len > 8 || (dot && (frac_len < 1 || frac_len > 12)))
		return -1;
	int64_t whole = 0, frac = 0;
	for (size_t i = 0; i < int_len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		whole = whole * 10 + (s[i] - '0');
	}
	for (size_t i = 0; i < 12; i++) {
		int d = 0;
		if (i < frac_len) {
			if (dot[1 + i] < '0' || dot[1 + i] > '9')
				return -1;
			d = dot[1 + i] - '0';
		}
		frac = frac * 10 + d;
	}
	*ret_whole = whole;
	*ret_frac = frac;
	return 0;
}

static bool amount_ok(int64_t whole, int64_t frac)
{
	return whole >= 0 && frac >= 0 && frac < TIER_FRAC_ONE;
}

int tiers_check(const struct tiers *t, int *ret_index, int *ret_why)
{
	if (!t || t->n < 1 || t->n > TIERS_MAX || !t->tier) {
		*ret_index = 0;
		*ret_why = 5;
		return -1;
	}
	int64_t prev = 0;
	for (int i = 0; i < t->n; i++) {
		const struct tier *x = &t->tier[i];
		int why = 0;
		if (!amount_ok(x->unit_whole, x->unit_frac) ||
		    !amount_ok(x->flat_whole, x->flat_frac))
			why = 4;
		else if (x->up_to == TIER_UP_TO_INF)
			why = i == t->n - 1 ? 0 : 3;
		else if (i == t->n - 1)
			why = 2;
		else if (x->up_to <= prev)
			why = 1;
		if (why) {
			*ret_index = i;
			*ret_why = why;
			return -1;
		}
		prev = x->up_to;
	}
	return 0;
}

/* sum (>= 0, in 10^-12 minor units) rounded once to the nearest minor unit. Halves go up (away
 * from zero, as every amount here is >= 0): Stripe rounds a line "after the quantity is
 * multiplied by the decimal amount ... 0.05 * 30 = 1.5, which is then rounded up to 2 cents",
 * and Tender's money rule (money.h) is half away from zero, not half-even. */
static int round_once(i128 sum, int64_t *ret)
{
	if (sum < 0)
		return -1;
	i128 whole = sum / TIER_FRAC_ONE;
	if (sum % TIER_FRAC_ONE >= TIER_FRAC_ONE / 2)
		whole++;
	if (whole > INT64_MAX)
		return -1;
	*ret = (int64_t)whole;
	return 0;
}

/* sum += units × (whole + frac / 10^12) + flat, all in 10^-12 minor units. */
static int add_tier(const struct tier *x, int64_t units, bool flat, i128 *sum)
{
	i128 unit = (i128)x->unit_whole * TIER_FRAC_ONE + x->unit_frac;
	i128 part;
	if (__builtin_mul_overflow(unit, (i128)units, &part) ||
	    __builtin_add_overflow(*sum, part, sum))
		return -1;
	if (flat) {
		i128 f = (i128)x->flat_whole * TIER_FRAC_ONE + x->flat_frac;
		if (__builtin_add_overflow(*sum, f, sum))
			return -1;
	}
	return 0;
}

int tiers_amount(const struct tiers *t, int64_t quantity, int64_t *ret)
{
	int idx, why;
	if (quantity < 0 || tiers_check(t, &idx, &why) != 0)
		return -1;
	i128 sum = 0;
	if (t->mode == TIERS_VOLUME) {
		int i = 0;
		while (i < t->n - 1 && quantity > t->tier[i].up_to)
			i++;
		if (add_tier(&t->tier[i], quantity, true, &sum) != 0)
			return -1;
	} else if (t->mode == TIERS_GRADUATED) {
		int64_t lower = 0; /* the units below this tier */
		for (int i = 0; i < t->n; i++) {
			const struct tier *x = &t->tier[i];
			bool last = x->up_to == TIER_UP_TO_INF;
			int64_t top = last || quantity < x->up_to ? quantity : x->up_to;
			if (add_tier(x, top - lower, true, &sum) != 0)
				return -1;
			if (last || quantity <= x->up_to)
				break;
			lower = x->up_to;
		}
	} else {
		return -1;
	}
	return round_once(sum, ret);
}

int tiers_decimal_amount(int64_t whole, int64_t frac, int64_t quantity, int64_t *ret)
{
	/* a per-unit price is one tier every unit falls in, with no flat amount: the same exact
	 * product and the same single rounding as a tiered price's */
	const struct tier x = {TIER_UP_TO_INF, whole, frac, 0, 0};
	i128 sum = 0;
	if (quantity < 0 || !amount_ok(whole, frac) || add_tier(&x, quantity, false, &sum) != 0)
		return -1;
	return round_once(sum, ret);
}

int tiers_decimal_product(int64_t whole, int64_t frac, int64_t q_whole, int64_t q_frac,
			  int64_t *ret)
{
	if (!amount_ok(whole, frac) || !amount_ok(q_whole, q_frac))
		return -1;
	/* both in 10^-12 units: their product in 10^-24 minor units, rounded once */
	const i128 one = (i128)TIER_FRAC_ONE * TIER_FRAC_ONE;
	i128 unit = (i128)whole * TIER_FRAC_ONE + frac;
	i128 qty = (i128)q_whole * TIER_FRAC_ONE + q_frac;
	i128 prod;
	if (__builtin_mul_overflow(unit, qty, &prod))
		return -1;
	i128 w = prod / one;
	if (prod % one >= one / 2)
		w++;
	if (w > INT64_MAX)
		return -1;
	*ret = (int64_t)w;
	return 0;
}

int tiers_unit_decimal(int64_t amount, int64_t quantity, char *out, size_t n)
{
	if (quantity < 1 || amount < 0 || n < 1)
		return -1;
	int64_t whole = amount / quantity;
	int64_t rem = amount % quantity;
	char frac[16];
	size_t len = 0;
	/* the first 12 decimals of rem / quantity, digit by digit (rem × 10 < 10 × quantity) */
	for (int i = 0; i < 12 && rem != 0; i++) {
		i128 r10 = (i128)rem * 10;
		frac[len++] = (char)('0' + (int)(r10 / quantity));
		rem = (int64_t)(r10 % quantity);
	}
	while (len > 0 && frac[len - 1] == '0')
		len--;
	int w = len ? snprintf(out, n, "%lld.%.*s", (long long)whole, (int)len, frac)
		    : snprintf(out, n, "%lld", (long long)whole);
	return w < 0 || (size_t)w >= n ? -1 : 0;
}

int tiers_decimal_major(const char *dec, int e, char *out, size_t n)
{
	char digits[40];
	if (!dec || n < 1)
		return -1;
	const char *dot = strchr(dec, '.');
	size_t w = dot ? (size_t)(dot - dec) : strlen(dec);
	size_t f = dot ? strlen(dot + 1) : 0;
	if (w + f + 1 > sizeof(digits) || e < 0 || e > 4)
		return -1;
	memcpy(digits, dec, w);
	memcpy(digits + w, dot ? dot + 1 : "", f);
	size_t len = w + f, k = 0;
	long pos = (long)w - e;		      /* the point's place in digits */
	while (pos > 1 && digits[k] == '0') { /* leading zeros of the whole part */
		k++;
		pos--;
	}
	size_t o = 0;
	if (pos <= 0) {
		o = (size_t)snprintf(out, n, "0.%0*d", (int)-pos, 0);
		if (pos == 0)
			o = (size_t)snprintf(out, n, "0.");
		if (o >= n)
			return -1;
	}
	for (size_t i = k; i < len; i++) {
		if (pos > 0 && (long)(i - k) == pos) {
			if (o + 1 >= n)
				return -1;
			out[o++] = '.';
		}
		if (o + 1 >= n)
			return -1;
		out[o++] = digits[i];
	}
	out[o] = '\0';
	/* trailing zeros after the point, and a bare point */
	if (strchr(out, '.')) {
		while (o > 0 && out[o - 1] == '0')
			out[--o] = '\0';
		if (o > 0 && out[o - 1] == '.')
			out[--o] = '\0';
	}
	return 0;
}
