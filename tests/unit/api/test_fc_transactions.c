/* The test institution's transaction generator (api/financial_connections_txns.c): the same
 * account always gets the same history, another account another one; each day has one to three
 * transactions in time order with unique numbers; pending turns posted after two days, a released
 * authorization void after one. */
#include <criterion/criterion.h>
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
