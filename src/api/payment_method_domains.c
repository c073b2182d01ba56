/*
 * /v1/payment_method_domains and the legacy /v1/apple_pay/domains: the web domains a merchant
 * shows wallets (Apple Pay, Google Pay, Link, PayPal, Amazon Pay, Klarna) on.
 *
 * Stripe registers a domain with each wallet and reports a status per wallet. In test mode it
 * marks a domain active at once without contacting it, and that is what Tender does in every mode:
 * Tender has no wallet to register with, and a write transaction may do no network I/O. So the
 * statuses are not stored: every wallet of every domain is `active`, and `validate` (Stripe's
 * "check again") answers the domain as it is. `enabled` is the merchant's switch (create and
 * update). A domain name is a host name (letters, digits and hyphens in dot-separated labels, a
 * top-level label not all digits; at most 253 characters), lower-cased, and registered once per
 * merchant: the unique index decides (an insert that conflicts changes nothing and is refused).
 *
 * The legacy Apple Pay domains (apple_pay_domain, apwc_…) are a table of their own, as Stripe
 * keeps them: create, retrieve, list (domain_name) and delete (gone for good).
 *
 * Stripe sends no payment_method_domain.* or apple_pay_domain.* events (its webhook event list
 * has none), so these writes append none.
 */
#include <stdio.h>
#include <string.h>

#include "api/common.h"
#include "api/list.h"
#include "api/payment_method_domains.h"
#include "api/resources.h"
#include "core/str.h"

#define DOMAIN_MAX HOST_NAME_MAX_LEN
#define LABEL_MAX 63

int host_name_normalize(const char *in, char out[DOMAIN_MAX + 1])
{
	size_t n = in ? strlen(in) : 0;
	if (n == 0 || n > DOMAIN_MAX)
		return -1;
	size_t label = 0, labels = 0, last = 0;
	bool digits_only = true;
	for (size_t i = 0; i <= n; i++) {
		char c = in[i];
		if (c == '.' || c == '\0') {
			/* a label of 1 to 63 characters, not starting or ending with a hyphen */
			if (label == 0 || label > LABEL_MAX || in[i - label] == '-' ||
			    in[i - 1] == '-')
				return -1;
			labels++;
			last = i - label;
			label = 0;
			out[i] = c;
			continue;
		}
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
			return -1;
		out[i] = c;
		label++;
	}
	for (size_t i = last; i < n; i++)
		if (out[i] < '0' || out[i] > '9')
			digits_only = false;
	/* example.com, not localhost or an IPv4 address */
	if (labels < 2 || digits_only)
		return -1;
	return 0;
}

static int domain_name_param(struct req *r, char out[DOMAIN_MAX + 1])
{
	const char *d = param_str(r, "domain_name");
	if (!d || !*d)
		return req_fail(r, ERR_PARAM_MISSING, "domain_name", "domain_name");
	if (host_name_normalize(d, out) != 0)
		return req_fail(r, ERR_PARAM_BAD, "domain_name",
				"The domain name you provided is invalid. Please provide a valid "
				"domain name such as `example.com`, without a scheme or path.");
	return 0;
}

/* ---- payment method domains ---- */

struct pmd {
	char id[ID_MAX];
	int64_t created;
	char domain_name[DOMAIN_MAX + 1];
	bool enabled;
};

static const char SQL_PMD_GET[] = "SELECT id, created, domain_name, enabled FROM"
				  " payment_method_domains WHERE merchant_id = $1 AND id = $2";
static const char SQL_PMD_INSERT[] =
    "INSERT INTO payment_method_domains (merchant_id, id, created, domain_name, enabled)"
    " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (merchant_id, domain_name) DO NOTHING";
static const char SQL_PMD_UPDATE[] =
    "UPDATE payment_method_domains SET enabled = $3 WHERE merchant_id = $1 AND id = $2";

static int pmd_load(struct req *r, struct db *db, const char *id, struct pmd *d)
{
	struct db_stmt *st;
	int rc = db_row_by_id(db, SQL_PMD_GET, r->merchant_id, id, &st);
	if (rc != DB_OK)
		return rc;
	memset(d, 0, sizeof(*d));
	str_copy(d->id, sizeof(d->id), db_col_text(st, 0, NULL));
	d->created = db_col_int64(st, 1);
	str_copy(d->domain_name, sizeof(d->domain_name), db_col_text(st, 2, NULL));
	d->enabled = db_col_int64(st, 3) != 0;
	db_reset(st);
	return DB_OK;
}

static void wallet(struct json *j, const char *name)
{
	json_key(j, name);
	json_obj_open(j);
	json_kv_str(j, "status", "active");
	json_obj_close(j);
}

static void pmd_render(struct req *r, const struct pmd *d, struct json *j)
{
	json_obj_open(j);
	json_kv_str(j, "id", d->id);
	json_kv_str(j, "object", "payment_method_domain");
	wallet(j, "amazon_pay");
	wallet(j, "apple_pay");
	json_kv_int(j, "created", d->created);
	json_kv_str(j, "domain_name", d->domain_name);
	json_kv_bool(j, "enabled", d->enabled);
	wallet(j, "google_pay");
	wallet(j, "klarna");
	wallet(j, "link");
	json_kv_bool(j, "livemode", r->livemode);
	wallet(j, "paypal");
	json_obj_close(j);
}

struct pmd_ctx {
	struct req *r;
	const char *id;
	struct pmd d;
};

static int pmd_create_fn(struct db *db, void *arg)
{
	struct pmd_ctx *x = arg;
	struct req *r = x->r;
	struct db_stmt *st = db_prepare(db, SQL_PMD_INSERT);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, x->d.id, -1);
	db_bind_int64(st, 3, x->d.created);
	db_bind_text(st, 4, x->d.domain_name, -1);
	db_bind_int64(st, 5, x->d.enabled ? 1 : 0);
	int64_t n = 0;
	if (db_step_changes(st, &n) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (n == 0)
		return req_fail(r, ERR_RESOURCE_EXISTS, "domain_name",
				"A payment method domain with the domain name `%s` already exists "
				"on this account.",
				x->d.domain_name);
	pmd_render(r, &x->d, req_json(r));
	return 0;
}

static int h_pmd_create(struct req *r)
{
	struct pmd_ctx x = {.r = r};
	if (domain_name_param(r, x.d.domain_name) != 0)
		return -1;
	id_new_at(x.d.id, "pmd_", r->now);
	x.d.created = r->now;
	x.d.enabled = true;
	param_bool(r, "enabled", &x.d.enabled);
	return req_write(r, pmd_create_fn, &x);
}

static int pmd_load_fn(struct db *db, void *arg)
{
	struct pmd_ctx *x = arg;
	int rc = pmd_load(x->r, db, x->id, &x->d);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(x->r, "payment_method_domain", x->id,
					"payment_method_domain");
	if (rc != DB_OK)
		return req_fail(x->r, ERR_API, NULL, NULL);
	return 0;
}

/* retrieve, and validate: the domain as it is (every wallet active, see the top) */
static int pmd_show_fn(struct db *db, void *arg)
{
	struct pmd_ctx *x = arg;
	if (pmd_load_fn(db, arg) != 0)
		return -1;
	pmd_render(x->r, &x->d, req_json(x->r));
	return 0;
}

static int h_pmd_retrieve(struct req *r)
{
	struct pmd_ctx x = {.r = r, .id = r->args[0]};
	return req_read(r, pmd_show_fn, &x) == 0 ? 0 : -1;
}

static int h_pmd_validate(struct req *r)
{
	/* a write, so that an Idempotency-Key's answer is saved as for any POST */
	struct pmd_ctx x = {.r = r, .id = r->args[0]};
	return req_write(r, pmd_show_fn, &x);
}

static int pmd_update_fn(struct db *db, void *arg)
{
	struct pmd_ctx *x = arg;
	struct req *r = x->r;
	if (pmd_load_fn(db, arg) != 0)
		return -1;
	param_bool(r, "enabled", &x->d.enabled);
	struct db_stmt *st = db_prepare(db, SQL_PMD_UPDATE);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, x->d.id, -1);
	db_bind_int64(st, 3, x->d.enabled ? 1 : 0);
	if (db_step_done(st) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	pmd_render(r, &x->d, req_json(r));
	return 0;
}

static int h_pmd_update(struct req *r)
{
	struct pmd_ctx x = {.r = r, .id = r->args[0]};
	return req_write(r, pmd_update_fn, &x);
}

static const char SQL_PMD_CURSOR[] =
    "SELECT created FROM payment_method_domains WHERE merchant_id = $1 AND id = $2";
#define PMD_LIST                                                                                   \
	"SELECT id FROM payment_method_domains WHERE merchant_id = $1 AND id > $2 AND id < $3"     \
	" AND ($5 IS NULL OR domain_name = $5) AND ($6 IS NULL OR enabled = $6)"
static const char SQL_PMD_DESC[] = PMD_LIST " ORDER BY id DESC LIMIT $4";
static const char SQL_PMD_ASC[] = PMD_LIST " ORDER BY id ASC LIMIT $4";

/* domain_name filters by the normalized name (an invalid one matches nothing) */
static void domain_filter(struct req *r, struct db_stmt *st, int idx)
{
	const char *d = param_str(r, "domain_name");
	char norm[DOMAIN_MAX + 1];
	if (!d || !*d)
		db_bind_null(st, idx);
	else if (host_name_normalize(d, norm) == 0)
		db_bind_text(st, idx, norm, -1);
	else
		db_bind_text(st, idx, d, -1);
}

static int pmd_list_bind(struct req *r, struct db_stmt *st, int first, void *ctx)
{
	(void)ctx;
	domain_filter(r, st, first);
	list_bind_bool(r, st, first + 1, "enabled");
	return 0;
}

static int pmd_list_render(struct req *r, struct db *db, const char *id, struct json *j, void *ctx)
{
	(void)ctx;
	struct pmd d;
	int rc = pmd_load(r, db, id, &d);
	if (rc == DB_OK)
		pmd_render(r, &d, j);
	return rc;
}

static int h_pmd_list(struct req *r)
{
	static const struct list_spec spec = {
	    .url = "/v1/payment_method_domains",
	    .object_name = "payment_method_domain",
	    .id_prefix = "pmd_",
	    .sql_cursor = SQL_PMD_CURSOR,
	    .sql_desc = SQL_PMD_DESC,
	    .sql_asc = SQL_PMD_ASC,
	    .bind_filters = pmd_list_bind,
	    .render = pmd_list_render,
	};
	return list_respond(r, &spec);
}

/* ---- legacy Apple Pay domains ---- */

struct apd {
	char id[ID_MAX];
	int64_t created;
	char domain_name[DOMAIN_MAX + 1];
};

static const char SQL_APD_GET[] = "SELECT id, created, domain_name FROM apple_pay_domains"
				  " WHERE merchant_id = $1 AND id = $2";
static const char SQL_APD_INSERT[] =
    "INSERT INTO apple_pay_domains (merchant_id, id, created, domain_name)"
    " VALUES ($1, $2, $3, $4) ON CONFLICT (merchant_id, domain_name) DO NOTHING";
static const char SQL_APD_DELETE[] =
    "DELETE FROM apple_pay_domains WHERE merchant_id = $1 AND id = $2";

static int apd_load(struct req *r, struct db *db, const char *id, struct apd *d)
{
	struct db_stmt *st;
	int rc = db_row_by_id(db, SQL_APD_GET, r->merchant_id, id, &st);
	if (rc != DB_OK)
		return rc;
	memset(d, 0, sizeof(*d));
	str_copy(d->id, sizeof(d->id), db_col_text(st, 0, NULL));
	d->created = db_col_int64(st, 1);
	str_copy(d->domain_name, sizeof(d->domain_name), db_col_text(st, 2, NULL));
	db_reset(st);
	return DB_OK;
}

static void apd_render(struct req *r, const struct apd *d, struct json *j)
{
	json_obj_open(j);
	json_kv_str(j, "id", d->id);
	json_kv_str(j, "object", "apple_pay_domain");
	json_kv_int(j, "created", d->created);
	json_kv_str(j, "domain_name", d->domain_name);
	json_kv_bool(j, "livemode", r->livemode);
	json_obj_close(j);
}

struct apd_ctx {
	struct req *r;
	const char *id;
	struct apd d;
};

static int apd_create_fn(struct db *db, void *arg)
{
	struct apd_ctx *x = arg;
	struct req *r = x->r;
	struct db_stmt *st = db_prepare(db, SQL_APD_INSERT);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, x->d.id, -1);
	db_bind_int64(st, 3, x->d.created);
	db_bind_text(st, 4, x->d.domain_name, -1);
	int64_t n = 0;
	if (db_step_changes(st, &n) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (n == 0)
		return req_fail(r, ERR_RESOURCE_EXISTS, "domain_name",
				"The domain `%s` is already registered for Apple Pay on this "
				"account.",
				x->d.domain_name);
	apd_render(r, &x->d, req_json(r));
	return 0;
}

static int h_apd_create(struct req *r)
{
	struct apd_ctx x = {.r = r};
	if (domain_name_param(r, x.d.domain_name) != 0)
		return -1;
	id_new_at(x.d.id, "apwc_", r->now);
	x.d.created = r->now;
	return req_write(r, apd_create_fn, &x);
}

static int apd_load_fn(struct db *db, void *arg)
{
	struct apd_ctx *x = arg;
	int rc = apd_load(x->r, db, x->id, &x->d);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(x->r, "apple_pay_domain", x->id, "domain");
	if (rc != DB_OK)
		return req_fail(x->r, ERR_API, NULL, NULL);
	return 0;
}

static int apd_retrieve_fn(struct db *db, void *arg)
{
	struct apd_ctx *x = arg;
	if (apd_load_fn(db, arg) != 0)
		return -1;
	apd_render(x->r, &x->d, req_json(x->r));
	return 0;
}

static int h_apd_retrieve(struct req *r)
{
	struct apd_ctx x = {.r = r, .id = r->args[0]};
	return req_read(r, apd_retrieve_fn, &x) == 0 ? 0 : -1;
}

static int apd_delete_fn(struct db *db, void *arg)
{
	struct apd_ctx *x = arg;
	struct req *r = x->r;
	if (apd_load_fn(db, arg) != 0)
		return -1;
	if (db_run_by_id(db, SQL_APD_DELETE, r->merchant_id, x->d.id) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	struct json *j = req_json(r);
	json_obj_open(j);
	json_kv_str(j, "id", x->d.id);
	json_kv_str(j, "object", "apple_pay_domain");
	json_kv_bool(j, "deleted", true);
	json_obj_close(j);
	return 0;
}

static int h_apd_delete(struct req *r)
{
	struct apd_ctx x = {.r = r, .id = r->args[0]};
	return req_write(r, apd_delete_fn, &x);
}

static const char SQL_APD_CURSOR[] =
    "SELECT created FROM apple_pay_domains WHERE merchant_id = $1 AND id = $2";
#define APD_LIST                                                                                   \
	"SELECT id FROM apple_pay_domains WHERE merchant_id = $1 AND id > $2 AND id < $3"          \
	" AND ($5 IS NULL OR domain_name = $5)"
static const char SQL_APD_DESC[] = APD_LIST " ORDER BY id DESC LIMIT $4";
static const char SQL_APD_ASC[] = APD_LIST " ORDER BY id ASC LIMIT $4";

static int apd_list_bind(struct req *r, struct db_stmt *st, int first, void *ctx)
{
	(void)ctx;
	domain_filter(r, st, first);
	return 0;
}

static int apd_list_render(struct req *r, struct db *db, const char *id, struct json *j, void *ctx)
{
	(void)ctx;
	struct apd d;
	int rc = apd_load(r, db, id, &d);
	if (rc == DB_OK)
		apd_render(r, &d, j);
	return rc;
}

static int h_apd_list(struct req *r)
{
	static const struct list_spec spec = {
	    .url = "/v1/apple_pay/domains",
	    .object_name = "apple_pay_domain",
	    .id_prefix = "apwc_",
	    .sql_cursor = SQL_APD_CURSOR,
	    .sql_desc = SQL_APD_DESC,
	    .sql_asc = SQL_APD_ASC,
	    .bind_filters = apd_list_bind,
	    .render = apd_list_render,
	};
	return list_respond(r, &spec);
}

/* ---- routes ---- */

static const struct param_spec pmd_create_params[] = {
    {"domain_name", PT_STRING, PF_REQUIRED, 5000, NULL, NULL},
    {"enabled", PT_BOOL, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec pmd_update_params[] = {
    {"enabled", PT_BOOL, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec pmd_list_params[] = {
    {"domain_name", PT_STRING, 0, 5000, NULL, NULL},
    {"enabled", PT_BOOL, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec apd_create_params[] = {
    {"domain_name", PT_STRING, PF_REQUIRED, 5000, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec apd_list_params[] = {
    {"domain_name", PT_STRING, 0, 5000, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec no_params[] = {{NULL, 0, 0, 0, NULL, NULL}};

const struct route payment_method_domains_routes[] = {
    {"POST", "/v1/payment_method_domains", h_pmd_create, pmd_create_params, 0},
    {"GET", "/v1/payment_method_domains", h_pmd_list, pmd_list_params, ROUTE_LIST},
    {"POST", "/v1/payment_method_domains/{id}/validate", h_pmd_validate, no_params, 0},
    {"GET", "/v1/payment_method_domains/{id}", h_pmd_retrieve, no_params, 0},
    {"POST", "/v1/payment_method_domains/{id}", h_pmd_update, pmd_update_params, 0},
    {"POST", "/v1/apple_pay/domains", h_apd_create, apd_create_params, 0},
    {"GET", "/v1/apple_pay/domains", h_apd_list, apd_list_params, ROUTE_LIST},
    {"GET", "/v1/apple_pay/domains/{id}", h_apd_retrieve, no_params, 0},
    {"DELETE", "/v1/apple_pay/domains/{id}", h_apd_delete, no_params, 0},
    {NULL, NULL, NULL, NULL, 0},
};
