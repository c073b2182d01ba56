/*
 * Stripe Treasury, part one (/v1/treasury/financial_accounts, received credits and debits and
 * their test helpers, transactions and transaction entries): Tender is the bank of the merchant's
 * financial accounts.
 *
 * A financial account (fa_) belongs to the merchant the key acts as: on Stripe, a platform's
 * connected account (the platform calls with Stripe-Account), or the platform itself (Stripe
 * gives every Treasury platform a financial account of its own, used without the header). It
 * holds usd (supported_currencies is [usd], as on Stripe), and its features are active at once
 * when requested, as Stripe shows them in test mode. It has one ABA financial address at
 * Stripe's test routing number, whose account number the vault makes and seals
 * (vault/treasury_address.h): the account shows its last four digits, and a retrieve that asks
 * expand[]=financial_addresses.aba.account_number is the one answer that carries it.
 *
 * Money: the account's balance (cash, inbound_pending, outbound_pending per currency) is its own,
 * apart from the merchant's payments balance. It is never stored: it is the sum of the account's
 * transaction entries (trxne_), which are only ever inserted, each Treasury transaction (trxn_)
 * being one journal transaction of the ledger in the same write (ledger/ledger_treasury.h), which
 * tender verify checks against the entries. Every movement first bumps the account's row
 * (movements), so two debits of one account are serialized and cannot both spend its cash.
 *
 * Received credits (rc_) and received debits (rd_) are money another bank sent in or pulled out
 * (made by the test helpers, as in Stripe's test mode): a credit raises cash at once; a debit
 * takes it, or fails with failure_code insufficient_funds (and moves nothing) when the cash does
 * not cover it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "api/common.h"
#include "api/list.h"
#include "api/treasury.h"
#include "api/resources.h"
#include "app.h"
#include "core/str.h"
#include "http/form.h"
#include "ledger/ledger_treasury.h"
#include "store/store.h"
#include "vault/ach.h"
#include "vault/treasury_address.h"
#include "vault/vault.h"

static const char *with_param(struct req *r, const char *path)
{
	const char *v = param_str(r, path);
	return v && *v ? v : NULL;
}

/* ---- features ---- */

/* Stripe's financial account features, in the order the objects list them (active_features is
 * sorted). A feature in a group (financial_addresses.aba) is a leaf of the group's hash. */
static const struct feature {
	const char *name, *group, *leaf;
} FEATURES[] = {
    {"card_issuing", NULL, "card_issuing"},
    {"deposit_insurance", NULL, "deposit_insurance"},
    {"financial_addresses.aba", "financial_addresses", "aba"},
    {"inbound_transfers.ach", "inbound_transfers", "ach"},
    {"intra_stripe_flows", NULL, "intra_stripe_flows"},
    {"outbound_payments.ach", "outbound_payments", "ach"},
    {"outbound_payments.us_domestic_wire", "outbound_payments", "us_domestic_wire"},
    {"outbound_transfers.ach", "outbound_transfers", "ach"},
    {"outbound_transfers.us_domestic_wire", "outbound_transfers", "us_domestic_wire"},
};
#define N_FEATURES (sizeof(FEATURES) / sizeof(FEATURES[0]))
#define FEATURE_ABA (1u << 2)

bool treasury_fa_has_feature(const struct treasury_fa *f, const char *name)
{
	for (size_t i = 0; i < N_FEATURES; i++)
		if (strcmp(FEATURES[i].name, name) == 0)
			return (f->features & (1u << i)) != 0;
	return false;
}

/* The requested features as the column keeps them: their names, comma-separated. */
static const char *features_text(struct req *r, unsigned mask)
{
	char out[512] = "";
	size_t n = 0;
	for (size_t i = 0; i < N_FEATURES; i++)
		if (mask & (1u << i))
			n += (size_t)snprintf(out + n, sizeof(out) - n, "%s%s", n ? "," : "",
					      FEATURES[i].name);
	return arena_strdup(&r->arena, out);
}

static unsigned features_mask(const char *text)
{
	unsigned mask = 0;
	for (size_t i = 0; text && i < N_FEATURES; i++) {
		size_t len = strlen(FEATURES[i].name);
		for (const char *p = text; (p = strstr(p, FEATURES[i].name)) != NULL; p += len)
			if ((p == text || p[-1] == ',') && (p[len] == ',' || p[len] == '\0'))
				mask |= 1u << i;
	}
	return mask;
}

/* Applies the features hash at prefix ("features." on a financial account, "" on its features
 * endpoint): each <feature>[requested] given adds (true) or removes (false) the feature. */
static unsigned features_apply(struct req *r, const char *prefix, unsigned mask)
{
	for (size_t i = 0; i < N_FEATURES; i++) {
		char path[96];
		snprintf(path, sizeof(path), "%s%s.requested", prefix, FEATURES[i].name);
		bool on = false;
		if (param_bool(r, path, &on) == 1)
			mask = on ? mask | (1u << i) : mask & ~(1u << i);
	}
	return mask;
}

static void toggle_render(struct json *j)
{
	json_obj_open(j);
	json_kv_bool(j, "requested", true);
	/* test mode activates a requested feature at once, as Stripe's does */
	json_kv_str(j, "status", "active");
	json_key(j, "status_details");
	json_arr_open(j);
	json_arr_close(j);
	json_obj_close(j);
}

static void features_render(const char *fa_id, unsigned mask, struct json *j)
{
	(void)fa_id;
	json_obj_open(j);
	json_kv_str(j, "object", "treasury.financial_account_features");
	const char *open_group = NULL;
	for (size_t i = 0; i < N_FEATURES; i++) {
		if (!(mask & (1u << i)))
			continue;
		const struct feature *f = &FEATURES[i];
		if (open_group && (!f->group || strcmp(open_group, f->group) != 0)) {
			json_obj_close(j);
			open_group = NULL;
		}
		if (f->group && !open_group) {
			json_key(j, f->group);
			json_obj_open(j);
			open_group = f->group;
		}
		json_key(j, f->leaf);
		toggle_render(j);
	}
	if (open_group)
		json_obj_close(j);
	json_obj_close(j);
}

/* ---- financial accounts ---- */

static const char SQL_FA_GET[] =
    "SELECT id, created, status, supported_currencies, features, platform_restrictions,"
    " metadata, holder_name, routing_number, account_last4 FROM treasury_financial_accounts"
    " WHERE merchant_id = $1 AND id = $2";
static const char SQL_FA_INSERT[] =
    "INSERT INTO treasury_financial_accounts (merchant_id, id, created, status,"
    " supported_currencies, features, platform_restrictions, metadata, holder_name,"
    " routing_number, account_last4) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)";
static const char SQL_FA_UPDATE[] =
    "UPDATE treasury_financial_accounts SET features = $3, platform_restrictions = $4,"
    " metadata = $5 WHERE merchant_id = $1 AND id = $2";
/* taken by every movement before it reads the balance: serializes the account's movements */
static const char SQL_FA_LOCK[] = "UPDATE treasury_financial_accounts SET movements = movements + 1"
				  " WHERE merchant_id = $1 AND id = $2";
static const char SQL_FA_BALANCE[] =
    "SELECT currency, SUM(cash), SUM(inbound_pending), SUM(outbound_pending)"
    " FROM treasury_transaction_entries WHERE merchant_id = $1 AND financial_account = $2"
    " GROUP BY currency ORDER BY currency";
/* the name the financial address shows: the connected account's company or business name, else
 * the merchant's own; and the connected account's type (NULL for the platform itself) */
static const char SQL_HOLDER_NAME[] =
    "SELECT COALESCE((SELECT COALESCE(co_name, bp_name) FROM connected_accounts"
    " WHERE merchant_id = $1 AND id = $2), (SELECT name FROM merchants WHERE id = $2)),"
    " (SELECT type FROM connected_accounts WHERE merchant_id = $1 AND id = $2)";

static int fa_load(struct db *db, struct arena *a, const char *merchant_id, const char *id,
		   struct treasury_fa *f)
{
	struct db_stmt *st;
	int rc = db_row_by_id(db, SQL_FA_GET, merchant_id, id, &st);
	if (rc != DB_OK)
		return rc;
	memset(f, 0, sizeof(*f));
	str_copy(f->id, sizeof(f->id), db_col_text(st, 0, NULL));
	f->created = db_col_int64(st, 1);
	f->status = col_text_dup(a, st, 2);
	f->supported_currencies = col_text_dup(a, st, 3);
	f->features = features_mask(db_col_text(st, 4, NULL));
	f->platform_restrictions = col_text_dup(a, st, 5);
	f->metadata = col_text_dup(a, st, 6);
	f->holder_name = col_text_dup(a, st, 7);
	f->routing_number = col_text_dup(a, st, 8);
	f->account_last4 = col_text_dup(a, st, 9);
	db_reset(st);
	return f->status && f->supported_currencies && f->metadata && f->holder_name &&
		       f->routing_number && f->account_last4
		   ? DB_OK
		   : DB_ERR;
}

/* The account's balance in currency (zero when nothing moved), summed from its entries. */
int treasury_fa_balance(struct db *db, const char *merchant_id, const char *fa_id,
			const char *currency, struct treasury_impact *ret)
{
	memset(ret, 0, sizeof(*ret));
	struct db_stmt *st = db_prepare(db, SQL_FA_BALANCE);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, fa_id, -1);
	int rc;
	while ((rc = db_step(st)) == DB_ROW) {
		const char *cur = db_col_text(st, 0, NULL);
		if (cur && strcmp(cur, currency) == 0) {
			ret->cash = db_col_int64(st, 1);
			ret->inbound_pending = db_col_int64(st, 2);
			ret->outbound_pending = db_col_int64(st, 3);
		}
	}
	db_reset(st);
	return rc == DB_DONE ? DB_OK : DB_ERR;
}

/* account_number: the clear number for the one answer that expands it, else NULL. */
static int fa_render(struct req *r, struct db *db, const struct treasury_fa *f,
		     const char *account_number, bool with_features, struct json *j)
{
	struct treasury_impact bal;
	if (treasury_fa_balance(db, r->merchant_id, f->id, "usd", &bal) != DB_OK)
		return -1;
	json_obj_open(j);
	json_kv_str(j, "id", f->id);
	json_kv_str(j, "object", "treasury.financial_account");
	json_key(j, "active_features");
	json_arr_open(j);
	for (size_t i = 0; i < N_FEATURES; i++)
		if (f->features & (1u << i))
			json_str(j, FEATURES[i].name);
	json_arr_close(j);
	json_key(j, "balance");
	json_obj_open(j);
	json_key(j, "cash");
	json_obj_open(j);
	json_kv_int(j, "usd", bal.cash);
	json_obj_close(j);
	json_key(j, "inbound_pending");
	json_obj_open(j);
	json_kv_int(j, "usd", bal.inbound_pending);
	json_obj_close(j);
	json_key(j, "outbound_pending");
	json_obj_open(j);
	json_kv_int(j, "usd", bal.outbound_pending);
	json_obj_close(j);
	json_obj_close(j);
	json_kv_str(j, "country", "US");
	json_kv_int(j, "created", f->created);
	if (with_features) {
		json_key(j, "features");
		features_render(f->id, f->features, j);
	}
	json_key(j, "financial_addresses");
	json_arr_open(j);
	if (f->features & FEATURE_ABA) {
		json_obj_open(j);
		json_key(j, "aba");
		json_obj_open(j);
		json_kv_str(j, "account_holder_name", f->holder_name);
		json_kv_str_or_null(j, "account_number", account_number);
		json_kv_str(j, "account_number_last4", f->account_last4);
		json_kv_str(j, "bank_name", TREASURY_BANK_NAME);
		json_kv_str(j, "routing_number", f->routing_number);
		json_obj_close(j);
		json_key(j, "supported_networks");
		json_arr_open(j);
		json_str(j, "ach");
		json_str(j, "us_domestic_wire");
		json_arr_close(j);
		json_kv_str(j, "type", "aba");
		json_obj_close(j);
	}
	json_arr_close(j);
	json_kv_bool(j, "livemode", r->livemode);
	json_kv_raw(j, "metadata", f->metadata, strlen(f->metadata));
	json_key(j, "pending_features");
	json_arr_open(j);
	json_arr_close(j);
	json_kv_raw_or_null(j, "platform_restrictions", f->platform_restrictions);
	json_key(j, "restricted_features");
	json_arr_open(j);
	json_arr_close(j);
	json_kv_str(j, "status", f->status);
	json_key(j, "status_details");
	json_obj_open(j);
	if (strcmp(f->status, "closed") == 0) {
		/* the one way an account closes in Tender: the platform's POST …/close */
		json_key(j, "closed");
		json_obj_open(j);
		json_key(j, "reasons");
		json_arr_open(j);
		json_str(j, "closed_by_platform");
		json_arr_close(j);
		json_obj_close(j);
	} else {
		json_kv_null(j, "closed");
	}
	json_obj_close(j);
	json_kv_raw(j, "supported_currencies", f->supported_currencies,
		    strlen(f->supported_currencies));
	json_obj_close(j);
	return 0;
}

static int fa_emit(struct req *r, struct db *db, const struct treasury_fa *f, const char *type,
		   const char *prev)
{
	struct buf b;
	struct json j;
	buf_init(&b, 1u << 20);
	json_init(&j, &b);
	if (fa_render(r, db, f, NULL, false, &j) != 0) {
		buf_release(&b);
		return req_fail(r, ERR_API, NULL, NULL);
	}
	const char *js;
	size_t len;
	char ev[ID_MAX];
	return api_event_append(r, db, type, f->id, &b, prev, &js, &len, ev);
}

static int fa_respond(struct req *r, struct db *db, const struct treasury_fa *f,
		      const char *account_number)
{
	if (fa_render(r, db, f, account_number, req_expand_has(r, "features"), req_json(r)) != 0)
		return req_fail(r, ERR_API, NULL, NULL);
	return 0;
}

/* platform_restrictions: {inbound_flows, outbound_flows}, each restricted / unrestricted / null */
static int restrictions_json(struct req *r, const char *old, const char **ret)
{
	*ret = old;
	if (!param_present(r, "platform_restrictions"))
		return 0;
	const char *in = with_param(r, "platform_restrictions.inbound_flows");
	const char *out = with_param(r, "platform_restrictions.outbound_flows");
	/* fields not given keep their value */
	const char *old_in = old && strstr(old, "\"inbound_flows\":\"restricted\"") ? "restricted"
			     : old && strstr(old, "\"inbound_flows\":\"unrestricted\"")
				 ? "unrestricted"
				 : NULL;
	const char *old_out = old && strstr(old, "\"outbound_flows\":\"restricted\"") ? "restricted"
			      : old && strstr(old, "\"outbound_flows\":\"unrestricted\"")
				  ? "unrestricted"
				  : NULL;
	in = in ? in : old_in;
	out = out ? out : old_out;
	char buf[128];
	snprintf(buf, sizeof(buf), "{\"inbound_flows\":%s%s%s,\"outbound_flows\":%s%s%s}",
		 in ? "\"" : "", in ? in : "null", in ? "\"" : "", out ? "\"" : "",
		 out ? out : "null", out ? "\"" : "");
	*ret = arena_strdup(&r->arena, buf);
	return *ret ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

struct fa_ctx {
	struct req *r;
	const char *id;
	struct treasury_fa f;
};

static int fa_create_fn(struct db *db, void *arg)
{
	struct fa_ctx *x = arg;
	struct req *r = x->r;
	struct treasury_fa *f = &x->f;
	struct db_stmt *st = db_prepare(db, SQL_HOLDER_NAME);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->platform_id, -1);
	db_bind_text(st, 2, r->merchant_id, -1);
	int rc = db_step(st);
	const char *name = rc == DB_ROW ? col_text_dup(&r->arena, st, 0) : NULL;
	const char *type = rc == DB_ROW ? col_text_dup(&r->arena, st, 1) : NULL;
	db_reset(st);
	if (rc != DB_ROW && rc != DB_DONE)
		return req_fail(r, ERR_API, NULL, NULL);
	/* Stripe offers Treasury to connected accounts without a Stripe-hosted dashboard whose
	 * requirements the platform collects (custom ones), and to the platform itself */
	if (type && strcmp(type, "custom") != 0)
		return req_fail(r, ERR_INVALID_STATE, NULL,
				"Financial accounts are only available to connected accounts "
				"without a Stripe-hosted dashboard: %s is a %s account.",
				r->merchant_id, type);
	f->holder_name = name ? name : "";
	char last4[5];
	if (vault_treasury_address_make(r->app->vault, db, r->merchant_id, f->id, r->now, last4) !=
	    0)
		return req_fail(r, ERR_API, NULL, NULL);
	f->account_last4 = arena_strdup(&r->arena, last4);
	f->routing_number = TREASURY_ROUTING;
	st = db_prepare(db, SQL_FA_INSERT);
	if (!st || !f->account_last4)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, f->id, -1);
	db_bind_int64(st, 3, f->created);
	db_bind_text(st, 4, f->status, -1);
	db_bind_text(st, 5, f->supported_currencies, -1);
	db_bind_text(st, 6, features_text(r, f->features), -1);
	db_bind_text(st, 7, f->platform_restrictions, -1);
	db_bind_text(st, 8, f->metadata, -1);
	db_bind_text(st, 9, f->holder_name, -1);
	db_bind_text(st, 10, f->routing_number, -1);
	db_bind_text(st, 11, f->account_last4, -1);
	if (db_step_done(st) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (fa_emit(r, db, f, "treasury.financial_account.created", NULL) != 0)
		return -1;
	return fa_respond(r, db, f, NULL);
}

/* supported_currencies: Treasury holds usd only */
static int currencies_check(struct req *r)
{
	const struct form_node *n = param_node(r, "supported_currencies");
	bool any = false;
	if (n && n->kind != FORM_SCALAR) {
		for (const struct form_node *c = n->first_child; c; c = c->next) {
			if (c->kind != FORM_SCALAR || !c->value || strcasecmp(c->value, "usd") != 0)
				return req_fail(r, ERR_PARAM_BAD, "supported_currencies",
						"Invalid supported_currencies: financial accounts "
						"support usd only.");
			any = true;
		}
	} else if (n && n->value_len) {
		if (strcasecmp(n->value, "usd") != 0)
			return req_fail(r, ERR_PARAM_BAD, "supported_currencies",
					"Invalid supported_currencies: financial accounts support "
					"usd only.");
		any = true;
	}
	if (!any)
		return req_fail(r, ERR_PARAM_MISSING, "supported_currencies",
				"supported_currencies");
	return 0;
}

static int h_fa_create(struct req *r)
{
	struct fa_ctx x = {.r = r};
	struct treasury_fa *f = &x.f;
	id_new_at(f->id, "fa_", r->now);
	f->created = r->now;
	f->status = "open";
	f->supported_currencies = "[\"usd\"]";
	f->metadata = "{}";
	f->features = features_apply(r, "features.", 0);
	if (currencies_check(r) != 0 ||
	    restrictions_json(r, NULL, &f->platform_restrictions) != 0 ||
	    metadata_apply(r, NULL, "metadata", &f->metadata) != 0)
		return -1;
	return req_write(r, fa_create_fn, &x);
}

static int fa_load_fn(struct db *db, void *arg)
{
	struct fa_ctx *x = arg;
	int rc = fa_load(db, &x->r->arena, x->r->merchant_id, x->id, &x->f);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(x->r, "treasury.financial_account", x->id,
					"financial_account");
	return rc == DB_OK ? 0 : req_fail(x->r, ERR_API, NULL, NULL);
}

#define EXPAND_ACCOUNT_NUMBER "financial_addresses.aba.account_number"

static int fa_retrieve_fn(struct db *db, void *arg)
{
	struct fa_ctx *x = arg;
	struct req *r = x->r;
	if (fa_load_fn(db, arg) != 0)
		return -1;
	bool want = (x->f.features & FEATURE_ABA) && req_expand_has(r, EXPAND_ACCOUNT_NUMBER);
	char number[TREASURY_ACCOUNT_LEN + 1] = "";
	if (want && vault_treasury_account_number(r->app->vault, db, r->merchant_id, x->f.id,
						  r->now, number) != 0)
		return req_fail(r, ERR_API, NULL, NULL);
	int rc = fa_respond(r, db, &x->f, want ? number : NULL);
	OPENSSL_cleanse(number, sizeof(number));
	return rc;
}

static int h_fa_retrieve(struct req *r)
{
	struct fa_ctx x = {.r = r, .id = r->args[0]};
	/* a reveal is recorded (vault_access_record): that needs a write */
	if (req_expand_has(r, EXPAND_ACCOUNT_NUMBER))
		return req_write(r, fa_retrieve_fn, &x);
	return req_read(r, fa_retrieve_fn, &x) == 0 ? 0 : -1;
}

/* Writes the account's features, restrictions and metadata, with the events their change
 * makes: treasury.financial_account.features_status_updated when the features changed (Stripe
 * has no event for the rest). */
static int fa_save(struct req *r, struct db *db, const struct treasury_fa *f, unsigned old_features)
{
	struct db_stmt *st = db_prepare(db, SQL_FA_UPDATE);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, f->id, -1);
	db_bind_text(st, 3, features_text(r, f->features), -1);
	db_bind_text(st, 4, f->platform_restrictions, -1);
	db_bind_text(st, 5, f->metadata, -1);
	if (db_step_done(st) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (f->features == old_features)
		return 0;
	/* previous_attributes: the features the account had */
	struct buf pb;
	struct json pj;
	buf_init(&pb, 8192);
	json_init(&pj, &pb);
	json_obj_open(&pj);
	json_key(&pj, "active_features");
	json_arr_open(&pj);
	for (size_t i = 0; i < N_FEATURES; i++)
		if (old_features & (1u << i))
			json_str(&pj, FEATURES[i].name);
	json_arr_close(&pj);
	json_obj_close(&pj);
	const char *prev = pb.failed ? NULL : arena_strdup(&r->arena, buf_cstr(&pb));
	buf_release(&pb);
	if (!prev)
		return req_fail(r, ERR_API, NULL, NULL);
	return fa_emit(r, db, f, "treasury.financial_account.features_status_updated", prev);
}

/* A closed account's features are over: Stripe refuses to change them. 0, or -1 with r->err. */
static int closed_refuse(struct req *r, const struct treasury_fa *f, const char *param)
{
	if (strcmp(f->status, "closed") != 0)
		return 0;
	return req_fail(r, ERR_INVALID_STATE, param,
			"The financial account %s is closed: its features cannot be changed.",
			f->id);
}

static int fa_update_fn(struct db *db, void *arg)
{
	struct fa_ctx *x = arg;
	struct req *r = x->r;
	if (fa_load_fn(db, arg) != 0)
		return -1;
	struct treasury_fa *f = &x->f;
	unsigned old = f->features;
	if (param_present(r, "features") && closed_refuse(r, f, "features") != 0)
		return -1;
	f->features = features_apply(r, "features.", f->features);
	if (restrictions_json(r, f->platform_restrictions, &f->platform_restrictions) != 0 ||
	    metadata_apply(r, f->metadata, "metadata", &f->metadata) != 0)
		return -1;
	if (fa_save(r, db, f, old) != 0)
		return -1;
	return fa_respond(r, db, f, NULL);
}

static int h_fa_update(struct req *r)
{
	struct fa_ctx x = {.r = r, .id = r->args[0]};
	return req_write(r, fa_update_fn, &x);
}

static int features_retrieve_fn(struct db *db, void *arg)
{
	struct fa_ctx *x = arg;
	if (fa_load_fn(db, arg) != 0)
		return -1;
	features_render(x->f.id, x->f.features, req_json(x->r));
	return 0;
}

static int h_features_retrieve(struct req *r)
{
	struct fa_ctx x = {.r = r, .id = r->args[0]};
	return req_read(r, features_retrieve_fn, &x) == 0 ? 0 : -1;
}

static int features_update_fn(struct db *db, void *arg)
{
	struct fa_ctx *x = arg;
	struct req *r = x->r;
	if (fa_load_fn(db, arg) != 0)
		return -1;
	struct treasury_fa *f = &x->f;
	unsigned old = f->features;
	if (closed_refuse(r, f, NULL) != 0)
		return -1;
	f->features = features_apply(r, "", f->features);
	if (fa_save(r, db, f, old) != 0)
		return -1;
	features_render(f->id, f->features, req_json(r));
	return 0;
}

static int h_features_update(struct req *r)
{
	struct fa_ctx x = {.r = r, .id = r->args[0]};
	return req_write(r, features_update_fn, &x);
}

/* ---- close ---- */

static const char SQL_FA_CLOSE[] = "UPDATE treasury_financial_accounts SET status = 'closed'"
				   " WHERE merchant_id = $1 AND id = $2 AND status = 'open'";
static const char SQL_FA_PENDING_IBT[] =
    "SELECT COUNT(*) FROM treasury_flows WHERE merchant_id = $1 AND financial_account = $2"
    " AND kind = 'inbound_transfer' AND status = 'processing'";

/*
 * POST /v1/treasury/financial_accounts/{id}/close: Stripe closes an account only with a zero
 * balance (cash, inbound_pending and outbound_pending all 0) and no pending InboundTransfer (and
 * no Issuing card attached: Tender attaches none to financial accounts). The account then shows
 * status closed with status_details.closed.reasons [closed_by_platform], and
 * treasury.financial_account.closed is appended in the same write. What comes after is refused
 * as Stripe refuses it: received credits and debits fail with account_closed, outbound flows and
 * inbound transfers are 400s (treasury_fa_for_movement), its features no longer change.
 */
static int fa_close_fn(struct db *db, void *arg)
{
	struct fa_ctx *x = arg;
	struct req *r = x->r;
	if (fa_load_fn(db, arg) != 0)
		return -1;
	struct treasury_fa *f = &x->f;
	if (strcmp(f->status, "open") != 0)
		return req_fail(r, ERR_INVALID_STATE, NULL,
				"The financial account %s is already closed.", f->id);
	/* the movement lock: no flow can change the balance between this check and the close */
	if (db_run_by_id(db, SQL_FA_LOCK, r->merchant_id, f->id) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	struct treasury_impact bal;
	if (treasury_fa_balance(db, r->merchant_id, f->id, "usd", &bal) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	struct db_stmt *st;
	int rc = db_row_by_id(db, SQL_FA_PENDING_IBT, r->merchant_id, f->id, &st);
	int64_t pending = 0;
	if (rc == DB_OK) {
		pending = db_col_int64(st, 0);
		db_reset(st);
	} else if (rc != DB_NOTFOUND) {
		return req_fail(r, ERR_API, NULL, NULL);
	}
	if (pending > 0)
		return req_fail(r, ERR_INVALID_STATE, NULL,
				"The financial account %s has pending InboundTransfers: it can be "
				"closed once they have settled or been canceled.",
				f->id);
	if (bal.cash != 0 || bal.inbound_pending != 0 || bal.outbound_pending != 0)
		return req_fail(r, ERR_INVALID_STATE, NULL,
				"The financial account %s has a non-zero balance: move its funds "
				"out (and let pending flows settle) before closing it.",
				f->id);
	if (db_run_by_id(db, SQL_FA_CLOSE, r->merchant_id, f->id) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	f->status = "closed";
	if (fa_emit(r, db, f, "treasury.financial_account.closed",
		    "{\"status\":\"open\",\"status_details\":{\"closed\":null}}") != 0)
		return -1;
	return fa_respond(r, db, f, NULL);
}

static int h_fa_close(struct req *r)
{
	/* forwarding_settings names where money arriving after the close goes (another financial
	 * account, or a verified bank account). Tender keeps no forwarding rule for a closed
	 * account (a received credit to it fails with account_closed), so a request asking for
	 * one is refused rather than answered with a setting that would not be honored. */
	if (param_present(r, "forwarding_settings")) {
		const char *type = with_param(r, "forwarding_settings.type");
		if (!type)
			return req_fail(r, ERR_PARAM_MISSING, "forwarding_settings[type]",
					"forwarding_settings[type]");
		return req_fail(r, ERR_PARAM_BAD, "forwarding_settings",
				"forwarding_settings is not supported by Tender: funds that "
				"arrive at a closed financial account are refused "
				"(account_closed), not forwarded. Move the balance out before "
				"closing the account.");
	}
	struct fa_ctx x = {.r = r, .id = r->args[0]};
	return req_write(r, fa_close_fn, &x);
}

static const char SQL_FA_CURSOR[] =
    "SELECT created FROM treasury_financial_accounts WHERE merchant_id = $1 AND id = $2";
#define FA_LIST_WHERE                                                                              \
	"SELECT id FROM treasury_financial_accounts WHERE merchant_id = $1 AND id > $2 AND id < "  \
	"$3"
static const char SQL_FA_DESC[] = FA_LIST_WHERE " ORDER BY id DESC LIMIT $4";
static const char SQL_FA_ASC[] = FA_LIST_WHERE " ORDER BY id ASC LIMIT $4";

static int fa_list_render(struct req *r, struct db *db, const char *id, struct json *j, void *ctx)
{
	(void)ctx;
	struct treasury_fa f;
	int rc = fa_load(db, &r->arena, r->merchant_id, id, &f);
	if (rc == DB_OK && fa_render(r, db, &f, NULL, false, j) != 0)
		rc = DB_ERR;
	return rc;
}

static int h_fa_list(struct req *r)
{
	static const struct list_spec spec = {
	    .url = "/v1/treasury/financial_accounts",
	    .object_name = "treasury.financial_account",
	    .id_prefix = "fa_",
	    .sql_cursor = SQL_FA_CURSOR,
	    .sql_desc = SQL_FA_DESC,
	    .sql_asc = SQL_FA_ASC,
	    .render = fa_list_render,
	};
	return list_respond(r, &spec);
}

/* ---- transactions and their entries ---- */

struct txn {
	char id[ID_MAX];
	int64_t created, amount, posted_at, void_at;
	const char *financial_account, *currency, *description, *flow, *flow_type, *status;
	struct treasury_impact impact; /* the sum of its entries */
};

static const char SQL_TXN_GET[] =
    "SELECT t.id, t.created, t.financial_account, t.amount, t.currency, t.description, t.flow,"
    " t.flow_type, t.status, t.posted_at, t.void_at, (SELECT SUM(e.cash) FROM"
    " treasury_transaction_entries e WHERE e.merchant_id = t.merchant_id AND e.transaction_id ="
    " t.id), (SELECT SUM(e.inbound_pending) FROM treasury_transaction_entries e WHERE"
    " e.merchant_id = t.merchant_id AND e.transaction_id = t.id), (SELECT SUM(e.outbound_pending)"
    " FROM treasury_transaction_entries e WHERE e.merchant_id = t.merchant_id AND"
    " e.transaction_id = t.id) FROM treasury_transactions t WHERE t.merchant_id = $1 AND t.id = $2";
static const char SQL_TXN_INSERT[] =
    "INSERT INTO treasury_transactions (merchant_id, id, created, financial_account, amount,"
    " currency, description, flow, flow_type, status, posted_at) VALUES ($1, $2, $3, $4, $5, $6,"
    " $7, $8, $9, $10, $11)";
static const char SQL_ENTRY_INSERT[] =
    "INSERT INTO treasury_transaction_entries (merchant_id, id, created, effective_at,"
    " transaction_id, financial_account, currency, flow, flow_type, type, cash, inbound_pending,"
    " outbound_pending) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)";

static int txn_load(struct db *db, struct arena *a, const char *merchant_id, const char *id,
		    struct txn *t)
{
	struct db_stmt *st;
	int rc = db_row_by_id(db, SQL_TXN_GET, merchant_id, id, &st);
	if (rc != DB_OK)
		return rc;
	memset(t, 0, sizeof(*t));
	str_copy(t->id, sizeof(t->id), db_col_text(st, 0, NULL));
	t->created = db_col_int64(st, 1);
	t->financial_account = col_text_dup(a, st, 2);
	t->amount = db_col_int64(st, 3);
	t->currency = col_text_dup(a, st, 4);
	t->description = col_text_dup(a, st, 5);
	t->flow = col_text_dup(a, st, 6);
	t->flow_type = col_text_dup(a, st, 7);
	t->status = col_text_dup(a, st, 8);
	t->posted_at = db_col_int64_or0(st, 9);
	t->void_at = db_col_int64_or0(st, 10);
	t->impact.cash = db_col_int64_or0(st, 11);
	t->impact.inbound_pending = db_col_int64_or0(st, 12);
	t->impact.outbound_pending = db_col_int64_or0(st, 13);
	db_reset(st);
	return t->financial_account && t->currency && t->description && t->flow_type && t->status
		   ? DB_OK
		   : DB_ERR;
}

static void impact_render(struct json *j, const struct treasury_impact *b)
{
	json_obj_open(j);
	json_kv_int(j, "cash", b->cash);
	json_kv_int(j, "inbound_pending", b->inbound_pending);
	json_kv_int(j, "outbound_pending", b->outbound_pending);
	json_obj_close(j);
}

static int entry_render(struct req *r, struct db *db, const char *id, struct json *j);

static const char SQL_TXN_ENTRIES[] =
    "SELECT id FROM treasury_transaction_entries WHERE merchant_id = $1 AND transaction_id = $2"
    " ORDER BY id DESC";

/* expand[]=entries (data.entries in a list): the transaction's entries as a list, newest first
 * (a transaction has a few: its flow's steps) */
static int txn_entries_render(struct req *r, struct db *db, const char *trxn_id, struct json *j)
{
	struct db_stmt *st = db_prepare(db, SQL_TXN_ENTRIES);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, trxn_id, -1);
	const char *ids[16];
	size_t n = 0;
	int rc;
	while ((rc = db_step(st)) == DB_ROW && n < 16)
		ids[n++] = col_text_dup(&r->arena, st, 0);
	db_reset(st);
	if (rc != DB_DONE && rc != DB_ROW)
		return DB_ERR;
	json_obj_open(j);
	json_kv_str(j, "object", "list");
	json_key(j, "data");
	json_arr_open(j);
	for (size_t i = 0; i < n; i++)
		if (!ids[i] || entry_render(r, db, ids[i], j) != DB_OK)
			return DB_ERR;
	json_arr_close(j);
	json_kv_bool(j, "has_more", rc == DB_ROW);
	char url[128];
	snprintf(url, sizeof(url), "/v1/treasury/transaction_entries?transaction=%s", trxn_id);
	json_kv_str(j, "url", url);
	json_obj_close(j);
	return DB_OK;
}

static int txn_render(struct req *r, struct db *db, const struct txn *t, bool with_entries,
		      struct json *j)
{
	bool livemode = r->livemode;
	json_obj_open(j);
	json_kv_str(j, "id", t->id);
	json_kv_str(j, "object", "treasury.transaction");
	json_kv_int(j, "amount", t->amount);
	json_key(j, "balance_impact");
	impact_render(j, &t->impact);
	json_kv_int(j, "created", t->created);
	json_kv_str(j, "currency", t->currency);
	json_kv_str(j, "description", t->description);
	json_key(j, "entries");
	if (!with_entries)
		json_nil(j);
	else if (txn_entries_render(r, db, t->id, j) != DB_OK)
		return DB_ERR;
	json_kv_str(j, "financial_account", t->financial_account);
	json_kv_str_or_null(j, "flow", t->flow);
	json_kv_null(j, "flow_details");
	json_kv_str(j, "flow_type", t->flow_type);
	json_kv_bool(j, "livemode", livemode);
	json_kv_str(j, "status", t->status);
	json_key(j, "status_transitions");
	json_obj_open(j);
	if (t->posted_at)
		json_kv_int(j, "posted_at", t->posted_at);
	else
		json_kv_null(j, "posted_at");
	if (t->void_at)
		json_kv_int(j, "void_at", t->void_at);
	else
		json_kv_null(j, "void_at");
	json_obj_close(j);
	json_obj_close(j);
	return DB_OK;
}

int treasury_txn_new(struct req *r, struct db *db, const char *fa, const char *currency,
		     int64_t amount, const char *description, const char *flow,
		     const char *flow_type, const char *status, char ret_id[ID_MAX])
{
	id_new_at(ret_id, "trxn_", r->now);
	struct db_stmt *st = db_prepare(db, SQL_TXN_INSERT);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, ret_id, -1);
	db_bind_int64(st, 3, r->now);
	db_bind_text(st, 4, fa, -1);
	db_bind_int64(st, 5, amount);
	db_bind_text(st, 6, currency, -1);
	db_bind_text(st, 7, description, -1);
	db_bind_text(st, 8, flow, -1);
	db_bind_text(st, 9, flow_type, -1);
	db_bind_text(st, 10, status, -1);
	db_bind_int64_or_null(st, 11, strcmp(status, "posted") == 0 ? r->now : 0);
	return db_step_done(st) == DB_OK ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

int treasury_txn_entry(struct req *r, struct db *db, const char *trxn_id, const char *fa,
		       const char *currency, const char *flow, const char *flow_type,
		       const char *entry_type, const struct treasury_impact *impact)
{
	int rc = ledger_treasury_post(db, r->merchant_id, trxn_id, impact, currency, r->now);
	if (rc == LEDGER_ERR_OVERFLOW)
		return req_fail(r, ERR_PARAM_BAD, "amount",
				"The amount would take the financial account's balance beyond "
				"what Tender keeps.");
	if (rc != 0)
		return req_fail(r, ERR_API, NULL, NULL);
	char entry_id[ID_MAX];
	id_new_at(entry_id, "trxne_", r->now);
	struct db_stmt *st = db_prepare(db, SQL_ENTRY_INSERT);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, entry_id, -1);
	db_bind_int64(st, 3, r->now);
	db_bind_int64(st, 4, r->now);
	db_bind_text(st, 5, trxn_id, -1);
	db_bind_text(st, 6, fa, -1);
	db_bind_text(st, 7, currency, -1);
	db_bind_text(st, 8, flow, -1);
	db_bind_text(st, 9, flow_type, -1);
	db_bind_text(st, 10, entry_type, -1);
	db_bind_int64(st, 11, impact->cash);
	db_bind_int64(st, 12, impact->inbound_pending);
	db_bind_int64(st, 13, impact->outbound_pending);
	return db_step_done(st) == DB_OK ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

static const char SQL_TXN_SETTLE[] =
    "UPDATE treasury_transactions SET status = $3, posted_at = $4, void_at = $5"
    " WHERE merchant_id = $1 AND id = $2 AND status = 'open'";

int treasury_txn_settle(struct req *r, struct db *db, const char *trxn_id, const char *status)
{
	struct db_stmt *st = db_prepare(db, SQL_TXN_SETTLE);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	bool posted = strcmp(status, "posted") == 0;
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, trxn_id, -1);
	db_bind_text(st, 3, status, -1);
	db_bind_int64_or_null(st, 4, posted ? r->now : 0);
	db_bind_int64_or_null(st, 5, posted ? 0 : r->now);
	int64_t n = 0;
	if (db_step_changes(st, &n) != DB_OK || n != 1)
		return req_fail(r, ERR_API, NULL, NULL);
	return 0;
}

/* One posted Treasury transaction with its single entry (a received credit or debit). */
static int txn_book(struct req *r, struct db *db, const char *fa, const char *currency,
		    int64_t amount, const char *description, const char *flow,
		    const char *flow_type, const char *entry_type,
		    const struct treasury_impact *impact, char ret_id[ID_MAX])
{
	if (treasury_txn_new(r, db, fa, currency, amount, description, flow, flow_type, "posted",
			     ret_id) != 0)
		return -1;
	return treasury_txn_entry(r, db, ret_id, fa, currency, flow, flow_type, entry_type, impact);
}

struct txn_ctx {
	struct req *r;
	const char *id;
	struct txn t;
};

static int txn_retrieve_fn(struct db *db, void *arg)
{
	struct txn_ctx *x = arg;
	int rc = txn_load(db, &x->r->arena, x->r->merchant_id, x->id, &x->t);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(x->r, "treasury.transaction", x->id, "id");
	if (rc != DB_OK)
		return req_fail(x->r, ERR_API, NULL, NULL);
	if (txn_render(x->r, db, &x->t, req_expand_has(x->r, "entries"), req_json(x->r)) != DB_OK)
		return req_fail(x->r, ERR_API, NULL, NULL);
	return 0;
}

static int h_txn_retrieve(struct req *r)
{
	struct txn_ctx x = {.r = r, .id = r->args[0]};
	return req_read(r, txn_retrieve_fn, &x) == 0 ? 0 : -1;
}

static const char SQL_TXN_CURSOR[] =
    "SELECT created FROM treasury_transactions WHERE merchant_id = $1 AND id = $2";
#define TXN_LIST_WHERE                                                                             \
	"SELECT id FROM treasury_transactions WHERE merchant_id = $1 AND id > $2 AND id < $3"      \
	" AND financial_account = $5 AND ($6 IS NULL OR status = $6)"
static const char SQL_TXN_DESC[] = TXN_LIST_WHERE " ORDER BY id DESC LIMIT $4";
static const char SQL_TXN_ASC[] = TXN_LIST_WHERE " ORDER BY id ASC LIMIT $4";

static int txn_list_bind(struct req *r, struct db_stmt *st, int first, void *ctx)
{
	(void)ctx;
	list_bind_filter(r, st, first, "financial_account");
	list_bind_filter(r, st, first + 1, "status");
	return 0;
}

static int txn_list_render(struct req *r, struct db *db, const char *id, struct json *j, void *ctx)
{
	(void)ctx;
	struct txn t;
	int rc = txn_load(db, &r->arena, r->merchant_id, id, &t);
	if (rc == DB_OK)
		rc = txn_render(r, db, &t, req_expand_has(r, "data.entries"), j);
	return rc;
}

static int h_txn_list(struct req *r)
{
	static const struct list_spec spec = {
	    .url = "/v1/treasury/transactions",
	    .object_name = "treasury.transaction",
	    .id_prefix = "trxn_",
	    .sql_cursor = SQL_TXN_CURSOR,
	    .sql_desc = SQL_TXN_DESC,
	    .sql_asc = SQL_TXN_ASC,
	    .bind_filters = txn_list_bind,
	    .render = txn_list_render,
	};
	return list_respond(r, &spec);
}

static const char SQL_ENTRY_GET[] =
    "SELECT id, created, effective_at, transaction_id, financial_account, currency, flow,"
    " flow_type, type, cash, inbound_pending, outbound_pending FROM treasury_transaction_entries"
    " WHERE merchant_id = $1 AND id = $2";

static int entry_render(struct req *r, struct db *db, const char *id, struct json *j)
{
	struct db_stmt *st;
	int rc = db_row_by_id(db, SQL_ENTRY_GET, r->merchant_id, id, &st);
	if (rc != DB_OK)
		return rc;
	const char *txt[7];
	for (int i = 0; i < 7; i++)
		txt[i] = col_text_dup(&r->arena, st, i == 0 ? 0 : i + 2);
	int64_t created = db_col_int64(st, 1), effective_at = db_col_int64(st, 2);
	struct treasury_impact b = {db_col_int64(st, 9), db_col_int64(st, 10),
				    db_col_int64(st, 11)};
	db_reset(st);
	/* txt: id, transaction, financial_account, currency, flow, flow_type, type */
	if (!txt[0] || !txt[1] || !txt[2] || !txt[3] || !txt[5] || !txt[6])
		return DB_ERR;
	json_obj_open(j);
	json_kv_str(j, "id", txt[0]);
	json_kv_str(j, "object", "treasury.transaction_entry");
	json_key(j, "balance_impact");
	impact_render(j, &b);
	json_kv_int(j, "created", created);
	json_kv_str(j, "currency", txt[3]);
	json_kv_int(j, "effective_at", effective_at);
	json_kv_str(j, "financial_account", txt[2]);
	json_kv_str_or_null(j, "flow", txt[4]);
	json_kv_null(j, "flow_details");
	json_kv_str(j, "flow_type", txt[5]);
	json_kv_bool(j, "livemode", r->livemode);
	json_kv_str(j, "transaction", txt[1]);
	json_kv_str(j, "type", txt[6]);
	json_obj_close(j);
	return DB_OK;
}

struct entry_ctx {
	struct req *r;
	const char *id;
};

static int entry_retrieve_fn(struct db *db, void *arg)
{
	struct entry_ctx *x = arg;
	int rc = entry_render(x->r, db, x->id, req_json(x->r));
	if (rc == DB_NOTFOUND)
		return req_fail_missing(x->r, "treasury.transaction_entry", x->id, "id");
	return rc == DB_OK ? 0 : req_fail(x->r, ERR_API, NULL, NULL);
}

static int h_entry_retrieve(struct req *r)
{
	struct entry_ctx x = {.r = r, .id = r->args[0]};
	return req_read(r, entry_retrieve_fn, &x) == 0 ? 0 : -1;
}

static const char SQL_ENTRY_CURSOR[] =
    "SELECT created FROM treasury_transaction_entries WHERE merchant_id = $1 AND id = $2";
#define ENTRY_LIST_WHERE                                                                           \
	"SELECT id FROM treasury_transaction_entries WHERE merchant_id = $1 AND id > $2"           \
	" AND id < $3 AND financial_account = $5 AND ($6 IS NULL OR transaction_id = $6)"
static const char SQL_ENTRY_DESC[] = ENTRY_LIST_WHERE " ORDER BY id DESC LIMIT $4";
static const char SQL_ENTRY_ASC[] = ENTRY_LIST_WHERE " ORDER BY id ASC LIMIT $4";

static int entry_list_bind(struct req *r, struct db_stmt *st, int first, void *ctx)
{
	(void)ctx;
	list_bind_filter(r, st, first, "financial_account");
	list_bind_filter(r, st, first + 1, "transaction");
	return 0;
}

static int entry_list_render(struct req *r, struct db *db, const char *id, struct json *j,
			     void *ctx)
{
	(void)ctx;
	return entry_render(r, db, id, j);
}

static int h_entry_list(struct req *r)
{
	static const struct list_spec spec = {
	    .url = "/v1/treasury/transaction_entries",
	    .object_name = "treasury.transaction_entry",
	    .id_prefix = "trxne_",
	    .sql_cursor = SQL_ENTRY_CURSOR,
	    .sql_desc = SQL_ENTRY_DESC,
	    .sql_asc = SQL_ENTRY_ASC,
	    .bind_filters = entry_list_bind,
	    .render = entry_list_render,
	};
	return list_respond(r, &spec);
}

/* ---- received credits and debits ---- */

struct received {
	char id[ID_MAX];
	bool debit;
	int64_t created, amount;
	const char *financial_account, *currency, *network, *description, *status, *failure_code;
	const char *initiating, *transaction, *reversal, *inbound_transfer;
};

static const char SQL_RCV_GET[] =
    "SELECT id, kind, created, financial_account, amount, currency, network, description,"
    " status, failure_code, initiating, transaction_id, reversal, inbound_transfer"
    " FROM treasury_received"
    " WHERE merchant_id = $1 AND id = $2";
static const char SQL_RCV_INSERT[] =
    "INSERT INTO treasury_received (merchant_id, id, kind, created, financial_account, amount,"
    " currency, network, description, status, failure_code, initiating, transaction_id,"
    " inbound_transfer) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)";

static int rcv_load(struct db *db, struct arena *a, const char *merchant_id, const char *id,
		    struct received *v)
{
	struct db_stmt *st;
	int rc = db_row_by_id(db, SQL_RCV_GET, merchant_id, id, &st);
	if (rc != DB_OK)
		return rc;
	memset(v, 0, sizeof(*v));
	str_copy(v->id, sizeof(v->id), db_col_text(st, 0, NULL));
	const char *kind = db_col_text(st, 1, NULL);
	v->debit = kind && strcmp(kind, "debit") == 0;
	v->created = db_col_int64(st, 2);
	v->financial_account = col_text_dup(a, st, 3);
	v->amount = db_col_int64(st, 4);
	v->currency = col_text_dup(a, st, 5);
	v->network = col_text_dup(a, st, 6);
	v->description = col_text_dup(a, st, 7);
	v->status = col_text_dup(a, st, 8);
	v->failure_code = col_text_dup(a, st, 9);
	v->initiating = col_text_dup(a, st, 10);
	v->transaction = col_text_dup(a, st, 11);
	v->reversal = col_text_dup(a, st, 12);
	v->inbound_transfer = col_text_dup(a, st, 13);
	db_reset(st);
	return v->financial_account && v->currency && v->network && v->description && v->status &&
		       v->initiating
		   ? DB_OK
		   : DB_ERR;
}

static void rcv_render(bool livemode, const struct received *v, struct json *j)
{
	json_obj_open(j);
	json_kv_str(j, "id", v->id);
	json_kv_str(j, "object", v->debit ? "treasury.received_debit" : "treasury.received_credit");
	json_kv_int(j, "amount", v->amount);
	json_kv_int(j, "created", v->created);
	json_kv_str(j, "currency", v->currency);
	json_kv_str(j, "description", v->description);
	json_kv_str_or_null(j, "failure_code", v->failure_code);
	json_kv_str(j, "financial_account", v->financial_account);
	/* Tender serves no regulatory receipt page */
	json_kv_null(j, "hosted_regulatory_receipt_url");
	json_kv_raw(j, "initiating_payment_method_details", v->initiating, strlen(v->initiating));
	json_key(j, "linked_flows");
	json_obj_open(j);
	if (v->debit) {
		json_kv_str_or_null(j, "debit_reversal", v->reversal);
		json_kv_str_or_null(j, "inbound_transfer", v->inbound_transfer);
		json_kv_null(j, "issuing_authorization");
		json_kv_null(j, "issuing_transaction");
	} else {
		json_kv_str_or_null(j, "credit_reversal", v->reversal);
		json_kv_null(j, "issuing_authorization");
		json_kv_null(j, "issuing_transaction");
		json_kv_null(j, "source_flow");
		json_kv_null(j, "source_flow_details");
		json_kv_null(j, "source_flow_type");
	}
	json_obj_close(j);
	json_kv_bool(j, "livemode", livemode);
	json_kv_str(j, "network", v->network);
	/* once reversed it cannot be again; Tender sets no deadline on a reversal */
	json_key(j, "reversal_details");
	if (v->reversal) {
		json_obj_open(j);
		json_kv_null(j, "deadline");
		json_kv_str(j, "restricted_reason", "already_reversed");
		json_obj_close(j);
	} else {
		json_nil(j);
	}
	json_kv_str(j, "status", v->status);
	json_kv_str_or_null(j, "transaction", v->transaction);
	json_obj_close(j);
}

/* initiating_payment_method_details as the object shows it: a us_bank_account's bank name,
 * last four digits and routing number (the account number itself is kept nowhere), and the
 * billing details' name. */
static int initiating_json(struct req *r, const char **ret)
{
	const char *type = with_param(r, "initiating_payment_method_details.type");
	if (type && strcmp(type, "us_bank_account") != 0)
		return req_fail(r, ERR_PARAM_INVALID_ENUM,
				"initiating_payment_method_details[type]",
				"Invalid initiating_payment_method_details[type]: must be "
				"us_bank_account.");
	const char *holder =
	    with_param(r, "initiating_payment_method_details.us_bank_account.account_holder_name");
	const char *routing_in =
	    with_param(r, "initiating_payment_method_details.us_bank_account.routing_number");
	const char *account_in =
	    with_param(r, "initiating_payment_method_details.us_bank_account.account_number");
	char routing[ACH_ROUTING_LEN + 1] = TREASURY_ROUTING;
	char account[ACH_ACCOUNT_MAX + 1] = "000123456789";
	if (routing_in && ach_routing_check(routing_in, routing) != 0)
		return req_fail(
		    r, ERR_PARAM_BAD,
		    "initiating_payment_method_details[us_bank_account][routing_number]",
		    "Invalid routing number: not a valid ABA routing number.");
	if (account_in && ach_account_check(account_in, account) != 0)
		return req_fail(
		    r, ERR_PARAM_BAD,
		    "initiating_payment_method_details[us_bank_account][account_number]",
		    "Invalid account number: it must be 4 to 17 digits.");
	char last4[5];
	str_copy(last4, sizeof(last4), account + strlen(account) - 4);
	OPENSSL_cleanse(account, sizeof(account));
	const char *bank = ach_bank_name(routing);
	struct buf b;
	struct json j;
	buf_init(&b, 4096);
	json_init(&j, &b);
	json_obj_open(&j);
	json_key(&j, "billing_details");
	json_obj_open(&j);
	json_key(&j, "address");
	json_obj_open(&j);
	json_kv_null(&j, "city");
	json_kv_null(&j, "country");
	json_kv_null(&j, "line1");
	json_kv_null(&j, "line2");
	json_kv_null(&j, "postal_code");
	json_kv_null(&j, "state");
	json_obj_close(&j);
	json_kv_null(&j, "email");
	json_kv_str_or_null(&j, "name", holder);
	json_obj_close(&j);
	json_kv_str(&j, "type", "us_bank_account");
	json_key(&j, "us_bank_account");
	json_obj_open(&j);
	json_kv_str_or_null(&j, "bank_name", bank);
	json_kv_str(&j, "last4", last4);
	json_kv_str(&j, "routing_number", routing);
	json_obj_close(&j);
	json_obj_close(&j);
	*ret = b.failed ? NULL : arena_strdup(&r->arena, buf_cstr(&b));
	buf_release(&b);
	return *ret ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

struct rcv_ctx {
	struct req *r;
	const char *id;
	struct received v;
};

bool treasury_fa_restricted(const struct treasury_fa *f, const char *flows)
{
	char want[64];
	snprintf(want, sizeof(want), "\"%s\":\"restricted\"", flows);
	return f->platform_restrictions && strstr(f->platform_restrictions, want) != NULL;
}

int treasury_fa_for_movement(struct req *r, struct db *db, const char *id, const char *param,
			     const char *restriction, struct treasury_fa *ret)
{
	int rc = fa_load(db, &r->arena, r->merchant_id, id, ret);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(r, "treasury.financial_account", id, param);
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (strcmp(ret->status, "open") != 0)
		return req_fail(r, ERR_INVALID_STATE, param, "The financial account %s is closed.",
				ret->id);
	if (restriction && treasury_fa_restricted(ret, restriction))
		return req_fail(r, ERR_INVALID_STATE, param,
				"The platform restricted the %s of financial account %s.",
				restriction, ret->id);
	/* serialize with every other movement of the account before its balance is read */
	if (db_run_by_id(db, SQL_FA_LOCK, r->merchant_id, ret->id) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	return 0;
}

/* Records received credit or debit v (its transaction booked already) and appends its event. */
static int rcv_insert(struct req *r, struct db *db, const struct received *v)
{
	struct db_stmt *st = db_prepare(db, SQL_RCV_INSERT);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, v->id, -1);
	db_bind_text(st, 3, v->debit ? "debit" : "credit", -1);
	db_bind_int64(st, 4, v->created);
	db_bind_text(st, 5, v->financial_account, -1);
	db_bind_int64(st, 6, v->amount);
	db_bind_text(st, 7, v->currency, -1);
	db_bind_text(st, 8, v->network, -1);
	db_bind_text(st, 9, v->description, -1);
	db_bind_text(st, 10, v->status, -1);
	db_bind_text(st, 11, v->failure_code, -1);
	db_bind_text(st, 12, v->initiating, -1);
	db_bind_text(st, 13, v->transaction, -1);
	db_bind_text(st, 14, v->inbound_transfer, -1);
	if (db_step_done(st) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	struct buf b;
	struct json j;
	buf_init(&b, 1u << 20);
	json_init(&j, &b);
	rcv_render(r->livemode, v, &j);
	const char *js;
	size_t len;
	char ev[ID_MAX];
	if (api_event_append(r, db,
			     v->debit ? "treasury.received_debit.created"
				      : "treasury.received_credit.created",
			     v->id, &b, NULL, &js, &len, ev) != 0)
		return -1;
	return 0;
}

static int rcv_create_fn(struct db *db, void *arg)
{
	struct rcv_ctx *x = arg;
	struct req *r = x->r;
	struct received *v = &x->v;
	struct treasury_fa f;
	int lrc = fa_load(db, &r->arena, r->merchant_id, v->financial_account, &f);
	if (lrc == DB_NOTFOUND)
		return req_fail_missing(r, "treasury.financial_account", v->financial_account,
					"financial_account");
	if (lrc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	bool closed = strcmp(f.status, "closed") == 0;
	if (!closed && treasury_fa_for_movement(r, db, v->financial_account, "financial_account",
						NULL, &f) != 0)
		return -1;
	struct treasury_impact impact = {0};
	if (closed) {
		/* the bank's money reaches an account that no longer exists: refused, as Stripe
		 * fails it (account_closed), nothing moves */
		v->status = "failed";
		v->failure_code = "account_closed";
	} else if (treasury_fa_restricted(&f, v->debit ? "outbound_flows" : "inbound_flows")) {
		/* the platform froze that direction: the bank's money is refused, nothing moves */
		v->status = "failed";
		v->failure_code = "account_frozen";
	} else if (v->debit) {
		struct treasury_impact bal;
		if (treasury_fa_balance(db, r->merchant_id, f.id, v->currency, &bal) != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		if (bal.cash < v->amount) {
			/* the debit is refused by the bank and recorded as failed: nothing moves */
			v->status = "failed";
			v->failure_code = "insufficient_funds";
		}
		impact.cash = -v->amount;
	} else {
		impact.cash = v->amount;
	}
	char trxn[ID_MAX] = "";
	if (!v->failure_code) {
		if (txn_book(r, db, f.id, v->currency, impact.cash, v->description, v->id,
			     v->debit ? "received_debit" : "received_credit",
			     v->debit ? "received_debit" : "received_credit", &impact, trxn) != 0)
			return -1;
		v->transaction = trxn;
	}
	if (rcv_insert(r, db, v) != 0)
		return -1;
	rcv_render(r->livemode, v, req_json(r));
	return 0;
}

int treasury_return_as_received_debit(struct req *r, struct db *db, const char *fa, int64_t amount,
				      const char *currency, const char *description,
				      const char *initiating, const char *inbound_transfer,
				      char ret_id[ID_MAX])
{
	struct received v = {
	    .debit = true,
	    .created = r->now,
	    .amount = amount,
	    .financial_account = fa,
	    .currency = currency,
	    .network = "ach",
	    .description = description,
	    .status = "succeeded",
	    .initiating = initiating,
	    .inbound_transfer = inbound_transfer,
	};
	id_new_at(v.id, "rd_", r->now);
	struct treasury_impact impact = {.cash = -amount};
	char trxn[ID_MAX];
	if (txn_book(r, db, fa, currency, -amount, description, v.id, "received_debit",
		     "received_debit", &impact, trxn) != 0)
		return -1;
	v.transaction = trxn;
	if (rcv_insert(r, db, &v) != 0)
		return -1;
	memcpy(ret_id, v.id, ID_MAX);
	return 0;
}

static int rcv_create(struct req *r, bool debit)
{
	struct rcv_ctx x = {.r = r};
	struct received *v = &x.v;
	v->debit = debit;
	id_new_at(v->id, debit ? "rd_" : "rc_", r->now);
	v->created = r->now;
	v->financial_account = param_str(r, "financial_account");
	v->network = param_str(r, "network");
	v->status = "succeeded";
	v->description = with_param(r, "description") ? param_str(r, "description") : "Stripe Test";
	if (param_int(r, "amount", &v->amount) != 1 || v->amount < 1)
		return req_fail(r, ERR_PARAM_BAD, "amount",
				"Invalid amount: it must be a positive integer.");
	if (v->amount > LEDGER_AMOUNT_MAX)
		return req_fail(r, ERR_AMOUNT_TOO_LARGE, "amount",
				"Amount must be no more than %lld.", (long long)LEDGER_AMOUNT_MAX);
	const char *cur = param_str(r, "currency");
	if (!cur || strcasecmp(cur, "usd") != 0)
		return req_fail(r, ERR_INVALID_CURRENCY, "currency",
				"Invalid currency: financial accounts hold usd only.");
	v->currency = "usd";
	if (initiating_json(r, &v->initiating) != 0)
		return -1;
	return req_write(r, rcv_create_fn, &x);
}

static int h_rc_create(struct req *r)
{
	return rcv_create(r, false);
}

static int h_rd_create(struct req *r)
{
	return rcv_create(r, true);
}

static int rcv_retrieve_fn(struct db *db, void *arg)
{
	struct rcv_ctx *x = arg;
	struct req *r = x->r;
	bool debit = x->v.debit; /* the kind asked for, before the load overwrites it */
	int rc = rcv_load(db, &r->arena, r->merchant_id, x->id, &x->v);
	/* a received credit is not found as a received debit, nor the reverse */
	if (rc == DB_OK && x->v.debit != debit)
		rc = DB_NOTFOUND;
	if (rc == DB_NOTFOUND)
		return req_fail_missing(
		    r, debit ? "treasury.received_debit" : "treasury.received_credit", x->id, "id");
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	rcv_render(r->livemode, &x->v, req_json(r));
	return 0;
}

static int rcv_retrieve(struct req *r, bool debit)
{
	struct rcv_ctx x = {.r = r, .id = r->args[0]};
	x.v.debit = debit;
	return req_read(r, rcv_retrieve_fn, &x) == 0 ? 0 : -1;
}

static int h_rc_retrieve(struct req *r)
{
	return rcv_retrieve(r, false);
}

static int h_rd_retrieve(struct req *r)
{
	return rcv_retrieve(r, true);
}

static const char SQL_RCV_CURSOR[] =
    "SELECT created FROM treasury_received WHERE merchant_id = $1 AND id = $2";
#define RCV_LIST_WHERE(kind)                                                                       \
	"SELECT id FROM treasury_received WHERE merchant_id = $1 AND id > $2 AND id < $3"          \
	" AND kind = '" kind "' AND financial_account = $5 AND ($6 IS NULL OR status = $6)"
static const char SQL_RC_DESC[] = RCV_LIST_WHERE("credit") " ORDER BY id DESC LIMIT $4";
static const char SQL_RC_ASC[] = RCV_LIST_WHERE("credit") " ORDER BY id ASC LIMIT $4";
static const char SQL_RD_DESC[] = RCV_LIST_WHERE("debit") " ORDER BY id DESC LIMIT $4";
static const char SQL_RD_ASC[] = RCV_LIST_WHERE("debit") " ORDER BY id ASC LIMIT $4";

static int rcv_list_bind(struct req *r, struct db_stmt *st, int first, void *ctx)
{
	(void)ctx;
	list_bind_filter(r, st, first, "financial_account");
	list_bind_filter(r, st, first + 1, "status");
	return 0;
}

static int rcv_list_render(struct req *r, struct db *db, const char *id, struct json *j, void *ctx)
{
	(void)ctx;
	struct received v;
	int rc = rcv_load(db, &r->arena, r->merchant_id, id, &v);
	if (rc == DB_OK)
		rcv_render(r->livemode, &v, j);
	return rc;
}

static int h_rc_list(struct req *r)
{
	static const struct list_spec spec = {
	    .url = "/v1/treasury/received_credits",
	    .object_name = "treasury.received_credit",
	    .id_prefix = "rc_",
	    .sql_cursor = SQL_RCV_CURSOR,
	    .sql_desc = SQL_RC_DESC,
	    .sql_asc = SQL_RC_ASC,
	    .bind_filters = rcv_list_bind,
	    .render = rcv_list_render,
	};
	return list_respond(r, &spec);
}

static int h_rd_list(struct req *r)
{
	static const struct list_spec spec = {
	    .url = "/v1/treasury/received_debits",
	    .object_name = "treasury.received_debit",
	    .id_prefix = "rd_",
	    .sql_cursor = SQL_RCV_CURSOR,
	    .sql_desc = SQL_RD_DESC,
	    .sql_asc = SQL_RD_ASC,
	    .bind_filters = rcv_list_bind,
	    .render = rcv_list_render,
	};
	return list_respond(r, &spec);
}

/* ---- credit and debit reversals ---- */

struct reversal {
	char id[ID_MAX];
	bool debit;
	int64_t created, amount, settled_at;
	const char *financial_account, *currency, *network, *received, *metadata, *status;
	const char *transaction;
};

static const char SQL_REV_GET[] =
    "SELECT id, kind, created, amount, settled_at, financial_account, currency, network,"
    " received, metadata, status, transaction_id FROM treasury_reversals"
    " WHERE merchant_id = $1 AND id = $2";
static const char SQL_REV_INSERT[] =
    "INSERT INTO treasury_reversals (merchant_id, id, kind, created, financial_account, amount,"
    " currency, network, received, metadata, status, settled_at, transaction_id) VALUES ($1, $2,"
    " $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)";
/* a received credit or debit is reversed once: the first reversal's write wins */
static const char SQL_RCV_REVERSED[] =
    "UPDATE treasury_received SET reversal = $3 WHERE merchant_id = $1 AND id = $2"
    " AND reversal IS NULL";

static int rev_load(struct db *db, struct arena *a, const char *merchant_id, const char *id,
		    bool debit, struct reversal *v)
{
	struct db_stmt *st;
	int rc = db_row_by_id(db, SQL_REV_GET, merchant_id, id, &st);
	if (rc != DB_OK)
		return rc;
	memset(v, 0, sizeof(*v));
	str_copy(v->id, sizeof(v->id), db_col_text(st, 0, NULL));
	const char *kind = db_col_text(st, 1, NULL);
	bool same = kind && strcmp(kind, debit ? "debit" : "credit") == 0;
	v->debit = debit;
	v->created = db_col_int64(st, 2);
	v->amount = db_col_int64(st, 3);
	v->settled_at = db_col_int64_or0(st, 4);
	v->financial_account = col_text_dup(a, st, 5);
	v->currency = col_text_dup(a, st, 6);
	v->network = col_text_dup(a, st, 7);
	v->received = col_text_dup(a, st, 8);
	v->metadata = col_text_dup(a, st, 9);
	v->status = col_text_dup(a, st, 10);
	v->transaction = col_text_dup(a, st, 11);
	db_reset(st);
	if (!same)
		return DB_NOTFOUND;
	return v->financial_account && v->currency && v->network && v->received && v->metadata &&
		       v->status && v->transaction
		   ? DB_OK
		   : DB_ERR;
}

static void rev_render(bool livemode, const struct reversal *v, struct json *j)
{
	json_obj_open(j);
	json_kv_str(j, "id", v->id);
	json_kv_str(j, "object", v->debit ? "treasury.debit_reversal" : "treasury.credit_reversal");
	json_kv_int(j, "amount", v->amount);
	json_kv_int(j, "created", v->created);
	json_kv_str(j, "currency", v->currency);
	json_kv_str(j, "financial_account", v->financial_account);
	json_kv_null(j, "hosted_regulatory_receipt_url");
	if (v->debit) {
		json_key(j, "linked_flows");
		json_obj_open(j);
		json_kv_null(j, "issuing_dispute");
		json_obj_close(j);
	}
	json_kv_bool(j, "livemode", livemode);
	json_kv_raw(j, "metadata", v->metadata, strlen(v->metadata));
	json_kv_str(j, "network", v->network);
	json_kv_str(j, v->debit ? "received_debit" : "received_credit", v->received);
	json_kv_str(j, "status", v->status);
	json_key(j, "status_transitions");
	json_obj_open(j);
	json_key(j, v->debit ? "completed_at" : "posted_at");
	if (v->settled_at)
		json_int(j, v->settled_at);
	else
		json_nil(j);
	json_obj_close(j);
	json_kv_str(j, "transaction", v->transaction);
	json_obj_close(j);
}

static int rev_emit(struct req *r, struct db *db, const struct reversal *v, const char *what)
{
	char type[64];
	snprintf(type, sizeof(type), "treasury.%s.%s",
		 v->debit ? "debit_reversal" : "credit_reversal", what);
	struct buf b;
	struct json j;
	buf_init(&b, 1u << 20);
	json_init(&j, &b);
	rev_render(r->livemode, v, &j);
	const char *js;
	size_t len;
	char ev[ID_MAX];
	return api_event_append(r, db, type, v->id, &b, NULL, &js, &len, ev);
}

struct rev_ctx {
	struct req *r;
	const char *id;
	struct reversal v;
};

static int rev_create_fn(struct db *db, void *arg)
{
	struct rev_ctx *x = arg;
	struct req *r = x->r;
	struct reversal *v = &x->v;
	const char *param = v->debit ? "received_debit" : "received_credit";
	struct received rcv;
	int rc = rcv_load(db, &r->arena, r->merchant_id, v->received, &rcv);
	if (rc == DB_OK && rcv.debit != v->debit)
		rc = DB_NOTFOUND;
	if (rc == DB_NOTFOUND)
		return req_fail_missing(
		    r, v->debit ? "treasury.received_debit" : "treasury.received_credit",
		    v->received, param);
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (strcmp(rcv.status, "succeeded") != 0 || rcv.reversal)
		return req_fail(r, ERR_INVALID_STATE, param, "The %s %s cannot be reversed: it %s.",
				param, rcv.id, rcv.reversal ? "was reversed already" : "failed");
	/* a wire cannot be called back (Stripe's restricted_reason network_restricted) */
	if (strcmp(rcv.network, "ach") != 0)
		return req_fail(r, ERR_INVALID_STATE, param,
				"The %s %s came by %s, which cannot be reversed.", param, rcv.id,
				rcv.network);
	struct treasury_fa fa;
	if (treasury_fa_for_movement(r, db, rcv.financial_account, param, NULL, &fa) != 0)
		return -1;
	v->financial_account = fa.id;
	v->amount = rcv.amount;
	v->currency = rcv.currency;
	v->network = rcv.network;
	struct treasury_impact impact = {.cash = v->debit ? rcv.amount : -rcv.amount};
	if (!v->debit) {
		struct treasury_impact bal;
		if (treasury_fa_balance(db, r->merchant_id, fa.id, v->currency, &bal) != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		if (bal.cash < v->amount)
			return req_fail(
			    r, ERR_INSUFFICIENT_FUNDS, param,
			    "The financial account %s has insufficient funds to send back %s.",
			    fa.id, rcv.id);
	}
	char trxn[ID_MAX];
	const char *flow_type = v->debit ? "debit_reversal" : "credit_reversal";
	if (txn_book(r, db, fa.id, v->currency, impact.cash, rcv.description, v->id, flow_type,
		     flow_type, &impact, trxn) != 0)
		return -1;
	v->transaction = trxn;
	struct db_stmt *st = db_prepare(db, SQL_RCV_REVERSED);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, rcv.id, -1);
	db_bind_text(st, 3, v->id, -1);
	int64_t n = 0;
	if (db_step_changes(st, &n) != DB_OK || n != 1)
		return req_fail(r, ERR_API, NULL, NULL);
	st = db_prepare(db, SQL_REV_INSERT);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, v->id, -1);
	db_bind_text(st, 3, v->debit ? "debit" : "credit", -1);
	db_bind_int64(st, 4, v->created);
	db_bind_text(st, 5, v->financial_account, -1);
	db_bind_int64(st, 6, v->amount);
	db_bind_text(st, 7, v->currency, -1);
	db_bind_text(st, 8, v->network, -1);
	db_bind_text(st, 9, v->received, -1);
	db_bind_text(st, 10, v->metadata, -1);
	db_bind_text(st, 11, v->status, -1);
	db_bind_int64_or_null(st, 12, v->settled_at);
	db_bind_text(st, 13, v->transaction, -1);
	if (db_step_done(st) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	/* test mode settles a reversal at once: created, then posted / completed, in one write */
	if (rev_emit(r, db, v, "created") != 0 ||
	    rev_emit(r, db, v, v->debit ? "completed" : "posted") != 0)
		return -1;
	rev_render(r->livemode, v, req_json(r));
	return 0;
}

static int rev_create(struct req *r, bool debit)
{
	struct rev_ctx x = {.r = r};
	struct reversal *v = &x.v;
	v->debit = debit;
	id_new_at(v->id, debit ? "debrev_" : "credrev_", r->now);
	v->created = r->now;
	v->settled_at = r->now;
	v->status = debit ? "succeeded" : "posted";
	v->received = param_str(r, debit ? "received_debit" : "received_credit");
	v->metadata = "{}";
	if (metadata_apply(r, NULL, "metadata", &v->metadata) != 0)
		return -1;
	return req_write(r, rev_create_fn, &x);
}

static int h_credrev_create(struct req *r)
{
	return rev_create(r, false);
}

static int h_debrev_create(struct req *r)
{
	return rev_create(r, true);
}

static int rev_retrieve_fn(struct db *db, void *arg)
{
	struct rev_ctx *x = arg;
	bool debit = x->v.debit;
	int rc = rev_load(db, &x->r->arena, x->r->merchant_id, x->id, debit, &x->v);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(
		    x->r, debit ? "treasury.debit_reversal" : "treasury.credit_reversal", x->id,
		    "id");
	if (rc != DB_OK)
		return req_fail(x->r, ERR_API, NULL, NULL);
	rev_render(x->r->livemode, &x->v, req_json(x->r));
	return 0;
}

static int rev_retrieve(struct req *r, bool debit)
{
	struct rev_ctx x = {.r = r, .id = r->args[0]};
	x.v.debit = debit;
	return req_read(r, rev_retrieve_fn, &x) == 0 ? 0 : -1;
}

static int h_credrev_retrieve(struct req *r)
{
	return rev_retrieve(r, false);
}

static int h_debrev_retrieve(struct req *r)
{
	return rev_retrieve(r, true);
}

static const char SQL_REV_CURSOR[] =
    "SELECT created FROM treasury_reversals WHERE merchant_id = $1 AND id = $2";
#define REV_LIST_WHERE(kind)                                                                       \
	"SELECT id FROM treasury_reversals WHERE merchant_id = $1 AND id > $2 AND id < $3"         \
	" AND kind = '" kind "' AND financial_account = $5 AND ($6 IS NULL OR received = $6)"      \
	" AND ($7 IS NULL OR status = $7)"
static const char SQL_CREDREV_DESC[] = REV_LIST_WHERE("credit") " ORDER BY id DESC LIMIT $4";
static const char SQL_CREDREV_ASC[] = REV_LIST_WHERE("credit") " ORDER BY id ASC LIMIT $4";
static const char SQL_DEBREV_DESC[] = REV_LIST_WHERE("debit") " ORDER BY id DESC LIMIT $4";
static const char SQL_DEBREV_ASC[] = REV_LIST_WHERE("debit") " ORDER BY id ASC LIMIT $4";

static int rev_list_bind(struct req *r, struct db_stmt *st, int first, void *ctx)
{
	bool debit = ctx != NULL;
	list_bind_filter(r, st, first, "financial_account");
	list_bind_filter(r, st, first + 1, debit ? "received_debit" : "received_credit");
	list_bind_filter(r, st, first + 2, "status");
	return 0;
}

static int rev_list_render(struct req *r, struct db *db, const char *id, struct json *j, void *ctx)
{
	struct reversal v;
	int rc = rev_load(db, &r->arena, r->merchant_id, id, ctx != NULL, &v);
	if (rc == DB_OK)
		rev_render(r->livemode, &v, j);
	return rc;
}

static int h_credrev_list(struct req *r)
{
	static const struct list_spec spec = {
	    .url = "/v1/treasury/credit_reversals",
	    .object_name = "treasury.credit_reversal",
	    .id_prefix = "credrev_",
	    .sql_cursor = SQL_REV_CURSOR,
	    .sql_desc = SQL_CREDREV_DESC,
	    .sql_asc = SQL_CREDREV_ASC,
	    .bind_filters = rev_list_bind,
	    .render = rev_list_render,
	    .ctx = NULL,
	};
	return list_respond(r, &spec);
}

static int h_debrev_list(struct req *r)
{
	/* ctx non-NULL: the debit reversals */
	static const struct list_spec spec = {
	    .url = "/v1/treasury/debit_reversals",
	    .object_name = "treasury.debit_reversal",
	    .id_prefix = "debrev_",
	    .sql_cursor = SQL_REV_CURSOR,
	    .sql_desc = SQL_DEBREV_DESC,
	    .sql_asc = SQL_DEBREV_ASC,
	    .bind_filters = rev_list_bind,
	    .render = rev_list_render,
	    .ctx = (void *)"debit",
	};
	return list_respond(r, &spec);
}

/* ---- parameters and routes ---- */

static const struct param_spec requested_children[] = {
    {"requested", PT_BOOL, PF_REQUIRED, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec aba_children[] = {
    {"aba", PT_OBJECT, 0, 0, NULL, requested_children},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec ach_children[] = {
    {"ach", PT_OBJECT, 0, 0, NULL, requested_children},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec ach_wire_children[] = {
    {"ach", PT_OBJECT, 0, 0, NULL, requested_children},
    {"us_domestic_wire", PT_OBJECT, 0, 0, NULL, requested_children},
    {NULL, 0, 0, 0, NULL, NULL},
};
#define FEATURE_PARAMS                                                                             \
	{"card_issuing", PT_OBJECT, 0, 0, NULL, requested_children},                               \
	    {"deposit_insurance", PT_OBJECT, 0, 0, NULL, requested_children},                      \
	    {"financial_addresses", PT_OBJECT, 0, 0, NULL, aba_children},                          \
	    {"inbound_transfers", PT_OBJECT, 0, 0, NULL, ach_children},                            \
	    {"intra_stripe_flows", PT_OBJECT, 0, 0, NULL, requested_children},                     \
	    {"outbound_payments", PT_OBJECT, 0, 0, NULL, ach_wire_children},                       \
	{                                                                                          \
		"outbound_transfers", PT_OBJECT, 0, 0, NULL, ach_wire_children                     \
	}
static const struct param_spec features_params[] = {
    FEATURE_PARAMS,
    {NULL, 0, 0, 0, NULL, NULL},
};
static const char *const FLOWS[] = {"restricted", "unrestricted", NULL};
static const struct param_spec restrictions_children[] = {
    {"inbound_flows", PT_ENUM, 0, 0, FLOWS, NULL},
    {"outbound_flows", PT_ENUM, 0, 0, FLOWS, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec fa_create_params[] = {
    {"features", PT_OBJECT, 0, 0, NULL, features_params},
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {"platform_restrictions", PT_OBJECT, 0, 0, NULL, restrictions_children},
    {"supported_currencies", PT_STRING_ARRAY, PF_REQUIRED, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec fa_update_params[] = {
    {"features", PT_OBJECT, 0, 0, NULL, features_params},
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {"platform_restrictions", PT_OBJECT, 0, 0, NULL, restrictions_children},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec forwarding_children[] = {
    {"financial_account", PT_STRING, 0, 5000, NULL, NULL},
    {"payment_method", PT_STRING, 0, 5000, NULL, NULL},
    {"type", PT_ENUM, 0, 0, (const char *const[]){"financial_account", "payment_method", NULL},
     NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec fa_close_params[] = {
    {"forwarding_settings", PT_OBJECT, 0, 0, NULL, forwarding_children},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec us_bank_children[] = {
    {"account_holder_name", PT_STRING, 0, 5000, NULL, NULL},
    {"account_number", PT_STRING, 0, 64, NULL, NULL},
    {"routing_number", PT_STRING, 0, 64, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec initiating_children[] = {
    {"type", PT_ENUM, PF_REQUIRED, 0, (const char *const[]){"us_bank_account", NULL}, NULL},
    {"us_bank_account", PT_OBJECT, 0, 0, NULL, us_bank_children},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec rc_create_params[] = {
    {"amount", PT_INT, PF_REQUIRED, 0, NULL, NULL},
    {"currency", PT_CURRENCY, PF_REQUIRED, 0, NULL, NULL},
    {"description", PT_STRING, 0, 5000, NULL, NULL},
    {"financial_account", PT_STRING, PF_REQUIRED, 5000, NULL, NULL},
    {"initiating_payment_method_details", PT_OBJECT, 0, 0, NULL, initiating_children},
    {"network", PT_ENUM, PF_REQUIRED, 0, (const char *const[]){"ach", "us_domestic_wire", NULL},
     NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec rd_create_params[] = {
    {"amount", PT_INT, PF_REQUIRED, 0, NULL, NULL},
    {"currency", PT_CURRENCY, PF_REQUIRED, 0, NULL, NULL},
    {"description", PT_STRING, 0, 5000, NULL, NULL},
    {"financial_account", PT_STRING, PF_REQUIRED, 5000, NULL, NULL},
    {"initiating_payment_method_details", PT_OBJECT, 0, 0, NULL, initiating_children},
    {"network", PT_ENUM, PF_REQUIRED, 0, (const char *const[]){"ach", NULL}, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec rcv_list_params[] = {
    {"financial_account", PT_STRING, PF_REQUIRED, 5000, NULL, NULL},
    {"status", PT_ENUM, 0, 0, (const char *const[]){"failed", "succeeded", NULL}, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec txn_list_params[] = {
    {"financial_account", PT_STRING, PF_REQUIRED, 5000, NULL, NULL},
    {"status", PT_ENUM, 0, 0, (const char *const[]){"open", "posted", "void", NULL}, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec entry_list_params[] = {
    {"financial_account", PT_STRING, PF_REQUIRED, 5000, NULL, NULL},
    {"transaction", PT_STRING, 0, 5000, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec credrev_create_params[] = {
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {"received_credit", PT_STRING, PF_REQUIRED, 5000, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec debrev_create_params[] = {
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {"received_debit", PT_STRING, PF_REQUIRED, 5000, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec credrev_list_params[] = {
    {"financial_account", PT_STRING, PF_REQUIRED, 5000, NULL, NULL},
    {"received_credit", PT_STRING, 0, 5000, NULL, NULL},
    {"status", PT_ENUM, 0, 0, (const char *const[]){"canceled", "posted", "processing", NULL},
     NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec debrev_list_params[] = {
    {"financial_account", PT_STRING, PF_REQUIRED, 5000, NULL, NULL},
    {"received_debit", PT_STRING, 0, 5000, NULL, NULL},
    {"status", PT_ENUM, 0, 0,
     (const char *const[]){"canceled", "completed", "failed", "processing", "succeeded", NULL},
     NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec no_params[] = {{NULL, 0, 0, 0, NULL, NULL}};

const struct route treasury_routes[] = {
    {"POST", "/v1/treasury/financial_accounts", h_fa_create, fa_create_params, 0},
    {"GET", "/v1/treasury/financial_accounts", h_fa_list, no_params, ROUTE_LIST},
    {"GET", "/v1/treasury/financial_accounts/{id}", h_fa_retrieve, no_params, 0},
    {"POST", "/v1/treasury/financial_accounts/{id}", h_fa_update, fa_update_params, 0},
    {"POST", "/v1/treasury/financial_accounts/{id}/close", h_fa_close, fa_close_params, 0},
    {"GET", "/v1/treasury/financial_accounts/{id}/features", h_features_retrieve, no_params, 0},
    {"POST", "/v1/treasury/financial_accounts/{id}/features", h_features_update, features_params,
     0},
    {"POST", "/v1/test_helpers/treasury/received_credits", h_rc_create, rc_create_params, 0},
    {"GET", "/v1/treasury/received_credits", h_rc_list, rcv_list_params, ROUTE_LIST},
    {"GET", "/v1/treasury/received_credits/{id}", h_rc_retrieve, no_params, 0},
    {"POST", "/v1/test_helpers/treasury/received_debits", h_rd_create, rd_create_params, 0},
    {"GET", "/v1/treasury/received_debits", h_rd_list, rcv_list_params, ROUTE_LIST},
    {"GET", "/v1/treasury/received_debits/{id}", h_rd_retrieve, no_params, 0},
    {"GET", "/v1/treasury/transactions", h_txn_list, txn_list_params, ROUTE_LIST},
    {"GET", "/v1/treasury/transactions/{id}", h_txn_retrieve, no_params, 0},
    {"GET", "/v1/treasury/transaction_entries", h_entry_list, entry_list_params, ROUTE_LIST},
    {"GET", "/v1/treasury/transaction_entries/{id}", h_entry_retrieve, no_params, 0},
    {"POST", "/v1/treasury/credit_reversals", h_credrev_create, credrev_create_params, 0},
    {"GET", "/v1/treasury/credit_reversals", h_credrev_list, credrev_list_params, ROUTE_LIST},
    {"GET", "/v1/treasury/credit_reversals/{id}", h_credrev_retrieve, no_params, 0},
    {"POST", "/v1/treasury/debit_reversals", h_debrev_create, debrev_create_params, 0},
    {"GET", "/v1/treasury/debit_reversals", h_debrev_list, debrev_list_params, ROUTE_LIST},
    {"GET", "/v1/treasury/debit_reversals/{id}", h_debrev_retrieve, no_params, 0},
    {NULL, NULL, NULL, NULL, 0},
};
