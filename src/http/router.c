#include "http/router.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "http/req.h"

#define SEGMENTS_MAX 12

/* Splits "/v1/customers/cus_1" into segments (arena copies) and their lengths. Returns the count
 * or -1. An empty segment ("//", or a trailing '/') matches no route, as on Stripe: otherwise
 * `POST /v1/customers/` (an update whose id came out empty in the client) would be taken as the
 * create. "/" itself has no segments. */
static int split_path(struct arena *a, const char *path, const char **segs, size_t *lens)
{
	int n = 0;
	const char *p = path;
	if (*p != '/')
		return -1;
	if (!*++p)
		return 0;
	for (;;) {
		const char *e = strchr(p, '/');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		if (len == 0 || n >= SEGMENTS_MAX)
			return -1;
		segs[n] = arena_strndup(a, p, len);
		if (!segs[n])
			return -1;
		lens[n] = len;
		n++;
		if (!e)
			return n;
		p = e + 1;
	}
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

/* ---- the index: candidates by the path's first two segments ----
 *
 * With ~350 routes, trying every pattern in order cost ~4,000 instructions a request for one
 * in the tenth table (callgrind, POST /v1/payment_methods), and grew with each route added. A
 * route can only match a path whose segments equal its literal ones, so the routes are indexed
 * once by their leading literal segments (at most two): a path's candidates are the routes whose
 * first two segments are literally its own, those whose second is a {param} (or that have only
 * one) under its first, and those starting with a {param}, still in the tables' order, so the
 * first match is the one the linear scan found (router_match_scan, which the unit tests compare
 * it with for every route). */

#define KEY_MAX 128

struct node {
	char key[KEY_MAX]; /* "seg0" or "seg0\x1fseg1" */
	const struct route **list;
	size_t n;
};

static struct {
	struct node *two, *one; /* sorted by key */
	size_t ntwo, none;
	const struct route **root; /* patterns starting with a {param} */
	size_t nroot;
	bool ok;
} idx;
static pthread_once_t idx_once = PTHREAD_ONCE_INIT;

/* A pattern's leading literal segments (0, 1 or 2) into key; returns how many. */
static int pattern_key(const char *pattern, char key[KEY_MAX])
{
	const char *p = pattern;
	size_t k = 0;
	int segs = 0;
	while (segs < 2) {
		while (*p == '/')
			p++;
		if (!*p || *p == '{')
			break;
		size_t len = strcspn(p, "/");
		if (k + len + 2 > KEY_MAX)
			return -1;
		if (segs)
			key[k++] = '\x1f';
		memcpy(key + k, p, len);
		k += len;
		p += len;
		segs++;
	}
	key[k] = '\0';
	return segs;
}

static int node_cmp(const void *a, const void *b)
{
	return strcmp(((const struct node *)a)->key, ((const struct node *)b)->key);
}

/* Adds key to nodes (n of them, room for all) unless there; returns its count afterwards. */
static size_t node_add(struct node *nodes, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(nodes[i].key, key) == 0)
			return n;
	memcpy(nodes[n].key, key, strlen(key) + 1);
	return n + 1;
}

/* Whether a route of key rk (rsegs literal segments) is a candidate for a path of key nk (nsegs:
 * 1 or 2), nk's first segment being the first nsegs... of the path. */
static bool candidate(const char *rk, int rsegs, const char *nk, int nsegs)
{
	if (rsegs == 0)
		return true;
	size_t first = strcspn(nk, "\x1f");
	if (rsegs == 1)
		return strlen(rk) == first && strncmp(rk, nk, first) == 0;
	return nsegs == 2 && strcmp(rk, nk) == 0;
}

static void fill(struct node *nd, int nsegs, const struct route **all, char (*keys)[KEY_MAX],
		 const int *segs, size_t total)
{
	size_t n = 0;
	for (size_t i = 0; i < total; i++)
		n += candidate(keys[i], segs[i], nd->key, nsegs);
	nd->list = malloc((n ? n : 1) * sizeof(*nd->list));
	if (!nd->list)
		return;
	for (size_t i = 0; i < total; i++)
		if (candidate(keys[i], segs[i], nd->key, nsegs))
			nd->list[nd->n++] = all[i];
}

static void idx_build(void)
{
	size_t total = 0;
	for (const struct route *const *t = api_route_tables; *t; t++)
		for (const struct route *rt = *t; rt->method; rt++)
			total++;
	const struct route **all = malloc((total ? total : 1) * sizeof(*all));
	char(*keys)[KEY_MAX] = malloc((total ? total : 1) * KEY_MAX);
	int *segs = malloc((total ? total : 1) * sizeof(*segs));
	idx.two = calloc(total ? total : 1, sizeof(*idx.two));
	idx.one = calloc(total ? total : 1, sizeof(*idx.one));
	idx.root = malloc((total ? total : 1) * sizeof(*idx.root));
	if (!all || !keys || !segs || !idx.two || !idx.one || !idx.root)
		goto out;
	size_t i = 0;
	for (const struct route *const *t = api_route_tables; *t; t++)
		for (const struct route *rt = *t; rt->method; rt++, i++) {
			all[i] = rt;
			if ((segs[i] = pattern_key(rt->pattern, keys[i])) < 0)
				goto out; /* a pattern too long to index: scan instead */
			if (segs[i] == 0)
				idx.root[idx.nroot++] = rt;
		}
	for (i = 0; i < total; i++) {
		if (segs[i] == 2)
			idx.ntwo = node_add(idx.two, idx.ntwo, keys[i]);
		if (segs[i] >= 1) {
			char first[KEY_MAX];
			size_t len = strcspn(keys[i], "\x1f");
			memcpy(first, keys[i], len);
			first[len] = '\0';
			idx.none = node_add(idx.one, idx.none, first);
		}
	}
	for (i = 0; i < idx.ntwo; i++) {
		fill(&idx.two[i], 2, all, keys, segs, total);
		if (!idx.two[i].list)
			goto out;
	}
	for (i = 0; i < idx.none; i++) {
		fill(&idx.one[i], 1, all, keys, segs, total);
		if (!idx.one[i].list)
			goto out;
	}
	qsort(idx.two, idx.ntwo, sizeof(*idx.two), node_cmp);
	qsort(idx.one, idx.none, sizeof(*idx.one), node_cmp);
	idx.ok = true;
out:
	free(all);
	free(keys);
	free(segs);
}

static const struct node *node_find(const struct node *nodes, size_t n, const char *key)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(key, nodes[mid].key);
		if (c == 0)
			return &nodes[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

/* Whether rt matches (method too); a path matched under another method sets *ret_path_known. */
static bool try_route(struct req *r, const struct route *rt, const char *method, const char **segs,
		      const size_t *lens, int nsegs, int *ret_path_known)
{
	const char *args[ROUTE_ARGS_MAX] = {0};
	if (!match_pattern(rt->pattern, segs, lens, nsegs, args))
		return false;
	if (strcmp(rt->method, method) != 0) {
		*ret_path_known = 1;
		return false;
	}
	memcpy(r->args, args, sizeof(args));
	return true;
}

const struct route *router_match_scan(struct req *r, const char *method, const char *path,
				      int *ret_path_known)
{
	const char *segs[SEGMENTS_MAX];
	size_t lens[SEGMENTS_MAX];
	int n = split_path(&r->arena, path, segs, lens);
	*ret_path_known = 0;
	if (n < 0)
		return NULL;
	for (const struct route *const *t = api_route_tables; *t; t++)
		for (const struct route *rt = *t; rt->method; rt++)
			if (try_route(r, rt, method, segs, lens, n, ret_path_known))
				return rt;
	return NULL;
}

const struct route *router_match(struct req *r, const char *method, const char *path,
				 int *ret_path_known)
{
	pthread_once(&idx_once, idx_build);
	if (!idx.ok)
		return router_match_scan(r, method, path, ret_path_known);
	const char *segs[SEGMENTS_MAX];
	size_t lens[SEGMENTS_MAX];
	int n = split_path(&r->arena, path, segs, lens);
	*ret_path_known = 0;
	if (n < 0)
		return NULL;
	const struct node *nd = NULL;
	char key[KEY_MAX];
	if (n >= 2 && lens[0] + lens[1] + 2 <= KEY_MAX) {
		memcpy(key, segs[0], lens[0]);
		key[lens[0]] = '\x1f';
		memcpy(key + lens[0] + 1, segs[1], lens[1] + 1);
		nd = node_find(idx.two, idx.ntwo, key);
	}
	if (!nd && n >= 1 && lens[0] + 1 <= KEY_MAX)
		nd = node_find(idx.one, idx.none, segs[0]);
	/* a path whose first segment no route has literally: only the {param}-first routes */
	const struct route *const *list = nd ? nd->list : idx.root;
	size_t count = nd ? nd->n : idx.nroot;
	for (size_t i = 0; i < count; i++)
		if (try_route(r, list[i], method, segs, lens, n, ret_path_known))
			return list[i];
	return NULL;
}
