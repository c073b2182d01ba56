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

	/* repeated and trailing slashes do not make segments */
	rt = match(&r, "GET", "//v1//customers/cus_9/", &known);
	cr_assert_not_null(rt);
	cr_assert_str_eq(r.args[0], "cus_9");
	arena_release(&r.arena);
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
