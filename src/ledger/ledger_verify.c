/*
 * ledger_verify: the ledger's invariants, checked from the rows alone (tender verify).
 *
 * Each check is one statement whose result rows are violations (first column: the merchant,
 * second: what is wrong), so a check costs one scan and reports every offender, not only the
 * first. The checks overlap on purpose: a corrupted entry usually breaks its transaction's sum,
 * its currency's sum and the balance equation at once, and the three reports together say where.
 * Sums run in SQLite's checked integer arithmetic: an overflowing SUM fails the statement, which
 * is reported as a failure too.
 *
 * Currency conversions (ledger.h): every journal transaction still balances per currency (the
 * checks above), and on top of that the fx account must hold exactly what the recorded
 * conversions imply. Each converted balance transaction carries its presentment amount and the
 * rate it used, and posted −presentment_amount in the presentment currency and +amount in the
 * settlement currency to fx (a capture credits fx a_P and debits it a_S; a refund the reverse).
 * So per merchant and currency:
 *     journal fx balance = Σ amount (converted bts in that settlement currency)
 *                          − Σ presentment_amount (converted bts in that presentment currency)
 * plus, for a connected account's converted destination payment (ledger_connect.h), the
 * application fee it paid across fx: its fee in S, and the platform's fee object in P.
 * Anything else on fx is an unexplained conversion. Every converted charge's (and destination
 * payment's) amount must be the conversion of its presentment amount at its recorded rate
 * (recomputed here in C with
 * fx_convert_with_rate, the function capture used), its exchange_rate text must render that rate,
 * and a charge's refunds never return more settlement money than the charge brought, and exactly
 * that much once the charge is fully refunded. The fx account's balances are printed ("fx
 * absorbs: acct_…: eur -2, usd +3"): the open conversion position plus the rounding it absorbed.
 */
#include "ledger/ledger.h"
#include "core/str.h"

#include "verify/verify.h"

#include <stdio.h>
#include <string.h>

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
    " 'acquirer_payable', 'merchant_pending', 'merchant_available', 'fees', 'fx',"
    " 'payouts_in_transit', 'paid_out', 'connect_clearing', 'topup_funding', 'cash_funding',"
    " 'customer_cash', 'customer_cash_applied', 'merchant_reserve', 'issuing_available',"
    " 'issuing_held', 'issuing_network',"
    " 'treasury_cash', 'treasury_inbound_pending', 'treasury_outbound_pending',"
    " 'treasury_network')"
    " OR length(currency) <> 3 OR currency <> lower(currency)";
/* (4) net = amount − fee, and the signs each type must have */
static const char SQL_NET[] =
    "SELECT merchant_id, id FROM balance_transactions WHERE net <> amount - fee";
static const char SQL_BT_ABSURD[] =
    "SELECT merchant_id, id || ' ' || type || ' amount ' || amount || ' fee ' || fee"
    " FROM balance_transactions WHERE fee < 0 OR amount > $1 OR amount < -$1"
    " OR status NOT IN ('pending', 'available')"
    " OR (type = 'charge' AND (amount <= 0 OR fee > amount))"
    " OR (type = 'refund' AND (amount > 0 OR fee <> 0 OR (amount = 0 AND fx_rate_e12 IS NULL)))"
    " OR (type = 'refund_failure' AND (amount < 0 OR fee <> 0"
    " OR (amount = 0 AND fx_rate_e12 IS NULL)))"
    " OR (type = 'payout' AND (amount = 0 OR fee <> 0 OR status <> 'available'))"
    " OR (type IN ('payout_cancel', 'payout_failure') AND (amount <= 0 OR fee <> 0"
    " OR status <> 'available'))"
    " OR (type = 'transfer' AND (amount >= 0 OR fee <> 0))"
    " OR (type = 'stripe_fee' AND (amount >= 0 OR fee <> 0 OR status <> 'available'))"
    " OR (type = 'topup' AND (amount <= 0 OR fee <> 0 OR status <> 'available'))"
    " OR (type = 'payment' AND (amount <= 0 OR fee > amount))"
    " OR (type = 'reserved_funds' AND (amount = 0 OR fee <> 0"
    " OR (amount > 0 AND status <> 'available')))"
    " OR (type = 'application_fee' AND (amount = 0 OR fee <> 0))"
    /* Issuing (ledger_issuing.h): a hold takes, a release gives back, always available */
    " OR (type = 'issuing_authorization_hold' AND (amount >= 0 OR fee <> 0))"
    " OR (type = 'issuing_authorization_release' AND (amount <= 0 OR fee <> 0))"
    " OR (type IN ('issuing_transaction', 'issuing_dispute') AND (amount = 0 OR fee <> 0"
    " OR status <> 'available'))"
    " OR (type IN ('transfer_refund', 'payment_refund', 'application_fee_refund') AND (fee <> 0"
    " OR status <> 'available' OR (amount = 0 AND fx_rate_e12 IS NULL)"
    " OR (type = 'transfer_refund' AND amount <= 0) OR (type = 'payment_refund' AND amount > 0)))";
static const char SQL_BT_DUPLICATE[] =
    "SELECT merchant_id, type || ' ' || source || ' booked ' || COUNT(*) || ' times'"
    " FROM balance_transactions WHERE type IN ('charge', 'refund', 'refund_failure', 'payout',"
    " 'payout_cancel', 'payout_failure', 'transfer', 'payment', 'application_fee',"
    " 'transfer_refund', 'payment_refund', 'application_fee_refund', 'stripe_fee', 'topup')"
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
    " b.merchant_id AND e.txn_id = b.journal_txn AND ((b.balance_type = 'payments' AND"
    " e.account IN " MERCHANT_ACCOUNTS ") OR (b.balance_type = 'issuing' AND"
    " e.account = 'issuing_available')))"
    " OR b.balance_type NOT IN ('payments', 'issuing')";
/* (2) the balance shown (Σ net by status) equals the journal: net + journal entries of the
 * matching merchant account sum to zero per merchant, currency and account, over the union, so
 * funds present on either side only are caught too */
static const char SQL_BALANCE_MISMATCH[] =
    "SELECT merchant_id, currency || ' ' || account || ' differs by ' || SUM(v) FROM ("
    " SELECT merchant_id, currency, CASE WHEN balance_type = 'issuing' THEN"
    " 'issuing_available' WHEN status = 'pending' THEN 'merchant_pending'"
    " ELSE 'merchant_available' END AS account, net AS v FROM balance_transactions"
    " UNION ALL SELECT merchant_id, currency, account, amount FROM journal_entries"
    " WHERE account IN " MERCHANT_ACCOUNTS " OR account = 'issuing_available') AS x"
    " GROUP BY merchant_id, currency, account"
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
    " ((b.type = 'charge' OR (b.type = 'reserved_funds' AND b.amount < 0))"
    " AND b.status = 'available' AND b.net <> 0 AND (m.source IS NULL OR"
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
/* Issuing holds: no authorization releases more than it held (ledger_issuing.h) */
static const char SQL_ISSUING_HOLDS[] =
    "SELECT t.merchant_id, t.source || ' ' || e.currency FROM journal_txns t JOIN"
    " journal_entries e ON e.merchant_id = t.merchant_id AND e.txn_id = t.id"
    " WHERE e.account = 'issuing_held' GROUP BY t.merchant_id, t.source, e.currency"
    " HAVING SUM(e.amount) > 0";

/* (6) conversions: the fx account equals what the recorded conversions imply (essay above) */
static const char SQL_FX_ACCOUNT[] =
    "SELECT merchant_id, 'fx ' || currency || ' differs from the recorded conversions by '"
    " || SUM(v) FROM (SELECT merchant_id, currency, amount AS v FROM journal_entries"
    " WHERE account = 'fx' UNION ALL SELECT merchant_id, currency, -amount FROM"
    " balance_transactions WHERE fx_rate_e12 IS NOT NULL UNION ALL SELECT merchant_id,"
    " presentment_currency, presentment_amount FROM balance_transactions"
    " WHERE fx_rate_e12 IS NOT NULL"
    /* a converted destination payment pays its application fee across fx too: fee in S, the
     * platform's application fee object in P (ledger_connect.h) */
    " UNION ALL SELECT merchant_id, currency, fee FROM balance_transactions"
    " WHERE type = 'payment' AND fx_rate_e12 IS NOT NULL"
    " UNION ALL SELECT f.account, f.currency, -f.amount FROM application_fees f"
    " JOIN balance_transactions b ON b.merchant_id = f.account AND b.source = f.charge"
    " AND b.type = 'payment' WHERE b.fx_rate_e12 IS NOT NULL"
    ") AS x GROUP BY merchant_id, currency HAVING SUM(v) <> 0";
/* a converted balance transaction records a coherent conversion */
static const char SQL_FX_SHAPE[] =
    "SELECT merchant_id, id || ' ' || type FROM balance_transactions WHERE fx_rate_e12 IS NOT NULL"
    " AND (fx_rate_e12 <= 0 OR presentment_amount IS NULL OR presentment_currency IS NULL"
    " OR fx_base IS NULL OR fx_quote IS NULL OR exchange_rate IS NULL OR charge_id IS NULL"
    " OR fx_base <> presentment_currency OR fx_quote <> currency OR fx_base = fx_quote"
    " OR (type = 'charge' AND presentment_amount <= 0)"
    " OR (type = 'refund' AND presentment_amount >= 0)"
    " OR (type = 'refund_failure' AND presentment_amount <= 0)"
    " OR (type = 'payment' AND presentment_amount <= 0)"
    " OR (type = 'payment_refund' AND presentment_amount >= 0)"
    " OR (type = 'application_fee_refund' AND presentment_amount <= 0))";
/* the refunds of a converted charge (a converted destination payment's reversals): at its rate,
 * never more than it brought, all of it when fully refunded */
static const char SQL_FX_REFUNDS[] =
    "SELECT c.merchant_id, c.source || ' charge ' || c.amount || ' ' || c.currency || ' refunded '"
    " || -SUM(r.amount) || ' ' || r.currency || ' for ' || -SUM(r.presentment_amount) || ' of '"
    " || c.presentment_amount FROM balance_transactions c JOIN balance_transactions r"
    " ON r.merchant_id = c.merchant_id AND r.charge_id = c.source"
    " AND r.type IN ('refund', 'refund_failure', 'payment_refund')"
    " WHERE c.type IN ('charge', 'payment')"
    " AND c.fx_rate_e12 IS NOT NULL GROUP BY c.merchant_id, c.source, c.amount, c.currency,"
    " c.presentment_amount, c.fx_rate_e12, r.currency HAVING r.currency <> c.currency"
    " OR SUM(CASE WHEN r.fx_rate_e12 = c.fx_rate_e12 THEN 0 ELSE 1 END) <> 0"
    " OR -SUM(r.amount) > c.amount OR -SUM(r.amount) < 0"
    " OR -SUM(r.presentment_amount) > c.presentment_amount"
    " OR (-SUM(r.presentment_amount) = c.presentment_amount AND -SUM(r.amount) <> c.amount)";
static const char SQL_FX_CHARGES[] =
    "SELECT merchant_id, id, amount, currency, presentment_amount, presentment_currency, fx_base,"
    " fx_quote, fx_rate_e12, fx_valid_from, exchange_rate FROM balance_transactions"
    " WHERE type IN ('charge', 'payment') AND fx_rate_e12 IS NOT NULL";
/* the refunds of a converted destination payment's application fee: at its rate, never more
 * than the account paid */
static const char SQL_FX_FEE_REFUNDS[] =
    "SELECT c.merchant_id, c.source || ' fee ' || c.fee || ' ' || c.currency || ' refunded '"
    " || SUM(r.amount) || ' ' || r.currency FROM balance_transactions c"
    " JOIN balance_transactions r ON r.merchant_id = c.merchant_id AND r.charge_id = c.source"
    " AND r.type = 'application_fee_refund' WHERE c.type = 'payment'"
    " AND c.fx_rate_e12 IS NOT NULL GROUP BY c.merchant_id, c.source, c.fee, c.currency,"
    " c.fx_rate_e12, r.currency HAVING r.currency <> c.currency"
    " OR SUM(CASE WHEN r.fx_rate_e12 = c.fx_rate_e12 THEN 0 ELSE 1 END) <> 0"
    " OR SUM(r.amount) > c.fee OR SUM(r.amount) < 0";
static const char SQL_FX_BALANCES[] =
    "SELECT merchant_id, currency, SUM(amount) FROM journal_entries WHERE account = 'fx'"
    " GROUP BY merchant_id, currency ORDER BY merchant_id, currency";

/* Every converted charge's amount is its presentment amount converted at its recorded rate. */
static int fx_charges(struct db *db, struct verify_report *rep)
{
	rep->checks++;
	struct db_stmt *st = db_prepare(db, SQL_FX_CHARGES);
	if (!st) {
		verify_fail(rep, "ledger", "converted charges: cannot prepare the check: %s",
			    db_errmsg(db));
		return -1;
	}
	int rc, shown = 0;
	while ((rc = db_step(st)) == DB_ROW && shown < 1000) {
		const char *m = db_col_text(st, 0, NULL), *id = db_col_text(st, 1, NULL);
		const char *cur = db_col_text(st, 3, NULL), *pcur = db_col_text(st, 5, NULL);
		const char *base = db_col_text(st, 6, NULL), *quote = db_col_text(st, 7, NULL);
		const char *text = db_col_text(st, 10, NULL);
		int64_t amount = db_col_int64(st, 2), presented = db_col_int64(st, 4);
		struct fx_rate rate;
		int64_t expect = 0;
		char want[FX_RATE_STR_MAX] = "";
		const char *why = NULL;
		if (!cur || !pcur || !base || !quote ||
		    fx_rate_init(&rate, base, quote, db_col_int64(st, 8), db_col_int64(st, 9)) != 0)
			why = "an invalid recorded rate";
		else if (fx_convert_with_rate(&rate, presented, pcur, cur, &expect) != 0)
			why = "a conversion that cannot be recomputed";
		else if (expect != amount)
			why = "an amount that is not the conversion of its presentment amount";
		else if (fx_rate_to_decimal_string(&rate, want, sizeof(want)) != 0 || !text ||
			 strcmp(text, want) != 0)
			why = "an exchange_rate that is not its recorded rate";
		if (why) {
			verify_fail(rep, "ledger",
				    "converted charge or payment with %s: %s / %s amount %lld"
				    " expected %lld",
				    why, m ? m : "?", id ? id : "?", (long long)amount,
				    (long long)expect);
			shown++;
		}
	}
	db_reset(st);
	if (rc == DB_ROW || rc == DB_DONE)
		return 0;
	verify_fail(rep, "ledger", "converted charges: the check failed to run: %s", db_errmsg(db));
	return -1;
}

/* Prints the fx account's balances, one line per merchant: what conversions left on it. */
static int fx_report(struct db *db, struct verify_report *rep)
{
	struct db_stmt *st = db_prepare(db, SQL_FX_BALANCES);
	if (!st)
		return -1;
	char merchant[ID_MAX] = "";
	int rc, lines = 0;
	while ((rc = db_step(st)) == DB_ROW && lines < 1000) {
		const char *m = db_col_text(st, 0, NULL), *cur = db_col_text(st, 1, NULL);
		int64_t v = db_col_int64(st, 2);
		if (!m || !cur)
			continue;
		if (strcmp(m, merchant) != 0) {
			buf_printf(&rep->text, "%sfx absorbs: %s:", merchant[0] ? "\n" : "", m);
			str_copy(merchant, sizeof(merchant), m);
			lines++;
		} else {
			buf_puts(&rep->text, ",");
		}
		buf_printf(&rep->text, " %s %s%lld", cur, v > 0 ? "+" : "", (long long)v);
	}
	if (merchant[0])
		buf_puts(&rep->text, "\n");
	db_reset(st);
	return rc == DB_ROW || rc == DB_DONE ? 0 : -1;
}

/* (6) the funds in transit to banks are exactly the payouts neither paid nor returned, and a
 * payout's amount matches its balance transaction (ledger_payout.h); only a reversal (which
 * names the payout it reverses) has a negative amount */
static const char SQL_PAYOUTS_IN_TRANSIT[] =
    "SELECT merchant_id, currency || ' payouts_in_transit differs by ' || SUM(v) FROM ("
    " SELECT merchant_id, currency, amount AS v FROM journal_entries"
    " WHERE account = 'payouts_in_transit'"
    " UNION ALL SELECT merchant_id, currency, amount FROM payouts"
    " WHERE status IN ('pending', 'in_transit')) AS x GROUP BY merchant_id, currency"
    " HAVING SUM(v) <> 0";
static const char SQL_PAYOUT_BT[] =
    "SELECT p.merchant_id, p.id FROM payouts p LEFT JOIN balance_transactions b"
    " ON b.merchant_id = p.merchant_id AND b.id = p.balance_transaction"
    " WHERE b.id IS NULL OR b.type <> 'payout' OR b.source <> p.id OR b.amount <> -p.amount"
    " OR b.currency <> p.currency OR p.amount = 0"
    " OR (p.amount < 0) <> (p.original_payout IS NOT NULL)";

/* (6b) the funds banks paid in are exactly the succeeded top-ups, and a top-up's amount matches
 * its balance transaction (ledger_topup.h) */
static const char SQL_TOPUP_FUNDING[] =
    "SELECT merchant_id, currency || ' topup_funding differs by ' || SUM(v) FROM ("
    " SELECT merchant_id, currency, amount AS v FROM journal_entries"
    " WHERE account = 'topup_funding'"
    " UNION ALL SELECT merchant_id, currency, -amount FROM topups"
    " WHERE status = 'succeeded') AS x GROUP BY merchant_id, currency HAVING SUM(v) <> 0";
static const char SQL_TOPUP_BT[] =
    "SELECT t.merchant_id, t.id FROM topups t LEFT JOIN balance_transactions b"
    " ON b.merchant_id = t.merchant_id AND b.id = t.balance_transaction"
    " WHERE (t.status = 'succeeded') <> (b.id IS NOT NULL) OR (b.id IS NOT NULL AND"
    " (b.type <> 'topup' OR b.source <> t.id OR b.amount <> t.amount"
    " OR b.currency <> t.currency))";

/* (6c) customers' cash balances (ledger_cash.h): what Tender holds for customers is exactly
 * their cash balance transactions, what their banks paid in exactly the funded ones less what
 * went back to them (return_initiated, return_canceled) and the refunds of their payments to
 * their banks (api/refunds.c: a refund with a charge and an instructions_email), and each
 * customer's balance in a currency is its newest transaction's ending_balance and their sum */
static const char SQL_CUSTOMER_CASH[] =
    "SELECT merchant_id, currency || ' customer_cash differs by ' || SUM(v) FROM ("
    " SELECT merchant_id, currency, amount AS v FROM journal_entries"
    " WHERE account = 'customer_cash'"
    " UNION ALL SELECT merchant_id, currency, net_amount FROM customer_cash_balance_transactions"
    ") AS x GROUP BY merchant_id, currency HAVING SUM(v) <> 0";
static const char SQL_CASH_FUNDING[] =
    "SELECT merchant_id, currency || ' cash_funding differs by ' || SUM(v) FROM ("
    " SELECT merchant_id, currency, amount AS v FROM journal_entries"
    " WHERE account = 'cash_funding'"
    " UNION ALL SELECT merchant_id, currency, -net_amount FROM customer_cash_balance_transactions"
    " WHERE type IN ('funded', 'return_initiated', 'return_canceled')"
    " UNION ALL SELECT merchant_id, currency, amount FROM refunds"
    " WHERE charge IS NOT NULL AND instructions_email IS NOT NULL"
    ") AS x GROUP BY merchant_id, currency HAVING SUM(v) <> 0";
static const char SQL_CASH_APPLIED[] =
    "SELECT merchant_id, currency || ' customer_cash_applied differs by ' || SUM(v) FROM ("
    " SELECT merchant_id, currency, amount AS v FROM journal_entries"
    " WHERE account = 'customer_cash_applied'"
    " UNION ALL SELECT merchant_id, currency, -net_amount FROM customer_cash_balance_transactions"
    " WHERE type IN ('applied_to_payment', 'unapplied_from_payment')"
    " UNION ALL SELECT merchant_id, currency, -amount FROM charges"
    " WHERE card LIKE '{\"customer_balance\":%' AND captured = 1"
    ") AS x GROUP BY merchant_id, currency HAVING SUM(v) <> 0";
static const char SQL_CASH_BALANCES[] =
    "SELECT b.merchant_id, b.customer || ' ' || b.currency FROM customer_cash_balances b"
    " WHERE b.available < 0 OR b.available <> (SELECT COALESCE(SUM(t.net_amount), 0)"
    " FROM customer_cash_balance_transactions t WHERE t.merchant_id = b.merchant_id"
    " AND t.customer = b.customer AND t.currency = b.currency) OR b.available <>"
    " (SELECT t.ending_balance FROM customer_cash_balance_transactions t"
    " WHERE t.merchant_id = b.merchant_id AND t.customer = b.customer"
    " AND t.currency = b.currency ORDER BY t.id DESC LIMIT 1)";

/* (6d) rolling reserves (ledger_reserve.h): the funds held back are exactly the reserve's
 * balance transactions (held minus released) and exactly the unreleased holds, and each hold has
 * its hold balance transaction (−amount, source its charge) and, once released, its release
 * (+amount, available) */
static const char SQL_RESERVE[] =
    "SELECT merchant_id, currency || ' merchant_reserve differs by ' || SUM(v) FROM ("
    " SELECT merchant_id, currency, amount AS v FROM journal_entries"
    " WHERE account = 'merchant_reserve'"
    " UNION ALL SELECT merchant_id, currency, -amount FROM balance_transactions"
    " WHERE type = 'reserved_funds') AS x GROUP BY merchant_id, currency HAVING SUM(v) <> 0";
static const char SQL_RESERVE_OPEN[] =
    "SELECT merchant_id, currency || ' merchant_reserve differs by ' || SUM(v) FROM ("
    " SELECT merchant_id, currency, amount AS v FROM journal_entries"
    " WHERE account = 'merchant_reserve'"
    " UNION ALL SELECT merchant_id, currency, amount FROM reserve_holds"
    " WHERE released_balance_transaction IS NULL) AS x GROUP BY merchant_id, currency"
    " HAVING SUM(v) <> 0";
static const char SQL_RESERVE_BT[] =
    "SELECT h.merchant_id, h.id FROM reserve_holds h LEFT JOIN balance_transactions b"
    " ON b.merchant_id = h.merchant_id AND b.id = h.id LEFT JOIN balance_transactions r"
    " ON r.merchant_id = h.merchant_id AND r.id = h.released_balance_transaction"
    " WHERE b.id IS NULL OR b.type <> 'reserved_funds' OR b.source <> h.charge"
    " OR b.amount <> -h.amount OR b.currency <> h.currency OR h.amount <= 0"
    " OR (h.released_balance_transaction IS NOT NULL AND (r.id IS NULL"
    " OR r.type <> 'reserved_funds' OR r.source <> h.charge OR r.amount <> h.amount"
    " OR r.currency <> h.currency OR r.status <> 'available'))";

/* (7) Connect (ledger_connect.h): what left a merchant for another of the shard came in there,
 * in every currency; each transfer, reversal and application fee has the balance transactions
 * of both sides, for its amount; a transfer's reversals add up to what it says was reversed */
static const char SQL_CONNECT_CLEARING[] =
    "SELECT 'the shard', currency || ' connect_clearing sums to ' || SUM(amount)"
    " FROM journal_entries WHERE account = 'connect_clearing' GROUP BY currency"
    " HAVING SUM(amount) <> 0";
static const char SQL_TRANSFER_BT[] =
    "SELECT t.merchant_id, t.id FROM transfers t LEFT JOIN balance_transactions p"
    " ON p.merchant_id = t.merchant_id AND p.id = t.balance_transaction"
    " LEFT JOIN balance_transactions d ON d.merchant_id = t.destination"
    " AND d.id = t.destination_balance_transaction"
    " WHERE p.id IS NULL OR p.type <> 'transfer' OR p.source <> t.id OR p.amount <> -t.amount"
    " OR p.currency <> t.currency OR d.id IS NULL OR d.type <> 'payment'"
    " OR d.source <> t.destination_payment OR COALESCE(d.presentment_amount, d.amount) <> t.amount"
    " OR COALESCE(d.presentment_currency, d.currency) <> t.currency"
    " OR t.amount_reversed < 0 OR t.amount_reversed > t.amount OR t.amount_reversed <>"
    " (SELECT COALESCE(SUM(r.amount), 0) FROM transfer_reversals r"
    " WHERE r.merchant_id = t.merchant_id AND r.transfer = t.id)";
static const char SQL_REVERSAL_BT[] =
    "SELECT r.merchant_id, r.id FROM transfer_reversals r JOIN transfers t"
    " ON t.merchant_id = r.merchant_id AND t.id = r.transfer LEFT JOIN balance_transactions p"
    " ON p.merchant_id = r.merchant_id AND p.id = r.balance_transaction"
    " LEFT JOIN balance_transactions d ON d.merchant_id = t.destination"
    " AND d.id = r.destination_balance_transaction"
    " WHERE p.id IS NULL OR p.type <> 'transfer_refund' OR p.source <> r.id"
    " OR p.amount <> r.amount OR d.id IS NULL OR d.type <> 'payment_refund'"
    " OR d.source <> r.destination_payment_refund"
    " OR COALESCE(d.presentment_amount, d.amount) <> -r.amount";
static const char SQL_APP_FEE_BT[] =
    "SELECT f.merchant_id, f.id FROM application_fees f LEFT JOIN balance_transactions p"
    " ON p.merchant_id = f.merchant_id AND p.id = f.balance_transaction"
    " WHERE p.id IS NULL OR p.type <> 'application_fee' OR p.source <> f.id"
    " OR p.amount <> f.amount OR p.currency <> f.currency OR f.amount_refunded < 0"
    " OR f.amount_refunded > f.amount OR f.amount_refunded <> (SELECT COALESCE(SUM(x.amount), 0)"
    " FROM application_fee_refunds x WHERE x.merchant_id = f.merchant_id AND x.fee = f.id)";
static const char SQL_FEE_REFUND_BT[] =
    "SELECT x.merchant_id, x.id FROM application_fee_refunds x JOIN application_fees f"
    " ON f.merchant_id = x.merchant_id AND f.id = x.fee LEFT JOIN balance_transactions p"
    " ON p.merchant_id = x.merchant_id AND p.id = x.balance_transaction"
    " LEFT JOIN balance_transactions d ON d.merchant_id = f.account"
    " AND d.id = x.account_balance_transaction"
    " WHERE p.id IS NULL OR p.type <> 'application_fee_refund' OR p.source <> x.id"
    " OR p.amount <> -x.amount OR d.id IS NULL OR d.type <> 'application_fee_refund'"
    " OR d.source <> x.id OR COALESCE(d.presentment_amount, d.amount) <> x.amount";

/* (7) Treasury (ledger_treasury.h): per financial account, currency and bucket, the transaction
 * entries the API sums as the account's balance equal the journal entries of its Treasury
 * transactions (credits negative, so the two sum to zero); every Treasury journal entry belongs to
 * a Treasury transaction. (Cash may go below zero: a returned inbound transfer takes its money
 * back whatever the cash, as on Stripe.) */
#define TREASURY_ACCOUNTS                                                                          \
	"('treasury_cash', 'treasury_inbound_pending', 'treasury_outbound_pending')"
static const char SQL_TREASURY_BALANCE[] =
    "SELECT merchant_id, financial_account || ' ' || currency || ' ' || account || ' differs by '"
    " || SUM(v) FROM (SELECT merchant_id, financial_account, currency, 'treasury_cash' AS account,"
    " cash AS v FROM treasury_transaction_entries UNION ALL SELECT merchant_id,"
    " financial_account, currency, 'treasury_inbound_pending', inbound_pending FROM"
    " treasury_transaction_entries UNION ALL SELECT merchant_id, financial_account, currency,"
    " 'treasury_outbound_pending', outbound_pending FROM treasury_transaction_entries"
    " UNION ALL SELECT e.merchant_id, t.financial_account, e.currency, e.account, e.amount"
    " FROM journal_entries e JOIN journal_txns j ON j.merchant_id = e.merchant_id"
    " AND j.id = e.txn_id JOIN treasury_transactions t ON t.merchant_id = j.merchant_id"
    " AND t.id = j.source WHERE e.account IN " TREASURY_ACCOUNTS ") AS x"
    " GROUP BY merchant_id, financial_account, currency, account HAVING SUM(v) <> 0";
static const char SQL_TREASURY_ORPHAN[] =
    "SELECT e.merchant_id, e.txn_id FROM journal_entries e JOIN journal_txns j"
    " ON j.merchant_id = e.merchant_id AND j.id = e.txn_id WHERE (e.account IN " TREASURY_ACCOUNTS
    " OR e.account = 'treasury_network' OR j.kind = 'treasury') AND (j.kind <> 'treasury'"
    " OR NOT EXISTS (SELECT 1 FROM treasury_transactions t WHERE t.merchant_id = j.merchant_id"
    " AND t.id = j.source)) GROUP BY e.merchant_id, e.txn_id";
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
	    {SQL_ISSUING_HOLDS, 0, "an Issuing authorization released more than it held"},
	    {SQL_FX_ACCOUNT, 0, "fx account that the recorded conversions do not explain"},
	    {SQL_FX_SHAPE, 0, "converted balance transaction with an incoherent conversion"},
	    {SQL_FX_REFUNDS, 0, "refunds of a converted charge that do not add up"},
	    {SQL_FX_FEE_REFUNDS, 0,
	     "refunds of a converted payment's application fee that do not add up"},
	    {SQL_PAYOUTS_IN_TRANSIT, 0, "funds in transit that the open payouts do not explain"},
	    {SQL_PAYOUT_BT, 0, "payout without its balance transaction, or another amount"},
	    {SQL_TOPUP_FUNDING, 0, "funds paid in that the succeeded top-ups do not explain"},
	    {SQL_TOPUP_BT, 0,
	     "top-up whose balance transaction is missing, extra, or of another amount"},
	    {SQL_CUSTOMER_CASH, 0,
	     "cash held for customers that their transactions do not explain"},
	    {SQL_CASH_FUNDING, 0,
	     "bank transfers paid in that the funded transactions do not explain"},
	    {SQL_CASH_APPLIED, 0,
	     "cash applied to payments that the applications and their charges do not explain"},
	    {SQL_CASH_BALANCES, 0,
	     "customer cash balance that is not the sum of its transactions, or below zero"},
	    {SQL_RESERVE, 0,
	     "funds held in reserve that the reserve's transactions do not explain"},
	    {SQL_RESERVE_OPEN, 0, "funds held in reserve that the unreleased holds do not explain"},
	    {SQL_RESERVE_BT, 0, "reserve hold without its balance transactions, or another amount"},
	    {SQL_CONNECT_CLEARING, 0, "money that left one merchant for another and arrived short"},
	    {SQL_TRANSFER_BT, 0, "transfer without both balance transactions, or another amount"},
	    {SQL_REVERSAL_BT, 0,
	     "transfer reversal without both balance transactions, or another amount"},
	    {SQL_APP_FEE_BT, 0,
	     "application fee without its balance transaction, or another amount"},
	    {SQL_FEE_REFUND_BT, 0,
	     "application fee refund without both balance transactions, or another amount"},
	    {SQL_TREASURY_BALANCE, 0,
	     "financial account balance that differs from its journal entries"},
	    {SQL_TREASURY_ORPHAN, 0, "treasury journal entry without its treasury transaction"},
	};
	int rc = 0;
	for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++)
		if (rows(db, rep, checks[i].sql, checks[i].bind_max, checks[i].what) != 0)
			rc = -1;
	if (fx_charges(db, rep) != 0)
		rc = -1;
	if (fx_report(db, rep) != 0) {
		verify_fail(rep, "ledger", "fx balances: the query failed: %s", db_errmsg(db));
		rc = -1;
	}
	return rc;
}
