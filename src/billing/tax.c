#include "billing/tax.h"

#include <string.h>

#include "billing/billing.h"

int billing_tax_percent_parse(const char *s, int64_t *ret_e4)
{
	if (!s || !*s)
		return -1;
	int64_t whole = 0, frac = 0;
	int nw = 0, nf = 0;
	const char *p = s;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (++nw > 3)
			return -1;
		whole = whole * 10 + (*p - '0');
	}
	if (*p == '.') {
		p++;
		for (; *p >= '0' && *p <= '9'; p++) {
			if (++nf > 4)
				return -1;
			frac = frac * 10 + (*p - '0');
		}
		if (nf == 0)
			return -1;
	}
	if (*p || nw == 0)
		return -1;
	for (int k = nf; k < 4; k++)
		frac *= 10;
	int64_t e4 = whole * 10000 + frac;
	if (e4 > 100 * 10000)
		return -1;
	*ret_e4 = e4; /* percent × 10,000: millionths of the whole */
	return 0;
}

int billing_mul_div_round(int64_t x, int64_t num, int64_t den, int64_t *ret)
{
	if (den < 1)
		return -1;
	__int128 prod = (__int128)x * num;
	__int128 q = prod / den, rem = prod % den;
	__int128 arem = rem < 0 ? -rem : rem;
	/* halves away from zero: the remainder's sign is the product's */
	if (2 * arem >= den)
		q += prod < 0 ? -1 : 1;
	if (q > INT64_MAX || q < INT64_MIN)
		return -1;
	*ret = (int64_t)q;
	return 0;
}

int billing_tax_line(int64_t taxable, const int64_t *percent_e4, const bool *inclusive, int n,
		     int64_t *ret_amounts, int64_t *ret_net, int64_t *ret_exclusive,
		     int64_t *ret_inclusive)
{
	if (n < 0 || n > BILLING_TAX_RATES_MAX || taxable > BILLING_AMOUNT_MAX ||
	    taxable < -BILLING_AMOUNT_MAX)
		return -1;
	int64_t amounts[BILLING_TAX_RATES_MAX];
	int64_t inc_pct = 0, inc_sum = 0, exc_sum = 0;
	for (int i = 0; i < n; i++) {
		if (percent_e4[i] < 0 || percent_e4[i] > BILLING_PERCENT_ONE)
			return -1;
		if (inclusive[i] && __builtin_add_overflow(inc_pct, percent_e4[i], &inc_pct))
			return -1;
	}
	int64_t den;
	if (__builtin_add_overflow(BILLING_PERCENT_ONE, inc_pct, &den))
		return -1;
	for (int i = 0; i < n; i++) {
		if (!inclusive[i])
			continue;
		if (billing_mul_div_round(taxable, percent_e4[i], den, &amounts[i]) != 0 ||
		    __builtin_add_overflow(inc_sum, amounts[i], &inc_sum))
			return -1;
	}
	int64_t net;
	if (__builtin_sub_overflow(taxable, inc_sum, &net))
		return -1;
	for (int i = 0; i < n; i++) {
		if (inclusive[i])
			continue;
		if (billing_mul_div_round(net, percent_e4[i], BILLING_PERCENT_ONE, &amounts[i]) !=
			0 ||
		    __builtin_add_overflow(exc_sum, amounts[i], &exc_sum))
			return -1;
	}
	if (n)
		memcpy(ret_amounts, amounts, (size_t)n * sizeof(*amounts));
	*ret_net = net;
	*ret_exclusive = exc_sum;
	*ret_inclusive = inc_sum;
	return 0;
}

int billing_tax_share(int64_t tax, int64_t part, int64_t whole, int64_t before_amount,
		      int64_t before_tax, int64_t *ret)
{
	int64_t done, left;
	if (part < 1 || whole < 1 || before_amount < 0 ||
	    __builtin_add_overflow(before_amount, part, &done) || done > whole ||
	    __builtin_sub_overflow(tax, before_tax, &left))
		return -1;
	/* what is left has the tax's sign (earlier shares never took more than the tax) */
	if ((tax >= 0 && (left < 0 || left > tax)) || (tax < 0 && (left > 0 || left < tax)))
		return -1;
	int64_t share;
	if (done == whole) {
		share = left; /* the last share takes the remainder */
	} else {
		if (billing_mul_div_round(tax, part, whole, &share) != 0)
			return -1;
		if ((tax >= 0 && share > left) || (tax < 0 && share < left))
			share = left;
	}
	*ret = share;
	return 0;
}
