/*
 * ledger_verify: silent on books the ledger wrote, and loud on each way of corrupting them by hand
 * (each corruption below is a direct UPDATE/INSERT no ledger function would make).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/ledger.h"
#include "store/store.h"
#include "verify/verify.h"

static char dir[256];
static struct store *s;

static const struct ledger_pricing PRICING = {290, 30, "usd", NULL, NULL, NULL};
static const struct ledger_pricing PRICING_EUR = {290,	30,   "eur",
						  NULL, NULL, NULL}; /* acct_2 settles in eur */
#define T0 INT64_C(1700000000)

/* Good books: two charges (one made available), a refund and a failed refund. */
static int books_fn(struct db *db, void *p)
{
	(void)p;
	char bt[ID_MAX];
	int rc = ledger_authorize(db, "acct_1", "ch_1", 10000, "usd", T0);
	rc = rc ? rc : ledger_capture(db, "acct_1", "ch_1", 10000, "usd", &PRICING, T0, bt);
	rc = rc ? rc : ledger_refund(db, "acct_1", "re_1", "ch_1", 2500, "usd", T0, bt);
	rc = rc ? rc : ledger_refund(db, "acct_1", "re_2", "ch_1", 500, "usd", T0, bt);
	rc = rc ? rc : ledger_refund_failure(db, "acct_1", "re_2", 500, "usd", T0, bt);
	rc = rc ? rc : ledger_authorize(db, "acct_1", "ch_2", 3000, "usd", T0);
	rc = rc ? rc : ledger_release(db, "acct_1", "ch_2", 3000, "usd", T0);
	if (rc == 0 && ledger_make_available(db, T0 + 3 * 86400, 100) != 1)
		return -1;
	rc = rc ? rc : ledger_authorize(db, "acct_2", "ch_3", 777, "eur", T0 + 4 * 86400);
	rc =
	    rc ? rc
	       : ledger_capture(db, "acct_2", "ch_3", 777, "eur", &PRICING_EUR, T0 + 4 * 86400, bt);
	return rc;
}

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/tender-unit-ledgerv-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	char err[256];
	struct store_config cfg = {.data_dir = dir};
	cr_assert_eq(store_open(&s, &cfg, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(store_write(s, NULL, books_fn, NULL), 0);
}

static void teardown(void)
{
	store_close(s);
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(ledger_verify, .init = setup, .fini = teardown);

/* buf_cstr() of a buffer nothing was appended to is not NUL-terminated (core/buf.c). */
static const char *text_of(struct buf *b)
{
	return b->len ? buf_cstr(b) : "";
}

static int verify_fn(struct db *db, void *p)
{
	return ledger_verify(db, p);
}

struct result {
	int failures, rc;
	char text[8192];
};

static void verify(struct result *res)
{
	struct verify_report rep;
	memset(&rep, 0, sizeof(rep));
	buf_init(&rep.text, 1u << 20);
	res->rc = store_read(s, NULL, verify_fn, &rep);
	res->failures = rep.failures;
	snprintf(res->text, sizeof(res->text), "%s", text_of(&rep.text));
	buf_release(&rep.text);
}

static int exec_fn(struct db *db, void *p)
{
	return db_exec(db, p);
}

/* Applies a hand corruption and expects verify to report it, naming `expect`. */
static void corrupt_and_expect(const char *sql, const char *expect)
{
	struct result before;
	verify(&before);
	cr_assert_eq(before.failures, 0, "%s", before.text);
	cr_assert_eq(store_write(s, NULL, exec_fn, (void *)sql), 0, "corruption did not apply");
	struct result after;
	verify(&after);
	cr_assert_gt(after.failures, 0, "not reported: %s", sql);
	cr_assert_not_null(strstr(after.text, expect), "expected \"%s\" in:\n%s", expect,
			   after.text);
}

Test(ledger_verify, good_books_pass)
{
	struct result r;
	verify(&r);
	cr_assert_eq(r.rc, 0);
	cr_assert_eq(r.failures, 0, "%s", r.text);
}

Test(ledger_verify, a_changed_entry_is_reported)
{
	/* the fees entry's amount + 1 (a journal transaction keeps its entries in its row) */
	corrupt_and_expect(
	    "UPDATE journal_txns SET entries = (SELECT json_group_array(json_array(e.value ->> 0,"
	    " e.value ->> 1, e.value ->> 2 + (e.value ->> 0 = 'fees'))) FROM"
	    " json_each(journal_txns.entries) AS e) WHERE EXISTS (SELECT 1 FROM"
	    " json_each(journal_txns.entries) AS e WHERE e.value ->> 0 = 'fees')",
	    "journal transaction that does not sum to zero");
}

Test(ledger_verify, a_forged_entry_is_reported)
{
	corrupt_and_expect(
	    "INSERT INTO journal_txns (merchant_id, id, kind, source, created, entries) VALUES"
	    " ('acct_1', 'jtx_forged', 'forged', 'x', 1, '[[\"merchant_available\",\"usd\",-7]]')",
	    "differs from the journal");
}

Test(ledger_verify, a_deleted_entry_is_reported)
{
	corrupt_and_expect(
	    "UPDATE journal_txns SET entries = (SELECT json_group_array(json(e.value)) FROM"
	    " json_each(journal_txns.entries) AS e WHERE e.value ->> 0 <> 'acquirer_payable')"
	    " WHERE EXISTS (SELECT 1 FROM json_each(journal_txns.entries) AS e"
	    " WHERE e.value ->> 0 = 'acquirer_payable')",
	    "journal that does not sum to zero");
}

Test(ledger_verify, an_absurd_entry_is_reported)
{
	corrupt_and_expect("INSERT INTO journal_txns VALUES ('acct_1', 'jtx_x', 'test', 'src', 1,"
			   " '[[\"fees\",\"usd\",9000000000000000000],"
			   "[\"fx\",\"usd\",-9000000000000000000]]')",
			   "zero, absurd or unknown journal entry");
}

Test(ledger_verify, a_wrong_net_is_reported)
{
	corrupt_and_expect(
	    "PRAGMA ignore_check_constraints = 1; UPDATE balance_transactions"
	    " SET net = net + 1 WHERE type = 'charge'; PRAGMA ignore_check_constraints"
	    " = 0",
	    "net != amount - fee");
}

Test(ledger_verify, funds_made_available_without_the_journal_move_are_reported)
{
	corrupt_and_expect("UPDATE balance_transactions SET status = 'available' WHERE source ="
			   " 'ch_3'",
			   "funds made available zero, twice or by a wrong amount");
}

Test(ledger_verify, a_balance_transaction_without_journal_is_reported)
{
	corrupt_and_expect("UPDATE balance_transactions SET journal_txn = 'jtx_gone' WHERE source ="
			   " 're_1'",
			   "balance transaction without its journal transaction");
}

Test(ledger_verify, a_double_booking_is_reported)
{
	corrupt_and_expect(
	    "INSERT INTO balance_transactions (merchant_id, id, created, type,"
	    " reporting_category, source, amount, fee, net, currency, exchange_rate, status,"
	    " available_on, description, journal_txn) SELECT merchant_id, id || 'dup', created,"
	    " type, reporting_category, source, amount, fee, net, currency,"
	    " exchange_rate, status, available_on, description, journal_txn FROM"
	    " balance_transactions WHERE source = 'ch_3'",
	    "source booked more than once");
}

Test(ledger_verify, an_over_release_is_reported)
{
	corrupt_and_expect(
	    "INSERT INTO journal_txns VALUES ('acct_1', 'jtx_r', 'release', 'ch_2', 1,"
	    " '[[\"authorized\",\"usd\",5],[\"cardholder_holds\",\"usd\",-5]]')",
	    "more released or captured than authorized");
}
