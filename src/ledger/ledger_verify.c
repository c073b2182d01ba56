/*
 * ledger_verify: the ledger's invariants, checked from the rows alone (tender verify).
 *
 * Each check is one statement whose result rows are violations (first column: the merchant,
 * second: what is wrong), so a check costs one scan and reports every offender, not only the
 * first. The checks overlap on purpose: a corrupted entry usually breaks its transaction's sum,
 * its currency's sum and the balance equation at once, and the three reports together say where.
 * Sums run in SQLite's checked integer arithmetic: an overflowing SUM fails the statement, which
 * is reported as a failure too.
 */
#include "ledger/ledger.h"

#include "verify/verify.h"

/* Reports every row of sql as a violation. With bind_max, $1 is LEDGER_AMOUNT_MAX. */
static int rows(struct db *db, struct verify_report *rep, const char *sql, int bind_max,
		const char *what)
{
	rep->checks++;
	struct db_stmt *st = db_prepare(db, sql);
	if (!st) {
		verify_fail(rep, "ledger", "%s: cannot prepare the check: %s", what, db_errmsg(db));
		return -1;
	}
	if (bind_max)
		db_bind_int64(st, 1, LEDGER_AMOUNT_MAX);
	int rc, shown = 0;
	while ((rc = db_step(st)) == DB_ROW && shown < 1000) {
		const char *a = db_col_text(st, 0, NULL);
		const char *b = db_col_count(st) > 1 ? db_col_text(st, 1, NULL) : NULL;
		verify_fail(rep, "ledger", "%s: %s%s%s", what, a ? a : "?", b ? " / " : "",
			    b ? b : "");
		shown++;
	}
	db_reset(st);
	if (rc == DB_ROW || rc == DB_DONE)
		return 0;
	verify_fail(rep, "ledger", "%s: the check failed to run: %s", what, db_errmsg(db));
	return -1;
}

#define MERCHANT_ACCOUNTS "('merchant_pending', 'merchant_available')"

/* (1) the journal balances: per journal transaction and currency, per merchant and currency */
static const char SQL_TXN_UNBALANCED[] =
    "SELECT merchant_id, txn_id || ' ' || currency || ' sums to ' || SUM(amount)"
    " FROM journal_entries GROUP BY merchant_id, txn_id, currency HAVING SUM(amount) <> 0";
static const char SQL_CURRENCY_UNBALANCED[] =
    "SELECT merchant_id, currency || ' sums to ' || SUM(amount) FROM journal_entries"
    " GROUP BY merchant_id, currency HAVING SUM(amount) <> 0";
static const char SQL_ENTRY_NO_TXN[] =
    "SELECT e.merchant_id, e.txn_id FROM journal_entries e LEFT JOIN journal_txns t ON"
    " t.merchant_id = e.merchant_id AND t.id = e.txn_id WHERE t.id IS NULL"
    " GROUP BY e.merchant_id, e.txn_id";
static const char SQL_TXN_TOO_FEW[] =
    "SELECT t.merchant_id, t.id FROM journal_txns t WHERE (SELECT COUNT(*) FROM journal_entries e"
    " WHERE e.merchant_id = t.merchant_id AND e.txn_id = t.id) < 2";
/* (5) no zero, absurd or unknown entries */
static const char SQL_ENTRY_ABSURD[] =
    "SELECT merchant_id, txn_id || ' ' || account || ' ' || currency || ' ' || amount"
    " FROM journal_entries WHERE amount = 0 OR amount > $1 OR amount < -$1"
    " OR account NOT IN ('cardholder_holds', 'authorized', 'acquirer_receivable',"
    " 'acquirer_payable', 'merchant_pending', 'merchant_available', 'fees', 'fx')"
    " OR length(currency) <> 3 OR currency <> lower(currency)";
/* (4) net = amount − fee, and the signs each type must have */
static const char SQL_NET[] =
    "SELECT merchant_id, id FROM balance_transactions WHERE net <> amount - fee";
static const char SQL_BT_ABSURD[] =
    "SELECT merchant_id, id || ' ' || type || ' amount ' || amount || ' fee ' || fee"
    " FROM balance_transactions WHERE fee < 0 OR amount > $1 OR amount < -$1"
    " OR status NOT IN ('pending', 'available')"
    " OR (type = 'charge' AND (amount <= 0 OR fee > amount))"
    " OR (type = 'refund' AND (amount >= 0 OR fee <> 0))"
    " OR (type = 'refund_failure' AND (amount <= 0 OR fee <> 0))";
static const char SQL_BT_DUPLICATE[] =
    "SELECT merchant_id, type || ' ' || source || ' booked ' || COUNT(*) || ' times'"
    " FROM balance_transactions WHERE type IN ('charge', 'refund', 'refund_failure')"
    " GROUP BY merchant_id, type, source HAVING COUNT(*) > 1";
/* (3) every balance transaction has its journal transaction, for the same source, and that
 * journal transaction moved exactly its net into or out of the merchant's accounts */
static const char SQL_BT_NO_JOURNAL[] =
    "SELECT b.merchant_id, b.id FROM balance_transactions b LEFT JOIN journal_txns t ON"
    " t.merchant_id = b.merchant_id AND t.id = b.journal_txn WHERE t.id IS NULL"
    " OR t.source <> b.source";
static const char SQL_BT_JOURNAL_AMOUNT[] =
    "SELECT b.merchant_id, b.id || ' net ' || b.net FROM balance_transactions b WHERE b.net <>"
    " -(SELECT COALESCE(SUM(e.amount), 0) FROM journal_entries e WHERE e.merchant_id ="
    " b.merchant_id AND e.txn_id = b.journal_txn AND e.account IN " MERCHANT_ACCOUNTS ")";
/* (2) the balance shown (Σ net by status) equals the journal: net + journal entries of the
 * matching merchant account sum to zero per merchant, currency and account, over the union, so
 * funds present on either side only are caught too */
static const char SQL_BALANCE_MISMATCH[] =
    "SELECT merchant_id, currency || ' ' || account || ' differs by ' || SUM(v) FROM ("
    " SELECT merchant_id, currency, CASE status WHEN 'pending' THEN 'merchant_pending'"
    " ELSE 'merchant_available' END AS account, net AS v FROM balance_transactions"
    " UNION ALL SELECT merchant_id, currency, account, amount FROM journal_entries"
    " WHERE account IN " MERCHANT_ACCOUNTS ") AS x GROUP BY merchant_id, currency, account"
    " HAVING SUM(v) <> 0";
/* funds made available once, by exactly the net, and only for available balance transactions */
#define MOVES                                                                                      \
	"(SELECT t.merchant_id AS merchant_id, t.source AS source, COUNT(DISTINCT t.id) AS n,"     \
	" SUM(CASE e.account WHEN 'merchant_available' THEN e.amount ELSE 0 END) AS avail"         \
	" FROM journal_txns t JOIN journal_entries e ON e.merchant_id = t.merchant_id"             \
	" AND e.txn_id = t.id WHERE t.kind = 'make_available' GROUP BY t.merchant_id, t.source)"
static const char SQL_MOVE_WRONG[] =
    "SELECT b.merchant_id, b.id || ' ' || b.status || ' net ' || b.net || ' moved '"
    " || COALESCE(-m.avail, 0) || ' in ' || COALESCE(m.n, 0) || ' moves' FROM"
    " balance_transactions b LEFT JOIN " MOVES " m ON m.merchant_id = b.merchant_id AND"
    " m.source = b.id WHERE (b.status = 'pending' AND m.source IS NOT NULL) OR"
    " (b.type = 'charge' AND b.status = 'available' AND b.net <> 0 AND (m.source IS NULL OR"
    " m.n <> 1 OR m.avail <> -b.net))";
static const char SQL_MOVE_ORPHAN[] =
    "SELECT m.merchant_id, m.source FROM " MOVES " m WHERE NOT EXISTS (SELECT 1 FROM"
    " balance_transactions b WHERE b.merchant_id = m.merchant_id AND b.id = m.source)";
/* holds: no charge releases or captures more than was authorized */
static const char SQL_HOLDS[] =
    "SELECT t.merchant_id, t.source || ' ' || e.currency FROM journal_txns t JOIN"
    " journal_entries e ON e.merchant_id = t.merchant_id AND e.txn_id = t.id"
    " WHERE e.account = 'cardholder_holds' GROUP BY t.merchant_id, t.source, e.currency"
    " HAVING SUM(e.amount) < 0";

int ledger_verify(struct db *db, struct verify_report *rep)
{
	static const struct {
		const char *sql;
		int bind_max;
		const char *what;
	} checks[] = {
	    {SQL_TXN_UNBALANCED, 0, "journal transaction that does not sum to zero"},
	    {SQL_CURRENCY_UNBALANCED, 0, "journal that does not sum to zero"},
	    {SQL_ENTRY_NO_TXN, 0, "journal entries without their journal transaction"},
	    {SQL_TXN_TOO_FEW, 0, "journal transaction with fewer than 2 entries"},
	    {SQL_ENTRY_ABSURD, 1, "zero, absurd or unknown journal entry"},
	    {SQL_NET, 0, "balance transaction with net != amount - fee"},
	    {SQL_BT_ABSURD, 1, "balance transaction with impossible amounts"},
	    {SQL_BT_DUPLICATE, 0, "source booked more than once"},
	    {SQL_BT_NO_JOURNAL, 0, "balance transaction without its journal transaction"},
	    {SQL_BT_JOURNAL_AMOUNT, 0, "balance transaction whose journal moved another amount"},
	    {SQL_BALANCE_MISMATCH, 0,
	     "balance (sum of balance transactions) differs from the journal"},
	    {SQL_MOVE_WRONG, 0, "funds made available zero, twice or by a wrong amount"},
	    {SQL_MOVE_ORPHAN, 0, "funds made available for no balance transaction"},
	    {SQL_HOLDS, 0, "more released or captured than authorized"},
	};
	int rc = 0;
	for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++)
		if (rows(db, rep, checks[i].sql, checks[i].bind_max, checks[i].what) != 0)
			rc = -1;
	return rc;
}
