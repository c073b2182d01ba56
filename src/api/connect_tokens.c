/*
 * Connect's account, person and PII tokens (connect_tokens.h). The parameters a token carries
 * are validated when it is made, as the account or person create would validate them, and kept
 * form-encoded; applying it parses them again into the request (req_params_graft), so the
 * account and person code sees exactly what a request sending them would have sent, and there
 * is one path for both ways. Identity numbers (id_number, ssn_last_4, id_number_secondary) and a
 * company's tax_id are not in what is kept: the row says only that they were given, and applying
 * the token passes a stand-in that person_apply (or the account's company) turns into the same
 * *_provided flag, which is all Tender keeps of them anyway.
 */
#include "api/connect_tokens.h"

#include <stdio.h>
#include <string.h>

#include "api/accounts.h"
#include "api/persons.h"
#include "app.h"
#include "core/buf.h"
#include "core/str.h"
#include "http/form.h"
#include "store/store.h"

#define DATA_MAX (256u << 10)

const struct param_spec connect_token_account_params[] = {
    {"business_type", PT_ENUM, 0, 0, accounts_business_types, NULL},
    {"company", PT_OBJECT, 0, 0, NULL, accounts_company_params},
    {"individual", PT_OBJECT, 0, 0, NULL, person_params},
    {"tos_shown_and_accepted", PT_BOOL, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
const struct param_spec connect_token_pii_params[] = {
    {"id_number", PT_STRING, 0, 64, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};

static const struct {
	const char *param, *prefix, *type;
} kinds[] = {
    {"account", "ct_", "account"},
    {"person", "cpt_", "person"},
    {"pii", "pii_", "pii"},
};

bool connect_token_id(const char *id)
{
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strncmp(id, kinds[i].prefix, strlen(kinds[i].prefix)) == 0)
			return true;
	return false;
}

static const char SQL_PUT[] =
    "INSERT INTO connect_tokens (merchant_id, id, type, created, client_ip, data,"
    " id_number_provided, ssn_last_4_provided, tax_id_provided, id_number_secondary_provided)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";
static const char SQL_GET[] =
    "SELECT type, created, client_ip, data, id_number_provided, ssn_last_4_provided, used,"
    " tax_id_provided, id_number_secondary_provided"
    " FROM connect_tokens WHERE merchant_id = $1 AND id = $2";
static const char SQL_USE[] =
    "UPDATE connect_tokens SET used = 1 WHERE merchant_id = $1 AND id = $2 AND used = 0";

struct ctoken {
	char id[ID_MAX];
	const char *type, *client_ip, *data;
	int64_t created;
	bool id_number, ssn_last_4, tax_id, id_number_secondary, used;
};

static void render(struct req *r, const struct ctoken *t)
{
	struct json *j = req_json(r);
	json_obj_open(j);
	json_kv_str(j, "id", t->id);
	json_kv_str(j, "object", "token");
	json_kv_str_or_null(j, "client_ip", t->client_ip);
	json_kv_int(j, "created", t->created);
	json_kv_bool(j, "livemode", r->livemode);
	json_kv_str(j, "type", t->type);
	json_kv_bool(j, "used", t->used);
	json_obj_close(j);
}

static bool identity_key(const struct form_node *n)
{
	return strcmp(n->key, "id_number") == 0 || strcmp(n->key, "ssn_last_4") == 0 ||
	       strcmp(n->key, "id_number_secondary") == 0;
}

/* A person's parameters (person[…], or an account token's individual[…]) under name ("" for a
 * person token, whose keys are the persons API's own), the identity numbers left out. */
static void encode_person(struct buf *b, const struct form_node *n, const char *name)
{
	for (const struct form_node *c = n ? n->first_child : NULL; c; c = c->next) {
		if (identity_key(c))
			continue;
		char key[320];
		if (name[0])
			snprintf(key, sizeof(key), "%s[%s]", name, c->key);
		else
			snprintf(key, sizeof(key), "%s", c->key);
		form_encode(b, c, key);
	}
}

/* Checks a person's parameters as the persons API or individual[…] would (dates of birth,
 * ssn_last_4's form, percent_ownership) and notes which identity numbers were given. */
static int person_check(struct req *r, const char *prefix, struct ctoken *t)
{
	struct person p;
	memset(&p, 0, sizeof(p));
	p.rel_director = p.rel_executive = p.rel_owner = p.rel_representative = -1;
	p.metadata = "{}";
	if (person_apply(r, prefix, &p) != 0)
		return -1;
	t->id_number = p.id_number_provided;
	t->ssn_last_4 = p.ssn_last_4_provided;
	char path[64];
	snprintf(path, sizeof(path), "%s.id_number_secondary", prefix);
	const char *sec = param_str(r, path);
	t->id_number_secondary = sec && *sec;
	return 0;
}

struct create_ctx {
	struct req *r;
	struct ctoken t;
};

static int create_fn(struct db *db, void *arg)
{
	struct create_ctx *c = arg;
	struct req *r = c->r;
	struct db_stmt *st = db_prepare(db, SQL_PUT);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, c->t.id, -1);
	db_bind_text(st, 3, c->t.type, -1);
	db_bind_int64(st, 4, c->t.created);
	db_bind_text(st, 5, c->t.client_ip, -1);
	db_bind_text(st, 6, c->t.data, -1);
	db_bind_int64(st, 7, c->t.id_number);
	db_bind_int64(st, 8, c->t.ssn_last_4);
	db_bind_int64(st, 9, c->t.tax_id);
	db_bind_int64(st, 10, c->t.id_number_secondary);
	if (db_step_done(st) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	render(r, &c->t);
	return 0;
}

int connect_tokens_h_create(struct req *r)
{
	static const char *const all[] = {"account",	"bank_account", "card",
					  "cvc_update", "person",	"pii"};
	int given = 0;
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		given += param_present(r, all[i]);
	if (given > 1)
		return req_fail(r, ERR_PARAM_BAD, NULL,
				"You may only specify one of these parameters: account, "
				"bank_account, card, cvc_update, person, pii.");
	if (param_present(r, "customer"))
		return req_fail(r, ERR_PARAM_BAD, "customer",
				"customer is only for a card token, not an account, person or PII "
				"token.");
	struct create_ctx c = {.r = r};
	struct ctoken *t = &c.t;
	size_t k = 0;
	while (k < sizeof(kinds) / sizeof(kinds[0]) && !param_present(r, kinds[k].param))
		k++;
	if (k == sizeof(kinds) / sizeof(kinds[0]))
		return req_fail(r, ERR_PARAM_MISSING, "card", "%s", "card");
	t->type = kinds[k].type;
	t->created = r->now;
	t->client_ip = r->client_ip[0] ? r->client_ip : NULL;
	id_new(t->id, kinds[k].prefix);

	struct buf b;
	buf_init(&b, DATA_MAX);
	if (strcmp(t->type, "account") == 0) {
		const struct form_node *a = param_node(r, "account");
		if (person_check(r, "account.individual", t) != 0) {
			buf_release(&b);
			return -1;
		}
		if (form_get(a, "business_type"))
			form_encode(&b, form_get(a, "business_type"), "business_type");
		/* the company's tax id is not kept either: accounts keep only that it was given */
		const struct form_node *co = form_get(a, "company");
		for (const struct form_node *n = co ? co->first_child : NULL; n; n = n->next) {
			char key[320];
			snprintf(key, sizeof(key), "company[%s]", n->key);
			if (strcmp(n->key, "tax_id") == 0)
				t->tax_id = n->value && n->value[0];
			else
				form_encode(&b, n, key);
		}
		encode_person(&b, form_get(a, "individual"), "individual");
		bool tos = false;
		/* shown and accepted: the account's tos_acceptance is when and where the token was
		 * made, which is what the platform attests (an IP address is digits, dots and
		 * colons: nothing to encode) */
		if (param_bool(r, "account.tos_shown_and_accepted", &tos) == 1 && tos) {
			buf_printf(&b, "%stos_acceptance%%5Bdate%%5D=%lld", b.len ? "&" : "",
				   (long long)t->created);
			if (t->client_ip)
				buf_printf(&b, "&tos_acceptance%%5Bip%%5D=%s", t->client_ip);
		}
	} else if (strcmp(t->type, "person") == 0) {
		if (person_check(r, "person", t) != 0) {
			buf_release(&b);
			return -1;
		}
		encode_person(&b, param_node(r, "person"), "");
	} else {
		const char *n = param_str(r, "pii.id_number");
		if (!n || !*n) {
			buf_release(&b);
			return req_fail(r, ERR_PARAM_MISSING, "pii[id_number]", "%s",
					"pii[id_number]");
		}
		t->id_number = true;
	}
	t->data = b.failed ? NULL : arena_strdup(&r->arena, b.len ? buf_cstr(&b) : "");
	buf_release(&b);
	if (!t->data)
		return req_fail(r, ERR_PARAM_BAD, NULL, "The token's parameters are too large.");
	return req_write(r, create_fn, &c);
}

static int load(struct req *r, struct db *db, const char *id, struct ctoken *t)
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
	memset(t, 0, sizeof(*t));
	str_copy(t->id, sizeof(t->id), id);
	t->type = arena_strdup(&r->arena, db_col_text(st, 0, NULL));
	t->created = db_col_int64(st, 1);
	const char *ip = db_col_text(st, 2, NULL);
	t->client_ip = ip ? arena_strdup(&r->arena, ip) : NULL;
	t->data = arena_strdup(&r->arena, db_col_text(st, 3, NULL));
	t->id_number = db_col_int64(st, 4) != 0;
	t->ssn_last_4 = db_col_int64(st, 5) != 0;
	t->used = db_col_int64(st, 6) != 0;
	t->tax_id = db_col_int64(st, 7) != 0;
	t->id_number_secondary = db_col_int64(st, 8) != 0;
	db_reset(st);
	return t->type && t->data ? DB_OK : DB_ERR;
}

struct id_ctx {
	struct req *r;
	const char *id;
	struct ctoken t;
};

static int retrieve_fn(struct db *db, void *arg)
{
	struct id_ctx *x = arg;
	int rc = load(x->r, db, x->id, &x->t);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(x->r, "token", x->id, "token");
	if (rc != DB_OK)
		return req_fail(x->r, ERR_API, NULL, NULL);
	render(x->r, &x->t);
	return 0;
}

int connect_tokens_h_retrieve(struct req *r)
{
	struct id_ctx x = {.r = r, .id = r->args[0]};
	return req_read(r, retrieve_fn, &x) == 0 ? 0 : -1;
}

static int apply_fn(struct db *db, void *arg)
{
	struct id_ctx *x = arg;
	int rc = load(x->r, db, x->id, &x->t);
	if (rc == DB_NOTFOUND) {
		x->t.type = NULL; /* connect_token_apply answers for it */
		return 0;
	}
	return rc == DB_OK ? 0 : req_fail(x->r, ERR_API, NULL, NULL);
}

/* Stripe's refusal of a detail sent beside the token that carries it */
static int beside_token(struct req *r, const char *key, const char *type)
{
	return req_fail(r, ERR_PARAM_BAD, key,
			"Parameter '%s' cannot be used in conjunction with %s %s token.", key,
			strchr("aeiou", type[0]) ? "an" : "a", type);
}

int connect_token_apply(struct req *r, const char *id, const char *type, const char *param,
			const char *const *keys, const struct param_spec *carried)
{
	for (const char *const *k = keys; k && *k; k++)
		if (param_present(r, *k))
			return beside_token(r, *k, type);
	/* every detail the token's spec carries, but metadata, which is the object's own */
	for (const struct param_spec *p = carried; p && p->name; p++)
		if (strcmp(p->name, "metadata") != 0 && param_present(r, p->name))
			return beside_token(r, p->name, type);
	struct id_ctx x = {.r = r, .id = id};
	if (req_read(r, apply_fn, &x) != 0)
		return -1;
	/* another merchant's token, or one of another kind, is as unknown as none */
	if (!x.t.type || strcmp(x.t.type, type) != 0)
		return req_fail(r, ERR_PARAM_BAD, param, "No such token: '%s'", id);
	if (x.t.used)
		return req_fail(r, ERR_TOKEN_USED, param, "%s", id);
	/* the stand-ins person_apply takes for "an identity number was given" (the header of this
	 * file says why) */
	const char *pre = strcmp(type, "account") == 0 ? "individual%5B" : "";
	const char *post = pre[0] ? "%5D" : "";
	struct buf b;
	buf_init(&b, DATA_MAX + 128);
	buf_puts(&b, x.t.data);
	if (x.t.id_number)
		buf_printf(&b, "%s%sid_number%s=provided", b.len ? "&" : "", pre, post);
	if (x.t.ssn_last_4)
		buf_printf(&b, "%s%sssn_last_4%s=0000", b.len ? "&" : "", pre, post);
	if (x.t.id_number_secondary)
		buf_printf(&b, "%s%sid_number_secondary%s=provided", b.len ? "&" : "", pre, post);
	if (x.t.tax_id)
		buf_printf(&b, "%scompany%%5Btax_id%%5D=provided", b.len ? "&" : "");
	const char *extra = b.failed ? NULL : arena_strdup(&r->arena, b.len ? buf_cstr(&b) : "");
	buf_release(&b);
	if (!extra)
		return req_fail(r, ERR_API, NULL, NULL);
	struct form_node *tree = NULL;
	if (form_parse(&r->arena, extra, strlen(extra), &tree, NULL) != 0)
		return req_fail(r, ERR_API, NULL, NULL);
	return req_params_graft(r, tree);
}

int connect_token_use(struct req *r, struct db *db, const char *id, const char *param)
{
	struct db_stmt *st = db_prepare(db, SQL_USE);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, id, -1);
	int64_t n = 0;
	if (db_step_changes(st, &n) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (n != 1)
		return req_fail(r, ERR_TOKEN_USED, param, "%s", id);
	return 0;
}
