#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/ledger.h"
#include "store/store.h"
#include "verify/verify.h"

static char dir[256];
static struct store *s;

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/tender-unit-ledger-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	char err[256];
	struct store_config cfg = {.data_dir = dir};
	cr_assert_eq(store_open(&s, &cfg, err, sizeof(err)), 0, "%s", err);
}

static void teardown(void)
{
	store_close(s);
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(ledger, .init = setup, .fini = teardown);

static const struct ledger_pricing PRICING = {290, 30, "usd"};

struct flow {
	int64_t amount, refund;
	int64_t fee;
	int rc;
};

static const char SQL_FEE[] = "SELECT fee, net FROM balance_transactions WHERE merchant_id = $1"
                              " AND type = 'charge' ORDER BY created DESC, id DESC LIMIT 1";

static int flow_fn(struct db *db, void *p)
{
	struct flow *f = p;
	char bt[ID_MAX];
	f->rc = ledger_authorize(db, "acct_1", "ch_1", f->amount, "usd", 100);
	if (f->rc == 0)
		f->rc = ledger_capture(db, "acct_1", "ch_1", f->amount, "usd", &PRICING, 100, bt);
	if (f->rc == 0 && f->refund)
		f->rc = ledger_refund(db, "acct_1", "re_1", "ch_1", f->refund, "usd", 100, bt);
	struct db_stmt *st = db_prepare(db, SQL_FEE);
	db_bind_text(st, 1, "acct_1", -1);
	if (db_step(st) == DB_ROW)
		f->fee = db_col_int64(st, 0);
	db_reset(st);
	return f->rc;
}

Test(ledger, fees_round_half_up_and_never_exceed_the_amount)
{
	struct flow a = {.amount = 1000}, b = {.amount = 50}, c = {.amount = 20};
	cr_assert_eq(store_write(s, NULL, flow_fn, &a), 0);
	cr_assert_eq(a.fee, 59); /* 29 + 30 */
	cr_assert_eq(store_write(s, NULL, flow_fn, &b), 0);
	cr_assert_eq(b.fee, 31); /* 1.45 → 1, + 30 */
	cr_assert_eq(store_write(s, NULL, flow_fn, &c), 0);
	cr_assert_eq(c.fee, 20, "capped at the amount");
}

static int verify_fn(struct db *db, void *p)
{
	return ledger_verify(db, p);
}

static int available_fn(struct db *db, void *p)
{
	int *moved = p;
	*moved = ledger_make_available(db, 100 + 3 * 86400, 100);
	return *moved < 0 ? -1 : 0;
}

Test(ledger, journal_balances_and_funds_move_once)
{
	struct flow a = {.amount = 10000, .refund = 2500};
	cr_assert_eq(store_write(s, NULL, flow_fn, &a), 0);
	struct verify_report rep;
	memset(&rep, 0, sizeof(rep));
	buf_init(&rep.text, 0);
	store_read(s, NULL, verify_fn, &rep);
	cr_assert_eq(rep.failures, 0, "%s", buf_cstr(&rep.text));
	int moved = 0;
	cr_assert_eq(store_write(s, NULL, available_fn, &moved), 0);
	cr_assert_eq(moved, 2, "the charge and the refund");
	cr_assert_eq(store_write(s, NULL, available_fn, &moved), 0);
	cr_assert_eq(moved, 0, "nothing moves twice");
	store_read(s, NULL, verify_fn, &rep);
	cr_assert_eq(rep.failures, 0, "%s", buf_cstr(&rep.text));
	buf_release(&rep.text);
}

static int corrupt_fn(struct db *db, void *p)
{
	(void)p;
	return db_exec(db, "UPDATE journal_entries SET amount = amount + 1 WHERE rowid IN (SELECT "
	                   "rowid FROM journal_entries LIMIT 1)");
}

static int corrupt2_fn(struct db *db, void *p)
{
	(void)p;
	return db_exec(db, "INSERT INTO journal_entries (merchant_id, txn_id, seq, account, currency,"
	                   " amount) VALUES ('acct_1', 'jtx_forged', 0, 'fees', 'usd', 7)");
}

Test(ledger, verify_reports_a_corrupted_journal)
{
	struct flow a = {.amount = 1000};
	store_write(s, NULL, flow_fn, &a);
	store_write(s, NULL, corrupt2_fn, NULL);
	(void)corrupt_fn;
	struct verify_report rep;
	memset(&rep, 0, sizeof(rep));
	buf_init(&rep.text, 0);
	store_read(s, NULL, verify_fn, &rep);
	cr_assert_gt(rep.failures, 0);
	buf_release(&rep.text);
}

struct over {
	int rc;
};

static int overflow_fn(struct db *db, void *p)
{
	struct over *o = p;
	o->rc = ledger_authorize(db, "acct_1", "ch_x", INT64_MIN, "usd", 1);
	return 0;
}

Test(ledger, absurd_amounts_are_refused)
{
	struct over o;
	store_write(s, NULL, overflow_fn, &o);
	cr_assert_neq(o.rc, 0);
}
