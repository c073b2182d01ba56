/*
 * Reviews on a real SQLite store: opened once per charge, closed once (approved, refunded, …)
 * with their events, per merchant, and a charge's review read only when its outcome says
 * manual_review.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "risk/review.h"
#include "store/store.h"

static char dir[256];
static struct store *s;

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/tender-unit-review-XXXXXX");
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

TestSuite(review, .init = setup, .fini = teardown);

static const struct event_origin none = {NULL, NULL, 0};

struct op {
	const char *merchant, *id, *charge, *reason;
	int rc;
	bool open;
	char json[2048];
	char found[ID_MAX];
	const char *outcome;
	int64_t n;
};

static int open_fn(struct db *db, void *p)
{
	struct op *o = p;
	o->rc = review_open(db, o->merchant, &none, o->id, o->charge, "pi_1", "10.0.0.1", 1000);
	return o->rc == DB_OK ? 0 : -1;
}

static int close_fn(struct db *db, void *p)
{
	struct op *o = p;
	o->rc = o->id ? review_close(db, o->merchant, &none, o->id, o->reason, 2000)
		      : review_close_for_charge(db, o->merchant, &none, o->charge, o->reason, 2000);
	return 0;
}

static int render_fn(struct db *db, void *p)
{
	struct op *o = p;
	struct buf b;
	struct json j;
	buf_init(&b, sizeof(o->json));
	json_init(&j, &b);
	o->rc = review_render(db, o->merchant, false, o->id, &j, &o->open);
	snprintf(o->json, sizeof(o->json), "%.*s", (int)b.len, b.data ? b.data : "");
	buf_release(&b);
	return 0;
}

static int for_charge_fn(struct db *db, void *p)
{
	struct op *o = p;
	o->rc = review_for_charge(db, o->merchant, o->charge, o->outcome, o->found);
	return 0;
}

static int events_fn(struct db *db, void *p)
{
	struct op *o = p;
	struct db_stmt *st = db_prepare(db, "SELECT COUNT(*) FROM events WHERE merchant_id = $1"
					    " AND type = $2");
	cr_assert_not_null(st);
	db_bind_text(st, 1, o->merchant, -1);
	db_bind_text(st, 2, o->reason, -1);
	cr_assert_eq(db_step(st), DB_ROW);
	o->n = db_col_int64(st, 0);
	db_reset(st);
	return 0;
}

static int64_t events(const char *merchant, const char *type)
{
	struct op o = {.merchant = merchant, .reason = type};
	cr_assert_eq(store_read(s, merchant, events_fn, &o), 0);
	return o.n;
}

Test(review, opened_once_closed_once)
{
	struct op o = {.merchant = "acct_1", .id = "prv_1", .charge = "ch_1"};
	cr_assert_eq(store_write(s, "acct_1", open_fn, &o), 0);
	/* a second review of the same charge is not made */
	struct op again = {.merchant = "acct_1", .id = "prv_2", .charge = "ch_1"};
	cr_assert_eq(store_write(s, "acct_1", open_fn, &again), 0);
	cr_assert_eq(events("acct_1", "review.opened"), 1);

	struct op r = {.merchant = "acct_1", .id = "prv_1"};
	cr_assert_eq(store_read(s, "acct_1", render_fn, &r), 0);
	cr_assert_eq(r.rc, DB_OK);
	cr_assert(r.open);
	cr_assert(strstr(r.json, "\"object\":\"review\""));
	cr_assert(strstr(r.json, "\"charge\":\"ch_1\""));
	cr_assert(strstr(r.json, "\"reason\":\"rule\""));
	cr_assert(strstr(r.json, "\"ip_address\":\"10.0.0.1\""));
	struct op other = {.merchant = "acct_2", .id = "prv_1"};
	cr_assert_eq(store_read(s, "acct_2", render_fn, &other), 0);
	cr_assert_eq(other.rc, DB_NOTFOUND);
	struct op missing = {.merchant = "acct_1", .id = "prv_2"};
	cr_assert_eq(store_read(s, "acct_1", render_fn, &missing), 0);
	cr_assert_eq(missing.rc, DB_NOTFOUND);

	/* another merchant cannot close it; its own charge id closes nothing there */
	struct op c2 = {.merchant = "acct_2", .charge = "ch_1", .reason = "refunded"};
	cr_assert_eq(store_write(s, "acct_2", close_fn, &c2), 0);
	cr_assert_eq(c2.rc, DB_OK);
	struct op c = {.merchant = "acct_1", .id = "prv_1", .reason = "approved"};
	cr_assert_eq(store_write(s, "acct_1", close_fn, &c), 0);
	cr_assert_eq(c.rc, DB_OK);
	cr_assert_eq(store_write(s, "acct_1", close_fn, &c), 0);
	cr_assert_eq(c.rc, DB_CONFLICT, "closed already");
	struct op byc = {.merchant = "acct_1", .charge = "ch_1", .reason = "refunded"};
	cr_assert_eq(store_write(s, "acct_1", close_fn, &byc), 0);
	cr_assert_eq(byc.rc, DB_OK, "a closed review: nothing to do");
	cr_assert_eq(events("acct_1", "review.closed"), 1);
	cr_assert_eq(events("acct_2", "review.closed"), 0);
	cr_assert_eq(store_read(s, "acct_1", render_fn, &r), 0);
	cr_assert(!r.open);
	cr_assert(strstr(r.json, "\"closed_reason\":\"approved\""));
	cr_assert(strstr(r.json, "\"reason\":\"approved\""));
}

Test(review, a_charge_names_its_review_only_when_in_review)
{
	struct op o = {.merchant = "acct_1", .id = "prv_9", .charge = "ch_9"};
	cr_assert_eq(store_write(s, "acct_1", open_fn, &o), 0);
	struct op f = {.merchant = "acct_1",
		       .charge = "ch_9",
		       .outcome =
			   "{\"network_status\":\"approved_by_network\",\"type\":\"authorized\"}"};
	cr_assert_eq(store_read(s, "acct_1", for_charge_fn, &f), 0);
	cr_assert_eq(f.rc, DB_NOTFOUND, "not looked up for an authorized charge");
	f.outcome = "{\"reason\":\"rule\",\"type\":\"manual_review\"}";
	cr_assert_eq(store_read(s, "acct_1", for_charge_fn, &f), 0);
	cr_assert_eq(f.rc, DB_OK);
	cr_assert_str_eq(f.found, "prv_9");
	f.charge = "ch_other";
	cr_assert_eq(store_read(s, "acct_1", for_charge_fn, &f), 0);
	cr_assert_eq(f.rc, DB_NOTFOUND);
	f.outcome = NULL;
	cr_assert_eq(store_read(s, "acct_1", for_charge_fn, &f), 0);
	cr_assert_eq(f.rc, DB_NOTFOUND);
}
