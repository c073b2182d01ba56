/*
 * Payout movements on a real SQLite store: the accounts each moves, the balance transactions
 * Stripe shows, refusals that write nothing, and ledger_verify holding the funds in transit to
 * the open payouts (a payouts row whose money never left is reported, and one that is paid is
 * not).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/ledger.h"
#include "ledger/ledger_payout.h"
#include "store/store.h"
#include "verify/verify.h"
#include "../support/store_fixture.h"

static char dir[256];
static struct store *s;

static void setup(void)
{
	s = fixture_store_open(dir, sizeof(dir), "lpayout");
}

static void teardown(void)
{
	fixture_store_close(s, dir);
}

TestSuite(ledger_payout, .init = setup, .fini = teardown);

#define T0 INT64_C(1700000000)
#define M1 "acct_1"

static int64_t q_int(const char *sql, const char *a, const char *b)
{
	return fixture_q_int(s, sql, a, b);
}

static int64_t account(const char *acct)
{
	return q_int("SELECT COALESCE(SUM(amount), 0) FROM journal_entries WHERE merchant_id = $1"
		     " AND account = $2",
		     M1, acct);
}

enum step { PAYOUT, PAID, CANCEL, FAIL, FEE, ROW_PENDING, ROW_PAID };

struct move {
	enum step step;
	int64_t amount;
	char bt[ID_MAX];
	int rc;
};

static int move_fn(struct db *db, void *p)
{
	struct move *m = p;
	static const char SQL_ROW[] =
	    "INSERT INTO payouts (merchant_id, id, created, amount, currency, status, arrival_date,"
	    " metadata, balance_transaction) VALUES ($1, 'po_1', 1700000000, $2, 'usd', $3,"
	    " 1700000002, '{}', $4)";
	switch (m->step) {
	case PAYOUT:
		m->rc = ledger_payout(db, M1, "po_1", m->amount, "usd", T0, m->bt);
		break;
	case PAID:
		m->rc = ledger_payout_paid(db, M1, "po_1", m->amount, "usd", T0 + 2);
		break;
	case CANCEL:
		m->rc = ledger_payout_cancel(db, M1, "po_1", m->amount, "usd", T0 + 1, m->bt);
		break;
	case FAIL:
		m->rc = ledger_payout_fail(db, M1, "po_1", m->amount, "usd", T0 + 2, m->bt);
		break;
	case FEE:
		m->rc = ledger_payout_fee(db, M1, "po_1", m->amount, "usd", T0, m->bt);
		break;
	default: {
		struct db_stmt *st = db_prepare(db, SQL_ROW);
		db_bind_text(st, 1, M1, -1);
		db_bind_int64(st, 2, m->amount);
		db_bind_text(st, 3, m->step == ROW_PENDING ? "pending" : "paid", -1);
		db_bind_text(st, 4, m->bt, -1);
		m->rc = db_step_done(st);
	}
	}
	return m->rc == DB_OK ? 0 : -1;
}

static int move(enum step step, int64_t amount, struct move *m)
{
	m->step = step;
	m->amount = amount;
	m->rc = 0;
	store_write(s, M1, move_fn, m);
	return m->rc;
}

struct avail {
	const char *currency;
	int64_t v;
	int rc;
};

static int avail_fn(struct db *db, void *p)
{
	struct avail *a = p;
	a->rc = ledger_available_balance(db, M1, a->currency, &a->v);
	return 0;
}

static int verify_fn(struct db *db, void *p)
{
	return ledger_verify(db, p);
}

static int verify_failures(struct buf *text)
{
	struct verify_report rep;
	memset(&rep, 0, sizeof(rep));
	buf_init(&rep.text, 1u << 20);
	store_read(s, NULL, verify_fn, &rep);
	buf_reset(text);
	buf_puts(text, rep.text.len ? buf_cstr(&rep.text) : "");
	buf_release(&rep.text);
	return rep.failures;
}

Test(ledger_payout, payout_then_paid_moves_available_to_paid_out)
{
	struct move m;
	memset(&m, 0, sizeof(m));
	cr_assert_eq(move(PAYOUT, 5000, &m), DB_OK);
	char bt[ID_MAX];
	memcpy(bt, m.bt, sizeof(bt));
	cr_assert_eq(account(LEDGER_ACCT_MERCHANT_AVAILABLE), 5000);
	cr_assert_eq(account(LEDGER_ACCT_PAYOUTS_IN_TRANSIT), -5000);
	struct avail a = {"usd", 0, 0};
	cr_assert_eq(store_read(s, NULL, avail_fn, &a), 0);
	cr_assert_eq(a.v, -5000, "the balance shown drops by the payout");
	a.currency = "eur";
	cr_assert_eq(store_read(s, NULL, avail_fn, &a), 0);
	cr_assert_eq(a.v, 0);
	cr_assert_eq(q_int("SELECT COUNT(*) FROM balance_transactions WHERE merchant_id = $1"
			   " AND id = $2 AND type = 'payout' AND amount = -5000 AND fee = 0"
			   " AND net = -5000 AND status = 'available' AND source = 'po_1'"
			   " AND reporting_category = 'payout'",
			   M1, bt),
		     1);
	struct buf text;
	buf_init(&text, 1u << 20);
	/* the money is in transit but no payouts row says so */
	cr_assert_gt(verify_failures(&text), 0);
	cr_assert_not_null(strstr(buf_cstr(&text), "funds in transit"), "%s", buf_cstr(&text));
	memcpy(m.bt, bt, sizeof(bt));
	cr_assert_eq(move(ROW_PENDING, 5000, &m), DB_OK);
	cr_assert_eq(verify_failures(&text), 0, "%s", buf_cstr(&text));

	cr_assert_eq(move(PAID, 5000, &m), DB_OK);
	cr_assert_eq(account(LEDGER_ACCT_PAYOUTS_IN_TRANSIT), 0);
	cr_assert_eq(account(LEDGER_ACCT_PAID_OUT), -5000);
	/* paid in the journal while its row still says pending: reported */
	cr_assert_gt(verify_failures(&text), 0);
	cr_assert_not_null(strstr(buf_cstr(&text), "funds in transit"), "%s", buf_cstr(&text));
	buf_release(&text);
}

Test(ledger_payout, cancel_brings_the_funds_back)
{
	struct move m;
	memset(&m, 0, sizeof(m));
	cr_assert_eq(move(PAYOUT, 1200, &m), DB_OK);
	cr_assert_eq(move(CANCEL, 1200, &m), DB_OK);
	cr_assert_eq(account(LEDGER_ACCT_MERCHANT_AVAILABLE), 0);
	cr_assert_eq(account(LEDGER_ACCT_PAYOUTS_IN_TRANSIT), 0);
	cr_assert_eq(q_int("SELECT COUNT(*) FROM balance_transactions WHERE merchant_id = $1"
			   " AND id = $2 AND type = 'payout_cancel' AND amount = 1200"
			   " AND reporting_category = 'payout_reversal'",
			   M1, m.bt),
		     1);
	cr_assert_eq(q_int("SELECT COALESCE(SUM(net), 0) FROM balance_transactions WHERE"
			   " merchant_id = $1 AND status = 'available'",
			   M1, NULL),
		     0);
	struct avail a = {"usd", -1, 0};
	cr_assert_eq(store_read(s, NULL, avail_fn, &a), 0);
	cr_assert_eq(a.rc, DB_OK);
	cr_assert_eq(a.v, 0);
}

/* The bank returned the payout (Connect's failing test bank accounts): the funds come back as a
 * payout_failure balance transaction, reported as a payout reversal. */
Test(ledger_payout, failure_brings_the_funds_back)
{
	struct move m;
	memset(&m, 0, sizeof(m));
	cr_assert_eq(move(PAYOUT, 900, &m), DB_OK);
	cr_assert_eq(account(LEDGER_ACCT_MERCHANT_AVAILABLE), 900);
	cr_assert_eq(move(FAIL, 900, &m), DB_OK);
	cr_assert_eq(account(LEDGER_ACCT_MERCHANT_AVAILABLE), 0);
	cr_assert_eq(account(LEDGER_ACCT_PAYOUTS_IN_TRANSIT), 0);
	cr_assert_eq(account(LEDGER_ACCT_PAID_OUT), 0);
	cr_assert_eq(q_int("SELECT COUNT(*) FROM balance_transactions WHERE merchant_id = $1"
			   " AND id = $2 AND type = 'payout_failure' AND amount = 900 AND fee = 0"
			   " AND reporting_category = 'payout_reversal' AND source = 'po_1'",
			   M1, m.bt),
		     1);
	cr_assert_eq(move(FAIL, 0, &m), LEDGER_ERR_INVALID);
	cr_assert_eq(move(FAIL, LEDGER_AMOUNT_MAX + 1, &m), LEDGER_ERR_OVERFLOW);
}

Test(ledger_payout, refusals_write_nothing)
{
	struct move m;
	memset(&m, 0, sizeof(m));
	cr_assert_eq(move(PAYOUT, 0, &m), LEDGER_ERR_INVALID);
	cr_assert_eq(move(PAYOUT, -3, &m), LEDGER_ERR_INVALID);
	cr_assert_eq(move(PAYOUT, LEDGER_AMOUNT_MAX + 1, &m), LEDGER_ERR_OVERFLOW);
	cr_assert_eq(move(PAID, 0, &m), LEDGER_ERR_INVALID);
	cr_assert_eq(move(CANCEL, 0, &m), LEDGER_ERR_INVALID);
	cr_assert_eq(q_int("SELECT COUNT(*) FROM journal_entries WHERE merchant_id = $1", M1, NULL),
		     0);
	cr_assert_eq(
	    q_int("SELECT COUNT(*) FROM balance_transactions WHERE merchant_id = $1", M1, NULL), 0);
}

/* Stripe's US instant payout price: 1.5 %, rounded half up, at least 0.50. */
Test(ledger_payout, instant_fee_is_one_and_a_half_percent_at_least_fifty)
{
	int64_t fee = -1;
	cr_assert_eq(ledger_instant_payout_fee(10000, &fee), DB_OK);
	cr_assert_eq(fee, 150);
	cr_assert_eq(ledger_instant_payout_fee(1000, &fee), DB_OK);
	cr_assert_eq(fee, 50, "15 is below the minimum");
	cr_assert_eq(ledger_instant_payout_fee(3333, &fee), DB_OK);
	cr_assert_eq(fee, 50);
	cr_assert_eq(ledger_instant_payout_fee(3367, &fee), DB_OK);
	cr_assert_eq(fee, 51, "50.505 rounds up");
	cr_assert_eq(ledger_instant_payout_fee(3366, &fee), DB_OK);
	cr_assert_eq(fee, 50, "50.49 rounds down");
	cr_assert_eq(ledger_instant_payout_fee(1, &fee), DB_OK);
	cr_assert_eq(fee, 50);
	cr_assert_eq(ledger_instant_payout_fee(LEDGER_AMOUNT_MAX, &fee), DB_OK);
	cr_assert_eq(fee, LEDGER_AMOUNT_MAX / 10000 * 150);
	fee = 7;
	cr_assert_eq(ledger_instant_payout_fee(0, &fee), LEDGER_ERR_INVALID);
	cr_assert_eq(ledger_instant_payout_fee(LEDGER_AMOUNT_MAX + 1, &fee), LEDGER_ERR_OVERFLOW);
	cr_assert_eq(fee, 7, "untouched on a refusal");
}

struct amounts {
	struct ledger_balance_amount rows[4];
	int n, rc;
};

static int amounts_fn(struct db *db, void *p)
{
	struct amounts *a = p;
	a->rc = ledger_balance_amounts(db, M1, a->rows, 4, &a->n);
	return 0;
}

/* The fee of an instant payout: its own stripe_fee balance transaction, from the available
 * balance to Tender's fees, and the ledger still verifies (with the payout's row). */
Test(ledger_payout, instant_fee_is_a_balance_transaction_of_its_own)
{
	struct move m;
	memset(&m, 0, sizeof(m));
	cr_assert_eq(move(PAYOUT, 10000, &m), DB_OK);
	char bt[ID_MAX];
	memcpy(bt, m.bt, sizeof(bt));
	cr_assert_eq(move(FEE, 150, &m), DB_OK);
	cr_assert_str_neq(m.bt, bt);
	cr_assert_eq(account(LEDGER_ACCT_MERCHANT_AVAILABLE), 10150);
	cr_assert_eq(account(LEDGER_ACCT_FEES), -150);
	cr_assert_eq(account(LEDGER_ACCT_PAYOUTS_IN_TRANSIT), -10000, "the fee is not sent");
	cr_assert_eq(q_int("SELECT COUNT(*) FROM balance_transactions WHERE merchant_id = $1"
			   " AND id = $2 AND type = 'stripe_fee' AND amount = -150 AND fee = 0"
			   " AND net = -150 AND status = 'available' AND source = 'po_1'"
			   " AND reporting_category = 'fee' AND description = 'Instant Payout fee'",
			   M1, m.bt),
		     1);
	struct amounts a = {.n = -1};
	cr_assert_eq(store_read(s, NULL, amounts_fn, &a), 0);
	cr_assert_eq(a.rc, DB_OK);
	cr_assert_eq(a.n, 1);
	cr_assert_str_eq(a.rows[0].currency, "usd");
	cr_assert_eq(a.rows[0].available, -10150);
	cr_assert_eq(a.rows[0].pending, 0);
	memcpy(m.bt, bt, sizeof(bt));
	cr_assert_eq(move(ROW_PENDING, 10000, &m), DB_OK);
	struct buf text;
	buf_init(&text, 1u << 20);
	cr_assert_eq(verify_failures(&text), 0, "%s", buf_cstr(&text));
	/* a second fee for the same payout is a double charge: reported */
	cr_assert_eq(move(FEE, 150, &m), DB_OK);
	cr_assert_gt(verify_failures(&text), 0);
	cr_assert_not_null(strstr(buf_cstr(&text), "stripe_fee po_1 booked 2 times"), "%s",
			   buf_cstr(&text));
	buf_release(&text);
	cr_assert_eq(move(FEE, 0, &m), LEDGER_ERR_INVALID);
}
