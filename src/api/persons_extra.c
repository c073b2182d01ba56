/*
 * What a person (persons.c: the persons API, an account's individual, a person token) is beyond
 * its columns: the names and addresses in kana and kanji (Japan), gender, maiden_name,
 * nationality, political_exposure, registered_address, full_name_aliases, the verification
 * documents' files and the documents[…] files. Few persons have any of them and nothing queries
 * them, so they are one JSON object (persons.extra) rather than fifteen columns. As for the
 * primary identity number, id_number_secondary is never kept: only that it was given.
 */
#include "api/persons.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/files.h"
#include "http/form.h"
#include "store/store.h"

#define ALIASES_MAX 10
#define DOC_FILES_MAX 10

const struct param_spec person_extra_address_params[] = {
    {"city", PT_STRING, PF_EMPTYABLE, 200, NULL, NULL},
    {"country", PT_STRING, PF_EMPTYABLE, 2, NULL, NULL},
    {"line1", PT_STRING, PF_EMPTYABLE, 200, NULL, NULL},
    {"line2", PT_STRING, PF_EMPTYABLE, 200, NULL, NULL},
    {"postal_code", PT_STRING, PF_EMPTYABLE, 20, NULL, NULL},
    {"state", PT_STRING, PF_EMPTYABLE, 200, NULL, NULL},
    {"town", PT_STRING, PF_EMPTYABLE, 200, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec doc_sides[] = {
    {"front", PT_STRING, PF_EMPTYABLE, 500, NULL, NULL},
    {"back", PT_STRING, PF_EMPTYABLE, 500, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
const struct param_spec person_extra_verification_params[] = {
    {"document", PT_OBJECT, 0, 0, NULL, doc_sides},
    {"additional_document", PT_OBJECT, 0, 0, NULL, doc_sides},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec doc_files[] = {
    {"files", PT_STRING_ARRAY, PF_EMPTYABLE, 500, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
const struct param_spec person_extra_documents_params[] = {
    {"company_authorization", PT_OBJECT, 0, 0, NULL, doc_files},
    {"passport", PT_OBJECT, 0, 0, NULL, doc_files},
    {"visa", PT_OBJECT, 0, 0, NULL, doc_files},
    {NULL, 0, 0, 0, NULL, NULL},
};

static const char *const str_keys[] = {"first_name_kana", "first_name_kanji",  "last_name_kana",
				       "last_name_kanji", "maiden_name",       "gender",
				       "nationality",	  "political_exposure"};
static const char *const addr_keys[] = {"registered_address", "address_kana", "address_kanji"};
static const char *const addr_fields[] = {"city",	 "country", "line1", "line2",
					  "postal_code", "state",   "town"};
static const char *const doc_kinds[] = {"company_authorization", "passport", "visa"};

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

static void path_of(char *out, size_t n, const char *prefix, const char *name)
{
	snprintf(out, n, "%s%s%s", prefix, prefix[0] ? "." : "", name);
}

/* a dotted path as Stripe names the parameter: a.b.c → a[b][c] */
static void name_of(char *out, size_t n, const char *path)
{
	size_t dot = strcspn(path, ".");
	int w = snprintf(out, n, "%.*s", (int)dot, path);
	const char *s = path + dot;
	while (*s && w >= 0 && (size_t)w < n) {
		s++;
		size_t len = strcspn(s, ".");
		w += snprintf(out + w, n - (size_t)w, "[%.*s]", (int)len, s);
		s += len;
	}
}

/* json_equal is false when either is absent: two absent members are the same here */
static bool same(json_t *a, json_t *b)
{
	return a == b || (a && b && json_equal(a, b));
}

static json_t *extra_open(const struct person *p)
{
	json_t *x = p->extra ? json_loads(p->extra, 0, NULL) : NULL;
	if (x && !json_is_object(x)) {
		json_decref(x);
		x = NULL;
	}
	return x ? x : json_object();
}

static int bad(struct req *r, const char *path, const char *why)
{
	char name[160];
	name_of(name, sizeof(name), path);
	return req_fail(r, ERR_PARAM_BAD, name, "Invalid %s: %s", name, why);
}

/* a string member: "" removes it */
static int apply_str(struct req *r, json_t *x, const char *path, const char *key)
{
	const char *v = param_str(r, path);
	if (!v)
		return 0;
	if (!*v) {
		json_object_del(x, key);
		return 0;
	}
	char up[3] = {0};
	if (strcmp(key, "gender") == 0 && strcmp(v, "male") != 0 && strcmp(v, "female") != 0)
		return bad(r, path, "male or female.");
	if (strcmp(key, "political_exposure") == 0 && strcmp(v, "existing") != 0 &&
	    strcmp(v, "none") != 0)
		return bad(r, path, "existing or none.");
	if (strcmp(key, "nationality") == 0) {
		/* a two-letter ISO 3166-1 code, or XX when there is none */
		if (strlen(v) != 2 || !((v[0] | 0x20) >= 'a' && (v[0] | 0x20) <= 'z') ||
		    !((v[1] | 0x20) >= 'a' && (v[1] | 0x20) <= 'z'))
			return bad(r, path, "a two-letter country code, or XX.");
		up[0] = (char)(v[0] & ~0x20);
		up[1] = (char)(v[1] & ~0x20);
		v = up;
	}
	return json_object_set_new(x, key, json_string(v)) == 0 ? 0
								: req_fail(r, ERR_API, NULL, NULL);
}

/* an address hash: its fields merge into what is there ("" unsets one); "" unsets all */
static int apply_address(struct req *r, json_t *x, const char *path, const char *key)
{
	if (!param_present(r, path))
		return 0;
	const char *whole = param_str(r, path);
	if (whole) {
		if (*whole)
			return bad(r, path, "an address hash, or \"\" to unset it.");
		json_object_del(x, key);
		return 0;
	}
	json_t *a = json_object_get(x, key);
	if (!json_is_object(a)) {
		a = json_object();
		if (!a || json_object_set_new(x, key, a) != 0)
			return req_fail(r, ERR_API, NULL, NULL);
	}
	for (size_t i = 0; i < N_ELEMS(addr_fields); i++) {
		if (strcmp(key, "registered_address") == 0 && strcmp(addr_fields[i], "town") == 0)
			continue;
		char sub[200];
		snprintf(sub, sizeof(sub), "%s.%s", path, addr_fields[i]);
		const char *v = param_str(r, sub);
		if (!v)
			continue;
		if (!*v)
			json_object_del(a, addr_fields[i]);
		else if (json_object_set_new(a, addr_fields[i], json_string(v)) != 0)
			return req_fail(r, ERR_API, NULL, NULL);
	}
	return 0;
}

/* file ids under node (a string array, or "" for none) into member key of obj */
static int apply_files(struct req *r, json_t *obj, const char *path, const char *key, size_t max)
{
	const struct form_node *n = param_node(r, path);
	if (!n)
		return 0;
	json_t *arr = json_array();
	if (!arr)
		return req_fail(r, ERR_API, NULL, NULL);
	size_t k = 0;
	for (const struct form_node *c = n->kind == FORM_SCALAR ? NULL : n->first_child; c;
	     c = c->next) {
		if (c->kind != FORM_SCALAR || !c->value[0])
			continue;
		if (++k > max) {
			json_decref(arr);
			return bad(r, path, "too many files.");
		}
		json_array_append_new(arr, json_string(c->value));
	}
	if (k == 0) {
		json_decref(arr);
		json_object_del(obj, key);
		return 0;
	}
	return json_object_set_new(obj, key, arr) == 0 ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

static int apply_all(struct req *r, const char *prefix, json_t *x)
{
	char path[160];
	for (size_t i = 0; i < N_ELEMS(str_keys); i++) {
		path_of(path, sizeof(path), prefix, str_keys[i]);
		if (apply_str(r, x, path, str_keys[i]) != 0)
			return -1;
	}
	for (size_t i = 0; i < N_ELEMS(addr_keys); i++) {
		path_of(path, sizeof(path), prefix, addr_keys[i]);
		if (apply_address(r, x, path, addr_keys[i]) != 0)
			return -1;
	}
	path_of(path, sizeof(path), prefix, "full_name_aliases");
	if (param_present(r, path)) {
		const struct form_node *n = param_node(r, path);
		json_t *arr = json_array();
		size_t k = 0;
		for (const struct form_node *c = n->kind == FORM_SCALAR ? NULL : n->first_child;
		     arr && c; c = c->next) {
			if (c->kind != FORM_SCALAR || !c->value[0])
				continue;
			if (++k > ALIASES_MAX) {
				json_decref(arr);
				return bad(r, path, "at most 10 aliases.");
			}
			json_array_append_new(arr, json_string(c->value));
		}
		if (!arr || json_object_set_new(x, "full_name_aliases", arr) != 0)
			return req_fail(r, ERR_API, NULL, NULL);
	}
	/* the secondary id number: only that it was given (the number is not kept) */
	path_of(path, sizeof(path), prefix, "id_number_secondary");
	const char *sec = param_str(r, path);
	if (sec && *sec && json_object_set_new(x, "id_number_secondary_provided", json_true()) != 0)
		return req_fail(r, ERR_API, NULL, NULL);
	static const char *const docs[] = {"document", "additional_document"};
	for (size_t i = 0; i < N_ELEMS(docs); i++) {
		for (int side = 0; side < 2; side++) {
			const char *s = side ? "back" : "front";
			path_of(path, sizeof(path), prefix, "verification");
			char sub[200];
			snprintf(sub, sizeof(sub), "%s.%s.%s", path, docs[i], s);
			const char *v = param_str(r, sub);
			if (!v)
				continue;
			json_t *ver = json_object_get(x, "verification");
			if (!json_is_object(ver)) {
				ver = json_object();
				if (!ver || json_object_set_new(x, "verification", ver) != 0)
					return req_fail(r, ERR_API, NULL, NULL);
			}
			json_t *d = json_object_get(ver, docs[i]);
			if (!json_is_object(d)) {
				d = json_object();
				if (!d || json_object_set_new(ver, docs[i], d) != 0)
					return req_fail(r, ERR_API, NULL, NULL);
			}
			if (!*v)
				json_object_del(d, s);
			else if (json_object_set_new(d, s, json_string(v)) != 0)
				return req_fail(r, ERR_API, NULL, NULL);
		}
	}
	for (size_t i = 0; i < N_ELEMS(doc_kinds); i++) {
		path_of(path, sizeof(path), prefix, "documents");
		char sub[200];
		snprintf(sub, sizeof(sub), "%s.%s.files", path, doc_kinds[i]);
		if (!param_present(r, sub))
			continue;
		json_t *docs_o = json_object_get(x, "documents");
		if (!json_is_object(docs_o)) {
			docs_o = json_object();
			if (!docs_o || json_object_set_new(x, "documents", docs_o) != 0)
				return req_fail(r, ERR_API, NULL, NULL);
		}
		if (apply_files(r, docs_o, sub, doc_kinds[i], DOC_FILES_MAX) != 0)
			return -1;
	}
	return 0;
}

int person_extra_apply(struct req *r, const char *prefix, struct person *p)
{
	static const char *const all[] = {
	    "first_name_kana",	   "first_name_kanji", "last_name_kana", "last_name_kanji",
	    "maiden_name",	   "gender",	       "nationality",	 "political_exposure",
	    "registered_address",  "address_kana",     "address_kanji",	 "full_name_aliases",
	    "id_number_secondary", "verification",     "documents"};
	char path[160];
	bool any = false;
	for (size_t i = 0; i < N_ELEMS(all) && !any; i++) {
		path_of(path, sizeof(path), prefix, all[i]);
		any = param_present(r, path);
	}
	if (!any)
		return 0; /* most requests: no JSON work */
	json_t *x = extra_open(p);
	if (!x)
		return req_fail(r, ERR_API, NULL, NULL);
	if (apply_all(r, prefix, x) != 0) {
		json_decref(x);
		return -1;
	}
	char *s = json_dumps(x, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(x);
	p->extra = s ? arena_strdup(&r->arena, s) : NULL;
	free(s);
	return p->extra ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

/* A file named under member key of obj must be one of owner's (or the caller's, when they
 * differ: a platform's upload for its account) with that purpose. */
static int file_ok(struct req *r, struct db *db, const char *owner, const char *id,
		   const char *purpose, const char *param)
{
	int rc = file_check_purpose(db, owner, id, purpose);
	if (rc == DB_NOTFOUND && strcmp(owner, r->merchant_id) != 0)
		rc = file_check_purpose(db, r->merchant_id, id, purpose);
	if (rc == DB_NOTFOUND)
		return req_fail(r, ERR_PARAM_BAD, param,
				"No such file upload: '%s' (a file of purpose %s is needed here).",
				id, purpose);
	return rc == DB_OK ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

int person_extra_files_check(struct req *r, struct db *db, const char *prefix,
			     const struct person *p)
{
	if (!p->extra || strstr(p->extra, "file_") == NULL)
		return 0;
	json_t *x = extra_open(p);
	if (!x)
		return req_fail(r, ERR_API, NULL, NULL);
	int rc = 0;
	char path[200], name[200];
	static const char *const docs[] = {"document", "additional_document"};
	json_t *ver = json_object_get(x, "verification");
	for (size_t i = 0; rc == 0 && i < N_ELEMS(docs); i++) {
		for (int side = 0; rc == 0 && side < 2; side++) {
			const char *s = side ? "back" : "front";
			const char *id =
			    json_string_value(json_object_get(json_object_get(ver, docs[i]), s));
			if (!id)
				continue;
			snprintf(path, sizeof(path), "%s%sverification.%s.%s", prefix,
				 prefix[0] ? "." : "", docs[i], s);
			name_of(name, sizeof(name), path);
			/* Stripe's purposes: an identity document, or additional verification */
			rc =
			    file_ok(r, db, p->account, id,
				    i == 0 ? "identity_document" : "additional_verification", name);
		}
	}
	json_t *dd = json_object_get(x, "documents");
	for (size_t i = 0; rc == 0 && i < N_ELEMS(doc_kinds); i++) {
		json_t *arr = json_object_get(dd, doc_kinds[i]), *v;
		size_t k;
		json_array_foreach(arr, k, v)
		{
			if (rc != 0 || !json_is_string(v))
				continue;
			snprintf(path, sizeof(path), "%s%sdocuments.%s.files", prefix,
				 prefix[0] ? "." : "", doc_kinds[i]);
			name_of(name, sizeof(name), path);
			rc = file_ok(r, db, p->account, json_string_value(v), "account_requirement",
				     name);
		}
	}
	json_decref(x);
	return rc;
}

static void render_str(struct json *j, json_t *x, const char *key)
{
	const char *v = json_string_value(json_object_get(x, key));
	if (v)
		json_kv_str(j, key, v);
	else
		json_kv_null(j, key);
}

static void render_addr(struct json *j, json_t *x, const char *key)
{
	json_t *a = json_object_get(x, key);
	/* the spec's registered_address is an address whose fields may be null, never null */
	if (!json_is_object(a) && strcmp(key, "registered_address") != 0) {
		json_kv_null(j, key);
		return;
	}
	json_key(j, key);
	json_obj_open(j);
	for (size_t i = 0; i < N_ELEMS(addr_fields); i++) {
		if (strcmp(key, "registered_address") == 0 && strcmp(addr_fields[i], "town") == 0)
			continue;
		render_str(j, a, addr_fields[i]);
	}
	json_obj_close(j);
}

static void render_aliases(struct json *j, json_t *x)
{
	json_key(j, "full_name_aliases");
	json_arr_open(j);
	json_t *arr = json_object_get(x, "full_name_aliases"), *v;
	size_t k;
	json_array_foreach(arr, k, v)
	{
		if (json_is_string(v))
			json_str(j, json_string_value(v));
	}
	json_arr_close(j);
}

static void render_documents(struct json *j, json_t *x)
{
	json_t *ver = json_object_get(x, "verification");
	static const char *const docs[] = {"additional_document", "document"};
	for (size_t i = 0; i < N_ELEMS(docs); i++) {
		json_t *d = json_object_get(ver, docs[i]);
		json_key(j, docs[i]);
		json_obj_open(j);
		render_str(j, d, "back");
		json_kv_null(j, "details");
		json_kv_null(j, "details_code");
		render_str(j, d, "front");
		json_obj_close(j);
	}
}

void person_extra_render(struct json *j, const struct person *p)
{
	json_t *x = extra_open(p);
	for (size_t i = 0; i < N_ELEMS(str_keys); i++) {
		if (strcmp(str_keys[i], "political_exposure") == 0) {
			/* Stripe's default: none declared */
			const char *v = json_string_value(json_object_get(x, str_keys[i]));
			json_kv_str(j, str_keys[i], v ? v : "none");
		} else {
			render_str(j, x, str_keys[i]);
		}
	}
	for (size_t i = 0; i < N_ELEMS(addr_keys); i++)
		render_addr(j, x, addr_keys[i]);
	render_aliases(j, x);
	json_kv_bool(j, "id_number_secondary_provided",
		     json_is_true(json_object_get(x, "id_number_secondary_provided")));
	json_decref(x);
}

void person_extra_render_documents(struct json *j, const struct person *p)
{
	json_t *x = extra_open(p);
	render_documents(j, x);
	json_decref(x);
}

void person_extra_previous(struct json *j, const struct person *o, const struct person *n)
{
	if ((o->extra ? o->extra : "{}") == (n->extra ? n->extra : "{}") ||
	    strcmp(o->extra ? o->extra : "{}", n->extra ? n->extra : "{}") == 0)
		return;
	json_t *ox = extra_open(o), *nx = extra_open(n);
	for (size_t i = 0; i < N_ELEMS(str_keys); i++)
		if (!same(json_object_get(ox, str_keys[i]), json_object_get(nx, str_keys[i])))
			render_str(j, ox, str_keys[i]);
	for (size_t i = 0; i < N_ELEMS(addr_keys); i++)
		if (!same(json_object_get(ox, addr_keys[i]), json_object_get(nx, addr_keys[i])))
			render_addr(j, ox, addr_keys[i]);
	if (!same(json_object_get(ox, "full_name_aliases"),
		  json_object_get(nx, "full_name_aliases")))
		render_aliases(j, ox);
	if (!same(json_object_get(ox, "id_number_secondary_provided"),
		  json_object_get(nx, "id_number_secondary_provided")))
		json_kv_bool(j, "id_number_secondary_provided",
			     json_is_true(json_object_get(ox, "id_number_secondary_provided")));
	if (!same(json_object_get(ox, "verification"), json_object_get(nx, "verification"))) {
		json_key(j, "verification");
		json_obj_open(j);
		render_documents(j, ox);
		json_obj_close(j);
	}
	json_decref(ox);
	json_decref(nx);
}
