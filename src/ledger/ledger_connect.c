/*
 * Connect movements (ledger_connect.h). Each merchant's half is one journal transaction posted
 * through ledger_post(), which refuses an unbalanced or absurd set before it writes, and each
 * balance transaction names the journal transaction of its own merchant.
 */
#include "ledger/ledger_connect.h"

#include <stdio.h>
#include <string.h>

#include "ledger/ledger.h"
#include "ledger/ledger_internal.h"

static int amount_ok(int64_t amount)
{
	return amount >= 1 && amount <= LEDGER_AMOUNT_MAX ? DB_OK
	       : amount < 1				  ? LEDGER_ERR_INVALID
							  : LEDGER_ERR_OVERFLOW;
}

static const char SQL_BUCKET[] =
    "SELECT status, available_on, currency, amount, fx_base, fx_quote, fx_rate_e12, fx_valid_from"
    " FROM balance_transactions WHERE merchant_id = $1 AND id = $2";

int ledger_bt_bucket(struct db *db, const char *merchant_id, const char *balance_txn_id,
		     struct ledger_bucket *ret)
{
	if (!balance_txn_id)
		return DB_NOTFOUND;
	struct db_stmt *st = db_prepare(db, SQL_BUCKET);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, balance_txn_id, -1);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		const char *status = db_col_text(st, 0, NULL);
		ret->pending = status && strcmp(status, "pending") == 0;
		ret->available_on = db_col_int64(st, 1);
		const char *cur = db_col_text(st, 2, NULL);
		snprintf(ret->currency, sizeof(ret->currency), "%s", cur ? cur : "");
		ret->amount = db_col_int64(st, 3);
		memset(&ret->rate, 0, sizeof(ret->rate));
		const char *base = db_col_text(st, 4, NULL), *quote = db_col_text(st, 5, NULL);
		/* a rate that does not validate leaves converted false: ledger_bucket_amount then
		 * refuses to convert rather than guess */
		ret->converted = !db_col_is_null(st, 6) && base && quote &&
				 fx_rate_init(&ret->rate, base, quote, db_col_int64(st, 6),
					      db_col_int64(st, 7)) == 0;
	}
	db_reset(st);
	return rc == DB_ROW ? DB_OK : rc == DB_DONE ? DB_NOTFOUND : rc < 0 ? rc : DB_ERR;
}

int ledger_bucket_amount(const struct ledger_bucket *b, const char *charge_currency,
			 int64_t captured, int64_t amount, int64_t *ret)
{
	if (amount < 0 || amount > captured)
		return LEDGER_ERR_INVALID;
	if (strcmp(b->currency, charge_currency) == 0) {
		*ret = amount;
		return DB_OK;
	}
	if (!b->converted || strcmp(b->rate.base, charge_currency) != 0 ||
	    strcmp(b->rate.quote, b->currency) != 0)
		return LEDGER_ERR_INVALID;
	if (amount == captured) { /* what the capture booked, not a second rounding of it */
		*ret = b->amount;
		return DB_OK;
	}
	return fx_convert_with_rate(&b->rate, amount, charge_currency, b->currency, ret) == 0
		   ? DB_OK
		   : LEDGER_ERR_INVALID;
}

static const char *bucket_account(const struct ledger_bucket *b)
{
	return b->pending ? LEDGER_ACCT_MERCHANT_PENDING : LEDGER_ACCT_MERCHANT_AVAILABLE;
}

/* The platform's side of an application fee: it comes in from connect_clearing. */
static int collect_fee(struct db *db, const char *platform, const char *fee_id, int64_t fee,
		       const char *currency, const struct ledger_bucket *bucket, int64_t now,
		       char ret_bt[ID_MAX])
{
	const struct ledger_entry e[] = {
	    {LEDGER_ACCT_CONNECT_CLEARING, currency, fee},
	    {bucket_account(bucket), currency, -fee},
	};
	char jtx[ID_MAX];
	int rc = ledger_post(db, platform, "application_fee", fee_id, e, 2, now, jtx);
	if (rc != DB_OK)
		return rc;
	const struct bt b = {
	    .type = "application_fee",
	    .source = fee_id,
	    .currency = currency,
	    .status = bucket->pending ? "pending" : "available",
	    .journal_txn = jtx,
	    .amount = fee,
	    .created = now,
	    .available_on = bucket->pending ? bucket->available_on : now,
	};
	return bt_insert(db, platform, &b, ret_bt);
}

int ledger_application_fee_direct(struct db *db, const char *platform, const char *account,
				  const char *fee_id, int64_t f, const char *currency,
				  const struct ledger_bucket *bucket, int64_t now,
				  char ret_platform_bt[ID_MAX], char ret_account_bt[ID_MAX])
{
	int rc = amount_ok(f);
	if (rc != DB_OK)
		return rc;
	if (!strcmp(platform, account))
		return LEDGER_ERR_INVALID;
	const struct ledger_entry e[] = {
	    {bucket_account(bucket), currency, f},
	    {LEDGER_ACCT_CONNECT_CLEARING, currency, -f},
	};
	char jtx[ID_MAX];
	rc = ledger_post(db, account, "application_fee", fee_id, e, 2, now, jtx);
	if (rc != DB_OK)
		return rc;
	const struct bt b = {
	    .type = "application_fee",
	    .source = fee_id,
	    .currency = currency,
	    .status = bucket->pending ? "pending" : "available",
	    .journal_txn = jtx,
	    .amount = -f,
	    .created = now,
	    .available_on = bucket->pending ? bucket->available_on : now,
	};
	rc = bt_insert(db, account, &b, ret_account_bt);
	if (rc != DB_OK)
		return rc;
	return collect_fee(db, platform, fee_id, f, currency, bucket, now, ret_platform_bt);
}

int ledger_transfer(struct db *db, const struct ledger_transfer *t, char ret_platform_bt[ID_MAX],
		    char ret_destination_bt[ID_MAX], char ret_fee_bt[ID_MAX])
{
	int rc = amount_ok(t->amount);
	if (rc != DB_OK)
		return rc;
	if (t->fee < 0 || t->fee > t->amount || (t->fee > 0 && !t->fee_id))
		return LEDGER_ERR_INVALID;
	if (!strcmp(t->platform, t->destination))
		return LEDGER_ERR_INVALID; /* a transfer to itself would clear nothing */
	const char *bucket = bucket_account(&t->bucket);
	const char *status = t->bucket.pending ? "pending" : "available";
	int64_t available_on = t->bucket.pending ? t->bucket.available_on : t->now;

	/* the platform's half: the funds leave it */
	const struct ledger_entry out[] = {
	    {bucket, t->currency, t->amount},
	    {LEDGER_ACCT_CONNECT_CLEARING, t->currency, -t->amount},
	};
	char jtx[ID_MAX];
	rc = ledger_post(db, t->platform, "transfer", t->transfer_id, out, 2, t->now, jtx);
	if (rc != DB_OK)
		return rc;
	const struct bt pb = {
	    .type = "transfer",
	    .source = t->transfer_id,
	    .currency = t->currency,
	    .status = status,
	    .description = NULL,
	    .journal_txn = jtx,
	    .amount = -t->amount,
	    .fee = 0,
	    .created = t->now,
	    .available_on = available_on,
	};
	rc = bt_insert(db, t->platform, &pb, ret_platform_bt);
	if (rc != DB_OK)
		return rc;

	/* the destination's half: the payment comes in, and pays the application fee out of it
	 * in the same journal transaction (its balance transaction shows the fee) */
	const struct ledger_entry in[] = {
	    {LEDGER_ACCT_CONNECT_CLEARING, t->currency, t->amount},
	    {bucket, t->currency, -t->amount},
	    {bucket, t->currency, t->fee},
	    {LEDGER_ACCT_CONNECT_CLEARING, t->currency, -t->fee},
	};
	rc = ledger_post(db, t->destination, "payment", t->destination_payment, in, t->fee ? 4 : 2,
			 t->now, jtx);
	if (rc != DB_OK)
		return rc;
	const struct bt db_ = {
	    .type = "payment",
	    .source = t->destination_payment,
	    .currency = t->currency,
	    .status = status,
	    .description = NULL,
	    .journal_txn = jtx,
	    .amount = t->amount,
	    .fee = t->fee,
	    .created = t->now,
	    .available_on = available_on,
	};
	rc = bt_insert(db, t->destination, &db_, ret_destination_bt);
	if (rc != DB_OK)
		return rc;
	ret_fee_bt[0] = '\0';
	if (t->fee == 0)
		return DB_OK;
	return collect_fee(db, t->platform, t->fee_id, t->fee, t->currency, &t->bucket, t->now,
			   ret_fee_bt);
}

/* Money going back the other way than a transfer: `from` pays `to` r out of its available
 * balance, one journal transaction and balance transaction each (types from_type, to_type, the
 * same source on both sides). */
static int move_back(struct db *db, const char *from, const char *to, const char *from_type,
		     const char *from_source, const char *to_type, const char *to_source, int64_t r,
		     const char *currency, int64_t now, char ret_from_bt[ID_MAX],
		     char ret_to_bt[ID_MAX])
{
	int rc = amount_ok(r);
	if (rc != DB_OK)
		return rc;
	if (!strcmp(from, to))
		return LEDGER_ERR_INVALID;
	/* taken from the payer's available balance at once, as Stripe does (it may go below
	 * zero, like a refund's) */
	const struct ledger_entry out[] = {
	    {LEDGER_ACCT_MERCHANT_AVAILABLE, currency, r},
	    {LEDGER_ACCT_CONNECT_CLEARING, currency, -r},
	};
	char jtx[ID_MAX];
	rc = ledger_post(db, from, from_type, from_source, out, 2, now, jtx);
	if (rc != DB_OK)
		return rc;
	const struct bt fb = {
	    .type = from_type,
	    .source = from_source,
	    .currency = currency,
	    .status = "available",
	    .journal_txn = jtx,
	    .amount = -r,
	    .created = now,
	    .available_on = now,
	};
	rc = bt_insert(db, from, &fb, ret_from_bt);
	if (rc != DB_OK)
		return rc;
	const struct ledger_entry in[] = {
	    {LEDGER_ACCT_CONNECT_CLEARING, currency, r},
	    {LEDGER_ACCT_MERCHANT_AVAILABLE, currency, -r},
	};
	rc = ledger_post(db, to, to_type, to_source, in, 2, now, jtx);
	if (rc != DB_OK)
		return rc;
	const struct bt tb = {
	    .type = to_type,
	    .source = to_source,
	    .currency = currency,
	    .status = "available",
	    .journal_txn = jtx,
	    .amount = r,
	    .created = now,
	    .available_on = now,
	};
	return bt_insert(db, to, &tb, ret_to_bt);
}

int ledger_application_fee_refund(struct db *db, const char *platform, const char *account,
				  const char *refund_id, int64_t f, const char *currency,
				  int64_t now, char ret_platform_bt[ID_MAX],
				  char ret_account_bt[ID_MAX])
{
	return move_back(db, platform, account, "application_fee_refund", refund_id,
			 "application_fee_refund", refund_id, f, currency, now, ret_platform_bt,
			 ret_account_bt);
}

int ledger_transfer_reversal(struct db *db, const char *platform, const char *destination,
			     const char *reversal_id, const char *payment_refund_id, int64_t r,
			     const char *currency, int64_t now, char ret_platform_bt[ID_MAX],
			     char ret_destination_bt[ID_MAX])
{
	return move_back(db, destination, platform, "payment_refund", payment_refund_id,
			 "transfer_refund", reversal_id, r, currency, now, ret_destination_bt,
			 ret_platform_bt);
}
