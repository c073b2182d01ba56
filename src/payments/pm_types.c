#include "payments/pm_types.h"

#include "core/json.h"

#include <stdio.h>
#include <string.h>

#define CURRENCIES(...) ((const char *const[]){__VA_ARGS__, NULL})

static const struct pm_type {
	const char *name;
	unsigned bit;
	const char *const *currencies; /* NULL: any */
	bool manual_capture;
} types[] = {
    {"card", PMT_CARD, NULL, true},
    {"sepa_debit", PMT_SEPA_DEBIT, CURRENCIES("eur"), false},
    {"us_bank_account", PMT_US_BANK_ACCOUNT, CURRENCIES("usd"), false},
    {"ideal", PMT_IDEAL, CURRENCIES("eur"), false},
    {"bancontact", PMT_BANCONTACT, CURRENCIES("eur"), false},
    /* Stripe's lists for each buy-now-pay-later method (its docs' "supported currencies");
     * each lender authorizes and captures apart, as a card issuer does */
    {"affirm", PMT_AFFIRM, CURRENCIES("usd", "cad"), true},
    {"afterpay_clearpay", PMT_AFTERPAY_CLEARPAY, CURRENCIES("aud", "cad", "gbp", "nzd", "usd"),
     true},
    {"klarna", PMT_KLARNA,
     CURRENCIES("aud", "cad", "chf", "czk", "dkk", "eur", "gbp", "nok", "nzd", "pln", "ron", "sek",
		"usd"),
     true},
    /* the bank transfer types' currencies (payments/bank_transfer.h) */
    {"customer_balance", PMT_CUSTOMER_BALANCE, CURRENCIES("eur", "gbp", "jpy", "mxn", "usd"),
     false},
    {"card_present", PMT_CARD_PRESENT, NULL, true},
};
#define NTYPES (sizeof(types) / sizeof(types[0]))

static const struct pm_type *by_bit(unsigned bit)
{
	for (size_t i = 0; i < NTYPES; i++)
		if (types[i].bit == bit)
			return &types[i];
	return NULL;
}

unsigned pm_type_bit(const char *name)
{
	if (!name)
		return 0;
	for (size_t i = 0; i < NTYPES; i++)
		if (strcmp(types[i].name, name) == 0)
			return types[i].bit;
	return 0;
}

const char *pm_type_name(unsigned bit)
{
	const struct pm_type *t = by_bit(bit);
	return t ? t->name : NULL;
}

const char *const *pm_type_currencies(unsigned bit)
{
	const struct pm_type *t = by_bit(bit);
	return t ? t->currencies : NULL;
}

bool pm_type_takes_currency(unsigned bit, const char *currency)
{
	const char *const *list = pm_type_currencies(bit);
	if (!list)
		return by_bit(bit) != NULL;
	for (; currency && *list; list++)
		if (strcmp(*list, currency) == 0)
			return true;
	return false;
}

bool pm_type_manual_capture(unsigned bit)
{
	const struct pm_type *t = by_bit(bit);
	return t && t->manual_capture;
}

/* Joins the names of set with sep, each wrapped in quote, into buf. */
static const char *join(unsigned set, const char *sep, const char *quote, char *buf, size_t n)
{
	size_t used = 0;
	if (n == 0)
		return NULL;
	buf[0] = '\0';
	for (size_t i = 0; i < NTYPES; i++) {
		if (!(set & types[i].bit))
			continue;
		int w = snprintf(buf + used, n - used, "%s%s%s%s", used ? sep : "", quote,
				 types[i].name, quote);
		if (w < 0 || (size_t)w >= n - used)
			return NULL;
		used += (size_t)w;
	}
	return buf;
}

const char *pm_types_json(unsigned set, char *buf, size_t n)
{
	if (n < 3)
		return NULL;
	buf[0] = '[';
	if (!join(set, ",", "\"", buf + 1, n - 2))
		return NULL;
	size_t len = strlen(buf);
	buf[len] = ']';
	buf[len + 1] = '\0';
	return buf;
}

unsigned pm_types_from_json(const char *json, unsigned dflt)
{
	if (!json)
		return dflt;
	unsigned set = 0;
	/* the arrays are Tender's own (pm_types_json): quoted names, nothing escaped */
	for (const char *p = strchr(json, '"'); p; p = strchr(p, '"')) {
		const char *end = strchr(p + 1, '"');
		if (!end)
			break;
		for (size_t i = 0; i < NTYPES; i++)
			if (strlen(types[i].name) == (size_t)(end - p - 1) &&
			    memcmp(types[i].name, p + 1, (size_t)(end - p - 1)) == 0)
				set |= types[i].bit;
		p = end + 1;
	}
	return set;
}

bool pm_types_allows(const char *json, unsigned dflt, const char *type)
{
	unsigned bit = pm_type_bit(type);
	return bit && (pm_types_from_json(json, dflt) & bit);
}

const char *pm_types_list(unsigned set, char *buf, size_t n)
{
	return join(set, ", ", "", buf, n);
}

unsigned pm_types_automatic(unsigned on, unsigned takes, const char *currency, bool manual,
			    bool redirects)
{
	unsigned set = 0;
	for (size_t i = 0; i < NTYPES; i++) {
		unsigned bit = types[i].bit;
		if (!(on & takes & bit) || (!redirects && (bit & PMT_REDIRECT)) ||
		    (manual && !types[i].manual_capture) ||
		    (currency && !pm_type_takes_currency(bit, currency)))
			continue;
		set |= bit;
	}
	return set;
}

void pm_types_render_automatic(struct json *j, const char *allow_redirects)
{
	json_key(j, "automatic_payment_methods");
	if (!allow_redirects) {
		json_nil(j);
		return;
	}
	json_obj_open(j);
	json_kv_str(j, "allow_redirects", allow_redirects);
	json_kv_bool(j, "enabled", true);
	json_obj_close(j);
}

void pm_types_render_configuration(struct json *j, const char *id, const char *parent)
{
	json_key(j, "payment_method_configuration_details");
	if (!id) {
		json_nil(j);
		return;
	}
	json_obj_open(j);
	json_kv_str(j, "id", id);
	json_kv_str_or_null(j, "parent", parent);
	json_obj_close(j);
}
