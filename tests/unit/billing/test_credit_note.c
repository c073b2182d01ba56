#include <criterion/criterion.h>
#include <stdint.h>

#include "billing/credit_note.h"

Test(credit_note, open_invoice_lowers_what_is_due_only)
{
	int64_t pre = -1, post = -1, max = -1;
	cr_assert_eq(credit_note_split(700, true, 2000, 0, 0, &pre, &post, &max), 0);
	cr_assert_eq(pre, 700);
	cr_assert_eq(post, 0);
	cr_assert_eq(credit_note_split(2000, true, 2000, 0, 0, &pre, &post, &max), 0);
	cr_assert_eq(pre, 2000);
	cr_assert_eq(post, 0);
	/* nothing was paid: one unit beyond what is due is refused, the most is what is due */
	pre = post = -1;
	cr_assert_eq(credit_note_split(2001, true, 2000, 0, 0, &pre, &post, &max),
		     CREDIT_NOTE_TOO_MUCH);
	cr_assert_eq(max, 2000);
	cr_assert_eq(pre, -1, "unset on a refusal");
	cr_assert_eq(post, -1);
}

Test(credit_note, paid_invoice_credits_after_payment_less_earlier_credit_notes)
{
	int64_t pre = -1, post = -1, max = -1;
	cr_assert_eq(credit_note_split(1800, false, 2000, 2000, 0, &pre, &post, &max), 0);
	cr_assert_eq(pre, 0);
	cr_assert_eq(post, 1800);
	cr_assert_eq(credit_note_split(200, false, 2000, 2000, 1800, &pre, &post, &max), 0);
	cr_assert_eq(post, 200);
	cr_assert_eq(credit_note_split(201, false, 2000, 2000, 1800, &pre, &post, &max),
		     CREDIT_NOTE_TOO_MUCH);
	cr_assert_eq(max, 200);
	/* a paid invoice's amount_due is not "remaining": unpaid=false ignores it */
	cr_assert_eq(credit_note_split(1, false, 5000, 0, 0, &pre, &post, &max),
		     CREDIT_NOTE_TOO_MUCH);
	cr_assert_eq(max, 0);
}

Test(credit_note, partly_paid_splits_pre_then_post)
{
	int64_t pre = -1, post = -1, max = -1;
	/* 300 still due, 700 paid: 500 = 300 before payment + 200 after */
	cr_assert_eq(credit_note_split(500, true, 1000, 700, 0, &pre, &post, &max), 0);
	cr_assert_eq(pre, 300);
	cr_assert_eq(post, 200);
	cr_assert_eq(credit_note_split(1001, true, 1000, 700, 0, &pre, &post, &max),
		     CREDIT_NOTE_TOO_MUCH);
	cr_assert_eq(max, 1000);
}

Test(credit_note, split_refuses_bad_input_and_overflow)
{
	int64_t pre, post, max;
	cr_assert_eq(credit_note_split(0, true, 100, 0, 0, &pre, &post, &max), -1);
	cr_assert_eq(credit_note_split(-5, true, 100, 0, 0, &pre, &post, &max), -1);
	cr_assert_eq(credit_note_split(5, true, -100, 0, 0, &pre, &post, &max), -1);
	cr_assert_eq(credit_note_split(INT64_MAX, true, INT64_MAX, 0, 0, &pre, &post, &max), 0);
	cr_assert_eq(pre, INT64_MAX);
	/* overpaid (paid more than is due): nothing is asked for, all of it comes after payment */
	cr_assert_eq(credit_note_split(50, true, 100, 150, 0, &pre, &post, &max), 0);
	cr_assert_eq(pre, 0);
	cr_assert_eq(post, 50);
	cr_assert_eq(credit_note_split(151, true, 100, 150, 0, &pre, &post, &max),
		     CREDIT_NOTE_TOO_MUCH);
	cr_assert_eq(max, 150);
}

Test(credit_note, parts_must_add_up_exactly)
{
	cr_assert_eq(credit_note_parts_check(1800, 1000, 600, 200), 0);
	cr_assert_eq(credit_note_parts_check(1800, 1000, 600, 199), CREDIT_NOTE_MISMATCH);
	cr_assert_eq(credit_note_parts_check(0, 0, 0, 0), 0);
	cr_assert_eq(credit_note_parts_check(0, 0, 1, 0), CREDIT_NOTE_MISMATCH);
	cr_assert_eq(credit_note_parts_check(10, -1, 11, 0), -1);
	cr_assert_eq(credit_note_parts_check(10, INT64_MAX, INT64_MAX, 0), -1);
	cr_assert_eq(credit_note_parts_check(10, INT64_MAX - 1, 1, 1), -1);
}

Test(credit_note, line_by_quantity)
{
	int64_t unit = -1, amount = -1;
	cr_assert_eq(credit_note_line_by_quantity(1500, 3, 2, &unit, &amount), 0);
	cr_assert_eq(unit, 500);
	cr_assert_eq(amount, 1000);
	cr_assert_eq(credit_note_line_by_quantity(1500, 3, 3, &unit, &amount), 0);
	cr_assert_eq(amount, 1500);
	cr_assert_eq(credit_note_line_by_quantity(1500, 3, 4, &unit, &amount),
		     CREDIT_NOTE_TOO_MUCH);
	cr_assert_eq(credit_note_line_by_quantity(1000, 3, 1, &unit, &amount), CREDIT_NOTE_NO_UNIT);
	cr_assert_eq(credit_note_line_by_quantity(1000, 0, 1, &unit, &amount), CREDIT_NOTE_NO_UNIT);
	cr_assert_eq(credit_note_line_by_quantity(1000, 1, 0, &unit, &amount), -1);
	cr_assert_eq(credit_note_line_by_quantity(INT64_MAX - 1, 2, 2, &unit, &amount), 0);
	cr_assert_eq(amount, INT64_MAX - 1);
}
