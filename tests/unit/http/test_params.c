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

static const struct param_spec bool_spec[] = {
    {"confirm", PT_BOOL, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};

static int check_bool(const char *body)
{
	struct form_node *root = NULL;
	struct form_error fe;
	memset(&fe, 0, sizeof(fe));
	memset(&r.err, 0, sizeof(r.err));
	cr_assert_eq(form_parse(&r.arena, body, strlen(body), &root, &fe), 0, "%s", body);
	r.params = root;
	return params_validate(&r, bool_spec);
}

/* stripe-python before v7 sends Python's str(True), "True"; Stripe takes booleans in any case. */
Test(params, booleans_in_any_case)
{
	const char *yes[] = {"confirm=true", "confirm=True", "confirm=TRUE"};
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		cr_assert_eq(check_bool(yes[i]), 0, "%s: %s", yes[i], r.err.detail);
		bool v = false;
		cr_assert_eq(param_bool(&r, "confirm", &v), 1);
		cr_assert(v, "%s", yes[i]);
	}
	const char *no[] = {"confirm=false", "confirm=False"};
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		cr_assert_eq(check_bool(no[i]), 0, "%s: %s", no[i], r.err.detail);
		bool v = true;
		cr_assert_eq(param_bool(&r, "confirm", &v), 1);
		cr_assert_not(v, "%s", no[i]);
	}
	cr_assert_eq(check_bool("confirm=yes"), -1);
	cr_assert_str_eq(r.err.param, "confirm");
	cr_assert_eq(check_bool("confirm=1"), -1);
}

/* PT_OBJECT_MAP (currency_options[eur][unit_amount]): keys of the handler's choosing, each value
 * a hash checked against the children, the number of keys bounded, "" only when emptyable. */
static const struct param_spec option_children[] = {
    {"unit_amount", PT_INT, 0, 0, NULL, NULL},
    {"tax_behavior", PT_ENUM, 0, 0, (const char *const[]){"exclusive", "inclusive", NULL}, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec map_spec[] = {
    {"currency_options", PT_OBJECT_MAP, 0, 2, NULL, option_children},
    {"options_or_empty", PT_OBJECT_MAP, PF_EMPTYABLE, 0, NULL, option_children},
    {NULL, 0, 0, 0, NULL, NULL},
};

static int check_map(const char *body)
{
	struct form_node *root = NULL;
	struct form_error fe;
	memset(&fe, 0, sizeof(fe));
	memset(&r.err, 0, sizeof(r.err));
	cr_assert_eq(form_parse(&r.arena, body, strlen(body), &root, &fe), 0, "%s", body);
	r.params = root;
	return params_validate(&r, map_spec);
}

Test(params, object_maps)
{
	cr_assert_eq(check_map("currency_options[eur][unit_amount]=900"
			       "&currency_options[gbp][tax_behavior]=inclusive"),
		     0, "%s", r.err.detail);
	cr_assert_str_eq(param_str(&r, "currency_options.eur.unit_amount"), "900");
	cr_assert_eq(check_map("options_or_empty="), 0, "%s", r.err.detail);

	cr_assert_eq(check_map("currency_options[eur][unit_amount]=nine"), -1);
	cr_assert_str_eq(r.err.param, "currency_options[eur][unit_amount]");
	cr_assert_eq(check_map("currency_options[eur][custom_unit_amount][enabled]=true"), -1);
	cr_assert_str_eq(r.err.param, "currency_options[eur][custom_unit_amount]");
	cr_assert_eq(check_map("currency_options[eur][tax_behavior]=sometimes"), -1);
	cr_assert_str_eq(r.err.param, "currency_options[eur][tax_behavior]");
	cr_assert_eq(check_map("currency_options[eur]=900"), -1);
	cr_assert_str_eq(r.err.param, "currency_options[eur]");
	cr_assert_eq(check_map("currency_options="), -1);
	cr_assert_str_eq(r.err.param, "currency_options");
	cr_assert_eq(check_map("currency_options=eur"), -1);
	cr_assert_str_eq(r.err.param, "currency_options");
	cr_assert_eq(
	    check_map("currency_options[eur][unit_amount]=1&currency_options[gbp][unit_amount]=1"
		      "&currency_options[jpy][unit_amount]=1"),
	    -1);
	cr_assert_str_eq(r.err.param, "currency_options");
	cr_assert_not_null(strstr(r.err.detail, "at most 2"));
}

/* req_param_set (a legacy route's adapter naming a parameter from its path): the value is seen
 * as if sent, the rest of the form unchanged, and the parsed tree itself never written. */
Test(params, param_set_adds_in_front_of_the_form)
{
	struct form_node *root = NULL;
	struct form_error fe;
	const char *body = "amount=300&metadata[n]=1";
	cr_assert_eq(form_parse(&r.arena, body, strlen(body), &root, &fe), 0);
	r.params = root;
	cr_assert_eq(req_param_set(&r, "charge", "ch_123"), 0);
	cr_assert_str_eq(param_str(&r, "charge"), "ch_123");
	int64_t amount = 0;
	cr_assert_eq(param_int(&r, "amount", &amount), 1);
	cr_assert_eq(amount, 300);
	cr_assert_str_eq(param_str(&r, "metadata.n"), "1");
	cr_assert_eq(r.params->child_count, 3);
	/* the parsed root is as it was */
	cr_assert_eq(root->child_count, 2);
	cr_assert_null(form_get(root, "charge"));

	/* a request without a form (a GET without a query) */
	r.params = NULL;
	cr_assert_eq(req_param_set(&r, "customer", "cus_1"), 0);
	cr_assert_str_eq(param_str(&r, "customer"), "cus_1");
	cr_assert_eq(r.params->child_count, 1);
	cr_assert_eq(r.params->last_child, r.params->first_child);
}
