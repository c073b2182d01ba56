/*
 * Small string helpers for the request path.
 */
#ifndef TENDER_CORE_STR_H
#define TENDER_CORE_STR_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

/* a and b are both set and equal: for optional fields (NULL: not given), which never match. */
static inline bool str_eq(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

/* An id the merchant chose (a coupon's, a product's): non-empty, only letters, digits, '-' and
 * '_', since it appears in URLs. */
static inline bool str_is_own_id(const char *s)
{
	if (!s || !*s)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '-' || *s == '_'))
			return false;
	return true;
}

/* snprintf(dst, size, "%s", src) without the format machinery (~500 instructions a call there,
 * a few dozen here; a confirmed payment made ~25 such copies): copies at most size - 1 bytes of
 * src and terminates dst. NULL copies as "". */
static inline void str_copy(char *dst, size_t size, const char *src)
{
	if (size == 0)
		return;
	size_t n = src ? strnlen(src, size - 1) : 0;
	if (n)
		memmove(dst, src, n);
	dst[n] = '\0';
}

/* An IPv4 address (the 4 bytes in network order) in dotted decimal into out (at least 16 bytes),
 * as inet_ntop writes it; inet_ntop formats with sprintf, ~1 % of a GET here. */
static inline void str_ipv4(const unsigned char addr[4], char *out)
{
	char *o = out;
	for (int i = 0; i < 4; i++) {
		unsigned v = addr[i];
		if (v >= 100)
			*o++ = (char)('0' + v / 100);
		if (v >= 10)
			*o++ = (char)('0' + v / 10 % 10);
		*o++ = (char)('0' + v % 10);
		*o++ = i < 3 ? '.' : '\0';
	}
}

#endif
