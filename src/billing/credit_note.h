/*
 * The arithmetic of a credit note (api/credit_notes.c), with no store and no request: how its
 * total splits between what an invoice still asks for and what was already paid, whether the
 * post-payment parts add up, and a line credited by quantity. Integer only; every step is
 * overflow-checked, and a refusal is a return code, never a wrapped number.
 */
#ifndef TENDER_BILLING_CREDIT_NOTE_H
#define TENDER_BILLING_CREDIT_NOTE_H

#include <stdbool.h>
#include <stdint.h>

/* The refusals (positive, apart from -1 for input out of range or an overflow). */
#define CREDIT_NOTE_TOO_MUCH 1 /* more than can be credited */
#define CREDIT_NOTE_MISMATCH 2 /* the post-payment parts do not add up */
#define CREDIT_NOTE_NO_UNIT 3  /* a line without a whole unit amount, credited by quantity */

/*
 * Stripe's split of a credit note of `total` (> 0) on an invoice: first what the invoice still
 * asks for (amount_due − amount_paid when it is `unpaid`, open or uncollectible; else nothing)
 * is lowered (*ret_pre), then the rest (*ret_post) comes out of what was paid less the
 * post-payment amounts of its earlier credit notes (post_before). 0;
 * CREDIT_NOTE_TOO_MUCH when the rest is more than that (*ret_max: the most a credit note of this
 * invoice can be now; *ret_pre and *ret_post unset); -1 for a negative input.
 */
int credit_note_split(int64_t total, bool unpaid, int64_t amount_due, int64_t amount_paid,
		      int64_t post_before, int64_t *ret_pre, int64_t *ret_post, int64_t *ret_max);

/* Do refund + credit + out_of_band make exactly post? 0 yes, CREDIT_NOTE_MISMATCH no, -1 for a
 * negative part or a sum that would overflow. */
int credit_note_parts_check(int64_t post, int64_t refund, int64_t credit, int64_t out_of_band);

/* An invoice line of line_amount for line_quantity units, credited for qty units: its unit
 * amount (line_amount / line_quantity, which must be whole) × qty. 0 (*ret_unit, *ret_amount
 * set); CREDIT_NOTE_NO_UNIT (no whole unit amount, or a quantity below 1);
 * CREDIT_NOTE_TOO_MUCH (qty is more than the line's quantity); -1 for qty < 1 or an overflow. */
int credit_note_line_by_quantity(int64_t line_amount, int64_t line_quantity, int64_t qty,
				 int64_t *ret_unit, int64_t *ret_amount);

#endif
