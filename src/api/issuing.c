/*
 * Stripe Issuing, part one (/v1/issuing/cardholders, /v1/issuing/cards and the card shipping
 * test helpers): Tender is the issuer of the merchant's cards.
 *
 * A cardholder (ich_) is an individual or a company with a billing address; its `requirements`
 * list what Stripe would still need before its cards may be used (an individual's names and the
 * acceptance of the issuing terms), computed when the cardholder is written. A card (ic_) is
 * virtual or physical, in usd, inactive until activated, and canceled for good (with a
 * cancellation_reason when lost or stolen). Its number is made and sealed by the vault
 * (vault/issuing_card.h) in the write that creates the card; only last4 and the expiry are kept
 * here, and a retrieve of a virtual card that asks expand[]=number / expand[]=cvc is the one
 * answer that carries them (the reveal is recorded as any vault access). A physical card ships
 * to the given address (else the cardholder's billing address) and the test helpers move its
 * shipping through shipped, delivered, returned or failure.
 *
 * Spending controls (allowed or blocked merchant categories, spending limits per interval) are
 * checked against Stripe's category list and kept as the JSON the objects show.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "api/common.h"
#include "app.h"
#include "api/issuing.h"
#include "api/list.h"
#include "api/resources.h"
#include "core/str.h"
#include "events/events.h"
#include "http/form.h"
#include "store/store.h"
#include "vault/issuing_card.h"
#include "vault/vault.h"

static const char *const CATEGORIES[] = {
#define X(name) name,
#include "api/issuing_categories.def"
#undef X
};
#define N_CATEGORIES (sizeof(CATEGORIES) / sizeof(CATEGORIES[0]))

static int cat_cmp(const void *k, const void *e)
{
	return strcmp((const char *)k, *(const char *const *)e);
}

bool issuing_category_known(const char *name)
{
	return name && bsearch(name, CATEGORIES, N_CATEGORIES, sizeof(CATEGORIES[0]), cat_cmp);
}

/* ---- spending controls ---- */

/* A JSON array of the categories at node n (an array of strings, or "" for none), each checked
 * against Stripe's list; shown names the parameter in errors. */
static int categories_json(struct req *r, const struct form_node *n, const char *shown,
			   struct json *j)
{
	json_arr_open(j);
	if (n->kind != FORM_SCALAR) {
		for (const struct form_node *x = n->first_child; x; x = x->next) {
			if (x->kind != FORM_SCALAR || !issuing_category_known(x->value))
				return req_fail(r, ERR_PARAM_INVALID_ENUM, shown,
						"Invalid %s: must be one of Stripe's merchant "
						"categories.",
						shown);
			json_str(j, x->value);
		}
	} else if (n->value_len) {
		if (!issuing_category_known(n->value))
			return req_fail(r, ERR_PARAM_INVALID_ENUM, shown,
					"Invalid %s: must be one of Stripe's merchant categories.",
					shown);
		json_str(j, n->value);
	}
	json_arr_close(j);
	return 0;
}

int issuing_spending_controls_json(struct req *r, const char *param, bool with_currency,
				   const char **ret)
{
	const struct form_node *sc = param_node(r, param);
	struct buf b;
	struct json j;
	buf_init(&b, 256 * 1024);
	json_init(&j, &b);
	json_obj_open(&j);
	const struct form_node *allowed = sc ? form_get(sc, "allowed_categories") : NULL;
	const struct form_node *blocked = sc ? form_get(sc, "blocked_categories") : NULL;
	const struct form_node *limits = sc ? form_get(sc, "spending_limits") : NULL;
	char shown[96];
	int rc = 0;
	if (allowed && blocked) {
		snprintf(shown, sizeof(shown), "%s[blocked_categories]", param);
		rc = req_fail(r, ERR_PARAM_BAD, shown,
			      "You may only specify one of allowed_categories and "
			      "blocked_categories.");
		goto out;
	}
	json_key(&j, "allowed_categories");
	snprintf(shown, sizeof(shown), "%s[allowed_categories]", param);
	if (!allowed)
		json_nil(&j);
	else if ((rc = categories_json(r, allowed, shown, &j)) != 0)
		goto out;
	json_key(&j, "blocked_categories");
	snprintf(shown, sizeof(shown), "%s[blocked_categories]", param);
	if (!blocked)
		json_nil(&j);
	else if ((rc = categories_json(r, blocked, shown, &j)) != 0)
		goto out;
	json_key(&j, "spending_limits");
	json_arr_open(&j);
	size_t nlimits = 0;
	if (limits && limits->kind != FORM_SCALAR) {
		int i = 0;
		for (const struct form_node *x = limits->first_child; x; x = x->next, i++) {
			const struct form_node *amt = form_get(x, "amount");
			const struct form_node *iv = form_get(x, "interval");
			const struct form_node *cats = form_get(x, "categories");
			char *end = NULL;
			long long a = amt && amt->value ? strtoll(amt->value, &end, 10) : -1;
			if (a < 0) {
				snprintf(shown, sizeof(shown), "%s[spending_limits][%d][amount]",
					 param, i);
				rc = req_fail(r, ERR_PARAM_BAD, shown,
					      "Invalid %s: a spending limit is 0 or more.", shown);
				goto out;
			}
			json_obj_open(&j);
			json_kv_int(&j, "amount", (int64_t)a);
			json_key(&j, "categories");
			snprintf(shown, sizeof(shown), "%s[spending_limits][%d][categories]", param,
				 i);
			if (!cats)
				json_nil(&j);
			else if ((rc = categories_json(r, cats, shown, &j)) != 0)
				goto out;
			json_kv_str(&j, "interval", iv && iv->value ? iv->value : "all_time");
			json_obj_close(&j);
			nlimits++;
		}
	}
	json_arr_close(&j);
	json_key(&j, "spending_limits_currency");
	const char *cur = NULL;
	if (with_currency && sc) {
		char path[96];
		snprintf(path, sizeof(path), "%s.spending_limits_currency", param);
		cur = param_str(r, path);
		if (cur && *cur && strcmp(cur, "usd") != 0) {
			snprintf(shown, sizeof(shown), "%s[spending_limits_currency]", param);
			rc = req_fail(r, ERR_PARAM_BAD, shown,
				      "Spending limits of Issuing in Tender are in usd.");
			goto out;
		}
	}
	/* the limits are in the card's currency (usd) whenever there are any */
	json_str_or_null(&j, (cur && *cur) || nlimits ? "usd" : NULL);
	json_obj_close(&j);
	*ret = b.failed ? NULL : arena_strdup(&r->arena, buf_cstr(&b));
	if (!*ret)
		rc = req_fail(r, ERR_API, NULL, NULL);
out:
	buf_release(&b);
	return rc;
}

/* preferred_locales: each one of Stripe's (de, en, es, fr, it) */
static int locales_check(struct req *r)
{
	static const char *const LOCALES[] = {"de", "en", "es", "fr", "it", NULL};
	const struct form_node *n = param_node(r, "preferred_locales");
	if (!n || n->kind == FORM_SCALAR)
		return n && n->value_len ? req_fail(r, ERR_PARAM_INVALID_ENUM, "preferred_locales",
						    "Invalid preferred_locales: must be an array "
						    "of de, en, es, fr, it.")
					 : 0;
	for (const struct form_node *x = n->first_child; x; x = x->next) {
		bool ok = false;
		for (const char *const *l = LOCALES; *l && x->value; l++)
			ok = ok || strcmp(*l, x->value) == 0;
		if (!ok)
			return req_fail(r, ERR_PARAM_INVALID_ENUM, "preferred_locales",
					"Invalid preferred_locales: must be an array of de, en, "
					"es, fr, it.");
	}
	return 0;
}

/* ---- cardholders ---- */

struct cardholder {
	char id[ID_MAX];
	int64_t created;
	const char *type, *name, *email, *phone_number, *billing, *individual, *company;
	const char *preferred_locales, *spending_controls, *requirements, *status, *metadata;
};

static const char SQL_CH_GET[] =
    "SELECT id, created, type, name, email, phone_number, billing, individual, company,"
    " preferred_locales, spending_controls, requirements, status, metadata"
    " FROM issuing_cardholders WHERE merchant_id = $1 AND id = $2";
static const char SQL_CH_INSERT[] =
    "INSERT INTO issuing_cardholders (merchant_id, id, created, type, name, email, phone_number,"
    " billing, individual, company, preferred_locales, spending_controls, requirements, status,"
    " metadata) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)";
static const char SQL_CH_UPDATE[] =
    "UPDATE issuing_cardholders SET name = $3, email = $4, phone_number = $5, billing = $6,"
    " individual = $7, company = $8, preferred_locales = $9, spending_controls = $10,"
    " requirements = $11, status = $12, metadata = $13 WHERE merchant_id = $1 AND id = $2";

static int cardholder_load(struct db *db, struct arena *a, const char *merchant_id, const char *id,
			   struct cardholder *c)
{
	struct db_stmt *st;
	int rc = db_row_by_id(db, SQL_CH_GET, merchant_id, id, &st);
	if (rc != DB_OK)
		return rc;
	memset(c, 0, sizeof(*c));
	str_copy(c->id, sizeof(c->id), db_col_text(st, 0, NULL));
	c->created = db_col_int64(st, 1);
	c->type = col_text_dup(a, st, 2);
	c->name = col_text_dup(a, st, 3);
	c->email = col_text_dup(a, st, 4);
	c->phone_number = col_text_dup(a, st, 5);
	c->billing = col_text_dup(a, st, 6);
	c->individual = col_text_dup(a, st, 7);
	c->company = col_text_dup(a, st, 8);
	c->preferred_locales = col_text_dup(a, st, 9);
	c->spending_controls = col_text_dup(a, st, 10);
	c->requirements = col_text_dup(a, st, 11);
	c->status = col_text_dup(a, st, 12);
	c->metadata = col_text_dup(a, st, 13);
	db_reset(st);
	return c->type && c->name && c->billing && c->spending_controls && c->requirements &&
		       c->status && c->metadata
		   ? DB_OK
		   : DB_ERR;
}

static void cardholder_render(bool livemode, const struct cardholder *c, struct json *j)
{
	json_obj_open(j);
	json_kv_str(j, "id", c->id);
	json_kv_str(j, "object", "issuing.cardholder");
	json_kv_raw(j, "billing", c->billing, strlen(c->billing));
	json_kv_raw_or_null(j, "company", c->company);
	json_kv_int(j, "created", c->created);
	json_kv_str_or_null(j, "email", c->email);
	json_kv_raw_or_null(j, "individual", c->individual);
	json_kv_bool(j, "livemode", livemode);
	json_kv_raw(j, "metadata", c->metadata, strlen(c->metadata));
	json_kv_str(j, "name", c->name);
	json_kv_str_or_null(j, "phone_number", c->phone_number);
	json_kv_raw_or_null(j, "preferred_locales", c->preferred_locales);
	json_kv_raw(j, "requirements", c->requirements, strlen(c->requirements));
	json_kv_raw(j, "spending_controls", c->spending_controls, strlen(c->spending_controls));
	json_kv_str(j, "status", c->status);
	json_kv_str(j, "type", c->type);
	json_obj_close(j);
}

/* Renders into a fresh buffer and appends event `type` for c. */
static int cardholder_emit(struct req *r, struct db *db, const struct cardholder *c,
			   const char *type, const char *prev)
{
	struct buf b;
	struct json j;
	buf_init(&b, 1u << 20);
	json_init(&j, &b);
	cardholder_render(r->livemode, c, &j);
	const char *js;
	size_t len;
	char ev[ID_MAX];
	return api_event_append(r, db, type, c->id, &b, prev, &js, &len, ev);
}

static const char *with_param(struct req *r, const char *path)
{
	const char *v = param_str(r, path);
	return v && *v ? v : NULL;
}

/* The individual hash as the object shows it (NULL when not given). */
static int individual_json(struct req *r, const char **ret)
{
	if (!param_present(r, "individual"))
		return 0;
	struct buf b;
	struct json j;
	buf_init(&b, 64 * 1024);
	json_init(&j, &b);
	json_obj_open(&j);
	json_key(&j, "card_issuing");
	if (param_present(r, "individual.card_issuing.user_terms_acceptance")) {
		int64_t date = 0;
		json_obj_open(&j);
		json_key(&j, "user_terms_acceptance");
		json_obj_open(&j);
		json_key(&j, "date");
		if (param_int(r, "individual.card_issuing.user_terms_acceptance.date", &date) == 1)
			json_int(&j, date);
		else
			json_nil(&j);
		json_kv_str_or_null(
		    &j, "ip", with_param(r, "individual.card_issuing.user_terms_acceptance.ip"));
		json_kv_str_or_null(
		    &j, "user_agent",
		    with_param(r, "individual.card_issuing.user_terms_acceptance.user_agent"));
		json_obj_close(&j);
		json_obj_close(&j);
	} else {
		json_nil(&j);
	}
	json_key(&j, "dob");
	if (param_present(r, "individual.dob")) {
		int64_t d = 0, m = 0, y = 0;
		param_int(r, "individual.dob.day", &d);
		param_int(r, "individual.dob.month", &m);
		param_int(r, "individual.dob.year", &y);
		if (d < 1 || d > 31 || m < 1 || m > 12 || y < 1900 || y > 2100) {
			buf_release(&b);
			return req_fail(r, ERR_PARAM_BAD, "individual[dob]",
					"Invalid individual[dob]: not a date of birth.");
		}
		json_obj_open(&j);
		json_kv_int(&j, "day", d);
		json_kv_int(&j, "month", m);
		json_kv_int(&j, "year", y);
		json_obj_close(&j);
	} else {
		json_nil(&j);
	}
	json_kv_str_or_null(&j, "first_name", with_param(r, "individual.first_name"));
	json_kv_str_or_null(&j, "last_name", with_param(r, "individual.last_name"));
	json_key(&j, "verification");
	if (param_present(r, "individual.verification.document")) {
		json_obj_open(&j);
		json_key(&j, "document");
		json_obj_open(&j);
		json_kv_str_or_null(&j, "back",
				    with_param(r, "individual.verification.document.back"));
		json_kv_str_or_null(&j, "front",
				    with_param(r, "individual.verification.document.front"));
		json_obj_close(&j);
		json_obj_close(&j);
	} else {
		json_nil(&j);
	}
	json_obj_close(&j);
	*ret = b.failed ? NULL : arena_strdup(&r->arena, buf_cstr(&b));
	buf_release(&b);
	return *ret ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

/* What Stripe still needs of the cardholder before its cards authorize: an individual's first
 * and last name and the acceptance of the Issuing terms (date and ip). Worked out from the
 * individual JSON this file wrote (its fields, in its key order). */
static const char *requirements_json(struct req *r, const char *type, const char *individual)
{
	struct buf b;
	struct json j;
	buf_init(&b, 4096);
	json_init(&j, &b);
	json_obj_open(&j);
	bool due = false;
	const char *fields[4];
	int n = 0;
	if (strcmp(type, "individual") == 0) {
		const char *ind = individual ? individual : "";
		if (!individual || strstr(ind, "\"first_name\":null"))
			fields[n++] = "individual.first_name";
		if (!individual || strstr(ind, "\"last_name\":null"))
			fields[n++] = "individual.last_name";
		if (!individual || strstr(ind, "\"card_issuing\":null") ||
		    strstr(ind, "\"date\":null"))
			fields[n++] = "individual.card_issuing.user_terms_acceptance.date";
		if (!individual || strstr(ind, "\"card_issuing\":null") ||
		    strstr(ind, "\"ip\":null"))
			fields[n++] = "individual.card_issuing.user_terms_acceptance.ip";
		due = n > 0;
	}
	json_kv_str_or_null(&j, "disabled_reason", due ? "requirements.past_due" : NULL);
	json_key(&j, "past_due");
	json_arr_open(&j);
	for (int i = 0; i < n; i++)
		json_str(&j, fields[i]);
	json_arr_close(&j);
	json_obj_close(&j);
	const char *s = b.failed ? NULL : arena_strdup(&r->arena, buf_cstr(&b));
	buf_release(&b);
	return s;
}

static int billing_json(struct req *r, const char **ret)
{
	const char *addr = NULL;
	if (address_from_params(r, "billing.address", &addr) != 0)
		return -1;
	if (!addr)
		return req_fail(r, ERR_PARAM_MISSING, "billing[address]", "billing[address]");
	*ret = arena_printf(&r->arena, "{\"address\":%s}", addr);
	return *ret ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

static int company_json(struct req *r, const char **ret)
{
	if (!param_present(r, "company"))
		return 0;
	/* the tax id itself is not kept: the object only says whether one was given */
	const char *tax = with_param(r, "company.tax_id");
	*ret = tax ? "{\"tax_id_provided\":true}" : "{\"tax_id_provided\":false}";
	return 0;
}

struct ch_ctx {
	struct req *r;
	const char *id;
	struct cardholder c;
};

static int ch_respond(struct req *r, const struct cardholder *c)
{
	cardholder_render(r->livemode, c, req_json(r));
	return 0;
}

static int ch_create_fn(struct db *db, void *arg)
{
	struct ch_ctx *x = arg;
	struct req *r = x->r;
	struct cardholder *c = &x->c;
	struct db_stmt *st = db_prepare(db, SQL_CH_INSERT);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, c->id, -1);
	db_bind_int64(st, 3, c->created);
	db_bind_text(st, 4, c->type, -1);
	db_bind_text(st, 5, c->name, -1);
	db_bind_text(st, 6, c->email, -1);
	db_bind_text(st, 7, c->phone_number, -1);
	db_bind_text(st, 8, c->billing, -1);
	db_bind_text(st, 9, c->individual, -1);
	db_bind_text(st, 10, c->company, -1);
	db_bind_text(st, 11, c->preferred_locales, -1);
	db_bind_text(st, 12, c->spending_controls, -1);
	db_bind_text(st, 13, c->requirements, -1);
	db_bind_text(st, 14, c->status, -1);
	db_bind_text(st, 15, c->metadata, -1);
	if (db_step_done(st) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (cardholder_emit(r, db, c, "issuing_cardholder.created", NULL) != 0)
		return -1;
	return ch_respond(r, c);
}

static int h_ch_create(struct req *r)
{
	struct ch_ctx x = {.r = r};
	struct cardholder *c = &x.c;
	id_new_at(c->id, "ich_", r->now);
	c->created = r->now;
	c->type = with_param(r, "type") ? param_str(r, "type") : "individual";
	c->name = param_str(r, "name");
	if (!c->name || !*c->name)
		return req_fail(r, ERR_PARAM_MISSING, "name", "name");
	c->email = with_param(r, "email");
	c->phone_number = with_param(r, "phone_number");
	c->status = with_param(r, "status") ? param_str(r, "status") : "active";
	c->metadata = "{}";
	if (locales_check(r) != 0 || billing_json(r, &c->billing) != 0 ||
	    individual_json(r, &c->individual) != 0 || company_json(r, &c->company) != 0 ||
	    string_array_json(r, "preferred_locales", &c->preferred_locales) != 0 ||
	    issuing_spending_controls_json(r, "spending_controls", true, &c->spending_controls) !=
		0 ||
	    metadata_apply(r, NULL, "metadata", &c->metadata) != 0)
		return -1;
	if (c->individual && strcmp(c->type, "individual") != 0)
		return req_fail(r, ERR_PARAM_BAD, "individual",
				"individual is only for cardholders of type individual.");
	if (c->company && strcmp(c->type, "company") != 0)
		return req_fail(r, ERR_PARAM_BAD, "company",
				"company is only for cardholders of type company.");
	c->requirements = requirements_json(r, c->type, c->individual);
	if (!c->requirements)
		return req_fail(r, ERR_API, NULL, NULL);
	return req_write(r, ch_create_fn, &x);
}

static int ch_load_fn(struct db *db, void *arg)
{
	struct ch_ctx *x = arg;
	int rc = cardholder_load(db, &x->r->arena, x->r->merchant_id, x->id, &x->c);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(x->r, "issuing.cardholder", x->id, "cardholder");
	return rc == DB_OK ? 0 : req_fail(x->r, ERR_API, NULL, NULL);
}

static int ch_retrieve_fn(struct db *db, void *arg)
{
	struct ch_ctx *x = arg;
	return ch_load_fn(db, arg) != 0 ? -1 : ch_respond(x->r, &x->c);
}

static int h_ch_retrieve(struct req *r)
{
	struct ch_ctx x = {.r = r, .id = r->args[0]};
	return req_read(r, ch_retrieve_fn, &x) == 0 ? 0 : -1;
}

/* previous_attributes: the old value of each top-level field the update changed */
struct prev {
	struct buf b;
	struct json j;
	bool any;
};

static void prev_init(struct prev *p)
{
	buf_init(&p->b, 1u << 20);
	json_init(&p->j, &p->b);
	json_obj_open(&p->j);
	p->any = false;
}

static void prev_str(struct prev *p, const char *key, const char *old, const char *now)
{
	if ((old == NULL) == (now == NULL) && (!old || strcmp(old, now) == 0))
		return;
	json_kv_str_or_null(&p->j, key, old);
	p->any = true;
}

static void prev_raw(struct prev *p, const char *key, const char *old, const char *now)
{
	if ((old == NULL) == (now == NULL) && (!old || strcmp(old, now) == 0))
		return;
	json_kv_raw_or_null(&p->j, key, old);
	p->any = true;
}

static const char *prev_done(struct req *r, struct prev *p)
{
	json_obj_close(&p->j);
	const char *s = p->any && !p->b.failed ? arena_strdup(&r->arena, buf_cstr(&p->b)) : NULL;
	buf_release(&p->b);
	return s;
}

static int ch_update_fn(struct db *db, void *arg)
{
	struct ch_ctx *x = arg;
	struct req *r = x->r;
	if (ch_load_fn(db, arg) != 0)
		return -1;
	struct cardholder old = x->c, *c = &x->c;
	c->email = str_update(r, "email", c->email);
	c->phone_number = str_update(r, "phone_number", c->phone_number);
	if (with_param(r, "status"))
		c->status = param_str(r, "status");
	if (param_present(r, "billing") && billing_json(r, &c->billing) != 0)
		return -1;
	if (locales_check(r) != 0 || individual_json(r, &c->individual) != 0 ||
	    company_json(r, &c->company) != 0 ||
	    string_array_json(r, "preferred_locales", &c->preferred_locales) != 0 ||
	    metadata_apply(r, c->metadata, "metadata", &c->metadata) != 0)
		return -1;
	if (param_present(r, "spending_controls") &&
	    issuing_spending_controls_json(r, "spending_controls", true, &c->spending_controls) !=
		0)
		return -1;
	if (param_present(r, "individual") && strcmp(c->type, "individual") != 0)
		return req_fail(r, ERR_PARAM_BAD, "individual",
				"individual is only for cardholders of type individual.");
	if (param_present(r, "company") && strcmp(c->type, "company") != 0)
		return req_fail(r, ERR_PARAM_BAD, "company",
				"company is only for cardholders of type company.");
	c->requirements = requirements_json(r, c->type, c->individual);
	if (!c->requirements)
		return req_fail(r, ERR_API, NULL, NULL);
	struct db_stmt *st = db_prepare(db, SQL_CH_UPDATE);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, c->id, -1);
	db_bind_text(st, 3, c->name, -1);
	db_bind_text(st, 4, c->email, -1);
	db_bind_text(st, 5, c->phone_number, -1);
	db_bind_text(st, 6, c->billing, -1);
	db_bind_text(st, 7, c->individual, -1);
	db_bind_text(st, 8, c->company, -1);
	db_bind_text(st, 9, c->preferred_locales, -1);
	db_bind_text(st, 10, c->spending_controls, -1);
	db_bind_text(st, 11, c->requirements, -1);
	db_bind_text(st, 12, c->status, -1);
	db_bind_text(st, 13, c->metadata, -1);
	if (db_step_done(st) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	struct prev p;
	prev_init(&p);
	prev_raw(&p, "billing", old.billing, c->billing);
	prev_raw(&p, "company", old.company, c->company);
	prev_str(&p, "email", old.email, c->email);
	prev_raw(&p, "individual", old.individual, c->individual);
	prev_raw(&p, "metadata", old.metadata, c->metadata);
	prev_str(&p, "phone_number", old.phone_number, c->phone_number);
	prev_raw(&p, "preferred_locales", old.preferred_locales, c->preferred_locales);
	prev_raw(&p, "requirements", old.requirements, c->requirements);
	prev_raw(&p, "spending_controls", old.spending_controls, c->spending_controls);
	prev_str(&p, "status", old.status, c->status);
	const char *prev = prev_done(r, &p);
	/* an update that changes nothing is answered without an event, as Stripe does */
	if (prev && cardholder_emit(r, db, c, "issuing_cardholder.updated", prev) != 0)
		return -1;
	return ch_respond(r, c);
}

static int h_ch_update(struct req *r)
{
	struct ch_ctx x = {.r = r, .id = r->args[0]};
	return req_write(r, ch_update_fn, &x);
}

static const char SQL_CH_CURSOR[] =
    "SELECT created FROM issuing_cardholders WHERE merchant_id = $1 AND id = $2";
#define CH_LIST_WHERE                                                                              \
	"SELECT id FROM issuing_cardholders WHERE merchant_id = $1 AND id > $2 AND id < $3"        \
	" AND ($5 IS NULL OR email = $5) AND ($6 IS NULL OR phone_number = $6)"                    \
	" AND ($7 IS NULL OR status = $7) AND ($8 IS NULL OR type = $8)"
static const char SQL_CH_DESC[] = CH_LIST_WHERE " ORDER BY id DESC LIMIT $4";
static const char SQL_CH_ASC[] = CH_LIST_WHERE " ORDER BY id ASC LIMIT $4";

static int ch_list_bind(struct req *r, struct db_stmt *st, int first, void *ctx)
{
	(void)ctx;
	list_bind_filter(r, st, first, "email");
	list_bind_filter(r, st, first + 1, "phone_number");
	list_bind_filter(r, st, first + 2, "status");
	list_bind_filter(r, st, first + 3, "type");
	return 0;
}

static int ch_list_render(struct req *r, struct db *db, const char *id, struct json *j, void *ctx)
{
	(void)ctx;
	struct cardholder c;
	int rc = cardholder_load(db, &r->arena, r->merchant_id, id, &c);
	if (rc == DB_OK)
		cardholder_render(r->livemode, &c, j);
	return rc;
}

static int h_ch_list(struct req *r)
{
	static const struct list_spec spec = {
	    .url = "/v1/issuing/cardholders",
	    .object_name = "issuing.cardholder",
	    .id_prefix = "ich_",
	    .sql_cursor = SQL_CH_CURSOR,
	    .sql_desc = SQL_CH_DESC,
	    .sql_asc = SQL_CH_ASC,
	    .bind_filters = ch_list_bind,
	    .render = ch_list_render,
	};
	return list_respond(r, &spec);
}

/* ---- cards ---- */

struct card {
	char id[ID_MAX];
	int64_t created, exp_month, exp_year;
	const char *cardholder, *type, *currency, *card_ref, *last4, *status, *cancellation_reason;
	const char *replacement_for, *replacement_reason, *replaced_by, *shipping;
	const char *spending_controls, *metadata;
};

static const char SQL_CARD_GET[] =
    "SELECT id, created, cardholder, type, currency, card_ref, last4, exp_month, exp_year,"
    " status, cancellation_reason, replacement_for, replacement_reason, replaced_by, shipping,"
    " spending_controls, metadata FROM issuing_cards WHERE merchant_id = $1 AND id = $2";
static const char SQL_CARD_INSERT[] =
    "INSERT INTO issuing_cards (merchant_id, id, created, cardholder, type, currency, card_ref,"
    " last4, exp_month, exp_year, status, replacement_for, replacement_reason, shipping,"
    " spending_controls, metadata) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12,"
    " $13, $14, $15, $16)";
/* status moves only from the status read (a canceled card stays canceled) */
static const char SQL_CARD_UPDATE[] =
    "UPDATE issuing_cards SET status = $4, cancellation_reason = $5, replaced_by = $6,"
    " shipping = $7, spending_controls = $8, metadata = $9"
    " WHERE merchant_id = $1 AND id = $2 AND status = $3";

static int card_load(struct db *db, struct arena *a, const char *merchant_id, const char *id,
		     struct card *c)
{
	struct db_stmt *st;
	int rc = db_row_by_id(db, SQL_CARD_GET, merchant_id, id, &st);
	if (rc != DB_OK)
		return rc;
	memset(c, 0, sizeof(*c));
	str_copy(c->id, sizeof(c->id), db_col_text(st, 0, NULL));
	c->created = db_col_int64(st, 1);
	c->cardholder = col_text_dup(a, st, 2);
	c->type = col_text_dup(a, st, 3);
	c->currency = col_text_dup(a, st, 4);
	c->card_ref = col_text_dup(a, st, 5);
	c->last4 = col_text_dup(a, st, 6);
	c->exp_month = db_col_int64(st, 7);
	c->exp_year = db_col_int64(st, 8);
	c->status = col_text_dup(a, st, 9);
	c->cancellation_reason = col_text_dup(a, st, 10);
	c->replacement_for = col_text_dup(a, st, 11);
	c->replacement_reason = col_text_dup(a, st, 12);
	c->replaced_by = col_text_dup(a, st, 13);
	c->shipping = col_text_dup(a, st, 14);
	c->spending_controls = col_text_dup(a, st, 15);
	c->metadata = col_text_dup(a, st, 16);
	db_reset(st);
	return c->cardholder && c->type && c->currency && c->card_ref && c->last4 && c->status &&
		       c->spending_controls && c->metadata
		   ? DB_OK
		   : DB_ERR;
}

/* number / cvc: shown only when given (a retrieve that expands them) */
static int card_render(struct db *db, struct arena *a, const char *merchant_id, bool livemode,
		       const struct card *c, const char *number, const char *cvc, struct json *j)
{
	struct cardholder ch;
	int rc = cardholder_load(db, a, merchant_id, c->cardholder, &ch);
	if (rc != DB_OK)
		return rc == DB_NOTFOUND ? DB_ERR : rc;
	json_obj_open(j);
	json_kv_str(j, "id", c->id);
	json_kv_str(j, "object", "issuing.card");
	json_kv_str(j, "brand", "Visa");
	json_kv_str_or_null(j, "cancellation_reason", c->cancellation_reason);
	json_key(j, "cardholder");
	cardholder_render(livemode, &ch, j);
	json_kv_int(j, "created", c->created);
	json_kv_str(j, "currency", c->currency);
	if (cvc)
		json_kv_str(j, "cvc", cvc);
	json_kv_int(j, "exp_month", c->exp_month);
	json_kv_int(j, "exp_year", c->exp_year);
	json_kv_null(j, "financial_account");
	json_kv_str(j, "last4", c->last4);
	json_kv_bool(j, "livemode", livemode);
	json_kv_raw(j, "metadata", c->metadata, strlen(c->metadata));
	if (number)
		json_kv_str(j, "number", number);
	json_kv_str_or_null(j, "replaced_by", c->replaced_by);
	json_kv_str_or_null(j, "replacement_for", c->replacement_for);
	json_kv_str_or_null(j, "replacement_reason", c->replacement_reason);
	json_kv_raw_or_null(j, "shipping", c->shipping);
	json_kv_raw(j, "spending_controls", c->spending_controls, strlen(c->spending_controls));
	json_kv_str(j, "status", c->status);
	json_kv_str(j, "type", c->type);
	/* Tender provisions no wallet: a card is not eligible for one */
	json_kv_raw(
	    j, "wallets",
	    "{\"apple_pay\":{\"eligible\":false,\"ineligible_reason\":\"missing_agreement\"},"
	    "\"google_pay\":{\"eligible\":false,\"ineligible_reason\":\"missing_agreement\"},"
	    "\"primary_account_identifier\":null}",
	    strlen("{\"apple_pay\":{\"eligible\":false,\"ineligible_reason\":\"missing_"
		   "agreement\"},\"google_pay\":{\"eligible\":false,\"ineligible_reason\":"
		   "\"missing_agreement\"},\"primary_account_identifier\":null}"));
	json_obj_close(j);
	return DB_OK;
}

static int card_emit(struct req *r, struct db *db, const struct card *c, const char *type,
		     const char *prev)
{
	struct buf b;
	struct json j;
	buf_init(&b, 1u << 20);
	json_init(&j, &b);
	if (card_render(db, &r->arena, r->merchant_id, r->livemode, c, NULL, NULL, &j) != DB_OK) {
		buf_release(&b);
		return req_fail(r, ERR_API, NULL, NULL);
	}
	const char *js;
	size_t len;
	char ev[ID_MAX];
	return api_event_append(r, db, type, c->id, &b, prev, &js, &len, ev);
}

static int card_respond(struct req *r, struct db *db, const struct card *c, const char *number,
			const char *cvc)
{
	return card_render(db, &r->arena, r->merchant_id, r->livemode, c, number, cvc,
			   req_json(r)) == DB_OK
		   ? 0
		   : req_fail(r, ERR_API, NULL, NULL);
}

/* Writes c's mutable columns, from status `from`; DB_CONFLICT when it had moved. */
static int card_store(struct db *db, const char *merchant_id, const struct card *c,
		      const char *from)
{
	struct db_stmt *st = db_prepare(db, SQL_CARD_UPDATE);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, c->id, -1);
	db_bind_text(st, 3, from, -1);
	db_bind_text(st, 4, c->status, -1);
	db_bind_text(st, 5, c->cancellation_reason, -1);
	db_bind_text(st, 6, c->replaced_by, -1);
	db_bind_text(st, 7, c->shipping, -1);
	db_bind_text(st, 8, c->spending_controls, -1);
	db_bind_text(st, 9, c->metadata, -1);
	int64_t n = 0;
	int rc = db_step_changes(st, &n);
	if (rc != DB_OK)
		return rc;
	return n == 1 ? DB_OK : DB_CONFLICT;
}

/* The shipping of a physical card: the given hash, else the cardholder's name and billing
 * address, pending until the test helpers move it. */
static int shipping_json(struct req *r, const struct cardholder *ch, const char **ret)
{
	const char *addr = NULL;
	if (param_present(r, "shipping")) {
		if (address_from_params(r, "shipping.address", &addr) != 0)
			return -1;
	} else {
		const char *p = strstr(ch->billing, "\"address\":");
		size_t n = strlen(ch->billing);
		/* billing is {"address":{…}} as this file wrote it */
		addr = p && n > 12
			   ? arena_printf(&r->arena, "%.*s", (int)(n - 12), ch->billing + 11)
			   : NULL;
	}
	if (!addr)
		return req_fail(r, ERR_PARAM_MISSING, "shipping[address]", "shipping[address]");
	const char *name = param_present(r, "shipping") ? with_param(r, "shipping.name") : ch->name;
	const char *service = with_param(r, "shipping.service");
	const char *type = with_param(r, "shipping.type");
	bool sig = false;
	bool has_sig = param_bool(r, "shipping.require_signature", &sig) == 1;
	const char *eori = with_param(r, "shipping.customs.eori_number");
	struct buf b;
	struct json j;
	buf_init(&b, 64 * 1024);
	json_init(&j, &b);
	json_obj_open(&j);
	json_kv_raw(&j, "address", addr, strlen(addr));
	json_kv_null(&j, "carrier");
	json_key(&j, "customs");
	if (eori) {
		json_obj_open(&j);
		json_kv_str(&j, "eori_number", eori);
		json_obj_close(&j);
	} else {
		json_nil(&j);
	}
	json_kv_null(&j, "eta");
	json_kv_str(&j, "name", name ? name : ch->name);
	json_kv_str_or_null(&j, "phone_number", with_param(r, "shipping.phone_number"));
	json_key(&j, "require_signature");
	if (has_sig)
		json_bool(&j, sig);
	else
		json_nil(&j);
	json_kv_str(&j, "service", service ? service : "standard");
	json_kv_str(&j, "status", "pending");
	json_kv_null(&j, "tracking_number");
	json_kv_null(&j, "tracking_url");
	json_kv_str(&j, "type", type ? type : "individual");
	json_obj_close(&j);
	*ret = b.failed ? NULL : arena_strdup(&r->arena, buf_cstr(&b));
	buf_release(&b);
	return *ret ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

struct card_ctx {
	struct req *r;
	const char *id;
	struct card c;
};

static int card_create_fn(struct db *db, void *arg)
{
	struct card_ctx *x = arg;
	struct req *r = x->r;
	struct card *c = &x->c;
	struct cardholder ch;
	int rc = cardholder_load(db, &r->arena, r->merchant_id, c->cardholder, &ch);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(r, "issuing.cardholder", c->cardholder, "cardholder");
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (strcmp(c->type, "physical") == 0 && shipping_json(r, &ch, &c->shipping) != 0)
		return -1;
	struct card old;
	if (c->replacement_for) {
		rc = card_load(db, &r->arena, r->merchant_id, c->replacement_for, &old);
		if (rc == DB_NOTFOUND)
			return req_fail_missing(r, "issuing.card", c->replacement_for,
						"replacement_for");
		if (rc != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		if (strcmp(old.cardholder, c->cardholder) != 0)
			return req_fail(r, ERR_PARAM_BAD, "replacement_for",
					"The card %s belongs to another cardholder.",
					c->replacement_for);
		if (old.replaced_by)
			return req_fail(r, ERR_INVALID_STATE, "replacement_for",
					"The card %s has already been replaced.",
					c->replacement_for);
	}
	struct vault_card_info info;
	if (vault_issuing_card_make(r->app->vault, db, r->merchant_id, c->card_ref, r->now,
				    &info) != 0)
		return req_fail(r, ERR_API, NULL, NULL);
	c->last4 = arena_strdup(&r->arena, info.last4);
	c->exp_month = info.exp_month;
	c->exp_year = info.exp_year;
	if (!c->last4)
		return req_fail(r, ERR_API, NULL, NULL);
	struct db_stmt *st = db_prepare(db, SQL_CARD_INSERT);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, c->id, -1);
	db_bind_int64(st, 3, c->created);
	db_bind_text(st, 4, c->cardholder, -1);
	db_bind_text(st, 5, c->type, -1);
	db_bind_text(st, 6, c->currency, -1);
	db_bind_text(st, 7, c->card_ref, -1);
	db_bind_text(st, 8, c->last4, -1);
	db_bind_int64(st, 9, c->exp_month);
	db_bind_int64(st, 10, c->exp_year);
	db_bind_text(st, 11, c->status, -1);
	db_bind_text(st, 12, c->replacement_for, -1);
	db_bind_text(st, 13, c->replacement_reason, -1);
	db_bind_text(st, 14, c->shipping, -1);
	db_bind_text(st, 15, c->spending_controls, -1);
	db_bind_text(st, 16, c->metadata, -1);
	if (db_step_done(st) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (card_emit(r, db, c, "issuing_card.created", NULL) != 0)
		return -1;
	if (c->replacement_for) {
		/* the replaced card points at its replacement; one lost or stolen is canceled
		 * for that reason (a damaged or expired one stays usable until the new arrives) */
		struct prev p;
		prev_init(&p);
		const char *from = old.status;
		old.replaced_by = c->id;
		prev_str(&p, "replaced_by", NULL, old.replaced_by);
		if (c->replacement_reason &&
		    (strcmp(c->replacement_reason, "lost") == 0 ||
		     strcmp(c->replacement_reason, "stolen") == 0) &&
		    strcmp(old.status, "canceled") != 0) {
			prev_str(&p, "status", old.status, "canceled");
			prev_str(&p, "cancellation_reason", old.cancellation_reason,
				 c->replacement_reason);
			old.status = "canceled";
			old.cancellation_reason = c->replacement_reason;
		}
		const char *prev = prev_done(r, &p);
		if (card_store(db, r->merchant_id, &old, from) != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		if (card_emit(r, db, &old, "issuing_card.updated", prev) != 0)
			return -1;
	}
	return card_respond(r, db, c, NULL, NULL);
}

static int h_card_create(struct req *r)
{
	struct card_ctx x = {.r = r};
	struct card *c = &x.c;
	id_new_at(c->id, "ic_", r->now);
	c->card_ref = c->id;
	c->created = r->now;
	char cur[8];
	if (param_currency(r, "currency", NULL, cur) != 0)
		return -1;
	if (strcmp(cur, "usd") != 0)
		return req_fail(r, ERR_PARAM_BAD, "currency",
				"Issuing cards in Tender are issued in usd, not %s.", cur);
	c->currency = "usd";
	c->cardholder = with_param(r, "cardholder");
	if (!c->cardholder)
		return req_fail(r, ERR_PARAM_MISSING, "cardholder", "cardholder");
	c->type = param_str(r, "type");
	c->status = with_param(r, "status") ? param_str(r, "status") : "inactive";
	c->replacement_for = with_param(r, "replacement_for");
	c->replacement_reason = with_param(r, "replacement_reason");
	if (c->replacement_reason && !c->replacement_for)
		return req_fail(r, ERR_PARAM_MISSING, "replacement_for", "replacement_for");
	if (with_param(r, "financial_account"))
		return req_fail(r, ERR_PARAM_BAD, "financial_account",
				"Tender has no Treasury financial accounts: cards draw on the "
				"Issuing balance.");
	if (param_present(r, "shipping") && strcmp(c->type, "physical") != 0)
		return req_fail(r, ERR_PARAM_BAD, "shipping",
				"shipping can only be set on a physical card.");
	c->metadata = "{}";
	if (issuing_spending_controls_json(r, "spending_controls", false, &c->spending_controls) !=
		0 ||
	    metadata_apply(r, NULL, "metadata", &c->metadata) != 0)
		return -1;
	return req_write(r, card_create_fn, &x);
}

static int card_load_fn(struct db *db, void *arg)
{
	struct card_ctx *x = arg;
	int rc = card_load(db, &x->r->arena, x->r->merchant_id, x->id, &x->c);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(x->r, "issuing.card", x->id, "card");
	return rc == DB_OK ? 0 : req_fail(x->r, ERR_API, NULL, NULL);
}

static int card_retrieve_fn(struct db *db, void *arg)
{
	struct card_ctx *x = arg;
	struct req *r = x->r;
	if (card_load_fn(db, arg) != 0)
		return -1;
	struct card *c = &x->c;
	/* the number and the CVC of a virtual card, only when asked for (as Stripe's) */
	bool virt = strcmp(c->type, "virtual") == 0;
	bool want_number = virt && req_expand_has(r, "number");
	bool want_cvc = virt && req_expand_has(r, "cvc");
	char number[20] = "", cvc[4] = "";
	if (want_number &&
	    vault_issuing_card_number(r->app->vault, db, r->merchant_id, c->card_ref, number) != 0)
		return req_fail(r, ERR_API, NULL, NULL);
	if (want_cvc && vault_issuing_cvc(r->app->vault, r->merchant_id, c->card_ref, cvc) != 0) {
		OPENSSL_cleanse(number, sizeof(number));
		return req_fail(r, ERR_API, NULL, NULL);
	}
	int rc = card_respond(r, db, c, want_number ? number : NULL, want_cvc ? cvc : NULL);
	OPENSSL_cleanse(number, sizeof(number));
	OPENSSL_cleanse(cvc, sizeof(cvc));
	return rc;
}

static int h_card_retrieve(struct req *r)
{
	struct card_ctx x = {.r = r, .id = r->args[0]};
	/* an ephemeral key made for this card (api/ephemeral_keys.c) reads it, and no other; its
	 * number and CVC need a key made with a Stripe.js nonce, which Tender cannot make */
	if (r->scope_customer[0]) {
		if (req_scope_customer(r, r->args[0], "issuing.card", r->args[0], "card") != 0)
			return -1;
		if (req_expand_has(r, "number") || req_expand_has(r, "cvc"))
			return req_fail(r, ERR_KEY_PERMISSION, NULL,
					"An ephemeral key reveals an Issuing card's number and "
					"CVC only when it was made with a Stripe.js nonce.");
	}
	/* a reveal is recorded (vault_access_record): that needs a write */
	if (req_expand_has(r, "number") || req_expand_has(r, "cvc"))
		return req_write(r, card_retrieve_fn, &x);
	return req_read(r, card_retrieve_fn, &x) == 0 ? 0 : -1;
}

static int card_update_fn(struct db *db, void *arg)
{
	struct card_ctx *x = arg;
	struct req *r = x->r;
	if (card_load_fn(db, arg) != 0)
		return -1;
	struct card old = x->c, *c = &x->c;
	const char *status = with_param(r, "status");
	const char *reason = with_param(r, "cancellation_reason");
	if (strcmp(c->status, "canceled") == 0 && (status || reason))
		return req_fail(r, ERR_INVALID_STATE, "status",
				"The card %s is canceled: its status cannot change.", c->id);
	if (reason && !(status && strcmp(status, "canceled") == 0))
		return req_fail(r, ERR_PARAM_BAD, "cancellation_reason",
				"cancellation_reason can only be set when canceling the card "
				"(status=canceled).");
	if (status)
		c->status = status;
	if (reason)
		c->cancellation_reason = reason;
	if (param_present(r, "pin"))
		return req_fail(r, ERR_PARAM_BAD, "pin",
				"Tender does not set PINs: its cards are used without one.");
	if (metadata_apply(r, c->metadata, "metadata", &c->metadata) != 0)
		return -1;
	if (param_present(r, "spending_controls") &&
	    issuing_spending_controls_json(r, "spending_controls", false, &c->spending_controls) !=
		0)
		return -1;
	int rc = card_store(db, r->merchant_id, c, old.status);
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	struct prev p;
	prev_init(&p);
	prev_str(&p, "cancellation_reason", old.cancellation_reason, c->cancellation_reason);
	prev_raw(&p, "metadata", old.metadata, c->metadata);
	prev_raw(&p, "spending_controls", old.spending_controls, c->spending_controls);
	prev_str(&p, "status", old.status, c->status);
	const char *prev = prev_done(r, &p);
	if (prev && card_emit(r, db, c, "issuing_card.updated", prev) != 0)
		return -1;
	return card_respond(r, db, c, NULL, NULL);
}

static int h_card_update(struct req *r)
{
	struct card_ctx x = {.r = r, .id = r->args[0]};
	return req_write(r, card_update_fn, &x);
}

/* ---- the shipping test helpers ---- */

struct ship_step {
	const char *action, *to;
	const char *const *from; /* the shipping statuses it moves from */
};

static const struct ship_step SHIP_STEPS[] = {
    {"ship", "shipped", (const char *const[]){"pending", NULL}},
    {"deliver", "delivered", (const char *const[]){"pending", "shipped", NULL}},
    {"return", "returned", (const char *const[]){"pending", "shipped", "delivered", NULL}},
    {"fail", "failure", (const char *const[]){"pending", "shipped", NULL}},
};

static const char *ship_status(const char *shipping)
{
	static const char *const all[] = {"pending",  "shipped", "delivered",
					  "returned", "failure", "canceled"};
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		char pat[40];
		snprintf(pat, sizeof(pat), "\"status\":\"%s\"", all[i]);
		if (strstr(shipping, pat))
			return all[i];
	}
	return "";
}

/* shipping with status, and (once shipped) Stripe's test carrier, tracking and eta, replaced */
static const char *ship_with(struct req *r, const char *shipping, const char *status,
			     const char *card_id)
{
	const char *cur = ship_status(shipping);
	char from[40], to[40];
	snprintf(from, sizeof(from), "\"status\":\"%s\"", cur);
	snprintf(to, sizeof(to), "\"status\":\"%s\"", status);
	const char *p = strstr(shipping, from);
	if (!p)
		return NULL;
	const char *s = arena_printf(&r->arena, "%.*s%s%s", (int)(p - shipping), shipping, to,
				     p + strlen(from));
	if (s && strstr(s, "\"carrier\":null")) {
		/* the carrier's tracking: usps, a tracking number made from the card's id */
		const char *tn = card_id + 3;
		const char *c = strstr(s, "\"carrier\":null");
		s = arena_printf(&r->arena, "%.*s\"carrier\":\"usps\"%s", (int)(c - s), s, c + 14);
		const char *e = s ? strstr(s, "\"eta\":null") : NULL;
		if (e)
			s = arena_printf(&r->arena, "%.*s\"eta\":%lld%s", (int)(e - s), s,
					 (long long)(r->now + 5 * 86400), e + 10);
		const char *t = s ? strstr(s, "\"tracking_number\":null") : NULL;
		if (t)
			s = arena_printf(&r->arena, "%.*s\"tracking_number\":\"%s\"%s",
					 (int)(t - s), s, tn, t + 22);
		const char *u = s ? strstr(s, "\"tracking_url\":null") : NULL;
		if (u)
			s = arena_printf(&r->arena,
					 "%.*s\"tracking_url\":\"https://tools.usps.com/go/"
					 "TrackConfirmAction?tLabels=%s\"%s",
					 (int)(u - s), s, tn, u + 19);
	}
	return s;
}

struct ship_ctx {
	struct card_ctx x;
	const struct ship_step *step;
};

static int ship_fn(struct db *db, void *arg)
{
	struct ship_ctx *sx = arg;
	struct req *r = sx->x.r;
	if (card_load_fn(db, &sx->x) != 0)
		return -1;
	struct card *c = &sx->x.c;
	if (strcmp(c->type, "physical") != 0 || !c->shipping)
		return req_fail(r, ERR_INVALID_STATE, NULL,
				"The card %s is virtual: it has no shipping to %s.", c->id,
				sx->step->action);
	const char *cur = ship_status(c->shipping);
	bool ok = false;
	for (const char *const *f = sx->step->from; *f; f++)
		ok = ok || strcmp(*f, cur) == 0;
	if (!ok)
		return req_fail(r, ERR_INVALID_STATE, NULL,
				"The shipping of card %s is %s: it cannot be moved to %s.", c->id,
				cur, sx->step->to);
	const char *old = c->shipping;
	c->shipping = ship_with(r, c->shipping, sx->step->to, c->id);
	if (!c->shipping)
		return req_fail(r, ERR_API, NULL, NULL);
	if (card_store(db, r->merchant_id, c, c->status) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	const char *prev = arena_printf(&r->arena, "{\"shipping\":%s}", old);
	if (!prev || card_emit(r, db, c, "issuing_card.updated", prev) != 0)
		return -1;
	return card_respond(r, db, c, NULL, NULL);
}

static int h_ship(struct req *r, const char *action)
{
	struct ship_ctx sx = {.x = {.r = r, .id = r->args[0]}};
	for (size_t i = 0; i < sizeof(SHIP_STEPS) / sizeof(SHIP_STEPS[0]); i++)
		if (strcmp(SHIP_STEPS[i].action, action) == 0)
			sx.step = &SHIP_STEPS[i];
	return req_write(r, ship_fn, &sx);
}

static int h_ship_ship(struct req *r)
{
	return h_ship(r, "ship");
}
static int h_ship_deliver(struct req *r)
{
	return h_ship(r, "deliver");
}
static int h_ship_return(struct req *r)
{
	return h_ship(r, "return");
}
static int h_ship_fail(struct req *r)
{
	return h_ship(r, "fail");
}

static const char SQL_CARD_CURSOR[] =
    "SELECT created FROM issuing_cards WHERE merchant_id = $1 AND id = $2";
#define CARD_LIST_WHERE                                                                            \
	"SELECT id FROM issuing_cards WHERE merchant_id = $1 AND id > $2 AND id < $3"              \
	" AND ($5 IS NULL OR cardholder = $5) AND ($6 IS NULL OR exp_month = $6)"                  \
	" AND ($7 IS NULL OR exp_year = $7) AND ($8 IS NULL OR last4 = $8)"                        \
	" AND ($9 IS NULL OR status = $9) AND ($10 IS NULL OR type = $10)"
static const char SQL_CARD_DESC[] = CARD_LIST_WHERE " ORDER BY id DESC LIMIT $4";
static const char SQL_CARD_ASC[] = CARD_LIST_WHERE " ORDER BY id ASC LIMIT $4";

static void bind_int_filter(struct req *r, struct db_stmt *st, int idx, const char *name)
{
	int64_t v;
	if (param_int(r, name, &v) == 1)
		db_bind_int64(st, idx, v);
	else
		db_bind_null(st, idx);
}

static int card_list_bind(struct req *r, struct db_stmt *st, int first, void *ctx)
{
	(void)ctx;
	list_bind_filter(r, st, first, "cardholder");
	bind_int_filter(r, st, first + 1, "exp_month");
	bind_int_filter(r, st, first + 2, "exp_year");
	list_bind_filter(r, st, first + 3, "last4");
	list_bind_filter(r, st, first + 4, "status");
	list_bind_filter(r, st, first + 5, "type");
	return 0;
}

static int card_list_render(struct req *r, struct db *db, const char *id, struct json *j, void *ctx)
{
	(void)ctx;
	struct card c;
	int rc = card_load(db, &r->arena, r->merchant_id, id, &c);
	if (rc != DB_OK)
		return rc;
	return card_render(db, &r->arena, r->merchant_id, r->livemode, &c, NULL, NULL, j);
}

static int h_card_list(struct req *r)
{
	static const struct list_spec spec = {
	    .url = "/v1/issuing/cards",
	    .object_name = "issuing.card",
	    .id_prefix = "ic_",
	    .sql_cursor = SQL_CARD_CURSOR,
	    .sql_desc = SQL_CARD_DESC,
	    .sql_asc = SQL_CARD_ASC,
	    .bind_filters = card_list_bind,
	    .render = card_list_render,
	};
	return list_respond(r, &spec);
}

/* ---- what api/issuing_authorizations.c reads (issuing.h) ---- */

int issuing_card_facts(struct db *db, struct arena *a, const char *merchant_id, const char *card_id,
		       struct issuing_card_facts *ret)
{
	struct card c;
	int rc = card_load(db, a, merchant_id, card_id, &c);
	if (rc != DB_OK)
		return rc;
	struct cardholder ch;
	rc = cardholder_load(db, a, merchant_id, c.cardholder, &ch);
	if (rc != DB_OK)
		return rc == DB_NOTFOUND ? DB_ERR : rc;
	memset(ret, 0, sizeof(*ret));
	str_copy(ret->cardholder, sizeof(ret->cardholder), c.cardholder);
	str_copy(ret->currency, sizeof(ret->currency), c.currency);
	ret->status = c.status;
	ret->spending_controls = c.spending_controls;
	ret->holder_status = ch.status;
	ret->holder_controls = ch.spending_controls;
	/* requirements_json writes disabled_reason null when nothing is due */
	ret->holder_requirements_due = strstr(ch.requirements, "\"disabled_reason\":null") == NULL;
	return DB_OK;
}

int issuing_card_render(struct db *db, struct arena *a, const char *merchant_id, bool livemode,
			const char *card_id, struct json *j)
{
	struct card c;
	int rc = card_load(db, a, merchant_id, card_id, &c);
	if (rc != DB_OK)
		return rc;
	return card_render(db, a, merchant_id, livemode, &c, NULL, NULL, j);
}

/* ---- parameters and routes ---- */

static const char *const INTERVALS[] = {"all_time", "daily",  "monthly", "per_authorization",
					"weekly",   "yearly", NULL};
static const struct param_spec limit_children[] = {
    {"amount", PT_INT, PF_REQUIRED, 0, NULL, NULL},
    {"categories", PT_STRING_ARRAY, PF_EMPTYABLE, 0, NULL, NULL},
    {"interval", PT_ENUM, PF_REQUIRED, 0, INTERVALS, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec card_controls_children[] = {
    {"allowed_categories", PT_STRING_ARRAY, PF_EMPTYABLE, 0, NULL, NULL},
    {"blocked_categories", PT_STRING_ARRAY, PF_EMPTYABLE, 0, NULL, NULL},
    {"spending_limits", PT_OBJECT_ARRAY, PF_EMPTYABLE, 20, NULL, limit_children},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec holder_controls_children[] = {
    {"allowed_categories", PT_STRING_ARRAY, PF_EMPTYABLE, 0, NULL, NULL},
    {"blocked_categories", PT_STRING_ARRAY, PF_EMPTYABLE, 0, NULL, NULL},
    {"spending_limits", PT_OBJECT_ARRAY, PF_EMPTYABLE, 20, NULL, limit_children},
    {"spending_limits_currency", PT_CURRENCY, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec req_address_children[] = {
    {"city", PT_STRING, PF_REQUIRED, 5000, NULL, NULL},
    {"country", PT_STRING, PF_REQUIRED, 5000, NULL, NULL},
    {"line1", PT_STRING, PF_REQUIRED, 5000, NULL, NULL},
    {"line2", PT_STRING, PF_EMPTYABLE, 5000, NULL, NULL},
    {"postal_code", PT_STRING, PF_REQUIRED, 5000, NULL, NULL},
    {"state", PT_STRING, PF_EMPTYABLE, 5000, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec billing_children[] = {
    {"address", PT_OBJECT, PF_REQUIRED, 0, NULL, req_address_children},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec company_children[] = {
    {"tax_id", PT_STRING, 0, 5000, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec terms_children[] = {
    {"date", PT_INT, 0, 0, NULL, NULL},
    {"ip", PT_STRING, 0, 5000, NULL, NULL},
    {"user_agent", PT_STRING, PF_EMPTYABLE, 5000, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec card_issuing_children[] = {
    {"user_terms_acceptance", PT_OBJECT, 0, 0, NULL, terms_children},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec dob_children[] = {
    {"day", PT_INT, PF_REQUIRED, 0, NULL, NULL},
    {"month", PT_INT, PF_REQUIRED, 0, NULL, NULL},
    {"year", PT_INT, PF_REQUIRED, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec document_children[] = {
    {"back", PT_STRING, 0, 5000, NULL, NULL},
    {"front", PT_STRING, 0, 5000, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec verification_children[] = {
    {"document", PT_OBJECT, 0, 0, NULL, document_children},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec individual_children[] = {
    {"card_issuing", PT_OBJECT, 0, 0, NULL, card_issuing_children},
    {"dob", PT_OBJECT, 0, 0, NULL, dob_children},
    {"first_name", PT_STRING, 0, 5000, NULL, NULL},
    {"last_name", PT_STRING, 0, 5000, NULL, NULL},
    {"verification", PT_OBJECT, 0, 0, NULL, verification_children},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const char *const CH_STATUSES[] = {"active", "inactive", NULL};
static const char *const CH_TYPES[] = {"company", "individual", NULL};

#define CH_COMMON_PARAMS                                                                           \
	{"company", PT_OBJECT, 0, 0, NULL, company_children},                                      \
	    {"email", PT_STRING, PF_EMPTYABLE, 5000, NULL, NULL},                                  \
	    {"individual", PT_OBJECT, 0, 0, NULL, individual_children},                            \
	    {"metadata", PT_METADATA, 0, 0, NULL, NULL},                                           \
	    {"phone_number", PT_STRING, PF_EMPTYABLE, 5000, NULL, NULL},                           \
	    {"preferred_locales", PT_STRING_ARRAY, PF_EMPTYABLE, 0, NULL, NULL},                   \
	    {"spending_controls", PT_OBJECT, 0, 0, NULL, holder_controls_children},                \
	{                                                                                          \
		"status", PT_ENUM, 0, 0, CH_STATUSES, NULL                                         \
	}

static const struct param_spec ch_create_params[] = {
    {"billing", PT_OBJECT, PF_REQUIRED, 0, NULL, billing_children},
    {"name", PT_STRING, PF_REQUIRED, 5000, NULL, NULL},
    {"type", PT_ENUM, 0, 0, CH_TYPES, NULL},
    CH_COMMON_PARAMS,
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec ch_update_params[] = {
    {"billing", PT_OBJECT, 0, 0, NULL, billing_children},
    CH_COMMON_PARAMS,
    {NULL, 0, 0, 0, NULL, NULL},
};
static const char *const CH_LIST_STATUSES[] = {"active", "blocked", "inactive", NULL};
static const struct param_spec ch_list_params[] = {
    {"email", PT_STRING, 0, 5000, NULL, NULL},
    {"phone_number", PT_STRING, 0, 5000, NULL, NULL},
    {"status", PT_ENUM, 0, 0, CH_LIST_STATUSES, NULL},
    {"type", PT_ENUM, 0, 0, CH_TYPES, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};

static const struct param_spec customs_children[] = {
    {"eori_number", PT_STRING, 0, 5000, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec shipping_children[] = {
    {"address", PT_OBJECT, PF_REQUIRED, 0, NULL, req_address_children},
    {"customs", PT_OBJECT, 0, 0, NULL, customs_children},
    {"name", PT_STRING, PF_REQUIRED, 5000, NULL, NULL},
    {"phone_number", PT_STRING, 0, 5000, NULL, NULL},
    {"require_signature", PT_BOOL, 0, 0, NULL, NULL},
    {"service", PT_ENUM, 0, 0, (const char *const[]){"express", "priority", "standard", NULL},
     NULL},
    {"type", PT_ENUM, 0, 0, (const char *const[]){"bulk", "individual", NULL}, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const char *const CARD_TYPES[] = {"physical", "virtual", NULL};
static const struct param_spec card_create_params[] = {
    {"cardholder", PT_STRING, 0, 5000, NULL, NULL},
    {"currency", PT_CURRENCY, PF_REQUIRED, 0, NULL, NULL},
    {"financial_account", PT_STRING, 0, 5000, NULL, NULL},
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {"replacement_for", PT_STRING, 0, 5000, NULL, NULL},
    {"replacement_reason", PT_ENUM, 0, 0,
     (const char *const[]){"damaged", "expired", "lost", "stolen", NULL}, NULL},
    {"shipping", PT_OBJECT, 0, 0, NULL, shipping_children},
    {"spending_controls", PT_OBJECT, 0, 0, NULL, card_controls_children},
    {"status", PT_ENUM, 0, 0, (const char *const[]){"active", "inactive", NULL}, NULL},
    {"type", PT_ENUM, PF_REQUIRED, 0, CARD_TYPES, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec pin_children[] = {
    {"encrypted_number", PT_STRING, 0, 5000, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const char *const CARD_STATUSES[] = {"active", "canceled", "inactive", NULL};
static const struct param_spec card_update_params[] = {
    {"cancellation_reason", PT_ENUM, 0, 0, (const char *const[]){"lost", "stolen", NULL}, NULL},
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {"pin", PT_OBJECT, 0, 0, NULL, pin_children},
    {"spending_controls", PT_OBJECT, 0, 0, NULL, card_controls_children},
    {"status", PT_ENUM, 0, 0, CARD_STATUSES, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec card_list_params[] = {
    {"cardholder", PT_STRING, 0, 5000, NULL, NULL},
    {"exp_month", PT_INT, 0, 0, NULL, NULL},
    {"exp_year", PT_INT, 0, 0, NULL, NULL},
    {"last4", PT_STRING, 0, 4, NULL, NULL},
    {"status", PT_ENUM, 0, 0, CARD_STATUSES, NULL},
    {"type", PT_ENUM, 0, 0, CARD_TYPES, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec no_params[] = {{NULL, 0, 0, 0, NULL, NULL}};

const struct route issuing_routes[] = {
    {"POST", "/v1/issuing/cardholders", h_ch_create, ch_create_params, 0},
    {"GET", "/v1/issuing/cardholders", h_ch_list, ch_list_params, ROUTE_LIST},
    {"GET", "/v1/issuing/cardholders/{id}", h_ch_retrieve, no_params, 0},
    {"POST", "/v1/issuing/cardholders/{id}", h_ch_update, ch_update_params, 0},
    {"POST", "/v1/issuing/cards", h_card_create, card_create_params, 0},
    {"GET", "/v1/issuing/cards", h_card_list, card_list_params, ROUTE_LIST},
    {"GET", "/v1/issuing/cards/{id}", h_card_retrieve, no_params, ROUTE_EPHEMERAL},
    {"POST", "/v1/issuing/cards/{id}", h_card_update, card_update_params, 0},
    {"POST", "/v1/test_helpers/issuing/cards/{id}/shipping/ship", h_ship_ship, no_params, 0},
    {"POST", "/v1/test_helpers/issuing/cards/{id}/shipping/deliver", h_ship_deliver, no_params, 0},
    {"POST", "/v1/test_helpers/issuing/cards/{id}/shipping/return", h_ship_return, no_params, 0},
    {"POST", "/v1/test_helpers/issuing/cards/{id}/shipping/fail", h_ship_fail, no_params, 0},
    {NULL, NULL, NULL, NULL, 0},
};
