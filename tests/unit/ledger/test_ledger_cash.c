/*
 * The cash return movements on a real SQLite store (ledger_cash.h): cash going back to a
 * customer's bank (cash_return: out of customer_cash into cash_funding) and coming back when the
 * refund is canceled, ledger_verify holding cash_funding to the funded cash balance
 * transactions less the returned ones (a return booked without its transaction is reported),
 * and refusals that write nothing.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/ledger.h"
#include "ledger/ledger_cash.h"
#include "store/store.h"
#include "verify/verify.h"
#include "../support/store_fixture.h"

static char dir[256];
static struct store *s;

static void setup(void)
{
	s = fixture_store_open(dir, sizeof(dir), "lcash");
}

static void teardown(void)
{
	fixture_store_close(s, dir);
}

TestSuite(ledger_cash, .init = setup, .fini = teardown);

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

/* one movement: fund (type "funded"), return or cancel (return_initiated / return_canceled),
 * with its cash balance transaction unless bare */
struct move {
	const char *id, *type;
	int64_t amount;
	bool bare;
	int rc;
};

static int move_fn(struct db *db, void *p)
{
	struct move *m = p;
	static const char SQL_TXN[] =
	    "INSERT INTO customer_cash_balance_transactions (merchant_id, id, created, customer,"
	    " type, currency, net_amount, ending_balance, journal_txn)"
	    " VALUES ($1, $2, 1700000000, 'cus_1', $3, 'eur', $4, 0, $5)";
	char jtx[ID_MAX];
	bool in = strcmp(m->type, "funded") == 0 || strcmp(m->type, "return_canceled") == 0;
	if (strcmp(m->type, "funded") == 0)
		m->rc = ledger_cash_fund(db, M1, m->id, m->amount, "eur", T0, jtx);
	else
		m->rc = ledger_cash_return(db, M1, m->id, m->amount, "eur",
					   strcmp(m->type, "return_initiated") == 0, T0, jtx);
	if (m->rc != DB_OK || m->bare)
		return m->rc == DB_OK ? 0 : -1;
	struct db_stmt *st = db_prepare(db, SQL_TXN);
	db_bind_text(st, 1, M1, -1);
	db_bind_text(st, 2, m->id, -1);
	db_bind_text(st, 3, m->type, -1);
	db_bind_int64(st, 4, in ? m->amount : -m->amount);
	db_bind_text(st, 5, jtx, -1);
	m->rc = db_step_done(st);
	return m->rc == DB_OK ? 0 : -1;
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

Test(ledger_cash, a_return_moves_cash_back_to_the_funding_side_and_its_cancel_reverses_it)
{
	struct move f = {"ccsbtxn_1", "funded", 5000, false, 0};
	store_write(s, M1, move_fn, &f);
	cr_assert_eq(f.rc, DB_OK);
	struct move r = {"ccsbtxn_2", "return_initiated", 2000, false, 0};
	store_write(s, M1, move_fn, &r);
	cr_assert_eq(r.rc, DB_OK);
	cr_assert_eq(account(LEDGER_ACCT_CUSTOMER_CASH), -3000, "credit: held for the customer");
	cr_assert_eq(account(LEDGER_ACCT_CASH_FUNDING), 3000);
	struct buf text;
	buf_init(&text, 1u << 20);
	cr_assert_eq(verify_failures(&text), 0, "%s", buf_cstr(&text));
	struct move c = {"ccsbtxn_3", "return_canceled", 2000, false, 0};
	store_write(s, M1, move_fn, &c);
	cr_assert_eq(c.rc, DB_OK);
	cr_assert_eq(account(LEDGER_ACCT_CUSTOMER_CASH), -5000);
	cr_assert_eq(account(LEDGER_ACCT_CASH_FUNDING), 5000);
	cr_assert_eq(verify_failures(&text), 0, "%s", buf_cstr(&text));
	/* the money moved with no cash balance transaction to say so */
	struct move bare = {"ccsbtxn_4", "return_initiated", 700, true, 0};
	store_write(s, M1, move_fn, &bare);
	cr_assert_eq(bare.rc, DB_OK);
	cr_assert_gt(verify_failures(&text), 0);
	cr_assert_not_null(strstr(buf_cstr(&text), "cash_funding differs"), "%s", buf_cstr(&text));
	buf_release(&text);
}

Test(ledger_cash, refuses_absurd_amounts_and_writes_nothing)
{
	int64_t bad[] = {0, -1, LEDGER_AMOUNT_MAX + 1};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct move m = {"ccsbtxn_1", "return_initiated", bad[i], false, 0};
		store_write(s, M1, move_fn, &m);
		cr_assert_neq(m.rc, DB_OK);
		struct move c = {"ccsbtxn_2", "return_canceled", bad[i], false, 0};
		store_write(s, M1, move_fn, &c);
		cr_assert_neq(c.rc, DB_OK);
	}
	cr_assert_eq(account(LEDGER_ACCT_CUSTOMER_CASH), 0);
	cr_assert_eq(account(LEDGER_ACCT_CASH_FUNDING), 0);
	cr_assert_eq(q_int("SELECT COUNT(*) FROM customer_cash_balance_transactions"
			   " WHERE merchant_id = $1",
			   M1, NULL),
		     0);
}
