/*
 * fx.c: rate tables (load, look up) and conversions. The design, the rounding rule and the file
 * formats are described in fx.h; this file only adds how.
 *
 * A table is one sorted array of (base, quote, valid_from, rate) with currencies stored as their
 * index in the currency table, so a lookup is a binary search for the last entry of the pair at
 * or before the asked time. Every rate computation forms an exact fraction in __int128 and rounds
 * once (rational.h).
 */
#include "money/fx.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "money/currency.h"
#include "money/rates_bundled.h"
#include "money/rational.h"

#define CSV_LINE_MAX 1024
#define XML_NAME_MAX 64
#define XML_VALUE_MAX 256
#define XML_ATTRS_MAX 16
#define XML_DEPTH_MAX 64

struct fx_entry {
	uint16_t base, quote; /* indices into the currency table */
	int64_t valid_from;
	int64_t rate_e12;
};

struct fx_table {
	atomic_long refs;
	size_t n;
	struct fx_entry *e;
	unsigned char *named; /* [currency index]: 1 when some rate has it as base or quote */
};

/* A growing array of entries while a file is parsed. */
struct builder {
	struct fx_entry *e;
	size_t n, cap;
};

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	if (!err || !errlen)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static uint16_t cur_index(const struct currency *c)
{
	return (uint16_t)(c - currency_at(0));
}

static bool builder_add(struct builder *b, const struct fx_entry *x)
{
	if (b->n >= FX_ENTRIES_MAX)
		return false;
	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 64;
		if (cap > FX_ENTRIES_MAX)
			cap = FX_ENTRIES_MAX;
		struct fx_entry *p = realloc(b->e, cap * sizeof(*p));
		if (!p)
			return false;
		b->e = p;
		b->cap = cap;
	}
	b->e[b->n++] = *x;
	return true;
}

static int entry_cmp(const void *pa, const void *pb)
{
	const struct fx_entry *a = pa, *b = pb;
	if (a->base != b->base)
		return a->base < b->base ? -1 : 1;
	if (a->quote != b->quote)
		return a->quote < b->quote ? -1 : 1;
	if (a->valid_from != b->valid_from)
		return a->valid_from < b->valid_from ? -1 : 1;
	return 0;
}

/* Sorts, refuses duplicates and empty input, and hands the array to a new table. */
static struct fx_table *builder_finish(struct builder *b, const char *what, char *err,
				       size_t errlen)
{
	if (b->n == 0) {
		set_err(err, errlen, "%s: no exchange rates found", what);
		goto fail;
	}
	qsort(b->e, b->n, sizeof(b->e[0]), entry_cmp);
	for (size_t i = 1; i < b->n; i++) {
		if (entry_cmp(&b->e[i - 1], &b->e[i]) == 0) {
			set_err(err, errlen, "%s: duplicate rate %s->%s valid from %lld", what,
				currency_at(b->e[i].base)->code, currency_at(b->e[i].quote)->code,
				(long long)b->e[i].valid_from);
			goto fail;
		}
	}
	struct fx_table *t = calloc(1, sizeof(*t));
	if (!t) {
		set_err(err, errlen, "%s: out of memory", what);
		goto fail;
	}
	t->named = calloc(currency_count(), 1);
	if (!t->named) {
		free(t);
		set_err(err, errlen, "%s: out of memory", what);
		goto fail;
	}
	for (size_t i = 0; i < b->n; i++)
		t->named[b->e[i].base] = t->named[b->e[i].quote] = 1;
	atomic_init(&t->refs, 1);
	t->n = b->n;
	t->e = b->e;
	b->e = NULL;
	return t;
fail:
	free(b->e);
	b->e = NULL;
	return NULL;
}

/* ---- small exact parsers ---- */

int fx_rate_parse_decimal(const char *s, size_t len, int64_t *ret_rate_e12)
{
	if (!s || len == 0 || len > 64)
		return MONEY_ERR_INVALID;
	size_t i = 0;
	__int128 v = 0; /* in 10^-12 units; bounded below by the checks, never near overflow */
	size_t int_digits = 0;
	for (; i < len && s[i] >= '0' && s[i] <= '9'; i++, int_digits++) {
		v = v * 10 + (s[i] - '0');
		if (v > INT64_MAX)
			return MONEY_ERR_OVERFLOW;
	}
	if (int_digits == 0)
		return MONEY_ERR_INVALID;
	v *= FX_RATE_SCALE;
	if (i < len) {
		if (s[i] != '.' || i + 1 == len)
			return MONEY_ERR_INVALID;
		i++;
		int64_t place = FX_RATE_SCALE / 10;
		for (; i < len; i++) {
			if (s[i] < '0' || s[i] > '9')
				return MONEY_ERR_INVALID;
			if (place == 0) {
				/* Past the 12th decimal only zeros are exact. */
				if (s[i] != '0')
					return MONEY_ERR_INVALID;
				continue;
			}
			v += (__int128)(s[i] - '0') * place;
			place /= 10;
		}
	}
	if (v > INT64_MAX)
		return MONEY_ERR_OVERFLOW;
	if (v == 0)
		return MONEY_ERR_INVALID;
	*ret_rate_e12 = (int64_t)v;
	return 0;
}

static bool is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date: the year is shifted to start in March so
 * the leap day falls last in it, then whole 400-year eras (146097 days) are counted. */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
	y -= m <= 2;
	int64_t era = y / 400; /* y >= 1969 here, so no negative-division care is needed */
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* "YYYY-MM-DD" (00:00 UTC) or unsigned unix seconds. */
static bool parse_time(const char *s, size_t len, int64_t *ret)
{
	if (len == 0 || len > 19)
		return false;
	bool all_digits = true;
	for (size_t i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			all_digits = false;
	if (all_digits) {
		int64_t v = 0;
		for (size_t i = 0; i < len; i++)
			if (__builtin_mul_overflow(v, 10, &v) ||
			    __builtin_add_overflow(v, s[i] - '0', &v))
				return false;
		*ret = v;
		return true;
	}
	if (len != 10 || s[4] != '-' || s[7] != '-')
		return false;
	int64_t f[3] = {0, 0, 0};
	const size_t start[3] = {0, 5, 8}, n[3] = {4, 2, 2};
	for (int k = 0; k < 3; k++)
		for (size_t i = start[k]; i < start[k] + n[k]; i++) {
			if (s[i] < '0' || s[i] > '9')
				return false;
			f[k] = f[k] * 10 + (s[i] - '0');
		}
	static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (f[0] < 1970 || f[1] < 1 || f[1] > 12 || f[2] < 1)
		return false;
	int64_t dim = mdays[f[1] - 1] + (f[1] == 2 && is_leap(f[0]));
	if (f[2] > dim)
		return false;
	*ret = days_from_civil(f[0], f[1], f[2]) * 86400;
	return true;
}

/* A currency code in either case → the table's currency, or NULL. */
static const struct currency *find_code_ci(const char *s, size_t len)
{
	if (len != 3)
		return NULL;
	char c[4];
	for (size_t i = 0; i < 3; i++) {
		char ch = s[i];
		if (ch >= 'A' && ch <= 'Z')
			ch = (char)(ch - 'A' + 'a');
		if (ch < 'a' || ch > 'z')
			return NULL;
		c[i] = ch;
	}
	c[3] = '\0';
	return currency_find(c);
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static void trim(const char **s, size_t *len)
{
	while (*len && is_space(**s)) {
		(*s)++;
		(*len)--;
	}
	while (*len && is_space((*s)[*len - 1]))
		(*len)--;
}

/* ---- CSV ---- */

struct fx_table *fx_table_load_csv(const char *text, size_t len, char *err, size_t errlen)
{
	struct builder b = {0};
	if (!text || len > FX_FILE_MAX) {
		set_err(err, errlen, "csv: no input or larger than %u bytes", FX_FILE_MAX);
		return NULL;
	}
	size_t pos = 0, lineno = 0;
	bool seen_data = false;
	while (pos < len) {
		lineno++;
		const char *line = text + pos;
		const char *nl = memchr(line, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - line) : len - pos;
		pos += n + (nl ? 1 : 0);
		if (n > CSV_LINE_MAX) {
			set_err(err, errlen, "csv line %zu: longer than %d bytes", lineno,
				CSV_LINE_MAX);
			goto fail;
		}
		trim(&line, &n);
		if (n == 0 || line[0] == '#')
			continue;
		const char *f[4];
		size_t fl[4];
		size_t nf = 0;
		const char *p = line, *end = line + n;
		for (;;) {
			const char *comma = memchr(p, ',', (size_t)(end - p));
			const char *fe = comma ? comma : end;
			if (nf == 4) {
				nf++; /* too many fields */
				break;
			}
			f[nf] = p;
			fl[nf] = (size_t)(fe - p);
			trim(&f[nf], &fl[nf]);
			nf++;
			if (!comma)
				break;
			p = comma + 1;
		}
		if (!seen_data && nf >= 1 && fl[0] == 4 && strncasecmp(f[0], "base", 4) == 0) {
			seen_data = true; /* the header line */
			continue;
		}
		seen_data = true;
		if (nf != 4) {
			set_err(err, errlen,
				"csv line %zu: want 4 fields base,quote,rate,valid_from", lineno);
			goto fail;
		}
		const struct currency *base = find_code_ci(f[0], fl[0]);
		const struct currency *quote = find_code_ci(f[1], fl[1]);
		if (!base || !quote) {
			size_t k = base ? 1 : 0;
			set_err(err, errlen, "csv line %zu: unknown currency '%.*s'", lineno,
				(int)(fl[k] > 16 ? 16 : fl[k]), f[k]);
			goto fail;
		}
		if (base == quote) {
			set_err(err, errlen, "csv line %zu: base and quote are both %s", lineno,
				base->code);
			goto fail;
		}
		struct fx_entry x = {cur_index(base), cur_index(quote), 0, 0};
		int rc = fx_rate_parse_decimal(f[2], fl[2], &x.rate_e12);
		if (rc) {
			set_err(
			    err, errlen,
			    "csv line %zu: rate '%.*s' is not a positive decimal with at most %d "
			    "decimals below 9223372.036854775808",
			    lineno, (int)(fl[2] > 32 ? 32 : fl[2]), f[2], FX_RATE_DECIMALS);
			goto fail;
		}
		if (!parse_time(f[3], fl[3], &x.valid_from)) {
			set_err(err, errlen,
				"csv line %zu: valid_from '%.*s' is neither unix seconds nor "
				"YYYY-MM-DD",
				lineno, (int)(fl[3] > 32 ? 32 : fl[3]), f[3]);
			goto fail;
		}
		if (!builder_add(&b, &x)) {
			set_err(err, errlen, "csv line %zu: out of memory or more than %u rates",
				lineno, FX_ENTRIES_MAX);
			goto fail;
		}
	}
	return builder_finish(&b, "csv", err, errlen);
fail:
	free(b.e);
	return NULL;
}

/* ---- ECB XML ---- */

struct xml_attr {
	const char *name, *value;
	size_t name_len, value_len;
};

static bool is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == ':' || c == '-' || c == '.';
}

static size_t line_of(const char *s, size_t pos)
{
	size_t line = 1;
	for (size_t i = 0; i < pos; i++)
		line += s[i] == '\n';
	return line;
}

/* The part after the namespace prefix: "gesmes:Envelope" → "Envelope". */
static bool local_name_is(const char *name, size_t len, const char *want)
{
	const char *colon = memrchr(name, ':', len);
	if (colon) {
		len -= (size_t)(colon + 1 - name);
		name = colon + 1;
	}
	return len == strlen(want) && memcmp(name, want, len) == 0;
}

static const struct xml_attr *attr_get(const struct xml_attr *a, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (a[i].name_len == strlen(name) && memcmp(a[i].name, name, a[i].name_len) == 0)
			return &a[i];
	return NULL;
}

struct ecb_state {
	struct builder b;
	int depth;	/* open <Cube> elements */
	int time_depth; /* depth of the <Cube time=…> in force, 0 when none */
	int64_t time;
	size_t skipped; /* rates in currencies Tender does not know */
	uint16_t eur;
};

/* One <Cube …> start tag. Returns NULL or an error text. */
static const char *ecb_cube(struct ecb_state *st, const struct xml_attr *a, size_t na,
			    bool self_closing)
{
	const struct xml_attr *time = attr_get(a, na, "time");
	const struct xml_attr *cur = attr_get(a, na, "currency");
	const struct xml_attr *rate = attr_get(a, na, "rate");
	if (!self_closing) {
		if (st->depth >= XML_DEPTH_MAX)
			return "Cube elements nested too deeply";
		st->depth++;
	}
	if (time) {
		if (time->value_len != 10 || time->value[4] != '-' ||
		    !parse_time(time->value, time->value_len, &st->time))
			return "time is not YYYY-MM-DD";
		/* A self-closing time cube holds no rates: nothing is in force after it. */
		st->time_depth = self_closing ? 0 : st->depth;
	}
	if (!cur && !rate)
		return NULL;
	if (!cur || !rate)
		return "a Cube needs both currency and rate";
	if (st->time_depth == 0)
		return "rate outside a <Cube time='YYYY-MM-DD'> block";
	const struct currency *c = find_code_ci(cur->value, cur->value_len);
	if (!c) {
		bool letters = cur->value_len == 3;
		for (size_t i = 0; letters && i < 3; i++)
			letters = (cur->value[i] >= 'A' && cur->value[i] <= 'Z') ||
				  (cur->value[i] >= 'a' && cur->value[i] <= 'z');
		if (!letters)
			return "currency is not a three-letter code";
		st->skipped++; /* e.g. a withdrawn code in eurofxref-hist.xml */
		return NULL;
	}
	if (cur_index(c) == st->eur)
		return "a eur rate in a eur-based file";
	struct fx_entry x = {st->eur, cur_index(c), st->time, 0};
	if (fx_rate_parse_decimal(rate->value, rate->value_len, &x.rate_e12))
		return "rate is not a positive decimal with at most 12 decimals";
	if (!builder_add(&st->b, &x))
		return "out of memory or too many rates";
	return NULL;
}

struct fx_table *fx_table_load_ecb(const char *s, size_t len, char *err, size_t errlen)
{
	struct ecb_state st = {0};
	const char *why = NULL;
	size_t pos = 0, at = 0;
	if (!s || len > FX_FILE_MAX) {
		set_err(err, errlen, "ecb: no input or larger than %u bytes", FX_FILE_MAX);
		return NULL;
	}
	st.eur = cur_index(currency_find("eur"));
	while (pos < len) {
		const char *lt = memchr(s + pos, '<', len - pos);
		if (!lt)
			break; /* trailing text */
		pos = at = (size_t)(lt - s);
		size_t rest = len - pos;
		const char *close = NULL;
		if (rest >= 2 && lt[1] == '?') {
			close = memmem(lt + 2, rest - 2, "?>", 2);
			why = "unterminated <? ... ?>";
			if (!close)
				goto fail;
			pos = (size_t)(close - s) + 2;
			continue;
		}
		if (rest >= 4 && memcmp(lt, "<!--", 4) == 0) {
			close = memmem(lt + 4, rest - 4, "-->", 3);
			why = "unterminated comment";
			if (!close)
				goto fail;
			pos = (size_t)(close - s) + 3;
			continue;
		}
		if (rest >= 2 && lt[1] == '!') {
			/* A DOCTYPE or CDATA has no business in a rates file: an internal subset
			 * could define entities we do not expand. */
			why = "<! declarations are not supported";
			goto fail;
		}
		if (rest >= 2 && lt[1] == '/') {
			size_t i = 2;
			while (i < rest && is_name_char(lt[i]) && i < 2 + XML_NAME_MAX)
				i++;
			size_t name_len = i - 2;
			while (i < rest && is_space(lt[i]))
				i++;
			why = "malformed end tag";
			if (name_len == 0 || i >= rest || lt[i] != '>')
				goto fail;
			if (local_name_is(lt + 2, name_len, "Cube")) {
				why = "unbalanced </Cube>";
				if (st.depth == 0)
					goto fail;
				if (st.depth == st.time_depth)
					st.time_depth = 0;
				st.depth--;
			}
			pos += i + 1;
			continue;
		}
		/* A start tag: name, attributes, then '>' or '/>'. */
		size_t i = 1;
		while (i < rest && is_name_char(lt[i]) && i < 1 + XML_NAME_MAX)
			i++;
		size_t name_len = i - 1;
		why = "malformed start tag";
		if (name_len == 0)
			goto fail;
		struct xml_attr attrs[XML_ATTRS_MAX];
		size_t na = 0;
		bool self_closing = false;
		for (;;) {
			while (i < rest && is_space(lt[i]))
				i++;
			why = "unterminated tag";
			if (i >= rest)
				goto fail;
			if (lt[i] == '>') {
				i++;
				break;
			}
			if (lt[i] == '/') {
				why = "malformed '/>'";
				if (i + 1 >= rest || lt[i + 1] != '>')
					goto fail;
				i += 2;
				self_closing = true;
				break;
			}
			size_t ns = i;
			while (i < rest && is_name_char(lt[i]) && i - ns < XML_NAME_MAX)
				i++;
			why = "malformed attribute";
			if (i == ns)
				goto fail;
			struct xml_attr a = {lt + ns, NULL, i - ns, 0};
			while (i < rest && is_space(lt[i]))
				i++;
			if (i >= rest || lt[i] != '=')
				goto fail;
			i++;
			while (i < rest && is_space(lt[i]))
				i++;
			if (i >= rest || (lt[i] != '\'' && lt[i] != '"'))
				goto fail;
			char q = lt[i++];
			size_t vs = i;
			while (i < rest && lt[i] != q && lt[i] != '<' && i - vs <= XML_VALUE_MAX)
				i++;
			why = "unterminated or overlong attribute value";
			if (i >= rest || lt[i] != q)
				goto fail;
			a.value = lt + vs;
			a.value_len = i - vs;
			i++;
			why = "too many attributes";
			if (na == XML_ATTRS_MAX)
				goto fail;
			attrs[na++] = a;
		}
		if (local_name_is(lt + 1, name_len, "Cube")) {
			why = ecb_cube(&st, attrs, na, self_closing);
			if (why)
				goto fail;
		}
		pos += i;
	}
	if (st.depth != 0) {
		at = len;
		why = "unclosed <Cube>";
		goto fail;
	}
	return builder_finish(&st.b, "ecb", err, errlen);
fail:
	set_err(err, errlen, "ecb line %zu: %s", line_of(s, at), why);
	free(st.b.e);
	return NULL;
}

struct fx_table *fx_table_load_file(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		set_err(err, errlen, "%s: cannot open", path);
		return NULL;
	}
	struct fx_table *t = NULL;
	size_t cap = 1 << 16, n = 0;
	char *data = malloc(cap);
	if (!data) {
		set_err(err, errlen, "%s: out of memory", path);
		goto out;
	}
	/* Read at most FX_FILE_MAX + 1 bytes: one more than allowed tells "too large". */
	for (;;) {
		if (n == cap) {
			if (cap > FX_FILE_MAX)
				break;
			size_t ncap =
			    cap * 2 > (size_t)FX_FILE_MAX + 1 ? (size_t)FX_FILE_MAX + 1 : cap * 2;
			char *p = realloc(data, ncap);
			if (!p) {
				set_err(err, errlen, "%s: out of memory", path);
				goto out;
			}
			data = p;
			cap = ncap;
		}
		size_t got = fread(data + n, 1, cap - n, f);
		n += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		set_err(err, errlen, "%s: read error", path);
		goto out;
	}
	if (n > FX_FILE_MAX) {
		set_err(err, errlen, "%s: larger than %u bytes", path, FX_FILE_MAX);
		goto out;
	}
	size_t i = 0;
	if (n >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0)
		i = 3; /* UTF-8 byte order mark */
	while (i < n && is_space(data[i]))
		i++;
	if (i < n && data[i] == '<')
		t = fx_table_load_ecb(data, n, err, errlen);
	else
		t = fx_table_load_csv(data + i, n - i, err, errlen);
out:
	free(data);
	fclose(f);
	return t;
}

struct fx_table *fx_table_load_bundled(void)
{
	return fx_table_load_ecb(fx_rates_bundled_xml, fx_rates_bundled_xml_len, NULL, 0);
}

struct fx_table *fx_table_ref(struct fx_table *t)
{
	if (t)
		atomic_fetch_add(&t->refs, 1);
	return t;
}

void fx_table_free(struct fx_table *t)
{
	if (!t || atomic_fetch_sub(&t->refs, 1) != 1)
		return;
	free(t->e);
	free(t->named);
	free(t);
}

bool fx_table_names(const struct fx_table *t, const char *code)
{
	const struct currency *c = t ? currency_find(code) : NULL;
	return c && t->named[cur_index(c)];
}

size_t fx_table_count(const struct fx_table *t)
{
	return t ? t->n : 0;
}

static void rate_fill(struct fx_rate *r, uint16_t base, uint16_t quote, int64_t rate_e12,
		      int64_t valid_from)
{
	memset(r, 0, sizeof(*r));
	memcpy(r->base, currency_at(base)->code, 4);
	memcpy(r->quote, currency_at(quote)->code, 4);
	r->rate_e12 = rate_e12;
	r->valid_from = valid_from;
}

int fx_table_at(const struct fx_table *t, size_t i, struct fx_rate *ret_rate)
{
	if (!t || i >= t->n)
		return MONEY_ERR_INVALID;
	const struct fx_entry *x = &t->e[i];
	rate_fill(ret_rate, x->base, x->quote, x->rate_e12, x->valid_from);
	return 0;
}

/* ---- lookups ---- */

/* The entry for base→quote with the latest valid_from <= at, or NULL. */
static const struct fx_entry *find_direct(const struct fx_table *t, uint16_t base, uint16_t quote,
					  int64_t at)
{
	const struct fx_entry key = {base, quote, at, 0};
	size_t lo = 0, hi = t->n; /* first index whose key is > (base, quote, at) */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (entry_cmp(&t->e[mid], &key) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return NULL;
	const struct fx_entry *x = &t->e[lo - 1];
	return x->base == base && x->quote == quote ? x : NULL;
}

/* One leg of a conversion: the stored rate and whether it is used inverted. */
struct leg {
	int64_t rate_e12;
	int64_t valid_from;
	bool inverted;
};

static bool find_leg(const struct fx_table *t, uint16_t from, uint16_t to, int64_t at,
		     struct leg *ret)
{
	const struct fx_entry *x = find_direct(t, from, to, at);
	if (x) {
		*ret = (struct leg){x->rate_e12, x->valid_from, false};
		return true;
	}
	x = find_direct(t, to, from, at);
	if (x) {
		*ret = (struct leg){x->rate_e12, x->valid_from, true};
		return true;
	}
	return false;
}

/* Rounds an exact rate num/den (in 10^-12 units) and checks it is representable (>= 1 unit). */
static int rate_round(__int128 num, __int128 den, int64_t *ret)
{
	int64_t r;
	int rc = money_div_round_i64(num, den, MONEY_ROUND_HALF_AWAY, &r);
	if (rc)
		return rc;
	if (r <= 0)
		return MONEY_ERR_OVERFLOW; /* below 10^-12: not representable */
	*ret = r;
	return 0;
}

/* The cross rate of two legs: each leg as a fraction is R/S when direct and S/R when inverted,
 * and the result in 10^-12 units is S × leg1 × leg2, written so no factor beyond S³ (< 2^127)
 * is formed; rounded once. */
static int combine(const struct leg *a, const struct leg *b, int64_t *ret)
{
	const __int128 S = FX_RATE_SCALE;
	__int128 num, den;
	if (!a->inverted && !b->inverted) {
		num = (__int128)a->rate_e12 * b->rate_e12;
		den = S;
	} else if (!a->inverted && b->inverted) {
		num = (__int128)a->rate_e12 * S;
		den = b->rate_e12;
	} else if (a->inverted && !b->inverted) {
		num = (__int128)b->rate_e12 * S;
		den = a->rate_e12;
	} else {
		num = S * S * S;
		den = (__int128)a->rate_e12 * b->rate_e12;
	}
	return rate_round(num, den, ret);
}

static const char *const pivots[] = {"eur", "usd"};
#define NPIVOTS (sizeof(pivots) / sizeof(pivots[0]))

/*
 * from→to at `at`: direct, inverted, through one pivot (legs stored either way round), and with
 * hops > 0 also through both pivots, one leg then being a one-pivot rate (already rounded).
 * The first path found in that order wins; MONEY_ERR_OVERFLOW only when every path found
 * overflowed.
 */
static int resolve(const struct fx_table *t, uint16_t from, uint16_t to, int64_t at, int hops,
		   struct fx_rate *ret)
{
	struct leg a, b;
	int64_t r;
	int rc;
	if (find_leg(t, from, to, at, &a)) {
		if (!a.inverted) {
			r = a.rate_e12;
		} else if ((rc = rate_round((__int128)FX_RATE_SCALE * FX_RATE_SCALE, a.rate_e12,
					    &r)) != 0) {
			return rc;
		}
		rate_fill(ret, from, to, r, a.valid_from);
		return 0;
	}
	int err = MONEY_ERR_NO_RATE;
	for (int pass = 0; pass <= (hops > 0); pass++) {
		for (size_t k = 0; k < NPIVOTS; k++) {
			uint16_t p = cur_index(currency_find(pivots[k]));
			if (p == from || p == to)
				continue;
			bool have_a = find_leg(t, from, p, at, &a);
			bool have_b = find_leg(t, p, to, at, &b);
			/* Pass 1 mends exactly one missing leg: with both present pass 0 used
			 * them, with neither there is nothing to build on. */
			if (pass == 1 && have_a == have_b)
				continue;
			if (pass == 1) {
				/* Mend the missing leg with a one-pivot rate; p is one
				 * end of it, so it goes through the other pivot. */
				struct fx_rate m;
				struct leg *missing = have_a ? &b : &a;
				rc = have_a ? resolve(t, p, to, at, hops - 1, &m)
					    : resolve(t, from, p, at, hops - 1, &m);
				if (rc) {
					err = rc == MONEY_ERR_NO_RATE ? err : rc;
					continue;
				}
				*missing = (struct leg){m.rate_e12, m.valid_from, false};
			} else if (!have_a || !have_b) {
				continue;
			}
			rc = combine(&a, &b, &r);
			if (rc) {
				err = rc;
				continue;
			}
			rate_fill(ret, from, to, r,
				  a.valid_from > b.valid_from ? a.valid_from : b.valid_from);
			return 0;
		}
	}
	return err;
}

int fx_lookup(const struct fx_table *t, const char *base, const char *quote, int64_t at_unix,
	      struct fx_rate *ret_rate)
{
	const struct currency *b = currency_find(base), *q = currency_find(quote);
	if (!b || !q)
		return MONEY_ERR_UNKNOWN_CURRENCY;
	if (b == q) {
		rate_fill(ret_rate, cur_index(b), cur_index(q), FX_RATE_SCALE, 0);
		return 0;
	}
	if (!t)
		return MONEY_ERR_INVALID;
	return resolve(t, cur_index(b), cur_index(q), at_unix, 1, ret_rate);
}

/* ---- conversions ---- */

/*
 * amount (minor units of the rate's base when !inverse, of its quote when inverse) → minor units
 * of the other side:
 *   forward: amount × R × 10^eq / (10^12 × 10^eb)
 *   inverse: amount × 10^12 × 10^eb / (R × 10^eq)
 * The 10^|eq−eb| factor goes on whichever side keeps the numbers small.
 */
static int convert_minor(int64_t amount, int64_t rate_e12, int eb, int eq, bool inverse,
			 enum money_round mode, int64_t *ret)
{
	__int128 num, den;
	int e_to = inverse ? eb : eq, e_from = inverse ? eq : eb;
	int rc;
	if (!inverse) {
		num = (__int128)amount * rate_e12; /* |.| < 2^126 */
		den = FX_RATE_SCALE;
	} else {
		num = (__int128)amount * FX_RATE_SCALE; /* |.| < 2^103 */
		den = rate_e12;
	}
	if (e_to >= e_from) {
		rc = money_mul_i128(num, money_pow10(e_to - e_from), &num);
		if (rc)
			return rc;
	} else {
		den *= money_pow10(e_from - e_to); /* <= 2^63 × 10^3: fits */
	}
	return money_div_round_i64(num, den, mode, ret);
}

static bool rate_ok(const struct fx_rate *r, const struct currency **b, const struct currency **q)
{
	if (!r || r->rate_e12 <= 0)
		return false;
	*b = currency_find(r->base);
	*q = currency_find(r->quote);
	return *b && *q && (*b != *q || r->rate_e12 == FX_RATE_SCALE);
}

int fx_convert_with_rate(const struct fx_rate *rate, int64_t amount_minor, const char *from,
			 const char *to, int64_t *ret_amount_minor)
{
	const struct currency *b, *q, *f = currency_find(from), *t = currency_find(to);
	if (!f || !t)
		return MONEY_ERR_UNKNOWN_CURRENCY;
	if (!rate_ok(rate, &b, &q))
		return MONEY_ERR_INVALID;
	if (f == b && t == q)
		return convert_minor(amount_minor, rate->rate_e12, b->exponent, q->exponent, false,
				     MONEY_ROUND_HALF_AWAY, ret_amount_minor);
	if (f == q && t == b)
		return convert_minor(amount_minor, rate->rate_e12, b->exponent, q->exponent, true,
				     MONEY_ROUND_HALF_AWAY, ret_amount_minor);
	return MONEY_ERR_INVALID;
}

int fx_convert(const struct fx_table *t, int64_t amount_minor, const char *from, const char *to,
	       int64_t at_unix, int64_t *ret_amount_minor, struct fx_rate *ret_rate)
{
	struct fx_rate r;
	int rc = fx_lookup(t, from, to, at_unix, &r);
	if (rc)
		return rc;
	int64_t out;
	rc = fx_convert_with_rate(&r, amount_minor, from, to, &out);
	if (rc)
		return rc;
	*ret_amount_minor = out;
	if (ret_rate)
		*ret_rate = r;
	return 0;
}

int fx_rate_init(struct fx_rate *ret, const char *base, const char *quote, int64_t rate_e12,
		 int64_t valid_from)
{
	const struct currency *b = currency_find(base), *q = currency_find(quote);
	if (!b || !q)
		return MONEY_ERR_UNKNOWN_CURRENCY;
	if (rate_e12 <= 0 || (b == q && rate_e12 != FX_RATE_SCALE))
		return MONEY_ERR_INVALID;
	rate_fill(ret, cur_index(b), cur_index(q), rate_e12, valid_from);
	return 0;
}

int fx_rate_to_decimal_string(const struct fx_rate *rate, char *out, size_t outlen)
{
	if (!rate || rate->rate_e12 <= 0 || !out)
		return MONEY_ERR_INVALID;
	int64_t ip = rate->rate_e12 / FX_RATE_SCALE, fp = rate->rate_e12 % FX_RATE_SCALE;
	char frac[24]; /* 12 digits: 0 <= fp < 10^12 */
	int digits = FX_RATE_DECIMALS;
	snprintf(frac, sizeof(frac), "%0*lld", FX_RATE_DECIMALS, (long long)fp);
	while (digits > 0 && frac[digits - 1] == '0')
		digits--;
	int n = digits ? snprintf(out, outlen, "%lld.%.*s", (long long)ip, digits, frac)
		       : snprintf(out, outlen, "%lld", (long long)ip);
	if (n < 0 || (size_t)n >= outlen) {
		if (outlen)
			out[0] = '\0';
		return MONEY_ERR_INVALID;
	}
	return 0;
}

int fx_min_charge_by_rule_minor(const struct fx_table *t, const char *currency, int64_t at_unix,
				int64_t *ret_min_minor)
{
	const struct currency *c = currency_find(currency);
	if (!c)
		return MONEY_ERR_UNKNOWN_CURRENCY;
	const struct currency *usd = currency_find("usd");
	struct fx_rate r;
	int rc = fx_lookup(t, "usd", currency, at_unix, &r);
	if (rc)
		return rc;
	int64_t m;
	rc = convert_minor(usd->min_charge_minor, r.rate_e12, usd->exponent, c->exponent, false,
			   MONEY_ROUND_CEIL, &m);
	if (rc)
		return rc;
	int64_t step = c->charge_step_minor > 0 ? c->charge_step_minor : 1;
	__int128 up = ((__int128)m + step - 1) / step * step;
	if (up > INT64_MAX)
		return MONEY_ERR_OVERFLOW;
	*ret_min_minor = (int64_t)up;
	return 0;
}

int fx_min_charge_minor(const struct fx_table *t, const char *currency, int64_t at_unix,
			int64_t *ret_min_minor)
{
	const struct currency *c = currency_find(currency);
	if (!c)
		return MONEY_ERR_UNKNOWN_CURRENCY;
	if (c->min_charge_minor > 0) {
		*ret_min_minor = c->min_charge_minor;
		return 0;
	}
	return fx_min_charge_by_rule_minor(t, currency, at_unix, ret_min_minor);
}
