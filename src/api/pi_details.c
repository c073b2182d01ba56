/*
 * A PaymentIntent's amount_details, payment_details, excluded_payment_method_types and hooks
 * (pi_details.h). The details column holds them as the intent shows them (jansson builds and
 * merges them here; payments/intent.c renders them), amount_details' line items as the array
 * of line item objects its list shows.
 */
#include "api/pi_details.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/common.h"
#include "core/id.h"
#include "core/parse.h"
#include "http/form.h"
#include "money/money.h"
#include "payments/payments.h"
#include "payments/pm_types.h"
#include "store/db.h"

static const struct param_spec li_tax_params[] = {
    {"total_tax_amount", PT_INT, PF_REQUIRED, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec li_commodity_params[] = {
    {"commodity_code", PT_STRING, 0, 5000, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec li_klarna_params[] = {
    {"image_url", PT_STRING, 0, 4096, NULL, NULL},
    {"product_url", PT_STRING, 0, 4096, NULL, NULL},
    {"reference", PT_STRING, 0, 255, NULL, NULL},
    {"subscription_reference", PT_STRING, 0, 2048, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec li_paypal_params[] = {
    {"category", PT_ENUM, 0, 0,
     (const char *const[]){"digital_goods", "donation", "physical_goods", NULL}, NULL},
    {"description", PT_STRING, 0, 5000, NULL, NULL},
    {"sold_by", PT_STRING, 0, 5000, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec li_pmo_params[] = {
    {"card", PT_OBJECT, 0, 0, NULL, li_commodity_params},
    {"card_present", PT_OBJECT, 0, 0, NULL, li_commodity_params},
    {"klarna", PT_OBJECT, 0, 0, NULL, li_klarna_params},
    {"paypal", PT_OBJECT, 0, 0, NULL, li_paypal_params},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec line_item_params[] = {
    {"discount_amount", PT_INT, 0, 0, NULL, NULL},
    {"payment_method_options", PT_OBJECT, 0, 0, NULL, li_pmo_params},
    {"product_code", PT_STRING, 0, 12, NULL, NULL},
    {"product_name", PT_STRING, PF_REQUIRED, 1024, NULL, NULL},
    {"quantity", PT_INT, PF_REQUIRED, 0, NULL, NULL},
    {"tax", PT_OBJECT, 0, 0, NULL, li_tax_params},
    {"unit_cost", PT_INT, PF_REQUIRED, 0, NULL, NULL},
    {"unit_of_measure", PT_STRING, 0, 12, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec ad_shipping_params[] = {
    {"amount", PT_INT, PF_EMPTYABLE, 0, NULL, NULL},
    {"from_postal_code", PT_STRING, PF_EMPTYABLE, 10, NULL, NULL},
    {"to_postal_code", PT_STRING, PF_EMPTYABLE, 10, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec ad_tax_params[] = {
    {"total_tax_amount", PT_INT, PF_REQUIRED, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
/* The longest details column: the intent renders into a buffer of 1 MiB (pi_json), and 200 line
 * items with every field near its longest would not fit in it */
#define DETAILS_MAX (256u << 10)
/* Stripe's most line items */
#define LINE_ITEMS_MAX 200
const struct param_spec pi_amount_details_params[] = {
    {"discount_amount", PT_INT, PF_EMPTYABLE, 0, NULL, NULL},
    {"enforce_arithmetic_validation", PT_BOOL, 0, 0, NULL, NULL},
    {"line_items", PT_OBJECT_ARRAY, PF_EMPTYABLE, LINE_ITEMS_MAX, NULL, line_item_params},
    {"shipping", PT_OBJECT, PF_EMPTYABLE, 0, NULL, ad_shipping_params},
    {"tax", PT_OBJECT, PF_EMPTYABLE, 0, NULL, ad_tax_params},
    {NULL, 0, 0, 0, NULL, NULL},
};
const struct param_spec pi_payment_details_params[] = {
    {"customer_reference", PT_STRING, PF_EMPTYABLE, 5000, NULL, NULL},
    {"order_reference", PT_STRING, PF_EMPTYABLE, 5000, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec hooks_tax_params[] = {
    {"calculation", PT_STRING, PF_REQUIRED | PF_EMPTYABLE, 255, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec hooks_inputs_params[] = {
    {"tax", PT_OBJECT, 0, 0, NULL, hooks_tax_params},
    {NULL, 0, 0, 0, NULL, NULL},
};
const struct param_spec pi_hooks_params[] = {
    {"inputs", PT_OBJECT, 0, 0, NULL, hooks_inputs_params},
    {NULL, 0, 0, 0, NULL, NULL},
};

/* Stripe's excluded_payment_method_types values (stripe-node 23): the types Tender does not
 * offer are kept and shown too, as they exclude nothing here */
static const char *const excludable[] = {"acss_debit",
					 "affirm",
					 "afterpay_clearpay",
					 "alipay",
					 "alma",
					 "amazon_pay",
					 "au_becs_debit",
					 "bacs_debit",
					 "bancontact",
					 "billie",
					 "bizum",
					 "blik",
					 "boleto",
					 "card",
					 "cashapp",
					 "crypto",
					 "customer_balance",
					 "eps",
					 "fpx",
					 "giropay",
					 "grabpay",
					 "ideal",
					 "kakao_pay",
					 "klarna",
					 "konbini",
					 "kr_card",
					 "mb_way",
					 "mobilepay",
					 "multibanco",
					 "naver_pay",
					 "nz_bank_account",
					 "oxxo",
					 "p24",
					 "pay_by_bank",
					 "payco",
					 "paynow",
					 "paypal",
					 "paypay",
					 "payto",
					 "pix",
					 "promptpay",
					 "revolut_pay",
					 "samsung_pay",
					 "satispay",
					 "scalapay",
					 "sepa_debit",
					 "sequra",
					 "sofort",
					 "sunbit",
					 "swish",
					 "twint",
					 "upi",
					 "us_bank_account",
					 "wechat_pay",
					 "zip",
					 NULL};

bool pi_details_present(const struct req *r)
{
	for (const struct form_node *n = r->params ? r->params->first_child : NULL; n; n = n->next)
		if ((n->key[0] == 'a' && strcmp(n->key, "amount_details") == 0) ||
		    (n->key[0] == 'p' && strcmp(n->key, "payment_details") == 0) ||
		    (n->key[0] == 'e' && strcmp(n->key, "excluded_payment_method_types") == 0) ||
		    (n->key[0] == 'h' && strcmp(n->key, "hooks") == 0))
			return true;
	return false;
}

static bool is_unset(const struct form_node *n)
{
	return n && n->kind == FORM_SCALAR && n->value_len == 0;
}

/* An integer the parameter check let through (PT_INT), or def when absent or "". */
static int64_t node_int(const struct form_node *obj, const char *key, int64_t def)
{
	const struct form_node *n = obj ? form_get(obj, key) : NULL;
	int64_t v;
	if (!n || n->kind != FORM_SCALAR || n->value_len == 0 || parse_i64(n->value, &v) != 0)
		return def;
	return v;
}

static json_t *node_str_or_null(const struct form_node *obj, const char *key)
{
	const struct form_node *n = obj ? form_get(obj, key) : NULL;
	if (!n || n->kind != FORM_SCALAR || n->value_len == 0)
		return json_null();
	return json_stringn(n->value, n->value_len);
}

/* A bound on an amount parameter: Stripe's "greater than 0" or "greater than or equal to 0". */
static int check_min(struct req *r, int64_t v, int64_t min, const char *param)
{
	if (v >= min)
		return 0;
	return req_fail(r, ERR_PARAM_INTEGER_RANGE, param,
			"Invalid %s: this value must be greater than or equal to %lld.", param,
			(long long)min);
}

/* At most 10 letters, digits, hyphens and spaces (Stripe's postal codes here). */
static int check_postal(struct req *r, const struct form_node *shipping, const char *key)
{
	const struct form_node *n = form_get(shipping, key);
	if (!n || n->kind != FORM_SCALAR)
		return 0;
	char param[64];
	snprintf(param, sizeof(param), "amount_details[shipping][%s]", key);
	for (size_t i = 0; i < n->value_len; i++) {
		char c = n->value[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      c == '-' || c == ' '))
			return req_fail(r, ERR_PARAM_BAD, param,
					"Invalid %s: only letters, digits, hyphens and spaces are "
					"allowed.",
					param);
	}
	return 0;
}

static json_t *line_item_pmo(const struct form_node *pmo)
{
	json_t *o = json_object();
	for (const struct form_node *m = pmo->first_child; o && m; m = m->next) {
		json_t *v = json_object();
		const char *const *keys =
		    strcmp(m->key, "klarna") == 0
			? (const char *const[]){"image_url", "product_url", "reference",
						"subscription_reference", NULL}
		    : strcmp(m->key, "paypal") == 0
			? (const char *const[]){"category", "description", "sold_by", NULL}
			: (const char *const[]){"commodity_code", NULL};
		bool paypal = strcmp(m->key, "paypal") == 0;
		for (; v && *keys; keys++) {
			json_t *s = node_str_or_null(m, *keys);
			/* PayPal's are shown only when given; the others as null */
			if (paypal && json_is_null(s))
				json_decref(s);
			else
				json_object_set_new(v, *keys, s);
		}
		json_object_set_new(o, m->key, v);
	}
	return o;
}

/* One line item as its list shows it, checked. NULL with r->err. */
static json_t *line_item(struct req *r, const struct form_node *it)
{
	char param[96];
	snprintf(param, sizeof(param), "amount_details[line_items][%s][quantity]", it->key);
	int64_t quantity = node_int(it, "quantity", 0);
	if (check_min(r, quantity, 1, param) != 0)
		return NULL;
	snprintf(param, sizeof(param), "amount_details[line_items][%s][unit_cost]", it->key);
	int64_t unit_cost = node_int(it, "unit_cost", 0);
	if (check_min(r, unit_cost, 0, param) != 0)
		return NULL;
	const struct form_node *disc = form_get(it, "discount_amount");
	snprintf(param, sizeof(param), "amount_details[line_items][%s][discount_amount]", it->key);
	if (disc && check_min(r, node_int(it, "discount_amount", 0), 1, param) != 0)
		return NULL;
	const struct form_node *tax = form_get(it, "tax");
	snprintf(param, sizeof(param), "amount_details[line_items][%s][tax][total_tax_amount]",
		 it->key);
	if (tax && check_min(r, node_int(tax, "total_tax_amount", -1), 0, param) != 0)
		return NULL;
	char id[ID_MAX];
	id_new_at(id, "uli_", r->now);
	json_t *o = json_object();
	json_object_set_new(o, "id", json_string(id));
	json_object_set_new(o, "object", json_string("payment_intent_amount_details_line_item"));
	json_object_set_new(o, "discount_amount",
			    disc ? json_integer(node_int(it, "discount_amount", 0)) : json_null());
	const struct form_node *pmo = form_get(it, "payment_method_options");
	json_object_set_new(o, "payment_method_options",
			    pmo && pmo->kind == FORM_OBJECT ? line_item_pmo(pmo) : json_null());
	json_object_set_new(o, "product_code", node_str_or_null(it, "product_code"));
	json_object_set_new(o, "product_name", node_str_or_null(it, "product_name"));
	json_object_set_new(o, "quantity", json_integer(quantity));
	json_t *t = NULL;
	if (tax && (t = json_object()))
		json_object_set_new(t, "total_tax_amount",
				    json_integer(node_int(tax, "total_tax_amount", 0)));
	json_object_set_new(o, "tax", t ? t : json_null());
	json_object_set_new(o, "unit_cost", json_integer(unit_cost));
	json_object_set_new(o, "unit_of_measure", node_str_or_null(it, "unit_of_measure"));
	return o;
}

/* jansson's integer at key of obj, 0 when absent or null. */
static int64_t jint(const json_t *obj, const char *key)
{
	const json_t *v = json_object_get(obj, key);
	return json_is_integer(v) ? (int64_t)json_integer_value(v) : 0;
}

/*
 * Stripe's arithmetic check of amount_details against amount: with line items, the items
 * (unit_cost × quantity − discount + tax, each) plus shipping plus tax minus the discount must
 * make the amount exactly; without, tax, shipping and discount together cannot exceed it.
 * 0 when they agree (or there is nothing to check), else the errors.def row and the message.
 */
static enum api_err arithmetic(const json_t *ad, int64_t amount, char *msg, size_t n)
{
	int64_t shipping = jint(json_object_get(ad, "shipping"), "amount");
	int64_t tax = jint(json_object_get(ad, "tax"), "total_tax_amount");
	int64_t discount = jint(ad, "discount_amount");
	const json_t *items = json_object_get(ad, "line_items");
	int64_t sum = 0;
	bool overflow = false;
	if (!json_array_size(items)) {
		overflow =
		    money_add(tax, shipping, &sum) != 0 || money_add(sum, discount, &sum) != 0;
		if (!overflow && sum <= amount)
			return 0;
		snprintf(msg, n,
			 "The sum of amount_details[tax][total_tax_amount], "
			 "amount_details[shipping][amount] and amount_details[discount_amount] "
			 "must not be greater than the amount (%lld).",
			 (long long)amount);
		return ERR_AMOUNT_DETAILS_OVER_AMOUNT;
	}
	size_t i;
	const json_t *it;
	json_array_foreach(items, i, it)
	{
		int64_t line;
		if (money_mul(jint(it, "unit_cost"), jint(it, "quantity"), &line) != 0 ||
		    money_sub(line, jint(it, "discount_amount"), &line) != 0 ||
		    money_add(line, jint(json_object_get(it, "tax"), "total_tax_amount"), &line) !=
			0 ||
		    money_add(sum, line, &sum) != 0)
			overflow = true;
	}
	if (!overflow && money_add(sum, shipping, &sum) == 0 && money_add(sum, tax, &sum) == 0 &&
	    money_sub(sum, discount, &sum) == 0 && sum == amount)
		return 0;
	if (overflow)
		snprintf(msg, n,
			 "The line items of amount_details do not add up to the amount (%lld).",
			 (long long)amount);
	else
		snprintf(
		    msg, n,
		    "The line items of amount_details (unit_cost × quantity − discount_amount "
		    "+ tax, each), with shipping and tax, less discount_amount, add up to %lld, "
		    "not to the amount (%lld).",
		    (long long)sum, (long long)amount);
	return ERR_AMOUNT_DETAILS_MISMATCH;
}

/* amount_details given onto ad (an object, changed in place). 0, or -1 with r->err. */
static int amount_details_merge(struct req *r, const struct form_node *n, json_t *ad)
{
	const struct form_node *c;
	if ((c = form_get(n, "discount_amount"))) {
		if (is_unset(c)) {
			json_object_del(ad, "discount_amount");
		} else {
			int64_t v = node_int(n, "discount_amount", 0);
			if (check_min(r, v, 1, "amount_details[discount_amount]") != 0)
				return -1;
			json_object_set_new(ad, "discount_amount", json_integer(v));
		}
	}
	if ((c = form_get(n, "line_items"))) {
		if (is_unset(c)) {
			json_object_del(ad, "line_items");
		} else {
			json_t *items = json_array();
			for (const struct form_node *it = c->first_child; it; it = it->next) {
				json_t *o = line_item(r, it);
				if (!o) {
					json_decref(items);
					return -1;
				}
				json_array_append_new(items, o);
			}
			json_object_set_new(ad, "line_items", items);
		}
	}
	if ((c = form_get(n, "shipping"))) {
		if (is_unset(c)) {
			json_object_del(ad, "shipping");
		} else {
			if (form_get(c, "amount") &&
			    check_min(r, node_int(c, "amount", 0), 0,
				      "amount_details[shipping][amount]") != 0)
				return -1;
			if (check_postal(r, c, "from_postal_code") != 0 ||
			    check_postal(r, c, "to_postal_code") != 0)
				return -1;
			json_t *s = json_object();
			const struct form_node *a = form_get(c, "amount");
			json_object_set_new(s, "amount",
					    a && !is_unset(a)
						? json_integer(node_int(c, "amount", 0))
						: json_null());
			json_object_set_new(s, "from_postal_code",
					    node_str_or_null(c, "from_postal_code"));
			json_object_set_new(s, "to_postal_code",
					    node_str_or_null(c, "to_postal_code"));
			json_object_set_new(ad, "shipping", s);
		}
	}
	if ((c = form_get(n, "tax"))) {
		if (is_unset(c)) {
			json_object_del(ad, "tax");
		} else {
			int64_t v = node_int(c, "total_tax_amount", -1);
			if (check_min(r, v, 0, "amount_details[tax][total_tax_amount]") != 0)
				return -1;
			json_t *t = json_object();
			json_object_set_new(t, "total_tax_amount", json_integer(v));
			json_object_set_new(ad, "tax", t);
		}
	}
	/* the totals and the items' own: one or the other, as on Stripe */
	size_t i;
	const json_t *it;
	bool item_discount = false, item_tax = false;
	json_array_foreach(json_object_get(ad, "line_items"), i, it)
	{
		item_discount |= json_is_integer(json_object_get(it, "discount_amount"));
		item_tax |= json_is_object(json_object_get(it, "tax"));
	}
	if (item_discount && json_object_get(ad, "discount_amount"))
		return req_fail(r, ERR_PARAM_BAD, "amount_details[discount_amount]", "%s",
				"amount_details[discount_amount] and "
				"amount_details[line_items][#][discount_amount] cannot be used "
				"together.");
	if (item_tax && json_object_get(ad, "tax"))
		return req_fail(
		    r, ERR_PARAM_BAD, "amount_details[tax]", "%s",
		    "amount_details[tax][total_tax_amount] and "
		    "amount_details[line_items][#][tax][total_tax_amount] cannot be used "
		    "together.");
	return 0;
}

static int payment_details_merge(const struct form_node *n, json_t *d)
{
	json_t *pd = json_object_get(d, "payment_details");
	pd = pd ? json_deep_copy(pd) : json_object();
	static const char *const keys[] = {"customer_reference", "order_reference"};
	for (size_t i = 0; i < 2; i++) {
		const struct form_node *c = form_get(n, keys[i]);
		if (c)
			json_object_set_new(pd, keys[i], node_str_or_null(n, keys[i]));
		else if (!json_object_get(pd, keys[i]))
			json_object_set_new(pd, keys[i], json_null());
	}
	if (json_is_null(json_object_get(pd, "customer_reference")) &&
	    json_is_null(json_object_get(pd, "order_reference"))) {
		json_decref(pd);
		json_object_del(d, "payment_details");
		return 0;
	}
	return json_object_set_new(d, "payment_details", pd);
}

static int excluded_merge(struct req *r, const struct form_node *n, json_t *d)
{
	if (is_unset(n)) {
		json_object_del(d, "excluded_payment_method_types");
		return 0;
	}
	json_t *arr = json_array();
	const struct form_node *one = n->kind == FORM_SCALAR ? n : n->first_child;
	for (const struct form_node *c = one; c; c = n->kind == FORM_SCALAR ? NULL : c->next) {
		const char *const *e = excludable;
		while (*e && strcmp(*e, c->value) != 0)
			e++;
		if (!*e) {
			json_decref(arr);
			return req_fail(
			    r, ERR_PARAM_INVALID_ENUM, "excluded_payment_method_types",
			    "Invalid excluded_payment_method_types: %s is not a payment "
			    "method type that can be excluded.",
			    c->value_len <= 40 ? c->value : "the value");
		}
		bool seen = false;
		size_t i;
		const json_t *v;
		json_array_foreach(arr, i, v) seen |= strcmp(json_string_value(v), *e) == 0;
		if (!seen)
			json_array_append_new(arr, json_string(*e));
	}
	if (!json_array_size(arr)) {
		json_decref(arr);
		json_object_del(d, "excluded_payment_method_types");
		return 0;
	}
	return json_object_set_new(d, "excluded_payment_method_types", arr);
}

static const char SQL_TAX_CALC[] =
    "SELECT 1 FROM tax_calculations WHERE merchant_id = $1 AND id = $2";

struct calc_ctx {
	struct req *r;
	const char *id;
	bool found;
};

static int calc_fn(struct db *db, void *p)
{
	struct calc_ctx *x = p;
	struct db_stmt *st = db_prepare(db, SQL_TAX_CALC);
	if (!st)
		return req_fail(x->r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, x->r->merchant_id, -1);
	db_bind_text(st, 2, x->id, -1);
	int rc = db_step(st);
	db_reset(st);
	if (rc != DB_ROW && rc != DB_DONE)
		return req_fail(x->r, ERR_API, NULL, NULL);
	x->found = rc == DB_ROW;
	return 0;
}

/* hooks[inputs][tax][calculation]: one of the merchant's Tax calculations, or "" to unset. */
static int hooks_merge(struct req *r, struct db *db, const struct form_node *n, json_t *d)
{
	const struct form_node *calc = form_path(n, "inputs.tax.calculation");
	if (!calc)
		return 0; /* hooks[inputs] without tax: nothing to keep */
	if (is_unset(calc)) {
		json_object_del(d, "hooks");
		return 0;
	}
	struct calc_ctx x = {r, calc->value, false};
	if ((db ? calc_fn(db, &x) : req_read(r, calc_fn, &x)) != 0)
		return -1;
	if (!x.found)
		return req_fail_missing(r, "tax calculation", calc->value,
					"hooks[inputs][tax][calculation]");
	json_t *h = json_pack("{s:{s:{s:s}}}", "inputs", "tax", "calculation", calc->value);
	return json_object_set_new(d, "hooks", h);
}

int pi_details_apply(struct req *r, struct db *db, struct payment_intent *pi, int64_t amount,
		     bool amount_changed)
{
	bool given = pi_details_present(r);
	if (!given && (!amount_changed || !pi->details))
		return 0;
	json_t *d = pi->details ? json_loads(pi->details, 0, NULL) : json_object();
	if (!json_is_object(d)) {
		json_decref(d);
		return req_fail(r, ERR_API, NULL, NULL);
	}
	int rc = -1;
	const struct form_node *n;
	char *s = NULL;
	json_t *ad = json_object_get(d, "amount_details");
	const struct form_node *ad_node = param_node(r, "amount_details");
	if (ad_node && is_unset(ad_node)) {
		json_object_del(d, "amount_details");
		ad = NULL;
	} else if (ad_node) {
		ad = ad ? json_deep_copy(ad) : json_object();
		json_object_set_new(d, "amount_details", ad);
		if (amount_details_merge(r, ad_node, ad) != 0)
			goto out;
	}
	if (ad && (ad_node || amount_changed)) {
		json_object_del(ad, "error");
		bool enforce = true;
		param_bool(r, "amount_details.enforce_arithmetic_validation", &enforce);
		char msg[320];
		enum api_err err = arithmetic(ad, amount, msg, sizeof(msg));
		if (err && enforce) {
			req_fail(r, err, "amount_details", "%s", msg);
			goto out;
		}
		/* not enforced: the intent is kept and shows what is wrong, as on Stripe */
		if (err)
			json_object_set_new(
			    ad, "error",
			    json_pack(
				"{s:s,s:s}", "code",
				err == ERR_AMOUNT_DETAILS_MISMATCH
				    ? "amount_details_amount_mismatch"
				    : "amount_details_tax_shipping_discount_greater_than_amount",
				"message", msg));
		if (!json_object_size(ad))
			json_object_del(d, "amount_details");
	}
	if ((n = param_node(r, "payment_details"))) {
		if (is_unset(n))
			json_object_del(d, "payment_details");
		else if (payment_details_merge(n, d) != 0)
			goto out;
	}
	if ((n = param_node(r, "excluded_payment_method_types")) && excluded_merge(r, n, d) != 0)
		goto out;
	if ((n = param_node(r, "hooks")) && hooks_merge(r, db, n, d) != 0)
		goto out;
	if (!json_object_size(d)) {
		pi->details = NULL;
		rc = 0;
		goto out;
	}
	s = json_dumps(d, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (s && strlen(s) > DETAILS_MAX) {
		req_fail(r, ERR_PARAM_BAD, "amount_details",
			 "Invalid amount_details: the line items are too large (at most %u bytes "
			 "with payment_details and hooks).",
			 DETAILS_MAX);
		goto out;
	}
	pi->details = s ? arena_strdup(&r->arena, s) : NULL;
	rc = pi->details ? 0 : req_fail(r, ERR_API, NULL, NULL);
out:
	free(s);
	json_decref(d);
	return rc;
}

unsigned pi_details_excluded(const char *details)
{
	if (!details)
		return 0;
	json_t *d = json_loads(details, 0, NULL);
	unsigned set = 0;
	size_t i;
	const json_t *v;
	json_array_foreach(json_object_get(d, "excluded_payment_method_types"), i, v) set |=
	    pm_type_bit(json_string_value(v));
	json_decref(d);
	return set;
}

int pi_details_line_items_page(struct req *r, const char *pi_id, const char *details,
			       struct json *j)
{
	int64_t limit = 10;
	if (param_int(r, "limit", &limit) == 1 && (limit < 1 || limit > 100))
		return req_fail(r, ERR_LIST_LIMIT, "limit", "%lld", (long long)limit);
	const char *after = param_str(r, "starting_after");
	const char *before = param_str(r, "ending_before");
	json_t *d = details ? json_loads(details, 0, NULL) : NULL;
	if (details && !d)
		return req_fail(r, ERR_API, NULL, NULL);
	const json_t *items = json_object_get(json_object_get(d, "amount_details"), "line_items");
	/* a page of the items in the order they were given (their ids were made together, so
	 * they do not sort): starting_after / ending_before name one of them */
	size_t n = json_array_size(items), from = 0, to = n;
	for (size_t i = 0; i < n; i++) {
		const char *id = json_string_value(json_object_get(json_array_get(items, i), "id"));
		if (after && id && strcmp(id, after) == 0)
			from = i + 1;
		if (before && id && strcmp(id, before) == 0)
			to = i;
	}
	if (from > to)
		from = to;
	if (before && to - from > (size_t)limit)
		from = to - (size_t)limit;
	bool more = to - from > (size_t)limit;
	if (more)
		to = from + (size_t)limit;
	int rc = 0;
	json_obj_open(j);
	json_kv_str(j, "object", "list");
	json_key(j, "data");
	json_arr_open(j);
	for (size_t i = from; i < to && rc == 0; i++) {
		char *s = json_dumps(json_array_get(items, i), JSON_COMPACT | JSON_PRESERVE_ORDER);
		if (s)
			json_raw(j, s, strlen(s));
		else
			rc = req_fail(r, ERR_API, NULL, NULL);
		free(s);
	}
	json_arr_close(j);
	json_kv_bool(j, "has_more", more);
	char url[ID_MAX + 64];
	snprintf(url, sizeof(url), "/v1/payment_intents/%s/amount_details_line_items", pi_id);
	json_kv_str(j, "url", url);
	json_obj_close(j);
	json_decref(d);
	return rc;
}
