/*
 * Disputes: see dispute.h for the lifecycle, the network's test-mode behaviour and the dates.
 *
 * Races. Every status change is `UPDATE disputes … WHERE merchant_id AND id AND status = <the
 * status this caller saw>`, and only the caller whose update changed the row moves money and
 * appends events; so the scheduler deciding a dispute and a merchant closing it at the same time
 * cannot both win, on SQLite's single writer or under PostgreSQL's SERIALIZABLE retries alike.
 * Opening is guarded twice: the charge's disputed flag flips 0 → 1 by a conditional update, and
 * the unique (merchant_id, charge) index refuses a second row. The network's jobs are claimed
 * the same way (status pending → done).
 */
#include "disputes/dispute.h"
#include "core/str.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "disputes/early_fraud_warning.h"
#include "ledger/ledger.h"
#include "ledger/ledger_dispute.h"
#include "payments/payments.h"
#include "processor/processor.h"
#include "risk/review.h"
#include "store/store.h"
#include "scheduler/scheduler.h"

#define DAY_S 86400
#define TICK_BATCH 64
#define RENDER_BALANCE_TXNS_MAX 8 /* a dispute has at most two; bound the loop anyway */

const char *const dispute_evidence_fields[] = {
    "access_activity_log",
    "billing_address",
    "cancellation_policy",
    "cancellation_policy_disclosure",
    "cancellation_rebuttal",
    "customer_communication",
    "customer_email_address",
    "customer_name",
    "customer_purchase_ip",
    "customer_signature",
    "duplicate_charge_documentation",
    "duplicate_charge_explanation",
    "duplicate_charge_id",
    "product_description",
    "receipt",
    "refund_policy",
    "refund_policy_disclosure",
    "refund_refusal_explanation",
    "service_date",
    "service_documentation",
    "shipping_address",
    "shipping_carrier",
    "shipping_date",
    "shipping_documentation",
    "shipping_tracking_number",
    "uncategorized_file",
    "uncategorized_text",
    NULL,
};

const char *const dispute_reasons[] = {
    "bank_cannot_process",
    "check_returned",
    "credit_not_processed",
    "customer_initiated",
    "debit_not_authorized",
    "duplicate",
    "fraudulent",
    "general",
    "incorrect_account_details",
    "insufficient_funds",
    "product_not_received",
    "product_unacceptable",
    "subscription_canceled",
    "unrecognized",
    NULL,
};

bool dispute_status_is_inquiry(const char *status)
{
	return status && strncmp(status, "warning_", 8) == 0;
}

bool dispute_status_is_closed(const char *status)
{
	return status && (strcmp(status, "won") == 0 || strcmp(status, "lost") == 0 ||
			  strcmp(status, "warning_closed") == 0);
}

static bool reason_known(const char *reason)
{
	for (size_t i = 0; reason && dispute_reasons[i]; i++)
		if (strcmp(dispute_reasons[i], reason) == 0)
			return true;
	return false;
}

int dispute_due_by(int64_t created, bool inquiry, int64_t *ret_due_by)
{
	int64_t days = inquiry ? DISPUTE_INQUIRY_DUE_DAYS : DISPUTE_DUE_DAYS;
	int64_t t;
	if (created < 0 || __builtin_add_overflow(created, days * DAY_S, &t))
		return LEDGER_ERR_OVERFLOW;
	/* the end of that UTC day: 23:59:59 */
	int64_t end = t - t % DAY_S;
	if (__builtin_add_overflow(end, DAY_S - 1, &end))
		return LEDGER_ERR_OVERFLOW;
	*ret_due_by = end;
	return DB_OK;
}

/* Calls fn on every string value of the evidence object; stops when fn returns non-zero. */
static int evidence_each(const char *evidence_json, int (*fn)(const char *v, void *ctx), void *ctx)
{
	if (!evidence_json)
		return 0;
	json_error_t e;
	json_t *doc = json_loads(evidence_json, 0, &e);
	if (!doc)
		return 0;
	int found = 0;
	const char *k;
	json_t *v;
	json_object_foreach(doc, k, v)
	{
		if (json_is_string(v) && (found = fn(json_string_value(v), ctx)) != 0)
			break;
	}
	json_decref(doc);
	return found;
}

static int contains(const char *v, void *ctx)
{
	return strstr(v, ctx) != NULL;
}

static int nonempty(const char *v, void *ctx)
{
	(void)ctx;
	return *v != '\0';
}

int dispute_evidence_decision(const char *evidence_json)
{
	/* winning_evidence is looked for first: evidence that names both wins */
	if (evidence_each(evidence_json, contains, (void *)"winning_evidence"))
		return 1;
	if (evidence_each(evidence_json, contains, (void *)"losing_evidence"))
		return -1;
	return 0;
}

bool dispute_has_evidence(const char *evidence_json)
{
	return evidence_each(evidence_json, nonempty, NULL) != 0;
}

static const char *dup(struct arena *a, struct db_stmt *st, int col)
{
	const char *t = db_col_text(st, col, NULL);
	return t ? arena_strdup(a, t) : NULL;
}

static const char SQL_GET[] =
    "SELECT id, created, charge, payment_intent, amount, currency, reason, status, evidence,"
    " metadata, due_by, past_due, submission_count, decide_at, brand, network_reason_code"
    " FROM disputes WHERE merchant_id = $1 AND id = $2";

int dispute_load(struct db *db, struct arena *a, const char *merchant_id, const char *id,
		 struct dispute *d)
{
	struct db_stmt *st = db_prepare(db, SQL_GET);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, id, -1);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		memset(d, 0, sizeof(*d));
		const char *did = db_col_text(st, 0, NULL), *cur = db_col_text(st, 5, NULL);
		str_copy(d->id, sizeof(d->id), did ? did : "");
		d->created = db_col_int64(st, 1);
		d->charge = dup(a, st, 2);
		d->payment_intent = dup(a, st, 3);
		d->amount = db_col_int64(st, 4);
		str_copy(d->currency, sizeof(d->currency), cur ? cur : "");
		d->reason = dup(a, st, 6);
		d->status = dup(a, st, 7);
		d->evidence = dup(a, st, 8);
		d->metadata = dup(a, st, 9);
		d->due_by = db_col_int64(st, 10);
		d->past_due = db_col_int64(st, 11) != 0;
		d->submission_count = db_col_int64(st, 12);
		d->decide_at = db_col_is_null(st, 13) ? 0 : db_col_int64(st, 13);
		d->brand = dup(a, st, 14);
		d->network_reason_code = dup(a, st, 15);
	}
	db_reset(st);
	if (rc == DB_ROW)
		return d->charge && d->status && d->reason ? DB_OK : DB_ERR;
	return rc == DB_DONE ? DB_NOTFOUND : (rc < 0 ? rc : DB_ERR);
}

/* INDEXED BY: SQLite would otherwise walk the merchant's balance transactions (see
 * SQL_BT_FX_REFUND in ledger.c; the index leaves charges' out, and SQLite uses it only for a
 * query that repeats that condition); a dispute has at most a few, sorted after the lookup */
#define BTS_WHERE                                                                                  \
	" WHERE merchant_id = $1 AND source = $2 AND type <> 'charge'"                             \
	" ORDER BY created, id LIMIT 8"
static const char SQL_BTS[] =
    "SELECT id FROM balance_transactions INDEXED BY balance_transactions_source" BTS_WHERE;
static const char SQL_BTS_PG[] = "SELECT id FROM balance_transactions" BTS_WHERE;

static int render_balance_txns(struct db *db, const char *merchant_id, const char *dispute_id,
			       struct json *j)
{
	char ids[RENDER_BALANCE_TXNS_MAX][ID_MAX];
	int n = 0, rc;
	struct db_stmt *st = db_prepare(db, db_kind(db) == DB_POSTGRES ? SQL_BTS_PG : SQL_BTS);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, dispute_id, -1);
	while (n < RENDER_BALANCE_TXNS_MAX && (rc = db_step(st)) == DB_ROW) {
		const char *id = db_col_text(st, 0, NULL);
		str_copy(ids[n++], ID_MAX, id ? id : "");
	}
	db_reset(st);
	if (n < RENDER_BALANCE_TXNS_MAX && rc != DB_DONE)
		return rc < 0 ? rc : DB_ERR;
	json_arr_open(j);
	for (int i = 0; i < n; i++) {
		rc = ledger_balance_txn_render(db, merchant_id, ids[i], j);
		if (rc != DB_OK)
			return rc;
	}
	json_arr_close(j);
	return DB_OK;
}

/* The evidence object; a file field that expand[] names (evidence.receipt …) is its File
 * object, as on Stripe (a file that cannot be found stays its id). */
static int render_evidence(struct db *db, const struct dispute_expand *ex, struct json *j,
			   const char *evidence_json)
{
	json_error_t e;
	json_t *doc = evidence_json ? json_loads(evidence_json, 0, &e) : NULL;
	int rc = DB_OK;
	json_obj_open(j);
	for (size_t i = 0; dispute_evidence_fields[i] && rc == DB_OK; i++) {
		const char *field = dispute_evidence_fields[i];
		json_t *v = doc ? json_object_get(doc, field) : NULL;
		const char *s = json_is_string(v) ? json_string_value(v) : NULL;
		if (s && *s && ex && ex->render && ex->evidence_expanded &&
		    ex->evidence_expanded(ex->ctx, field)) {
			char path[64];
			snprintf(path, sizeof(path), "evidence.%s", field);
			json_key(j, field);
			rc = ex->render(ex->ctx, db, path, s, j);
			if (rc == DB_NOTFOUND) {
				json_str_or_null(j, s);
				rc = DB_OK;
			}
			continue;
		}
		json_kv_str_or_null(j, field, s && *s ? s : NULL);
	}
	json_obj_close(j);
	json_decref(doc);
	return rc;
}

int dispute_render(struct db *db, const char *merchant_id, int livemode, const struct dispute *d,
		   const struct dispute_expand *ex, struct json *j)
{
	json_obj_open(j);
	json_kv_str(j, "id", d->id);
	json_kv_str(j, "object", "dispute");
	json_kv_int(j, "amount", d->amount);
	json_key(j, "balance_transactions");
	int rc = render_balance_txns(db, merchant_id, d->id, j);
	if (rc != DB_OK)
		return rc;
	if (ex && ex->charge && ex->render) {
		json_key(j, "charge");
		rc = ex->render(ex->ctx, db, "charge", d->charge, j);
		if (rc != DB_OK)
			return rc;
	} else {
		json_kv_str(j, "charge", d->charge);
	}
	json_kv_int(j, "created", d->created);
	json_kv_str(j, "currency", d->currency);
	json_key(j, "evidence");
	rc = render_evidence(db, ex, j, d->evidence);
	if (rc != DB_OK)
		return rc;
	json_key(j, "evidence_details");
	json_obj_open(j);
	json_kv_int(j, "due_by", d->due_by);
	json_kv_bool(j, "has_evidence", dispute_has_evidence(d->evidence));
	json_kv_bool(j, "past_due", d->past_due);
	json_kv_int(j, "submission_count", d->submission_count);
	json_obj_close(j);
	/* Stripe: a chargeback's charge cannot be refunded; an inquiry's can */
	json_kv_bool(j, "is_charge_refundable", dispute_status_is_inquiry(d->status));
	json_kv_bool(j, "livemode", livemode != 0);
	json_kv_raw(j, "metadata", d->metadata ? d->metadata : "{}",
		    d->metadata ? strlen(d->metadata) : 2);
	if (ex && ex->payment_intent && ex->render && d->payment_intent) {
		json_key(j, "payment_intent");
		rc = ex->render(ex->ctx, db, "payment_intent", d->payment_intent, j);
		if (rc != DB_OK)
			return rc;
	} else {
		json_kv_str_or_null(j, "payment_intent", d->payment_intent);
	}
	json_key(j, "payment_method_details");
	json_obj_open(j);
	json_key(j, "card");
	json_obj_open(j);
	json_kv_str(j, "brand", d->brand ? d->brand : "unknown");
	json_kv_str_or_null(j, "network_reason_code", d->network_reason_code);
	json_obj_close(j);
	json_kv_str(j, "type", "card");
	json_obj_close(j);
	json_kv_str(j, "reason", d->reason);
	json_kv_str(j, "status", d->status);
	json_obj_close(j);
	return DB_OK;
}

const char *dispute_json(struct db *db, struct arena *a, const char *merchant_id, int livemode,
			 const struct dispute *d, size_t *ret_len)
{
	struct buf b;
	struct json j;
	buf_init(&b, 1u << 20);
	json_init(&j, &b);
	const char *s = NULL;
	if (dispute_render(db, merchant_id, livemode, d, NULL, &j) == DB_OK && !b.failed) {
		s = arena_strndup(a, b.data, b.len);
		*ret_len = b.len;
	}
	buf_release(&b);
	return s;
}

static int emit(struct db *db, struct arena *a, const char *merchant_id,
		const struct event_origin *origin, const struct dispute *d, const char *type,
		const char *prev, int64_t now)
{
	size_t len = 0;
	const char *js = dispute_json(db, a, merchant_id, origin->livemode, d, &len);
	if (!js)
		return DB_ERR;
	return event_append(db, merchant_id, origin, type, d->id, js, len, prev, now, NULL);
}

/* ---- opening ---- */

static const char SQL_CHARGE[] =
    "SELECT payment_intent, amount_captured, amount_refunded, currency, status, captured,"
    " disputed, card FROM charges WHERE merchant_id = $1 AND id = $2";
static const char SQL_MARK_DISPUTED[] =
    "UPDATE charges SET disputed = 1 WHERE merchant_id = $1 AND id = $2 AND disputed = 0"
    " AND status = 'succeeded' AND captured = 1";
static const char SQL_INSERT[] =
    "INSERT INTO disputes (merchant_id, id, created, charge, payment_intent, amount, currency,"
    " reason, status, evidence, metadata, due_by, past_due, submission_count, decide_at, brand,"
    " network_reason_code) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, '{}', '{}', $10, 0, 0,"
    " NULL, $11, $12) ON CONFLICT (merchant_id, charge) DO NOTHING";

/* The card network's reason code for a reason (Visa and Mastercard; null elsewhere). */
static const char *network_reason_code(const char *brand, const char *reason)
{
	bool fraud = strcmp(reason, "fraudulent") == 0;
	bool not_received = strcmp(reason, "product_not_received") == 0;
	if (!brand || (!fraud && !not_received))
		return NULL;
	if (strcmp(brand, "visa") == 0)
		return fraud ? "10.4" : "13.1";
	if (strcmp(brand, "mastercard") == 0)
		return fraud ? "4837" : "4855";
	return NULL;
}

static const char *card_brand(struct arena *a, const char *card_json)
{
	json_error_t e;
	json_t *doc = card_json ? json_loads(card_json, 0, &e) : NULL;
	const char *b = json_string_value(json_object_get(doc, "brand"));
	const char *s = b ? arena_strdup(a, b) : NULL;
	json_decref(doc);
	return s;
}

int dispute_open(struct db *db, struct arena *a, const char *merchant_id,
		 const struct event_origin *origin, const char *charge_id, const char *reason,
		 int64_t amount, int64_t now, struct dispute *ret)
{
	bool inquiry = reason && strcmp(reason, "inquiry") == 0;
	if (!inquiry && !reason_known(reason))
		return DISPUTE_ERR_REASON;
	if (amount < 0)
		return DISPUTE_ERR_AMOUNT;
	struct db_stmt *st = db_prepare(db, SQL_CHARGE);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, charge_id, -1);
	int rc = db_step(st);
	struct dispute d;
	memset(&d, 0, sizeof(d));
	int64_t captured = 0, refunded = 0;
	bool ok_state = false, disputed = false;
	const char *card = NULL;
	if (rc == DB_ROW) {
		const char *cur = db_col_text(st, 3, NULL), *status = db_col_text(st, 4, NULL);
		d.payment_intent = dup(a, st, 0);
		captured = db_col_int64(st, 1);
		refunded = db_col_int64(st, 2);
		str_copy(d.currency, sizeof(d.currency), cur ? cur : "");
		ok_state = status && strcmp(status, "succeeded") == 0 && db_col_int64(st, 5) != 0;
		disputed = db_col_int64(st, 6) != 0;
		if (charge_json_col(a, st, 7, &card) != DB_OK)
			rc = DB_ERR;
	}
	db_reset(st);
	if (rc == DB_DONE)
		return DB_NOTFOUND;
	if (rc != DB_ROW)
		return rc < 0 ? rc : DB_ERR;
	if (disputed)
		return DISPUTE_ERR_DISPUTED;
	if (!ok_state)
		return DISPUTE_ERR_STATE;
	int64_t left;
	if (__builtin_sub_overflow(captured, refunded, &left) || left <= 0)
		return DISPUTE_ERR_AMOUNT;
	if (amount == 0)
		amount = left;
	if (amount > left)
		return DISPUTE_ERR_AMOUNT;

	id_new_at(d.id, "dp_", now);
	d.created = now;
	d.charge = arena_strdup(a, charge_id);
	d.amount = amount;
	d.reason = inquiry ? "general" : reason;
	d.status = inquiry ? "warning_needs_response" : "needs_response";
	d.evidence = "{}";
	d.metadata = "{}";
	d.brand = card_brand(a, card);
	d.network_reason_code = network_reason_code(d.brand, d.reason);
	if (!d.charge)
		return DB_ERR;
	rc = dispute_due_by(now, inquiry, &d.due_by);
	if (rc != DB_OK)
		return rc;

	/* the first guard: only one opener flips the flag */
	st = db_prepare(db, SQL_MARK_DISPUTED);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, charge_id, -1);
	rc = db_step(st);
	int64_t changed = rc == DB_DONE ? db_changes(st) : 0;
	db_reset(st);
	if (rc != DB_DONE)
		return rc < 0 ? rc : DB_ERR;
	if (changed != 1)
		return DISPUTE_ERR_DISPUTED;

	st = db_prepare(db, SQL_INSERT);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, d.id, -1);
	db_bind_int64(st, 3, d.created);
	db_bind_text(st, 4, d.charge, -1);
	db_bind_text(st, 5, d.payment_intent, -1);
	db_bind_int64(st, 6, d.amount);
	db_bind_text(st, 7, d.currency, -1);
	db_bind_text(st, 8, d.reason, -1);
	db_bind_text(st, 9, d.status, -1);
	db_bind_int64(st, 10, d.due_by);
	db_bind_text(st, 11, d.brand, -1);
	db_bind_text(st, 12, d.network_reason_code, -1);
	rc = db_step(st);
	changed = rc == DB_DONE ? db_changes(st) : 0;
	db_reset(st);
	if (rc != DB_DONE)
		return rc < 0 ? rc : DB_ERR;
	if (changed != 1)
		return DISPUTE_ERR_DISPUTED; /* the second guard: the unique index */

	if (!inquiry) {
		int64_t booked, fee;
		char booked_currency[8];
		rc = ledger_dispute_booking_amount(db, merchant_id, d.charge, d.amount, d.currency,
						   &booked, booked_currency);
		if (rc == DB_OK)
			rc = ledger_dispute_fee(booked_currency, &fee);
		if (rc == DB_OK)
			rc = ledger_dispute_withdraw(db, merchant_id, d.id, d.charge, d.amount, fee,
						     d.currency, now, NULL);
		if (rc != DB_OK)
			return rc;
	}
	rc = emit(db, a, merchant_id, origin, &d, "charge.dispute.created", NULL, now);
	if (rc == DB_OK && !inquiry)
		rc = emit(db, a, merchant_id, origin, &d, "charge.dispute.funds_withdrawn", NULL,
			  now);
	if (rc == DB_OK) /* a disputed charge's early fraud warning is no longer actionable */
		rc = efw_charge_changed(db, merchant_id, origin, d.charge, now);
	if (rc == DB_OK) /* and its review, if it is in one, is closed */
		rc = review_close_for_charge(db, merchant_id, origin, d.charge, "disputed", now);
	if (rc != DB_OK)
		return rc;
	if (ret)
		*ret = d;
	return DB_OK;
}

static const char SQL_JOB_INSERT[] =
    "INSERT INTO dispute_jobs (merchant_id, charge, reason, amount, created, due_at, status)"
    " VALUES ($1, $2, $3, $4, $5, $6, 'pending') ON CONFLICT (merchant_id, charge) DO NOTHING";

int dispute_network_schedule(struct db *db, const char *merchant_id, const char *charge_id,
			     const char *auth_code, int64_t amount, int64_t now)
{
	if (!auth_code || amount <= 0)
		return DB_OK;
	enum acq_behavior b;
	int rc = processor_card_behavior(db, merchant_id, charge_id, &b);
	if (rc != DB_OK)
		return rc;
	return dispute_network_schedule_known(db, merchant_id, charge_id, auth_code, amount, now,
					      (int)b);
}

int dispute_network_schedule_known(struct db *db, const char *merchant_id, const char *charge_id,
				   const char *auth_code, int64_t amount, int64_t now, int behavior)
{
	if (!auth_code || amount <= 0)
		return DB_OK;
	enum acq_behavior b = (enum acq_behavior)behavior;
	const char *reason = b == ACQ_DISPUTE_FRAUDULENT	     ? "fraudulent"
			     : b == ACQ_DISPUTE_PRODUCT_NOT_RECEIVED ? "product_not_received"
			     : b == ACQ_DISPUTE_INQUIRY		     ? "inquiry"
			     : b == ACQ_EARLY_FRAUD_WARNING	     ? EFW_JOB_REASON
								     : NULL;
	if (!reason)
		return DB_OK;
	int64_t due;
	if (__builtin_add_overflow(now, DISPUTE_NETWORK_DELAY_S, &due))
		return LEDGER_ERR_OVERFLOW;
	struct db_stmt *st = db_prepare(db, SQL_JOB_INSERT);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, charge_id, -1);
	db_bind_text(st, 3, reason, -1);
	db_bind_int64(st, 4, amount);
	db_bind_int64(st, 5, now);
	db_bind_int64(st, 6, due);
	return db_step_done(st);
}

/* ---- changes ---- */

static const char SQL_STORE[] =
    "UPDATE disputes SET status = $4, evidence = $5, metadata = $6, past_due = $7,"
    " submission_count = $8, decide_at = $9 WHERE merchant_id = $1 AND id = $2 AND status = $3";

/* Writes d's mutable columns if the row still has status `from`. DB_CONFLICT if not. */
static int dispute_store(struct db *db, const char *merchant_id, const struct dispute *d,
			 const char *from)
{
	struct db_stmt *st = db_prepare(db, SQL_STORE);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, d->id, -1);
	db_bind_text(st, 3, from, -1);
	db_bind_text(st, 4, d->status, -1);
	db_bind_text(st, 5, d->evidence ? d->evidence : "{}", -1);
	db_bind_text(st, 6, d->metadata ? d->metadata : "{}", -1);
	db_bind_int64(st, 7, d->past_due ? 1 : 0);
	db_bind_int64(st, 8, d->submission_count);
	if (d->decide_at)
		db_bind_int64(st, 9, d->decide_at);
	else
		db_bind_null(st, 9);
	int rc = db_step(st);
	int64_t n = rc == DB_DONE ? db_changes(st) : 0;
	db_reset(st);
	if (rc != DB_DONE)
		return rc < 0 ? rc : DB_ERR;
	return n == 1 ? DB_OK : DB_CONFLICT;
}

static bool needs_response(const char *status)
{
	return strcmp(status, "needs_response") == 0 ||
	       strcmp(status, "warning_needs_response") == 0;
}

/* {"status":"<old>"} for previous_attributes, in arena memory */
static const char *prev_status(struct arena *a, const char *old)
{
	size_t n = strlen(old) + 16;
	char *s = arena_alloc(a, n);
	if (s)
		snprintf(s, n, "{\"status\":\"%s\"}", old);
	return s;
}

int dispute_update(struct db *db, struct arena *a, const char *merchant_id,
		   const struct event_origin *origin, struct dispute *d,
		   const struct dispute_change *change, int64_t now)
{
	const char *from = d->status;
	bool touches_evidence = change->evidence || change->submit;
	if (dispute_status_is_closed(from) || (touches_evidence && !needs_response(from)))
		return DISPUTE_ERR_STATE;
	if (change->evidence)
		d->evidence = change->evidence;
	if (change->metadata)
		d->metadata = change->metadata;
	if (change->submit) {
		d->status =
		    dispute_status_is_inquiry(from) ? "warning_under_review" : "under_review";
		d->submission_count++;
		if (__builtin_add_overflow(now, DISPUTE_NETWORK_DELAY_S, &d->decide_at))
			return LEDGER_ERR_OVERFLOW;
	}
	int rc = dispute_store(db, merchant_id, d, from);
	if (rc != DB_OK)
		return rc;
	const char *prev = strcmp(from, d->status) != 0 ? prev_status(a, from) : NULL;
	return emit(db, a, merchant_id, origin, d, "charge.dispute.updated", prev, now);
}

/* Moves d from its status to `to`, reinstating the funds when a chargeback is won; appends
 * charge.dispute.funds_reinstated (won) and charge.dispute.closed. */
static int dispute_finish(struct db *db, struct arena *a, const char *merchant_id,
			  const struct event_origin *origin, struct dispute *d, const char *to,
			  bool past_due, int64_t now)
{
	const char *from = d->status;
	d->status = to;
	d->decide_at = 0;
	d->past_due = d->past_due || past_due;
	int rc = dispute_store(db, merchant_id, d, from);
	if (rc != DB_OK)
		return rc;
	bool won = strcmp(to, "won") == 0;
	if (won) {
		rc = ledger_dispute_reinstate(db, merchant_id, d->id, d->charge, d->amount,
					      d->currency, now, NULL);
		if (rc != DB_OK)
			return rc;
	}
	const char *prev = prev_status(a, from);
	if (won)
		rc = emit(db, a, merchant_id, origin, d, "charge.dispute.funds_reinstated", prev,
			  now);
	if (rc == DB_OK)
		rc = emit(db, a, merchant_id, origin, d, "charge.dispute.closed", prev, now);
	return rc;
}

int dispute_close(struct db *db, struct arena *a, const char *merchant_id,
		  const struct event_origin *origin, struct dispute *d, int64_t now)
{
	if (!needs_response(d->status))
		return DISPUTE_ERR_STATE;
	const char *to = dispute_status_is_inquiry(d->status) ? "warning_closed" : "lost";
	return dispute_finish(db, a, merchant_id, origin, d, to, false, now);
}

static const char SQL_BLOCKED[] =
    "SELECT amount, status FROM disputes WHERE merchant_id = $1 AND charge = $2";

int dispute_charge_blocked_amount(struct db *db, const char *merchant_id, const char *charge_id,
				  int64_t *ret_amount)
{
	struct db_stmt *st = db_prepare(db, SQL_BLOCKED);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, charge_id, -1);
	int rc = db_step(st);
	int64_t amount = 0;
	if (rc == DB_ROW && !dispute_status_is_inquiry(db_col_text(st, 1, NULL)))
		amount = db_col_int64(st, 0);
	db_reset(st);
	if (rc != DB_ROW && rc != DB_DONE)
		return rc < 0 ? rc : DB_ERR;
	*ret_amount = amount;
	return DB_OK;
}

static const char SQL_RATE_DISPUTES[] =
    "SELECT COUNT(*) FROM disputes WHERE merchant_id = $1 AND status NOT IN"
    " ('warning_needs_response', 'warning_under_review', 'warning_closed')";
static const char SQL_RATE_CHARGES[] =
    "SELECT COUNT(*) FROM charges WHERE merchant_id = $1 AND status = 'succeeded'"
    " AND captured = 1";

static int count(struct db *db, const char *sql, const char *merchant_id, int64_t *ret)
{
	struct db_stmt *st = db_prepare(db, sql);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	int rc = db_step(st);
	if (rc == DB_ROW)
		*ret = db_col_int64(st, 0);
	db_reset(st);
	return rc == DB_ROW ? DB_OK : (rc < 0 ? rc : DB_ERR);
}

int dispute_rate(struct db *db, const char *merchant_id, int64_t *ret_disputes,
		 int64_t *ret_charges)
{
	int64_t d = 0, c = 0;
	int rc = count(db, SQL_RATE_DISPUTES, merchant_id, &d);
	if (rc == DB_OK)
		rc = count(db, SQL_RATE_CHARGES, merchant_id, &c);
	if (rc != DB_OK)
		return rc;
	*ret_disputes = d;
	*ret_charges = c;
	return DB_OK;
}

static const char SQL_OWNED[] = "SELECT 1 FROM charges WHERE merchant_id = $1 AND id = $2";

int dispute_charge_owned(struct db *db, const char *merchant_id, const char *charge_id)
{
	struct db_stmt *st = db_prepare(db, SQL_OWNED);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, charge_id, -1);
	int rc = db_step(st);
	db_reset(st);
	if (rc == DB_ROW)
		return 1;
	return rc == DB_DONE ? 0 : (rc < 0 ? rc : DB_ERR);
}

int dispute_rate_bps(int64_t disputes, int64_t charges, int64_t *ret_bps, bool *ret_above)
{
	if (disputes < 0 || charges < 0)
		return LEDGER_ERR_INVALID;
	int64_t d10k, limit, rounded;
	if (__builtin_mul_overflow(disputes, 10000, &d10k) ||
	    __builtin_mul_overflow(DISPUTE_RATE_THRESHOLD_BPS, charges, &limit) ||
	    __builtin_add_overflow(d10k, charges / 2, &rounded))
		return LEDGER_ERR_OVERFLOW;
	if (charges == 0) {
		*ret_bps = 0;
		*ret_above = disputes > 0;
		return DB_OK;
	}
	/* rounded half up for display; the flag compares exactly: d / c > 1 % ⇔ d × 10000 > 100 c
	 */
	*ret_bps = rounded / charges;
	*ret_above = d10k > limit;
	return DB_OK;
}

/* ---- the scheduler: the network's side ---- */

struct due_row {
	char merchant[ID_MAX], key[ID_MAX];
	char reason[32];
	int64_t amount, at;
};

/* Reads up to TICK_BATCH rows of (merchant, key[, reason, amount], at) from a due statement. */
static int due_rows(struct db *db, const char *sql, int64_t now, struct due_row *rows,
		    bool with_reason)
{
	struct db_stmt *st = db_prepare(db, sql);
	if (!st)
		return DB_ERR;
	db_bind_int64(st, 1, now);
	const int batch = scheduler_batch(TICK_BATCH);
	db_bind_int64(st, 2, batch);
	int n = 0, rc = DB_DONE;
	while (n < batch && (rc = db_step(st)) == DB_ROW) {
		const char *m = db_col_text(st, 0, NULL), *k = db_col_text(st, 1, NULL);
		str_copy(rows[n].merchant, ID_MAX, m ? m : "");
		str_copy(rows[n].key, ID_MAX, k ? k : "");
		if (with_reason) {
			const char *r = db_col_text(st, 2, NULL);
			str_copy(rows[n].reason, sizeof(rows[n].reason), r ? r : "");
			rows[n].amount = db_col_int64(st, 3);
		}
		n++;
	}
	db_reset(st);
	if (n < batch && rc != DB_DONE)
		return rc < 0 ? rc : DB_ERR;
	return n;
}

/* the scheduler's statements are the ones not scoped by merchant: they find due work across the
 * shard's merchants through the (status, due_at) / decide_at / (status, due_by) indexes; every
 * change they lead to is scoped by merchant */
static const char SQL_JOBS_DUE[] =
    "SELECT merchant_id, charge, reason, amount FROM dispute_jobs WHERE status = 'pending'"
    " AND due_at <= $1 ORDER BY due_at LIMIT $2";
static const char SQL_JOB_CLAIM[] =
    "UPDATE dispute_jobs SET status = 'done', dispute = $3 WHERE merchant_id = $1 AND charge = $2"
    " AND status = 'pending'";
static const char SQL_DECIDE_DUE[] =
    "SELECT merchant_id, id FROM disputes WHERE decide_at IS NOT NULL AND decide_at <= $1"
    " ORDER BY decide_at LIMIT $2";
static const char SQL_EXPIRE_DUE[] =
    "SELECT merchant_id, id FROM disputes WHERE status IN ('needs_response',"
    " 'warning_needs_response') AND due_by < $1 ORDER BY due_by LIMIT $2";

static int job_claim(struct db *db, const char *merchant_id, const char *charge_id,
		     const char *dispute_id)
{
	struct db_stmt *st = db_prepare(db, SQL_JOB_CLAIM);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, charge_id, -1);
	db_bind_text(st, 3, dispute_id, -1);
	int rc = db_step(st);
	int64_t n = rc == DB_DONE ? db_changes(st) : 0;
	db_reset(st);
	if (rc != DB_DONE)
		return rc < 0 ? rc : DB_ERR;
	return n == 1 ? DB_OK : DB_CONFLICT;
}

static int open_due(struct db *db, struct arena *a, int64_t now, struct due_row *rows)
{
	int n = due_rows(db, SQL_JOBS_DUE, now, rows, true);
	if (n < 0)
		return n;
	int done = 0;
	const struct event_origin origin = {NULL, NULL, 0};
	for (int i = 0; i < n; i++) {
		struct dispute d;
		if (strcmp(rows[i].reason, EFW_JOB_REASON) == 0) {
			/* the issuer's early fraud warning rides the same network jobs */
			int rc = efw_open(db, rows[i].merchant, &origin, rows[i].key, now);
			if (rc == DB_OK)
				rc = job_claim(db, rows[i].merchant, rows[i].key, NULL);
			if (rc != DB_OK)
				return rc;
			done++;
			continue;
		}
		/* what the charge has left now: a refund since the capture shrinks the dispute */
		int rc = dispute_open(db, a, rows[i].merchant, &origin, rows[i].key, rows[i].reason,
				      0, now, &d);
		bool opened = rc == DB_OK;
		if (rc == DB_OK || rc == DISPUTE_ERR_DISPUTED || rc == DISPUTE_ERR_AMOUNT ||
		    rc == DISPUTE_ERR_STATE || rc == DB_NOTFOUND)
			/* a charge refunded in full, or disputed through the CLI meanwhile, has
			 * nothing left to dispute: the job is done without a dispute */
			rc = job_claim(db, rows[i].merchant, rows[i].key, opened ? d.id : NULL);
		if (rc == DB_CONFLICT)
			return DB_CONFLICT; /* claimed by another node: roll this batch back */
		if (rc != DB_OK)
			return rc;
		done += opened;
	}
	return done;
}

static int decide_due(struct db *db, struct arena *a, int64_t now, struct due_row *rows)
{
	int n = due_rows(db, SQL_DECIDE_DUE, now, rows, false);
	if (n < 0)
		return n;
	int done = 0;
	const struct event_origin origin = {NULL, NULL, 0};
	for (int i = 0; i < n; i++) {
		struct dispute d;
		int rc = dispute_load(db, a, rows[i].merchant, rows[i].key, &d);
		if (rc != DB_OK)
			return rc;
		bool inquiry = dispute_status_is_inquiry(d.status);
		if (strcmp(d.status, "under_review") != 0 &&
		    strcmp(d.status, "warning_under_review") != 0) {
			/* closed meanwhile: only the pending decision goes */
			d.decide_at = 0;
			rc = dispute_store(db, rows[i].merchant, &d, d.status);
			if (rc != DB_OK)
				return rc;
			continue;
		}
		int decision = dispute_evidence_decision(d.evidence);
		if (decision == 0) {
			/* no test keyword: the network keeps reviewing (Stripe's test mode) */
			const char *from = d.status;
			d.decide_at = 0;
			rc = inquiry ? dispute_finish(db, a, rows[i].merchant, &origin, &d,
						      "warning_closed", false, now)
				     : dispute_store(db, rows[i].merchant, &d, from);
		} else {
			const char *to = inquiry ? "warning_closed" : decision > 0 ? "won" : "lost";
			rc = dispute_finish(db, a, rows[i].merchant, &origin, &d, to, false, now);
		}
		if (rc != DB_OK)
			return rc;
		done++;
	}
	return done;
}

static int expire_due(struct db *db, struct arena *a, int64_t now, struct due_row *rows)
{
	int n = due_rows(db, SQL_EXPIRE_DUE, now, rows, false);
	if (n < 0)
		return n;
	const struct event_origin origin = {NULL, NULL, 0};
	for (int i = 0; i < n; i++) {
		struct dispute d;
		int rc = dispute_load(db, a, rows[i].merchant, rows[i].key, &d);
		if (rc != DB_OK)
			return rc;
		const char *to = dispute_status_is_inquiry(d.status) ? "warning_closed" : "lost";
		rc = dispute_finish(db, a, rows[i].merchant, &origin, &d, to, true, now);
		if (rc != DB_OK)
			return rc;
	}
	return n;
}

int disputes_tick_db(struct db *db, int64_t now)
{
	struct due_row *rows = calloc(TICK_BATCH, sizeof(*rows));
	if (!rows)
		return DB_ERR;
	struct arena a;
	arena_init(&a, 16u << 20);
	int total = 0;
	int rc = open_due(db, &a, now, rows);
	if (rc >= 0) {
		total += rc;
		rc = decide_due(db, &a, now, rows);
	}
	if (rc >= 0) {
		total += rc;
		rc = expire_due(db, &a, now, rows);
	}
	if (rc >= 0)
		total += rc;
	arena_release(&a);
	free(rows);
	return rc < 0 ? rc : total;
}

struct tick_ctx {
	int64_t now;
	int done;
	struct shard_share share;
};

static int tick_fn(struct db *db, void *p)
{
	struct tick_ctx *c = p;
	int n = disputes_tick_db(db, c->now);
	if (n < 0)
		return n;
	c->done += (int)shard_share_add(&c->share, db, n);
	return 0;
}

const char DISPUTES_DUE_SQL[] =
    "SELECT 1 FROM dispute_jobs WHERE status = 'pending' AND due_at <= $1"
    " UNION ALL SELECT 1 FROM disputes WHERE decide_at IS NOT NULL AND decide_at <= $1"
    " UNION ALL SELECT 1 FROM disputes WHERE status IN ('needs_response',"
    " 'warning_needs_response') AND due_by < $1 LIMIT 1";

int disputes_scheduler_tick(struct store *s, int64_t now)
{
	struct tick_ctx c = {.now = now};
	int rc = store_each_shard_write(s, tick_fn, &c);
	return rc == 0 ? c.done : (rc < 0 ? rc : DB_ERR);
}
