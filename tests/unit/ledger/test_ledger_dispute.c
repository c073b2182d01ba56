/*
 * Dispute movements on a real SQLite store: the fee per currency exponent, the withdrawal and
 * reinstatement entries account by account, the balance transactions Stripe shows, refusals that
 * write nothing, and ledger_dispute_verify catching an adjustment that belongs to no dispute.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ledger/ledger.h"
#include "ledger/ledger_dispute.h"
#include "store/store.h"
#include "verify/verify.h"
#include "../support/store_fixture.h"

static char dir[256];
static struct store *s;

static void setup(void)
{
	s = fixture_store_open(dir, sizeof(dir), "ldispute");
}

static void teardown(void)
{
	fixture_store_close(s, dir);
}

TestSuite(ledger_dispute, .init = setup, .fini = teardown);

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

struct move {
	int reinstate;
	int64_t amount, fee;
	const char *currency;
	int rc;
	char bt[ID_MAX];
};

static int move_fn(struct db *db, void *p)
{
	struct move *m = p;
	m->rc = m->reinstate ? ledger_dispute_reinstate(db, M1, "dp_1", "ch_1", m->amount,
							m->currency, T0, m->bt)
			     : ledger_dispute_withdraw(db, M1, "dp_1", "ch_1", m->amount, m->fee,
						       m->currency, T0, m->bt);
	return m->rc == DB_OK ? 0 : -1;
}

static int move(int reinstate, int64_t amount, int64_t fee, struct move *ret)
{
	*ret = (struct move){reinstate, amount, fee, "usd", 0, ""};
	store_write(s, M1, move_fn, ret);
	return ret->rc;
}

static const char *text_of(struct buf *b)
{
	return b->len ? buf_cstr(b) : "";
}

static int verify_fn(struct db *db, void *p)
{
	int a = ledger_verify(db, p);
	int b = ledger_dispute_verify(db, p);
	return a || b ? -1 : 0;
}

Test(ledger_dispute, fee_is_15_major_units_in_the_currency)
{
	int64_t fee = 0;
	cr_assert_eq(ledger_dispute_fee("usd", &fee), DB_OK);
	cr_assert_eq(fee, 1500);
	cr_assert_eq(ledger_dispute_fee("jpy", &fee), DB_OK);
	cr_assert_eq(fee, 15);
	cr_assert_eq(ledger_dispute_fee("kwd", &fee), DB_OK);
	cr_assert_eq(fee, 15000);
	cr_assert_eq(ledger_dispute_fee("zzz", &fee), LEDGER_ERR_INVALID);
	cr_assert_eq(ledger_dispute_fee(NULL, &fee), LEDGER_ERR_INVALID);
}

Test(ledger_dispute, booking_amount_is_the_charge_amount_until_fx)
{
	int64_t amount = 0;
	char cur[8] = "";
	cr_assert_eq(ledger_dispute_booking_amount(NULL, M1, "ch_1", 1234, "eur", &amount, cur),
		     DB_OK);
	cr_assert_eq(amount, 1234);
	cr_assert_str_eq(cur, "eur");
	cr_assert_eq(ledger_dispute_booking_amount(NULL, M1, "ch_1", 0, "eur", &amount, cur),
		     LEDGER_ERR_INVALID);
	cr_assert_eq(ledger_dispute_booking_amount(NULL, M1, "ch_1", LEDGER_AMOUNT_MAX + 1, "eur",
						   &amount, cur),
		     LEDGER_ERR_OVERFLOW);
}

Test(ledger_dispute, withdrawal_and_reinstatement_move_the_right_accounts)
{
	struct move m;
	cr_assert_eq(move(0, 4000, 1500, &m), DB_OK);
	cr_assert_eq(account(LEDGER_ACCT_MERCHANT_AVAILABLE), 5500);
	cr_assert_eq(account(LEDGER_ACCT_ACQUIRER_PAYABLE), -4000);
	cr_assert_eq(account(LEDGER_ACCT_FEES), -1500);
	cr_assert_eq(q_int("SELECT amount FROM balance_transactions WHERE merchant_id = $1"
			   " AND id = $2",
			   M1, m.bt),
		     -4000);
	cr_assert_eq(
	    q_int("SELECT fee FROM balance_transactions WHERE merchant_id = $1 AND id = $2", M1,
		  m.bt),
	    1500);
	cr_assert_eq(
	    q_int("SELECT net FROM balance_transactions WHERE merchant_id = $1 AND id = $2", M1,
		  m.bt),
	    -5500);
	cr_assert_eq(q_int("SELECT COUNT(*) FROM balance_transactions WHERE merchant_id = $1"
			   " AND id = $2 AND type = 'adjustment' AND reporting_category = 'dispute'"
			   " AND status = 'available' AND source = 'dp_1'",
			   M1, m.bt),
		     1);

	cr_assert_eq(move(1, 4000, 0, &m), DB_OK);
	/* the amount comes back, the fee stays with Tender */
	cr_assert_eq(account(LEDGER_ACCT_MERCHANT_AVAILABLE), 1500);
	cr_assert_eq(account(LEDGER_ACCT_ACQUIRER_PAYABLE), 0);
	cr_assert_eq(account(LEDGER_ACCT_FEES), -1500);
	cr_assert_eq(q_int("SELECT COALESCE(SUM(net), 0) FROM balance_transactions WHERE"
			   " merchant_id = $1 AND status = 'available'",
			   M1, NULL),
		     -1500);
}

Test(ledger_dispute, refusals_write_nothing)
{
	struct move m;
	cr_assert_eq(move(0, 0, 1500, &m), LEDGER_ERR_INVALID);
	cr_assert_eq(move(0, 10, -1, &m), LEDGER_ERR_INVALID);
	cr_assert_eq(move(0, LEDGER_AMOUNT_MAX, 1, &m), LEDGER_ERR_OVERFLOW);
	cr_assert_eq(move(0, INT64_MAX, INT64_MAX, &m), LEDGER_ERR_OVERFLOW);
	cr_assert_eq(move(1, -5, 0, &m), LEDGER_ERR_INVALID);
	cr_assert_eq(move(1, LEDGER_AMOUNT_MAX + 1, 0, &m), LEDGER_ERR_OVERFLOW);
	cr_assert_eq(q_int("SELECT COUNT(*) FROM journal_entries WHERE merchant_id = $1", M1, NULL),
		     0);
	cr_assert_eq(
	    q_int("SELECT COUNT(*) FROM balance_transactions WHERE merchant_id = $1", M1, NULL), 0);
}

Test(ledger_dispute, verify_reports_an_adjustment_of_no_dispute)
{
	struct move m;
	cr_assert_eq(move(0, 4000, 1500, &m), DB_OK);
	struct verify_report rep;
	memset(&rep, 0, sizeof(rep));
	buf_init(&rep.text, 1u << 20);
	store_read(s, NULL, verify_fn, &rep);
	/* the journal itself is fine; the dispute checks see a withdrawal for a dispute that
	 * does not exist */
	cr_assert_eq(rep.failures, 1, "%s", text_of(&rep.text));
	cr_assert_not_null(
	    strstr(text_of(&rep.text), "adjustment balance transaction of no dispute"), "%s",
	    text_of(&rep.text));
	buf_release(&rep.text);
}
