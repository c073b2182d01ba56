/*
 * /v1/promotion_codes: create, retrieve, update (active, metadata), list (active, code, coupon,
 * customer, created).
 *
 * A promotion code is a customer-facing code for a coupon ("FALL20"), with limits of its own
 * (active, expires_at, max_redemptions, a customer it is reserved for) and restrictions on the
 * purchase (first_time_transaction: the customer has never paid; minimum_amount in
 * minimum_amount_currency). Redeeming one (discounts.c: promotion_code on a subscription or an
 * invoice) checks all of them and counts it (times_redeemed) with its coupon, in the
 * redemption's own write. A code is unique among the merchant's active codes whatever its case
 * (code_lower); one made without a code gets a random one.
 *
 * The object follows the API stripe-node 23 speaks: the coupon is promotion.coupon (an id;
 * expand[]=promotion.coupon gives the coupon), where older versions showed `coupon`.
 * Create takes promotion[type]=coupon&promotion[coupon]=… and the older coupon=… alike.
 *
 * restrictions[currency_options][<currency>][minimum_amount]: the minimum in other currencies
 * than minimum_amount_currency (for a coupon that applies in several: a percent_off one, an
 * amount_off one with currency_options), rows of promotion_code_currency_options made by create
 * and added by update, never changed. A purchase in one of them must reach that option's
 * minimum; in a currency with no minimum the code is refused, as before. Includable, as on
 * Stripe: shown with expand[]=restrictions.currency_options (minimum_amount_currency among
 * them).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/billing_internal.h"
#include "api/common.h"
#include "api/list.h"
#include "core/parse.h"
#include "core/str.h"
#include "events/events.h"
#include "http/form.h"
#include "money/currency.h"

#define CODE_MAX 100
#define CODE_RANDOM_LEN 8

static const char SQL_GET[] =
    "SELECT id, created, code, coupon, active, customer, expires_at, max_redemptions,"
    " times_redeemed, first_time_transaction, minimum_amount, minimum_amount_currency, metadata"
    " FROM promotion_codes WHERE merchant_id = $1 AND id = $2";
static const char SQL_INSERT[] =
    "INSERT INTO promotion_codes (merchant_id, id, created, code, code_lower, coupon, active,"
    " customer, expires_at, max_redemptions, times_redeemed, first_time_transaction,"
    " minimum_amount, minimum_amount_currency, metadata) VALUES ($1, $2, $3, $4, $5, $6, $7, $8,"
    " $9, $10, 0, $11, $12, $13, $14)";
static const char SQL_UPDATE[] =
    "UPDATE promotion_codes SET active = $3, metadata = $4 WHERE merchant_id = $1 AND id = $2";
/* another active code of the same text, whatever its case */
static const char SQL_CODE_TAKEN[] =
    "SELECT id FROM promotion_codes WHERE merchant_id = $1 AND code_lower = $2 AND active = 1"
    " AND id <> $3 LIMIT 1";
static const char SQL_CUSTOMER[] =
    "SELECT 1 FROM customers WHERE merchant_id = $1 AND id = $2 AND deleted = 0";
static const char SQL_CO_LIST[] =
    "SELECT currency, minimum_amount FROM promotion_code_currency_options WHERE merchant_id = $1"
    " AND promotion_code = $2 ORDER BY currency LIMIT $3";
static const char SQL_CO_INSERT[] =
    "INSERT INTO promotion_code_currency_options (merchant_id, promotion_code, currency,"
    " minimum_amount, created) VALUES ($1, $2, $3, $4, $5)";

static const struct currency_amounts_spec OPTIONS = {
    .path = "restrictions.currency_options",
    .param = "restrictions[currency_options]",
    .field = "minimum_amount",
    .object = "promotion code",
    .own = "minimum_amount_currency",
    .what = "the minimum",
    .sql_list = SQL_CO_LIST,
    .sql_insert = SQL_CO_INSERT,
};

bool promotion_code_minimum_in(const struct promotion_code *p, const char *currency, int64_t *ret)
{
	*ret = 0;
	if (!p->has_minimum)
		return true;
	if (!currency)
		return false;
	if (str_eq(p->minimum_amount_currency, currency)) {
		*ret = p->minimum_amount;
		return true;
	}
	return currency_amounts_find(p->options, p->n_options, currency, ret);
}

int promotion_code_load(struct req *r, struct db *db, const char *id, struct promotion_code *p)
{
	struct db_stmt *st = db_prepare(db, SQL_GET);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, id, -1);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		struct arena *a = &r->arena;
		memset(p, 0, sizeof(*p));
		str_copy(p->id, sizeof(p->id), db_col_text(st, 0, NULL));
		p->created = db_col_int64(st, 1);
		p->code = col_text_dup(a, st, 2);
		p->coupon = col_text_dup(a, st, 3);
		p->active = db_col_int64(st, 4) != 0;
		p->customer = col_text_dup(a, st, 5);
		p->expires_at = db_col_int64_or0(st, 6);
		p->max_redemptions = db_col_int64_or0(st, 7);
		p->times_redeemed = db_col_int64(st, 8);
		p->first_time_transaction = db_col_int64(st, 9) != 0;
		p->has_minimum = db_col_text(st, 10, NULL) != NULL;
		p->minimum_amount = db_col_int64_or0(st, 10);
		const char *mc = db_col_text(st, 11, NULL);
		str_copy(p->minimum_amount_currency, sizeof(p->minimum_amount_currency),
			 mc ? mc : "");
		p->metadata = col_text_dup(a, st, 12);
		if (!p->code || !p->coupon || !p->metadata)
			rc = DB_ERR;
	}
	db_reset(st);
	if (rc == DB_ROW)
		return p->has_minimum ? currency_amounts_load(r, db, &OPTIONS, p->id, &p->options,
							      &p->n_options)
				      : DB_OK;
	return rc == DB_DONE ? DB_NOTFOUND : rc < 0 ? rc : DB_ERR;
}

static const char SQL_FIND[] =
    "SELECT id FROM promotion_codes WHERE merchant_id = $1 AND code_lower = $2 AND active = 1"
    " ORDER BY id LIMIT 1";

static const char *lower_dup(struct req *r, const char *s);

int promotion_code_find(struct req *r, struct db *db, const char *code, struct promotion_code *p)
{
	struct db_stmt *st = db_prepare(db, SQL_FIND);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, lower_dup(r, code), -1);
	int rc = db_step(st);
	char id[ID_MAX] = "";
	if (rc == DB_ROW)
		str_copy(id, sizeof(id), db_col_text(st, 0, NULL));
	db_reset(st);
	if (rc != DB_ROW)
		return rc == DB_DONE ? DB_NOTFOUND : rc < 0 ? rc : DB_ERR;
	return promotion_code_load(r, db, id, p);
}

/* prefix: where it sits, for expand[]=promotion.coupon and restrictions.currency_options; NULL:
 * an event's object (with_options: its currency_options shown, the write having set them) */
static int promo_render_with(struct req *r, struct db *db, const struct promotion_code *p,
			     const char *prefix, bool with_options, struct json *j)
{
	json_obj_open(j);
	json_kv_str(j, "id", p->id);
	json_kv_str(j, "object", "promotion_code");
	json_kv_bool(j, "active", p->active);
	json_kv_str(j, "code", p->code);
	json_kv_int(j, "created", p->created);
	json_kv_str_or_null(j, "customer", p->customer);
	json_kv_null(j, "customer_account");
	if (p->expires_at)
		json_kv_int(j, "expires_at", p->expires_at);
	else
		json_kv_null(j, "expires_at");
	json_kv_bool(j, "livemode", false);
	if (p->max_redemptions)
		json_kv_int(j, "max_redemptions", p->max_redemptions);
	else
		json_kv_null(j, "max_redemptions");
	json_kv_raw(j, "metadata", p->metadata, strlen(p->metadata));
	json_key(j, "promotion");
	json_obj_open(j);
	json_key(j, "coupon");
	char path[128];
	snprintf(path, sizeof(path), "%spromotion.coupon", prefix ? prefix : "");
	struct coupon c;
	if (prefix && req_expand_has(r, path) && coupon_load(r, db, p->coupon, &c) == DB_OK) {
		snprintf(path, sizeof(path), "%spromotion.coupon.", prefix);
		coupon_render(r, &c, arena_strdup(&r->arena, path), j);
	} else {
		json_str(j, p->coupon);
	}
	json_kv_str(j, "type", "coupon");
	json_obj_close(j);
	json_key(j, "restrictions");
	json_obj_open(j);
	snprintf(path, sizeof(path), "%srestrictions.currency_options", prefix ? prefix : "");
	if (with_options || (prefix && req_expand_has(r, path)))
		currency_amounts_render(j, "minimum_amount",
					p->has_minimum ? p->minimum_amount_currency : NULL,
					p->minimum_amount, p->options, p->n_options);
	json_kv_bool(j, "first_time_transaction", p->first_time_transaction);
	if (p->has_minimum) {
		json_kv_int(j, "minimum_amount", p->minimum_amount);
		json_kv_str(j, "minimum_amount_currency", p->minimum_amount_currency);
	} else {
		json_kv_null(j, "minimum_amount");
		json_kv_null(j, "minimum_amount_currency");
	}
	json_obj_close(j);
	json_kv_int(j, "times_redeemed", p->times_redeemed);
	json_obj_close(j);
	return 0;
}

static int promo_render(struct req *r, struct db *db, const struct promotion_code *p,
			const char *prefix, struct json *j)
{
	return promo_render_with(r, db, p, prefix, false, j);
}

/* The event, then the answer (the event's object unless something is expanded). */
static int promo_emit(struct req *r, struct db *db, const struct promotion_code *p,
		      const char *type, const char *prev, bool with_options)
{
	struct buf b;
	struct json j;
	buf_init(&b, 64 * 1024);
	json_init(&j, &b);
	promo_render_with(r, db, p, NULL, with_options, &j);
	const char *js;
	size_t len;
	char ev[ID_MAX];
	if (api_event_append(r, db, type, p->id, &b, prev, &js, &len, ev) != 0)
		return -1;
	/* the answer is the event's object unless it expands promotion.coupon, or shows
	 * restrictions.currency_options otherwise than the event does (only when expanded) */
	if (!req_expand_has(r, "promotion.coupon") &&
	    with_options == req_expand_has(r, "restrictions.currency_options"))
		return req_answer_event(r, ev, js, len);
	r->answer_event[0] = '\0';
	return promo_render(r, db, p, "", req_json(r));
}

static const char *lower_dup(struct req *r, const char *s)
{
	char *d = arena_strdup(&r->arena, s);
	for (char *c = d; c && *c; c++)
		if (*c >= 'A' && *c <= 'Z')
			*c = (char)(*c - 'A' + 'a');
	return d;
}

/* Is code taken by another active code (not `self`)? 1 yes, 0 no, < 0 error. */
static int code_taken(struct req *r, struct db *db, const char *code, const char *self)
{
	struct db_stmt *st = db_prepare(db, SQL_CODE_TAKEN);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, lower_dup(r, code), -1);
	db_bind_text(st, 3, self, -1);
	int rc = db_step(st);
	db_reset(st);
	return rc == DB_ROW ? 1 : rc == DB_DONE ? 0 : rc;
}

/* ---- restrictions[currency_options] ---- */

/* The request's restrictions[currency_options] for p (its minimum set; on an update, its stored
 * options too): p->options becomes the stored ones and the new ones (currency_amounts_parse);
 * *ret_new whether the request named any. 0, or -1 with r->err. */
static int options_parse(struct req *r, struct promotion_code *p, bool *ret_new)
{
	*ret_new = param_node(r, OPTIONS.path) != NULL;
	if (!*ret_new)
		return 0;
	if (!p->has_minimum)
		return req_fail(
		    r, ERR_PARAM_BAD, OPTIONS.param,
		    "restrictions[currency_options] goes with restrictions[minimum_amount] "
		    "and restrictions[minimum_amount_currency].");
	return currency_amounts_parse(r, &OPTIONS, p->minimum_amount_currency, p->options,
				      p->n_options, &p->options, &p->n_options);
}

/* ---- create ---- */

struct create_ctx {
	struct req *r;
	struct promotion_code p;
	bool random_code;
};

static int create_fn(struct db *db, void *arg)
{
	struct create_ctx *x = arg;
	struct req *r = x->r;
	struct promotion_code *p = &x->p;
	struct coupon c;
	int rc = coupon_load(r, db, p->coupon, &c);
	const char *cparam = param_present(r, "coupon") ? "coupon" : "promotion[coupon]";
	if (rc == DB_NOTFOUND || (rc == DB_OK && c.deleted))
		return req_fail_missing(r, "coupon", p->coupon, cparam);
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (!coupon_valid(&c, r->now))
		return req_fail(
		    r, ERR_COUPON_EXPIRED, cparam,
		    "Coupon %s can no longer be redeemed: a promotion code for it would "
		    "never work.",
		    c.id);
	if (p->expires_at && c.redeem_by && p->expires_at > c.redeem_by)
		return req_fail(r, ERR_PARAM_BAD, "expires_at",
				"A promotion code cannot expire after its coupon's redeem_by.");
	if (p->customer) {
		struct db_stmt *st = db_prepare(db, SQL_CUSTOMER);
		if (!st)
			return req_fail(r, ERR_API, NULL, NULL);
		db_bind_text(st, 1, r->merchant_id, -1);
		db_bind_text(st, 2, p->customer, -1);
		rc = db_step(st);
		db_reset(st);
		if (rc == DB_DONE)
			return req_fail_missing(r, "customer", p->customer, "customer");
		if (rc != DB_ROW)
			return req_fail(r, ERR_API, NULL, NULL);
	}
	/* a random code is drawn again on the (unlikely) clash; a chosen one is refused */
	for (int tries = 0; tries < 8; tries++) {
		if (x->random_code) {
			char code[CODE_RANDOM_LEN + 1];
			id_random_base62(code, CODE_RANDOM_LEN);
			for (char *ch = code; *ch; ch++)
				if (*ch >= 'a' && *ch <= 'z')
					*ch = (char)(*ch - 'a' + 'A');
			p->code = arena_strdup(&r->arena, code);
		}
		rc = code_taken(r, db, p->code, p->id);
		if (rc < 0)
			return req_fail(r, ERR_API, NULL, NULL);
		if (rc == 0)
			break;
		if (!x->random_code)
			return req_fail(r, ERR_RESOURCE_EXISTS, "code",
					"An active promotion code with the code %s already exists.",
					p->code);
	}
	if (rc != 0)
		return req_fail(r, ERR_API, NULL, NULL);
	struct db_stmt *st = db_prepare(db, SQL_INSERT);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, p->id, -1);
	db_bind_int64(st, 3, p->created);
	db_bind_text(st, 4, p->code, -1);
	db_bind_text(st, 5, lower_dup(r, p->code), -1);
	db_bind_text(st, 6, p->coupon, -1);
	db_bind_int64(st, 7, p->active ? 1 : 0);
	db_bind_text(st, 8, p->customer, -1);
	db_bind_int64_or_null(st, 9, p->expires_at);
	db_bind_int64_or_null(st, 10, p->max_redemptions);
	db_bind_int64(st, 11, p->first_time_transaction ? 1 : 0);
	if (p->has_minimum) {
		db_bind_int64(st, 12, p->minimum_amount);
		db_bind_text(st, 13, p->minimum_amount_currency, -1);
	} else {
		db_bind_text(st, 12, NULL, -1);
		db_bind_text(st, 13, NULL, -1);
	}
	db_bind_text(st, 14, p->metadata, -1);
	if (db_step_done(st) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (currency_amounts_insert(r, db, &OPTIONS, p->id, NULL, 0, p->options, p->n_options) != 0)
		return -1;
	return promo_emit(r, db, p, "promotion_code.created", NULL, p->n_options > 0);
}

/* A code: letters and digits (Stripe's characters). */
static bool code_ok(const char *s)
{
	if (!*s)
		return false;
	for (const char *c = s; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		      (*c >= '0' && *c <= '9')))
			return false;
	return true;
}

static int h_create(struct req *r)
{
	struct create_ctx x;
	memset(&x, 0, sizeof(x));
	x.r = r;
	struct promotion_code *p = &x.p;
	id_new_at(p->id, "promo_", r->now);
	p->created = r->now;
	const char *legacy = param_str(r, "coupon");
	const char *coupon = param_str(r, "promotion.coupon");
	if (param_present(r, "promotion") && !str_eq(param_str(r, "promotion.type"), "coupon"))
		return req_fail(r, ERR_PARAM_MISSING, "promotion[type]", "promotion[type]");
	if ((legacy && *legacy) == (coupon && *coupon))
		return req_fail(r, legacy ? ERR_PARAM_BAD : ERR_PARAM_MISSING, "promotion[coupon]",
				legacy ? "Pass promotion[coupon] or coupon, not both."
				       : "promotion[coupon]");
	p->coupon = legacy && *legacy ? legacy : coupon;
	const char *code = param_str(r, "code");
	if (code && *code) {
		if (!code_ok(code))
			return req_fail(r, ERR_PARAM_BAD, "code",
					"Invalid code: use letters (a-z, A-Z) and digits only.");
		p->code = code;
	} else {
		x.random_code = true;
	}
	p->active = true;
	param_bool(r, "active", &p->active);
	const char *cus = param_str(r, "customer");
	p->customer = cus && *cus ? cus : NULL;
	if (param_int(r, "expires_at", &p->expires_at) == 1 && p->expires_at <= r->now)
		return req_fail(r, ERR_PARAM_BAD, "expires_at",
				"Invalid expires_at: it must be in the future.");
	if (param_int(r, "max_redemptions", &p->max_redemptions) == 1 && p->max_redemptions < 1)
		return req_fail(r, ERR_PARAM_BAD, "max_redemptions",
				"Invalid max_redemptions: must be at least 1.");
	param_bool(r, "restrictions.first_time_transaction", &p->first_time_transaction);
	bool has_min = param_int(r, "restrictions.minimum_amount", &p->minimum_amount) == 1;
	const char *mc = param_str(r, "restrictions.minimum_amount_currency");
	bool has_cur = mc && *mc;
	if (has_min != has_cur)
		return req_fail(r, ERR_PARAM_MISSING,
				has_min ? "restrictions[minimum_amount_currency]"
					: "restrictions[minimum_amount]",
				has_min ? "restrictions[minimum_amount_currency]"
					: "restrictions[minimum_amount]");
	if (has_min) {
		if (p->minimum_amount < 1 || p->minimum_amount > BILLING_AMOUNT_MAX)
			return req_fail(r, ERR_PARAM_BAD, "restrictions[minimum_amount]",
					"Invalid minimum_amount: must be between 1 and %lld.",
					(long long)BILLING_AMOUNT_MAX);
		for (int i = 0; i < 3 && mc[i]; i++)
			p->minimum_amount_currency[i] =
			    (char)(mc[i] >= 'A' && mc[i] <= 'Z' ? mc[i] - 'A' + 'a' : mc[i]);
		if (!currency_find(p->minimum_amount_currency))
			return req_fail(r, ERR_INVALID_CURRENCY,
					"restrictions[minimum_amount_currency]",
					"Invalid currency: %s.", mc);
		p->has_minimum = true;
	}
	p->metadata = "{}";
	if (metadata_apply(r, NULL, "metadata", &p->metadata) != 0)
		return -1;
	bool options_given;
	if (options_parse(r, p, &options_given) != 0)
		return -1;
	return req_write(r, create_fn, &x);
}

/* ---- retrieve, update, list ---- */

struct one_ctx {
	struct req *r;
	const char *id;
	struct promotion_code p;
};

static int one_load(struct db *db, struct one_ctx *x)
{
	int rc = promotion_code_load(x->r, db, x->id, &x->p);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(x->r, "promotion_code", x->id, "id");
	return rc == DB_OK ? 0 : req_fail(x->r, ERR_API, NULL, NULL);
}

static int retrieve_fn(struct db *db, void *arg)
{
	struct one_ctx *x = arg;
	if (one_load(db, x) != 0)
		return -1;
	return promo_render(x->r, db, &x->p, "", req_json(x->r));
}

static int h_retrieve(struct req *r)
{
	struct one_ctx x = {.r = r, .id = r->args[0]};
	return req_read(r, retrieve_fn, &x);
}

static int update_fn(struct db *db, void *arg)
{
	struct one_ctx *x = arg;
	struct req *r = x->r;
	if (one_load(db, x) != 0)
		return -1;
	struct promotion_code *p = &x->p;
	struct promotion_code old = *p;
	bool options_given;
	if (options_parse(r, p, &options_given) != 0)
		return -1;
	struct buf pb;
	struct json pj;
	buf_init(&pb, 64 * 1024);
	json_init(&pj, &pb);
	json_obj_open(&pj);
	if (options_given) {
		json_key(&pj, "restrictions");
		json_obj_open(&pj);
		currency_amounts_render(&pj, "minimum_amount",
					old.has_minimum ? old.minimum_amount_currency : NULL,
					old.minimum_amount, old.options, old.n_options);
		json_obj_close(&pj);
	}
	bool active;
	if (param_bool(r, "active", &active) == 1 && active != p->active) {
		/* made active again, its code must still be its own */
		int rc = active ? code_taken(r, db, p->code, p->id) : 0;
		if (rc != 0) {
			buf_release(&pb);
			return rc > 0 ? req_fail(r, ERR_RESOURCE_EXISTS, "active",
						 "Another active promotion code has the code %s.",
						 p->code)
				      : req_fail(r, ERR_API, NULL, NULL);
		}
		json_kv_bool(&pj, "active", p->active);
		p->active = active;
	}
	if (param_present(r, "metadata")) {
		json_kv_raw(&pj, "metadata", p->metadata, strlen(p->metadata));
		if (metadata_apply(r, p->metadata, "metadata", &p->metadata) != 0) {
			buf_release(&pb);
			return -1;
		}
	}
	json_obj_close(&pj);
	const char *prev = pb.failed ? NULL : arena_strndup(&r->arena, pb.data, pb.len);
	buf_release(&pb);
	if (!prev)
		return req_fail(r, ERR_API, NULL, NULL);
	struct db_stmt *st = db_prepare(db, SQL_UPDATE);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, p->id, -1);
	db_bind_int64(st, 3, p->active ? 1 : 0);
	db_bind_text(st, 4, p->metadata, -1);
	if (db_step_done(st) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (options_given && currency_amounts_insert(r, db, &OPTIONS, p->id, old.options,
						     old.n_options, p->options, p->n_options) != 0)
		return -1;
	return promo_emit(r, db, p, "promotion_code.updated", prev, options_given);
}

static int h_update(struct req *r)
{
	struct one_ctx x = {.r = r, .id = r->args[0]};
	return req_write(r, update_fn, &x);
}

static const char SQL_CURSOR[] =
    "SELECT created FROM promotion_codes WHERE merchant_id = $1 AND id = $2";
/* $5 active ('true'/'false' or NULL), $6 code (any case), $7 coupon, $8 customer */
#define LIST_SQL                                                                                   \
	"SELECT id FROM promotion_codes WHERE merchant_id = $1 AND id > $2 AND id < $3"            \
	" AND ($5 IS NULL OR ($5 = 'true' AND active = 1) OR ($5 = 'false' AND active = 0))"       \
	" AND ($6 IS NULL OR code_lower = $6) AND ($7 IS NULL OR coupon = $7)"                     \
	" AND ($8 IS NULL OR customer = $8)"
static const char SQL_DESC[] = LIST_SQL " ORDER BY id DESC LIMIT $4";
static const char SQL_ASC[] = LIST_SQL " ORDER BY id ASC LIMIT $4";

static int list_bind(struct req *r, struct db_stmt *st, int first, void *ctx)
{
	(void)ctx;
	bool active;
	if (param_bool(r, "active", &active) == 1)
		db_bind_text(st, first, active ? "true" : "false", -1);
	else
		db_bind_text(st, first, NULL, -1);
	const char *code = param_str(r, "code");
	db_bind_text(st, first + 1, code && *code ? lower_dup(r, code) : NULL, -1);
	const char *coupon = param_str(r, "coupon"), *cus = param_str(r, "customer");
	db_bind_text(st, first + 2, coupon && *coupon ? coupon : NULL, -1);
	db_bind_text(st, first + 3, cus && *cus ? cus : NULL, -1);
	return 0;
}

static int list_render(struct req *r, struct db *db, const char *id, struct json *j, void *ctx)
{
	(void)ctx;
	struct promotion_code p;
	int rc = promotion_code_load(r, db, id, &p);
	if (rc != DB_OK)
		return rc;
	return promo_render(r, db, &p, "data.", j) == 0 ? DB_OK : DB_ERR;
}

static int h_list(struct req *r)
{
	static const struct list_spec spec = {
	    .url = "/v1/promotion_codes",
	    .object_name = "promotion_code",
	    .id_prefix = "promo_",
	    .sql_cursor = SQL_CURSOR,
	    .sql_desc = SQL_DESC,
	    .sql_asc = SQL_ASC,
	    .bind_filters = list_bind,
	    .render = list_render,
	};
	return list_respond(r, &spec);
}

static const struct param_spec promotion_children[] = {
    {"type", PT_ENUM, PF_REQUIRED, 0, (const char *const[]){"coupon", NULL}, NULL},
    {"coupon", PT_STRING, 0, COUPON_ID_MAX, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec currency_option_children[] = {
    {"minimum_amount", PT_INT, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec restrictions_children[] = {
    {"currency_options", PT_OBJECT_MAP, 0, COUPON_CURRENCY_OPTIONS_MAX, NULL,
     currency_option_children},
    {"first_time_transaction", PT_BOOL, 0, 0, NULL, NULL},
    {"minimum_amount", PT_INT, 0, 0, NULL, NULL},
    {"minimum_amount_currency", PT_CURRENCY, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec create_params[] = {
    {"promotion", PT_OBJECT, 0, 0, NULL, promotion_children},
    {"coupon", PT_STRING, 0, COUPON_ID_MAX, NULL, NULL},
    {"code", PT_STRING, 0, CODE_MAX, NULL, NULL},
    {"active", PT_BOOL, 0, 0, NULL, NULL},
    {"customer", PT_STRING, 0, 255, NULL, NULL},
    {"expires_at", PT_INT, 0, 0, NULL, NULL},
    {"max_redemptions", PT_INT, 0, 0, NULL, NULL},
    {"restrictions", PT_OBJECT, 0, 0, NULL, restrictions_children},
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec update_restrictions_children[] = {
    {"currency_options", PT_OBJECT_MAP, 0, COUPON_CURRENCY_OPTIONS_MAX, NULL,
     currency_option_children},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec update_params[] = {
    {"active", PT_BOOL, 0, 0, NULL, NULL},
    {"restrictions", PT_OBJECT, 0, 0, NULL, update_restrictions_children},
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec list_params[] = {
    {"active", PT_BOOL, 0, 0, NULL, NULL},
    {"code", PT_STRING, 0, CODE_MAX, NULL, NULL},
    {"coupon", PT_STRING, 0, COUPON_ID_MAX, NULL, NULL},
    {"customer", PT_STRING, 0, 255, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec no_params[] = {{NULL, 0, 0, 0, NULL, NULL}};

const struct route promotion_codes_routes[] = {
    {"POST", "/v1/promotion_codes", h_create, create_params, 0},
    {"GET", "/v1/promotion_codes", h_list, list_params, ROUTE_LIST},
    {"GET", "/v1/promotion_codes/{id}", h_retrieve, no_params, 0},
    {"POST", "/v1/promotion_codes/{id}", h_update, update_params, 0},
    {NULL, NULL, NULL, NULL, 0},
};
