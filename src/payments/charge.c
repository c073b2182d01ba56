#include <stdio.h>
#include <jansson.h>
#include <string.h>

#include "core/str.h"
#include "risk/review.h"
#include "events/pack.h"
#include "ledger/ledger.h"
#include "payments/connect.h"
#include "payments/payments.h"
#include "payments/redirect.h"
#include "payments/sepa.h"
#include "processor/processor.h"
#include "vault/card_source.h"
#include "api/bank_sources.h"
#include "api/sources_api.h"

static const char *dup(struct arena *a, struct db_stmt *st, int col)
{
	const char *t = db_col_text(st, col, NULL);
	return t ? arena_strdup(a, t) : NULL;
}

static const char SQL_GET[] =
    "SELECT id, created, payment_intent, amount, amount_captured, amount_refunded, currency,"
    " status, captured, paid, disputed, customer, payment_method, description, metadata,"
    " receipt_email, statement_descriptor, balance_transaction, failure_code, failure_message,"
    " outcome, card, billing_details, authorization_code, capture_before, three_d_secure,"
    " connect, invoice, fingerprint, user_report, shipping, statement_descriptor_suffix,"
    " amount_released FROM charges"
    " WHERE merchant_id = $1 AND id = $2";

int charge_load(struct db *db, struct arena *a, const char *merchant_id, const char *id,
		struct charge *ch)
{
	struct db_stmt *st = db_prepare(db, SQL_GET);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, id, -1);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		memset(ch, 0, sizeof(*ch));
		str_copy(ch->id, sizeof(ch->id), db_col_text(st, 0, NULL));
		ch->created = db_col_int64(st, 1);
		ch->payment_intent = dup(a, st, 2);
		ch->amount = db_col_int64(st, 3);
		ch->amount_captured = db_col_int64(st, 4);
		ch->amount_refunded = db_col_int64(st, 5);
		str_copy(ch->currency, sizeof(ch->currency), db_col_text(st, 6, NULL));
		ch->status = dup(a, st, 7);
		ch->captured = db_col_int64(st, 8) != 0;
		ch->paid = db_col_int64(st, 9) != 0;
		ch->disputed = db_col_int64(st, 10) != 0;
		ch->customer = dup(a, st, 11);
		ch->payment_method = dup(a, st, 12);
		ch->description = dup(a, st, 13);
		ch->metadata = dup(a, st, 14);
		ch->receipt_email = dup(a, st, 15);
		ch->statement_descriptor = dup(a, st, 16);
		ch->balance_transaction = dup(a, st, 17);
		ch->failure_code = dup(a, st, 18);
		ch->failure_message = dup(a, st, 19);
		if (charge_json_col(a, st, 20, &ch->outcome) != DB_OK ||
		    charge_json_col(a, st, 21, &ch->card) != DB_OK)
			rc = DB_ERR;
		ch->billing_details = dup(a, st, 22);
		ch->authorization_code = dup(a, st, 23);
		ch->capture_before = db_col_is_null(st, 24) ? 0 : db_col_int64(st, 24);
		ch->three_d_secure = db_col_int64(st, 25) != 0;
		if (payment_connect_decode(a, db_col_text(st, 26, NULL), &ch->connect,
					   &ch->transfer, &ch->application_fee) != DB_OK)
			rc = DB_ERR;
		ch->invoice = dup(a, st, 27);
		ch->fingerprint = dup(a, st, 28);
		ch->user_report = dup(a, st, 29);
		ch->shipping = dup(a, st, 30);
		ch->statement_descriptor_suffix = dup(a, st, 31);
		ch->amount_released = db_col_int64(st, 32);
	}
	db_reset(st);
	if (rc == DB_ROW)
		return DB_OK;
	return rc == DB_DONE ? DB_NOTFOUND : rc;
}

static const char SQL_INSERT[] =
    "INSERT INTO charges (merchant_id, id, created, payment_intent, amount, amount_captured,"
    " amount_refunded, currency, status, captured, paid, disputed, customer, payment_method,"
    " description, metadata, receipt_email, statement_descriptor, balance_transaction,"
    " failure_code, failure_message, outcome, card, billing_details, authorization_code,"
    " capture_before, three_d_secure, fingerprint, client_ip, connect, invoice, shipping,"
    " statement_descriptor_suffix)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18,"
    " $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29, $30, $31, $32, $33)";

int charge_insert(struct db *db, const char *merchant_id, const struct charge *ch)
{
	struct db_stmt *st = db_prepare(db, SQL_INSERT);
	if (!st)
		return DB_ERR;
	db_bind_text_ref(st, 1, merchant_id, -1);
	db_bind_text_ref(st, 2, ch->id, -1);
	db_bind_int64(st, 3, ch->created);
	db_bind_text_ref(st, 4, ch->payment_intent, -1);
	db_bind_int64(st, 5, ch->amount);
	db_bind_int64(st, 6, ch->amount_captured);
	db_bind_int64(st, 7, ch->amount_refunded);
	db_bind_text_ref(st, 8, ch->currency, -1);
	db_bind_text_ref(st, 9, ch->status, -1);
	db_bind_int64(st, 10, ch->captured);
	db_bind_int64(st, 11, ch->paid);
	db_bind_int64(st, 12, ch->disputed);
	db_bind_text_ref(st, 13, ch->customer, -1);
	db_bind_text_ref(st, 14, ch->payment_method, -1);
	db_bind_text_ref(st, 15, ch->description, -1);
	db_bind_text_ref(st, 16, ch->metadata ? ch->metadata : "{}", -1);
	db_bind_text_ref(st, 17, ch->receipt_email, -1);
	db_bind_text_ref(st, 18, ch->statement_descriptor, -1);
	db_bind_text_ref(st, 19, ch->balance_transaction, -1);
	db_bind_text_ref(st, 20, ch->failure_code, -1);
	db_bind_text_ref(st, 21, ch->failure_message, -1);
	const struct charge_packed *pk = &ch->packed;
	if (ch->outcome && pk->outcome == ch->outcome && pk->outcome_len)
		db_bind_blob(st, 22, pk->outcome_bytes, pk->outcome_len);
	else
		db_bind_text_ref(st, 22, ch->outcome, -1);
	if (ch->card && pk->card == ch->card && pk->card_len)
		db_bind_blob(st, 23, pk->card_bytes, pk->card_len);
	else
		db_bind_text_ref(st, 23, ch->card, -1);
	db_bind_text_ref(st, 24, ch->billing_details, -1);
	db_bind_text_ref(st, 25, ch->authorization_code, -1);
	if (ch->capture_before)
		db_bind_int64(st, 26, ch->capture_before);
	else
		db_bind_null(st, 26);
	db_bind_int64(st, 27, ch->three_d_secure);
	db_bind_text_ref(st, 28, ch->fingerprint, -1);
	db_bind_text_ref(st, 29, ch->client_ip, -1);
	struct buf cj;
	buf_init(&cj, CONNECT_JSON_MAX);
	int enc = payment_connect_encode(&cj, &ch->connect, ch->transfer, ch->application_fee);
	db_bind_text(st, 30, enc == 1 ? buf_cstr(&cj) : NULL, -1);
	db_bind_text_ref(st, 31, ch->invoice, -1);
	db_bind_text_ref(st, 32, ch->shipping, -1);
	db_bind_text_ref(st, 33, ch->statement_descriptor_suffix, -1);
	int rc = enc < 0 ? DB_ERR : db_step_done(st);
	if (enc < 0)
		db_reset(st);
	buf_release(&cj);
	return rc;
}

void charge_fee_facts(const struct charge *ch, struct ledger_pricing *p, char country[3])
{
	static const char *const heads[] = {
	    "card_present", "us_bank_account", "ach_debit", "sepa_debit",	 "ideal",
	    "bancontact",   "klarna",	       "affirm",    "afterpay_clearpay", "customer_balance",
	};
	const char *d = ch->card;
	p->method = "card";
	country[0] = '\0';
	p->card_country = country;
	if (!d)
		return;
	for (size_t i = 0; i < sizeof(heads) / sizeof(heads[0]); i++) {
		size_t n = strlen(heads[i]);
		if (d[0] == '{' && d[1] == '"' && strncmp(d + 2, heads[i], n) == 0 &&
		    d[2 + n] == '"') {
			p->method = heads[i];
			break;
		}
	}
	if (strcmp(p->method, "card") != 0 && strcmp(p->method, "card_present") != 0)
		return;
	/* the card's own "country" is the first key of that name in either rendering (flow.c:
	 * nothing before it holds one): found without parsing the whole details again */
	const char *c = strstr(d, "\"country\":\"");
	if (c && c[11] >= 'A' && c[11] <= 'Z' && c[12] >= 'A' && c[12] <= 'Z' && c[13] == '"') {
		country[0] = c[11];
		country[1] = c[12];
		country[2] = '\0';
	}
}

void charge_pack(struct charge *ch, enum db_kind kind, struct buf *out)
{
	memset(&ch->packed, 0, sizeof(ch->packed));
	buf_reset(out);
	if (!event_packs(kind) || !ch->outcome || !ch->card)
		return;
	size_t outcome_len = strlen(ch->outcome);
	if (event_pack(ch->outcome, outcome_len, out) != 0)
		goto plain;
	size_t card_at = out->len;
	if (event_pack(ch->card, strlen(ch->card), out) != 0)
		goto plain;
	/* both are in place now (out no longer moves) */
	ch->packed = (struct charge_packed){
	    .outcome = ch->outcome,
	    .card = ch->card,
	    .outcome_bytes = out->data,
	    .outcome_len = card_at,
	    .card_bytes = out->data + card_at,
	    .card_len = out->len - card_at,
	};
	return;
plain:
	buf_reset(out);
}

int charge_json_col(struct arena *a, struct db_stmt *st, int col, const char **ret)
{
	size_t n = 0;
	const char *bytes = db_col_text(st, col, &n);
	*ret = NULL;
	if (!bytes)
		return DB_OK;
	/* event_unpack hands JSON text (older rows, PostgreSQL) back as it is, using no scratch */
	struct buf scratch;
	buf_init(&scratch, BUF_MAX_DEFAULT);
	const char *json = NULL;
	size_t len = 0;
	if (event_unpack(bytes, n, &scratch, &json, &len) == 0)
		*ret = arena_strndup(a, json, len);
	buf_release(&scratch);
	return *ret ? DB_OK : DB_ERR;
}

static const char SQL_UPDATE[] =
    "UPDATE charges SET amount_captured = $3, amount_refunded = $4, status = $5, captured = $6,"
    " paid = $7, disputed = $8, description = $9, metadata = $10, balance_transaction = $11,"
    " receipt_email = $12, connect = $13, user_report = $14, amount_released = $15"
    " WHERE merchant_id = $1 AND id = $2";

int charge_update(struct db *db, const char *merchant_id, const struct charge *ch)
{
	struct db_stmt *st = db_prepare(db, SQL_UPDATE);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, ch->id, -1);
	db_bind_int64(st, 3, ch->amount_captured);
	db_bind_int64(st, 4, ch->amount_refunded);
	db_bind_text(st, 5, ch->status, -1);
	db_bind_int64(st, 6, ch->captured);
	db_bind_int64(st, 7, ch->paid);
	db_bind_int64(st, 8, ch->disputed);
	db_bind_text(st, 9, ch->description, -1);
	db_bind_text(st, 10, ch->metadata ? ch->metadata : "{}", -1);
	db_bind_text(st, 11, ch->balance_transaction, -1);
	db_bind_text(st, 12, ch->receipt_email, -1);
	struct buf cj;
	buf_init(&cj, CONNECT_JSON_MAX);
	int enc = payment_connect_encode(&cj, &ch->connect, ch->transfer, ch->application_fee);
	db_bind_text(st, 13, enc == 1 ? buf_cstr(&cj) : NULL, -1);
	db_bind_text(st, 14, ch->user_report, -1);
	db_bind_int64(st, 15, ch->amount_released);
	int rc = enc < 0 ? DB_ERR : db_step(st);
	int64_t n = rc == DB_DONE ? db_changes(st) : 0;
	db_reset(st);
	buf_release(&cj);
	if (rc != DB_DONE)
		return rc < 0 ? rc : DB_ERR;
	return n == 1 ? DB_OK : DB_NOTFOUND;
}

static const char SQL_UPDATE_DETAILS[] =
    "UPDATE charges SET customer = $3, shipping = $4, statement_descriptor = $5,"
    " statement_descriptor_suffix = $6 WHERE merchant_id = $1 AND id = $2";

int charge_update_details(struct db *db, const char *merchant_id, const struct charge *ch)
{
	struct db_stmt *st = db_prepare(db, SQL_UPDATE_DETAILS);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, ch->id, -1);
	db_bind_text(st, 3, ch->customer, -1);
	db_bind_text(st, 4, ch->shipping, -1);
	db_bind_text(st, 5, ch->statement_descriptor, -1);
	db_bind_text(st, 6, ch->statement_descriptor_suffix, -1);
	int rc = db_step(st);
	int64_t n = rc == DB_DONE ? db_changes(st) : 0;
	db_reset(st);
	if (rc != DB_DONE)
		return rc < 0 ? rc : DB_ERR;
	return n == 1 ? DB_OK : DB_NOTFOUND;
}

static const char SQL_ADD_REFUNDED[] =
    "UPDATE charges SET amount_refunded = amount_refunded + $3 WHERE merchant_id = $1 AND id = $2"
    " AND amount_refunded + $3 <= amount_captured AND amount_refunded + $3 >= 0";

static const char SQL_INCREMENT[] =
    "UPDATE charges SET amount = $3 WHERE merchant_id = $1 AND id = $2 AND captured = 0"
    " AND amount < $3";

int payment_increment(struct db *db, const char *merchant_id, struct charge *ch, int64_t amount,
		      int64_t now)
{
	if (ch->captured || amount <= ch->amount || !ch->authorization_code)
		return DB_CONFLICT;
	int rc = processor_increment(db, merchant_id, ch->id, amount);
	if (rc != DB_OK)
		return rc;
	/* the hold grows by the difference: DR cardholder_holds / CR authorized */
	rc = ledger_authorize(db, merchant_id, ch->id, amount - ch->amount, ch->currency, now);
	if (rc != DB_OK)
		return rc;
	struct db_stmt *st = db_prepare(db, SQL_INCREMENT);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, ch->id, -1);
	db_bind_int64(st, 3, amount);
	rc = db_step(st);
	int64_t n = rc == DB_DONE ? db_changes(st) : 0;
	db_reset(st);
	if (rc != DB_DONE)
		return rc < 0 ? rc : DB_ERR;
	if (n != 1)
		return DB_CONFLICT;
	ch->amount = amount;
	return DB_OK;
}

int charge_add_refunded(struct db *db, const char *merchant_id, const char *id, int64_t delta)
{
	struct db_stmt *st = db_prepare(db, SQL_ADD_REFUNDED);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, id, -1);
	db_bind_int64(st, 3, delta);
	int rc = db_step(st);
	int64_t n = rc == DB_DONE ? db_changes(st) : 0;
	db_reset(st);
	if (rc != DB_DONE)
		return rc < 0 ? rc : DB_ERR;
	return n == 1 ? DB_OK : DB_CONFLICT;
}

/* A card's full descriptor as the card networks get it: the account's prefix, "* " and the
 * charge's dynamic suffix, cut to the networks' 22 bytes (never inside a UTF-8 character). */
static void calculated_with_suffix(struct json *j, const char *suffix)
{
	static const char prefix[] = "TENDER* ";
	char full[23];
	size_t room = sizeof(full) - sizeof(prefix); /* 22 bytes less the prefix */
	size_t n = strlen(suffix);
	if (n > room) {
		n = room;
		/* suffix[n] is the first byte left out: a continuation byte there means the
		 * character before it would be cut in two */
		while (n > 0 && ((unsigned char)suffix[n] & 0xc0) == 0x80)
			n--;
	}
	snprintf(full, sizeof(full), "%s%.*s", prefix, (int)n, suffix);
	json_str(j, full);
}

static void kv_raw_or(struct json *j, const char *key, const char *raw, const char *dflt)
{
	const char *v = raw ? raw : dflt;
	if (v)
		json_kv_raw(j, key, v, strlen(v));
	else
		json_kv_null(j, key);
}

int payment_connect_encode(struct buf *out, const struct payment_connect *c, const char *transfer,
			   const char *application_fee)
{
	if (!c->destination && !c->application_fee_amount && !c->transfer_amount &&
	    !c->transfer_group && !c->on_behalf_of && !transfer && !application_fee)
		return 0;
	struct json j;
	json_init(&j, out);
	json_obj_open(&j);
	if (c->destination)
		json_kv_str(&j, "destination", c->destination);
	if (c->transfer_amount)
		json_kv_int(&j, "transfer_amount", c->transfer_amount);
	if (c->application_fee_amount)
		json_kv_int(&j, "application_fee_amount", c->application_fee_amount);
	if (c->transfer_group)
		json_kv_str(&j, "transfer_group", c->transfer_group);
	if (c->on_behalf_of)
		json_kv_str(&j, "on_behalf_of", c->on_behalf_of);
	if (transfer)
		json_kv_str(&j, "transfer", transfer);
	if (application_fee)
		json_kv_str(&j, "application_fee", application_fee);
	json_obj_close(&j);
	buf_cstr(out);
	return out->failed ? -1 : 1;
}

static const char *jstr(struct arena *a, json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));
	return v ? arena_strdup(a, v) : NULL;
}

int payment_connect_decode(struct arena *a, const char *text, struct payment_connect *c,
			   const char **transfer, const char **application_fee)
{
	memset(c, 0, sizeof(*c));
	if (transfer)
		*transfer = NULL;
	if (application_fee)
		*application_fee = NULL;
	if (!text)
		return DB_OK;
	json_error_t e;
	json_t *o = json_loads(text, 0, &e);
	if (!json_is_object(o)) {
		json_decref(o);
		return DB_ERR;
	}
	c->destination = jstr(a, o, "destination");
	c->transfer_amount = json_integer_value(json_object_get(o, "transfer_amount"));
	c->application_fee_amount =
	    json_integer_value(json_object_get(o, "application_fee_amount"));
	c->transfer_group = jstr(a, o, "transfer_group");
	c->on_behalf_of = jstr(a, o, "on_behalf_of");
	if (transfer)
		*transfer = jstr(a, o, "transfer");
	if (application_fee)
		*application_fee = jstr(a, o, "application_fee");
	json_decref(o);
	return DB_OK;
}

void payments_render_connect_fee(struct json *j, const struct payment_connect *c)
{
	json_key(j, "application_fee_amount");
	if (c->application_fee_amount)
		json_int(j, c->application_fee_amount);
	else
		json_nil(j);
}

void payments_render_on_behalf_of(struct json *j, const struct payment_connect *c)
{
	json_kv_str_or_null(j, "on_behalf_of", c->on_behalf_of);
}

void payments_render_transfer_data(struct json *j, const struct payment_connect *c, bool for_charge)
{
	json_key(j, "transfer_data");
	if (!c->destination) {
		json_nil(j);
		return;
	}
	json_obj_open(j);
	/* a PaymentIntent's transfer_data has `amount` only when it was given; a charge's is null
	 * then */
	if (c->transfer_amount)
		json_kv_int(j, "amount", c->transfer_amount);
	else if (for_charge)
		json_kv_null(j, "amount");
	json_kv_str(j, "destination", c->destination);
	json_obj_close(j);
}

struct pi_ctx {
	struct arena *a;
	const char *merchant_id;
	int livemode;
	const struct expand_set *ex;
};

static int render_pi_cb(void *p, struct db *db, const char *id, struct json *j)
{
	struct pi_ctx *c = p;
	struct expand_set inner = *c->ex;
	inner.latest_charge = false;
	inner.payment_intent = false;
	inner.invoice = inner.review = false; /* the charge's own, not its intent's */
	return pi_render_by_id(db, c->a, c->merchant_id, c->livemode, id, &inner, j);
}

static const char EMPTY_BILLING[] =
    "{\"address\":{\"city\":null,\"country\":null,\"line1\":null,\"line2\":null,"
    "\"postal_code\":null,\"state\":null},\"email\":null,\"name\":null,\"phone\":null}";

/* A charge's refunds as Stripe's expanded `refunds` list: the newest CHARGE_REFUNDS_SHOWN, each
 * rendered by the module that owns refunds (ex->render_id), and whether there are more (the
 * rest through GET /v1/charges/{id}/refunds, its `url`). */
#define CHARGE_REFUNDS_SHOWN 10
static const char SQL_CHARGE_REFUNDS[] =
    "SELECT id FROM refunds WHERE merchant_id = $1 AND charge = $2 ORDER BY created DESC, id DESC"
    " LIMIT $3";

static int charge_refunds_render(struct db *db, const char *merchant_id, const char *charge_id,
				 const struct expand_set *ex, struct json *j)
{
	struct db_stmt *st = db_prepare(db, SQL_CHARGE_REFUNDS);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, charge_id, -1);
	db_bind_int64(st, 3, CHARGE_REFUNDS_SHOWN + 1);
	char ids[CHARGE_REFUNDS_SHOWN + 1][ID_MAX];
	int n = 0, rc;
	while ((rc = db_step(st)) == DB_ROW && n < CHARGE_REFUNDS_SHOWN + 1)
		str_copy(ids[n++], ID_MAX, db_col_text(st, 0, NULL));
	db_reset(st);
	if (rc != DB_DONE && rc != DB_ROW)
		return rc < 0 ? rc : DB_ERR;
	json_key(j, "refunds");
	json_obj_open(j);
	json_kv_str(j, "object", "list");
	json_key(j, "data");
	json_arr_open(j);
	for (int i = 0; i < n && i < CHARGE_REFUNDS_SHOWN; i++) {
		rc = ex->render_id(ex->ctx, db, ids[i], "refunds", j);
		if (rc != DB_OK)
			return rc;
	}
	json_arr_close(j);
	json_kv_bool(j, "has_more", n > CHARGE_REFUNDS_SHOWN);
	char url[ID_MAX + 32];
	snprintf(url, sizeof(url), "/v1/charges/%s/refunds", charge_id);
	json_kv_str(j, "url", url);
	json_obj_close(j);
	return DB_OK;
}

int charge_render(struct db *db, struct arena *a, const char *merchant_id, int livemode,
		  const struct charge *ch, const struct expand_set *ex, struct json *j)
{
	static const struct expand_set none;
	if (!ex)
		ex = &none;
	int rc;
	/* A bank debit waiting for the bank's answer is, as Stripe shows it, captured for its whole
	 * amount (capture is automatic; only the money is pending: no balance transaction yet).
	 * Tender records the capture (the acquirer's hold, amount_captured) when the debit settles,
	 * so that nothing counts as collected before it is, and shows the pending one as Stripe
	 * does. */
	bool debit_pending = sepa_details_is_bank_debit(ch->card) && ch->status &&
			     strcmp(ch->status, "pending") == 0;
	json_obj_open(j);
	json_kv_str(j, "id", ch->id);
	json_kv_str(j, "object", "charge");
	json_kv_int(j, "amount", ch->amount);
	json_kv_int(j, "amount_captured", debit_pending ? ch->amount : ch->amount_captured);
	/* Stripe counts what was released uncaptured as refunded (payments.h) */
	int64_t refunded;
	if (__builtin_add_overflow(ch->amount_refunded, ch->amount_released, &refunded))
		return DB_ERR;
	json_kv_int(j, "amount_refunded", refunded);
	json_kv_null(j, "application");
	rc = payments_expandable_id(j, db, "application_fee", ch->application_fee,
				    ex->application_fee, ex);
	if (rc != DB_OK)
		return rc;
	payments_render_connect_fee(j, &ch->connect);
	rc = payments_expandable(j, db, "balance_transaction", ch->balance_transaction,
				 ex->balance_transaction, ex->render_balance_txn, ex->ctx);
	if (rc != DB_OK)
		return rc;
	kv_raw_or(j, "billing_details", ch->billing_details, EMPTY_BILLING);
	json_key(j, "calculated_statement_descriptor");
	if (ch->statement_descriptor)
		json_str(j, ch->statement_descriptor);
	else if (ch->statement_descriptor_suffix)
		calculated_with_suffix(j, ch->statement_descriptor_suffix);
	else
		json_str(j, "TENDER");
	json_kv_bool(j, "captured", ch->captured || debit_pending);
	json_kv_int(j, "created", ch->created);
	json_kv_str(j, "currency", ch->currency);
	rc = payments_expandable(j, db, "customer", ch->customer, ex->customer, ex->render_customer,
				 ex->ctx);
	if (rc != DB_OK)
		return rc;
	json_kv_str_or_null(j, "description", ch->description);
	json_kv_bool(j, "disputed", ch->disputed);
	json_kv_null(j, "failure_balance_transaction");
	json_kv_str_or_null(j, "failure_code", ch->failure_code);
	json_kv_str_or_null(j, "failure_message", ch->failure_message);
	json_key(j, "fraud_details");
	json_obj_open(j);
	if (ch->user_report)
		json_kv_str(j, "user_report", ch->user_report);
	json_obj_close(j);
	rc = payments_expandable_id(j, db, "invoice", ch->invoice, ex->invoice, ex);
	if (rc != DB_OK)
		return rc;
	json_kv_bool(j, "livemode", livemode != 0);
	kv_raw_or(j, "metadata", ch->metadata, "{}");
	payments_render_on_behalf_of(j, &ch->connect);
	kv_raw_or(j, "outcome", ch->outcome, NULL);
	json_kv_bool(j, "paid", ch->paid);
	struct pi_ctx pc = {a, merchant_id, livemode, ex};
	rc = payments_expandable(j, db, "payment_intent", ch->payment_intent, ex->payment_intent,
				 render_pi_cb, &pc);
	if (rc != DB_OK)
		return rc;
	rc = payments_expandable(j, db, "payment_method", ch->payment_method, ex->payment_method,
				 ex->render_payment_method, ex->ctx);
	if (rc != DB_OK)
		return rc;
	json_key(j, "payment_method_details");
	if (ch->source_transfer) {
		/* a transfer's payment: paid from the platform's Stripe account (Stripe's type) */
		static const char PMD_ACCOUNT[] =
		    "{\"stripe_account\":{},\"type\":\"stripe_account\"}";
		json_raw(j, PMD_ACCOUNT, sizeof(PMD_ACCOUNT) - 1);
	} else if (sepa_details_is_bank_debit(ch->card) || redirect_details_is(ch->card) ||
		   (ch->card && strncmp(ch->card, "{\"card_present\":", 16) == 0)) {
		/* a SEPA debit's, a redirect payment's or a Terminal reader's card column holds
		 * its whole payment_method_details (payments/sepa.h, payments/redirect.h,
		 * payments/flow.c) */
		json_raw(j, ch->card, strlen(ch->card));
	} else if (ch->card) {
		json_obj_open(j);
		json_kv_raw(j, "card", ch->card, strlen(ch->card));
		json_kv_str(j, "type", "card");
		json_obj_close(j);
	} else {
		json_nil(j);
	}
	json_key(j, "radar_options");
	json_obj_open(j);
	json_obj_close(j);
	json_kv_str_or_null(j, "receipt_email", ch->receipt_email);
	json_kv_null(j, "receipt_number");
	json_kv_null(j, "receipt_url");
	json_kv_bool(j, "refunded", ch->amount > 0 && refunded == ch->amount);
	if (ex && ex->refunds && ex->render_id) {
		rc = charge_refunds_render(db, merchant_id, ch->id, ex, j);
		if (rc != DB_OK)
			return rc;
	}
	/* only a charge placed in review looks its review up (risk/review.h) */
	char review[ID_MAX];
	const char *review_id = ch->review;
	if (!review_id) {
		rc = review_for_charge(db, merchant_id, ch->id, ch->outcome, review);
		if (rc != DB_OK && rc != DB_NOTFOUND)
			return rc;
		review_id = rc == DB_OK ? review : NULL;
	}
	rc = payments_expandable_id(j, db, "review", review_id, ex->review, ex);
	if (rc != DB_OK)
		return rc;
	kv_raw_or(j, "shipping", ch->shipping, NULL);
	/* Stripe's legacy `source`: the card (or bank account) object of a charge made through
	 * the Charges API with a customer's card source (card_…, or ba_…), shown with the charge's
	 * customer even once the card was deleted; null for a PaymentIntent's charge (rendered
	 * before its write too, without a store: payment_intents.c) and for a card that is not a
	 * source */
	json_key(j, "source");
	rc = db && !ch->payment_intent && card_source_id(ch->payment_method)
		 ? card_source_render(db, merchant_id, ch->payment_method, ch->customer, j)
	     /* a customer's bank account source (ACH, api/bank_sources.c), deleted ones too */
	     : db && !ch->payment_intent && bank_source_id(ch->payment_method)
		 ? bank_source_render(db, merchant_id, ch->payment_method, j)
	     /* a source of the Sources API (src_…, api/sources_api.c), as it is now */
	     : db && !ch->payment_intent && source_api_id(ch->payment_method)
		 ? source_api_render(db, merchant_id, livemode, ch->payment_method, j)
		 : DB_NOTFOUND;
	if (rc == DB_NOTFOUND)
		json_nil(j);
	else if (rc != DB_OK)
		return rc;
	json_kv_str_or_null(j, "source_transfer", ch->source_transfer);
	json_kv_str_or_null(j, "statement_descriptor", ch->statement_descriptor);
	json_kv_str_or_null(j, "statement_descriptor_suffix", ch->statement_descriptor_suffix);
	json_kv_str(j, "status", ch->status);
	if (ch->transfer) { /* only a destination charge's (Stripe leaves it out otherwise) */
		rc = payments_expandable_id(j, db, "transfer", ch->transfer, ex->transfer, ex);
		if (rc != DB_OK)
			return rc;
	}
	payments_render_transfer_data(j, &ch->connect, true);
	json_kv_str_or_null(j, "transfer_group", ch->connect.transfer_group);
	json_obj_close(j);
	return DB_OK;
}

int charge_render_by_id(struct db *db, struct arena *a, const char *merchant_id, int livemode,
			const char *id, const struct expand_set *ex, struct json *j)
{
	struct charge ch;
	int rc = charge_load(db, a, merchant_id, id, &ch);
	/* py_… is also a bank debit's id: the charges table first, the payment path's own */
	if (rc == DB_NOTFOUND && strncmp(id, "py_", 3) == 0)
		rc = destination_payment_load(db, a, merchant_id, id, &ch, NULL);
	if (rc != DB_OK)
		return rc;
	return charge_render(db, a, merchant_id, livemode, &ch, ex, j);
}

const char *charge_json(struct db *db, struct arena *a, const char *merchant_id, int livemode,
			const struct charge *ch, size_t *ret_len)
{
	struct buf b;
	struct json j;
	buf_init(&b, 1u << 20);
	json_init(&j, &b);
	int rc = charge_render(db, a, merchant_id, livemode, ch, NULL, &j);
	const char *s = rc == DB_OK && !b.failed ? arena_strndup(a, b.data, b.len) : NULL;
	*ret_len = b.len;
	buf_release(&b);
	return s;
}
