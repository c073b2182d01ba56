/* The Issuing balance's movements (ledger_issuing.h): a top-up is ledger_topup's movement into it;
 * the others move money between it and the held and network accounts, each through ledger_post()
 * and bt_insert() like every movement. */
#include "ledger/ledger_issuing.h"

#include <string.h>

#include "ledger/ledger.h"
#include "ledger/ledger_internal.h"

int ledger_issuing_topup(struct db *db, const char *merchant_id, const char *topup_id,
			 int64_t amount, const char *currency, const char *description, int64_t now,
			 char ret_balance_txn_id[ID_MAX])
{
	return ledger_topup_into(db, merchant_id, topup_id, amount, currency, description, now,
				 LEDGER_ACCT_ISSUING_AVAILABLE, "issuing_topup", "issuing",
				 ret_balance_txn_id);
}

/* One movement of amount out of (out = true) or into the Issuing balance against `other`. */
static int move(struct db *db, const char *merchant_id, const char *kind, const char *source,
		const char *other, bool out, const char *bt_type, int64_t amount,
		const char *currency, int64_t now, char ret_balance_txn_id[ID_MAX])
{
	if (amount < 1)
		return LEDGER_ERR_INVALID;
	if (amount > LEDGER_AMOUNT_MAX)
		return LEDGER_ERR_OVERFLOW;
	/* a credit (negative entry) of issuing_available is money in the balance */
	const int64_t a = out ? amount : -amount;
	const struct ledger_entry e[] = {
	    {LEDGER_ACCT_ISSUING_AVAILABLE, currency, a},
	    {other, currency, -a},
	};
	char jtx[ID_MAX];
	int rc = ledger_post(db, merchant_id, kind, source, e, 2, now, jtx);
	if (rc != DB_OK)
		return rc;
	const struct bt b = {
	    .type = bt_type,
	    .source = source,
	    .currency = currency,
	    .status = "available",
	    .journal_txn = jtx,
	    .amount = -a,
	    .fee = 0,
	    .created = now,
	    .available_on = now,
	    .balance_type = "issuing",
	};
	return bt_insert(db, merchant_id, &b, ret_balance_txn_id);
}

int ledger_issuing_hold(struct db *db, const char *merchant_id, const char *authorization_id,
			int64_t amount, const char *currency, int64_t now,
			char ret_balance_txn_id[ID_MAX])
{
	return move(db, merchant_id, "issuing_hold", authorization_id, LEDGER_ACCT_ISSUING_HELD,
		    true, "issuing_authorization_hold", amount, currency, now, ret_balance_txn_id);
}

int ledger_issuing_release(struct db *db, const char *merchant_id, const char *authorization_id,
			   int64_t amount, const char *currency, int64_t now,
			   char ret_balance_txn_id[ID_MAX])
{
	return move(db, merchant_id, "issuing_release", authorization_id, LEDGER_ACCT_ISSUING_HELD,
		    false, "issuing_authorization_release", amount, currency, now,
		    ret_balance_txn_id);
}

int ledger_issuing_spend(struct db *db, const char *merchant_id, const char *transaction_id,
			 int64_t amount, const char *currency, int64_t now,
			 char ret_balance_txn_id[ID_MAX])
{
	return move(db, merchant_id, "issuing_spend", transaction_id, LEDGER_ACCT_ISSUING_NETWORK,
		    true, "issuing_transaction", amount, currency, now, ret_balance_txn_id);
}

int ledger_issuing_credit(struct db *db, const char *merchant_id, const char *source_id,
			  const char *bt_type, int64_t amount, const char *currency, int64_t now,
			  char ret_balance_txn_id[ID_MAX])
{
	if (!bt_type || (strcmp(bt_type, "issuing_transaction") != 0 &&
			 strcmp(bt_type, "issuing_dispute") != 0))
		return LEDGER_ERR_INVALID;
	return move(db, merchant_id, "issuing_credit", source_id, LEDGER_ACCT_ISSUING_NETWORK,
		    false, bt_type, amount, currency, now, ret_balance_txn_id);
}

static const char SQL_AVAILABLE[] =
    "SELECT COALESCE(SUM(net), 0) FROM balance_transactions WHERE merchant_id = $1"
    " AND balance_type = 'issuing' AND currency = $2";

int ledger_issuing_available(struct db *db, const char *merchant_id, const char *currency,
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
