/*
 * The money-moving steps of a payment, each run inside the caller's write transaction so that the
 * charge row, the acquirer's hold, the journal entries, the balance transaction and the events
 * commit together or not at all.
 */
#ifndef TENDER_PAYMENTS_FLOW_H
#define TENDER_PAYMENTS_FLOW_H

#include "events/events.h"
#include "ledger/ledger.h"
#include "payments/payments.h"
#include "processor/processor.h"

/* The public facts of the card a payment uses (never the number). */
struct payment_card {
	const char *payment_method; /* pm_… */
	const char *brand, *last4, *funding, *country, *fingerprint;
	int exp_month, exp_year;
	enum acq_behavior behavior;
	const char *billing_details; /* JSON or NULL */
	/* read by a Terminal reader (a card_present PaymentMethod): the charge shows
	 * payment_method_details.card_present */
	bool present;
};

struct attempt {
	const char *merchant_id;
	int64_t amount;
	const char *currency;
	const char *payment_intent; /* NULL for a legacy charge */
	const char *invoice;	    /* the invoice the intent pays, or NULL */
	const char *customer;
	const char *description;
	const char *metadata;
	const char *receipt_email;
	const char *statement_descriptor;
	const char *statement_descriptor_suffix; /* the card's dynamic suffix, or NULL */
	const char *shipping;			 /* JSON or NULL: the charge's shipping */
	bool capture;
	int64_t now;
	const struct payment_card *card;
	const struct processor_decision *decision;
	const struct ledger_pricing *pricing;
	bool three_d_secure; /* the cardholder authenticated (challenge completed) */
	/* 3-D Secure was asked for but errored (test card 4000000000003097): the payment went on
	 * without it, and payment_method_details.card.three_d_secure says processing_error */
	bool three_d_secure_error;
	const char *three_d_secure_txn;
	const char *client_ip;
	/* ids chosen before the write (NULL: new ones in the write), so that the charge could be
	 * rendered before it (payment_charge_final) */
	const char *charge_id;
	const char *balance_txn_id;
	/* the charge payment_charge_prepare made of this very attempt before the write (NULL: made
	 * in the write) */
	const struct charge *prepared;
	/* a Connect charge's terms (NULL for every other payment): its capture makes the
	 * transfer or takes the application fee (payments/connect.h), whose events name `origin`
	 * (the request; NULL: none) */
	const struct payment_connect *connect;
	const struct event_origin *origin;
};

/* A Terminal reader's card's whole payment_method_details, {card_present: {…}, type:
 * card_present} (a charge's, and a generated card's generated_from): approved with auth_code
 * (NULL: declined), amount_authorized shown when approved and >= 0 (a card saved without a
 * payment: -1, null). Arena a, or NULL. */
const char *payment_card_present_details(struct arena *a, const struct payment_card *c,
					 int64_t amount_authorized, const char *auth_code);

/* The charge the attempt records, as payment_record_attempt fills it before it touches the store:
 * id (in->charge_id or a new one), card, outcome, status; not yet captured. Strings in arena a. */
int payment_charge_prepare(struct arena *a, const struct attempt *in, struct charge *ch);
/* The charge as payment_record_attempt leaves it, for an approved attempt with automatic capture
 * and both ids given (captured in full, balance_transaction in->balance_txn_id), from the
 * attempt's prepared charge: what a caller renders before the write. DB_CONFLICT for any other
 * attempt. */
int payment_charge_final(struct arena *a, const struct attempt *in, const struct charge *prepared,
			 struct charge *ch);

/* Records one authorization attempt: a succeeded (held, and captured when asked) or failed
 * charge. Fills ret (strings in arena a). */
int payment_record_attempt(struct db *db, struct arena *a, const struct attempt *in,
			   struct charge *ret);

/* Captures `amount` of an uncaptured charge and releases the rest of its hold (ch's
 * amount_released; the caller records the refund Stripe shows for it: refund_for_release); the
 * events of what a Connect charge's capture makes name `origin` (NULL: no request). */
int payment_capture(struct db *db, struct arena *a, const char *merchant_id, struct charge *ch,
		    int64_t amount, const struct ledger_pricing *pricing, int64_t now,
		    const struct event_origin *origin);

/* Releases the whole hold of an uncaptured charge (cancel), stored as ch's amount_released (the
 * caller records the refund Stripe shows for it: refund_for_release). */
int payment_release(struct db *db, const char *merchant_id, struct charge *ch, int64_t now);

#endif
