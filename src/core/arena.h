/*
 * struct arena: a per-request bump allocator with a hard cap (nginx's pool, TigerBeetle's bounds).
 * Everything a request parses or builds lives here and is freed in one go when the request ends,
 * so handlers never free. arena_alloc returns NULL once the cap would be passed; callers turn that
 * into a 413/500 rather than crash.
 */
#ifndef TENDER_CORE_ARENA_H
#define TENDER_CORE_ARENA_H

#include <stddef.h>

struct arena_chunk;

struct arena {
	struct arena_chunk *head;
	size_t used_bytes;
	size_t max_bytes;
};

void arena_init(struct arena *a, size_t max_bytes);
void arena_release(struct arena *a);
/* Overwrites every byte the arena handed out (explicit_bzero: a memset the compiler may not drop,
 * ~7x faster than OPENSSL_cleanse's byte loop on a request's few kilobytes), then releases it:
 * for requests whose parameters may have carried a card number. */
void arena_wipe_release(struct arena *a);
void *arena_alloc(struct arena *a, size_t n);
void *arena_zalloc(struct arena *a, size_t n);
/* An arena array of elem-sized items that holds n and is about to take one more: p itself while
 * n < *cap, else a copy of its n items in twice the room (8 at first), *cap updated; NULL when the
 * arena is full or the size would overflow (p and *cap are then unchanged). */
void *arena_grow(struct arena *a, void *p, size_t n, size_t *cap, size_t elem);
char *arena_strndup(struct arena *a, const char *s, size_t n);
char *arena_strdup(struct arena *a, const char *s);
__attribute__((format(printf, 2, 3))) char *arena_printf(struct arena *a, const char *fmt, ...);

#endif
