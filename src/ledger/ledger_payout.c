/*
 * Payout movements (ledger_payout.h). Like every movement they go through ledger_post(), which
 * refuses an unbalanced or absurd set before it writes, and their balance transactions name the
 * journal transaction they belong to.
 */
#include "ledger/ledger_payout.h"

#include <string.h>

#include "core/str.h"
#include "ledger/ledger.h"
#include "ledger/ledger_internal.h"

static int amount_ok(int64_t amount)
{
	return amount >= 1 && amount <= LEDGER_AMOUNT_MAX ? DB_OK
	       : amount < 1				  ? LEDGER_ERR_INVALID
							  : LEDGER_ERR_OVERFLOW;
}

static const char SQL_AVAILABLE[] =
    "SELECT COALESCE(SUM(net), 0) FROM balance_transactions WHERE merchant_id = $1"
    " AND currency = $2 AND status = 'available' AND balance_type = 'payments'";

int ledger_available_balance(struct db *db, const char *merchant_id, const char *currency,
			     int64_t *ret)
{
	struct db_stmt *st = db_prepare(db, SQL_AVAILABLE);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, currency, -1);
	int rc = db_step(st);
	if (rc == DB_ROW)
		*ret = db_col_int64(st, 0);
	db_reset(st);
	return rc == DB_ROW ? DB_OK : rc < 0 ? rc : DB_ERR;
}

static const char SQL_BALANCES[] =
    "SELECT currency, status, SUM(net) FROM balance_transactions WHERE merchant_id = $1"
    " AND balance_type = 'payments' GROUP BY currency, status ORDER BY currency, status";

int ledger_balance_amounts(struct db *db, const char *merchant_id,
			   struct ledger_balance_amount *ret, int max, int *ret_n)
{
	struct db_stmt *st = db_prepare(db, SQL_BALANCES);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	int n = 0, rc;
	/* rows come by currency: one ledger_balance_amount per currency, both statuses in it */
	while ((rc = db_step(st)) == DB_ROW) {
		const char *cur = db_col_text(st, 0, NULL), *status = db_col_text(st, 1, NULL);
		if (!cur || !status)
			continue;
		if (n == 0 || strcmp(ret[n - 1].currency, cur) != 0) {
			if (n == max)
				break;
			memset(&ret[n], 0, sizeof(ret[n]));
			str_copy(ret[n].currency, sizeof(ret[n].currency), cur);
			n++;
		}
		if (strcmp(status, "available") == 0)
			ret[n - 1].available = db_col_int64(st, 2);
		else
			ret[n - 1].pending = db_col_int64(st, 2);
	}
	db_reset(st);
	if (rc != DB_DONE && rc != DB_ROW)
		return rc < 0 ? rc : DB_ERR;
	*ret_n = n;
	return DB_OK;
}

/* how many draws on its available balance the merchant has made in a currency (payout_counters,
 * migration 0031) */
static const char SQL_COUNT[] =
    "SELECT made FROM payout_counters WHERE merchant_id = $1 AND currency = $2";
static const char SQL_COUNT_INIT[] =
    "INSERT INTO payout_counters (merchant_id, currency, made) VALUES ($1, $2, 0)"
    " ON CONFLICT DO NOTHING";
/* from the number the balance check saw to the next, or nothing when another draw moved it */
static const char SQL_COUNT_NEXT[] =
    "UPDATE payout_counters SET made = made + 1 WHERE merchant_id = $1 AND currency = $2"
    " AND made = $3";

int ledger_draws(struct db *db, const char *merchant_id, const char *currency, int64_t *ret)
{
	struct db_stmt *st = db_prepare(db, SQL_COUNT);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, currency, -1);
	int rc = db_step(st);
	*ret = rc == DB_ROW ? db_col_int64(st, 0) : 0;
	db_reset(st);
	return rc == DB_ROW || rc == DB_DONE ? DB_OK : rc < 0 ? rc : DB_ERR;
}

int ledger_draw_next(struct db *db, const char *merchant_id, const char *currency, int64_t seen)
{
	struct db_stmt *st = db_prepare(db, SQL_COUNT_INIT);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, currency, -1);
	int rc = db_step_done(st);
	if (rc != DB_OK)
		return rc;
	st = db_prepare(db, SQL_COUNT_NEXT);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, currency, -1);
	db_bind_int64(st, 3, seen);
	rc = db_step(st);
	int64_t n = rc == DB_DONE ? db_changes(st) : 0;
	db_reset(st);
	if (rc != DB_DONE)
		return rc < 0 ? rc : DB_ERR;
	return n == 1 ? DB_OK : DB_CONFLICT;
}

int ledger_payout(struct db *db, const char *merchant_id, const char *payout_id, int64_t amount,
		  const char *currency, int64_t now, char ret_balance_txn_id[ID_MAX])
{
	int rc = amount_ok(amount);
	if (rc != DB_OK)
		return rc;
	const struct ledger_entry e[] = {
	    {LEDGER_ACCT_MERCHANT_AVAILABLE, currency, amount},
	    {LEDGER_ACCT_PAYOUTS_IN_TRANSIT, currency, -amount},
	};
	char jtx[ID_MAX];
	rc = ledger_post(db, merchant_id, "payout", payout_id, e, 2, now, jtx);
	if (rc != DB_OK)
		return rc;
	const struct bt b = {
	    .type = "payout",
	    .source = payout_id,
	    .currency = currency,
	    .status = "available",
	    .description = "STRIPE PAYOUT",
	    .journal_txn = jtx,
	    .amount = -amount,
	    .fee = 0,
	    .created = now,
	    .available_on = now,
	};
	return bt_insert(db, merchant_id, &b, ret_balance_txn_id);
}

int ledger_payout_paid(struct db *db, const char *merchant_id, const char *payout_id,
		       int64_t amount, const char *currency, int64_t now)
{
	int rc = amount_ok(amount);
	if (rc != DB_OK)
		return rc;
	const struct ledger_entry e[] = {
	    {LEDGER_ACCT_PAYOUTS_IN_TRANSIT, currency, amount},
	    {LEDGER_ACCT_PAID_OUT, currency, -amount},
	};
	return ledger_post(db, merchant_id, "payout_paid", payout_id, e, 2, now, NULL);
}

/* The funds of a payout that will not reach the bank come back to the available balance: a
 * cancel (type "payout_cancel") or a failure the bank reported ("payout_failure"). */
static int payout_return(struct db *db, const char *merchant_id, const char *payout_id,
			 int64_t amount, const char *currency, int64_t now, const char *type,
			 const char *description, char ret_balance_txn_id[ID_MAX])
{
	int rc = amount_ok(amount);
	if (rc != DB_OK)
		return rc;
	const struct ledger_entry e[] = {
	    {LEDGER_ACCT_PAYOUTS_IN_TRANSIT, currency, amount},
	    {LEDGER_ACCT_MERCHANT_AVAILABLE, currency, -amount},
	};
	char jtx[ID_MAX];
	rc = ledger_post(db, merchant_id, type, payout_id, e, 2, now, jtx);
	if (rc != DB_OK)
		return rc;
	const struct bt b = {
	    .type = type,
	    .source = payout_id,
	    .currency = currency,
	    .status = "available",
	    .description = description,
	    .journal_txn = jtx,
	    .amount = amount,
	    .fee = 0,
	    .created = now,
	    .available_on = now,
	};
	return bt_insert(db, merchant_id, &b, ret_balance_txn_id);
}

int ledger_payout_cancel(struct db *db, const char *merchant_id, const char *payout_id,
			 int64_t amount, const char *currency, int64_t now,
			 char ret_balance_txn_id[ID_MAX])
{
	return payout_return(db, merchant_id, payout_id, amount, currency, now, "payout_cancel",
			     "PAYOUT CANCELED", ret_balance_txn_id);
}

int ledger_payout_fail(struct db *db, const char *merchant_id, const char *payout_id,
		       int64_t amount, const char *currency, int64_t now,
		       char ret_balance_txn_id[ID_MAX])
{
	return payout_return(db, merchant_id, payout_id, amount, currency, now, "payout_failure",
			     "PAYOUT FAILED", ret_balance_txn_id);
}

int ledger_payout_reversal(struct db *db, const char *merchant_id, const char *reversal_id,
			   int64_t amount, const char *currency, int64_t now,
			   char ret_balance_txn_id[ID_MAX])
{
	/* the movement of a returned payout, as a "payout" of its own */
	return payout_return(db, merchant_id, reversal_id, amount, currency, now, "payout",
			     "STRIPE PAYOUT REVERSAL", ret_balance_txn_id);
}

int ledger_payout_reversal_paid(struct db *db, const char *merchant_id, const char *reversal_id,
				int64_t amount, const char *currency, int64_t now)
{
	int rc = amount_ok(amount);
	if (rc != DB_OK)
		return rc;
	const struct ledger_entry e[] = {
	    {LEDGER_ACCT_PAID_OUT, currency, amount},
	    {LEDGER_ACCT_PAYOUTS_IN_TRANSIT, currency, -amount},
	};
	return ledger_post(db, merchant_id, "payout_reversal_paid", reversal_id, e, 2, now, NULL);
}

int ledger_payout_fee(struct db *db, const char *merchant_id, const char *payout_id, int64_t fee,
		      const char *currency, int64_t now, char ret_balance_txn_id[ID_MAX])
{
	int rc = amount_ok(fee);
	if (rc != DB_OK)
		return rc;
	const struct ledger_entry e[] = {
	    {LEDGER_ACCT_MERCHANT_AVAILABLE, currency, fee},
	    {LEDGER_ACCT_FEES, currency, -fee},
	};
	char jtx[ID_MAX];
	rc = ledger_post(db, merchant_id, "payout_fee", payout_id, e, 2, now, jtx);
	if (rc != DB_OK)
		return rc;
	const struct bt b = {
	    .type = "stripe_fee",
	    .source = payout_id,
	    .currency = currency,
	    .status = "available",
	    .description = "Instant Payout fee",
	    .journal_txn = jtx,
	    .amount = -fee,
	    .fee = 0,
	    .created = now,
	    .available_on = now,
	};
	return bt_insert(db, merchant_id, &b, ret_balance_txn_id);
}

int ledger_instant_payout_fee(int64_t amount, int64_t *ret_fee)
{
	int rc = amount_ok(amount);
	if (rc != DB_OK)
		return rc;
	int64_t scaled;
	if (__builtin_mul_overflow(amount, LEDGER_INSTANT_FEE_BPS, &scaled) ||
	    __builtin_add_overflow(scaled, 5000, &scaled))
		return LEDGER_ERR_OVERFLOW;
	int64_t fee = scaled / 10000;
	*ret_fee = fee < LEDGER_INSTANT_FEE_MIN ? LEDGER_INSTANT_FEE_MIN : fee;
	return DB_OK;
}

/* A merchant's transactions, walked by its primary key: only a connected account with a payout
 * schedule gets here, once per due date. */
static const char SQL_TAKE[] =
    "UPDATE balance_transactions SET payout = $3 WHERE merchant_id = $1 AND currency = $2"
    " AND status = 'available' AND payout IS NULL";

int ledger_payout_take(struct db *db, const char *merchant_id, const char *currency,
		       const char *payout_id)
{
	struct db_stmt *st = db_prepare(db, SQL_TAKE);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, currency, -1);
	db_bind_text(st, 3, payout_id, -1);
	return db_step_done(st);
}
