/*
 * PaymentIntents and charges: rows, loading, rendering, guarded writes.
 *
 * Concurrency: every mutable row carries `version`; a write is
 *   UPDATE … SET …, version = version + 1 WHERE merchant_id = $1 AND id = $2 AND version = $v
 * and a write that changes no row lost a race (DB_CONFLICT): the caller re-reads and decides again
 * (or answers with the state it finds). Under SQLite's single writer this cannot happen inside one
 * transaction, but a request decides some things before its transaction (the acquirer's answer),
 * and PostgreSQL nodes race for real.
 *
 * All strings of a loaded row live in the caller's arena.
 */
#ifndef TENDER_PAYMENTS_PAYMENTS_H
#define TENDER_PAYMENTS_PAYMENTS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/id.h"
#include "core/json.h"
#include "store/db.h"

/* A destination charge's terms (Connect, payments/connect.h): what the intent asked, copied to
 * its charges. All zero on every other payment. */
struct payment_connect {
	const char *destination;	/* transfer_data[destination]: a connected account */
	int64_t transfer_amount;	/* transfer_data[amount]; 0: the captured amount */
	int64_t application_fee_amount; /* 0: none */
	const char *transfer_group;
	const char *on_behalf_of;
};

struct payment_intent {
	char id[ID_MAX];
	int64_t created;
	int64_t version;
	int64_t amount;
	char currency[8];
	const char *status;
	const char *capture_method;
	const char *confirmation_method;
	const char *client_secret;
	const char *customer;
	const char *payment_method;
	const char *description;
	const char *metadata;
	const char *receipt_email;
	const char *statement_descriptor;
	const char *statement_descriptor_suffix;
	const char *setup_future_usage;
	const char *return_url;
	const char *shipping;
	int64_t amount_capturable;
	int64_t amount_received;
	const char *latest_charge;
	const char *last_payment_error; /* JSON object or NULL */
	const char *next_action;	/* JSON object or NULL */
	const char *cancellation_reason;
	int64_t canceled_at;		  /* 0: null */
	const char *three_d_secure_token; /* set while requires_action */
	/* payment_method_options[card]: "manual" or NULL (capture_method applies); "any",
	 * "automatic" or NULL (renders "automatic") */
	const char *pmo_card_capture_method;
	const char *pmo_card_request_three_d_secure;
	const char *checkout_session; /* the Checkout Session it pays, or NULL */
	/* "if_available", "never", or NULL (not asked) */
	const char *pmo_card_request_incremental_authorization;
	struct payment_connect connect;
	const char *invoice; /* the invoice it pays (subscriptions.c), or NULL */
	/* payment_method_types as a JSON array (["card","sepa_debit"]), or NULL: ["card"] */
	const char *payment_method_types;
	/* payment_method_options[card|sepa_debit|us_bank_account][setup_future_usage]: "none",
	 * "off_session", "on_session", or NULL (the intent's own applies: pi_setup_future_usage) */
	const char *pmo_card_setup_future_usage;
	const char *pmo_sepa_setup_future_usage;
	const char *pmo_ach_setup_future_usage;
	/* payment_method_options[sepa_debit][mandate_options][reference_prefix], or NULL */
	const char *pmo_sepa_reference_prefix;
	/* payment_method_options[us_bank_account][verification_method] ("automatic",
	 * "microdeposits"), or NULL (renders "automatic") */
	const char *pmo_ach_verification_method;
	/* the redirect methods' payment_method_options, or NULL: [ideal|bancontact]
	 * [setup_future_usage] as the bank debits' above; [bancontact][preferred_language] (NULL
	 * renders "en"); [affirm|afterpay_clearpay|klarna][capture_method] ("manual": see
	 * pi_capture_method); [affirm|klarna][preferred_locale]; [afterpay_clearpay][reference] */
	const char *pmo_ideal_setup_future_usage;
	const char *pmo_bancontact_setup_future_usage;
	const char *pmo_bancontact_preferred_language;
	const char *pmo_affirm_capture_method;
	const char *pmo_affirm_preferred_locale;
	const char *pmo_afterpay_capture_method;
	const char *pmo_afterpay_reference;
	const char *pmo_klarna_capture_method;
	const char *pmo_klarna_preferred_locale;
	/* automatic_payment_methods[allow_redirects] ("always", "never") of an intent created
	 * with automatic_payment_methods[enabled]=true, or NULL (renders null); and the
	 * configuration its payment_method_types come from (the one named, or the merchant's
	 * default) and that one's parent: payment_method_configuration_details, NULL when none */
	const char *automatic_payment_methods;
	const char *payment_method_configuration;
	const char *payment_method_configuration_parent;
	/* the Radar review (prv_…) its charge was placed in, set by the approving write */
	const char *review;
	/* payment_method_options[customer_balance] as the intent shows it (JSON), or NULL:
	 * PMO_CUSTOMER_BALANCE_NONE */
	const char *pmo_customer_balance;
	/* payment_method_options[us_bank_account][financial_connections] (JSON: permissions,
	 * prefetch, return_url as the intent shows them), or NULL when not given */
	const char *pmo_ach_financial_connections;
	/* amount_details (line items, shipping, tax, discount, the arithmetic check's error),
	 * payment_details, excluded_payment_method_types and hooks as one JSON object
	 * (api/pi_details.c), or NULL when the intent was given none of them */
	const char *details;
};
#define PMO_CUSTOMER_BALANCE_NONE "{\"funding_type\":null}"
/* Whether pi's payment_method_types name type ("card" when it names none). */
bool pi_allows_type(const struct payment_intent *pi, const char *type);
/* The setup_future_usage that applies to a payment with a PaymentMethod of type (card,
 * sepa_debit, us_bank_account, ideal, bancontact; the others have none of their own): that type's
 * payment_method_options[…][setup_future_usage] when set ("none": NULL), else the intent's own. */
const char *pi_setup_future_usage(const struct payment_intent *pi, const char *type);
/* The capture_method that applies to a payment with a PaymentMethod of type: that type's
 * payment_method_options[…][capture_method] when set (card, affirm, afterpay_clearpay, klarna),
 * else the intent's own. */
const char *pi_capture_method(const struct payment_intent *pi, const char *type);

/* A charge's outcome and card packed as event objects are (events/pack.h), made before the write
 * on the request's thread so that the writer only copies bytes: a charge row is ~760 bytes with
 * them as JSON (~530 of them), and a WITHOUT ROWID b-tree keeps whole rows in its interior
 * pages too, so the charges' tree was the deepest in the store (7 levels at 155,000 charges).
 * `outcome` and `card` are the JSON the bytes were packed from: charge_insert stores the bytes
 * only while the charge still holds that same JSON. */
struct charge_packed {
	const char *outcome, *card;
	const void *outcome_bytes, *card_bytes;
	size_t outcome_len, card_len;
};

struct charge {
	char id[ID_MAX];
	int64_t created;
	const char *payment_intent;
	const char *invoice; /* the invoice its PaymentIntent pays, or NULL */
	int64_t amount;
	int64_t amount_captured;
	/* money refunded: every bound on refunds and the acquirer's books compare this one */
	int64_t amount_refunded;
	/* what was authorized and released uncaptured: the rest of a partial capture, or the whole
	 * of a canceled (or refunded) authorization. Stripe counts it as refunded (the charge's
	 * amount_refunded and `refunded` show the sum; a refund of its own names it) though no
	 * money moved. */
	int64_t amount_released;
	char currency[8];
	const char *status; /* succeeded | pending | failed */
	bool captured, paid, disputed;
	const char *customer;
	const char *payment_method;
	const char *description;
	const char *metadata;
	const char *receipt_email;
	const char *statement_descriptor;
	const char *statement_descriptor_suffix; /* a card charge's, or NULL */
	const char *balance_transaction;
	const char *failure_code;
	const char *failure_message;
	const char *outcome; /* JSON */
	const char *card;    /* JSON: payment_method_details.card */
	/* outcome and card packed ahead of the write (charge_pack), or empty */
	struct charge_packed packed;
	const char *billing_details; /* JSON or NULL */
	const char *shipping;	     /* JSON or NULL: its PaymentIntent's, or the Charges API's */
	const char *authorization_code;
	int64_t capture_before;
	bool three_d_secure; /* authenticated with 3-D Secure (liability shift) */
	const char *fingerprint;
	const char *client_ip;
	const char *user_report; /* fraud_details[user_report]: "fraudulent", "safe" or NULL */
	struct payment_connect connect;
	/* what a destination charge's capture made (NULL before, and on other charges) */
	const char *transfer, *application_fee;
	/* the ids its capture will use, chosen when the charge was prepared so that a charge
	 * rendered before its write names them (NULL: new ones at capture) */
	const char *reserved_transfer, *reserved_fee;
	/* the review a manual_review rule opens with the charge (risk/review.h), chosen when it
	 * was prepared; NULL otherwise, and on a charge read back (the render looks it up) */
	const char *review;
	/* a connected account's payment from a transfer (py_…, payments/connect.h): the
	 * transfer it came from; NULL on every charge the charges table holds */
	const char *source_transfer;
};

/* What a render may expand (expand[]=latest_charge.balance_transaction etc.). */
struct expand_set {
	bool customer, payment_method, latest_charge, balance_transaction, payment_intent;
	/* a charge's transfer and application_fee, a charge's or intent's invoice and review:
	 * rendered by render_id (the field's name given for the object's own expansions) */
	bool transfer, application_fee, invoice, review;
	bool charge_invoice, charge_review; /* an intent's latest_charge.invoice / .review */
	/* a charge's refunds (also an intent's latest_charge.refunds): a list, only when asked for,
	 * as Stripe shows it since 2022-11-15 */
	bool refunds;
	/* an intent's amount_details.line_items: a list, only when asked for, as on Stripe */
	bool line_items;
	/* renderers of objects other modules own; NULL leaves the id unexpanded */
	int (*render_customer)(void *ctx, struct db *db, const char *id, struct json *j);
	int (*render_payment_method)(void *ctx, struct db *db, const char *id, struct json *j);
	int (*render_balance_txn)(void *ctx, struct db *db, const char *id, struct json *j);
	int (*render_id)(void *ctx, struct db *db, const char *id, const char *field,
			 struct json *j);
	void *ctx;
};
/* payments_expandable for a field render_id renders (expand_set above). */
int payments_expandable_id(struct json *j, struct db *db, const char *key, const char *id,
			   bool expand, const struct expand_set *ex);

int pi_load(struct db *db, struct arena *a, const char *merchant_id, const char *id,
	    struct payment_intent *ret);
/* A debit's or a redirect's confirmation writes its intent: inserted when this request created it
 * (at the version the insert and then an update would leave, as the card path does), else
 * updated. DB_OK or a store error. */
int pi_write_confirmed(struct db *db, const char *merchant_id, struct payment_intent *pi,
		       bool inserted_now);
int pi_insert(struct db *db, const char *merchant_id, const struct payment_intent *pi);
/* Writes every mutable column of pi where version = pi->version; bumps pi->version on success.
 * DB_CONFLICT when the row changed meanwhile. */
int pi_update(struct db *db, const char *merchant_id, struct payment_intent *pi);
int pi_render(struct db *db, struct arena *a, const char *merchant_id, int livemode,
	      const struct payment_intent *pi, const struct expand_set *ex, struct json *j);
int pi_render_by_id(struct db *db, struct arena *a, const char *merchant_id, int livemode,
		    const char *id, const struct expand_set *ex, struct json *j);

int charge_load(struct db *db, struct arena *a, const char *merchant_id, const char *id,
		struct charge *ret);
int charge_insert(struct db *db, const char *merchant_id, const struct charge *ch);
/* What the ledger's fee table needs to know of a charge it books (ledger.h, struct
 * ledger_pricing): its payment method type, read from the head of its payment_method_details
 * (ch->card: a card's own object, or a Terminal reader's, a bank debit's, a redirect's or a bank
 * transfer's whole details, each starting with its type's key), and a card's country, copied
 * into country (the card's "country", "" when null). Sets p->method and p->card_country
 * (pointing at country, which must outlive p's use). */
struct ledger_pricing;
void charge_fee_facts(const struct charge *ch, struct ledger_pricing *p, char country[3]);
/* Packs ch's outcome and card into out (reset first) and points ch->packed at them; on a store
 * that keeps JSON text (events/pack.h, event_packs), or when packing fails, ch->packed stays
 * empty and the JSON is stored as it is. out must outlive every copy of ch that is inserted. */
void charge_pack(struct charge *ch, enum db_kind kind, struct buf *out);
/* A charge's outcome or card column as JSON in a (unpacked when it was stored packed), NULL
 * when the column is NULL. DB_OK, or DB_ERR when packed bytes are damaged or out of memory. */
int charge_json_col(struct arena *a, struct db_stmt *st, int col, const char **ret);
/* Writes the mutable columns of ch (amounts, status flags, balance txn, description, metadata). */
int charge_update(struct db *db, const char *merchant_id, const struct charge *ch);
/* Writes what the Charges API's update and capture may set once made: customer, shipping,
 * statement_descriptor and statement_descriptor_suffix. */
int charge_update_details(struct db *db, const char *merchant_id, const struct charge *ch);
/* Atomically adds to amount_refunded if the result stays <= amount_captured. DB_CONFLICT if not. */
int charge_add_refunded(struct db *db, const char *merchant_id, const char *id, int64_t delta);
/* An incremental authorization of uncaptured charge ch to `amount` (more than it holds): the
 * acquirer's hold, the ledger's hold (the difference) and the charge's amount grow together.
 * DB_OK, DB_CONFLICT when ch is captured, released or not smaller, or an error. */
int payment_increment(struct db *db, const char *merchant_id, struct charge *ch, int64_t amount,
		      int64_t now);
int charge_render(struct db *db, struct arena *a, const char *merchant_id, int livemode,
		  const struct charge *ch, const struct expand_set *ex, struct json *j);
/* A charge of the merchant's, or a destination payment it received (py_…, connect.h): a
 * transfer's payment is a charge on the connected account too, as on Stripe. */
int charge_render_by_id(struct db *db, struct arena *a, const char *merchant_id, int livemode,
			const char *id, const struct expand_set *ex, struct json *j);

/* An expandable field: the id, the object rendered by `render` when expanded, or null. */
int payments_expandable(struct json *j, struct db *db, const char *key, const char *id, bool expand,
			int (*render)(void *, struct db *, const char *, struct json *), void *ctx);

/* The longest `connect` column (a transfer_group of 5,000 characters, escaped) */
#define CONNECT_JSON_MAX (64u << 10)

/* The `connect` column of a PaymentIntent or a charge: c (and a charge's transfer and
 * application_fee, NULL for an intent) as one JSON object appended to out (NUL-terminated):
 * 1; or 0, out untouched, when there is nothing Connect about the payment (the column stays
 * NULL); -1 when out failed. */
int payment_connect_encode(struct buf *out, const struct payment_connect *c, const char *transfer,
			   const char *application_fee);
/* The reverse, strings in a; a NULL column leaves everything zero. DB_OK, or DB_ERR when the
 * column is not what encode wrote. */
int payment_connect_decode(struct arena *a, const char *json, struct payment_connect *c,
			   const char **transfer, const char **application_fee);

/* The Connect fields of a PaymentIntent or a charge (application_fee_amount, on_behalf_of,
 * transfer_data, transfer_group) each at its place in the object; for_charge renders a
 * charge's transfer_data (amount null when not set). */
void payments_render_connect_fee(struct json *j, const struct payment_connect *c);
void payments_render_on_behalf_of(struct json *j, const struct payment_connect *c);
void payments_render_transfer_data(struct json *j, const struct payment_connect *c,
				   bool for_charge);

/* Renders into a new arena string (for events and responses at once). */
const char *pi_json(struct db *db, struct arena *a, const char *merchant_id, int livemode,
		    const struct payment_intent *pi, size_t *ret_len);
const char *charge_json(struct db *db, struct arena *a, const char *merchant_id, int livemode,
			const struct charge *ch, size_t *ret_len);

#endif
