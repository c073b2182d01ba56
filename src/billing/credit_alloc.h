/*
 * How billing credits pay an invoice's lines (api/billing_credits.c reads the grants and lines
 * and writes the result): grants in Stripe's order of application, each taking, line by line in
 * the invoice's order, what is left of every line its scope covers, until the grant is spent,
 * the line paid, or the cap (what the invoice can still take: its total) reached. Never more
 * than a line's amount, a grant's balance or the cap; amounts are int64 minor units >= 0 and no
 * step can overflow (each take is at most what is left of all three).
 */
#ifndef TENDER_BILLING_CREDIT_ALLOC_H
#define TENDER_BILLING_CREDIT_ALLOC_H

#include <stdbool.h>
#include <stdint.h>

/* One grant's turn: line_left[k] (n lines) is what line k still owes, covers[k] whether the
 * grant's scope covers it; *grant_left and *cap_left are what the grant holds and what the
 * invoice can still take. takes[k] gets what the grant pays of line k (0: nothing); line_left,
 * *grant_left and *cap_left are lowered by it. Returns the sum taken. */
int64_t credit_alloc_grant(int64_t *line_left, const bool *covers, int n, int64_t *grant_left,
			   int64_t *cap_left, int64_t *takes);

#endif
