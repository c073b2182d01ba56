/*
 * Stripe Tax's computation, with no store and no request: what one line (or a shipping cost)
 * owes at a destination, given the merchant's registrations. api/tax.c calls it for
 * /v1/tax/calculations; invoices or Checkout's automatic_tax could call it the same way, with
 * plain structs.
 *
 * Destination-based: the customer's address decides the jurisdiction (tax/rates.h gives the
 * taxes levied there). Each tax (a component: Canada levies GST and a provincial tax) is
 * decided on its own, in this order:
 *   no rates for the country                    → not_supported
 *   no registration covering it (see below)     → not_collecting
 *   customer exempt (taxability_override)       → customer_exempt
 *   reverse charge (override, or EU B2B below)  → reverse_charge
 *   nontaxable tax code (txcd_00000000)         → product_exempt
 *   a covered jurisdiction without the tax (0 %) → not_subject_to_tax
 *   else                                        → standard_rated, at the table's rate
 * A registration covers a component when it is in the component's country (a US one: for its
 * state with type state_sales_tax; a Canadian one: standard or simplified for GST/HST,
 * province_standard for its province's PST/QST/RST); an EU registration of type oss_union,
 * oss_non_union or ioss covers every EU member state. EU cross-border B2B: a customer whose
 * eu_vat id is of its own (EU) country, buying from a merchant whose head office is in another
 * EU country and who holds a registration there (or in the customer's country), is reverse
 * charged.
 *
 * Arithmetic (billing/tax.h's billing_tax_line, the one manual tax rates use): the collected
 * rates are taken on the line's amount, each rounded on its own to the minor unit, halves away
 * from zero; an inclusive line's taxes are inside its amount (each rate's share of amount over
 * 100 % plus the sum of the line's rates), an exclusive line's come on top of it. Only
 * standard_rated taxes count; every other reason owes 0 on a taxable amount of 0. Amounts are
 * bounded by BILLING_AMOUNT_MAX and every sum is overflow-checked.
 */
#ifndef TENDER_TAX_ENGINE_H
#define TENDER_TAX_ENGINE_H

#include <stdbool.h>
#include <stdint.h>

#include "tax/rates.h"

/* bad input or an amount out of range */
#define TAX_ERR_INPUT (-1)
/* the destination is not a location (customer_tax_location_invalid) */
#define TAX_ERR_LOCATION (-2)
/* a reversal takes more than is left */
#define TAX_ERR_EXCEEDS (-3)

/* The most parts tax_engine_spread takes (a transaction's lines and its shipping). */
#define TAX_SPREAD_MAX 101

enum tax_reason {
	TAX_REASON_STANDARD_RATED,
	TAX_REASON_NOT_COLLECTING,
	TAX_REASON_NOT_SUPPORTED,
	TAX_REASON_CUSTOMER_EXEMPT,
	TAX_REASON_REVERSE_CHARGE,
	TAX_REASON_PRODUCT_EXEMPT,
	TAX_REASON_NOT_SUBJECT_TO_TAX,
};
/* Stripe's taxability_reason string. */
const char *tax_reason_name(enum tax_reason reason);

/* Automatic tax (invoices, Checkout, quotes) shows a tax that owes nothing as an entry of 0 at
 * a 0 % rate of its own, as Stripe does; that rate's id ends in "_" and the reason's short code,
 * so whatever renders an entry by its rate id knows its taxability_reason. The code of a reason
 * owing nothing that is shown ("rc" reverse_charge, "ce" customer_exempt, "nc" not_collecting,
 * "nt" not_subject_to_tax, "pe" product_exempt), or NULL (standard_rated, not_supported: Tender
 * has no rate to show there). */
const char *tax_reason_code(enum tax_reason reason);
/* The taxability_reason of a tax rate by its id: the reason a Stripe Tax rate's id names (see
 * tax_reason_code), else standard_rated (every other rate, manual ones included). */
const char *tax_rate_id_reason(const char *rate_id);
/* The taxable_amount an entry of rate_id shows for a line's net amount: Stripe reports a tax
 * that owes nothing (reverse_charge, customer_exempt, not_collecting, not_subject_to_tax,
 * product_exempt: a Stripe Tax rate of 0 % named by tax_reason_code) with a taxable_amount of 0,
 * as its Tax calculations do (tax_compute); every other rate's is the net. */
int64_t tax_entry_taxable(const char *rate_id, int64_t net);

enum tax_override {
	TAX_OVERRIDE_NONE,
	TAX_OVERRIDE_CUSTOMER_EXEMPT,
	TAX_OVERRIDE_REVERSE_CHARGE,
};

/* A registration in force at the tax date. */
struct tax_registration_in {
	char country[3]; /* "DE" */
	char state[3];	 /* a US state or Canadian province ("" when none) */
	char
	    type[32]; /* Stripe's country_options[…][type]: standard, oss_union, state_sales_tax… */
};

/* Where the customer is and what the merchant is registered for. */
struct tax_context {
	char country[3]; /* destination: the customer's address */
	char state[3];
	enum tax_override override;
	char vat_id_country[3]; /* the country of the customer's eu_vat id ("" when none) */
	char head_office[3];	/* the merchant's head office country ("" when unset) */
	const struct tax_registration_in *regs;
	int n_regs;
};

/* One tax of a line. c's strings are static, but for not_supported, where c.country and
 * c.jurisdiction_name point at the context's country. */
struct tax_part {
	struct tax_component c;
	enum tax_reason reason;
	int64_t percent_e4; /* the rate taken: c.percent_e4 when standard_rated, else 0 */
	int64_t amount;
	int64_t taxable;
};

struct tax_line_result {
	int n;
	struct tax_part parts[TAX_COMPONENTS_MAX];
	int64_t amount_tax; /* the parts' sum */
	int64_t net;	    /* the amount without inclusive tax (an exclusive line's amount) */
};

/* The taxes of a line of `amount` minor units (|amount| <= BILLING_AMOUNT_MAX; a reversal's is
 * negative), inclusive or not, of tax_code (NULL: txcd_99999999), at ctx's destination. 0 with
 * *ret filled, TAX_ERR_LOCATION, or TAX_ERR_INPUT; nothing written on failure. */
int tax_engine_line(const struct tax_context *ctx, int64_t amount, bool inclusive,
		    const char *tax_code, struct tax_line_result *ret);

/* A reversal's flat amount (flat < 0, a total including tax) spread over n parts of what is
 * left of a transaction (amount[i] >= 0 and tax[i] >= 0 each; inclusive[i]: the tax is inside
 * the amount) in proportion to each part's gross (its amount, plus its tax when exclusive):
 * cumulative shares rounded halves away from zero, so that they add up to flat exactly; each
 * share's tax is its part of what is left of the part's tax (rounded the same way), the rest
 * its amount, neither ever more than is left. ret_amount[i] and ret_tax[i] (<= 0). 0,
 * TAX_ERR_EXCEEDS when -flat is more than the parts' gross (or nothing is left), or
 * TAX_ERR_INPUT (bad input, an overflow); nothing written on failure. */
int tax_engine_spread(int64_t flat, int n, const int64_t *amount, const int64_t *tax,
		      const bool *inclusive, int64_t *ret_amount, int64_t *ret_tax);

/* Whether ctx's destination is a location (the check tax_engine_line starts with). */
bool tax_engine_location_valid(const struct tax_context *ctx);

#endif
