/*
 * Dispute movements (see ledger_dispute.h for the entries and balance transactions).
 *
 * Both movements go through ledger_post(), which refuses an unbalanced or absurd set before it
 * writes, and record Stripe's "adjustment" balance transaction with bt_insert() naming that
 * journal transaction, in the caller's write transaction: the dispute's status change, its
 * money and its events commit together or not at all.
 */
#include "ledger/ledger_dispute.h"
#include "core/str.h"

#include "ledger/ledger.h"
#include "ledger/ledger_internal.h"
#include "money/currency.h"
#include "money/fx.h"
#include "verify/verify.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define DESCRIPTION_MAX 96

int ledger_dispute_fee(const char *currency, int64_t *ret_fee_minor)
{
	const struct currency *c = currency ? currency_find(currency) : NULL;
	if (!c || c->exponent < 0 || c->exponent > 4)
		return LEDGER_ERR_INVALID;
	int64_t fee = LEDGER_DISPUTE_FEE_MAJOR;
	for (int i = 0; i < c->exponent; i++)
		if (__builtin_mul_overflow(fee, 10, &fee))
			return LEDGER_ERR_OVERFLOW;
	*ret_fee_minor = fee;
	return DB_OK;
}

/* The conversion of one dispute movement: a_P in the charge's currency → a_S in the settlement
 * currency at the charge's recorded rate (rate NULL when nothing is converted). */
struct booking {
	int64_t settled;
	char currency[8];
	struct fx_rate rate;
	bool converted;
};

static int book(struct db *db, const char *merchant_id, const char *charge_id, int64_t amount,
		const char *charge_currency, struct booking *ret)
{
	if (amount <= 0 || !charge_currency || !currency_find(charge_currency))
		return LEDGER_ERR_INVALID;
	if (amount > LEDGER_AMOUNT_MAX)
		return LEDGER_ERR_OVERFLOW;
	memset(ret, 0, sizeof(*ret));
	ret->settled = amount;
	str_copy(ret->currency, sizeof(ret->currency), charge_currency);
	if (!db || !charge_id)
		return DB_OK;
	/* FX: convert at the charge's recorded rate */
	int64_t settled;
	char cur[8];
	struct fx_rate rate;
	int rc =
	    ledger_convert_like_charge(db, merchant_id, charge_id, amount, &settled, cur, &rate);
	if (rc == DB_NOTFOUND)
		return DB_OK; /* no capture booked: the money is in the charge's own currency */
	if (rc != DB_OK)
		return rc;
	if (strcmp(cur, charge_currency) == 0)
		return DB_OK;
	if (settled <= 0)
		return LEDGER_ERR_INVALID; /* a dispute too small to move anything in S */
	ret->settled = settled;
	memcpy(ret->currency, cur, sizeof(ret->currency));
	ret->rate = rate;
	ret->converted = true;
	return DB_OK;
}

int ledger_dispute_booking_amount(struct db *db, const char *merchant_id, const char *charge_id,
				  int64_t amount, const char *charge_currency, int64_t *ret_amount,
				  char ret_currency[8])
{
	struct booking bk;
	int rc = book(db, merchant_id, charge_id, amount, charge_currency, &bk);
	if (rc != DB_OK)
		return rc;
	*ret_amount = bk.settled;
	memcpy(ret_currency, bk.currency, 8);
	return DB_OK;
}

/* One dispute movement, both directions: sign −1 takes the disputed amount (and the fee) from
 * the merchant, +1 gives the amount back (fee 0). The entries and the balance transaction are
 * the mirror images described in ledger_dispute.h. */
static int dispute_move(struct db *db, const char *merchant_id, const char *dispute_id,
			const char *charge_id, int sign, int64_t amount, int64_t fee_minor,
			const char *currency, int64_t now, char ret_balance_txn_id[ID_MAX])
{
	if (!dispute_id || !charge_id || amount <= 0 || fee_minor < 0)
		return LEDGER_ERR_INVALID;
	if (fee_minor > LEDGER_AMOUNT_MAX)
		return LEDGER_ERR_OVERFLOW;
	struct booking bk;
	int rc = book(db, merchant_id, charge_id, amount, currency, &bk);
	if (rc != DB_OK)
		return rc;
	/* amount ≤ LEDGER_AMOUNT_MAX (book) and the conversion is bounded likewise, so the signed
	 * values cannot overflow; their sum with the fee is checked */
	int64_t settled = sign * bk.settled, presented = sign * amount, merchant;
	if (__builtin_sub_overflow(fee_minor, settled, &merchant))
		return LEDGER_ERR_OVERFLOW;
	const struct ledger_entry e[] = {
	    {LEDGER_ACCT_MERCHANT_AVAILABLE, bk.currency, merchant},
	    {LEDGER_ACCT_FX, bk.currency, bk.converted ? settled : 0},
	    {LEDGER_ACCT_FX, currency, bk.converted ? -presented : 0},
	    {LEDGER_ACCT_ACQUIRER_PAYABLE, currency, presented},
	    {LEDGER_ACCT_FEES, bk.currency, -fee_minor},
	};
	char jtx[ID_MAX];
	rc = ledger_post(db, merchant_id, sign < 0 ? "dispute_withdrawal" : "dispute_reinstatement",
			 dispute_id, e, sizeof(e) / sizeof(e[0]), now, jtx);
	if (rc != DB_OK)
		return rc;
	char description[DESCRIPTION_MAX];
	snprintf(description, sizeof(description), "Chargeback %s for %s",
		 sign < 0 ? "withdrawal" : "reversal", charge_id);
	const struct bt b = {
	    .type = "adjustment",
	    .source = dispute_id,
	    .currency = bk.currency,
	    .status = "available",
	    .description = description,
	    .journal_txn = jtx,
	    .amount = settled,
	    .fee = fee_minor,
	    .created = now,
	    .available_on = now,
	    .charge_id = charge_id,
	    .rate = bk.converted ? &bk.rate : NULL,
	    .presentment_amount = presented,
	};
	return bt_insert(db, merchant_id, &b, ret_balance_txn_id);
}

int ledger_dispute_withdraw(struct db *db, const char *merchant_id, const char *dispute_id,
			    const char *charge_id, int64_t amount, int64_t fee_minor,
			    const char *currency, int64_t now, char ret_balance_txn_id[ID_MAX])
{
	return dispute_move(db, merchant_id, dispute_id, charge_id, -1, amount, fee_minor, currency,
			    now, ret_balance_txn_id);
}

int ledger_dispute_reinstate(struct db *db, const char *merchant_id, const char *dispute_id,
			     const char *charge_id, int64_t amount, const char *currency,
			     int64_t now, char ret_balance_txn_id[ID_MAX])
{
	return dispute_move(db, merchant_id, dispute_id, charge_id, +1, amount, 0, currency, now,
			    ret_balance_txn_id);
}

/* ---- tender verify ---- */

#define INQUIRY "('warning_needs_response', 'warning_under_review', 'warning_closed')"
#define WITHDRAWALS                                                                                \
	"(SELECT merchant_id, source, COUNT(*) AS n, MIN(currency) AS currency, SUM(amount) AS "   \
	"amount"                                                                                   \
	" FROM balance_transactions WHERE type = 'adjustment' AND amount < 0"                      \
	" GROUP BY merchant_id, source)"
#define REINSTATEMENTS                                                                             \
	"(SELECT merchant_id, source, COUNT(*) AS n, MIN(currency) AS currency, SUM(amount) AS "   \
	"amount"                                                                                   \
	" FROM balance_transactions WHERE type = 'adjustment' AND amount >= 0"                     \
	" GROUP BY merchant_id, source)"

/* a chargeback is withdrawn exactly once, by its amount when booked in its own currency */
static const char SQL_WITHDRAWAL[] =
    "SELECT d.merchant_id, d.id || ' ' || d.status || ' withdrawn ' || COALESCE(w.n, 0)"
    " || ' times' FROM disputes d LEFT JOIN " WITHDRAWALS " w ON w.merchant_id = d.merchant_id"
    " AND w.source = d.id WHERE d.status NOT IN " INQUIRY " AND (w.n IS NULL OR w.n <> 1 OR"
    " (w.currency = d.currency AND w.amount <> -d.amount))";
/* only a won chargeback is reinstated, exactly once and by its amount */
static const char SQL_REINSTATEMENT[] =
    "SELECT d.merchant_id, d.id || ' ' || d.status || ' reinstated ' || COALESCE(r.n, 0)"
    " || ' times' FROM disputes d LEFT JOIN " REINSTATEMENTS " r ON r.merchant_id ="
    " d.merchant_id AND r.source = d.id WHERE (d.status = 'won' AND (r.n IS NULL OR r.n <> 1 OR"
    " (r.currency = d.currency AND r.amount <> d.amount))) OR (d.status <> 'won' AND r.n IS NOT"
    " NULL)";
/* inquiries move no money */
static const char SQL_INQUIRY_MONEY[] =
    "SELECT d.merchant_id, d.id FROM disputes d WHERE d.status IN " INQUIRY " AND EXISTS (SELECT 1"
    " FROM balance_transactions b WHERE b.merchant_id = d.merchant_id AND b.source = d.id)";
/* every adjustment belongs to a dispute */
static const char SQL_ADJUSTMENT_ORPHAN[] =
    "SELECT b.merchant_id, b.id FROM balance_transactions b WHERE b.type = 'adjustment' AND NOT"
    " EXISTS (SELECT 1 FROM disputes d WHERE d.merchant_id = b.merchant_id AND d.id = b.source)";
/* charge.disputed and the disputes table agree */
static const char SQL_CHARGE_FLAG[] =
    "SELECT c.merchant_id, c.id FROM charges c WHERE (c.disputed = 1) <> EXISTS (SELECT 1 FROM"
    " disputes d WHERE d.merchant_id = c.merchant_id AND d.charge = c.id)";
/* a dispute never exceeds what its charge captured */
static const char SQL_DISPUTE_AMOUNT[] =
    "SELECT d.merchant_id, d.id FROM disputes d JOIN charges c ON c.merchant_id = d.merchant_id"
    " AND c.id = d.charge WHERE d.amount > c.amount_captured OR d.currency <> c.currency";
/* every dispute has its charge.dispute.created event (verify.h: NO_EVENT) */
NO_EVENT(SQL_DISPUTE_NO_EVENT, "SELECT d.merchant_id, d.id FROM disputes d", "", "d.merchant_id",
	 "d.id", "= 'charge.dispute.created'");

int ledger_dispute_verify(struct db *db, struct verify_report *rep)
{
	static const struct {
		const char *sql, *what;
		const char *pg; /* PostgreSQL's form when it differs */
	} checks[] = {
	    {SQL_WITHDRAWAL, "chargeback not withdrawn exactly once by its amount", NULL},
	    {SQL_REINSTATEMENT, "dispute reinstated wrongly (only won ones, once, by the amount)",
	     NULL},
	    {SQL_INQUIRY_MONEY, "inquiry with balance transactions", NULL},
	    {SQL_ADJUSTMENT_ORPHAN, "adjustment balance transaction of no dispute", NULL},
	    {SQL_CHARGE_FLAG, "charge whose disputed flag disagrees with its disputes", NULL},
	    {SQL_DISPUTE_AMOUNT, "dispute larger than its charge's capture, or in another currency",
	     NULL},
	    {SQL_DISPUTE_NO_EVENT_SQLITE, "dispute without its charge.dispute.created event",
	     SQL_DISPUTE_NO_EVENT_PG},
	};
	int rc = 0;
	for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
		rep->checks++;
		const char *sql =
		    checks[i].pg && db_kind(db) == DB_POSTGRES ? checks[i].pg : checks[i].sql;
		struct db_stmt *st = db_prepare(db, sql);
		if (!st) {
			verify_fail(rep, "disputes", "%s: cannot prepare the check: %s",
				    checks[i].what, db_errmsg(db));
			rc = -1;
			continue;
		}
		int step, shown = 0;
		while ((step = db_step(st)) == DB_ROW && shown < 1000) {
			const char *a = db_col_text(st, 0, NULL), *b = db_col_text(st, 1, NULL);
			verify_fail(rep, "disputes", "%s: %s / %s", checks[i].what, a ? a : "?",
				    b ? b : "?");
			shown++;
		}
		db_reset(st);
		if (step != DB_ROW && step != DB_DONE) {
			verify_fail(rep, "disputes", "%s: the check failed to run: %s",
				    checks[i].what, db_errmsg(db));
			rc = -1;
		}
	}
	return rc;
}
