/*
 * Currency conversion in the ledger (src/ledger/ledger.h, "Currency conversion"): a capture in a
 * presentment currency settles in the merchant's currency through the fx account, every currency
 * balancing on its own; refunds and refund failures use the charge's recorded rate with the
 * cumulative rounding rule; ledger_convert_like_charge for disputes; ledger_verify checks the fx
 * account against the recorded conversions. Real SQLite store, exact expected numbers.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/ledger.h"
#include "money/fx.h"
#include "store/store.h"
#include "verify/verify.h"

static char dir[256];
static struct store *s;
static struct fx_table *rates;

static const char RATES[] = "base,quote,rate,valid_from\n"
			    "eur,usd,1.0823,2023-01-01\n"
			    "usd,jpy,156.73,2023-01-01\n"
			    "kwd,usd,3.2531,2023-01-01\n";

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/tender-unit-ledgerfx-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	char err[256];
	struct store_config cfg = {.data_dir = dir};
	cr_assert_eq(store_open(&s, &cfg, err, sizeof(err)), 0, "%s", err);
	rates = fx_table_load_csv(RATES, sizeof(RATES) - 1, err, sizeof(err));
	cr_assert_not_null(rates, "%s", err);
}

static void teardown(void)
{
	fx_table_free(rates);
	store_close(s);
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(ledger_fx, .init = setup, .fini = teardown);

#define T0 INT64_C(1700000000) /* 2023-11-14, after the rates' valid_from */
#define M1 "acct_1"

/* ---- one step of a payment's life per write transaction ---- */

enum step { AUTH, CAPTURE, REFUND, REFUND_FAIL, EXEC };

struct op {
	enum step step;
	const char *source, *charge, *currency;
	int64_t amount;
	const struct fx_table *fx;
	int rc;
	char bt[ID_MAX];
};

/* The charge row naming its balance transaction, as the payments flow stores it: refunds and
 * disputes find the charge's recorded rate through it. */
static int charge_row(struct db *db, const char *id, int64_t amount, const char *currency,
		      const char *bt)
{
	struct db_stmt *st = db_prepare(
	    db, "INSERT INTO charges (merchant_id, id, created, amount, currency, status,"
		" balance_transaction) VALUES ($1, $2, $3, $4, $5, 'succeeded', $6)");
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, M1, -1);
	db_bind_text(st, 2, id, -1);
	db_bind_int64(st, 3, T0);
	db_bind_int64(st, 4, amount);
	db_bind_text(st, 5, currency, -1);
	db_bind_text(st, 6, bt, -1);
	return db_step_done(st);
}

static int op_fn(struct db *db, void *p)
{
	struct op *o = p;
	const struct ledger_pricing pricing = {290, 30, "usd", o->fx, NULL, NULL};
	switch (o->step) {
	case AUTH:
		o->rc = ledger_authorize(db, M1, o->source, o->amount, o->currency, T0);
		break;
	case CAPTURE:
		o->rc =
		    ledger_capture(db, M1, o->source, o->amount, o->currency, &pricing, T0, o->bt);
		if (o->rc == 0)
			o->rc = charge_row(db, o->source, o->amount, o->currency, o->bt);
		break;
	case REFUND:
		o->rc =
		    ledger_refund(db, M1, o->source, o->charge, o->amount, o->currency, T0, o->bt);
		break;
	case REFUND_FAIL:
		o->rc = ledger_refund_failure(db, M1, o->source, o->amount, o->currency, T0, o->bt);
		break;
	case EXEC:
		o->rc = db_exec(db, o->source);
		break;
	}
	return o->rc;
}

static int step(enum step st, const char *source, const char *charge, int64_t amount,
		const char *currency, char *ret_bt)
{
	struct op o = {st, source, charge, currency, amount, rates, 0, ""};
	int rc = store_write(s, NULL, op_fn, &o);
	cr_assert_eq(rc, o.rc);
	if (ret_bt)
		memcpy(ret_bt, o.bt, ID_MAX);
	return o.rc;
}

static void must(enum step st, const char *source, const char *charge, int64_t amount,
		 const char *currency, char *ret_bt)
{
	int rc = step(st, source, charge, amount, currency, ret_bt);
	cr_assert_eq(rc, 0, "step %d on %s failed: %d", st, source, rc);
}

/* authorize + capture of the whole amount */
static void charge(const char *id, int64_t amount, const char *currency, char *ret_bt)
{
	must(AUTH, id, NULL, amount, currency, NULL);
	must(CAPTURE, id, NULL, amount, currency, ret_bt);
}

/* ---- reading back ---- */

struct q {
	const char *sql, *a, *b, *c;
	int64_t v;
	char text[64];
	int rc;
};

static int q_fn(struct db *db, void *p)
{
	struct q *q = p;
	struct db_stmt *st = db_prepare(db, q->sql);
	if (!st)
		return q->rc = DB_ERR;
	db_bind_text(st, 1, q->a, -1);
	if (q->b)
		db_bind_text(st, 2, q->b, -1);
	if (q->c)
		db_bind_text(st, 3, q->c, -1);
	q->rc = db_step(st);
	if (q->rc == DB_ROW) {
		q->v = db_col_int64(st, 0);
		const char *t = db_col_text(st, 0, NULL);
		snprintf(q->text, sizeof(q->text), "%s", t ? t : "");
	}
	db_reset(st);
	return 0;
}

static struct q query(const char *sql, const char *a, const char *b, const char *c)
{
	struct q q = {sql, a, b, c, 0, "", 0};
	cr_assert_eq(store_read(s, NULL, q_fn, &q), 0);
	cr_assert_eq(q.rc, DB_ROW, "query failed: %s", sql);
	return q;
}

/* The balance of one account in one currency. */
static int64_t account(const char *acct, const char *currency)
{
	return query("SELECT COALESCE(SUM(amount), 0) FROM journal_entries WHERE merchant_id = $1"
		     " AND account = $2 AND currency = $3",
		     M1, acct, currency)
	    .v;
}

static int64_t bt_int(const char *bt, const char *col_sql)
{
	return query(col_sql, M1, bt, NULL).v;
}

#define BT_AMOUNT "SELECT amount FROM balance_transactions WHERE merchant_id = $1 AND id = $2"
#define BT_FEE "SELECT fee FROM balance_transactions WHERE merchant_id = $1 AND id = $2"
#define BT_NET "SELECT net FROM balance_transactions WHERE merchant_id = $1 AND id = $2"

static void assert_bt(const char *bt, int64_t amount, int64_t fee, const char *currency,
		      const char *rate)
{
	cr_assert_eq(bt_int(bt, BT_AMOUNT), amount, "%s amount", bt);
	cr_assert_eq(bt_int(bt, BT_FEE), fee, "%s fee", bt);
	cr_assert_eq(bt_int(bt, BT_NET), amount - fee, "%s net", bt);
	struct q c = query("SELECT currency FROM balance_transactions WHERE merchant_id = $1"
			   " AND id = $2",
			   M1, bt, NULL);
	cr_assert_str_eq(c.text, currency);
	struct q r = query("SELECT COALESCE(exchange_rate, 'null') FROM balance_transactions"
			   " WHERE merchant_id = $1 AND id = $2",
			   M1, bt, NULL);
	cr_assert_str_eq(r.text, rate);
}

static int verify_fn(struct db *db, void *p)
{
	return ledger_verify(db, p);
}

/* Runs ledger_verify: the failure count, and the report in text (at most len bytes). */
static int verify(char *text, size_t len)
{
	struct verify_report rep;
	memset(&rep, 0, sizeof(rep));
	buf_init(&rep.text, 1u << 20);
	store_read(s, NULL, verify_fn, &rep);
	snprintf(text, len, "%s", rep.text.len ? buf_cstr(&rep.text) : "");
	buf_release(&rep.text);
	return rep.failures;
}

static void assert_verify_ok(void)
{
	char text[4096];
	cr_assert_eq(verify(text, sizeof(text)), 0, "%s", text);
}

/* ---- capture ---- */

Test(ledger_fx, capture_converts_once_and_books_each_currency_apart)
{
	char bt[ID_MAX];
	/* 19.99 eur × 1.0823 = 21.635177 usd → 2164 cents; fee at 2.9 % + 1 % conversion:
	 * 2164 × 3.9 % = 84.396 → 84 + 30 = 114 */
	charge("ch_1", 1999, "eur", bt);
	assert_bt(bt, 2164, 114, "usd", "1.0823");
	/* presentment side in eur, merchant side in usd, fx holds both legs */
	cr_assert_eq(account("cardholder_holds", "eur"), 0);
	cr_assert_eq(account("authorized", "eur"), 0);
	cr_assert_eq(account("acquirer_receivable", "eur"), 1999);
	cr_assert_eq(account("fx", "eur"), -1999);
	cr_assert_eq(account("fx", "usd"), 2164);
	cr_assert_eq(account("merchant_pending", "usd"), -(2164 - 114));
	cr_assert_eq(account("fees", "usd"), -114);
	cr_assert_eq(account("merchant_pending", "eur"), 0);
	cr_assert_eq(account("acquirer_receivable", "usd"), 0);
	/* the rate is recorded with the row */
	cr_assert_eq(bt_int(bt,
			    "SELECT fx_rate_e12 FROM balance_transactions WHERE merchant_id = $1"
			    " AND id = $2"),
		     INT64_C(1082300000000));
	cr_assert_eq(bt_int(bt, "SELECT presentment_amount FROM balance_transactions"
				" WHERE merchant_id = $1 AND id = $2"),
		     1999);
	assert_verify_ok();
}

Test(ledger_fx, inverse_rate_and_zero_and_three_decimal_currencies)
{
	char bt[ID_MAX];
	/* jpy→usd = 1 / 156.73 rounded to 12 decimals = 0.006380399413; 5000 yen → 3190.1997 →
	 * 3190; fee 3190 × 3.9 % = 124.41 → 124 + 30 = 154 */
	charge("ch_j", 5000, "jpy", bt);
	assert_bt(bt, 3190, 154, "usd", "0.006380399413");
	/* 12.340 kwd × 3.2531 = 40.143254 usd → 4014; fee 4014 × 3.9 % = 156.546 → 157 + 30 = 187
	 */
	charge("ch_k", 12340, "kwd", bt);
	assert_bt(bt, 4014, 187, "usd", "3.2531");
	assert_verify_ok();
}

Test(ledger_fx, same_currency_is_not_converted)
{
	char bt[ID_MAX];
	charge("ch_u", 2000, "usd", bt);
	assert_bt(bt, 2000, 88, "usd", "null");
	cr_assert_eq(account("fx", "usd"), 0);
	cr_assert_eq(bt_int(bt, "SELECT COUNT(*) FROM balance_transactions WHERE merchant_id = $1"
				" AND id = $2 AND fx_rate_e12 IS NULL"),
		     1);
	assert_verify_ok();
}

Test(ledger_fx, no_rate_fails_the_capture_and_writes_nothing)
{
	must(AUTH, "ch_g", NULL, 1000, "gbp", NULL);
	cr_assert_eq(step(CAPTURE, "ch_g", NULL, 1000, "gbp", NULL), LEDGER_ERR_NO_RATE);
	struct op o = {CAPTURE, "ch_g", NULL, "eur", 1000, NULL, 0, ""};
	store_write(s, NULL, op_fn, &o);
	cr_assert_eq(o.rc, LEDGER_ERR_NO_RATE, "no table: no conversion");
	cr_assert_eq(query("SELECT COUNT(*) FROM balance_transactions WHERE merchant_id = $1", M1,
			   NULL, NULL)
			 .v,
		     0);
	cr_assert_eq(account("cardholder_holds", "gbp"), 1000, "the hold is untouched");
}

/* ---- refunds ---- */

Test(ledger_fx, full_refund_returns_exactly_the_charge_and_fx_goes_back_to_zero)
{
	char bt[ID_MAX], rbt[ID_MAX];
	charge("ch_1", 1999, "eur", bt);
	must(REFUND, "re_1", "ch_1", 1999, "eur", rbt);
	assert_bt(rbt, -2164, 0, "usd", "1.0823");
	/* the merchant nets exactly −fee in usd */
	cr_assert_eq(account("merchant_pending", "usd") + account("merchant_available", "usd"),
		     114);
	cr_assert_eq(bt_int(bt, BT_NET) + bt_int(rbt, BT_NET), -114);
	cr_assert_eq(account("fx", "eur"), 0);
	cr_assert_eq(account("fx", "usd"), 0);
	cr_assert_eq(account("acquirer_payable", "eur"), -1999);
	assert_verify_ok();
}

Test(ledger_fx, partial_refunds_round_cumulatively_and_never_exceed_the_charge)
{
	char bt[ID_MAX], r1[ID_MAX], r2[ID_MAX];
	charge("ch_k", 12340, "kwd", bt); /* 4014 usd cents */
	/* 5.000 kwd → round(1626.55) = 1627 */
	must(REFUND, "re_1", "ch_k", 5000, "kwd", r1);
	assert_bt(r1, -1627, 0, "usd", "3.2531");
	/* the other 7.340 kwd alone would be round(2387.7754) = 2388, 4015 in all; the rule gives
	 * round(12340 × 0.32531) − 1627 = 4014 − 1627 = 2387 */
	must(REFUND, "re_2", "ch_k", 7340, "kwd", r2);
	assert_bt(r2, -2387, 0, "usd", "3.2531");
	cr_assert_eq(bt_int(bt, BT_AMOUNT) + bt_int(r1, BT_AMOUNT) + bt_int(r2, BT_AMOUNT), 0);
	cr_assert_eq(account("fx", "usd"), 0);
	cr_assert_eq(account("fx", "kwd"), 0);
	assert_verify_ok();
}

Test(ledger_fx, tiny_refunds_may_convert_to_zero_and_still_add_up)
{
	char bt[ID_MAX], rbt[ID_MAX];
	charge("ch_j", 5000, "jpy", bt); /* 3190 usd cents */
	/* ten 1-yen refunds: cumulative conversions round(0.638 × k) = 1,1,2,3,3,4,4,5,6,6 */
	static const int64_t expect[10] = {1, 0, 1, 1, 0, 1, 0, 1, 1, 0};
	for (int k = 0; k < 10; k++) {
		char id[16];
		snprintf(id, sizeof(id), "re_%d", k);
		must(REFUND, id, "ch_j", 1, "jpy", rbt);
		cr_assert_eq(bt_int(rbt, BT_AMOUNT), -expect[k], "refund %d", k);
	}
	cr_assert_eq(account("merchant_available", "usd"), 6);
	assert_verify_ok();
	/* the rest returns the rest: 3190 − 6 = 3184 */
	must(REFUND, "re_last", "ch_j", 4990, "jpy", rbt);
	cr_assert_eq(bt_int(rbt, BT_AMOUNT), -3184);
	cr_assert_eq(account("fx", "usd"), 0);
	cr_assert_eq(account("fx", "jpy"), 0);
	assert_verify_ok();
}

Test(ledger_fx, refund_failure_reverses_exactly_what_the_refund_booked)
{
	char bt[ID_MAX], rbt[ID_MAX], fbt[ID_MAX];
	charge("ch_k", 12340, "kwd", bt);
	must(REFUND, "re_1", "ch_k", 5000, "kwd", rbt);
	must(REFUND_FAIL, "re_1", NULL, 5000, "kwd", fbt);
	assert_bt(fbt, 1627, 0, "usd", "3.2531");
	cr_assert_eq(account("fx", "kwd"), -12340);
	cr_assert_eq(account("fx", "usd"), 4014);
	/* a failure must mirror its refund: another amount is refused */
	must(REFUND, "re_2", "ch_k", 100, "kwd", NULL); /* round(32.531) = 33 */
	cr_assert_eq(step(REFUND_FAIL, "re_2", NULL, 99, "kwd", NULL), LEDGER_ERR_INVALID);
	/* then the whole rest: round(12340 × 0.32531) − 33 = 3981 */
	must(REFUND, "re_3", "ch_k", 12240, "kwd", rbt);
	cr_assert_eq(bt_int(rbt, BT_AMOUNT), -3981);
	cr_assert_eq(account("fx", "usd"), 0);
	cr_assert_eq(account("fx", "kwd"), 0);
	assert_verify_ok();
}

Test(ledger_fx, an_unconverted_charge_refunds_as_before)
{
	char bt[ID_MAX], rbt[ID_MAX];
	charge("ch_u", 2000, "usd", bt);
	must(REFUND, "re_1", "ch_u", 500, "usd", rbt);
	assert_bt(rbt, -500, 0, "usd", "null");
	cr_assert_eq(account("fx", "usd"), 0);
	assert_verify_ok();
}

/* ---- for disputes ---- */

struct conv {
	const char *charge;
	int64_t amount, out;
	char currency[8];
	struct fx_rate rate;
	int rc;
};

static int conv_fn(struct db *db, void *p)
{
	struct conv *c = p;
	c->rc = ledger_convert_like_charge(db, M1, c->charge, c->amount, &c->out, c->currency,
					   &c->rate);
	return 0;
}

static struct conv convert(const char *charge_id, int64_t amount)
{
	struct conv c;
	memset(&c, 0, sizeof(c));
	c.charge = charge_id;
	c.amount = amount;
	c.out = -12345; /* must stay untouched on failure */
	cr_assert_eq(store_read(s, NULL, conv_fn, &c), 0);
	return c;
}

Test(ledger_fx, convert_like_charge_uses_the_recorded_rate)
{
	charge("ch_e", 1999, "eur", NULL);
	charge("ch_u", 2000, "usd", NULL);
	struct conv c = convert("ch_e", 1000); /* 10.00 eur × 1.0823 = 10.823 usd → 1082 */
	cr_assert_eq(c.rc, 0);
	cr_assert_eq(c.out, 1082);
	cr_assert_str_eq(c.currency, "usd");
	cr_assert_str_eq(c.rate.base, "eur");
	cr_assert_str_eq(c.rate.quote, "usd");
	cr_assert_eq(c.rate.rate_e12, INT64_C(1082300000000));
	c = convert("ch_e", -1000); /* symmetric */
	cr_assert_eq(c.out, -1082);
	c = convert("ch_e", 1999); /* the whole charge: exactly its settlement amount */
	cr_assert_eq(c.out, 2164);
	c = convert("ch_u", 700); /* not converted: identity */
	cr_assert_eq(c.rc, 0);
	cr_assert_eq(c.out, 700);
	cr_assert_str_eq(c.currency, "usd");
	cr_assert_eq(c.rate.rate_e12, FX_RATE_SCALE);
	c = convert("ch_nope", 700);
	cr_assert_eq(c.rc, DB_NOTFOUND);
	cr_assert_eq(c.out, -12345);
	c = convert("ch_e", LEDGER_AMOUNT_MAX + 1);
	cr_assert_eq(c.rc, LEDGER_ERR_OVERFLOW);
}

/* ---- verify ---- */

Test(ledger_fx, verify_reports_the_fx_balances_and_catches_a_wrong_rate)
{
	char bt[ID_MAX], text[4096];
	charge("ch_e", 1999, "eur", bt);
	charge("ch_k", 12340, "kwd", NULL);
	cr_assert_eq(verify(text, sizeof(text)), 0, "%s", text);
	cr_assert_not_null(strstr(text, "fx absorbs: acct_1: eur -1999, kwd -12340, usd +6178"),
			   "%s", text);
	/* a recorded rate that does not produce the booked amount */
	must(EXEC,
	     "UPDATE balance_transactions SET fx_rate_e12 = 1083000000000 WHERE fx_base = 'eur'",
	     NULL, 0, NULL, NULL);
	cr_assert_gt(verify(text, sizeof(text)), 0);
	cr_assert_not_null(strstr(text, "not the conversion of its presentment amount"), "%s",
			   text);
}

Test(ledger_fx, verify_catches_an_unexplained_fx_entry)
{
	char text[4096];
	charge("ch_e", 1999, "eur", NULL);
	/* a balanced posting through fx that no conversion recorded */
	must(EXEC,
	     "INSERT INTO journal_txns (merchant_id, id, kind, source, created, entries) VALUES"
	     " ('acct_1', 'jtx_x', 'adjust', 'x', 1,"
	     " '[[\"fx\",\"usd\",5],[\"fees\",\"usd\",-5]]')",
	     NULL, 0, NULL, NULL);
	cr_assert_gt(verify(text, sizeof(text)), 0);
	cr_assert_not_null(strstr(text, "fx account that the recorded conversions do not explain"),
			   "%s", text);
}
