#include <arpa/inet.h>
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

Test(str, ipv4_as_inet_ntop_writes_it)
{
	static const unsigned char addrs[][4] = {{127, 0, 0, 1},       {0, 0, 0, 0},
						 {255, 255, 255, 255}, {10, 20, 100, 9},
						 {192, 168, 1, 99},    {1, 10, 109, 110}};
	for (size_t i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
		char mine[16], theirs[INET_ADDRSTRLEN];
		str_ipv4(addrs[i], mine);
		cr_assert_not_null(inet_ntop(AF_INET, addrs[i], theirs, sizeof(theirs)));
		cr_assert_str_eq(mine, theirs);
	}
	/* every byte value in every position */
	for (unsigned v = 0; v < 256; v++) {
		unsigned char a[4] = {(unsigned char)v, (unsigned char)(255 - v),
				      (unsigned char)(v / 2), (unsigned char)(v * 7)};
		char mine[16], theirs[INET_ADDRSTRLEN];
		str_ipv4(a, mine);
		inet_ntop(AF_INET, a, theirs, sizeof(theirs));
		cr_assert_str_eq(mine, theirs);
	}
}

Test(str, own_ids_are_letters_digits_dashes_and_underscores)
{
	cr_assert(str_is_own_id("gold-plan_2"));
	cr_assert(str_is_own_id("SUMMER25"));
	cr_assert_not(str_is_own_id(""));
	cr_assert_not(str_is_own_id(NULL));
	cr_assert_not(str_is_own_id("a b"));
	cr_assert_not(str_is_own_id("a/b"));
	cr_assert_not(str_is_own_id("caf\xc3\xa9"));
}
