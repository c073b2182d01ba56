/* Stripe's search query language (api/search.c): what a query parses into, and the 400s for
 * what it does not accept. */
#include <criterion/criterion.h>
#include <string.h>

#include "api/search.h"
#include "http/req.h"

static const struct search_field fields[] = {
    {"amount", SEARCH_NUMBER, false, 1, NULL},
    {"email", SEARCH_STRING, true, 2, NULL},
    {"refunded", SEARCH_BOOL, false, 3, NULL},
    {"metadata", SEARCH_METADATA, false, 4, NULL},
    {"status", SEARCH_STRING, false, 5, NULL},
    {"card.exp_year", SEARCH_NUMBER, false, 6, "exp_year"},
    {"card.last4", SEARCH_STRING, false, 6, "last4"},
    {NULL, 0, false, 0, NULL},
};
static const struct search_spec spec = {.resource = "things", .id_prefix = "th_", .fields = fields};

static struct req r;
static struct search_query q;

static void setup(void)
{
	memset(&r, 0, sizeof(r));
	arena_init(&r.arena, 1 << 16);
}

static void teardown(void)
{
	arena_release(&r.arena);
}

TestSuite(search, .init = setup, .fini = teardown);

Test(search, clauses_operators_and_values)
{
	cr_assert_eq(search_parse(&r, &spec,
				  "email~\"jen\" AND -metadata['order id']:'a \\'b' AND amount>=-5 "
				  "AND refunded:true AND status:null",
				  &q),
		     0, "%s", r.err.detail);
	cr_assert_eq(q.n, 5);
	cr_assert_not(q.any);
	cr_assert_str_eq(q.c[0].field->name, "email");
	cr_assert_eq(q.c[0].op, '~');
	cr_assert_str_eq(q.c[0].value, "jen");
	cr_assert(q.c[1].negate);
	cr_assert_str_eq(q.c[1].key, "order id");
	cr_assert_str_eq(q.c[1].value, "a 'b");
	cr_assert_eq(q.c[2].op, 'g');
	cr_assert_eq(q.c[2].number, -5);
	cr_assert_eq(q.c[3].number, 1);
	cr_assert(q.c[4].is_null);
}

Test(search, or_and_spacing)
{
	cr_assert_eq(search_parse(&r, &spec, "  status:'a'   or status:\"b\"  ", &q), 0);
	cr_assert_eq(q.n, 2);
	cr_assert(q.any);
	cr_assert_eq(search_parse(&r, &spec, "amount<10", &q), 0);
	cr_assert_eq(q.c[0].op, '<');
	cr_assert_eq(q.c[0].number, 10);
}

static void refused(const char *query, const char *needle)
{
	memset(&r.err, 0, sizeof(r.err));
	cr_assert_eq(search_parse(&r, &spec, query, &q), -1, "%s was accepted", query);
	cr_assert(r.err.set);
	cr_assert_str_eq(r.err.param, "query");
	cr_assert_not_null(strstr(r.err.detail, needle), "%s: %s", query, r.err.detail);
}

Test(search, refusals)
{
	refused("colour:'red'", "unsupported search field for resource `things`");
	refused("email:'a' AND status:'b' OR status:'c'", "cannot be combined");
	refused("email~'ab'", "at least 3");
	refused("status~'abc'", "substring");
	refused("email>'a'", "cannot be compared");
	refused("amount:ten", "whole number");
	refused("amount:99999999999999999999", "whole number");
	refused("refunded:yes", "true or false");
	refused("email:'open", "not closed");
	refused("metadata:'x'", "metadata[\"key\"]");
	refused("metadata['']:'x'", "empty");
	refused("email:", "missing");
	refused("email 'x'", "operator");
	refused("email:'a' email:'b'", "AND or OR");
	refused("", "empty");
	char big[1200];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	refused(big, "too long");
	char many[400] = "";
	for (int i = 0; i < 11; i++)
		strcat(many, i ? " OR status:'x'" : "status:'x'");
	refused(many, "at most 10");
}

Test(search, fields_read_by_path_parse_by_their_kind)
{
	cr_assert_eq(search_parse(&r, &spec, "card.exp_year>=2030 AND card.last4:'4242'", &q), 0,
		     "%s", r.err.detail);
	cr_assert_eq(q.n, 2);
	cr_assert_str_eq(q.c[0].field->path, "exp_year");
	cr_assert_eq(q.c[0].op, 'g');
	cr_assert_eq(q.c[0].number, 2030);
	cr_assert_str_eq(q.c[1].value, "4242");
	memset(&r.err, 0, sizeof(r.err));
	cr_assert_neq(search_parse(&r, &spec, "card.last4>4242", &q), 0);
	cr_assert_str_eq(r.err.param, "query");
	memset(&r.err, 0, sizeof(r.err));
	cr_assert_neq(search_parse(&r, &spec, "card.exp_year:'soon'", &q), 0);
	cr_assert_str_eq(r.err.param, "query");
}
