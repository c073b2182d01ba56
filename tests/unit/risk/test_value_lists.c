/*
 * Value lists as the rules see them: item values checked and normalized per type, and the
 * scoring-time lookup on a real SQLite store (rows made as the API makes them), per merchant,
 * with the process cache of merchants without lists.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "risk/value_lists.h"
#include "store/store.h"

static char dir[256];
static struct store *s;

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/tender-unit-value-lists-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	char err[256];
	struct store_config cfg = {.data_dir = dir};
	cr_assert_eq(store_open(&s, &cfg, err, sizeof(err)), 0, "%s", err);
}

static void teardown(void)
{
	store_close(s);
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(value_lists, .init = setup, .fini = teardown);

Test(value_lists, types_and_normalization)
{
	cr_assert(risk_value_list_type_known("card_fingerprint"));
	cr_assert(risk_value_list_type_known("case_sensitive_string"));
	cr_assert(!risk_value_list_type_known("shoe_size"));
	cr_assert(!risk_value_list_type_known(NULL));
	char out[32];
	cr_assert_eq(risk_value_list_normalize("email", "Jenny@Example.COM", out, sizeof(out)), 0);
	cr_assert_str_eq(out, "jenny@example.com");
	cr_assert_eq(risk_value_list_normalize("country", "De", out, sizeof(out)), 0);
	cr_assert_str_eq(out, "de");
	cr_assert_eq(risk_value_list_normalize("card_fingerprint", "AbC", out, sizeof(out)), 0);
	cr_assert_str_eq(out, "AbC");
	cr_assert_eq(risk_value_list_normalize("case_sensitive_string", "AbC", out, sizeof(out)),
		     0);
	cr_assert_str_eq(out, "AbC");
	cr_assert_eq(risk_value_list_normalize("customer_id", "cus_AB", out, sizeof(out)), 0);
	cr_assert_str_eq(out, "cus_AB");
	char small[16];
	cr_assert_eq(risk_value_list_normalize("string", "0123456789abcdef", small, sizeof(small)),
		     -EINVAL);
	cr_assert_eq(risk_value_list_normalize("string", "0123456789abcde", small, sizeof(small)),
		     0);
}

Test(value_lists, values_are_checked_per_type)
{
	cr_assert_eq(risk_value_list_check_value("card_bin", "424242"), 0);
	cr_assert_eq(risk_value_list_check_value("card_bin", "42424242"), 0);
	cr_assert_neq(risk_value_list_check_value("card_bin", "42424"), 0);
	cr_assert_neq(risk_value_list_check_value("card_bin", "4242a2"), 0);
	cr_assert_eq(risk_value_list_check_value("country", "us"), 0);
	cr_assert_neq(risk_value_list_check_value("country", "USA"), 0);
	cr_assert_eq(risk_value_list_check_value("ip_address", "13.112.224.240"), 0);
	cr_assert_eq(risk_value_list_check_value("ip_address", "2001:db8::1"), 0);
	cr_assert_neq(risk_value_list_check_value("ip_address", "300.1.1.1"), 0);
	cr_assert_eq(risk_value_list_check_value("email", "a@b.c"), 0);
	cr_assert_neq(risk_value_list_check_value("email", "@b.c"), 0);
	cr_assert_neq(risk_value_list_check_value("email", "ab.c"), 0);
	cr_assert_eq(risk_value_list_check_value("card_fingerprint", "orWziM4j7CiRL8"), 0);
	cr_assert_neq(risk_value_list_check_value("card_fingerprint", "a-b"), 0);
	cr_assert_eq(risk_value_list_check_value("string", "any thing"), 0);
	cr_assert_neq(risk_value_list_check_value("string", ""), 0);
	cr_assert_neq(risk_value_list_check_value("string", "tab\there"), 0);
	char big[RISK_VALUE_LIST_VALUE_MAX + 2];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	cr_assert_neq(risk_value_list_check_value("string", big), 0);
	big[RISK_VALUE_LIST_VALUE_MAX] = '\0';
	cr_assert_eq(risk_value_list_check_value("string", big), 0);
}

/* ---- the lookup ---- */

struct exec {
	const char *sql;
	const char *p[6];
};

static int exec_fn(struct db *db, void *ctx)
{
	struct exec *e = ctx;
	struct db_stmt *st = db_prepare(db, e->sql);
	if (!st)
		return DB_ERR;
	for (int i = 0; i < 6 && e->p[i]; i++)
		db_bind_text(st, i + 1, e->p[i], -1);
	return db_step_done(st);
}

static void add_list(const char *merchant, const char *id, const char *alias, const char *type)
{
	struct exec e = {"INSERT INTO radar_value_lists (merchant_id, id, created, alias, name,"
			 " item_type, created_by, metadata, item_count)"
			 " VALUES ($1, $2, 1, $3, 'n', $4, $1, '{}', 0)",
			 {merchant, id, alias, type}};
	cr_assert_eq(store_write(s, merchant, exec_fn, &e), 0);
}

static void add_item(const char *merchant, const char *id, const char *list, const char *type,
		     const char *value)
{
	char match[RISK_VALUE_LIST_VALUE_MAX + 1];
	cr_assert_eq(risk_value_list_normalize(type, value, match, sizeof(match)), 0);
	struct exec e = {"INSERT INTO radar_value_list_items (merchant_id, id, created, value_list,"
			 " value, match_value, created_by) VALUES ($1, $2, 1, $3, $4, $5, $1)",
			 {merchant, id, list, value, match}};
	cr_assert_eq(store_write(s, merchant, exec_fn, &e), 0);
}

struct lookup {
	const char *merchant;
	const struct risk_rules *rules;
	int64_t now;
	struct risk_rule_input *in;
	uint16_t *builtin;
	int rc;
};

static int lookup_fn(struct db *db, void *ctx)
{
	struct lookup *l = ctx;
	l->rc = risk_value_lists_lookup(db, l->merchant, l->rules, l->now, l->in, l->builtin);
	return 0;
}

static void lookup(const char *merchant, const struct risk_rules *r, int64_t now,
		   struct risk_rule_input *in)
{
	struct lookup l = {merchant, r, now, in, NULL, -1};
	cr_assert_eq(store_read(s, merchant, lookup_fn, &l), 0);
	cr_assert_eq(l.rc, 0);
}

static struct risk_rules *rules(const char *text)
{
	struct risk_rules *r = NULL;
	char err[200];
	cr_assert_eq(risk_rules_parse(text, strlen(text), &r, err, sizeof(err)), 0, "%s", err);
	return r;
}

Test(value_lists, lookup_finds_the_payments_values_in_the_merchants_lists)
{
	struct risk_rules *r = rules("block if fingerprint in @cards\n"
				     "block if card_country in @countries\n"
				     "review if billing_country in @countries\n"
				     "block if customer in @customers\n"
				     "block if ip_address in @strings\n");
	/* merchant 1 has lists; merchant 2 lists the same values under the same aliases */
	add_list("acct_1", "rsl_1", "cards", "card_fingerprint");
	add_list("acct_1", "rsl_2", "countries", "country");
	add_list("acct_1", "rsl_3", "customers", "customer_id");
	add_list("acct_1", "rsl_4", "unused", "card_fingerprint");
	add_item("acct_1", "rsli_1", "rsl_1", "card_fingerprint", "FpOne");
	add_item("acct_1", "rsli_2", "rsl_2", "country", "ng");
	add_item("acct_1", "rsli_3", "rsl_3", "customer_id", "cus_X");
	add_item("acct_1", "rsli_4", "rsl_4", "card_fingerprint", "FpTwo");
	add_list("acct_2", "rsl_9", "cards", "card_fingerprint");
	add_item("acct_2", "rsli_9", "rsl_9", "card_fingerprint", "FpTwo");

	struct risk_features f;
	risk_features_init(&f);
	memcpy(f.card_country, "NG", 3);
	memcpy(f.billing_country, "US", 3);
	struct risk_rule_input in = {.f = &f,
				     .fingerprint = "FpOne",
				     .risk_score = -1,
				     .ip_address = "10.0.0.1",
				     .customer = "cus_X"};
	risk_value_lists_note_created("acct_1");
	lookup("acct_1", r, 1000, &in);
	cr_assert_eq(in.list_hits[0], 1u << RISK_SLOT_FINGERPRINT);
	cr_assert_eq(in.list_hits[1], 1u << RISK_SLOT_CARD_COUNTRY, "country lists ignore case");
	cr_assert_eq(in.list_hits[2], 1u << RISK_SLOT_CUSTOMER);
	cr_assert_eq(in.list_hits[3], 0, "the merchant has no 'strings' list");
	struct risk_rule_match m;
	risk_rules_eval(r, &in, &m);
	cr_assert_eq(m.action, RISK_RULE_BLOCK);

	/* a fingerprint list compares exactly; another list's item does not count */
	in.fingerprint = "fpone";
	in.customer = "cus_x";
	memcpy(f.card_country, "FR", 3);
	lookup("acct_1", r, 1000, &in);
	for (int k = 0; k < RISK_RULE_MAX_LISTS; k++)
		cr_assert_eq(in.list_hits[k], 0, "list %d", k);
	in.fingerprint = "FpTwo"; /* only in acct_1's unused list and acct_2's cards */
	lookup("acct_1", r, 1000, &in);
	cr_assert_eq(in.list_hits[0], 0);

	/* merchant 2 sees its own list only */
	in.fingerprint = "FpOne";
	risk_value_lists_note_created("acct_2");
	lookup("acct_2", r, 1000, &in);
	cr_assert_eq(in.list_hits[0], 0);
	in.fingerprint = "FpTwo";
	lookup("acct_2", r, 1000, &in);
	cr_assert_eq(in.list_hits[0], 1u << RISK_SLOT_FINGERPRINT);
	risk_rules_free(r);
}

Test(value_lists, no_rules_with_lists_or_no_list_means_no_hits)
{
	struct risk_features f;
	risk_features_init(&f);
	struct risk_rule_input in = {.f = &f, .fingerprint = "FpOne", .risk_score = -1};
	in.list_hits[0] = 7; /* reset by the lookup */
	struct risk_rules *plain = rules("block if amount > 5\n");
	lookup("acct_3", plain, 1000, &in);
	cr_assert_eq(in.list_hits[0], 0);
	lookup("acct_3", NULL, 1000, &in);
	cr_assert_eq(in.list_hits[0], 0);
	risk_rules_free(plain);

	/* "no list" is remembered; the process's own create ends that at once */
	struct risk_rules *r = rules("block if fingerprint in @cards\n");
	lookup("acct_4", r, 5000, &in); /* reads: acct_4 has none */
	add_list("acct_4", "rsl_40", "cards", "card_fingerprint");
	add_item("acct_4", "rsli_40", "rsl_40", "card_fingerprint", "FpOne");
	lookup("acct_4", r, 5000, &in);
	cr_assert_eq(in.list_hits[0], 0, "rows made behind the process's back: not seen");
	/* SQLite is one process's store: "no list" stays until this process makes one (on
	 * PostgreSQL it would be read again after RISK_VALUE_LISTS_NEG_TTL_S) */
	lookup("acct_4", r, 5000 + 100 * RISK_VALUE_LISTS_NEG_TTL_S, &in);
	cr_assert_eq(in.list_hits[0], 0, "no query for a merchant known to have none");
	risk_value_lists_note_created("acct_4");
	lookup("acct_4", r, 5000, &in);
	cr_assert_eq(in.list_hits[0], 1u << RISK_SLOT_FINGERPRINT);

	lookup("acct_5", r, 6000, &in);
	add_list("acct_5", "rsl_50", "cards", "card_fingerprint");
	add_item("acct_5", "rsli_50", "rsl_50", "card_fingerprint", "FpOne");
	risk_value_lists_note_created("acct_5");
	lookup("acct_5", r, 6000, &in);
	cr_assert_eq(in.list_hits[0], 1u << RISK_SLOT_FINGERPRINT,
		     "this process's create: at once");
	risk_rules_free(r);
}

Test(value_lists, the_default_lists_are_looked_up_in_the_same_query)
{
	/* no rules file at all: the default rules alone */
	add_list("acct_6", "rsl_60", "card_fingerprint_blocklist", "card_fingerprint");
	add_item("acct_6", "rsli_60", "rsl_60", "card_fingerprint", "FpSix");
	add_list("acct_6", "rsl_61", "customer_id_allowlist", "customer_id");
	add_item("acct_6", "rsli_61", "rsl_61", "customer_id", "cus_ok");
	risk_value_lists_note_created("acct_6");
	struct risk_features f;
	risk_features_init(&f);
	struct risk_rule_input in = {.f = &f, .fingerprint = "FpSix", .risk_score = -1};
	uint16_t hits[RISK_RULE_MAX_LISTS];
	struct lookup l = {"acct_6", NULL, 7000, &in, hits, -1};
	cr_assert_eq(store_read(s, "acct_6", lookup_fn, &l), 0);
	cr_assert_eq(l.rc, 0);
	const struct risk_rules *b = risk_rules_builtin();
	for (size_t k = 0; k < risk_rules_value_list_count(b); k++) {
		const char *alias = risk_rules_value_list(b, k, NULL);
		bool want = strcmp(alias, "card_fingerprint_blocklist") == 0;
		cr_assert_eq(hits[k] != 0, want, "%s", alias);
	}
	struct risk_rule_match m;
	risk_rules_eval_with_builtin(NULL, &in, hits, &m);
	cr_assert_eq(m.action, RISK_RULE_BLOCK);
	in.customer = "cus_ok";
	cr_assert_eq(store_read(s, "acct_6", lookup_fn, &l), 0);
	risk_rules_eval_with_builtin(NULL, &in, hits, &m);
	cr_assert_eq(m.action, RISK_RULE_ALLOW, "the default allow list wins");
	/* another merchant with the same card: nothing */
	struct lookup l2 = {"acct_7", NULL, 7000, &in, hits, -1};
	cr_assert_eq(store_read(s, "acct_7", lookup_fn, &l2), 0);
	for (int k = 0; k < RISK_RULE_MAX_LISTS; k++)
		cr_assert_eq(hits[k], 0);
}

Test(value_lists, card_bin_email_and_domain_slots_are_looked_up_by_their_lists_types)
{
	struct risk_rules *r = rules("block if card_bin in @bins\n"
				     "block if email in @emails\n"
				     "block if email_domain in @domains\n");
	add_list("acct_8", "rsl_80", "bins", "card_bin");
	add_item("acct_8", "rsli_80", "rsl_80", "card_bin", "424242");
	add_list("acct_8", "rsl_81", "emails", "email");
	add_item("acct_8", "rsli_81", "rsl_81", "email", "Jenny@Example.com");
	add_list("acct_8", "rsl_82", "domains", "string");
	add_item("acct_8", "rsli_82", "rsl_82", "string", "Spam.Test");
	/* the default lists of the same fields, looked up in the same query */
	add_list("acct_8", "rsl_83", "email_domain_blocklist", "string");
	add_item("acct_8", "rsli_83", "rsl_83", "string", "example.com");
	add_list("acct_8", "rsl_84", "card_bin_allowlist", "card_bin");
	add_item("acct_8", "rsli_84", "rsl_84", "card_bin", "555555");
	risk_value_lists_note_created("acct_8");
	struct risk_features f;
	risk_features_init(&f);
	struct risk_rule_input in = {
	    .f = &f, .risk_score = -1, .card_bin = "424242", .email = "JENNY@example.COM"};
	uint16_t hits[RISK_RULE_MAX_LISTS];
	struct lookup l = {"acct_8", r, 8000, &in, hits, -1};
	cr_assert_eq(store_read(s, "acct_8", lookup_fn, &l), 0);
	cr_assert_eq(l.rc, 0);
	cr_assert_eq(in.list_hits[0], 1u << RISK_SLOT_CARD_BIN);
	cr_assert_eq(in.list_hits[1], 1u << RISK_SLOT_EMAIL, "email lists ignore case");
	cr_assert_eq(in.list_hits[2], 0);
	const struct risk_rules *b = risk_rules_builtin();
	for (size_t k = 0; k < risk_rules_value_list_count(b); k++) {
		const char *alias = risk_rules_value_list(b, k, NULL);
		uint16_t want = strcmp(alias, "email_domain_blocklist") == 0
				    ? (uint16_t)(1u << RISK_SLOT_EMAIL_DOMAIN)
				    : 0;
		cr_assert_eq(hits[k], want, "%s", alias);
	}
	in.email = "x@spam.TEST";
	in.card_bin = "555555";
	cr_assert_eq(store_read(s, "acct_8", lookup_fn, &l), 0);
	cr_assert_eq(in.list_hits[0], 0);
	cr_assert_eq(in.list_hits[1], 0);
	cr_assert_eq(in.list_hits[2], 1u << RISK_SLOT_EMAIL_DOMAIN, "string lists ignore case");
	struct risk_rule_match m;
	risk_rules_eval_with_builtin(r, &in, hits, &m);
	cr_assert_eq(m.action, RISK_RULE_ALLOW, "card_bin_allowlist beats the file's block");
	/* another merchant: nothing */
	struct lookup l2 = {"acct_9", r, 8000, &in, hits, -1};
	cr_assert_eq(store_read(s, "acct_9", lookup_fn, &l2), 0);
	for (int k = 0; k < RISK_RULE_MAX_LISTS; k++)
		cr_assert_eq(in.list_hits[k] | hits[k], 0);
	risk_rules_free(r);
}

struct cemail {
	const char *merchant;
	const struct risk_rules *rules;
	const char *customer;
	char out[64];
	int rc;
};

static int cemail_fn(struct db *db, void *ctx)
{
	struct cemail *c = ctx;
	memset(c->out, 'x', sizeof(c->out));
	c->rc = risk_value_lists_customer_email(db, c->merchant, c->rules, 9000, c->customer,
						c->out, sizeof(c->out));
	return 0;
}

static void add_customer(const char *merchant, const char *id, const char *email)
{
	struct exec e = {"INSERT INTO customers (merchant_id, id, created, email, invoice_prefix)"
			 " VALUES ($1, $2, 1, $3, 'ABC')",
			 {merchant, id, email}};
	cr_assert_eq(store_write(s, merchant, exec_fn, &e), 0);
}

Test(value_lists, the_customers_email_is_read_only_when_a_rule_may_compare_it)
{
	add_customer("acct_10", "cus_a", "Ann@Example.com");
	add_customer("acct_11", "cus_a", "other@example.com");
	struct risk_rules *emails = rules("block if email_domain == example.com\n");
	struct risk_rules *plain = rules("block if amount > 5\n");
	/* a rules file that reads email: read, for this merchant's customer only */
	struct cemail c = {"acct_10", emails, "cus_a", "", -1};
	cr_assert_eq(store_read(s, "acct_10", cemail_fn, &c), 0);
	cr_assert_eq(c.rc, 0);
	cr_assert_str_eq(c.out, "Ann@Example.com");
	c.customer = "cus_none";
	cr_assert_eq(store_read(s, "acct_10", cemail_fn, &c), 0);
	cr_assert_str_eq(c.out, "");
	c.customer = NULL;
	cr_assert_eq(store_read(s, "acct_10", cemail_fn, &c), 0);
	cr_assert_str_eq(c.out, "");
	/* no rule reads it and the merchant has no list: not read */
	c.customer = "cus_a";
	c.rules = plain;
	cr_assert_eq(store_read(s, "acct_10", cemail_fn, &c), 0);
	cr_assert_eq(c.rc, 0);
	cr_assert_str_eq(c.out, "");
	c.rules = NULL;
	cr_assert_eq(store_read(s, "acct_10", cemail_fn, &c), 0);
	cr_assert_str_eq(c.out, "");
	/* with a value list the default rules may read it */
	add_list("acct_10", "rsl_100", "email_blocklist", "email");
	risk_value_lists_note_created("acct_10");
	cr_assert_eq(store_read(s, "acct_10", cemail_fn, &c), 0);
	cr_assert_str_eq(c.out, "Ann@Example.com");
	struct cemail c11 = {"acct_11", emails, "cus_a", "", -1};
	cr_assert_eq(store_read(s, "acct_11", cemail_fn, &c11), 0);
	cr_assert_str_eq(c11.out, "other@example.com");
	/* an email that does not fit is unknown */
	char longer[80];
	memset(longer, 'a', sizeof(longer));
	memcpy(longer + 60, "@example.com", 13);
	add_customer("acct_10", "cus_long", longer);
	c.customer = "cus_long";
	c.rules = emails;
	cr_assert_eq(store_read(s, "acct_10", cemail_fn, &c), 0);
	cr_assert_eq(c.rc, 0);
	cr_assert_str_eq(c.out, "");
	risk_rules_free(emails);
	risk_rules_free(plain);
}
