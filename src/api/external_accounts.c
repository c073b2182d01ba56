/*
 * Connect external accounts (/v1/accounts/{id}/external_accounts) and bank account tokens
 * (POST /v1/tokens with bank_account[…]): where an account's payouts go.
 *
 * Whose rows. An external account belongs to the account it pays out to (external_accounts.
 * merchant_id is that account: one of the caller's connected accounts, or the caller itself), so
 * a payout, which runs as that account, finds its destination in its own scope. The platform
 * reaches its accounts' rows from its own transactions: a Connect family lives on one shard.
 * Another platform's account, or any other id, does not exist for the caller (404, as a retrieve
 * of the account answers), and an account acting through Stripe-Account reaches only itself.
 *
 * The number. Tender pays out to no real bank, so an account number is needed only to tell what
 * Stripe's test numbers do and to recognise the same account again: the request's number gives
 * its last four digits, its behaviour (the test numbers below) and its fingerprint (an HMAC
 * under the merchant's fingerprint key, vault.h), and is then forgotten: it is never stored,
 * logged, echoed in an error, nor hashed into the idempotency record (idempotency.c).
 *
 * Events. account.external_account.created / updated / deleted are the owning account's events
 * (a connected account's carry `account` and reach its platform's connect endpoints, as on
 * Stripe).
 *
 * Debit cards. external_account=tok_… is a debit card: a card token of the caller (used up) or
 * one of Stripe's test cards (tok_visa_debit, tok_mastercard_debit). Its number stays where the
 * token put it (sealed in vault_cards; a test card's is not stored at all): the external account
 * keeps only what Stripe's card object shows (brand, funding, expiry, country, last4, the
 * fingerprint), in the account's default currency. It takes standard and instant payouts; a
 * credit or prepaid card is refused with invalid_card_type, as on Stripe.
 *
 * Status. An external account is `new` until a payout to it fails (payouts.c): then it is
 * `errored` (account.external_account.updated), and automatic payouts skip it until its details
 * are updated: any update of it (default_for_currency, its holder, metadata) makes it `new`
 * again, as Stripe's "until the bank details are updated" has it.
 *
 * Update. A card's exp_month, exp_year, name and address_* (its address checks are then
 * `unchecked`: no issuer sees them), a bank account's account_holder_*, account_type and
 * documents[bank_account_ownership_verification][files] (files of purpose
 * account_requirement of the account or of its platform: checked, kept, not shown, as Stripe
 * shows none); a card's fields on a bank account, or the reverse, are a 400 naming the param.
 * What the columns do not hold is one JSON object (extra), NULL for most accounts.
 */
#include "api/external_accounts.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/common.h"
#include "api/files.h"
#include "app.h"
#include "core/parse.h"
#include "core/str.h"
#include "events/events.h"
#include "http/form.h"
#include "merchant/connect.h"
#include "merchant/merchant.h"
#include "money/currency.h"
#include "store/store.h"
#include "vault/card_source.h"
#include "vault/payment_method.h"
#include "vault/vault.h"

#define EA_LIST_EMBED 10 /* external accounts shown inside the account object, as on Stripe */

/* Stripe's test bank account numbers (US, routing 110000000) and what a payout to each ends
 * with: https://docs.stripe.com/connect/testing#payouts. Any other number is paid. */
static const struct {
	const char *number, *failure;
} test_numbers[] = {
    {"000111111116", "no_account"},	    {"000111111113", "account_closed"},
    {"000222222227", "insufficient_funds"}, {"000333333335", "debit_not_authorized"},
    {"000444444440", "invalid_currency"},
};
/* Stripe's test tokens for the same accounts (usable by any account, never consumed). */
static const struct {
	const char *token, *number;
} test_tokens[] = {
    {"btok_us_verified", "000123456789"},
    {"btok_us_verified_noAccount", "000111111116"},
    {"btok_us_verified_accountClosed", "000111111113"},
    {"btok_us_verified_insufficientFunds", "000222222227"},
    {"btok_us_verified_debitNotAuthorized", "000333333335"},
    {"btok_us_verified_invalidCurrency", "000444444440"},
};
#define TEST_ROUTING "110000000"
#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

static const char *number_failure(const char *number)
{
	for (size_t i = 0; i < N_ELEMS(test_numbers); i++)
		if (strcmp(test_numbers[i].number, number) == 0)
			return test_numbers[i].failure;
	return NULL;
}

const char *bank_test_token_failure(const char *token, bool *ret_known)
{
	*ret_known = false;
	for (size_t i = 0; token && i < N_ELEMS(test_tokens); i++)
		if (strcmp(test_tokens[i].token, token) == 0) {
			*ret_known = true;
			return number_failure(test_tokens[i].number);
		}
	return NULL;
}

const char *external_account_failure_message(const char *code)
{
	static const char *const msgs[][2] = {
	    {"no_account", "The bank account details on file are probably incorrect. No bank "
			   "account could be located with those details."},
	    {"account_closed", "The bank account has been closed."},
	    {"insufficient_funds", "The bank account has insufficient funds to cover the "
				   "payout."},
	    {"debit_not_authorized", "Debit transactions are not approved on the bank account."},
	    {"invalid_currency", "The bank was unable to process this payout because of its "
				 "currency."},
	};
	for (size_t i = 0; code && i < N_ELEMS(msgs); i++)
		if (strcmp(msgs[i][0], code) == 0)
			return msgs[i][1];
	return "The payout could not be processed.";
}

/* A statically known failure code, so that a stored one is returned as a constant. */
static const char *failure_const(const char *code)
{
	for (size_t i = 0; code && i < N_ELEMS(test_numbers); i++)
		if (strcmp(test_numbers[i].failure, code) == 0)
			return test_numbers[i].failure;
	return NULL;
}

/* ABA routing number: 9 digits whose weighted sum (3, 7, 1) is a multiple of 10. */
static bool aba_ok(const char *s)
{
	static const int w[9] = {3, 7, 1, 3, 7, 1, 3, 7, 1};
	if (strlen(s) != 9 || strspn(s, "0123456789") != 9)
		return false;
	int sum = 0;
	for (int i = 0; i < 9; i++)
		sum += w[i] * (s[i] - '0');
	return sum % 10 == 0;
}

static bool alnum_only(const char *s)
{
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= 'a' && *s <= 'z')))
			return false;
	return true;
}

/* The facts of an account number, shared by a parameter hash and a test token. */
static int facts_finish(struct req *r, const char *merchant_id, const char *number,
			struct bank_facts *f)
{
	size_t n = strlen(number);
	memcpy(f->last4, number + n - 4, 5);
	f->payout_failure = number_failure(number);
	if (strcmp(f->routing_number, TEST_ROUTING) == 0)
		f->bank_name = "STRIPE TEST BANK";
	if (vault_bank_fingerprint(r->app->vault, merchant_id, f->routing_number, number,
				   f->fingerprint) != 0)
		return req_fail(r, ERR_API, NULL, NULL);
	return 0;
}

int bank_facts_from_params(struct req *r, const char *prefix, const char *merchant_id,
			   struct bank_facts *ret)
{
	struct bank_facts f;
	memset(&f, 0, sizeof(f));
	char path[96], name[96];
	static const char *const required[] = {"country", "currency", "account_number"};
	for (size_t i = 0; i < N_ELEMS(required); i++) {
		snprintf(path, sizeof(path), "%s.%s", prefix, required[i]);
		const char *v = param_str(r, path);
		if (!v || !*v) {
			snprintf(name, sizeof(name), "%s[%s]", prefix, required[i]);
			return req_fail(r, ERR_PARAM_MISSING, name, "%s", name);
		}
	}
	snprintf(path, sizeof(path), "%s.country", prefix);
	const char *country = param_str(r, path);
	snprintf(name, sizeof(name), "%s[country]", prefix);
	if (strlen(country) != 2 || !((country[0] | 0x20) >= 'a' && (country[0] | 0x20) <= 'z') ||
	    !((country[1] | 0x20) >= 'a' && (country[1] | 0x20) <= 'z'))
		return req_fail(r, ERR_PARAM_BAD, name,
				"Invalid country: a two-letter ISO 3166-1 code, e.g. US.");
	f.country[0] = (char)(country[0] & ~0x20);
	f.country[1] = (char)(country[1] & ~0x20);
	snprintf(path, sizeof(path), "%s.currency", prefix);
	snprintf(name, sizeof(name), "%s[currency]", prefix);
	if (param_currency(r, path, name, f.currency) != 0)
		return -1;
	bool us = strcmp(f.country, "US") == 0;
	snprintf(path, sizeof(path), "%s.routing_number", prefix);
	const char *routing = param_str(r, path);
	snprintf(name, sizeof(name), "%s[routing_number]", prefix);
	if (us && (!routing || !*routing))
		return req_fail(r, ERR_PARAM_MISSING, name, "%s", name);
	if (routing && *routing) {
		if (us ? !aba_ok(routing) : strlen(routing) > 20 || !alnum_only(routing))
			return req_fail(r, ERR_ROUTING_NUMBER_INVALID, name,
					us ? "Invalid routing number: a US routing number is 9 "
					     "digits with a valid checksum."
					   : "Invalid routing number.");
		str_copy(f.routing_number, sizeof(f.routing_number), routing);
	}
	snprintf(path, sizeof(path), "%s.account_number", prefix);
	const char *number = param_str(r, path);
	size_t nl = strlen(number);
	snprintf(name, sizeof(name), "%s[account_number]", prefix);
	/* US account numbers are 4 to 17 digits; elsewhere an IBAN or a local number */
	if (us ? nl < 4 || nl > 17 || strspn(number, "0123456789") != nl
	       : nl < 4 || nl > 34 || !alnum_only(number))
		return req_fail(r, ERR_ACCOUNT_NUMBER_INVALID, name,
				us ? "Invalid account number: a US account number is 4 to 17 "
				     "digits."
				   : "Invalid account number.");
	snprintf(path, sizeof(path), "%s.account_holder_name", prefix);
	const char *holder = param_str(r, path);
	f.holder_name = holder && *holder ? arena_strdup(&r->arena, holder) : NULL;
	snprintf(path, sizeof(path), "%s.account_holder_type", prefix);
	const char *ht = param_str(r, path);
	f.holder_type = ht && strcmp(ht, "company") == 0      ? "company"
			: ht && strcmp(ht, "individual") == 0 ? "individual"
							      : NULL;
	if (facts_finish(r, merchant_id, number, &f) != 0)
		return -1;
	*ret = f;
	return 0;
}

/* ---- rows ---- */

/* A debit card's own facts (a card external account); its country, currency, last4 and
 * fingerprint are in bank_facts' fields of the same names. */
struct card_facts {
	char brand[16], funding[16];
	int exp_month, exp_year;
};

struct ea {
	char id[ID_MAX];
	const char *owner;
	int64_t created;
	bool card; /* a debit card (card_…), else a bank account (ba_…) */
	struct bank_facts f;
	struct card_facts c;
	bool instant; /* takes instant payouts (available_payout_methods) */
	const char *status, *metadata;
	bool is_default, deleted;
	/* {name, address_city, …, account_type, documents}: what an update set (NULL: nothing) */
	const char *extra;
};

#define EA_COLS                                                                                    \
	"id, created, country, currency, last4, routing_number, bank_name, account_holder_name,"   \
	" account_holder_type, fingerprint, status, default_for_currency, payout_failure,"         \
	" metadata, deleted, object, brand, funding, exp_month, exp_year, instant, seq, extra"
static const char SQL_EA_GET[] = "SELECT " EA_COLS " FROM external_accounts"
				 " WHERE merchant_id = $1 AND id = $2";
static const char SQL_EA_INSERT[] =
    "INSERT INTO external_accounts (merchant_id, " EA_COLS ")"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'new', $12, $13, $14, 0, $15, $16,"
    " $17, $18, $19, $20, $21, NULL)";
static const char SQL_EA_DEFAULT[] =
    "SELECT id, payout_failure FROM external_accounts WHERE merchant_id = $1 AND currency = $2"
    " AND default_for_currency = 1 AND deleted = 0";
static const char SQL_EA_UNSET_DEFAULT[] =
    "UPDATE external_accounts SET default_for_currency = 0"
    " WHERE merchant_id = $1 AND id = $2 AND default_for_currency = 1";
static const char SQL_EA_SET_DEFAULT[] = "UPDATE external_accounts SET default_for_currency = 1"
					 " WHERE merchant_id = $1 AND id = $2 AND deleted = 0";
static const char SQL_EA_UPDATE[] =
    "UPDATE external_accounts SET account_holder_name = $3, account_holder_type = $4,"
    " metadata = $5, status = $6, exp_month = $7, exp_year = $8, extra = $9"
    " WHERE merchant_id = $1 AND id = $2 AND deleted = 0";
/* a payout to it failed: new → errored (once; a second failure changes nothing) */
static const char SQL_EA_ERRORED[] = "UPDATE external_accounts SET status = 'errored'"
				     " WHERE merchant_id = $1 AND id = $2 AND status = 'new'";
static const char SQL_EA_DELETE[] = "UPDATE external_accounts SET deleted = 1,"
				    " default_for_currency = 0"
				    " WHERE merchant_id = $1 AND id = $2 AND deleted = 0";
static const char SQL_EA_COUNT[] =
    "SELECT COUNT(*) FROM external_accounts WHERE merchant_id = $1 AND deleted = 0";
static const char SQL_EA_FIRST[] = "SELECT id FROM external_accounts WHERE merchant_id = $1"
				   " AND deleted = 0 ORDER BY seq DESC LIMIT $2";
static const char SQL_EA_FAILURE[] =
    "SELECT payout_failure FROM external_accounts WHERE merchant_id = $1 AND id = $2";

static void col_copy(struct db_stmt *st, int col, char *out, size_t n)
{
	const char *s = db_col_text(st, col, NULL);
	str_copy(out, n, s ? s : "");
}

static int ea_load(struct db *db, struct arena *a, const char *owner, const char *id, struct ea *e)
{
	struct db_stmt *st = db_prepare(db, SQL_EA_GET);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, owner, -1);
	db_bind_text(st, 2, id, -1);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		memset(e, 0, sizeof(*e));
		col_copy(st, 0, e->id, sizeof(e->id));
		e->owner = arena_strdup(a, owner);
		e->created = db_col_int64(st, 1);
		col_copy(st, 2, e->f.country, sizeof(e->f.country));
		col_copy(st, 3, e->f.currency, sizeof(e->f.currency));
		col_copy(st, 4, e->f.last4, sizeof(e->f.last4));
		col_copy(st, 5, e->f.routing_number, sizeof(e->f.routing_number));
		e->f.bank_name = col_text_dup(a, st, 6);
		e->f.holder_name = col_text_dup(a, st, 7);
		e->f.holder_type = col_text_dup(a, st, 8);
		col_copy(st, 9, e->f.fingerprint, sizeof(e->f.fingerprint));
		e->status = col_text_dup(a, st, 10);
		e->is_default = db_col_int64(st, 11) != 0;
		e->f.payout_failure = failure_const(db_col_text(st, 12, NULL));
		e->metadata = col_text_dup(a, st, 13);
		e->deleted = db_col_int64(st, 14) != 0;
		const char *object = db_col_text(st, 15, NULL);
		e->card = object && strcmp(object, "card") == 0;
		col_copy(st, 16, e->c.brand, sizeof(e->c.brand));
		col_copy(st, 17, e->c.funding, sizeof(e->c.funding));
		e->c.exp_month = (int)db_col_int64_or0(st, 18);
		e->c.exp_year = (int)db_col_int64_or0(st, 19);
		e->instant = db_col_int64(st, 20) != 0;
		e->extra = col_text_dup(a, st, 22);
		if (!e->owner || !e->status || !e->metadata)
			rc = DB_ERR;
	}
	db_reset(st);
	if (rc == DB_ROW)
		return DB_OK;
	return rc == DB_DONE ? DB_NOTFOUND : rc < 0 ? rc : DB_ERR;
}

static void render_ea_requirements(struct json *j, const char *key)
{
	static const char *const arrays[] = {"currently_due", "errors", "past_due",
					     "pending_verification"};
	json_key(j, key);
	json_obj_open(j);
	for (size_t i = 0; i < N_ELEMS(arrays); i++) {
		json_key(j, arrays[i]);
		json_arr_open(j);
		json_arr_close(j);
	}
	json_obj_close(j);
}

/* A string member of an external account's extra JSON, or NULL. */
static const char *extra_str(json_t *x, const char *key)
{
	return json_string_value(json_object_get(x, key));
}

/* Stripe's bank_account. owner NULL: inside a token (no account, no default, no metadata). */
static void bank_render(struct json *j, const char *id, const char *owner,
			const struct bank_facts *f, const char *status, bool is_default,
			const char *metadata, json_t *x)
{
	json_obj_open(j);
	json_kv_str(j, "id", id);
	json_kv_str(j, "object", "bank_account");
	json_kv_str_or_null(j, "account", owner);
	json_kv_str_or_null(j, "account_holder_name", f->holder_name);
	json_kv_str_or_null(j, "account_holder_type", f->holder_type);
	json_kv_str_or_null(j, "account_type", extra_str(x, "account_type"));
	json_key(j, "available_payout_methods");
	json_arr_open(j);
	json_str(j, "standard");
	json_arr_close(j);
	json_kv_str_or_null(j, "bank_name", f->bank_name);
	json_kv_str(j, "country", f->country);
	json_kv_str(j, "currency", f->currency);
	json_kv_null(j, "customer");
	if (owner)
		json_kv_bool(j, "default_for_currency", is_default);
	else
		json_kv_null(j, "default_for_currency");
	json_kv_str(j, "fingerprint", f->fingerprint);
	render_ea_requirements(j, "future_requirements");
	json_kv_str(j, "last4", f->last4);
	if (metadata)
		json_kv_raw(j, "metadata", metadata, strlen(metadata));
	else
		json_kv_null(j, "metadata");
	render_ea_requirements(j, "requirements");
	json_kv_str_or_null(j, "routing_number", f->routing_number[0] ? f->routing_number : NULL);
	json_kv_str(j, "status", status);
	json_obj_close(j);
}

/* Stripe's card, as an account's external account: its public facts, nothing of the number. */
static void card_render(const struct ea *e, json_t *x, struct json *j)
{
	json_obj_open(j);
	json_kv_str(j, "id", e->id);
	json_kv_str(j, "object", "card");
	json_kv_str(j, "account", e->owner);
	static const char *const address[] = {
	    "address_city",  "address_country", "address_line1", "address_line1_check",
	    "address_line2", "address_state",	"address_zip",	 "address_zip_check",
	};
	for (size_t i = 0; i < N_ELEMS(address); i++) {
		const char *v = extra_str(x, address[i]);
		/* a line1 or zip given is not checked by any issuer: Stripe's `unchecked` */
		if (str_eq(address[i], "address_line1_check"))
			v = extra_str(x, "address_line1") ? "unchecked" : NULL;
		else if (str_eq(address[i], "address_zip_check"))
			v = extra_str(x, "address_zip") ? "unchecked" : NULL;
		json_kv_str_or_null(j, address[i], v);
	}
	json_key(j, "available_payout_methods");
	json_arr_open(j);
	json_str(j, "standard");
	if (e->instant)
		json_str(j, "instant");
	json_arr_close(j);
	json_kv_str(j, "brand", card_brand_title(e->c.brand));
	json_kv_str_or_null(j, "country", e->f.country[0] ? e->f.country : NULL);
	json_kv_str(j, "currency", e->f.currency);
	json_kv_null(j, "customer");
	json_kv_null(j, "cvc_check");
	json_kv_bool(j, "default_for_currency", e->is_default);
	json_kv_null(j, "dynamic_last4");
	json_kv_int(j, "exp_month", e->c.exp_month);
	json_kv_int(j, "exp_year", e->c.exp_year);
	json_kv_str(j, "fingerprint", e->f.fingerprint);
	json_kv_str(j, "funding", e->c.funding);
	json_kv_str(j, "last4", e->f.last4);
	json_kv_raw(j, "metadata", e->metadata, strlen(e->metadata));
	json_kv_str_or_null(j, "name", extra_str(x, "name"));
	json_kv_str(j, "status", e->status);
	json_kv_null(j, "tokenization_method");
	json_obj_close(j);
}

static void ea_render(const struct ea *e, struct json *j)
{
	json_t *x = e->extra ? json_loads(e->extra, 0, NULL) : NULL;
	if (e->card)
		card_render(e, x, j);
	else
		bank_render(j, e->id, e->owner, &e->f, e->status, e->is_default, e->metadata, x);
	json_decref(x);
}

/* An event of the owning account about e (origin: the request, or none for the scheduler). */
static int ea_event_at(struct db *db, const struct ea *e, const char *type, const char *prev,
		       const struct event_origin *o, int64_t now)
{
	struct buf b;
	struct json j;
	buf_init(&b, 1u << 16);
	json_init(&j, &b);
	ea_render(e, &j);
	int rc = b.failed
		     ? DB_ERR
		     : event_append(db, e->owner, o, type, e->id, b.data, b.len, prev, now, NULL);
	buf_release(&b);
	return rc;
}

static int ea_event(struct req *r, struct db *db, const struct ea *e, const char *type,
		    const char *prev)
{
	struct event_origin o = {r->request_id, r->idempotency_key, r->livemode};
	return ea_event_at(db, e, type, prev, &o, r->now);
}

int external_account_default(struct db *db, const char *owner, const char *currency,
			     char ret_id[ID_MAX], char ret_failure[32])
{
	struct db_stmt *st = db_prepare(db, SQL_EA_DEFAULT);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, owner, -1);
	db_bind_text(st, 2, currency, -1);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		col_copy(st, 0, ret_id, ID_MAX);
		col_copy(st, 1, ret_failure, 32);
	}
	db_reset(st);
	if (rc == DB_ROW)
		return DB_OK;
	return rc == DB_DONE ? DB_NOTFOUND : rc < 0 ? rc : DB_ERR;
}

int external_account_payout_failure(struct db *db, const char *owner, const char *id,
				    char ret_failure[32])
{
	struct db_stmt *st = db_prepare(db, SQL_EA_FAILURE);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, owner, -1);
	db_bind_text(st, 2, id, -1);
	int rc = db_step(st);
	ret_failure[0] = '\0';
	if (rc == DB_ROW)
		col_copy(st, 0, ret_failure, 32);
	db_reset(st);
	if (rc == DB_ROW)
		return DB_OK;
	return rc == DB_DONE ? DB_NOTFOUND : rc < 0 ? rc : DB_ERR;
}

#define EA_BRIEF_COLS "id, currency, last4, bank_name, status, object, brand, instant, deleted"
static const char SQL_EA_BRIEF[] = "SELECT " EA_BRIEF_COLS " FROM external_accounts"
				   " WHERE merchant_id = $1 AND id = $2";
static const char SQL_EA_DEFAULTS[] =
    "SELECT " EA_BRIEF_COLS " FROM external_accounts WHERE merchant_id = $1"
    " AND default_for_currency = 1 AND deleted = 0 ORDER BY currency LIMIT $2";

static void brief_from_row(struct db_stmt *st, struct ea_brief *b)
{
	memset(b, 0, sizeof(*b));
	col_copy(st, 0, b->id, sizeof(b->id));
	col_copy(st, 1, b->currency, sizeof(b->currency));
	col_copy(st, 2, b->last4, sizeof(b->last4));
	col_copy(st, 4, b->status, sizeof(b->status));
	col_copy(st, 5, b->object, sizeof(b->object));
	if (strcmp(b->object, "card") == 0)
		str_copy(b->label, sizeof(b->label), card_brand_title(db_col_text(st, 6, NULL)));
	else
		col_copy(st, 3, b->label, sizeof(b->label));
	b->instant = db_col_int64(st, 7) != 0;
	b->deleted = db_col_int64(st, 8) != 0;
}

int external_account_brief(struct db *db, const char *owner, const char *id, struct ea_brief *ret)
{
	struct db_stmt *st = db_prepare(db, SQL_EA_BRIEF);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, owner, -1);
	db_bind_text(st, 2, id, -1);
	int rc = db_step(st);
	if (rc == DB_ROW)
		brief_from_row(st, ret);
	db_reset(st);
	if (rc == DB_ROW)
		return DB_OK;
	return rc == DB_DONE ? DB_NOTFOUND : rc < 0 ? rc : DB_ERR;
}

int external_account_defaults(struct db *db, const char *owner, struct ea_brief *ret, int max,
			      int *ret_n)
{
	struct db_stmt *st = db_prepare(db, SQL_EA_DEFAULTS);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, owner, -1);
	db_bind_int64(st, 2, max);
	int n = 0, rc = DB_DONE;
	while (n < max && (rc = db_step(st)) == DB_ROW)
		brief_from_row(st, &ret[n++]);
	if (n == max)
		rc = DB_DONE;
	db_reset(st);
	if (rc != DB_DONE)
		return rc < 0 ? rc : DB_ERR;
	*ret_n = n;
	return DB_OK;
}

int external_account_set_errored(struct db *db, const char *owner, const char *id, int64_t now)
{
	struct db_stmt *st = db_prepare(db, SQL_EA_ERRORED);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, owner, -1);
	db_bind_text(st, 2, id, -1);
	int64_t n = 0;
	int rc = db_step_changes(st, &n);
	if (rc != DB_OK || n != 1)
		return rc; /* errored already, or deleted since: nothing to tell */
	struct arena a;
	arena_init(&a, 64 * 1024);
	struct ea e;
	rc = ea_load(db, &a, owner, id, &e);
	if (rc == DB_OK) {
		struct event_origin o = {NULL, NULL, 0};
		rc = ea_event_at(db, &e, "account.external_account.updated", "{\"status\":\"new\"}",
				 &o, now);
	}
	arena_release(&a);
	return rc;
}

int external_account_render(struct db *db, const char *owner, const char *id, struct json *j)
{
	struct arena a;
	arena_init(&a, 64 * 1024);
	struct ea e;
	int rc = ea_load(db, &a, owner, id, &e);
	if (rc == DB_OK && e.deleted) {
		/* Stripe's deleted_bank_account / deleted_card */
		json_obj_open(j);
		json_kv_str(j, "id", e.id);
		json_kv_str(j, "object", e.card ? "card" : "bank_account");
		json_kv_str(j, "currency", e.f.currency);
		json_kv_bool(j, "deleted", true);
		json_obj_close(j);
	} else if (rc == DB_OK) {
		ea_render(&e, j);
	}
	arena_release(&a);
	return rc;
}

int external_accounts_count(struct db *db, const char *owner, int64_t *ret)
{
	struct db_stmt *st = db_prepare(db, SQL_EA_COUNT);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, owner, -1);
	int rc = db_step(st);
	if (rc == DB_ROW)
		*ret = db_col_int64(st, 0);
	db_reset(st);
	return rc == DB_ROW ? DB_OK : rc < 0 ? rc : DB_ERR;
}

int external_accounts_list_render(struct db *db, const char *owner, struct json *j)
{
	char ids[EA_LIST_EMBED + 1][ID_MAX];
	int n = 0;
	struct db_stmt *st = db_prepare(db, SQL_EA_FIRST);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, owner, -1);
	db_bind_int64(st, 2, EA_LIST_EMBED + 1);
	int rc;
	while (n < EA_LIST_EMBED + 1 && (rc = db_step(st)) == DB_ROW)
		col_copy(st, 0, ids[n++], ID_MAX);
	db_reset(st);
	struct arena a;
	arena_init(&a, 64 * 1024);
	json_obj_open(j);
	json_kv_str(j, "object", "list");
	json_key(j, "data");
	json_arr_open(j);
	rc = DB_OK;
	for (int i = 0; i < n && i < EA_LIST_EMBED && rc == DB_OK; i++) {
		struct ea e;
		rc = ea_load(db, &a, owner, ids[i], &e);
		if (rc == DB_OK)
			ea_render(&e, j);
	}
	json_arr_close(j);
	json_kv_bool(j, "has_more", n > EA_LIST_EMBED);
	char url[ID_MAX + 48];
	snprintf(url, sizeof(url), "/v1/accounts/%s/external_accounts", owner);
	json_kv_str(j, "url", url);
	json_obj_close(j);
	arena_release(&a);
	return rc;
}

/* ---- bank tokens ---- */

static const char SQL_TOKEN_PUT[] =
    "INSERT INTO bank_tokens (merchant_id, id, created, bank_account_id, country, currency,"
    " last4, routing_number, bank_name, account_holder_name, account_holder_type, fingerprint,"
    " payout_failure, client_ip) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12,"
    " $13, $14)";
static const char SQL_TOKEN_GET[] =
    "SELECT bank_account_id, created, country, currency, last4, routing_number, bank_name,"
    " account_holder_name, account_holder_type, fingerprint, payout_failure, client_ip, used"
    " FROM bank_tokens WHERE merchant_id = $1 AND id = $2";
static const char SQL_TOKEN_USE[] = "UPDATE bank_tokens SET used = 1"
				    " WHERE merchant_id = $1 AND id = $2 AND used = 0";

struct btok {
	char id[ID_MAX], ba_id[ID_MAX];
	int64_t created;
	struct bank_facts f;
	const char *client_ip;
	bool used;
};

static int btok_load(struct db *db, struct arena *a, const char *merchant_id, const char *id,
		     struct btok *t)
{
	struct db_stmt *st = db_prepare(db, SQL_TOKEN_GET);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, id, -1);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		memset(t, 0, sizeof(*t));
		str_copy(t->id, sizeof(t->id), id);
		col_copy(st, 0, t->ba_id, sizeof(t->ba_id));
		t->created = db_col_int64(st, 1);
		col_copy(st, 2, t->f.country, sizeof(t->f.country));
		col_copy(st, 3, t->f.currency, sizeof(t->f.currency));
		col_copy(st, 4, t->f.last4, sizeof(t->f.last4));
		col_copy(st, 5, t->f.routing_number, sizeof(t->f.routing_number));
		t->f.bank_name = col_text_dup(a, st, 6);
		t->f.holder_name = col_text_dup(a, st, 7);
		t->f.holder_type = col_text_dup(a, st, 8);
		col_copy(st, 9, t->f.fingerprint, sizeof(t->f.fingerprint));
		t->f.payout_failure = failure_const(db_col_text(st, 10, NULL));
		t->client_ip = col_text_dup(a, st, 11);
		t->used = db_col_int64(st, 12) != 0;
	}
	db_reset(st);
	if (rc == DB_ROW)
		return DB_OK;
	return rc == DB_DONE ? DB_NOTFOUND : rc < 0 ? rc : DB_ERR;
}

static void btok_render(struct req *r, const struct btok *t)
{
	struct json *j = req_json(r);
	json_obj_open(j);
	json_kv_str(j, "id", t->id);
	json_kv_str(j, "object", "token");
	json_key(j, "bank_account");
	bank_render(j, t->ba_id, NULL, &t->f, "new", false, NULL, NULL);
	json_kv_str_or_null(j, "client_ip", t->client_ip);
	json_kv_int(j, "created", t->created);
	json_kv_bool(j, "livemode", r->livemode);
	json_kv_str(j, "type", "bank_account");
	json_kv_bool(j, "used", t->used);
	json_obj_close(j);
}

const struct param_spec bank_token_params[] = {
    {"country", PT_STRING, 0, 2, NULL, NULL},
    {"currency", PT_STRING, 0, 3, NULL, NULL},
    {"account_number", PT_STRING, 0, 64, NULL, NULL},
    {"routing_number", PT_STRING, 0, 64, NULL, NULL},
    {"account_holder_name", PT_STRING, 0, 200, NULL, NULL},
    {"account_holder_type", PT_ENUM, 0, 0, (const char *const[]){"individual", "company", NULL},
     NULL},
    {"object", PT_ENUM, 0, 0, (const char *const[]){"bank_account", NULL}, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};

struct btok_ctx {
	struct req *r;
	struct btok t;
};

static int btok_fn(struct db *db, void *p)
{
	struct btok_ctx *c = p;
	struct req *r = c->r;
	const struct btok *t = &c->t;
	struct db_stmt *st = db_prepare(db, SQL_TOKEN_PUT);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, t->id, -1);
	db_bind_int64(st, 3, t->created);
	db_bind_text(st, 4, t->ba_id, -1);
	db_bind_text(st, 5, t->f.country, -1);
	db_bind_text(st, 6, t->f.currency, -1);
	db_bind_text(st, 7, t->f.last4, -1);
	db_bind_text(st, 8, t->f.routing_number[0] ? t->f.routing_number : NULL, -1);
	db_bind_text(st, 9, t->f.bank_name, -1);
	db_bind_text(st, 10, t->f.holder_name, -1);
	db_bind_text(st, 11, t->f.holder_type, -1);
	db_bind_text(st, 12, t->f.fingerprint, -1);
	db_bind_text(st, 13, t->f.payout_failure, -1);
	db_bind_text(st, 14, t->client_ip, -1);
	if (db_step_done(st) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	btok_render(r, t);
	return 0;
}

int bank_tokens_h_create(struct req *r)
{
	if (param_present(r, "card"))
		return req_fail(r, ERR_PARAM_BAD, "bank_account",
				"A token is made of one card or one bank account, not both.");
	struct btok_ctx c = {.r = r};
	/* fingerprinted for the caller: an account's token is made with its own scope */
	if (bank_facts_from_params(r, "bank_account", r->merchant_id, &c.t.f) != 0)
		return -1;
	id_new(c.t.id, "btok_");
	id_new_at(c.t.ba_id, "ba_", r->now);
	c.t.created = r->now;
	c.t.client_ip = r->client_ip[0] ? r->client_ip : NULL;
	return req_write(r, btok_fn, &c);
}

struct btok_id_ctx {
	struct req *r;
	const char *id;
};

static int btok_retrieve_fn(struct db *db, void *p)
{
	struct btok_id_ctx *x = p;
	struct btok t;
	int rc = btok_load(db, &x->r->arena, x->r->merchant_id, x->id, &t);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(x->r, "token", x->id, "token");
	if (rc != DB_OK)
		return req_fail(x->r, ERR_API, NULL, NULL);
	btok_render(x->r, &t);
	return 0;
}

int bank_tokens_h_retrieve(struct req *r)
{
	struct btok_id_ctx x = {r, r->args[0]};
	return req_read(r, btok_retrieve_fn, &x) == 0 ? 0 : -1;
}

int bank_token_take(struct req *r, struct db *db, const char *owner, const char *ref,
		    const char *param, struct bank_facts *ret, char ret_id[ID_MAX])
{
	const char *number = NULL;
	for (size_t i = 0; i < N_ELEMS(test_tokens); i++)
		if (strcmp(test_tokens[i].token, ref) == 0)
			number = test_tokens[i].number;
	if (number) {
		memset(ret, 0, sizeof(*ret));
		str_copy(ret->country, sizeof(ret->country), "US");
		str_copy(ret->currency, sizeof(ret->currency), "usd");
		str_copy(ret->routing_number, sizeof(ret->routing_number), TEST_ROUTING);
		if (facts_finish(r, owner, number, ret) != 0)
			return -1;
		id_new_at(ret_id, "ba_", r->now);
		return 0;
	}
	struct btok t;
	int rc = strncmp(ref, "btok_", 5) == 0 ? btok_load(db, &r->arena, r->merchant_id, ref, &t)
					       : DB_NOTFOUND;
	if (rc == DB_NOTFOUND)
		return req_fail(r, ERR_RESOURCE_MISSING, param, "No such token: '%s'", ref);
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (t.used)
		return req_fail(r, ERR_TOKEN_USED, param, "%s", ref);
	struct db_stmt *st = db_prepare(db, SQL_TOKEN_USE);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, ref, -1);
	int64_t n = 0;
	if (db_step_changes(st, &n) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (n != 1)
		return req_fail(r, ERR_TOKEN_USED, param, "%s", ref);
	*ret = t.f;
	str_copy(ret_id, ID_MAX, t.ba_id);
	return 0;
}

/* ---- adding one ---- */

static int insert_ea(struct db *db, const struct ea *e)
{
	struct db_stmt *st = db_prepare(db, SQL_EA_INSERT);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, e->owner, -1);
	db_bind_text(st, 2, e->id, -1);
	db_bind_int64(st, 3, e->created);
	db_bind_text(st, 4, e->f.country, -1);
	db_bind_text(st, 5, e->f.currency, -1);
	db_bind_text(st, 6, e->f.last4, -1);
	db_bind_text(st, 7, e->f.routing_number[0] ? e->f.routing_number : NULL, -1);
	db_bind_text(st, 8, e->f.bank_name, -1);
	db_bind_text(st, 9, e->f.holder_name, -1);
	db_bind_text(st, 10, e->f.holder_type, -1);
	db_bind_text(st, 11, e->f.fingerprint, -1);
	db_bind_int64(st, 12, e->is_default);
	db_bind_text(st, 13, e->f.payout_failure, -1);
	db_bind_text(st, 14, e->metadata, -1);
	db_bind_text(st, 15, e->card ? "card" : "bank_account", -1);
	db_bind_text(st, 16, e->card ? e->c.brand : NULL, -1);
	db_bind_text(st, 17, e->card ? e->c.funding : NULL, -1);
	if (e->card) {
		db_bind_int64(st, 18, e->c.exp_month);
		db_bind_int64(st, 19, e->c.exp_year);
	} else {
		db_bind_null(st, 18);
		db_bind_null(st, 19);
	}
	db_bind_int64(st, 20, e->instant);
	/* the id's body: ba_ and card_ ids of one account list in the order they were made */
	db_bind_text(st, 21, e->id + (e->card ? 5 : 3), -1);
	return db_step_done(st);
}

/* A debit card from a card token of the caller (tok_…, used up) or one of Stripe's test cards
 * (tok_visa_debit, tok_mastercard_debit, …): only its public facts are kept, in the owner's
 * default currency. A credit or prepaid card is refused (invalid_card_type), as on Stripe. */
static int card_from_ref(struct req *r, struct db *db, const char *owner, const char *ref,
			 struct ea *e)
{
	struct vault_card_info info;
	char fp[24];
	int rc;
	if (vault_is_test_alias(ref))
		/* fingerprinted for the account that holds it; nothing is sealed for it */
		rc = vault_alias_info(r->app->vault, owner, ref, r->now, &info, fp);
	else
		rc = pm_token_take(db, r->merchant_id, ref, &info, fp);
	if (rc == DB_NOTFOUND)
		return req_fail(r, ERR_RESOURCE_MISSING, "external_account", "No such token: '%s'",
				ref);
	if (rc == VAULT_ERR_TOKEN_USED)
		return req_fail(r, ERR_TOKEN_USED, "external_account", "%s", ref);
	if (rc != 0)
		return req_fail(r, ERR_API, NULL, NULL);
	/* the write rolls back on a refusal: the token stays unused */
	if (strcmp(info.funding, "debit") != 0)
		return req_fail(r, ERR_INVALID_CARD_TYPE, "external_account", NULL);
	struct merchant_info m;
	if (merchant_get(db, owner, &m) != 0)
		return req_fail(r, ERR_API, NULL, NULL);
	e->card = true;
	e->instant = true; /* Tender's debit cards all take instant payouts */
	str_copy(e->f.country, sizeof(e->f.country), info.country);
	str_copy(e->f.currency, sizeof(e->f.currency), m.settlement_currency);
	str_copy(e->f.last4, sizeof(e->f.last4), info.last4);
	str_copy(e->f.fingerprint, sizeof(e->f.fingerprint), fp);
	str_copy(e->c.brand, sizeof(e->c.brand), info.brand);
	str_copy(e->c.funding, sizeof(e->c.funding), info.funding);
	e->c.exp_month = info.exp_month;
	e->c.exp_year = info.exp_year;
	id_new_at(e->id, "card_", r->now);
	return 0;
}

/* Makes e its currency's default: the previous default (if any) loses it, with its event. */
static int take_default(struct req *r, struct db *db, struct ea *e)
{
	char prev_id[ID_MAX], fail[32];
	int rc = external_account_default(db, e->owner, e->f.currency, prev_id, fail);
	if (rc == DB_NOTFOUND)
		return DB_OK;
	if (rc != DB_OK || strcmp(prev_id, e->id) == 0)
		return rc;
	struct db_stmt *st = db_prepare(db, SQL_EA_UNSET_DEFAULT);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, e->owner, -1);
	db_bind_text(st, 2, prev_id, -1);
	if ((rc = db_step_done(st)) != DB_OK)
		return rc;
	struct ea prev;
	if ((rc = ea_load(db, &r->arena, e->owner, prev_id, &prev)) != DB_OK)
		return rc;
	return ea_event(r, db, &prev, "account.external_account.updated",
			"{\"default_for_currency\":true}");
}

int external_account_add(struct req *r, struct db *db, const char *owner, const char *ref,
			 const struct bank_facts *f, bool make_default, const char *metadata,
			 char ret_id[ID_MAX])
{
	struct ea e;
	memset(&e, 0, sizeof(e));
	e.owner = owner;
	e.created = r->now;
	e.status = "new";
	e.metadata = metadata ? metadata : "{}";
	if (ref && strncmp(ref, "tok_", 4) == 0) {
		if (card_from_ref(r, db, owner, ref, &e) != 0)
			return -1;
	} else if (ref) {
		if (bank_token_take(r, db, owner, ref, "external_account", &e.f, e.id) != 0)
			return -1;
	} else {
		e.f = *f;
		id_new_at(e.id, "ba_", r->now);
	}
	char cur_default[ID_MAX], fail[32];
	int rc = external_account_default(db, owner, e.f.currency, cur_default, fail);
	if (rc != DB_OK && rc != DB_NOTFOUND)
		return req_fail(r, ERR_API, NULL, NULL);
	e.is_default = make_default || rc == DB_NOTFOUND;
	if (e.is_default && take_default(r, db, &e) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (insert_ea(db, &e) != DB_OK ||
	    ea_event(r, db, &e, "account.external_account.created", NULL) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	str_copy(ret_id, ID_MAX, e.id);
	return 0;
}

/* ---- the routes ---- */

/* The account whose external accounts id names, for the caller: itself (its own account, or
 * the connected account it acts as through Stripe-Account), or one of its connected accounts.
 * 0 with ret_default_currency, or -1 with r->err (404 for any other id). */
static int owner_check(struct req *r, struct db *db, const char *id, char ret_currency[8])
{
	if (strcmp(id, r->merchant_id) == 0) {
		struct merchant_info m;
		if (merchant_get(db, r->merchant_id, &m) != 0)
			return req_fail(r, ERR_API, NULL, NULL);
		str_copy(ret_currency, 8, m.settlement_currency);
		return 0;
	}
	int rc = r->platform_id[0] ? DB_NOTFOUND
				   : connect_account_check(db, r->merchant_id, id, ret_currency);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(r, "account", id, "account");
	return rc == DB_OK ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

struct ea_ctx {
	struct req *r;
	const char *owner, *id;
	char currency[8];
	struct bank_facts f;
	bool has_facts;
	struct ea e;
};

static int respond_ea(struct req *r, const struct ea *e)
{
	ea_render(e, req_json(r));
	return 0;
}

static int create_fn(struct db *db, void *p)
{
	struct ea_ctx *c = p;
	struct req *r = c->r;
	if (owner_check(r, db, c->owner, c->currency) != 0)
		return -1;
	const char *ref = c->has_facts ? NULL : param_str(r, "external_account");
	bool make_default = false;
	param_bool(r, "default_for_currency", &make_default);
	const char *metadata = "{}";
	if (metadata_apply(r, NULL, "metadata", &metadata) != 0)
		return -1;
	char id[ID_MAX];
	if (external_account_add(r, db, c->owner, ref, &c->f, make_default, metadata, id) != 0)
		return -1;
	if (ea_load(db, &r->arena, c->owner, id, &c->e) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	return respond_ea(r, &c->e);
}

static int h_create(struct req *r)
{
	struct ea_ctx c = {.r = r, .owner = r->args[0]};
	/* bank_account: the older name of external_account (as accounts.c takes it) */
	if (param_present(r, "bank_account")) {
		if (param_present(r, "external_account"))
			return req_fail(r, ERR_PARAM_BAD, "bank_account",
					"You cannot specify both bank_account and "
					"external_account: bank_account is the older name of "
					"external_account.");
		if (req_param_alias(r, "bank_account", "external_account") != 0)
			return -1;
	}
	if (!param_present(r, "external_account"))
		return req_fail(r, ERR_PARAM_MISSING, "external_account", "%s", "external_account");
	const struct form_node *n = param_node(r, "external_account");
	if (n && n->kind != FORM_SCALAR) {
		/* the hash: the number is fingerprinted under the account that will hold it */
		if (bank_facts_from_params(r, "external_account", c.owner, &c.f) != 0)
			return -1;
		c.has_facts = true;
	}
	return req_write(r, create_fn, &c);
}

static int load_fn(struct db *db, void *p)
{
	struct ea_ctx *c = p;
	struct req *r = c->r;
	if (owner_check(r, db, c->owner, c->currency) != 0)
		return -1;
	int rc = ea_load(db, &r->arena, c->owner, c->id, &c->e);
	if (rc == DB_OK && c->e.deleted)
		rc = DB_NOTFOUND;
	if (rc == DB_NOTFOUND)
		return req_fail_missing(r, "external account", c->id, "id");
	return rc == DB_OK ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

static int retrieve_fn(struct db *db, void *p)
{
	struct ea_ctx *c = p;
	return load_fn(db, p) != 0 ? -1 : respond_ea(c->r, &c->e);
}

static int h_retrieve(struct req *r)
{
	struct ea_ctx c = {.r = r, .owner = r->args[0], .id = r->args[1]};
	return req_read(r, retrieve_fn, &c) == 0 ? 0 : -1;
}

static const char *const card_fields[] = {"exp_month",	   "exp_year",	      "name",
					  "address_city",  "address_country", "address_line1",
					  "address_line2", "address_state",   "address_zip"};
static const char *const bank_fields[] = {"account_holder_name", "account_holder_type",
					  "account_type", "documents"};

/* Copies a string member of old into prev when it differs in x (previous_attributes). */
static void prev_str(struct json *j, json_t *old, json_t *x, const char *key)
{
	const char *a = extra_str(old, key), *b = extra_str(x, key);
	if ((a == NULL) != (b == NULL) || (a && b && strcmp(a, b) != 0))
		json_kv_str_or_null(j, key, a);
}

/* The update's card or bank fields beyond the columns, into x (e->extra's JSON): strings set
 * ("" unsets), a card's expiry checked by the vault's rules into e->c, documents' files checked
 * as persons' are (persons_extra.c). 0, or -1 with r->err. */
static int extra_apply(struct req *r, struct db *db, struct ea *e, json_t *x)
{
	const char *const *fields = e->card ? bank_fields : card_fields;
	size_t nf = e->card ? N_ELEMS(bank_fields) : N_ELEMS(card_fields);
	for (size_t i = 0; i < nf; i++)
		if (param_present(r, fields[i]))
			return req_fail(r, ERR_PARAM_BAD, fields[i],
					"%s is a %s: %s is a %s's field.", e->id,
					e->card ? "card" : "bank account", fields[i],
					e->card ? "bank account" : "card");
	static const char *const strs[] = {"name",	    "address_city",  "address_country",
					   "address_line1", "address_line2", "address_state",
					   "address_zip",   "account_type"};
	for (size_t i = 0; i < N_ELEMS(strs); i++) {
		const char *v = param_str(r, strs[i]);
		if (!v)
			continue;
		if (!*v)
			json_object_del(x, strs[i]);
		else if (json_object_set_new(x, strs[i], json_string(v)) != 0)
			return req_fail(r, ERR_API, NULL, NULL);
	}
	if (param_present(r, "exp_month") || param_present(r, "exp_year")) {
		/* the card's expiry as it will be, by the vault's rules for a card's (month 1-12,
		 * a 2- or 4-digit year, not already past) */
		char m[24], y[24];
		const char *pm = param_str(r, "exp_month"), *py = param_str(r, "exp_year");
		snprintf(m, sizeof(m), "%d", e->c.exp_month);
		snprintf(y, sizeof(y), "%d", e->c.exp_year);
		int vrc = vault_card_validate_expiry(pm ? pm : m, py ? py : y, r->now,
						     &e->c.exp_month, &e->c.exp_year);
		if (vrc != 0)
			return req_fail(r, vault_card_err_api(vrc),
					vrc == VAULT_CARD_INVALID_EXPIRY_MONTH ? "exp_month"
									       : "exp_year",
					NULL);
	}
	const struct form_node *files =
	    param_node(r, "documents.bank_account_ownership_verification.files");
	if (!files)
		return 0;
	json_t *arr = json_array();
	if (!arr)
		return req_fail(r, ERR_API, NULL, NULL);
	int rc = 0;
	for (const struct form_node *c = files->kind == FORM_ARRAY ? files->first_child : NULL;
	     c && rc == 0; c = c->next) {
		if (c->kind != FORM_SCALAR || !c->value_len)
			continue;
		/* a file of the account's, or the platform's upload for it */
		int frc = file_check_purpose(db, e->owner, c->value, "account_requirement");
		if (frc == DB_NOTFOUND && strcmp(e->owner, r->merchant_id) != 0)
			frc =
			    file_check_purpose(db, r->merchant_id, c->value, "account_requirement");
		if (frc == DB_NOTFOUND)
			rc = req_fail(r, ERR_PARAM_BAD,
				      "documents[bank_account_ownership_verification][files]",
				      "No such file upload: '%s' (a file of purpose "
				      "account_requirement is needed here).",
				      c->value);
		else if (frc != DB_OK || json_array_append_new(arr, json_string(c->value)) != 0)
			rc = req_fail(r, ERR_API, NULL, NULL);
	}
	if (rc == 0 && json_array_size(arr) > 10)
		rc = req_fail(r, ERR_PARAM_BAD,
			      "documents[bank_account_ownership_verification][files]",
			      "At most 10 files can be given.");
	if (rc != 0) {
		json_decref(arr);
		return rc;
	}
	json_t *docs = json_object();
	if (!docs || json_object_set_new(docs, "bank_account_ownership_verification", arr) != 0 ||
	    json_object_set_new(x, "documents", docs) != 0)
		return req_fail(r, ERR_API, NULL, NULL);
	return 0;
}

static int update_fn(struct db *db, void *p)
{
	struct ea_ctx *c = p;
	struct req *r = c->r;
	if (load_fn(db, p) != 0)
		return -1;
	struct ea old = c->e;
	struct ea *e = &c->e;
	if (e->card &&
	    (param_present(r, "account_holder_name") || param_present(r, "account_holder_type")))
		return req_fail(r, ERR_PARAM_BAD,
				param_present(r, "account_holder_name") ? "account_holder_name"
									: "account_holder_type",
				"%s is a card: account_holder_name and account_holder_type are a "
				"bank account's.",
				e->id);
	/* updated details end the error a failed payout left (Stripe stops sending payouts to an
	 * errored external account until its details are updated) */
	e->status = "new";
	e->f.holder_name = str_update(r, "account_holder_name", e->f.holder_name);
	e->f.holder_type = str_update(r, "account_holder_type", e->f.holder_type);
	if (metadata_apply(r, old.metadata, "metadata", &e->metadata) != 0)
		return -1;
	json_t *xold = old.extra ? json_loads(old.extra, 0, NULL) : json_object();
	json_t *x = xold ? json_deep_copy(xold) : NULL;
	if (!x) {
		json_decref(xold);
		return req_fail(r, ERR_API, NULL, NULL);
	}
	int xrc = extra_apply(r, db, e, x);
	char *xs = xrc == 0 ? json_dumps(x, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	e->extra = xs && strcmp(xs, "{}") != 0 ? arena_strdup(&r->arena, xs) : NULL;
	if (xrc == 0 && (!xs || (strcmp(xs, "{}") != 0 && !e->extra)))
		xrc = req_fail(r, ERR_API, NULL, NULL);
	free(xs);
	json_decref(x);
	if (xrc != 0) {
		json_decref(xold);
		return -1;
	}
	x = e->extra ? json_loads(e->extra, 0, NULL) : NULL;
	bool want = false;
	if (param_bool(r, "default_for_currency", &want) == 1) {
		if (!want && old.is_default)
			return req_fail(r, ERR_PARAM_BAD, "default_for_currency",
					"To change the default, set default_for_currency=true on "
					"another external account in %s.",
					e->f.currency);
		if (want && !old.is_default) {
			if (take_default(r, db, e) != DB_OK)
				return req_fail(r, ERR_API, NULL, NULL);
			struct db_stmt *st = db_prepare(db, SQL_EA_SET_DEFAULT);
			if (!st)
				return req_fail(r, ERR_API, NULL, NULL);
			db_bind_text(st, 1, e->owner, -1);
			db_bind_text(st, 2, e->id, -1);
			if (db_step_done(st) != DB_OK)
				return req_fail(r, ERR_API, NULL, NULL);
			e->is_default = true;
		}
	}
	struct db_stmt *st = db_prepare(db, SQL_EA_UPDATE);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, e->owner, -1);
	db_bind_text(st, 2, e->id, -1);
	db_bind_text(st, 3, e->f.holder_name, -1);
	db_bind_text(st, 4, e->f.holder_type, -1);
	db_bind_text(st, 5, e->metadata, -1);
	db_bind_text(st, 6, e->status, -1);
	if (e->card) {
		db_bind_int64(st, 7, e->c.exp_month);
		db_bind_int64(st, 8, e->c.exp_year);
	} else {
		db_bind_null(st, 7);
		db_bind_null(st, 8);
	}
	db_bind_text(st, 9, e->extra, -1);
	if (db_step_done(st) != DB_OK) {
		json_decref(xold);
		json_decref(x);
		return req_fail(r, ERR_API, NULL, NULL);
	}
	/* previous_attributes: the fields that changed, with their old values */
	struct buf b;
	struct json j;
	buf_init(&b, 1u << 16);
	json_init(&j, &b);
	json_obj_open(&j);
	if (!(old.f.holder_name == e->f.holder_name ||
	      (old.f.holder_name && e->f.holder_name &&
	       strcmp(old.f.holder_name, e->f.holder_name) == 0)))
		json_kv_str_or_null(&j, "account_holder_name", old.f.holder_name);
	if (!(old.f.holder_type == e->f.holder_type ||
	      (old.f.holder_type && e->f.holder_type &&
	       strcmp(old.f.holder_type, e->f.holder_type) == 0)))
		json_kv_str_or_null(&j, "account_holder_type", old.f.holder_type);
	if (old.is_default != e->is_default)
		json_kv_bool(&j, "default_for_currency", old.is_default);
	if (strcmp(old.metadata, e->metadata) != 0)
		json_kv_raw(&j, "metadata", old.metadata, strlen(old.metadata));
	if (strcmp(old.status, e->status) != 0)
		json_kv_str(&j, "status", old.status);
	if (old.c.exp_month != e->c.exp_month)
		json_kv_int(&j, "exp_month", old.c.exp_month);
	if (old.c.exp_year != e->c.exp_year)
		json_kv_int(&j, "exp_year", old.c.exp_year);
	static const char *const shown[] = {"name",	     "address_city",  "address_country",
					    "address_line1", "address_line2", "address_state",
					    "address_zip",   "account_type"};
	for (size_t i = 0; i < N_ELEMS(shown); i++)
		prev_str(&j, xold, x, shown[i]);
	json_decref(xold);
	json_decref(x);
	json_obj_close(&j);
	const char *prev = b.failed ? NULL : arena_printf(&r->arena, "%.*s", (int)b.len, b.data);
	buf_release(&b);
	if (!prev || ea_event(r, db, e, "account.external_account.updated", prev) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	return respond_ea(r, e);
}

static int h_update(struct req *r)
{
	struct ea_ctx c = {.r = r, .owner = r->args[0], .id = r->args[1]};
	return req_write(r, update_fn, &c);
}

/* As on Stripe, the default external account of the account's default currency stays until
 * another one of that currency is made the default. */
static int delete_fn(struct db *db, void *p)
{
	struct ea_ctx *c = p;
	struct req *r = c->r;
	if (load_fn(db, p) != 0)
		return -1;
	struct ea *e = &c->e;
	if (e->is_default && strcmp(e->f.currency, c->currency) == 0)
		return req_fail(r, ERR_PARAM_BAD, NULL,
				"You cannot delete the default external account for your default "
				"currency. Please make another external account the default using "
				"the `default_for_currency` param, and then delete this one.");
	struct db_stmt *st = db_prepare(db, SQL_EA_DELETE);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, e->owner, -1);
	db_bind_text(st, 2, e->id, -1);
	if (db_step_done(st) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	e->is_default = false;
	if (ea_event(r, db, e, "account.external_account.deleted", NULL) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	struct json *j = req_json(r);
	json_obj_open(j);
	json_kv_str(j, "id", e->id);
	json_kv_str(j, "object", e->card ? "card" : "bank_account");
	json_kv_bool(j, "deleted", true);
	json_obj_close(j);
	return 0;
}

static int h_delete(struct req *r)
{
	struct ea_ctx c = {.r = r, .owner = r->args[0], .id = r->args[1]};
	return req_write(r, delete_fn, &c);
}

/* ---- list ---- */

/*
 * An account's bank accounts (ba_…) and cards (card_…) list together, newest first, so the list
 * cannot page by id as list.h's do (the prefixes would sort the cards after every bank
 * account): it pages by seq, the ids' time-ordered body, with the cursor's own seq as the bound.
 * Stripe's list takes object, limit, starting_after and ending_before (no created).
 */
#define EA_LIST_LIMIT_MAX 100
#define EA_LIST_LIMIT_DEFAULT 10

static const char SQL_LIST_SEQ[] =
    "SELECT seq FROM external_accounts WHERE merchant_id = $1 AND id = $2";
static const char SQL_LIST_DESC[] =
    "SELECT id FROM external_accounts WHERE merchant_id = $1 AND deleted = 0"
    " AND ($2 IS NULL OR seq < $2) AND ($3 IS NULL OR object = $3) ORDER BY seq DESC LIMIT $4";
static const char SQL_LIST_ASC[] =
    "SELECT id FROM external_accounts WHERE merchant_id = $1 AND deleted = 0"
    " AND ($2 IS NULL OR seq > $2) AND ($3 IS NULL OR object = $3) ORDER BY seq ASC LIMIT $4";

struct list_ctx {
	struct req *r;
	const char *owner, *object, *cursor;
	bool asc; /* ending_before: walk towards newer ones */
	int64_t limit;
	char currency[8];
};

static int list_fn(struct db *db, void *p)
{
	struct list_ctx *c = p;
	struct req *r = c->r;
	if (owner_check(r, db, c->owner, c->currency) != 0)
		return -1;
	const char *bound = NULL;
	if (c->cursor) {
		struct db_stmt *st = db_prepare(db, SQL_LIST_SEQ);
		if (!st)
			return req_fail(r, ERR_API, NULL, NULL);
		db_bind_text(st, 1, c->owner, -1);
		db_bind_text(st, 2, c->cursor, -1);
		int rc = db_step(st);
		if (rc == DB_ROW)
			bound = col_text_dup(&r->arena, st, 0);
		db_reset(st);
		if (rc == DB_DONE || (rc == DB_ROW && !bound))
			return req_fail_missing(r, "external account", c->cursor,
						c->asc ? "ending_before" : "starting_after");
		if (rc != DB_ROW)
			return req_fail(r, ERR_API, NULL, NULL);
	}
	struct db_stmt *st = db_prepare(db, c->asc ? SQL_LIST_ASC : SQL_LIST_DESC);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, c->owner, -1);
	db_bind_text(st, 2, bound, -1);
	db_bind_text(st, 3, c->object, -1);
	db_bind_int64(st, 4, c->limit + 1);
	char ids[EA_LIST_LIMIT_MAX + 1][ID_MAX];
	int64_t n = 0;
	int rc = DB_DONE;
	while (n < c->limit + 1 && (rc = db_step(st)) == DB_ROW)
		col_copy(st, 0, ids[n++], ID_MAX);
	if (n == c->limit + 1)
		rc = DB_DONE;
	db_reset(st);
	if (rc != DB_DONE)
		return req_fail(r, ERR_API, NULL, NULL);
	bool has_more = n > c->limit;
	if (has_more)
		n = c->limit;
	struct json *j = req_json(r);
	json_obj_open(j);
	json_kv_str(j, "object", "list");
	json_key(j, "data");
	json_arr_open(j);
	/* newest first either way: an ending_before page was read oldest first */
	for (int64_t i = 0; i < n; i++) {
		struct ea e;
		rc = ea_load(db, &r->arena, c->owner, ids[c->asc ? n - 1 - i : i], &e);
		if (rc != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		ea_render(&e, j);
	}
	json_arr_close(j);
	json_kv_bool(j, "has_more", has_more);
	const char *url = arena_printf(&r->arena, "/v1/accounts/%s/external_accounts", c->owner);
	if (!url)
		return req_fail(r, ERR_API, NULL, NULL);
	json_kv_str(j, "url", url);
	json_obj_close(j);
	return 0;
}

static int h_list(struct req *r)
{
	struct list_ctx c = {.r = r, .owner = r->args[0], .limit = EA_LIST_LIMIT_DEFAULT};
	if (param_present(r, "created"))
		return req_fail(r, ERR_PARAM_UNKNOWN, "created", "created");
	c.object = param_str(r, "object");
	const char *ls = param_str(r, "limit");
	if (ls && *ls &&
	    (parse_i64(ls, &c.limit) != 0 || c.limit < 1 || c.limit > EA_LIST_LIMIT_MAX))
		return req_fail(r, ERR_LIST_LIMIT, "limit", "%s", ls);
	const char *after = param_str(r, "starting_after"), *before = param_str(r, "ending_before");
	if (after && !*after)
		after = NULL;
	if (before && !*before)
		before = NULL;
	if (after && before)
		return req_fail(r, ERR_PARAM_BAD, "ending_before",
				"You may only specify one of these parameters: ending_before, "
				"starting_after.");
	c.cursor = after ? after : before;
	c.asc = before != NULL;
	return req_read(r, list_fn, &c) == 0 ? 0 : -1;
}

const struct param_spec external_account_hash_params[] = {
    {"object", PT_ENUM, 0, 0, (const char *const[]){"bank_account", NULL}, NULL},
    {"country", PT_STRING, 0, 2, NULL, NULL},
    {"currency", PT_STRING, 0, 3, NULL, NULL},
    {"account_number", PT_STRING, 0, 64, NULL, NULL},
    {"routing_number", PT_STRING, 0, 64, NULL, NULL},
    {"account_holder_name", PT_STRING, 0, 200, NULL, NULL},
    {"account_holder_type", PT_ENUM, 0, 0, (const char *const[]){"individual", "company", NULL},
     NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec create_params[] = {
    /* one of the two is needed (h_create): bank_account is external_account's older name */
    {"external_account", PT_OBJECT, PF_SCALAR_OK, 255, NULL, external_account_hash_params},
    {"bank_account", PT_OBJECT, PF_SCALAR_OK, 255, NULL, external_account_hash_params},
    {"default_for_currency", PT_BOOL, 0, 0, NULL, NULL},
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec doc_files[] = {
    {"files", PT_STRING_ARRAY, PF_EMPTYABLE, 500, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec ea_documents_params[] = {
    {"bank_account_ownership_verification", PT_OBJECT, 0, 0, NULL, doc_files},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec update_params[] = {
    {"account_holder_name", PT_STRING, PF_EMPTYABLE, 200, NULL, NULL},
    {"account_holder_type", PT_ENUM, PF_EMPTYABLE, 0,
     (const char *const[]){"individual", "company", NULL}, NULL},
    {"account_type", PT_ENUM, 0, 0,
     (const char *const[]){"checking", "futsu", "savings", "toku", NULL}, NULL},
    {"documents", PT_OBJECT, 0, 0, NULL, ea_documents_params},
    {"exp_month", PT_INT, 0, 0, NULL, NULL},
    {"exp_year", PT_INT, 0, 0, NULL, NULL},
    {"name", PT_STRING, PF_EMPTYABLE, 5000, NULL, NULL},
    {"address_city", PT_STRING, PF_EMPTYABLE, 5000, NULL, NULL},
    {"address_country", PT_STRING, PF_EMPTYABLE, 5000, NULL, NULL},
    {"address_line1", PT_STRING, PF_EMPTYABLE, 5000, NULL, NULL},
    {"address_line2", PT_STRING, PF_EMPTYABLE, 5000, NULL, NULL},
    {"address_state", PT_STRING, PF_EMPTYABLE, 5000, NULL, NULL},
    {"address_zip", PT_STRING, PF_EMPTYABLE, 5000, NULL, NULL},
    {"default_for_currency", PT_BOOL, 0, 0, NULL, NULL},
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec list_params[] = {
    {"object", PT_ENUM, 0, 0, (const char *const[]){"bank_account", "card", NULL}, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec no_params[] = {{NULL, 0, 0, 0, NULL, NULL}};

const struct route external_accounts_routes[] = {
    {"POST", "/v1/accounts/{id}/external_accounts", h_create, create_params, 0},
    {"GET", "/v1/accounts/{id}/external_accounts", h_list, list_params, ROUTE_LIST},
    {"GET", "/v1/accounts/{id}/external_accounts/{ea}", h_retrieve, no_params, 0},
    {"POST", "/v1/accounts/{id}/external_accounts/{ea}", h_update, update_params, 0},
    {"DELETE", "/v1/accounts/{id}/external_accounts/{ea}", h_delete, no_params, 0},
    /* the older bank_accounts paths, which Stripe still answers (a card through them too) */
    {"POST", "/v1/accounts/{id}/bank_accounts", h_create, create_params, 0},
    {"GET", "/v1/accounts/{id}/bank_accounts/{ea}", h_retrieve, no_params, 0},
    {"POST", "/v1/accounts/{id}/bank_accounts/{ea}", h_update, update_params, 0},
    {"DELETE", "/v1/accounts/{id}/bank_accounts/{ea}", h_delete, no_params, 0},
    {NULL, NULL, NULL, NULL, 0},
};
