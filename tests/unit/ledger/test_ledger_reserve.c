/*
 * Rolling reserves (ledger_reserve.h): the rounding rule and the exact percent parser, then on a
 * real SQLite store a sale under a 10 % reserve (the hold's balance transaction and accounts),
 * the hold following its charge to the available balance, the release once and only once, the
 * reserve switched off for later charges, and ledger_verify holding the reserve account to the
 * reserve's balance transactions.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/ledger.h"
#include "ledger/ledger_reserve.h"
#include "money/fx.h"
#include "store/store.h"
#include "verify/verify.h"
#include "../support/store_fixture.h"

Test(ledger_reserve_rule, rounds_down_and_caps_at_net)
{
	int64_t r = -1;
	cr_assert_eq(ledger_reserve_amount(10000, 9680, 1000, &r), DB_OK);
	cr_assert_eq(r, 1000);
	cr_assert_eq(ledger_reserve_amount(999, 940, 1000, &r), DB_OK);
	cr_assert_eq(r, 99, "99.9 rounds down");
	cr_assert_eq(ledger_reserve_amount(19, 0, 1000, &r), DB_OK);
	cr_assert_eq(r, 0, "a charge that nets 0 holds nothing");
	cr_assert_eq(ledger_reserve_amount(50, 20, 10000, &r), DB_OK);
	cr_assert_eq(r, 20, "never more than the charge's net");
	cr_assert_eq(ledger_reserve_amount(10000, 9680, 1, &r), DB_OK);
	cr_assert_eq(r, 1);
	cr_assert_eq(ledger_reserve_amount(10000, 9680, 0, &r), DB_OK);
	cr_assert_eq(r, 0);
	cr_assert_eq(ledger_reserve_amount(LEDGER_AMOUNT_MAX, LEDGER_AMOUNT_MAX, 10000, &r), DB_OK);
	cr_assert_eq(r, LEDGER_AMOUNT_MAX);
	cr_assert_eq(ledger_reserve_amount(LEDGER_AMOUNT_MAX + 1, 1, 1000, &r),
		     LEDGER_ERR_OVERFLOW);
	cr_assert_eq(ledger_reserve_amount(0, 0, 1000, &r), LEDGER_ERR_INVALID);
	cr_assert_eq(ledger_reserve_amount(100, 101, 1000, &r), LEDGER_ERR_INVALID);
	cr_assert_eq(ledger_reserve_amount(100, -1, 1000, &r), LEDGER_ERR_INVALID);
	cr_assert_eq(ledger_reserve_amount(100, 90, 10001, &r), LEDGER_ERR_INVALID);
}

Test(ledger_reserve_rule, release_after_days_never_before_available)
{
	int64_t at = 0;
	cr_assert_eq(ledger_reserve_release_at(1000, 2000, 1, &at), DB_OK);
	cr_assert_eq(at, 1000 + 86400);
	cr_assert_eq(ledger_reserve_release_at(1000, 1000 + 3 * 86400, 1, &at), DB_OK);
	cr_assert_eq(at, 1000 + 3 * 86400, "held at least until the funds are available");
	cr_assert_eq(ledger_reserve_release_at(0, 0, 365, &at), DB_OK);
	cr_assert_eq(at, 365 * 86400);
	cr_assert_eq(ledger_reserve_release_at(0, 0, 0, &at), LEDGER_ERR_INVALID);
	cr_assert_eq(ledger_reserve_release_at(0, 0, 366, &at), LEDGER_ERR_INVALID);
	cr_assert_eq(ledger_reserve_release_at(INT64_MAX - 10, 0, 1, &at), LEDGER_ERR_OVERFLOW);
}

Test(ledger_reserve_rule, parses_percent_exactly)
{
	static const struct {
		const char *s;
		int64_t bps;
	} ok[] = {{"10", 1000},	  {"10.5", 1050},    {"2.25", 225}, {"0.01", 1},
		  {"100", 10000}, {"100.00", 10000}, {"007", 700}};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		int64_t bps = -1;
		cr_assert_eq(ledger_reserve_parse_percent(ok[i].s, &bps), 0, "%s", ok[i].s);
		cr_assert_eq(bps, ok[i].bps, "%s", ok[i].s);
	}
	static const char *const bad[] = {"",	 "0",	"0.00",	       "100.01", "1.234",
					  "1.",	 ".5",	"-1",	       "1e2",	 " 10",
					  "10 ", "10%", "99999999999", "abc"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int64_t bps = -1;
		cr_assert_eq(ledger_reserve_parse_percent(bad[i], &bps), -1, "'%s'", bad[i]);
		cr_assert_eq(bps, -1);
	}
}

static char dir[256];
static struct store *s;

static void setup(void)
{
	s = fixture_store_open(dir, sizeof(dir), "lreserve");
}

static void teardown(void)
{
	fixture_store_close(s, dir);
}

TestSuite(ledger_reserve, .init = setup, .fini = teardown);

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

static int64_t balance(const char *status)
{
	return q_int("SELECT COALESCE(SUM(net), 0) FROM balance_transactions WHERE merchant_id = $1"
		     " AND status = $2",
		     M1, status);
}

enum op { OP_SET, OP_SALE, OP_SALE_EUR, OP_AVAILABLE, OP_RELEASE };

struct step {
	enum op op;
	int64_t bps, days, amount, now;
	const char *charge;
	char bt[ID_MAX], hold[ID_MAX];
	int rc;
};

static int step_fn(struct db *db, void *p)
{
	struct step *x = p;
	const struct ledger_pricing pricing = {290, 30, "usd", NULL, NULL, NULL};
	switch (x->op) {
	case OP_SET:
		x->rc = ledger_reserve_set(db, M1, x->bps, x->days, x->now);
		break;
	case OP_SALE:
		x->rc = ledger_sale_as(db, M1, x->charge, x->amount, "usd", &pricing, x->now, NULL,
				       x->bt);
		break;
	case OP_SALE_EUR: {
		/* presented in eur, settled in usd at 1.0823 */
		static const char RATES[] =
		    "base,quote,rate,valid_from\neur,usd,1.0823,2023-01-01\n";
		char err[128];
		struct fx_table *fx = fx_table_load_csv(RATES, sizeof(RATES) - 1, err, sizeof(err));
		if (!fx)
			return x->rc = DB_ERR;
		const struct ledger_pricing conv = {290, 30, "usd", fx, NULL, NULL};
		x->rc =
		    ledger_sale_as(db, M1, x->charge, x->amount, "eur", &conv, x->now, NULL, x->bt);
		fx_table_free(fx);
		break;
	}
	case OP_AVAILABLE:
		x->rc = ledger_make_available_one(db, M1, x->bt, x->now);
		break;
	case OP_RELEASE:
		x->rc = ledger_reserve_release(db, M1, x->hold, x->now);
		break;
	}
	return x->rc < 0 ? -1 : 0;
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

struct hold_id {
	char id[ID_MAX];
	int64_t release_at;
};

static int hold_fn(struct db *db, void *p)
{
	struct hold_id *h = p;
	struct db_stmt *st = db_prepare(db, "SELECT id, release_at FROM reserve_holds"
					    " WHERE merchant_id = 'acct_1' AND charge = 'ch_1'");
	int rc = db_step(st);
	if (rc == DB_ROW) {
		snprintf(h->id, sizeof(h->id), "%s", db_col_text(st, 0, NULL));
		h->release_at = db_col_int64(st, 1);
	}
	db_reset(st);
	return rc == DB_ROW ? 0 : -1;
}

Test(ledger_reserve, holds_follows_releases_once_and_verifies)
{
	struct step set = {.op = OP_SET, .bps = 1000, .days = 1, .now = T0};
	cr_assert_eq(store_write(s, M1, step_fn, &set), 0);
	struct step sale = {.op = OP_SALE, .amount = 10000, .charge = "ch_1", .now = T0};
	cr_assert_eq(store_write(s, M1, step_fn, &sale), 0, "%d", sale.rc);
	/* 10000 at 2.9 % + 30: fee 320, net 9680; 10 % of 10000 held */
	cr_assert_eq(balance("pending"), 9680 - 1000);
	cr_assert_eq(account(LEDGER_ACCT_MERCHANT_RESERVE), -1000, "credit: held for the merchant");
	cr_assert_eq(account(LEDGER_ACCT_MERCHANT_PENDING), -(9680 - 1000));
	cr_assert_eq(
	    q_int("SELECT COUNT(*) FROM balance_transactions WHERE merchant_id = $1"
		  " AND type = 'reserved_funds' AND amount = -1000 AND fee = 0 AND net = -1000"
		  " AND status = 'pending' AND source = 'ch_1'"
		  " AND reporting_category = 'risk_reserved_funds' AND available_on ="
		  " (SELECT available_on FROM balance_transactions WHERE id = $2)",
		  M1, sale.bt),
	    1);
	struct hold_id h;
	cr_assert_eq(store_read(s, M1, hold_fn, &h), 0);
	int64_t avail_on = q_int("SELECT available_on FROM balance_transactions WHERE"
				 " merchant_id = $1 AND id = $2",
				 M1, sale.bt);
	cr_assert_eq(h.release_at, avail_on > T0 + 86400 ? avail_on : T0 + 86400);
	struct buf text;
	buf_init(&text, 1u << 20);
	cr_assert_eq(verify_failures(&text), 0, "%s", buf_cstr(&text));

	/* the charge made available takes its hold along */
	struct step av = {.op = OP_AVAILABLE, .now = T0 + 10};
	memcpy(av.bt, sale.bt, sizeof(av.bt));
	cr_assert_eq(store_write(s, M1, step_fn, &av), 0);
	cr_assert_eq(av.rc, 1);
	cr_assert_eq(balance("pending"), 0);
	cr_assert_eq(balance("available"), 9680 - 1000);
	cr_assert_eq(verify_failures(&text), 0, "%s", buf_cstr(&text));

	/* released once: the second call finds it released */
	struct step rel = {.op = OP_RELEASE, .now = T0 + 100};
	memcpy(rel.hold, h.id, sizeof(rel.hold));
	cr_assert_eq(store_write(s, M1, step_fn, &rel), 0);
	cr_assert_eq(rel.rc, 1);
	cr_assert_eq(store_write(s, M1, step_fn, &rel), 0);
	cr_assert_eq(rel.rc, 0);
	cr_assert_eq(balance("available"), 9680);
	cr_assert_eq(account(LEDGER_ACCT_MERCHANT_RESERVE), 0);
	cr_assert_eq(q_int("SELECT COUNT(*) FROM balance_transactions WHERE merchant_id = $1"
			   " AND type = 'reserved_funds' AND amount = 1000 AND status = 'available'"
			   " AND source = 'ch_1' AND reporting_category = 'risk_reserved_funds'",
			   M1, NULL),
		     1);
	cr_assert_eq(verify_failures(&text), 0, "%s", buf_cstr(&text));

	/* off: the next charge holds nothing; the history keeps both changes */
	struct step off = {.op = OP_SET, .now = T0 + 200};
	cr_assert_eq(store_write(s, M1, step_fn, &off), 0);
	struct step sale2 = {.op = OP_SALE, .amount = 5000, .charge = "ch_2", .now = T0 + 300};
	cr_assert_eq(store_write(s, M1, step_fn, &sale2), 0);
	cr_assert_eq(q_int("SELECT COUNT(*) FROM balance_transactions WHERE merchant_id = $1"
			   " AND source = 'ch_2'",
			   M1, NULL),
		     1);
	cr_assert_eq(
	    q_int("SELECT COUNT(*) FROM reserve_settings WHERE merchant_id = $1", M1, NULL), 2);
	cr_assert_eq(verify_failures(&text), 0, "%s", buf_cstr(&text));
	buf_release(&text);
}

static int tamper_fn(struct db *db, void *p)
{
	(void)p;
	struct db_stmt *st = db_prepare(db, "UPDATE reserve_holds SET amount = amount + 1");
	return db_step_done(st);
}

Test(ledger_reserve, verify_reports_a_hold_that_does_not_match)
{
	struct step set = {.op = OP_SET, .bps = 250, .days = 30, .now = T0};
	cr_assert_eq(store_write(s, M1, step_fn, &set), 0);
	struct step sale = {.op = OP_SALE, .amount = 10000, .charge = "ch_1", .now = T0};
	cr_assert_eq(store_write(s, M1, step_fn, &sale), 0);
	cr_assert_eq(account(LEDGER_ACCT_MERCHANT_RESERVE), -250);
	struct buf text;
	buf_init(&text, 1u << 20);
	cr_assert_eq(verify_failures(&text), 0, "%s", buf_cstr(&text));
	cr_assert_eq(store_write(s, M1, tamper_fn, NULL), 0);
	cr_assert_gt(verify_failures(&text), 0);
	cr_assert_not_null(strstr(buf_cstr(&text), "reserve"), "%s", buf_cstr(&text));
	buf_release(&text);
}

Test(ledger_reserve, refuses_settings_out_of_range)
{
	static const int64_t bad[][2] = {{0, 30}, {10001, 30}, {1000, 0}, {1000, 366}, {-1, 1}};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct step set = {.op = OP_SET, .bps = bad[i][0], .days = bad[i][1], .now = T0};
		store_write(s, M1, step_fn, &set);
		cr_assert_eq(set.rc, LEDGER_ERR_INVALID);
	}
	cr_assert_eq(
	    q_int("SELECT COUNT(*) FROM reserve_settings WHERE merchant_id = $1", M1, NULL), 0);
}

Test(ledger_reserve, a_converted_charge_holds_in_the_settlement_currency)
{
	struct step set = {.op = OP_SET, .bps = 1000, .days = 90, .now = T0};
	cr_assert_eq(store_write(s, M1, step_fn, &set), 0);
	struct step sale = {.op = OP_SALE_EUR, .amount = 10000, .charge = "ch_1", .now = T0};
	cr_assert_eq(store_write(s, M1, step_fn, &sale), 0, "%d", sale.rc);
	/* 10000 eur → 10823 usd; 10 % of 10823 is 1082.3, held 1082 usd */
	cr_assert_eq(q_int("SELECT amount FROM balance_transactions WHERE merchant_id = $1"
			   " AND type = 'reserved_funds' AND currency = 'usd' AND source = $2",
			   M1, "ch_1"),
		     -1082);
	cr_assert_eq(q_int("SELECT release_at FROM reserve_holds WHERE merchant_id = $1"
			   " AND charge = $2",
			   M1, "ch_1"),
		     T0 + 90 * 86400);
	struct buf text;
	buf_init(&text, 1u << 20);
	cr_assert_eq(verify_failures(&text), 0, "%s", buf_cstr(&text));
	buf_release(&text);
}
