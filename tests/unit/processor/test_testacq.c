/*
 * The test acquirer's books: a hold under an approval code the merchant already holds is filed
 * under a fresh code (six characters collide over a merchant's lifetime), never refused.
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
	const char *merchant, *charge;
	char code[16];
	int rc;
};

static int hold_fn(struct db *db, void *p)
{
	struct hold *h = p;
	h->rc = processor_hold(db, h->merchant, h->code, h->charge, 1000, "usd", 0, 1700000000);
	if (h->rc != DB_OK)
		return h->rc;
	return processor_capture(db, h->merchant, h->code, 1000);
}

Test(testacq, a_code_in_use_is_drawn_again)
{
	struct hold a = {"acct_A", "ch_1", "ABC123", 0}, b = {"acct_A", "ch_2", "ABC123", 0},
		    c = {"acct_B", "ch_3", "ABC123", 0};
	cr_assert_eq(store_write(s, "acct_A", hold_fn, &a), 0);
	cr_assert_str_eq(a.code, "ABC123");
	/* same merchant, same code: filed under a new six-character code, and captured there */
	cr_assert_eq(store_write(s, "acct_A", hold_fn, &b), 0, "rc %d", b.rc);
	cr_assert_str_neq(b.code, "ABC123");
	cr_assert_eq(strlen(b.code), 6);
	cr_assert_eq(strspn(b.code, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"), 6);
	/* another merchant may hold the same code */
	cr_assert_eq(store_write(s, "acct_B", hold_fn, &c), 0);
	cr_assert_str_eq(c.code, "ABC123");
	/* and the code keeps being unique: a third hold under it gets a fresh one too */
	struct hold again = {"acct_A", "ch_1", "ABC123", 0};
	cr_assert_eq(store_write(s, "acct_A", hold_fn, &again), 0);
	cr_assert_str_neq(again.code, "ABC123");
}
