#include "api/common.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/id.h"
#include "core/str.h"
#include "events/events.h"
#include "http/form.h"
#include "money/currency.h"

#define METADATA_KEYS_MAX 50

int metadata_apply(struct req *r, const char *old_json, const char *param, const char **ret)
{
	const struct form_node *n = param_node(r, param);
	if (!n) {
		*ret = old_json ? old_json : "{}";
		return 0;
	}
	json_t *obj = NULL;
	if (old_json && !(n->kind == FORM_SCALAR))
		obj = json_loads(old_json, 0, NULL);
	if (!obj || !json_is_object(obj)) {
		json_decref(obj);
		obj = json_object();
	}
	if (n->kind != FORM_SCALAR) {
		for (const struct form_node *c = n->first_child; c; c = c->next) {
			if (c->value_len == 0)
				json_object_del(obj, c->key);
			else
				json_object_set_new(obj, c->key,
						    json_stringn(c->value, c->value_len));
		}
	}
	if (json_object_size(obj) > METADATA_KEYS_MAX) {
		json_decref(obj);
		return req_fail(
		    r, ERR_METADATA, param,
		    "Invalid metadata: You can specify up to 50 keys, with key names up "
		    "to 40 characters long and values up to 500 characters long.");
	}
	char *s = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(obj);
	if (!s)
		return req_fail(r, ERR_API, NULL, NULL);
	*ret = arena_strdup(&r->arena, s);
	free(s);
	return *ret ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

static void address_body(struct req *r, struct json *j, const char *param)
{
	static const char *const fields[] = {"city",	    "country", "line1", "line2",
					     "postal_code", "state",   NULL};
	char path[128];
	json_obj_open(j);
	for (const char *const *f = fields; *f; f++) {
		snprintf(path, sizeof(path), "%s.%s", param, *f);
		const char *v = param_str(r, path);
		json_kv_str_or_null(j, *f, v && *v ? v : NULL);
	}
	json_obj_close(j);
}

int address_from_params(struct req *r, const char *param, const char **ret)
{
	const struct form_node *n = param_node(r, param);
	if (!n)
		return 0;
	if (n->kind == FORM_SCALAR) {
		*ret = NULL;
		return 0;
	}
	struct buf b;
	struct json j;
	buf_init(&b, 64 * 1024);
	json_init(&j, &b);
	address_body(r, &j, param);
	*ret = b.failed ? NULL : arena_strdup(&r->arena, buf_cstr(&b));
	buf_release(&b);
	return 0;
}

const struct param_spec address_params[] = {
    {"city", PT_STRING, PF_EMPTYABLE, 200, NULL, NULL},
    {"country", PT_STRING, PF_EMPTYABLE, 2, NULL, NULL},
    {"line1", PT_STRING, PF_EMPTYABLE, 200, NULL, NULL},
    {"line2", PT_STRING, PF_EMPTYABLE, 200, NULL, NULL},
    {"postal_code", PT_STRING, PF_EMPTYABLE, 20, NULL, NULL},
    {"state", PT_STRING, PF_EMPTYABLE, 200, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
const struct param_spec shipping_params[] = {
    {"address", PT_OBJECT, PF_REQUIRED, 0, NULL, address_params},
    {"name", PT_STRING, PF_REQUIRED, 500, NULL, NULL},
    {"phone", PT_STRING, PF_EMPTYABLE, 50, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
const struct param_spec payment_shipping_params[] = {
    {"address", PT_OBJECT, PF_REQUIRED, 0, NULL, address_params},
    {"name", PT_STRING, PF_REQUIRED, 500, NULL, NULL},
    {"phone", PT_STRING, PF_EMPTYABLE, 50, NULL, NULL},
    {"carrier", PT_STRING, PF_EMPTYABLE, 200, NULL, NULL},
    {"tracking_number", PT_STRING, PF_EMPTYABLE, 200, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};

int shipping_from_params(struct req *r, const char *param, const char **ret)
{
	const struct form_node *n = param_node(r, param);
	if (!n)
		return 0;
	if (n->kind == FORM_SCALAR) {
		*ret = NULL;
		return 0;
	}
	char path[128];
	snprintf(path, sizeof(path), "%s.name", param);
	const char *name = param_str(r, path);
	if (!name || !*name) {
		return req_fail(r, ERR_PARAM_MISSING, "shipping[name]", "%s", "shipping[name]");
	}
	struct buf b;
	struct json j;
	buf_init(&b, 64 * 1024);
	json_init(&j, &b);
	json_obj_open(&j);
	json_key(&j, "address");
	snprintf(path, sizeof(path), "%s.address", param);
	address_body(r, &j, path);
	json_kv_str(&j, "name", name);
	snprintf(path, sizeof(path), "%s.carrier", param);
	const char *carrier = param_str(r, path);
	json_kv_str_or_null(&j, "carrier", carrier && *carrier ? carrier : NULL);
	snprintf(path, sizeof(path), "%s.phone", param);
	const char *phone = param_str(r, path);
	json_kv_str_or_null(&j, "phone", phone && *phone ? phone : NULL);
	snprintf(path, sizeof(path), "%s.tracking_number", param);
	const char *tracking = param_str(r, path);
	json_kv_str_or_null(&j, "tracking_number", tracking && *tracking ? tracking : NULL);
	json_obj_close(&j);
	*ret = b.failed ? NULL : arena_strdup(&r->arena, buf_cstr(&b));
	buf_release(&b);
	return 0;
}

const char *str_update(struct req *r, const char *param, const char *old)
{
	const char *v = param_str(r, param);
	if (!v)
		return old;
	if (!*v)
		return NULL;
	return v;
}

const char *col_text_dup(struct arena *a, struct db_stmt *st, int col)
{
	const char *t = db_col_text(st, col, NULL);
	return t ? arena_strdup(a, t) : NULL;
}

int string_array_json(struct req *r, const char *param, const char **ret)
{
	const struct form_node *n = param_node(r, param);
	if (!n)
		return 0;
	struct buf b;
	struct json j;
	buf_init(&b, 64 * 1024);
	json_init(&j, &b);
	json_arr_open(&j);
	if (n->kind == FORM_SCALAR) {
		if (n->value_len)
			json_str(&j, n->value);
	} else {
		for (const struct form_node *x = n->first_child; x; x = x->next)
			json_str(&j, x->value);
	}
	json_arr_close(&j);
	*ret = b.failed ? NULL : arena_strdup(&r->arena, buf_cstr(&b));
	buf_release(&b);
	return *ret ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

void json_kv_raw_or_null(struct json *j, const char *key, const char *raw)
{
	if (raw)
		json_kv_raw(j, key, raw, strlen(raw));
	else
		json_kv_null(j, key);
}

bool api_version_from(const struct req *r, const char *date)
{
	const char *v = r->stripe_version;
	return v && strncmp(v, date, strlen(date)) >= 0;
}

const char *json_quote(struct req *r, const char *s)
{
	if (!s)
		return "null";
	struct buf b;
	buf_init(&b, 1u << 20);
	buf_putc(&b, '"');
	json_escape(&b, s, strlen(s));
	buf_putc(&b, '"');
	const char *out = b.failed ? "null" : arena_strdup(&r->arena, buf_cstr(&b));
	buf_release(&b);
	return out ? out : "null";
}

int own_id_or_key(struct req *r, const char *path, const char *shown, const char *what,
		  const char *prefix, char id[ID_MAX], char list_key[ID_MAX])
{
	id_new_at(list_key, prefix, r->now);
	const char *own = param_str(r, path);
	if (own && *own) {
		if (!str_is_own_id(own))
			return req_fail(r, ERR_PARAM_BAD, shown,
					"Invalid %s id: use letters, digits, '-' and '_'.", what);
		str_copy(id, ID_MAX, own);
	} else {
		memcpy(id, list_key, ID_MAX);
	}
	return 0;
}

int param_price_or_plan(struct req *r, const char *prefix, const char *shown, const char **ret)
{
	char path[128];
	snprintf(path, sizeof(path), "%s%sprice", prefix, *prefix ? "." : "");
	const char *price = param_str(r, path);
	snprintf(path, sizeof(path), "%s%splan", prefix, *prefix ? "." : "");
	const char *plan = param_str(r, path);
	price = price && *price ? price : NULL;
	plan = plan && *plan ? plan : NULL;
	if (price && plan)
		return req_fail(r, ERR_PARAM_BAD,
				*shown ? arena_printf(&r->arena, "%s[plan]", shown) : "plan",
				"You may only specify one of these parameters: price, plan.");
	*ret = price ? price : plan;
	return 0;
}

int param_currency(struct req *r, const char *path, const char *shown, char out[8])
{
	const char *cur = param_str(r, path);
	memset(out, 0, 8);
	for (int i = 0; cur && cur[i] && i < 7; i++)
		out[i] = (char)(cur[i] >= 'A' && cur[i] <= 'Z' ? cur[i] - 'A' + 'a' : cur[i]);
	if (!cur || strlen(cur) != 3 || !currency_find(out))
		return req_fail(r, ERR_INVALID_CURRENCY, shown ? shown : path,
				"Invalid currency: %s.", cur ? cur : "");
	return 0;
}

int api_event_append(struct req *r, struct db *db, const char *type, const char *id, struct buf *b,
		     const char *prev, const char **ret_js, size_t *ret_len, char ret_ev[ID_MAX])
{
	const char *js = b->failed ? NULL : arena_strndup(&r->arena, b->data, b->len);
	size_t len = b->len;
	buf_release(b);
	if (!js)
		return req_fail(r, ERR_API, NULL, NULL);
	struct event_origin o = {r->request_id[0] ? r->request_id : NULL, r->idempotency_key,
				 r->livemode};
	if (event_append(db, r->merchant_id, &o, type, id, js, len, prev, r->now, ret_ev) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	*ret_js = js;
	*ret_len = len;
	return 0;
}
