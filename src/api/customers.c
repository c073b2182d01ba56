/*
 * /v1/customers — create, retrieve, update, delete, list (with the email filter).
 * The reference resource: other resources follow the same shape (a row struct, one render
 * function shared by retrieve/list/events, writes through req_write with an event appended in the
 * same transaction).
 *
 * A customer's legacy card sources (api/sources.c) meet the customer here: `source` on create
 * (the card becomes default_source) and on update (Stripe's rule: the new card replaces the
 * default source, whose card is deleted), `default_source` on update, and default_source /
 * sources expandable in what retrieve, list, search, create and update answer. A bank account
 * token (btok_…) as `source` does the same with a bank account (api/bank_sources.c's attach:
 * status new, to be verified before it can be charged).
 *
 * A customer's own discount (`coupon` / `promotion_code` on create and update, DELETE
 * /v1/customers/{id}/discount) is made and ended by discounts.c, which its invoices take;
 * the customer shows it in `discount`.
 */
#include <stdio.h>
#include <string.h>

#include "api/bank_sources.h"
#include "api/billing_internal.h"
#include "api/common.h"
#include "api/customer_balance.h"
#include "api/list.h"
#include "api/resources.h"
#include "api/search.h"
#include "api/sources.h"
#include "api/sources_api.h"
#include "api/tax_ids.h"
#include "core/clock.h"
#include "core/str.h"
#include "events/events.h"
#include "http/form.h"
#include "http/router.h"
#include "tax/engine.h"
#include "vault/card_source.h"

struct customer {
	char id[ID_MAX];
	int64_t created;
	const char *email, *name, *description, *phone;
	const char *address, *shipping, *metadata, *currency, *invoice_prefix;
	const char *preferred_locales, *tax_exempt, *default_payment_method;
	const char *test_clock;	    /* the test clock it lives on (subscriptions.c), or NULL */
	const char *default_source; /* a card_… of its sources (api/sources.c), or NULL */
	int64_t balance;
	int deleted;
	const char *discount; /* its discount's JSON (discounts.c), or NULL */
	/* how far next_invoice_sequence was moved past one more than its numbered invoices, and
	 * that next sequence as loaded (invoice_sequence_next) */
	int64_t sequence_offset, next_invoice_sequence;
	const char *tax_ip_address; /* tax[ip_address], or NULL */
	/* the newer API versions' names beside `name` (each kept as given, or NULL) */
	const char *business_name, *individual_name;
};

static const char SQL_GET[] =
    "SELECT id, created, email, name, description, phone, address, shipping, metadata,"
    " currency, invoice_prefix, preferred_locales, tax_exempt, default_payment_method, balance,"
    " deleted, test_clock, default_source, invoice_sequence_offset, tax_ip_address,"
    " business_name, individual_name FROM customers WHERE merchant_id = $1 AND id = $2";

/* Customer id of merchant_id, its strings in arena a. */
static int customer_load_in(struct arena *a, const char *merchant_id, struct db *db, const char *id,
			    struct customer *c)
{
	struct db_stmt *st = db_prepare(db, SQL_GET);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, id, -1);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		memset(c, 0, sizeof(*c));
		str_copy(c->id, sizeof(c->id), db_col_text(st, 0, NULL));
		c->created = db_col_int64(st, 1);
		c->email = col_text_dup(a, st, 2);
		c->name = col_text_dup(a, st, 3);
		c->description = col_text_dup(a, st, 4);
		c->phone = col_text_dup(a, st, 5);
		c->address = col_text_dup(a, st, 6);
		c->shipping = col_text_dup(a, st, 7);
		c->metadata = col_text_dup(a, st, 8);
		c->currency = col_text_dup(a, st, 9);
		c->invoice_prefix = col_text_dup(a, st, 10);
		c->preferred_locales = col_text_dup(a, st, 11);
		c->tax_exempt = col_text_dup(a, st, 12);
		c->default_payment_method = col_text_dup(a, st, 13);
		c->balance = db_col_int64(st, 14);
		c->deleted = (int)db_col_int64(st, 15);
		c->test_clock = col_text_dup(a, st, 16);
		c->default_source = col_text_dup(a, st, 17);
		c->sequence_offset = db_col_int64_or0(st, 18);
		c->tax_ip_address = col_text_dup(a, st, 19);
		c->business_name = col_text_dup(a, st, 20);
		c->individual_name = col_text_dup(a, st, 21);
	}
	db_reset(st);
	if (rc == DB_ROW && !c->deleted) {
		rc = invoice_sequence_next(db, merchant_id, id, c->sequence_offset,
					   &c->next_invoice_sequence);
		if (rc != DB_OK)
			return rc;
	}
	if (rc == DB_ROW || rc == DB_OK)
		return c->deleted ? DB_OK
				  : customer_discount_json(a, merchant_id, db, id, &c->discount);
	return rc == DB_DONE ? DB_NOTFOUND : rc;
}

static int customer_load(struct req *r, struct db *db, const char *id, struct customer *c)
{
	return customer_load_in(&r->arena, r->merchant_id, db, id, c);
}

/* What expand[] asks of a rendered customer (NULL in events: nothing). sources, tax_ids and
 * invoice_credit_balance are includable: shown only when asked for, as on Stripe. */
struct customer_expand {
	struct req *r;
	struct db *db;
	bool default_source, sources, tax_ids, invoice_credit_balance, cash_balance, tax;
};

static bool expand_one(struct req *r, const char *prefix, const char *field)
{
	char path[64];
	snprintf(path, sizeof(path), "%s%s%s", prefix ? prefix : "", prefix ? "." : "", field);
	return req_expand_has(r, path);
}

static void expand_for(struct req *r, struct db *db, const char *prefix, struct customer_expand *x)
{
	*x = (struct customer_expand){r,
				      db,
				      expand_one(r, prefix, "default_source"),
				      expand_one(r, prefix, "sources"),
				      expand_one(r, prefix, "tax_ids"),
				      expand_one(r, prefix, "invoice_credit_balance"),
				      expand_one(r, prefix, "cash_balance"),
				      expand_one(r, prefix, "tax")};
}

static bool expand_any(const struct customer_expand *x)
{
	return x->default_source || x->sources || x->tax_ids || x->invoice_credit_balance ||
	       x->cash_balance || x->tax;
}

/* The customer's `tax` (includable): whether Stripe Tax can place it (its address, else its
 * shipping address, as invoices' automatic tax does) and where, and its tax[ip_address].
 * Tender does not locate IP addresses: a customer without an address is unrecognized. */
static int tax_render(struct req *r, struct db *db, const struct customer *c, struct json *j)
{
	struct tax_context ctx;
	bool located = false;
	if (invoice_auto_tax_place_at(r, db, c->id, NULL, r->now, &ctx, &located, NULL) != 0)
		return -1;
	json_obj_open(j);
	json_kv_str(j, "automatic_tax", located ? "supported" : "unrecognized_location");
	json_kv_str_or_null(j, "ip_address", c->tax_ip_address);
	json_key(j, "location");
	if (located) {
		json_obj_open(j);
		json_kv_str(j, "country", ctx.country);
		json_kv_str(j, "source", c->address ? "billing_address" : "shipping_destination");
		json_kv_str_or_null(j, "state", ctx.state[0] ? ctx.state : NULL);
		json_obj_close(j);
	} else {
		json_nil(j);
	}
	json_kv_str(j, "provider", "stripe");
	json_obj_close(j);
	return 0;
}

static int customer_render(const struct customer *c, struct json *j,
			   const struct customer_expand *x)
{
	json_obj_open(j);
	json_kv_str(j, "id", c->id);
	json_kv_str(j, "object", "customer");
	if (c->deleted) {
		json_kv_bool(j, "deleted", true);
		json_obj_close(j);
		return DB_OK;
	}
	json_kv_raw_or_null(j, "address", c->address);
	json_kv_int(j, "balance", c->balance);
	/* optional, not nullable, in the API's types: shown when set */
	if (c->business_name)
		json_kv_str(j, "business_name", c->business_name);
	if (x && x->cash_balance) { /* includable (api/cash_balance.c) */
		json_key(j, "cash_balance");
		int rc = cash_balance_render(x->db, x->r->merchant_id, x->r->livemode, c->id, j);
		if (rc != DB_OK)
			return rc;
	}
	json_kv_int(j, "created", c->created);
	json_kv_str_or_null(j, "currency", c->currency);
	json_key(j, "default_source");
	if (c->default_source && x && x->default_source) {
		int rc =
		    bank_source_id(c->default_source)
			? bank_source_render(x->db, x->r->merchant_id, c->default_source, j)
		    : source_api_id(c->default_source)
			? source_api_render(x->db, x->r->merchant_id, x->r->livemode,
					    c->default_source, j)
			: card_source_render(x->db, x->r->merchant_id, c->default_source, c->id, j);
		if (rc == DB_NOTFOUND)
			json_nil(j);
		else if (rc != DB_OK)
			return rc;
	} else {
		json_str_or_null(j, c->default_source);
	}
	json_kv_bool(j, "delinquent", false);
	json_kv_str_or_null(j, "description", c->description);
	json_kv_raw_or_null(j, "discount", c->discount);
	json_kv_str_or_null(j, "email", c->email);
	if (c->individual_name)
		json_kv_str(j, "individual_name", c->individual_name);
	if (x && x->invoice_credit_balance) {
		/* the balance by currency: the one currency it is in, if any */
		json_key(j, "invoice_credit_balance");
		json_obj_open(j);
		if (c->currency)
			json_kv_int(j, c->currency, c->balance);
		json_obj_close(j);
	}
	json_kv_str_or_null(j, "invoice_prefix", c->invoice_prefix);
	json_key(j, "invoice_settings");
	json_obj_open(j);
	json_kv_null(j, "custom_fields");
	json_kv_str_or_null(j, "default_payment_method", c->default_payment_method);
	json_kv_null(j, "footer");
	json_kv_null(j, "rendering_options");
	json_obj_close(j);
	json_kv_bool(j, "livemode", false);
	json_kv_raw(j, "metadata", c->metadata ? c->metadata : "{}",
		    c->metadata ? strlen(c->metadata) : 2);
	json_kv_str_or_null(j, "name", c->name);
	json_kv_int(j, "next_invoice_sequence",
		    c->next_invoice_sequence > 0 ? c->next_invoice_sequence : 1);
	json_kv_str_or_null(j, "phone", c->phone);
	json_kv_raw(j, "preferred_locales", c->preferred_locales ? c->preferred_locales : "[]",
		    c->preferred_locales ? strlen(c->preferred_locales) : 2);
	json_kv_raw_or_null(j, "shipping", c->shipping);
	if (x && x->sources) { /* includable: only when asked for, as on Stripe */
		json_key(j, "sources");
		int rc = sources_render_embedded(x->r, x->db, c->id, j);
		if (rc != DB_OK)
			return rc;
	}
	if (x && x->tax) { /* includable: where Stripe Tax places it */
		json_key(j, "tax");
		if (tax_render(x->r, x->db, c, j) != 0)
			return DB_ERR;
	}
	json_kv_str(j, "tax_exempt", c->tax_exempt ? c->tax_exempt : "none");
	if (x && x->tax_ids) {
		json_key(j, "tax_ids");
		int rc = tax_ids_render_embedded(x->r, x->db, c->id, j);
		if (rc != DB_OK)
			return rc;
	}
	json_kv_str_or_null(j, "test_clock", c->test_clock);
	json_obj_close(j);
	return DB_OK;
}

/* Renders customer id with the expansions expand[] asks for under prefix (NULL: the response
 * object itself, "data" in a list). */
static int customer_render_expanded(struct req *r, struct db *db, const char *id,
				    const char *prefix, struct json *j)
{
	struct customer c;
	int rc = customer_load(r, db, id, &c);
	if (rc != DB_OK)
		return rc;
	struct customer_expand x;
	expand_for(r, db, prefix, &x);
	return customer_render(&c, j, &x);
}

int customer_render_by_id(struct req *r, struct db *db, const char *id, struct json *j)
{
	struct customer c;
	int rc = customer_load(r, db, id, &c);
	if (rc != DB_OK)
		return rc;
	return customer_render(&c, j, NULL);
}

/* Renders into a fresh buffer (for the response and the event at once), in arena a. */
static const char *customer_json_in(struct arena *a, const struct customer *c, size_t *ret_len)
{
	struct buf b;
	struct json j;
	buf_init(&b, 1u << 20);
	json_init(&j, &b);
	const char *s = customer_render(c, &j, NULL) != DB_OK || b.failed
			    ? NULL
			    : arena_strndup(a, b.data, b.len);
	*ret_len = b.len;
	buf_release(&b);
	return s;
}

static const char *customer_json(struct req *r, const struct customer *c, size_t *ret_len)
{
	return customer_json_in(&r->arena, c, ret_len);
}

int customer_updated_event(struct db *db, struct arena *arena, const char *merchant_id,
			   const char *id, const char *prev, int64_t now,
			   const struct event_origin *origin)
{
	struct customer c;
	int rc = customer_load_in(arena, merchant_id, db, id, &c);
	if (rc != DB_OK)
		return rc;
	size_t len = 0;
	const char *js = customer_json_in(arena, &c, &len);
	if (!js)
		return DB_ERR;
	return event_append(db, merchant_id, origin, "customer.updated", id, js, len, prev, now,
			    NULL);
}

static const char *const tax_exempt_values[] = {"none", "exempt", "reverse", NULL};

static const char *const validate_locations[] = {"auto", "deferred", "immediately", NULL};
static const struct param_spec tax_children[] = {
    {"ip_address", PT_STRING, PF_EMPTYABLE, 64, NULL, NULL},
    {"validate_location", PT_ENUM, 0, 0, validate_locations, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const char *const reconciliation_modes[] = {"automatic", "manual", "merchant_default", NULL};
static const struct param_spec cash_settings_children[] = {
    {"reconciliation_mode", PT_ENUM, 0, 0, reconciliation_modes, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec cash_balance_children[] = {
    {"settings", PT_OBJECT, 0, 0, NULL, cash_settings_children},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec invoice_settings_children[] = {
    {"default_payment_method", PT_STRING, PF_EMPTYABLE, 255, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};

#define CUSTOMER_WRITABLE_PARAMS                                                                   \
	{"address", PT_OBJECT, PF_EMPTYABLE, 0, NULL, address_params},                             \
	    {"balance", PT_INT, 0, 0, NULL, NULL},                                                 \
	    {"coupon", PT_STRING, PF_EMPTYABLE, COUPON_ID_MAX, NULL, NULL},                        \
	    {"promotion_code", PT_STRING, PF_EMPTYABLE, 255, NULL, NULL},                          \
	    {"description", PT_STRING, PF_EMPTYABLE, 5000, NULL, NULL},                            \
	    {"email", PT_STRING, PF_EMPTYABLE, 512, NULL, NULL},                                   \
	    {"invoice_prefix", PT_STRING, PF_EMPTYABLE, 12, NULL, NULL},                           \
	    {"invoice_settings", PT_OBJECT, 0, 0, NULL, invoice_settings_children},                \
	    {"metadata", PT_METADATA, 0, 0, NULL, NULL},                                           \
	    {"name", PT_STRING, PF_EMPTYABLE, 256, NULL, NULL},                                    \
	    {"business_name", PT_STRING, PF_EMPTYABLE, 150, NULL, NULL},                           \
	    {"individual_name", PT_STRING, PF_EMPTYABLE, 150, NULL, NULL},                         \
	    {"phone", PT_STRING, PF_EMPTYABLE, 20, NULL, NULL},                                    \
	    {"preferred_locales", PT_STRING_ARRAY, PF_EMPTYABLE, 0, NULL, NULL},                   \
	    {"shipping", PT_OBJECT, PF_EMPTYABLE, 0, NULL, shipping_params},                       \
	    {"next_invoice_sequence", PT_INT, 0, 0, NULL, NULL},                                   \
	    {"tax", PT_OBJECT, 0, 0, NULL, tax_children},                                          \
	    {"cash_balance", PT_OBJECT, 0, 0, NULL, cash_balance_children},                        \
	{                                                                                          \
		"tax_exempt", PT_ENUM, PF_EMPTYABLE, 0, tax_exempt_values, NULL                    \
	}

static const struct param_spec create_params[] = {
    CUSTOMER_WRITABLE_PARAMS,
    {"payment_method", PT_STRING, 0, 255, NULL, NULL},
    {"source", PT_STRING, 0, 255, NULL, NULL},
    {"tax_id_data", PT_OBJECT_ARRAY, 0, TAX_IDS_PER_CUSTOMER_MAX, NULL, tax_id_data_children},
    {"test_clock", PT_STRING, 0, 255, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};

static const struct param_spec update_params[] = {
    CUSTOMER_WRITABLE_PARAMS,
    {"source", PT_STRING, 0, 255, NULL, NULL},
    {"default_source", PT_STRING, 0, 255, NULL, NULL},
    /* the default_source era's names: a card or bank account token (as `source`), and the
     * source to make the default (as `default_source`) */
    {"card", PT_STRING, 0, 255, NULL, NULL},
    {"bank_account", PT_STRING, 0, 255, NULL, NULL},
    {"default_card", PT_STRING, 0, 255, NULL, NULL},
    {"default_bank_account", PT_STRING, 0, 255, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};

static const struct param_spec list_params[] = {
    {"email", PT_STRING, 0, 512, NULL, NULL},
    {"test_clock", PT_STRING, 0, 255, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};

static const struct param_spec no_params[] = {{NULL, 0, 0, 0, NULL, NULL}};

/* Applies the writable parameters present in r to c. 0 or -1 with r->err. */
static int apply_params(struct req *r, struct customer *c)
{
	c->email = str_update(r, "email", c->email);
	c->name = str_update(r, "name", c->name);
	c->business_name = str_update(r, "business_name", c->business_name);
	c->individual_name = str_update(r, "individual_name", c->individual_name);
	c->description = str_update(r, "description", c->description);
	c->phone = str_update(r, "phone", c->phone);
	const char *ip = str_update(r, "invoice_prefix", c->invoice_prefix);
	if (ip != c->invoice_prefix) {
		size_t n = ip ? strlen(ip) : 0;
		bool ok = n >= 3 && n <= 12;
		for (size_t i = 0; ok && i < n; i++)
			ok = (ip[i] >= 'A' && ip[i] <= 'Z') || (ip[i] >= '0' && ip[i] <= '9');
		if (!ok)
			return req_fail(
			    r, ERR_PARAM_BAD, "invoice_prefix",
			    "Invalid invoice_prefix: must be 3 to 12 uppercase letters or "
			    "numbers.");
		c->invoice_prefix = ip;
	}
	const char *te = param_str(r, "tax_exempt");
	if (te)
		c->tax_exempt = *te ? te : "none";
	int64_t bal;
	if (param_int(r, "balance", &bal) == 1) {
		if (bal > CUSTOMER_BALANCE_ABS_MAX || bal < -CUSTOMER_BALANCE_ABS_MAX)
			return req_fail(r, ERR_PARAM_BAD, "balance",
					"Invalid balance: must be at most %lld in absolute value.",
					(long long)CUSTOMER_BALANCE_ABS_MAX);
		c->balance = bal;
	}
	if (address_from_params(r, "address", &c->address) != 0)
		return -1;
	if (shipping_from_params(r, "shipping", &c->shipping) != 0)
		return -1;
	if (metadata_apply(r, c->metadata, "metadata", &c->metadata) != 0)
		return -1;
	if (string_array_json(r, "preferred_locales", &c->preferred_locales) != 0)
		return -1;
	const char *dpm = param_str(r, "invoice_settings.default_payment_method");
	if (dpm)
		c->default_payment_method = *dpm ? dpm : NULL;
	c->tax_ip_address = str_update(r, "tax.ip_address", c->tax_ip_address);
	return 0;
}

/* Inside a create's or update's write, c's row saved: next_invoice_sequence (never below the
 * next number the customer would get, so that no invoice number is given twice),
 * tax[validate_location]=immediately (Stripe Tax must be able to place it: else Stripe's
 * customer_tax_location_invalid, and the write is undone), cash_balance[settings]
 * [reconciliation_mode] (api/cash_balance.c's column; merchant_default: none of its own).
 * 0, or -1 with r->err. */
static const char SQL_SEQUENCE[] = "UPDATE customers SET invoice_sequence_offset = $3"
				   " WHERE merchant_id = $1 AND id = $2";
static const char SQL_CASH_MODE[] = "UPDATE customers SET cash_reconciliation_mode = $3"
				    " WHERE merchant_id = $1 AND id = $2";

static int extra_params_apply(struct req *r, struct db *db, struct customer *c)
{
	int64_t want;
	if (param_int(r, "next_invoice_sequence", &want) == 1) {
		int64_t next;
		if (invoice_sequence_next(db, r->merchant_id, c->id, c->sequence_offset, &next) !=
		    DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		if (want < next || want > 1000000000)
			return req_fail(r, ERR_PARAM_BAD, "next_invoice_sequence",
					"next_invoice_sequence must be between %lld (this "
					"customer's next invoice number: numbers are never given "
					"twice) and 1000000000.",
					(long long)next);
		int64_t offset = c->sequence_offset + (want - next);
		struct db_stmt *st = db_prepare(db, SQL_SEQUENCE);
		if (!st)
			return req_fail(r, ERR_API, NULL, NULL);
		db_bind_text(st, 1, r->merchant_id, -1);
		db_bind_text(st, 2, c->id, -1);
		db_bind_int64(st, 3, offset);
		if (db_step_done(st) != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		c->sequence_offset = offset;
		c->next_invoice_sequence = want;
	}
	const char *mode = param_str(r, "cash_balance.settings.reconciliation_mode");
	if (mode) {
		struct db_stmt *st = db_prepare(db, SQL_CASH_MODE);
		if (!st)
			return req_fail(r, ERR_API, NULL, NULL);
		db_bind_text(st, 1, r->merchant_id, -1);
		db_bind_text(st, 2, c->id, -1);
		db_bind_text(st, 3, strcmp(mode, "merchant_default") == 0 ? NULL : mode, -1);
		if (db_step_done(st) != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
	}
	const char *vl = param_str(r, "tax.validate_location");
	if (vl && strcmp(vl, "immediately") == 0) {
		struct tax_context ctx;
		bool located = false;
		if (invoice_auto_tax_place_at(r, db, c->id, NULL, r->now, &ctx, &located, NULL) !=
		    0)
			return -1;
		if (!located)
			return req_fail(r, ERR_TAX_LOCATION_INVALID, "tax",
					"The customer's location isn't recognized: Stripe Tax "
					"needs its address (a country, and for the US a postal "
					"code or state) to calculate taxes.");
	}
	return 0;
}

static const char SQL_INSERT[] =
    "INSERT INTO customers (merchant_id, id, created, email, name, description, phone, address,"
    " shipping, metadata, currency, invoice_prefix, preferred_locales, tax_exempt,"
    " default_payment_method, balance, deleted, test_clock, default_source, tax_ip_address,"
    " business_name, individual_name)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, 0, $17,"
    " $18, $19, $20, $21)";
static const char SQL_UPDATE[] =
    "UPDATE customers SET email = $3, name = $4, description = $5, phone = $6, address = $7,"
    " shipping = $8, metadata = $9, invoice_prefix = $10, preferred_locales = $11,"
    " tax_exempt = $12, default_payment_method = $13, balance = $14, default_source = $15,"
    " currency = $16, tax_ip_address = $17, business_name = $18, individual_name = $19"
    " WHERE merchant_id = $1 AND id = $2 AND deleted = 0";
static const char SQL_DELETE[] =
    "UPDATE customers SET deleted = 1 WHERE merchant_id = $1 AND id = $2 AND deleted = 0";

static int balance_param_record(struct req *r, struct db *db, struct customer *c, int64_t old);
static int customer_save(struct req *r, struct db *db, const struct customer *c);

struct write_ctx {
	struct req *r;
	struct customer c;
	const char *id;
	const char *default_pm; /* create: invoice_settings[default_payment_method] as sent */
	struct source_new sn;	/* `source`: the card prepared before the write */
	/* `source` naming a bank account token (btok_…, or one of Stripe's test ones): attached
	 * inside the write by bank_source_attach, which uses the token up there */
	const char *bank_ref;
	/* `source` naming a card source of the Sources API (src_…, api/sources_api.c): attached
	 * inside the write */
	const char *src_api;
};

#define DEFAULT_PM_PARAM "invoice_settings[default_payment_method]"

/* A customer's default PaymentMethod must be one attached to it, as on Stripe. */
static int check_default_pm(struct req *r, struct db *db, const char *pm, const char *customer)
{
	const char *id;
	char owner[ID_MAX];
	if (pm_attach_resolve(r, db, pm, DEFAULT_PM_PARAM, &id, owner) != 0)
		return -1;
	if (strcmp(owner, customer) != 0)
		return req_fail(r, ERR_PARAM_BAD, DEFAULT_PM_PARAM,
				"The customer does not have a payment method with the ID %s. The "
				"payment method must be attached to the customer.",
				pm);
	return 0;
}

static void invoice_prefix_new(char out[9])
{
	static const char hexu[] = "0123456789ABCDEF";
	char rnd[16];
	id_random_base62(rnd, 8);
	for (int i = 0; i < 8; i++)
		out[i] = hexu[(unsigned char)rnd[i] % 16];
	out[8] = '\0';
}

/* The event; with answer, the same JSON is the request's answer too (respond_expanded renders it
 * again when expand[] asks for more). */
static int emit(struct req *r, struct db *db, const struct customer *c, const char *type,
		const char *prev, bool answer)
{
	size_t len = 0;
	const char *js = customer_json(r, c, &len);
	if (!js)
		return req_fail(r, ERR_API, NULL, NULL);
	struct event_origin o = {r->request_id, r->idempotency_key, r->livemode};
	if (event_append(db, r->merchant_id, &o, type, c->id, js, len, prev, r->now, NULL) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (answer) {
		req_json(r);
		buf_append(&r->out, js, len);
	}
	return 0;
}

/* A write's answer with default_source / sources expanded when expand[] asks (rendered after
 * every effect of the write, so that an attached card is in the list). 0, or -1 with r->err. */
static int respond_expanded(struct req *r, struct db *db, const struct customer *c)
{
	struct customer_expand x;
	expand_for(r, db, NULL, &x);
	if (!expand_any(&x))
		return 0;
	return customer_render(c, req_json(r), &x) == DB_OK ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

/* `coupon` / `promotion_code`: the customer's discount (discounts.c), at the customer's time
 * (its test clock's), and c->discount as it then is. 0, or -1 with r->err. */
static int discount_apply(struct req *r, struct db *db, struct customer *c)
{
	if (!param_present(r, "coupon") && !param_present(r, "promotion_code"))
		return 0;
	int64_t t;
	bool changed = false;
	if (billing_now(r, db, c->test_clock, &t) != 0 ||
	    customer_discount_params(r, db, c->id, t, &changed) != 0)
		return -1;
	if (changed &&
	    customer_discount_json(&r->arena, r->merchant_id, db, c->id, &c->discount) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	return 0;
}

static int create_fn(struct db *db, void *p)
{
	struct write_ctx *w = p;
	struct req *r = w->r;
	struct customer *c = &w->c;
	/* payment_method: attached to the new customer (Stripe's create does that), after its
	 * customer.created event; a test alias is stored first, and a default naming the alias
	 * names what was stored. Set from the request on every run (PostgreSQL may run this
	 * again). */
	c->default_payment_method = w->default_pm;
	const char *pm = param_str(r, "payment_method");
	const char *pm_id = NULL;
	char owner[ID_MAX];
	if (pm && *pm) {
		if (pm_attach_resolve(r, db, pm, "payment_method", &pm_id, owner) != 0)
			return -1;
		if (c->default_payment_method && strcmp(c->default_payment_method, pm) == 0)
			c->default_payment_method = pm_id;
	}
	if (c->default_payment_method &&
	    (!pm_id || strcmp(c->default_payment_method, pm_id) != 0) &&
	    check_default_pm(r, db, c->default_payment_method, c->id) != 0)
		return -1;
	/* its subscriptions then live on the clock's time (subscriptions.c); the customer itself
	 * keeps the real time it was made at, which its id (list order) is made from */
	c->test_clock = param_str(r, "test_clock");
	if (c->test_clock && test_clock_take_customer(r, db, c->test_clock) != 0)
		return -1;
	/* `source`: the card verified before the write is its first source and default; a bank
	 * account's id is known once it is attached (below) */
	c->default_source = w->sn.set ? w->sn.id : w->src_api;
	c->currency = NULL;
	if (balance_param_record(r, db, c, 0) != 0)
		return -1;
	struct db_stmt *st = db_prepare(db, SQL_INSERT);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, c->id, -1);
	db_bind_int64(st, 3, c->created);
	db_bind_text(st, 4, c->email, -1);
	db_bind_text(st, 5, c->name, -1);
	db_bind_text(st, 6, c->description, -1);
	db_bind_text(st, 7, c->phone, -1);
	db_bind_text(st, 8, c->address, -1);
	db_bind_text(st, 9, c->shipping, -1);
	db_bind_text(st, 10, c->metadata, -1);
	db_bind_text(st, 11, c->currency, -1);
	db_bind_text(st, 12, c->invoice_prefix, -1);
	db_bind_text(st, 13, c->preferred_locales, -1);
	db_bind_text(st, 14, c->tax_exempt, -1);
	db_bind_text(st, 15, c->default_payment_method, -1);
	db_bind_int64(st, 16, c->balance);
	db_bind_text(st, 17, c->test_clock, -1);
	db_bind_text(st, 18, c->default_source, -1);
	db_bind_text(st, 19, c->tax_ip_address, -1);
	db_bind_text(st, 20, c->business_name, -1);
	db_bind_text(st, 21, c->individual_name, -1);
	if (db_step_done(st) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	c->discount = NULL; /* set from the request on every run */
	c->sequence_offset = 0;
	c->next_invoice_sequence = 1;
	if (extra_params_apply(r, db, c) != 0)
		return -1;
	if (discount_apply(r, db, c) != 0)
		return -1;
	if (w->bank_ref) {
		/* the bank account token's account is the new customer's first source and its
		 * default, as a card's is: customer.created shows it as default_source, so the
		 * account (and its customer.source.created) comes first, in this same write */
		struct bank_source b;
		if (bank_source_attach(r, db, c->id, w->bank_ref, "source", NULL, &b) != 0)
			return -1;
		c->default_source = arena_strdup(&r->arena, b.id);
		if (!c->default_source || customer_save(r, db, c) != 0)
			return -1;
	}
	if (w->src_api) {
		/* a src_… is the new customer's first source and its default (named by the insert
		 * above), attached before customer.created as a bank account is */
		bool added;
		if (source_api_attach(r, db, c->id, w->src_api, "source", &added) != 0)
			return -1;
	}
	if (emit(r, db, c, "customer.created", NULL, true) != 0)
		return -1;
	if (tax_ids_create_from_data(r, db, c->id) != 0)
		return -1;
	if (pm_id && pm_attach_finish(r, db, pm_id, owner, c->id) != 0)
		return -1;
	if (w->sn.set && source_attach(r, db, &w->sn, c->id, NULL, NULL) != 0)
		return -1;
	return respond_expanded(r, db, c);
}

int customer_create_for_checkout(struct req *r, struct db *db, const char *id, const char *email,
				 const char *name, const char *phone, const char *address)
{
	struct customer c;
	memset(&c, 0, sizeof(c));
	str_copy(c.id, sizeof(c.id), id);
	c.created = r->now;
	c.email = email;
	c.name = name;
	c.phone = phone;
	c.address = address;
	c.metadata = "{}";
	char prefix[9];
	invoice_prefix_new(prefix);
	c.invoice_prefix = prefix;
	c.tax_exempt = "none";
	c.preferred_locales = "[]";
	struct db_stmt *st = db_prepare(db, SQL_INSERT);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, c.id, -1);
	db_bind_int64(st, 3, c.created);
	db_bind_text(st, 4, c.email, -1);
	db_bind_text(st, 5, c.name, -1);
	db_bind_text(st, 6, NULL, -1);
	db_bind_text(st, 7, c.phone, -1);
	db_bind_text(st, 8, c.address, -1);
	db_bind_text(st, 9, NULL, -1);
	db_bind_text(st, 10, c.metadata, -1);
	db_bind_text(st, 11, NULL, -1);
	db_bind_text(st, 12, c.invoice_prefix, -1);
	db_bind_text(st, 13, c.preferred_locales, -1);
	db_bind_text(st, 14, c.tax_exempt, -1);
	db_bind_text(st, 15, NULL, -1);
	db_bind_int64(st, 16, 0);
	db_bind_text(st, 17, NULL, -1);
	db_bind_text(st, 18, NULL, -1);
	db_bind_text(st, 19, NULL, -1);
	db_bind_text(st, 20, NULL, -1);
	db_bind_text(st, 21, NULL, -1);
	if (db_step_done(st) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	/* the event only: the request's answer is the checkout page, not this customer */
	size_t len = 0;
	const char *js = customer_json(r, &c, &len);
	struct event_origin o = {r->request_id[0] ? r->request_id : NULL, r->idempotency_key,
				 r->livemode};
	if (!js || event_append(db, r->merchant_id, &o, "customer.created", c.id, js, len, NULL,
				r->now, NULL) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	return 0;
}

static int h_create(struct req *r)
{
	struct write_ctx w = {.r = r};
	struct customer *c = &w.c;
	id_new_at(c->id, "cus_", r->now);
	c->created = r->now;
	char prefix[9];
	invoice_prefix_new(prefix);
	c->invoice_prefix = prefix;
	c->tax_exempt = "none";
	c->preferred_locales = "[]";
	if (apply_params(r, c) != 0 || tax_ids_check_data(r) != 0)
		return -1;
	w.default_pm = c->default_payment_method;
	const char *src = param_str(r, "source");
	if (src && strncmp(src, "btok_", 5) == 0) {
		w.bank_ref = src; /* a bank account: nothing to verify with an issuer first */
	} else if (source_api_id(src)) {
		w.src_api = src; /* a source already made (its card checked then) */
	} else if (src && *src) {
		/* Stripe verifies the card with its issuer when it attaches it: a declined card
		 * makes no customer */
		if (source_prepare(r, src, "source", c->id, &w.sn) != 0)
			return -1;
	}
	return req_write(r, create_fn, &w);
}

struct read_ctx {
	struct req *r;
	const char *id;
};

static int retrieve_fn(struct db *db, void *p)
{
	struct read_ctx *x = p;
	struct req *r = x->r;
	int rc = customer_render_expanded(r, db, x->id, NULL, req_json(r));
	if (rc == DB_NOTFOUND)
		return req_fail_missing(r, "customer", x->id, "id");
	return rc == DB_OK ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

static int h_retrieve(struct req *r)
{
	if (req_scope_customer(r, r->args[0], "customer", r->args[0], "id") != 0)
		return -1;
	struct read_ctx x = {r, r->args[0]};
	return req_read(r, retrieve_fn, &x) == 0 ? 0 : -1;
}

/* previous_attributes: the old value of every top-level field this update changed. */
static const char *previous_attributes(struct req *r, const struct customer *o,
				       const struct customer *n)
{
	struct buf b;
	struct json j;
	buf_init(&b, 1u << 20);
	json_init(&j, &b);
	json_obj_open(&j);
#define PREV_STR(field)                                                                            \
	if ((o->field == NULL) != (n->field == NULL) ||                                            \
	    (o->field && n->field && strcmp(o->field, n->field) != 0))                             \
		json_kv_str_or_null(&j, #field, o->field);
#define PREV_RAW(field, empty)                                                                     \
	if ((o->field == NULL) != (n->field == NULL) ||                                            \
	    (o->field && n->field && strcmp(o->field, n->field) != 0)) {                           \
		json_key(&j, #field);                                                              \
		if (o->field)                                                                      \
			json_raw(&j, o->field, strlen(o->field));                                  \
		else                                                                               \
			json_raw(&j, empty, strlen(empty));                                        \
	}
	PREV_STR(email)
	PREV_STR(name)
	PREV_STR(business_name)
	PREV_STR(individual_name)
	PREV_STR(description)
	PREV_STR(phone)
	PREV_STR(invoice_prefix)
	PREV_STR(tax_exempt)
	PREV_RAW(address, "null")
	PREV_RAW(shipping, "null")
	PREV_RAW(metadata, "{}")
	PREV_RAW(preferred_locales, "[]")
#undef PREV_RAW
	if (o->balance != n->balance)
		json_kv_int(&j, "balance", o->balance);
	PREV_STR(currency)
	PREV_STR(default_source)
#undef PREV_STR
	if (o->next_invoice_sequence != n->next_invoice_sequence)
		json_kv_int(&j, "next_invoice_sequence", o->next_invoice_sequence);
	if ((o->discount == NULL) != (n->discount == NULL) ||
	    (o->discount && n->discount && strcmp(o->discount, n->discount) != 0)) {
		json_key(&j, "discount");
		if (o->discount)
			json_raw(&j, o->discount, strlen(o->discount));
		else
			json_nil(&j);
	}
	if ((o->default_payment_method == NULL) != (n->default_payment_method == NULL) ||
	    (o->default_payment_method && n->default_payment_method &&
	     strcmp(o->default_payment_method, n->default_payment_method) != 0)) {
		json_key(&j, "invoice_settings");
		json_obj_open(&j);
		json_kv_str_or_null(&j, "default_payment_method", o->default_payment_method);
		json_obj_close(&j);
	}
	json_obj_close(&j);
	const char *s = b.failed ? "{}" : arena_strdup(&r->arena, buf_cstr(&b));
	buf_release(&b);
	return s ? s : "{}";
}

/* Writes every writable field of c over its row. 0, or -1 with r->err. */
static int customer_save(struct req *r, struct db *db, const struct customer *c)
{
	struct db_stmt *st = db_prepare(db, SQL_UPDATE);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, c->id, -1);
	db_bind_text(st, 3, c->email, -1);
	db_bind_text(st, 4, c->name, -1);
	db_bind_text(st, 5, c->description, -1);
	db_bind_text(st, 6, c->phone, -1);
	db_bind_text(st, 7, c->address, -1);
	db_bind_text(st, 8, c->shipping, -1);
	db_bind_text(st, 9, c->metadata, -1);
	db_bind_text(st, 10, c->invoice_prefix, -1);
	db_bind_text(st, 11, c->preferred_locales, -1);
	db_bind_text(st, 12, c->tax_exempt, -1);
	db_bind_text(st, 13, c->default_payment_method, -1);
	db_bind_int64(st, 14, c->balance);
	db_bind_text(st, 15, c->default_source, -1);
	db_bind_text(st, 16, c->currency, -1);
	db_bind_text(st, 17, c->tax_ip_address, -1);
	db_bind_text(st, 18, c->business_name, -1);
	db_bind_text(st, 19, c->individual_name, -1);
	if (db_step_done(st) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	return 0;
}

/* `balance` on a create or update moved the customer's balance from old to c->balance: the
 * move is an adjustment transaction in the customer's currency (the merchant's settlement
 * currency for a customer without one, which it then gets), as every change of it is. 0, or -1
 * with r->err. */
static int balance_param_record(struct req *r, struct db *db, struct customer *c, int64_t old)
{
	if (c->balance == old)
		return 0;
	if (!c->currency) {
		char cur[8];
		if (customer_balance_default_currency(db, r->merchant_id, cur) != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		c->currency = arena_strdup(&r->arena, cur);
		if (!c->currency)
			return req_fail(r, ERR_API, NULL, NULL);
	}
	int64_t amount;
	if (__builtin_sub_overflow(c->balance, old, &amount))
		return req_fail(r, ERR_PARAM_BAD, "balance", "Invalid balance.");
	return customer_balance_txn_record(db, r->merchant_id, c->id, amount, c->currency,
					   c->balance, r->now) == DB_OK
		   ? 0
		   : req_fail(r, ERR_API, NULL, NULL);
}

/* default_source and source on an update. default_source must be one of the customer's cards.
 * source (prepared before the write) is attached and becomes the default, and the card that
 * was the default is deleted: Stripe's documented rule for `source` on an update (add a card
 * without replacing the default through POST /v1/customers/{id}/sources). 0, or -1. */
static int default_source_apply(struct req *r, struct db *db, struct write_ctx *w,
				struct customer *c)
{
	const char *ds = param_str(r, "default_source");
	if (ds && *ds && !(c->default_source && strcmp(ds, c->default_source) == 0)) {
		int own = source_owned(r, db, c->id, ds);
		if (own < 0)
			return req_fail(r, ERR_API, NULL, NULL);
		if (own == 0)
			return req_fail(r, ERR_SOURCE_MISSING, "default_source",
					"Customer %s does not have a linked source with ID %s.",
					c->id, ds);
		c->default_source = ds;
	}
	if (!w->sn.set && !w->bank_ref && !w->src_api)
		return 0;
	const char *added = w->sn.id;
	if (w->src_api) {
		bool fresh;
		if (source_api_attach(r, db, c->id, w->src_api, "source", &fresh) != 0)
			return -1;
		added = w->src_api;
		/* already its source: it becomes the default, and nothing is deleted */
		if (!fresh && c->default_source && strcmp(c->default_source, added) == 0)
			return 0;
	} else if (w->bank_ref) {
		/* a bank account token: the same rule as a card's (Stripe: `source` makes the new
		 * source the default and deletes the old default, whichever kind each is) */
		struct bank_source b;
		if (bank_source_attach(r, db, c->id, w->bank_ref, "source", NULL, &b) != 0)
			return -1;
		added = arena_strdup(&r->arena, b.id);
		if (!added)
			return req_fail(r, ERR_API, NULL, NULL);
	} else if (source_attach(r, db, &w->sn, c->id, NULL, NULL) != 0) {
		return -1;
	}
	if (c->default_source && source_detach(r, db, c->id, c->default_source) != 0)
		return -1;
	c->default_source = added;
	return 0;
}

static int update_fn(struct db *db, void *p)
{
	struct write_ctx *w = p;
	struct req *r = w->r;
	struct customer old, *c = &w->c;
	int rc = customer_load(r, db, w->id, &old);
	if (rc == DB_NOTFOUND || (rc == DB_OK && old.deleted))
		return req_fail_missing(r, "customer", w->id, "id");
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	*c = old;
	if (apply_params(r, c) != 0)
		return -1;
	if (balance_param_record(r, db, c, old.balance) != 0)
		return -1;
	const char *dpm = c->default_payment_method;
	if (dpm && !(old.default_payment_method && strcmp(dpm, old.default_payment_method) == 0) &&
	    check_default_pm(r, db, dpm, c->id) != 0)
		return -1;
	if (default_source_apply(r, db, w, c) != 0)
		return -1;
	if (customer_save(r, db, c) != 0)
		return -1;
	if (extra_params_apply(r, db, c) != 0)
		return -1;
	if (discount_apply(r, db, c) != 0)
		return -1;
	if (emit(r, db, c, "customer.updated", previous_attributes(r, &old, c), true) != 0)
		return -1;
	return respond_expanded(r, db, c);
}

int customer_unset_default_pm(struct req *r, struct db *db, const char *customer, const char *pm)
{
	struct customer old, c;
	int rc = customer_load(r, db, customer, &old);
	if (rc == DB_NOTFOUND)
		return 0;
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (old.deleted)
		return 0;
	c = old;
	if (old.default_payment_method && strcmp(old.default_payment_method, pm) == 0)
		c.default_payment_method = NULL;
	/* a card source detached through /v1/payment_methods/{card_…}/detach: as when it is
	 * deleted, the newest of the others becomes the default */
	if (old.default_source && strcmp(old.default_source, pm) == 0) {
		char *next = arena_zalloc(&r->arena, ID_MAX);
		if (!next)
			return req_fail(r, ERR_API, NULL, NULL);
		if (source_newest(r, db, c.id, pm, next) != 0)
			return -1;
		c.default_source = next[0] ? next : NULL;
	}
	if (c.default_payment_method == old.default_payment_method &&
	    c.default_source == old.default_source)
		return 0;
	if (customer_save(r, db, &c) != 0)
		return -1;
	return emit(r, db, &c, "customer.updated", previous_attributes(r, &old, &c), false);
}

int customer_default_source(struct req *r, struct db *db, const char *id, const char *param,
			    char ret[ID_MAX])
{
	struct customer c;
	int rc = customer_load(r, db, id, &c);
	if (rc == DB_NOTFOUND || (rc == DB_OK && c.deleted))
		return req_fail_missing(r, "customer", id, param);
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	str_copy(ret, ID_MAX, c.default_source ? c.default_source : "");
	return 0;
}

int customer_set_default_source(struct req *r, struct db *db, const char *id, const char *source)
{
	struct customer old, c;
	int rc = customer_load(r, db, id, &old);
	if (rc == DB_NOTFOUND || (rc == DB_OK && old.deleted))
		return req_fail_missing(r, "customer", id, "customer");
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if ((!old.default_source && !source) ||
	    (old.default_source && source && strcmp(old.default_source, source) == 0))
		return 0;
	c = old;
	c.default_source = source;
	if (customer_save(r, db, &c) != 0)
		return -1;
	return emit(r, db, &c, "customer.updated", previous_attributes(r, &old, &c), false);
}

int customer_set_default_pm(struct req *r, struct db *db, const char *id, const char *pm)
{
	struct customer old, c;
	int rc = customer_load(r, db, id, &old);
	if (rc == DB_NOTFOUND || (rc == DB_OK && old.deleted))
		return req_fail_missing(r, "customer", id, "customer");
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (old.default_payment_method && strcmp(old.default_payment_method, pm) == 0)
		return 0;
	if (check_default_pm(r, db, pm, id) != 0)
		return -1;
	c = old;
	c.default_payment_method = pm;
	if (customer_save(r, db, &c) != 0)
		return -1;
	return emit(r, db, &c, "customer.updated", previous_attributes(r, &old, &c), false);
}

int customer_portal_update(struct req *r, struct db *db, const char *id)
{
	struct customer old, c;
	int rc = customer_load(r, db, id, &old);
	if (rc == DB_NOTFOUND || (rc == DB_OK && old.deleted))
		return req_fail_missing(r, "customer", id, "customer");
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	c = old;
	if (apply_params(r, &c) != 0)
		return -1;
	const char *prev = previous_attributes(r, &old, &c);
	if (strcmp(prev, "{}") == 0)
		return 0;
	if (customer_save(r, db, &c) != 0)
		return -1;
	return emit(r, db, &c, "customer.updated", prev, false);
}

int customer_checkout_update(struct req *r, struct db *db, const char *id, const char *name,
			     const char *address, const char *shipping)
{
	struct customer old, c;
	int rc = customer_load(r, db, id, &old);
	if (rc == DB_NOTFOUND || (rc == DB_OK && old.deleted))
		return req_fail_missing(r, "customer", id, "customer");
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	c = old;
	if (name)
		c.name = name;
	if (address)
		c.address = address;
	if (shipping)
		c.shipping = shipping;
	const char *prev = previous_attributes(r, &old, &c);
	if (strcmp(prev, "{}") == 0)
		return 0;
	if (customer_save(r, db, &c) != 0)
		return -1;
	return emit(r, db, &c, "customer.updated", prev, false);
}

struct exists_ctx {
	struct req *r;
	const char *id;
};

static int exists_fn(struct db *db, void *p)
{
	struct exists_ctx *x = p;
	return customer_check(x->r, db, x->id);
}

/* The default_source era's names of `source` and `default_source` (one name each at most):
 * the request reads as if it had sent the newer one. 0, or -1 with r->err. */
static int legacy_source_names(struct req *r)
{
	static const struct {
		const char *to, *from[3];
	} names[] = {
	    {"source", {"source", "card", "bank_account"}},
	    {"default_source", {"default_source", "default_card", "default_bank_account"}}};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const char *given = NULL, *value = NULL;
		for (int k = 0; k < 3; k++) {
			if (!param_present(r, names[i].from[k]))
				continue;
			if (given)
				return req_fail(r, ERR_PARAM_BAD, names[i].from[k],
						"You cannot pass both %s and %s.", given,
						names[i].from[k]);
			given = names[i].from[k];
			value = param_str(r, given);
		}
		if (given && strcmp(given, names[i].to) != 0 &&
		    req_param_set(r, names[i].to, value ? value : "") != 0)
			return req_fail(r, ERR_API, NULL, NULL);
	}
	return 0;
}

static int h_update(struct req *r)
{
	struct write_ctx w = {.r = r, .id = r->args[0]};
	if (legacy_source_names(r) != 0)
		return -1;
	const char *src = param_str(r, "source");
	if (src && strncmp(src, "btok_", 5) == 0) {
		/* a bank account token is used up inside the write, which checks the customer */
		w.bank_ref = src;
	} else if (source_api_id(src)) {
		w.src_api =
		    src; /* a src_… is attached inside the write, which checks the customer */
	} else if (src && *src) {
		/* the customer first: preparing the card uses its token up */
		struct exists_ctx x = {r, w.id};
		if (req_read(r, exists_fn, &x) != 0)
			return -1;
		if (source_prepare(r, src, "source", w.id, &w.sn) != 0)
			return -1;
	}
	return req_write(r, update_fn, &w);
}

static int delete_fn(struct db *db, void *p)
{
	struct write_ctx *w = p;
	struct req *r = w->r;
	struct customer old;
	int rc = customer_load(r, db, w->id, &old);
	if (rc == DB_NOTFOUND || (rc == DB_OK && old.deleted))
		return req_fail_missing(r, "customer", w->id, "id");
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	struct db_stmt *st = db_prepare(db, SQL_DELETE);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, w->id, -1);
	if (db_step_done(st) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	/* the event carries the customer as it was; the response is the deleted stub */
	size_t len = 0;
	const char *js = customer_json(r, &old, &len);
	struct event_origin o = {r->request_id, r->idempotency_key, r->livemode};
	if (!js || event_append(db, r->merchant_id, &o, "customer.deleted", old.id, js, len, NULL,
				r->now, NULL) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	/* Stripe removes a deleted customer's cards: none of them can pay any more */
	if (customer_pms_detach_all(r, db, old.id) != 0)
		return -1;
	old.deleted = 1;
	return customer_render(&old, req_json(r), NULL) == DB_OK ? 0
								 : req_fail(r, ERR_API, NULL, NULL);
}

static int h_delete(struct req *r)
{
	struct write_ctx w = {.r = r, .id = r->args[0]};
	return req_write(r, delete_fn, &w);
}

/* DELETE /v1/customers/{id}/discount: its discount ends; the answer is it, deleted. */
static int delete_discount_fn(struct db *db, void *p)
{
	struct write_ctx *w = p;
	struct req *r = w->r;
	struct customer c;
	int rc = customer_load(r, db, w->id, &c);
	if (rc == DB_NOTFOUND || (rc == DB_OK && c.deleted))
		return req_fail_missing(r, "customer", w->id, "id");
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	int64_t t;
	if (billing_now(r, db, c.test_clock, &t) != 0)
		return -1;
	return customer_discount_remove(r, db, c.id, t);
}

static int h_delete_discount(struct req *r)
{
	struct write_ctx w = {.r = r, .id = r->args[0]};
	return req_write(r, delete_discount_fn, &w);
}

/* GET /v1/customers/{id}/discount: its live discount (the customer's `discount`), 404 when it
 * has none. */
static int discount_fn(struct db *db, void *p)
{
	struct write_ctx *w = p;
	struct req *r = w->r;
	struct customer c;
	int rc = customer_load(r, db, w->id, &c);
	if (rc == DB_NOTFOUND || (rc == DB_OK && c.deleted))
		return req_fail_missing(r, "customer", w->id, "id");
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	int64_t t;
	if (billing_now(r, db, c.test_clock, &t) != 0)
		return -1;
	struct discount d;
	rc = customer_discount_get(r, db, c.id, t, &d);
	if (rc == DB_NOTFOUND)
		return req_fail(r, ERR_RESOURCE_MISSING, NULL, "Customer %s has no discount.",
				c.id);
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	discount_render(r, &d, false, req_json(r));
	return 0;
}

static int h_discount(struct req *r)
{
	struct write_ctx w = {.r = r, .id = r->args[0]};
	return req_read(r, discount_fn, &w);
}

static const char SQL_CURSOR[] = "SELECT created FROM customers WHERE merchant_id = $1 AND id = $2";
/* EMAIL: the email filter's term; it is also a list_narrow (list.h) with the plain `email = $5`,
 * answered from customers_email */
#define LIST_SQL(EMAIL, DIR)                                                                       \
	"SELECT id FROM customers WHERE merchant_id = $1 AND " EMAIL " AND deleted = 0"            \
	" AND id > $2 AND id < $3 AND ($6 IS NULL OR test_clock = $6) ORDER BY id " DIR            \
	" LIMIT $4"
static const char SQL_LIST_DESC[] = LIST_SQL("($5 IS NULL OR email = $5)", "DESC");
static const char SQL_LIST_ASC[] = LIST_SQL("($5 IS NULL OR email = $5)", "ASC");
static const char SQL_EMAIL_DESC[] = LIST_SQL("email = $5", "DESC");
static const char SQL_EMAIL_ASC[] = LIST_SQL("email = $5", "ASC");

static int list_bind(struct req *r, struct db_stmt *st, int first, void *ctx)
{
	list_bind_filter(r, st, first, "email");
	list_bind_filter(r, st, first + 1, "test_clock");
	return 0;
}

static int list_render(struct req *r, struct db *db, const char *id, struct json *j, void *ctx)
{
	return customer_render_expanded(r, db, id, "data", j);
}

static int h_list(struct req *r)
{
	static const struct list_spec spec = {
	    .url = "/v1/customers",
	    .object_name = "customer",
	    .id_prefix = "cus_",
	    .sql_cursor = SQL_CURSOR,
	    .sql_desc = SQL_LIST_DESC,
	    .sql_asc = SQL_LIST_ASC,
	    .narrow = {{"email", SQL_EMAIL_DESC, SQL_EMAIL_ASC}},
	    .bind_filters = list_bind,
	    .render = list_render,
	};
	return list_respond(r, &spec);
}

/* Stripe's search fields for customers: created, email, metadata, name, phone. Emails match
 * case-insensitively, so the scan has no exact prefilter. */
static const char SQL_SEARCH[] =
    "SELECT id, created, email, name, phone, metadata FROM customers WHERE merchant_id = $1"
    " AND deleted = 0 AND id > $2 AND id < $3 AND ($5 IS NULL OR email = $5)"
    " ORDER BY id DESC LIMIT $4";

static const struct search_field search_fields[] = {
    {"created", SEARCH_NUMBER, false, 1, NULL},	   {"email", SEARCH_STRING, true, 2, NULL},
    {"metadata", SEARCH_METADATA, false, 5, NULL}, {"name", SEARCH_STRING, true, 3, NULL},
    {"phone", SEARCH_STRING, true, 4, NULL},	   {NULL, 0, false, 0, NULL},
};

static int search_render(struct req *r, struct db *db, const char *id, struct json *j)
{
	return customer_render_expanded(r, db, id, "data", j);
}

static int h_search(struct req *r)
{
	static const struct search_spec spec = {
	    .url = "/v1/customers/search",
	    .resource = "customers",
	    .id_prefix = "cus_",
	    .fields = search_fields,
	    .sql_scan = SQL_SEARCH,
	    .prefilter = NULL,
	    .render = search_render,
	};
	return search_respond(r, &spec);
}

const struct route customers_routes[] = {
    {"POST", "/v1/customers", h_create, create_params, 0},
    {"GET", "/v1/customers", h_list, list_params, ROUTE_LIST},
    {"GET", "/v1/customers/search", h_search, search_params, 0},
    {"GET", "/v1/customers/{id}", h_retrieve, no_params, ROUTE_EPHEMERAL},
    {"POST", "/v1/customers/{id}", h_update, update_params, 0},
    {"DELETE", "/v1/customers/{id}", h_delete, no_params, 0},
    {"DELETE", "/v1/customers/{id}/discount", h_delete_discount, no_params, 0},
    {"GET", "/v1/customers/{id}/discount", h_discount, no_params, 0},
    {NULL, NULL, NULL, NULL, 0},
};
