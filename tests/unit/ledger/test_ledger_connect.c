/*
 * Connect movements on a real SQLite store: both merchants' journals balance on their own,
 * connect_clearing nets to zero between them, the balance transactions carry the amounts and
 * buckets Stripe shows, refusals write nothing, and ledger_verify reports a transfer whose
 * other half is missing.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/ledger.h"
#include "ledger/ledger_connect.h"
#include "ledger/ledger_reserve.h"
#include "store/store.h"
#include "verify/verify.h"
#include "../support/store_fixture.h"

static char dir[256];
static struct store *s;

static void setup(void)
{
	s = fixture_store_open(dir, sizeof(dir), "lconnect");
}

static void teardown(void)
{
	fixture_store_close(s, dir);
}

TestSuite(ledger_connect, .init = setup, .fini = teardown);

#define T0 INT64_C(1700000000)
#define P "acct_platform"
#define A "acct_connected"

static int64_t q_int(const char *sql, const char *a, const char *b)
{
	return fixture_q_int(s, sql, a, b);
}

static int64_t account(const char *merchant, const char *acct)
{
	return q_int("SELECT COALESCE(SUM(amount), 0) FROM journal_entries WHERE merchant_id = $1"
		     " AND account = $2",
		     merchant, acct);
}

/* what GET /v1/balance shows of a merchant's status */
static int64_t shown(const char *merchant, const char *status)
{
	return q_int("SELECT COALESCE(SUM(net), 0) FROM balance_transactions WHERE merchant_id = $1"
		     " AND status = $2",
		     merchant, status);
}

enum op { TRANSFER, REVERSAL, DIRECT_FEE, FEE_REFUND };

struct mv {
	enum op op;
	struct ledger_transfer t;
	int64_t amount;
	const struct ledger_back *back; /* a reversal's transfer (NULL: unconverted) */
	char bt1[ID_MAX], bt2[ID_MAX], bt3[ID_MAX];
	int rc;
};

static int mv_fn(struct db *db, void *p)
{
	struct mv *m = p;
	const struct ledger_bucket avail = {.pending = false};
	switch (m->op) {
	case TRANSFER:
		m->rc = ledger_transfer(db, &m->t, m->bt1, m->bt2, m->bt3);
		break;
	case REVERSAL:
		m->rc = ledger_transfer_reversal(db, P, A, "trr_1", "pyr_1", m->amount, "usd",
						 m->back, NULL, T0, m->bt1, m->bt2);
		break;
	case DIRECT_FEE:
		m->rc = ledger_application_fee_direct(db, P, A, "fee_9", m->amount, "usd", &avail,
						      T0, m->bt1, m->bt2);
		break;
	case FEE_REFUND:
		m->rc = ledger_application_fee_refund(db, P, A, "fr_1", m->amount, "usd", NULL, T0,
						      m->bt1, m->bt2);
		break;
	}
	return m->rc == DB_OK ? 0 : -1;
}

static int run(struct mv *m)
{
	m->rc = 0;
	store_write(s, P, mv_fn, m);
	return m->rc;
}

static struct ledger_transfer transfer(int64_t amount, int64_t fee, bool pending)
{
	return (struct ledger_transfer){
	    .platform = P,
	    .destination = A,
	    .transfer_id = "tr_1",
	    .destination_payment = "py_1",
	    .currency = "usd",
	    .amount = amount,
	    .fee = fee,
	    .fee_id = fee ? "fee_1" : NULL,
	    .bucket = {.pending = pending, .available_on = T0 + 172800},
	    .now = T0,
	};
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

Test(ledger_connect, a_pending_transfer_with_its_fee_balances_each_merchant)
{
	struct mv m = {.op = TRANSFER, .t = transfer(10000, 1230, true)};
	cr_assert_eq(run(&m), DB_OK);
	/* the platform: 10000 left its pending funds, 1230 came back */
	cr_assert_eq(account(P, LEDGER_ACCT_MERCHANT_PENDING), 10000 - 1230);
	cr_assert_eq(account(P, LEDGER_ACCT_CONNECT_CLEARING), -10000 + 1230);
	cr_assert_eq(shown(P, "pending"), -10000 + 1230);
	/* the connected account: 10000 in, 1230 out, in one balance transaction */
	cr_assert_eq(account(A, LEDGER_ACCT_MERCHANT_PENDING), -(10000 - 1230));
	cr_assert_eq(account(A, LEDGER_ACCT_CONNECT_CLEARING), 10000 - 1230);
	cr_assert_eq(shown(A, "pending"), 10000 - 1230);
	cr_assert_eq(q_int("SELECT COUNT(*) FROM balance_transactions WHERE merchant_id = $1"
			   " AND id = $2 AND type = 'payment' AND amount = 10000 AND fee = 1230"
			   " AND net = 8770 AND status = 'pending' AND available_on = 1700172800"
			   " AND source = 'py_1' AND reporting_category = 'charge'",
			   A, m.bt2),
		     1);
	cr_assert_eq(q_int("SELECT COUNT(*) FROM balance_transactions WHERE merchant_id = $1"
			   " AND id = $2 AND type = 'application_fee' AND amount = 1230"
			   " AND reporting_category = 'platform_earning'",
			   P, m.bt3),
		     1);
	cr_assert_eq(q_int("SELECT COALESCE(SUM(amount), 0) FROM journal_entries"
			   " WHERE account = 'connect_clearing'",
			   NULL, NULL),
		     0, "what left one merchant arrived at the other");
}

Test(ledger_connect, reversal_and_fee_refund_move_available_funds_back)
{
	struct mv m = {.op = TRANSFER, .t = transfer(3000, 0, false)};
	cr_assert_eq(run(&m), DB_OK);
	cr_assert_eq(shown(P, "available"), -3000);
	cr_assert_eq(shown(A, "available"), 3000);
	cr_assert_eq(m.bt3[0], '\0', "no fee, no fee balance transaction");
	m.op = REVERSAL;
	m.amount = 1000;
	cr_assert_eq(run(&m), DB_OK);
	cr_assert_eq(shown(P, "available"), -2000);
	cr_assert_eq(shown(A, "available"), 2000);
	cr_assert_eq(q_int("SELECT COUNT(*) FROM balance_transactions WHERE merchant_id = $1"
			   " AND id = $2 AND type = 'transfer_refund' AND amount = 1000"
			   " AND reporting_category = 'transfer_reversal'",
			   P, m.bt1),
		     1);
	m.op = DIRECT_FEE;
	m.amount = 300;
	cr_assert_eq(run(&m), DB_OK);
	cr_assert_eq(shown(A, "available"), 1700);
	cr_assert_eq(shown(P, "available"), -1700);
	m.op = FEE_REFUND;
	m.amount = 100;
	cr_assert_eq(run(&m), DB_OK);
	cr_assert_eq(shown(A, "available"), 1800);
	cr_assert_eq(shown(P, "available"), -1800);
	cr_assert_eq(q_int("SELECT COALESCE(SUM(amount), 0) FROM journal_entries"
			   " WHERE account = 'connect_clearing'",
			   NULL, NULL),
		     0);
}

Test(ledger_connect, refusals_write_nothing)
{
	struct mv m = {.op = TRANSFER, .t = transfer(1000, 1001, false)};
	cr_assert_eq(run(&m), LEDGER_ERR_INVALID, "a fee above the amount");
	m.t = transfer(0, 0, false);
	cr_assert_eq(run(&m), LEDGER_ERR_INVALID);
	m.t = transfer(LEDGER_AMOUNT_MAX + 1, 0, false);
	cr_assert_eq(run(&m), LEDGER_ERR_OVERFLOW);
	m.t = transfer(500, 0, false);
	m.t.destination = P;
	cr_assert_eq(run(&m), LEDGER_ERR_INVALID, "a transfer to itself");
	m.t = transfer(500, 10, false);
	m.t.fee_id = NULL;
	cr_assert_eq(run(&m), LEDGER_ERR_INVALID, "a fee without its id");
	m.op = REVERSAL;
	m.amount = -5;
	cr_assert_eq(run(&m), LEDGER_ERR_INVALID);
	cr_assert_eq(q_int("SELECT COUNT(*) FROM journal_txns", NULL, NULL), 0);
	cr_assert_eq(q_int("SELECT COUNT(*) FROM balance_transactions", NULL, NULL), 0);
}

static int insert_transfer_row(struct db *db, void *p)
{
	const char *dbt = p;
	struct db_stmt *st = db_prepare(
	    db, "INSERT INTO transfers (merchant_id, id, created, amount, currency, destination,"
		" destination_payment, balance_transaction, destination_balance_transaction)"
		" SELECT $1, 'tr_1', 1700000000, 500, 'usd', $2, 'py_1', b.id, $3"
		" FROM balance_transactions b WHERE b.merchant_id = $1 AND b.source = 'tr_1'");
	db_bind_text(st, 1, P, -1);
	db_bind_text(st, 2, A, -1);
	db_bind_text(st, 3, dbt, -1);
	return db_step_done(st) == DB_OK ? 0 : -1;
}

Test(ledger_connect, verify_holds_a_transfer_to_both_of_its_halves)
{
	struct mv m = {.op = TRANSFER, .t = transfer(500, 0, false)};
	cr_assert_eq(run(&m), DB_OK);
	struct buf text;
	buf_init(&text, 1u << 20);
	cr_assert_eq(store_write(s, P, insert_transfer_row, m.bt2), 0);
	cr_assert_eq(verify_failures(&text), 0, "%s", buf_cstr(&text));
	/* a transfer row naming a destination balance transaction that is not there */
	cr_assert_eq(store_write(s, P, insert_transfer_row, (void *)"txn_missing"), -1,
		     "the id is taken: the row stays as it was");
	cr_assert_eq(
	    fixture_exec(s, P,
			 "UPDATE transfers SET destination_balance_transaction = 'txn_missing'"),
	    0);
	cr_assert_gt(verify_failures(&text), 0);
	cr_assert_not_null(strstr(buf_cstr(&text), "transfer without both"), "%s", buf_cstr(&text));
	buf_release(&text);
}

/* A converted charge's amounts in its funds' currency: the whole capture is what it booked,
 * a part is converted once at the recorded rate, and nothing converts without that rate. */
Test(ledger_connect, bucket_amount_converts_at_the_recorded_rate)
{
	struct ledger_bucket same = {.currency = "usd", .amount = 5000};
	int64_t v = -1;
	cr_assert_eq(ledger_bucket_amount(&same, "usd", 5000, 1234, &v), DB_OK);
	cr_assert_eq(v, 1234);
	cr_assert_eq(ledger_bucket_amount(&same, "usd", 5000, 5001, &v), LEDGER_ERR_INVALID);
	cr_assert_eq(ledger_bucket_amount(&same, "usd", 5000, -1, &v), LEDGER_ERR_INVALID);

	/* 100.00 eur captured at 1.1642: 11642 cents booked */
	struct ledger_bucket eur = {.currency = "usd", .amount = 11642, .converted = true};
	cr_assert_eq(fx_rate_init(&eur.rate, "eur", "usd", INT64_C(1164200000000), T0), 0);
	cr_assert_eq(ledger_bucket_amount(&eur, "eur", 10000, 10000, &v), DB_OK);
	cr_assert_eq(v, 11642);
	cr_assert_eq(ledger_bucket_amount(&eur, "eur", 10000, 4000, &v), DB_OK);
	cr_assert_eq(v, 4657); /* 46.568 usd, rounded once, half away from zero */
	cr_assert_eq(ledger_bucket_amount(&eur, "eur", 10000, 1, &v), DB_OK);
	cr_assert_eq(v, 1);
	cr_assert_eq(ledger_bucket_amount(&eur, "eur", 10000, 0, &v), DB_OK);
	cr_assert_eq(v, 0);
	/* another presentment currency than the rate's, or no rate at all: refused */
	cr_assert_eq(ledger_bucket_amount(&eur, "gbp", 10000, 10, &v), LEDGER_ERR_INVALID);
	struct ledger_bucket norate = {.currency = "usd", .amount = 11642};
	cr_assert_eq(ledger_bucket_amount(&norate, "eur", 10000, 10, &v), LEDGER_ERR_INVALID);
}

/* ---- a connected account settling in another currency (ledger_connect.h) ---- */

struct conv {
	struct ledger_transfer t;
	const char *rev_id, *pyr_id;
	int64_t amount;
	struct ledger_back back;
	char bt1[ID_MAX], bt2[ID_MAX], bt3[ID_MAX];
	int rc;
};

static int conv_transfer_fn(struct db *db, void *p)
{
	struct conv *c = p;
	c->rc = ledger_transfer(db, &c->t, c->bt1, c->bt2, c->bt3);
	return c->rc == DB_OK ? 0 : -1;
}

static int conv_reverse_fn(struct db *db, void *p)
{
	struct conv *c = p;
	c->rc = ledger_transfer_reversal(db, P, A, c->rev_id, c->pyr_id, c->amount, "usd", &c->back,
					 NULL, T0, c->bt1, c->bt2);
	return c->rc == DB_OK ? 0 : -1;
}

static int64_t bt_amount(const char *merchant, const char *id)
{
	return q_int("SELECT amount FROM balance_transactions WHERE merchant_id = $1 AND id = $2",
		     merchant, id);
}

Test(ledger_connect, a_transfer_arrives_converted_and_reversals_take_back_at_its_rate)
{
	char err[128];
	const char rates[] = "usd,eur,0.92,2023-01-01\n";
	struct fx_table *fx = fx_table_load_csv(rates, sizeof(rates) - 1, err, sizeof(err));
	cr_assert_not_null(fx, "%s", err);
	struct conv c = {.t = transfer(10001, 0, false)};
	c.t.settle_currency = "eur";
	c.t.fx = fx;
	store_write(s, P, conv_transfer_fn, &c);
	cr_assert_eq(c.rc, DB_OK);
	/* 100.01 usd × 0.92 = 92.0092 eur: 9201 cents, rounded once; the platform pays usd */
	char pay[ID_MAX];
	memcpy(pay, c.bt2, ID_MAX);
	cr_assert_eq(bt_amount(A, pay), 9201);
	cr_assert_eq(bt_amount(P, c.bt1), -10001);
	cr_assert_eq(q_int("SELECT COUNT(*) FROM balance_transactions WHERE merchant_id = $1"
			   " AND id = $2 AND currency = 'eur' AND exchange_rate = '0.92'"
			   " AND presentment_amount = 10001 AND presentment_currency = 'usd'"
			   " AND charge_id = 'py_1'",
			   A, pay),
		     1);
	cr_assert_eq(shown(A, "available"), 9201);
	/* three reversals, rounded cumulatively: 3066 (3066.36), 3067 (6132.72 → 6133), and the
	 * rest exactly what is left of what arrived */
	static const int64_t parts[] = {3333, 3333, 3335}, expect[] = {3066, 3067, 3068};
	static const char *const revs[] = {"trr_a", "trr_b", "trr_c"}, *const pyrs[] = {"pyr_a",
											"pyr_b",
											"pyr_c"};
	int64_t before = 0, taken = 0;
	for (int i = 0; i < 3; i++) {
		c.rev_id = revs[i];
		c.pyr_id = pyrs[i];
		c.amount = parts[i];
		c.back = (struct ledger_back){.payment_bt = pay,
					      .payment_id = "py_1",
					      .total = 10001,
					      .before = before,
					      .before_settled = taken};
		store_write(s, P, conv_reverse_fn, &c);
		cr_assert_eq(c.rc, DB_OK);
		cr_assert_eq(bt_amount(A, c.bt2), -expect[i], "reversal %d", i);
		cr_assert_eq(bt_amount(P, c.bt1), parts[i]);
		before += parts[i];
		taken += expect[i];
	}
	cr_assert_eq(shown(A, "available"), 0, "all that arrived went back");
	cr_assert_eq(shown(P, "available"), 0);
	/* nothing more than the transfer goes back */
	c.rev_id = "trr_d";
	c.pyr_id = "pyr_d";
	c.amount = 1;
	c.back.before = 10001;
	c.back.before_settled = 9201;
	store_write(s, P, conv_reverse_fn, &c);
	cr_assert_eq(c.rc, LEDGER_ERR_INVALID);
	/* each merchant's journal balances per currency, connect_clearing nets to zero in usd, and
	 * the fx account holds exactly what the recorded conversions imply */
	struct buf text;
	buf_init(&text, 1u << 20);
	cr_assert_eq(verify_failures(&text), 0, "%s", buf_cstr(&text));
	cr_assert_eq(q_int("SELECT COALESCE(SUM(amount), 0) FROM journal_entries WHERE merchant_id"
			   " = $1 AND account = 'fx'",
			   A, NULL),
		     0, "a fully reversed transfer leaves nothing on fx (in either currency)");
	buf_release(&text);
	/* no rate into the account's currency: refused, nothing written */
	struct conv n = {.t = transfer(500, 0, false)};
	n.t.settle_currency = "jpy";
	n.t.fx = fx;
	n.t.transfer_id = "tr_2";
	n.t.destination_payment = "py_2";
	store_write(s, P, conv_transfer_fn, &n);
	cr_assert_eq(n.rc, LEDGER_ERR_NO_RATE);
	fx_table_free(fx);
}

static int reserve_set_fn(struct db *db, void *p)
{
	(void)p;
	return ledger_reserve_set(db, A, 1000, 30, T0 - 1) == DB_OK ? 0 : -1;
}

Test(ledger_connect, a_destination_payment_is_held_by_the_accounts_reserve_only_when_asked)
{
	cr_assert_eq(store_write(s, P, reserve_set_fn, NULL), 0);
	/* a plain transfer: the reserve does not touch it */
	struct mv m = {.op = TRANSFER, .t = transfer(5000, 0, false)};
	cr_assert_eq(run(&m), DB_OK);
	cr_assert_eq(account(A, LEDGER_ACCT_MERCHANT_RESERVE), 0);
	/* a destination charge's pending payment of 10000 with a fee of 1230: 10 % of the gross
	 * (1000) held from its net, pending with it, then available with it */
	m = (struct mv){.op = TRANSFER, .t = transfer(10000, 1230, true)};
	m.t.transfer_id = "tr_2";
	m.t.destination_payment = "py_2";
	m.t.fee_id = "fee_2";
	m.t.reserve = true;
	cr_assert_eq(run(&m), DB_OK);
	cr_assert_eq(account(A, LEDGER_ACCT_MERCHANT_RESERVE), -1000);
	cr_assert_eq(shown(A, "pending"), 10000 - 1230 - 1000);
	cr_assert_eq(q_int("SELECT COUNT(*) FROM reserve_holds WHERE merchant_id = $1 AND charge ="
			   " 'py_2' AND charge_balance_transaction = $2 AND amount = 1000"
			   " AND currency = 'usd' AND release_at = 1700000000 + 30 * 86400",
			   A, m.bt2),
		     1);
	cr_assert_eq(q_int("SELECT COUNT(*) FROM balance_transactions WHERE merchant_id = $1"
			   " AND type = 'reserved_funds' AND source = 'py_2' AND amount = -1000"
			   " AND status = 'pending' AND available_on = 1700172800",
			   A, NULL),
		     1);
	/* a payment available at once: its hold is too (one move, as a charge's) */
	m = (struct mv){.op = TRANSFER, .t = transfer(2000, 0, false)};
	m.t.transfer_id = "tr_3";
	m.t.destination_payment = "py_3";
	m.t.reserve = true;
	cr_assert_eq(run(&m), DB_OK);
	cr_assert_eq(account(A, LEDGER_ACCT_MERCHANT_RESERVE), -1200);
	cr_assert_eq(shown(A, "available"), 5000 + 2000 - 200);
	cr_assert_eq(q_int("SELECT COUNT(*) FROM balance_transactions WHERE merchant_id = $1"
			   " AND type = 'reserved_funds' AND source = 'py_3' AND amount = -200"
			   " AND status = 'available'",
			   A, NULL),
		     1);
}
