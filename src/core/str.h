/*
 * Small string helpers for the request path.
 */
#ifndef TENDER_CORE_STR_H
#define TENDER_CORE_STR_H

#include <stddef.h>
#include <string.h>

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

#endif
