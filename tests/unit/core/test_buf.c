#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/buf.h"

Test(buf, append_printf_detach)
{
	struct buf b;
	buf_init(&b, 0);
	buf_puts(&b, "abc");
	buf_printf(&b, "-%d-%s", 42, "x");
	buf_put_i64(&b, -7);
	cr_assert_str_eq(buf_cstr(&b), "abc-42-x-7");
	size_t n;
	char *p = buf_detach(&b, &n);
	cr_assert_eq(n, strlen("abc-42-x-7"));
	cr_assert_null(b.data);
	free(p);
	buf_release(&b);
}

Test(buf, long_printf_grows)
{
	struct buf b;
	buf_init(&b, 0);
	char big[1000];
	memset(big, 'q', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	buf_printf(&b, "%s|%s", big, big);
	cr_assert_eq(b.len, 2 * 999 + 1);
	buf_release(&b);
}

Test(buf, max_bound_holds)
{
	struct buf b;
	buf_init(&b, 10);
	buf_puts(&b, "0123456789");
	cr_assert(!b.failed);
	buf_putc(&b, 'x');
	cr_assert(b.failed);
	cr_assert_eq(b.len, 10);
	buf_release(&b);
}

Test(arena, allocations_are_aligned_and_capped)
{
	struct arena a;
	arena_init(&a, 64 * 1024);
	for (int i = 0; i < 100; i++) {
		void *p = arena_alloc(&a, (size_t)i + 1);
		cr_assert_not_null(p);
		/* malloc guarantees _Alignof(max_align_t) (16 here), not sizeof (32) */
		cr_assert_eq((uintptr_t)p % _Alignof(max_align_t), 0);
	}
	cr_assert_null(arena_alloc(&a, 1 << 20));
	char *s = arena_printf(&a, "%s-%d", "x", 5);
	cr_assert_str_eq(s, "x-5");
	arena_release(&a);
}

Test(buf, cstr_of_an_empty_buffer_is_an_empty_string)
{
	struct buf b;
	buf_init(&b, 0);
	cr_assert_str_eq(buf_cstr(&b), "");
	cr_assert_eq(strlen(buf_cstr(&b)), 0);
	buf_release(&b);
}
