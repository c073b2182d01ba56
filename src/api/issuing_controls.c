/*
 * Issuing's spending controls as an authorization reads them (issuing.h): the controls JSON that
 * issuing_spending_controls_json wrote, taken apart again; the windows Stripe's spending limits
 * count in; and each merchant category's code. Pure: no store, no request.
 *
 * The JSON is this program's own, in its fixed key order, and category names are [a-z0-9_]
 * only, so a category array is the text from its '[' to the first ']' and a category is in it
 * when "name" (quoted) is.
 */
#include <stdlib.h>
#include <string.h>

#include "api/issuing.h"

struct code_row {
	const char *name, *code;
};
static const struct code_row CODES[] = {
#define X(name, code) {name, code},
#include "api/issuing_category_codes.def"
#undef X
};
#define N_CODES (sizeof(CODES) / sizeof(CODES[0]))

static int code_cmp(const void *k, const void *e)
{
	return strcmp((const char *)k, ((const struct code_row *)e)->name);
}

const char *issuing_category_code(const char *name)
{
	if (!name)
		return NULL;
	/* the table is in the (sorted) order of issuing_categories.def, name first in each row */
	const void *hit = bsearch(name, CODES, N_CODES, sizeof(CODES[0]), code_cmp);
	return hit ? ((const struct code_row *)hit)->code : NULL;
}

/* Days since 1970-01-01 of the civil date y-m-d (proleptic Gregorian; H. Hinnant's method). */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
	y -= m <= 2;
	const int64_t era = (y >= 0 ? y : y - 399) / 400;
	const int64_t yoe = y - era * 400;
	const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* The civil year and month of day z (days since 1970-01-01). */
static void civil_from_days(int64_t z, int64_t *y, int64_t *m)
{
	z += 719468;
	const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	const int64_t doe = z - era * 146097;
	const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	const int64_t mp = (5 * doy + 2) / 153;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = yoe + era * 400 + (*m <= 2);
}

static int64_t floor_div(int64_t a, int64_t b)
{
	return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

int64_t issuing_window_start(const char *interval, int64_t now)
{
	if (!interval)
		return -1;
	const int64_t day = floor_div(now, 86400);
	if (strcmp(interval, "all_time") == 0)
		return INT64_MIN;
	if (strcmp(interval, "per_authorization") == 0)
		return now;
	if (strcmp(interval, "daily") == 0)
		return day * 86400;
	if (strcmp(interval, "weekly") == 0) {
		/* Stripe's week starts on Sunday; 1970-01-01 was a Thursday (4 with Sunday 0) */
		const int64_t weekday = ((day + 4) % 7 + 7) % 7;
		return (day - weekday) * 86400;
	}
	int64_t y, m;
	civil_from_days(day, &y, &m);
	if (strcmp(interval, "monthly") == 0)
		return days_from_civil(y, m, 1) * 86400;
	if (strcmp(interval, "yearly") == 0)
		return days_from_civil(y, 1, 1) * 86400;
	return -1;
}

bool issuing_cats_has(const char *arr, size_t len, const char *cat)
{
	if (!arr || !cat || !*cat)
		return false;
	const size_t n = strlen(cat);
	for (const char *p = arr; (p = memchr(p, '"', len - (size_t)(p - arr))) != NULL; p++) {
		if ((size_t)(p - arr) + n + 2 <= len && memcmp(p + 1, cat, n) == 0 &&
		    p[n + 1] == '"')
			return true;
		/* skip to the closing quote of this name */
		const char *q = memchr(p + 1, '"', len - (size_t)(p + 1 - arr));
		if (!q)
			break;
		p = q;
	}
	return false;
}

/* At *p: null, or a category array; sets arr/len (NULL when null) and moves *p past it. */
static int cats_at(const char **p, const char **arr, size_t *len)
{
	if (strncmp(*p, "null", 4) == 0) {
		*arr = NULL;
		*len = 0;
		*p += 4;
		return 0;
	}
	if (**p != '[')
		return -1;
	const char *end = strchr(*p, ']');
	if (!end)
		return -1;
	*arr = *p;
	*len = (size_t)(end + 1 - *p);
	*p = end + 1;
	return 0;
}

static int expect(const char **p, const char *lit)
{
	size_t n = strlen(lit);
	if (strncmp(*p, lit, n) != 0)
		return -1;
	*p += n;
	return 0;
}

int issuing_controls_parse(const char *json, struct issuing_controls *c)
{
	memset(c, 0, sizeof(*c));
	if (!json)
		return -1;
	const char *p = json;
	if (expect(&p, "{\"allowed_categories\":") != 0 ||
	    cats_at(&p, &c->allowed, &c->allowed_len) != 0 ||
	    expect(&p, ",\"blocked_categories\":") != 0 ||
	    cats_at(&p, &c->blocked, &c->blocked_len) != 0 ||
	    expect(&p, ",\"spending_limits\":[") != 0)
		return -1;
	while (*p == '{') {
		if (c->n_limits == ISSUING_LIMITS_MAX)
			return -1;
		struct issuing_limit *l = &c->limits[c->n_limits];
		char *end = NULL;
		if (expect(&p, "{\"amount\":") != 0)
			return -1;
		long long a = strtoll(p, &end, 10);
		if (end == p || a < 0)
			return -1;
		l->amount = (int64_t)a;
		p = end;
		if (expect(&p, ",\"categories\":") != 0 ||
		    cats_at(&p, &l->categories, &l->categories_len) != 0 ||
		    expect(&p, ",\"interval\":\"") != 0)
			return -1;
		const char *q = strchr(p, '"');
		if (!q || (size_t)(q - p) >= sizeof(l->interval))
			return -1;
		memcpy(l->interval, p, (size_t)(q - p));
		l->interval[q - p] = '\0';
		p = q + 1;
		if (expect(&p, "}") != 0)
			return -1;
		c->n_limits++;
		if (*p == ',')
			p++;
	}
	return expect(&p, "]") == 0 ? 0 : -1;
}
