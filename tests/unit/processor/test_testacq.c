/*
 * The test acquirer's books: one hold per charge. Approval codes are what the issuer answered and
 * may repeat (six characters collide over a merchant's lifetime); holds under the same code are
 * kept apart by their charges, and each is captured and refunded on its own.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "processor/processor.h"
#include "store/db.h"
#include "store/store.h"

static char dir[256];
static struct store *s;

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/tender-unit-acq-XXXXXX");
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

TestSuite(testacq, .init = setup, .fini = teardown);

struct hold {
	const char *merchant, *charge, *code;
	int64_t amount, capture, refund;
	int rc;
};

static int hold_fn(struct db *db, void *p)
{
	struct hold *h = p;
	h->rc =
	    processor_hold(db, h->merchant, h->code, h->charge, h->amount, "usd", 0, 1700000000);
	if (h->rc != DB_OK)
		return h->rc;
	h->rc = processor_capture(db, h->merchant, h->charge, h->capture);
	if (h->rc != DB_OK)
		return h->rc;
	if (h->refund) {
		enum refund_mode mode;
		h->rc = processor_refund(db, h->merchant, h->charge, h->refund, &mode);
	}
	return h->rc;
}

struct refund {
	const char *merchant, *charge;
	int64_t amount;
};

static int refund_fn(struct db *db, void *p)
{
	struct refund *x = p;
	enum refund_mode mode;
	return processor_refund(db, x->merchant, x->charge, x->amount, &mode);
}

Test(testacq, holds_under_one_approval_code_are_kept_apart_by_charge)
{
	struct hold a = {"acct_A", "ch_1", "ABC123", 1000, 1000, 0, 0};
	struct hold b = {"acct_A", "ch_2", "ABC123", 500, 400, 0, 0};
	struct hold c = {"acct_B", "ch_3", "ABC123", 700, 700, 0, 0};
	cr_assert_eq(store_write(s, "acct_A", hold_fn, &a), 0, "rc %d", a.rc);
	cr_assert_eq(store_write(s, "acct_A", hold_fn, &b), 0, "rc %d", b.rc);
	cr_assert_eq(store_write(s, "acct_B", hold_fn, &c), 0, "rc %d", c.rc);
	/* each hold's own limit: ch_2 captured 400 of 500, so 401 is refused there, while ch_1
	 * (same code) takes a refund of 1000 */
	struct refund over = {"acct_A", "ch_2", 401}, ok2 = {"acct_A", "ch_2", 400},
		      ok1 = {"acct_A", "ch_1", 1000}, again1 = {"acct_A", "ch_1", 1};
	cr_assert_eq(store_write(s, "acct_A", refund_fn, &over), DB_CONFLICT);
	cr_assert_eq(store_write(s, "acct_A", refund_fn, &ok2), 0);
	cr_assert_eq(store_write(s, "acct_A", refund_fn, &ok1), 0);
	cr_assert_eq(store_write(s, "acct_A", refund_fn, &again1), DB_CONFLICT);
	/* another merchant's charge is not reachable under this merchant */
	struct refund cross = {"acct_A", "ch_3", 1};
	cr_assert_eq(store_write(s, "acct_A", refund_fn, &cross), DB_CONFLICT);
}

Test(testacq, a_charge_has_one_hold)
{
	struct hold a = {"acct_A", "ch_1", "AAA111", 1000, 1000, 0, 0};
	struct hold dup = {"acct_A", "ch_1", "BBB222", 1000, 1000, 0, 0};
	cr_assert_eq(store_write(s, "acct_A", hold_fn, &a), 0);
	cr_assert_neq(store_write(s, "acct_A", hold_fn, &dup), 0);
}

struct captured {
	const char *charge;
	int64_t amount;
	int hold_rc, capture_rc, release_rc;
};

static int captured_fn(struct db *db, void *p)
{
	struct captured *x = p;
	x->hold_rc = processor_hold_captured(db, "acct_A", "CAP111", x->charge, x->amount, "usd", 0,
					     1700000000);
	if (x->hold_rc != DB_OK)
		return x->hold_rc;
	x->capture_rc = processor_capture(db, "acct_A", x->charge, 1);
	x->release_rc = processor_release(db, "acct_A", x->charge);
	return 0;
}

struct row {
	const char *charge;
	int64_t captured, released;
};

static int row_fn(struct db *db, void *p)
{
	struct row *r = p;
	struct db_stmt *st = db_prepare(db, "SELECT captured, released FROM acquirer_holds"
					    " WHERE merchant_id = 'acct_A' AND charge_id = $1");
	cr_assert_not_null(st);
	db_bind_text(st, 1, r->charge, -1);
	cr_assert_eq(db_step(st), DB_ROW);
	r->captured = db_col_int64(st, 0);
	r->released = db_col_int64(st, 1);
	db_reset(st);
	return 0;
}

Test(testacq, a_hold_placed_captured_is_the_row_a_hold_and_a_full_capture_leave)
{
	/* automatic capture writes the hold once, captured in full */
	struct captured x = {"ch_auto", 1500, -1, -1, -1};
	cr_assert_eq(store_write(s, "acct_A", captured_fn, &x), 0);
	cr_assert_eq(x.hold_rc, DB_OK);
	cr_assert_eq(x.capture_rc, DB_CONFLICT, "a captured hold takes no second capture");
	cr_assert_eq(x.release_rc, DB_CONFLICT, "a captured hold is no longer open to release");
	/* the same row as processor_hold + processor_capture of the whole amount */
	struct hold h = {"acct_A", "ch_manual", "MAN111", 1500, 1500, 0, 0};
	cr_assert_eq(store_write(s, "acct_A", hold_fn, &h), 0);
	struct row a = {"ch_auto", 0, 0}, m = {"ch_manual", 0, 0};
	cr_assert_eq(store_read(s, "acct_A", row_fn, &a), 0);
	cr_assert_eq(store_read(s, "acct_A", row_fn, &m), 0);
	cr_assert_eq(a.captured, m.captured);
	cr_assert_eq(a.released, m.released);
	cr_assert_eq(a.captured, 1500);
	/* and it refunds like one */
	struct refund r = {"acct_A", "ch_auto", 1500}, again = {"acct_A", "ch_auto", 1};
	cr_assert_eq(store_write(s, "acct_A", refund_fn, &r), 0);
	cr_assert_eq(store_write(s, "acct_A", refund_fn, &again), DB_CONFLICT);
	/* nothing to capture: refused */
	struct captured zero = {"ch_zero", 0, -1, -1, -1};
	store_write(s, "acct_A", captured_fn, &zero);
	cr_assert_eq(zero.hold_rc, DB_CONFLICT);
}

/* A card check (SetupIntents): 4000000000000341's behaviour passes it and declines every
 * authorization; a card that declines everything declines both; an expired card fails both. */
Test(testacq, verify_passes_a_card_that_only_declines_charges)
{
	const int64_t now = 1767225600; /* 2026-01-01 */
	struct processor_card c = {.exp_month = 12,
				   .exp_year = 2034,
				   .cvc_provided = true,
				   .behavior = ACQ_DECLINE_CHARGES};
	struct processor_decision d;
	processor_verify(&c, now, &d);
	cr_assert(d.approved);
	cr_assert_str_eq(d.network_status, "approved_by_network");
	processor_authorize(&c, 1500, "usd", now, &d);
	cr_assert_not(d.approved);
	cr_assert_eq(d.err, ERR_CARD_DECLINED);
	cr_assert_str_eq(d.decline_code, "generic_decline");

	c.behavior = ACQ_DECLINE_GENERIC;
	processor_verify(&c, now, &d);
	cr_assert_not(d.approved);
	cr_assert_str_eq(d.decline_code, "generic_decline");

	c.behavior = ACQ_SUCCEED;
	c.exp_year = 2025;
	processor_verify(&c, now, &d);
	cr_assert_not(d.approved);
	cr_assert_eq(d.err, ERR_CARD_EXPIRED);
}

/* The test cards of docs.stripe.com/testing that Tender first missed: a velocity decline, a
 * CVC check that fails only when a CVC is given, address checks that fail (or cannot be made)
 * without declining, and 3-D Secure cards the issuer declines once authenticated. */
Test(testacq, velocity_cvc_and_address_check_cards)
{
	const int64_t now = 1767225600; /* 2026-01-01 */
	struct processor_card c = {.exp_month = 12,
				   .exp_year = 2034,
				   .cvc_provided = true,
				   .line1_provided = true,
				   .postal_code_provided = true,
				   .behavior = ACQ_DECLINE_VELOCITY};
	struct processor_decision d;
	processor_authorize(&c, 1500, "usd", now, &d);
	cr_assert_not(d.approved);
	cr_assert_eq(d.err, ERR_CARD_DECLINED);
	cr_assert_str_eq(d.decline_code, "card_velocity_exceeded");

	c.behavior = ACQ_CVC_CHECK_FAIL;
	processor_authorize(&c, 1500, "usd", now, &d);
	cr_assert_not(d.approved);
	cr_assert_eq(d.err, ERR_CARD_INCORRECT_CVC);
	cr_assert_str_eq(d.cvc_check, "fail");
	c.cvc_provided = false;
	processor_authorize(&c, 1500, "usd", now, &d);
	cr_assert(d.approved);
	cr_assert_null(d.cvc_check);
	c.cvc_provided = true;

	c.behavior = ACQ_SUCCEED;
	processor_authorize(&c, 1500, "usd", now, &d);
	cr_assert_str_eq(d.address_line1_check, "pass");
	cr_assert_str_eq(d.address_postal_code_check, "pass");
	c.behavior = ACQ_AVS_LINE1_FAIL;
	processor_authorize(&c, 1500, "usd", now, &d);
	cr_assert(d.approved);
	cr_assert_str_eq(d.address_line1_check, "fail");
	cr_assert_str_eq(d.address_postal_code_check, "pass");
	c.behavior = ACQ_AVS_ZIP_FAIL;
	processor_authorize(&c, 1500, "usd", now, &d);
	cr_assert_str_eq(d.address_line1_check, "pass");
	cr_assert_str_eq(d.address_postal_code_check, "fail");
	c.behavior = ACQ_AVS_FAIL;
	processor_authorize(&c, 1500, "usd", now, &d);
	cr_assert(d.approved);
	cr_assert_str_eq(d.address_line1_check, "fail");
	cr_assert_str_eq(d.address_postal_code_check, "fail");
	c.behavior = ACQ_AVS_UNAVAILABLE;
	c.postal_code_provided = false;
	processor_authorize(&c, 1500, "usd", now, &d);
	cr_assert_str_eq(d.address_line1_check, "unavailable");
	cr_assert_null(d.address_postal_code_check);

	c.behavior = ACQ_3DS_THEN_INSUFFICIENT_FUNDS;
	processor_authorize(&c, 1500, "usd", now, &d);
	cr_assert_not(d.approved);
	cr_assert_str_eq(d.decline_code, "insufficient_funds");
	processor_verify(&c, now, &d);
	cr_assert(d.approved);
	c.behavior = ACQ_3DS_THEN_DECLINE;
	processor_authorize(&c, 1500, "usd", now, &d);
	cr_assert_not(d.approved);
	cr_assert_str_eq(d.decline_code, "generic_decline");
}

struct inc {
	int64_t to[3];
	int rc[3];
	bool capture_first;
};

static int inc_fn(struct db *db, void *p)
{
	struct inc *x = p;
	if (processor_hold(db, "acct_A", "AUTH01", "ch_inc", 1000, "usd", 0, 1700000000) != DB_OK)
		return -1;
	for (int i = 0; i < 3; i++) {
		if (i == 2 && x->capture_first)
			processor_capture(db, "acct_A", "ch_inc", 1200);
		x->rc[i] = processor_increment(db, "acct_A", "ch_inc", x->to[i]);
	}
	return 0;
}

/* An incremental authorization grows an open hold, never shrinks it, and not once captured. */
Test(testacq, increment_grows_an_open_hold_only)
{
	struct inc x = {.to = {1500, 1400, 2000}, .capture_first = true};
	cr_assert_eq(store_write(s, NULL, inc_fn, &x), 0);
	cr_assert_eq(x.rc[0], DB_OK);
	cr_assert_eq(x.rc[1], DB_CONFLICT, "a smaller total is no increment");
	cr_assert_eq(x.rc[2], DB_CONFLICT, "a captured hold cannot grow");
}
