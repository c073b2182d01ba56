/*
 * The built-in rate table. Standard rates only, as in force on 1 January 2025:
 *  - EU member states: the European Commission's "VAT rates applied in the Member States of the
 *    European Union" (situation at 1 January 2025), standard rate column.
 *  - GB, NO, CH, AU, NZ, JP, SG: each tax authority's published standard VAT / GST / JCT rate
 *    (HMRC 20 %, Skatteetaten 25 %, ESTV 8.1 % (since 2024), ATO 10 %, IRD 15 %, NTA 10 %,
 *    IRAS 9 % (since 2024)).
 *  - Canada: CRA's GST/HST rates (GST 5 %; HST 13 % in Ontario, 15 % in New Brunswick,
 *    Newfoundland and Labrador, Nova Scotia and Prince Edward Island) and the provincial taxes
 *    Revenu Québec (QST 9.975 %), British Columbia (PST 7 %), Saskatchewan (PST 6 %) and
 *    Manitoba (RST 7 %) publish.
 *  - United States: the state-level sales tax rate of each of the 50 states and DC, as the Tax
 *    Foundation's "State and Local Sales Tax Rates, 2025" lists it (its state column, which
 *    includes statewide add-ons such as California's 1.25 %). No county, city or district
 *    rates: a US destination is taxed at its state's rate only.
 * A rate change after that date needs this table changed (and Tender rebuilt).
 */
#include "tax/rates.h"

#include <stdio.h>
#include <string.h>

struct country_rate {
	const char *code, *name, *tax_type, *rate_name;
	int64_t percent_e4;
	bool eu;
};

/* Sorted by code (looked up linearly: 35 rows). */
static const struct country_rate countries[] = {
    {"AT", "Austria", "vat", "VAT", 200000, true},
    {"AU", "Australia", "gst", "GST", 100000, false},
    {"BE", "Belgium", "vat", "VAT", 210000, true},
    {"BG", "Bulgaria", "vat", "VAT", 200000, true},
    {"CA", "Canada", "gst", "GST", 50000, false},
    {"CH", "Switzerland", "vat", "VAT", 81000, false},
    {"CY", "Cyprus", "vat", "VAT", 190000, true},
    {"CZ", "Czech Republic", "vat", "VAT", 210000, true},
    {"DE", "Germany", "vat", "VAT", 190000, true},
    {"DK", "Denmark", "vat", "VAT", 250000, true},
    {"EE", "Estonia", "vat", "VAT", 220000, true},
    {"ES", "Spain", "vat", "VAT", 210000, true},
    {"FI", "Finland", "vat", "VAT", 255000, true},
    {"FR", "France", "vat", "VAT", 200000, true},
    {"GB", "United Kingdom", "vat", "VAT", 200000, false},
    {"GR", "Greece", "vat", "VAT", 240000, true},
    {"HR", "Croatia", "vat", "VAT", 250000, true},
    {"HU", "Hungary", "vat", "VAT", 270000, true},
    {"IE", "Ireland", "vat", "VAT", 230000, true},
    {"IT", "Italy", "vat", "VAT", 220000, true},
    {"JP", "Japan", "jct", "JCT", 100000, false},
    {"LT", "Lithuania", "vat", "VAT", 210000, true},
    {"LU", "Luxembourg", "vat", "VAT", 170000, true},
    {"LV", "Latvia", "vat", "VAT", 210000, true},
    {"MT", "Malta", "vat", "VAT", 180000, true},
    {"NL", "Netherlands", "vat", "VAT", 210000, true},
    {"NO", "Norway", "vat", "VAT", 250000, false},
    {"NZ", "New Zealand", "gst", "GST", 150000, false},
    {"PL", "Poland", "vat", "VAT", 230000, true},
    {"PT", "Portugal", "vat", "VAT", 230000, true},
    {"RO", "Romania", "vat", "VAT", 190000, true},
    {"SE", "Sweden", "vat", "VAT", 250000, true},
    {"SG", "Singapore", "gst", "GST", 90000, false},
    {"SI", "Slovenia", "vat", "VAT", 220000, true},
    {"SK", "Slovakia", "vat", "VAT", 230000, true},
    {"US", "United States", "sales_tax", "Sales Tax", 0, false},
};

struct state_rate {
	const char *code, *name;
	int64_t percent_e4;
};

static const struct state_rate us_states[] = {
    {"AK", "Alaska", 0},
    {"AL", "Alabama", 40000},
    {"AR", "Arkansas", 65000},
    {"AZ", "Arizona", 56000},
    {"CA", "California", 72500},
    {"CO", "Colorado", 29000},
    {"CT", "Connecticut", 63500},
    {"DC", "District of Columbia", 60000},
    {"DE", "Delaware", 0},
    {"FL", "Florida", 60000},
    {"GA", "Georgia", 40000},
    {"HI", "Hawaii", 40000},
    {"IA", "Iowa", 60000},
    {"ID", "Idaho", 60000},
    {"IL", "Illinois", 62500},
    {"IN", "Indiana", 70000},
    {"KS", "Kansas", 65000},
    {"KY", "Kentucky", 60000},
    {"LA", "Louisiana", 50000},
    {"MA", "Massachusetts", 62500},
    {"MD", "Maryland", 60000},
    {"ME", "Maine", 55000},
    {"MI", "Michigan", 60000},
    {"MN", "Minnesota", 68750},
    {"MO", "Missouri", 42250},
    {"MS", "Mississippi", 70000},
    {"MT", "Montana", 0},
    {"NC", "North Carolina", 47500},
    {"ND", "North Dakota", 50000},
    {"NE", "Nebraska", 55000},
    {"NH", "New Hampshire", 0},
    {"NJ", "New Jersey", 66250},
    {"NM", "New Mexico", 48750},
    {"NV", "Nevada", 68500},
    {"NY", "New York", 40000},
    {"OH", "Ohio", 57500},
    {"OK", "Oklahoma", 45000},
    {"OR", "Oregon", 0},
    {"PA", "Pennsylvania", 60000},
    {"RI", "Rhode Island", 70000},
    {"SC", "South Carolina", 60000},
    {"SD", "South Dakota", 42000},
    {"TN", "Tennessee", 70000},
    {"TX", "Texas", 62500},
    {"UT", "Utah", 61000},
    {"VA", "Virginia", 53000},
    {"VT", "Vermont", 60000},
    {"WA", "Washington", 65000},
    {"WI", "Wisconsin", 50000},
    {"WV", "West Virginia", 60000},
    {"WY", "Wyoming", 40000},
};

struct province_rate {
	const char *code, *name;
	int64_t hst_e4;	 /* the harmonized rate replacing GST, 0 where GST applies */
	int64_t prov_e4; /* the province's own tax, 0 when none */
	const char *prov_type, *prov_name;
};

static const struct province_rate ca_provinces[] = {
    {"AB", "Alberta", 0, 0, NULL, NULL},
    {"BC", "British Columbia", 0, 70000, "pst", "PST"},
    {"MB", "Manitoba", 0, 70000, "rst", "RST"},
    {"NB", "New Brunswick", 150000, 0, NULL, NULL},
    {"NL", "Newfoundland and Labrador", 150000, 0, NULL, NULL},
    {"NS", "Nova Scotia", 150000, 0, NULL, NULL},
    {"NT", "Northwest Territories", 0, 0, NULL, NULL},
    {"NU", "Nunavut", 0, 0, NULL, NULL},
    {"ON", "Ontario", 130000, 0, NULL, NULL},
    {"PE", "Prince Edward Island", 150000, 0, NULL, NULL},
    {"QC", "Quebec", 0, 99750, "qst", "QST"},
    {"SK", "Saskatchewan", 0, 60000, "pst", "PST"},
    {"YT", "Yukon", 0, 0, NULL, NULL},
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static bool is_code2(const char *s)
{
	return s && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z' && !s[2];
}

static const struct country_rate *country_find(const char *code)
{
	if (!is_code2(code))
		return NULL;
	for (size_t i = 0; i < COUNT(countries); i++)
		if (strcmp(countries[i].code, code) == 0)
			return &countries[i];
	return NULL;
}

static const struct state_rate *us_state_find(const char *code)
{
	if (!is_code2(code))
		return NULL;
	for (size_t i = 0; i < COUNT(us_states); i++)
		if (strcmp(us_states[i].code, code) == 0)
			return &us_states[i];
	return NULL;
}

static const struct province_rate *ca_province_find(const char *code)
{
	if (!is_code2(code))
		return NULL;
	for (size_t i = 0; i < COUNT(ca_provinces); i++)
		if (strcmp(ca_provinces[i].code, code) == 0)
			return &ca_provinces[i];
	return NULL;
}

int tax_rates_lookup(const char *country, const char *state,
		     struct tax_component ret[TAX_COMPONENTS_MAX])
{
	if (!is_code2(country))
		return -1;
	const struct country_rate *c = country_find(country);
	if (!c)
		return 0;
	memset(ret, 0, TAX_COMPONENTS_MAX * sizeof(*ret));
	if (strcmp(country, "US") == 0) {
		const struct state_rate *s = us_state_find(state);
		if (!s)
			return -1;
		ret[0] = (struct tax_component){c->code,       s->code,		  true,
						s->name,       "sales_tax",	  "Sales Tax",
						s->percent_e4, TAX_COVER_US_STATE};
		return 1;
	}
	if (strcmp(country, "CA") == 0) {
		const struct province_rate *p = ca_province_find(state);
		if (!p)
			return -1;
		int n = 0;
		if (p->hst_e4)
			ret[n++] = (struct tax_component){
			    c->code, p->code, false,	 c->name,
			    "hst",   "HST",   p->hst_e4, TAX_COVER_CA_FEDERAL};
		else
			ret[n++] = (struct tax_component){
			    c->code, p->code, false,	     c->name,
			    "gst",   "GST",   c->percent_e4, TAX_COVER_CA_FEDERAL};
		if (p->prov_e4)
			ret[n++] = (struct tax_component){
			    c->code,	  p->code,	true,	    p->name,
			    p->prov_type, p->prov_name, p->prov_e4, TAX_COVER_CA_PROVINCE};
		return n;
	}
	ret[0] =
	    (struct tax_component){c->code,	NULL,	      false,	     c->name,
				   c->tax_type, c->rate_name, c->percent_e4, TAX_COVER_COUNTRY};
	return 1;
}

bool tax_country_is_eu(const char *country)
{
	const struct country_rate *c = country_find(country);
	return c && c->eu;
}

const char *tax_country_name(const char *country)
{
	const struct country_rate *c = country_find(country);
	return c ? c->name : NULL;
}

bool tax_country_supported(const char *country)
{
	return country_find(country) != NULL;
}

bool tax_us_state_valid(const char *state)
{
	return us_state_find(state) != NULL;
}

bool tax_ca_province_valid(const char *province)
{
	return ca_province_find(province) != NULL;
}

/* ZIP code prefixes (first three digits) by state, ascending; a prefix in no range is a
 * territory's, the military's or unassigned. */
static const struct {
	int from, to;
	const char *state;
} zip3[] = {
    {5, 5, "NY"},     {10, 27, "MA"},	{28, 29, "RI"},	  {30, 38, "NH"},   {39, 49, "ME"},
    {50, 54, "VT"},   {55, 55, "MA"},	{56, 59, "VT"},	  {60, 69, "CT"},   {70, 89, "NJ"},
    {100, 149, "NY"}, {150, 196, "PA"}, {197, 199, "DE"}, {200, 200, "DC"}, {201, 201, "VA"},
    {202, 205, "DC"}, {206, 219, "MD"}, {220, 246, "VA"}, {247, 268, "WV"}, {270, 289, "NC"},
    {290, 299, "SC"}, {300, 319, "GA"}, {320, 339, "FL"}, {341, 349, "FL"}, {350, 369, "AL"},
    {370, 385, "TN"}, {386, 397, "MS"}, {398, 399, "GA"}, {400, 427, "KY"}, {430, 459, "OH"},
    {460, 479, "IN"}, {480, 499, "MI"}, {500, 528, "IA"}, {530, 549, "WI"}, {550, 567, "MN"},
    {569, 569, "DC"}, {570, 577, "SD"}, {580, 588, "ND"}, {590, 599, "MT"}, {600, 629, "IL"},
    {630, 658, "MO"}, {660, 679, "KS"}, {680, 693, "NE"}, {700, 715, "LA"}, {716, 729, "AR"},
    {730, 732, "OK"}, {733, 733, "TX"}, {734, 749, "OK"}, {750, 799, "TX"}, {800, 816, "CO"},
    {820, 831, "WY"}, {832, 838, "ID"}, {840, 847, "UT"}, {850, 865, "AZ"}, {870, 884, "NM"},
    {885, 885, "TX"}, {889, 898, "NV"}, {900, 961, "CA"}, {967, 968, "HI"}, {970, 979, "OR"},
    {980, 994, "WA"}, {995, 999, "AK"},
};

const char *tax_us_state_of_zip(const char *z)
{
	if (!z)
		return NULL;
	for (int i = 0; i < 5; i++)
		if (z[i] < '0' || z[i] > '9')
			return NULL;
	if (z[5] == '-') {
		for (int i = 6; i < 10; i++)
			if (z[i] < '0' || z[i] > '9')
				return NULL;
		if (z[10])
			return NULL;
	} else if (z[5]) {
		return NULL;
	}
	int p = (z[0] - '0') * 100 + (z[1] - '0') * 10 + (z[2] - '0');
	for (size_t i = 0; i < COUNT(zip3); i++)
		if (p >= zip3[i].from && p <= zip3[i].to)
			return zip3[i].state;
	return NULL;
}

const char *tax_ca_province_of_postal_code(const char *pc)
{
	/* A1A 1A1 or A1A1A1, either case */
	if (!pc)
		return NULL;
	char c[6];
	int n = 0;
	for (const char *p = pc; *p && n <= 6; p++) {
		if (*p == ' ' && n == 3)
			continue;
		if (n == 6)
			return NULL;
		c[n++] = (char)(*p >= 'a' && *p <= 'z' ? *p - 'a' + 'A' : *p);
	}
	if (n != 6)
		return NULL;
	for (int i = 0; i < 6; i++) {
		bool letter = c[i] >= 'A' && c[i] <= 'Z', digit = c[i] >= '0' && c[i] <= '9';
		if ((i % 2 == 0 && !letter) || (i % 2 == 1 && !digit))
			return NULL;
	}
	switch (c[0]) {
	case 'A':
		return "NL";
	case 'B':
		return "NS";
	case 'C':
		return "PE";
	case 'E':
		return "NB";
	case 'G':
	case 'H':
	case 'J':
		return "QC";
	case 'K':
	case 'L':
	case 'M':
	case 'N':
	case 'P':
		return "ON";
	case 'R':
		return "MB";
	case 'S':
		return "SK";
	case 'T':
		return "AB";
	case 'V':
		return "BC";
	case 'Y':
		return "YT";
	}
	return NULL;
}

bool tax_ca_province_has_pst(const char *province)
{
	const struct province_rate *p = ca_province_find(province);
	return p && p->prov_e4 > 0;
}

const char *tax_eu_vat_prefix(const char *country)
{
	return country && strcmp(country, "GR") == 0 ? "EL" : country;
}

/* A few of Stripe's tax codes, with its ids and names (descriptions in Tender's words). */
static const struct tax_code_info codes[] = {
    {TAX_CODE_NONTAXABLE, "Nontaxable",
     "Any nontaxable good or service: no tax is calculated for it in any jurisdiction.", true},
    {TAX_CODE_ESS, "General - Electronically Supplied Services",
     "A service supplied over the internet or an electronic network, with minimal human "
     "involvement. Taxed at the standard rate (Tender has no product-specific rules).",
     false},
    {"txcd_10103000", "Software as a service (SaaS) - personal use",
     "Pre-written software, delivered over the internet, for personal use. Taxed at the "
     "standard rate (Tender has no product-specific rules).",
     false},
    {"txcd_20030000", "General - Services",
     "A general service not covered by another code. Taxed at the standard rate.", false},
    {TAX_CODE_SHIPPING, "Shipping",
     "Charges for delivering goods to the customer. Taxed at the standard rate.", false},
    {TAX_CODE_GOODS, "General - Tangible Goods",
     "Any tangible or physical good. For jurisdictions that impose a tax, the standard rate is "
     "applied.",
     false},
};

const struct tax_code_info *tax_codes(int *ret_n)
{
	*ret_n = (int)COUNT(codes);
	return codes;
}

const struct tax_code_info *tax_code_find(const char *id)
{
	if (!id)
		return NULL;
	for (size_t i = 0; i < COUNT(codes); i++)
		if (strcmp(codes[i].id, id) == 0)
			return &codes[i];
	return NULL;
}

int tax_percent_decimal(int64_t percent_e4, char *out, int out_len)
{
	if (percent_e4 < 0 || out_len < 1)
		return -1;
	int64_t whole = percent_e4 / 10000, frac = percent_e4 % 10000;
	char f[8];
	int fl = snprintf(f, sizeof(f), "%04lld", (long long)frac);
	if (fl != 4)
		return -1;
	while (fl > 1 && f[fl - 1] == '0')
		fl--;
	int n = snprintf(out, (size_t)out_len, "%lld.%.*s", (long long)whole, fl, f);
	return n > 0 && n < out_len ? 0 : -1;
}
