/*
 * Disputes (chargebacks and inquiries): rows, rendering, the state machine, the card network's
 * side in test mode, and the scheduler job that drives it.
 *
 * Lifecycle (Stripe's statuses):
 *   chargeback  needs_response → (evidence submitted) under_review → won | lost
 *               needs_response → (closed by the merchant, or due_by passed unanswered) lost
 *   inquiry     warning_needs_response → warning_under_review → warning_closed
 *               warning_needs_response → (closed, or due_by passed) warning_closed
 * Opening a chargeback withdraws its amount plus the dispute fee (ledger_dispute.h); winning
 * reinstates the amount (not the fee); losing keeps the withdrawal. Inquiries move no money.
 * A charge is disputed at most once (unique index, and a guarded update of charges.disputed).
 *
 * The card network (test mode). Test cards 0259 / 2685 / 1976 make the network open a dispute
 * (fraudulent / product_not_received / inquiry) DISPUTE_NETWORK_DELAY_S after the charge is
 * captured: the capture's transaction records a due job (dispute_jobs), and the scheduler opens
 * it, like a bank notification arriving later. Submitted evidence is decided by the network
 * DISPUTE_NETWORK_DELAY_S after submission: any evidence text containing "winning_evidence" wins,
 * else "losing_evidence" loses, else the dispute stays under review (as in Stripe's test mode);
 * an inquiry's review always ends warning_closed. A dispute unanswered at due_by is lost
 * (inquiry: warning_closed) with past_due true.
 *
 * due_by: created + 21 days for chargebacks, + 7 days for inquiries (Stripe's range is 7–21
 * days; inquiries are the short end), at 23:59:59 UTC of that day, as Stripe's due dates are.
 *
 * Every change appends its charge.dispute.* events in the same transaction; every function here
 * runs inside the caller's write transaction and returns 0 or a negative code (DB_*, LEDGER_ERR_*
 * or DISPUTE_ERR_*); on an error the caller rolls back.
 */
#ifndef TENDER_DISPUTES_DISPUTE_H
#define TENDER_DISPUTES_DISPUTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/id.h"
#include "core/json.h"
#include "events/events.h"
#include "store/db.h"

#define DISPUTE_ERR_STATE (-300)    /* the charge or dispute is not in a state that allows it */
#define DISPUTE_ERR_DISPUTED (-301) /* the charge already has a dispute */
#define DISPUTE_ERR_AMOUNT (-302)   /* amount <= 0 or above what the charge has left */
#define DISPUTE_ERR_REASON (-303)   /* not one of Stripe's reasons */

/* The card network answers this long after a capture (opening) or a submission (deciding). */
#define DISPUTE_NETWORK_DELAY_S 2
#define DISPUTE_DUE_DAYS 21
#define DISPUTE_INQUIRY_DUE_DAYS 7
/* Stripe: "The combined character count of all fields is limited to 150,000." */
#define DISPUTE_EVIDENCE_CHARS_MAX 150000

struct dispute {
	char id[ID_MAX];
	int64_t created;
	const char *charge;
	const char *payment_intent; /* NULL when the charge has none */
	int64_t amount;
	char currency[8];
	const char *reason;
	const char *status;
	const char *evidence; /* JSON object of the evidence fields set (strings) */
	const char *metadata; /* JSON object */
	int64_t due_by;
	bool past_due;
	int64_t submission_count;
	int64_t decide_at; /* 0: no decision pending */
	const char *brand;
	const char *network_reason_code;
};

/* The evidence fields Stripe defines, in its order; NULL-terminated. */
extern const char *const dispute_evidence_fields[];
/* Stripe's dispute reasons; NULL-terminated. */
extern const char *const dispute_reasons[];

bool dispute_status_is_inquiry(const char *status);
/* won, lost, warning_closed */
bool dispute_status_is_closed(const char *status);
/* due_by of a dispute created at `created` (rule above). LEDGER_ERR_OVERFLOW for absurd times. */
int dispute_due_by(int64_t created, bool inquiry, int64_t *ret_due_by);
/* The test-mode decision for evidence JSON: 1 win, -1 lose, 0 none (rule above). */
int dispute_evidence_decision(const char *evidence_json);
/* True when any evidence field holds a non-empty value. */
bool dispute_has_evidence(const char *evidence_json);

int dispute_load(struct db *db, struct arena *a, const char *merchant_id, const char *id,
		 struct dispute *ret);
/* expand[] of a dispute's charge / payment_intent: render() writes the object for the field
 * ("charge" or "payment_intent") and id. */
struct dispute_expand {
	bool charge, payment_intent;
	/* field is "charge", "payment_intent" or "evidence.<file field>" (a File's id) */
	int (*render)(void *ctx, struct db *db, const char *field, const char *id, struct json *j);
	void *ctx;
	/* whether expand[] asks for evidence field `field` (one Stripe types as a file, such as
	 * "receipt"); NULL: none is */
	bool (*evidence_expanded)(void *ctx, const char *field);
};
/* Renders the dispute object (balance_transactions expanded, as Stripe does); ex may be NULL
 * (charge and payment_intent as ids). */
int dispute_render(struct db *db, const char *merchant_id, int livemode, const struct dispute *d,
		   const struct dispute_expand *ex, struct json *j);
/* The rendered object in arena memory (for events and responses); NULL on failure. */
const char *dispute_json(struct db *db, struct arena *a, const char *merchant_id, int livemode,
			 const struct dispute *d, size_t *ret_len);

/*
 * Opens a dispute on charge_id: reason is one of dispute_reasons, or "inquiry" for an inquiry
 * (recorded with reason "general": Stripe's list has no "inquiry"); amount 0 means everything
 * the charge has left (captured − refunded). Marks the charge disputed, withdraws the money of a
 * chargeback, appends charge.dispute.created (and charge.dispute.funds_withdrawn). DB_NOTFOUND
 * for an unknown charge; DISPUTE_ERR_* as above.
 */
int dispute_open(struct db *db, struct arena *a, const char *merchant_id,
		 const struct event_origin *origin, const char *charge_id, const char *reason,
		 int64_t amount, int64_t now, struct dispute *ret);

/* Capture hook (payments): when the card of a just-captured charge is one of the dispute test
 * cards, records the network's job to open a dispute of `amount` DISPUTE_NETWORK_DELAY_S later.
 * Does nothing for any other card. */
int dispute_network_schedule(struct db *db, const char *merchant_id, const char *charge_id,
			     const char *auth_code, int64_t amount, int64_t now);
/* The same when the caller placed the hold and knows the card's test behavior (an
 * enum acq_behavior, processor.h): nothing is read back. */
int dispute_network_schedule_known(struct db *db, const char *merchant_id, const char *charge_id,
				   const char *auth_code, int64_t amount, int64_t now,
				   int behavior);

/* What an update asks (POST /v1/disputes/{id}). evidence/metadata: the new JSON objects, or NULL
 * when unchanged. */
struct dispute_change {
	const char *evidence;
	const char *metadata;
	bool submit;
};
/* Applies change to d (loaded) and stores it, guarded on d's status; appends
 * charge.dispute.updated. DISPUTE_ERR_STATE when the dispute is closed, or under review and the
 * change touches evidence or submits; DB_CONFLICT when it changed meanwhile. */
int dispute_update(struct db *db, struct arena *a, const char *merchant_id,
		   const struct event_origin *origin, struct dispute *d,
		   const struct dispute_change *change, int64_t now);
/* Accepts the loss: needs_response → lost, warning_needs_response → warning_closed; appends
 * charge.dispute.closed. DISPUTE_ERR_STATE from any other status. */
int dispute_close(struct db *db, struct arena *a, const char *merchant_id,
		  const struct event_origin *origin, struct dispute *d, int64_t now);

/* The amount of charge_id that refunds may not touch: the amount of its chargeback (not of an
 * inquiry), 0 when it has none. */
int dispute_charge_blocked_amount(struct db *db, const char *merchant_id, const char *charge_id,
				  int64_t *ret_amount);

/* The merchant's dispute rate over its whole history: chargebacks opened (inquiries excluded,
 * as card networks count them) and charges that succeeded and were captured. */
int dispute_rate(struct db *db, const char *merchant_id, int64_t *ret_disputes,
		 int64_t *ret_charges);

/* 1 when charge_id is a charge of merchant_id, 0 when not, < 0 on error (the CLI's search). */
int dispute_charge_owned(struct db *db, const char *merchant_id, const char *charge_id);

/* The dispute rate in hundredths of a percent (disputes × 10000 / charges, rounded half up; 0
 * without charges), and whether it is above DISPUTE_RATE_THRESHOLD_BPS. LEDGER_ERR_OVERFLOW for
 * absurd counts. */
#define DISPUTE_RATE_THRESHOLD_BPS 100 /* 1 %: the card networks' monitoring threshold */
int dispute_rate_bps(int64_t disputes, int64_t charges, int64_t *ret_bps, bool *ret_above);

struct store;
/* The scheduler's job, on every shard: opens due network jobs, decides submitted disputes whose
 * decision is due, closes disputes unanswered at due_by. Bounded batches. Returns how many
 * disputes it changed, or < 0. */
int disputes_scheduler_tick(struct store *s, int64_t now);
/* Its probe for the scheduler: a network job, a decision or a deadline is due. */
extern const char DISPUTES_DUE_SQL[];
/* One shard's part of it (also what tests call with their own clock). */
int disputes_tick_db(struct db *db, int64_t now);

#endif
