/* Connect transfers, reversals and application fees (connect.h). */
#include "payments/connect.h"

#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "core/str.h"
#include "ledger/ledger.h"
#include "merchant/merchant.h"
#include "payments/payments.h"

static const char *dup(struct arena *a, struct db_stmt *st, int col)
{
	const char *t = db_col_text(st, col, NULL);
	return t ? arena_strdup(a, t) : NULL;
}

/* A conditional update: DB_OK when it changed its one row, DB_CONFLICT when none (the
 * condition no longer held), or an error. */
static int step_changes(struct db_stmt *st)
{
	int64_t n = 0;
	int rc = db_step_changes(st, &n);
	return rc != DB_OK ? rc : n == 1 ? DB_OK : DB_CONFLICT;
}

/* One row by its key (the platform's id, then one or two more; NULL ends them) through fill,
 * which copies it into out. DB_OK, DB_NOTFOUND, or an error. */
typedef int (*row_fn)(struct arena *a, struct db_stmt *st, void *out);

static int load_row(struct db *db, struct arena *a, const char *sql, const char *k1, const char *k2,
		    const char *k3, row_fn fill, void *out)
{
	struct db_stmt *st = db_prepare(db, sql);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, k1, -1);
	db_bind_text(st, 2, k2, -1);
	if (k3)
		db_bind_text(st, 3, k3, -1);
	int rc = db_step(st);
	if (rc == DB_ROW && fill(a, st, out) != DB_OK)
		rc = DB_ERR;
	db_reset(st);
	return rc == DB_ROW ? DB_OK : rc == DB_DONE ? DB_NOTFOUND : rc < 0 ? rc : DB_ERR;
}

/* ---- transfers ---- */

static const char SQL_T_INSERT[] =
    "INSERT INTO transfers (merchant_id, id, created, amount, amount_reversed, currency,"
    " destination, destination_payment, balance_transaction, destination_balance_transaction,"
    " source_transaction, transfer_group, description, metadata)"
    " VALUES ($1, $2, $3, $4, 0, $5, $6, $7, $8, $9, $10, $11, $12, $13)";
static const char SQL_T_GET[] =
    "SELECT id, created, amount, amount_reversed, currency, destination, destination_payment,"
    " balance_transaction, destination_balance_transaction, source_transaction, transfer_group,"
    " description, metadata FROM transfers WHERE merchant_id = $1 AND id = $2";
static const char SQL_T_FUNDED[] =
    "SELECT COALESCE(SUM(amount), 0) FROM transfers WHERE merchant_id = $1"
    " AND source_transaction = $2";
static const char SQL_T_UPDATE[] =
    "UPDATE transfers SET description = $3, metadata = $4 WHERE merchant_id = $1 AND id = $2";
static const char SQL_T_REVERSE[] =
    "UPDATE transfers SET amount_reversed = amount_reversed + $3 WHERE merchant_id = $1"
    " AND id = $2 AND amount_reversed + $3 <= amount";
static const char SQL_F_INSERT[] =
    "INSERT INTO application_fees (merchant_id, id, created, amount, amount_refunded, currency,"
    " account, charge, originating_transaction, balance_transaction)"
    " VALUES ($1, $2, $3, $4, 0, $5, $6, $7, $8, $9)";
static const char SQL_F_GET[] =
    "SELECT id, created, amount, amount_refunded, currency, account, charge,"
    " originating_transaction, balance_transaction FROM application_fees"
    " WHERE merchant_id = $1 AND id = $2";

static int transfer_row(struct arena *a, struct db_stmt *st, void *out)
{
	struct transfer *t = out;
	memset(t, 0, sizeof(*t));
	str_copy(t->id, sizeof(t->id), db_col_text(st, 0, NULL));
	t->created = db_col_int64(st, 1);
	t->amount = db_col_int64(st, 2);
	t->amount_reversed = db_col_int64(st, 3);
	str_copy(t->currency, sizeof(t->currency), db_col_text(st, 4, NULL));
	t->destination = dup(a, st, 5);
	t->destination_payment = dup(a, st, 6);
	t->balance_transaction = dup(a, st, 7);
	t->destination_balance_transaction = dup(a, st, 8);
	t->source_transaction = dup(a, st, 9);
	t->transfer_group = dup(a, st, 10);
	t->description = dup(a, st, 11);
	t->metadata = dup(a, st, 12);
	return t->destination && t->metadata ? DB_OK : DB_ERR;
}

int transfer_load(struct db *db, struct arena *a, const char *platform, const char *id,
		  struct transfer *t)
{
	return load_row(db, a, SQL_T_GET, platform, id, NULL, transfer_row, t);
}

int transfer_funded_by(struct db *db, const char *platform, const char *charge_id, int64_t *ret)
{
	struct db_stmt *st = db_prepare(db, SQL_T_FUNDED);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, platform, -1);
	db_bind_text(st, 2, charge_id, -1);
	int rc = db_step(st);
	*ret = rc == DB_ROW ? db_col_int64(st, 0) : 0;
	db_reset(st);
	return rc == DB_ROW ? DB_OK : rc < 0 ? rc : DB_ERR;
}

int transfer_update(struct db *db, const char *platform, const struct transfer *t)
{
	struct db_stmt *st = db_prepare(db, SQL_T_UPDATE);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, platform, -1);
	db_bind_text(st, 2, t->id, -1);
	db_bind_text(st, 3, t->description, -1);
	db_bind_text(st, 4, t->metadata, -1);
	return step_changes(st);
}

/* Appends a platform event with obj's JSON as rendered into a fresh buffer by the caller. */
static int emit(struct db *db, const char *platform, const struct event_origin *o, const char *type,
		const char *id, const struct buf *b, int64_t now)
{
	if (b->failed)
		return DB_ERR;
	return event_append(db, platform, o, type, id, b->data, b->len, NULL, now, NULL);
}

static int emit_transfer(struct db *db, struct arena *a, const char *platform,
			 const struct event_origin *o, const struct transfer *t, const char *type,
			 int64_t now)
{
	struct buf b;
	struct json j;
	buf_init(&b, 1u << 20);
	json_init(&j, &b);
	int rc = transfer_render(db, a, platform, o->livemode, t, &j);
	if (rc == DB_OK)
		rc = emit(db, platform, o, type, t->id, &b, now);
	buf_release(&b);
	return rc;
}

/* An application fee's row and the platform's application_fee.created. */
static int fee_record(struct db *db, struct arena *a, const char *platform,
		      const struct application_fee *f, const struct event_origin *origin,
		      int64_t now)
{
	struct db_stmt *st = db_prepare(db, SQL_F_INSERT);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, platform, -1);
	db_bind_text(st, 2, f->id, -1);
	db_bind_int64(st, 3, f->created);
	db_bind_int64(st, 4, f->amount);
	db_bind_text(st, 5, f->currency, -1);
	db_bind_text(st, 6, f->account, -1);
	db_bind_text(st, 7, f->charge, -1);
	db_bind_text(st, 8, f->originating_transaction, -1);
	db_bind_text(st, 9, f->balance_transaction, -1);
	int rc = db_step_done(st);
	if (rc != DB_OK)
		return rc;
	struct buf b;
	struct json j;
	buf_init(&b, 1u << 20);
	json_init(&j, &b);
	rc = application_fee_render(db, a, platform, origin->livemode, f, &j);
	if (rc == DB_OK)
		rc = emit(db, platform, origin, "application_fee.created", f->id, &b, now);
	buf_release(&b);
	return rc;
}

int application_fee_direct(struct db *db, struct arena *a, const char *platform,
			   const char *account, const char *charge_id, const char *fee_id,
			   int64_t fee, const char *currency, const struct ledger_bucket *bucket,
			   int64_t now, const struct event_origin *origin)
{
	char pbt[ID_MAX], abt[ID_MAX];
	int rc = ledger_application_fee_direct(db, platform, account, fee_id, fee, currency, bucket,
					       now, pbt, abt);
	if (rc != DB_OK)
		return rc;
	struct application_fee f = {
	    .created = now,
	    .amount = fee,
	    .account = account,
	    .charge = charge_id,
	    .balance_transaction = pbt,
	};
	str_copy(f.id, sizeof(f.id), fee_id);
	str_copy(f.currency, sizeof(f.currency), currency);
	return fee_record(db, a, platform, &f, origin, now);
}

int connect_settlement_currency(struct db *db, const char *destination, const char *currency,
				char ret[8])
{
	/* the same rule as the account's own charges (ledger_capture) */
	return ledger_settlement_currency(db, destination, currency, ret);
}

int transfer_make(struct db *db, struct arena *a, const struct transfer_new *in, struct transfer *t,
		  char ret_fee_id[ID_MAX])
{
	memset(t, 0, sizeof(*t));
	char fee_id[ID_MAX] = "", py[ID_MAX];
	if (in->transfer_id)
		str_copy(t->id, sizeof(t->id), in->transfer_id);
	else
		id_new_at(t->id, "tr_", in->now);
	if (in->fee > 0) {
		if (in->fee_id)
			str_copy(fee_id, sizeof(fee_id), in->fee_id);
		else
			id_new_at(fee_id, "fee_", in->now);
	}
	id_new_at(py, "py_", in->now);
	t->created = in->now;
	t->amount = in->amount;
	str_copy(t->currency, sizeof(t->currency), in->currency);
	t->destination = in->destination;
	t->destination_payment = arena_strdup(a, py);
	t->source_transaction = in->source_transaction;
	t->transfer_group = in->transfer_group;
	t->description = in->description;
	t->metadata = in->metadata ? in->metadata : "{}";
	char settle[8];
	int rc = connect_settlement_currency(db, in->destination, in->currency, settle);
	if (rc != DB_OK)
		return rc;
	const struct ledger_transfer lt = {
	    .settle_currency = settle,
	    .fx = in->fx,
	    .reserve = in->reserve,
	    .platform = in->platform,
	    .destination = in->destination,
	    .transfer_id = t->id,
	    .destination_payment = py,
	    .currency = in->currency,
	    .amount = in->amount,
	    .fee = in->fee,
	    .fee_id = fee_id,
	    .bucket = in->bucket,
	    .now = in->now,
	};
	char pbt[ID_MAX], dbt[ID_MAX], fbt[ID_MAX];
	rc = ledger_transfer(db, &lt, pbt, dbt, fbt);
	if (rc != DB_OK)
		return rc;
	t->balance_transaction = arena_strdup(a, pbt);
	t->destination_balance_transaction = arena_strdup(a, dbt);
	if (!t->destination_payment || !t->balance_transaction ||
	    !t->destination_balance_transaction)
		return DB_ERR;
	struct db_stmt *st = db_prepare(db, SQL_T_INSERT);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, in->platform, -1);
	db_bind_text(st, 2, t->id, -1);
	db_bind_int64(st, 3, t->created);
	db_bind_int64(st, 4, t->amount);
	db_bind_text(st, 5, t->currency, -1);
	db_bind_text(st, 6, t->destination, -1);
	db_bind_text(st, 7, py, -1);
	db_bind_text(st, 8, pbt, -1);
	db_bind_text(st, 9, dbt, -1);
	db_bind_text(st, 10, t->source_transaction, -1);
	db_bind_text(st, 11, t->transfer_group, -1);
	db_bind_text(st, 12, t->description, -1);
	db_bind_text(st, 13, t->metadata, -1);
	rc = db_step_done(st);
	if (rc != DB_OK)
		return rc;
	rc = emit_transfer(db, a, in->platform, in->origin, t, "transfer.created", in->now);
	if (rc != DB_OK)
		return rc;
	if (ret_fee_id)
		str_copy(ret_fee_id, ID_MAX, fee_id);
	if (in->fee == 0)
		return DB_OK;
	/* the fee was taken from the payment on the connected account (its py_…), which the
	 * platform's charge originated */
	struct application_fee f = {
	    .created = in->now,
	    .amount = in->fee,
	    .account = in->destination,
	    .charge = py,
	    .originating_transaction = in->source_transaction,
	    .balance_transaction = fbt,
	};
	str_copy(f.id, sizeof(f.id), fee_id);
	str_copy(f.currency, sizeof(f.currency), in->currency);
	return fee_record(db, a, in->platform, &f, in->origin, in->now);
}

/* ---- reversals ---- */

static const char SQL_R_INSERT[] =
    "INSERT INTO transfer_reversals (merchant_id, id, transfer, created, amount, currency,"
    " balance_transaction, destination_payment_refund, destination_balance_transaction,"
    " source_refund, metadata) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)";
#define R_COLS                                                                                     \
	"id, transfer, created, amount, currency, balance_transaction,"                            \
	" destination_payment_refund, destination_balance_transaction, source_refund, metadata"
static const char SQL_R_GET[] = "SELECT " R_COLS " FROM transfer_reversals WHERE merchant_id = $1"
				" AND transfer = $2 AND id = $3";
static const char SQL_R_GET_ANY[] = "SELECT " R_COLS " FROM transfer_reversals"
				    " WHERE merchant_id = $1 AND id = $2";
/* a transfer's newest reversals, for its inline list */
static const char SQL_R_OF[] = "SELECT " R_COLS " FROM transfer_reversals WHERE merchant_id = $1"
			       " AND transfer = $2 ORDER BY id DESC LIMIT $3";
static const char SQL_R_METADATA[] =
    "UPDATE transfer_reversals SET metadata = $4 WHERE merchant_id = $1 AND transfer = $2"
    " AND id = $3";

/* What the transfer's (or fee's) earlier movements back took from (gave to) the connected
 * account, in its currency: Σ of their balance transactions there */
static const char SQL_R_TAKEN[] =
    "SELECT COALESCE(SUM(b.amount), 0) FROM transfer_reversals r JOIN balance_transactions b"
    " ON b.merchant_id = $3 AND b.id = r.destination_balance_transaction"
    " WHERE r.merchant_id = $1 AND r.transfer = $2";
static const char SQL_FR_GIVEN[] =
    "SELECT COALESCE(SUM(b.amount), 0) FROM application_fee_refunds x JOIN balance_transactions b"
    " ON b.merchant_id = $3 AND b.id = x.account_balance_transaction"
    " WHERE x.merchant_id = $1 AND x.fee = $2";

static int back_taken(struct db *db, const char *sql, const char *platform, const char *id,
		      const char *account, int64_t *ret)
{
	struct db_stmt *st = db_prepare(db, sql);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, platform, -1);
	db_bind_text(st, 2, id, -1);
	db_bind_text(st, 3, account, -1);
	int rc = db_step(st);
	*ret = rc == DB_ROW ? db_col_int64(st, 0) : 0;
	db_reset(st);
	return rc == DB_ROW ? DB_OK : rc < 0 ? rc : DB_ERR;
}

static int reversal_row(struct arena *a, struct db_stmt *st, void *out)
{
	struct transfer_reversal *v = out;
	memset(v, 0, sizeof(*v));
	str_copy(v->id, sizeof(v->id), db_col_text(st, 0, NULL));
	v->transfer = dup(a, st, 1);
	v->created = db_col_int64(st, 2);
	v->amount = db_col_int64(st, 3);
	str_copy(v->currency, sizeof(v->currency), db_col_text(st, 4, NULL));
	v->balance_transaction = dup(a, st, 5);
	v->destination_payment_refund = dup(a, st, 6);
	v->destination_balance_transaction = dup(a, st, 7);
	v->source_refund = dup(a, st, 8);
	v->metadata = dup(a, st, 9);
	return v->transfer && v->metadata ? DB_OK : DB_ERR;
}

int transfer_reversal_load(struct db *db, struct arena *a, const char *platform,
			   const char *transfer_id, const char *id, struct transfer_reversal *v)
{
	if (!transfer_id)
		return load_row(db, a, SQL_R_GET_ANY, platform, id, NULL, reversal_row, v);
	return load_row(db, a, SQL_R_GET, platform, transfer_id, id, reversal_row, v);
}

int transfer_reversal_set_metadata(struct db *db, const char *platform,
				   const struct transfer_reversal *v)
{
	struct db_stmt *st = db_prepare(db, SQL_R_METADATA);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, platform, -1);
	db_bind_text(st, 2, v->transfer, -1);
	db_bind_text(st, 3, v->id, -1);
	db_bind_text(st, 4, v->metadata, -1);
	return step_changes(st);
}

void transfer_reversal_render(const struct transfer_reversal *v, struct json *j)
{
	json_obj_open(j);
	json_kv_str(j, "id", v->id);
	json_kv_str(j, "object", "transfer_reversal");
	json_kv_int(j, "amount", v->amount);
	json_kv_str_or_null(j, "balance_transaction", v->balance_transaction);
	json_kv_int(j, "created", v->created);
	json_kv_str(j, "currency", v->currency);
	json_kv_str_or_null(j, "destination_payment_refund", v->destination_payment_refund);
	json_kv_raw(j, "metadata", v->metadata, strlen(v->metadata));
	json_kv_str_or_null(j, "source_refund", v->source_refund);
	json_kv_str(j, "transfer", v->transfer);
	json_obj_close(j);
}

int transfer_reverse(struct db *db, struct arena *a, const char *platform, struct transfer *t,
		     int64_t r, const char *metadata, const char *description,
		     const char *source_refund, int64_t now, const struct event_origin *origin,
		     struct transfer_reversal *v)
{
	if (r < 1)
		return LEDGER_ERR_INVALID;
	struct db_stmt *st = db_prepare(db, SQL_T_REVERSE);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, platform, -1);
	db_bind_text(st, 2, t->id, -1);
	db_bind_int64(st, 3, r);
	int rc = step_changes(st);
	if (rc != DB_OK)
		return rc; /* DB_CONFLICT: more than is left to reverse */
	memset(v, 0, sizeof(*v));
	char pyr[ID_MAX], pbt[ID_MAX], dbt[ID_MAX];
	id_new_at(v->id, "trr_", now);
	id_new_at(pyr, "pyr_", now);
	/* what the earlier reversals took from the account, for a converted payment's cumulative
	 * rounding (ledger_connect.h) */
	struct ledger_back b = {
	    .payment_bt = t->destination_balance_transaction,
	    .payment_id = t->destination_payment,
	    .total = t->amount,
	    .before = t->amount_reversed,
	};
	rc = back_taken(db, SQL_R_TAKEN, platform, t->id, t->destination, &b.before_settled);
	if (rc != DB_OK)
		return rc;
	b.before_settled = -b.before_settled; /* payment_refunds are negative */
	rc = ledger_transfer_reversal(db, platform, t->destination, v->id, pyr, r, t->currency, &b,
				      description, now, pbt, dbt);
	if (rc != DB_OK)
		return rc;
	v->created = now;
	v->amount = r;
	str_copy(v->currency, sizeof(v->currency), t->currency);
	v->transfer = t->id;
	v->balance_transaction = arena_strdup(a, pbt);
	v->destination_payment_refund = arena_strdup(a, pyr);
	v->destination_balance_transaction = arena_strdup(a, dbt);
	v->source_refund = source_refund;
	v->metadata = metadata ? metadata : "{}";
	if (!v->balance_transaction || !v->destination_payment_refund ||
	    !v->destination_balance_transaction)
		return DB_ERR;
	st = db_prepare(db, SQL_R_INSERT);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, platform, -1);
	db_bind_text(st, 2, v->id, -1);
	db_bind_text(st, 3, t->id, -1);
	db_bind_int64(st, 4, now);
	db_bind_int64(st, 5, r);
	db_bind_text(st, 6, v->currency, -1);
	db_bind_text(st, 7, pbt, -1);
	db_bind_text(st, 8, pyr, -1);
	db_bind_text(st, 9, dbt, -1);
	db_bind_text(st, 10, source_refund, -1);
	db_bind_text(st, 11, v->metadata, -1);
	rc = db_step_done(st);
	if (rc != DB_OK)
		return rc;
	t->amount_reversed += r;
	return emit_transfer(db, a, platform, origin, t, "transfer.reversed", now);
}

int transfer_render(struct db *db, struct arena *a, const char *platform, int livemode,
		    const struct transfer *t, struct json *j)
{
	return transfer_render_ex(db, a, platform, livemode, t, NULL, NULL, j);
}

int transfer_render_ex(struct db *db, struct arena *a, const char *platform, int livemode,
		       const struct transfer *t,
		       int (*payment)(void *, struct db *, const char *, struct json *), void *ctx,
		       struct json *j)
{
	json_obj_open(j);
	json_kv_str(j, "id", t->id);
	json_kv_str(j, "object", "transfer");
	json_kv_int(j, "amount", t->amount);
	json_kv_int(j, "amount_reversed", t->amount_reversed);
	json_kv_str_or_null(j, "balance_transaction", t->balance_transaction);
	json_kv_int(j, "created", t->created);
	json_kv_str(j, "currency", t->currency);
	json_kv_str_or_null(j, "description", t->description);
	json_kv_str(j, "destination", t->destination);
	if (payment) {
		json_key(j, "destination_payment");
		int prc = payment(ctx, db, t->destination_payment, j);
		if (prc != DB_OK)
			return prc;
	} else {
		json_kv_str(j, "destination_payment", t->destination_payment);
	}
	json_kv_bool(j, "livemode", livemode != 0);
	json_kv_raw(j, "metadata", t->metadata, strlen(t->metadata));
	/* the newest reversals inline, as Stripe lists them in the object */
	json_key(j, "reversals");
	json_obj_open(j);
	json_kv_str(j, "object", "list");
	json_key(j, "data");
	json_arr_open(j);
	struct db_stmt *st = db_prepare(db, SQL_R_OF);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, platform, -1);
	db_bind_text(st, 2, t->id, -1);
	db_bind_int64(st, 3, TRANSFER_REVERSALS_INLINE + 1);
	int n = 0, rc;
	while ((rc = db_step(st)) == DB_ROW && n < TRANSFER_REVERSALS_INLINE) {
		struct transfer_reversal v;
		if (reversal_row(a, st, &v) != DB_OK) {
			rc = DB_ERR;
			break;
		}
		transfer_reversal_render(&v, j);
		n++;
	}
	bool more = rc == DB_ROW;
	db_reset(st);
	if (rc != DB_ROW && rc != DB_DONE)
		return rc < 0 ? rc : DB_ERR;
	json_arr_close(j);
	json_kv_bool(j, "has_more", more);
	char url[96];
	snprintf(url, sizeof(url), "/v1/transfers/%s/reversals", t->id);
	json_kv_str(j, "url", url);
	json_obj_close(j);
	json_kv_bool(j, "reversed", t->amount_reversed >= t->amount);
	json_kv_str_or_null(j, "source_transaction", t->source_transaction);
	json_kv_str(j, "source_type", "card");
	json_kv_str_or_null(j, "transfer_group", t->transfer_group);
	json_obj_close(j);
	return DB_OK;
}

/* ---- destination payments ---- */

/* the transfer that made payment $2, to account $3 (the index of migration 0187) */
static const char SQL_T_BY_PAYMENT[] =
    "SELECT id, created, amount, amount_reversed, currency, destination, destination_payment,"
    " balance_transaction, destination_balance_transaction, source_transaction, transfer_group,"
    " description, metadata FROM transfers WHERE merchant_id = $1 AND destination_payment = $2"
    " AND destination = $3";

int destination_payment_load(struct db *db, struct arena *a, const char *account, const char *id,
			     struct charge *ch, struct transfer *ret_transfer)
{
	/* only a connected account receives transfers, from its own platform: whoever else asks
	 * (the platform itself, another account) finds nothing */
	struct merchant_terms terms;
	int rc = merchant_terms_get(db, account, &terms);
	if (rc != DB_OK)
		return rc;
	if (!terms.platform[0])
		return DB_NOTFOUND;
	struct transfer t;
	rc = load_row(db, a, SQL_T_BY_PAYMENT, terms.platform, id, account, transfer_row, &t);
	if (rc != DB_OK)
		return rc;
	struct ledger_bucket b;
	rc = ledger_bt_bucket(db, account, t.destination_balance_transaction, &b);
	if (rc != DB_OK)
		return rc == DB_NOTFOUND ? DB_ERR : rc; /* the transfer names it: it exists */
	/* what the reversals took back, in what arrived's currency (payment_refunds are < 0) */
	int64_t taken = 0;
	rc = back_taken(db, SQL_R_TAKEN, terms.platform, t.id, account, &taken);
	if (rc != DB_OK)
		return rc;
	memset(ch, 0, sizeof(*ch));
	str_copy(ch->id, sizeof(ch->id), t.destination_payment);
	ch->created = t.created;
	ch->amount = b.amount;
	ch->amount_captured = b.amount;
	ch->amount_refunded = -taken;
	if (ch->amount_refunded < 0 || ch->amount_refunded > ch->amount)
		return DB_ERR;
	str_copy(ch->currency, sizeof(ch->currency), b.currency);
	ch->status = "succeeded";
	ch->captured = ch->paid = true;
	ch->balance_transaction = t.destination_balance_transaction;
	ch->metadata = "{}";
	ch->source_transfer = arena_strdup(a, t.id);
	if (!ch->source_transfer)
		return DB_ERR;
	if (ret_transfer)
		*ret_transfer = t;
	return DB_OK;
}

/* ---- application fees ---- */

static int fee_row(struct arena *a, struct db_stmt *st, void *out)
{
	struct application_fee *f = out;
	memset(f, 0, sizeof(*f));
	str_copy(f->id, sizeof(f->id), db_col_text(st, 0, NULL));
	f->created = db_col_int64(st, 1);
	f->amount = db_col_int64(st, 2);
	f->amount_refunded = db_col_int64(st, 3);
	str_copy(f->currency, sizeof(f->currency), db_col_text(st, 4, NULL));
	f->account = dup(a, st, 5);
	f->charge = dup(a, st, 6);
	f->originating_transaction = dup(a, st, 7);
	f->balance_transaction = dup(a, st, 8);
	return f->account && f->charge ? DB_OK : DB_ERR;
}

int application_fee_load(struct db *db, struct arena *a, const char *platform, const char *id,
			 struct application_fee *f)
{
	return load_row(db, a, SQL_F_GET, platform, id, NULL, fee_row, f);
}

/* ---- application fee refunds ---- */

static const char SQL_FR_INSERT[] =
    "INSERT INTO application_fee_refunds (merchant_id, id, fee, created, amount, currency,"
    " balance_transaction, account_balance_transaction, metadata)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
#define FR_COLS                                                                                    \
	"id, fee, created, amount, currency, balance_transaction, account_balance_transaction,"    \
	" metadata"
static const char SQL_FR_GET[] = "SELECT " FR_COLS " FROM application_fee_refunds"
				 " WHERE merchant_id = $1 AND fee = $2 AND id = $3";
static const char SQL_FR_GET_ANY[] = "SELECT " FR_COLS " FROM application_fee_refunds"
				     " WHERE merchant_id = $1 AND id = $2";
static const char SQL_FR_OF[] = "SELECT " FR_COLS " FROM application_fee_refunds"
				" WHERE merchant_id = $1 AND fee = $2 ORDER BY id DESC LIMIT $3";
static const char SQL_FR_METADATA[] = "UPDATE application_fee_refunds SET metadata = $4"
				      " WHERE merchant_id = $1 AND fee = $2 AND id = $3";
static const char SQL_F_REFUND[] =
    "UPDATE application_fees SET amount_refunded = amount_refunded + $3 WHERE merchant_id = $1"
    " AND id = $2 AND amount_refunded + $3 <= amount";

static int fee_refund_row(struct arena *a, struct db_stmt *st, void *out)
{
	struct fee_refund *v = out;
	memset(v, 0, sizeof(*v));
	str_copy(v->id, sizeof(v->id), db_col_text(st, 0, NULL));
	v->fee = dup(a, st, 1);
	v->created = db_col_int64(st, 2);
	v->amount = db_col_int64(st, 3);
	str_copy(v->currency, sizeof(v->currency), db_col_text(st, 4, NULL));
	v->balance_transaction = dup(a, st, 5);
	v->account_balance_transaction = dup(a, st, 6);
	v->metadata = dup(a, st, 7);
	return v->fee && v->metadata ? DB_OK : DB_ERR;
}

int fee_refund_load(struct db *db, struct arena *a, const char *platform, const char *fee_id,
		    const char *id, struct fee_refund *v)
{
	if (!fee_id)
		return load_row(db, a, SQL_FR_GET_ANY, platform, id, NULL, fee_refund_row, v);
	return load_row(db, a, SQL_FR_GET, platform, fee_id, id, fee_refund_row, v);
}

int fee_refund_set_metadata(struct db *db, const char *platform, const struct fee_refund *v)
{
	struct db_stmt *st = db_prepare(db, SQL_FR_METADATA);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, platform, -1);
	db_bind_text(st, 2, v->fee, -1);
	db_bind_text(st, 3, v->id, -1);
	db_bind_text(st, 4, v->metadata, -1);
	return step_changes(st);
}

void fee_refund_render(const struct fee_refund *v, struct json *j)
{
	json_obj_open(j);
	json_kv_str(j, "id", v->id);
	json_kv_str(j, "object", "fee_refund");
	json_kv_int(j, "amount", v->amount);
	json_kv_str_or_null(j, "balance_transaction", v->balance_transaction);
	json_kv_int(j, "created", v->created);
	json_kv_str(j, "currency", v->currency);
	json_kv_str(j, "fee", v->fee);
	json_kv_raw(j, "metadata", v->metadata, strlen(v->metadata));
	json_obj_close(j);
}

/* The destination payment's balance transaction of the transfer fee f was paid from ("" for a
 * direct charge's fee, which no transfer paid). */
static const char SQL_FEE_PAYMENT[] =
    "SELECT destination_balance_transaction FROM transfers WHERE merchant_id = $1"
    " AND source_transaction = $2 AND destination_payment = $3";

static int fee_payment_bt(struct db *db, const char *platform, const struct application_fee *f,
			  char ret[ID_MAX])
{
	ret[0] = '\0';
	if (!f->originating_transaction)
		return DB_OK;
	struct db_stmt *st = db_prepare(db, SQL_FEE_PAYMENT);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, platform, -1);
	db_bind_text(st, 2, f->originating_transaction, -1);
	db_bind_text(st, 3, f->charge, -1);
	int rc = db_step(st);
	if (rc == DB_ROW)
		str_copy(ret, ID_MAX, db_col_text(st, 0, NULL));
	db_reset(st);
	return rc == DB_ROW || rc == DB_DONE ? DB_OK : rc < 0 ? rc : DB_ERR;
}

int application_fee_refund(struct db *db, struct arena *a, const char *platform,
			   struct application_fee *f, int64_t amount, const char *metadata,
			   int64_t now, const struct event_origin *origin, struct fee_refund *v)
{
	if (amount < 1)
		return LEDGER_ERR_INVALID;
	struct db_stmt *st = db_prepare(db, SQL_F_REFUND);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, platform, -1);
	db_bind_text(st, 2, f->id, -1);
	db_bind_int64(st, 3, amount);
	int rc = step_changes(st);
	if (rc != DB_OK)
		return rc; /* DB_CONFLICT: more than is left to refund */
	memset(v, 0, sizeof(*v));
	char pbt[ID_MAX], abt[ID_MAX];
	id_new_at(v->id, "fr_", now);
	/* a fee paid out of a transfer's payment goes back in the currency the payment arrived in,
	 * at its rate (ledger_connect.h); a direct charge's fee, in the fee's own */
	char pay_bt[ID_MAX] = "";
	rc = fee_payment_bt(db, platform, f, pay_bt);
	if (rc != DB_OK)
		return rc;
	struct ledger_back back = {
	    .payment_bt = pay_bt,
	    .payment_id = f->charge,
	    .total = f->amount,
	    .before = f->amount_refunded,
	};
	if (pay_bt[0]) {
		rc =
		    back_taken(db, SQL_FR_GIVEN, platform, f->id, f->account, &back.before_settled);
		if (rc != DB_OK)
			return rc;
	}
	rc = ledger_application_fee_refund(db, platform, f->account, v->id, amount, f->currency,
					   pay_bt[0] ? &back : NULL, now, pbt, abt);
	if (rc != DB_OK)
		return rc;
	v->created = now;
	v->amount = amount;
	str_copy(v->currency, sizeof(v->currency), f->currency);
	v->fee = f->id;
	v->balance_transaction = arena_strdup(a, pbt);
	v->account_balance_transaction = arena_strdup(a, abt);
	v->metadata = metadata ? metadata : "{}";
	if (!v->balance_transaction || !v->account_balance_transaction)
		return DB_ERR;
	st = db_prepare(db, SQL_FR_INSERT);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, platform, -1);
	db_bind_text(st, 2, v->id, -1);
	db_bind_text(st, 3, f->id, -1);
	db_bind_int64(st, 4, now);
	db_bind_int64(st, 5, amount);
	db_bind_text(st, 6, v->currency, -1);
	db_bind_text(st, 7, pbt, -1);
	db_bind_text(st, 8, abt, -1);
	db_bind_text(st, 9, v->metadata, -1);
	rc = db_step_done(st);
	if (rc != DB_OK)
		return rc;
	f->amount_refunded += amount;
	struct buf b;
	struct json j;
	buf_init(&b, 1u << 20);
	json_init(&j, &b);
	rc = application_fee_render(db, a, platform, origin->livemode, f, &j);
	if (rc == DB_OK)
		rc = emit(db, platform, origin, "application_fee.refunded", f->id, &b, now);
	buf_release(&b);
	return rc;
}

int application_fee_render(struct db *db, struct arena *a, const char *platform, int livemode,
			   const struct application_fee *f, struct json *j)
{
	/* the platform's Connect application: Stripe names it ca_…; Tender's platform is its own
	 * application, so the id is made from the platform's account id */
	char app[ID_MAX + 8];
	snprintf(app, sizeof(app), "ca_%s",
		 strncmp(platform, "acct_", 5) == 0 ? platform + 5 : platform);
	json_obj_open(j);
	json_kv_str(j, "id", f->id);
	json_kv_str(j, "object", "application_fee");
	json_kv_str(j, "account", f->account);
	json_kv_int(j, "amount", f->amount);
	json_kv_int(j, "amount_refunded", f->amount_refunded);
	json_kv_str(j, "application", app);
	json_kv_str_or_null(j, "balance_transaction", f->balance_transaction);
	json_kv_str(j, "charge", f->charge);
	json_kv_int(j, "created", f->created);
	json_kv_str(j, "currency", f->currency);
	json_kv_bool(j, "livemode", livemode != 0);
	json_kv_str_or_null(j, "originating_transaction", f->originating_transaction);
	json_kv_bool(j, "refunded", f->amount_refunded > 0 && f->amount_refunded >= f->amount);
	json_key(j, "refunds");
	json_obj_open(j);
	json_kv_str(j, "object", "list");
	json_key(j, "data");
	json_arr_open(j);
	int n = 0, rc = DB_DONE;
	if (f->amount_refunded > 0) { /* a fee never refunded has no refunds to look for */
		struct db_stmt *st = db_prepare(db, SQL_FR_OF);
		if (!st)
			return DB_ERR;
		db_bind_text(st, 1, platform, -1);
		db_bind_text(st, 2, f->id, -1);
		db_bind_int64(st, 3, TRANSFER_REVERSALS_INLINE + 1);
		while ((rc = db_step(st)) == DB_ROW && n < TRANSFER_REVERSALS_INLINE) {
			struct fee_refund v;
			if (fee_refund_row(a, st, &v) != DB_OK) {
				rc = DB_ERR;
				break;
			}
			fee_refund_render(&v, j);
			n++;
		}
		db_reset(st);
		if (rc != DB_ROW && rc != DB_DONE)
			return rc < 0 ? rc : DB_ERR;
	}
	json_arr_close(j);
	json_kv_bool(j, "has_more", rc == DB_ROW);
	char url[96];
	snprintf(url, sizeof(url), "/v1/application_fees/%s/refunds", f->id);
	json_kv_str(j, "url", url);
	json_obj_close(j);
	json_obj_close(j);
	return DB_OK;
}
