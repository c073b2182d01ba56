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
void json_key(struct json *j, const char *key);
void json_str(struct json *j, const char *s);
void json_strn(struct json *j, const char *s, size_t n);
void json_int(struct json *j, int64_t v);
void json_bool(struct json *j, bool v);
void json_nil(struct json *j);
/* Pre-rendered JSON (e.g. a stored metadata object). The caller guarantees it is valid. */
void json_raw(struct json *j, const char *s, size_t n);

/* key + value shorthands; the _or_null forms write null when s is NULL. */
void json_kv_str(struct json *j, const char *key, const char *s);
void json_kv_str_or_null(struct json *j, const char *key, const char *s);
void json_kv_int(struct json *j, const char *key, int64_t v);
void json_kv_bool(struct json *j, const char *key, bool v);
void json_kv_null(struct json *j, const char *key);
void json_kv_raw(struct json *j, const char *key, const char *s, size_t n);

/* Appends the escaped form of s (without quotes) to b. */
void json_escape(struct buf *b, const char *s, size_t n);

#endif
