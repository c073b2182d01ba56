/*
 * verify_run's "object without its event" checks. Events carry no index on their object
 * (migration 0017), so on SQLite each check reads the events once (NOT IN a subquery) instead
 * of looking them up per object: these tests pin down that the rewritten checks still find
 * exactly the objects whose event is missing, and nothing else.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"
#include "verify/verify.h"

static char dir[256];
static struct store *s;

static int exec_fn(struct db *db, void *p)
{
	return db_exec(db, p);
}

static void exec(const char *sql)
{
	cr_assert_eq(store_write(s, NULL, exec_fn, (void *)sql), 0, "%s", sql);
}

/* Two merchants, each with a customer, a deleted customer and a refund that have their events. */
static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/tender-unit-verify-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	char err[256];
	struct store_config cfg = {.data_dir = dir};
	cr_assert_eq(store_open(&s, &cfg, err, sizeof(err)), 0, "%s", err);
	exec("INSERT INTO merchants (id, name, settlement_currency, created) VALUES"
	     " ('acct_1', 'one', 'usd', 1), ('acct_2', 'two', 'usd', 1)");
	exec("INSERT INTO customers (merchant_id, id, created, invoice_prefix, deleted) VALUES"
	     " ('acct_1', 'cus_1', 1, 'A', 0), ('acct_1', 'cus_d', 1, 'B', 1),"
	     " ('acct_2', 'cus_1', 1, 'C', 0)");
	exec("INSERT INTO refunds (merchant_id, id, created, charge, amount, currency, status) "
	     "VALUES"
	     " ('acct_1', 're_1', 1, 'ch_gone', 100, 'usd', 'failed')");
	exec("INSERT INTO events (merchant_id, id, created, type, object_id, data_object) VALUES"
	     " ('acct_1', 'evt_1', 1, 'customer.created', 'cus_1', '{}'),"
	     " ('acct_1', 'evt_2', 1, 'customer.created', 'cus_d', '{}'),"
	     " ('acct_1', 'evt_3', 1, 'customer.deleted', 'cus_d', '{}'),"
	     " ('acct_2', 'evt_4', 1, 'customer.created', 'cus_1', '{}'),"
	     " ('acct_1', 'evt_5', 1, 'refund.created', 're_1', '{}'),"
	     " ('acct_1', 'evt_6', 1, 'charge.dispute.created', 'dp_1', '{}')");
	/* an inquiry (no money moves) with its event; its charge is not needed for these checks */
	exec("INSERT INTO disputes (merchant_id, id, created, charge, amount, currency, reason,"
	     " status, due_by) VALUES ('acct_1', 'dp_1', 1, 'ch_gone', 100, 'usd', 'fraudulent',"
	     " 'warning_needs_response', 2)");
}

static void teardown(void)
{
	store_close(s);
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(verify, .init = setup, .fini = teardown);

static int verify_fn(struct db *db, void *p)
{
	return verify_run(db, p);
}

static int run(char *text, size_t len)
{
	struct verify_report rep;
	memset(&rep, 0, sizeof(rep));
	buf_init(&rep.text, 1u << 20);
	store_read(s, NULL, verify_fn, &rep);
	snprintf(text, len, "%s", rep.text.len ? buf_cstr(&rep.text) : "");
	buf_release(&rep.text);
	return rep.failures;
}

Test(verify, objects_with_their_events_pass)
{
	char text[8192];
	cr_assert_eq(run(text, sizeof(text)), 0, "%s", text);
}

Test(verify, an_event_object_that_does_not_read_back_is_reported)
{
	/* a packed object cut short, one naming a dictionary this build lacks, and text that is
	 * not an object; the '{}' of the others read back */
	exec("UPDATE events SET data_object = X'0128B52FFD' WHERE id = 'evt_1'");
	exec("UPDATE events SET data_object = X'0728B52FFD00' WHERE id = 'evt_2'");
	exec("UPDATE events SET data_object = 'null' WHERE id = 'evt_4'");
	char text[8192];
	cr_assert_eq(run(text, sizeof(text)), 3, "%s", text);
	cr_assert_not_null(strstr(text, "event whose object does not read back: acct_1 / evt_1"),
			   "%s", text);
	cr_assert_not_null(strstr(text, "event whose object does not read back: acct_1 / evt_2"),
			   "%s", text);
	cr_assert_not_null(strstr(text, "event whose object does not read back: acct_2 / evt_4"),
			   "%s", text);
}

Test(verify, each_missing_event_is_reported_for_its_object_only)
{
	/* the same object id under the other merchant keeps its event: the merchant is part of it
	 */
	exec("DELETE FROM events WHERE merchant_id = 'acct_1' AND id IN ('evt_1', 'evt_3', "
	     "'evt_5')");
	char text[8192];
	cr_assert_eq(run(text, sizeof(text)), 3, "%s", text);
	cr_assert_not_null(
	    strstr(text, "customer without its customer.created event: acct_1 / cus_1"), "%s",
	    text);
	cr_assert_not_null(
	    strstr(text, "deleted customer without its customer.deleted event: acct_1 / cus_d"),
	    "%s", text);
	cr_assert_not_null(strstr(text, "refund without refund.created: acct_1 / re_1"), "%s",
			   text);
	cr_assert_null(strstr(text, "acct_2"), "%s", text);
}

Test(verify, an_event_of_another_type_does_not_count)
{
	exec("UPDATE events SET type = 'customer.updated' WHERE id = 'evt_4'");
	char text[8192];
	cr_assert_eq(run(text, sizeof(text)), 1, "%s", text);
	cr_assert_not_null(
	    strstr(text, "customer without its customer.created event: acct_2 / cus_1"), "%s",
	    text);
}

/* the disputes module's check (ledger_dispute.c) is built from the same NO_EVENT forms */
Test(verify, a_dispute_without_its_event_is_reported)
{
	exec("DELETE FROM events WHERE id = 'evt_6'");
	char text[8192];
	cr_assert_eq(run(text, sizeof(text)), 1, "%s", text);
	cr_assert_not_null(
	    strstr(text, "dispute without its charge.dispute.created event: acct_1 / dp_1"), "%s",
	    text);
}
