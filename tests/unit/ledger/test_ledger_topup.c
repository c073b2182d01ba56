/*
 * The top-up movement on a real SQLite store: the accounts it moves, the balance transaction
 * Stripe shows, refusals that write nothing, and ledger_verify holding the funds paid in to the
 * succeeded top-ups (money booked with no succeeded topups row is reported, and so is a
 * succeeded row whose money was never booked).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/ledger.h"
#include "ledger/ledger_topup.h"
#include "store/store.h"
#include "verify/verify.h"
#include "../support/store_fixture.h"

static char dir[256];
static struct store *s;

static void setup(void)
{
	s = fixture_store_open(dir, sizeof(dir), "ltopup");
}

static void teardown(void)
{
	fixture_store_close(s, dir);
}

TestSuite(ledger_topup, .init = setup, .fini = teardown);

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
	bool row; /* the topups row (status `status`), else the movement */
	const char *status;
	int64_t amount;
	char bt[ID_MAX];
	int rc;
};

static int move_fn(struct db *db, void *p)
{
	struct move *m = p;
	static const char SQL_ROW[] =
	    "INSERT INTO topups (merchant_id, id, created, amount, currency, status, metadata,"
	    " balance_transaction) VALUES ($1, 'tu_1', 1700000000, $2, 'usd', $3, '{}', $4)";
	if (!m->row) {
		m->rc = ledger_topup(db, M1, "tu_1", m->amount, "usd", "funding", T0, m->bt);
	} else {
		struct db_stmt *st = db_prepare(db, SQL_ROW);
		db_bind_text(st, 1, M1, -1);
		db_bind_int64(st, 2, m->amount);
		db_bind_text(st, 3, m->status, -1);
		db_bind_text(st, 4, m->bt[0] ? m->bt : NULL, -1);
		m->rc = db_step_done(st);
	}
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

Test(ledger_topup, credits_the_available_balance_from_the_funding_account)
{
	struct move m = {.amount = 12345};
	store_write(s, M1, move_fn, &m);
	cr_assert_eq(m.rc, DB_OK);
	cr_assert_eq(account(LEDGER_ACCT_MERCHANT_AVAILABLE), -12345,
		     "credit: the merchant is owed");
	cr_assert_eq(account(LEDGER_ACCT_TOPUP_FUNDING), 12345);
	cr_assert_eq(q_int("SELECT COUNT(*) FROM balance_transactions WHERE merchant_id = $1"
			   " AND id = $2 AND type = 'topup' AND amount = 12345 AND fee = 0"
			   " AND net = 12345 AND status = 'available' AND source = 'tu_1'"
			   " AND reporting_category = 'topup' AND description = 'funding'",
			   M1, m.bt),
		     1);
	struct buf text;
	buf_init(&text, 1u << 20);
	/* booked, but no succeeded top-up says so */
	cr_assert_gt(verify_failures(&text), 0);
	cr_assert_not_null(strstr(buf_cstr(&text), "top-up"), "%s", buf_cstr(&text));
	struct move row = {.row = true, .status = "succeeded", .amount = 12345};
	memcpy(row.bt, m.bt, sizeof(row.bt));
	store_write(s, M1, move_fn, &row);
	cr_assert_eq(row.rc, DB_OK);
	cr_assert_eq(verify_failures(&text), 0, "%s", buf_cstr(&text));
	buf_release(&text);
}

Test(ledger_topup, a_succeeded_row_without_its_money_is_reported)
{
	struct move row = {.row = true, .status = "succeeded", .amount = 500};
	store_write(s, M1, move_fn, &row);
	cr_assert_eq(row.rc, DB_OK);
	struct buf text;
	buf_init(&text, 1u << 20);
	cr_assert_gt(verify_failures(&text), 0);
	cr_assert_not_null(strstr(buf_cstr(&text), "topup_funding differs"), "%s", buf_cstr(&text));
	buf_release(&text);
}

Test(ledger_topup, refuses_absurd_amounts_and_writes_nothing)
{
	int64_t bad[] = {0, -1, LEDGER_AMOUNT_MAX + 1};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct move m = {.amount = bad[i]};
		store_write(s, M1, move_fn, &m);
		cr_assert_neq(m.rc, DB_OK);
	}
	cr_assert_eq(
	    q_int("SELECT COUNT(*) FROM balance_transactions WHERE merchant_id = $1", M1, NULL), 0);
	cr_assert_eq(account(LEDGER_ACCT_TOPUP_FUNDING), 0);
}
