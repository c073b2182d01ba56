/*
 * /v1/country_specs: Stripe's country_spec, what Connect accepts for an account of one country.
 *
 * A static table, no database: the countries are the ones Tender's Connect knows a settlement
 * currency for (accounts.c's country_currencies, the same 27 countries and currencies, kept in
 * the same order of importance there and alphabetical here, as Stripe lists them). What each spec
 * says is what Tender does, not a copy of Stripe's tables:
 *   - default_currency: the currency an account of the country settles in (accounts.c);
 *   - supported_bank_account_currencies: that currency, for bank accounts of every country of the
 *     table that uses it (external accounts are checked for a country and a currency only);
 *   - supported_payment_currencies: every currency Tender charges in (money/currencies.def);
 *   - supported_payment_methods: card (Tender takes cards only);
 *   - supported_transfer_countries: every country of the table (transfers reach any connected
 *     account, whatever its country);
 *   - verification_fields: what onboarding asks of an individual or a company (accounts.c's
 *     account_due_compute and persons.c's person_due), the same everywhere; nothing additional.
 * Lists page through the table in its (alphabetical) order with limit, starting_after and
 * ending_before (a country code; an unknown one is a 404, as for any cursor).
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "api/resources.h"
#include "money/currency.h"

static const struct {
	const char *id, *currency;
} specs[] = {
    {"AT", "eur"}, {"AU", "aud"}, {"BE", "eur"}, {"BR", "brl"}, {"CA", "cad"}, {"CH", "chf"},
    {"DE", "eur"}, {"DK", "dkk"}, {"ES", "eur"}, {"FI", "eur"}, {"FR", "eur"}, {"GB", "gbp"},
    {"HK", "hkd"}, {"IE", "eur"}, {"IN", "inr"}, {"IT", "eur"}, {"JP", "jpy"}, {"LU", "eur"},
    {"MX", "mxn"}, {"NL", "eur"}, {"NO", "nok"}, {"NZ", "nzd"}, {"PL", "pln"}, {"PT", "eur"},
    {"SE", "sek"}, {"SG", "sgd"}, {"US", "usd"},
};
#define N_SPECS (sizeof(specs) / sizeof(specs[0]))

/* Onboarding's requirements, alphabetical as Stripe lists them. */
static const char *const individual_minimum[] = {
    "business_type",
    "external_account",
    "individual.address.city",
    "individual.address.line1",
    "individual.address.postal_code",
    "individual.dob.day",
    "individual.dob.month",
    "individual.dob.year",
    "individual.first_name",
    "individual.last_name",
    "tos_acceptance.date",
    "tos_acceptance.ip",
};
static const char *const company_minimum[] = {
    "business_type", "company.address.city", "company.address.line1", "company.address.postal_code",
    "company.name",  "external_account",     "tos_acceptance.date",   "tos_acceptance.ip",
};

static void strings(struct json *j, const char *key, const char *const *v, size_t n)
{
	json_key(j, key);
	json_arr_open(j);
	for (size_t i = 0; i < n; i++)
		json_str(j, v[i]);
	json_arr_close(j);
}

static void field_details(struct json *j, const char *key, const char *const *minimum, size_t n)
{
	json_key(j, key);
	json_obj_open(j);
	strings(j, "additional", NULL, 0);
	strings(j, "minimum", minimum, n);
	json_obj_close(j);
}

static void spec_render(size_t at, struct json *j)
{
	json_obj_open(j);
	json_kv_str(j, "id", specs[at].id);
	json_kv_str(j, "object", "country_spec");
	json_kv_str(j, "default_currency", specs[at].currency);
	json_key(j, "supported_bank_account_currencies");
	json_obj_open(j);
	json_key(j, specs[at].currency);
	json_arr_open(j);
	for (size_t i = 0; i < N_SPECS; i++)
		if (strcmp(specs[i].currency, specs[at].currency) == 0)
			json_str(j, specs[i].id);
	json_arr_close(j);
	json_obj_close(j);
	json_key(j, "supported_payment_currencies");
	json_arr_open(j);
	for (size_t i = 0; i < currency_count(); i++)
		json_str(j, currency_at(i)->code);
	json_arr_close(j);
	static const char *const methods[] = {"card"};
	strings(j, "supported_payment_methods", methods, 1);
	json_key(j, "supported_transfer_countries");
	json_arr_open(j);
	for (size_t i = 0; i < N_SPECS; i++)
		json_str(j, specs[i].id);
	json_arr_close(j);
	json_key(j, "verification_fields");
	json_obj_open(j);
	field_details(j, "company", company_minimum,
		      sizeof(company_minimum) / sizeof(company_minimum[0]));
	field_details(j, "individual", individual_minimum,
		      sizeof(individual_minimum) / sizeof(individual_minimum[0]));
	json_obj_close(j);
	json_obj_close(j);
}

/* The table index of a country code (either case), or -1. */
static int spec_find(const char *id)
{
	if (!id || strlen(id) != 2)
		return -1;
	for (size_t i = 0; i < N_SPECS; i++)
		if (strcasecmp(specs[i].id, id) == 0)
			return (int)i;
	return -1;
}

static int h_retrieve(struct req *r)
{
	int at = spec_find(r->args[0]);
	if (at < 0)
		return req_fail_missing(r, "country_spec", r->args[0], "country");
	spec_render((size_t)at, req_json(r));
	return 0;
}

#define LIMIT_MAX 100
#define LIMIT_DEFAULT 10

static int h_list(struct req *r)
{
	int64_t limit = LIMIT_DEFAULT;
	const char *ls = param_str(r, "limit");
	if (ls && *ls && (param_int(r, "limit", &limit) != 1 || limit < 1 || limit > LIMIT_MAX))
		return req_fail(r, ERR_LIST_LIMIT, "limit", "%s", ls);
	const char *after = param_str(r, "starting_after");
	const char *before = param_str(r, "ending_before");
	if (after && !*after)
		after = NULL;
	if (before && !*before)
		before = NULL;
	if (after && before)
		return req_fail(r, ERR_PARAM_BAD, "ending_before",
				"You may only specify one of these parameters: ending_before, "
				"starting_after.");
	/* the page is [from, to) of the table */
	size_t from = 0, to = N_SPECS;
	if (after) {
		int at = spec_find(after);
		if (at < 0)
			return req_fail_missing(r, "country_spec", after, "starting_after");
		from = (size_t)at + 1;
	} else if (before) {
		int at = spec_find(before);
		if (at < 0)
			return req_fail_missing(r, "country_spec", before, "ending_before");
		to = (size_t)at;
		from = to > (size_t)limit ? to - (size_t)limit : 0;
	}
	bool has_more;
	if (before) {
		has_more = from > 0;
	} else {
		has_more = to - from > (size_t)limit;
		if (has_more)
			to = from + (size_t)limit;
	}
	struct json *j = req_json(r);
	json_obj_open(j);
	json_kv_str(j, "object", "list");
	json_key(j, "data");
	json_arr_open(j);
	for (size_t i = from; i < to; i++)
		spec_render(i, j);
	json_arr_close(j);
	json_kv_bool(j, "has_more", has_more);
	json_kv_str(j, "url", "/v1/country_specs");
	json_obj_close(j);
	return 0;
}

static const struct param_spec list_params[] = {
    {"limit", PT_INT, 0, 0, NULL, NULL},
    {"starting_after", PT_STRING, 0, 255, NULL, NULL},
    {"ending_before", PT_STRING, 0, 255, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec no_params[] = {{NULL, 0, 0, 0, NULL, NULL}};

const struct route country_specs_routes[] = {
    {"GET", "/v1/country_specs", h_list, list_params, 0},
    {"GET", "/v1/country_specs/{id}", h_retrieve, no_params, 0},
    {NULL, NULL, NULL, NULL, 0},
};
