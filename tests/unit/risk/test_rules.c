#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "risk/rules.h"

static struct risk_rules *parse_ok(const char *text)
{
	struct risk_rules *r = NULL;
	char err[256] = "";
	int rc = risk_rules_parse(text, strlen(text), &r, err, sizeof(err));
	cr_assert_eq(rc, 0, "parse failed: %s", err);
	cr_assert_not_null(r);
	return r;
}

/* Asserts that text fails to parse with an error containing `want`. */
static void parse_fails(const char *text, const char *want)
{
	struct risk_rules *r = NULL;
	char err[256] = "";
	int rc = risk_rules_parse(text, strlen(text), &r, err, sizeof(err));
	cr_assert_lt(rc, 0, "expected failure for: %s", text);
	cr_assert_null(r);
	cr_assert(strstr(err, want) != NULL, "error '%s' lacks '%s'", err, want);
}

static struct risk_features plain(void)
{
	struct risk_features f;
	risk_features_init(&f);
	f.amount_usd_minor = 2500;
	f.mcc = 5411;
	f.hour_utc = 14;
	f.card_brand = RISK_BRAND_VISA;
	f.funding = RISK_FUNDING_CREDIT;
	memcpy(f.card_country, "US", 3);
	memcpy(f.billing_country, "US", 3);
	f.card_attempts_30d = 10;
	f.card_declines_30d = 1;
	return f;
}

static enum risk_rule_action eval(const struct risk_rules *r, const struct risk_features *f,
				  const char *fp, int score, int *ret_line)
{
	struct risk_rule_input in = {.f = f, .fingerprint = fp, .risk_score = score};
	struct risk_rule_match m;
	risk_rules_eval(r, &in, &m);
	if (ret_line)
		*ret_line = m.line;
	return m.action;
}

static const char sample_rules[] =
    "# merchant rules\n"
    "list trusted = fp_good1, fp_good2\n"
    "\n"
    "allow  if fingerprint in @trusted\n"
    "block  if card_velocity_hour > 10\n"
    "block  if card_country in (NG, ru) and amount >= 50000\n"
    "review if amount > 100000   # big tickets get 3DS\n"
    "review if decline_rate >= 0.5\n"
    "block  if risk_score >= 90\n"
    "review if billing_country != US and first_time_card == true\n"
    "block  if card_brand == american_express and funding == prepaid\n";

Test(risk_rules, parses_sample)
{
	struct risk_rules *r = parse_ok(sample_rules);
	cr_assert_eq(risk_rules_count(r), 8);
	risk_rules_free(r);
}

Test(risk_rules, evaluates_each_rule)
{
	struct risk_rules *r = parse_ok(sample_rules);
	struct risk_features f = plain();
	int line;
	cr_assert_eq(eval(r, &f, "fp_x", 10, &line), RISK_RULE_NONE);
	cr_assert_eq(line, 0);

	f.card_count_1h = 11;
	cr_assert_eq(eval(r, &f, "fp_x", 10, &line), RISK_RULE_BLOCK);
	cr_assert_eq(line, 5);
	f.card_count_1h = 10; /* > is strict */
	cr_assert_eq(eval(r, &f, "fp_x", 10, NULL), RISK_RULE_NONE);

	f = plain();
	memcpy(f.card_country, "RU", 3);
	f.amount_usd_minor = 49999;
	cr_assert_eq(eval(r, &f, NULL, -1, NULL), RISK_RULE_NONE);
	f.amount_usd_minor = 50000;
	cr_assert_eq(eval(r, &f, NULL, -1, &line), RISK_RULE_BLOCK);
	cr_assert_eq(line, 6);

	f = plain();
	f.amount_usd_minor = 100001;
	cr_assert_eq(eval(r, &f, NULL, -1, &line), RISK_RULE_REVIEW);
	cr_assert_eq(line, 7);

	f = plain();
	f.card_declines_30d = 5; /* 5 / 10 */
	cr_assert_eq(eval(r, &f, NULL, -1, &line), RISK_RULE_REVIEW);
	cr_assert_eq(line, 8);

	f = plain();
	cr_assert_eq(eval(r, &f, NULL, 90, &line), RISK_RULE_BLOCK);
	cr_assert_eq(line, 9);
	cr_assert_eq(eval(r, &f, NULL, 89, NULL), RISK_RULE_NONE);

	f = plain();
	f.card_brand = RISK_BRAND_AMEX;
	f.funding = RISK_FUNDING_PREPAID;
	cr_assert_eq(eval(r, &f, NULL, -1, &line), RISK_RULE_BLOCK);
	cr_assert_eq(line, 11);
	risk_rules_free(r);
}

Test(risk_rules, allow_beats_block_beats_review)
{
	struct risk_rules *r = parse_ok(sample_rules);
	struct risk_features f = plain();
	f.card_count_1h = 50;	     /* block rule */
	f.amount_usd_minor = 200000; /* review rule */
	cr_assert_eq(eval(r, &f, "fp_good2", 99, NULL), RISK_RULE_ALLOW);
	cr_assert_eq(eval(r, &f, "FP_GOOD2", 99, NULL), RISK_RULE_BLOCK); /* exact match */
	f.card_count_1h = 0;
	cr_assert_eq(eval(r, &f, "fp_other", 10, NULL), RISK_RULE_REVIEW);
	risk_rules_free(r);
}

Test(risk_rules, unknown_values_match_nothing)
{
	struct risk_rules *r = parse_ok(sample_rules);
	struct risk_features f = plain();
	f.first_time_card = true;
	f.billing_country[0] = '\0'; /* unknown: != US must not fire */
	cr_assert_eq(eval(r, &f, NULL, -1, NULL), RISK_RULE_NONE);
	memcpy(f.billing_country, "FR", 3);
	cr_assert_eq(eval(r, &f, NULL, -1, NULL), RISK_RULE_REVIEW);
	/* risk_score -1 (not scored) never satisfies a risk_score condition */
	struct risk_rules *r2 = parse_ok("block if risk_score < 50\n");
	struct risk_features g = plain();
	cr_assert_eq(eval(r2, &g, NULL, -1, NULL), RISK_RULE_NONE);
	cr_assert_eq(eval(r2, &g, NULL, 10, NULL), RISK_RULE_BLOCK);
	risk_rules_free(r2);
	risk_rules_free(r);
}

Test(risk_rules, no_rules_means_none)
{
	struct risk_features f = plain();
	cr_assert_eq(eval(NULL, &f, NULL, 99, NULL), RISK_RULE_NONE);
	struct risk_rules *r = parse_ok("# only a comment\n\n   \n");
	cr_assert_eq(risk_rules_count(r), 0);
	cr_assert_eq(eval(r, &f, NULL, 99, NULL), RISK_RULE_NONE);
	risk_rules_free(r);
}

Test(risk_rules, errors_name_the_line)
{
	parse_fails("block if amount > 5\n\nblock if speed > 3\n", "line 3: unknown field 'speed'");
	parse_fails("deny if amount > 5\n", "line 1: unknown action 'deny'");
	parse_fails("block when amount > 5\n", "line 1: expected 'if'");
	parse_fails("block if amount >> 5\n", "line 1:");
	parse_fails("block if amount > 5.5\n", "'5.5' is not an integer");
	parse_fails("block if amount > 99999999999999999999\n", "is not an integer");
	parse_fails("block if amount in (1, 2)\n", "'in' needs a text field");
	parse_fails("block if card_country == USA\n", "not a two-letter country code");
	parse_fails("block if card_brand == bogus\n", "unknown card brand");
	parse_fails("block if funding in (credit, gold)\n", "unknown funding 'gold'");
	parse_fails("block if decline_rate > 1.5\n", "not a rate between 0 and 1");
	parse_fails("block if first_time_card > 0\n", "only supports == and !=");
	parse_fails("block if card_country > US\n", "only supports ==, != and in");
	parse_fails("block if fingerprint in @nope\nlist nope = a\n",
		    "line 2: list 'nope' is used above as a value list");
	parse_fails("block if fingerprint in (a, b\n", "expected ',' or ')'");
	parse_fails("block if amount > 5 or mcc == 1\n", "expected 'and'");
	parse_fails("block if amount > 5 and\n", "expected a field name");
	parse_fails("block if amount >\n", "expected a value");
	parse_fails("list a = x\nlist a = y\n", "line 2: list 'a' is already defined");
	parse_fails("list a x\n", "expected '='");
	parse_fails("block if amount > 5 $\n", "unexpected character '$'");
	parse_fails("list cc = XX, 1\nblock if card_country in @cc\n", "line 2:");
}

Test(risk_rules, bounds_are_enforced)
{
	/* 101 rules */
	size_t cap = 64 * 120;
	char *text = malloc(cap);
	cr_assert_not_null(text);
	size_t off = 0;
	for (int i = 0; i < RISK_RULES_MAX + 1; i++)
		off += (size_t)snprintf(text + off, cap - off, "block if amount > %d\n", i);
	struct risk_rules *r = NULL;
	char err[256];
	cr_assert_lt(risk_rules_parse(text, off, &r, err, sizeof(err)), 0);
	cr_assert(strstr(err, "line 101: more than 100 rules") != NULL, "%s", err);
	/* exactly 100 is fine */
	size_t cut = 0;
	for (int lines = 0; lines < RISK_RULES_MAX; cut++)
		lines += text[cut] == '\n';
	cr_assert_eq(risk_rules_parse(text, cut, &r, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(risk_rules_count(r), 100);
	risk_rules_free(r);
	free(text);

	parse_fails("block if amount > 1 and amount > 2 and amount > 3 and amount > 4 and amount "
		    "> 5 and amount > 6 and amount > 7 and amount > 8 and amount > 9\n",
		    "more than 8 conditions");
	char longline[RISK_RULE_LINE_MAX + 20];
	memset(longline, ' ', sizeof(longline) - 1);
	longline[sizeof(longline) - 1] = '\0';
	parse_fails(longline, "line 1: longer than 1024 bytes");
	char word[200];
	memset(word, 'a', sizeof(word) - 1);
	word[sizeof(word) - 1] = '\0';
	char line[300];
	snprintf(line, sizeof(line), "allow if fingerprint == %s\n", word);
	parse_fails(line, "word longer than 63 bytes");
	/* NUL inside the text */
	static const char nul[] = "block if amount > 1\nblock\0 if amount > 2\n";
	r = NULL;
	cr_assert_lt(risk_rules_parse(nul, sizeof(nul) - 1, &r, err, sizeof(err)), 0);
	cr_assert(strstr(err, "line 2") != NULL, "%s", err);
}

Test(risk_rules, load_file)
{
	char dir[] = "/tmp/risk_rules_XXXXXX";
	cr_assert_not_null(mkdtemp(dir));
	char path[64];
	snprintf(path, sizeof(path), "%s/rules.txt", dir);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs("review if amount > 100000\nblock if ip_velocity_hour >= 20\n", f);
	fclose(f);
	struct risk_rules *r = NULL;
	char err[512];
	cr_assert_eq(risk_rules_load_file(path, &r, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(risk_rules_count(r), 2);
	struct risk_features feat = plain();
	feat.ip_count_1h = 20;
	cr_assert_eq(eval(r, &feat, NULL, -1, NULL), RISK_RULE_BLOCK);
	risk_rules_free(r);

	f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs("review if amount > 100000\nblock if ip_velocity > 20\n", f);
	fclose(f);
	r = NULL;
	cr_assert_lt(risk_rules_load_file(path, &r, err, sizeof(err)), 0);
	cr_assert(strstr(err, "rules.txt: line 2: unknown field 'ip_velocity'") != NULL, "%s", err);
	unlink(path);
	rmdir(dir);

	cr_assert_lt(risk_rules_load_file("/nonexistent/rules", &r, err, sizeof(err)), 0);
	cr_assert(strstr(err, "cannot open rules file") != NULL, "%s", err);
}

Test(risk_rules, action_names)
{
	cr_assert_str_eq(risk_rule_action_name(RISK_RULE_ALLOW), "allow");
	cr_assert_str_eq(risk_rule_action_name(RISK_RULE_BLOCK), "block");
	cr_assert_str_eq(risk_rule_action_name(RISK_RULE_REVIEW), "review");
	cr_assert_str_eq(risk_rule_action_name(RISK_RULE_NONE), "none");
}

/* ---- merchants' value lists: `in @alias` with no list of that name in the file ---- */

Test(risk_rules, value_lists_are_named_by_alias)
{
	struct risk_rules *r = parse_ok("list trusted = fp_a\n"
					"allow if fingerprint in @trusted\n"
					"block if card_fingerprint in @blocked_cards\n"
					"block if card_country in @blocked_countries\n"
					"review if billing_country in @blocked_countries\n"
					"block if customer in @bad_customers\n"
					"block if ip_address in @bad_ips and amount > 100\n");
	cr_assert_eq(risk_rules_value_list_count(r), 4);
	uint32_t slots = 0;
	cr_assert_str_eq(risk_rules_value_list(r, 0, &slots), "blocked_cards");
	cr_assert_eq(slots, 1u << RISK_SLOT_FINGERPRINT);
	cr_assert_str_eq(risk_rules_value_list(r, 1, &slots), "blocked_countries");
	cr_assert_eq(slots, (1u << RISK_SLOT_CARD_COUNTRY) | (1u << RISK_SLOT_BILLING_COUNTRY));
	cr_assert_str_eq(risk_rules_value_list(r, 2, &slots), "bad_customers");
	cr_assert_eq(slots, 1u << RISK_SLOT_CUSTOMER);
	cr_assert_str_eq(risk_rules_value_list(r, 3, &slots), "bad_ips");
	cr_assert_eq(slots, 1u << RISK_SLOT_IP_ADDRESS);
	cr_assert_null(risk_rules_value_list(r, 4, &slots));
	cr_assert(risk_rules_uses_value_list(r, "bad_ips"));
	cr_assert(!risk_rules_uses_value_list(r, "trusted")); /* the file's own list */
	cr_assert(!risk_rules_uses_value_list(r, "other"));
	cr_assert(!risk_rules_uses_value_list(NULL, "bad_ips"));
	cr_assert_eq(risk_rules_value_list_count(NULL), 0);
	risk_rules_free(r);
}

Test(risk_rules, value_list_hits_decide_the_conditions)
{
	struct risk_rules *r = parse_ok("allow if fingerprint in @trusted_cards\n"
					"block if card_fingerprint in @blocked_cards\n"
					"review if billing_country in @risky_countries\n"
					"block if customer in @bad_customers and amount > 1000\n");
	struct risk_features f = plain();
	struct risk_rule_input in = {.f = &f,
				     .fingerprint = "fp1",
				     .risk_score = -1,
				     .ip_address = "10.0.0.1",
				     .customer = "cus_1"};
	struct risk_rule_match m;
	risk_rules_eval(r, &in, &m);
	cr_assert_eq(m.action, RISK_RULE_NONE, "no list holds anything");
	in.list_hits[1] = 1u << RISK_SLOT_FINGERPRINT; /* blocked_cards holds the card */
	risk_rules_eval(r, &in, &m);
	cr_assert_eq(m.action, RISK_RULE_BLOCK);
	cr_assert_eq(m.line, 2);
	in.list_hits[0] = 1u << RISK_SLOT_FINGERPRINT; /* and trusted_cards: allow wins */
	risk_rules_eval(r, &in, &m);
	cr_assert_eq(m.action, RISK_RULE_ALLOW);
	memset(in.list_hits, 0, sizeof(in.list_hits));
	/* a hit for another slot does not make a condition on this one true */
	in.list_hits[2] = 1u << RISK_SLOT_CARD_COUNTRY;
	risk_rules_eval(r, &in, &m);
	cr_assert_eq(m.action, RISK_RULE_NONE);
	in.list_hits[2] = 1u << RISK_SLOT_BILLING_COUNTRY;
	risk_rules_eval(r, &in, &m);
	cr_assert_eq(m.action, RISK_RULE_REVIEW);
	memset(in.list_hits, 0, sizeof(in.list_hits));
	in.list_hits[3] = 1u << RISK_SLOT_CUSTOMER;
	risk_rules_eval(r, &in, &m);
	cr_assert_eq(m.action, RISK_RULE_BLOCK);
	cr_assert_eq(m.line, 4);
	/* a payment without a customer matches no customer condition, whatever the hits */
	in.customer = NULL;
	risk_rules_eval(r, &in, &m);
	cr_assert_eq(m.action, RISK_RULE_NONE);
	risk_rules_free(r);
}

Test(risk_rules, ip_address_and_customer_fields)
{
	struct risk_rules *r = parse_ok("block if ip_address == 10.0.0.9\n"
					"review if customer_id in (cus_A, cus_b)\n");
	struct risk_features f = plain();
	struct risk_rule_input in = {.f = &f, .risk_score = -1, .ip_address = "10.0.0.1"};
	cr_assert_str_eq(risk_rule_slot_value(&in, RISK_SLOT_IP_ADDRESS), "10.0.0.1");
	cr_assert_null(risk_rule_slot_value(&in, RISK_SLOT_CUSTOMER));
	cr_assert_str_eq(risk_rule_slot_value(&in, RISK_SLOT_CARD_COUNTRY), "US");
	cr_assert_str_eq(risk_rule_slot_value(&in, RISK_SLOT_BRAND), "visa");
	cr_assert_null(risk_rule_slot_value(&in, RISK_SLOT_COUNT));
	struct risk_rule_match m;
	risk_rules_eval(r, &in, &m);
	cr_assert_eq(m.action, RISK_RULE_NONE);
	in.ip_address = "10.0.0.9";
	risk_rules_eval(r, &in, &m);
	cr_assert_eq(m.action, RISK_RULE_BLOCK);
	in.ip_address = NULL;
	in.customer = "cus_B"; /* customer ids compare exactly */
	risk_rules_eval(r, &in, &m);
	cr_assert_eq(m.action, RISK_RULE_NONE);
	in.customer = "cus_b";
	risk_rules_eval(r, &in, &m);
	cr_assert_eq(m.action, RISK_RULE_REVIEW);
	risk_rules_free(r);
}

Test(risk_rules, value_lists_count_against_the_list_bound)
{
	char text[4096];
	size_t off = 0;
	for (int i = 0; i <= RISK_RULE_MAX_LISTS; i++)
		off += (size_t)snprintf(text + off, sizeof(text) - off,
					"block if fingerprint in @list_%d\n", i);
	parse_fails(text, "more than 16 lists");
	/* the same alias named twice is one list */
	struct risk_rules *r =
	    parse_ok("block if fingerprint in @a\nreview if fingerprint in @a\n");
	cr_assert_eq(risk_rules_value_list_count(r), 1);
	risk_rules_free(r);
}

Test(risk_rules, manual_review_comes_after_every_other_action)
{
	struct risk_rules *r = parse_ok("manual_review if amount > 1000\n"
					"review if amount > 5000\n"
					"block if amount > 9000\n"
					"allow if amount == 9999\n");
	struct risk_features f = plain();
	int line = 0;
	f.amount_usd_minor = 500;
	cr_assert_eq(eval(r, &f, NULL, -1, &line), RISK_RULE_NONE);
	f.amount_usd_minor = 2000;
	cr_assert_eq(eval(r, &f, NULL, -1, &line), RISK_RULE_MANUAL_REVIEW);
	cr_assert_eq(line, 1);
	f.amount_usd_minor = 6000;
	cr_assert_eq(eval(r, &f, NULL, -1, &line), RISK_RULE_REVIEW);
	f.amount_usd_minor = 9500;
	cr_assert_eq(eval(r, &f, NULL, -1, &line), RISK_RULE_BLOCK);
	f.amount_usd_minor = 9999;
	cr_assert_eq(eval(r, &f, NULL, -1, &line), RISK_RULE_ALLOW);
	cr_assert_str_eq(risk_rule_action_name(RISK_RULE_MANUAL_REVIEW), "manual_review");
	risk_rules_free(r);
	parse_fails("manual_reviews if amount > 1\n", "manual_review");
}

Test(risk_rules, stripes_default_rules_read_the_default_lists)
{
	const struct risk_rules *b = risk_rules_builtin();
	cr_assert_not_null(b);
	cr_assert_eq(risk_rules_builtin(), b, "parsed once");
	cr_assert_eq(risk_rules_count(b), 14);
	cr_assert_eq(risk_rules_value_list_count(b), 14);
	cr_assert(risk_rules_uses_value_list(b, "card_bin_blocklist"));
	cr_assert(risk_rules_uses_value_list(b, "card_bin_allowlist"));
	cr_assert(risk_rules_uses_value_list(b, "email_blocklist"));
	cr_assert(risk_rules_uses_value_list(b, "email_allowlist"));
	cr_assert(risk_rules_uses_value_list(b, "email_domain_blocklist"));
	cr_assert(risk_rules_uses_value_list(b, "email_domain_allowlist"));
	cr_assert(risk_rules_uses_value_list(b, "card_fingerprint_blocklist"));
	cr_assert(risk_rules_uses_value_list(b, "customer_id_allowlist"));
	cr_assert(risk_rules_uses_value_list(b, "client_ip_address_blocklist"));
	cr_assert(risk_rules_uses_value_list(b, "card_country_blocklist"));

	struct risk_rules *r = parse_ok("block if amount > 1000\nreview if amount > 500\n");
	struct risk_features f = plain();
	f.amount_usd_minor = 700;
	struct risk_rule_input in = {.f = &f, .fingerprint = "fp", .risk_score = -1};
	uint16_t hits[RISK_RULE_MAX_LISTS] = {0};
	struct risk_rule_match m;
	risk_rules_eval_with_builtin(r, &in, hits, &m);
	cr_assert_eq(m.action, RISK_RULE_REVIEW, "no default list hit: the file decides");
	cr_assert_eq(m.line, 2);
	/* card_fingerprint_blocklist (the default rules' eighth list) holds the card */
	uint32_t slots = 0;
	cr_assert_str_eq(risk_rules_value_list(b, 7, &slots), "card_fingerprint_blocklist");
	hits[7] = 1u << RISK_SLOT_FINGERPRINT;
	risk_rules_eval_with_builtin(r, &in, hits, &m);
	cr_assert_eq(m.action, RISK_RULE_BLOCK, "a default block beats the file's review");
	cr_assert_eq(m.line, 0);
	cr_assert_eq(m.rule_index, -1);
	risk_rules_eval_with_builtin(NULL, &in, hits, &m);
	cr_assert_eq(m.action, RISK_RULE_BLOCK, "without a rules file too");
	/* a default allow list beats the file's block */
	memset(hits, 0, sizeof(hits));
	cr_assert_str_eq(risk_rules_value_list(b, 0, NULL), "card_fingerprint_allowlist");
	hits[0] = 1u << RISK_SLOT_FINGERPRINT;
	f.amount_usd_minor = 5000;
	risk_rules_eval_with_builtin(r, &in, hits, &m);
	cr_assert_eq(m.action, RISK_RULE_ALLOW);
	risk_rules_eval_with_builtin(r, &in, NULL, &m);
	cr_assert_eq(m.action, RISK_RULE_BLOCK);
	cr_assert_eq(m.line, 1);
	risk_rules_free(r);
}

Test(risk_rules, card_bin_email_and_email_domain_fields)
{
	struct risk_rules *r =
	    parse_ok("block if card_bin == 424242\n"
		     "review if email == Jenny+Fraud@Example.com\n"
		     "manual_review if email_domain in (example.org, Spam.Test)\n"
		     "allow if email_domain == vip.example and card_bin in (555555)\n");
	struct risk_features f = plain();
	struct risk_rule_input in = {.f = &f, .risk_score = -1};
	struct risk_rule_match m;
	/* unknown BIN and email: no condition matches, not even != */
	cr_assert_null(risk_rule_slot_value(&in, RISK_SLOT_CARD_BIN));
	cr_assert_null(risk_rule_slot_value(&in, RISK_SLOT_EMAIL));
	cr_assert_null(risk_rule_slot_value(&in, RISK_SLOT_EMAIL_DOMAIN));
	risk_rules_eval(r, &in, &m);
	cr_assert_eq(m.action, RISK_RULE_NONE);

	in.card_bin = "424242";
	cr_assert_str_eq(risk_rule_slot_value(&in, RISK_SLOT_CARD_BIN), "424242");
	risk_rules_eval(r, &in, &m);
	cr_assert_eq(m.action, RISK_RULE_BLOCK);
	cr_assert_eq(m.line, 1);
	in.card_bin = "";
	risk_rules_eval(r, &in, &m);
	cr_assert_eq(m.action, RISK_RULE_NONE, "an empty BIN is unknown");

	in.email = "jenny+fraud@EXAMPLE.com"; /* emails compare without case */
	cr_assert_str_eq(risk_rule_slot_value(&in, RISK_SLOT_EMAIL_DOMAIN), "EXAMPLE.com");
	risk_rules_eval(r, &in, &m);
	cr_assert_eq(m.action, RISK_RULE_REVIEW);
	in.email = "jenny@example.com";
	risk_rules_eval(r, &in, &m);
	cr_assert_eq(m.action, RISK_RULE_NONE);
	in.email = "someone@spam.test";
	risk_rules_eval(r, &in, &m);
	cr_assert_eq(m.action, RISK_RULE_MANUAL_REVIEW);
	in.email = "someone@sub.spam.test"; /* the whole domain, not a suffix */
	risk_rules_eval(r, &in, &m);
	cr_assert_eq(m.action, RISK_RULE_NONE);
	/* no domain without an '@' and something after it */
	in.email = "spam.test";
	cr_assert_null(risk_rule_slot_value(&in, RISK_SLOT_EMAIL_DOMAIN));
	in.email = "a@";
	cr_assert_null(risk_rule_slot_value(&in, RISK_SLOT_EMAIL_DOMAIN));
	in.email = "a@b@vip.example"; /* the last '@' */
	cr_assert_str_eq(risk_rule_slot_value(&in, RISK_SLOT_EMAIL_DOMAIN), "vip.example");

	/* allow beats block across fields */
	in.email = "boss@VIP.example";
	in.card_bin = "555555";
	risk_rules_eval(r, &in, &m);
	cr_assert_eq(m.action, RISK_RULE_ALLOW);
	in.card_bin = "424242";
	risk_rules_eval(r, &in, &m);
	cr_assert_eq(m.action, RISK_RULE_BLOCK);
	cr_assert_eq(risk_rules_slots_read(r), (1u << RISK_SLOT_CARD_BIN) |
						   (1u << RISK_SLOT_EMAIL) |
						   (1u << RISK_SLOT_EMAIL_DOMAIN));
	cr_assert_eq(risk_rules_slots_read(NULL), 0);
	risk_rules_free(r);
}

Test(risk_rules, card_bin_and_email_values_are_checked)
{
	parse_fails("block if card_bin == 4242\n", "not a card BIN");
	parse_fails("block if card_bin == 42424242\n", "not a card BIN");
	parse_fails("block if card_bin in (424242, 4242x4)\n", "not a card BIN");
	parse_fails("block if card_bin > 424242\n", "only supports ==, != and in");
	parse_fails("block if email == jenny\n", "not an email address");
	parse_fails("block if email == a@b@c\n", "not an email address");
	parse_fails("block if email_domain == a@example.com\n", "not an email domain");
	/* '@' starts a list only at the start of a word */
	parse_fails("block if email in foo@bar\n", "expected '(' or '@list'");
	struct risk_rules *r = parse_ok("block if email in @bad_emails\n"
					"block if email_domain in @bad_domains\n"
					"block if card_bin in @bad_bins\n"
					"list words = a@b.c, z@y.x\n"
					"allow if email in @words\n");
	cr_assert_eq(risk_rules_value_list_count(r), 3);
	uint32_t slots = 0;
	cr_assert_str_eq(risk_rules_value_list(r, 0, &slots), "bad_emails");
	cr_assert_eq(slots, 1u << RISK_SLOT_EMAIL);
	cr_assert_str_eq(risk_rules_value_list(r, 1, &slots), "bad_domains");
	cr_assert_eq(slots, 1u << RISK_SLOT_EMAIL_DOMAIN);
	cr_assert_str_eq(risk_rules_value_list(r, 2, &slots), "bad_bins");
	cr_assert_eq(slots, 1u << RISK_SLOT_CARD_BIN);
	/* a value list's hit is a bit of the slot it was compared with */
	struct risk_features f = plain();
	struct risk_rule_input in = {
	    .f = &f, .risk_score = -1, .email = "x@y.z", .card_bin = "411111"};
	struct risk_rule_match m;
	in.list_hits[1] = 1u << RISK_SLOT_EMAIL; /* the email's bit on the domain list: no */
	risk_rules_eval(r, &in, &m);
	cr_assert_eq(m.action, RISK_RULE_NONE);
	in.list_hits[1] = 1u << RISK_SLOT_EMAIL_DOMAIN;
	risk_rules_eval(r, &in, &m);
	cr_assert_eq(m.action, RISK_RULE_BLOCK);
	cr_assert_eq(m.line, 2);
	in.list_hits[1] = 0;
	in.list_hits[2] = 1u << RISK_SLOT_CARD_BIN;
	risk_rules_eval(r, &in, &m);
	cr_assert_eq(m.line, 3);
	in.email = "A@B.C"; /* the file's own list, compared without case */
	risk_rules_eval(r, &in, &m);
	cr_assert_eq(m.action, RISK_RULE_ALLOW);
	risk_rules_free(r);
}
