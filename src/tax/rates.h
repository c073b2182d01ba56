/*
 * Stripe Tax's jurisdictions as Tender knows them: a built-in table of standard rates and the
 * tax codes it understands, with no store and no request (tax/engine.c and api/tax.c read it).
 *
 * Rates are exact integers in millionths of the whole (percent × 10,000, as billing/tax.h and
 * tax rates keep them): 19 % is 190,000, Quebec's 9.975 % QST is 99,750. Only standard rates
 * are known (no reduced or zero rates by product, no US local or county rates): see rates.c for
 * where they come from and as of when.
 */
#ifndef TENDER_TAX_RATES_H
#define TENDER_TAX_RATES_H

#include <stdbool.h>
#include <stdint.h>

/* The most taxes one destination levies (Canada: GST plus a provincial tax). */
#define TAX_COMPONENTS_MAX 2

/* Which kind of registration makes Tender collect a component. */
enum tax_cover {
	TAX_COVER_COUNTRY,     /* a registration in the country (EU: or an OSS/IOSS one) */
	TAX_COVER_US_STATE,    /* a US state_sales_tax registration for the state */
	TAX_COVER_CA_FEDERAL,  /* a Canadian standard or simplified registration (GST/HST) */
	TAX_COVER_CA_PROVINCE, /* a Canadian province_standard registration for the province */
};

/* One tax a destination levies. Strings are static. */
struct tax_component {
	const char *country;	       /* "DE" */
	const char *state;	       /* NULL, or the state / province ("CA", "QC") */
	bool state_level;	       /* the jurisdiction is the state (else the country) */
	const char *jurisdiction_name; /* "Germany", "California", "Quebec" */
	const char *tax_type;  /* Stripe's tax_type: vat, sales_tax, gst, hst, qst, pst, rst, jct */
	const char *rate_name; /* "VAT", "Sales Tax", "GST", … */
	int64_t percent_e4;    /* percent × 10,000 */
	enum tax_cover cover;
};

/* The taxes levied at a destination (country: two upper-case letters; state: the US state's or
 * Canadian province's code, needed there, ignored elsewhere). Returns how many went to ret
 * (1 to TAX_COMPONENTS_MAX; a US state without sales tax has one component at 0 %), 0 when
 * Tender has no rates for the country (Stripe's not_supported), or -1 when the location is not
 * a location (a malformed country, a US or Canadian address without a known state). */
int tax_rates_lookup(const char *country, const char *state,
		     struct tax_component ret[TAX_COMPONENTS_MAX]);

/* Whether country is one of the 27 EU member states. */
bool tax_country_is_eu(const char *country);
/* The English name of a country Tender has rates for, or NULL. */
const char *tax_country_name(const char *country);
/* Whether Tender takes registrations in country (every country it has rates for). */
bool tax_country_supported(const char *country);
/* Whether state is a US state's (or DC's) two-letter code. */
bool tax_us_state_valid(const char *state);
/* Whether province is a Canadian province's or territory's two-letter code. */
bool tax_ca_province_valid(const char *province);
/* The US state (or DC) a ZIP code (5 digits, or ZIP+4) is in, by its first three digits (the
 * USPS's sectional center ranges), or NULL (malformed, or a territory's or the military's). */
const char *tax_us_state_of_zip(const char *postal_code);
/* The Canadian province a postal code (A1A 1A1) is in, by its first letter, or NULL (malformed,
 * or X: Northwest Territories and Nunavut share it). */
const char *tax_ca_province_of_postal_code(const char *postal_code);
/* Whether a Canadian province levies a provincial tax of its own (QC, BC, SK, MB). */
bool tax_ca_province_has_pst(const char *province);
/* The prefix an EU VAT number of country carries ("EL" for Greece, else the country). */
const char *tax_eu_vat_prefix(const char *country);

/* A Stripe tax code Tender knows. */
struct tax_code_info {
	const char *id;
	const char *name;
	const char *description;
	bool exempt; /* nontaxable everywhere (product_exempt) */
};
/* The known codes in id order, and how many. */
const struct tax_code_info *tax_codes(int *ret_n);
/* The code with this id, or NULL. */
const struct tax_code_info *tax_code_find(const char *id);

#define TAX_CODE_NONTAXABLE "txcd_00000000"
#define TAX_CODE_ESS                                                                               \
	"txcd_10000000" /* Stripe's preset default: electronically supplied services               \
			 */
#define TAX_CODE_SHIPPING "txcd_92010001"
#define TAX_CODE_GOODS "txcd_99999999"

/* percent × 10,000 as Stripe's percentage_decimal: "19.0", "9.975", "0.0" (at least one
 * decimal, no trailing zeros beyond it). 0, or -1 when out does not hold it. */
int tax_percent_decimal(int64_t percent_e4, char *out, int out_len);

#endif
