/*
 * /v1/coupons: create, retrieve, update (name, metadata), delete, list.
 *
 * A coupon is the terms of a discount: a percentage or an amount (in one currency) off, for
 * `duration` (once, repeating for duration_in_months, forever), optionally limited to some
 * products (applies_to) and in how often (max_redemptions) or until when (redeem_by) it can be
 * redeemed. It moves no money by itself: discounts (discounts.c) apply it to subscriptions,
 * invoices and invoice items, and count its redemptions (times_redeemed) in their own writes.
 *
 * Ids. The merchant may choose a coupon's id ("SUMMER25"), so ids do not sort by creation as
 * Tender's own ids do (core/id.h), and api/list.c, which pages by id, cannot list coupons. Each
 * coupon carries a second, time-ordered key of its creation (list_key), and the list below pages
 * by it with the same rules (newest first, limit, starting_after / ending_before by coupon id,
 * created ranges). A deleted coupon keeps its row (deleted = 1): the discounts made from it
 * still apply, as on Stripe, and its id is not given out again.
 *
 * percent_off is an integer in millionths of the whole (billing.h), parsed from its decimal
 * text and printed back the same way: no float ever holds it.
 *
 * currency_options. An amount_off coupon may take its amount off in other currencies too
 * (currency_options[<currency>][amount_off], Stripe's multi-currency coupons): each option is a
 * row of coupon_currency_options, made with the coupon or added by an update (an option, once
 * made, is never changed or removed: discounts made from the coupon read it). A discount in one
 * of those currencies takes the option's amount (coupon_amount_in); in any other currency an
 * amount_off coupon is refused or skipped as before. The field is includable, as on Stripe:
 * shown (with the coupon's own currency among the options, as a price's are) only with
 * expand[]=currency_options.
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

#define COUPON_NAME_MAX 40
#define APPLIES_TO_MAX 50
#define DURATION_MONTHS_MAX 1200

#define COUPON_COLS                                                                                \
	"id, created, name, percent_off_e4, amount_off, currency, duration, duration_in_months,"   \
	" max_redemptions, redeem_by, times_redeemed, applies_to, metadata, deleted"
static const char SQL_GET[] =
    "SELECT " COUPON_COLS " FROM coupons WHERE merchant_id = $1 AND id = $2";
static const char SQL_INSERT[] =
    "INSERT INTO coupons (merchant_id, id, list_key, created, name, percent_off_e4, amount_off,"
    " currency, duration, duration_in_months, max_redemptions, redeem_by, times_redeemed,"
    " applies_to, metadata, deleted) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12,"
    " 0, $13, $14, 0) ON CONFLICT (merchant_id, id) DO NOTHING";
static const char SQL_UPDATE[] =
    "UPDATE coupons SET name = $3, metadata = $4 WHERE merchant_id = $1 AND id = $2"
    " AND deleted = 0";
static const char SQL_DELETE[] =
    "UPDATE coupons SET deleted = 1 WHERE merchant_id = $1 AND id = $2 AND deleted = 0";
static const char SQL_PRODUCT[] = "SELECT 1 FROM products WHERE merchant_id = $1 AND id = $2";
static const char SQL_CO_LIST[] =
    "SELECT currency, amount_off FROM coupon_currency_options WHERE merchant_id = $1"
    " AND coupon = $2 ORDER BY currency LIMIT $3";
static const char SQL_CO_INSERT[] =
    "INSERT INTO coupon_currency_options (merchant_id, coupon, currency, amount_off, created)"
    " VALUES ($1, $2, $3, $4, $5)";

static const struct currency_amounts_spec OPTIONS = {
    .path = "currency_options",
    .param = "currency_options",
    .field = "amount_off",
    .object = "coupon",
    .own = "the coupon's own currency",
    .what = "its amount off",
    .sql_list = SQL_CO_LIST,
    .sql_insert = SQL_CO_INSERT,
};

int coupon_load(struct req *r, struct db *db, const char *id, struct coupon *c)
{
	struct db_stmt *st = db_prepare(db, SQL_GET);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, id, -1);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		struct arena *a = &r->arena;
		memset(c, 0, sizeof(*c));
		str_copy(c->id, sizeof(c->id), db_col_text(st, 0, NULL));
		c->created = db_col_int64(st, 1);
		c->name = col_text_dup(a, st, 2);
		c->percent_e4 = db_col_int64_or0(st, 3);
		c->amount_off = db_col_int64_or0(st, 4);
		const char *cur = db_col_text(st, 5, NULL);
		str_copy(c->currency, sizeof(c->currency), cur ? cur : "");
		c->duration = col_text_dup(a, st, 6);
		c->duration_in_months = db_col_int64_or0(st, 7);
		c->max_redemptions = db_col_int64_or0(st, 8);
		c->redeem_by = db_col_int64_or0(st, 9);
		c->times_redeemed = db_col_int64(st, 10);
		c->applies_to = col_text_dup(a, st, 11);
		c->metadata = col_text_dup(a, st, 12);
		c->deleted = db_col_int64(st, 13) != 0;
		if (!c->duration || !c->metadata)
			rc = DB_ERR;
	}
	db_reset(st);
	if (rc == DB_ROW)
		return c->percent_e4 ? DB_OK
				     : currency_amounts_load(r, db, &OPTIONS, c->id, &c->options,
							     &c->n_options);
	return rc == DB_DONE ? DB_NOTFOUND : rc < 0 ? rc : DB_ERR;
}

bool coupon_amount_in(const struct coupon *c, const char *currency, int64_t *ret)
{
	if (ret)
		*ret = 0;
	if (c->percent_e4)
		return true;
	if (!currency)
		return false;
	int64_t amount = 0;
	if (str_eq(c->currency, currency))
		amount = c->amount_off;
	else if (!currency_amounts_find(c->options, c->n_options, currency, &amount))
		amount = 0;
	if (ret)
		*ret = amount;
	return amount > 0;
}

bool coupon_valid(const struct coupon *c, int64_t now)
{
	return !c->deleted && (!c->redeem_by || now < c->redeem_by) &&
	       (!c->max_redemptions || c->times_redeemed < c->max_redemptions);
}

bool coupon_applies_to(const struct coupon *c, const char *product)
{
	if (!c->applies_to)
		return true;
	if (!product || !*product)
		return false;
	/* the stored array holds product ids, which are [A-Za-z0-9_] only: "\"id\"" is exact */
	char needle[ID_MAX + 3];
	int n = snprintf(needle, sizeof(needle), "\"%s\"", product);
	return n > 0 && (size_t)n < sizeof(needle) && strstr(c->applies_to, needle) != NULL;
}

/* coupon_render; with_options: currency_options shown whatever expand[] says (an event's object
 * when the write changed them) */
static void render(struct req *r, const struct coupon *c, const char *prefix, bool with_options,
		   struct json *j)
{
	json_obj_open(j);
	json_kv_str(j, "id", c->id);
	json_kv_str(j, "object", "coupon");
	if (c->percent_e4)
		json_kv_null(j, "amount_off");
	else
		json_kv_int(j, "amount_off", c->amount_off);
	/* applies_to is includable on Stripe: shown when expanded */
	char path[128];
	snprintf(path, sizeof(path), "%sapplies_to", prefix ? prefix : "");
	if (prefix && req_expand_has(r, path)) {
		json_key(j, "applies_to");
		json_obj_open(j);
		json_kv_raw(j, "products", c->applies_to ? c->applies_to : "[]",
			    c->applies_to ? strlen(c->applies_to) : 2);
		json_obj_close(j);
	}
	json_kv_int(j, "created", c->created);
	json_kv_str_or_null(j, "currency", c->percent_e4 ? NULL : c->currency);
	/* currency_options is includable on Stripe too; a percent_off coupon has none */
	snprintf(path, sizeof(path), "%scurrency_options", prefix ? prefix : "");
	if (!c->percent_e4 && (with_options || (prefix && req_expand_has(r, path))))
		currency_amounts_render(j, "amount_off", c->currency, c->amount_off, c->options,
					c->n_options);
	json_kv_str(j, "duration", c->duration);
	if (c->duration_in_months)
		json_kv_int(j, "duration_in_months", c->duration_in_months);
	else
		json_kv_null(j, "duration_in_months");
	json_kv_bool(j, "livemode", false);
	if (c->max_redemptions)
		json_kv_int(j, "max_redemptions", c->max_redemptions);
	else
		json_kv_null(j, "max_redemptions");
	json_kv_raw(j, "metadata", c->metadata, strlen(c->metadata));
	json_kv_str_or_null(j, "name", c->name);
	if (c->percent_e4) {
		char pct[16];
		billing_percent_format(c->percent_e4, pct, sizeof(pct));
		json_kv_raw(j, "percent_off", pct, strlen(pct));
	} else {
		json_kv_null(j, "percent_off");
	}
	if (c->redeem_by)
		json_kv_int(j, "redeem_by", c->redeem_by);
	else
		json_kv_null(j, "redeem_by");
	json_kv_int(j, "times_redeemed", c->times_redeemed);
	json_kv_bool(j, "valid", coupon_valid(c, r->now));
	json_obj_close(j);
}

void coupon_render(struct req *r, const struct coupon *c, const char *prefix, struct json *j)
{
	render(r, c, prefix, false, j);
}

/* Appends event `type` with c as its object (with_options: its currency_options shown, the write
 * having set them); with answer, the same JSON is the answer. */
static int coupon_emit(struct req *r, struct db *db, const struct coupon *c, const char *type,
		       const char *prev, bool with_options, bool answer)
{
	struct buf b;
	struct json j;
	buf_init(&b, 64 * 1024);
	json_init(&j, &b);
	render(r, c, NULL, with_options, &j);
	const char *js;
	size_t len;
	char ev[ID_MAX];
	if (api_event_append(r, db, type, c->id, &b, prev, &js, &len, ev) != 0)
		return -1;
	/* the answer is the event's object unless it expands applies_to, or shows
	 * currency_options otherwise than the event does (shown only when expanded) */
	bool options_differ =
	    !c->percent_e4 && with_options != req_expand_has(r, "currency_options");
	if (answer && !req_expand_has(r, "applies_to") && !options_differ)
		return req_answer_event(r, ev, js, len);
	if (answer) {
		r->answer_event[0] = '\0';
		coupon_render(r, c, "", req_json(r));
	}
	return 0;
}

/* ---- currency_options ---- */

/* The request's currency_options for coupon c (its percent_off or amount_off and currency set;
 * on an update, its stored options too): c->options becomes the stored ones and the new ones
 * (currency_amounts_parse); *ret_new whether the request named any. 0, or -1 with r->err. */
static int options_parse(struct req *r, struct coupon *c, bool *ret_new)
{
	*ret_new = param_node(r, "currency_options") != NULL;
	if (!*ret_new)
		return 0;
	if (c->percent_e4)
		return req_fail(r, ERR_PARAM_BAD, "currency_options",
				"currency_options is only supported with amount_off: a percent_off "
				"coupon takes its percentage off in every currency.");
	return currency_amounts_parse(r, &OPTIONS, c->currency, c->options, c->n_options,
				      &c->options, &c->n_options);
}

/* ---- create ---- */

struct create_ctx {
	struct req *r;
	struct coupon c;
	char list_key[ID_MAX];
};

static int create_fn(struct db *db, void *p)
{
	struct create_ctx *x = p;
	struct req *r = x->r;
	struct coupon *c = &x->c;
	/* applies_to names products of the merchant's */
	const char *pos = c->applies_to;
	while (pos && (pos = strchr(pos, '"')) != NULL) {
		const char *end = strchr(pos + 1, '"');
		if (!end)
			break;
		char id[ID_MAX];
		size_t len = (size_t)(end - pos - 1);
		if (len >= sizeof(id))
			return req_fail(r, ERR_PARAM_BAD, "applies_to[products]",
					"Invalid product id.");
		memcpy(id, pos + 1, len);
		id[len] = '\0';
		struct db_stmt *st = db_prepare(db, SQL_PRODUCT);
		if (!st)
			return req_fail(r, ERR_API, NULL, NULL);
		db_bind_text(st, 1, r->merchant_id, -1);
		db_bind_text(st, 2, id, -1);
		int rc = db_step(st);
		db_reset(st);
		if (rc == DB_DONE)
			return req_fail_missing(r, "product", id, "applies_to[products]");
		if (rc != DB_ROW)
			return req_fail(r, ERR_API, NULL, NULL);
		pos = end + 1;
	}
	struct db_stmt *st = db_prepare(db, SQL_INSERT);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, c->id, -1);
	db_bind_text(st, 3, x->list_key, -1);
	db_bind_int64(st, 4, c->created);
	db_bind_text(st, 5, c->name, -1);
	db_bind_int64_or_null(st, 6, c->percent_e4);
	db_bind_int64_or_null(st, 7, c->percent_e4 ? 0 : c->amount_off);
	db_bind_text(st, 8, c->percent_e4 ? NULL : c->currency, -1);
	db_bind_text(st, 9, c->duration, -1);
	db_bind_int64_or_null(st, 10, c->duration_in_months);
	db_bind_int64_or_null(st, 11, c->max_redemptions);
	db_bind_int64_or_null(st, 12, c->redeem_by);
	db_bind_text(st, 13, c->applies_to, -1);
	db_bind_text(st, 14, c->metadata, -1);
	int64_t n;
	if (db_step_changes(st, &n) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (n != 1)
		return req_fail(r, ERR_RESOURCE_EXISTS, "id", "Coupon already exists: %s.", c->id);
	if (currency_amounts_insert(r, db, &OPTIONS, c->id, NULL, 0, c->options, c->n_options) != 0)
		return -1;
	return coupon_emit(r, db, c, "coupon.created", NULL, c->n_options > 0, true);
}

static int h_create(struct req *r)
{
	struct create_ctx x;
	memset(&x, 0, sizeof(x));
	x.r = r;
	struct coupon *c = &x.c;
	const char *id = param_str(r, "id");
	if (id && *id) {
		if (!str_is_own_id(id))
			return req_fail(r, ERR_PARAM_BAD, "id",
					"Invalid coupon id: use letters, digits, '-' and '_'.");
		str_copy(c->id, sizeof(c->id), id);
	} else {
		/* Stripe's are 8 characters */
		id_random_base62(c->id, 8);
	}
	c->created = r->now;
	id_new_at(x.list_key, "cpn_", r->now);
	const char *pct = param_str(r, "percent_off");
	bool has_amount = param_present(r, "amount_off");
	if ((pct && *pct) == has_amount)
		return req_fail(r, has_amount ? ERR_PARAM_BAD : ERR_PARAM_MISSING,
				has_amount ? "amount_off" : "percent_off",
				has_amount ? "Pass percent_off or amount_off, not both."
					   : "percent_off or amount_off");
	if (pct && *pct && billing_percent_parse(pct, &c->percent_e4) != 0)
		return req_fail(
		    r, ERR_PARAM_BAD, "percent_off",
		    "Invalid percent_off: a number larger than 0 and at most 100, with at "
		    "most four decimals.");
	if (has_amount) {
		param_int(r, "amount_off", &c->amount_off);
		if (c->amount_off < 1 || c->amount_off > BILLING_AMOUNT_MAX)
			return req_fail(r, ERR_PARAM_BAD, "amount_off",
					"Invalid amount_off: must be between 1 and %lld.",
					(long long)BILLING_AMOUNT_MAX);
		const char *cur = param_str(r, "currency");
		if (!cur || !*cur)
			return req_fail(r, ERR_PARAM_MISSING, "currency", "currency");
		if (param_currency(r, "currency", NULL, c->currency) != 0)
			return -1;
	} else if (param_present(r, "currency")) {
		return req_fail(r, ERR_PARAM_BAD, "currency",
				"currency goes with amount_off, not with percent_off.");
	}
	c->duration = param_str(r, "duration");
	if (!c->duration)
		c->duration = "once";
	bool has_months = param_int(r, "duration_in_months", &c->duration_in_months) == 1;
	if (str_eq(c->duration, "repeating") != has_months)
		return req_fail(r, has_months ? ERR_PARAM_BAD : ERR_PARAM_MISSING,
				"duration_in_months",
				has_months ? "duration_in_months goes with duration=repeating."
					   : "duration_in_months");
	if (has_months &&
	    (c->duration_in_months < 1 || c->duration_in_months > DURATION_MONTHS_MAX))
		return req_fail(r, ERR_PARAM_BAD, "duration_in_months",
				"Invalid duration_in_months: must be between 1 and %d.",
				DURATION_MONTHS_MAX);
	if (param_int(r, "max_redemptions", &c->max_redemptions) == 1 && c->max_redemptions < 1)
		return req_fail(r, ERR_PARAM_BAD, "max_redemptions",
				"Invalid max_redemptions: must be at least 1.");
	if (param_int(r, "redeem_by", &c->redeem_by) == 1 && c->redeem_by <= r->now)
		return req_fail(r, ERR_PARAM_BAD, "redeem_by",
				"Invalid redeem_by: it must be in the future.");
	const char *name = param_str(r, "name");
	c->name = name && *name ? name : NULL;
	if (param_present(r, "applies_to.products")) {
		const struct form_node *pn = param_node(r, "applies_to.products");
		if (pn && pn->kind == FORM_ARRAY && pn->child_count > APPLIES_TO_MAX)
			return req_fail(r, ERR_PARAM_BAD, "applies_to[products]",
					"A coupon applies to at most %d products.", APPLIES_TO_MAX);
		if (string_array_json(r, "applies_to.products", &c->applies_to) != 0)
			return -1;
	}
	c->metadata = "{}";
	if (metadata_apply(r, NULL, "metadata", &c->metadata) != 0)
		return -1;
	bool options_given;
	if (options_parse(r, c, &options_given) != 0)
		return -1;
	return req_write(r, create_fn, &x);
}

/* ---- retrieve, update, delete ---- */

struct one_ctx {
	struct req *r;
	const char *id;
	struct coupon c;
};

static int one_load(struct db *db, struct one_ctx *x)
{
	int rc = coupon_load(x->r, db, x->id, &x->c);
	if (rc == DB_NOTFOUND || (rc == DB_OK && x->c.deleted))
		return req_fail_missing(x->r, "coupon", x->id, "id");
	return rc == DB_OK ? 0 : req_fail(x->r, ERR_API, NULL, NULL);
}

static int retrieve_fn(struct db *db, void *p)
{
	struct one_ctx *x = p;
	if (one_load(db, x) != 0)
		return -1;
	coupon_render(x->r, &x->c, "", req_json(x->r));
	return 0;
}

static int h_retrieve(struct req *r)
{
	struct one_ctx x = {.r = r, .id = r->args[0]};
	return req_read(r, retrieve_fn, &x);
}

static int update_fn(struct db *db, void *p)
{
	struct one_ctx *x = p;
	struct req *r = x->r;
	if (one_load(db, x) != 0)
		return -1;
	struct coupon *c = &x->c;
	/* the coupon as it was, for previous_attributes and the options already stored */
	struct coupon old = *c;
	bool options_given;
	if (options_parse(r, c, &options_given) != 0)
		return -1;
	struct buf pb;
	struct json pj;
	buf_init(&pb, 64 * 1024);
	json_init(&pj, &pb);
	json_obj_open(&pj);
	if (options_given)
		currency_amounts_render(&pj, "amount_off", old.currency, old.amount_off,
					old.options, old.n_options);
	const char *name = param_str(r, "name");
	if (name) {
		json_kv_str_or_null(&pj, "name", c->name);
		c->name = *name ? name : NULL;
	}
	if (param_present(r, "metadata")) {
		json_kv_raw(&pj, "metadata", c->metadata, strlen(c->metadata));
		if (metadata_apply(r, c->metadata, "metadata", &c->metadata) != 0) {
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
	db_bind_text(st, 2, c->id, -1);
	db_bind_text(st, 3, c->name, -1);
	db_bind_text(st, 4, c->metadata, -1);
	if (db_step_done(st) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (options_given && currency_amounts_insert(r, db, &OPTIONS, c->id, old.options,
						     old.n_options, c->options, c->n_options) != 0)
		return -1;
	return coupon_emit(r, db, c, "coupon.updated", prev, options_given, true);
}

static int h_update(struct req *r)
{
	struct one_ctx x = {.r = r, .id = r->args[0]};
	return req_write(r, update_fn, &x);
}

/* Deleted, it can no longer be redeemed; the discounts made from it go on. */
static int delete_fn(struct db *db, void *p)
{
	struct one_ctx *x = p;
	struct req *r = x->r;
	if (one_load(db, x) != 0)
		return -1;
	struct db_stmt *st = db_prepare(db, SQL_DELETE);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, x->c.id, -1);
	if (db_step_done(st) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	/* the event shows the coupon as it was (Stripe's coupon.deleted carries the coupon) */
	if (coupon_emit(r, db, &x->c, "coupon.deleted", NULL, false, false) != 0)
		return -1;
	r->answer_event[0] = '\0';
	struct json *j = req_json(r);
	json_obj_open(j);
	json_kv_str(j, "id", x->c.id);
	json_kv_str(j, "object", "coupon");
	json_kv_bool(j, "deleted", true);
	json_obj_close(j);
	return 0;
}

static int h_delete(struct req *r)
{
	struct one_ctx x = {.r = r, .id = r->args[0]};
	return req_write(r, delete_fn, &x);
}

/* ---- list: by list_key (see the top of this file; api/list.h) ---- */

static const char SQL_LIST_CURSOR[] =
    "SELECT list_key FROM coupons WHERE merchant_id = $1 AND id = $2 AND deleted = 0";
static const char SQL_LIST_DESC[] =
    "SELECT id FROM coupons WHERE merchant_id = $1 AND list_key > $2 AND list_key < $3"
    " AND deleted = 0 ORDER BY list_key DESC LIMIT $4";
static const char SQL_LIST_ASC[] =
    "SELECT id FROM coupons WHERE merchant_id = $1 AND list_key > $2 AND list_key < $3"
    " AND deleted = 0 ORDER BY list_key ASC LIMIT $4";

static int list_render(struct req *r, struct db *db, const char *id, struct json *j, void *ctx)
{
	(void)ctx;
	struct coupon c;
	int rc = coupon_load(r, db, id, &c);
	if (rc == DB_OK)
		coupon_render(r, &c, "data.", j);
	return rc;
}

static int h_list(struct req *r)
{
	static const struct list_spec spec = {
	    .url = "/v1/coupons",
	    .object_name = "coupon",
	    .id_prefix = "cpn_",
	    .sql_cursor = SQL_LIST_CURSOR,
	    .sql_desc = SQL_LIST_DESC,
	    .sql_asc = SQL_LIST_ASC,
	    .keyed = true,
	    .render = list_render,
	};
	return list_respond(r, &spec);
}

static const struct param_spec applies_to_children[] = {
    {"products", PT_STRING_ARRAY, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec currency_option_children[] = {
    {"amount_off", PT_INT, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec create_params[] = {
    {"id", PT_STRING, 0, COUPON_ID_MAX, NULL, NULL},
    {"name", PT_STRING, PF_EMPTYABLE, COUPON_NAME_MAX, NULL, NULL},
    {"percent_off", PT_STRING, 0, 20, NULL, NULL},
    {"amount_off", PT_INT, 0, 0, NULL, NULL},
    {"currency", PT_CURRENCY, 0, 0, NULL, NULL},
    {"duration", PT_ENUM, 0, 0, (const char *const[]){"forever", "once", "repeating", NULL}, NULL},
    {"duration_in_months", PT_INT, 0, 0, NULL, NULL},
    {"max_redemptions", PT_INT, 0, 0, NULL, NULL},
    {"redeem_by", PT_INT, 0, 0, NULL, NULL},
    {"applies_to", PT_OBJECT, 0, 0, NULL, applies_to_children},
    {"currency_options", PT_OBJECT_MAP, 0, COUPON_CURRENCY_OPTIONS_MAX, NULL,
     currency_option_children},
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec update_params[] = {
    {"name", PT_STRING, PF_EMPTYABLE, COUPON_NAME_MAX, NULL, NULL},
    {"currency_options", PT_OBJECT_MAP, 0, COUPON_CURRENCY_OPTIONS_MAX, NULL,
     currency_option_children},
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec list_params[] = {
    {"limit", PT_INT, 0, 0, NULL, NULL},
    {"starting_after", PT_STRING, PF_EMPTYABLE, COUPON_ID_MAX, NULL, NULL},
    {"ending_before", PT_STRING, PF_EMPTYABLE, COUPON_ID_MAX, NULL, NULL},
    {"created", PT_RANGE, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec no_params[] = {{NULL, 0, 0, 0, NULL, NULL}};

const struct route coupons_routes[] = {
    {"POST", "/v1/coupons", h_create, create_params, 0},
    {"GET", "/v1/coupons", h_list, list_params, 0},
    {"GET", "/v1/coupons/{id}", h_retrieve, no_params, 0},
    {"POST", "/v1/coupons/{id}", h_update, update_params, 0},
    {"DELETE", "/v1/coupons/{id}", h_delete, no_params, 0},
    {NULL, NULL, NULL, NULL, 0},
};
