#include "http/params.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/form.h"
#include "http/req.h"
#include "http/router.h"

#define PARAM_PATH_MAX 128
#define STRING_MAX_DEFAULT 5000
#define METADATA_KEYS_MAX 50
#define METADATA_KEY_MAX 40
#define METADATA_VALUE_MAX 500

static const struct param_spec range_children[] = {
    {"gt", PT_INT, 0, 0, NULL, NULL}, {"gte", PT_INT, 0, 0, NULL, NULL},
    {"lt", PT_INT, 0, 0, NULL, NULL}, {"lte", PT_INT, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};

const struct param_spec params_list_common[] = {
    {"limit", PT_INT, 0, 0, NULL, NULL},
    {"starting_after", PT_STRING, 0, 255, NULL, NULL},
    {"ending_before", PT_STRING, 0, 255, NULL, NULL},
    {"created", PT_RANGE, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};

/* A value may be echoed in an error only when it cannot be a card number: it is short and has no
 * run of 12 or more digits (spaces and dashes inside the run ignored). */
static const char *safe_echo(const char *v)
{
	size_t run = 0;
	if (strlen(v) > 64)
		return "(value omitted)";
	for (const char *p = v; *p; p++) {
		if (*p >= '0' && *p <= '9') {
			if (++run >= 12)
				return "(value omitted)";
		} else if (*p != ' ' && *p != '-') {
			run = 0;
		}
	}
	return v;
}

/* Appends s to out[*o] within n bytes (room kept for the terminator). */
static void path_put(char *out, size_t n, size_t *o, const char *s)
{
	while (*s && *o + 1 < n)
		out[(*o)++] = *s++;
}

/* prefix[key], or key without a prefix. Made for every parameter checked (no snprintf: a
 * confirm checks a dozen); a path longer than the buffer is cut, as it only ever names a
 * parameter in an error. */
static void path_join(char *out, size_t n, const char *prefix, const char *key)
{
	size_t o = 0;
	if (prefix && *prefix) {
		path_put(out, n, &o, prefix);
		path_put(out, n, &o, "[");
		path_put(out, n, &o, key);
		path_put(out, n, &o, "]");
	} else {
		path_put(out, n, &o, key);
	}
	out[o] = '\0';
}

static const struct param_spec *spec_find(const struct param_spec *spec, const char *key)
{
	for (; spec && spec->name; spec++)
		if (strcmp(spec->name, key) == 0)
			return spec;
	return NULL;
}

static int fail_empty(struct req *r, const char *path)
{
	return req_fail(r, ERR_PARAM_INVALID, path,
			"You passed an empty string for '%s'. We assume empty values are an "
			"attempt to unset a parameter; however '%s' cannot be unset. You should "
			"remove '%s' from your request or supply a non-empty value.",
			path, path, path);
}

static int check_scalar(struct req *r, const struct form_node *n, const char *path)
{
	if (n->kind != FORM_SCALAR)
		return req_fail(r, ERR_PARAM_BAD, path,
				"Invalid %s: expected a single value, not a hash or array.", path);
	return 0;
}

static int check_int(struct req *r, const struct form_node *n, const char *path)
{
	if (check_scalar(r, n, path))
		return -1;
	int64_t v;
	if (parse_i64(n->value, &v) != 0)
		return req_fail(r, ERR_PARAM_INVALID_INTEGER, path, "%s", safe_echo(n->value));
	return 0;
}

static int check_metadata(struct req *r, const struct form_node *n, const char *path)
{
	if (n->kind == FORM_SCALAR) {
		if (n->value_len == 0)
			return 0; /* metadata= clears every key */
		return req_fail(r, ERR_METADATA, path,
				"Invalid metadata: metadata must be a set of key-value pairs.");
	}
	if (n->child_count > METADATA_KEYS_MAX)
		return req_fail(
		    r, ERR_METADATA, path,
		    "Invalid metadata: You can specify up to %d keys, with key names up "
		    "to %d characters long and values up to %d characters long.",
		    METADATA_KEYS_MAX, METADATA_KEY_MAX, METADATA_VALUE_MAX);
	for (const struct form_node *c = n->first_child; c; c = c->next) {
		char sub[PARAM_PATH_MAX];
		path_join(sub, sizeof(sub), path, c->key);
		if (c->kind != FORM_SCALAR)
			return req_fail(
			    r, ERR_METADATA, sub,
			    "Invalid metadata: values must be strings, not hashes or arrays.");
		if (c->key_len == 0 || c->key_len > METADATA_KEY_MAX)
			return req_fail(r, ERR_METADATA, sub,
					"Metadata keys must be between 1 and %d characters long.",
					METADATA_KEY_MAX);
		if (c->value_len > METADATA_VALUE_MAX)
			return req_fail(r, ERR_METADATA, sub,
					"Metadata values can have up to %d characters.",
					METADATA_VALUE_MAX);
	}
	return 0;
}

static int check_array(struct req *r, const struct form_node *n, const char *path)
{
	if (n->kind == FORM_SCALAR)
		return 0; /* a lone value is an array of one, as curl users write it */
	if (n->kind != FORM_ARRAY)
		return req_fail(r, ERR_PARAM_BAD, path, "Invalid array: %s must be an array.",
				path);
	for (const struct form_node *c = n->first_child; c; c = c->next) {
		char sub[PARAM_PATH_MAX];
		path_join(sub, sizeof(sub), path, c->key);
		if (c->kind != FORM_SCALAR)
			return req_fail(r, ERR_PARAM_BAD, sub,
					"Invalid array: %s must be an array of strings.", path);
	}
	return 0;
}

static int validate_object(struct req *r, const struct form_node *obj,
			   const struct param_spec *spec, const char *prefix, int top);

static int check_one(struct req *r, const struct form_node *n, const struct param_spec *sp,
		     const char *path)
{
	bool empty = n->kind == FORM_SCALAR && n->value_len == 0;
	if (empty && sp->type != PT_METADATA) {
		if (sp->flags & PF_EMPTYABLE)
			return 0;
		return fail_empty(r, path);
	}
	switch (sp->type) {
	case PT_STRING:
	case PT_CURRENCY: {
		if (check_scalar(r, n, path))
			return -1;
		size_t max = sp->max_len ? sp->max_len : STRING_MAX_DEFAULT;
		if (sp->type == PT_CURRENCY)
			max = 3;
		if (n->value_len > max)
			return req_fail(r, ERR_PARAM_BAD, path,
					"Invalid %s: must be at most %zu characters", path, max);
		return 0;
	}
	case PT_INT:
		return check_int(r, n, path);
	case PT_BOOL:
		if (check_scalar(r, n, path))
			return -1;
		/* any case: stripe-python before v7 sends Python's str(True), "True", and
		 * Stripe accepts it */
		if (strcasecmp(n->value, "true") != 0 && strcasecmp(n->value, "false") != 0)
			return req_fail(r, ERR_PARAM_INVALID_BOOL, path, "%s", safe_echo(n->value));
		return 0;
	case PT_ENUM: {
		if (check_scalar(r, n, path))
			return -1;
		for (const char *const *e = sp->enum_values; e && *e; e++)
			if (strcmp(*e, n->value) == 0)
				return 0;
		char opts[512] = "";
		size_t off = 0;
		for (const char *const *e = sp->enum_values; e && *e; e++) {
			int w =
			    snprintf(opts + off, sizeof(opts) - off, "%s%s", off ? ", " : "", *e);
			if (w < 0 || (size_t)w >= sizeof(opts) - off)
				break;
			off += (size_t)w;
		}
		return req_fail(r, ERR_PARAM_INVALID_ENUM, path, "Invalid %s: must be one of %s",
				path, opts);
	}
	case PT_METADATA:
		return check_metadata(r, n, path);
	case PT_EXPAND:
	case PT_STRING_ARRAY:
		return check_array(r, n, path);
	case PT_OBJECT:
		if (n->kind == FORM_SCALAR && (sp->flags & PF_SCALAR_OK)) {
			size_t max = sp->max_len ? sp->max_len : STRING_MAX_DEFAULT;
			if (n->value_len > max)
				return req_fail(r, ERR_PARAM_BAD, path,
						"Invalid %s: must be at most %zu characters", path,
						max);
			return 0;
		}
		if (n->kind == FORM_SCALAR)
			return req_fail(r, ERR_PARAM_BAD, path,
					"Invalid object: %s must be a hash of parameters.", path);
		return validate_object(r, n, sp->children, path, 0);
	case PT_RANGE:
		if (n->kind == FORM_SCALAR)
			return check_int(r, n, path);
		return validate_object(r, n, range_children, path, 0);
	case PT_OBJECT_ARRAY: {
		if (n->kind != FORM_ARRAY)
			return req_fail(r, ERR_PARAM_BAD, path,
					"Invalid array: %s must be an array of hashes (%s[0][…]).",
					path, path);
		size_t max = sp->max_len ? sp->max_len : 20;
		if (n->child_count > max)
			return req_fail(r, ERR_PARAM_BAD, path, "Invalid %s: at most %zu items.",
					path, max);
		for (const struct form_node *c = n->first_child; c; c = c->next) {
			char sub[PARAM_PATH_MAX];
			path_join(sub, sizeof(sub), path, c->key);
			if (c->kind != FORM_OBJECT)
				return req_fail(r, ERR_PARAM_BAD, sub,
						"Invalid object: %s must be a hash of parameters.",
						sub);
			if (validate_object(r, c, sp->children, sub, 0) != 0)
				return -1;
		}
		return 0;
	}
	case PT_OBJECT_MAP: {
		if (n->kind == FORM_SCALAR)
			return req_fail(r, ERR_PARAM_BAD, path,
					"Invalid object: %s must be a hash of parameters.", path);
		size_t max = sp->max_len ? sp->max_len : 20;
		if (n->child_count > max)
			return req_fail(r, ERR_PARAM_BAD, path, "Invalid %s: at most %zu keys.",
					path, max);
		for (const struct form_node *c = n->first_child; c; c = c->next) {
			char sub[PARAM_PATH_MAX];
			path_join(sub, sizeof(sub), path, c->key);
			if (c->kind == FORM_SCALAR)
				return req_fail(r, ERR_PARAM_BAD, sub,
						"Invalid object: %s must be a hash of parameters.",
						sub);
			if (validate_object(r, c, sp->children, sub, 0) != 0)
				return -1;
		}
		return 0;
	}
	case PT_HASH:
		if (n->kind == FORM_SCALAR)
			return req_fail(r, ERR_PARAM_BAD, path,
					"Invalid object: %s must be a hash of parameters.", path);
		for (const struct form_node *c = n->first_child; c; c = c->next) {
			char sub[PARAM_PATH_MAX];
			path_join(sub, sizeof(sub), path, c->key);
			if (c->kind != FORM_SCALAR)
				return req_fail(r, ERR_PARAM_BAD, sub, "Invalid value for %s.",
						sub);
		}
		return 0;
	}
	return 0;
}

static const struct param_spec expand_spec = {"expand", PT_EXPAND, 0, 0, NULL, NULL};

static int validate_object(struct req *r, const struct form_node *obj,
			   const struct param_spec *spec, const char *prefix, int top)
{
	/* unknown parameters first: a typo should be reported as a typo */
	for (const struct form_node *c = obj->first_child; c; c = c->next) {
		char path[PARAM_PATH_MAX];
		path_join(path, sizeof(path), prefix, c->key);
		const struct param_spec *sp = spec_find(spec, c->key);
		if (!sp && top && r->route && (r->route->flags & ROUTE_LIST))
			sp = spec_find(params_list_common, c->key);
		if (!sp && strcmp(c->key, "expand") == 0)
			sp = &expand_spec;
		if (!sp)
			return req_fail(r, ERR_PARAM_UNKNOWN, path, "%s", path);
		if (check_one(r, c, sp, path))
			return -1;
	}
	for (const struct param_spec *sp = spec; sp && sp->name; sp++) {
		if (!(sp->flags & PF_REQUIRED))
			continue;
		if (!form_get(obj, sp->name)) {
			char path[PARAM_PATH_MAX];
			path_join(path, sizeof(path), prefix, sp->name);
			return req_fail(r, ERR_PARAM_MISSING, path, "%s", path);
		}
	}
	return 0;
}

int params_validate(struct req *r, const struct param_spec *spec)
{
	if (!r->params)
		return 0;
	return validate_object(r, r->params, spec, "", 1);
}

const struct form_node *param_node(const struct req *r, const char *path)
{
	const struct form_node *n = r->params;
	char seg[128];
	const char *p = path;
	while (n && *p) {
		const char *dot = strchr(p, '.');
		size_t len = dot ? (size_t)(dot - p) : strlen(p);
		if (len >= sizeof(seg))
			return NULL;
		memcpy(seg, p, len);
		seg[len] = '\0';
		if (n->kind == FORM_SCALAR)
			return NULL;
		n = form_get(n, seg);
		p = dot ? dot + 1 : p + len;
	}
	return n;
}

bool param_present(const struct req *r, const char *path)
{
	return param_node(r, path) != NULL;
}

const char *param_str(const struct req *r, const char *path)
{
	const struct form_node *n = param_node(r, path);
	if (!n || n->kind != FORM_SCALAR)
		return NULL;
	return n->value;
}

int param_int(const struct req *r, const char *path, int64_t *ret)
{
	const char *s = param_str(r, path);
	if (!s || !*s)
		return 0;
	return parse_i64(s, ret) == 0 ? 1 : 0;
}

int param_bool(const struct req *r, const char *path, bool *ret)
{
	const char *s = param_str(r, path);
	if (!s || !*s)
		return 0;
	*ret = strcasecmp(s, "true") == 0;
	return 1;
}
