/*
 * customer_balance_apply on a real SQLite store: a credit pays up to the amount due, a debit is
 * all billed, other currencies and zero balances apply nothing, an invoice takes the balance
 * once, every move is a transaction whose amounts sum to the balance, with its customer.updated
 * event; merchants do not see each other's customers.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/customer_balance.h"
#include "store/store.h"

static char dir[256];
static struct store *s;

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/tender-unit-cbal-XXXXXX");
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

TestSuite(customer_balance, .init = setup, .fini = teardown);

#define T0 INT64_C(1700000000)
#define M1 "acct_1"

static const char SQL_CUSTOMER[] =
    "INSERT INTO customers (merchant_id, id, created, metadata, balance, currency, invoice_prefix,"
    " preferred_locales, tax_exempt, deleted) VALUES ($1, $2, 1, '{}', $3, $4, 'ABCD1234', '[]',"
    " 'none', 0)";

struct put {
	const char *merchant, *id, *currency;
	int64_t balance;
};

static int put_fn(struct db *db, void *p)
{
	struct put *c = p;
	struct db_stmt *st = db_prepare(db, SQL_CUSTOMER);
	cr_assert(st != NULL);
	db_bind_text(st, 1, c->merchant, -1);
	db_bind_text(st, 2, c->id, -1);
	db_bind_int64(st, 3, c->balance);
	db_bind_text(st, 4, c->currency, -1);
	return db_step_done(st);
}

static void customer(const char *id, int64_t balance, const char *currency)
{
	struct put c = {M1, id, currency, balance};
	cr_assert_eq(store_write(s, NULL, put_fn, &c), 0);
}

struct apply {
	const char *merchant, *customer, *currency, *invoice;
	int64_t due, applied;
	int rc;
};

static int apply_fn(struct db *db, void *p)
{
	struct apply *a = p;
	struct event_origin o = {NULL, NULL, 0};
	a->applied = INT64_MIN;
	a->rc = customer_balance_apply(db, a->merchant, a->customer, a->currency, a->invoice,
				       a->due, T0, &o, &a->applied);
	return a->rc == 0 || a->rc == CUSTOMER_BALANCE_NO_CUSTOMER ? 0 : -1;
}

static int64_t apply(const char *cus, const char *currency, const char *invoice, int64_t due)
{
	struct apply a = {M1, cus, currency, invoice, due, 0, 0};
	cr_assert_eq(store_write(s, NULL, apply_fn, &a), 0);
	cr_assert_eq(a.rc, 0);
	return a.applied;
}

struct q {
	const char *sql, *a, *b;
	int64_t v;
	char text[256];
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
	q->rc = db_step(st);
	q->v = q->rc == DB_ROW ? db_col_int64(st, 0) : 0;
	const char *t = q->rc == DB_ROW ? db_col_text(st, 0, NULL) : NULL;
	snprintf(q->text, sizeof(q->text), "%s", t ? t : "");
	db_reset(st);
	return 0;
}

static struct q query(const char *sql, const char *a, const char *b)
{
	struct q q = {sql, a, b, 0, "", 0};
	cr_assert_eq(store_read(s, NULL, q_fn, &q), 0);
	cr_assert_eq(q.rc, DB_ROW, "query failed: %s", sql);
	return q;
}

static int64_t balance(const char *cus)
{
	return query("SELECT balance FROM customers WHERE merchant_id = 'acct_1' AND id = $1", cus,
		     NULL)
	    .v;
}

static int64_t txn_count(const char *cus)
{
	return query("SELECT COUNT(*) FROM customer_balance_transactions"
		     " WHERE merchant_id = 'acct_1' AND customer = $1",
		     cus, NULL)
	    .v;
}

static int64_t txn_sum(const char *cus)
{
	return query("SELECT COALESCE(SUM(amount), 0) FROM customer_balance_transactions"
		     " WHERE merchant_id = 'acct_1' AND customer = $1",
		     cus, NULL)
	    .v;
}

static int64_t updated_events(const char *cus)
{
	return query("SELECT COUNT(*) FROM events WHERE merchant_id = 'acct_1' AND object_id = $1"
		     " AND type = 'customer.updated'",
		     cus, NULL)
	    .v;
}

Test(customer_balance, a_credit_pays_up_to_the_amount_due_once_per_invoice)
{
	customer("cus_1", -500, "usd");
	cr_assert_eq(apply("cus_1", "usd", "in_1", 300), 300);
	cr_assert_eq(balance("cus_1"), -200);
	cr_assert_eq(txn_count("cus_1"), 1);
	struct q t = query("SELECT amount FROM customer_balance_transactions WHERE merchant_id ="
			   " 'acct_1' AND invoice = $1 AND type = 'applied_to_invoice'",
			   "in_1", NULL);
	cr_assert_eq(t.v, 300);
	cr_assert_eq(query("SELECT ending_balance FROM customer_balance_transactions WHERE"
			   " merchant_id = 'acct_1' AND invoice = $1",
			   "in_1", NULL)
			 .v,
		     -200);
	cr_assert_eq(updated_events("cus_1"), 1);
	struct q prev = query("SELECT previous_attributes FROM events WHERE merchant_id = 'acct_1'"
			      " AND object_id = $1 AND type = 'customer.updated'",
			      "cus_1", NULL);
	cr_assert_str_eq(prev.text, "{\"balance\":-500}");
	/* the same invoice again: what it took before, nothing more */
	cr_assert_eq(apply("cus_1", "usd", "in_1", 300), 300);
	cr_assert_eq(balance("cus_1"), -200);
	cr_assert_eq(txn_count("cus_1"), 1);
	cr_assert_eq(updated_events("cus_1"), 1);
	/* the rest of the credit, on a larger invoice */
	cr_assert_eq(apply("cus_1", "usd", "in_2", 1000), 200);
	cr_assert_eq(balance("cus_1"), 0);
	/* nothing left */
	cr_assert_eq(apply("cus_1", "usd", "in_3", 1000), 0);
	cr_assert_eq(txn_count("cus_1"), 2);
	cr_assert_eq(txn_sum("cus_1"), 500, "the transactions take the -500 back to 0");
}

Test(customer_balance, a_debit_is_billed_whole)
{
	customer("cus_2", 700, "usd");
	cr_assert_eq(apply("cus_2", "usd", "in_4", 100), -700);
	cr_assert_eq(balance("cus_2"), 0);
	cr_assert_eq(txn_sum("cus_2"), -700);
	/* even on an invoice of 0 */
	customer("cus_3", 50, "usd");
	cr_assert_eq(apply("cus_3", "usd", "in_5", 0), -50);
	cr_assert_eq(balance("cus_3"), 0);
}

Test(customer_balance, nothing_applies_across_currencies_or_to_a_credit_invoice)
{
	customer("cus_4", -500, "eur");
	cr_assert_eq(apply("cus_4", "usd", "in_6", 1000), 0);
	cr_assert_eq(balance("cus_4"), -500);
	cr_assert_eq(apply("cus_4", "eur", "in_7", -100), 0);
	cr_assert_eq(apply("cus_4", "eur", "in_8", 0), 0);
	cr_assert_eq(balance("cus_4"), -500);
	cr_assert_eq(txn_count("cus_4"), 0);
	cr_assert_eq(updated_events("cus_4"), 0);
	customer("cus_5", 0, NULL);
	cr_assert_eq(apply("cus_5", "usd", "in_9", 1000), 0);
}

Test(customer_balance, missing_and_other_merchants_customers)
{
	customer("cus_6", -500, "usd");
	struct apply a = {M1, "cus_nope", "usd", "in_10", 100, 0, 0};
	cr_assert_eq(store_write(s, NULL, apply_fn, &a), 0);
	cr_assert_eq(a.rc, CUSTOMER_BALANCE_NO_CUSTOMER);
	struct apply b = {"acct_2", "cus_6", "usd", "in_11", 100, 0, 0};
	cr_assert_eq(store_write(s, NULL, apply_fn, &b), 0);
	cr_assert_eq(b.rc, CUSTOMER_BALANCE_NO_CUSTOMER);
	cr_assert_eq(balance("cus_6"), -500);
}
