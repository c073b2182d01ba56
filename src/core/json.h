/*
 * A streaming JSON writer over struct buf. Tender emits a lot of JSON on the hot path and never
 * needs a DOM for it, so objects are written field by field straight into the response buffer.
 * Parsing JSON (rare: webhook tests, model files) uses jansson.
 *
 * The writer tracks commas itself; nesting is bounded by JSON_DEPTH_MAX (an overflow marks the
 * buffer failed rather than writing invalid JSON). Strings are escaped per RFC 8259; bytes that
 * are not valid UTF-8 are written as U+FFFD so the output is always valid JSON.
 */
#ifndef TENDER_CORE_JSON_H
#define TENDER_CORE_JSON_H

#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"

#define JSON_DEPTH_MAX 32

struct json {
	struct buf *b;
	int depth;
	bool first[JSON_DEPTH_MAX + 1];
	bool after_key;
};

void json_init(struct json *j, struct buf *b);
void json_obj_open(struct json *j);
void json_obj_close(struct json *j);
void json_arr_open(struct json *j);
void json_arr_close(struct json *j);
/* Writes a key (or a string value) of n bytes. `own` says the text needs no escaping and is
 * copied as is; otherwise it is scanned, and escaped when it needs it. */
void json_key_n(struct json *j, const char *key, size_t n, bool own);
void json_strn_own(struct json *j, const char *s, size_t n, bool own);

/* The byte at i, through a pointer: a literal indexed past its end (in the branch the length
 * test skips) would otherwise trip clang's -Warray-bounds. */
#define JSON_BYTE_AT(s, i) (*((const unsigned char *)(const void *)(s) + (i)))
/* JSON_OWN(s): a string literal (a compile-time constant) of at most 40 bytes that needs no
 * escaping: printable ASCII without quote or backslash. Tender's keys and most of its fixed
 * values are such literals, a confirmed payment's JSON has ~150 of them, and the escaping scan
 * cost more than the copy. With optimization the whole test folds into a constant; for a string
 * known only at run time (a metadata key, a value from a request) it is false at once. */
#define JSON_PLAIN_AT(s, i)                                                                        \
	((i) >= __builtin_strlen(s) || (JSON_BYTE_AT(s, i) >= 0x20 && JSON_BYTE_AT(s, i) < 0x80 && \
					JSON_BYTE_AT(s, i) != '"' && JSON_BYTE_AT(s, i) != '\\'))
#define JSON_PLAIN_8(s, i)                                                                         \
	(JSON_PLAIN_AT(s, i) && JSON_PLAIN_AT(s, (i) + 1) && JSON_PLAIN_AT(s, (i) + 2) &&          \
	 JSON_PLAIN_AT(s, (i) + 3) && JSON_PLAIN_AT(s, (i) + 4) && JSON_PLAIN_AT(s, (i) + 5) &&    \
	 JSON_PLAIN_AT(s, (i) + 6) && JSON_PLAIN_AT(s, (i) + 7))
#define JSON_OWN(s)                                                                                \
	(__builtin_constant_p(s) && __builtin_strlen(s) <= 40 && JSON_PLAIN_8(s, 0) &&             \
	 JSON_PLAIN_8(s, 8) && JSON_PLAIN_8(s, 16) && JSON_PLAIN_8(s, 24) && JSON_PLAIN_8(s, 32))

/* [,]"s"[:] for a string that needs no escaping, inline so that a literal's length is a
 * constant and its copy a few moves (the out-of-line path cost ~120 instructions a key in
 * calls to buf_extend and memcpy). The rare write that needs the buffer to grow goes out of
 * line. */
static inline void json_put_own_(struct json *j, const char *s, size_t n, bool key)
{
	struct buf *b = j->b;
	bool comma = !j->after_key && !j->first[j->depth];
	size_t need = (size_t)comma + n + 2 + (size_t)key;
	if (b->failed || need >= b->cap - b->len || need > b->max - b->len) {
		if (key)
			json_key_n(j, s, n, true);
		else
			json_strn_own(j, s, n, true);
		return;
	}
	char *at = b->data + b->len;
	if (comma)
		*at++ = ',';
	*at++ = '"';
	__builtin_memcpy(at, s, n);
	at += n;
	*at++ = '"';
	if (key)
		*at++ = ':';
	*at = '\0';
	b->len += need;
	if (j->after_key)
		j->after_key = false;
	else
		j->first[j->depth] = false;
	if (key)
		j->after_key = true;
}

#define json_key(j, key)                                                                           \
	(JSON_OWN(key) ? json_put_own_((j), (key), __builtin_strlen(key), true)                    \
		       : json_key_n((j), (key), __builtin_strlen(key), false))
#define json_str(j, s)                                                                             \
	(JSON_OWN(s) ? json_put_own_((j), (s), __builtin_strlen(s), false)                         \
		     : json_strn_own((j), (s), __builtin_strlen(s), false))
void json_strn(struct json *j, const char *s, size_t n);
void json_int(struct json *j, int64_t v);
void json_bool(struct json *j, bool v);
void json_nil(struct json *j);
/* Pre-rendered JSON (e.g. a stored metadata object). The caller guarantees it is valid. */
void json_raw(struct json *j, const char *s, size_t n);
/* s, or null when s is NULL */
void json_str_or_null(struct json *j, const char *s);

/* key + value shorthands; the _or_null forms write null when s is NULL. j is evaluated twice. */
#define json_kv_str(j, key, s) (json_key((j), (key)), json_str((j), (s)))
#define json_kv_str_or_null(j, key, s) (json_key((j), (key)), json_str_or_null((j), (s)))
#define json_kv_int(j, key, v) (json_key((j), (key)), json_int((j), (v)))
#define json_kv_bool(j, key, v) (json_key((j), (key)), json_bool((j), (v)))
#define json_kv_null(j, key) (json_key((j), (key)), json_nil((j)))
#define json_kv_raw(j, key, s, n) (json_key((j), (key)), json_raw((j), (s), (n)))

/* Appends the escaped form of s (without quotes) to b. */
void json_escape(struct buf *b, const char *s, size_t n);

#endif
