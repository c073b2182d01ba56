/*
 * PaymentMethods (pm_…) and single-use tokens (tok_…) over the vault's sealed cards. These rows
 * hold only what Stripe shows of a card; the number stays sealed in vault_cards.
 */
#ifndef TENDER_VAULT_PAYMENT_METHOD_H
#define TENDER_VAULT_PAYMENT_METHOD_H

#include <stdbool.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/id.h"
#include "core/json.h"
#include "store/db.h"
#include "vault/vault.h"

struct pm_card {
	char id[ID_MAX];
	char customer[ID_MAX];
	char card_id[ID_MAX];
	char brand[16], last4[5], funding[16], country[3], fingerprint[24];
	char billing_country[3]; /* billing_details.address.country, "" when not given */
	char billing_email[256]; /* billing_details.email, "" when not given */
	char bin[7]; /* the first six digits (Radar's card_bin; shown nowhere), "" when unknown */
	/* the row has billing_details (pm_billing_details reads them): a payment copies them onto
	 * its charge, as Stripe does */
	bool has_billing;
	int exp_month, exp_year;
	bool cvc_provided;
	/* set up for later payments with the cardholder authenticated (a SetupIntent, or a
	 * payment with setup_future_usage=off_session, through 3-D Secure): the issuer then lets
	 * off-session payments through without asking again (test card 4000002500003155) */
	bool set_up;
	/* detached from its customer (POST /v1/payment_methods/{id}/detach, or the customer was
	 * deleted): as on Stripe it can never pay or be attached again */
	bool detached;
	/* "sepa_debit" for a SEPA Direct Debit bank account (its IBAN sealed in vault_ibans, named
	 * by card_id; last4, country and fingerprint are the account's), "" for a card */
	char type[24];
	char sepa_bank_code[16], sepa_branch_code[16];
	int sepa_behavior; /* enum sepa_behavior (vault/iban.h), a us_bank_account's too */
	/* "us_bank_account": an ACH Direct Debit account (its number sealed in vault_ibans, named
	 * by card_id; last4 and fingerprint are the account's); set_up: microdeposits verified */
	char ach_routing[10], ach_holder_type[16], ach_account_type[16];
	/* the Financial Connections account (fca_…) it was made from, "" when entered by hand */
	char ach_fc_account[ID_MAX];
	/* "card_present": a card read by a Terminal reader (its number sealed as any card's) */
	/* "ideal", "bancontact", "affirm", "afterpay_clearpay" or "klarna": paid by redirecting
	 * the customer to their bank or lender (nothing sealed, card_id empty); an iDEAL one's
	 * ideal[bank] ("" when not given) */
	char ideal_bank[24];
};
/* Whether pm is a SEPA Direct Debit PaymentMethod (not a card). */
#define PM_IS_SEPA(pm) ((pm)->type[0] == 's')
/* Whether pm is an ACH Direct Debit (us_bank_account) PaymentMethod. */
#define PM_IS_ACH(pm) ((pm)->type[0] == 'u')
/* Whether pm is a redirect PaymentMethod (ideal, bancontact, or a buy-now-pay-later one:
 * affirm, afterpay_clearpay, klarna; payments/redirect.h). */
#define PM_IS_REDIRECT(pm)                                                                         \
	((pm)->type[0] == 'i' || (pm)->type[0] == 'b' || (pm)->type[0] == 'a' ||                   \
	 (pm)->type[0] == 'k')
/* Stripe's refusal of a detached PaymentMethod (a payment, an attach) */
#define PM_DETACHED_MESSAGE                                                                        \
	"The provided PaymentMethod was previously used with a PaymentIntent without Customer "    \
	"attachment, shared with a connected account without Customer attachment, or was "         \
	"detached from a Customer. It may not be used again. To use a PaymentMethod multiple "     \
	"times, you must attach it to a Customer first."

int pm_load(struct db *db, const char *merchant_id, const char *pm_id, struct pm_card *ret);
/* The PaymentMethod's billing_details JSON copied into a (NULL when it has none). 0,
 * DB_NOTFOUND, or < 0. Read apart from pm_load, and only when pm_card.has_billing says there
 * is something: most payments' cards (the test aliases, most tokens) have none. */
int pm_billing_details(struct db *db, const char *merchant_id, const char *pm_id, struct arena *a,
		       const char **ret);
/* Inside a write: card PaymentMethod pm_id (just inserted) becomes a card read by a Terminal
 * reader, type "card_present" (api/terminal_readers.c): rendered with a card_present hash, paying
 * only through a reader. */
int pm_mark_card_present(struct db *db, const char *merchant_id, const char *pm_id);
/* Inside a write: the reusable card PaymentMethod pm_id generated from card_present
 * PaymentMethod from_id (the same sealed card, a `card` of no customer), its
 * card.generated_from JSON given. DB_OK, DB_NOTFOUND (from_id is no card_present one), or < 0. */
int pm_insert_generated(struct db *db, const char *merchant_id, const char *from_id,
			const char *pm_id, const char *generated_from, int64_t now);
/* Inside a write: records that pm_id was set up with authentication (pm_card.set_up). */
int pm_mark_set_up(struct db *db, const char *merchant_id, const char *pm_id);
/* The PaymentMethod's allow_redisplay set to value (always, limited or unspecified); with
 * if_unspecified, only when it is still `unspecified` (a default never overrides a choice).
 * DB_OK (also when nothing changed because of if_unspecified), DB_NOTFOUND, or DB_ERR. */
int pm_set_allow_redisplay(struct db *db, const char *merchant_id, const char *pm_id,
			   const char *value, bool if_unspecified);
/* The issuer's answers to a check of the card, as card.checks shows them (NULL: not asked). */
struct pm_checks {
	const char *cvc, *line1, *postal_code;
};
/* Test alias or token → stored PaymentMethod (inside the caller's write transaction), with the
 * answers of the check the payment made (checks, or NULL): stored by the insert itself, so a
 * payment with a test alias writes its PaymentMethod's row once. 0, DB_NOTFOUND,
 * VAULT_ERR_TOKEN_USED, or another negative code. */
int pm_materialize(struct db *db, struct vault *v, const char *merchant_id, const char *ref,
		   const struct pm_checks *checks, int64_t now, struct pm_card *ret);
/* The same under an id the caller generated (id_new "pm_") before the write. */
int pm_materialize_as(struct db *db, struct vault *v, const char *merchant_id, const char *ref,
		      const char *pm_id, const struct pm_checks *checks, int64_t now,
		      struct pm_card *ret);
/* Reads an unused token's card into ret (id empty: no PaymentMethod exists yet) without using
 * the token up, so that a payment can check the card before its own write stores it
 * (pm_materialize there uses the token). 0, DB_NOTFOUND, VAULT_ERR_TOKEN_USED, or < 0. */
int pm_token_peek(struct db *db, const char *merchant_id, const char *ref, struct pm_card *ret);
int pm_render(struct db *db, const char *merchant_id, const char *pm_id, struct json *j);
/* The issuer's answers to a check of the card (an authorization, a SetupIntent's verification):
 * card.checks shows them from then on. A NULL part (not asked) keeps its previous answer. */
int pm_record_checks(struct db *db, const char *merchant_id, const char *pm_id, const char *cvc,
		     const char *line1, const char *postal_code);
/* Inside the caller's write transaction: stores PaymentMethod pm_id for a test alias (its card
 * is sealed once per merchant, alias and expiry and shared: vault_alias_card) or an unused token
 * (consumed), with billing_details / metadata JSON (NULL for none). 0, DB_NOTFOUND (no such
 * alias or token), VAULT_ERR_TOKEN_USED, or < 0. */
int pm_create_from_ref(struct db *db, struct vault *v, const char *merchant_id, const char *ref,
		       const char *pm_id, const char *billing_details, const char *metadata,
		       int64_t now);
/* Inside the caller's write transaction: takes single-use token tok_… of merchant_id (it is
 * used up) for something other than a PaymentMethod (a Connect debit card external account,
 * which keeps only these public facts): its card's facts and fingerprint. 0, DB_NOTFOUND (no
 * such token), VAULT_ERR_TOKEN_USED, or < 0. */
int pm_token_take(struct db *db, const char *merchant_id, const char *token,
		  struct vault_card_info *ret_info, char ret_fingerprint[24]);
/* A bank-debit PaymentMethod's public facts: its IBAN or account number was sealed by
 * vault_iban_store / vault_ach_store as secret_id, and only these reach payment_methods. */
struct pm_bank {
	const char *type; /* "sepa_debit" or "us_bank_account" */
	const char *secret_id;
	const char *last4, *fingerprint;
	int behavior; /* its test outcome: iban_test_behavior / ach_test_behavior */
	const char *country, *bank_code, *branch_code;	  /* sepa_debit (from iban_parse) */
	const char *routing, *holder_type, *account_type; /* us_bank_account */
	const char *fc_account; /* us_bank_account: the fca_… it was made from, or NULL */
};
/* Inserts a bank-debit PaymentMethod with billing_details/metadata JSON (NULL for none), and
 * renders it into j (when not NULL). */
int pm_insert_bank(struct db *db, const char *merchant_id, const char *pm_id,
		   const struct pm_bank *b, const char *billing_details, const char *metadata,
		   int64_t now, struct json *j);
/* The object's sepa_debit hash (bank_code, branch_code, country, fingerprint, generated_from,
 * last4) of a loaded sepa_debit PaymentMethod. */
void pm_render_sepa_details(struct json *j, const struct pm_card *pm);
/* The object's us_bank_account hash of a loaded us_bank_account PaymentMethod, or (details) as a
 * charge's payment_method_details show it: no networks/status_details/financial_connections,
 * the mandate instead. */
void pm_render_ach_details(struct json *j, const struct pm_card *pm, bool details,
			   const char *mandate);
/* Inserts a redirect PaymentMethod (type: redirect_type_known; bank: an iDEAL one's
 * ideal[bank] or NULL; klarna_dob: a Klarna one's klarna.dob JSON {day, month, year} or NULL)
 * and renders it into j (when not NULL). */
int pm_insert_redirect(struct db *db, const char *merchant_id, const char *pm_id, const char *type,
		       const char *bank, const char *klarna_dob, const char *billing_details,
		       const char *metadata, int64_t now, struct json *j);
/* Stripe's card.display_brand for a brand (amex → american_express, unknown → other). */
const char *pm_display_brand(const char *brand);

/* Inserts a PaymentMethod for a sealed card. billing_details/metadata: JSON or NULL. */
int pm_insert(struct db *db, const char *merchant_id, const char *pm_id, const char *card_id,
	      const struct vault_card_info *info, const char *fingerprint,
	      const char *billing_details, const char *metadata, const char *customer, int64_t now);
/* The object pm_render would read back after that pm_insert, rendered from the same values: the
 * write that creates a PaymentMethod does not read its own row again (on the single writer that
 * read cost as much as sealing the card). */
void pm_render_new(struct json *j, const char *pm_id, const struct vault_card_info *info,
		   const char *fingerprint, const char *billing_details, const char *metadata,
		   const char *customer, int64_t now);

#endif
