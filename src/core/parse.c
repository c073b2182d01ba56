#include "core/parse.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int parse_i64(const char *s, int64_t *ret)
{
	if (!s || !*s)
		return -1;
	const char *p = s;
	if (*p == '-')
		p++;
	if (!*p || strlen(p) > 19)
		return -1;
	for (const char *q = p; *q; q++)
		if (*q < '0' || *q > '9')
			return -1;
	errno = 0;
	char *end = NULL;
	long long v = strtoll(s, &end, 10);
	if (errno != 0 || !end || *end)
		return -1;
	*ret = (int64_t)v;
	return 0;
}
