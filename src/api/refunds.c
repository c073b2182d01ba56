/*
 * /v1/refunds: create (charge or payment_intent; amount defaults to what is left), retrieve,
 * update (metadata), list, cancel (pending only).
 *
 * Refunds never exceed what was captured, even when many race: the charge's amount_refunded only
 * moves through a conditional update (amount_refunded + x <= amount_captured), decided in the
 * write transaction, and the acquirer's books refuse the same excess independently.
 * A refund of an uncaptured payment releases the hold instead (Stripe calls that a cancel).
 */
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "api/common.h"
#include "core/str.h"
#include "api/list.h"
#include "api/payments_common.h"
#include "api/resources.h"
#include "disputes/dispute.h"
#include "disputes/early_fraud_warning.h"
#include "risk/review.h"
#include "risk/value_lists.h"
#include "events/events.h"
#include "ledger/ledger.h"
#include "ledger/ledger_cash.h"
#include "money/rational.h"
#include "payments/connect.h"
#include "store/store.h"
#include "scheduler/scheduler.h"

#define REFUND_SETTLE_DELAY_S 2
/* Stripe's customers have 45 days to give the bank details a refund to their bank account
 * needs; then it is canceled and the cash goes back to their cash balance */
#define REFUND_INSTRUCTIONS_EXPIRE_S (45 * 86400)

static const char *const reasons[] = {"duplicate", "fraudulent", "requested_by_customer", NULL};
static const char *const origins[] = {"customer_balance", NULL};

static const struct param_spec create_params[] = {
    {"charge", PT_STRING, 0, 255, NULL, NULL},
    {"payment_intent", PT_STRING, 0, 255, NULL, NULL},
    {"amount", PT_INT, 0, 0, NULL, NULL},
    {"reason", PT_ENUM, 0, 0, reasons, NULL},
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {"instructions_email", PT_STRING, 0, 800, NULL, NULL},
    {"reverse_transfer", PT_BOOL, 0, 0, NULL, NULL},
    {"refund_application_fee", PT_BOOL, 0, 0, NULL, NULL},
    {"customer", PT_STRING, 0, 255, NULL, NULL},
    {"origin", PT_ENUM, 0, 0, origins, NULL},
    {"currency", PT_STRING, 0, 8, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec update_params[] = {
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec no_params[] = {{NULL, 0, 0, 0, NULL, NULL}};
/* POST /v1/charges/{charge}/refunds and /v1/charges/{charge}/refund: create's, the charge
 * being the path's */
static const struct param_spec charge_refund_params[] = {
    {"payment_intent", PT_STRING, 0, 255, NULL, NULL},
    {"amount", PT_INT, 0, 0, NULL, NULL},
    {"reason", PT_ENUM, 0, 0, reasons, NULL},
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {"instructions_email", PT_STRING, 0, 800, NULL, NULL},
    {"reverse_transfer", PT_BOOL, 0, 0, NULL, NULL},
    {"refund_application_fee", PT_BOOL, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
/* POST /v1/charges/{charge}/refunds: those, and the cash balance's parameters /v1/refunds takes
 * (a refund of a charge is never one: refused, h_charge_create) */
static const struct param_spec charge_refunds_params[] = {
    {"payment_intent", PT_STRING, 0, 255, NULL, NULL},
    {"amount", PT_INT, 0, 0, NULL, NULL},
    {"reason", PT_ENUM, 0, 0, reasons, NULL},
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {"instructions_email", PT_STRING, 0, 800, NULL, NULL},
    {"reverse_transfer", PT_BOOL, 0, 0, NULL, NULL},
    {"refund_application_fee", PT_BOOL, 0, 0, NULL, NULL},
    {"customer", PT_STRING, 0, 255, NULL, NULL},
    {"origin", PT_ENUM, 0, 0, origins, NULL},
    {"currency", PT_STRING, 0, 8, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec list_params[] = {
    {"charge", PT_STRING, 0, 255, NULL, NULL},
    {"payment_intent", PT_STRING, 0, 255, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};

struct refund {
	char id[ID_MAX];
	int64_t created;
	const char *charge, *payment_intent;
	int64_t amount;
	char currency[8];
	const char *status, *reason, *metadata, *balance_transaction;
	const char *failure_balance_transaction, *failure_reason;
	int64_t settle_at;
	const char *transfer_reversal; /* made by reverse_transfer (Connect), or NULL */
	/* a refund of a customer's cash balance (origin=customer_balance): its customer, and no
	 * charge */
	const char *customer;
	/* where the request for the customer's bank details went (status requires_action; its
	 * settle_at is when it expires), or NULL */
	const char *instructions_email;
	/* stands for what its charge released uncaptured (refund_for_release): no money moved */
	bool releases;
};

static const char *dup(struct arena *a, struct db_stmt *st, int col)
{
	const char *t = db_col_text(st, col, NULL);
	return t ? arena_strdup(a, t) : NULL;
}

static const char SQL_GET[] =
    "SELECT id, created, charge, payment_intent, amount, currency, status, reason, metadata,"
    " balance_transaction, failure_balance_transaction, failure_reason, settle_at,"
    " transfer_reversal, customer, instructions_email, releases FROM refunds"
    " WHERE merchant_id = $1 AND id = $2";

static int refund_load(struct db *db, struct arena *a, const char *merchant_id, const char *id,
		       struct refund *rf)
{
	struct db_stmt *st = db_prepare(db, SQL_GET);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, id, -1);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		memset(rf, 0, sizeof(*rf));
		str_copy(rf->id, sizeof(rf->id), db_col_text(st, 0, NULL));
		rf->created = db_col_int64(st, 1);
		rf->charge = dup(a, st, 2);
		rf->payment_intent = dup(a, st, 3);
		rf->amount = db_col_int64(st, 4);
		str_copy(rf->currency, sizeof(rf->currency), db_col_text(st, 5, NULL));
		rf->status = dup(a, st, 6);
		rf->reason = dup(a, st, 7);
		rf->metadata = dup(a, st, 8);
		rf->balance_transaction = dup(a, st, 9);
		rf->failure_balance_transaction = dup(a, st, 10);
		rf->failure_reason = dup(a, st, 11);
		rf->settle_at = db_col_is_null(st, 12) ? 0 : db_col_int64(st, 12);
		rf->transfer_reversal = dup(a, st, 13);
		rf->customer = dup(a, st, 14);
		rf->instructions_email = dup(a, st, 15);
		rf->releases = db_col_int64(st, 16) != 0;
	}
	db_reset(st);
	if (rc == DB_ROW)
		return DB_OK;
	return rc == DB_DONE ? DB_NOTFOUND : rc;
}

static const char SQL_INSERT[] =
    "INSERT INTO refunds (merchant_id, id, created, charge, payment_intent, amount, currency,"
    " status, reason, metadata, balance_transaction, settle_at, transfer_reversal, customer,"
    " instructions_email, releases)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)";

static int refund_insert(struct db *db, const char *merchant_id, const struct refund *rf)
{
	struct db_stmt *st = db_prepare(db, SQL_INSERT);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, rf->id, -1);
	db_bind_int64(st, 3, rf->created);
	db_bind_text(st, 4, rf->charge, -1);
	db_bind_text(st, 5, rf->payment_intent, -1);
	db_bind_int64(st, 6, rf->amount);
	db_bind_text(st, 7, rf->currency, -1);
	db_bind_text(st, 8, rf->status, -1);
	db_bind_text(st, 9, rf->reason, -1);
	db_bind_text(st, 10, rf->metadata ? rf->metadata : "{}", -1);
	db_bind_text(st, 11, rf->balance_transaction, -1);
	if (rf->settle_at)
		db_bind_int64(st, 12, rf->settle_at);
	else
		db_bind_null(st, 12);
	db_bind_text(st, 13, rf->transfer_reversal, -1);
	db_bind_text(st, 14, rf->customer, -1);
	db_bind_text(st, 15, rf->instructions_email, -1);
	db_bind_int64(st, 16, rf->releases);
	return db_step_done(st);
}

/* Moves a refund from one status to another; the status guard makes concurrent transitions
 * (the settle scheduler vs. a cancel) exclusive. A refund staying in its status (an update of
 * its metadata) keeps its settle_at: a pending refund still settles, one waiting in
 * requires_action still expires. */
static const char SQL_TRANSITION[] =
    "UPDATE refunds SET status = $4, failure_balance_transaction = $5, failure_reason = $6,"
    " settle_at = CASE WHEN status = $4 THEN settle_at ELSE NULL END, metadata = $7"
    " WHERE merchant_id = $1 AND id = $2 AND status = $3";

static int refund_transition(struct db *db, const char *merchant_id, const struct refund *rf,
			     const char *from)
{
	struct db_stmt *st = db_prepare(db, SQL_TRANSITION);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, rf->id, -1);
	db_bind_text(st, 3, from, -1);
	db_bind_text(st, 4, rf->status, -1);
	db_bind_text(st, 5, rf->failure_balance_transaction, -1);
	db_bind_text(st, 6, rf->failure_reason, -1);
	db_bind_text(st, 7, rf->metadata ? rf->metadata : "{}", -1);
	int rc = db_step(st);
	int64_t n = rc == DB_DONE ? db_changes(st) : 0;
	db_reset(st);
	if (rc != DB_DONE)
		return rc < 0 ? rc : DB_ERR;
	return n == 1 ? DB_OK : DB_CONFLICT;
}

static void refund_render(const struct refund *rf, struct json *j)
{
	json_obj_open(j);
	json_kv_str(j, "id", rf->id);
	json_kv_str(j, "object", "refund");
	json_kv_int(j, "amount", rf->amount);
	json_kv_str_or_null(j, "balance_transaction", rf->balance_transaction);
	json_kv_str_or_null(j, "charge", rf->charge);
	json_kv_int(j, "created", rf->created);
	json_kv_str(j, "currency", rf->currency);
	if (rf->failure_balance_transaction)
		json_kv_str(j, "failure_balance_transaction", rf->failure_balance_transaction);
	if (rf->failure_reason)
		json_kv_str(j, "failure_reason", rf->failure_reason);
	if (rf->instructions_email)
		json_kv_str(j, "instructions_email", rf->instructions_email);
	json_kv_raw(j, "metadata", rf->metadata ? rf->metadata : "{}",
		    rf->metadata ? strlen(rf->metadata) : 2);
	if (strcmp(rf->status, "requires_action") == 0 && rf->instructions_email) {
		/* the email asking for the customer's bank details went when the refund was made */
		json_key(j, "next_action");
		json_obj_open(j);
		json_key(j, "display_details");
		json_obj_open(j);
		json_key(j, "email_sent");
		json_obj_open(j);
		json_kv_int(j, "email_sent_at", rf->created);
		json_kv_str(j, "email_sent_to", rf->instructions_email);
		json_obj_close(j);
		json_kv_int(j, "expires_at", rf->settle_at);
		json_obj_close(j);
		json_kv_str(j, "type", "display_details");
		json_obj_close(j);
	}
	json_kv_str_or_null(j, "payment_intent", rf->payment_intent);
	json_kv_str_or_null(j, "reason", rf->reason);
	json_kv_null(j, "receipt_number");
	json_kv_null(j, "source_transfer_reversal");
	json_kv_str(j, "status", rf->status);
	json_kv_str_or_null(j, "transfer_reversal", rf->transfer_reversal);
	json_obj_close(j);
}

static const char *refund_json(struct arena *a, const struct refund *rf, size_t *len)
{
	struct buf b;
	struct json j;
	buf_init(&b, 64 * 1024);
	json_init(&j, &b);
	refund_render(rf, &j);
	const char *s = b.failed ? NULL : arena_strndup(a, b.data, b.len);
	*len = b.len;
	buf_release(&b);
	return s;
}

static int emit_refund(struct req *r, struct db *db, const struct refund *rf, const char *type)
{
	size_t len;
	const char *js = refund_json(&r->arena, rf, &len);
	if (!js)
		return req_fail(r, ERR_API, NULL, NULL);
	return payments_event(r, db, type, rf->id, js, len, NULL);
}

static int emit_charge(struct req *r, struct db *db, const struct charge *ch, const char *type)
{
	size_t len = 0;
	const char *js = charge_json(db, &r->arena, r->merchant_id, r->livemode, ch, &len);
	if (!js)
		return req_fail(r, ERR_API, NULL, NULL);
	return payments_event(r, db, type, ch->id, js, len, NULL);
}

/* refund_for_release (resources.h), the refund made left in *ret */
static int release_record(struct req *r, struct db *db, const struct charge *ch, int64_t amount,
			  const char *reason, const char *metadata, struct refund *ret)
{
	struct refund rf;
	memset(&rf, 0, sizeof(rf));
	id_new_at(rf.id, "re_", r->now);
	rf.created = r->now;
	rf.charge = ch->id;
	rf.payment_intent = ch->payment_intent;
	rf.amount = amount;
	str_copy(rf.currency, sizeof(rf.currency), ch->currency);
	rf.status = "succeeded";
	rf.reason = reason;
	rf.metadata = metadata ? metadata : "{}";
	rf.releases = true;
	if (refund_insert(db, r->merchant_id, &rf) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (emit_refund(r, db, &rf, "refund.created") != 0)
		return -1;
	/* a release that leaves nothing of the charge is its refund in full, as a refund that
	 * takes the last of it is */
	if (ch->amount_refunded + ch->amount_released >= ch->amount &&
	    emit_charge(r, db, ch, "charge.refunded") != 0)
		return -1;
	*ret = rf;
	return 0;
}

int refund_for_release(struct req *r, struct db *db, const struct charge *ch, int64_t amount)
{
	struct refund rf;
	return release_record(r, db, ch, amount, NULL, NULL, &rf);
}

/* The part of `whole` that `amount` of `of` stands for: the rest of it when the charge is now
 * fully refunded, else rounded once (half away from zero), never more than `left`. */
static int64_t share(int64_t amount, int64_t of, int64_t whole, int64_t left, bool full)
{
	int64_t v = left;
	if (!full &&
	    money_div_round_i64((__int128)amount * whole, of, MONEY_ROUND_HALF_AWAY, &v) != 0)
		v = left;
	return v > left ? left : v < 0 ? 0 : v;
}

/*
 * A destination charge's refund comes out of the platform's balance, as on Stripe; with
 * reverse_transfer=true the transfer is reversed in proportion to the amount refunded (the
 * connected account pays its share back), and with refund_application_fee=true the platform
 * gives back the same share of its application fee. The whole remainder when the charge is now
 * fully refunded, so the shares add up. Inside the refund's write: all of it or nothing.
 */
static int connect_unwind(struct req *r, struct db *db, const struct charge *ch, struct refund *rf,
			  int64_t amount)
{
	bool reverse = false, refund_fee = false;
	param_bool(r, "reverse_transfer", &reverse);
	param_bool(r, "refund_application_fee", &refund_fee);
	if (!reverse && !refund_fee)
		return 0;
	if (reverse && !ch->transfer)
		return req_fail(
		    r, ERR_PARAM_BAD, "reverse_transfer",
		    "Charge %s is not a destination charge: it has no transfer to reverse.",
		    ch->id);
	if (refund_fee && !ch->application_fee)
		return req_fail(r, ERR_PARAM_BAD, "refund_application_fee",
				"Charge %s has no application fee to refund.", ch->id);
	/* the fee is the platform's: this merchant's own on a destination charge; on a direct
	 * charge, the platform acting through Stripe-Account */
	const char *owner = ch->transfer ? r->merchant_id : r->platform_id;
	if (refund_fee && !owner[0])
		return req_fail(
		    r, ERR_PARAM_BAD, "refund_application_fee",
		    "Only the platform that collected an application fee can refund it.");
	bool full = ch->amount_refunded >= ch->amount_captured;
	struct event_origin o = {r->request_id, r->idempotency_key, r->livemode};
	if (reverse) {
		struct transfer t;
		if (transfer_load(db, &r->arena, r->merchant_id, ch->transfer, &t) != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		int64_t back = share(amount, ch->amount_captured, t.amount,
				     t.amount - t.amount_reversed, full);
		if (back > 0) {
			struct transfer_reversal v;
			if (transfer_reverse(db, &r->arena, r->merchant_id, &t, back, NULL, NULL,
					     rf->id, r->now, &o, &v) != DB_OK)
				return req_fail(r, ERR_API, NULL, NULL);
			rf->transfer_reversal = arena_strdup(&r->arena, v.id);
		}
	}
	if (refund_fee) {
		struct application_fee f;
		if (application_fee_load(db, &r->arena, owner, ch->application_fee, &f) != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		int64_t back = share(amount, ch->amount_captured, f.amount,
				     f.amount - f.amount_refunded, full);
		struct fee_refund v;
		if (back > 0 && application_fee_refund(db, &r->arena, owner, &f, back, NULL, r->now,
						       &o, &v) != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
	}
	return 0;
}

/* The email a charge is associated with: its receipt_email, else its billing details' email;
 * NULL when it has none (r's arena). */
static const char *charge_email(struct req *r, const struct charge *ch)
{
	if (ch->receipt_email && *ch->receipt_email)
		return ch->receipt_email;
	if (!ch->billing_details)
		return NULL;
	json_t *b = json_loads(ch->billing_details, 0, NULL);
	const char *e = b ? json_string_value(json_object_get(b, "email")) : NULL;
	const char *ret = e ? arena_strdup(&r->arena, e) : NULL;
	json_decref(b);
	return ret;
}
/* The refund of captured charge ch: amount (the rest of it when !amount_given) checked against
 * what is left of the charge (and what a chargeback took), the charge, the acquirer's books and
 * the journal moved, the refund inserted and refund.created / charge.refunded appended. rf is
 * set up by the caller (id, created, charge, payment_intent, currency, reason, metadata). Inside
 * the caller's write; 0, or -1 with r->err. */
static int refund_captured(struct req *r, struct db *db, struct charge *ch, struct refund *rf,
			   bool amount_given, int64_t amount)
{
	int64_t remaining = ch->amount_captured - ch->amount_refunded;
	if (remaining <= 0)
		return req_fail(r, ERR_CHARGE_ALREADY_REFUNDED, "charge",
				"Charge %s has already been refunded.", ch->id);
	if (!amount_given)
		amount = remaining;
	if (ch->disputed) {
		/* the disputed amount of a chargeback already went back to the cardholder */
		int64_t blocked = 0;
		if (dispute_charge_blocked_amount(db, r->merchant_id, ch->id, &blocked) != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		if (blocked > 0 && (!amount_given || amount > remaining - blocked))
			return req_fail(r, ERR_CHARGE_DISPUTED, "charge",
					"Charge %s has been charged back; cannot issue a refund.",
					ch->id);
	}
	if (amount_given) {
		if (amount <= 0)
			return req_fail(r, ERR_PARAM_BAD, "amount",
					"Invalid amount: must be at least 1.");
		if (amount > remaining)
			return req_fail(
			    r, ERR_REFUND_EXCEEDS, "amount",
			    "Refund amount (%lld %s) is greater than unrefunded amount on "
			    "charge (%lld %s)",
			    (long long)amount, ch->currency, (long long)remaining, ch->currency);
	}
	int rc = charge_add_refunded(db, r->merchant_id, ch->id, amount);
	if (rc == DB_CONFLICT)
		return req_fail(r, ERR_REFUND_EXCEEDS, "amount",
				"Refund amount is greater than unrefunded amount on charge.");
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	ch->amount_refunded += amount;
	/* refunded in full, its early fraud warning is no longer actionable */
	struct event_origin origin = {r->request_id, r->idempotency_key, r->livemode};
	if (efw_charge_changed(db, r->merchant_id, &origin, ch->id, r->now) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	/* a refund closes the charge's review, if it is in one (risk/review.h) */
	bool fraudulent = rf->reason && strcmp(rf->reason, "fraudulent") == 0;
	if (review_close_for_charge(db, r->merchant_id, &origin, ch->id,
				    fraudulent ? "refunded_as_fraud" : "refunded", r->now) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	/* Stripe: "specifying fraudulent as the reason will add the associated card and email to
	 * your block lists", which its default rules read: the card's next payment is blocked */
	if (fraudulent && (radar_block_default(r, db, "card_fingerprint", ch->fingerprint) != 0 ||
			   radar_block_default(r, db, "email", charge_email(r, ch)) != 0))
		return -1;
	enum refund_mode mode = REFUND_IMMEDIATE;
	char bt[ID_MAX];
	const char *email = param_str(r, "instructions_email");
	bool to_bank = cash_charge_is(ch->card) && email && *email;
	if (to_bank) {
		/* instructions_email: a bank transfer's payment goes back to the customer's bank
		 * account instead (Stripe's refund to the customer). The merchant's balance gives
		 * it back now, as any refund; it waits in requires_action for the customer's bank
		 * details, and canceled or expired the money goes to their cash balance
		 * (return_canceled), not back to the merchant, as Stripe does */
		if (!ch->customer)
			return req_fail(r, ERR_API, NULL, NULL);
		if (ledger_cash_refund_return(db, r->merchant_id, rf->id, ch->id, amount,
					      ch->currency, r->now, bt) != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		rf->customer = ch->customer;
		rf->instructions_email = email;
	} else if (cash_charge_is(ch->card)) {
		/* a bank transfer's payment goes back to the customer's cash balance, Stripe's
		 * default (api/cash_balance.c): no acquirer, and it is there at once */
		if (cash_refund(r, db, ch, rf->id, amount, bt) != 0)
			return -1;
	} else {
		if (processor_refund(db, r->merchant_id, ch->id, amount, &mode) != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		if (ledger_refund(db, r->merchant_id, rf->id, ch->id, amount, ch->currency, r->now,
				  bt) != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
	}
	rf->amount = amount;
	rf->balance_transaction = arena_strdup(&r->arena, bt);
	if (!rf->balance_transaction)
		return req_fail(r, ERR_API, NULL, NULL);
	if (connect_unwind(r, db, ch, rf, amount) != 0)
		return -1;
	rf->status = mode == REFUND_PENDING_THEN_OK ? "pending" : "succeeded";
	rf->settle_at = mode == REFUND_IMMEDIATE ? 0 : r->now + REFUND_SETTLE_DELAY_S;
	if (to_bank) {
		rf->status = "requires_action";
		rf->settle_at = r->now + REFUND_INSTRUCTIONS_EXPIRE_S;
	}
	if (refund_insert(db, r->merchant_id, rf) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (emit_refund(r, db, rf, "refund.created") != 0 ||
	    emit_charge(r, db, ch, "charge.refunded") != 0)
		return -1;
	return 0;
}

/* A connected account's payment from a transfer (py_…, payments/connect.h) is not refunded:
 * its money goes back through the transfer, which the platform reverses (Stripe's rule too).
 * -1 (the 400 written) when charge_id is one of the account's; 0 when it is none. */
static int payment_of_transfer(struct req *r, struct db *db, const char *charge_id)
{
	struct charge ch;
	struct transfer t;
	int rc = destination_payment_load(db, &r->arena, r->merchant_id, charge_id, &ch, &t);
	if (rc == DB_NOTFOUND)
		return 0;
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	return req_fail(r, ERR_INVALID_STATE, "charge",
			"Charge %s is the payment of transfer %s and cannot be refunded: the "
			"platform reverses the transfer instead.",
			charge_id, t.id);
}

static int create_fn(struct db *db, void *p)
{
	struct req *r = p;
	const char *charge_id = param_str(r, "charge");
	const char *pi_id = param_str(r, "payment_intent");
	struct payment_intent pi;
	bool has_pi = false;
	if (pi_id && *pi_id) {
		int rc = pi_load(db, &r->arena, r->merchant_id, pi_id, &pi);
		if (rc == DB_NOTFOUND)
			return req_fail_missing(r, "payment_intent", pi_id, "payment_intent");
		if (rc != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		if (!pi.latest_charge || (strcmp(pi.status, "succeeded") != 0 &&
					  strcmp(pi.status, "requires_capture") != 0))
			return req_fail(
			    r, ERR_INVALID_STATE, "payment_intent",
			    "This PaymentIntent (%s) does not have a successful charge to "
			    "refund.",
			    pi_id);
		if (charge_id && *charge_id && strcmp(charge_id, pi.latest_charge) != 0)
			return req_fail(r, ERR_PARAM_BAD, "charge",
					"The charge %s does not belong to the PaymentIntent %s.",
					charge_id, pi_id);
		charge_id = pi.latest_charge;
		has_pi = true;
	}
	struct charge ch;
	int rc = charge_load(db, &r->arena, r->merchant_id, charge_id, &ch);
	if (rc == DB_NOTFOUND && strncmp(charge_id, "py_", 3) == 0 &&
	    payment_of_transfer(r, db, charge_id) != 0)
		return -1;
	if (rc == DB_NOTFOUND)
		return req_fail_missing(r, "charge", charge_id, "charge");
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (strcmp(ch.status, "succeeded") != 0)
		return req_fail(r, ERR_INVALID_STATE, "charge",
				"Charge %s cannot be refunded because it has a status of %s.",
				ch.id, ch.status);
	if (!has_pi && ch.payment_intent) {
		if (pi_load(db, &r->arena, r->merchant_id, ch.payment_intent, &pi) != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		has_pi = true;
	}
	struct refund rf;
	memset(&rf, 0, sizeof(rf));
	id_new_at(rf.id, "re_", r->now);
	rf.created = r->now;
	rf.charge = ch.id;
	rf.payment_intent = ch.payment_intent;
	str_copy(rf.currency, sizeof(rf.currency), ch.currency);
	const char *reason = param_str(r, "reason");
	rf.reason = reason && *reason ? reason : NULL;
	rf.metadata = "{}";
	if (metadata_apply(r, NULL, "metadata", &rf.metadata) != 0)
		return -1;

	if (!ch.captured) {
		/* refunding an authorization releases it: the intent is canceled */
		int64_t amount = ch.amount;
		if (param_int(r, "amount", &amount) == 1 && amount != ch.amount)
			return req_fail(r, ERR_PARAM_BAD, "amount",
					"An uncaptured charge can only be refunded in full (%lld).",
					(long long)ch.amount);
		if (has_pi && strcmp(pi.status, "requires_capture") != 0)
			return req_fail(r, ERR_CHARGE_ALREADY_REFUNDED, "charge",
					"Charge %s has already been refunded.", ch.id);
		if (payment_release(db, r->merchant_id, &ch, r->now) != DB_OK)
			return req_fail(r, ERR_CHARGE_ALREADY_REFUNDED, "charge",
					"Charge %s has already been refunded.", ch.id);
		if (release_record(r, db, &ch, ch.amount, rf.reason, rf.metadata, &rf) != 0)
			return -1;
		if (has_pi) {
			pi.status = "canceled";
			pi.cancellation_reason = "requested_by_customer";
			pi.canceled_at = r->now;
			pi.amount_capturable = 0;
			if (pi_update(db, r->merchant_id, &pi) != DB_OK)
				return req_fail(r, ERR_API, NULL, NULL);
			size_t len = 0;
			const char *js =
			    pi_json(db, &r->arena, r->merchant_id, r->livemode, &pi, &len);
			if (!js ||
			    payments_event(r, db, "payment_intent.canceled", pi.id, js, len, NULL))
				return req_fail(r, ERR_API, NULL, NULL);
		}
		refund_render(&rf, req_json(r));
		return 0;
	}

	int64_t amount = 0;
	bool amount_given = param_int(r, "amount", &amount) == 1;
	if (refund_captured(r, db, &ch, &rf, amount_given, amount) != 0)
		return -1;
	refund_render(&rf, req_json(r));
	return 0;
}

int refund_for_credit_note(struct req *r, struct db *db, const char *charge_id, int64_t amount,
			   const char *reason, char ret_id[ID_MAX])
{
	struct charge ch;
	int rc = charge_load(db, &r->arena, r->merchant_id, charge_id, &ch);
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (strcmp(ch.status, "succeeded") != 0 || !ch.captured)
		return req_fail(r, ERR_INVALID_STATE, "refund_amount",
				"Charge %s cannot be refunded because it has a status of %s.",
				ch.id, ch.status);
	struct refund rf;
	memset(&rf, 0, sizeof(rf));
	id_new_at(rf.id, "re_", r->now);
	rf.created = r->now;
	rf.charge = ch.id;
	rf.payment_intent = ch.payment_intent;
	str_copy(rf.currency, sizeof(rf.currency), ch.currency);
	rf.reason = reason;
	rf.metadata = "{}";
	if (refund_captured(r, db, &ch, &rf, true, amount) != 0)
		return -1;
	str_copy(ret_id, ID_MAX, rf.id);
	return 0;
}

/* A refund's write (fn: create_fn, or the legacy charge_refund_fn around it). */
static int create_write(struct req *r, store_fn fn)
{
	int rc = req_write(r, fn, r);
	/* a fraudulent refund may have made a default block list: the payments scored from now
	 * on look it up (risk/value_lists.h; the write noted it before its commit too) */
	const char *reason = param_str(r, "reason");
	if (reason && strcmp(reason, "fraudulent") == 0)
		risk_value_lists_note_created(r->merchant_id);
	return rc;
}

/*
 * origin=customer_balance: part of a customer's cash balance goes back to their bank account
 * (Stripe's "refund a customer's cash balance"). Stripe emails the customer (instructions_email,
 * else the customer's email; neither: 400) for their bank details: the refund waits in
 * requires_action (next_action display_details) and the cash leaves the balance at once
 * (return_initiated), so it cannot pay anything meanwhile; no charge and no balance
 * transaction, the cash never having been the merchant's. Canceled (POST …/cancel, the expire
 * test helper, or the scheduler when its 45 days pass), the cash comes back (return_canceled).
 */
struct cash_ctx {
	struct req *r;
	const char *customer, *email;
	char currency[8];
	int64_t amount;
};

static const char SQL_CUSTOMER_EMAIL[] =
    "SELECT email FROM customers WHERE merchant_id = $1 AND id = $2 AND deleted = 0";

static int cash_create_fn(struct db *db, void *p)
{
	struct cash_ctx *x = p;
	struct req *r = x->r;
	struct db_stmt *st = db_prepare(db, SQL_CUSTOMER_EMAIL);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, x->customer, -1);
	int rc = db_step(st);
	const char *email = rc == DB_ROW ? dup(&r->arena, st, 0) : NULL;
	db_reset(st);
	if (rc == DB_DONE)
		return req_fail_missing(r, "customer", x->customer, "customer");
	if (rc != DB_ROW)
		return req_fail(r, ERR_API, NULL, NULL);
	if (x->email)
		email = x->email;
	if (!email || !*email)
		return req_fail(
		    r, ERR_PARAM_MISSING, "instructions_email",
		    "Customer %s has no email address to send the refund's instructions "
		    "to: pass instructions_email.",
		    x->customer);
	struct refund rf;
	memset(&rf, 0, sizeof(rf));
	id_new_at(rf.id, "re_", r->now);
	rf.created = r->now;
	rf.customer = x->customer;
	rf.amount = x->amount;
	str_copy(rf.currency, sizeof(rf.currency), x->currency);
	rf.status = "requires_action";
	const char *reason = param_str(r, "reason");
	rf.reason = reason && *reason ? reason : NULL;
	rf.metadata = "{}";
	if (metadata_apply(r, NULL, "metadata", &rf.metadata) != 0)
		return -1;
	rf.instructions_email = email;
	rf.settle_at = r->now + REFUND_INSTRUCTIONS_EXPIRE_S;
	struct event_origin o = {r->request_id[0] ? r->request_id : NULL, r->idempotency_key,
				 r->livemode};
	if (refund_insert(db, r->merchant_id, &rf) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (emit_refund(r, db, &rf, "refund.created") != 0)
		return -1;
	rc = cash_return(db, &r->arena, r->merchant_id, &o, rf.customer, rf.currency, rf.amount,
			 rf.id, true, r->now);
	if (rc == CASH_RETURN_SHORT)
		return req_fail(r, ERR_REFUND_EXCEEDS, "amount",
				"Refund amount (%lld %s) is greater than the customer's cash "
				"balance in %s.",
				(long long)rf.amount, rf.currency, rf.currency);
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	refund_render(&rf, req_json(r));
	return 0;
}

static int cash_create(struct req *r)
{
	const char *c = param_str(r, "charge");
	const char *pi = param_str(r, "payment_intent");
	const char *origin = param_str(r, "origin");
	if ((c && *c) || (pi && *pi))
		return req_fail(r, ERR_PARAM_BAD, c && *c ? "charge" : "payment_intent",
				"A refund of a customer's cash balance (origin=customer_balance, "
				"customer) takes no charge or payment_intent.");
	if (!origin || !*origin)
		return req_fail(r, ERR_PARAM_MISSING, "origin", "%s", "origin");
	struct cash_ctx x = {.r = r, .customer = param_str(r, "customer")};
	if (!x.customer || !*x.customer)
		return req_fail(r, ERR_PARAM_MISSING, "customer", "%s", "customer");
	bool reverse = false, fee = false;
	param_bool(r, "reverse_transfer", &reverse);
	param_bool(r, "refund_application_fee", &fee);
	if (reverse || fee)
		return req_fail(r, ERR_PARAM_BAD,
				reverse ? "reverse_transfer" : "refund_application_fee",
				"A refund of a customer's cash balance has no charge: nothing to "
				"reverse.");
	if (!param_str(r, "currency"))
		return req_fail(r, ERR_PARAM_MISSING, "currency", "%s", "currency");
	if (param_currency(r, "currency", NULL, x.currency) != 0)
		return -1;
	if (param_int(r, "amount", &x.amount) != 1)
		return req_fail(r, ERR_PARAM_MISSING, "amount", "%s", "amount");
	if (x.amount < 1 || x.amount > LEDGER_AMOUNT_MAX)
		return req_fail(r, ERR_PARAM_BAD, "amount",
				"Invalid amount: it must be a positive integer of at most %lld.",
				(long long)LEDGER_AMOUNT_MAX);
	const char *email = param_str(r, "instructions_email");
	x.email = email && *email ? email : NULL;
	return req_write(r, cash_create_fn, &x);
}

static int h_create(struct req *r)
{
	const char *c = param_str(r, "charge");
	const char *pi = param_str(r, "payment_intent");
	if (param_str(r, "origin") || param_str(r, "customer"))
		return cash_create(r);
	if (param_str(r, "currency"))
		return req_fail(r, ERR_PARAM_BAD, "currency",
				"currency is only for a refund of a customer's cash balance "
				"(origin=customer_balance); a charge's refund is in its currency.");
	if ((!c || !*c) && (!pi || !*pi))
		return req_fail(r, ERR_PARAM_MISSING, "charge", "%s", "charge");
	return create_write(r, create_fn);
}

struct id_ctx {
	struct req *r;
	const char *id;
	const char *charge; /* the legacy /v1/charges/{charge}/refunds/{id}: the refund's charge */
};

/* A refund of another charge than the legacy path's is not there (Stripe's 404). */
static int refund_of_charge(struct id_ctx *x, const struct refund *rf)
{
	if (x->charge && (!rf->charge || strcmp(x->charge, rf->charge) != 0))
		return req_fail_missing(x->r, "refund", x->id, "id");
	return 0;
}

static int retrieve_fn(struct db *db, void *p)
{
	struct id_ctx *x = p;
	struct refund rf;
	int rc = refund_load(db, &x->r->arena, x->r->merchant_id, x->id, &rf);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(x->r, "refund", x->id, "id");
	if (rc != DB_OK)
		return req_fail(x->r, ERR_API, NULL, NULL);
	if (refund_of_charge(x, &rf) != 0)
		return -1;
	refund_render(&rf, req_json(x->r));
	return 0;
}

static int h_retrieve(struct req *r)
{
	struct id_ctx x = {r, r->args[0], NULL};
	return req_read(r, retrieve_fn, &x) == 0 ? 0 : -1;
}

static int update_fn(struct db *db, void *p)
{
	struct id_ctx *x = p;
	struct req *r = x->r;
	struct refund rf;
	int rc = refund_load(db, &r->arena, r->merchant_id, x->id, &rf);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(r, "refund", x->id, "id");
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (refund_of_charge(x, &rf) != 0)
		return -1;
	if (metadata_apply(r, rf.metadata, "metadata", &rf.metadata) != 0)
		return -1;
	if (refund_transition(db, r->merchant_id, &rf, rf.status) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (emit_refund(r, db, &rf, "refund.updated") != 0)
		return -1;
	refund_render(&rf, req_json(r));
	return 0;
}

static int h_update(struct req *r)
{
	struct id_ctx x = {r, r->args[0], NULL};
	return req_write(r, update_fn, &x);
}

/* Money of a refund comes back: the charge, the acquirer's books and the journal reverse it. */
static int refund_reverse(struct db *db, struct arena *a, const char *merchant_id,
			  struct refund *rf, int64_t now)
{
	struct charge ch;
	if (charge_load(db, a, merchant_id, rf->charge, &ch) != DB_OK)
		return DB_ERR;
	int rc = charge_add_refunded(db, merchant_id, ch.id, -rf->amount);
	if (rc != DB_OK)
		return rc;
	rc = processor_refund_reverse(db, merchant_id, ch.id, rf->amount);
	if (rc != DB_OK)
		return rc;
	char bt[ID_MAX];
	rc = ledger_refund_failure(db, merchant_id, rf->id, rf->amount, rf->currency, now, bt);
	if (rc != DB_OK)
		return rc;
	rf->failure_balance_transaction = arena_strdup(a, bt);
	return DB_OK;
}

/* A refund waiting in requires_action is canceled (POST …/cancel, the expire test helper, or
 * the scheduler when it expires): the money goes to the customer's cash balance
 * (return_canceled): the cash a cash balance refund took, or a payment's refund (which stays
 * refunded: Stripe puts it on the cash balance, not back to the merchant), then
 * refund.updated. Inside the caller's write: DB_OK, DB_CONFLICT (no
 * longer waiting) or < 0. */
static int refund_action_cancel(struct db *db, struct arena *a, const char *merchant_id,
				const struct event_origin *o, struct refund *rf, int64_t now)
{
	rf->status = "canceled";
	int rc = refund_transition(db, merchant_id, rf, "requires_action");
	if (rc != DB_OK)
		return rc;
	if (rf->customer) {
		rc = cash_return(db, a, merchant_id, o, rf->customer, rf->currency, rf->amount,
				 rf->id, false, now);
		if (rc != DB_OK)
			return rc < 0 ? rc : DB_ERR;
	}
	size_t len;
	const char *js = refund_json(a, rf, &len);
	if (!js)
		return DB_ERR;
	return event_append(db, merchant_id, o, "refund.updated", rf->id, js, len, NULL, now, NULL);
}

static int cancel_fn(struct db *db, void *p)
{
	struct id_ctx *x = p;
	struct req *r = x->r;
	struct refund rf;
	int rc = refund_load(db, &r->arena, r->merchant_id, x->id, &rf);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(r, "refund", x->id, "id");
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (strcmp(rf.status, "requires_action") == 0) {
		struct event_origin o = {r->request_id[0] ? r->request_id : NULL,
					 r->idempotency_key, r->livemode};
		if (refund_action_cancel(db, &r->arena, r->merchant_id, &o, &rf, r->now) != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		refund_render(&rf, req_json(r));
		return 0;
	}
	if (strcmp(rf.status, "pending") != 0)
		return req_fail(r, ERR_INVALID_STATE, NULL,
				"You cannot cancel refund %s because it has a status of %s; only "
				"pending refunds and those in requires_action can be canceled.",
				rf.id, rf.status);
	if (refund_reverse(db, &r->arena, r->merchant_id, &rf, r->now) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	rf.status = "canceled";
	if (refund_transition(db, r->merchant_id, &rf, "pending") != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (emit_refund(r, db, &rf, "refund.updated") != 0)
		return -1;
	refund_render(&rf, req_json(r));
	return 0;
}

static int h_cancel(struct req *r)
{
	struct id_ctx x = {r, r->args[0], NULL};
	return req_write(r, cancel_fn, &x);
}

/* ---- the settle scheduler (test cards 7726 and 5126) ---- */

static const char SQL_DUE[] =
    "SELECT merchant_id, id FROM refunds WHERE settle_at IS NOT NULL AND settle_at <= $1"
    " ORDER BY settle_at LIMIT $2";

struct settle_ctx {
	int64_t now;
	int done;
	struct shard_share share;
};

#define SETTLE_BATCH 64

static int settle_fn(struct db *db, void *p)
{
	struct settle_ctx *c = p;
	struct arena a;
	arena_init(&a, 4u << 20);
	struct scheduler_due due[SETTLE_BATCH];
	int n = 0, done = 0;
	if (scheduler_due_read(db, SQL_DUE, c->now, due, &n, scheduler_batch(SETTLE_BATCH)) !=
	    DB_OK) {
		arena_release(&a);
		return DB_ERR;
	}
	for (int i = 0; i < n; i++) {
		struct refund rf;
		if (refund_load(db, &a, due[i].merchant, due[i].id, &rf) != DB_OK)
			continue;
		const char *from = rf.status;
		if (strcmp(rf.status, "requires_action") == 0) {
			/* its customer never gave their bank details: it expires */
			struct event_origin o = {NULL, NULL, 0};
			int rc = refund_action_cancel(db, &a, due[i].merchant, &o, &rf, c->now);
			if (rc == DB_CONFLICT)
				continue;
			if (rc != DB_OK) {
				arena_release(&a);
				return DB_ERR;
			}
			done++;
			continue;
		}
		if (strcmp(rf.status, "pending") == 0) {
			rf.status = "succeeded";
		} else if (strcmp(rf.status, "succeeded") == 0) {
			if (refund_reverse(db, &a, due[i].merchant, &rf, c->now) != DB_OK) {
				arena_release(&a);
				return DB_ERR;
			}
			rf.status = "failed";
			rf.failure_reason = "expired_or_canceled_card";
		} else {
			continue;
		}
		if (refund_transition(db, due[i].merchant, &rf, from) != DB_OK)
			continue;
		size_t len;
		const char *js = refund_json(&a, &rf, &len);
		struct event_origin o = {NULL, NULL, 0};
		/* charge.refund.updated too: the name Stripe's testing guide says these cards'
		 * refunds send, kept beside refund.updated for endpoints that listen to it */
		if (!js ||
		    event_append(db, due[i].merchant, &o, "refund.updated", rf.id, js, len, NULL,
				 c->now, NULL) != DB_OK ||
		    event_append(db, due[i].merchant, &o, "charge.refund.updated", rf.id, js, len,
				 NULL, c->now, NULL) != DB_OK ||
		    (strcmp(rf.status, "failed") == 0 &&
		     event_append(db, due[i].merchant, &o, "refund.failed", rf.id, js, len, NULL,
				  c->now, NULL) != DB_OK)) {
			arena_release(&a);
			return DB_ERR;
		}
		done++;
	}
	arena_release(&a);
	c->done += (int)shard_share_add(&c->share, db, done);
	return 0;
}

const char REFUNDS_SETTLE_DUE_SQL[] =
    "SELECT 1 FROM refunds WHERE settle_at IS NOT NULL AND settle_at <= $1 LIMIT 1";

int refunds_settle_tick(struct store *s, int64_t now)
{
	struct settle_ctx c = {.now = now};
	int rc = store_each_shard_write(s, settle_fn, &c);
	return rc == 0 ? c.done : rc;
}

static const char SQL_CURSOR[] = "SELECT created FROM refunds WHERE merchant_id = $1 AND id = $2";
/* CHARGE and INTENT: the two filters' terms; each is also a list_narrow (list.h) with the plain
 * `col = $n`, answered from refunds_charge / refunds_payment_intent */
#define LIST_SQL(CHARGE, INTENT, DIR)                                                              \
	"SELECT id FROM refunds WHERE merchant_id = $1 AND " CHARGE " AND " INTENT                 \
	" AND id > $2 AND id < $3 ORDER BY id " DIR " LIMIT $4"
#define ANY_CHARGE "($5 IS NULL OR charge = $5)"
#define ANY_INTENT "($6 IS NULL OR payment_intent = $6)"
static const char SQL_DESC[] = LIST_SQL(ANY_CHARGE, ANY_INTENT, "DESC");
static const char SQL_ASC[] = LIST_SQL(ANY_CHARGE, ANY_INTENT, "ASC");
static const char SQL_CHARGE_DESC[] = LIST_SQL("charge = $5", ANY_INTENT, "DESC");
static const char SQL_CHARGE_ASC[] = LIST_SQL("charge = $5", ANY_INTENT, "ASC");
static const char SQL_INTENT_DESC[] = LIST_SQL(ANY_CHARGE, "payment_intent = $6", "DESC");
static const char SQL_INTENT_ASC[] = LIST_SQL(ANY_CHARGE, "payment_intent = $6", "ASC");

static int list_bind(struct req *r, struct db_stmt *st, int first, void *ctx)
{
	list_bind_filter(r, st, first, "charge");
	list_bind_filter(r, st, first + 1, "payment_intent");
	return 0;
}

static int list_render(struct req *r, struct db *db, const char *id, struct json *j, void *ctx)
{
	struct refund rf;
	int rc = refund_load(db, &r->arena, r->merchant_id, id, &rf);
	if (rc != DB_OK)
		return rc;
	refund_render(&rf, j);
	return DB_OK;
}

int refund_render_id(struct req *r, struct db *db, const char *id, struct json *j)
{
	return list_render(r, db, id, j, NULL);
}

static int refunds_list(struct req *r, const char *url)
{
	const struct list_spec spec = {
	    .url = url,
	    .object_name = "refund",
	    .id_prefix = "re_",
	    .sql_cursor = SQL_CURSOR,
	    .sql_desc = SQL_DESC,
	    .sql_asc = SQL_ASC,
	    .narrow = {{"charge", SQL_CHARGE_DESC, SQL_CHARGE_ASC},
		       {"payment_intent", SQL_INTENT_DESC, SQL_INTENT_ASC}},
	    .bind_filters = list_bind,
	    .render = list_render,
	};
	return list_respond(r, &spec);
}

static int h_list(struct req *r)
{
	return refunds_list(r, "/v1/refunds");
}

/* ---- the Charges API's nested refund routes (older SDKs): thin adapters over the above ---- */

static int charge_exists_fn(struct db *db, void *p)
{
	struct req *r = p;
	struct charge ch;
	int rc = charge_load(db, &r->arena, r->merchant_id, r->args[0], &ch);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(r, "charge", r->args[0], "charge");
	return rc == DB_OK ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

/* GET /v1/charges/{charge}/refunds: the list filtered by charge, under the charge's url */
static int h_charge_list(struct req *r)
{
	if (req_read(r, charge_exists_fn, r) != 0)
		return -1;
	if (req_param_set(r, "charge", r->args[0]) != 0)
		return -1;
	const char *url = arena_printf(&r->arena, "/v1/charges/%s/refunds", r->args[0]);
	if (!url)
		return req_fail(r, ERR_API, NULL, NULL);
	return refunds_list(r, url);
}

/* POST /v1/charges/{charge}/refunds: POST /v1/refunds with the path's charge */
static int h_charge_create(struct req *r)
{
	/* a refund of a customer's cash balance has no charge (Stripe's refusal here: it is
	 * POST /v1/refunds' own) */
	const char *cash = param_present(r, "origin")	  ? "origin"
			   : param_present(r, "customer") ? "customer"
							  : NULL;
	if (cash)
		return req_fail(r, ERR_PARAM_BAD, cash,
				"A refund of a customer's cash balance (origin=customer_balance, "
				"customer, currency) has no charge: make it with POST /v1/refunds, "
				"not on charge %s.",
				r->args[0]);
	if (req_param_set(r, "charge", r->args[0]) != 0)
		return -1;
	return h_create(r);
}

static int h_charge_retrieve(struct req *r)
{
	struct id_ctx x = {r, r->args[1], r->args[0]};
	return req_read(r, retrieve_fn, &x) == 0 ? 0 : -1;
}

static int h_charge_update(struct req *r)
{
	struct id_ctx x = {r, r->args[1], r->args[0]};
	return req_write(r, update_fn, &x);
}

/* POST /v1/charges/{charge}/refund (the oldest form): the same refund, in the same write, but
 * the answer is the charge as it is after it (expand[] applies to the charge). */
static int charge_refund_fn(struct db *db, void *p)
{
	struct req *r = p;
	if (create_fn(db, r) != 0)
		return -1;
	struct charge ch;
	if (charge_load(db, &r->arena, r->merchant_id, param_str(r, "charge"), &ch) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	struct expand_set ex;
	payments_expand_from_req(r, &ex, NULL);
	if (charge_render(db, &r->arena, r->merchant_id, r->livemode, &ch, &ex, req_json(r)) !=
	    DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	return 0;
}

static int h_charge_refund(struct req *r)
{
	if (req_param_set(r, "charge", r->args[0]) != 0)
		return -1;
	return create_write(r, charge_refund_fn);
}

/*
 * POST /v1/test_helpers/refunds/{refund}/expire: Stripe expires a refund that waits on the
 * customer (status requires_action: a refund to the customer's bank account, waiting for their
 * bank details) and it becomes canceled, as when its 45 days pass (refund_action_cancel); a
 * refund in any other state is Stripe's 400, a missing refund its 404.
 */
static int expire_fn(struct db *db, void *p)
{
	struct id_ctx *x = p;
	struct req *r = x->r;
	struct refund rf;
	int rc = refund_load(db, &r->arena, r->merchant_id, x->id, &rf);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(r, "refund", x->id, "refund");
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (strcmp(rf.status, "requires_action") != 0)
		return req_fail(r, ERR_INVALID_STATE, NULL,
				"Only a refund with a status of requires_action can be expired; "
				"refund %s has a status of %s.",
				rf.id, rf.status);
	struct event_origin o = {r->request_id[0] ? r->request_id : NULL, r->idempotency_key,
				 r->livemode};
	if (refund_action_cancel(db, &r->arena, r->merchant_id, &o, &rf, r->now) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	refund_render(&rf, req_json(r));
	return 0;
}

static int h_expire(struct req *r)
{
	if (r->livemode)
		return req_fail(r, ERR_PARAM_BAD, NULL,
				"Test helpers can only be used with a test mode key.");
	struct id_ctx x = {r, r->args[0], NULL};
	return req_write(r, expire_fn, &x);
}

const struct route refunds_routes[] = {
    {"POST", "/v1/refunds", h_create, create_params, 0},
    {"GET", "/v1/refunds", h_list, list_params, ROUTE_LIST},
    {"GET", "/v1/refunds/{id}", h_retrieve, no_params, 0},
    {"POST", "/v1/refunds/{id}", h_update, update_params, 0},
    {"POST", "/v1/refunds/{id}/cancel", h_cancel, no_params, 0},
    {"GET", "/v1/charges/{charge}/refunds", h_charge_list, no_params, ROUTE_LIST},
    {"POST", "/v1/charges/{charge}/refunds", h_charge_create, charge_refunds_params, 0},
    {"GET", "/v1/charges/{charge}/refunds/{id}", h_charge_retrieve, no_params, 0},
    {"POST", "/v1/charges/{charge}/refunds/{id}", h_charge_update, update_params, 0},
    {"POST", "/v1/charges/{charge}/refund", h_charge_refund, charge_refund_params, 0},
    {"POST", "/v1/test_helpers/refunds/{refund}/expire", h_expire, no_params, 0},
    {NULL, NULL, NULL, NULL, 0},
};
