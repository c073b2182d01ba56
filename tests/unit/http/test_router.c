/* The router against Tender's own route tables: literal segments match whole, {params} take one
 * non-empty segment, a known path with another method is told apart from an unknown one. */
#include <criterion/criterion.h>
#include <string.h>

#include "http/req.h"
#include "http/router.h"

static const struct route *match(struct req *r, const char *method, const char *path, int *known)
{
	memset(r, 0, sizeof(*r));
	arena_init(&r->arena, 1 << 16);
	return router_match(r, method, path, known);
}

Test(router, literal_and_parameter_segments)
{
	struct req r;
	int known = -1;
	const struct route *rt = match(&r, "POST", "/v1/payment_methods", &known);
	cr_assert_not_null(rt);
	cr_assert_str_eq(rt->pattern, "/v1/payment_methods");
	arena_release(&r.arena);

	rt = match(&r, "POST", "/v1/payment_methods/pm_123/attach", &known);
	cr_assert_not_null(rt);
	cr_assert_str_eq(rt->pattern, "/v1/payment_methods/{id}/attach");
	cr_assert_str_eq(r.args[0], "pm_123");
	arena_release(&r.arena);

	rt = match(&r, "GET", "/v1/customers/cus_9", &known);
	cr_assert_not_null(rt);
	cr_assert_str_eq(rt->pattern, "/v1/customers/{id}");
	cr_assert_str_eq(r.args[0], "cus_9");
	arena_release(&r.arena);

	/* an empty segment matches nothing, as on Stripe: POST /v1/customers/ (an update whose id
	 * came out empty) must not be the create */
	static const char *const empty[] = {"//v1//customers/cus_9", "/v1/customers/cus_9/",
					    "/v1/customers/", "/v1//customers"};
	for (size_t i = 0; i < sizeof(empty) / sizeof(empty[0]); i++) {
		rt = match(&r, "POST", empty[i], &known);
		cr_assert_null(rt, "%s matched %s", empty[i], rt ? rt->pattern : "");
		arena_release(&r.arena);
	}
}

Test(router, prefixes_and_extensions_do_not_match)
{
	struct req r;
	int known = -1;
	static const char *const paths[] = {
	    "/v1/payment_method",   /* a prefix of a resource */
	    "/v1/payment_methodsx", /* a resource plus more */
	    "/v1/payment_methods/pm_1/attachx",
	    "/v1/payment_methods/pm_1/attach/more",
	    "/v2/payment_methods",
	    "/v1",
	    "/",
	    "v1/customers", /* not absolute */
	};
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		cr_assert_null(match(&r, "POST", paths[i], &known), "%s", paths[i]);
		cr_assert_eq(known, 0, "%s", paths[i]);
		arena_release(&r.arena);
	}
}

Test(router, known_path_other_method)
{
	struct req r;
	int known = -1;
	cr_assert_null(match(&r, "PUT", "/v1/customers/cus_1", &known));
	cr_assert_eq(known, 1, "the path exists: 405, not 404");
	arena_release(&r.arena);
}

/* The path a pattern stands for, each {param} given a value (the same one for all of them). */
static void instantiate(const char *pattern, const char *value, char *out, size_t max)
{
	size_t k = 0;
	for (const char *p = pattern; *p && k + 1 < max;) {
		if (*p == '{') {
			for (const char *v = value; *v && k + 1 < max; v++)
				out[k++] = *v;
			while (*p && *p != '}')
				p++;
			if (*p)
				p++;
		} else {
			out[k++] = *p++;
		}
	}
	out[k] = '\0';
}

/* What router_match's index answers is what trying every route in order answers: for every
 * route's own path (its params as ids, or as a literal segment of another route), under every
 * method, and for paths no route has. */
static void agree(const char *method, const char *path)
{
	struct req a, b;
	int ka = -1, kb = -1;
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	arena_init(&a.arena, 1 << 16);
	arena_init(&b.arena, 1 << 16);
	const struct route *ra = router_match(&a, method, path, &ka);
	const struct route *rb = router_match_scan(&b, method, path, &kb);
	cr_assert_eq(ra, rb, "%s %s: %s against %s", method, path, ra ? ra->pattern : "none",
		     rb ? rb->pattern : "none");
	cr_assert_eq(ka, kb, "%s %s: path known %d against %d", method, path, ka, kb);
	for (int i = 0; ra && i < ROUTE_ARGS_MAX; i++) {
		cr_assert_eq(!a.args[i], !b.args[i]);
		if (a.args[i])
			cr_assert_str_eq(a.args[i], b.args[i]);
	}
	arena_release(&a.arena);
	arena_release(&b.arena);
}

Test(router, index_agrees_with_scan)
{
	static const char *const methods[] = {"GET", "POST", "DELETE", "PUT"};
	/* param values: an id, and words that are literal segments of other routes */
	static const char *const values[] = {"x_1", "search", "upcoming", "v1", "payment_methods"};
	char path[512];
	size_t routes = 0;
	for (const struct route *const *t = api_route_tables; *t; t++)
		for (const struct route *rt = *t; rt->method; rt++, routes++)
			for (size_t v = 0; v < sizeof(values) / sizeof(values[0]); v++) {
				instantiate(rt->pattern, values[v], path, sizeof(path));
				for (size_t m = 0; m < sizeof(methods) / sizeof(methods[0]); m++)
					agree(methods[m], path);
			}
	cr_assert_gt(routes, 100);
	static const char *const others[] = {
	    "/",
	    "/v1",
	    "/v2/customers",
	    "/nope",
	    "/v1/nope",
	    "/v1/nope/x",
	    "/checkout",
	    "/checkout/a",
	    "/healthz/x",
	    "//v1//customers/",
	    "/v1/customers/cus_1/x/y/z/w",
	    "/v1/payment_methods/pm_1/attach/more",
	};
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++)
		for (size_t m = 0; m < sizeof(methods) / sizeof(methods[0]); m++)
			agree(methods[m], others[i]);
}
