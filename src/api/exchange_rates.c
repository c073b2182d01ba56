/*
 * GET /v1/exchange_rates and GET /v1/exchange_rates/{currency}: the rates Tender converts with
 * (the table `--rates-file` loaded, or the bundled snapshot), as Stripe's `exchange_rate`
 * objects: one per currency the table can convert, its id the lowercase code, `rates` the rate
 * from it to every other such currency, taken exactly as a payment made now would take it
 * (fx_lookup: direct, inverted or crossed through eur/usd, FX_RATE_DECIMALS decimals, trailing
 * zeros trimmed). No store access: the table is process-wide and read-only (app_fx_acquire), the
 * same for every merchant, as Stripe's rates are. The list is in code order and pages by code
 * (`starting_after` / `ending_before` name a currency); its default limit is every currency, as
 * Stripe documents.
 */
#include <stdbool.h>
#include <string.h>

#include "api/resources.h"
#include "app.h"
#include "core/clock.h"
#include "core/str.h"
#include "money/currency.h"
#include "money/fx.h"

static const struct param_spec no_params[] = {{NULL, 0, 0, 0, NULL, NULL}};
static const struct param_spec list_params[] = {
    {"limit", PT_INT, 0, 0, NULL, NULL},
    {"starting_after", PT_STRING, 0, 16, NULL, NULL},
    {"ending_before", PT_STRING, 0, 16, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};

/* One exchange_rate object for `base` (a code the table names). */
static void render_rate(struct json *j, const struct fx_table *t, const char *base, int64_t now)
{
	json_obj_open(j);
	json_kv_str(j, "id", base);
	json_kv_str(j, "object", "exchange_rate");
	json_key(j, "rates");
	json_obj_open(j);
	size_t n = currency_count();
	for (size_t i = 0; i < n; i++) {
		const char *quote = currency_at(i)->code;
		struct fx_rate rate;
		char text[FX_RATE_STR_MAX];
		if (strcmp(quote, base) == 0 || !fx_table_names(t, quote) ||
		    fx_lookup(t, base, quote, now, &rate) != 0)
			continue;
		if (fx_rate_to_decimal_string(&rate, text, sizeof(text)) != 0)
			continue;
		json_key(j, quote);
		json_raw(j, text, strlen(text));
	}
	json_obj_close(j);
	json_obj_close(j);
}

/* The table's code (lowercase) for a currency it names, given in either case, or NULL. */
static const char *named_code(const struct fx_table *t, const char *given)
{
	char code[4];
	if (!given || strlen(given) != 3)
		return NULL;
	for (int i = 0; i < 3; i++)
		code[i] =
		    (char)(given[i] >= 'A' && given[i] <= 'Z' ? given[i] - 'A' + 'a' : given[i]);
	code[3] = '\0';
	const struct currency *c = currency_find(code);
	return c && fx_table_names(t, c->code) ? c->code : NULL;
}

static int h_retrieve(struct req *r)
{
	struct fx_table *t = app_fx_acquire(r->app);
	const char *code = t ? named_code(t, r->args[0]) : NULL;
	if (!code) {
		fx_table_free(t);
		return req_fail_missing(r, "exchange rate", r->args[0], "rate_id");
	}
	render_rate(req_json(r), t, code, clock_now());
	fx_table_free(t);
	return 0;
}

static int h_list(struct req *r)
{
	size_t n = currency_count();
	int64_t limit = (int64_t)n;
	if (param_str(r, "limit") && (param_int(r, "limit", &limit) != 1 || limit < 1))
		return req_fail(
		    r, ERR_PARAM_BAD, "limit",
		    "Invalid limit: must be at least 1 (the default is every currency).");
	const char *after = param_str(r, "starting_after");
	const char *before = param_str(r, "ending_before");
	if (after && before)
		return req_fail(r, ERR_PARAM_BAD, "ending_before",
				"You may only specify one of these parameters: starting_after, "
				"ending_before.");
	struct fx_table *t = app_fx_acquire(r->app);
	if (!t)
		return req_fail(r, ERR_API, NULL, NULL);
	const char *cursor = after ? after : before;
	const char *code = cursor ? named_code(t, cursor) : NULL;
	if (cursor && !code) {
		fx_table_free(t);
		return req_fail_missing(r, "exchange rate", cursor,
					after ? "starting_after" : "ending_before");
	}
	/* the page: [lo, hi) in code order among the named currencies; ending_before takes the
	 * `limit` codes right before the cursor, still listed in code order, as Stripe's pages */
	size_t idx[512];
	size_t m = 0;
	for (size_t i = 0; i < n && m < sizeof(idx) / sizeof(idx[0]); i++)
		if (fx_table_names(t, currency_at(i)->code))
			idx[m++] = i;
	size_t lo = 0, hi = m;
	for (size_t k = 0; code && k < m; k++) {
		if (strcmp(currency_at(idx[k])->code, code) != 0)
			continue;
		if (after)
			lo = k + 1;
		else
			hi = k;
		break;
	}
	bool more;
	if (before) {
		more = hi - lo > (size_t)limit;
		if (more)
			lo = hi - (size_t)limit;
	} else {
		more = hi - lo > (size_t)limit;
		if (more)
			hi = lo + (size_t)limit;
	}
	struct json *j = req_json(r);
	int64_t now = clock_now();
	json_obj_open(j);
	json_kv_str(j, "object", "list");
	json_key(j, "data");
	json_arr_open(j);
	for (size_t k = lo; k < hi; k++)
		render_rate(j, t, currency_at(idx[k])->code, now);
	json_arr_close(j);
	json_kv_bool(j, "has_more", more);
	json_kv_str(j, "url", "/v1/exchange_rates");
	json_obj_close(j);
	fx_table_free(t);
	return 0;
}

const struct route exchange_rates_routes[] = {
    {"GET", "/v1/exchange_rates", h_list, list_params, 0},
    {"GET", "/v1/exchange_rates/{id}", h_retrieve, no_params, 0},
    {NULL, NULL, NULL, NULL, 0},
};
