/* An invoice's discounts (api/discounts.c) with itemized prorations: a proration line carries
 * what its subscription's discounts took of it when it was made (signed: a credit's is
 * negative), taken off as it is, never discounted again, and summed with the same discount's
 * share of the other lines in total_discount_amounts. */
#include <criterion/criterion.h>
#include <string.h>

#include "api/billing_internal.h"
#include "http/req.h"

static struct req r;

static void setup(void)
{
	memset(&r, 0, sizeof(r));
	arena_init(&r.arena, 1 << 20);
}

static void teardown(void)
{
	arena_release(&r.arena);
}

TestSuite(proration_discounts, .init = setup, .fini = teardown);

static struct discount half(const char *id)
{
	struct discount d;
	memset(&d, 0, sizeof(d));
	strcpy(d.id, id);
	d.coupon.percent_e4 = 500000; /* 50 % */
	d.coupon.duration = "forever";
	return d;
}

Test(proration_discounts, itemized_amounts_taken_as_they_are_and_summed_by_discount)
{
	/* the invoice's discount, and the prorations' copies of the same discount */
	struct discount inv = half("di_a");
	struct discount pd[2] = {half("di_a"), half("di_a")};
	int64_t credit_off = -1016, charge_off = 2032;
	struct inv_line l[3];
	memset(l, 0, sizeof(l));
	strcpy(l[0].id, "il_credit");
	l[0].amount = -2032; /* gross: −30.00 × 21/31 */
	l[0].n_pd = 1;
	l[0].pd = &pd[0];
	l[0].pd_amount = &credit_off;
	strcpy(l[1].id, "il_charge");
	l[1].amount = 4065; /* gross: 60.00 × 21/31 */
	l[1].n_pd = 1;
	l[1].pd = &pd[1];
	l[1].pd_amount = &charge_off;
	strcpy(l[2].id, "il_period");
	l[2].amount = 6000;
	l[2].discountable = true;
	struct invoice_discounts_result res;
	memset(&res, 0, sizeof(res));
	cr_assert_eq(invoice_discounts_compute(&r, "usd", l, 3, &inv, 1, &res), 0);
	cr_assert_eq(res.subtotal, -2032 + 4065 + 6000);
	/* the prorations' own shares, and half of the period line, nothing more */
	cr_assert_eq(res.total, -2032 + 1016 + 4065 - 2032 + 6000 - 3000);
	cr_assert_str_eq(res.line_amounts[0], "[{\"amount\":-1016,\"discount\":\"di_a\"}]");
	cr_assert_str_eq(res.line_amounts[1], "[{\"amount\":2032,\"discount\":\"di_a\"}]");
	cr_assert_str_eq(res.line_amounts[2], "[{\"amount\":3000,\"discount\":\"di_a\"}]");
	cr_assert_str_eq(res.total_discount_amounts, "[{\"amount\":4016,\"discount\":\"di_a\"}]");
}

Test(proration_discounts, a_line_without_them_is_as_before)
{
	struct discount inv = half("di_b");
	struct inv_line l;
	memset(&l, 0, sizeof(l));
	strcpy(l.id, "il_x");
	l.amount = -2032; /* an included proration (net), not discountable: nothing comes off */
	struct invoice_discounts_result res;
	memset(&res, 0, sizeof(res));
	cr_assert_eq(invoice_discounts_compute(&r, "usd", &l, 1, &inv, 1, &res), 0);
	cr_assert_eq(res.total, -2032);
	cr_assert_str_eq(res.line_amounts[0], "[]");
	cr_assert_str_eq(res.total_discount_amounts, "[{\"amount\":0,\"discount\":\"di_b\"}]");
}
