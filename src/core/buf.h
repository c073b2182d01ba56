/*
 * struct buf: a growable byte buffer with a hard maximum.
 *
 * Invariants: data is NUL-terminated whenever len > 0 or after buf_cstr(); len never exceeds max.
 * Errors are sticky: once an append would pass max (or malloc fails) `failed` is set and later
 * appends do nothing, so a writer can append many pieces and check once at the end.
 * The buffer owns data; buf_detach() is the only way to take it.
 */
#ifndef TENDER_CORE_BUF_H
#define TENDER_CORE_BUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct buf {
	char *data;
	size_t len;
	size_t cap;
	size_t max;
	bool failed;
};

#define BUF_MAX_DEFAULT (16u << 20)

void buf_init(struct buf *b, size_t max);
void buf_release(struct buf *b);
void buf_reset(struct buf *b);
void buf_append_slow(struct buf *b, const void *p, size_t n);
/* Makes room for n more bytes and returns where they go (len grows by n, the NUL follows them),
 * or NULL once the buffer has failed. The caller fills all n bytes. */
char *buf_extend(struct buf *b, size_t n);

/* Appends are inline: the JSON writer makes several per field, and nearly all of them fit the
 * capacity already there (the rest take the out-of-line path that grows the buffer). */
static inline void buf_append(struct buf *b, const void *p, size_t n)
{
	if (!b->failed && n < b->cap - b->len && n <= b->max - b->len) {
		if (n) {
			__builtin_memcpy(b->data + b->len, p, n);
			b->len += n;
		}
		b->data[b->len] = '\0';
		return;
	}
	buf_append_slow(b, p, n);
}

static inline void buf_puts(struct buf *b, const char *s)
{
	buf_append(b, s, __builtin_strlen(s));
}

static inline void buf_putc(struct buf *b, char c)
{
	buf_append(b, &c, 1);
}
void buf_put_i64(struct buf *b, int64_t v);
__attribute__((format(printf, 2, 3))) void buf_printf(struct buf *b, const char *fmt, ...);
const char *buf_cstr(struct buf *b);
char *buf_detach(struct buf *b, size_t *ret_len);

#endif
