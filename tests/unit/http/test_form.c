#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "http/form.h"

static struct arena a;

static void setup(void)
{
	arena_init(&a, 16u << 20);
}

static void teardown(void)
{
	arena_release(&a);
}

TestSuite(form, .init = setup, .fini = teardown);

static struct form_node *parse_n_ok(const char *s, size_t n)
{
	struct form_node *root = NULL;
	struct form_error e;
	memset(&e, 0, sizeof(e));
	int rc = form_parse(&a, s, n, &root, &e);
	cr_assert_eq(rc, 0, "parse of '%.60s' failed: %d %s at %s", s, rc,
		     e.message ? e.message : "", e.path);
	cr_assert_not_null(root);
	cr_assert_eq(root->kind, FORM_OBJECT);
	return root;
}

static struct form_node *parse_ok(const char *s)
{
	return parse_n_ok(s, strlen(s));
}

/* Returns the error code; checks the error is well formed whatever it is. */
static int parse_n_err(const char *s, size_t n, struct form_error *e)
{
	static struct form_node sentinel;
	struct form_node *root = &sentinel;
	memset(e, 0, sizeof(*e));
	int rc = form_parse(&a, s, n, &root, e);
	cr_assert_lt(rc, 0, "'%.60s' should not parse", s);
	cr_assert_eq(root, &sentinel, "ret_root must be left alone on failure");
	cr_assert_eq(e->code, rc);
	cr_assert_not_null(e->message);
	cr_assert_lt(strlen(e->path), sizeof(e->path));
	return rc;
}

static int parse_err(const char *s, struct form_error *e)
{
	return parse_n_err(s, strlen(s), e);
}

static const char *str(const struct form_node *root, const char *dotted)
{
	const struct form_node *n = form_path(root, dotted);
	cr_assert_not_null(n, "missing %s", dotted);
	cr_assert_eq(n->kind, FORM_SCALAR, "%s is not a scalar", dotted);
	return n->value;
}

/* Appends s at off in b (capacity cap, always NUL-terminated); returns the new length. */
static size_t put(char *b, size_t off, size_t cap, const char *s)
{
	size_t n = strlen(s);
	cr_assert_lt(off + n, cap);
	memcpy(b + off, s, n);
	b[off + n] = '\0';
	return off + n;
}

static char *big(size_t cap)
{
	char *b = arena_alloc(&a, cap);
	cr_assert_not_null(b);
	b[0] = '\0';
	return b;
}

static bool has_digit(const char *s)
{
	for (; *s; s++)
		if (*s >= '0' && *s <= '9')
			return true;
	return false;
}

/* ---- decoding ---- */

Test(form, scalars_plus_and_equals_in_values)
{
	struct form_node *r =
	    parse_ok("amount=2000&currency=usd&description=Hello+world%21&q=a%3Db&raw=x=y=z");
	cr_assert_eq(r->child_count, 5);
	cr_assert_str_eq(str(r, "amount"), "2000");
	cr_assert_str_eq(str(r, "description"), "Hello world!");
	cr_assert_eq(form_get(r, "description")->value_len, 12);
	cr_assert_str_eq(str(r, "q"), "a=b");
	cr_assert_str_eq(str(r, "raw"), "x=y=z");
	cr_assert_str_eq(str(r, "currency"), "usd");
	/* a literal plus is %2B; keys decode '+' too */
	r = parse_ok("a%2Bb+c=1%2B1");
	cr_assert_str_eq(str(r, "a+b c"), "1+1");
	/* object keys keep first-seen order */
	const struct form_node *c = r->first_child;
	cr_assert_str_eq(c->key, "a+b c");
	cr_assert_eq(c->key_len, 5);
	cr_assert_null(c->first_child);
}

Test(form, empty_value_flag_and_empty_pairs)
{
	struct form_node *r = parse_ok("description=&metadata=&flag&&x=1&");
	const struct form_node *d = form_get(r, "description");
	cr_assert_eq(d->kind, FORM_SCALAR);
	cr_assert_eq(d->value_len, 0);
	cr_assert_str_eq(d->value, "");
	cr_assert_eq(form_get(r, "flag")->value_len, 0);
	cr_assert_eq(r->child_count, 4);
	cr_assert_null(form_get(r, "missing"));
	r = parse_ok("&&&");
	cr_assert_eq(r->child_count, 0);
}

Test(form, empty_input_is_an_empty_object)
{
	struct form_node *r = parse_ok("");
	cr_assert_eq(r->child_count, 0);
	cr_assert_null(r->first_child);
	cr_assert_str_eq(r->key, "");
	struct form_node *root = NULL;
	cr_assert_eq(form_parse(&a, NULL, 0, &root, NULL), 0);
	cr_assert_eq(root->child_count, 0);
}

Test(form, input_need_not_be_terminated)
{
	const char in[] = "a=12345";
	struct form_node *r = parse_n_ok(in, 4); /* "a=12" */
	cr_assert_str_eq(str(r, "a"), "12");
}

Test(form, nesting_objects)
{
	struct form_node *r =
	    parse_ok("type=card&card[number]=4242424242424242&card[exp_month]=12"
		     "&metadata[order]=7&billing_details[address][city]=Paris"
		     "&billing_details[address][line1]=1+Rue&billing_details[name]=J");
	const struct form_node *card = form_get(r, "card");
	cr_assert_eq(card->kind, FORM_OBJECT);
	cr_assert_eq(card->child_count, 2);
	cr_assert_null(card->value);
	cr_assert_str_eq(str(r, "card.number"), "4242424242424242");
	cr_assert_str_eq(str(r, "card.exp_month"), "12");
	cr_assert_str_eq(str(r, "metadata.order"), "7");
	cr_assert_str_eq(str(r, "billing_details.address.city"), "Paris");
	cr_assert_str_eq(str(r, "billing_details.address.line1"), "1 Rue");
	const struct form_node *bd = form_get(r, "billing_details");
	cr_assert_eq(bd->child_count, 2);
	cr_assert_str_eq(bd->first_child->key, "address");
	cr_assert_str_eq(bd->last_child->key, "name");
	cr_assert_eq(form_get(bd, "address")->child_count, 2);
}

Test(form, percent_encoded_brackets_parse_the_same)
{
	struct form_node *r = parse_ok("card%5Bnumber%5D=4242&card%5bcvc%5d=123&card%5Bexp_year]=30"
				       "&expand%5B%5D=customer&items%5B0%5D%5Bprice%5D=p");
	cr_assert_str_eq(str(r, "card.number"), "4242");
	cr_assert_str_eq(str(r, "card.cvc"), "123");
	cr_assert_str_eq(str(r, "card.exp_year"), "30");
	cr_assert_eq(form_get(r, "expand")->kind, FORM_ARRAY);
	cr_assert_str_eq(str(r, "expand.0"), "customer");
	cr_assert_str_eq(str(r, "items.0.price"), "p");
	/* encoded and literal brackets address the same parameter */
	struct form_error e;
	cr_assert_eq(parse_err("card[number]=1&card%5Bnumber%5D=2", &e), FORM_ERR_DUPLICATE);
	cr_assert_str_eq(e.path, "card[number]");
}

Test(form, utf8_values_and_keys)
{
	struct form_node *r = parse_ok("name=%C3%A9l%C3%A8ve&price=%E2%82%AC5&emoji=%F0%9F%98%80"
				       "&raw=caf\xc3\xa9&metadata[cl%C3%A9]=v&max=%F4%8F%BF%BF");
	cr_assert_str_eq(str(r, "name"), "\xc3\xa9l\xc3\xa8ve");
	cr_assert_str_eq(str(r, "price"), "\xe2\x82\xac"
					  "5");
	cr_assert_str_eq(str(r, "emoji"), "\xf0\x9f\x98\x80");
	cr_assert_eq(form_get(r, "emoji")->value_len, 4);
	cr_assert_str_eq(str(r, "raw"), "caf\xc3\xa9");
	cr_assert_str_eq(str(r, "metadata.cl\xc3\xa9"), "v");
	cr_assert_str_eq(str(r, "max"), "\xf4\x8f\xbf\xbf");
}

/* ---- arrays ---- */

Test(form, arrays_indexed_are_sorted_by_index)
{
	struct form_node *r = parse_ok("expand[1]=customer&expand[0]=latest_charge");
	const struct form_node *ex = form_get(r, "expand");
	cr_assert_eq(ex->kind, FORM_ARRAY);
	cr_assert_eq(ex->child_count, 2);
	cr_assert_str_eq(ex->first_child->key, "0");
	cr_assert_str_eq(ex->first_child->value, "latest_charge");
	cr_assert_str_eq(ex->last_child->value, "customer");
	cr_assert_eq(ex->first_child->next, ex->last_child);
	cr_assert_null(ex->last_child->next);
	/* numeric, not textual, order */
	r = parse_ok("x[10]=ten&x[9]=nine&x[100]=hundred&x[2]=two");
	const struct form_node *x = form_get(r, "x");
	const char *want[] = {"two", "nine", "ten", "hundred"};
	size_t i = 0;
	for (const struct form_node *c = x->first_child; c; c = c->next, i++)
		cr_assert_str_eq(c->value, want[i]);
	cr_assert_eq(i, 4);
	cr_assert_str_eq(x->last_child->value, "hundred");
}

Test(form, arrays_appended_keep_arrival_order)
{
	struct form_node *r = parse_ok("expand[]=b&expand[]=a&expand[]=c");
	const struct form_node *ex = form_get(r, "expand");
	cr_assert_eq(ex->kind, FORM_ARRAY);
	cr_assert_eq(ex->child_count, 3);
	cr_assert_str_eq(str(r, "expand.0"), "b");
	cr_assert_str_eq(str(r, "expand.1"), "a");
	cr_assert_str_eq(str(r, "expand.2"), "c");
	cr_assert_str_eq(ex->last_child->key, "2");
	/* the same value twice is two items, not a duplicate */
	r = parse_ok("expand[]=a&expand[]=a");
	cr_assert_eq(form_get(r, "expand")->child_count, 2);
}

Test(form, arrays_sparse_indices_keep_their_text)
{
	struct form_node *r = parse_ok("s[5]=five&s[0]=zero&t[07]=seven&t[3]=three");
	const struct form_node *s = form_get(r, "s");
	cr_assert_eq(s->child_count, 2);
	cr_assert_str_eq(s->first_child->key, "0");
	cr_assert_str_eq(s->first_child->value, "zero");
	cr_assert_str_eq(s->last_child->key, "5");
	cr_assert_str_eq(s->last_child->value, "five");
	cr_assert_null(form_get(s, "1"));
	cr_assert_str_eq(form_get(s, "5")->value, "five");
	const struct form_node *t = form_get(r, "t");
	cr_assert_str_eq(t->first_child->key, "3");
	cr_assert_str_eq(t->last_child->key, "07");
	cr_assert_eq(t->last_child->key_len, 2);
}

Test(form, array_of_objects_merges_items)
{
	struct form_node *r = parse_ok("items[1][price]=p2&items[0][price]=p1&items[0][quantity]=2"
				       "&items[1][tax_rates][0]=t1&items[1][tax_rates][1]=t2");
	const struct form_node *items = form_get(r, "items");
	cr_assert_eq(items->kind, FORM_ARRAY);
	cr_assert_eq(items->child_count, 2);
	const struct form_node *i0 = items->first_child;
	cr_assert_eq(i0->kind, FORM_OBJECT);
	cr_assert_str_eq(i0->key, "0");
	cr_assert_eq(i0->child_count, 2);
	cr_assert_str_eq(str(r, "items.0.price"), "p1");
	cr_assert_str_eq(str(r, "items.0.quantity"), "2");
	cr_assert_str_eq(str(r, "items.1.price"), "p2");
	cr_assert_eq(form_path(r, "items.1.tax_rates")->kind, FORM_ARRAY);
	cr_assert_str_eq(str(r, "items.1.tax_rates.1"), "t2");
}

Test(form, digit_keys_alone_make_an_array_mixed_make_an_object)
{
	/* metadata with only numeric-looking keys: an array whose keys carry the text */
	struct form_node *r = parse_ok("metadata[123]=x&metadata[007]=y");
	const struct form_node *m = form_get(r, "metadata");
	cr_assert_eq(m->kind, FORM_ARRAY);
	cr_assert_str_eq(form_get(m, "007")->value, "y");
	cr_assert_str_eq(form_get(m, "123")->value, "x");
	/* one non-digit key makes it an object, in either order, first-seen order kept */
	r = parse_ok("metadata[123]=x&metadata[note]=y&metadata[5000]=z");
	m = form_get(r, "metadata");
	cr_assert_eq(m->kind, FORM_OBJECT);
	cr_assert_eq(m->child_count, 3);
	cr_assert_str_eq(m->first_child->key, "123");
	cr_assert_str_eq(m->first_child->next->key, "note");
	cr_assert_str_eq(m->last_child->key, "5000");
	r = parse_ok("metadata[note]=y&metadata[123]=x");
	m = form_get(r, "metadata");
	cr_assert_eq(m->kind, FORM_OBJECT);
	cr_assert_str_eq(m->first_child->key, "note");
	cr_assert_str_eq(str(r, "metadata.123"), "x");
	/* at the top level digits are just a name */
	r = parse_ok("0=zero&1=one");
	cr_assert_str_eq(str(r, "1"), "one");
}

/* ---- rejected input ---- */

Test(form, malformed)
{
	struct form_error e;
	const char *bad[] = {"a=%ZZ", "a=%4",	  "a=%",     "a=x%",	 "a%G1=1",
			     "a[b=1", "a]b=1",	  "a[b]c=1", "=1",	 "=",
			     "[a]=1", "a[[b]]=1", "a[b]]=1", "a[][b]=1", "a[b][=1",
			     "]=1",   "a%5Bb=1",  "a%5D=1",  "x=1&=2",	 "a[b][]c=1"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(parse_err(bad[i], &e), FORM_ERR_MALFORMED, "%s", bad[i]);
	parse_err("a[b=1", &e);
	cr_assert_str_eq(e.path, "a[b");
	parse_err("a%G1=1", &e);
	cr_assert_str_eq(e.path, "a%G1", "a bad escape is shown as typed");
	parse_err("=secret", &e);
	cr_assert_str_eq(e.path, "");
}

Test(form, encoding)
{
	struct form_error e;
	const char *bad[] = {"a=%00",	       "a%00=1",	 "a=%FF",	"a=%FF%FE",
			     "a=%C0%80",       "a=%C3",		 "a=%E2%82",	"a=%ED%A0%80",
			     "a=%F4%90%80%80", "a=%F5%80%80%80", "a%FF=1",	"card[%C3]=1",
			     "a=%80",	       "a=\xff",	 "a=%E0%80%80", "a=%F0%80%80%80"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(parse_err(bad[i], &e), FORM_ERR_ENCODING, "%s", bad[i]);
	parse_err("card[number]=%ED%A0%80", &e);
	cr_assert_str_eq(e.path, "card[number]");
	parse_err("a%FF=1", &e);
	cr_assert_str_eq(e.path, "a?", "invalid UTF-8 in a name is not echoed raw");
	/* raw NUL bytes, in a key and in a value */
	const char in[] = "\0\x07"
			  "1&a=2";
	cr_assert_eq(parse_n_err(in, sizeof(in) - 1, &e), FORM_ERR_ENCODING);
	cr_assert_str_eq(e.path, "??1", "control bytes are not echoed raw");
	const char in2[] = "a=x\0y";
	cr_assert_eq(parse_n_err(in2, sizeof(in2) - 1, &e), FORM_ERR_ENCODING);
	cr_assert_str_eq(e.path, "a");
}

Test(form, duplicates)
{
	struct form_error e;
	cr_assert_eq(parse_err("a=1&a=2", &e), FORM_ERR_DUPLICATE);
	cr_assert_str_eq(e.path, "a");
	cr_assert_eq(parse_err("a=1&a=1", &e), FORM_ERR_DUPLICATE);
	cr_assert_eq(parse_err("a=&a=", &e), FORM_ERR_DUPLICATE);
	cr_assert_eq(parse_err("flag&flag", &e), FORM_ERR_DUPLICATE);
	cr_assert_eq(parse_err("x[0]=1&x[0]=2", &e), FORM_ERR_DUPLICATE);
	cr_assert_str_eq(e.path, "x[0]");
	cr_assert_eq(parse_err("items[0][price]=a&items[0][price]=b", &e), FORM_ERR_DUPLICATE);
	cr_assert_str_eq(e.path, "items[0][price]");
	/* the same index written two ways is ambiguous too */
	cr_assert_eq(parse_err("x[1]=a&x[01]=b", &e), FORM_ERR_DUPLICATE);
	cr_assert_eq(parse_err("items[1][price]=a&items[001][quantity]=2", &e), FORM_ERR_DUPLICATE);
}

Test(form, duplicate_card_number_never_echoes_a_value)
{
	struct form_error e;
	cr_assert_eq(parse_err("card[number]=4242424242424242&card[exp_month]=12"
			       "&card[number]=4000000000000002",
			       &e),
		     FORM_ERR_DUPLICATE);
	cr_assert_str_eq(e.path, "card[number]");
	cr_assert_not(has_digit(e.path));
	cr_assert_not(has_digit(e.message), "%s", e.message);
	cr_assert_eq(parse_err("card[cvc]=123&card[cvc]=456", &e), FORM_ERR_DUPLICATE);
	cr_assert_str_eq(e.path, "card[cvc]");
	cr_assert_not(has_digit(e.message));
}

Test(form, value_errors_name_the_key_not_the_value)
{
	struct form_error e;
	cr_assert_eq(parse_err("card[number]=4242424242424242%ZZ", &e), FORM_ERR_MALFORMED);
	cr_assert_str_eq(e.path, "card[number]");
	cr_assert_not(has_digit(e.message));
	cr_assert_eq(parse_err("card[number]=4242424242424242%00", &e), FORM_ERR_ENCODING);
	cr_assert_str_eq(e.path, "card[number]");
}

Test(form, conflicts)
{
	struct form_error e;
	cr_assert_eq(parse_err("a=1&a[b]=2", &e), FORM_ERR_CONFLICT);
	cr_assert_str_eq(e.path, "a[b]");
	cr_assert_eq(parse_err("a[b]=1&a=2", &e), FORM_ERR_CONFLICT);
	cr_assert_str_eq(e.path, "a");
	cr_assert_eq(parse_err("a[b]=1&a[b][c]=2", &e), FORM_ERR_CONFLICT);
	cr_assert_eq(parse_err("a[b][c]=1&a[b]=2", &e), FORM_ERR_CONFLICT);
	cr_assert_eq(parse_err("x[]=1&x[0]=2", &e), FORM_ERR_CONFLICT);
	cr_assert_str_eq(e.path, "x[0]");
	cr_assert_eq(parse_err("x[0]=1&x[]=2", &e), FORM_ERR_CONFLICT);
	cr_assert_eq(parse_err("x[a]=1&x[]=2", &e), FORM_ERR_CONFLICT);
	cr_assert_eq(parse_err("x[]=1&x[a]=2", &e), FORM_ERR_CONFLICT);
	cr_assert_eq(parse_err("x[]=1&x=2", &e), FORM_ERR_CONFLICT);
	cr_assert_eq(parse_err("x=1&x[]=2", &e), FORM_ERR_CONFLICT);
	cr_assert_eq(parse_err("items[0]=1&items[0][price]=2", &e), FORM_ERR_CONFLICT);
}

/* ---- limits: exactly at each bound parses, one past does not ---- */

Test(form, limit_pairs)
{
	size_t cap = (FORM_PAIRS_MAX + 2) * 16;
	char *b = big(cap);
	size_t off = 0;
	char one[32];
	for (int i = 0; i < FORM_PAIRS_MAX; i++) {
		snprintf(one, sizeof(one), "p%d=1&&", i); /* empty pairs do not count */
		off = put(b, off, cap, one);
	}
	struct form_node *r = parse_ok(b);
	cr_assert_eq(r->child_count, FORM_PAIRS_MAX);
	cr_assert_str_eq(str(r, "p999"), "1");
	off = put(b, off, cap, "last=1");
	struct form_error e;
	cr_assert_eq(parse_err(b, &e), FORM_ERR_LIMIT);
	cr_assert_str_eq(e.path, "last");
}

Test(form, limit_items_appended)
{
	size_t cap = (FORM_ITEMS_MAX + 2) * 16;
	char *b = big(cap);
	size_t off = 0;
	for (int i = 0; i < FORM_ITEMS_MAX; i++)
		off = put(b, off, cap, "x[]=v&");
	struct form_node *r = parse_ok(b);
	const struct form_node *x = form_get(r, "x");
	cr_assert_eq(x->child_count, FORM_ITEMS_MAX);
	cr_assert_str_eq(x->last_child->key, "999");
	put(b, off, cap, "x[]=v");
	struct form_error e;
	cr_assert_eq(parse_err(b, &e), FORM_ERR_LIMIT);
}

Test(form, limit_items_indexed_and_index)
{
	size_t cap = (FORM_INDEX_MAX + 2) * 24;
	char *b = big(cap);
	size_t off = 0;
	char one[32];
	for (int i = FORM_INDEX_MAX; i >= 0; i--) { /* reverse order: sorting is exercised */
		snprintf(one, sizeof(one), "x[%d]=%d&", i, i);
		off = put(b, off, cap, one);
	}
	struct form_node *r = parse_ok(b);
	const struct form_node *x = form_get(r, "x");
	cr_assert_eq(x->child_count, FORM_INDEX_MAX + 1);
	int want = 0;
	for (const struct form_node *c = x->first_child; c; c = c->next, want++) {
		snprintf(one, sizeof(one), "%d", want);
		cr_assert_str_eq(c->key, one);
		cr_assert_str_eq(c->value, one);
	}
	cr_assert_eq(want, FORM_INDEX_MAX + 1);

	struct form_error e;
	parse_ok("x[999]=1");
	parse_ok("x[000999]=1");
	cr_assert_eq(parse_err("x[1000]=1", &e), FORM_ERR_LIMIT);
	cr_assert_str_eq(e.path, "x[1000]");
	cr_assert_eq(parse_err("a=1&x[99999999999999999999999]=1&x[1]=2", &e), FORM_ERR_LIMIT);
	cr_assert_eq(parse_err("items[1000][price]=1", &e), FORM_ERR_LIMIT);
	cr_assert_str_eq(e.path, "items[1000][price]");
	/* a big "index" under a hash that has other keys is just a key */
	r = parse_ok("metadata[a]=1&metadata[20240101]=2");
	cr_assert_str_eq(str(r, "metadata.20240101"), "2");
}

Test(form, limit_depth)
{
	/* FORM_DEPTH_MAX levels, base name included */
	char k[128];
	size_t off = put(k, 0, sizeof(k), "a");
	for (int i = 1; i < FORM_DEPTH_MAX; i++)
		off = put(k, off, sizeof(k), i % 2 ? "[b]" : "[0]");
	off = put(k, off, sizeof(k), "=1");
	struct form_node *r = parse_ok(k);
	const struct form_node *n = r;
	int levels = 0;
	while (n->kind != FORM_SCALAR) {
		n = n->first_child;
		levels++;
	}
	cr_assert_eq(levels, FORM_DEPTH_MAX);
	cr_assert_str_eq(n->value, "1");
	char k2[128];
	size_t o2 = put(k2, 0, sizeof(k2), "a[c]");
	put(k2, o2, sizeof(k2), k + 1);
	struct form_error e;
	cr_assert_eq(parse_err(k2, &e), FORM_ERR_LIMIT);
	cr_assert_eq(parse_err("a[1][2][3][4][5][6][7][]=1", &e), FORM_ERR_LIMIT);
	parse_ok("a[1][2][3][4][5][6][]=1");
}

Test(form, limit_key_length)
{
	char k[FORM_KEY_MAX + 8];
	memset(k, 'k', FORM_KEY_MAX);
	memcpy(k + FORM_KEY_MAX, "=1", 3);
	struct form_node *r = parse_ok(k);
	cr_assert_eq(r->first_child->key_len, FORM_KEY_MAX);
	char k2[FORM_KEY_MAX + 8];
	memset(k2, 'k', FORM_KEY_MAX + 1);
	memcpy(k2 + FORM_KEY_MAX + 1, "=1", 3);
	struct form_error e;
	cr_assert_eq(parse_err(k2, &e), FORM_ERR_LIMIT);
	/* the path is truncated, marked as such, and stays in bounds */
	size_t pl = strlen(e.path);
	cr_assert_leq(pl, 103);
	cr_assert_str_eq(e.path + pl - 3, "...");
	cr_assert_eq(e.path[0], 'k');
	/* the bound is on decoded bytes: 256 escaped bytes are fine */
	size_t cap = FORM_KEY_MAX * 3 + 8;
	char *b = big(cap);
	size_t off = 0;
	for (int i = 0; i < FORM_KEY_MAX; i++)
		off = put(b, off, cap, "%41");
	off = put(b, off, cap, "=1");
	r = parse_ok(b);
	cr_assert_eq(r->first_child->key_len, FORM_KEY_MAX);
	cr_assert_eq(r->first_child->key[0], 'A');
	/* a nested key counts whole */
	char k3[FORM_KEY_MAX + 8];
	memset(k3, 'k', FORM_KEY_MAX);
	memcpy(k3, "a[", 2);
	memcpy(k3 + FORM_KEY_MAX - 1, "]=1", 4);
	r = parse_ok(k3);
	cr_assert_eq(form_get(r, "a")->first_child->key_len, FORM_KEY_MAX - 3);
	k3[FORM_KEY_MAX - 1] = 'k';
	memcpy(k3 + FORM_KEY_MAX, "]=1", 4);
	cr_assert_eq(parse_err(k3, &e), FORM_ERR_LIMIT);
}

Test(form, limit_value_length)
{
	size_t cap = FORM_VALUE_MAX * 3 + 16;
	char *b = big(cap);
	memcpy(b, "v=", 2);
	memset(b + 2, 'x', FORM_VALUE_MAX);
	b[FORM_VALUE_MAX + 2] = '\0';
	struct form_node *r = parse_ok(b);
	cr_assert_eq(form_get(r, "v")->value_len, FORM_VALUE_MAX);
	b[FORM_VALUE_MAX + 2] = 'x';
	b[FORM_VALUE_MAX + 3] = '\0';
	struct form_error e;
	cr_assert_eq(parse_err(b, &e), FORM_ERR_LIMIT);
	cr_assert_str_eq(e.path, "v");
	/* decoded bytes count, not the escapes */
	size_t off = put(b, 0, cap, "card[number]=");
	for (int i = 0; i < FORM_VALUE_MAX; i++) {
		memcpy(b + off, "%34", 3);
		off += 3;
	}
	b[off] = '\0';
	r = parse_ok(b);
	cr_assert_eq(form_path(r, "card.number")->value_len, FORM_VALUE_MAX);
	cr_assert_eq(form_path(r, "card.number")->value[FORM_VALUE_MAX - 1], '4');
	put(b, off, cap, "4");
	cr_assert_eq(parse_err(b, &e), FORM_ERR_LIMIT);
	cr_assert_str_eq(e.path, "card[number]");
}

Test(form, many_top_level_keys_are_all_found)
{
	size_t cap = FORM_PAIRS_MAX * 24;
	char *b = big(cap);
	size_t off = 0;
	char one[48];
	for (int i = 0; i < FORM_PAIRS_MAX; i++) {
		snprintf(one, sizeof(one), "%ck%d[v]=%d&", 'a' + i % 26, i, i);
		off = put(b, off, cap, one);
	}
	struct form_node *r = parse_ok(b);
	cr_assert_eq(r->child_count, FORM_PAIRS_MAX);
	int i = 0;
	for (const struct form_node *c = r->first_child; c; c = c->next, i++) {
		snprintf(one, sizeof(one), "%ck%d", 'a' + i % 26, i);
		cr_assert_str_eq(c->key, one);
		snprintf(one, sizeof(one), "%d", i);
		cr_assert_str_eq(form_get(c, "v")->value, one);
	}
}

Test(form, nomem_when_the_arena_is_full)
{
	struct arena small;
	arena_init(&small, 0);
	struct form_node *root = NULL;
	struct form_error e;
	cr_assert_eq(form_parse(&small, "", 0, &root, &e), FORM_ERR_NOMEM);
	cr_assert_eq(e.code, FORM_ERR_NOMEM);
	cr_assert_null(root);
	arena_release(&small);

	/* one 16 KiB chunk is all there is: a 20 KB value cannot fit */
	arena_init(&small, 16u * 1024u);
	char *b = big(21000);
	memcpy(b, "v=", 2);
	memset(b + 2, 'x', 20000);
	b[20002] = '\0';
	cr_assert_eq(form_parse(&small, b, strlen(b), &root, &e), FORM_ERR_NOMEM);
	cr_assert_str_eq(e.path, "v");
	cr_assert_null(root);
	arena_release(&small);
}

/* ---- error paths are safe to show ---- */

Test(form, pan_like_names_are_masked)
{
	struct form_error e;
	parse_err("card[4242424242424242]=1&card[4242424242424242]=2", &e);
	cr_assert_str_eq(e.path, "card[****************]");
	/* a body that is just a card number: the "flag" name is masked too */
	cr_assert_eq(parse_err("4242+4242+4242+4242&4242+4242+4242+4242", &e), FORM_ERR_DUPLICATE);
	cr_assert_str_eq(e.path, "**** **** **** ****");
	cr_assert_eq(parse_err("4242424242424242%ZZ=1", &e), FORM_ERR_MALFORMED);
	cr_assert_not(has_digit(e.path), "%s", e.path);
	/* short digit runs are fine */
	parse_err("items[12][price]=a&items[12][price]=b", &e);
	cr_assert_str_eq(e.path, "items[12][price]");
}

Test(form, error_is_optional_and_success_leaves_it_alone)
{
	struct form_node *root = NULL;
	cr_assert_eq(form_parse(&a, "a=1&a=2", 7, &root, NULL), FORM_ERR_DUPLICATE);
	cr_assert_null(root);
	struct form_error e = {.code = 42, .path = "untouched", .message = NULL};
	cr_assert_eq(form_parse(&a, "a=1", 3, &root, &e), 0);
	cr_assert_eq(e.code, 42);
	cr_assert_str_eq(e.path, "untouched");
}

/* ---- lookups ---- */

Test(form, get_and_path)
{
	struct form_node *r = parse_ok("card[number]=4242&items[0][price]=p&a.b=dotted&s=x");
	cr_assert_null(form_get(NULL, "a"));
	cr_assert_null(form_get(r, NULL));
	cr_assert_null(form_get(form_get(r, "s"), "x"), "a scalar has no children");
	cr_assert_str_eq(form_get(r, "a.b")->value, "dotted");
	cr_assert_null(form_path(r, "a.b"), "dotted keys are only reachable with form_get");
	cr_assert_eq(form_path(r, ""), r);
	cr_assert_null(form_path(r, "card."));
	cr_assert_null(form_path(r, ".card"));
	cr_assert_null(form_path(r, "card..number"));
	cr_assert_null(form_path(r, "card.number.x"));
	cr_assert_null(form_path(r, "s.x"));
	cr_assert_null(form_path(NULL, "card"));
	cr_assert_null(form_path(r, NULL));
	cr_assert_eq(form_path(r, "card")->kind, FORM_OBJECT);
	cr_assert_str_eq(str(r, "items.0.price"), "p");
	cr_assert_null(form_path(r, "items.1.price"));
	cr_assert_null(form_get(r, "car"), "no prefix matches");
}

/* form_encode gives back what form_parse reads as the same tree: nesting, array order, metadata
 * with digit keys, bytes that need escaping, empty values. */
Test(form, encode_round_trips)
{
	const char *in = "account[company][name]=A%26B+Ltd&account[individual][dob][day]=1&"
			 "account[individual][metadata][007]=x%3Dy&account[items][0]=a&"
			 "account[items][1]=%C3%A9%20%2B&account[empty]=&account[tos]=true";
	struct form_node *root = parse_ok(in);
	struct buf b;
	buf_init(&b, 1u << 20);
	form_encode(&b, form_get(root, "account"), "acct");
	cr_assert(!b.failed);
	struct form_node *back = parse_ok(buf_cstr(&b));
	cr_assert_str_eq(form_path(back, "acct.company.name")->value, "A&B Ltd");
	cr_assert_str_eq(form_path(back, "acct.individual.dob.day")->value, "1");
	const struct form_node *md = form_path(back, "acct.individual.metadata");
	cr_assert_str_eq(md->first_child->key, "007");
	cr_assert_str_eq(md->first_child->value, "x=y");
	const struct form_node *items = form_path(back, "acct.items");
	cr_assert_eq(items->kind, FORM_ARRAY);
	cr_assert_eq(items->child_count, 2);
	cr_assert_str_eq(items->first_child->value, "a");
	cr_assert_str_eq(items->last_child->value, "\xc3\xa9 +");
	cr_assert_eq(form_path(back, "acct.empty")->value_len, 0);
	/* a second encoding of the parsed result is byte for byte the first */
	struct buf b2;
	buf_init(&b2, 1u << 20);
	form_encode(&b2, form_get(back, "acct"), "acct");
	cr_assert_str_eq(buf_cstr(&b2), buf_cstr(&b));
	/* appended after what a buffer holds, with '&' */
	form_encode(&b2, form_path(back, "acct.tos"), "tos");
	cr_assert(strstr(buf_cstr(&b2), "&tos=true") != NULL, "%s", buf_cstr(&b2));
	buf_release(&b);
	buf_release(&b2);
}
