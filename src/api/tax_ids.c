/*
 * /v1/customers/{customer}/tax_ids: create (type + value), retrieve, delete, list; tax_id_data on
 * customer create; a customer's includable `tax_ids`. Events customer.tax_id.created and
 * customer.tax_id.deleted.
 *
 * /v1/tax_ids: the same for every owner (owner[type]): `customer` is the very tax id the nested
 * routes make and see (the same events), `self` the merchant's own (what its invoices'
 * account_tax_ids name, shown on their PDFs and hosted pages), `account` one of its connected
 * accounts' (the platform's view). Stripe sends no event for an account's own tax ids, so
 * neither does Tender. `application` (a Connect application's own) is refused: Tender has no
 * Connect applications.
 *
 * A value is checked against its type's format when it is added (Stripe's tax_id_invalid
 * "Invalid value for eu_vat."), and the country the id implies is kept: for eu_vat the member
 * state its prefix names (EL is Greece, XI Northern Ireland), else the type's own. Stripe
 * verifies some types with the tax authority asynchronously; Tender answers with the verdict
 * Stripe's test mode gives (tax_id_verification_status) at once, so verification never changes
 * afterwards and customer.tax_id.updated is never sent.
 *
 * Deleting keeps the row (deleted = 1): the event that said it existed still renders, and every
 * list leaves it out.
 */
#include "api/tax_ids.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/common.h"
#include "api/list.h"
#include "api/resources.h"
#include "core/str.h"
#include "events/events.h"
#include "http/form.h"
#include "merchant/connect.h"

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
    " verification_status, verified_name, verified_address, deleted, owner_type, owner_account)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL, NULL, 0, $9, $10)";
static const char SQL_GET[] =
    "SELECT id, created, customer, type, value, country, verification_status, verified_name,"
    " verified_address, deleted, owner_type, owner_account FROM tax_ids"
    " WHERE merchant_id = $1 AND id = $2";
static const char SQL_DELETE[] = "UPDATE tax_ids SET deleted = 1"
				 " WHERE merchant_id = $1 AND id = $2 AND deleted = 0";
/* how many live tax ids one owner has (up to $5): a customer's, or the merchant's own or a
 * connected account's (customer NULL, owner_account $4 or both NULL) */
static const char SQL_COUNT[] =
    "SELECT COUNT(*) FROM (SELECT 1 FROM tax_ids WHERE merchant_id = $1 AND owner_type = $2"
    " AND customer IS NULL AND COALESCE(owner_account, '') = $3 AND deleted = 0 LIMIT $4) AS x";
/* a customer's: through its index (tax_ids_customer), not a walk of every tax id */
static const char SQL_COUNT_CUSTOMER[] =
    "SELECT COUNT(*) FROM (SELECT 1 FROM tax_ids WHERE merchant_id = $1 AND owner_type = $2"
    " AND customer = $3 AND deleted = 0 LIMIT $4) AS x";

/* A tax id's row as tax_id_render reads it */
struct tax_id_row {
	const char *customer, *owner_type, *owner_account; /* NULL: none */
	const char *type, *value;
	bool deleted;
};

/* Renders tax id `id` of r's merchant; the customer shown expanded when expand[] asks at
 * prefix. DB_OK, DB_NOTFOUND or < 0; its row in *ret when not NULL. */
static int tax_id_render(struct req *r, struct db *db, const char *id, const char *prefix,
			 struct json *j, struct tax_id_row *ret)
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
	const char *otype = col_text_dup(&r->arena, st, 10);
	const char *oaccount = col_text_dup(&r->arena, st, 11);
	db_reset(st);
	if (!tid || !type || !value || !otype || (strcmp(otype, "customer") == 0 && !customer))
		return DB_ERR;
	if (ret)
		*ret = (struct tax_id_row){customer, otype, oaccount, type, value, deleted};
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
	if (customer && req_expand_has(r, path)) {
		rc = customer_render_by_id(r, db, customer, j);
		if (rc != DB_OK)
			return rc;
	} else {
		json_str_or_null(j, customer);
	}
	json_kv_null(j, "customer_account");
	json_kv_bool(j, "livemode", r->livemode);
	/* Stripe's owner: who the id belongs to (a customer, the account itself, or one of its
	 * connected accounts) */
	json_key(j, "owner");
	json_obj_open(j);
	json_kv_str_or_null(j, "account", oaccount);
	json_kv_null(j, "application");
	json_kv_str_or_null(j, "customer", customer);
	json_kv_null(j, "customer_account");
	json_kv_str(j, "type", otype);
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
	int rc = tax_id_render(r, db, id, NULL, &j, NULL);
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

/* Who a new tax id belongs to: owner_type "customer" (customer set), "self" or "account"
 * (account set) */
struct tax_id_owner {
	const char *type, *customer, *account;
};

/* Inside a write: tax id `id` of type/value (checked already) for owner (who exists); a
 * customer's with customer.tax_id.created (Stripe sends no event for an account's own).
 * param: the request's name for the value, for the bound's error. 0, or -1 with r->err. */
static int tax_id_add(struct req *r, struct db *db, const struct tax_id_owner *ow, const char *id,
		      const char *type, const char *value, const char *param)
{
	bool customer = strcmp(ow->type, "customer") == 0;
	const char *who = customer ? ow->customer : ow->account ? ow->account : "";
	int max = customer ? TAX_IDS_PER_CUSTOMER_MAX : TAX_IDS_PER_ACCOUNT_MAX;
	struct db_stmt *st = db_prepare(db, customer ? SQL_COUNT_CUSTOMER : SQL_COUNT);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, ow->type, -1);
	db_bind_text(st, 3, who, -1);
	db_bind_int64(st, 4, max);
	int64_t n = db_step(st) == DB_ROW ? db_col_int64(st, 0) : -1;
	db_reset(st);
	if (n < 0)
		return req_fail(r, ERR_API, NULL, NULL);
	if (n >= max && customer)
		return req_fail(r, ERR_PARAM_BAD, param,
				"Customer %s already has the maximum of %d tax IDs.", who, max);
	if (n >= max)
		return req_fail(r, ERR_PARAM_BAD, param,
				"The account %s already has the maximum of %d tax IDs.",
				*who ? who : r->merchant_id, max);
	char country[3];
	if (tax_id_check(type, value, country) != 0) /* checked before; the row needs the country */
		return req_fail(r, ERR_TAX_ID_INVALID, param, "Invalid value for %s.", type);
	st = db_prepare(db, SQL_INSERT);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, id, -1);
	db_bind_int64(st, 3, r->now);
	db_bind_text(st, 4, customer ? ow->customer : NULL, -1);
	db_bind_text(st, 5, type, -1);
	db_bind_text(st, 6, value, -1);
	db_bind_text(st, 7, country[0] ? country : NULL, -1);
	db_bind_text(st, 8, tax_id_verification_status(type, value), -1);
	db_bind_text(st, 9, ow->type, -1);
	db_bind_text(st, 10, customer ? NULL : ow->account, -1);
	if (db_step_done(st) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	return customer ? tax_id_event(r, db, "customer.tax_id.created", id) : 0;
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
		const struct tax_id_owner ow = {"customer", customer, NULL};
		if (tax_id_add(r, db, &ow, id, param_str(r, tp), param_str(r, vp), "tax_id_data") !=
		    0)
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
		rc = tax_id_render(r, db, ids[i], NULL, j, NULL);
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

/* ---- an invoice's account_tax_ids ---- */

int tax_ids_account_param(struct req *r, struct db *db, const char *param, const char *shown,
			  const char **ret)
{
	const char *ids = NULL;
	if (string_array_json(r, param, &ids) != 0)
		return -1;
	if (!ids)
		return 0;
	json_t *a = json_loads(ids, 0, NULL);
	if (!json_is_array(a)) {
		json_decref(a);
		return req_fail(r, ERR_API, NULL, NULL);
	}
	int rc = 0;
	size_t n = json_array_size(a);
	if (n > INVOICE_ACCOUNT_TAX_IDS_MAX) {
		rc = req_fail(r, ERR_PARAM_BAD, shown,
			      "You can pass at most %d account tax IDs; you passed %zu.",
			      INVOICE_ACCOUNT_TAX_IDS_MAX, n);
		goto out;
	}
	for (size_t i = 0; i < n && rc == 0; i++) {
		const char *id = json_string_value(json_array_get(a, i));
		struct tax_id_row row;
		int k = id ? tax_id_render(r, db, id, NULL, NULL, &row) : DB_NOTFOUND;
		if (k != DB_OK && k != DB_NOTFOUND) {
			rc = req_fail(r, ERR_API, NULL, NULL);
		} else if (k == DB_NOTFOUND || row.deleted) {
			rc = req_fail(r, ERR_PARAM_RESOURCE_MISSING, shown, "No such tax ID: '%s'",
				      id ? id : "");
		} else if (strcmp(row.owner_type, "self") != 0) {
			/* a customer's or a connected account's is not the issuer's */
			rc = req_fail(r, ERR_PARAM_BAD, shown,
				      "The tax ID %s is not one of your account's own tax IDs "
				      "(owner[type]=self): an invoice's account_tax_ids name "
				      "those only.",
				      id);
		}
		for (size_t k2 = 0; k2 < i && rc == 0; k2++)
			if (strcmp(id, json_string_value(json_array_get(a, k2))) == 0)
				rc = req_fail(r, ERR_PARAM_BAD, shown,
					      "The tax ID %s is given more than once.", id);
	}
	if (rc == 0)
		*ret = n ? ids : ""; /* "": none (the empty array, as "" unsets it) */
out:
	json_decref(a);
	return rc;
}

int tax_ids_render_account(struct req *r, struct db *db, const char *ids, bool expand,
			   struct json *j)
{
	json_t *a = ids ? json_loads(ids, 0, NULL) : NULL;
	if (!json_is_array(a)) {
		json_decref(a);
		json_nil(j);
		return DB_OK;
	}
	int rc = DB_OK;
	size_t i;
	json_t *v;
	json_arr_open(j);
	json_array_foreach(a, i, v)
	{
		const char *id = json_string_value(v);
		if (!id)
			continue;
		if (!expand) {
			json_str(j, id);
			continue;
		}
		struct tax_id_row row;
		rc = tax_id_render(r, db, id, NULL, NULL, &row);
		if (rc == DB_OK && row.deleted) {
			/* deleted since: Stripe's deleted_tax_id in its place */
			json_obj_open(j);
			json_kv_str(j, "id", id);
			json_kv_str(j, "object", "tax_id");
			json_kv_bool(j, "deleted", true);
			json_obj_close(j);
		} else if (rc == DB_OK) {
			rc = tax_id_render(r, db, id, NULL, j, NULL);
		}
		if (rc != DB_OK)
			break;
	}
	json_arr_close(j);
	json_decref(a);
	return rc == DB_NOTFOUND ? DB_ERR : rc;
}

void tax_id_label(const char *type, const char *value, char *out, size_t n)
{
	if (!n)
		return;
	size_t k = 0;
	for (const char *t = type; *t && k + 1 < n; t++)
		out[k++] = *t == '_' ? ' ' : (char)(*t >= 'a' && *t <= 'z' ? *t - 'a' + 'A' : *t);
	out[k] = '\0';
	snprintf(out + k, n - k, " %s", value);
}

int tax_ids_labels(struct req *r, struct db *db, const char *ids, const char **ret)
{
	*ret = NULL;
	json_t *a = ids ? json_loads(ids, 0, NULL) : NULL;
	if (!json_array_size(a)) {
		json_decref(a);
		return 0;
	}
	json_t *out = json_array();
	int rc = 0;
	size_t i;
	json_t *v;
	json_array_foreach(a, i, v)
	{
		const char *id = json_string_value(v);
		struct tax_id_row row;
		if (!id || tax_id_render(r, db, id, NULL, NULL, &row) != DB_OK) {
			rc = -1;
			break;
		}
		/* a tax id deleted after the invoice named it still shows, as it was issued */
		char line[256];
		tax_id_label(row.type, row.value, line, sizeof(line));
		json_array_append_new(out, json_string(line));
	}
	if (rc == 0) {
		char *text = json_dumps(out, JSON_COMPACT);
		*ret = text ? arena_strdup(&r->arena, text) : NULL;
		free(text);
		if (!*ret)
			rc = -1;
	}
	json_decref(out);
	json_decref(a);
	return rc;
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
	const char *customer, *id; /* customer: the path's (NULL: the top-level routes) */
	const char *type, *value;
	struct tax_id_owner owner;
};

static int create_fn(struct db *db, void *p)
{
	struct ctx *x = p;
	struct req *r = x->r;
	if (x->customer && customer_check(r, db, x->customer) != 0)
		return -1;
	if (!x->customer && strcmp(x->owner.type, "customer") == 0 &&
	    customer_check(r, db, x->owner.customer) != 0) {
		if (r->err.code != ERR_RESOURCE_MISSING)
			return -1;
		r->err.set = false;
		return req_fail(r, ERR_PARAM_RESOURCE_MISSING, "owner[customer]",
				"No such customer: '%s'", x->owner.customer);
	}
	if (strcmp(x->owner.type, "account") == 0) {
		int rc = connect_account_check(db, r->merchant_id, x->owner.account, NULL);
		if (rc == DB_NOTFOUND)
			return req_fail(r, ERR_PARAM_RESOURCE_MISSING, "owner[account]",
					"No such account: '%s'", x->owner.account);
		if (rc != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
	}
	if (tax_id_add(r, db, &x->owner, x->id, x->type, x->value, "value") != 0)
		return -1;
	return tax_id_render(r, db, x->id, NULL, req_json(r), NULL) == DB_OK
		   ? 0
		   : req_fail(r, ERR_API, NULL, NULL);
}

static int create_run(struct req *r, struct ctx *x)
{
	x->type = param_str(r, "type");
	x->value = param_str(r, "value");
	char country[3];
	if (tax_id_check(x->type, x->value, country) != 0)
		return req_fail(r, ERR_TAX_ID_INVALID, "value", "Invalid value for %s.", x->type);
	char *id = arena_zalloc(&r->arena, ID_MAX);
	if (!id)
		return req_fail(r, ERR_API, NULL, NULL);
	id_new_at(id, TAX_ID_PREFIX, r->now);
	x->id = id;
	return req_write(r, create_fn, x);
}

static int h_create(struct req *r)
{
	struct ctx x = {.r = r, .customer = r->args[0]};
	x.owner = (struct tax_id_owner){"customer", r->args[0], NULL};
	return create_run(r, &x);
}

/* The tax id in the path is live and, on a customer's nested route, that customer's (which
 * exists). *ret: its row. */
static int check_owned(struct db *db, struct ctx *x, struct tax_id_row *ret)
{
	struct req *r = x->r;
	if (x->customer && customer_check(r, db, x->customer) != 0)
		return -1;
	int rc = tax_id_render(r, db, x->id, NULL, NULL, ret);
	if (rc == DB_NOTFOUND ||
	    (rc == DB_OK &&
	     (ret->deleted ||
	      (x->customer && (!ret->customer || strcmp(ret->customer, x->customer) != 0)))))
		return req_fail_missing(r, "tax_id", x->id, "id");
	return rc == DB_OK ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

static int retrieve_fn(struct db *db, void *p)
{
	struct ctx *x = p;
	struct tax_id_row row;
	if (check_owned(db, x, &row) != 0)
		return -1;
	return tax_id_render(x->r, db, x->id, NULL, req_json(x->r), NULL) == DB_OK
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
	struct tax_id_row row;
	if (check_owned(db, x, &row) != 0)
		return -1;
	struct db_stmt *st = db_prepare(db, SQL_DELETE);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, x->id, -1);
	int64_t changed = 0;
	if (db_step_changes(st, &changed) != DB_OK || changed != 1)
		return req_fail(r, ERR_API, NULL, NULL);
	/* a customer's: the event shows the tax id as it was (Stripe sends none for an
	 * account's own) */
	if (strcmp(row.owner_type, "customer") == 0 &&
	    tax_id_event(r, db, "customer.tax_id.deleted", x->id) != 0)
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
/* one owner's: $5 its type, $6 the connected account ('' for the merchant's own) */
#define OWNER_WHERE                                                                                \
	"SELECT id FROM tax_ids WHERE merchant_id = $1 AND id > $2 AND id < $3 AND owner_type = "  \
	"$5"                                                                                       \
	" AND customer IS NULL AND COALESCE(owner_account, '') = $6 AND deleted = 0"
static const char SQL_DESC[] = OWNER_WHERE " ORDER BY id DESC LIMIT $4";
static const char SQL_ASC[] = OWNER_WHERE " ORDER BY id ASC LIMIT $4";
/* a customer's ($6), through its index (tax_ids_customer: merchant_id, customer, id) */
#define CUSTOMER_WHERE                                                                             \
	"SELECT id FROM tax_ids WHERE merchant_id = $1 AND id > $2 AND id < $3 AND owner_type = "  \
	"$5"                                                                                       \
	" AND customer = $6 AND deleted = 0"
static const char SQL_DESC_CUSTOMER[] = CUSTOMER_WHERE " ORDER BY id DESC LIMIT $4";
static const char SQL_ASC_CUSTOMER[] = CUSTOMER_WHERE " ORDER BY id ASC LIMIT $4";

static int list_bind(struct req *r, struct db_stmt *st, int first, void *ctx)
{
	(void)r;
	const struct tax_id_owner *ow = ctx;
	const char *who = ow->customer ? ow->customer : ow->account ? ow->account : "";
	db_bind_text(st, first, ow->type, -1);
	db_bind_text(st, first + 1, who, -1);
	return 0;
}

static int list_render(struct req *r, struct db *db, const char *id, struct json *j, void *ctx)
{
	(void)ctx;
	return tax_id_render(r, db, id, "data", j, NULL);
}

static int list_owner(struct req *r, const char *url, struct tax_id_owner *ow)
{
	const struct list_spec spec = {
	    .url = url,
	    .object_name = "tax_id",
	    .id_prefix = TAX_ID_PREFIX,
	    .sql_cursor = SQL_CURSOR,
	    .sql_desc = ow->customer ? SQL_DESC_CUSTOMER : SQL_DESC,
	    .sql_asc = ow->customer ? SQL_ASC_CUSTOMER : SQL_ASC,
	    .bind_filters = list_bind,
	    .render = list_render,
	    .ctx = ow,
	};
	return list_respond(r, &spec);
}

static int h_list(struct req *r)
{
	if (customer_check_read(r, r->args[0]) != 0)
		return -1;
	const char *url = arena_printf(&r->arena, "/v1/customers/%s/tax_ids", r->args[0]);
	if (!url)
		return req_fail(r, ERR_API, NULL, NULL);
	struct tax_id_owner ow = {"customer", r->args[0], NULL};
	return list_owner(r, url, &ow);
}

/* ---- /v1/tax_ids: every owner's ---- */

static const char *const owner_types[] = {"account", "application", "customer", "self", NULL};
static const struct param_spec owner_children[] = {
    {"type", PT_ENUM, PF_REQUIRED, 0, owner_types, NULL},
    {"account", PT_STRING, 0, 255, NULL, NULL},
    {"customer", PT_STRING, 0, 255, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec top_create_params[] = {
    {"type", PT_ENUM, PF_REQUIRED, 0, tax_id_types, NULL},
    {"value", PT_STRING, PF_REQUIRED, 64, NULL, NULL},
    {"owner", PT_OBJECT, 0, 0, NULL, owner_children},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec top_list_params[] = {
    {"owner", PT_OBJECT, 0, 0, NULL, owner_children},
    {NULL, 0, 0, 0, NULL, NULL},
};

/* owner[type, account, customer] of a create or a list (absent: the merchant's own, Stripe's
 * default): account with type=account only and required there, customer likewise. Tender has
 * no Connect applications, so owner[type]=application is refused. 0, or -1 with r->err. */
static int owner_params(struct req *r, struct tax_id_owner *ow)
{
	const char *type = param_str(r, "owner.type");
	const char *account = param_str(r, "owner.account");
	const char *customer = param_str(r, "owner.customer");
	*ow = (struct tax_id_owner){type ? type : "self", NULL, NULL};
	if (strcmp(ow->type, "application") == 0)
		return req_fail(r, ERR_PARAM_BAD, "owner[type]",
				"owner[type]=application is for the tax IDs of a Connect "
				"application, and this account has none: use self, account or "
				"customer.");
	bool is_account = strcmp(ow->type, "account") == 0;
	bool is_customer = strcmp(ow->type, "customer") == 0;
	if (account && !is_account)
		return req_fail(r, ERR_PARAM_BAD, "owner[account]",
				"owner[account] can only be set when owner[type] is account.");
	if (customer && !is_customer)
		return req_fail(r, ERR_PARAM_BAD, "owner[customer]",
				"owner[customer] can only be set when owner[type] is customer.");
	if (is_account && (!account || !*account))
		return req_fail(r, ERR_PARAM_MISSING, "owner[account]", "owner[account]");
	if (is_customer && (!customer || !*customer))
		return req_fail(r, ERR_PARAM_MISSING, "owner[customer]", "owner[customer]");
	ow->account = is_account ? account : NULL;
	ow->customer = is_customer ? customer : NULL;
	return 0;
}

static int h_top_create(struct req *r)
{
	struct ctx x = {.r = r};
	if (owner_params(r, &x.owner) != 0)
		return -1;
	return create_run(r, &x);
}

static int h_top_retrieve(struct req *r)
{
	struct ctx x = {.r = r, .id = r->args[0]};
	return req_read(r, retrieve_fn, &x) == 0 ? 0 : -1;
}

static int h_top_delete(struct req *r)
{
	struct ctx x = {.r = r, .id = r->args[0]};
	return req_write(r, delete_fn, &x);
}

struct owner_check_ctx {
	struct req *r;
	const struct tax_id_owner *ow;
};

/* the list's owner exists (a customer of the merchant's, one of its connected accounts) */
static int owner_check_fn(struct db *db, void *p)
{
	struct owner_check_ctx *x = p;
	struct req *r = x->r;
	if (x->ow->customer) {
		if (customer_check(r, db, x->ow->customer) == 0)
			return 0;
		if (r->err.code != ERR_RESOURCE_MISSING)
			return -1;
		r->err.set = false;
		return req_fail(r, ERR_PARAM_RESOURCE_MISSING, "owner[customer]",
				"No such customer: '%s'", x->ow->customer);
	}
	if (x->ow->account) {
		int rc = connect_account_check(db, r->merchant_id, x->ow->account, NULL);
		if (rc == DB_NOTFOUND)
			return req_fail(r, ERR_PARAM_RESOURCE_MISSING, "owner[account]",
					"No such account: '%s'", x->ow->account);
		if (rc != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
	}
	return 0;
}

static int h_top_list(struct req *r)
{
	struct tax_id_owner ow;
	if (owner_params(r, &ow) != 0)
		return -1;
	struct owner_check_ctx x = {r, &ow};
	if ((ow.customer || ow.account) && req_read(r, owner_check_fn, &x) != 0)
		return -1;
	return list_owner(r, "/v1/tax_ids", &ow);
}

const struct route tax_ids_routes[] = {
    {"POST", "/v1/customers/{customer}/tax_ids", h_create, create_params, 0},
    {"GET", "/v1/customers/{customer}/tax_ids", h_list, no_params, ROUTE_LIST},
    {"GET", "/v1/customers/{customer}/tax_ids/{id}", h_retrieve, no_params, 0},
    {"DELETE", "/v1/customers/{customer}/tax_ids/{id}", h_delete, no_params, 0},
    {"POST", "/v1/tax_ids", h_top_create, top_create_params, 0},
    {"GET", "/v1/tax_ids", h_top_list, top_list_params, ROUTE_LIST},
    {"GET", "/v1/tax_ids/{id}", h_top_retrieve, no_params, 0},
    {"DELETE", "/v1/tax_ids/{id}", h_top_delete, no_params, 0},
    {NULL, NULL, NULL, NULL, 0},
};

/* the tax_id_data items a customer create takes (customers.c) */
const struct param_spec tax_id_data_children[] = {
    {"type", PT_ENUM, PF_REQUIRED, 0, tax_id_types, NULL},
    {"value", PT_STRING, PF_REQUIRED, 64, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
