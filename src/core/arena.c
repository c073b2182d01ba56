#include "core/arena.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct arena_chunk {
	struct arena_chunk *next;
	size_t size;
	size_t off;
	max_align_t data[];
};

#define ARENA_CHUNK_MIN (16u * 1024u)

void arena_init(struct arena *a, size_t max_bytes)
{
	a->head = NULL;
	a->used_bytes = 0;
	a->max_bytes = max_bytes;
}

void arena_release(struct arena *a)
{
	struct arena_chunk *c = a->head;
	while (c) {
		struct arena_chunk *n = c->next;
		free(c);
		c = n;
	}
	a->head = NULL;
	a->used_bytes = 0;
}

void arena_wipe_release(struct arena *a)
{
	for (struct arena_chunk *c = a->head; c; c = c->next)
		explicit_bzero(c->data, c->off);
	arena_release(a);
}

void *arena_alloc(struct arena *a, size_t n)
{
	const size_t align = sizeof(max_align_t);
	if (n > SIZE_MAX - align)
		return NULL;
	n = (n + align - 1) & ~(align - 1);
	struct arena_chunk *c = a->head;
	if (!c || c->size - c->off < n) {
		size_t size = n > ARENA_CHUNK_MIN ? n : ARENA_CHUNK_MIN;
		if (size > a->max_bytes - a->used_bytes || size > SIZE_MAX - sizeof(*c))
			return NULL;
		c = malloc(sizeof(*c) + size);
		if (!c)
			return NULL;
		c->next = a->head;
		c->size = size;
		c->off = 0;
		a->head = c;
		a->used_bytes += size;
	}
	void *p = (char *)c->data + c->off;
	c->off += n;
	return p;
}

void *arena_grow(struct arena *a, void *p, size_t n, size_t *cap, size_t elem)
{
	if (n < *cap)
		return p;
	size_t ncap = *cap ? *cap * 2 : 8;
	if (elem == 0 || ncap < *cap || ncap > SIZE_MAX / elem)
		return NULL;
	void *np = arena_alloc(a, ncap * elem);
	if (!np)
		return NULL;
	if (n)
		memcpy(np, p, n * elem);
	*cap = ncap;
	return np;
}

void *arena_zalloc(struct arena *a, size_t n)
{
	void *p = arena_alloc(a, n);
	if (p)
		memset(p, 0, n);
	return p;
}

char *arena_strndup(struct arena *a, const char *s, size_t n)
{
	char *p = arena_alloc(a, n + 1);
	if (!p)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *arena_strdup(struct arena *a, const char *s)
{
	return arena_strndup(a, s, strlen(s));
}

char *arena_printf(struct arena *a, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return NULL;
	char *p = arena_alloc(a, (size_t)n + 1);
	if (!p)
		return NULL;
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}
