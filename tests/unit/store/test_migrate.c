/*
 * Schema migrations on a store that already holds rows: a patch that moves data keeps every row's
 * meaning. The store is brought to the version before the patch, filled the way that version's
 * code wrote it, and then migrated to the latest version.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/db_impl.h"
#include "store/migrate.h"

static char dir[256];
static struct db *db;

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/tender-unit-migrate-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	char path[300], err[256];
	snprintf(path, sizeof(path), "%s/tender.db", dir);
	db = sqlite_db_open(path, 0, err, sizeof(err));
	cr_assert_not_null(db, "%s", err);
}

static void teardown(void)
{
	sqlite_db_close(db);
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(migrate, .init = setup, .fini = teardown);

/* Applies the SQLite patches up to and including `version`. */
static void migrate_to(int version)
{
	static struct migration upto[512];
	size_t n = 0;
	for (const struct migration *m = migrations_sqlite; m->sql && m->version <= version; m++) {
		cr_assert_lt(n, sizeof(upto) / sizeof(upto[0]) - 1);
		upto[n++] = *m;
	}
	upto[n] = (struct migration){0};
	char err[256];
	cr_assert_eq(migrate_run(db, upto, err, sizeof(err)), 0, "%s", err);
}

static void exec(const char *sql)
{
	cr_assert_eq(db_exec(db, sql), DB_OK, "%s: %s", sql, db_errmsg(db));
}

/* The first column of the only row of sql, as text ("" for none). */
static void text_of(const char *sql, char *out, size_t cap)
{
	struct db_stmt *st = db_prepare(db, sql);
	cr_assert_not_null(st, "%s: %s", sql, db_errmsg(db));
	out[0] = '\0';
	if (db_step(st) == DB_ROW && !db_col_is_null(st, 0))
		snprintf(out, cap, "%s", db_col_text(st, 0, NULL));
	db_reset(st);
}

#define assert_text(sql, want)                                                                     \
	do {                                                                                       \
		char got_[1024];                                                                   \
		text_of(sql, got_, sizeof(got_));                                                  \
		cr_assert_str_eq(got_, want, "%s", sql);                                           \
	} while (0)

Test(migrate, journal_entries_move_into_their_transactions_row_and_read_back_the_same)
{
	migrate_to(25);
	/* a sale's four entries (stored out of order: seq decides), a two-entry refund in a
	 * second merchant, two entries whose transaction is missing, a transaction with none */
	exec("INSERT INTO journal_txns (merchant_id, id, kind, source, created) VALUES"
	     " ('acct_1', 'jtx_a', 'sale', 'ch_1', 10), ('acct_2', 'jtx_b', 'refund', 're_1', 11),"
	     " ('acct_1', 'jtx_e', 'empty', 'x', 12);"
	     "INSERT INTO journal_entries (merchant_id, txn_id, seq, account, currency, amount)"
	     " VALUES ('acct_1', 'jtx_a', 2, 'merchant_pending', 'usd', -1912),"
	     " ('acct_1', 'jtx_a', 0, 'acquirer_receivable', 'usd', 2000),"
	     " ('acct_1', 'jtx_a', 3, 'fees', 'usd', -88),"
	     " ('acct_1', 'jtx_a', 1, 'cardholder_holds', 'usd', 7),"
	     " ('acct_1', 'jtx_a', 4, 'acquirer_payable', 'usd', -7),"
	     " ('acct_2', 'jtx_b', 0, 'merchant_pending', 'eur', 9000000000000000000),"
	     " ('acct_2', 'jtx_b', 1, 'acquirer_payable', 'eur', -9000000000000000000),"
	     " ('acct_1', 'jtx_o', 1, 'fees', 'usd', -5), ('acct_1', 'jtx_o', 0, 'fx', 'usd', 5)");
	const char *before = "SELECT group_concat(merchant_id || ' ' || txn_id || ' ' || seq || ' '"
			     " || account || ' ' || currency || ' ' || amount, '; ') FROM (SELECT *"
			     " FROM journal_entries ORDER BY merchant_id, txn_id, seq)";
	char rows[1024];
	text_of(before, rows, sizeof(rows));
	cr_assert_gt(strlen(rows), 100);

	migrate_to(1 << 30);
	assert_text("SELECT type FROM sqlite_master WHERE name = 'journal_entries'", "view");
	/* the same rows, columns and order through the view */
	assert_text(before, rows);
	assert_text("SELECT typeof(amount) || typeof(seq) || typeof(account) FROM journal_entries"
		    " LIMIT 1",
		    "integerintegertext");
	assert_text("SELECT entries FROM journal_txns WHERE id = 'jtx_a'",
		    "[[\"acquirer_receivable\",\"usd\",2000],[\"cardholder_holds\",\"usd\",7],"
		    "[\"merchant_pending\",\"usd\",-1912],[\"fees\",\"usd\",-88],"
		    "[\"acquirer_payable\",\"usd\",-7]]");
	assert_text("SELECT entries FROM journal_txns WHERE id = 'jtx_b'",
		    "[[\"merchant_pending\",\"eur\",9000000000000000000],"
		    "[\"acquirer_payable\",\"eur\",-9000000000000000000]]");
	/* the transaction without entries keeps none; the orphans keep theirs, in a transaction */
	assert_text("SELECT entries FROM journal_txns WHERE id = 'jtx_e'", "[]");
	assert_text("SELECT kind || ' ' || entries FROM journal_txns WHERE id = 'jtx_o'",
		    "orphaned [[\"fx\",\"usd\",5],[\"fees\",\"usd\",-5]]");
	assert_text("SELECT COUNT(*) FROM journal_txns", "4");
	assert_text("SELECT SUM(amount) FROM journal_entries WHERE merchant_id = 'acct_1'", "0");
}
