#include "http/router.h"

#include <string.h>

#include "http/req.h"

#define SEGMENTS_MAX 12

/* Splits "/v1/customers/cus_1" into segments (arena copies) and their lengths. Returns the count
 * or -1. */
static int split_path(struct arena *a, const char *path, const char **segs, size_t *lens)
{
	int n = 0;
	const char *p = path;
	if (*p != '/')
		return -1;
	while (*p) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		const char *e = strchr(p, '/');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		if (n >= SEGMENTS_MAX)
			return -1;
		segs[n] = arena_strndup(a, p, len);
		if (!segs[n])
			return -1;
		lens[n] = len;
		n++;
		p += len;
	}
	return n;
}

/* One pass over the pattern, compared with the segments as it goes: every request is matched
 * against the routes in order, and most patterns differ from the path in the first character
 * of the resource's name. */
static int match_pattern(const char *pattern, const char **segs, const size_t *lens, int nsegs,
			 const char **args)
{
	const char *p = pattern;
	int i = 0, nargs = 0;
	for (;;) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		if (i >= nsegs)
			return 0;
		if (p[0] == '{') {
			if (nargs >= ROUTE_ARGS_MAX || lens[i] == 0)
				return 0;
			args[nargs++] = segs[i];
			while (*p && *p != '/')
				p++;
		} else {
			const char *s = segs[i];
			size_t k = 0;
			while (k < lens[i] && p[k] && p[k] != '/' && p[k] == s[k])
				k++;
			if (k != lens[i] || (p[k] && p[k] != '/'))
				return 0;
			p += k;
		}
		i++;
	}
	return i == nsegs;
}

const struct route *router_match(struct req *r, const char *method, const char *path,
				 int *ret_path_known)
{
	const char *segs[SEGMENTS_MAX];
	size_t lens[SEGMENTS_MAX];
	int n = split_path(&r->arena, path, segs, lens);
	*ret_path_known = 0;
	if (n < 0)
		return NULL;
	for (const struct route *const *t = api_route_tables; *t; t++) {
		for (const struct route *rt = *t; rt->method; rt++) {
			const char *args[ROUTE_ARGS_MAX] = {0};
			if (!match_pattern(rt->pattern, segs, lens, n, args))
				continue;
			if (strcmp(rt->method, method) != 0) {
				*ret_path_known = 1;
				continue;
			}
			memcpy(r->args, args, sizeof(args));
			return rt;
		}
	}
	return NULL;
}
