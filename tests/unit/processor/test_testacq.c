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
