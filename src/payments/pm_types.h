/*
 * The payment method types Tender takes, as a set of bits, and the JSON array Stripe renders
 * (`payment_method_types: ["card","sepa_debit"]`) that intents, sessions, links, invoices and
 * subscriptions store. One table says which types exist, the currencies a payment of each can be
 * in (all, or a list), and whether they can be captured by hand: every parser and check reads it,
 * so a new type is one row here (and its flow), not five edits.
 */
#ifndef TENDER_PAYMENTS_PM_TYPES_H
#define TENDER_PAYMENTS_PM_TYPES_H

#include <stdbool.h>
#include <stddef.h>

enum {
	PMT_CARD = 1u << 0,
	PMT_SEPA_DEBIT = 1u << 1,
	PMT_US_BANK_ACCOUNT = 1u << 2,
	PMT_IDEAL = 1u << 3,
	PMT_BANCONTACT = 1u << 4,
	PMT_AFFIRM = 1u << 5,
	PMT_AFTERPAY_CLEARPAY = 1u << 6,
	PMT_KLARNA = 1u << 7,
	PMT_ALL = (1u << 8) - 1,
	/* bank transfers into the customer's cash balance (api/cash_balance.c): PaymentIntents
	 * only, so not in PMT_ALL (no SetupIntent, Checkout Session or invoice takes it) */
	PMT_CUSTOMER_BALANCE = 1u << 8,
	/* a card read by a Terminal reader (api/terminal_readers.c): PaymentIntents only, paid
	 * through a reader, so not in PMT_ALL either */
	PMT_CARD_PRESENT = 1u << 9,
	/* buy now, pay later: the customer accepts a payment plan at the lender's site, reached
	 * by a redirect as a bank is */
	PMT_BNPL = PMT_AFFIRM | PMT_AFTERPAY_CLEARPAY | PMT_KLARNA,
	/* paid by redirecting the customer to their bank or lender (payments/redirect.h) */
	PMT_REDIRECT = PMT_IDEAL | PMT_BANCONTACT | PMT_BNPL,
	/* what a SetupIntent can save: a lender's plan pays once (iDEAL and Bancontact save the
	 * sepa_debit PaymentMethod their bank's authorization generates) */
	PMT_SETUP = PMT_ALL & ~PMT_BNPL,
};

/* The type's bit, 0 when Tender has no type of that name. */
unsigned pm_type_bit(const char *name);
/* The type's name ("sepa_debit"), NULL for a bit that is not exactly one type. */
const char *pm_type_name(unsigned bit);
/* The currencies a payment of the type can be in ({"usd", "cad", NULL}), NULL when it takes
 * any. */
const char *const *pm_type_currencies(unsigned bit);
/* Whether a payment of the type can be in currency (lowercase ISO 4217). */
bool pm_type_takes_currency(unsigned bit, const char *currency);
/* Whether the type can be authorized now and captured later (capture_method=manual). */
bool pm_type_manual_capture(unsigned bit);

/* The set as a JSON array of names in the table's order into buf ("[]" for none). buf, or NULL
 * when n is too small. */
const char *pm_types_json(unsigned set, char *buf, size_t n);
/* A stored array back into a set (names Tender does not know are skipped); NULL → dflt. */
unsigned pm_types_from_json(const char *json, unsigned dflt);
/* Whether the stored array json names type; a NULL array allows what dflt holds. */
bool pm_types_allows(const char *json, unsigned dflt, const char *type);

/*
 * What an intent with automatic_payment_methods[enabled]=true offers, as Stripe computes it: of
 * on (the types its payment method configuration has on), those in takes (what the intent can
 * be paid or set up with), that take currency (NULL: a SetupIntent, which has none), that can be
 * captured by hand when manual, and, without redirects (allow_redirects=never), none of
 * PMT_REDIRECT. 0 when none is left.
 */
unsigned pm_types_automatic(unsigned on, unsigned takes, const char *currency, bool manual,
			    bool redirects);

struct json;
/* An intent's `automatic_payment_methods` ({allow_redirects, enabled: true}, or null when it did
 * not ask: allow_redirects NULL) and `payment_method_configuration_details` ({id, parent}, or
 * null: id NULL), as PaymentIntents and SetupIntents show them. */
void pm_types_render_automatic(struct json *j, const char *allow_redirects);
void pm_types_render_configuration(struct json *j, const char *id, const char *parent);

/* The names of set, joined with ", " into buf (for messages). buf, or NULL when too small. */
const char *pm_types_list(unsigned set, char *buf, size_t n);

#endif
