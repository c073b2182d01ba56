#include <criterion/criterion.h>

#include "http/ratelimit.h"

Test(ratelimit, burst_then_refill)
{
	struct ratelimit *rl = ratelimit_new(10, 5);
	struct ratelimit_result r;
	int64_t t = 1000000000;
	for (int i = 0; i < 5; i++) {
		ratelimit_take(rl, "acct_a", t, &r);
		cr_assert(r.allowed, "request %d", i);
	}
	ratelimit_take(rl, "acct_a", t, &r);
	cr_assert(!r.allowed);
	cr_assert_eq(r.limit, 10);
	cr_assert_eq(r.remaining, 0);
	/* another merchant has its own bucket */
	ratelimit_take(rl, "acct_b", t, &r);
	cr_assert(r.allowed);
	/* 100 ms at 10/s gives one token back */
	ratelimit_take(rl, "acct_a", t + 100000, &r);
	cr_assert(r.allowed);
	ratelimit_take(rl, "acct_a", t + 100000, &r);
	cr_assert(!r.allowed);
	ratelimit_free(rl);
}

Test(ratelimit, disabled_allows_everything)
{
	struct ratelimit *rl = ratelimit_new(0, 0);
	struct ratelimit_result r;
	for (int i = 0; i < 10000; i++) {
		ratelimit_take(rl, "acct_a", 1, &r);
		cr_assert(r.allowed);
	}
	ratelimit_free(rl);
}

Test(ratelimit, parse)
{
	int64_t rate, burst;
	cr_assert_eq(ratelimit_parse("1000/2000", &rate, &burst), 0);
	cr_assert_eq(rate, 1000);
	cr_assert_eq(burst, 2000);
	cr_assert_eq(ratelimit_parse("50", &rate, &burst), 0);
	cr_assert_eq(burst, 100);
	cr_assert_eq(ratelimit_parse("0", &rate, &burst), 0);
	cr_assert_eq(rate, 0);
	cr_assert_neq(ratelimit_parse("x", &rate, &burst), 0);
	cr_assert_neq(ratelimit_parse("10/0", &rate, &burst), 0);
	cr_assert_neq(ratelimit_parse("-1", &rate, &burst), 0);
}
