/*
 * SEPA Direct Debit (sepa_debit): mandates and the bank's later answer.
 *
 * A SEPA debit is asynchronous. The confirm (api/mandates.c, on the request's write) records a
 * `pending` charge, the PaymentIntent `processing`, the mandate the customer accepted, and one
 * row in sepa_debits saying when the bank answers (due_at) and what it answers (the behavior
 * Stripe's test IBAN stands for, vault/iban.h, decided when the IBAN was in hand). The
 * scheduler's job (sepa_settle_db, never the request path) takes the due rows: each row is
 * claimed by a guarded update (pending -> done) in the same transaction that settles it, so a
 * restart between confirm and settlement settles it exactly once, and two nodes never both do.
 *
 * Success books the sale in the ledger (ledger_sale_as: the charge's balance transaction, the
 * fee) in that transaction, as a card's automatic capture does, and moves charge and intent to
 * succeeded. Failure moves no money: the charge fails with Stripe's failure code and the intent
 * goes back to requires_payment_method with last_payment_error. The dispute IBAN succeeds and
 * the bank takes the money back at once: a dispute is opened and, since a SEPA dispute cannot
 * be answered with evidence (Stripe: "all SEPA Direct Debit disputes are final"), closed as lost
 * in the same transaction (the chargeback's withdrawal stays).
 *
 * A charge's card column holds a SEPA debit's whole payment_method_details JSON
 * ({"sepa_debit":{…},"type":"sepa_debit"}); charge_render shows it as it is.
 *
 * ACH Direct Debit (us_bank_account) is the same machinery: its debits are rows of sepa_debits
 * too (behavior from vault/ach.h's test accounts, with ACH's own return codes), settled by the
 * same job; its charges' details are {"us_bank_account":{…},"type":"us_bank_account"}, and its
 * disputes are final as SEPA's are (Stripe: ACH disputes cannot be contested).
 *
 * A legacy ACH charge (POST /v1/charges of a customer's verified bank account source, ba_…,
 * api/charges.c) is a debit of the same job without a PaymentIntent (its sepa_debits row's
 * payment_intent is ''): its details are {"ach_debit":{…},"type":"ach_debit"}, and its
 * settlement moves the charge alone (charge.succeeded or charge.failed).
 */
#ifndef TENDER_PAYMENTS_SEPA_H
#define TENDER_PAYMENTS_SEPA_H

#include <stdbool.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/id.h"
#include "core/json.h"
#include "store/db.h"

struct fx_table;
struct pm_card;

struct mandate {
	char id[ID_MAX];
	int64_t created;
	const char *payment_method;
	const char *type;		     /* multi_use | single_use */
	const char *status;		     /* active | inactive */
	const char *acceptance_type;	     /* online | offline */
	const char *ip_address, *user_agent; /* online only, else NULL */
	int64_t amount;			     /* single_use: the payment's */
	const char *currency;		     /* single_use, else NULL */
	char reference[32];  /* a reference_prefix (at most 12) and 16 random characters */
	const char *pm_type; /* its PaymentMethod's type (loaded; NULL: sepa_debit) */
	const char *url;     /* a SEPA mandate's hosted page (sepa_mandate_url; NULL: "") */
};

/* Fills a new mandate's id and reference (random) and created. */
void sepa_mandate_new(struct mandate *m, int64_t now);
#define SEPA_REFERENCE_PREFIX_MAX 12
/* Makes the reference begin with prefix (payment_method_options[sepa_debit][mandate_options]
 * [reference_prefix], checked; NULL: unchanged), its random part kept after it. */
void sepa_mandate_prefix(struct mandate *m, const char *prefix);
int sepa_mandate_insert(struct db *db, const char *merchant_id, const struct mandate *m);
/* DB_OK, DB_NOTFOUND or < 0; strings in a. */
int sepa_mandate_load(struct db *db, struct arena *a, const char *merchant_id, const char *id,
		      struct mandate *ret);
void sepa_mandate_render(const struct mandate *m, int livemode, struct json *j);
struct vault;
/* The hosted page of a SEPA mandate (payment_method_details.sepa_debit.url):
 * BASE/mandate/{merchant}/{mandate}/{secret}, the secret vault_page_token's (derived, never
 * stored, unguessable); base: req_url_base's (NULL: app_url_base(NULL)). In a; NULL without a
 * vault. */
const char *sepa_mandate_url(struct arena *a, struct vault *v, const char *base,
			     const char *merchant_id, const char *mandate_id);
/* The id of an active multi_use mandate of pm_id (the newest), into ret_id: DB_OK, DB_NOTFOUND
 * or < 0. */
int sepa_mandate_multi_use(struct db *db, const char *merchant_id, const char *pm_id,
			   char ret_id[ID_MAX]);

struct event_origin;
/* A single-use mandate whose one payment was made (its debit settled) becomes inactive
 * (Stripe: "previously used, and may not be used to initiate future payments"), with
 * mandate.updated (previous_attributes.status). Nothing when it is not single-use or already
 * inactive. DB_OK or < 0. */
int sepa_mandate_deactivate_single(struct db *db, struct arena *a, const char *merchant_id,
				   const struct event_origin *o, struct vault *v, const char *base,
				   const char *id, int64_t now);
/* Every active multi-use mandate of pm_id becomes inactive (its PaymentMethod was detached from
 * its customer), each with mandate.updated (v and base make the events' url, as
 * sepa_mandate_url). DB_OK or < 0. */
int sepa_mandates_deactivate_pm(struct db *db, struct arena *a, const char *merchant_id,
				const struct event_origin *o, struct vault *v, const char *base,
				const char *pm_id, int64_t now);
/* Whether pm_id has an inactive multi-use mandate: 1, 0, or < 0. */
int sepa_mandate_inactive_multi_use(struct db *db, const char *merchant_id, const char *pm_id);
/* The mandate a bank debit's payment_method_details name, into ret_id: false when none. */
bool sepa_details_mandate(const char *details, char ret_id[ID_MAX]);

/* payment_method_details of a bank debit's charge (see above: sepa_debit or us_bank_account,
 * the type's key first), in a; NULL when out of memory. */
const char *sepa_charge_details(struct arena *a, const struct pm_card *pm, const char *mandate_id);
/* Whether a charge's card column holds a bank debit's payment_method_details. */
bool sepa_details_is_bank_debit(const char *details);
/* The outcome of a SEPA charge while pending and once succeeded. */
extern const char SEPA_OUTCOME_PENDING[];

/* Records that the bank answers charge_id (of PaymentIntent pi_id) at due_at with behavior. */
int sepa_debit_schedule(struct db *db, const char *merchant_id, const char *charge_id,
			const char *pi_id, int behavior, int64_t due_at);

/* The scheduler's job on one shard: settles the debits due at now (at most max), converting with
 * fx (NULL: a debit whose currency is not the merchant's settlement currency waits). Appends
 * every event (app: its vault and address make the hosted pages' urls in them, NULL: none).
 * The number settled, or < 0. */
struct app;
int sepa_settle_db(struct db *db, struct fx_table *fx, struct app *app, int64_t now, int max);
/* Its probe: a debit is due ($1 = now). */
extern const char SEPA_SETTLE_DUE_SQL[];

#endif
