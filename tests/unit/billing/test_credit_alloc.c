#include <criterion/criterion.h>
#include <stdint.h>

#include "billing/credit_alloc.h"

/* Two grants in order over three lines: the first spends itself on the covered lines in order,
 * the second takes what is left, an uncovered line is never touched. */
Test(credit_alloc, grants_in_order_over_covered_lines)
{
	int64_t left[3] = {1000, 400, 700};
	const bool covers[3] = {true, false, true};
	int64_t takes[3];
	int64_t cap = 2100;
	int64_t g1 = 1200, g2 = 1000;
	cr_assert_eq(credit_alloc_grant(left, covers, 3, &g1, &cap, takes), 1200);
	cr_assert_eq(takes[0], 1000);
	cr_assert_eq(takes[1], 0);
	cr_assert_eq(takes[2], 200);
	cr_assert_eq(g1, 0);
	cr_assert_eq(credit_alloc_grant(left, covers, 3, &g2, &cap, takes), 500);
	cr_assert_eq(takes[0], 0);
	cr_assert_eq(takes[2], 500);
	cr_assert_eq(g2, 500, "what the lines did not need stays in the grant");
	cr_assert_eq(left[0], 0);
	cr_assert_eq(left[1], 400);
	cr_assert_eq(left[2], 0);
	cr_assert_eq(cap, 400);
}

/* The invoice's total caps what all grants take (an invoice-level amount below its lines). */
Test(credit_alloc, capped_by_the_total)
{
	int64_t left[2] = {800, 800};
	const bool covers[2] = {true, true};
	int64_t takes[2];
	int64_t cap = 1000, g = 5000;
	cr_assert_eq(credit_alloc_grant(left, covers, 2, &g, &cap, takes), 1000);
	cr_assert_eq(takes[0], 800);
	cr_assert_eq(takes[1], 200);
	cr_assert_eq(cap, 0);
	cr_assert_eq(g, 4000);
}

/* Nothing to take: an empty grant, lines at 0 or below (a credit line), no lines. */
Test(credit_alloc, nothing_to_take)
{
	int64_t left[2] = {0, -300};
	const bool covers[2] = {true, true};
	int64_t takes[2] = {7, 7};
	int64_t cap = 100, g = 100;
	cr_assert_eq(credit_alloc_grant(left, covers, 2, &g, &cap, takes), 0);
	cr_assert_eq(takes[0], 0);
	cr_assert_eq(takes[1], 0);
	int64_t big[1] = {INT64_MAX};
	const bool yes[1] = {true};
	int64_t zero = 0, cap2 = INT64_MAX;
	cr_assert_eq(credit_alloc_grant(big, yes, 1, &zero, &cap2, takes), 0);
	cr_assert_eq(big[0], INT64_MAX);
	cr_assert_eq(credit_alloc_grant(big, yes, 0, &g, &cap2, takes), 0);
}

/* Amounts at int64's limits do not overflow. */
Test(credit_alloc, int64_limits)
{
	int64_t left[2] = {INT64_MAX, INT64_MAX};
	const bool covers[2] = {true, true};
	int64_t takes[2];
	int64_t cap = INT64_MAX, g = INT64_MAX;
	cr_assert_eq(credit_alloc_grant(left, covers, 2, &g, &cap, takes), INT64_MAX);
	cr_assert_eq(takes[0], INT64_MAX);
	cr_assert_eq(takes[1], 0);
	cr_assert_eq(g, 0);
}
