/*
 * Radar value lists as the fraud rules see them (the API is src/api/radar.c).
 *
 * A rule `block if card_fingerprint in @blocked_cards` whose alias is not a list of the rules
 * file names the merchant's value list of that alias. Before the rules are evaluated, the
 * payment's read transaction asks the store, in one indexed query, which of the payment's values
 * (the slots the rules compare with value lists) are in which of those lists; the answer fills
 * risk_rule_input.list_hits, and evaluation itself stays free of I/O.
 *
 * Items are stored with a match value: the value as the list's item type compares it (lowercase
 * for email, string, country, ip_address and card_bin; exact for card_fingerprint,
 * case_sensitive_string, customer_id and the bank fingerprints), so the lookup is an equality on
 * an index (merchant_id, match_value).
 *
 * Stripe's default rules (risk_rules_builtin) name the default lists' aliases, so every payment
 * may look lists up; the query is skipped when the merchant has no value list: that answer is
 * cached per process. A merchant known to have lists stays known (a list made and deleted costs a
 * query per payment that finds nothing). "No list" is forgotten at once by this process's own
 * create (risk_value_lists_note_created, called before the create's write commits), so a list is
 * in force for the first payment scored after its create answered. On SQLite (one process, the
 * only one that makes lists) "no list" is kept until then: a merchant without lists costs no
 * query at all. On PostgreSQL, where another node may make the list, it is kept for
 * RISK_VALUE_LISTS_NEG_TTL_S seconds (one query per merchant and process in that time), so
 * another node's first list applies within that time. Items added to an existing list are seen
 * at once everywhere (the query reads them).
 */
#ifndef TENDER_RISK_VALUE_LISTS_H
#define TENDER_RISK_VALUE_LISTS_H

#include <stddef.h>
#include <stdint.h>

#include "risk/rules.h"
#include "store/db.h"

#define RISK_VALUE_LISTS_NEG_TTL_S 2
#define RISK_VALUE_LIST_VALUE_MAX 800

/* 1 when item_type is one of Stripe's value list types, else 0. */
int risk_value_list_type_known(const char *item_type);

/* The match value of `value` in a list of item_type (above), in out (outsize bytes). 0, or
 * -EINVAL when it does not fit. */
int risk_value_list_normalize(const char *item_type, const char *value, char *out, size_t outsize);

/* Checks an item's value for its list's type (a card BIN is 6 to 8 digits, a country two
 * letters, an IP address IPv4 or IPv6, an email has an '@', a fingerprint letters and digits,
 * any value 1 to RISK_VALUE_LIST_VALUE_MAX bytes). 0 or -EINVAL. */
int risk_value_list_check_value(const char *item_type, const char *value);

/* The merchant made a value list (or is about to): its payments look lists up from now on. The
 * create calls it before its write and again once it committed. */
void risk_value_lists_note_created(const char *merchant_id);

/* Inside the payment's read transaction, for a payment with no email of its own (no
 * receipt_email, no billing email on its card) but a customer: the customer's email, which the
 * rules then compare as the payment's (Stripe's :email: is the charge's, else the card's, else
 * the customer's). Read only when a rule may compare it: the rules file r reads email or
 * email_domain, or the merchant has value lists (the default rules read the default email
 * lists); otherwise no query, as for a merchant without lists. out is "" when there is none (or
 * it does not fit outsize). 0, or a negative store code. */
int risk_value_lists_customer_email(struct db *db, const char *merchant_id,
				    const struct risk_rules *r, int64_t now, const char *customer,
				    char *out, size_t outsize);

/* Inside the payment's read transaction: fills in->list_hits for rules r (the rules file; in's
 * other fields set) and, when builtin_hits is not NULL, builtin_hits for the default rules
 * (risk_rules_builtin), in one query. Does nothing (no query) when no rule names a value list or
 * the merchant has none. 0, or a negative store code. */
int risk_value_lists_lookup(struct db *db, const char *merchant_id, const struct risk_rules *r,
			    int64_t now, struct risk_rule_input *in,
			    uint16_t builtin_hits[RISK_RULE_MAX_LISTS]);

#endif
