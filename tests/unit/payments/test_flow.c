/*
 * The recorded attempt on a real SQLite store: the charge rendered before the write
 * (payment_charge_final, what create+confirm renders ahead of the single writer thread) is the
 * charge the write records, byte for byte, both as payment_record_attempt returns it and as the
 * stored row renders afterwards; and only an approved, automatically captured attempt with its
 * ids chosen ahead is rendered that way.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/json.h"
#include "ledger/ledger.h"
#include "payments/flow.h"
#include "payments/payments.h"
#include "store/store.h"

static char dir[256];
static struct store *s;

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/tender-unit-flow-XXXXXX");
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

TestSuite(flow, .init = setup, .fini = teardown);

#define M1 "acct_1"
#define T0 INT64_C(1700000000)

static const struct payment_card CARD = {
    .payment_method = "pm_0CGXtest00000000000000",
    .brand = "visa",
    .last4 = "4242",
    .funding = "credit",
    .country = "US",
    .fingerprint = "fp_abc",
    .exp_month = 12,
    .exp_year = 2034,
    .behavior = ACQ_SUCCEED,
    .billing_details = NULL,
};

static void approved(struct processor_decision *d)
{
	memset(d, 0, sizeof(*d));
	d->approved = true;
	snprintf(d->auth_code, sizeof(d->auth_code), "%s", "A1B2C3");
	d->network_status = "approved_by_network";
	d->seller_message = "Payment complete.";
	d->outcome_type = "authorized";
	d->risk_level = "normal";
	d->risk_score = 12;
	d->cvc_check = "pass";
}

static const struct ledger_pricing PRICING = {290, 30, "usd", NULL};

static struct attempt attempt_of(const struct processor_decision *d, bool capture)
{
	return (struct attempt){
	    .merchant_id = M1,
	    .amount = 2000,
	    .currency = "usd",
	    .payment_intent = "pi_0CGXtest00000000000001",
	    .customer = NULL,
	    .description = "order 7",
	    .receipt_email = "a@example.com",
	    .capture = capture,
	    .now = T0,
	    .card = &CARD,
	    .decision = d,
	    .pricing = &PRICING,
	    .client_ip = "127.0.0.1",
	    .charge_id = "ch_0CGXtest00000000000002",
	    .balance_txn_id = "txn_0CGXtest0000000000003",
	};
}

struct rec {
	struct attempt at;
	struct arena *a;
	const char *written; /* the charge as the write returned it, rendered */
	const char *stored;  /* the stored row, rendered by a read afterwards */
	int rc;
};

static int record_fn(struct db *db, void *p)
{
	struct rec *x = p;
	struct charge ch;
	x->rc = payment_record_attempt(db, x->a, &x->at, &ch);
	if (x->rc != DB_OK)
		return x->rc;
	size_t len;
	x->written = charge_json(NULL, x->a, M1, 0, &ch, &len);
	return x->written ? 0 : -1;
}

static int stored_fn(struct db *db, void *p)
{
	struct rec *x = p;
	struct buf b;
	struct json j;
	buf_init(&b, 8192);
	json_init(&j, &b);
	int rc = charge_render_by_id(db, x->a, M1, 0, x->at.charge_id, NULL, &j);
	x->stored = rc == DB_OK && !b.failed ? arena_strndup(x->a, b.data, b.len) : NULL;
	buf_release(&b);
	return rc;
}

Test(flow, the_charge_rendered_before_the_write_is_the_charge_the_write_records)
{
	struct arena a;
	arena_init(&a, 1 << 20);
	struct processor_decision d;
	approved(&d);
	struct rec x = {.at = attempt_of(&d, true), .a = &a};
	struct charge prepared, pre;
	cr_assert_eq(payment_charge_prepare(&a, &x.at, &prepared), DB_OK);
	cr_assert_eq(payment_charge_final(&a, &x.at, &prepared, &pre), DB_OK);
	size_t len;
	const char *before = charge_json(NULL, &a, M1, 0, &pre, &len);
	cr_assert_not_null(before);
	cr_assert(strstr(before, "\"balance_transaction\":\"txn_0CGXtest0000000000003\""), "%s",
		  before);
	cr_assert(strstr(before, "\"captured\":true"));
	cr_assert(strstr(before, "\"amount_captured\":2000"));

	/* the write takes the prepared charge (create+confirm) ... */
	x.at.prepared = &prepared;
	cr_assert_eq(store_write(s, M1, record_fn, &x), 0, "rc %d", x.rc);
	cr_assert_str_eq(x.written, before);
	cr_assert_eq(store_read(s, M1, stored_fn, &x), 0);
	cr_assert_str_eq(x.stored, before);
	/* ... or makes it itself from the same attempt: the same charge either way */
	struct rec y = {.at = attempt_of(&d, true), .a = &a};
	y.at.charge_id = "ch_0CGXtest00000000000004";
	y.at.balance_txn_id = "txn_0CGXtest0000000000005";
	struct charge prepared_y, pre_y;
	cr_assert_eq(payment_charge_prepare(&a, &y.at, &prepared_y), DB_OK);
	cr_assert_eq(payment_charge_final(&a, &y.at, &prepared_y, &pre_y), DB_OK);
	const char *before_y = charge_json(NULL, &a, M1, 0, &pre_y, &len);
	cr_assert_eq(store_write(s, M1, record_fn, &y), 0, "rc %d", y.rc);
	cr_assert_str_eq(y.written, before_y);
	cr_assert_eq(store_read(s, M1, stored_fn, &y), 0);
	cr_assert_str_eq(y.stored, before_y);
	arena_release(&a);
}

Test(flow, only_an_approved_automatic_capture_with_its_ids_is_rendered_ahead)
{
	struct arena a;
	arena_init(&a, 1 << 20);
	struct processor_decision d;
	approved(&d);
	struct charge ch, prep;
	struct attempt manual = attempt_of(&d, false);
	cr_assert_eq(payment_charge_prepare(&a, &manual, &prep), DB_OK);
	cr_assert_eq(payment_charge_final(&a, &manual, &prep, &ch), DB_CONFLICT);
	struct attempt no_ids = attempt_of(&d, true);
	cr_assert_eq(payment_charge_prepare(&a, &no_ids, &prep), DB_OK);
	no_ids.balance_txn_id = NULL;
	cr_assert_eq(payment_charge_final(&a, &no_ids, &prep, &ch), DB_CONFLICT);
	struct attempt other = attempt_of(&d, true);
	other.charge_id = "ch_0CGXtest00000000000009";
	cr_assert_eq(payment_charge_final(&a, &other, &prep, &ch), DB_CONFLICT,
		     "a charge prepared for another id");
	struct processor_decision declined = d;
	declined.approved = false;
	struct attempt dec = attempt_of(&declined, true);
	cr_assert_eq(payment_charge_prepare(&a, &dec, &prep), DB_OK);
	cr_assert_eq(payment_charge_final(&a, &dec, &prep, &ch), DB_CONFLICT);
	arena_release(&a);
}

struct kinds {
	const char *source;
	int64_t sale, authorize, capture, holds;
};

static int kinds_fn(struct db *db, void *p)
{
	struct kinds *k = p;
	static const char sql[] =
	    "SELECT (SELECT COUNT(*) FROM journal_txns WHERE merchant_id = $1 AND source = $2"
	    " AND kind = 'sale'), (SELECT COUNT(*) FROM journal_txns WHERE merchant_id = $1"
	    " AND source = $2 AND kind = 'authorize'), (SELECT COUNT(*) FROM journal_txns"
	    " WHERE merchant_id = $1 AND source = $2 AND kind = 'capture'), (SELECT COUNT(*)"
	    " FROM journal_entries e JOIN journal_txns t ON t.merchant_id = e.merchant_id"
	    " AND t.id = e.txn_id WHERE t.merchant_id = $1 AND t.source = $2"
	    " AND e.account = 'cardholder_holds')";
	struct db_stmt *st = db_prepare(db, sql);
	if (!st)
		return -1;
	db_bind_text(st, 1, M1, -1);
	db_bind_text(st, 2, k->source, -1);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		k->sale = db_col_int64(st, 0);
		k->authorize = db_col_int64(st, 1);
		k->capture = db_col_int64(st, 2);
		k->holds = db_col_int64(st, 3);
	}
	db_reset(st);
	return rc == DB_ROW ? 0 : -1;
}

/* Automatic capture authorizes and captures in one transaction: the ledger books one sale and
 * no hold. Manual capture books the authorization's hold, for a later capture or release. */
Test(flow, an_automatic_capture_is_one_sale_and_a_manual_one_holds_the_amount)
{
	struct arena a;
	arena_init(&a, 1 << 20);
	struct processor_decision d;
	approved(&d);
	struct rec aut = {.at = attempt_of(&d, true), .a = &a};
	cr_assert_eq(store_write(s, M1, record_fn, &aut), 0, "rc %d", aut.rc);
	struct rec man = {.at = attempt_of(&d, false), .a = &a};
	man.at.charge_id = "ch_0CGXtest00000000000006";
	man.at.balance_txn_id = NULL;
	cr_assert_eq(store_write(s, M1, record_fn, &man), 0, "rc %d", man.rc);

	struct kinds k = {.source = aut.at.charge_id};
	cr_assert_eq(store_read(s, M1, kinds_fn, &k), 0);
	cr_assert_eq(k.sale, 1);
	cr_assert_eq(k.authorize, 0);
	cr_assert_eq(k.capture, 0);
	cr_assert_eq(k.holds, 0);
	k = (struct kinds){.source = man.at.charge_id};
	cr_assert_eq(store_read(s, M1, kinds_fn, &k), 0);
	cr_assert_eq(k.sale, 0);
	cr_assert_eq(k.authorize, 1);
	cr_assert_eq(k.capture, 0);
	cr_assert_eq(k.holds, 1);
	arena_release(&a);
}
