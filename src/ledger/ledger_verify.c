#include "ledger/ledger.h"
#include "verify/verify.h"

static int rows(struct db *db, struct verify_report *rep, const char *sql, const char *what)
{
	rep->checks++;
	struct db_stmt *st = db_prepare(db, sql);
	if (!st) {
		verify_fail(rep, "ledger", "cannot prepare a check: %s", db_errmsg(db));
		return -1;
	}
	int rc;
	while ((rc = db_step(st)) == DB_ROW) {
		const char *a = db_col_text(st, 0, NULL);
		const char *b = db_col_count(st) > 1 ? db_col_text(st, 1, NULL) : NULL;
		verify_fail(rep, "ledger", "%s: %s%s%s", what, a ? a : "?", b ? " / " : "",
		            b ? b : "");
	}
	db_reset(st);
	return rc == DB_DONE ? 0 : -1;
}

static const char SQL_TXN_UNBALANCED[] =
    "SELECT merchant_id, txn_id FROM journal_entries GROUP BY merchant_id, txn_id, currency"
    " HAVING SUM(amount) <> 0";
static const char SQL_CURRENCY_UNBALANCED[] =
    "SELECT merchant_id, currency FROM journal_entries GROUP BY merchant_id, currency"
    " HAVING SUM(amount) <> 0";
static const char SQL_NET[] =
    "SELECT merchant_id, id FROM balance_transactions WHERE net <> amount - fee";
static const char SQL_BT_NO_JOURNAL[] =
    "SELECT b.merchant_id, b.id FROM balance_transactions b WHERE NOT EXISTS (SELECT 1 FROM"
    " journal_txns t WHERE t.merchant_id = b.merchant_id AND t.id = b.journal_txn)";
/* The balance the merchant sees (Σ net of balance transactions by status) must equal what the
 * journal holds on the merchant's accounts (credits are negative, so the sign flips). */
static const char SQL_BALANCE_MISMATCH[] =
    "SELECT m.merchant_id, m.currency || ' ' || m.status FROM (SELECT merchant_id, currency,"
    " status, SUM(net) AS bal FROM balance_transactions GROUP BY merchant_id, currency, status)"
    " m WHERE m.bal <> -(SELECT COALESCE(SUM(e.amount), 0) FROM journal_entries e WHERE"
    " e.merchant_id = m.merchant_id AND e.currency = m.currency AND e.account ="
    " CASE m.status WHEN 'pending' THEN 'merchant_pending' ELSE 'merchant_available' END)";
static const char SQL_JOURNAL_ONLY[] =
    "SELECT e.merchant_id, e.currency || ' ' || e.account FROM journal_entries e WHERE e.account"
    " IN ('merchant_pending', 'merchant_available') GROUP BY e.merchant_id, e.currency, e.account"
    " HAVING SUM(e.amount) <> 0 AND NOT EXISTS (SELECT 1 FROM balance_transactions b WHERE"
    " b.merchant_id = e.merchant_id AND b.currency = e.currency)";
static const char SQL_HOLDS[] =
    "SELECT merchant_id, currency FROM journal_entries WHERE account = 'cardholder_holds'"
    " GROUP BY merchant_id, currency HAVING SUM(amount) < 0";

int ledger_verify(struct db *db, struct verify_report *rep)
{
	int rc = 0;
	rc |= rows(db, rep, SQL_TXN_UNBALANCED, "journal transaction that does not sum to zero");
	rc |= rows(db, rep, SQL_CURRENCY_UNBALANCED, "journal that does not sum to zero");
	rc |= rows(db, rep, SQL_NET, "balance transaction with net != amount - fee");
	rc |= rows(db, rep, SQL_BT_NO_JOURNAL, "balance transaction without its journal entries");
	rc |= rows(db, rep, SQL_BALANCE_MISMATCH,
	           "balance (sum of balance transactions) differs from the journal");
	rc |= rows(db, rep, SQL_JOURNAL_ONLY, "merchant funds in the journal without balance txns");
	rc |= rows(db, rep, SQL_HOLDS, "more released than held");
	return rc;
}
