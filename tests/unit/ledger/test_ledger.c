/*
 * The ledger on a real SQLite store: fees, available_on, postings refused before anything is
 * written, the movements of a payment's life keeping the journal balanced account by account,
 * balance = Σ balance transactions, funds made available exactly once, and the rendered objects
 * against Stripe's OpenAPI spec (when the validator is present).
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ledger/ledger.h"
#include "store/store.h"
#include "verify/verify.h"
#include "../support/store_fixture.h"

static char dir[256];
static struct store *s;

static void setup(void)
{
	s = fixture_store_open(dir, sizeof(dir), "ledger");
}

static void teardown(void)
{
	fixture_store_close(s, dir);
}

TestSuite(ledger, .init = setup, .fini = teardown);

static const struct ledger_pricing PRICING = {290, 30, "usd", NULL, NULL, NULL};
#define T0 INT64_C(1700000000) /* 2023-11-14T22:13:20Z */
#define M1 "acct_1"

/* ---- small helpers: one SQL value, one verify run, one rendering ---- */

static int64_t q_int(const char *sql, const char *a, const char *b)
{
	return fixture_q_int(s, sql, a, b);
}

static const char SQL_ACCOUNT[] = "SELECT COALESCE(SUM(amount), 0) FROM journal_entries"
				  " WHERE merchant_id = $1 AND account = $2";
static int64_t account(const char *merchant, const char *acct)
{
	return q_int(SQL_ACCOUNT, merchant, acct);
}

static const char SQL_NET_BY_STATUS[] = "SELECT COALESCE(SUM(net), 0) FROM balance_transactions"
					" WHERE merchant_id = $1 AND status = $2";
static const char SQL_TXN_COUNT[] = "SELECT COUNT(*) FROM journal_txns WHERE merchant_id = $1";
static const char SQL_ENTRY_COUNT[] = "SELECT COUNT(*) FROM journal_entries";
static const char SQL_BT_AVAILABLE_ON[] =
    "SELECT available_on FROM balance_transactions WHERE merchant_id = $1 AND id = $2";
static const char SQL_BT_STATUS_AVAILABLE[] =
    "SELECT COUNT(*) FROM balance_transactions WHERE merchant_id = $1 AND id = $2"
    " AND status = 'available'";

/* buf_cstr() of a buffer nothing was appended to is not NUL-terminated (core/buf.c). */
static const char *text_of(struct buf *b)
{
	return b->len ? buf_cstr(b) : "";
}

static int verify_fn(struct db *db, void *p)
{
	return ledger_verify(db, p);
}

/* Runs ledger_verify; returns the failure count, the report text in *ret_text (free it). */
static int verify_failures(char **ret_text)
{
	struct verify_report rep;
	memset(&rep, 0, sizeof(rep));
	buf_init(&rep.text, 1u << 20);
	cr_assert_eq(store_read(s, NULL, verify_fn, &rep), 0, "a check could not run: %s",
		     text_of(&rep.text));
	cr_assert_gt(rep.checks, 10);
	int failures = rep.failures;
	*ret_text = strdup(text_of(&rep.text));
	buf_release(&rep.text);
	return failures;
}

static void assert_verify_ok(void)
{
	char *text;
	int failures = verify_failures(&text);
	cr_assert_eq(failures, 0, "%s", text);
	free(text);
}

struct render {
	const char *merchant, *id;
	int balance;
	int rc;
	struct buf b;
};

static int render_fn(struct db *db, void *p)
{
	struct render *x = p;
	struct json j;
	json_init(&j, &x->b);
	x->rc = x->balance ? ledger_balance_render(db, x->merchant, 0, &j)
			   : ledger_balance_txn_render(db, x->merchant, x->id, &j);
	return 0;
}

/* Renders a balance (id NULL) or a balance transaction and parses it. */
static json_t *render(const char *merchant, const char *id, char **ret_text)
{
	struct render x = {merchant, id, id == NULL, 0, {0}};
	buf_init(&x.b, 1u << 20);
	cr_assert_eq(store_read(s, NULL, render_fn, &x), 0);
	cr_assert_eq(x.rc, DB_OK);
	json_error_t err;
	json_t *doc = json_loads(text_of(&x.b), 0, &err);
	cr_assert_not_null(doc, "invalid JSON %s: %s", text_of(&x.b), err.text);
	if (ret_text)
		*ret_text = strdup(text_of(&x.b));
	buf_release(&x.b);
	return doc;
}

static int64_t jint(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	cr_assert(json_is_integer(v), "%s is not an integer", key);
	return json_integer_value(v);
}

static const char *jstr(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	cr_assert(json_is_string(v), "%s is not a string", key);
	return json_string_value(v);
}

/* The amount of currency in the balance's "available" or "pending" list (0 when absent). */
static int64_t balance_amount(json_t *bal, const char *list, const char *currency)
{
	json_t *arr = json_object_get(bal, list), *item;
	size_t i;
	cr_assert(json_is_array(arr));
	json_array_foreach(arr, i, item)
	{
		if (strcmp(jstr(item, "currency"), currency) == 0) {
			int64_t amount = jint(item, "amount");
			cr_assert_eq(jint(json_object_get(item, "source_types"), "card"), amount);
			return amount;
		}
	}
	return 0;
}

#define VALIDATOR "/work/shared/tools/stripe-openapi-validate.js"

/* Checks one rendered object against Stripe's spec with --complete (every field present).
 * Skipped where the validator or node is not installed; the field tests below still run. */
static void assert_stripe_shape(const char *json_text, const char *schema)
{
	if (access(VALIDATOR, R_OK) != 0 || system("node --version > /dev/null 2>&1") != 0)
		return;
	char path[300], cmd[700];
	snprintf(path, sizeof(path), "%s/obj.json", dir);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs(json_text, f);
	fclose(f);
	snprintf(cmd, sizeof(cmd),
		 "node " VALIDATOR " --complete --strict %s < %s > %s/val.txt 2>&1", schema, path,
		 dir);
	int rc = system(cmd);
	char out[4096] = "";
	snprintf(path, sizeof(path), "%s/val.txt", dir);
	f = fopen(path, "r");
	if (f) {
		size_t n = fread(out, 1, sizeof(out) - 1, f);
		out[n] = '\0';
		fclose(f);
	}
	cr_assert_eq(rc, 0, "%s does not match Stripe's %s: %s", json_text, schema, out);
}

/* ---- a payment's life, in one write transaction per step ---- */

enum step { AUTH, RELEASE, CAPTURE, SALE, REFUND, REFUND_FAIL };

struct op {
	enum step step;
	const char *merchant, *source, *currency;
	int64_t amount, now;
	int rc;
	char bt[ID_MAX];
};

static int op_fn(struct db *db, void *p)
{
	struct op *o = p;
	const char *m = o->merchant ? o->merchant : M1;
	const char *cur = o->currency ? o->currency : "usd";
	int64_t now = o->now ? o->now : T0;
	/* these tests settle in the presentment currency (conversions: test_ledger_fx.c) */
	struct ledger_pricing pricing = PRICING;
	pricing.settlement_currency = cur;
	switch (o->step) {
	case AUTH:
		o->rc = ledger_authorize(db, m, o->source, o->amount, cur, now);
		break;
	case RELEASE:
		o->rc = ledger_release(db, m, o->source, o->amount, cur, now);
		break;
	case CAPTURE:
		o->rc = ledger_capture(db, m, o->source, o->amount, cur, &pricing, now, o->bt);
		break;
	case SALE:
		o->rc =
		    ledger_sale_as(db, m, o->source, o->amount, cur, &pricing, now, NULL, o->bt);
		break;
	case REFUND:
		o->rc = ledger_refund(db, m, o->source, "ch_x", o->amount, cur, now, o->bt);
		break;
	case REFUND_FAIL:
		o->rc = ledger_refund_failure(db, m, o->source, o->amount, cur, now, o->bt);
		break;
	}
	return o->rc; /* an error rolls the step back, as the payments module does */
}

static void run(struct op *o)
{
	int rc = store_write(s, NULL, op_fn, o);
	cr_assert_eq(rc, o->rc);
}

static void must(enum step step, const char *source, int64_t amount, char *ret_bt)
{
	struct op o = {.step = step, .source = source, .amount = amount};
	run(&o);
	cr_assert_eq(o.rc, 0, "step %d on %s failed: %d", step, source, o.rc);
	if (ret_bt)
		memcpy(ret_bt, o.bt, ID_MAX);
}

/* ---- fees and dates ---- */

Test(ledger, fees_round_half_up_and_never_exceed_the_amount)
{
	int64_t fee = -1;
	cr_assert_eq(ledger_fee(1000, &PRICING, &fee), 0);
	cr_assert_eq(fee, 59); /* 29 + 30 */
	cr_assert_eq(ledger_fee(50, &PRICING, &fee), 0);
	cr_assert_eq(fee, 31); /* 1.45 → 1, + 30 */
	cr_assert_eq(ledger_fee(20, &PRICING, &fee), 0);
	cr_assert_eq(fee, 20, "capped at the amount: net 0, never negative");
	cr_assert_eq(ledger_fee(2000, &PRICING, &fee), 0);
	cr_assert_eq(fee, 88);
	const struct ledger_pricing half = {50, 0, "usd", NULL, NULL, NULL}; /* 0.5 % */
	cr_assert_eq(ledger_fee(100, &half, &fee), 0);
	cr_assert_eq(fee, 1, "0.5 rounds up");
	cr_assert_eq(ledger_fee(99, &half, &fee), 0);
	cr_assert_eq(fee, 0, "0.495 rounds down");
	cr_assert_eq(ledger_fee(LEDGER_AMOUNT_MAX, &PRICING, &fee), 0);
	cr_assert_eq(fee, LEDGER_AMOUNT_MAX / 10000 * 290 + 30);
}

Test(ledger, fee_inputs_out_of_range_are_refused)
{
	int64_t fee = -7;
	cr_assert_eq(ledger_fee(0, &PRICING, &fee), LEDGER_ERR_INVALID);
	cr_assert_eq(ledger_fee(-5, &PRICING, &fee), LEDGER_ERR_INVALID);
	cr_assert_eq(ledger_fee(INT64_MAX, &PRICING, &fee), LEDGER_ERR_OVERFLOW);
	cr_assert_eq(ledger_fee(LEDGER_AMOUNT_MAX + 1, &PRICING, &fee), LEDGER_ERR_OVERFLOW);
	const struct ledger_pricing bad1 = {10001, 30, "usd", NULL, NULL, NULL},
				    bad2 = {290, -1, "usd", NULL, NULL, NULL};
	cr_assert_eq(ledger_fee(1000, &bad1, &fee), LEDGER_ERR_INVALID);
	cr_assert_eq(ledger_fee(1000, &bad2, &fee), LEDGER_ERR_INVALID);
	cr_assert_eq(fee, -7, "output untouched on error");
}

/* The fee table of ledger.c (Stripe's US prices), each number by hand. */
static int64_t fee_of(int64_t amount, const char *method, const char *country, const char *settle,
		      bool converted, const struct fx_rate *rate)
{
	struct ledger_pricing p = {290, 30, settle, NULL, method, country};
	int64_t fee = -1;
	cr_assert_eq(ledger_fee_converted(amount, &p, converted, rate, &fee), 0, "%s %lld", method,
		     (long long)amount);
	return fee;
}

Test(ledger, fee_table_prices_each_method_as_stripe_does)
{
	/* cards: 2.9 % + 30; a JP card for a usd merchant + 1.5 %; converted + 1 % */
	cr_assert_eq(fee_of(10000, "card", "US", "usd", false, NULL), 320);
	cr_assert_eq(fee_of(10000, NULL, NULL, "usd", false, NULL), 320, "no method: a card");
	cr_assert_eq(fee_of(10000, "card", "JP", "usd", false, NULL), 470); /* 4.4 % = 440 + 30 */
	cr_assert_eq(fee_of(10000, "card", "US", "usd", true, NULL), 420);  /* 3.9 % = 390 + 30 */
	cr_assert_eq(fee_of(10000, "card", "DE", "usd", true, NULL), 570);  /* 5.4 % = 540 + 30 */
	cr_assert_eq(fee_of(1999, "card", "JP", "usd", false, NULL), 118);  /* 87.956 → 88 + 30 */
	cr_assert_eq(fee_of(10000, "card", "DE", "eur", false, NULL), 320,
		     "EEA card, eur merchant");
	cr_assert_eq(fee_of(10000, "card", "US", "eur", false, NULL), 470);
	cr_assert_eq(fee_of(10000, "card", "BR", "chf", false, NULL), 320, "no home country known");
	/* Terminal 2.7 % + 5, international too */
	cr_assert_eq(fee_of(10000, "card_present", "US", "usd", false, NULL), 275);
	cr_assert_eq(fee_of(10000, "card_present", "JP", "usd", false, NULL), 425);
	/* ACH 0.8 % capped at 500: 62500 is where the cap starts */
	cr_assert_eq(fee_of(10000, "us_bank_account", NULL, "usd", false, NULL), 80);
	cr_assert_eq(fee_of(62500, "us_bank_account", NULL, "usd", false, NULL), 500);
	cr_assert_eq(fee_of(1000000, "us_bank_account", NULL, "usd", false, NULL), 500);
	cr_assert_eq(fee_of(1000000, "ach_debit", NULL, "usd", false, NULL), 500);
	cr_assert_eq(fee_of(1063, "us_bank_account", NULL, "usd", false, NULL), 9); /* 8.504 → 9 */
	/* buy now, pay later */
	cr_assert_eq(fee_of(10000, "klarna", NULL, "usd", false, NULL), 629); /* 599 + 30 */
	cr_assert_eq(fee_of(10000, "affirm", NULL, "usd", false, NULL), 630); /* 600 + 30 */
	cr_assert_eq(fee_of(10000, "afterpay_clearpay", NULL, "usd", false, NULL),
		     630); /* the same */
	/* bank transfers 0.5 % capped at 500 */
	cr_assert_eq(fee_of(10000, "customer_balance", NULL, "usd", false, NULL), 50);
	cr_assert_eq(fee_of(500000, "customer_balance", NULL, "usd", false, NULL), 500);
	/* euro prices: as they are for a eur merchant */
	cr_assert_eq(fee_of(10000, "sepa_debit", NULL, "eur", false, NULL), 35);
	cr_assert_eq(fee_of(10000, "ideal", NULL, "eur", false, NULL), 29);
	cr_assert_eq(fee_of(10000, "bancontact", NULL, "eur", false, NULL), 35);
	/* for a usd merchant converted at the charge's rate, + 1 % conversion: 100.00 eur at 1.0823
	 * = 10823 cents; 35 eur cents = 37.8805 → 38; 108.23 → 108; 146 */
	struct fx_rate r;
	cr_assert_eq(fx_rate_init(&r, "eur", "usd", INT64_C(1082300000000), 0), 0);
	cr_assert_eq(fee_of(10823, "sepa_debit", NULL, "usd", true, &r), 146);
	/* 29 eur cents = 31.3867 → 31; + 108 */
	cr_assert_eq(fee_of(10823, "ideal", NULL, "usd", true, &r), 139);
	/* a capped line with a conversion: the cap holds the method's part only (0.5 % of
	 * 200000 = 1000 → 500), the 1 % comes on top: 500 + 2000 */
	cr_assert_eq(fee_of(200000, "customer_balance", NULL, "usd", true, NULL), 2500);
	/* never more than the charge */
	cr_assert_eq(fee_of(20, "klarna", NULL, "usd", false, NULL), 20);
	cr_assert_eq(fee_of(3, "card_present", NULL, "usd", false, NULL), 3);
}

Test(ledger, fee_table_refuses_what_it_cannot_price)
{
	int64_t fee = -7;
	struct ledger_pricing p = {290, 30, "usd", NULL, "paypal", NULL};
	cr_assert_eq(ledger_fee(1000, &p, &fee), LEDGER_ERR_INVALID, "a method it does not list");
	p.method = "sepa_debit"; /* a euro fee for a usd merchant without a rate */
	cr_assert_eq(ledger_fee(1000, &p, &fee), LEDGER_ERR_NO_RATE);
	p.method = "card";
	cr_assert_eq(ledger_fee_converted(INT64_C(900000000000), &p, true, NULL, &fee), 0);
	cr_assert_eq(fee, INT64_C(900000000000) / 10000 * 390 + 30, "large amounts: no overflow");
	cr_assert_eq(ledger_fee_converted(LEDGER_AMOUNT_MAX + 1, &p, true, NULL, &fee),
		     LEDGER_ERR_OVERFLOW);
}

Test(ledger, available_on_is_two_days_later_at_the_next_utc_midnight)
{
	int64_t t = 0;
	cr_assert_eq(ledger_available_on(0, &t), 0);
	cr_assert_eq(t, 172800, "already midnight: stays");
	cr_assert_eq(ledger_available_on(1, &t), 0);
	cr_assert_eq(t, 3 * 86400);
	cr_assert_eq(ledger_available_on(T0, &t), 0);
	cr_assert_eq(t, 1700179200); /* 2023-11-17T00:00:00Z */
	cr_assert_eq(ledger_available_on(INT64_MAX - 100, &t), LEDGER_ERR_OVERFLOW);
	cr_assert_eq(ledger_available_on(-1, &t), LEDGER_ERR_OVERFLOW);
}

Test(ledger, available_after_a_connected_accounts_delay_days)
{
	int64_t t = 0;
	cr_assert_eq(ledger_available_after(1, 14, &t), 0);
	cr_assert_eq(t, 15 * 86400, "14 days, then the next midnight");
	cr_assert_eq(ledger_available_after(0, 31, &t), 0);
	cr_assert_eq(t, 31 * 86400);
	cr_assert_eq(ledger_available_after(0, 1, &t), LEDGER_ERR_INVALID, "below Tender's 2 days");
	cr_assert_eq(ledger_available_after(0, 32, &t), LEDGER_ERR_INVALID, "beyond Stripe's 31");
	cr_assert_eq(ledger_available_after(INT64_MAX - 100, 2, &t), LEDGER_ERR_OVERFLOW);
}

/* ---- postings refused before anything is written ---- */

struct post {
	const struct ledger_entry *e;
	size_t n;
	int rc;
};

static int post_fn(struct db *db, void *p)
{
	struct post *x = p;
	x->rc = ledger_post(db, M1, "test", "src_1", x->e, x->n, T0, NULL);
	return 0; /* commit whatever was written: nothing must have been */
}

static int post_rc(const struct ledger_entry *e, size_t n)
{
	struct post x = {e, n, 0};
	cr_assert_eq(store_write(s, NULL, post_fn, &x), 0);
	return x.rc;
}

Test(ledger, unbalanced_or_malformed_postings_are_refused)
{
	const struct ledger_entry unbalanced[] = {{"merchant_pending", "usd", -100},
						  {"fees", "usd", 99}};
	cr_assert_eq(post_rc(unbalanced, 2), LEDGER_ERR_UNBALANCED);
	/* +100 usd and -100 eur sum to zero only if one forgets currencies */
	const struct ledger_entry cross[] = {{"acquirer_receivable", "usd", 100},
					     {"merchant_pending", "eur", -100}};
	cr_assert_eq(post_rc(cross, 2), LEDGER_ERR_UNBALANCED);
	const struct ledger_entry unknown[] = {{"petty_cash", "usd", 100},
					       {"merchant_pending", "usd", -100}};
	cr_assert_eq(post_rc(unknown, 2), LEDGER_ERR_INVALID);
	const struct ledger_entry bad_cur[] = {{"fees", "zzz", 100},
					       {"merchant_pending", "zzz", -100}};
	cr_assert_eq(post_rc(bad_cur, 2), LEDGER_ERR_INVALID);
	const struct ledger_entry lone[] = {{"fees", "usd", 0}, {"merchant_pending", "usd", 0}};
	cr_assert_eq(post_rc(lone, 2), LEDGER_ERR_INVALID, "nothing to post");
	cr_assert_eq(post_rc(unbalanced, 0), LEDGER_ERR_INVALID);
	cr_assert_eq(q_int(SQL_TXN_COUNT, M1, NULL), 0, "a refused posting writes nothing");
	cr_assert_eq(q_int(SQL_ENTRY_COUNT, NULL, NULL), 0);

	/* balanced in each of two currencies (what an FX conversion will post) is fine */
	const struct ledger_entry fx[] = {
	    {"acquirer_receivable", "eur", 100},
	    {"fx", "eur", -100},
	    {"fx", "usd", 108},
	    {"merchant_pending", "usd", -108},
	};
	cr_assert_eq(post_rc(fx, 4), 0);
	cr_assert_eq(q_int(SQL_TXN_COUNT, M1, NULL), 1);
	cr_assert_eq(q_int(SQL_ENTRY_COUNT, NULL, NULL), 4);
}

Test(ledger, overflowing_amounts_are_refused)
{
	const struct ledger_entry huge[] = {
	    {"acquirer_receivable", "usd", INT64_MAX},
	    {"acquirer_receivable", "usd", INT64_MAX},
	    {"merchant_pending", "usd", -INT64_MAX},
	    {"merchant_pending", "usd", -INT64_MAX},
	};
	cr_assert_eq(post_rc(huge, 4), LEDGER_ERR_OVERFLOW);
	const struct ledger_entry min[] = {{"fees", "usd", INT64_MIN}, {"fx", "usd", INT64_MIN}};
	cr_assert_eq(post_rc(min, 2), LEDGER_ERR_OVERFLOW);
	const struct ledger_entry over[] = {{"fees", "usd", LEDGER_AMOUNT_MAX + 1},
					    {"fx", "usd", -LEDGER_AMOUNT_MAX - 1}};
	cr_assert_eq(post_rc(over, 2), LEDGER_ERR_OVERFLOW);

	struct op o = {.step = AUTH, .source = "ch_big", .amount = INT64_MAX};
	run(&o);
	cr_assert_eq(o.rc, LEDGER_ERR_OVERFLOW);
	o = (struct op){.step = CAPTURE, .source = "ch_big", .amount = INT64_MAX};
	run(&o);
	cr_assert_eq(o.rc, LEDGER_ERR_OVERFLOW);
	o = (struct op){.step = REFUND, .source = "re_big", .amount = INT64_MAX};
	run(&o);
	cr_assert_eq(o.rc, LEDGER_ERR_OVERFLOW);
	o = (struct op){.step = AUTH, .source = "ch_neg", .amount = INT64_MIN};
	run(&o);
	cr_assert_eq(o.rc, LEDGER_ERR_INVALID);
	o = (struct op){.step = RELEASE, .source = "ch_zero", .amount = 0};
	run(&o);
	cr_assert_eq(o.rc, LEDGER_ERR_INVALID);
	cr_assert_eq(q_int(SQL_TXN_COUNT, M1, NULL), 0);

	/* the largest allowed amount goes through, and the books still balance */
	must(AUTH, "ch_max", LEDGER_AMOUNT_MAX, NULL);
	must(CAPTURE, "ch_max", LEDGER_AMOUNT_MAX, NULL);
	assert_verify_ok();
}

/* ---- the movements keep every account right ---- */

Test(ledger, authorize_then_release_leaves_nothing_held)
{
	must(AUTH, "ch_1", 5000, NULL);
	cr_assert_eq(account(M1, "cardholder_holds"), 5000);
	cr_assert_eq(account(M1, "authorized"), -5000);
	must(RELEASE, "ch_1", 5000, NULL);
	cr_assert_eq(account(M1, "cardholder_holds"), 0);
	cr_assert_eq(account(M1, "authorized"), 0);
	cr_assert_eq(account(M1, "merchant_pending"), 0);
	assert_verify_ok();
	json_t *bal = render(M1, NULL, NULL);
	cr_assert_eq(json_array_size(json_object_get(bal, "pending")), 0, "no balance txn");
	json_decref(bal);
}

Test(ledger, partial_capture_releases_the_rest)
{
	must(AUTH, "ch_1", 5000, NULL);
	must(CAPTURE, "ch_1", 3000, NULL);
	must(RELEASE, "ch_1", 2000, NULL);
	int64_t fee = 0;
	cr_assert_eq(ledger_fee(3000, &PRICING, &fee), 0);
	cr_assert_eq(fee, 117);
	cr_assert_eq(account(M1, "cardholder_holds"), 0);
	cr_assert_eq(account(M1, "authorized"), 0);
	cr_assert_eq(account(M1, "acquirer_receivable"), 3000);
	cr_assert_eq(account(M1, "merchant_pending"), -(3000 - 117));
	cr_assert_eq(account(M1, "fees"), -117);
	assert_verify_ok();
}

static const char SQL_TXNS_OF[] =
    "SELECT COUNT(*) FROM journal_txns WHERE merchant_id = 'acct_1' AND source = $1 AND kind = $2";
static const char SQL_ENTRIES_OF[] =
    "SELECT COUNT(*) FROM journal_entries e JOIN journal_txns t ON t.merchant_id = e.merchant_id"
    " AND t.id = e.txn_id WHERE t.merchant_id = 'acct_1' AND t.source = $1"
    " AND e.account = $2";

static const char SQL_SALE_ROW[] =
    "SELECT COUNT(*) FROM journal_txns WHERE merchant_id = 'acct_1' AND source = $1"
    " AND kind = 'sale' AND entries = '[[\"acquirer_receivable\",\"usd\",10000],"
    "[\"merchant_pending\",\"usd\",-10000],[\"merchant_pending\",\"usd\",320],"
    "[\"fees\",\"usd\",-320]]' AND (SELECT type FROM sqlite_master"
    " WHERE name = 'journal_entries') = 'view'";

/* An automatic capture is one movement: the same money as authorize + capture, without a hold
 * that the capture would release in the same transaction. */
Test(ledger, a_sale_books_a_capture_without_its_hold)
{
	char bt_sale[ID_MAX], bt_capture[ID_MAX];
	must(SALE, "ch_s", 10000, bt_sale);
	must(AUTH, "ch_c", 10000, NULL);
	must(CAPTURE, "ch_c", 10000, bt_capture);
	cr_assert_eq(q_int(SQL_TXNS_OF, "ch_s", "sale"), 1);
	cr_assert_eq(q_int(SQL_TXNS_OF, "ch_s", "authorize"), 0);
	cr_assert_eq(q_int(SQL_TXNS_OF, "ch_s", "capture"), 0);
	cr_assert_eq(q_int(SQL_ENTRIES_OF, "ch_s", "cardholder_holds"), 0);
	cr_assert_eq(q_int(SQL_ENTRIES_OF, "ch_s", "authorized"), 0);
	cr_assert_eq(q_int(SQL_ENTRIES_OF, "ch_s", "acquirer_receivable"), 1);
	/* on SQLite the sale's four entries are its journal transaction's own column, in posting
	 * order, and journal_entries is a view over it (migration 0026) */
	cr_assert_eq(q_int(SQL_SALE_ROW, "ch_s", NULL), 1);
	cr_assert_eq(q_int(SQL_ENTRIES_OF, "ch_c", "cardholder_holds"), 2, "held, then released");
	/* both moved the same money: twice one payment's */
	cr_assert_eq(account(M1, "acquirer_receivable"), 20000);
	cr_assert_eq(account(M1, "merchant_pending"), -2 * (10000 - 320));
	cr_assert_eq(account(M1, "fees"), -640);
	cr_assert_eq(account(M1, "cardholder_holds"), 0);
	cr_assert_eq(account(M1, "authorized"), 0);
	/* and their balance transactions say the same */
	json_t *a = render(M1, bt_sale, NULL), *b = render(M1, bt_capture, NULL);
	cr_assert_str_eq(jstr(a, "type"), "charge");
	cr_assert_str_eq(jstr(a, "source"), "ch_s");
	cr_assert_eq(jint(a, "amount"), jint(b, "amount"));
	cr_assert_eq(jint(a, "fee"), jint(b, "fee"));
	cr_assert_eq(jint(a, "net"), jint(b, "net"));
	cr_assert_str_eq(jstr(a, "status"), "pending");
	json_decref(a);
	json_decref(b);
	/* a sale is refunded like any capture */
	must(REFUND, "re_s", 4000, NULL);
	assert_verify_ok();
}

Test(ledger, capture_refund_and_refund_failure_keep_the_journal_balanced)
{
	char bt_charge[ID_MAX], bt_refund[ID_MAX], bt_fail[ID_MAX];
	must(AUTH, "ch_1", 10000, NULL);
	must(CAPTURE, "ch_1", 10000, bt_charge);
	must(REFUND, "re_1", 2500, bt_refund);
	must(REFUND, "re_2", 1000, NULL);
	must(REFUND_FAIL, "re_2", 1000, bt_fail);
	cr_assert_eq(strncmp(bt_charge, "txn_", 4), 0);
	cr_assert_str_neq(bt_charge, bt_refund);
	cr_assert_eq(account(M1, "acquirer_receivable"), 10000);
	cr_assert_eq(account(M1, "acquirer_payable"), -2500);
	cr_assert_eq(account(M1, "merchant_pending"), -(10000 - 320));
	cr_assert_eq(account(M1, "merchant_available"), 2500, "refunds leave available at once");
	cr_assert_eq(account(M1, "fees"), -320);
	cr_assert_eq(account(M1, "cardholder_holds"), 0);
	assert_verify_ok();

	json_t *rf = render(M1, bt_refund, NULL);
	cr_assert_str_eq(jstr(rf, "type"), "refund");
	cr_assert_str_eq(jstr(rf, "source"), "re_1");
	cr_assert_eq(jint(rf, "amount"), -2500);
	cr_assert_eq(jint(rf, "net"), -2500);
	cr_assert_str_eq(jstr(rf, "status"), "available");
	json_decref(rf);
	json_t *ff = render(M1, bt_fail, NULL);
	cr_assert_str_eq(jstr(ff, "type"), "refund_failure");
	cr_assert_str_eq(jstr(ff, "reporting_category"), "refund_failure");
	cr_assert_eq(jint(ff, "amount"), 1000);
	json_decref(ff);
}

Test(ledger, a_failed_step_rolls_back_whole)
{
	must(AUTH, "ch_1", 1000, NULL);
	struct op o = {.step = CAPTURE, .source = "ch_1", .amount = 1000, .currency = "xx"};
	run(&o);
	cr_assert_eq(o.rc, LEDGER_ERR_INVALID);
	cr_assert_eq(q_int(SQL_TXN_COUNT, M1, NULL), 1, "only the authorization");
	assert_verify_ok();
}

/* ---- balance = Σ balance transactions; funds move once ---- */

static void assert_balance_is_sum_of_txns(const char *merchant)
{
	json_t *bal = render(merchant, NULL, NULL);
	cr_assert_eq(balance_amount(bal, "pending", "usd"),
		     q_int(SQL_NET_BY_STATUS, merchant, "pending"));
	cr_assert_eq(balance_amount(bal, "available", "usd"),
		     q_int(SQL_NET_BY_STATUS, merchant, "available"));
	/* and the journal agrees */
	cr_assert_eq(balance_amount(bal, "pending", "usd"), -account(merchant, "merchant_pending"));
	cr_assert_eq(balance_amount(bal, "available", "usd"),
		     -account(merchant, "merchant_available"));
	json_decref(bal);
}

struct avail {
	int64_t now;
	int limit, moved;
};

static int avail_fn(struct db *db, void *p)
{
	struct avail *a = p;
	a->moved = ledger_make_available(db, a->now, a->limit);
	return a->moved < 0 ? -1 : 0;
}

static int make_available(int64_t now, int limit)
{
	struct avail a = {now, limit, 0};
	cr_assert_eq(store_write(s, NULL, avail_fn, &a), 0);
	return a.moved;
}

/* the second runner in the same transaction: as if it had read the batch before the switch */
static int twice_fn(struct db *db, void *p)
{
	int *moved = p;
	int a = ledger_make_available(db, T0 + 3 * 86400, 100);
	int b = ledger_make_available(db, T0 + 3 * 86400, 100);
	if (a < 0 || b < 0)
		return -1;
	moved[0] = a;
	moved[1] = b;
	return 0;
}

Test(ledger, balance_is_the_sum_of_balance_transactions_and_funds_move_once)
{
	char bt1[ID_MAX], bt2[ID_MAX];
	must(AUTH, "ch_1", 10000, NULL);
	must(CAPTURE, "ch_1", 10000, bt1);
	must(AUTH, "ch_2", 5000, NULL);
	must(CAPTURE, "ch_2", 5000, bt2);
	must(REFUND, "re_1", 1000, NULL);
	assert_balance_is_sum_of_txns(M1);
	json_t *bal = render(M1, NULL, NULL);
	cr_assert_eq(balance_amount(bal, "pending", "usd"), 10000 - 320 + 5000 - 175);
	cr_assert_eq(balance_amount(bal, "available", "usd"), -1000);
	json_decref(bal);

	cr_assert_eq(make_available(1700179200 - 1, 100), 0, "not due before available_on");
	int moved[2] = {-1, -1};
	cr_assert_eq(store_write(s, NULL, twice_fn, moved), 0);
	cr_assert_eq(moved[0], 2, "both charges");
	cr_assert_eq(moved[1], 0, "nothing moves twice in one transaction");
	cr_assert_eq(make_available(T0 + 30 * 86400, 100), 0, "nor in the next");
	cr_assert_eq(q_int(SQL_BT_STATUS_AVAILABLE, M1, bt1), 1);
	cr_assert_eq(q_int(SQL_BT_STATUS_AVAILABLE, M1, bt2), 1);
	cr_assert_eq(q_int(SQL_BT_AVAILABLE_ON, M1, bt1), 1700179200,
		     "made available when due: available_on stays the day it was due");
	bal = render(M1, NULL, NULL);
	cr_assert_eq(balance_amount(bal, "pending", "usd"), 0);
	cr_assert_eq(balance_amount(bal, "available", "usd"), 10000 - 320 + 5000 - 175 - 1000);
	json_decref(bal);
	assert_balance_is_sum_of_txns(M1);
	assert_verify_ok();
}

struct one {
	const char *id;
	int first, second;
};

/* Two runners that both picked the same due balance transaction: only the first moves it. */
static int one_twice_fn(struct db *db, void *p)
{
	struct one *o = p;
	o->first = ledger_make_available_one(db, M1, o->id, T0);
	o->second = ledger_make_available_one(db, M1, o->id, T0);
	return o->first < 0 || o->second < 0 ? -1 : 0;
}

Test(ledger, the_conditional_update_lets_one_runner_move_the_funds)
{
	char bt[ID_MAX];
	must(AUTH, "ch_1", 1000, NULL);
	must(CAPTURE, "ch_1", 1000, bt);
	cr_assert_gt(q_int(SQL_BT_AVAILABLE_ON, M1, bt), T0, "pending: due days later");
	struct one o = {bt, -1, -1};
	cr_assert_eq(store_write(s, NULL, one_twice_fn, &o), 0);
	cr_assert_eq(o.first, 1);
	cr_assert_eq(o.second, 0, "the guard held: not moved twice");
	/* available before its day (test card 4000000000000077): available_on says when it became
	 * available, as Stripe's does, not a day still to come */
	cr_assert_eq(q_int(SQL_BT_AVAILABLE_ON, M1, bt), T0);
	struct one again = {bt, -1, -1};
	cr_assert_eq(store_write(s, NULL, one_twice_fn, &again), 0);
	cr_assert_eq(again.first, 0, "nor by a later runner");
	struct one none = {"txn_missing", -1, -1};
	cr_assert_eq(store_write(s, NULL, one_twice_fn, &none), 0);
	cr_assert_eq(none.first, 0);
	cr_assert_eq(account(M1, "merchant_available"), -941, "moved exactly once");
	cr_assert_eq(account(M1, "merchant_pending"), 0);
	assert_balance_is_sum_of_txns(M1);
	assert_verify_ok();
}

Test(ledger, make_available_is_bounded_and_the_scheduler_drains)
{
	static const char *const charges[] = {"ch_a", "ch_b", "ch_c", "ch_d", "ch_e"};
	for (int i = 0; i < 5; i++) {
		must(AUTH, charges[i], 1000 + i, NULL);
		must(CAPTURE, charges[i], 1000 + i, NULL);
	}
	must(AUTH, "ch_tiny", 20, NULL);
	must(CAPTURE, "ch_tiny", 20, NULL); /* net 0: switched, nothing to move */
	cr_assert_eq(make_available(T0 + 3 * 86400, 2), 2);
	cr_assert_eq(make_available(T0 + 3 * 86400, 0), 0);
	cr_assert_eq(ledger_scheduler_tick(s, T0 + 3 * 86400), 4);
	cr_assert_eq(ledger_scheduler_tick(s, T0 + 3 * 86400), 0);
	assert_balance_is_sum_of_txns(M1);
	assert_verify_ok();
}

Test(ledger, currencies_and_merchants_are_kept_apart)
{
	struct op o = {.step = AUTH, .source = "ch_e", .amount = 700, .currency = "eur"};
	run(&o);
	o = (struct op){.step = CAPTURE, .source = "ch_e", .amount = 700, .currency = "eur"};
	run(&o);
	cr_assert_eq(o.rc, 0);
	must(AUTH, "ch_u", 1000, NULL);
	must(CAPTURE, "ch_u", 1000, NULL);
	json_t *bal = render(M1, NULL, NULL);
	cr_assert_eq(json_array_size(json_object_get(bal, "pending")), 2);
	cr_assert_eq(json_array_size(json_object_get(bal, "available")), 2, "0 shown per currency");
	cr_assert_eq(balance_amount(bal, "pending", "eur"), 700 - 50);
	cr_assert_eq(balance_amount(bal, "pending", "usd"), 1000 - 59);
	cr_assert_eq(balance_amount(bal, "available", "eur"), 0);
	json_decref(bal);
	char *text;
	json_t *other = render("acct_2", NULL, &text);
	cr_assert_str_eq(text, "{\"object\":\"balance\",\"available\":[],\"livemode\":false,"
			       "\"pending\":[]}");
	json_decref(other);
	free(text);
	assert_verify_ok();
}

/* ---- the rendered objects ---- */

Test(ledger, balance_transaction_renders_every_stripe_field)
{
	char bt[ID_MAX], rf[ID_MAX], *text;
	must(AUTH, "ch_1", 1000, NULL);
	must(CAPTURE, "ch_1", 1000, bt);
	json_t *o = render(M1, bt, &text);
	cr_assert_str_eq(jstr(o, "id"), bt);
	cr_assert_str_eq(jstr(o, "object"), "balance_transaction");
	cr_assert_eq(jint(o, "amount"), 1000);
	cr_assert_eq(jint(o, "fee"), 59);
	cr_assert_eq(jint(o, "net"), 941);
	cr_assert_eq(jint(o, "created"), T0);
	cr_assert_eq(jint(o, "available_on"), 1700179200);
	cr_assert_str_eq(jstr(o, "currency"), "usd");
	cr_assert(json_is_null(json_object_get(o, "description")));
	cr_assert(json_is_null(json_object_get(o, "exchange_rate")));
	cr_assert_str_eq(jstr(o, "reporting_category"), "charge");
	cr_assert_str_eq(jstr(o, "source"), "ch_1");
	cr_assert_str_eq(jstr(o, "status"), "pending");
	cr_assert_str_eq(jstr(o, "type"), "charge");
	json_t *fd = json_object_get(o, "fee_details");
	cr_assert_eq(json_array_size(fd), 1);
	json_t *d = json_array_get(fd, 0);
	cr_assert_eq(jint(d, "amount"), 59);
	cr_assert(json_is_null(json_object_get(d, "application")));
	cr_assert_str_eq(jstr(d, "currency"), "usd");
	cr_assert_str_eq(jstr(d, "description"), "Stripe processing fees");
	cr_assert_str_eq(jstr(d, "type"), "stripe_fee");
	cr_assert_eq(json_object_size(o), 15, "exactly Stripe's 15 fields");
	assert_stripe_shape(text, "balance_transaction");
	json_decref(o);
	free(text);

	must(REFUND, "re_1", 400, rf);
	o = render(M1, rf, &text);
	cr_assert_eq(json_array_size(json_object_get(o, "fee_details")), 0);
	cr_assert_str_eq(jstr(o, "description"), "REFUND FOR CHARGE");
	assert_stripe_shape(text, "balance_transaction");
	json_decref(o);
	free(text);

	o = render(M1, NULL, &text);
	assert_stripe_shape(text, "balance");
	json_decref(o);
	free(text);
}

struct missing {
	int rc;
};

static int missing_fn(struct db *db, void *p)
{
	struct missing *x = p;
	struct buf b;
	struct json j;
	buf_init(&b, 4096);
	json_init(&j, &b);
	x->rc = ledger_balance_txn_render(db, M1, "txn_nope", &j);
	buf_release(&b);
	return 0;
}

Test(ledger, unknown_balance_transaction_is_not_found)
{
	struct missing x = {0};
	store_read(s, NULL, missing_fn, &x);
	cr_assert_eq(x.rc, DB_NOTFOUND);
}

/* ---- pricing ---- */

static const char SQL_MERCHANT[] =
    "INSERT INTO merchants (id, name, settlement_currency, fee_percent_bps, fee_fixed_minor,"
    " created) VALUES ('acct_p', 'p', 'eur', 150, 25, 1)";

struct pricing_ctx {
	const char *merchant;
	struct ledger_pricing p;
	char cur[8];
	int rc;
};

static int pricing_fn(struct db *db, void *p)
{
	struct pricing_ctx *x = p;
	x->rc = ledger_pricing_get(db, x->merchant, &x->p, x->cur);
	return 0;
}

static int merchant_fn(struct db *db, void *p)
{
	(void)p;
	return db_exec(db, SQL_MERCHANT);
}

Test(ledger, pricing_comes_from_the_merchant_row)
{
	cr_assert_eq(store_write(s, NULL, merchant_fn, NULL), 0);
	struct pricing_ctx x = {.merchant = "acct_p"};
	store_read(s, NULL, pricing_fn, &x);
	cr_assert_eq(x.rc, 0);
	cr_assert_eq(x.p.percent_bps, 150);
	cr_assert_eq(x.p.fixed_minor, 25);
	cr_assert_str_eq(x.p.settlement_currency, "eur");
	struct pricing_ctx y = {.merchant = "acct_none"};
	store_read(s, NULL, pricing_fn, &y);
	cr_assert_eq(y.rc, DB_NOTFOUND);
}
