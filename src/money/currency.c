#include "money/currency.h"

#include <string.h>

static const struct currency table[] = {
#define X(code, numeric, exponent, min, step) {code, numeric, exponent, min, step},
#include "money/currencies.def"
#undef X
};

#define COUNT (sizeof(table) / sizeof(table[0]))

const struct currency *currency_find(const char *code)
{
	if (!code || strnlen(code, 4) != 3)
		return NULL;
	size_t lo = 0, hi = COUNT;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(table[mid].code, code);
		if (c == 0)
			return &table[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

size_t currency_count(void)
{
	return COUNT;
}

const struct currency *currency_at(size_t i)
{
	return i < COUNT ? &table[i] : NULL;
}

void currency_list_codes(struct buf *b)
{
	for (size_t i = 0; i < COUNT; i++) {
		if (i)
			buf_puts(b, ", ");
		buf_puts(b, table[i].code);
	}
}

bool currency_min_documented(const char *code)
{
	/* Stripe's published table (currencies.def's header), in code order */
	static const char *const documented[] = {
	    "aed", "aud", "bgn", "brl", "cad", "chf", "czk", "dkk", "eur", "gbp", "hkd", "huf",
	    "inr", "jpy", "mxn", "myr", "nok", "nzd", "pln", "ron", "sek", "sgd", "thb", "usd",
	};
	if (!code)
		return false;
	for (size_t i = 0; i < sizeof(documented) / sizeof(documented[0]); i++)
		if (strcmp(documented[i], code) == 0)
			return true;
	return false;
}
