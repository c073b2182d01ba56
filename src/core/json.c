#include "core/json.h"

#include <assert.h>
#include <stdint.h>
#include <string.h>

void json_init(struct json *j, struct buf *b)
{
	j->b = b;
	j->depth = 0;
	j->first[0] = true;
	j->after_key = false;
}

/* Writes the separator a new value needs at the current position. */
static void json_sep(struct json *j)
{
	if (j->after_key) {
		j->after_key = false;
		return;
	}
	if (!j->first[j->depth])
		buf_putc(j->b, ',');
	j->first[j->depth] = false;
}

static void json_open(struct json *j, char c)
{
	json_sep(j);
	if (j->depth >= JSON_DEPTH_MAX) {
		j->b->failed = true;
		return;
	}
	buf_putc(j->b, c);
	j->depth++;
	j->first[j->depth] = true;
}

static void json_close(struct json *j, char c)
{
	if (j->depth <= 0) {
		j->b->failed = true;
		return;
	}
	j->depth--;
	buf_putc(j->b, c);
}

void json_obj_open(struct json *j)
{
	json_open(j, '{');
}

void json_obj_close(struct json *j)
{
	json_close(j, '}');
}

void json_arr_open(struct json *j)
{
	json_open(j, '[');
}

void json_arr_close(struct json *j)
{
	json_close(j, ']');
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when it is not valid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t len;
	uint32_t cp;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

void json_escape(struct buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	size_t run = 0; /* start of the pending run of bytes that need no escaping */
	size_t i = 0;
	while (i < n) {
		unsigned char c = p[i];
		if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0x80) {
			size_t l = utf8_len(p + i, n - i);
			if (l) {
				i += l;
				continue;
			}
		}
		buf_append(b, s + run, i - run);
		switch (c) {
		case '"':
			buf_puts(b, "\\\"");
			break;
		case '\\':
			buf_puts(b, "\\\\");
			break;
		case '\n':
			buf_puts(b, "\\n");
			break;
		case '\r':
			buf_puts(b, "\\r");
			break;
		case '\t':
			buf_puts(b, "\\t");
			break;
		default:
			if (c < 0x20) {
				char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
				buf_append(b, e, 6);
			} else {
				buf_puts(b, "\\ufffd");
			}
		}
		i++;
		run = i;
	}
	buf_append(b, s + run, n - run);
}

#define ONES 0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL

/* Nonzero when some byte of the eight in v is below 0x20, is 0x80 or above, is '"' or is '\\'.
 * The usual word-at-a-time tests: (x - ONES * c) & ~x & HIGHS is nonzero exactly when some
 * byte of x is below c (c <= 0x80); a borrow can only flag bytes above a byte that really
 * matched, so "some byte" is exact. A byte equal to q is a zero byte of v ^ (ONES * q). */
static uint64_t special8(uint64_t v)
{
	uint64_t q = v ^ (ONES * '"'), b = v ^ (ONES * '\\');
	return (v | ((v - ONES * 0x20) & ~v) | ((q - ONES) & ~q) | ((b - ONES) & ~b)) & HIGHS;
}

/* True when s needs no escaping: printable ASCII without quote or backslash (every key Tender
 * writes itself, and most values). Eight bytes at a time, the last eight overlapping the ones
 * before when n is not a multiple: the byte loop cost ~10 instructions a character, and a
 * confirmed payment's JSON has ~150 keys and as many short values. */
static bool plain(const char *s, size_t n)
{
	uint64_t v;
	if (n < 8) {
		const unsigned char *p = (const unsigned char *)s;
		for (size_t i = 0; i < n; i++)
			if (p[i] < 0x20 || p[i] >= 0x80 || p[i] == '"' || p[i] == '\\')
				return false;
		return true;
	}
	for (size_t i = 0; i + 8 < n; i += 8) {
		memcpy(&v, s + i, 8);
		if (special8(v))
			return false;
	}
	memcpy(&v, s + n - 8, 8);
	return special8(v) == 0;
}

/* Writes [,]"s"<tail> in one step; s needs no escaping. */
static void put_quoted(struct json *j, const char *s, size_t n, const char *tail, size_t tail_len)
{
	bool comma = !j->after_key && !j->first[j->depth];
	char *at = buf_extend(j->b, (comma ? 1 : 0) + 1 + n + 1 + tail_len);
	if (j->after_key)
		j->after_key = false;
	else
		j->first[j->depth] = false;
	if (!at)
		return; /* failed: sticky in the buffer */
	if (comma)
		*at++ = ',';
	*at++ = '"';
	memcpy(at, s, n);
	at += n;
	*at++ = '"';
	memcpy(at, tail, tail_len);
}

/* put_quoted when s is plain; returns false (nothing written) otherwise. */
static bool put_plain_quoted_checked(struct json *j, const char *s, size_t n, const char *tail,
				     size_t tail_len)
{
	if (!plain(s, n))
		return false;
	put_quoted(j, s, n, tail, tail_len);
	return true;
}

void json_key_n(struct json *j, const char *key, size_t n, bool own)
{
	assert(!own || plain(key, n));
	if (own) {
		put_quoted(j, key, n, ":", 1);
	} else if (!put_plain_quoted_checked(j, key, n, ":", 1)) {
		json_sep(j);
		buf_putc(j->b, '"');
		json_escape(j->b, key, n);
		buf_append(j->b, "\":", 2);
	}
	j->after_key = true;
}

void json_strn_own(struct json *j, const char *s, size_t n, bool own)
{
	assert(!own || plain(s, n));
	if (own) {
		put_quoted(j, s, n, "", 0);
		return;
	}
	json_strn(j, s, n);
}

void json_strn(struct json *j, const char *s, size_t n)
{
	if (put_plain_quoted_checked(j, s, n, "", 0))
		return;
	json_sep(j);
	buf_putc(j->b, '"');
	json_escape(j->b, s, n);
	buf_putc(j->b, '"');
}

void json_str_or_null(struct json *j, const char *s)
{
	if (s)
		json_strn(j, s, strlen(s));
	else
		json_nil(j);
}

void json_int(struct json *j, int64_t v)
{
	json_sep(j);
	buf_put_i64(j->b, v);
}

void json_bool(struct json *j, bool v)
{
	json_sep(j);
	if (v)
		buf_append(j->b, "true", 4);
	else
		buf_append(j->b, "false", 5);
}

void json_nil(struct json *j)
{
	json_sep(j);
	buf_append(j->b, "null", 4);
}

void json_raw(struct json *j, const char *s, size_t n)
{
	json_sep(j);
	buf_append(j->b, s, n);
}
