/* The test institution's transaction generator (api/financial_connections_txns.c): the same
 * account always gets the same history, another account another one; each day has one to three
 * transactions in time order with unique numbers; pending turns posted after two days, a released
 * authorization void after one. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "api/financial_connections.h"

#define DAY INT64_C(86400)
#define D0 INT64_C(20454) /* 2026-01-01 as a unix day */

Test(fc_transactions, the_same_account_gets_the_same_history)
{
	uint64_t a = fc_txn_seed("fca_1AbCdEfGhIjKlMnOpQrStUvW");
	uint64_t b = fc_txn_seed("fca_1AbCdEfGhIjKlMnOpQrStUvX");
	cr_assert_eq(a, fc_txn_seed("fca_1AbCdEfGhIjKlMnOpQrStUvW"));
	cr_assert_neq(a, b);
	int differ = 0;
	for (int64_t d = D0; d < D0 + 30; d++) {
		struct fc_txn x[FC_TXN_PER_DAY], y[FC_TXN_PER_DAY], z[FC_TXN_PER_DAY];
		int n = fc_txn_day(a, d, x);
		cr_assert_eq(fc_txn_day(a, d, y), n);
		for (int i = 0; i < n; i++) {
			cr_assert_eq(x[i].seq, y[i].seq);
			cr_assert_eq(x[i].amount, y[i].amount);
			cr_assert_eq(x[i].transacted_at, y[i].transacted_at);
			cr_assert_str_eq(x[i].description, y[i].description);
			cr_assert_eq(x[i].voids, y[i].voids);
		}
		int m = fc_txn_day(b, d, z);
		if (m != n || (n > 0 && z[n - 1].amount != x[n - 1].amount))
			differ++;
	}
	cr_assert_gt(differ, 10, "two accounts' histories look alike");
}

Test(fc_transactions, days_are_plausible_and_ordered)
{
	uint64_t s = fc_txn_seed("fca_seed");
	int payroll = 0, voids = 0, total = 0;
	int64_t last_seq = -1, last_t = 0;
	for (int64_t d = D0; d < D0 + 120; d++) {
		struct fc_txn x[FC_TXN_PER_DAY];
		int n = fc_txn_day(s, d, x);
		cr_assert(n >= 1 && n <= FC_TXN_PER_DAY);
		for (int i = 0; i < n; i++) {
			cr_assert_gt(x[i].seq, last_seq);
			cr_assert_gt(x[i].transacted_at, last_t);
			cr_assert(x[i].transacted_at >= d * DAY &&
				  x[i].transacted_at < (d + 1) * DAY);
			cr_assert_eq(x[i].seq / FC_TXN_PER_DAY, d);
			cr_assert_neq(x[i].amount, 0);
			cr_assert(x[i].amount > -100000 && x[i].amount < 300000);
			cr_assert(strlen(x[i].description) > 0);
			if (x[i].amount > 0) {
				payroll++;
				cr_assert_str_eq(x[i].description, "Payroll ACME Corp");
				cr_assert(!x[i].voids);
			}
			voids += x[i].voids;
			last_seq = x[i].seq;
			last_t = x[i].transacted_at;
			total++;
		}
	}
	/* every fourteenth day */
	cr_assert(payroll >= 8 && payroll <= 9, "%d payroll deposits", payroll);
	cr_assert(voids > 0 && voids < total / 4, "%d of %d void", voids, total);
}

Test(fc_transactions, statuses_follow_time)
{
	struct fc_txn t = {.seq = 1, .transacted_at = D0 * DAY, .amount = -1200};
	int64_t p, v;
	cr_assert_str_eq(fc_txn_status_at(&t, t.transacted_at, &p, &v), "pending");
	cr_assert_eq(p, 0);
	cr_assert_eq(v, 0);
	cr_assert_str_eq(fc_txn_status_at(&t, t.transacted_at + FC_TXN_POST_AFTER - 1, &p, &v),
			 "pending");
	cr_assert_str_eq(fc_txn_status_at(&t, t.transacted_at + FC_TXN_POST_AFTER, &p, &v),
			 "posted");
	cr_assert_eq(p, t.transacted_at + FC_TXN_POST_AFTER);
	cr_assert_eq(v, 0);
	t.voids = true;
	cr_assert_str_eq(fc_txn_status_at(&t, t.transacted_at + FC_TXN_VOID_AFTER - 1, &p, &v),
			 "pending");
	cr_assert_str_eq(fc_txn_status_at(&t, t.transacted_at + 10 * DAY, &p, &v), "void");
	cr_assert_eq(v, t.transacted_at + FC_TXN_VOID_AFTER);
	cr_assert_eq(p, 0);
}

/* ---- the scheduler's refreshes of subscribed accounts, on a real store ---- */

#include "store/store.h"
#include "../support/store_fixture.h"

static char dir[256];
static struct store *s;

static void setup(void)
{
	s = fixture_store_open(dir, sizeof(dir), "fc_subscriptions");
}

static void teardown(void)
{
	fixture_store_close(s, dir);
}

#define T0 INT64_C(1780000000)
#define M1 "acct_1"

/* an account of M1 subscribed to transactions, its daily refresh due at due */
static void subscribed(const char *id, const char *status, int64_t due)
{
	/* a text of its own each time: the store keeps prepared statements by their text's address
	 */
	static char texts[4][1024];
	static int used;
	cr_assert_lt(used, 4);
	char *sql = texts[used++];
	snprintf(sql, sizeof(texts[0]),
		 "INSERT INTO fc_accounts (merchant_id, id, created, session, holder_type,"
		 " holder_customer, test_account, institution_name, display_name, last4, category,"
		 " subcategory, status, permissions, subscriptions, next_transaction_refresh_at)"
		 " VALUES ('" M1 "', '%s', %lld, 'fcsess_1', 'customer', 'cus_1', 'checking',"
		 " 'Test Institution', 'Checking', '1116', 'cash', 'checking', '%s',"
		 " '[\"transactions\"]', '[\"transactions\"]', %lld)",
		 id, (long long)(T0 - 86400), status, (long long)due);
	cr_assert_eq(fixture_exec(s, M1, sql), 0);
}

static int64_t q(const char *sql, const char *id)
{
	return fixture_q_int(s, sql, M1, id);
}

static const char SQL_TXNS[] =
    "SELECT COUNT(*) FROM fc_transactions WHERE merchant_id = $1 AND account = $2";
static const char SQL_NEXT[] = "SELECT COALESCE(next_transaction_refresh_at, 0) FROM fc_accounts"
			       " WHERE merchant_id = $1 AND id = $2";
static const char SQL_EVENTS[] =
    "SELECT COUNT(*) FROM events WHERE merchant_id = $1 AND object_id = $2"
    " AND type = 'financial_connections.account.refreshed_transactions'";
static const char SQL_REFRESHES[] =
    "SELECT COUNT(*) FROM fc_transaction_refreshes WHERE merchant_id = $1 AND account = $2";
Test(fc_subscriptions, the_scheduler_refreshes_subscribed_active_accounts_daily, .init = setup,
     .fini = teardown)
{
	subscribed("fca_sub1", "active", T0 - 1);
	subscribed("fca_sub2", "disconnected", T0 - 1);
	subscribed("fca_sub3", "active", T0 + 3600);
	cr_assert_eq(fc_subscriptions_tick(s, T0), 1);
	int64_t n = q(SQL_TXNS, "fca_sub1");
	cr_assert(n >= 90, "%lld transactions", (long long)n);
	cr_assert_eq(q(SQL_NEXT, "fca_sub1"), T0 + FC_TXN_SUBSCRIPTION_EVERY);
	cr_assert_eq(q(SQL_EVENTS, "fca_sub1"), 1);
	/* a disconnected account is refreshed no more; one not due waits */
	cr_assert_eq(q(SQL_TXNS, "fca_sub2"), 0);
	cr_assert_eq(q(SQL_NEXT, "fca_sub2"), 0);
	cr_assert_eq(q(SQL_EVENTS, "fca_sub2"), 0);
	cr_assert_eq(q(SQL_TXNS, "fca_sub3"), 0);
	cr_assert_eq(fc_subscriptions_tick(s, T0 + 10), 0);

	/* a day on: sub3's first refresh and sub1's second, which adds the day's transactions and
	 * settles every pending one older than two days */
	cr_assert_eq(fc_subscriptions_tick(s, T0 + FC_TXN_SUBSCRIPTION_EVERY), 2);
	cr_assert_eq(q(SQL_REFRESHES, "fca_sub1"), 2);
	cr_assert_eq(q(SQL_EVENTS, "fca_sub1"), 2);
	cr_assert_gt(q(SQL_TXNS, "fca_sub1"), n);
	cr_assert_geq(q(SQL_TXNS, "fca_sub3"), 90);
	static char sql[256]; /* not on the stack: see subscribed */
	snprintf(sql, sizeof(sql),
		 "SELECT COUNT(*) FROM fc_transactions WHERE merchant_id = $1 AND account = $2"
		 " AND status = 'pending' AND transacted_at <= %lld",
		 (long long)(T0 + FC_TXN_SUBSCRIPTION_EVERY - FC_TXN_POST_AFTER));
	cr_assert_eq(fixture_q_int(s, sql, M1, "fca_sub1"), 0);
	cr_assert_gt(fixture_q_int(s,
				   "SELECT COUNT(*) FROM fc_transactions WHERE merchant_id = $1"
				   " AND account = $2 AND status <> 'pending'",
				   M1, "fca_sub1"),
		     0);
}
