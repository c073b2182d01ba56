#include <criterion/criterion.h>
#include <stdio.h>

#include "core/str.h"

/* str_copy writes what snprintf(dst, size, "%s", src) writes, for any size. */
Test(str, copies_like_snprintf_with_a_plain_string)
{
	static const char *const srcs[] = {"", "a", "usd", "pm_0CGY2DVD00000UDxWIPpTaKx",
					   "exactly-16-bytes"};
	for (size_t k = 0; k < sizeof(srcs) / sizeof(srcs[0]); k++) {
		for (size_t size = 1; size <= 32; size++) {
			char got[40], want[40];
			memset(got, 'x', sizeof(got));
			memset(want, 'x', sizeof(want));
			str_copy(got, size, srcs[k]);
			snprintf(want, size, "%s", srcs[k]);
			cr_assert_eq(memcmp(got, want, sizeof(got)), 0, "'%s' into %zu bytes",
				     srcs[k], size);
		}
	}
}

Test(str, null_copies_as_empty_and_size_zero_writes_nothing)
{
	char d[4] = "abc";
	str_copy(d, sizeof(d), NULL);
	cr_assert_str_eq(d, "");
	char e[4] = "abc";
	str_copy(e, 0, "zzz");
	cr_assert_str_eq(e, "abc");
}
