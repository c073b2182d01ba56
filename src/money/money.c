#include "money/money.h"

#include <stdbool.h>

#include "money/currency.h"
#include "money/rational.h"

#define I128_MAX ((__int128)(((unsigned __int128)1 << 127) - 1))
#define I128_MIN (-I128_MAX - 1)

static unsigned __int128 mag128(__int128 v)
{
	return v < 0 ? -(unsigned __int128)v : (unsigned __int128)v;
}

int money_div_round_i128(__int128 num, __int128 den, enum money_round mode, __int128 *ret)
{
	if (den == 0)
		return MONEY_ERR_INVALID;
	if (num == I128_MIN && den == -1)
		return MONEY_ERR_OVERFLOW;
	/* C division truncates toward zero; r carries num's sign and |r| < |den|. Adjusting q by
	 * one unit cannot overflow: r != 0 implies |den| >= 2, so |q| <= |num| / 2. */
	__int128 q = num / den;
	__int128 r = num % den;
	if (r != 0) {
		bool positive = (r > 0) == (den > 0); /* sign of the exact fraction r / den */
		if (mode == MONEY_ROUND_CEIL) {
			if (positive)
				q += 1;
		} else {
			unsigned __int128 ur = mag128(r), ud = mag128(den);
			if (ur >= ud - ur) /* |r / den| >= 1/2, without forming 2|r| */
				q += positive ? 1 : -1;
		}
	}
	*ret = q;
	return 0;
}

int money_div_round_i64(__int128 num, __int128 den, enum money_round mode, int64_t *ret)
{
	__int128 q;
	int rc = money_div_round_i128(num, den, mode, &q);
	if (rc)
		return rc;
	if (q > INT64_MAX || q < INT64_MIN)
		return MONEY_ERR_OVERFLOW;
	*ret = (int64_t)q;
	return 0;
}

int money_mul_i128(__int128 a, __int128 b, __int128 *ret)
{
	__int128 r;
	if (__builtin_mul_overflow(a, b, &r))
		return MONEY_ERR_OVERFLOW;
	*ret = r;
	return 0;
}

int money_add(int64_t a, int64_t b, int64_t *ret)
{
	int64_t r;
	if (__builtin_add_overflow(a, b, &r))
		return MONEY_ERR_OVERFLOW;
	*ret = r;
	return 0;
}

int money_sub(int64_t a, int64_t b, int64_t *ret)
{
	int64_t r;
	if (__builtin_sub_overflow(a, b, &r))
		return MONEY_ERR_OVERFLOW;
	*ret = r;
	return 0;
}

int money_mul(int64_t a, int64_t b, int64_t *ret)
{
	int64_t r;
	if (__builtin_mul_overflow(a, b, &r))
		return MONEY_ERR_OVERFLOW;
	*ret = r;
	return 0;
}

int money_sum(const int64_t *amounts, size_t n, int64_t *ret)
{
	if (n && !amounts)
		return MONEY_ERR_INVALID;
	int64_t total = 0;
	for (size_t i = 0; i < n; i++)
		if (__builtin_add_overflow(total, amounts[i], &total))
			return MONEY_ERR_OVERFLOW;
	*ret = total;
	return 0;
}

int money_fee(int64_t amount_minor, int32_t percent_bps, int64_t fixed_minor, int64_t *ret_fee)
{
	if (percent_bps < 0 || percent_bps > MONEY_FEE_BPS_MAX || fixed_minor < 0)
		return MONEY_ERR_INVALID;
	if (amount_minor == 0) {
		*ret_fee = 0;
		return 0;
	}
	/* Work on |amount| (2^63 fits in __int128) and put the sign back at the end: that is what
	 * makes fee(−x) = −fee(x) hold exactly, rounding included. */
	__int128 mag = amount_minor < 0 ? -(__int128)amount_minor : (__int128)amount_minor;
	__int128 pct;
	int rc = money_div_round_i128(mag * percent_bps, 10000, MONEY_ROUND_HALF_AWAY, &pct);
	if (rc)
		return rc;
	__int128 fee = pct + fixed_minor; /* both < 2^64: no __int128 overflow */
	if (amount_minor < 0)
		fee = -fee;
	if (fee > INT64_MAX || fee < INT64_MIN)
		return MONEY_ERR_OVERFLOW;
	*ret_fee = (int64_t)fee;
	return 0;
}

int64_t money_pow10(int exponent)
{
	if (exponent < 0 || exponent > 18)
		return 0;
	int64_t p = 1;
	for (int i = 0; i < exponent; i++)
		p *= 10;
	return p;
}

int money_parse_major(const char *s, int exponent, int64_t max_minor, int64_t *ret)
{
	int64_t scale = money_pow10(exponent);
	if (!s || scale == 0 || max_minor < 0)
		return MONEY_ERR_INVALID;
	while (*s == ' ')
		s++;
	int64_t whole = 0, frac = 0;
	int n_whole = 0, n_frac = 0;
	bool over = false;
	for (; *s >= '0' && *s <= '9'; s++, n_whole++)
		over = over || __builtin_mul_overflow(whole, 10, &whole) ||
		       __builtin_add_overflow(whole, *s - '0', &whole);
	if (*s == '.') {
		for (s++; *s >= '0' && *s <= '9'; s++, n_frac++)
			if (n_frac < exponent)
				frac = frac * 10 + (*s - '0');
		if (n_frac == 0 || n_frac > exponent)
			return MONEY_ERR_INVALID;
	}
	while (*s == ' ')
		s++;
	if (*s || n_whole == 0)
		return MONEY_ERR_INVALID;
	for (int i = n_frac; i < exponent; i++)
		frac *= 10; /* "25.5" in cents: 50 */
	int64_t v;
	if (over || __builtin_mul_overflow(whole, scale, &v) ||
	    __builtin_add_overflow(v, frac, &v) || v > max_minor)
		return MONEY_ERR_OVERFLOW;
	*ret = v;
	return 0;
}

int money_format(struct buf *b, int64_t amount_minor, const char *currency)
{
	const struct currency *cy = currency_find(currency);
	if (!cy)
		return MONEY_ERR_UNKNOWN_CURRENCY;
	/* Unsigned magnitude: −INT64_MIN does not fit in int64_t. */
	uint64_t mag = amount_minor < 0 ? -(uint64_t)amount_minor : (uint64_t)amount_minor;
	const char *sign = amount_minor < 0 ? "-" : "";
	if (cy->exponent == 0) {
		buf_printf(b, "%s%llu %s", sign, (unsigned long long)mag, cy->code);
		return 0;
	}
	uint64_t div = (uint64_t)money_pow10(cy->exponent);
	buf_printf(b, "%s%llu.%0*llu %s", sign, (unsigned long long)(mag / div), cy->exponent,
		   (unsigned long long)(mag % div), cy->code);
	return 0;
}
