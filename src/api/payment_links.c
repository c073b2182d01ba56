/*
 * /v1/payment_links and the checkout page they open (/pay/{acct}/{plink}).
 *
 * A payment link names fixed line items (one-time prices of the merchant, one currency); its url
 * is a page Tender serves without an API key where anyone can pay their total. The page is plain
 * HTML (no scripts, the challenge pages' content security policy): the card form posts back to
 * Tender, the card goes from the request to the vault as a PaymentMethod
 * (pm_create_from_data), and an ordinary PaymentIntent is made and confirmed for the total
 * (payment_intents_checkout; metadata.payment_link names the link), so every payment event,
 * ledger movement and fraud check is the same as through the API. 3-D Secure sends the browser
 * to the challenge page, whose return comes back to /pay/…/complete. After a payment the
 * browser goes to the link's after_completion (its redirect URL, or a confirmation page); a
 * declined card shows the form again with the decline.
 *
 * Stripe makes a Checkout Session for each payment through a link (checkout.session.completed);
 * Tender has no Checkout Sessions: the merchant sees payment_intent.succeeded, whose metadata
 * names the link.
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "api/challenge.h"
#include "api/common.h"
#include "api/payments_common.h"
#include "api/list.h"
#include "api/resources.h"
#include "core/str.h"
#include "events/events.h"
#include "http/form.h"
#include "money/currency.h"
#include "payments/payments.h"

#define LINE_ITEMS_MAX 20
#define QUANTITY_MAX 999
#define AMOUNT_TOTAL_MAX 99999999 /* a PaymentIntent's most */

struct link {
	char id[ID_MAX];
	int64_t created, amount_total;
	bool active;
	char currency[8];
	const char *line_items, *after_type, *redirect_url, *confirmation_message, *submit_type;
	const char *pi_capture_method, *pi_description, *metadata;
};

static const char SQL_GET[] =
    "SELECT id, created, active, currency, amount_total, line_items, after_completion_type,"
    " redirect_url, confirmation_message, submit_type, pi_capture_method, pi_description,"
    " metadata FROM payment_links WHERE merchant_id = $1 AND id = $2";
static const char SQL_INSERT[] =
    "INSERT INTO payment_links (merchant_id, id, created, active, currency, amount_total,"
    " line_items, after_completion_type, redirect_url, confirmation_message, submit_type,"
    " pi_capture_method, pi_description, metadata)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)";
static const char SQL_UPDATE[] =
    "UPDATE payment_links SET active = $3, after_completion_type = $4, redirect_url = $5,"
    " confirmation_message = $6, metadata = $7 WHERE merchant_id = $1 AND id = $2";

static const char *col_dup(struct req *r, struct db_stmt *st, int col)
{
	const char *t = db_col_text(st, col, NULL);
	return t ? arena_strdup(&r->arena, t) : NULL;
}

static int link_load(struct req *r, struct db *db, const char *merchant_id, const char *id,
		     struct link *l)
{
	struct db_stmt *st = db_prepare(db, SQL_GET);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, id, -1);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		memset(l, 0, sizeof(*l));
		str_copy(l->id, sizeof(l->id), db_col_text(st, 0, NULL));
		l->created = db_col_int64(st, 1);
		l->active = db_col_int64(st, 2) != 0;
		str_copy(l->currency, sizeof(l->currency), db_col_text(st, 3, NULL));
		l->amount_total = db_col_int64(st, 4);
		l->line_items = col_dup(r, st, 5);
		l->after_type = col_dup(r, st, 6);
		l->redirect_url = col_dup(r, st, 7);
		l->confirmation_message = col_dup(r, st, 8);
		l->submit_type = col_dup(r, st, 9);
		l->pi_capture_method = col_dup(r, st, 10);
		l->pi_description = col_dup(r, st, 11);
		l->metadata = col_dup(r, st, 12);
		if (!l->line_items || !l->after_type || !l->submit_type || !l->metadata)
			rc = DB_ERR;
	}
	db_reset(st);
	if (rc == DB_ROW)
		return DB_OK;
	return rc == DB_DONE ? DB_NOTFOUND : rc < 0 ? rc : DB_ERR;
}

/* ---- rendering ---- */

static const char *link_url(struct req *r, const char *merchant_id, const char *id)
{
	const char *host = r->host && *r->host ? r->host : "127.0.0.1:4242";
	return arena_printf(&r->arena, "http://%s/pay/%s/%s", host, merchant_id, id);
}

static void link_render(struct req *r, const struct link *l, struct json *j)
{
	json_obj_open(j);
	json_kv_str(j, "id", l->id);
	json_kv_str(j, "object", "payment_link");
	json_kv_bool(j, "active", l->active);
	json_key(j, "after_completion");
	json_obj_open(j);
	if (strcmp(l->after_type, "redirect") == 0) {
		json_key(j, "redirect");
		json_obj_open(j);
		json_kv_str_or_null(j, "url", l->redirect_url);
		json_obj_close(j);
	} else {
		json_key(j, "hosted_confirmation");
		json_obj_open(j);
		json_kv_str_or_null(j, "custom_message", l->confirmation_message);
		json_obj_close(j);
	}
	json_kv_str(j, "type", l->after_type);
	json_obj_close(j);
	json_kv_bool(j, "allow_promotion_codes", false);
	json_kv_null(j, "application");
	json_kv_null(j, "application_fee_amount");
	json_kv_null(j, "application_fee_percent");
	json_kv_raw(j, "automatic_tax", "{\"enabled\":false,\"liability\":null}",
		    strlen("{\"enabled\":false,\"liability\":null}"));
	json_kv_str(j, "billing_address_collection", "auto");
	json_kv_null(j, "consent_collection");
	json_kv_str(j, "currency", l->currency);
	json_kv_raw(j, "custom_fields", "[]", 2);
	static const char custom_text[] = "{\"after_submit\":null,\"shipping_address\":null,"
					  "\"submit\":null,\"terms_of_service_acceptance\":null}";
	json_kv_raw(j, "custom_text", custom_text, strlen(custom_text));
	json_kv_str(j, "customer_creation", "if_required");
	json_kv_null(j, "inactive_message");
	json_kv_raw(j, "invoice_creation", "{\"enabled\":false,\"invoice_data\":null}",
		    strlen("{\"enabled\":false,\"invoice_data\":null}"));
	json_kv_bool(j, "livemode", r->livemode);
	json_kv_raw(j, "metadata", l->metadata, strlen(l->metadata));
	json_kv_null(j, "on_behalf_of");
	json_key(j, "payment_intent_data");
	if (l->pi_capture_method || l->pi_description) {
		json_obj_open(j);
		json_kv_str_or_null(j, "capture_method", l->pi_capture_method);
		json_kv_str_or_null(j, "description", l->pi_description);
		json_kv_raw(j, "metadata", "{}", 2);
		json_kv_null(j, "setup_future_usage");
		json_kv_null(j, "statement_descriptor");
		json_kv_null(j, "statement_descriptor_suffix");
		json_kv_null(j, "transfer_group");
		json_obj_close(j);
	} else {
		json_nil(j);
	}
	json_kv_str(j, "payment_method_collection", "always");
	json_kv_null(j, "payment_method_types");
	json_kv_raw(j, "phone_number_collection", "{\"enabled\":false}",
		    strlen("{\"enabled\":false}"));
	json_kv_null(j, "restrictions");
	json_kv_null(j, "shipping_address_collection");
	json_kv_raw(j, "shipping_options", "[]", 2);
	json_kv_str(j, "submit_type", l->submit_type);
	json_kv_null(j, "subscription_data");
	json_kv_raw(j, "tax_id_collection", "{\"enabled\":false,\"required\":\"never\"}",
		    strlen("{\"enabled\":false,\"required\":\"never\"}"));
	json_kv_null(j, "transfer_data");
	json_kv_str(j, "url", link_url(r, r->merchant_id, l->id));
	json_obj_close(j);
}

static int emit(struct req *r, struct db *db, const struct link *l, const char *type,
		const char *prev)
{
	struct buf b;
	struct json j;
	buf_init(&b, 1u << 20);
	json_init(&j, &b);
	link_render(r, l, &j);
	struct event_origin o = {r->request_id, r->idempotency_key, r->livemode};
	int rc = b.failed ? DB_ERR
			  : event_append(db, r->merchant_id, &o, type, l->id, b.data, b.len, prev,
					 r->now, NULL);
	buf_release(&b);
	return rc == DB_OK ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

/* ---- parameters ---- */

static const char *const after_types[] = {"hosted_confirmation", "redirect", NULL};
static const struct param_spec line_item_children[] = {
    {"price", PT_STRING, PF_REQUIRED, 255, NULL, NULL},
    {"quantity", PT_INT, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec redirect_children[] = {
    {"url", PT_STRING, PF_REQUIRED, 2048, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec confirmation_children[] = {
    {"custom_message", PT_STRING, PF_EMPTYABLE, 500, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec after_children[] = {
    {"type", PT_ENUM, PF_REQUIRED, 0, after_types, NULL},
    {"redirect", PT_OBJECT, 0, 0, NULL, redirect_children},
    {"hosted_confirmation", PT_OBJECT, 0, 0, NULL, confirmation_children},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec pi_data_children[] = {
    {"capture_method", PT_ENUM, 0, 0,
     (const char *const[]){"automatic", "automatic_async", "manual", NULL}, NULL},
    {"description", PT_STRING, 0, 1000, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec create_params[] = {
    {"line_items", PT_OBJECT_ARRAY, PF_REQUIRED, LINE_ITEMS_MAX, NULL, line_item_children},
    {"after_completion", PT_OBJECT, 0, 0, NULL, after_children},
    {"currency", PT_CURRENCY, 0, 0, NULL, NULL},
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {"payment_intent_data", PT_OBJECT, 0, 0, NULL, pi_data_children},
    {"submit_type", PT_ENUM, 0, 0, (const char *const[]){"auto", "book", "donate", "pay", NULL},
     NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec update_params[] = {
    {"active", PT_BOOL, 0, 0, NULL, NULL},
    {"after_completion", PT_OBJECT, 0, 0, NULL, after_children},
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec list_params[] = {
    {"active", PT_BOOL, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec no_params[] = {{NULL, 0, 0, 0, NULL, NULL}};

/* after_completion from the request onto l. 0, or -1 with r->err. */
static int apply_after(struct req *r, struct link *l)
{
	const char *type = param_str(r, "after_completion.type");
	if (!type)
		return 0;
	l->after_type = type;
	l->redirect_url = NULL;
	l->confirmation_message = NULL;
	if (strcmp(type, "redirect") == 0) {
		const char *url = param_str(r, "after_completion.redirect.url");
		if (!url)
			return req_fail(r, ERR_PARAM_MISSING, "after_completion[redirect][url]",
					"%s", "after_completion[redirect][url]");
		if (strncmp(url, "https://", 8) != 0 && strncmp(url, "http://", 7) != 0)
			return req_fail(r, ERR_URL_INVALID, "after_completion[redirect][url]",
					"Invalid URL: %s must be an absolute http(s) URL.",
					"after_completion[redirect][url]");
		l->redirect_url = url;
	} else {
		const char *msg =
		    param_str(r, "after_completion.hosted_confirmation.custom_message");
		l->confirmation_message = msg && *msg ? msg : NULL;
	}
	return 0;
}

/* ---- create ---- */

struct create_ctx {
	struct req *r;
	struct link l;
};

/* Prices the line items inside the write (each must be an active one-time price of the
 * merchant, with an integer amount, all in one currency), and makes their JSON and the total. */
static int price_items(struct req *r, struct db *db, struct link *l)
{
	const struct form_node *items = param_node(r, "line_items");
	const char *want = param_str(r, "currency");
	char cur[8] = "";
	for (int i = 0; want && want[i] && i < 7; i++)
		cur[i] = (char)(want[i] >= 'A' && want[i] <= 'Z' ? want[i] - 'A' + 'a' : want[i]);
	struct buf b;
	struct json j;
	buf_init(&b, 256 * 1024);
	json_init(&j, &b);
	json_arr_open(&j);
	int64_t total = 0;
	int idx = 0, rc = 0;
	for (const struct form_node *it = items ? items->first_child : NULL; it && rc == 0;
	     it = it->next, idx++) {
		char param[64];
		snprintf(param, sizeof(param), "line_items[%d][price]", idx);
		const struct form_node *pn = form_get(it, "price");
		const struct form_node *qn = form_get(it, "quantity");
		const char *price = pn ? pn->value : NULL;
		int64_t qty = 1;
		if (qn && (parse_i64(qn->value, &qty) != 0 || qty < 1 || qty > QUANTITY_MAX)) {
			snprintf(param, sizeof(param), "line_items[%d][quantity]", idx);
			rc = req_fail(r, ERR_PARAM_BAD, param,
				      "Invalid %s: a quantity is from 1 to 999.", param);
			break;
		}
		struct price_facts pf;
		int prc = price ? price_facts_get(r, db, price, &pf) : DB_NOTFOUND;
		if (prc == DB_NOTFOUND) {
			rc = req_fail_missing(r, "price", price ? price : "", param);
			break;
		}
		if (prc != DB_OK) {
			rc = req_fail(r, ERR_API, NULL, NULL);
			break;
		}
		if (!pf.active || !pf.product_active)
			rc = req_fail(r, ERR_PARAM_BAD, param,
				      "The price `%s` or its product is not active.", price);
		else if (pf.recurring)
			rc = req_fail(r, ERR_PARAM_BAD, param,
				      "The price `%s` is recurring; Tender's payment links take "
				      "one-time prices (no subscriptions).",
				      price);
		else if (!pf.has_unit_amount)
			rc = req_fail(r, ERR_PARAM_BAD, param,
				      "The price `%s` has a sub-cent unit_amount_decimal, which a "
				      "payment cannot charge.",
				      price);
		else if (cur[0] && strcmp(cur, pf.currency) != 0)
			rc = req_fail(r, ERR_PARAM_BAD, param,
				      "The price `%s` is in %s; every line item must be in %s.",
				      price, pf.currency, cur);
		if (rc != 0)
			break;
		if (!cur[0])
			str_copy(cur, sizeof(cur), pf.currency);
		int64_t line;
		if (__builtin_mul_overflow(pf.unit_amount, qty, &line) ||
		    __builtin_add_overflow(total, line, &total) || total > AMOUNT_TOTAL_MAX) {
			rc =
			    req_fail(r, ERR_AMOUNT_TOO_LARGE, "line_items",
				     "The line items' total must be at most %d.", AMOUNT_TOTAL_MAX);
			break;
		}
		char li[ID_MAX];
		id_new(li, "li_");
		json_obj_open(&j);
		json_kv_str(&j, "id", li);
		json_kv_str(&j, "price", price);
		json_kv_int(&j, "quantity", qty);
		json_kv_int(&j, "unit_amount", pf.unit_amount);
		json_kv_str(&j, "description", pf.product_name ? pf.product_name : "");
		json_obj_close(&j);
	}
	json_arr_close(&j);
	if (rc == 0 && idx == 0)
		rc = req_fail(r, ERR_PARAM_MISSING, "line_items", "%s", "line_items");
	if (rc == 0 && total < 1)
		rc = req_fail(r, ERR_PARAM_BAD, "line_items", "%s",
			      "The line items' total must be more than zero.");
	if (rc == 0) {
		l->line_items = b.failed ? NULL : arena_strdup(&r->arena, buf_cstr(&b));
		l->amount_total = total;
		str_copy(l->currency, sizeof(l->currency), cur);
		if (!l->line_items)
			rc = req_fail(r, ERR_API, NULL, NULL);
	}
	buf_release(&b);
	if (rc != 0)
		return -1;
	/* the total must be a payment this merchant can take */
	return payments_check_minimum_db(r, db, total, l->currency, "line_items", "line_items");
}

static int create_fn(struct db *db, void *arg)
{
	struct create_ctx *c = arg;
	struct req *r = c->r;
	struct link *l = &c->l;
	if (price_items(r, db, l) != 0)
		return -1;
	struct db_stmt *st = db_prepare(db, SQL_INSERT);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, l->id, -1);
	db_bind_int64(st, 3, l->created);
	db_bind_int64(st, 4, l->active);
	db_bind_text(st, 5, l->currency, -1);
	db_bind_int64(st, 6, l->amount_total);
	db_bind_text(st, 7, l->line_items, -1);
	db_bind_text(st, 8, l->after_type, -1);
	db_bind_text(st, 9, l->redirect_url, -1);
	db_bind_text(st, 10, l->confirmation_message, -1);
	db_bind_text(st, 11, l->submit_type, -1);
	db_bind_text(st, 12, l->pi_capture_method, -1);
	db_bind_text(st, 13, l->pi_description, -1);
	db_bind_text(st, 14, l->metadata, -1);
	if (db_step_done(st) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (emit(r, db, l, "payment_link.created", NULL) != 0)
		return -1;
	link_render(r, l, req_json(r));
	return 0;
}

static int h_create(struct req *r)
{
	struct create_ctx c = {.r = r};
	struct link *l = &c.l;
	id_new_at(l->id, "plink_", r->now);
	l->created = r->now;
	l->active = true;
	l->after_type = "hosted_confirmation";
	const char *st = param_str(r, "submit_type");
	l->submit_type = st ? st : "auto";
	l->pi_capture_method = param_str(r, "payment_intent_data.capture_method");
	l->pi_description = param_str(r, "payment_intent_data.description");
	l->metadata = "{}";
	if (apply_after(r, l) != 0 || metadata_apply(r, NULL, "metadata", &l->metadata) != 0)
		return -1;
	return req_write(r, create_fn, &c);
}

/* ---- retrieve, update, list, line items ---- */

struct id_ctx {
	struct req *r;
	const char *id;
	struct link l;
};

static int load_fn(struct db *db, void *arg)
{
	struct id_ctx *x = arg;
	int rc = link_load(x->r, db, x->r->merchant_id, x->id, &x->l);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(x->r, "payment_link", x->id, "payment_link");
	return rc == DB_OK ? 0 : req_fail(x->r, ERR_API, NULL, NULL);
}

static int retrieve_fn(struct db *db, void *arg)
{
	struct id_ctx *x = arg;
	if (load_fn(db, arg) != 0)
		return -1;
	link_render(x->r, &x->l, req_json(x->r));
	return 0;
}

static int h_retrieve(struct req *r)
{
	struct id_ctx x = {.r = r, .id = r->args[0]};
	return req_read(r, retrieve_fn, &x) == 0 ? 0 : -1;
}

static int update_fn(struct db *db, void *arg)
{
	struct id_ctx *x = arg;
	struct req *r = x->r;
	if (load_fn(db, arg) != 0)
		return -1;
	struct link old = x->l, *l = &x->l;
	param_bool(r, "active", &l->active);
	if (apply_after(r, l) != 0 || metadata_apply(r, l->metadata, "metadata", &l->metadata) != 0)
		return -1;
	struct db_stmt *st = db_prepare(db, SQL_UPDATE);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, l->id, -1);
	db_bind_int64(st, 3, l->active);
	db_bind_text(st, 4, l->after_type, -1);
	db_bind_text(st, 5, l->redirect_url, -1);
	db_bind_text(st, 6, l->confirmation_message, -1);
	db_bind_text(st, 7, l->metadata, -1);
	if (db_step_done(st) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	struct buf b;
	struct json j;
	buf_init(&b, 1u << 20);
	json_init(&j, &b);
	json_obj_open(&j);
	if (old.active != l->active)
		json_kv_bool(&j, "active", old.active);
	if (strcmp(old.metadata, l->metadata) != 0)
		json_kv_raw(&j, "metadata", old.metadata, strlen(old.metadata));
	if (param_present(r, "after_completion")) {
		json_key(&j, "after_completion");
		json_obj_open(&j);
		json_kv_str(&j, "type", old.after_type);
		json_obj_close(&j);
	}
	json_obj_close(&j);
	const char *prev = b.failed ? NULL : arena_strdup(&r->arena, buf_cstr(&b));
	buf_release(&b);
	if (!prev || emit(r, db, l, "payment_link.updated", prev) != 0)
		return r->err.set ? -1 : req_fail(r, ERR_API, NULL, NULL);
	link_render(r, l, req_json(r));
	return 0;
}

static int h_update(struct req *r)
{
	struct id_ctx x = {.r = r, .id = r->args[0]};
	return req_write(r, update_fn, &x);
}

static int line_items_fn(struct db *db, void *arg)
{
	struct id_ctx *x = arg;
	struct req *r = x->r;
	if (load_fn(db, arg) != 0)
		return -1;
	json_error_t e;
	json_t *items = json_loads(x->l.line_items, 0, &e);
	if (!json_is_array(items)) {
		json_decref(items);
		return req_fail(r, ERR_API, NULL, NULL);
	}
	struct json *j = req_json(r);
	json_obj_open(j);
	json_kv_str(j, "object", "list");
	json_key(j, "data");
	json_arr_open(j);
	size_t i;
	json_t *it;
	int rc = DB_OK;
	json_array_foreach(items, i, it)
	{
		int64_t qty = json_integer_value(json_object_get(it, "quantity"));
		int64_t unit = json_integer_value(json_object_get(it, "unit_amount"));
		json_obj_open(j);
		json_kv_str(j, "id", json_string_value(json_object_get(it, "id")));
		json_kv_str(j, "object", "item");
		json_kv_int(j, "amount_discount", 0);
		json_kv_int(j, "amount_subtotal", unit * qty);
		json_kv_int(j, "amount_tax", 0);
		json_kv_int(j, "amount_total", unit * qty);
		json_kv_str(j, "currency", x->l.currency);
		json_kv_str(j, "description",
			    json_string_value(json_object_get(it, "description")));
		json_key(j, "price");
		rc = price_render_id(r, db, json_string_value(json_object_get(it, "price")), j);
		if (rc != DB_OK)
			break;
		json_kv_int(j, "quantity", qty);
		json_obj_close(j);
	}
	json_decref(items);
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	json_arr_close(j);
	json_kv_bool(j, "has_more", false);
	json_kv_str(j, "url", arena_printf(&r->arena, "/v1/payment_links/%s/line_items", x->l.id));
	json_obj_close(j);
	return 0;
}

static int h_line_items(struct req *r)
{
	struct id_ctx x = {.r = r, .id = r->args[0]};
	return req_read(r, line_items_fn, &x) == 0 ? 0 : -1;
}

static const char SQL_CURSOR[] =
    "SELECT created FROM payment_links WHERE merchant_id = $1 AND id = $2";
static const char SQL_DESC[] =
    "SELECT id FROM payment_links WHERE merchant_id = $1 AND id > $2 AND id < $3"
    " AND ($5 IS NULL OR active = $5) ORDER BY id DESC LIMIT $4";
static const char SQL_ASC[] =
    "SELECT id FROM payment_links WHERE merchant_id = $1 AND id > $2 AND id < $3"
    " AND ($5 IS NULL OR active = $5) ORDER BY id ASC LIMIT $4";

static int list_bind(struct req *r, struct db_stmt *st, int first, void *ctx)
{
	(void)ctx;
	bool v;
	if (param_bool(r, "active", &v) == 1)
		db_bind_int64(st, first, v);
	else
		db_bind_null(st, first);
	return 0;
}

static int list_render(struct req *r, struct db *db, const char *id, struct json *j, void *ctx)
{
	(void)ctx;
	struct link l;
	int rc = link_load(r, db, r->merchant_id, id, &l);
	if (rc == DB_OK)
		link_render(r, &l, j);
	return rc;
}

static int h_list(struct req *r)
{
	static const struct list_spec spec = {
	    .url = "/v1/payment_links",
	    .object_name = "payment_link",
	    .id_prefix = "plink_",
	    .sql_cursor = SQL_CURSOR,
	    .sql_desc = SQL_DESC,
	    .sql_asc = SQL_ASC,
	    .bind_filters = list_bind,
	    .render = list_render,
	};
	return list_respond(r, &spec);
}

/* ---- the checkout page ---- */

struct page_ctx {
	struct req *r;
	const char *acct, *id;
	struct link l;
	char merchant_name[256];
	bool found;
	const char *pi_id; /* /complete: the intent the challenge came back for */
	struct payment_intent pi;
	bool pi_found;
};

static int page_load_fn(struct db *db, void *arg)
{
	struct page_ctx *x = arg;
	struct req *r = x->r;
	if (link_load(r, db, x->acct, x->id, &x->l) != DB_OK)
		return 0;
	if (challenge_merchant_name(db, x->acct, x->merchant_name, sizeof(x->merchant_name)) != 0)
		return -1;
	x->found = true;
	if (x->pi_id && pi_load(db, &r->arena, x->acct, x->pi_id, &x->pi) == DB_OK &&
	    x->pi.metadata) {
		/* only an intent this link made */
		json_error_t e;
		json_t *m = json_loads(x->pi.metadata, 0, &e);
		const char *pl = json_string_value(json_object_get(m, "payment_link"));
		x->pi_found = pl && strcmp(pl, x->id) == 0;
		json_decref(m);
	}
	return 0;
}

/* 0: found and active (x filled); 1: answered with a page; -1: error. */
static int page_lookup(struct req *r, struct page_ctx *x, const char *pi_id)
{
	memset(x, 0, sizeof(*x));
	x->r = r;
	x->acct = r->args[0];
	x->id = r->args[1];
	x->pi_id = pi_id;
	str_copy(r->merchant_id, sizeof(r->merchant_id), x->acct);
	if (req_read(r, page_load_fn, x) != 0)
		return -1;
	if (!x->found) {
		challenge_page(r, 404, "Payment link not found",
			       "<h1>This payment link does not exist</h1>");
		return 1;
	}
	if (!x->l.active) {
		challenge_page(r, 410, "Payment link inactive",
			       "<h1>This payment link is no longer active</h1>");
		return 1;
	}
	return 0;
}

static int checkout_page(struct req *r, struct page_ctx *x, int status, const char *error)
{
	struct buf b;
	buf_init(&b, 256 * 1024);
	buf_puts(&b, "<h1>");
	html_escape(&b, x->merchant_name);
	buf_puts(&b, "</h1><table>");
	json_error_t e;
	json_t *items = json_loads(x->l.line_items, 0, &e);
	size_t i;
	json_t *it;
	json_array_foreach(items, i, it)
	{
		int64_t qty = json_integer_value(json_object_get(it, "quantity"));
		int64_t unit = json_integer_value(json_object_get(it, "unit_amount"));
		buf_puts(&b, "<tr><td>");
		html_escape(&b, json_string_value(json_object_get(it, "description")));
		buf_printf(&b, " × %lld</td><td class=\"amt\">", (long long)qty);
		html_amount(&b, unit * qty, x->l.currency);
		buf_puts(&b, "</td></tr>");
	}
	json_decref(items);
	buf_puts(&b, "<tr><th>Total</th><th class=\"amt\" id=\"total\">");
	html_amount(&b, x->l.amount_total, x->l.currency);
	buf_puts(&b, "</th></tr></table>");
	if (error) {
		buf_puts(&b, "<p class=\"error\" role=\"alert\">");
		html_escape(&b, error);
		buf_puts(&b, "</p>");
	}
	buf_puts(&b, "<form class=\"pay\" method=\"post\" autocomplete=\"on\" action=\"");
	html_escape(&b, arena_printf(&r->arena, "/pay/%s/%s", x->acct, x->id));
	buf_puts(&b,
		 "\"><input type=\"hidden\" name=\"payment_method_data[type]\" value=\"card\">"
		 "<label for=\"email\">Email</label><input id=\"email\" type=\"email\" "
		 "name=\"payment_method_data[billing_details][email]\" autocomplete=\"email\">"
		 "<label for=\"name\">Name on card</label><input id=\"name\" "
		 "name=\"payment_method_data[billing_details][name]\" autocomplete=\"cc-name\">"
		 "<label for=\"number\">Card number</label><input id=\"number\" required "
		 "inputmode=\"numeric\" autocomplete=\"cc-number\" "
		 "name=\"payment_method_data[card][number]\">"
		 "<div class=\"row\"><div><label for=\"exp_month\">Month (MM)</label><input "
		 "id=\"exp_month\" required inputmode=\"numeric\" autocomplete=\"cc-exp-month\" "
		 "name=\"payment_method_data[card][exp_month]\"></div><div><label "
		 "for=\"exp_year\">Year (YYYY)</label><input id=\"exp_year\" required "
		 "inputmode=\"numeric\" autocomplete=\"cc-exp-year\" "
		 "name=\"payment_method_data[card][exp_year]\"></div><div><label "
		 "for=\"cvc\">CVC</label><input id=\"cvc\" required inputmode=\"numeric\" "
		 "autocomplete=\"cc-csc\" name=\"payment_method_data[card][cvc]\"></div></div>"
		 "<p><button type=\"submit\" class=\"complete\">");
	buf_puts(&b, strcmp(x->l.submit_type, "donate") == 0 ? "Donate"
		     : strcmp(x->l.submit_type, "book") == 0 ? "Book"
							     : "Pay");
	buf_puts(&b, " ");
	html_amount(&b, x->l.amount_total, x->l.currency);
	buf_puts(&b, "</button></p></form>");
	int rc = challenge_page(r, status, "Checkout", b.failed ? "" : buf_cstr(&b));
	buf_release(&b);
	return rc;
}

static int h_page(struct req *r)
{
	struct page_ctx x;
	int rc = page_lookup(r, &x, NULL);
	if (rc != 0)
		return rc < 0 ? -1 : 0;
	return checkout_page(r, &x, 200, NULL);
}

/* After a payment: the link's redirect, or its confirmation page. */
static int completed(struct req *r, const struct page_ctx *x)
{
	if (strcmp(x->l.after_type, "redirect") == 0 && x->l.redirect_url) {
		r->location = x->l.redirect_url;
		return challenge_redirect(r);
	}
	struct buf b;
	buf_init(&b, 64 * 1024);
	buf_puts(&b, "<h1 id=\"done\">Thanks for your payment</h1><p>");
	html_escape(&b, x->l.confirmation_message ? x->l.confirmation_message
						  : "Your payment was received.");
	buf_puts(&b, "</p>");
	int rc = challenge_page(r, 200, "Payment complete", b.failed ? "" : buf_cstr(&b));
	buf_release(&b);
	return rc;
}

static int h_pay(struct req *r)
{
	struct page_ctx x;
	int rc = page_lookup(r, &x, NULL);
	if (rc != 0)
		return rc < 0 ? -1 : 0;
	char pm[ID_MAX];
	if (pm_create_from_data(r, "payment_method_data", pm) != 0) {
		const char *msg = req_error_message(r);
		r->err.set = false;
		return checkout_page(r, &x, 400, msg);
	}
	const char *ret = arena_printf(&r->arena, "%s/complete", link_url(r, x.acct, x.id));
	struct pi_checkout co = {
	    .amount = x.l.amount_total,
	    .currency = x.l.currency,
	    .description = x.l.pi_description,
	    .metadata = arena_printf(&r->arena, "{\"payment_link\":\"%s\"}", x.id),
	    .capture_method = x.l.pi_capture_method,
	    .return_url = ret,
	    .pm_id = pm,
	};
	rc = payment_intents_checkout(r, &co);
	if (rc != 0) {
		const char *msg = req_error_message(r);
		r->err.set = false;
		return checkout_page(r, &x, 402, msg);
	}
	if (co.challenge_url) {
		r->location = co.challenge_url;
		return challenge_redirect(r);
	}
	return completed(r, &x);
}

static const struct param_spec complete_params[] = {
    {"payment_intent", PT_STRING, 0, 255, NULL, NULL},
    {"payment_intent_client_secret", PT_STRING, 0, 255, NULL, NULL},
    {"redirect_status", PT_STRING, 0, 32, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};

/* Where 3-D Secure comes back to: the intent's state says what happened. */
static int h_complete(struct req *r)
{
	struct page_ctx x;
	const char *pi = param_str(r, "payment_intent");
	int rc = page_lookup(r, &x, pi && *pi ? pi : NULL);
	if (rc != 0)
		return rc < 0 ? -1 : 0;
	if (!x.pi_found)
		return checkout_page(r, &x, 404, "This payment was not found.");
	if (strcmp(x.pi.status, "succeeded") == 0 || strcmp(x.pi.status, "requires_capture") == 0)
		return completed(r, &x);
	return checkout_page(r, &x, 402,
			     "Your bank did not confirm the payment. Try again, or use another "
			     "card.");
}

static const struct param_spec pay_params[] = {
    {"payment_method_data", PT_OBJECT, PF_REQUIRED, 0, NULL, pm_data_params},
    {NULL, 0, 0, 0, NULL, NULL},
};

const struct route payment_links_routes[] = {
    {"POST", "/v1/payment_links", h_create, create_params, 0},
    {"GET", "/v1/payment_links", h_list, list_params, ROUTE_LIST},
    {"GET", "/v1/payment_links/{id}", h_retrieve, no_params, 0},
    {"POST", "/v1/payment_links/{id}", h_update, update_params, 0},
    {"GET", "/v1/payment_links/{id}/line_items", h_line_items, no_params, ROUTE_LIST},
    {"GET", "/pay/{acct}/{plink}", h_page, no_params, ROUTE_NO_AUTH | ROUTE_RAW},
    {"POST", "/pay/{acct}/{plink}", h_pay, pay_params, ROUTE_NO_AUTH | ROUTE_RAW},
    {"GET", "/pay/{acct}/{plink}/complete", h_complete, complete_params, ROUTE_NO_AUTH | ROUTE_RAW},
    {NULL, NULL, NULL, NULL, 0},
};
