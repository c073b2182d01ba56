/* Parameter validation of arrays of hashes (PT_OBJECT_ARRAY, e.g. line_items[0][price]): each
 * item checked against its children, the item count bounded, anything else refused with the
 * offending path. */
#include <criterion/criterion.h>
#include <string.h>

#include "http/form.h"
#include "http/params.h"
#include "http/req.h"

static const struct param_spec item_children[] = {
    {"price", PT_STRING, PF_REQUIRED, 255, NULL, NULL},
    {"quantity", PT_INT, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec spec[] = {
    {"line_items", PT_OBJECT_ARRAY, PF_REQUIRED, 3, NULL, item_children},
    {NULL, 0, 0, 0, NULL, NULL},
};

static struct req r;

static void setup(void)
{
	memset(&r, 0, sizeof(r));
	arena_init(&r.arena, 1 << 16);
}

static void teardown(void)
{
	arena_release(&r.arena);
}

TestSuite(params, .init = setup, .fini = teardown);

static int check(const char *body)
{
	struct form_node *root = NULL;
	struct form_error fe;
	memset(&fe, 0, sizeof(fe));
	memset(&r.err, 0, sizeof(r.err));
	cr_assert_eq(form_parse(&r.arena, body, strlen(body), &root, &fe), 0, "%s", body);
	r.params = root;
	return params_validate(&r, spec);
}

Test(params, object_arrays)
{
	cr_assert_eq(check("line_items[0][price]=price_a&line_items[0][quantity]=2"
			   "&line_items[1][price]=price_b"),
		     0, "%s", r.err.detail);
	cr_assert_str_eq(param_str(&r, "line_items.1.price"), "price_b");

	cr_assert_eq(check("line_items[0][quantity]=2"), -1);
	cr_assert_str_eq(r.err.param, "line_items[0][price]");
	cr_assert_eq(check("line_items[0][price]=p&line_items[0][quantity]=two"), -1);
	cr_assert_str_eq(r.err.param, "line_items[0][quantity]");
	cr_assert_eq(check("line_items[0][price]=p&line_items[0][colour]=red"), -1);
	cr_assert_str_eq(r.err.param, "line_items[0][colour]");
	cr_assert_eq(check("line_items[0]=p"), -1);
	cr_assert_str_eq(r.err.param, "line_items[0]");
	cr_assert_eq(check("line_items=p"), -1);
	cr_assert_str_eq(r.err.param, "line_items");
	cr_assert_eq(check("line_items[0][price]=a&line_items[1][price]=b&line_items[2][price]=c"
			   "&line_items[3][price]=d"),
		     -1);
	cr_assert_str_eq(r.err.param, "line_items");
	cr_assert_not_null(strstr(r.err.detail, "at most 3"));
}
