#include <criterion/criterion.h>
#include <stdint.h>

#include "core/arena.h"

Test(arena, grow_keeps_items_doubles_room_and_refuses_past_the_bound)
{
	struct arena a;
	arena_init(&a, 1 << 20);
	int64_t *v = NULL;
	size_t cap = 0;
	for (size_t n = 0; n < 100; n++) {
		int64_t *nv = arena_grow(&a, v, n, &cap, sizeof(*nv));
		cr_assert_not_null(nv);
		cr_assert(cap > n);
		v = nv;
		v[n] = (int64_t)n * 7;
	}
	cr_assert_eq(cap, 128);
	for (size_t i = 0; i < 100; i++)
		cr_assert_eq(v[i], (int64_t)i * 7);
	/* room left: the same array */
	cr_assert_eq(arena_grow(&a, v, 100, &cap, sizeof(*v)), v);
	/* an element size that would overflow, and an arena that is full: NULL, nothing changed */
	size_t big = 4;
	cr_assert_null(arena_grow(&a, v, 4, &big, SIZE_MAX / 4));
	cr_assert_eq(big, 4);
	struct arena small;
	arena_init(&small, 64);
	size_t c2 = 0;
	cr_assert_null(arena_grow(&small, NULL, 0, &c2, 1024));
	cr_assert_eq(c2, 0);
	arena_release(&small);
	arena_release(&a);
}
