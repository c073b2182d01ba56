/*
 * A customer's legacy bank account sources (ACH through Stripe's Sources / Bank Accounts API,
 * the pre-PaymentMethods flow): POST /v1/customers/{id}/sources with source=btok_… attaches a
 * ba_… (status new); the customer verifies it with the two microdeposits
 * (POST …/sources/{ba}/verify amounts[]=32&amounts[]=45, Stripe's test amounts) before it can be
 * charged (POST /v1/charges customer=…&source=ba_…, charges.c); the Bank Accounts API's view of
 * the same sources is /v1/customers/{id}/bank_accounts. api/sources.c routes /sources/{ba_…}
 * here and lists cards and bank accounts together.
 *
 * The number. The bank token kept only the account's public facts (external_accounts.c: last4,
 * routing number, holder, fingerprint, and what Stripe's test account numbers answer a debit):
 * the number itself was never stored, logged or hashed, and is not now. A source keeps those
 * facts in customer_bank_accounts; `failure` is the return code a debit from it ends with.
 *
 * Verification. Stripe's test microdeposits are 32 and 45 cents (either order): they verify
 * (status verified, customer.source.updated). Wrong amounts are Stripe's 400
 * bank_account_verification_failed and are counted in the same write; the tenth wrong answer
 * makes the account verification_failed (customer.source.updated), which can then never be
 * verified nor charged (Stripe: a new bank account must be added).
 *
 * Disputes. A debit from Stripe's test account 000999999991 succeeds and the customer's bank
 * disputes it at once (charges.c, payments/sepa.c): the dispute is opened and lost together, its
 * amount and fee withdrawn, as an ACH return cannot be contested (the same as a us_bank_account
 * debit from that number). `failure` records it as BANK_SOURCE_DISPUTED.
 *
 * Deleting marks the row deleted: it is gone (404) everywhere but on the charges that name it.
 */
#include "api/bank_sources.h"

#include <stdio.h>
#include <string.h>

#include "api/common.h"
#include "api/external_accounts.h"
#include "api/list.h"
#include "api/mandates.h"
#include "api/resources.h"
#include "api/sources.h"
#include "app.h"
#include "core/str.h"
#include "events/events.h"
#include "http/form.h"
#include "store/store.h"
#include "vault/vault.h"

/* Stripe's limit on wrong microdeposit answers for a legacy bank account */
#define VERIFY_ATTEMPTS_MAX 10

/* Stripe's ACH test account whose debits succeed and are then disputed by the customer's bank
 * (the same number as for us_bank_account debits, vault/ach.c), at its test routing number */
#define DISPUTE_TEST_ACCOUNT "000999999991"
#define DISPUTE_TEST_ROUTING "110000000"

/* Whether facts f are Stripe's disputing test account. The number was never kept: the account
 * is recognised by its fingerprint, the vault's HMAC of the test number for this merchant. */
static bool dispute_test_account(struct req *r, const struct bank_facts *f)
{
	char fp[24];
	if (strcmp(f->routing_number, DISPUTE_TEST_ROUTING) != 0 || !r->app || !r->app->vault)
		return false;
	if (vault_bank_fingerprint(r->app->vault, r->merchant_id, DISPUTE_TEST_ROUTING,
				   DISPUTE_TEST_ACCOUNT, fp) != 0)
		return false;
	return strcmp(fp, f->fingerprint) == 0;
}

static bool str_same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

bool bank_source_id(const char *id)
{
	return id && strncmp(id, BANK_SOURCE_PREFIX, sizeof(BANK_SOURCE_PREFIX) - 1) == 0;
}

static const char SQL_GET[] =
    "SELECT customer, created, country, currency, last4, routing_number, bank_name,"
    " account_holder_name, account_holder_type, fingerprint, failure, status, verify_failures,"
    " metadata, deleted FROM customer_bank_accounts WHERE merchant_id = $1 AND id = $2";
static const char SQL_INSERT[] =
    "INSERT INTO customer_bank_accounts (merchant_id, id, customer, created, country, currency,"
    " last4, routing_number, bank_name, account_holder_name, account_holder_type, fingerprint,"
    " failure, status, verify_failures, metadata, deleted) VALUES ($1, $2, $3, $4, $5, $6, $7,"
    " $8, $9, $10, $11, $12, $13, 'new', 0, $14, 0)";
static const char SQL_COUNT[] = "SELECT COUNT(*) FROM customer_bank_accounts"
				" WHERE merchant_id = $1 AND customer = $2 AND deleted = 0";
static const char SQL_EXISTS[] = "SELECT 1 FROM customer_bank_accounts"
				 " WHERE merchant_id = $1 AND id = $2";

int bank_source_load(struct db *db, struct arena *a, const char *merchant_id, const char *id,
		     struct bank_source *ret)
{
	struct db_stmt *st = db_prepare(db, SQL_GET);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, id, -1);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		memset(ret, 0, sizeof(*ret));
		str_copy(ret->id, sizeof(ret->id), id);
		str_copy(ret->customer, sizeof(ret->customer), db_col_text(st, 0, NULL));
		ret->created = db_col_int64(st, 1);
		str_copy(ret->country, sizeof(ret->country), db_col_text(st, 2, NULL));
		str_copy(ret->currency, sizeof(ret->currency), db_col_text(st, 3, NULL));
		str_copy(ret->last4, sizeof(ret->last4), db_col_text(st, 4, NULL));
		str_copy(ret->routing_number, sizeof(ret->routing_number),
			 db_col_text(st, 5, NULL));
		ret->bank_name = col_text_dup(a, st, 6);
		ret->holder_name = col_text_dup(a, st, 7);
		ret->holder_type = col_text_dup(a, st, 8);
		str_copy(ret->fingerprint, sizeof(ret->fingerprint), db_col_text(st, 9, NULL));
		str_copy(ret->failure, sizeof(ret->failure), db_col_text(st, 10, NULL));
		str_copy(ret->status, sizeof(ret->status), db_col_text(st, 11, NULL));
		ret->verify_failures = db_col_int64(st, 12);
		ret->metadata = col_text_dup(a, st, 13);
		ret->deleted = db_col_int64(st, 14) != 0;
	}
	db_reset(st);
	if (rc == DB_ROW)
		return ret->metadata || !a ? DB_OK : DB_ERR;
	return rc == DB_DONE ? DB_NOTFOUND : rc < 0 ? rc : DB_ERR;
}

void bank_source_render_loaded(const struct bank_source *b, struct json *j)
{
	json_obj_open(j);
	json_kv_str(j, "id", b->id);
	json_kv_str(j, "object", "bank_account");
	json_kv_null(j, "account"); /* a connected account's external account only */
	json_kv_str_or_null(j, "account_holder_name", b->holder_name);
	json_kv_str_or_null(j, "account_holder_type", b->holder_type);
	json_kv_null(j, "account_type");
	json_kv_null(j, "available_payout_methods");
	json_kv_str_or_null(j, "bank_name", b->bank_name);
	json_kv_str(j, "country", b->country);
	json_kv_str(j, "currency", b->currency);
	json_kv_str(j, "customer", b->customer);
	json_kv_null(j, "default_for_currency");
	json_kv_str(j, "fingerprint", b->fingerprint);
	json_kv_null(j, "future_requirements");
	json_kv_str(j, "last4", b->last4);
	const char *md = b->metadata ? b->metadata : "{}";
	json_kv_raw(j, "metadata", md, strlen(md));
	json_kv_null(j, "requirements");
	json_kv_str_or_null(j, "routing_number", b->routing_number[0] ? b->routing_number : NULL);
	json_kv_str(j, "status", b->status);
	json_obj_close(j);
}

int bank_source_render(struct db *db, const char *merchant_id, const char *id, struct json *j)
{
	struct arena a;
	arena_init(&a, 16 * 1024);
	struct bank_source b;
	int rc = bank_source_load(db, &a, merchant_id, id, &b);
	if (rc == DB_OK)
		bank_source_render_loaded(&b, j);
	arena_release(&a);
	return rc;
}

/* The bank account's JSON as it is now (r's arena). */
static const char *ba_json(struct req *r, const struct bank_source *b, size_t *ret_len)
{
	struct buf buf;
	struct json j;
	buf_init(&buf, 16 * 1024);
	json_init(&j, &buf);
	bank_source_render_loaded(b, &j);
	const char *s = buf.failed ? NULL : arena_strndup(&r->arena, buf.data, buf.len);
	*ret_len = buf.len;
	buf_release(&buf);
	return s;
}

static int ba_event(struct req *r, struct db *db, const char *type, const struct bank_source *b,
		    const char *prev)
{
	size_t len = 0;
	const char *js = ba_json(r, b, &len);
	if (!js)
		return req_fail(r, ERR_API, NULL, NULL);
	struct event_origin o = {r->request_id[0] ? r->request_id : NULL, r->idempotency_key,
				 r->livemode};
	if (event_append(db, r->merchant_id, &o, type, b->id, js, len, prev, r->now, NULL) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	return 0;
}

int bank_source_attach(struct req *r, struct db *db, const char *customer, const char *ref,
		       const char *param, const char *metadata, struct bank_source *ret)
{
	struct db_stmt *st = db_prepare(db, SQL_COUNT);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, customer, -1);
	int64_t n = db_step(st) == DB_ROW ? db_col_int64(st, 0) : -1;
	db_reset(st);
	if (n < 0)
		return req_fail(r, ERR_API, NULL, NULL);
	if (n >= SOURCES_PER_CUSTOMER_MAX)
		return req_fail(r, ERR_PARAM_BAD, param,
				"Customer %s already has the maximum of %d sources attached.",
				customer, SOURCES_PER_CUSTOMER_MAX);
	struct bank_facts f;
	char id[ID_MAX];
	/* the token is used up in this write: a refusal below rolls it back unused */
	if (bank_token_take(r, db, r->merchant_id, ref, param, &f, id) != 0)
		return -1;
	/* a token's bank account can be attached once (its id is the token's) */
	st = db_prepare(db, SQL_EXISTS);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, id, -1);
	int rc = db_step(st);
	db_reset(st);
	if (rc == DB_ROW)
		return req_fail(r, ERR_TOKEN_USED, param, "%s", ref);
	if (rc != DB_DONE)
		return req_fail(r, ERR_API, NULL, NULL);
	struct bank_source *b = ret;
	memset(b, 0, sizeof(*b));
	str_copy(b->id, sizeof(b->id), id);
	str_copy(b->customer, sizeof(b->customer), customer);
	b->created = r->now;
	str_copy(b->country, sizeof(b->country), f.country);
	str_copy(b->currency, sizeof(b->currency), f.currency);
	str_copy(b->last4, sizeof(b->last4), f.last4);
	str_copy(b->routing_number, sizeof(b->routing_number), f.routing_number);
	b->bank_name = f.bank_name;
	b->holder_name = f.holder_name;
	b->holder_type = f.holder_type;
	str_copy(b->fingerprint, sizeof(b->fingerprint), f.fingerprint);
	str_copy(b->failure, sizeof(b->failure),
		 f.payout_failure	       ? f.payout_failure
		 : dispute_test_account(r, &f) ? BANK_SOURCE_DISPUTED
					       : "");
	str_copy(b->status, sizeof(b->status), "new");
	b->metadata = metadata ? metadata : "{}";
	st = db_prepare(db, SQL_INSERT);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, b->id, -1);
	db_bind_text(st, 3, customer, -1);
	db_bind_int64(st, 4, b->created);
	db_bind_text(st, 5, b->country, -1);
	db_bind_text(st, 6, b->currency, -1);
	db_bind_text(st, 7, b->last4, -1);
	db_bind_text(st, 8, b->routing_number[0] ? b->routing_number : NULL, -1);
	db_bind_text(st, 9, b->bank_name, -1);
	db_bind_text(st, 10, b->holder_name, -1);
	db_bind_text(st, 11, b->holder_type, -1);
	db_bind_text(st, 12, b->fingerprint, -1);
	db_bind_text(st, 13, b->failure[0] ? b->failure : NULL, -1);
	db_bind_text(st, 14, b->metadata, -1);
	if (db_step_done(st) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	return ba_event(r, db, "customer.source.created", b, NULL);
}

/* Inside a transaction: bank account id of customer, not deleted, into b; else 404 naming it
 * on `param`. 0, or -1 with r->err. */
static int load_owned(struct req *r, struct db *db, const char *customer, const char *id,
		      struct bank_source *b)
{
	int rc = bank_source_load(db, &r->arena, r->merchant_id, id, b);
	if (rc == DB_OK && (b->deleted || strcmp(b->customer, customer) != 0))
		rc = DB_NOTFOUND;
	if (rc == DB_NOTFOUND)
		return req_fail_missing(r, "source", id, "id");
	return rc == DB_OK ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

int bank_source_owned(struct req *r, struct db *db, const char *customer, const char *id)
{
	struct bank_source b;
	int rc = bank_source_load(db, &r->arena, r->merchant_id, id, &b);
	if (rc == DB_NOTFOUND)
		return 0;
	if (rc != DB_OK)
		return rc;
	return !b.deleted && strcmp(b.customer, customer) == 0;
}

static const char SQL_NEWEST[] =
    "SELECT id FROM customer_bank_accounts WHERE merchant_id = $1 AND customer = $2"
    " AND deleted = 0 AND id <> $3 ORDER BY id DESC LIMIT 1";

int bank_source_newest(struct req *r, struct db *db, const char *customer, const char *except,
		       char ret[ID_MAX])
{
	struct db_stmt *st = db_prepare(db, SQL_NEWEST);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, customer, -1);
	db_bind_text(st, 3, except ? except : "", -1);
	int rc = db_step(st);
	ret[0] = '\0';
	if (rc == DB_ROW)
		str_copy(ret, ID_MAX, db_col_text(st, 0, NULL));
	db_reset(st);
	return rc == DB_ROW || rc == DB_DONE ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

/* ---- the routes (sources.c's /sources/{ba_…} and the Bank Accounts API) ---- */

struct ba_ctx {
	struct req *r;
	const char *customer, *id, *ref, *param, *metadata;
	bool match; /* verify: the amounts are Stripe's test microdeposits */
};

static int respond(struct req *r, const struct bank_source *b)
{
	bank_source_render_loaded(b, req_json(r));
	return r->out.failed ? req_fail(r, ERR_API, NULL, NULL) : 0;
}

static int create_fn(struct db *db, void *p)
{
	struct ba_ctx *x = p;
	struct req *r = x->r;
	if (customer_check(r, db, x->customer) != 0)
		return -1;
	struct bank_source b;
	if (bank_source_attach(r, db, x->customer, x->ref, x->param, x->metadata, &b) != 0)
		return -1;
	/* a customer's first source becomes its default source, as a card does */
	char ds[ID_MAX];
	if (customer_default_source(r, db, x->customer, "customer", ds) != 0)
		return -1;
	if (!ds[0] && customer_set_default_source(r, db, x->customer, b.id) != 0)
		return -1;
	return respond(r, &b);
}

int bank_source_h_create(struct req *r, const char *ref, const char *param)
{
	struct ba_ctx x = {.r = r, .customer = r->args[0], .ref = ref, .param = param};
	const char *md = "{}";
	if (metadata_apply(r, NULL, "metadata", &md) != 0)
		return -1;
	x.metadata = md;
	return req_write(r, create_fn, &x);
}

static int h_create(struct req *r)
{
	const char *src = param_str(r, "source");
	if (!src || !*src)
		return req_fail(r, ERR_PARAM_MISSING, "source", "%s", "source");
	if (strncmp(src, "btok_", 5) != 0)
		return req_fail(r, ERR_PARAM_BAD, "source",
				"The Bank Accounts API takes a bank account token (btok_…).");
	return bank_source_h_create(r, src, "source");
}

static int retrieve_fn(struct db *db, void *p)
{
	struct ba_ctx *x = p;
	struct req *r = x->r;
	if (customer_check(r, db, x->customer) != 0)
		return -1;
	struct bank_source b;
	if (load_owned(r, db, x->customer, x->id, &b) != 0)
		return -1;
	return respond(r, &b);
}

int bank_source_h_retrieve(struct req *r)
{
	struct ba_ctx x = {.r = r, .customer = r->args[0], .id = r->args[1]};
	return req_read(r, retrieve_fn, &x) == 0 ? 0 : -1;
}

/* The card fields POST /sources/{id} takes, which a bank account has not. */
static const char *const card_only[] = {
    "name",	     "address_city", "address_country", "address_line1", "address_line2",
    "address_state", "address_zip",  "exp_month",	"exp_year",	 NULL};

static const char SQL_UPDATE[] =
    "UPDATE customer_bank_accounts SET account_holder_name = $3, account_holder_type = $4,"
    " metadata = $5 WHERE merchant_id = $1 AND id = $2 AND deleted = 0";

static int update_fn(struct db *db, void *p)
{
	struct ba_ctx *x = p;
	struct req *r = x->r;
	if (customer_check(r, db, x->customer) != 0)
		return -1;
	struct bank_source b;
	if (load_owned(r, db, x->customer, x->id, &b) != 0)
		return -1;
	const char *old_name = b.holder_name, *old_type = b.holder_type;
	const char *old_meta = b.metadata ? b.metadata : "{}";
	b.holder_name = str_update(r, "account_holder_name", b.holder_name);
	const char *ht = param_str(r, "account_holder_type");
	if (ht && *ht)
		b.holder_type = ht;
	const char *meta = old_meta;
	if (metadata_apply(r, old_meta, "metadata", &meta) != 0)
		return -1;
	b.metadata = meta;
	struct db_stmt *st = db_prepare(db, SQL_UPDATE);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, b.id, -1);
	db_bind_text(st, 3, b.holder_name, -1);
	db_bind_text(st, 4, b.holder_type, -1);
	db_bind_text(st, 5, b.metadata, -1);
	int64_t changed = 0;
	if (db_step_changes(st, &changed) != DB_OK || changed != 1)
		return req_fail(r, ERR_API, NULL, NULL);
	/* previous_attributes: the old value of every field this update changed */
	struct buf pb;
	struct json pj;
	buf_init(&pb, 16 * 1024);
	json_init(&pj, &pb);
	json_obj_open(&pj);
	if (!str_same(old_name, b.holder_name))
		json_kv_str_or_null(&pj, "account_holder_name", old_name);
	if (!str_same(old_type, b.holder_type))
		json_kv_str_or_null(&pj, "account_holder_type", old_type);
	if (strcmp(old_meta, meta) != 0)
		json_kv_raw(&pj, "metadata", old_meta, strlen(old_meta));
	json_obj_close(&pj);
	const char *prev = pb.failed ? NULL : arena_strdup(&r->arena, buf_cstr(&pb));
	buf_release(&pb);
	if (!prev)
		return req_fail(r, ERR_API, NULL, NULL);
	if (ba_event(r, db, "customer.source.updated", &b, prev) != 0)
		return -1;
	return respond(r, &b);
}

int bank_source_h_update(struct req *r)
{
	for (const char *const *p = card_only; *p; p++)
		if (param_present(r, *p))
			return req_fail(r, ERR_PARAM_UNKNOWN, *p, "%s", *p);
	struct ba_ctx x = {.r = r, .customer = r->args[0], .id = r->args[1]};
	return req_write(r, update_fn, &x);
}

static const char SQL_DELETE[] = "UPDATE customer_bank_accounts SET deleted = 1"
				 " WHERE merchant_id = $1 AND id = $2 AND deleted = 0";

int bank_source_detach(struct req *r, struct db *db, const char *customer, const char *id)
{
	struct bank_source b;
	if (load_owned(r, db, customer, id, &b) != 0)
		return -1;
	struct db_stmt *st = db_prepare(db, SQL_DELETE);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, b.id, -1);
	int64_t changed = 0;
	if (db_step_changes(st, &changed) != DB_OK || changed != 1)
		return req_fail(r, ERR_API, NULL, NULL);
	/* the event carries the account as it was, as on Stripe */
	return ba_event(r, db, "customer.source.deleted", &b, NULL);
}

static int delete_fn(struct db *db, void *p)
{
	struct ba_ctx *x = p;
	struct req *r = x->r;
	if (customer_check(r, db, x->customer) != 0)
		return -1;
	struct bank_source b;
	if (load_owned(r, db, x->customer, x->id, &b) != 0)
		return -1;
	if (bank_source_detach(r, db, x->customer, b.id) != 0)
		return -1;
	/* a default source is replaced by the newest of the others (or none) */
	char ds[ID_MAX], next[ID_MAX];
	if (customer_default_source(r, db, x->customer, "customer", ds) != 0)
		return -1;
	if (strcmp(ds, b.id) == 0) {
		if (source_newest(r, db, x->customer, b.id, next) != 0)
			return -1;
		if (customer_set_default_source(r, db, x->customer, next[0] ? next : NULL) != 0)
			return -1;
	}
	struct json *j = req_json(r);
	json_obj_open(j);
	json_kv_str(j, "id", b.id);
	json_kv_str(j, "object", "bank_account");
	json_kv_str(j, "currency", b.currency);
	json_kv_bool(j, "deleted", true);
	json_obj_close(j);
	return 0;
}

int bank_source_h_delete(struct req *r)
{
	struct ba_ctx x = {.r = r, .customer = r->args[0], .id = r->args[1]};
	return req_write(r, delete_fn, &x);
}

/* ---- verify ---- */

static const char SQL_VERIFY[] =
    "UPDATE customer_bank_accounts SET status = $3, verify_failures = $4"
    " WHERE merchant_id = $1 AND id = $2 AND deleted = 0 AND status = 'new'";

static int verify_fn(struct db *db, void *p)
{
	struct ba_ctx *x = p;
	struct req *r = x->r;
	if (customer_check(r, db, x->customer) != 0)
		return -1;
	struct bank_source b;
	if (load_owned(r, db, x->customer, x->id, &b) != 0)
		return -1;
	if (strcmp(b.status, "verified") == 0)
		return req_fail(r, ERR_PARAM_BAD, NULL,
				"This bank account has already been verified.");
	if (strcmp(b.status, "new") != 0)
		return req_fail(r, ERR_BANK_ACCOUNT_VERIFICATION_FAILED, NULL,
				"This bank account has failed verification too many times and can "
				"no longer be verified: add it again with a new token.");
	int64_t failures = b.verify_failures + (x->match ? 0 : 1);
	const char *status = x->match			       ? "verified"
			     : failures >= VERIFY_ATTEMPTS_MAX ? "verification_failed"
							       : "new";
	struct db_stmt *st = db_prepare(db, SQL_VERIFY);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, b.id, -1);
	db_bind_text(st, 3, status, -1);
	db_bind_int64(st, 4, failures);
	int64_t changed = 0;
	if (db_step_changes(st, &changed) != DB_OK || changed != 1)
		return req_fail(r, ERR_API, NULL, NULL);
	str_copy(b.status, sizeof(b.status), status);
	b.verify_failures = failures;
	if (strcmp(status, "new") != 0 &&
	    ba_event(r, db, "customer.source.updated", &b, "{\"status\":\"new\"}") != 0)
		return -1;
	if (x->match)
		return respond(r, &b);
	/* the wrong answer is counted (committed) and answered with Stripe's error */
	if (strcmp(status, "new") == 0)
		req_fail(r, ERR_BANK_ACCOUNT_VERIFICATION_FAILED, "amounts",
			 "The amounts provided do not match the amounts that were sent to the bank "
			 "account.");
	else
		req_fail(
		    r, ERR_BANK_ACCOUNT_VERIFICATION_FAILED, "amounts",
		    "The amounts provided do not match the amounts that were sent to the bank "
		    "account, and the bank account has now failed verification too many times.");
	return REQ_COMMIT_ERR;
}

int bank_source_h_verify(struct req *r)
{
	if (!bank_source_id(r->args[1]))
		return req_fail_missing(r, "source", r->args[1], "id");
	if (param_present(r, "descriptor_code"))
		return req_fail(r, ERR_PARAM_UNKNOWN, "descriptor_code", "%s", "descriptor_code");
	if (!param_present(r, "amounts"))
		return req_fail(r, ERR_PARAM_MISSING, "amounts", "%s", "amounts");
	struct ba_ctx x = {.r = r, .customer = r->args[0], .id = r->args[1]};
	if (ach_check_microdeposits(r, &x.match) != 0)
		return -1;
	return req_write(r, verify_fn, &x);
}

/* ---- the Bank Accounts API's list: the customer's bank accounts only ---- */

static const char SQL_CURSOR[] =
    "SELECT 1 FROM customer_bank_accounts WHERE merchant_id = $1 AND id = $2";
static const char SQL_DESC[] =
    "SELECT id FROM customer_bank_accounts WHERE merchant_id = $1 AND id > $2 AND id < $3"
    " AND customer = $5 AND deleted = 0 ORDER BY id DESC LIMIT $4";
static const char SQL_ASC[] =
    "SELECT id FROM customer_bank_accounts WHERE merchant_id = $1 AND id > $2 AND id < $3"
    " AND customer = $5 AND deleted = 0 ORDER BY id ASC LIMIT $4";

static int list_bind(struct req *r, struct db_stmt *st, int first, void *ctx)
{
	(void)ctx;
	db_bind_text(st, first, r->args[0], -1);
	return 0;
}

static int list_render(struct req *r, struct db *db, const char *id, struct json *j, void *ctx)
{
	(void)ctx;
	return bank_source_render(db, r->merchant_id, id, j);
}

static int h_list(struct req *r)
{
	if (customer_check_read(r, r->args[0]) != 0)
		return -1;
	const char *url = arena_printf(&r->arena, "/v1/customers/%s/bank_accounts", r->args[0]);
	if (!url)
		return req_fail(r, ERR_API, NULL, NULL);
	const struct list_spec spec = {
	    .url = url,
	    .object_name = "bank_account",
	    .id_prefix = BANK_SOURCE_PREFIX,
	    .sql_cursor = SQL_CURSOR,
	    .sql_desc = SQL_DESC,
	    .sql_asc = SQL_ASC,
	    .bind_filters = list_bind,
	    .render = list_render,
	};
	return list_respond(r, &spec);
}

static int h_retrieve(struct req *r)
{
	if (!bank_source_id(r->args[1]))
		return req_fail_missing(r, "bank_account", r->args[1], "id");
	return bank_source_h_retrieve(r);
}

static int h_update(struct req *r)
{
	if (!bank_source_id(r->args[1]))
		return req_fail_missing(r, "bank_account", r->args[1], "id");
	return bank_source_h_update(r);
}

static int h_delete(struct req *r)
{
	if (!bank_source_id(r->args[1]))
		return req_fail_missing(r, "bank_account", r->args[1], "id");
	return bank_source_h_delete(r);
}

static const struct param_spec create_params[] = {
    {"source", PT_STRING, 0, 255, NULL, NULL},
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};

const struct param_spec bank_source_update_params[] = {
    {"account_holder_name", PT_STRING, PF_EMPTYABLE, 200, NULL, NULL},
    {"account_holder_type", PT_ENUM, 0, 0, (const char *const[]){"individual", "company", NULL},
     NULL},
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};

const struct param_spec bank_source_verify_params[] = {
    {"amounts", PT_STRING_ARRAY, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};

static const struct param_spec no_params[] = {{NULL, 0, 0, 0, NULL, NULL}};

const struct route bank_sources_routes[] = {
    {"POST", "/v1/customers/{customer}/bank_accounts", h_create, create_params, 0},
    {"GET", "/v1/customers/{customer}/bank_accounts", h_list, no_params, ROUTE_LIST},
    {"GET", "/v1/customers/{customer}/bank_accounts/{id}", h_retrieve, no_params, 0},
    {"POST", "/v1/customers/{customer}/bank_accounts/{id}", h_update, bank_source_update_params, 0},
    {"DELETE", "/v1/customers/{customer}/bank_accounts/{id}", h_delete, no_params, 0},
    {"POST", "/v1/customers/{customer}/bank_accounts/{id}/verify", bank_source_h_verify,
     bank_source_verify_params, 0},
    {"POST", "/v1/customers/{customer}/sources/{id}/verify", bank_source_h_verify,
     bank_source_verify_params, 0},
    {NULL, NULL, NULL, NULL, 0},
};
