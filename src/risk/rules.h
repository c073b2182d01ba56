/*
 * Merchant fraud rules (Radar-like), read from a small text file.
 *
 * Format, one statement per line; '#' starts a comment; blank lines are ignored:
 *
 *     list trusted_cards = fp_1a2b3c, fp_9z8y7x      # a named list of words
 *     allow  if fingerprint in @trusted_cards
 *     block  if card_velocity_hour > 10
 *     block  if card_country in (NG, RU) and amount >= 50000
 *     review if amount > 100000 and first_time_card == 1
 *     review if decline_rate >= 0.5
 *     block  if risk_score >= 90
 *
 * A rule is ACTION if COND [and COND]... with ACTION one of allow / block / review (review means
 * "challenge with 3-D Secure"). A condition is FIELD OP VALUE, OP one of > >= < <= == !=, or
 * FIELD in (A, B, …) / FIELD in @LIST for text fields. Numeric fields take integers (amounts are
 * USD-equivalent minor units, compared as int64, never as floats); decline_rate takes a decimal.
 * Text values are bare words ([A-Za-z0-9_.:-]); countries, brands and funding compare
 * case-insensitively, fingerprints exactly. A text field whose value is unknown (no billing
 * country, no fingerprint) matches no condition, not even !=; so does risk_score when the
 * attempt was not scored.
 *
 * Fields: amount, mcc, hour, weekday, currency_is_usd, card_brand, funding, card_country,
 * billing_country, card_velocity_hour, card_velocity_day, card_amount_hour, card_amount_day,
 * customer_velocity_hour, customer_velocity_day, customer_amount_hour, customer_amount_day,
 * decline_rate, card_attempts_30d, card_declines_30d, first_time_card, ip_velocity_hour,
 * fingerprint (card_fingerprint), risk_score, ip_address (the client's), customer (customer_id,
 * compared exactly), card_bin (the card number's first six digits), email (the payment's
 * receipt_email, else its card's billing email, else its customer's email, as Stripe's :email:)
 * and email_domain (that email's part after the '@'); the model's column names (card_count_1h …)
 * are accepted as aliases. A word may hold '@' and '+' after its first character (emails); a
 * card_bin value is six digits, an email value has one '@', an email_domain value none; emails
 * and domains compare case-insensitively.
 *
 * Value lists: `FIELD in @ALIAS` where no `list ALIAS = …` line precedes it names the merchant's
 * Radar value list of that alias (POST /v1/radar/value_lists, per merchant, changed at run time):
 * the caller finds, before evaluating, which of the payment's values are in which of those lists
 * (risk/value_lists.h fills risk_rule_input.list_hits); a merchant without such a list matches
 * nothing. A later `list ALIAS = …` line of the same name is an error.
 *
 * Precedence follows Radar: if any allow rule matches, the attempt is allowed (rules and model
 * alike are skipped); otherwise the first matching block rule blocks; otherwise the first
 * matching review rule asks for 3-D Secure; otherwise the first matching manual_review rule
 * places the payment in review (Stripe Radar's "Review" action: the payment goes through, a
 * review is opened on its charge, outcome.type manual_review; Tender's `review` already meant
 * 3-D Secure); otherwise no rule applies and the model decides.
 *
 * Bounds: at most 100 rules, 8 conditions per rule, 16 lists (inline lists count), 256 words
 * per list, 64 bytes per word, 1024 bytes per line, 1 MiB per file.
 */
#ifndef TENDER_RISK_RULES_H
#define TENDER_RISK_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "risk/features.h"

#define RISK_RULES_MAX 100
#define RISK_RULE_MAX_CONDS 8
#define RISK_RULE_MAX_LISTS 16
#define RISK_RULE_MAX_LIST_ITEMS 256
#define RISK_RULE_WORD_MAX 64
#define RISK_RULE_LINE_MAX 1024
#define RISK_RULES_FILE_MAX (1u << 20)

enum risk_rule_action {
	RISK_RULE_NONE = 0,
	RISK_RULE_ALLOW,
	RISK_RULE_BLOCK,
	RISK_RULE_REVIEW,
	RISK_RULE_MANUAL_REVIEW,
};

struct risk_rules;

/* The payment's text values a value list can hold (risk_rule_slot_value). */
enum risk_rule_slot {
	RISK_SLOT_FINGERPRINT,
	RISK_SLOT_CARD_COUNTRY,
	RISK_SLOT_BILLING_COUNTRY,
	RISK_SLOT_BRAND,
	RISK_SLOT_FUNDING,
	RISK_SLOT_IP_ADDRESS,
	RISK_SLOT_CUSTOMER,
	RISK_SLOT_CARD_BIN,
	RISK_SLOT_EMAIL,
	RISK_SLOT_EMAIL_DOMAIN,
	RISK_SLOT_COUNT,
};

/* What a rule can look at. */
struct risk_rule_input {
	const struct risk_features *f;
	const char *fingerprint; /* card fingerprint, NULL if unknown */
	int risk_score;		 /* 0..100, or -1 when the model did not score the attempt */
	const char *ip_address;	 /* the client's, NULL if unknown */
	const char *customer;	 /* cus_…, NULL if none */
	const char *card_bin;	 /* the card's first six digits, NULL if unknown */
	const char *email;	 /* the payment's email (rules' email; email_domain its domain) */
	/* value list k (risk_rules_value_list) holds slot s's value: bit s of list_hits[k] */
	uint16_t list_hits[RISK_RULE_MAX_LISTS];
};

struct risk_rule_match {
	enum risk_rule_action action; /* RISK_RULE_NONE when no rule matched */
	int rule_index;		      /* 0-based among rules, -1 when none */
	int line;		      /* 1-based line in the source, 0 when none */
};

/* Parses rules from text (len bytes, need not be NUL-terminated). On error returns -EINVAL and
 * err holds "line N: reason". */
int risk_rules_parse(const char *text, size_t len, struct risk_rules **ret, char *err,
		     size_t errlen);
int risk_rules_load_file(const char *path, struct risk_rules **ret, char *err, size_t errlen);
void risk_rules_free(struct risk_rules *r);
size_t risk_rules_count(const struct risk_rules *r);

/* The merchants' value lists the rules name (`in @alias` with no list of that name in the file):
 * how many, the k-th one's alias (NULL past the end) with the slots compared with it
 * (bit s = enum risk_rule_slot s), and whether an alias is among them. */
size_t risk_rules_value_list_count(const struct risk_rules *r);
const char *risk_rules_value_list(const struct risk_rules *r, size_t k, uint32_t *ret_slots);
bool risk_rules_uses_value_list(const struct risk_rules *r, const char *alias);
/* The slots (bit s = enum risk_rule_slot s) any of r's conditions reads (0 for NULL r). */
uint32_t risk_rules_slots_read(const struct risk_rules *r);
/* The payment's value in slot s (NULL when unknown), as the rules compare it. */
const char *risk_rule_slot_value(const struct risk_rule_input *in, enum risk_rule_slot s);

/* Evaluates the rules (NULL rules = none). Always succeeds; ret->action may be RISK_RULE_NONE. */
void risk_rules_eval(const struct risk_rules *r, const struct risk_rule_input *in,
		     struct risk_rule_match *ret);

const char *risk_rule_action_name(enum risk_rule_action a); /* "none", "allow", "block", … */

/* Stripe's default rules over each merchant's default lists (Radar's "default allow and block
 * rules"): allow if card_fingerprint / card_country / ip_address / customer / card_bin / email /
 * email_domain is in @card_fingerprint_allowlist / @card_country_allowlist /
 * @client_ip_address_allowlist / @customer_id_allowlist / @card_bin_allowlist /
 * @email_allowlist / @email_domain_allowlist, block likewise with the …_blocklist aliases.
 * Parsed once; never NULL. */
const struct risk_rules *risk_rules_builtin(void);

/* risk_rules_eval of r (the rules file, may be NULL) and of the default rules together, Radar's
 * precedence across both (allow, then block, then review, then manual_review); in->list_hits are
 * r's value list hits, builtin_hits the default rules'. A default rule's match has line 0 and
 * rule_index -1. */
void risk_rules_eval_with_builtin(const struct risk_rules *r, const struct risk_rule_input *in,
				  const uint16_t builtin_hits[RISK_RULE_MAX_LISTS],
				  struct risk_rule_match *ret);

#endif
