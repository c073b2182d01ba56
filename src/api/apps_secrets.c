/*
 * Stripe Apps' Secret Store (/v1/apps/secrets): a merchant's secrets, each named within a scope
 * (the account, or one user of it), at most one live per name. Creating a name that exists
 * replaces it (Stripe's "create or replace"): the old secret is deleted and a new one made, in
 * one write. The payload is sealed by the vault (vault_app_secrets) and answered only by find
 * with expand[]=payload (or a list with expand[]=data.payload): never by a write, whose answer
 * an Idempotency-Key keeps in the store, and never in the request hash (idempotency.c). A
 * secret past its expires_at is gone, as a deleted one.
 */
#include <stdio.h>
#include <string.h>

#include "api/list.h"
#include "api/resources.h"
#include "app.h"
#include "core/str.h"
#include "store/store.h"
#include "vault/vault.h"

static const char SQL_LIVE[] =
    "SELECT id, created, expires_at FROM apps_secrets WHERE merchant_id = $1 AND scope_type = $2"
    " AND COALESCE(scope_user, '') = $3 AND name = $4 AND deleted = 0"
    " AND (expires_at IS NULL OR expires_at > $5)";
static const char SQL_PUT[] =
    "INSERT INTO apps_secrets (merchant_id, id, created, name, scope_type, scope_user, expires_at)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7)";
static const char SQL_DELETE[] =
    "UPDATE apps_secrets SET deleted = 1 WHERE merchant_id = $1 AND id = $2 AND deleted = 0";
/* an expired secret still live in the table, deleted (and its payload erased) when its name is
 * written again */
static const char SQL_EXPIRED[] =
    "SELECT id FROM apps_secrets WHERE merchant_id = $1 AND scope_type = $2"
    " AND COALESCE(scope_user, '') = $3 AND name = $4 AND deleted = 0 AND expires_at <= $5";
static const char SQL_GET[] = "SELECT id, created, name, scope_type, scope_user, expires_at"
			      " FROM apps_secrets WHERE merchant_id = $1 AND id = $2";

struct secret {
	char id[ID_MAX];
	const char *name, *scope_type, *scope_user;
	int64_t created, expires_at; /* 0: none */
	bool deleted;
};

/* scope[type] and scope[user] as Stripe asks them: a user only for type=user */
static int scope_params(struct req *r, const char **ret_type, const char **ret_user)
{
	const char *type = param_str(r, "scope.type");
	const char *user = param_str(r, "scope.user");
	if (!type)
		return req_fail(r, ERR_PARAM_MISSING, "scope[type]", "%s", "scope[type]");
	if (strcmp(type, "user") == 0 && (!user || !*user))
		return req_fail(r, ERR_PARAM_MISSING, "scope[user]", "%s", "scope[user]");
	if (strcmp(type, "account") == 0 && user)
		return req_fail(r, ERR_PARAM_BAD, "scope[user]",
				"scope[user] is only for secrets of scope type user.");
	*ret_type = type;
	*ret_user = strcmp(type, "user") == 0 ? user : NULL;
	return 0;
}

static void render(struct req *r, struct json *j, const struct secret *s, const char *payload)
{
	json_obj_open(j);
	json_kv_str(j, "id", s->id);
	json_kv_str(j, "object", "apps.secret");
	json_kv_int(j, "created", s->created);
	if (s->deleted)
		json_kv_bool(j, "deleted", true);
	if (s->expires_at)
		json_kv_int(j, "expires_at", s->expires_at);
	else
		json_kv_null(j, "expires_at");
	json_kv_bool(j, "livemode", r->livemode);
	json_kv_str(j, "name", s->name);
	json_kv_str_or_null(j, "payload", payload);
	json_key(j, "scope");
	json_obj_open(j);
	json_kv_str(j, "type", s->scope_type);
	if (s->scope_user)
		json_kv_str(j, "user", s->scope_user);
	json_obj_close(j);
	json_obj_close(j);
}

static int load(struct req *r, struct db *db, const char *id, struct secret *s)
{
	struct db_stmt *st = db_prepare(db, SQL_GET);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, id, -1);
	int rc = db_step(st);
	if (rc != DB_ROW) {
		db_reset(st);
		return rc == DB_DONE ? DB_NOTFOUND : DB_ERR;
	}
	memset(s, 0, sizeof(*s));
	str_copy(s->id, sizeof(s->id), db_col_text(st, 0, NULL));
	s->created = db_col_int64(st, 1);
	s->name = arena_strdup(&r->arena, db_col_text(st, 2, NULL));
	s->scope_type = arena_strdup(&r->arena, db_col_text(st, 3, NULL));
	const char *u = db_col_text(st, 4, NULL);
	s->scope_user = u ? arena_strdup(&r->arena, u) : NULL;
	s->expires_at = db_col_int64_or0(st, 5);
	db_reset(st);
	return s->name && s->scope_type ? DB_OK : DB_ERR;
}

/* The live secret of (scope, name): DB_OK with *s, DB_NOTFOUND, or < 0. */
static int find_live(struct req *r, struct db *db, const char *type, const char *user,
		     const char *name, struct secret *s)
{
	struct db_stmt *st = db_prepare(db, SQL_LIVE);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, type, -1);
	db_bind_text(st, 3, user ? user : "", -1);
	db_bind_text(st, 4, name, -1);
	db_bind_int64(st, 5, r->now);
	int rc = db_step(st);
	char id[ID_MAX] = "";
	if (rc == DB_ROW)
		str_copy(id, sizeof(id), db_col_text(st, 0, NULL));
	db_reset(st);
	if (rc != DB_ROW)
		return rc == DB_DONE ? DB_NOTFOUND : DB_ERR;
	return load(r, db, id, s);
}

/* Deletes secret id and erases its payload. */
static int delete_row(struct req *r, struct db *db, const char *id)
{
	struct db_stmt *st = db_prepare(db, SQL_DELETE);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, id, -1);
	int rc = db_step_done(st);
	return rc == DB_OK ? vault_app_secret_erase(db, r->merchant_id, id) : rc;
}

/* The expired secrets of (scope, name), deleted now that the name is written again. */
static int sweep_expired(struct req *r, struct db *db, const char *type, const char *user,
			 const char *name)
{
	char ids[8][ID_MAX];
	int n = 0, rc;
	struct db_stmt *st = db_prepare(db, SQL_EXPIRED);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, type, -1);
	db_bind_text(st, 3, user ? user : "", -1);
	db_bind_text(st, 4, name, -1);
	db_bind_int64(st, 5, r->now);
	while (n < 8 && (rc = db_step(st)) == DB_ROW)
		str_copy(ids[n++], ID_MAX, db_col_text(st, 0, NULL));
	db_reset(st);
	for (int i = 0; i < n; i++)
		if ((rc = delete_row(r, db, ids[i])) != DB_OK)
			return rc;
	return DB_OK;
}

struct w_ctx {
	struct req *r;
	const char *type, *user, *name, *payload;
	int64_t expires_at;
};

static int create_fn(struct db *db, void *arg)
{
	struct w_ctx *c = arg;
	struct req *r = c->r;
	struct secret old, s;
	int rc = find_live(r, db, c->type, c->user, c->name, &old);
	if (rc == DB_OK)
		rc = delete_row(r, db, old.id); /* replaced */
	else if (rc == DB_NOTFOUND)
		rc = DB_OK;
	if (rc == DB_OK)
		rc = sweep_expired(r, db, c->type, c->user, c->name);
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	memset(&s, 0, sizeof(s));
	id_new_at(s.id, "appsecret_", r->now);
	s.created = r->now;
	s.name = c->name;
	s.scope_type = c->type;
	s.scope_user = c->user;
	s.expires_at = c->expires_at;
	struct db_stmt *st = db_prepare(db, SQL_PUT);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, s.id, -1);
	db_bind_int64(st, 3, s.created);
	db_bind_text(st, 4, s.name, -1);
	db_bind_text(st, 5, s.scope_type, -1);
	db_bind_text(st, 6, s.scope_user, -1);
	if (s.expires_at)
		db_bind_int64(st, 7, s.expires_at);
	else
		db_bind_null(st, 7);
	if (db_step_done(st) != DB_OK || vault_app_secret_store(r->app->vault, db, r->merchant_id,
								s.id, c->payload, r->now) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	render(r, req_json(r), &s, NULL); /* never the payload: this answer may be kept */
	return 0;
}

static int h_create(struct req *r)
{
	struct w_ctx c = {.r = r, .name = param_str(r, "name"), .payload = param_str(r, "payload")};
	if (scope_params(r, &c.type, &c.user) != 0)
		return -1;
	if (!c.name || !*c.name)
		return req_fail(r, ERR_PARAM_MISSING, "name", "%s", "name");
	if (!c.payload || !*c.payload)
		return req_fail(r, ERR_PARAM_MISSING, "payload", "%s", "payload");
	if (req_expand_has(r, "payload"))
		return req_fail(r, ERR_PARAM_BAD, "expand",
				"A secret's payload is answered only by find (GET "
				"/v1/apps/secrets/find with expand[]=payload).");
	if (param_present(r, "expires_at")) {
		if (param_int(r, "expires_at", &c.expires_at) != 1 || c.expires_at <= r->now)
			return req_fail(r, ERR_PARAM_BAD, "expires_at",
					"Invalid expires_at: a Unix timestamp in the future.");
	}
	return req_write(r, create_fn, &c);
}

static int delete_fn(struct db *db, void *arg)
{
	struct w_ctx *c = arg;
	struct req *r = c->r;
	struct secret s;
	int rc = find_live(r, db, c->type, c->user, c->name, &s);
	if (rc == DB_NOTFOUND)
		return req_fail(r, ERR_RESOURCE_MISSING, "name", "No such secret: '%s'", c->name);
	if (rc != DB_OK || delete_row(r, db, s.id) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	s.deleted = true;
	render(r, req_json(r), &s, NULL);
	return 0;
}

static int h_delete(struct req *r)
{
	struct w_ctx c = {.r = r, .name = param_str(r, "name")};
	if (scope_params(r, &c.type, &c.user) != 0)
		return -1;
	if (!c.name || !*c.name)
		return req_fail(r, ERR_PARAM_MISSING, "name", "%s", "name");
	return req_write(r, delete_fn, &c);
}

/* The secret's payload, opened by the vault, when the answer asks for it (want), else NULL;
 * the caller wipes buf. -1 with r->err when the vault cannot open it. */
static int payload_of(struct req *r, struct db *db, const char *id, bool want, char *buf,
		      const char **ret)
{
	*ret = NULL;
	if (!want)
		return 0;
	int rc = vault_app_secret_open(r->app->vault, db, r->merchant_id, id, buf);
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	*ret = buf;
	return 0;
}

static int find_fn(struct db *db, void *arg)
{
	struct w_ctx *c = arg;
	struct req *r = c->r;
	struct secret s;
	int rc = find_live(r, db, c->type, c->user, c->name, &s);
	if (rc == DB_NOTFOUND)
		return req_fail(r, ERR_RESOURCE_MISSING, "name", "No such secret: '%s'", c->name);
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	char buf[VAULT_APP_SECRET_MAX + 1];
	const char *payload;
	rc = payload_of(r, db, s.id, req_expand_has(r, "payload"), buf, &payload);
	if (rc == 0)
		render(r, req_json(r), &s, payload);
	explicit_bzero(buf, sizeof(buf));
	return rc;
}

static int h_find(struct req *r)
{
	struct w_ctx c = {.r = r, .name = param_str(r, "name")};
	if (scope_params(r, &c.type, &c.user) != 0)
		return -1;
	if (!c.name || !*c.name)
		return req_fail(r, ERR_PARAM_MISSING, "name", "%s", "name");
	return req_read(r, find_fn, &c) == 0 ? 0 : -1;
}

static const char SQL_CURSOR[] =
    "SELECT created FROM apps_secrets WHERE merchant_id = $1 AND id = $2";
#define LIST_WHERE                                                                                 \
	"SELECT id FROM apps_secrets WHERE merchant_id = $1 AND id > $2 AND id < $3"               \
	" AND deleted = 0 AND scope_type = $5 AND COALESCE(scope_user, '') = $6"                   \
	" AND (expires_at IS NULL OR expires_at > $7)"
static const char SQL_DESC[] = LIST_WHERE " ORDER BY id DESC LIMIT $4";
static const char SQL_ASC[] = LIST_WHERE " ORDER BY id ASC LIMIT $4";

static int list_bind(struct req *r, struct db_stmt *st, int first, void *ctx)
{
	struct w_ctx *c = ctx;
	db_bind_text(st, first, c->type, -1);
	db_bind_text(st, first + 1, c->user ? c->user : "", -1);
	db_bind_int64(st, first + 2, r->now);
	return 0;
}

static int list_render(struct req *r, struct db *db, const char *id, struct json *j, void *ctx)
{
	(void)ctx;
	struct secret s;
	int rc = load(r, db, id, &s);
	if (rc != DB_OK)
		return rc;
	char buf[VAULT_APP_SECRET_MAX + 1];
	const char *payload;
	/* the list's items: expand[]=data.payload */
	if (payload_of(r, db, s.id, req_expand_has(r, "data.payload"), buf, &payload) != 0)
		rc = DB_ERR;
	if (rc == DB_OK)
		render(r, j, &s, payload);
	explicit_bzero(buf, sizeof(buf));
	return rc;
}

static int h_list(struct req *r)
{
	struct w_ctx c = {.r = r};
	if (scope_params(r, &c.type, &c.user) != 0)
		return -1;
	const struct list_spec spec = {
	    .url = "/v1/apps/secrets",
	    .object_name = "secret",
	    .id_prefix = "appsecret_",
	    .sql_cursor = SQL_CURSOR,
	    .sql_desc = SQL_DESC,
	    .sql_asc = SQL_ASC,
	    .bind_filters = list_bind,
	    .render = list_render,
	    .ctx = &c,
	};
	return list_respond(r, &spec);
}

static const struct param_spec scope_children[] = {
    {"type", PT_ENUM, PF_REQUIRED, 0, (const char *const[]){"account", "user", NULL}, NULL},
    {"user", PT_STRING, 0, 5000, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec create_params[] = {
    {"name", PT_STRING, PF_REQUIRED, 5000, NULL, NULL},
    {"payload", PT_STRING, PF_REQUIRED, VAULT_APP_SECRET_MAX, NULL, NULL},
    {"scope", PT_OBJECT, PF_REQUIRED, 0, NULL, scope_children},
    {"expires_at", PT_INT, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec name_scope_params[] = {
    {"name", PT_STRING, PF_REQUIRED, 5000, NULL, NULL},
    {"scope", PT_OBJECT, PF_REQUIRED, 0, NULL, scope_children},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec list_params[] = {
    {"scope", PT_OBJECT, PF_REQUIRED, 0, NULL, scope_children},
    {NULL, 0, 0, 0, NULL, NULL},
};

const struct route apps_secrets_routes[] = {
    {"POST", "/v1/apps/secrets", h_create, create_params, 0},
    {"GET", "/v1/apps/secrets", h_list, list_params, ROUTE_LIST},
    {"POST", "/v1/apps/secrets/delete", h_delete, name_scope_params, 0},
    {"GET", "/v1/apps/secrets/find", h_find, name_scope_params, ROUTE_READ_ONLY},
    {NULL, NULL, NULL, NULL, 0},
};
