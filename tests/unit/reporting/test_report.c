/*
 * The reports' arithmetic and text: amounts in major units by each currency's exponent (integer
 * only, INT64_MIN included), UTC times, CSV quoting, the report types' columns, and the CSVs
 * computed on a real SQLite store from balance transactions written here: exact text, the
 * balance identity ending = starting + activity + payouts, filters, columns in the order asked,
 * the interval's bounds, and other merchants' rows left out.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "reporting/report.h"
#include "store/store.h"

static char dir[256];
static struct store *s;

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/tender-unit-reporting-XXXXXX");
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

static char *fmt(int64_t v, const char *cur)
{
	static char out[64];
	cr_assert_eq(report_amount_format(v, cur, out, sizeof(out)), 0);
	return out;
}

Test(report_format, amounts_by_exponent)
{
	cr_assert_str_eq(fmt(1234, "usd"), "12.34");
	cr_assert_str_eq(fmt(-5, "usd"), "-0.05");
	cr_assert_str_eq(fmt(0, "usd"), "0.00");
	cr_assert_str_eq(fmt(100, "eur"), "1.00");
	cr_assert_str_eq(fmt(1234, "jpy"), "1234");
	cr_assert_str_eq(fmt(-1234, "jpy"), "-1234");
	cr_assert_str_eq(fmt(1234, "kwd"), "1.234");
	cr_assert_str_eq(fmt(-1, "kwd"), "-0.001");
	cr_assert_str_eq(fmt(INT64_MAX, "usd"), "92233720368547758.07");
	cr_assert_str_eq(fmt(INT64_MIN, "usd"), "-92233720368547758.08");
	cr_assert_str_eq(fmt(INT64_MIN, "jpy"), "-9223372036854775808");
	char small[4];
	cr_assert_eq(report_amount_format(1234, "usd", small, sizeof(small)), -1);
	cr_assert_eq(report_amount_format(1, "xyz", small, sizeof(small)), -1);
}

Test(report_format, times_and_csv)
{
	char t[32];
	cr_assert_eq(report_time_format(1700000000, t, sizeof(t)), 0);
	cr_assert_str_eq(t, "2023-11-14 22:13:20");
	cr_assert_eq(report_time_format(0, t, sizeof(t)), 0);
	cr_assert_str_eq(t, "1970-01-01 00:00:00");
	struct buf b;
	buf_init(&b, 1024);
	report_csv_field(&b, "plain");
	buf_putc(&b, '|');
	report_csv_field(&b, "a,b");
	buf_putc(&b, '|');
	report_csv_field(&b, "say \"hi\"");
	buf_putc(&b, '|');
	report_csv_field(&b, "two\nlines\x01");
	buf_putc(&b, '|');
	report_csv_field(&b, "bell\x07");
	cr_assert_str_eq(buf_cstr(&b), "plain|\"a,b\"|\"say \"\"hi\"\"\"|\"two\nlines \"|bell ");
	buf_release(&b);
}

Test(report_types, table)
{
	const struct report_type *t = report_type_find("balance.summary.1");
	cr_assert_not_null(t);
	cr_assert_str_eq(t->name, "Balance summary");
	cr_assert(report_column_known(t, "net_amount"));
	cr_assert_not(report_column_known(t, "gross"));
	cr_assert_null(report_type_find("balance.summary.2"));
	cr_assert_null(report_type_find(NULL));
	size_t n = 0;
	while (report_type_at(n))
		n++;
	cr_assert_eq(n, 6);
	for (size_t i = 0; i < n; i++) {
		const struct report_type *x = report_type_at(i);
		for (int k = 0; x->defaults[k]; k++)
			cr_assert(report_column_known(x, x->defaults[k]), "%s: %s", x->id,
				  x->defaults[k]);
	}
	/* zones through ICU: fixed ones, and one with daylight saving time on both sides of a
	 * change (America/New_York: EST −5 h until 2024-03-10 07:00 UTC, EDT −4 h from then) */
	struct {
		const char *tz;
		int64_t t;
		int32_t off;
	} zones[] = {
	    {"Etc/UTC", 1700000000, 0},
	    {"UTC", 1700000000, 0},
	    {"Etc/GMT+5", 1700000000, -5 * 3600},
	    {"Etc/GMT-14", 1700000000, 14 * 3600},
	    {"America/New_York", 1710053999, -5 * 3600},
	    {"America/New_York", 1710054000, -4 * 3600},
	    {"Europe/Paris", 1720000000, 2 * 3600},
	    {"Europe/Paris", 1700000000, 3600},
	    {"Asia/Kolkata", 1700000000, 19800},
	};
	for (size_t i = 0; i < sizeof(zones) / sizeof(zones[0]); i++) {
		struct report_zone *z = NULL;
		int32_t off = 1;
		cr_assert_eq(report_zone_open(zones[i].tz, &z), 0, "%s", zones[i].tz);
		cr_assert_eq(report_zone_offset(z, zones[i].t, &off), 0);
		cr_assert_eq(off, zones[i].off, "%s at %lld: %d", zones[i].tz,
			     (long long)zones[i].t, off);
		report_zone_close(z);
	}
	struct report_zone *bad = NULL;
	cr_assert_eq(report_zone_open("Etc/GMT+13", &bad), -1);
	cr_assert_eq(report_zone_open("Mars/Olympus_Mons", &bad), -1);
	cr_assert_eq(report_zone_open("America/New_York\xc3\xa9", &bad), -1);
	cr_assert_eq(report_zone_open("", &bad), -1);
	cr_assert_null(bad);
	cr_assert(report_timezone_supported("America/New_York"));
	cr_assert_not(report_timezone_supported("Nowhere/Town"));
	cr_assert_not(report_timezone_supported(NULL));
}

/* ---- on a store ---- */

#define T0 INT64_C(1700000000)
#define M1 "acct_1"
#define M2 "acct_2"

static const char SQL_BT[] =
    "INSERT INTO balance_transactions (merchant_id, id, created, type, reporting_category,"
    " source, amount, fee, net, currency, status, available_on, description, journal_txn)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'available', $11, $12, 'jt')";

struct bt {
	const char *merchant, *id;
	int64_t created;
	const char *type, *category, *source;
	int64_t amount, fee;
	const char *currency, *description;
};

static const struct bt BTS[] = {
    {M1, "txn_1", T0, "charge", "charge", "ch_1", 10000, 320, "usd", "first"},
    {M1, "txn_2", T0 + 100, "charge", "charge", "ch_2", 5000, 175, "usd", "order \"42\", two"},
    {M1, "txn_3", T0 + 200, "refund", "refund", "re_1", -1500, 0, "usd", NULL},
    {M1, "txn_4", T0 + 300, "payout", "payout", "po_1", -3000, 0, "usd", "STRIPE PAYOUT"},
    {M1, "txn_5", T0 + 400, "charge", "charge", "ch_3", 1234, 66, "jpy", NULL},
    {M1, "txn_6", T0 + 1000, "charge", "charge", "ch_4", 999, 59, "usd", "after"},
    {M2, "txn_7", T0 + 100, "charge", "charge", "ch_9", 777777, 0, "usd", "another's"},
};

static int seed_fn(struct db *db, void *p)
{
	(void)p;
	for (size_t i = 0; i < sizeof(BTS) / sizeof(BTS[0]); i++) {
		const struct bt *b = &BTS[i];
		struct db_stmt *st = db_prepare(db, SQL_BT);
		if (!st)
			return DB_ERR;
		db_bind_text(st, 1, b->merchant, -1);
		db_bind_text(st, 2, b->id, -1);
		db_bind_int64(st, 3, b->created);
		db_bind_text(st, 4, b->type, -1);
		db_bind_text(st, 5, b->category, -1);
		db_bind_text(st, 6, b->source, -1);
		db_bind_int64(st, 7, b->amount);
		db_bind_int64(st, 8, b->fee);
		db_bind_int64(st, 9, b->amount - b->fee);
		db_bind_text(st, 10, b->currency, -1);
		db_bind_int64(st, 11, b->created + 86400);
		db_bind_text(st, 12, b->description, -1);
		if (db_step_done(st) != DB_OK)
			return DB_ERR;
	}
	return 0;
}

struct run_ctx {
	const struct report_type *t;
	const struct report_params *p;
	struct buf out;
	int rc;
	int64_t start, end;
};

static int run_fn(struct db *db, void *p)
{
	struct run_ctx *c = p;
	buf_reset(&c->out);
	c->rc = report_compute(db, M1, c->t, c->p, &c->out);
	if (report_data_available(db, M1, T0 + 5000, &c->start, &c->end) != DB_OK)
		return DB_ERR;
	return 0;
}

static char *run(const char *type, const struct report_params *p, int expect_rc)
{
	static char text[8192];
	struct run_ctx c = {report_type_find(type), p, {0}, 0, 0, 0};
	buf_init(&c.out, REPORT_BYTES_MAX);
	cr_assert_eq(store_read(s, M1, run_fn, &c), 0);
	cr_assert_eq(c.rc, expect_rc, "%s: %d", type, c.rc);
	cr_assert_eq(c.start, T0 - T0 % 86400);
	cr_assert_eq(c.end, T0 + 5000);
	snprintf(text, sizeof(text), "%s", c.out.len ? buf_cstr(&c.out) : "");
	buf_release(&c.out);
	return text;
}

TestSuite(report_store, .init = setup, .fini = teardown);

Test(report_store, balance_summary_reconciles)
{
	cr_assert_eq(store_write(s, M1, seed_fn, NULL), 0);
	struct report_params p = {.interval_start = T0 + 50, .interval_end = T0 + 500};
	/* usd: starting 96.80 (txn_1), activity 50.00 - 1.75 - 15.00, payouts -30.00; jpy alone */
	cr_assert_str_eq(run("balance.summary.1", &p, REPORT_OK),
			 "category,description,net_amount,currency\r\n"
			 "starting_balance,Starting balance,0,jpy\r\n"
			 "activity_gross,Activity before fees,1234,jpy\r\n"
			 "activity_fee,Less fees,-66,jpy\r\n"
			 "activity,Net balance change from activity,1168,jpy\r\n"
			 "payouts,Total payouts,0,jpy\r\n"
			 "ending_balance,Ending balance,1168,jpy\r\n"
			 "starting_balance,Starting balance,96.80,usd\r\n"
			 "activity_gross,Activity before fees,35.00,usd\r\n"
			 "activity_fee,Less fees,-1.75,usd\r\n"
			 "activity,Net balance change from activity,33.25,usd\r\n"
			 "payouts,Total payouts,-30.00,usd\r\n"
			 "ending_balance,Ending balance,100.05,usd\r\n");
	p.currency = "usd";
	p.columns[0] = "currency";
	p.columns[1] = "net_amount";
	p.ncolumns = 2;
	char *t = run("balance.summary.1", &p, REPORT_OK);
	cr_assert(strncmp(t, "currency,net_amount\r\nusd,96.80\r\n", 32) == 0, "%s", t);
}

Test(report_store, activity_and_payouts)
{
	cr_assert_eq(store_write(s, M1, seed_fn, NULL), 0);
	struct report_params p = {.interval_start = T0, .interval_end = T0 + 1000};
	cr_assert_str_eq(
	    run("balance_change_from_activity.itemized.1", &p, REPORT_OK),
	    "balance_transaction_id,created_utc,available_on_utc,currency,gross,fee,net,"
	    "reporting_category,description\r\n"
	    "txn_1,2023-11-14 22:13:20,2023-11-15 22:13:20,usd,100.00,3.20,96.80,charge,first\r\n"
	    "txn_2,2023-11-14 22:15:00,2023-11-15 22:15:00,usd,50.00,1.75,48.25,charge,"
	    "\"order \"\"42\"\", two\"\r\n"
	    "txn_3,2023-11-14 22:16:40,2023-11-15 22:16:40,usd,-15.00,0.00,-15.00,refund,\r\n"
	    "txn_5,2023-11-14 22:20:00,2023-11-15 22:20:00,jpy,1234,66,1168,charge,\r\n");
	cr_assert_str_eq(run("balance_change_from_activity.summary.1", &p, REPORT_OK),
			 "reporting_category,currency,count,gross,fee,net\r\n"
			 "charge,jpy,1,1234,66,1168\r\n"
			 "charge,usd,2,150.00,4.95,145.05\r\n"
			 "refund,usd,1,-15.00,0.00,-15.00\r\n");
	p.reporting_category = "refund";
	cr_assert_str_eq(run("balance_change_from_activity.summary.1", &p, REPORT_OK),
			 "reporting_category,currency,count,gross,fee,net\r\n"
			 "refund,usd,1,-15.00,0.00,-15.00\r\n");
	p.reporting_category = NULL;
	p.columns[0] = "payout_id";
	p.columns[1] = "net";
	p.columns[2] = "payout_status";
	p.ncolumns = 3;
	/* the timezone's columns and the _utc ones */
	struct report_params z = {.interval_start = T0, .interval_end = T0 + 1};
	cr_assert_eq(report_zone_open("Etc/GMT+5", &z.zone), 0);
	z.columns[0] = "created_utc";
	z.columns[1] = "created";
	z.columns[2] = "available_on";
	z.ncolumns = 3;
	cr_assert_str_eq(run("balance_change_from_activity.itemized.1", &z, REPORT_OK),
			 "created_utc,created,available_on\r\n"
			 "2023-11-14 22:13:20,2023-11-14 17:13:20,2023-11-15 17:13:20\r\n");
	report_zone_close(z.zone);
	/* no payouts row: the payout's own fields are empty */
	cr_assert_str_eq(run("payouts.itemized.1", &p, REPORT_OK),
			 "payout_id,net,payout_status\r\npo_1,-30.00,\r\n");
	/* an empty interval: the header alone */
	struct report_params e = {.interval_start = T0 + 2000, .interval_end = T0 + 3000};
	cr_assert_str_eq(run("payouts.itemized.1", &e, REPORT_OK),
			 "payout_id,effective_at_utc,currency,gross,fee,net,reporting_category,"
			 "payout_expected_arrival_date,payout_status,payout_description\r\n");
	/* past the output's bound: too large, not cut short */
	struct run_ctx c = {
	    report_type_find("balance_change_from_activity.itemized.1"), &p, {0}, 0, 0, 0};
	p.ncolumns = 0;
	buf_init(&c.out, 200);
	cr_assert_eq(store_read(s, M1, run_fn, &c), 0);
	cr_assert_eq(c.rc, REPORT_TOO_LARGE);
	buf_release(&c.out);
	/* a column the type does not give */
	e.columns[0] = "category";
	e.ncolumns = 1;
	run("payouts.itemized.1", &e, REPORT_BAD);
}

/* txn_1..txn_3 settled by automatic payout po_1 (txn_4 its own), arriving at T0 + 600 */
static int auto_payout_fn(struct db *db, void *p)
{
	(void)p;
	static const char *const sql[] = {
	    "INSERT INTO payouts (merchant_id, id, created, amount, currency, status, arrival_date,"
	    " balance_transaction, automatic) VALUES ('" M1 "', 'po_1', 1700000300, 13005, 'usd',"
	    " 'paid', 1700000600, 'txn_4', 1)",
	    "UPDATE balance_transactions SET payout = 'po_1' WHERE merchant_id = '" M1 "'"
	    " AND id IN ('txn_1', 'txn_2', 'txn_3', 'txn_4')",
	};
	for (size_t i = 0; i < sizeof(sql) / sizeof(sql[0]); i++)
		if (db_exec(db, sql[i]) != DB_OK)
			return DB_ERR;
	return 0;
}

Test(report_store, payout_reconciliation)
{
	cr_assert_eq(store_write(s, M1, seed_fn, NULL), 0);
	cr_assert_eq(store_write(s, M1, auto_payout_fn, NULL), 0);
	struct report_params p = {.interval_start = T0 + 600, .interval_end = T0 + 601};
	p.columns[0] = "automatic_payout_id";
	p.columns[1] = "automatic_payout_effective_at_utc";
	p.columns[2] = "balance_transaction_id";
	p.columns[3] = "net";
	p.columns[4] = "source_id";
	p.ncolumns = 5;
	/* 96.80 + 48.25 - 15.00 = 130.05, what the payout took */
	cr_assert_str_eq(run("payout_reconciliation.itemized.5", &p, REPORT_OK),
			 "automatic_payout_id,automatic_payout_effective_at_utc,"
			 "balance_transaction_id,net,source_id\r\n"
			 "po_1,2023-11-14 22:23:20,txn_1,96.80,ch_1\r\n"
			 "po_1,2023-11-14 22:23:20,txn_2,48.25,ch_2\r\n"
			 "po_1,2023-11-14 22:23:20,txn_3,-15.00,re_1\r\n");
	p.ncolumns = 0;
	cr_assert_str_eq(run("payout_reconciliation.summary.1", &p, REPORT_OK),
			 "reporting_category,currency,count,gross,fee,net\r\n"
			 "charge,usd,2,150.00,4.95,145.05\r\n"
			 "refund,usd,1,-15.00,0.00,-15.00\r\n");
	/* the interval is the payout's arrival: before it, nothing */
	p.interval_start = T0;
	p.interval_end = T0 + 600;
	cr_assert_str_eq(run("payout_reconciliation.summary.1", &p, REPORT_OK),
			 "reporting_category,currency,count,gross,fee,net\r\n");
}
