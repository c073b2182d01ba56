/*
 * coupon_amount_in: the amount an amount_off coupon takes off in a currency (its own, or one of
 * its currency_options), none in any other; a percent_off coupon applies in every currency.
 * promotion_code_minimum_in: a promotion code's minimum in a purchase's currency (its own or a
 * currency option's), none known in another.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "api/billing_internal.h"

static const struct currency_amount opts[] = {{"eur", 450}, {"gbp", 400}};

static struct coupon amount_coupon(void)
{
	struct coupon c;
	memset(&c, 0, sizeof(c));
	c.amount_off = 500;
	strcpy(c.currency, "usd");
	c.duration = "once";
	c.n_options = 2;
	c.options = opts;
	return c;
}

Test(coupons, amount_in_own_currency_and_options)
{
	struct coupon c = amount_coupon();
	int64_t off = -1;
	cr_assert(coupon_amount_in(&c, "usd", &off));
	cr_assert_eq(off, 500);
	cr_assert(coupon_amount_in(&c, "eur", &off));
	cr_assert_eq(off, 450);
	cr_assert(coupon_amount_in(&c, "gbp", &off));
	cr_assert_eq(off, 400);
	cr_assert_not(coupon_amount_in(&c, "chf", &off));
	cr_assert_eq(off, 0, "nothing off in a currency it has no amount for");
	cr_assert_not(coupon_amount_in(&c, NULL, &off));
	cr_assert_eq(off, 0);
	cr_assert(coupon_amount_in(&c, "eur", NULL));
}

Test(coupons, percent_off_applies_in_every_currency)
{
	struct coupon c;
	memset(&c, 0, sizeof(c));
	c.percent_e4 = 100000;
	int64_t off = -1;
	cr_assert(coupon_amount_in(&c, "jpy", &off));
	cr_assert_eq(off, 0);
	cr_assert(coupon_amount_in(&c, NULL, &off));
}

Test(coupons, promotion_code_minimum_in_currency)
{
	static const struct currency_amount po[] = {{"eur", 1800}};
	struct promotion_code p;
	memset(&p, 0, sizeof(p));
	int64_t min = -1;
	cr_assert(promotion_code_minimum_in(&p, "eur", &min), "no minimum: any currency");
	cr_assert_eq(min, 0);
	p.has_minimum = true;
	p.minimum_amount = 2000;
	strcpy(p.minimum_amount_currency, "usd");
	p.n_options = 1;
	p.options = po;
	cr_assert(promotion_code_minimum_in(&p, "usd", &min));
	cr_assert_eq(min, 2000);
	cr_assert(promotion_code_minimum_in(&p, "eur", &min));
	cr_assert_eq(min, 1800);
	cr_assert_not(promotion_code_minimum_in(&p, "gbp", &min));
	cr_assert_not(promotion_code_minimum_in(&p, NULL, &min), "no purchase: not checkable");
}
