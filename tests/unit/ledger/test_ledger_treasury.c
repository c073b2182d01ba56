/* Treasury's journal entries (ledger_treasury.h): a balance impact becomes credits of its buckets
 * and the network's side for what crossed the account's edge, zero parts left out, every sum
 * overflow-checked. */
#include <criterion/criterion.h>
#include <string.h>

#include "ledger/ledger_treasury.h"

static int64_t sum(const struct ledger_entry *e, size_t n)
{
	int64_t s = 0;
	for (size_t i = 0; i < n; i++)
		s += e[i].amount_minor;
	return s;
}

Test(ledger_treasury, a_received_credit_credits_cash_against_the_network)
{
	struct treasury_impact in = {.cash = 1200};
	struct ledger_entry e[4];
	size_t n = 0;
	cr_assert_eq(ledger_treasury_entries(&in, "usd", e, &n), 0);
	cr_assert_eq(n, 2);
	cr_assert_str_eq(e[0].account, LEDGER_ACCT_TREASURY_CASH);
	cr_assert_eq(e[0].amount_minor, -1200);
	cr_assert_str_eq(e[1].account, LEDGER_ACCT_TREASURY_NETWORK);
	cr_assert_eq(e[1].amount_minor, 1200);
	cr_assert_str_eq(e[1].currency, "usd");
	cr_assert_eq(sum(e, n), 0);
}

Test(ledger_treasury, a_debit_is_the_reverse)
{
	struct treasury_impact out = {.cash = -500};
	struct ledger_entry e[4];
	size_t n = 0;
	cr_assert_eq(ledger_treasury_entries(&out, "usd", e, &n), 0);
	cr_assert_eq(n, 2);
	cr_assert_eq(e[0].amount_minor, 500);
	cr_assert_eq(e[1].amount_minor, -500);
}

Test(ledger_treasury, a_move_inside_the_account_does_not_touch_the_network)
{
	/* money leaving cash for outbound_pending: nothing crossed the edge yet */
	struct treasury_impact m = {.cash = -100, .outbound_pending = 100};
	struct ledger_entry e[4];
	size_t n = 0;
	cr_assert_eq(ledger_treasury_entries(&m, "usd", e, &n), 0);
	cr_assert_eq(n, 2);
	cr_assert_str_eq(e[0].account, LEDGER_ACCT_TREASURY_CASH);
	cr_assert_str_eq(e[1].account, LEDGER_ACCT_TREASURY_OUTBOUND_PENDING);
	cr_assert_eq(sum(e, n), 0);
	/* and all three buckets with an edge */
	struct treasury_impact all = {.cash = 10, .inbound_pending = 20, .outbound_pending = -5};
	cr_assert_eq(ledger_treasury_entries(&all, "usd", e, &n), 0);
	cr_assert_eq(n, 4);
	cr_assert_eq(e[3].amount_minor, 25);
	cr_assert_eq(sum(e, n), 0);
}

Test(ledger_treasury, nothing_moving_or_too_much_is_refused)
{
	struct ledger_entry e[4];
	size_t n = 7;
	struct treasury_impact zero = {0};
	cr_assert_eq(ledger_treasury_entries(&zero, "usd", e, &n), LEDGER_ERR_INVALID);
	cr_assert_eq(n, 0);
	struct treasury_impact big = {.cash = LEDGER_AMOUNT_MAX + 1};
	cr_assert_eq(ledger_treasury_entries(&big, "usd", e, &n), LEDGER_ERR_OVERFLOW);
	/* each part in range, their sum beyond it */
	struct treasury_impact two = {.cash = LEDGER_AMOUNT_MAX, .inbound_pending = 1};
	cr_assert_eq(ledger_treasury_entries(&two, "usd", e, &n), LEDGER_ERR_OVERFLOW);
	struct treasury_impact huge = {.cash = INT64_MAX, .inbound_pending = INT64_MAX};
	cr_assert_eq(ledger_treasury_entries(&huge, "usd", e, &n), LEDGER_ERR_OVERFLOW);
}

Test(ledger_treasury, add_is_overflow_checked_and_leaves_the_sum_alone_on_failure)
{
	struct treasury_impact acc = {.cash = 5, .inbound_pending = 1, .outbound_pending = 2};
	struct treasury_impact add = {.cash = -3, .inbound_pending = 4, .outbound_pending = 0};
	cr_assert_eq(ledger_treasury_add(&acc, &add), 0);
	cr_assert_eq(acc.cash, 2);
	cr_assert_eq(acc.inbound_pending, 5);
	cr_assert_eq(acc.outbound_pending, 2);
	struct treasury_impact over = {.outbound_pending = LEDGER_AMOUNT_MAX};
	cr_assert_eq(ledger_treasury_add(&acc, &over), LEDGER_ERR_OVERFLOW);
	cr_assert_eq(acc.cash, 2);
	cr_assert_eq(acc.outbound_pending, 2);
	struct treasury_impact wrap = {.cash = INT64_MIN};
	cr_assert_eq(ledger_treasury_add(&acc, &wrap), LEDGER_ERR_OVERFLOW);
}
