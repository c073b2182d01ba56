/*
 * customer_balance_apply, _preview and _unapply on a real SQLite store: a credit pays up to the
 * total, a debit is all billed, a credit invoice credits the balance, other currencies and
 * invoices of 0 apply nothing, an invoice takes the balance once and a voided one gives it back
 * once, every move is a transaction whose amounts sum to the balance, with its customer.updated
 * event; merchants do not see each other's customers.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/customer_balance.h"
#include "store/store.h"
#include "../support/store_fixture.h"

static char dir[256];
static struct store *s;

static void setup(void)
{
	s = fixture_store_open(dir, sizeof(dir), "cbal");
}

static void teardown(void)
{
	fixture_store_close(s, dir);
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
	int64_t due, applied, starting;
	int rc;
};

static int apply_fn(struct db *db, void *p)
{
	struct apply *a = p;
	struct event_origin o = {NULL, NULL, 0};
	a->applied = INT64_MIN;
	a->rc = customer_balance_apply(db, a->merchant, a->customer, a->currency, a->invoice,
				       a->due, T0, &o, &a->starting, &a->applied);
	return a->rc == 0 || a->rc == CUSTOMER_BALANCE_NO_CUSTOMER ||
		       a->rc == CUSTOMER_BALANCE_OTHER_CURRENCY
		   ? 0
		   : -1;
}

static int64_t apply_rc(const char *cus, const char *currency, const char *invoice, int64_t due,
			int want_rc, int64_t *ret_starting)
{
	struct apply a = {M1, cus, currency, invoice, due, 0, 0, 0};
	cr_assert_eq(store_write(s, NULL, apply_fn, &a), 0);
	cr_assert_eq(a.rc, want_rc);
	if (ret_starting)
		*ret_starting = a.starting;
	return a.applied;
}

static int64_t apply(const char *cus, const char *currency, const char *invoice, int64_t due)
{
	return apply_rc(cus, currency, invoice, due, 0, NULL);
}

struct unapply {
	const char *customer, *invoice;
	int64_t returned;
	int rc;
};

static int unapply_fn(struct db *db, void *p)
{
	struct unapply *u = p;
	struct event_origin o = {NULL, NULL, 0};
	u->rc = customer_balance_unapply(db, M1, u->customer, u->invoice, T0, &o, &u->returned);
	return u->rc == 0 ? 0 : -1;
}

static int64_t unapply(const char *cus, const char *invoice)
{
	struct unapply u = {cus, invoice, INT64_MIN, 0};
	cr_assert_eq(store_write(s, NULL, unapply_fn, &u), 0);
	return u.returned;
}

struct preview {
	const char *customer, *currency;
	int64_t total, starting, due;
};

static int preview_fn(struct db *db, void *p)
{
	struct preview *v = p;
	return customer_balance_preview(db, M1, v->customer, v->currency, v->total, &v->starting,
					&v->due) == DB_OK
		   ? 0
		   : -1;
}

static int64_t preview_due(const char *cus, const char *currency, int64_t total)
{
	struct preview v = {cus, currency, total, 0, 0};
	cr_assert_eq(store_read(s, NULL, preview_fn, &v), 0);
	return v.due;
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
	cr_assert_eq(preview_due("cus_2", "usd", 100), 800);
	cr_assert_eq(apply("cus_2", "usd", "in_4", 100), -700);
	cr_assert_eq(balance("cus_2"), 0);
	cr_assert_eq(txn_sum("cus_2"), -700);
	/* not on an invoice of 0 (a trial's): it waits for one that charges */
	customer("cus_3", 50, "usd");
	cr_assert_eq(apply("cus_3", "usd", "in_5", 0), 0);
	cr_assert_eq(balance("cus_3"), 50);
	cr_assert_eq(txn_count("cus_3"), 0);
	/* a debit larger than a credit invoice: what is left is due */
	cr_assert_eq(preview_due("cus_3", "usd", -20), 30);
	cr_assert_eq(apply("cus_3", "usd", "in_5b", -20), -50);
	cr_assert_eq(balance("cus_3"), 0);
}

Test(customer_balance, a_credit_invoice_credits_the_balance)
{
	/* a balance in the invoice's currency grows by the credit */
	customer("cus_4", -500, "eur");
	int64_t starting = 1;
	cr_assert_eq(apply_rc("cus_4", "eur", "in_7", -100, 0, &starting), -100);
	cr_assert_eq(starting, -500);
	cr_assert_eq(balance("cus_4"), -600);
	cr_assert_eq(
	    query("SELECT ending_balance FROM customer_balance_transactions WHERE"
		  " merchant_id = 'acct_1' AND invoice = $1 AND type = 'applied_to_invoice'",
		  "in_7", NULL)
		.v,
	    -600);
	/* a customer without a balance currency gets the invoice's */
	customer("cus_5", 0, NULL);
	cr_assert_eq(preview_due("cus_5", "usd", -700), 0);
	cr_assert_eq(apply("cus_5", "usd", "in_9", -700), -700);
	cr_assert_eq(balance("cus_5"), -700);
	cr_assert_str_eq(query("SELECT currency FROM customers WHERE merchant_id = 'acct_1' AND"
			       " id = $1",
			       "cus_5", NULL)
			     .text,
			 "usd");
	/* which the next invoice takes: 1000 - 700 */
	cr_assert_eq(preview_due("cus_5", "usd", 1000), 300);
	cr_assert_eq(apply("cus_5", "usd", "in_9b", 1000), 700);
	cr_assert_eq(balance("cus_5"), 0);
	cr_assert_eq(txn_sum("cus_5"), 0);
}

Test(customer_balance, nothing_applies_across_currencies)
{
	customer("cus_6", -500, "eur");
	int64_t starting = 1;
	cr_assert_eq(
	    apply_rc("cus_6", "usd", "in_6", 1000, CUSTOMER_BALANCE_OTHER_CURRENCY, &starting), 0);
	cr_assert_eq(starting, 0);
	cr_assert_eq(apply_rc("cus_6", "usd", "in_6b", -300, CUSTOMER_BALANCE_OTHER_CURRENCY, NULL),
		     0);
	cr_assert_eq(preview_due("cus_6", "usd", 1000), 1000);
	cr_assert_eq(apply("cus_6", "eur", "in_8", 0), 0);
	cr_assert_eq(balance("cus_6"), -500);
	cr_assert_eq(txn_count("cus_6"), 0);
	cr_assert_eq(updated_events("cus_6"), 0);
	/* a customer that does not exist (yet) has no balance to preview */
	cr_assert_eq(preview_due("cus_none", "usd", 1000), 1000);
}

Test(customer_balance, a_voided_invoice_gives_back_what_it_took_once)
{
	customer("cus_7", -500, "usd");
	cr_assert_eq(apply("cus_7", "usd", "in_20", 300), 300);
	cr_assert_eq(balance("cus_7"), -200);
	cr_assert_eq(unapply("cus_7", "in_20"), -300);
	cr_assert_eq(balance("cus_7"), -500);
	cr_assert_eq(query("SELECT ending_balance FROM customer_balance_transactions WHERE"
			   " merchant_id = 'acct_1' AND invoice = $1 AND"
			   " type = 'unapplied_from_invoice'",
			   "in_20", NULL)
			 .v,
		     -500);
	/* once */
	cr_assert_eq(unapply("cus_7", "in_20"), 0);
	cr_assert_eq(balance("cus_7"), -500);
	cr_assert_eq(txn_sum("cus_7"), 0, "applied and unapplied cancel out");
	/* an invoice that took nothing gives nothing */
	cr_assert_eq(unapply("cus_7", "in_21"), 0);
	cr_assert_eq(txn_count("cus_7"), 2);
	/* a debit that was added goes back on the balance */
	customer("cus_8", 400, "usd");
	cr_assert_eq(apply("cus_8", "usd", "in_22", 1000), -400);
	cr_assert_eq(unapply("cus_8", "in_22"), 400);
	cr_assert_eq(balance("cus_8"), 400);
}

Test(customer_balance, missing_and_other_merchants_customers)
{
	customer("cus_9", -500, "usd");
	struct apply a = {M1, "cus_nope", "usd", "in_10", 100, 0, 0, 0};
	cr_assert_eq(store_write(s, NULL, apply_fn, &a), 0);
	cr_assert_eq(a.rc, CUSTOMER_BALANCE_NO_CUSTOMER);
	struct apply b = {"acct_2", "cus_9", "usd", "in_11", 100, 0, 0, 0};
	cr_assert_eq(store_write(s, NULL, apply_fn, &b), 0);
	cr_assert_eq(b.rc, CUSTOMER_BALANCE_NO_CUSTOMER);
	cr_assert_eq(balance("cus_9"), -500);
}
