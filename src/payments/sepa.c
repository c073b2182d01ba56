#include "payments/sepa.h"

#include <stdio.h>
#include <string.h>

#include "api/billing_internal.h"
#include "app.h"
#include "api/resources.h"
#include "core/buf.h"
#include "core/str.h"
#include "disputes/dispute.h"
#include "events/events.h"
#include "ledger/ledger.h"
#include "payments/payments.h"
#include "processor/processor.h"
#include "scheduler/scheduler.h"
#include "vault/iban.h"
#include "vault/payment_method.h"
#include "vault/vault.h"

const char SEPA_OUTCOME_PENDING[] =
    "{\"network_status\":\"approved_by_network\",\"reason\":null,\"risk_level\":\"not_assessed\","
    "\"seller_message\":\"Payment complete.\",\"type\":\"authorized\"}";
static const char OUTCOME_FAILED[] =
    "{\"network_status\":\"declined_by_network\",\"reason\":\"generic_decline\","
    "\"risk_level\":\"not_assessed\",\"seller_message\":\"The bank returned the payment.\","
    "\"type\":\"issuer_declined\"}";

/* ---- mandates ---- */

void sepa_mandate_new(struct mandate *m, int64_t now)
{
	id_new_at(m->id, "mandate_", now);
	m->created = now;
	/* Stripe's references are 16 upper-case letters and digits */
	static const char ALNUM[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	char raw[17];
	id_random_base62(raw, 16);
	for (int i = 0; i < 16; i++)
		m->reference[i] = ALNUM[(unsigned char)raw[i] % 36];
	m->reference[16] = '\0';
}

void sepa_mandate_prefix(struct mandate *m, const char *prefix)
{
	size_t n = prefix ? strlen(prefix) : 0;
	if (n == 0 || n > SEPA_REFERENCE_PREFIX_MAX)
		return;
	char random[17];
	str_copy(random, sizeof(random), m->reference);
	snprintf(m->reference, sizeof(m->reference), "%s%s", prefix, random);
}

static const char SQL_MANDATE_INSERT[] =
    "INSERT INTO mandates (merchant_id, id, created, payment_method, type, status,"
    " acceptance_type, ip_address, user_agent, amount, currency, reference)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)";

int sepa_mandate_insert(struct db *db, const char *merchant_id, const struct mandate *m)
{
	struct db_stmt *st = db_prepare(db, SQL_MANDATE_INSERT);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, m->id, -1);
	db_bind_int64(st, 3, m->created);
	db_bind_text(st, 4, m->payment_method, -1);
	db_bind_text(st, 5, m->type, -1);
	db_bind_text(st, 6, m->status, -1);
	db_bind_text(st, 7, m->acceptance_type, -1);
	db_bind_text(st, 8, m->ip_address, -1);
	db_bind_text(st, 9, m->user_agent, -1);
	if (m->currency)
		db_bind_int64(st, 10, m->amount);
	else
		db_bind_null(st, 10);
	db_bind_text(st, 11, m->currency, -1);
	db_bind_text(st, 12, m->reference, -1);
	return db_step_done(st);
}

static const char SQL_MANDATE_GET[] =
    "SELECT id, created, payment_method, type, status, acceptance_type, ip_address, user_agent,"
    " amount, currency, reference, (SELECT p.type FROM payment_methods p"
    " WHERE p.merchant_id = mandates.merchant_id AND p.id = mandates.payment_method)"
    " FROM mandates WHERE merchant_id = $1 AND id = $2";

static const char *dup(struct arena *a, struct db_stmt *st, int col)
{
	const char *t = db_col_text(st, col, NULL);
	return t ? arena_strdup(a, t) : NULL;
}

int sepa_mandate_load(struct db *db, struct arena *a, const char *merchant_id, const char *id,
		      struct mandate *ret)
{
	struct db_stmt *st = db_prepare(db, SQL_MANDATE_GET);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, id, -1);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		memset(ret, 0, sizeof(*ret));
		str_copy(ret->id, sizeof(ret->id), db_col_text(st, 0, NULL));
		ret->created = db_col_int64(st, 1);
		ret->payment_method = dup(a, st, 2);
		ret->type = dup(a, st, 3);
		ret->status = dup(a, st, 4);
		ret->acceptance_type = dup(a, st, 5);
		ret->ip_address = dup(a, st, 6);
		ret->user_agent = dup(a, st, 7);
		ret->amount = db_col_is_null(st, 8) ? 0 : db_col_int64(st, 8);
		ret->currency = dup(a, st, 9);
		str_copy(ret->reference, sizeof(ret->reference), db_col_text(st, 10, NULL));
		ret->pm_type = dup(a, st, 11);
		if (!ret->payment_method || !ret->type || !ret->status || !ret->acceptance_type)
			rc = DB_ERR;
	}
	db_reset(st);
	if (rc == DB_ROW)
		return DB_OK;
	return rc == DB_DONE ? DB_NOTFOUND : rc;
}

void sepa_mandate_render(const struct mandate *m, int livemode, struct json *j)
{
	json_obj_open(j);
	json_kv_str(j, "id", m->id);
	json_kv_str(j, "object", "mandate");
	json_key(j, "customer_acceptance");
	json_obj_open(j);
	json_kv_int(j, "accepted_at", m->created);
	/* only the acceptance's own type is present (Stripe's spec: neither is nullable) */
	if (strcmp(m->acceptance_type, "online") == 0) {
		json_key(j, "online");
		json_obj_open(j);
		json_kv_str_or_null(j, "ip_address", m->ip_address);
		json_kv_str_or_null(j, "user_agent", m->user_agent);
		json_obj_close(j);
	} else {
		json_key(j, "offline");
		json_obj_open(j);
		json_obj_close(j);
	}
	json_kv_str(j, "type", m->acceptance_type);
	json_obj_close(j);
	json_kv_bool(j, "livemode", livemode != 0);
	bool multi = strcmp(m->type, "multi_use") == 0;
	if (multi) {
		json_key(j, "multi_use");
		json_obj_open(j);
		json_obj_close(j);
	}
	json_kv_str(j, "payment_method", m->payment_method);
	json_key(j, "payment_method_details");
	json_obj_open(j);
	if (m->pm_type && strcmp(m->pm_type, "us_bank_account") == 0) {
		json_kv_str(j, "type", "us_bank_account");
		json_key(j, "us_bank_account");
		json_obj_open(j);
		json_obj_close(j);
	} else {
		json_key(j, "sepa_debit");
		json_obj_open(j);
		json_kv_str(j, "reference", m->reference);
		json_kv_str(j, "url", m->url ? m->url : "");
		json_obj_close(j);
		json_kv_str(j, "type", "sepa_debit");
	}
	json_obj_close(j);
	if (!multi) {
		json_key(j, "single_use");
		json_obj_open(j);
		json_kv_int(j, "amount", m->amount);
		json_kv_str(j, "currency", m->currency ? m->currency : "eur");
		json_obj_close(j);
	}
	json_kv_str(j, "status", m->status);
	json_kv_str(j, "type", m->type);
	json_obj_close(j);
}

static const char SQL_MANDATE_MULTI[] =
    "SELECT id FROM mandates WHERE merchant_id = $1 AND payment_method = $2"
    " AND type = 'multi_use' AND status = 'active' ORDER BY created DESC, id DESC LIMIT 1";

int sepa_mandate_multi_use(struct db *db, const char *merchant_id, const char *pm_id,
			   char ret_id[ID_MAX])
{
	struct db_stmt *st = db_prepare(db, SQL_MANDATE_MULTI);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, pm_id, -1);
	int rc = db_step(st);
	if (rc == DB_ROW)
		str_copy(ret_id, ID_MAX, db_col_text(st, 0, NULL));
	db_reset(st);
	if (rc == DB_ROW)
		return DB_OK;
	return rc == DB_DONE ? DB_NOTFOUND : rc;
}

/* ---- a mandate becomes inactive ---- */

static const char SQL_MANDATE_DEACTIVATE[] =
    "UPDATE mandates SET status = 'inactive' WHERE merchant_id = $1 AND id = $2"
    " AND status = 'active'";
static const char SQL_MANDATE_DEACTIVATE_SINGLE[] =
    "UPDATE mandates SET status = 'inactive' WHERE merchant_id = $1 AND id = $2"
    " AND status = 'active' AND type = 'single_use'";
static const char SQL_MANDATES_ACTIVE_MULTI[] =
    "SELECT id FROM mandates WHERE merchant_id = $1 AND payment_method = $2"
    " AND type = 'multi_use' AND status = 'active' ORDER BY id LIMIT $3";
static const char SQL_MANDATE_INACTIVE_MULTI[] =
    "SELECT 1 FROM mandates WHERE merchant_id = $1 AND payment_method = $2"
    " AND type = 'multi_use' AND status = 'inactive' LIMIT 1";

const char *sepa_mandate_url(struct arena *a, struct vault *v, const char *base,
			     const char *merchant_id, const char *mandate_id)
{
	char tok[VAULT_PAGE_TOKEN_LEN + 1];
	if (!v || vault_page_token(v, merchant_id, mandate_id, tok) != 0)
		return NULL;
	return arena_printf(a, "%s/mandate/%s/%s/%s", base && *base ? base : app_url_base(NULL),
			    merchant_id, mandate_id, tok);
}

static int deactivate(struct db *db, struct arena *a, const char *merchant_id,
		      const struct event_origin *o, struct vault *v, const char *base,
		      const char *id, bool single_only, int64_t now)
{
	struct db_stmt *st =
	    db_prepare(db, single_only ? SQL_MANDATE_DEACTIVATE_SINGLE : SQL_MANDATE_DEACTIVATE);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, id, -1);
	int64_t changed = 0;
	int rc = db_step_changes(st, &changed);
	if (rc != DB_OK || changed != 1)
		return rc; /* already inactive (or not single-use): nothing changed, no event */
	struct mandate m;
	rc = sepa_mandate_load(db, a, merchant_id, id, &m);
	if (rc != DB_OK)
		return rc;
	m.url = sepa_mandate_url(a, v, base, merchant_id, id);
	struct buf b;
	struct json j;
	buf_init(&b, 64 * 1024);
	json_init(&j, &b);
	sepa_mandate_render(&m, o->livemode, &j);
	rc = b.failed ? DB_ERR
		      : event_append(db, merchant_id, o, "mandate.updated", id, b.data, b.len,
				     "{\"status\":\"active\"}", now, NULL);
	buf_release(&b);
	return rc;
}

int sepa_mandate_deactivate_single(struct db *db, struct arena *a, const char *merchant_id,
				   const struct event_origin *o, struct vault *v, const char *base,
				   const char *id, int64_t now)
{
	return deactivate(db, a, merchant_id, o, v, base, id, true, now);
}

#define DEACTIVATE_BATCH 32

int sepa_mandates_deactivate_pm(struct db *db, struct arena *a, const char *merchant_id,
				const struct event_origin *o, struct vault *v, const char *base,
				const char *pm_id, int64_t now)
{
	/* a batch at a time: each one deactivated leaves the next query's answer */
	for (;;) {
		struct db_stmt *st = db_prepare(db, SQL_MANDATES_ACTIVE_MULTI);
		if (!st)
			return DB_ERR;
		db_bind_text(st, 1, merchant_id, -1);
		db_bind_text(st, 2, pm_id, -1);
		db_bind_int64(st, 3, DEACTIVATE_BATCH);
		char ids[DEACTIVATE_BATCH][ID_MAX];
		int n = 0, rc;
		while (n < DEACTIVATE_BATCH && (rc = db_step(st)) == DB_ROW)
			str_copy(ids[n++], ID_MAX, db_col_text(st, 0, NULL));
		db_reset(st);
		if (n < DEACTIVATE_BATCH && rc != DB_DONE)
			return rc < 0 ? rc : DB_ERR;
		for (int i = 0; i < n; i++) {
			rc = deactivate(db, a, merchant_id, o, v, base, ids[i], false, now);
			if (rc != DB_OK)
				return rc;
		}
		if (n < DEACTIVATE_BATCH)
			return DB_OK;
	}
}

int sepa_mandate_inactive_multi_use(struct db *db, const char *merchant_id, const char *pm_id)
{
	struct db_stmt *st = db_prepare(db, SQL_MANDATE_INACTIVE_MULTI);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, pm_id, -1);
	int rc = db_step(st);
	db_reset(st);
	return rc == DB_ROW ? 1 : rc == DB_DONE ? 0 : (rc < 0 ? rc : DB_ERR);
}

bool sepa_details_mandate(const char *details, char ret_id[ID_MAX])
{
	/* the details are Tender's own JSON (sepa_charge_details): an id needs no unescaping */
	static const char KEY[] = "\"mandate\":\"";
	const char *p = details ? strstr(details, KEY) : NULL;
	if (!p)
		return false;
	p += sizeof(KEY) - 1;
	const char *end = strchr(p, '"');
	if (!end || end == p || (size_t)(end - p) >= ID_MAX)
		return false;
	memcpy(ret_id, p, (size_t)(end - p));
	ret_id[end - p] = '\0';
	return true;
}

const char *sepa_charge_details(struct arena *a, const struct pm_card *pm, const char *mandate_id)
{
	struct buf b;
	struct json j;
	buf_init(&b, 8192);
	json_init(&j, &b);
	json_obj_open(&j);
	if (PM_IS_ACH(pm)) {
		/* the key first, so that charge_render knows the column by its head */
		json_key(&j, "us_bank_account");
		pm_render_ach_details(&j, pm, true, mandate_id);
		json_kv_str(&j, "type", "us_bank_account");
	} else {
		json_key(&j, "sepa_debit");
		json_obj_open(&j);
		json_kv_str(&j, "bank_code", pm->sepa_bank_code);
		json_kv_str(&j, "branch_code", pm->sepa_branch_code);
		json_kv_str_or_null(&j, "country", pm->country[0] ? pm->country : NULL);
		json_kv_str(&j, "fingerprint", pm->fingerprint);
		json_kv_str(&j, "last4", pm->last4);
		json_kv_str_or_null(&j, "mandate", mandate_id);
		json_obj_close(&j);
		json_kv_str(&j, "type", "sepa_debit");
	}
	json_obj_close(&j);
	const char *s = b.failed ? NULL : arena_strndup(a, b.data, b.len);
	buf_release(&b);
	return s;
}

bool sepa_details_is_bank_debit(const char *details)
{
	return details && (strncmp(details, "{\"sepa_debit\":", 14) == 0 ||
			   strncmp(details, "{\"us_bank_account\":", 19) == 0 ||
			   strncmp(details, "{\"ach_debit\":", 13) == 0);
}

/* The payment method type of a bank debit's charge (its details' head). */
static const char *debit_type(const struct charge *ch)
{
	if (ch->card && strncmp(ch->card, "{\"ach_debit\":", 13) == 0)
		return "ach_debit"; /* a legacy bank account source's (api/charges.c) */
	return ch->card && strncmp(ch->card, "{\"us_bank_account\":", 19) == 0 ? "us_bank_account"
									       : "sepa_debit";
}

/* ---- the bank's answer ---- */

static const char SQL_SCHEDULE[] =
    "INSERT INTO sepa_debits (merchant_id, charge, payment_intent, behavior, due_at, status)"
    " VALUES ($1, $2, $3, $4, $5, 'pending')";

int sepa_debit_schedule(struct db *db, const char *merchant_id, const char *charge_id,
			const char *pi_id, int behavior, int64_t due_at)
{
	struct db_stmt *st = db_prepare(db, SQL_SCHEDULE);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, charge_id, -1);
	db_bind_text(st, 3, pi_id, -1);
	db_bind_int64(st, 4, behavior);
	db_bind_int64(st, 5, due_at);
	return db_step_done(st);
}

const char SEPA_SETTLE_DUE_SQL[] =
    "SELECT 1 FROM sepa_debits WHERE status = 'pending' AND due_at <= $1 LIMIT 1";
static const char SQL_DUE[] =
    "SELECT merchant_id, charge FROM sepa_debits WHERE status = 'pending' AND due_at <= $1"
    " ORDER BY due_at LIMIT $2";
static const char SQL_CLAIM[] =
    "UPDATE sepa_debits SET status = 'done' WHERE merchant_id = $1 AND charge = $2"
    " AND status = 'pending'";
static const char SQL_BEHAVIOR[] =
    "SELECT behavior FROM sepa_debits WHERE merchant_id = $1 AND charge = $2";
static const char SQL_CHARGE_FAIL[] =
    "UPDATE charges SET status = 'failed', failure_code = $3, failure_message = $4,"
    " outcome = $5 WHERE merchant_id = $1 AND id = $2 AND status = 'pending'";

static int append(struct db *db, const char *merchant_id, const char *type, const char *id,
		  const char *js, size_t len, int64_t now)
{
	struct event_origin o = {NULL, NULL, 0};
	if (!js)
		return DB_ERR;
	return event_append(db, merchant_id, &o, type, id, js, len, NULL, now, NULL);
}

/* Stripe's failure codes for a returned SEPA debit, and their messages. */
static void failure_for(int behavior, const char **code, const char **message)
{
	if (behavior == SEPA_INSUFFICIENT_FUNDS) {
		*code = "insufficient_funds";
		*message = "The customer's account has insufficient funds to cover this payment.";
	} else if (behavior == SEPA_EXCEEDS_VOLUME_LIMIT) {
		*code = "charge_exceeds_source_limit";
		*message = "This payment would exceed the weekly volume limit of the account.";
	} else if (behavior == SEPA_EXCEEDS_WEEKLY_LIMIT) {
		*code = "charge_exceeds_weekly_limit";
		*message = "This payment exceeds the transaction limit of the account.";
	} else if (behavior == BANK_NO_ACCOUNT) {
		*code = "no_account";
		*message = "The bank account could not be located.";
	} else if (behavior == BANK_ACCOUNT_CLOSED) {
		*code = "account_closed";
		*message = "The bank account has been closed.";
	} else if (behavior == BANK_DEBIT_NOT_AUTHORIZED) {
		*code = "debit_not_authorized";
		*message =
		    "The customer has notified their bank that this payment was unauthorized.";
	} else if (behavior == BANK_INVALID_CURRENCY) {
		*code = "invalid_currency";
		*message = "The bank was unable to process this payment because of its currency.";
	} else {
		*code = "generic_could_not_process";
		*message = "This payment could not be processed.";
	}
}

/* last_payment_error of an intent whose debit the bank returned: Stripe's error with the
 * PaymentMethod it was made with. */
static const char *payment_error(struct db *db, struct arena *a, const char *merchant_id,
				 const struct charge *ch, const char *code, const char *message)
{
	struct buf b;
	struct json j;
	buf_init(&b, 64 * 1024);
	json_init(&j, &b);
	json_obj_open(&j);
	json_kv_str(&j, "charge", ch->id);
	json_kv_str(&j, "code", code);
	char url[160];
	snprintf(url, sizeof(url), "https://stripe.com/docs/error-codes/%s", code);
	json_kv_str(&j, "doc_url", url);
	json_kv_str(&j, "message", message);
	json_key(&j, "payment_method");
	int rc =
	    ch->payment_method ? pm_render(db, merchant_id, ch->payment_method, &j) : DB_NOTFOUND;
	if (rc != DB_OK)
		json_nil(&j);
	json_kv_str(&j, "payment_method_type", debit_type(ch));
	json_kv_str(&j, "type", "card_error");
	json_obj_close(&j);
	const char *s = b.failed ? NULL : arena_strndup(a, b.data, b.len);
	buf_release(&b);
	return s;
}

/* The settled debit's two events: its charge's, then its PaymentIntent's, as they now are. */
static int append_outcome(struct db *db, struct arena *a, const char *m, const struct charge *ch,
			  const struct payment_intent *pi, const char *charge_type,
			  const char *pi_type, int64_t now)
{
	size_t len;
	const char *js = charge_json(db, a, m, 0, ch, &len);
	int rc = append(db, m, charge_type, ch->id, js, len, now);
	if (rc != DB_OK || !pi)
		return rc;
	js = pi_json(db, a, m, 0, pi, &len);
	return append(db, m, pi_type, pi->id, js, len, now);
}

static int settle_succeeded(struct db *db, struct app *app, struct arena *a, const char *m,
			    struct charge *ch, struct payment_intent *pi, struct fx_table *fx,
			    int behavior, int64_t now)
{
	struct ledger_pricing pricing;
	char cur[8];
	int rc = ledger_pricing_get(db, m, &pricing, cur);
	if (rc != DB_OK)
		return rc;
	pricing.fx = fx;
	char country[3];
	charge_fee_facts(ch, &pricing, country); /* a bank debit's own price (ledger.h) */
	/* the bank's collection is the acquirer's captured hold of a card payment: refunds and
	 * the invariants between acquirer and ledger see it the same way */
	rc = processor_hold_captured(db, m, debit_type(ch), ch->id, ch->amount, ch->currency,
				     ACQ_SUCCEED, now);
	if (rc != DB_OK)
		return rc;
	char bt[ID_MAX];
	rc = ledger_sale_as(db, m, ch->id, ch->amount, ch->currency, &pricing, now, NULL, bt);
	if (rc != DB_OK)
		return rc;
	ch->status = "succeeded";
	ch->paid = true;
	ch->captured = true;
	ch->amount_captured = ch->amount;
	ch->balance_transaction = arena_strdup(a, bt);
	if (!ch->balance_transaction)
		return DB_ERR;
	rc = charge_update(db, m, ch);
	if (rc != DB_OK)
		return rc;
	if (!pi) { /* a legacy bank account source's charge (api/charges.c): no intent */
		rc = append_outcome(db, a, m, ch, NULL, "charge.succeeded", NULL, now);
	} else {
		pi->status = "succeeded";
		pi->amount_received = pi->amount;
		pi->amount_capturable = 0;
		pi->last_payment_error = NULL;
		rc = pi_update(db, m, pi);
		if (rc != DB_OK)
			return rc;
		rc = append_outcome(db, a, m, ch, pi, "charge.succeeded",
				    "payment_intent.succeeded", now);
		/* what the payment was for learns of it in the same write: a Checkout Session, an
		 * invoice */
		rc = rc != DB_OK ? rc : checkout_async_payment(db, m, pi->id, true, now);
		rc = rc != DB_OK ? rc : invoice_debit_settled(db, app, a, m, pi, now);
	}
	if (rc != DB_OK || behavior != SEPA_DISPUTE)
		return rc;
	/* the bank takes the money back at once: a SEPA dispute is final, so it is opened and
	 * closed as lost together (the chargeback's withdrawal stays) */
	struct event_origin o = {NULL, NULL, 0};
	struct dispute d;
	rc = dispute_open(db, a, m, &o, ch->id, "general", 0, now, &d);
	if (rc != DB_OK)
		return rc;
	return dispute_close(db, a, m, &o, &d, now);
}

static int settle_failed(struct db *db, struct app *app, struct arena *a, const char *m,
			 struct charge *ch, struct payment_intent *pi, int behavior, int64_t now)
{
	const char *code, *message;
	failure_for(behavior, &code, &message);
	struct db_stmt *st = db_prepare(db, SQL_CHARGE_FAIL);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, m, -1);
	db_bind_text(st, 2, ch->id, -1);
	db_bind_text(st, 3, code, -1);
	db_bind_text(st, 4, message, -1);
	db_bind_text(st, 5, OUTCOME_FAILED, -1);
	int64_t changed = 0;
	int rc = db_step_changes(st, &changed);
	if (rc != DB_OK)
		return rc;
	if (changed != 1)
		return DB_CONFLICT;
	ch->status = "failed";
	ch->failure_code = code;
	ch->failure_message = message;
	ch->outcome = OUTCOME_FAILED;
	if (!pi) /* a legacy bank account source's charge (api/charges.c): no intent */
		return append_outcome(db, a, m, ch, NULL, "charge.failed", NULL, now);
	pi->status = "requires_payment_method";
	pi->last_payment_error = payment_error(db, a, m, ch, code, message);
	if (!pi->last_payment_error)
		return DB_ERR;
	pi->payment_method = NULL;
	rc = pi_update(db, m, pi);
	if (rc != DB_OK)
		return rc;
	rc =
	    append_outcome(db, a, m, ch, pi, "charge.failed", "payment_intent.payment_failed", now);
	rc = rc != DB_OK ? rc : checkout_async_payment(db, m, pi->id, false, now);
	return rc != DB_OK ? rc : invoice_debit_settled(db, app, a, m, pi, now);
}

/* Settles one claimed debit. DB_OK; DB_NOTFOUND when its charge or intent is gone or not pending
 * (nothing to do); < 0 on an error (the transaction is rolled back). */
static int settle_one(struct db *db, struct arena *a, const char *m, const char *charge_id,
		      struct fx_table *fx, struct app *app, int64_t now)
{
	struct db_stmt *st = db_prepare(db, SQL_BEHAVIOR);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, m, -1);
	db_bind_text(st, 2, charge_id, -1);
	int rc = db_step(st);
	int behavior = rc == DB_ROW ? (int)db_col_int64(st, 0) : 0;
	db_reset(st);
	if (rc != DB_ROW)
		return rc == DB_DONE ? DB_NOTFOUND : rc;
	struct charge ch;
	rc = charge_load(db, a, m, charge_id, &ch);
	if (rc != DB_OK)
		return rc;
	if (strcmp(ch.status, "pending") != 0)
		return DB_NOTFOUND;
	/* a charge of a legacy bank account source (POST /v1/charges, api/charges.c) has no
	 * PaymentIntent: the charge alone settles */
	struct payment_intent pi, *pip = NULL;
	if (ch.payment_intent) {
		rc = pi_load(db, a, m, ch.payment_intent, &pi);
		if (rc != DB_OK)
			return rc;
		if (strcmp(pi.status, "processing") != 0)
			return DB_NOTFOUND;
		pip = &pi;
	} else if (strcmp(debit_type(&ch), "ach_debit") != 0) {
		return DB_NOTFOUND;
	}
	bool fails = behavior == SEPA_FAIL || behavior == SEPA_FAIL_DELAYED ||
		     behavior == SEPA_INSUFFICIENT_FUNDS || behavior == SEPA_EXCEEDS_VOLUME_LIMIT ||
		     behavior == SEPA_EXCEEDS_WEEKLY_LIMIT || behavior == BANK_NO_ACCOUNT ||
		     behavior == BANK_ACCOUNT_CLOSED || behavior == BANK_DEBIT_NOT_AUTHORIZED ||
		     behavior == BANK_INVALID_CURRENCY;
	rc = fails ? settle_failed(db, app, a, m, &ch, pip, behavior, now)
		   : settle_succeeded(db, app, a, m, &ch, pip, fx, behavior, now);
	/* a single-use mandate has had its one debit: it becomes inactive in the same write */
	char mandate_id[ID_MAX];
	if (rc == DB_OK && sepa_details_mandate(ch.card, mandate_id)) {
		struct event_origin o = {NULL, NULL, 0};
		rc = sepa_mandate_deactivate_single(db, a, m, &o, app ? app->vault : NULL,
						    app_url_base(app), mandate_id, now);
	}
	return rc;
}

#define SETTLE_MAX 64

int sepa_settle_db(struct db *db, struct fx_table *fx, struct app *app, int64_t now, int max)
{
	struct scheduler_due due[SETTLE_MAX];
	int n = 0;
	if (max > SETTLE_MAX)
		max = SETTLE_MAX;
	int rc = scheduler_due_read(db, SQL_DUE, now, due, &n, max);
	if (rc != DB_OK)
		return rc;
	struct arena a;
	arena_init(&a, 4u << 20);
	int done = 0;
	for (int i = 0; i < n; i++) {
		/* the claim and the settlement commit together: exactly once */
		struct db_stmt *st = db_prepare(db, SQL_CLAIM);
		if (!st) {
			rc = DB_ERR;
			break;
		}
		db_bind_text(st, 1, due[i].merchant, -1);
		db_bind_text(st, 2, due[i].id, -1);
		int64_t changed = 0;
		rc = db_step_changes(st, &changed);
		if (rc != DB_OK)
			break;
		if (changed != 1)
			continue;
		rc = settle_one(db, &a, due[i].merchant, due[i].id, fx, app, now);
		if (rc == DB_NOTFOUND) {
			rc = DB_OK;
			continue;
		}
		if (rc != DB_OK)
			break;
		done++;
	}
	arena_release(&a);
	return rc == DB_OK ? done : rc;
}
