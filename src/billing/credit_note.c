#include "billing/credit_note.h"

int credit_note_split(int64_t total, bool unpaid, int64_t amount_due, int64_t amount_paid,
		      int64_t post_before, int64_t *ret_pre, int64_t *ret_post, int64_t *ret_max)
{
	if (total <= 0 || amount_due < 0 || amount_paid < 0 || post_before < 0)
		return -1;
	int64_t remaining = 0, creditable = 0, max;
	if (unpaid && __builtin_sub_overflow(amount_due, amount_paid, &remaining))
		return -1;
	if (remaining < 0)
		remaining = 0; /* overpaid: nothing is asked for */
	/* post_before ≤ amount_paid unless the books are wrong: then nothing more after payment */
	if (amount_paid > post_before)
		creditable = amount_paid - post_before;
	int64_t pre = total < remaining ? total : remaining;
	int64_t post = total - pre; /* 0 ≤ post ≤ total */
	if (post > creditable) {
		if (__builtin_add_overflow(remaining, creditable, &max))
			return -1;
		*ret_max = max;
		return CREDIT_NOTE_TOO_MUCH;
	}
	*ret_pre = pre;
	*ret_post = post;
	return 0;
}

int credit_note_parts_check(int64_t post, int64_t refund, int64_t credit, int64_t out_of_band)
{
	int64_t sum;
	if (post < 0 || refund < 0 || credit < 0 || out_of_band < 0)
		return -1;
	if (__builtin_add_overflow(refund, credit, &sum) ||
	    __builtin_add_overflow(sum, out_of_band, &sum))
		return -1;
	return sum == post ? 0 : CREDIT_NOTE_MISMATCH;
}

int credit_note_line_by_quantity(int64_t line_amount, int64_t line_quantity, int64_t qty,
				 int64_t *ret_unit, int64_t *ret_amount)
{
	if (qty < 1)
		return -1;
	if (line_quantity < 1 || line_amount < 0 || line_amount % line_quantity != 0)
		return CREDIT_NOTE_NO_UNIT;
	if (qty > line_quantity)
		return CREDIT_NOTE_TOO_MUCH;
	int64_t unit = line_amount / line_quantity, amount;
	if (__builtin_mul_overflow(unit, qty, &amount))
		return -1;
	*ret_unit = unit;
	*ret_amount = amount;
	return 0;
}
