/*
 * /v1/customers/{customer}/tax_ids: create (type + value), retrieve, delete, list; tax_id_data on
 * customer create; a customer's includable `tax_ids`. Events customer.tax_id.created and
 * customer.tax_id.deleted.
 *
 * A value is checked against its type's format when it is added (Stripe's tax_id_invalid
 * "Invalid value for eu_vat."), and the country the id implies is kept: for eu_vat the member
 * state its prefix names (EL is Greece, XI Northern Ireland), else the type's own. Stripe
 * verifies some types with the tax authority asynchronously; Tender answers with the verdict
 * Stripe's test mode gives (tax_id_verification_status) at once, so verification never changes
 * afterwards and customer.tax_id.updated is never sent. Stripe's top-level /v1/tax_ids (tax ids
 * of the account itself) is not in the API version Tender follows.
 *
 * Deleting keeps the row (deleted = 1): the event that said it existed still renders, and every
 * list leaves it out.
 */
#include "api/tax_ids.h"

#include <stdio.h>
#include <string.h>

#include "api/common.h"
#include "api/list.h"
#include "api/resources.h"
#include "core/str.h"
#include "events/events.h"
#include "http/form.h"

/* Stripe's types for a customer's tax id (the create's enum) */
static const char *const tax_id_types[] = {
    "ad_nrt",  "ae_trn", "ar_cuit", "au_abn",	  "au_arn",    "bg_uic",    "bo_tin",
    "br_cnpj", "br_cpf", "ca_bn",   "ca_gst_hst", "ca_pst_bc", "ca_pst_mb", "ca_pst_sk",
    "ca_qst",  "ch_vat", "cl_tin",  "cn_tin",	  "co_nit",    "cr_tin",    "do_rcn",
    "ec_ruc",  "eg_tin", "es_cif",  "eu_oss_vat", "eu_vat",    "gb_vat",    "ge_vat",
    "hk_br",   "hu_tin", "id_npwp", "il_vat",	  "in_gst",    "is_vat",    "jp_cn",
    "jp_rn",   "jp_trn", "ke_pin",  "kr_brn",	  "li_uid",    "mx_rfc",    "my_frp",
    "my_itn",  "my_sst", "no_vat",  "nz_gst",	  "pe_ruc",    "ph_tin",    "ro_tin",
    "rs_pib",  "ru_inn", "ru_kpp",  "sa_vat",	  "sg_gst",    "sg_uen",    "si_tin",
    "sv_nit",  "th_vat", "tr_tin",  "tw_vat",	  "ua_vat",    "us_ein",    "uy_ruc",
    "ve_rif",  "vn_tin", "za_vat",  NULL,
};

/* ---- formats ----
 * A pattern: '#' a digit, '@' an uppercase letter, '*' a digit or uppercase letter, anything
 * else itself; alternatives separated by '|'. */

static bool match_one(const char *p, size_t plen, const char *v)
{
	if (strlen(v) != plen)
		return false;
	for (size_t i = 0; i < plen; i++) {
		char c = v[i];
		bool digit = c >= '0' && c <= '9', upper = c >= 'A' && c <= 'Z';
		switch (p[i]) {
		case '#':
			if (!digit)
				return false;
			break;
		case '@':
			if (!upper)
				return false;
			break;
		case '*':
			if (!digit && !upper)
				return false;
			break;
		default:
			if (c != p[i])
				return false;
		}
	}
	return true;
}

static bool match(const char *patterns, const char *v)
{
	for (const char *p = patterns;;) {
		size_t n = strcspn(p, "|");
		if (match_one(p, n, v))
			return true;
		if (!p[n])
			return false;
		p += n + 1;
	}
}

/* eu_vat: the member state's prefix, its format, and the country it stands for */
static const struct {
	const char *prefix, *pattern, *country;
} eu_vat_formats[] = {
    {"AT", "ATU########", "AT"},
    {"BE", "BE##########", "BE"},
    {"BG", "BG#########|BG##########", "BG"},
    {"CY", "CY########@", "CY"},
    {"CZ", "CZ########|CZ#########|CZ##########", "CZ"},
    {"DE", "DE#########", "DE"},
    {"DK", "DK########", "DK"},
    {"EE", "EE#########", "EE"},
    {"EL", "EL#########", "GR"},
    {"ES", "ES*#######*", "ES"},
    {"FI", "FI########", "FI"},
    {"FR", "FR**#########", "FR"},
    {"HR", "HR###########", "HR"},
    {"HU", "HU########", "HU"},
    {"IE", "IE#######@|IE#######@@|IE#*#####@", "IE"},
    {"IT", "IT###########", "IT"},
    {"LT", "LT#########|LT############", "LT"},
    {"LU", "LU########", "LU"},
    {"LV", "LV###########", "LV"},
    {"MT", "MT########", "MT"},
    {"NL", "NL#########B##", "NL"},
    {"PL", "PL##########", "PL"},
    {"PT", "PT#########", "PT"},
    {"RO", "RO##|RO###|RO####|RO#####|RO######|RO#######|RO########|RO#########|RO##########",
     "RO"},
    {"SE", "SE############", "SE"},
    {"SI", "SI########", "SI"},
    {"SK", "SK##########", "SK"},
    {"XI", "XI#########|XI############|XIGD###|XIHA###", "GB"},
};

/* the common types' formats (Stripe's examples), and their country */
static const struct {
	const char *type, *pattern;
} formats[] = {
    {"gb_vat", "GB#########|GB############|GBGD###|GBHA###"},
    {"us_ein", "##-#######|#########"},
    {"au_abn", "###########"},
    {"au_arn", "############"},
    {"ca_bn", "#########"},
    {"ca_gst_hst", "#########RT####"},
    {"ca_qst", "##########TQ####"},
    {"ch_vat", "CHE-###.###.### MWST|CHE-###.###.### TVA|CHE-###.###.### IVA"},
    {"nz_gst", "########|#########"},
    {"in_gst", "##@@@@@####@*Z*"},
    {"jp_cn", "#############"},
    {"no_vat", "#########MVA"},
    {"za_vat", "4#########"},
};

static bool known_type(const char *type)
{
	for (const char *const *t = tax_id_types; *t; t++)
		if (strcmp(*t, type) == 0)
			return true;
	return false;
}

/* any other type: letters, digits, spaces and . - / (1 to 64) */
static bool generic_ok(const char *v)
{
	size_t n = strlen(v);
	if (n < 1 || n > 64)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = v[i];
		if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		      c == ' ' || c == '.' || c == '-' || c == '/'))
			return false;
	}
	return true;
}

int tax_id_check(const char *type, const char *value, char ret_country[3])
{
	if (!type || !value || !known_type(type))
		return -1;
	if (strcmp(type, "eu_vat") == 0) {
		for (size_t i = 0; i < sizeof(eu_vat_formats) / sizeof(eu_vat_formats[0]); i++)
			if (strncmp(value, eu_vat_formats[i].prefix, 2) == 0) {
				if (!match(eu_vat_formats[i].pattern, value))
					return -1;
				str_copy(ret_country, 3, eu_vat_formats[i].country);
				return 0;
			}
		return -1;
	}
	bool checked = false;
	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
		if (strcmp(formats[i].type, type) == 0) {
			if (!match(formats[i].pattern, value))
				return -1;
			checked = true;
		}
	if (!checked && !generic_ok(value))
		return -1;
	/* the country is the type's own (us_ein: US); the One Stop Shop's is the whole EU */
	if (strcmp(type, "eu_oss_vat") == 0) {
		ret_country[0] = '\0';
	} else {
		ret_country[0] = (char)(type[0] - 'a' + 'A');
		ret_country[1] = (char)(type[1] - 'a' + 'A');
		ret_country[2] = '\0';
	}
	return 0;
}

const char *tax_id_verification_status(const char *type, const char *value)
{
	if (strcmp(type, "eu_vat") != 0 && strcmp(type, "gb_vat") != 0 &&
	    strcmp(type, "au_abn") != 0)
		return "unavailable";
	if (strstr(value, "000000000"))
		return "verified";
	if (strstr(value, "111111111"))
		return "unverified";
	return "pending";
}

/* ---- the row ---- */

static const char SQL_INSERT[] =
    "INSERT INTO tax_ids (merchant_id, id, created, customer, type, value, country,"
    " verification_status, verified_name, verified_address, deleted)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL, NULL, 0)";
static const char SQL_GET[] =
    "SELECT id, created, customer, type, value, country, verification_status, verified_name,"
    " verified_address, deleted FROM tax_ids WHERE merchant_id = $1 AND id = $2";
static const char SQL_DELETE[] = "UPDATE tax_ids SET deleted = 1"
				 " WHERE merchant_id = $1 AND id = $2 AND customer = $3"
				 " AND deleted = 0";
static const char SQL_COUNT[] =
    "SELECT COUNT(*) FROM (SELECT 1 FROM tax_ids WHERE merchant_id = $1 AND customer = $2"
    " AND deleted = 0 LIMIT $3) AS x";

/* Renders tax id `id` of r's merchant; the customer shown expanded when expand[] asks at
 * prefix. DB_OK, DB_NOTFOUND or < 0; *ret_customer / *ret_deleted when not NULL. */
static int tax_id_render(struct req *r, struct db *db, const char *id, const char *prefix,
			 struct json *j, const char **ret_customer, bool *ret_deleted)
{
	struct db_stmt *st;
	int rc = db_row_by_id(db, SQL_GET, r->merchant_id, id, &st);
	if (rc != DB_OK)
		return rc;
	const char *tid = col_text_dup(&r->arena, st, 0);
	int64_t created = db_col_int64(st, 1);
	const char *customer = col_text_dup(&r->arena, st, 2);
	const char *type = col_text_dup(&r->arena, st, 3);
	const char *value = col_text_dup(&r->arena, st, 4);
	const char *country = col_text_dup(&r->arena, st, 5);
	const char *vstatus = col_text_dup(&r->arena, st, 6);
	const char *vname = col_text_dup(&r->arena, st, 7);
	const char *vaddress = col_text_dup(&r->arena, st, 8);
	bool deleted = db_col_int64(st, 9) != 0;
	db_reset(st);
	if (!tid || !customer || !type || !value)
		return DB_ERR;
	if (ret_customer)
		*ret_customer = customer;
	if (ret_deleted)
		*ret_deleted = deleted;
	if (!j)
		return DB_OK;
	char path[64];
	snprintf(path, sizeof(path), "%s%scustomer", prefix ? prefix : "", prefix ? "." : "");
	json_obj_open(j);
	json_kv_str(j, "id", tid);
	json_kv_str(j, "object", "tax_id");
	json_kv_str_or_null(j, "country", country);
	json_kv_int(j, "created", created);
	json_key(j, "customer");
	if (req_expand_has(r, path)) {
		rc = customer_render_by_id(r, db, customer, j);
		if (rc != DB_OK)
			return rc;
	} else {
		json_str(j, customer);
	}
	json_kv_null(j, "customer_account");
	json_kv_bool(j, "livemode", r->livemode);
	json_key(j, "owner");
	json_obj_open(j);
	json_kv_null(j, "account");
	json_kv_null(j, "application");
	json_kv_str(j, "customer", customer);
	json_kv_null(j, "customer_account");
	json_kv_str(j, "type", "customer");
	json_obj_close(j);
	json_kv_str(j, "type", type);
	json_kv_str(j, "value", value);
	json_key(j, "verification");
	if (vstatus) {
		json_obj_open(j);
		json_kv_str(j, "status", vstatus);
		json_kv_str_or_null(j, "verified_address", vaddress);
		json_kv_str_or_null(j, "verified_name", vname);
		json_obj_close(j);
	} else {
		json_nil(j);
	}
	json_obj_close(j);
	return DB_OK;
}

static int tax_id_event(struct req *r, struct db *db, const char *type, const char *id)
{
	struct buf b;
	struct json j;
	buf_init(&b, 64 * 1024);
	json_init(&j, &b);
	int rc = tax_id_render(r, db, id, NULL, &j, NULL, NULL);
	struct event_origin o = {r->request_id[0] ? r->request_id : NULL, r->idempotency_key,
				 r->livemode};
	if (rc == DB_OK && !b.failed)
		rc = event_append(db, r->merchant_id, &o, type, id, b.data, b.len, NULL, r->now,
				  NULL);
	else if (rc == DB_OK)
		rc = DB_ERR;
	buf_release(&b);
	return rc == DB_OK ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

/* Inside a write: customer (which exists) gets tax id `id` of type/value (checked already),
 * customer.tax_id.created. param: the request's name for the value, for the bound's error. 0,
 * or -1 with r->err. */
static int tax_id_add(struct req *r, struct db *db, const char *customer, const char *id,
		      const char *type, const char *value, const char *param)
{
	struct db_stmt *st = db_prepare(db, SQL_COUNT);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, customer, -1);
	db_bind_int64(st, 3, TAX_IDS_PER_CUSTOMER_MAX);
	int64_t n = db_step(st) == DB_ROW ? db_col_int64(st, 0) : -1;
	db_reset(st);
	if (n < 0)
		return req_fail(r, ERR_API, NULL, NULL);
	if (n >= TAX_IDS_PER_CUSTOMER_MAX)
		return req_fail(r, ERR_PARAM_BAD, param,
				"Customer %s already has the maximum of %d tax IDs.", customer,
				TAX_IDS_PER_CUSTOMER_MAX);
	char country[3];
	if (tax_id_check(type, value, country) != 0) /* checked before; the row needs the country */
		return req_fail(r, ERR_TAX_ID_INVALID, param, "Invalid value for %s.", type);
	st = db_prepare(db, SQL_INSERT);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, id, -1);
	db_bind_int64(st, 3, r->now);
	db_bind_text(st, 4, customer, -1);
	db_bind_text(st, 5, type, -1);
	db_bind_text(st, 6, value, -1);
	db_bind_text(st, 7, country[0] ? country : NULL, -1);
	db_bind_text(st, 8, tax_id_verification_status(type, value), -1);
	if (db_step_done(st) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	return tax_id_event(r, db, "customer.tax_id.created", id);
}

/* ---- tax_id_data on customer create ---- */

#define DATA_PATH_MAX 64

int tax_ids_check_data(struct req *r)
{
	const struct form_node *n = param_node(r, "tax_id_data");
	if (!n)
		return 0;
	for (size_t i = 0; i < n->child_count; i++) {
		char tp[DATA_PATH_MAX], vp[DATA_PATH_MAX];
		snprintf(tp, sizeof(tp), "tax_id_data.%zu.type", i);
		snprintf(vp, sizeof(vp), "tax_id_data.%zu.value", i);
		const char *type = param_str(r, tp), *value = param_str(r, vp);
		char country[3];
		if (type && value && tax_id_check(type, value, country) != 0)
			return req_fail(r, ERR_TAX_ID_INVALID,
					arena_printf(&r->arena, "tax_id_data[%zu][value]", i),
					"Invalid value for %s.", type);
	}
	return 0;
}

int tax_ids_create_from_data(struct req *r, struct db *db, const char *customer)
{
	const struct form_node *n = param_node(r, "tax_id_data");
	if (!n)
		return 0;
	for (size_t i = 0; i < n->child_count; i++) {
		char tp[DATA_PATH_MAX], vp[DATA_PATH_MAX], id[ID_MAX];
		snprintf(tp, sizeof(tp), "tax_id_data.%zu.type", i);
		snprintf(vp, sizeof(vp), "tax_id_data.%zu.value", i);
		id_new_at(id, TAX_ID_PREFIX, r->now);
		if (tax_id_add(r, db, customer, id, param_str(r, tp), param_str(r, vp),
			       "tax_id_data") != 0)
			return -1;
	}
	return 0;
}

/* ---- the customer's includable list ---- */

#define EMBEDDED_LIMIT 10
static const char SQL_EMBEDDED[] = "SELECT id FROM tax_ids WHERE merchant_id = $1 AND customer = $2"
				   " AND deleted = 0 ORDER BY id DESC LIMIT $3";

int tax_ids_render_embedded(struct req *r, struct db *db, const char *customer, struct json *j)
{
	struct db_stmt *st = db_prepare(db, SQL_EMBEDDED);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, customer, -1);
	db_bind_int64(st, 3, EMBEDDED_LIMIT + 1);
	char *ids[EMBEDDED_LIMIT + 1];
	size_t n = 0;
	int rc = DB_DONE;
	while (n < EMBEDDED_LIMIT + 1 && (rc = db_step(st)) == DB_ROW) {
		ids[n] = arena_strdup(&r->arena, db_col_text(st, 0, NULL));
		if (!ids[n++]) {
			db_reset(st);
			return DB_ERR;
		}
	}
	db_reset(st);
	if (rc != DB_ROW && rc != DB_DONE)
		return rc < 0 ? rc : DB_ERR;
	bool has_more = n > EMBEDDED_LIMIT;
	if (has_more)
		n = EMBEDDED_LIMIT;
	json_obj_open(j);
	json_kv_str(j, "object", "list");
	json_key(j, "data");
	json_arr_open(j);
	for (size_t i = 0; i < n; i++) {
		rc = tax_id_render(r, db, ids[i], NULL, j, NULL, NULL);
		if (rc != DB_OK)
			return rc == DB_NOTFOUND ? DB_ERR : rc;
	}
	json_arr_close(j);
	json_kv_bool(j, "has_more", has_more);
	const char *url = arena_printf(&r->arena, "/v1/customers/%s/tax_ids", customer);
	if (!url)
		return DB_ERR;
	json_kv_str(j, "url", url);
	json_obj_close(j);
	return DB_OK;
}

/* ---- the routes ---- */

static const struct param_spec create_params[] = {
    {"type", PT_ENUM, PF_REQUIRED, 0, tax_id_types, NULL},
    {"value", PT_STRING, PF_REQUIRED, 64, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec no_params[] = {{NULL, 0, 0, 0, NULL, NULL}};

struct ctx {
	struct req *r;
	const char *customer, *id;
	const char *type, *value;
};

static int create_fn(struct db *db, void *p)
{
	struct ctx *x = p;
	struct req *r = x->r;
	if (customer_check(r, db, x->customer) != 0)
		return -1;
	if (tax_id_add(r, db, x->customer, x->id, x->type, x->value, "value") != 0)
		return -1;
	return tax_id_render(r, db, x->id, NULL, req_json(r), NULL, NULL) == DB_OK
		   ? 0
		   : req_fail(r, ERR_API, NULL, NULL);
}

static int h_create(struct req *r)
{
	struct ctx x = {.r = r, .customer = r->args[0]};
	x.type = param_str(r, "type");
	x.value = param_str(r, "value");
	char country[3];
	if (tax_id_check(x.type, x.value, country) != 0)
		return req_fail(r, ERR_TAX_ID_INVALID, "value", "Invalid value for %s.", x.type);
	char *id = arena_zalloc(&r->arena, ID_MAX);
	if (!id)
		return req_fail(r, ERR_API, NULL, NULL);
	id_new_at(id, TAX_ID_PREFIX, r->now);
	x.id = id;
	return req_write(r, create_fn, &x);
}

/* The tax id in the path is one of the customer's (which exists), not deleted. */
static int check_owned(struct db *db, struct ctx *x)
{
	struct req *r = x->r;
	if (customer_check(r, db, x->customer) != 0)
		return -1;
	const char *owner = NULL;
	bool deleted = false;
	int rc = tax_id_render(r, db, x->id, NULL, NULL, &owner, &deleted);
	if (rc == DB_NOTFOUND || (rc == DB_OK && (deleted || strcmp(owner, x->customer) != 0)))
		return req_fail_missing(r, "tax_id", x->id, "id");
	return rc == DB_OK ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

static int retrieve_fn(struct db *db, void *p)
{
	struct ctx *x = p;
	if (check_owned(db, x) != 0)
		return -1;
	return tax_id_render(x->r, db, x->id, NULL, req_json(x->r), NULL, NULL) == DB_OK
		   ? 0
		   : req_fail(x->r, ERR_API, NULL, NULL);
}

static int h_retrieve(struct req *r)
{
	struct ctx x = {.r = r, .customer = r->args[0], .id = r->args[1]};
	return req_read(r, retrieve_fn, &x) == 0 ? 0 : -1;
}

static int delete_fn(struct db *db, void *p)
{
	struct ctx *x = p;
	struct req *r = x->r;
	if (check_owned(db, x) != 0)
		return -1;
	struct db_stmt *st = db_prepare(db, SQL_DELETE);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, x->id, -1);
	db_bind_text(st, 3, x->customer, -1);
	int64_t changed = 0;
	if (db_step_changes(st, &changed) != DB_OK || changed != 1)
		return req_fail(r, ERR_API, NULL, NULL);
	/* the event shows the tax id as it was */
	if (tax_id_event(r, db, "customer.tax_id.deleted", x->id) != 0)
		return -1;
	struct json *j = req_json(r);
	json_obj_open(j);
	json_kv_str(j, "id", x->id);
	json_kv_str(j, "object", "tax_id");
	json_kv_bool(j, "deleted", true);
	json_obj_close(j);
	return 0;
}

static int h_delete(struct req *r)
{
	struct ctx x = {.r = r, .customer = r->args[0], .id = r->args[1]};
	return req_write(r, delete_fn, &x);
}

static const char SQL_CURSOR[] = "SELECT created FROM tax_ids WHERE merchant_id = $1 AND id = $2";
static const char SQL_DESC[] =
    "SELECT id FROM tax_ids WHERE merchant_id = $1 AND id > $2 AND id < $3 AND customer = $5"
    " AND deleted = 0 ORDER BY id DESC LIMIT $4";
static const char SQL_ASC[] =
    "SELECT id FROM tax_ids WHERE merchant_id = $1 AND id > $2 AND id < $3 AND customer = $5"
    " AND deleted = 0 ORDER BY id ASC LIMIT $4";

static int list_bind(struct req *r, struct db_stmt *st, int first, void *ctx)
{
	(void)ctx;
	db_bind_text(st, first, r->args[0], -1);
	return 0;
}

static int list_render(struct req *r, struct db *db, const char *id, struct json *j, void *ctx)
{
	(void)ctx;
	return tax_id_render(r, db, id, "data", j, NULL, NULL);
}

static int h_list(struct req *r)
{
	if (customer_check_read(r, r->args[0]) != 0)
		return -1;
	const char *url = arena_printf(&r->arena, "/v1/customers/%s/tax_ids", r->args[0]);
	if (!url)
		return req_fail(r, ERR_API, NULL, NULL);
	const struct list_spec spec = {
	    .url = url,
	    .object_name = "tax_id",
	    .id_prefix = TAX_ID_PREFIX,
	    .sql_cursor = SQL_CURSOR,
	    .sql_desc = SQL_DESC,
	    .sql_asc = SQL_ASC,
	    .bind_filters = list_bind,
	    .render = list_render,
	};
	return list_respond(r, &spec);
}

const struct route tax_ids_routes[] = {
    {"POST", "/v1/customers/{customer}/tax_ids", h_create, create_params, 0},
    {"GET", "/v1/customers/{customer}/tax_ids", h_list, no_params, ROUTE_LIST},
    {"GET", "/v1/customers/{customer}/tax_ids/{id}", h_retrieve, no_params, 0},
    {"DELETE", "/v1/customers/{customer}/tax_ids/{id}", h_delete, no_params, 0},
    {NULL, NULL, NULL, NULL, 0},
};

/* the tax_id_data items a customer create takes (customers.c) */
const struct param_spec tax_id_data_children[] = {
    {"type", PT_ENUM, PF_REQUIRED, 0, tax_id_types, NULL},
    {"value", PT_STRING, PF_REQUIRED, 64, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
