#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "http/form.h"

static struct arena a;

static void setup(void)
{
	arena_init(&a, 8u << 20);
}

static void teardown(void)
{
	arena_release(&a);
}

TestSuite(form, .init = setup, .fini = teardown);

static struct form_node *parse_ok(const char *s)
{
	struct form_node *root = NULL;
	struct form_error e;
	int rc = form_parse(&a, s, strlen(s), &root, &e);
	cr_assert_eq(rc, 0, "parse of '%s' failed: %d %s", s, rc, e.message ? e.message : "");
	return root;
}

static int parse_err(const char *s, struct form_error *e)
{
	struct form_node *root = NULL;
	int rc = form_parse(&a, s, strlen(s), &root, e);
	cr_assert_neq(rc, 0, "'%s' should not parse", s);
	return rc;
}

Test(form, scalars_nesting_and_decoding)
{
	struct form_node *r =
	    parse_ok("amount=2000&card[number]=4242+4242&metadata%5Border%5D=7&desc=a%3Db&empty=");
	cr_assert_str_eq(form_get(r, "amount")->value, "2000");
	cr_assert_str_eq(form_path(r, "card.number")->value, "4242 4242");
	cr_assert_str_eq(form_path(r, "metadata.order")->value, "7");
	cr_assert_str_eq(form_get(r, "desc")->value, "a=b");
	const struct form_node *e = form_get(r, "empty");
	cr_assert_eq(e->kind, FORM_SCALAR);
	cr_assert_eq(e->value_len, 0);
	cr_assert_null(form_get(r, "missing"));
}

Test(form, arrays_indexed_appended_and_sparse)
{
	struct form_node *r = parse_ok("expand[1]=b&expand[0]=a&x[]=1&x[]=2&s[5]=five&s[0]=zero");
	const struct form_node *ex = form_get(r, "expand");
	cr_assert_eq(ex->kind, FORM_ARRAY);
	cr_assert_eq(ex->child_count, 2);
	cr_assert_str_eq(ex->first_child->value, "a");
	cr_assert_str_eq(ex->first_child->next->value, "b");
	const struct form_node *x = form_get(r, "x");
	cr_assert_str_eq(x->first_child->value, "1");
	cr_assert_str_eq(x->last_child->value, "2");
	const struct form_node *s = form_get(r, "s");
	cr_assert_str_eq(s->first_child->value, "zero");
	cr_assert_str_eq(s->first_child->key, "0");
	cr_assert_str_eq(s->last_child->key, "5");
}

Test(form, array_of_objects_merges_items)
{
	struct form_node *r = parse_ok("items[0][price]=p1&items[1][price]=p2&items[0][quantity]=2");
	const struct form_node *items = form_get(r, "items");
	cr_assert_eq(items->child_count, 2);
	const struct form_node *i0 = items->first_child;
	cr_assert_eq(i0->kind, FORM_OBJECT);
	cr_assert_str_eq(form_get(i0, "price")->value, "p1");
	cr_assert_str_eq(form_get(i0, "quantity")->value, "2");
}

Test(form, utf8_values_and_empty_input)
{
	struct form_node *r = parse_ok("name=%C3%A9l%C3%A8ve");
	cr_assert_str_eq(form_get(r, "name")->value, "\xc3\xa9l\xc3\xa8ve");
	r = parse_ok("");
	cr_assert_eq(r->child_count, 0);
	r = parse_ok("&&a=1&");
	cr_assert_eq(r->child_count, 1);
	r = parse_ok("flag");
	cr_assert_eq(form_get(r, "flag")->value_len, 0);
}

Test(form, duplicates_and_conflicts_never_echo_values)
{
	struct form_error e;
	cr_assert_eq(parse_err("card[number]=4242424242424242&card[number]=4000000000000002", &e),
	             FORM_ERR_DUPLICATE);
	cr_assert_str_eq(e.path, "card[number]");
	cr_assert_null(strstr(e.path, "4242"));
	cr_assert_eq(parse_err("a=1&a=2", &e), FORM_ERR_DUPLICATE);
	cr_assert_eq(parse_err("a=1&a[b]=2", &e), FORM_ERR_CONFLICT);
	cr_assert_eq(parse_err("a[b]=1&a=2", &e), FORM_ERR_CONFLICT);
	cr_assert_eq(parse_err("x[]=1&x[0]=2", &e), FORM_ERR_CONFLICT);
	cr_assert_eq(parse_err("x[0]=1&x[a]=2", &e), FORM_ERR_CONFLICT);
	cr_assert_eq(parse_err("x[0]=1&x[0]=2", &e), FORM_ERR_DUPLICATE);
}

Test(form, malformed_and_encoding_errors)
{
	struct form_error e;
	cr_assert_eq(parse_err("a=%ZZ", &e), FORM_ERR_MALFORMED);
	cr_assert_eq(parse_err("a=%4", &e), FORM_ERR_MALFORMED);
	cr_assert_eq(parse_err("a[b=1", &e), FORM_ERR_MALFORMED);
	cr_assert_eq(parse_err("a]b=1", &e), FORM_ERR_MALFORMED);
	cr_assert_eq(parse_err("a[b]c=1", &e), FORM_ERR_MALFORMED);
	cr_assert_eq(parse_err("=1", &e), FORM_ERR_MALFORMED);
	cr_assert_eq(parse_err("[a]=1", &e), FORM_ERR_MALFORMED);
	cr_assert_eq(parse_err("a=%00", &e), FORM_ERR_ENCODING);
	cr_assert_eq(parse_err("a=%FF%FE", &e), FORM_ERR_ENCODING);
	cr_assert_eq(parse_err("a%FF=1", &e), FORM_ERR_ENCODING);
}

Test(form, limits_at_and_past_each_bound)
{
	struct form_error e;
	/* depth: FORM_DEPTH_MAX segments parse, one more does not */
	char deep[256] = "a";
	for (int i = 1; i < FORM_DEPTH_MAX; i++)
		strcat(deep, "[b]");
	strcat(deep, "=1");
	parse_ok(deep);
	char deeper[256];
	snprintf(deeper, sizeof(deeper), "a[b]%s", deep + 1);
	cr_assert_eq(parse_err(deeper, &e), FORM_ERR_LIMIT);
	/* index bound */
	parse_ok("x[999]=1");
	cr_assert_eq(parse_err("x[1000]=1", &e), FORM_ERR_LIMIT);
	/* key length */
	char key[FORM_KEY_MAX + 8];
	memset(key, 'k', FORM_KEY_MAX);
	memcpy(key + FORM_KEY_MAX, "=1", 3);
	parse_ok(key);
	char key2[FORM_KEY_MAX + 8];
	memset(key2, 'k', FORM_KEY_MAX + 1);
	memcpy(key2 + FORM_KEY_MAX + 1, "=1", 3);
	cr_assert_eq(parse_err(key2, &e), FORM_ERR_LIMIT);
	/* parameter count */
	size_t cap = (FORM_PAIRS_MAX + 2) * 12;
	char *many = arena_alloc(&a, cap);
	size_t off = 0;
	for (int i = 0; i < FORM_PAIRS_MAX; i++)
		off += (size_t)snprintf(many + off, cap - off, "p%d=1&", i);
	parse_ok(many);
	snprintf(many + off, cap - off, "last=1");
	cr_assert_eq(parse_err(many, &e), FORM_ERR_LIMIT);
	/* value length */
	size_t vmax = FORM_VALUE_MAX;
	char *val = arena_alloc(&a, vmax + 8);
	memcpy(val, "v=", 2);
	memset(val + 2, 'x', vmax);
	val[vmax + 2] = '\0';
	parse_ok(val);
	char *val2 = arena_alloc(&a, vmax + 8);
	memcpy(val2, "v=", 2);
	memset(val2 + 2, 'x', vmax + 1);
	val2[vmax + 3] = '\0';
	cr_assert_eq(parse_err(val2, &e), FORM_ERR_LIMIT);
}

Test(form, pan_like_parameter_names_are_not_echoed)
{
	struct form_error e;
	parse_err("card[4242424242424242]=1&card[4242424242424242]=2", &e);
	cr_assert_null(strstr(e.path, "42424242"));
}

Test(form, raw_nul_bytes_are_refused)
{
	struct form_node *root = NULL;
	struct form_error e;
	const char in[] = "\0\x07" "1&a=2";
	cr_assert_eq(form_parse(&a, in, sizeof(in) - 1, &root, &e), FORM_ERR_ENCODING);
	const char in2[] = "a=x\0y";
	cr_assert_eq(form_parse(&a, in2, sizeof(in2) - 1, &root, &e), FORM_ERR_ENCODING);
}
