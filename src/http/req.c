#include "http/req.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "app.h"
#include "core/log.h"
#include "core/str.h"
#include "http/form.h"
#include "http/idempotency.h"
#include "http/router.h"

/* The bounds a served request's buffers have (server.c) */
#define INTERNAL_ARENA_MAX (8u << 20)
#define INTERNAL_OUT_MAX (16u << 20)

void req_internal_init(struct req *r, struct app *app, const char *merchant_id, int64_t now,
		       const char *host)
{
	memset(r, 0, sizeof(*r));
	r->app = app;
	arena_init(&r->arena, INTERNAL_ARENA_MAX);
	buf_init(&r->out, INTERNAL_OUT_MAX);
	buf_init(&r->err.extra, 1u << 20);
	r->method = "POST";
	r->path = "";
	r->host = host;
	str_copy(r->merchant_id, sizeof(r->merchant_id), merchant_id);
	r->now = now;
	r->status = 200;
}

void req_internal_release(struct req *r)
{
	arena_wipe_release(&r->arena);
	buf_release(&r->out);
	buf_release(&r->err.extra);
}

const char *req_url_base(struct req *r)
{
	if (r->app && r->app->cfg.public_url && *r->app->cfg.public_url)
		return r->app->cfg.public_url;
	/* a request's own Host header: the address its client reached this node by */
	if (r->host && *r->host) {
		const char *u = arena_printf(&r->arena, "http://%s", r->host);
		if (u)
			return u;
	}
	return app_url_base(r->app);
}

static bool host_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '-';
}

static bool path_char(char c)
{
	return host_char(c) || c == '/' || c == '_' || c == '~';
}

int url_base_parse(const char *in, char *out, size_t outlen)
{
	size_t n = strlen(in);
	while (n > 0 && in[n - 1] == '/')
		n--;
	if (n + 1 > outlen)
		return -1;
	size_t i;
	if (strncmp(in, "https://", 8) == 0)
		i = 8;
	else if (strncmp(in, "http://", 7) == 0)
		i = 7;
	else
		return -1;
	size_t host = i;
	if (i < n && in[i] == '[') { /* an IPv6 literal */
		while (i < n && in[i] != ']' &&
		       ((in[i] >= '0' && in[i] <= '9') || (in[i] >= 'a' && in[i] <= 'f') ||
			(in[i] >= 'A' && in[i] <= 'F') || in[i] == ':' || in[i] == '[' ||
			in[i] == '.'))
			i++;
		if (i >= n || in[i] != ']' || i == host + 1)
			return -1;
		i++;
	} else {
		while (i < n && host_char(in[i]))
			i++;
		if (i == host)
			return -1;
	}
	if (i < n && in[i] == ':') {
		size_t p = ++i;
		while (i < n && in[i] >= '0' && in[i] <= '9')
			i++;
		if (i == p || i - p > 5)
			return -1;
	}
	if (i < n && in[i] != '/')
		return -1;
	for (; i < n; i++)
		if (!path_char(in[i]))
			return -1;
	memcpy(out, in, n);
	out[n] = '\0';
	return 0;
}

int req_fail(struct req *r, enum api_err code, const char *param, const char *fmt, ...)
{
	r->err.set = true;
	r->err.code = code;
	str_copy(r->err.param, sizeof(r->err.param), param ? param : "");
	r->err.detail[0] = '\0';
	if (fmt) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(r->err.detail, sizeof(r->err.detail), fmt, ap);
		va_end(ap);
	}
	return -1;
}

int req_fail_missing(struct req *r, const char *object_name, const char *id, const char *param)
{
	return req_fail(r, ERR_RESOURCE_MISSING, param ? param : "id", "No such %s: '%s'",
			object_name, id);
}

int req_scope_customer(struct req *r, const char *customer, const char *object_name, const char *id,
		       const char *param)
{
	if (!r->scope_customer[0] || (customer && strcmp(customer, r->scope_customer) == 0))
		return 0;
	return req_fail_missing(r, object_name, id, param);
}

int req_param_set(struct req *r, const char *key, const char *value)
{
	struct form_node *root = arena_zalloc(&r->arena, sizeof(*root));
	struct form_node *n = arena_zalloc(&r->arena, sizeof(*n));
	char *k = arena_strdup(&r->arena, key), *v = arena_strdup(&r->arena, value);
	if (!root || !n || !k || !v)
		return req_fail(r, ERR_API, NULL, NULL);
	/* a new root sharing the old children: the parsed tree itself is never written */
	if (r->params)
		*root = *r->params;
	else
		root->kind = FORM_OBJECT;
	root->key = root->key ? root->key : "";
	n->key = k;
	n->key_len = strlen(k);
	n->kind = FORM_SCALAR;
	n->value = v;
	n->value_len = strlen(v);
	n->next = root->first_child;
	root->first_child = n;
	if (!root->last_child)
		root->last_child = n;
	root->child_count++;
	r->params = root;
	return 0;
}

int req_params_graft(struct req *r, const struct form_node *tree)
{
	struct form_node *root = arena_zalloc(&r->arena, sizeof(*root));
	if (!root)
		return req_fail(r, ERR_API, NULL, NULL);
	if (r->params)
		*root = *r->params;
	else
		root->kind = FORM_OBJECT;
	root->key = root->key ? root->key : "";
	for (const struct form_node *c = tree ? tree->first_child : NULL; c; c = c->next) {
		/* a copy, so the old children's list and the tree's stay as they were */
		struct form_node *n = arena_zalloc(&r->arena, sizeof(*n));
		if (!n)
			return req_fail(r, ERR_API, NULL, NULL);
		*n = *c;
		n->next = root->first_child;
		root->first_child = n;
		if (!root->last_child)
			root->last_child = n;
		root->child_count++;
	}
	r->params = root;
	return 0;
}

int req_param_alias(struct req *r, const char *from, const char *to)
{
	const struct form_node *n = param_node(r, from);
	struct form_node *root = arena_zalloc(&r->arena, sizeof(*root));
	struct form_node *copy = arena_zalloc(&r->arena, sizeof(*copy));
	char *key = arena_strdup(&r->arena, to);
	if (!n || !root || !copy || !key)
		return req_fail(r, ERR_API, NULL, NULL);
	*copy = *n;
	copy->key = key;
	copy->key_len = strlen(key);
	copy->next = NULL;
	root->kind = FORM_OBJECT;
	root->key = "";
	root->first_child = root->last_child = copy;
	root->child_count = 1;
	return req_params_graft(r, root);
}

struct json *req_json(struct req *r)
{
	buf_reset(&r->out);
	r->status = 200;
	json_init(&r->j, &r->out);
	return &r->j;
}

int req_answer_event(struct req *r, const char *event_id, const char *json, size_t len)
{
	req_json(r);
	buf_append(&r->out, json, len);
	if (r->out.failed)
		return req_fail(r, ERR_API, NULL, NULL);
	str_copy(r->answer_event, sizeof(r->answer_event), event_id);
	r->answer_json = json;
	r->answer_len = len;
	return 0;
}

/* The table's message with its one %s replaced by detail. */
static void render_message(struct buf *b, const char *tmpl, const char *detail)
{
	const char *p = strstr(tmpl, "%s");
	if (!p) {
		buf_puts(b, tmpl);
		return;
	}
	buf_append(b, tmpl, (size_t)(p - tmpl));
	buf_puts(b, detail);
	buf_puts(b, p + 2);
}

const char *req_error_message(struct req *r)
{
	struct buf msg;
	buf_init(&msg, sizeof(r->err.detail) + 1024);
	render_message(&msg, api_error_info(r->err.code)->message, r->err.detail);
	const char *s = msg.failed ? NULL : arena_strdup(&r->arena, buf_cstr(&msg));
	buf_release(&msg);
	return s ? s : "An unexpected error occurred.";
}

/* r->err's members up to its message and param (the error hash's own, in key order). */
static void error_members(struct req *r, const struct api_error_info *info, struct json *j)
{
	if (r->err.charge_id[0])
		json_kv_str(j, "charge", r->err.charge_id);
	if (info->code[0]) {
		json_kv_str(j, "code", info->code);
		if (r->err.decline_code[0])
			json_kv_str(j, "decline_code", r->err.decline_code);
		char url[160];
		snprintf(url, sizeof(url), "https://stripe.com/docs/error-codes/%s", info->code);
		json_kv_str(j, "doc_url", url);
	} else if (r->err.decline_code[0]) {
		json_kv_str(j, "decline_code", r->err.decline_code);
	}
	struct buf msg;
	buf_init(&msg, sizeof(r->err.detail) + 1024);
	render_message(&msg, info->message, r->err.detail);
	json_kv_str(j, "message", buf_cstr(&msg));
	buf_release(&msg);
	if (r->err.param[0])
		json_kv_str(j, "param", r->err.param);
}

void req_render_error(struct req *r)
{
	const struct api_error_info *info = api_error_info(r->err.code);
	struct json *j = req_json(r);
	r->status = info->status;
	json_obj_open(j);
	json_key(j, "error");
	json_obj_open(j);
	error_members(r, info, j);
	if (r->err.extra.len) {
		/* pre-rendered members ("payment_intent":{…}); the writer stays in sync */
		buf_putc(&r->out, ',');
		buf_append(&r->out, r->err.extra.data, r->err.extra.len);
		j->first[j->depth] = false;
	}
	json_kv_str(j, "type", info->type);
	json_obj_close(j);
	json_obj_close(j);
}

void req_error_hash(struct req *r, struct json *j)
{
	const struct api_error_info *info = api_error_info(r->err.code);
	json_obj_open(j);
	error_members(r, info, j);
	json_kv_str(j, "type", info->type);
	json_obj_close(j);
}

bool req_expand_has(const struct req *r, const char *field)
{
	const struct form_node *n = r->params ? form_get(r->params, "expand") : NULL;
	if (!n)
		return false;
	size_t fl = strlen(field);
	const struct form_node *single = n->kind == FORM_SCALAR ? n : NULL;
	for (const struct form_node *c = single ? single : n->first_child; c;
	     c = single ? NULL : c->next) {
		if (c->kind != FORM_SCALAR)
			continue;
		if (strncmp(c->value, field, fl) == 0 &&
		    (c->value[fl] == '\0' || c->value[fl] == '.'))
			return true;
	}
	return false;
}

struct write_wrap {
	struct req *r;
	store_fn fn;
	void *ctx;
	int inner_rc;
	int conflict;
};

static int write_wrap_fn(struct db *db, void *p)
{
	struct write_wrap *w = p;
	struct req *r = w->r;
	w->conflict = 0;
	r->err.set = false;
	r->answer_event[0] = '\0'; /* an event of a rolled-back attempt is gone */
	buf_reset(&r->err.extra);
	req_json(r);
	int rc = w->fn(db, w->ctx);
	w->inner_rc = rc;
	if (rc < 0)
		return rc;
	if (rc == REQ_COMMIT_ERR)
		req_render_error(r);
	if (r->out.failed) {
		w->inner_rc = req_fail(r, ERR_API, NULL, NULL);
		return -1;
	}
	if (r->idempotency_key) {
		int s = idem_save(db, r);
		if (s == 1) {
			w->conflict = 1;
			return -1;
		}
		if (s < 0) {
			w->inner_rc = req_fail(r, ERR_API, NULL, NULL);
			return -1;
		}
	}
	return 0;
}

static int store_failure(struct req *r, int rc)
{
	if (rc == STORE_OVERLOADED)
		return req_fail(r, ERR_OVERLOADED, NULL, NULL);
	return req_fail(r, ERR_API, NULL, NULL);
}

int req_write(struct req *r, store_fn fn, void *ctx)
{
	struct write_wrap w = {.r = r, .fn = fn, .ctx = ctx};
	int rc = store_write(r->app->store, r->merchant_id, write_wrap_fn, &w);
	if (w.conflict) {
		/* another node committed this key first: answer with its result */
		int l = idem_lookup(r);
		if (l == 1)
			return 0;
		if (l < 0)
			return -1;
		return req_fail(r, ERR_API, NULL, NULL);
	}
	if (rc == STORE_COMMIT_FAILED || rc == STORE_OVERLOADED)
		return store_failure(r, rc);
	if (w.inner_rc < 0) {
		if (!r->err.set)
			req_fail(r, ERR_API, NULL, NULL);
		return -1;
	}
	return 0;
}

int req_read(struct req *r, store_fn fn, void *ctx)
{
	int rc = store_read(r->app->store, r->merchant_id, fn, ctx);
	if (rc == STORE_COMMIT_FAILED || rc == STORE_OVERLOADED)
		return store_failure(r, rc);
	return rc;
}
