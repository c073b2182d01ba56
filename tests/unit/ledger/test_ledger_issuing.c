/*
 * The Issuing balance's movements on a real SQLite store (ledger_issuing.h): an authorization's
 * hold and release, a capture's spend and a refund's (or won dispute's) credit move the accounts
 * and balance transactions Stripe shows, ledger_issuing_available follows them, ledger_verify
 * holds them, reports an authorization that released more than it held, and refusals write
 * nothing.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/ledger.h"
#include "ledger/ledger_issuing.h"
#include "store/store.h"
#include "verify/verify.h"
#include "../support/store_fixture.h"

static char dir[256];
static struct store *s;

static void setup(void)
{
	s = fixture_store_open(dir, sizeof(dir), "lissuing");
}

static void teardown(void)
{
	fixture_store_close(s, dir);
}

TestSuite(ledger_issuing, .init = setup, .fini = teardown);

#define T0 INT64_C(1700000000)
#define M1 "acct_1"

static int64_t account(const char *acct)
{
	return fixture_q_int(s,
			     "SELECT COALESCE(SUM(amount), 0) FROM journal_entries"
			     " WHERE merchant_id = $1 AND account = $2",
			     M1, acct);
}

/* the balance transactions of type, each of the Issuing balance, available, without a fee and
 * reported under its own type (Stripe's reporting category for these) */
static int64_t bt_count(const char *type)
{
	return fixture_q_int(s,
			     "SELECT COUNT(*) FROM balance_transactions WHERE merchant_id = $1"
			     " AND type = $2 AND balance_type = 'issuing' AND status = 'available'"
			     " AND fee = 0 AND reporting_category = type",
			     M1, type);
}

enum op { HOLD, RELEASE, SPEND, CREDIT, DISPUTE_CREDIT, BAD_CREDIT };
struct move {
	enum op op;
	const char *source;
	int64_t amount;
	int rc;
	int64_t available;
};

static int move_fn(struct db *db, void *p)
{
	struct move *m = p;
	switch (m->op) {
	case HOLD:
		m->rc = ledger_issuing_hold(db, M1, m->source, m->amount, "usd", T0, NULL);
		break;
	case RELEASE:
		m->rc = ledger_issuing_release(db, M1, m->source, m->amount, "usd", T0, NULL);
		break;
	case SPEND:
		m->rc = ledger_issuing_spend(db, M1, m->source, m->amount, "usd", T0, NULL);
		break;
	case CREDIT:
		m->rc = ledger_issuing_credit(db, M1, m->source, "issuing_transaction", m->amount,
					      "usd", T0, NULL);
		break;
	case DISPUTE_CREDIT:
		m->rc = ledger_issuing_credit(db, M1, m->source, "issuing_dispute", m->amount,
					      "usd", T0, NULL);
		break;
	case BAD_CREDIT:
		m->rc =
		    ledger_issuing_credit(db, M1, m->source, "topup", m->amount, "usd", T0, NULL);
		break;
	}
	if (m->rc == DB_OK)
		m->rc = ledger_issuing_available(db, M1, "usd", &m->available);
	return m->rc == DB_OK ? 0 : -1;
}

static struct move run(enum op op, const char *source, int64_t amount)
{
	struct move m = {.op = op, .source = source, .amount = amount};
	store_write(s, M1, move_fn, &m);
	return m;
}

static int verify_fn(struct db *db, void *p)
{
	return ledger_verify(db, p);
}

static int verify_failures(struct buf *text)
{
	struct verify_report rep;
	memset(&rep, 0, sizeof(rep));
	buf_init(&rep.text, 1u << 20);
	store_read(s, NULL, verify_fn, &rep);
	buf_reset(text);
	buf_puts(text, rep.text.len ? buf_cstr(&rep.text) : "");
	buf_release(&rep.text);
	return rep.failures;
}

Test(ledger_issuing, holds_releases_spends_and_credits)
{
	cr_assert_eq(run(HOLD, "iauth_1", 1000).available, -1000);
	cr_assert_eq(account(LEDGER_ACCT_ISSUING_HELD), -1000, "credit: held for the network");
	cr_assert_eq(account(LEDGER_ACCT_ISSUING_AVAILABLE), 1000);
	cr_assert_eq(run(SPEND, "ipi_1", 600).available, -1600);
	cr_assert_eq(run(RELEASE, "iauth_1", 1000).available, -600);
	cr_assert_eq(account(LEDGER_ACCT_ISSUING_HELD), 0);
	cr_assert_eq(account(LEDGER_ACCT_ISSUING_NETWORK), -600, "owed to the network");
	cr_assert_eq(run(CREDIT, "ipi_2", 100).available, -500);
	cr_assert_eq(run(DISPUTE_CREDIT, "idp_1", 200).available, -300);
	cr_assert_eq(account(LEDGER_ACCT_ISSUING_NETWORK), -300);
	cr_assert_eq(bt_count("issuing_authorization_hold"), 1);
	cr_assert_eq(bt_count("issuing_authorization_release"), 1);
	cr_assert_eq(bt_count("issuing_transaction"), 2);
	cr_assert_eq(bt_count("issuing_dispute"), 1);
	cr_assert_eq(fixture_q_int(s,
				   "SELECT amount FROM balance_transactions WHERE merchant_id = $1"
				   " AND source = $2",
				   M1, "ipi_1"),
		     -600);
	struct buf text;
	buf_init(&text, 1u << 20);
	cr_assert_eq(verify_failures(&text), 0, "%s", buf_cstr(&text));
	buf_release(&text);
}

Test(ledger_issuing, a_release_of_more_than_was_held_is_reported)
{
	cr_assert_eq(run(HOLD, "iauth_1", 500).rc, DB_OK);
	cr_assert_eq(run(RELEASE, "iauth_1", 700).rc, DB_OK);
	struct buf text;
	buf_init(&text, 1u << 20);
	cr_assert_gt(verify_failures(&text), 0);
	cr_assert_not_null(strstr(buf_cstr(&text), "released more than it held"), "%s",
			   buf_cstr(&text));
	buf_release(&text);
}

Test(ledger_issuing, refuses_absurd_amounts_and_writes_nothing)
{
	const int64_t bad[] = {0, -1, LEDGER_AMOUNT_MAX + 1};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_neq(run(HOLD, "iauth_1", bad[i]).rc, DB_OK);
		cr_assert_neq(run(SPEND, "ipi_1", bad[i]).rc, DB_OK);
		cr_assert_neq(run(CREDIT, "ipi_1", bad[i]).rc, DB_OK);
	}
	cr_assert_eq(run(BAD_CREDIT, "ipi_1", 100).rc, LEDGER_ERR_INVALID);
	cr_assert_eq(
	    fixture_q_int(s, "SELECT COUNT(*) FROM balance_transactions WHERE merchant_id = $1", M1,
			  NULL),
	    0);
	cr_assert_eq(fixture_q_int(s, "SELECT COUNT(*) FROM journal_entries WHERE merchant_id = $1",
				   M1, NULL),
		     0);
}
