/*
 * The arithmetic of tax rates on an invoice line, with no store and no request (api/tax_rates.c
 * and the invoice computation in api/discounts.c call it).
 *
 * A rate's percentage is an integer in millionths of the whole (percent × 10,000: 19.5 % is
 * 195,000), as coupons' are (billing.h), so no float touches an amount. Tax is taken on a line's
 * taxable amount: what is left of it after its discounts. One rounding rule, Stripe's: each
 * line's tax for each rate is rounded on its own to the minor unit, halves away from zero (a
 * credit line's tax is exactly the negative of the same charge's).
 *
 * Inclusive rates are part of the amount: with I the sum of a line's inclusive percentages, each
 * inclusive rate's tax is taxable × p / (100 % + I), and the net (the amount excluding tax, what
 * exclusive rates are taken on and every rate's taxable_amount) is taxable less those taxes.
 * Exclusive rates add to the amount: net × p / 100 % each.
 */
#ifndef TENDER_BILLING_TAX_H
#define TENDER_BILLING_TAX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Tender's bound on the tax rates of one object (an invoice item, a subscription item, an
 * invoice's or a subscription's defaults). */
#define BILLING_TAX_RATES_MAX 10

/* "19.5", "0", "100", "7.0001" → percent × 10,000 (0 <= p <= 100, at most four decimals). 0, or
 * -1 for anything else (signs, exponents, spaces, more decimals, out of range). */
int billing_tax_percent_parse(const char *s, int64_t *ret_e4);

/* x × num / den rounded to the nearest integer, halves away from zero (den > 0, exact: a
 * 128-bit product). 0, or -1 when den < 1 or the result does not fit in int64. */
int billing_mul_div_round(int64_t x, int64_t num, int64_t den, int64_t *ret);

/* The taxes of n rates (percent_e4[i], inclusive[i]; 0 <= p <= 1,000,000, n <= the bound) on
 * one line's taxable amount (either sign, |taxable| <= BILLING_AMOUNT_MAX): ret_amounts[i] each
 * rate's tax, *ret_net the amount excluding inclusive tax, *ret_exclusive the sum of the
 * exclusive taxes (what the line adds to the invoice's total), *ret_inclusive the sum of the
 * inclusive ones (inside the amount). 0, or -1 on bad input with nothing written. */
int billing_tax_line(int64_t taxable, const int64_t *percent_e4, const bool *inclusive, int n,
		     int64_t *ret_amounts, int64_t *ret_net, int64_t *ret_exclusive,
		     int64_t *ret_inclusive);

/* A part of a line's tax credited back (a credit note crediting part of an invoice line): the
 * line's tax for one rate (or its taxable amount) times the credited share, part / whole (the
 * credited amount over the line's amount), rounded to the minor unit halves away from zero. The
 * line's earlier credits took before_amount of its amount and before_tax of this tax; when this
 * part completes the line (before_amount + part == whole) it takes exactly the remainder
 * (tax − before_tax), and no share ever takes more than that remainder, so all of a line's
 * credits together never credit more tax than the line had. tax of either sign (the share has
 * its sign), 0 < part, 0 <= before_amount, before_amount + part <= whole. 0 (*ret set), or -1
 * on bad input or an overflow with nothing written. */
int billing_tax_share(int64_t tax, int64_t part, int64_t whole, int64_t before_amount,
		      int64_t before_tax, int64_t *ret);

#endif
