/*
 * Connect persons (/v1/accounts/{id}/persons) and an account's individual (persons.h).
 *
 * A person's rows are scoped by the account it belongs to (persons.merchant_id), like the
 * account's external accounts (external_accounts.c says why, and who may reach them: the
 * account's platform, or the account itself through Stripe-Account; anyone else gets 404).
 * The individual of an individual account is a person row marked `individual`: Stripe shows it
 * both as account.individual and in the account's persons.
 *
 * Identity numbers (id_number, ssn_last_4) are taken and dropped: only that one was provided is
 * kept, and the idempotency hash leaves id_number out (idempotency.c). In test mode a person
 * whose name, date of birth and address are given is "verified".
 *
 * Events: person.created / person.updated / person.deleted, the account's own.
 */
#include "api/persons.h"

#include <stdio.h>
#include <string.h>

#include "api/common.h"
#include "api/connect_tokens.h"
#include "api/list.h"
#include "core/str.h"
#include "events/events.h"
#include "merchant/connect.h"
#include "store/store.h"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

static const struct param_spec dob_params[] = {
    {"day", PT_INT, 0, 0, NULL, NULL},
    {"month", PT_INT, 0, 0, NULL, NULL},
    {"year", PT_INT, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec relationship_params[] = {
    {"director", PT_BOOL, 0, 0, NULL, NULL},
    {"executive", PT_BOOL, 0, 0, NULL, NULL},
    {"owner", PT_BOOL, 0, 0, NULL, NULL},
    {"representative", PT_BOOL, 0, 0, NULL, NULL},
    {"title", PT_STRING, PF_EMPTYABLE, 200, NULL, NULL},
    {"percent_ownership", PT_STRING, PF_EMPTYABLE, 16, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
/* the persons API takes these and person_token (write_params below); an account's individual[…]
 * these alone */
/* clang-format off */
#define PERSON_PARAMS                                                       \
	{"first_name", PT_STRING, PF_EMPTYABLE, 100, NULL, NULL},           \
	{"last_name", PT_STRING, PF_EMPTYABLE, 100, NULL, NULL},            \
	{"email", PT_STRING, PF_EMPTYABLE, 800, NULL, NULL},                \
	{"phone", PT_STRING, PF_EMPTYABLE, 64, NULL, NULL},                 \
	{"dob", PT_OBJECT, PF_EMPTYABLE, 0, NULL, dob_params},              \
	{"address", PT_OBJECT, 0, 0, NULL, address_params},                 \
	{"id_number", PT_STRING, 0, 64, NULL, NULL},                        \
	{"ssn_last_4", PT_STRING, 0, 4, NULL, NULL},                        \
	{"relationship", PT_OBJECT, 0, 0, NULL, relationship_params},       \
	{"metadata", PT_METADATA, 0, 0, NULL, NULL},                        \
	{"first_name_kana", PT_STRING, PF_EMPTYABLE, 100, NULL, NULL},      \
	{"first_name_kanji", PT_STRING, PF_EMPTYABLE, 100, NULL, NULL},     \
	{"last_name_kana", PT_STRING, PF_EMPTYABLE, 100, NULL, NULL},       \
	{"last_name_kanji", PT_STRING, PF_EMPTYABLE, 100, NULL, NULL},      \
	{"maiden_name", PT_STRING, PF_EMPTYABLE, 100, NULL, NULL},          \
	{"gender", PT_STRING, PF_EMPTYABLE, 16, NULL, NULL},                \
	{"nationality", PT_STRING, PF_EMPTYABLE, 2, NULL, NULL},            \
	{"political_exposure", PT_STRING, PF_EMPTYABLE, 16, NULL, NULL},    \
	{"registered_address", PT_OBJECT, PF_EMPTYABLE, 0, NULL,            \
	 address_params},                                                   \
	{"address_kana", PT_OBJECT, PF_EMPTYABLE, 0, NULL,                  \
	 person_extra_address_params},                                      \
	{"address_kanji", PT_OBJECT, PF_EMPTYABLE, 0, NULL,                 \
	 person_extra_address_params},                                      \
	{"full_name_aliases", PT_STRING_ARRAY, PF_EMPTYABLE, 300, NULL,     \
	 NULL},                                                             \
	{"id_number_secondary", PT_STRING, 0, 64, NULL, NULL},              \
	{"verification", PT_OBJECT, 0, 0, NULL,                             \
	 person_extra_verification_params},                                 \
	{"documents", PT_OBJECT, 0, 0, NULL, person_extra_documents_params}
/* clang-format on */
const struct param_spec person_params[] = {
    PERSON_PARAMS,
    {NULL, 0, 0, 0, NULL, NULL},
};

static void path_of(char *out, size_t n, const char *prefix, const char *name)
{
	snprintf(out, n, "%s%s%s", prefix, prefix[0] ? "." : "", name);
}

/* The parameter's name as Stripe names it: prefix "account.individual" (a token's) is
 * account[individual] */
static void name_of(char *out, size_t n, const char *prefix, const char *a, const char *b)
{
	char pre[96];
	size_t dot = strcspn(prefix, ".");
	if (prefix[dot])
		snprintf(pre, sizeof(pre), "%.*s[%s]", (int)dot, prefix, prefix + dot + 1);
	else
		snprintf(pre, sizeof(pre), "%s", prefix);
	if (!prefix[0])
		snprintf(out, n, b ? "%s[%s]" : "%s", a, b);
	else
		snprintf(out, n, b ? "%s[%s][%s]" : "%s[%s]", pre, a, b);
}

/* percent_ownership: 0 to 100 with at most 2 decimals, kept as text (it is not money, but no
 * float is needed to carry it either) */
static bool percent_ok(const char *s)
{
	size_t n = strlen(s), dot = strcspn(s, ".");
	size_t frac = dot < n ? n - dot - 1 : 0;
	if (dot == 0 || dot > 3 || strspn(s, "0123456789") != dot || (dot > 1 && s[0] == '0'))
		return false;
	if (dot < n && (frac == 0 || frac > 2 || strspn(s + dot + 1, "0123456789") != frac))
		return false;
	int whole = 0;
	for (size_t i = 0; i < dot; i++)
		whole = whole * 10 + (s[i] - '0');
	return whole < 100 || (whole == 100 && (frac == 0 || strspn(s + dot + 1, "0") == frac));
}

int person_apply(struct req *r, const char *prefix, struct person *p)
{
	char path[128], name[128];
	static const char *const strs[] = {"first_name", "last_name", "email", "phone"};
	const char **fields[] = {&p->first_name, &p->last_name, &p->email, &p->phone};
	for (size_t i = 0; i < N_ELEMS(strs); i++) {
		path_of(path, sizeof(path), prefix, strs[i]);
		*fields[i] = str_update(r, path, *fields[i]);
	}
	path_of(path, sizeof(path), prefix, "dob");
	if (param_present(r, path)) {
		const char *v = param_str(r, path);
		if (v && !*v) {
			p->dob_day = p->dob_month = p->dob_year = 0;
		} else {
			int64_t d = 0, m = 0, y = 0;
			char sub[140];
			snprintf(sub, sizeof(sub), "%s.day", path);
			int hd = param_int(r, sub, &d);
			snprintf(sub, sizeof(sub), "%s.month", path);
			int hm = param_int(r, sub, &m);
			snprintf(sub, sizeof(sub), "%s.year", path);
			int hy = param_int(r, sub, &y);
			name_of(name, sizeof(name), prefix, "dob", NULL);
			/* a date of birth is given whole, of someone born since 1900 */
			if (!hd || !hm || !hy || d < 1 || d > 31 || m < 1 || m > 12 || y < 1900 ||
			    y > 2100 || (r->now > 0 && y > 1970 + r->now / 31556952))
				return req_fail(r, ERR_PARAM_BAD, name,
						"Invalid %s: day, month and year of a date of "
						"birth in the past.",
						name);
			p->dob_day = (int)d;
			p->dob_month = (int)m;
			p->dob_year = (int)y;
		}
	}
	path_of(path, sizeof(path), prefix, "address");
	if (address_from_params(r, path, &p->address) != 0)
		return -1;
	path_of(path, sizeof(path), prefix, "id_number");
	const char *idn = param_str(r, path);
	if (idn && *idn)
		p->id_number_provided = true;
	path_of(path, sizeof(path), prefix, "ssn_last_4");
	const char *ssn = param_str(r, path);
	if (ssn && *ssn) {
		name_of(name, sizeof(name), prefix, "ssn_last_4", NULL);
		if (strlen(ssn) != 4 || strspn(ssn, "0123456789") != 4)
			return req_fail(r, ERR_PARAM_BAD, name, "Invalid %s: 4 digits.", name);
		p->ssn_last_4_provided = true;
	}
	static const char *const rels[] = {"director", "executive", "owner", "representative"};
	int *relf[] = {&p->rel_director, &p->rel_executive, &p->rel_owner, &p->rel_representative};
	for (size_t i = 0; i < N_ELEMS(rels); i++) {
		char sub[64];
		snprintf(sub, sizeof(sub), "relationship.%s", rels[i]);
		path_of(path, sizeof(path), prefix, sub);
		bool b;
		if (param_bool(r, path, &b) == 1)
			*relf[i] = b ? 1 : 0;
	}
	path_of(path, sizeof(path), prefix, "relationship.title");
	p->rel_title = str_update(r, path, p->rel_title);
	path_of(path, sizeof(path), prefix, "relationship.percent_ownership");
	p->rel_percent = str_update(r, path, p->rel_percent);
	if (p->rel_percent && !percent_ok(p->rel_percent)) {
		name_of(name, sizeof(name), prefix, "relationship", "percent_ownership");
		return req_fail(r, ERR_PARAM_BAD, name,
				"Invalid %s: a number from 0 to 100 with at most 2 decimals.",
				name);
	}
	if (person_extra_apply(r, prefix, p) != 0)
		return -1;
	path_of(path, sizeof(path), prefix, "metadata");
	return metadata_apply(r, p->metadata, path, &p->metadata);
}

/* A member of the address JSON is present and not empty. */
static bool addr_has(const char *address, const char *key)
{
	if (!address)
		return false;
	char pat[48];
	snprintf(pat, sizeof(pat), "\"%s\":\"", key);
	const char *at = strstr(address, pat);
	return at && at[strlen(pat)] != '"';
}

int person_due(struct arena *a, const struct person *p, const char *prefix,
	       const char *items[PERSON_DUE_MAX])
{
	int n = 0;
	static const char *const addr[] = {"city", "line1", "postal_code"};
	for (size_t i = 0; i < N_ELEMS(addr); i++)
		if (!addr_has(p->address, addr[i]))
			items[n++] = arena_printf(a, "%saddress.%s", prefix, addr[i]);
	if (!p->dob_day) {
		items[n++] = arena_printf(a, "%sdob.day", prefix);
		items[n++] = arena_printf(a, "%sdob.month", prefix);
		items[n++] = arena_printf(a, "%sdob.year", prefix);
	}
	if (!p->first_name)
		items[n++] = arena_printf(a, "%sfirst_name", prefix);
	if (!p->last_name)
		items[n++] = arena_printf(a, "%slast_name", prefix);
	return n;
}

#define P_COLS                                                                                     \
	"id, created, first_name, last_name, email, phone, dob_day, dob_month, dob_year, address," \
	" rel_director, rel_executive, rel_owner, rel_representative, rel_title, rel_percent,"     \
	" id_number_provided, ssn_last_4_provided, metadata, individual, deleted, extra"
static const char SQL_P_GET[] = "SELECT " P_COLS " FROM persons WHERE merchant_id = $1 AND id = $2";
static const char SQL_P_INDIVIDUAL[] = "SELECT " P_COLS " FROM persons WHERE merchant_id = $1"
				       " AND individual = 1 AND deleted = 0";
static const char SQL_P_SAVE[] =
    "INSERT INTO persons (merchant_id, " P_COLS ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9,"
    " $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23)"
    " ON CONFLICT (merchant_id, id) DO UPDATE SET first_name = $4, last_name = $5, email = $6,"
    " phone = $7, dob_day = $8, dob_month = $9, dob_year = $10, address = $11,"
    " rel_director = $12, rel_executive = $13, rel_owner = $14, rel_representative = $15,"
    " rel_title = $16, rel_percent = $17, id_number_provided = $18, ssn_last_4_provided = $19,"
    " metadata = $20, deleted = $22, extra = $23";

static int rel_col(struct db_stmt *st, int col)
{
	return db_col_is_null(st, col) ? -1 : db_col_int64(st, col) != 0;
}

static int row_load(struct db_stmt *st, struct arena *a, const char *account, struct person *p)
{
	memset(p, 0, sizeof(*p));
	str_copy(p->id, sizeof(p->id), db_col_text(st, 0, NULL));
	p->account = arena_strdup(a, account);
	p->created = db_col_int64(st, 1);
	p->first_name = col_text_dup(a, st, 2);
	p->last_name = col_text_dup(a, st, 3);
	p->email = col_text_dup(a, st, 4);
	p->phone = col_text_dup(a, st, 5);
	p->dob_day = (int)db_col_int64_or0(st, 6);
	p->dob_month = (int)db_col_int64_or0(st, 7);
	p->dob_year = (int)db_col_int64_or0(st, 8);
	p->address = col_text_dup(a, st, 9);
	p->rel_director = rel_col(st, 10);
	p->rel_executive = rel_col(st, 11);
	p->rel_owner = rel_col(st, 12);
	p->rel_representative = rel_col(st, 13);
	p->rel_title = col_text_dup(a, st, 14);
	p->rel_percent = col_text_dup(a, st, 15);
	p->id_number_provided = db_col_int64(st, 16) != 0;
	p->ssn_last_4_provided = db_col_int64(st, 17) != 0;
	p->metadata = col_text_dup(a, st, 18);
	p->individual = db_col_int64(st, 19) != 0;
	p->deleted = db_col_int64(st, 20) != 0;
	p->extra = col_text_dup(a, st, 21);
	return p->account && p->metadata ? DB_OK : DB_ERR;
}

static int load_by(struct db *db, struct arena *a, const char *sql, const char *account,
		   const char *id, struct person *ret)
{
	struct db_stmt *st = db_prepare(db, sql);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, account, -1);
	if (id)
		db_bind_text(st, 2, id, -1);
	int rc = db_step(st);
	if (rc == DB_ROW)
		rc = row_load(st, a, account, ret) == DB_OK ? DB_ROW : DB_ERR;
	db_reset(st);
	if (rc == DB_ROW)
		return DB_OK;
	return rc == DB_DONE ? DB_NOTFOUND : rc < 0 ? rc : DB_ERR;
}

int person_individual_load(struct db *db, struct arena *a, const char *account, struct person *ret)
{
	return load_by(db, a, SQL_P_INDIVIDUAL, account, NULL, ret);
}

static void bind_rel(struct db_stmt *st, int idx, int v)
{
	if (v < 0)
		db_bind_null(st, idx);
	else
		db_bind_int64(st, idx, v);
}

static void bind_dob(struct db_stmt *st, int idx, int v)
{
	if (v)
		db_bind_int64(st, idx, v);
	else
		db_bind_null(st, idx);
}

int person_save(struct db *db, const struct person *p)
{
	struct db_stmt *st = db_prepare(db, SQL_P_SAVE);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, p->account, -1);
	db_bind_text(st, 2, p->id, -1);
	db_bind_int64(st, 3, p->created);
	db_bind_text(st, 4, p->first_name, -1);
	db_bind_text(st, 5, p->last_name, -1);
	db_bind_text(st, 6, p->email, -1);
	db_bind_text(st, 7, p->phone, -1);
	bind_dob(st, 8, p->dob_day);
	bind_dob(st, 9, p->dob_month);
	bind_dob(st, 10, p->dob_year);
	db_bind_text(st, 11, p->address, -1);
	bind_rel(st, 12, p->rel_director);
	bind_rel(st, 13, p->rel_executive);
	bind_rel(st, 14, p->rel_owner);
	bind_rel(st, 15, p->rel_representative);
	db_bind_text(st, 16, p->rel_title, -1);
	db_bind_text(st, 17, p->rel_percent, -1);
	db_bind_int64(st, 18, p->id_number_provided);
	db_bind_int64(st, 19, p->ssn_last_4_provided);
	db_bind_text(st, 20, p->metadata ? p->metadata : "{}", -1);
	db_bind_int64(st, 21, p->individual);
	db_bind_int64(st, 22, p->deleted);
	db_bind_text(st, 23, p->extra ? p->extra : "{}", -1);
	return db_step_done(st);
}

static void render_address(struct json *j, const char *key, const char *address)
{
	if (address) {
		json_kv_raw(j, key, address, strlen(address));
		return;
	}
	static const char *const keys[] = {"city",  "country",	   "line1",
					   "line2", "postal_code", "state"};
	json_key(j, key);
	json_obj_open(j);
	for (size_t i = 0; i < N_ELEMS(keys); i++)
		json_kv_null(j, keys[i]);
	json_obj_close(j);
}

static void render_rel(struct json *j, const char *key, int v)
{
	if (v < 0)
		json_kv_null(j, key);
	else
		json_kv_bool(j, key, v != 0);
}

static void render_strings(struct json *j, const char *key, const char *const *items, int n)
{
	json_key(j, key);
	json_arr_open(j);
	for (int i = 0; i < n; i++)
		json_str(j, items[i]);
	json_arr_close(j);
}

static void render_requirements(struct json *j, const char *key, const char *const *due, int n,
				bool future)
{
	json_key(j, key);
	json_obj_open(j);
	json_key(j, "alternatives");
	json_arr_open(j);
	json_arr_close(j);
	render_strings(j, "currently_due", future ? NULL : due, future ? 0 : n);
	render_strings(j, "errors", NULL, 0);
	render_strings(j, "eventually_due", due, future ? 0 : n);
	render_strings(j, "past_due", due, future ? 0 : n);
	render_strings(j, "pending_verification", NULL, 0);
	json_obj_close(j);
}

void person_render(struct arena *a, const struct person *p, struct json *j)
{
	const char *due[PERSON_DUE_MAX];
	int n = person_due(a, p, "", due);
	json_obj_open(j);
	json_kv_str(j, "id", p->id);
	json_kv_str(j, "object", "person");
	json_kv_str(j, "account", p->account);
	render_address(j, "address", p->address);
	json_kv_int(j, "created", p->created);
	json_key(j, "dob");
	json_obj_open(j);
	static const char *const dk[] = {"day", "month", "year"};
	const int dv[] = {p->dob_day, p->dob_month, p->dob_year};
	for (int i = 0; i < 3; i++) {
		if (dv[i])
			json_kv_int(j, dk[i], dv[i]);
		else
			json_kv_null(j, dk[i]);
	}
	json_obj_close(j);
	json_kv_str_or_null(j, "email", p->email);
	json_kv_str_or_null(j, "first_name", p->first_name);
	person_extra_render(j, p);
	render_requirements(j, "future_requirements", due, n, true);
	json_kv_bool(j, "id_number_provided", p->id_number_provided);
	json_kv_str_or_null(j, "last_name", p->last_name);
	json_kv_raw(j, "metadata", p->metadata, strlen(p->metadata));
	json_kv_str_or_null(j, "phone", p->phone);
	json_key(j, "relationship");
	json_obj_open(j);
	render_rel(j, "director", p->rel_director);
	render_rel(j, "executive", p->rel_executive);
	render_rel(j, "owner", p->rel_owner);
	if (p->rel_percent)
		json_kv_raw(j, "percent_ownership", p->rel_percent, strlen(p->rel_percent));
	else
		json_kv_null(j, "percent_ownership");
	render_rel(j, "representative", p->individual ? 1 : p->rel_representative);
	json_kv_str_or_null(j, "title", p->rel_title);
	json_obj_close(j);
	render_requirements(j, "requirements", due, n, false);
	json_kv_bool(j, "ssn_last_4_provided", p->ssn_last_4_provided);
	json_key(j, "verification");
	json_obj_open(j);
	json_kv_null(j, "details");
	json_kv_null(j, "details_code");
	person_extra_render_documents(j, p);
	/* test mode: what is given is taken as true once nothing is missing */
	json_kv_str(j, "status", n == 0 ? "verified" : "unverified");
	json_obj_close(j);
	json_obj_close(j);
}

/* ---- /v1/accounts/{id}/persons ---- */

/* The account id names for the caller (external_accounts.c's rule): itself, or one of its
 * connected accounts when it is not acting through Stripe-Account. 0, or -1 with r->err. */
static int owner_check(struct req *r, struct db *db, const char *id)
{
	if (strcmp(id, r->merchant_id) == 0)
		return 0;
	int rc =
	    r->platform_id[0] ? DB_NOTFOUND : connect_account_check(db, r->merchant_id, id, NULL);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(r, "account", id, "account");
	return rc == DB_OK ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

struct p_ctx {
	struct req *r;
	const char *account, *id;
	struct person p;
};

static const char *person_json(struct req *r, const struct person *p, size_t *ret_len)
{
	struct buf b;
	struct json j;
	buf_init(&b, 1u << 16);
	json_init(&j, &b);
	person_render(&r->arena, p, &j);
	const char *out = b.failed ? NULL : arena_printf(&r->arena, "%.*s", (int)b.len, b.data);
	*ret_len = b.failed ? 0 : b.len;
	buf_release(&b);
	return out;
}

/* person.* is the account's event; the answer is the event's object. */
static int p_emit(struct req *r, struct db *db, const struct person *p, const char *type,
		  const char *prev)
{
	size_t len = 0;
	const char *js = person_json(r, p, &len);
	struct event_origin o = {r->request_id, r->idempotency_key, r->livemode};
	if (!js ||
	    event_append(db, p->account, &o, type, p->id, js, len, prev, r->now, NULL) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	return 0;
}

/* person_token: the person's parameters as the token carries them, applied as if sent
 * (connect_tokens.c) before the write, and used up in it; any of person_params sent beside it
 * (metadata aside) is refused, as on Stripe */
static int take_person_token(struct req *r)
{
	const char *tok = param_str(r, "person_token");
	return tok ? connect_token_apply(r, tok, "person", "person_token", NULL, person_params) : 0;
}

static int use_person_token(struct req *r, struct db *db)
{
	const char *tok = param_str(r, "person_token");
	return tok ? connect_token_use(r, db, tok, "person_token") : 0;
}

static int p_create_fn(struct db *db, void *arg)
{
	struct p_ctx *c = arg;
	struct req *r = c->r;
	if (owner_check(r, db, c->account) != 0 || use_person_token(r, db) != 0)
		return -1;
	struct person *p = &c->p;
	memset(p, 0, sizeof(*p));
	id_new_at(p->id, "person_", r->now);
	p->account = c->account;
	p->created = r->now;
	p->rel_director = p->rel_executive = p->rel_owner = p->rel_representative = -1;
	p->metadata = "{}";
	if (person_apply(r, "", p) != 0 || person_extra_files_check(r, db, "", p) != 0)
		return -1;
	if (person_save(db, p) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (p_emit(r, db, p, "person.created", NULL) != 0)
		return -1;
	person_render(&r->arena, p, req_json(r));
	return 0;
}

static int h_create(struct req *r)
{
	struct p_ctx c = {.r = r, .account = r->args[0]};
	if (take_person_token(r) != 0)
		return -1;
	return req_write(r, p_create_fn, &c);
}

static int p_load_fn(struct db *db, void *arg)
{
	struct p_ctx *c = arg;
	struct req *r = c->r;
	if (owner_check(r, db, c->account) != 0)
		return -1;
	int rc = load_by(db, &r->arena, SQL_P_GET, c->account, c->id, &c->p);
	if (rc == DB_OK && c->p.deleted)
		rc = DB_NOTFOUND;
	if (rc == DB_NOTFOUND)
		return req_fail_missing(r, "person", c->id, "person");
	return rc == DB_OK ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

static int p_retrieve_fn(struct db *db, void *arg)
{
	struct p_ctx *c = arg;
	if (p_load_fn(db, arg) != 0)
		return -1;
	person_render(&c->r->arena, &c->p, req_json(c->r));
	return 0;
}

static int h_retrieve(struct req *r)
{
	struct p_ctx c = {.r = r, .account = r->args[0], .id = r->args[1]};
	return req_read(r, p_retrieve_fn, &c) == 0 ? 0 : -1;
}

/* previous_attributes: the top-level fields that changed, with their old values. */
static const char *p_previous(struct req *r, const struct person *o, const struct person *n)
{
	struct buf b;
	struct json j;
	buf_init(&b, 1u << 16);
	json_init(&j, &b);
	json_obj_open(&j);
	static const char *const names[] = {"first_name", "last_name", "email", "phone"};
	const char *ov[] = {o->first_name, o->last_name, o->email, o->phone};
	const char *nv[] = {n->first_name, n->last_name, n->email, n->phone};
	for (size_t i = 0; i < N_ELEMS(names); i++)
		if (!(ov[i] == nv[i] || (ov[i] && nv[i] && strcmp(ov[i], nv[i]) == 0)))
			json_kv_str_or_null(&j, names[i], ov[i]);
	if (o->dob_day != n->dob_day || o->dob_month != n->dob_month ||
	    o->dob_year != n->dob_year) {
		json_key(&j, "dob");
		json_obj_open(&j);
		static const char *const dk[] = {"day", "month", "year"};
		const int dv[] = {o->dob_day, o->dob_month, o->dob_year};
		for (int i = 0; i < 3; i++) {
			if (dv[i])
				json_kv_int(&j, dk[i], dv[i]);
			else
				json_kv_null(&j, dk[i]);
		}
		json_obj_close(&j);
	}
	if (!(o->address == n->address ||
	      (o->address && n->address && strcmp(o->address, n->address) == 0)))
		render_address(&j, "address", o->address);
	if (o->id_number_provided != n->id_number_provided)
		json_kv_bool(&j, "id_number_provided", o->id_number_provided);
	person_extra_previous(&j, o, n);
	if (o->ssn_last_4_provided != n->ssn_last_4_provided)
		json_kv_bool(&j, "ssn_last_4_provided", o->ssn_last_4_provided);
	if (o->rel_director != n->rel_director || o->rel_executive != n->rel_executive ||
	    o->rel_owner != n->rel_owner || o->rel_representative != n->rel_representative ||
	    !(o->rel_title == n->rel_title ||
	      (o->rel_title && n->rel_title && strcmp(o->rel_title, n->rel_title) == 0)) ||
	    !(o->rel_percent == n->rel_percent ||
	      (o->rel_percent && n->rel_percent && strcmp(o->rel_percent, n->rel_percent) == 0))) {
		json_key(&j, "relationship");
		json_obj_open(&j);
		render_rel(&j, "director", o->rel_director);
		render_rel(&j, "executive", o->rel_executive);
		render_rel(&j, "owner", o->rel_owner);
		if (o->rel_percent)
			json_kv_raw(&j, "percent_ownership", o->rel_percent,
				    strlen(o->rel_percent));
		else
			json_kv_null(&j, "percent_ownership");
		render_rel(&j, "representative", o->individual ? 1 : o->rel_representative);
		json_kv_str_or_null(&j, "title", o->rel_title);
		json_obj_close(&j);
	}
	if (strcmp(o->metadata, n->metadata) != 0)
		json_kv_raw(&j, "metadata", o->metadata, strlen(o->metadata));
	json_obj_close(&j);
	const char *out = b.failed ? NULL : arena_printf(&r->arena, "%.*s", (int)b.len, b.data);
	buf_release(&b);
	return out;
}

static int p_update_fn(struct db *db, void *arg)
{
	struct p_ctx *c = arg;
	struct req *r = c->r;
	if (p_load_fn(db, arg) != 0 || use_person_token(r, db) != 0)
		return -1;
	struct person old = c->p;
	if (person_apply(r, "", &c->p) != 0 || person_extra_files_check(r, db, "", &c->p) != 0)
		return -1;
	const char *prev = p_previous(r, &old, &c->p);
	if (!prev || person_save(db, &c->p) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (p_emit(r, db, &c->p, "person.updated", prev) != 0)
		return -1;
	person_render(&r->arena, &c->p, req_json(r));
	return 0;
}

static int h_update(struct req *r)
{
	struct p_ctx c = {.r = r, .account = r->args[0], .id = r->args[1]};
	if (take_person_token(r) != 0)
		return -1;
	return req_write(r, p_update_fn, &c);
}

/* The individual of an individual account is the account's own: it goes with the account. */
static int p_delete_fn(struct db *db, void *arg)
{
	struct p_ctx *c = arg;
	struct req *r = c->r;
	if (p_load_fn(db, arg) != 0)
		return -1;
	if (c->p.individual)
		return req_fail(r, ERR_PARAM_BAD, NULL,
				"This person is the account's individual: change it with "
				"individual[…] on the account instead.");
	c->p.deleted = true;
	if (person_save(db, &c->p) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (p_emit(r, db, &c->p, "person.deleted", NULL) != 0)
		return -1;
	struct json *j = req_json(r);
	json_obj_open(j);
	json_kv_str(j, "id", c->p.id);
	json_kv_str(j, "object", "person");
	json_kv_bool(j, "deleted", true);
	json_obj_close(j);
	return 0;
}

static int h_delete(struct req *r)
{
	struct p_ctx c = {.r = r, .account = r->args[0], .id = r->args[1]};
	return req_write(r, p_delete_fn, &c);
}

static const char SQL_CURSOR[] = "SELECT created FROM persons WHERE merchant_id = $1 AND id = $2";
/* relationship filters: $5 … $8 (NULL: any), each a 0/1 the person's flag must equal */
static const char SQL_DESC[] =
    "SELECT id FROM persons WHERE merchant_id = $1 AND id > $2 AND id < $3 AND deleted = 0"
    " AND ($5 IS NULL OR COALESCE(rel_director, 0) = $5)"
    " AND ($6 IS NULL OR COALESCE(rel_executive, 0) = $6)"
    " AND ($7 IS NULL OR COALESCE(rel_owner, 0) = $7)"
    " AND ($8 IS NULL OR (CASE WHEN individual = 1 THEN 1 ELSE COALESCE(rel_representative, 0)"
    " END) = $8) ORDER BY id DESC LIMIT $4";
static const char SQL_ASC[] =
    "SELECT id FROM persons WHERE merchant_id = $1 AND id > $2 AND id < $3 AND deleted = 0"
    " AND ($5 IS NULL OR COALESCE(rel_director, 0) = $5)"
    " AND ($6 IS NULL OR COALESCE(rel_executive, 0) = $6)"
    " AND ($7 IS NULL OR COALESCE(rel_owner, 0) = $7)"
    " AND ($8 IS NULL OR (CASE WHEN individual = 1 THEN 1 ELSE COALESCE(rel_representative, 0)"
    " END) = $8) ORDER BY id ASC LIMIT $4";

static int list_bind(struct req *r, struct db_stmt *st, int first, void *ctx)
{
	(void)ctx;
	static const char *const keys[] = {"relationship.director", "relationship.executive",
					   "relationship.owner", "relationship.representative"};
	for (int i = 0; i < 4; i++) {
		bool b;
		if (param_bool(r, keys[i], &b) == 1)
			db_bind_int64(st, first + i, b);
		else
			db_bind_null(st, first + i);
	}
	return 0;
}

static int list_render(struct req *r, struct db *db, const char *id, struct json *j, void *ctx)
{
	(void)ctx;
	struct person p;
	int rc = load_by(db, &r->arena, SQL_P_GET, r->merchant_id, id, &p);
	if (rc != DB_OK)
		return rc;
	person_render(&r->arena, &p, j);
	return DB_OK;
}

static int owner_fn(struct db *db, void *arg)
{
	struct p_ctx *c = arg;
	return owner_check(c->r, db, c->account);
}

static int h_list(struct req *r)
{
	struct p_ctx c = {.r = r, .account = r->args[0]};
	if (req_read(r, owner_fn, &c) != 0)
		return -1;
	const struct list_spec spec = {
	    .url = arena_printf(&r->arena, "/v1/accounts/%s/persons", c.account),
	    .object_name = "person",
	    .id_prefix = "person_",
	    .sql_cursor = SQL_CURSOR,
	    .sql_desc = SQL_DESC,
	    .sql_asc = SQL_ASC,
	    .bind_filters = list_bind,
	    .render = list_render,
	};
	/* the account's list, in its scope (owner_fn checked the caller may see it) */
	char caller[ID_MAX];
	str_copy(caller, sizeof(caller), r->merchant_id);
	str_copy(r->merchant_id, sizeof(r->merchant_id), c.account);
	int rc = list_respond(r, &spec);
	str_copy(r->merchant_id, sizeof(r->merchant_id), caller);
	return rc;
}

static const struct param_spec rel_filter_params[] = {
    {"director", PT_BOOL, 0, 0, NULL, NULL},
    {"executive", PT_BOOL, 0, 0, NULL, NULL},
    {"owner", PT_BOOL, 0, 0, NULL, NULL},
    {"representative", PT_BOOL, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec list_params[] = {
    {"relationship", PT_OBJECT, 0, 0, NULL, rel_filter_params},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec no_params[] = {{NULL, 0, 0, 0, NULL, NULL}};

/* the persons API's own: a person's parameters, or a person token carrying them */
static const struct param_spec write_params[] = {
    PERSON_PARAMS,
    {"person_token", PT_STRING, 0, 255, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};

const struct route persons_routes[] = {
    {"POST", "/v1/accounts/{id}/persons", h_create, write_params, 0},
    {"GET", "/v1/accounts/{id}/persons", h_list, list_params, ROUTE_LIST},
    {"GET", "/v1/accounts/{id}/persons/{person}", h_retrieve, no_params, 0},
    {"POST", "/v1/accounts/{id}/persons/{person}", h_update, write_params, 0},
    {"DELETE", "/v1/accounts/{id}/persons/{person}", h_delete, no_params, 0},
    /* the older `people` paths, which Stripe still answers */
    {"POST", "/v1/accounts/{id}/people", h_create, write_params, 0},
    {"GET", "/v1/accounts/{id}/people", h_list, list_params, ROUTE_LIST},
    {"GET", "/v1/accounts/{id}/people/{person}", h_retrieve, no_params, 0},
    {"POST", "/v1/accounts/{id}/people/{person}", h_update, write_params, 0},
    {"DELETE", "/v1/accounts/{id}/people/{person}", h_delete, no_params, 0},
    {NULL, NULL, NULL, NULL, 0},
};
