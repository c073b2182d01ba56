#include "tax/engine.h"

#include <stddef.h>
#include <string.h>

#include "billing/billing.h"
#include "billing/tax.h"

const char *tax_reason_name(enum tax_reason reason)
{
	switch (reason) {
	case TAX_REASON_STANDARD_RATED:
		return "standard_rated";
	case TAX_REASON_NOT_COLLECTING:
		return "not_collecting";
	case TAX_REASON_NOT_SUPPORTED:
		return "not_supported";
	case TAX_REASON_CUSTOMER_EXEMPT:
		return "customer_exempt";
	case TAX_REASON_REVERSE_CHARGE:
		return "reverse_charge";
	case TAX_REASON_PRODUCT_EXEMPT:
		return "product_exempt";
	case TAX_REASON_NOT_SUBJECT_TO_TAX:
		return "not_subject_to_tax";
	}
	return "standard_rated";
}

static const struct {
	enum tax_reason reason;
	const char *code;
} reason_codes[] = {
    {TAX_REASON_REVERSE_CHARGE, "rc"}, {TAX_REASON_CUSTOMER_EXEMPT, "ce"},
    {TAX_REASON_NOT_COLLECTING, "nc"}, {TAX_REASON_NOT_SUBJECT_TO_TAX, "nt"},
    {TAX_REASON_PRODUCT_EXEMPT, "pe"},
};

const char *tax_reason_code(enum tax_reason reason)
{
	for (size_t i = 0; i < sizeof(reason_codes) / sizeof(reason_codes[0]); i++)
		if (reason_codes[i].reason == reason)
			return reason_codes[i].code;
	return NULL;
}

const char *tax_rate_id_reason(const char *rate_id)
{
	static const char prefix[] = "txr_auto";
	if (!rate_id || strncmp(rate_id, prefix, sizeof(prefix) - 1) != 0)
		return "standard_rated";
	const char *u = strrchr(rate_id, '_');
	if (!u || u - rate_id < (ptrdiff_t)sizeof(prefix))
		return "standard_rated";
	for (size_t i = 0; i < sizeof(reason_codes) / sizeof(reason_codes[0]); i++)
		if (strcmp(u + 1, reason_codes[i].code) == 0)
			return tax_reason_name(reason_codes[i].reason);
	return "standard_rated";
}

int64_t tax_entry_taxable(const char *rate_id, int64_t net)
{
	return strcmp(tax_rate_id_reason(rate_id), "standard_rated") == 0 ? net : 0;
}

static bool eu_scheme(const char *type)
{
	return strcmp(type, "oss_union") == 0 || strcmp(type, "oss_non_union") == 0 ||
	       strcmp(type, "ioss") == 0;
}

static bool reg_covers(const struct tax_registration_in *g, const struct tax_component *c)
{
	switch (c->cover) {
	case TAX_COVER_COUNTRY:
		if (strcmp(g->country, c->country) == 0)
			return true;
		return tax_country_is_eu(c->country) && tax_country_is_eu(g->country) &&
		       eu_scheme(g->type);
	case TAX_COVER_US_STATE:
		return strcmp(g->country, "US") == 0 && c->state &&
		       strcmp(g->state, c->state) == 0 && strcmp(g->type, "state_sales_tax") == 0;
	case TAX_COVER_CA_FEDERAL:
		return strcmp(g->country, "CA") == 0 &&
		       (strcmp(g->type, "standard") == 0 || strcmp(g->type, "simplified") == 0);
	case TAX_COVER_CA_PROVINCE:
		return strcmp(g->country, "CA") == 0 && c->state &&
		       strcmp(g->type, "province_standard") == 0 && strcmp(g->state, c->state) == 0;
	}
	return false;
}

static bool covered(const struct tax_context *ctx, const struct tax_component *c)
{
	for (int i = 0; i < ctx->n_regs; i++)
		if (reg_covers(&ctx->regs[i], c))
			return true;
	return false;
}

static bool registered_in(const struct tax_context *ctx, const char *country)
{
	for (int i = 0; i < ctx->n_regs; i++)
		if (strcmp(ctx->regs[i].country, country) == 0)
			return true;
	return false;
}

/* EU cross-border B2B: the customer's VAT id is of its own member state, the merchant's head
 * office is in another one where it is registered. */
static bool eu_b2b(const struct tax_context *ctx, const struct tax_component *c)
{
	return c->cover == TAX_COVER_COUNTRY && tax_country_is_eu(c->country) &&
	       strcmp(ctx->vat_id_country, c->country) == 0 &&
	       tax_country_is_eu(ctx->head_office) && strcmp(ctx->head_office, c->country) != 0 &&
	       registered_in(ctx, ctx->head_office);
}

bool tax_engine_location_valid(const struct tax_context *ctx)
{
	struct tax_component comps[TAX_COMPONENTS_MAX];
	return tax_rates_lookup(ctx->country, ctx->state, comps) >= 0;
}

int tax_engine_line(const struct tax_context *ctx, int64_t amount, bool inclusive,
		    const char *tax_code, struct tax_line_result *ret)
{
	if (amount > BILLING_AMOUNT_MAX || amount < -BILLING_AMOUNT_MAX ||
	    (ctx->n_regs > 0 && !ctx->regs) || ctx->n_regs < 0)
		return TAX_ERR_INPUT;
	struct tax_component comps[TAX_COMPONENTS_MAX];
	int n = tax_rates_lookup(ctx->country, ctx->state, comps);
	if (n < 0)
		return TAX_ERR_LOCATION;
	struct tax_line_result out;
	memset(&out, 0, sizeof(out));
	out.net = amount;
	if (n == 0) {
		struct tax_part *p = &out.parts[out.n++];
		p->c.country = ctx->country;
		p->c.jurisdiction_name = ctx->country;
		p->c.cover = TAX_COVER_COUNTRY;
		p->reason = TAX_REASON_NOT_SUPPORTED;
		*ret = out;
		return 0;
	}
	const struct tax_code_info *code = tax_code_find(tax_code ? tax_code : TAX_CODE_GOODS);
	bool exempt_code = code && code->exempt;
	int64_t pct[TAX_COMPONENTS_MAX];
	bool inc[TAX_COMPONENTS_MAX];
	for (int i = 0; i < n; i++) {
		struct tax_part *p = &out.parts[out.n++];
		p->c = comps[i];
		bool b2b = eu_b2b(ctx, &comps[i]);
		if (!b2b && !covered(ctx, &comps[i]))
			p->reason = TAX_REASON_NOT_COLLECTING;
		else if (ctx->override == TAX_OVERRIDE_CUSTOMER_EXEMPT)
			p->reason = TAX_REASON_CUSTOMER_EXEMPT;
		else if (ctx->override == TAX_OVERRIDE_REVERSE_CHARGE || b2b)
			p->reason = TAX_REASON_REVERSE_CHARGE;
		else if (exempt_code)
			p->reason = TAX_REASON_PRODUCT_EXEMPT;
		else if (comps[i].percent_e4 == 0)
			p->reason = TAX_REASON_NOT_SUBJECT_TO_TAX;
		else
			p->reason = TAX_REASON_STANDARD_RATED;
		p->percent_e4 = p->reason == TAX_REASON_STANDARD_RATED ? comps[i].percent_e4 : 0;
		pct[i] = p->percent_e4;
		inc[i] = inclusive;
	}
	int64_t amounts[TAX_COMPONENTS_MAX], net, exc, incl;
	if (billing_tax_line(amount, pct, inc, n, amounts, &net, &exc, &incl) != 0)
		return TAX_ERR_INPUT;
	out.net = net;
	if (__builtin_add_overflow(exc, incl, &out.amount_tax))
		return TAX_ERR_INPUT;
	for (int i = 0; i < n; i++) {
		out.parts[i].amount = amounts[i];
		out.parts[i].taxable = out.parts[i].reason == TAX_REASON_STANDARD_RATED ? net : 0;
	}
	*ret = out;
	return 0;
}

int tax_engine_spread(int64_t flat, int n, const int64_t *amount, const int64_t *tax,
		      const bool *inclusive, int64_t *ret_amount, int64_t *ret_tax)
{
	if (n < 1 || n > TAX_SPREAD_MAX || flat >= 0)
		return TAX_ERR_INPUT;
	int64_t gross[TAX_SPREAD_MAX], total = 0;
	for (int i = 0; i < n; i++) {
		if (amount[i] < 0 || tax[i] < 0 || (inclusive[i] && tax[i] > amount[i]))
			return TAX_ERR_INPUT;
		gross[i] = amount[i];
		if (!inclusive[i] && __builtin_add_overflow(gross[i], tax[i], &gross[i]))
			return TAX_ERR_INPUT;
		if (__builtin_add_overflow(total, gross[i], &total))
			return TAX_ERR_INPUT;
	}
	if (total == 0 || flat < -total)
		return TAX_ERR_EXCEEDS;
	int64_t out_a[TAX_SPREAD_MAX], out_t[TAX_SPREAD_MAX];
	int64_t cum = 0, prev = 0;
	for (int i = 0; i < n; i++) {
		int64_t upto, share, t = 0, a;
		if (__builtin_add_overflow(cum, gross[i], &cum) ||
		    billing_mul_div_round(flat, cum, total, &upto) != 0)
			return TAX_ERR_INPUT;
		share = upto - prev; /* |share| <= gross[i]: |flat| <= total */
		prev = upto;
		if (share < -gross[i])
			return TAX_ERR_INPUT;
		if (share != 0 && billing_mul_div_round(share, tax[i], gross[i], &t) != 0)
			return TAX_ERR_INPUT;
		if (t < -tax[i])
			t = -tax[i];
		a = inclusive[i] ? share : share - t;
		if (a < -amount[i]) { /* the rounding took too much from the amount: tax takes it */
			a = -amount[i];
			t = share - a;
		}
		out_a[i] = a;
		out_t[i] = t;
	}
	memcpy(ret_amount, out_a, (size_t)n * sizeof(*out_a));
	memcpy(ret_tax, out_t, (size_t)n * sizeof(*out_t));
	return 0;
}
