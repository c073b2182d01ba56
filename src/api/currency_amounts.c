/*
 * An amount an object has in its own currency, and in others beside it: a coupon's
 * currency_options[<currency>][amount_off] and a promotion code's
 * restrictions[currency_options][<currency>][minimum_amount] (billing_internal.h). The others are
 * rows (currency, amount) of the object, made by its create or added by an update, never changed
 * afterwards (what was made from the object reads them), shown as {<currency>: {<field>: amount}}
 * with the object's own currency among them, by currency, as Stripe shows them.
 */
#include <stdlib.h>
#include <string.h>

#include "api/billing_internal.h"
#include "api/common.h"
#include "core/parse.h"
#include "core/str.h"
#include "http/form.h"
#include "money/currency.h"

static int amount_cmp(const void *a, const void *b)
{
	return strcmp(((const struct currency_amount *)a)->currency,
		      ((const struct currency_amount *)b)->currency);
}

int currency_amounts_load(struct req *r, struct db *db, const struct currency_amounts_spec *s,
			  const char *owner, const struct currency_amount **ret, int *ret_n)
{
	*ret = NULL;
	*ret_n = 0;
	struct db_stmt *st = db_prepare(db, s->sql_list);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, owner, -1);
	db_bind_int64(st, 3, CURRENCY_AMOUNTS_MAX);
	struct currency_amount *o = NULL;
	int n = 0, rc;
	while ((rc = db_step(st)) == DB_ROW) {
		if (!o)
			o = arena_alloc(&r->arena, CURRENCY_AMOUNTS_MAX * sizeof(*o));
		if (!o || n == CURRENCY_AMOUNTS_MAX) {
			rc = DB_ERR;
			break;
		}
		const char *cur = db_col_text(st, 0, NULL);
		str_copy(o[n].currency, sizeof(o[n].currency), cur ? cur : "");
		o[n++].amount = db_col_int64(st, 1);
	}
	db_reset(st);
	if (rc != DB_DONE)
		return rc < 0 ? rc : DB_ERR;
	*ret = o;
	*ret_n = n;
	return DB_OK;
}

bool currency_amounts_find(const struct currency_amount *o, int n, const char *currency,
			   int64_t *ret)
{
	for (int i = 0; currency && i < n; i++)
		if (str_eq(o[i].currency, currency)) {
			*ret = o[i].amount;
			return true;
		}
	return false;
}

static void amount_obj(struct json *j, const char *field, const char *currency, int64_t amount)
{
	json_key_n(j, currency, strlen(currency), false);
	json_obj_open(j);
	json_kv_int(j, field, amount);
	json_obj_close(j);
}

void currency_amounts_render(struct json *j, const char *field, const char *own_currency,
			     int64_t own_amount, const struct currency_amount *o, int n)
{
	json_key(j, "currency_options");
	json_obj_open(j);
	bool own_done = !own_currency;
	for (int i = 0; i <= n; i++) {
		const struct currency_amount *x = i < n ? &o[i] : NULL;
		if (!own_done && (!x || strcmp(own_currency, x->currency) < 0)) {
			amount_obj(j, field, own_currency, own_amount);
			own_done = true;
		}
		if (x)
			amount_obj(j, field, x->currency, x->amount);
	}
	json_obj_close(j);
}

int currency_amounts_parse(struct req *r, const struct currency_amounts_spec *s,
			   const char *own_currency, const struct currency_amount *stored,
			   int n_stored, const struct currency_amount **ret, int *ret_n)
{
	const struct form_node *n = param_node(r, s->path);
	if (!n)
		return 0;
	if (n->kind == FORM_SCALAR)
		return req_fail(r, ERR_PARAM_BAD, s->param,
				"Invalid object: %s must be a hash of parameters.", s->param);
	struct currency_amount *o = arena_alloc(&r->arena, CURRENCY_AMOUNTS_MAX * sizeof(*o));
	if (!o)
		return req_fail(r, ERR_API, NULL, NULL);
	int k = n_stored;
	if (k)
		memcpy(o, stored, (size_t)k * sizeof(*o));
	for (const struct form_node *x = n->first_child; x; x = x->next) {
		const char *at = arena_printf(&r->arena, "%s[%s]", s->param, x->key);
		const char *sub = arena_printf(&r->arena, "%s[%s][%s]", s->param, x->key, s->field);
		if (!at || !sub)
			return req_fail(r, ERR_API, NULL, NULL);
		if (x->kind == FORM_SCALAR)
			return req_fail(r, ERR_PARAM_BAD, at,
					"Invalid object: %s must be a hash of parameters.", at);
		char cur[8] = "";
		for (size_t i = 0; i < x->key_len && i < sizeof(cur) - 1; i++)
			cur[i] = (char)(x->key[i] >= 'A' && x->key[i] <= 'Z' ? x->key[i] - 'A' + 'a'
									     : x->key[i]);
		if (x->key_len != 3 || !currency_find(cur))
			return req_fail(r, ERR_INVALID_CURRENCY, at, "Invalid currency: %s.",
					x->key);
		if (str_eq(cur, own_currency))
			return req_fail(r, ERR_PARAM_BAD, at,
					"`%s` is %s: currency_options takes %s in other "
					"currencies only.",
					cur, s->own, s->what);
		const struct form_node *a = form_get(x, s->field);
		int64_t v = 0;
		if (!a || !a->value || !*a->value)
			return req_fail(r, ERR_PARAM_MISSING, sub, "%s", sub);
		if (parse_i64(a->value, &v) != 0 || v < 1 || v > BILLING_AMOUNT_MAX)
			return req_fail(r, ERR_PARAM_BAD, sub,
					"Invalid %s: must be between 1 and %lld.", s->field,
					(long long)BILLING_AMOUNT_MAX);
		bool had = false;
		for (int i = 0; i < k; i++) {
			if (!str_eq(o[i].currency, cur))
				continue;
			had = true;
			if (i >= n_stored)
				return req_fail(r, ERR_PARAM_BAD, at,
						"The currency `%s` is given more than once in %s.",
						cur, s->param);
			if (o[i].amount != v)
				return req_fail(
				    r, ERR_PARAM_BAD, sub,
				    "The %s's %s in %s is %lld: a currency option, once "
				    "made, cannot be changed.",
				    s->object, s->field, cur, (long long)o[i].amount);
		}
		if (had)
			continue;
		if (k == CURRENCY_AMOUNTS_MAX)
			return req_fail(r, ERR_PARAM_BAD, s->param,
					"A %s has at most %d currency options.", s->object,
					CURRENCY_AMOUNTS_MAX);
		str_copy(o[k].currency, sizeof(o[k].currency), cur);
		o[k++].amount = v;
	}
	qsort(o, (size_t)k, sizeof(*o), amount_cmp);
	*ret = o;
	*ret_n = k;
	return 0;
}

int currency_amounts_insert(struct req *r, struct db *db, const struct currency_amounts_spec *s,
			    const char *owner, const struct currency_amount *had, int n_had,
			    const struct currency_amount *o, int n)
{
	for (int i = 0; i < n; i++) {
		int64_t old;
		if (currency_amounts_find(had, n_had, o[i].currency, &old))
			continue;
		struct db_stmt *st = db_prepare(db, s->sql_insert);
		if (!st)
			return req_fail(r, ERR_API, NULL, NULL);
		db_bind_text(st, 1, r->merchant_id, -1);
		db_bind_text(st, 2, owner, -1);
		db_bind_text(st, 3, o[i].currency, -1);
		db_bind_int64(st, 4, o[i].amount);
		db_bind_int64(st, 5, r->now);
		if (db_step_done(st) != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
	}
	return 0;
}
