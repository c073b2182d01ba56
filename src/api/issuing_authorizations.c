/*
 * Stripe Issuing, part two: what spends the Issuing balance (/v1/issuing/authorizations,
 * /v1/issuing/transactions and their test helpers).
 *
 * An authorization (iauth_) is made by POST /v1/test_helpers/issuing/authorizations, as on
 * Stripe in test mode, and Tender decides it at once: it sends no real-time
 * issuing_authorization.request, so nothing is ever awaiting the merchant's approve / decline
 * (those answer Stripe's 400). The decision reads, in Stripe's order: the card's status
 * (card_inactive), the cardholder's (cardholder_inactive) and its requirements
 * (cardholder_verification_required), the verification data the test helper says failed
 * (verification_failed), the card's and then the cardholder's spending controls (allowed and
 * blocked categories, and each spending limit that covers the merchant's category: the amount
 * plus what was already spent in the limit's window must stay within it: spending_controls), and
 * the Issuing balance (insufficient_funds). What counts as spent in a window: what approved
 * authorizations created in it still hold, plus the captures made in it.
 *
 * An approved authorization holds its amount of the Issuing balance (ledger_issuing_hold, an
 * issuing_authorization_hold balance transaction) and stays pending; a declined one is closed
 * and moves nothing. Every request (the first, each increment) is a request_history entry. The
 * test helpers then capture it (a capture transaction ipi_ takes the captured amount, which may be
 * less or more than authorized, and the hold is released: closed, or kept for what remains with
 * close_authorization=false), expire it (the hold released, closed), increment it (decided as a
 * new request for the increment) or reverse it (part or all of the hold released; reversed when
 * nothing is left and nothing was captured).
 *
 * A transaction (ipi_) is a capture (amount negative, as Stripe signs it) or a refund (positive):
 * made by a capture, by the force-capture and unlinked-refund test helpers (no authorization,
 * no spending controls: a network's force capture is never declined), or by the refund test
 * helper on a capture (at most what is left of it). Each moves the Issuing balance at once
 * (ledger_issuing_spend / ledger_issuing_credit, an issuing_transaction balance transaction).
 *
 * A dispute (idp_) of a capture transaction is made, edited and submitted by the merchant; in
 * test mode its evidence's explanation decides it (below, with its code).
 *
 * Each write is one transaction: the rows, the ledger's movements and the events
 * (issuing_authorization.created / .updated, issuing_transaction.created / .updated,
 * issuing_dispute.*).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/common.h"
#include "api/issuing.h"
#include "api/list.h"
#include "api/resources.h"
#include "app.h"
#include "core/str.h"
#include "http/form.h"
#include "ledger/ledger.h"
#include "ledger/ledger_issuing.h"
#include "store/store.h"

static const char *with_param(struct req *r, const char *path)
{
	const char *v = param_str(r, path);
	return v && *v ? v : NULL;
}

static const char *buf_to_arena(struct req *r, struct buf *b)
{
	const char *s = b->failed ? NULL : arena_strdup(&r->arena, buf_cstr(b));
	buf_release(b);
	return s;
}

/* ---- the objects' parts made from parameters ---- */

/* merchant_data as the objects show it; the category (Stripe's list, default miscellaneous) in
 * *ret_category. */
static int merchant_data_json(struct req *r, const char **ret, const char **ret_category)
{
	const char *cat = with_param(r, "merchant_data.category");
	if (!cat)
		cat = "miscellaneous";
	const char *code = issuing_category_code(cat);
	if (!code)
		return req_fail(r, ERR_PARAM_INVALID_ENUM, "merchant_data[category]",
				"Invalid merchant_data[category]: must be one of Stripe's merchant "
				"categories.");
	const char *network_id = with_param(r, "merchant_data.network_id");
	struct buf b;
	struct json j;
	buf_init(&b, 64 * 1024);
	json_init(&j, &b);
	json_obj_open(&j);
	json_kv_str(&j, "category", cat);
	json_kv_str(&j, "category_code", code);
	json_kv_str_or_null(&j, "city", with_param(r, "merchant_data.city"));
	json_kv_str_or_null(&j, "country", with_param(r, "merchant_data.country"));
	json_kv_str_or_null(&j, "name", with_param(r, "merchant_data.name"));
	/* the test helpers' merchant when none is named: Stripe's test network id */
	json_kv_str(&j, "network_id", network_id ? network_id : "1234567890");
	json_kv_str_or_null(&j, "postal_code", with_param(r, "merchant_data.postal_code"));
	json_kv_str_or_null(&j, "state", with_param(r, "merchant_data.state"));
	json_kv_str_or_null(&j, "terminal_id", with_param(r, "merchant_data.terminal_id"));
	json_obj_close(&j);
	*ret = buf_to_arena(r, &b);
	*ret_category = cat;
	return *ret ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

/* amount_details (atm_fee, cashback_amount), NULL when not given */
static int amount_details_json(struct req *r, const char **ret)
{
	*ret = NULL;
	if (!param_present(r, "amount_details"))
		return 0;
	int64_t atm = 0, cash = 0;
	bool has_atm = param_int(r, "amount_details.atm_fee", &atm) == 1;
	bool has_cash = param_int(r, "amount_details.cashback_amount", &cash) == 1;
	if ((has_atm && atm < 0) || (has_cash && cash < 0))
		return req_fail(r, ERR_PARAM_BAD,
				has_atm && atm < 0 ? "amount_details[atm_fee]"
						   : "amount_details[cashback_amount]",
				"Amount details must be 0 or more.");
	char atm_s[24] = "null", cash_s[24] = "null";
	if (has_atm)
		snprintf(atm_s, sizeof(atm_s), "%lld", (long long)atm);
	if (has_cash)
		snprintf(cash_s, sizeof(cash_s), "%lld", (long long)cash);
	*ret = arena_printf(&r->arena, "{\"atm_fee\":%s,\"cashback_amount\":%s}", atm_s, cash_s);
	return *ret ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

/* A plain decimal ("1.5", "20"): what Stripe's *_decimal and quantity parameters take. */
static bool decimal_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0, dots = 0;
	if (n == 0 || n > 24 || s[0] == '.' || s[n - 1] == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '.')
			dots++;
		else if (s[i] < '0' || s[i] > '9')
			return false;
	}
	return dots <= 1;
}

/* The hash at node n rendered with every key of spec (absent: null), recursively; `numbers`
 * keys are decimal strings shown as JSON numbers (receipt[][quantity]). */
static int hash_json(struct req *r, const struct form_node *n, const struct param_spec *spec,
		     const char *shown, struct json *j)
{
	json_obj_open(j);
	for (const struct param_spec *s = spec; s->name; s++) {
		const struct form_node *c = n ? form_get(n, s->name) : NULL;
		json_key(j, s->name);
		if (!c || (c->kind == FORM_SCALAR && c->value_len == 0)) {
			json_nil(j);
			continue;
		}
		char sub[160];
		snprintf(sub, sizeof(sub), "%s[%s]", shown, s->name);
		switch (s->type) {
		case PT_INT:
			json_int(j, strtoll(c->value, NULL, 10));
			break;
		case PT_BOOL:
			json_bool(j, strcmp(c->value, "true") == 0);
			break;
		case PT_OBJECT:
			if (hash_json(r, c, s->children, sub, j) != 0)
				return -1;
			break;
		case PT_OBJECT_ARRAY: {
			json_arr_open(j);
			int i = 0;
			for (const struct form_node *x = c->first_child; x; x = x->next, i++) {
				char item[200];
				snprintf(item, sizeof(item), "%s[%d]", sub, i);
				if (hash_json(r, x, s->children, item, j) != 0)
					return -1;
			}
			json_arr_close(j);
			break;
		}
		default:
			if ((strcmp(s->name, "quantity") == 0 ||
			     strstr(s->name, "_decimal") != NULL)) {
				if (!decimal_ok(c->value))
					return req_fail(r, ERR_PARAM_BAD, sub,
							"Invalid %s: must be a decimal number.",
							sub);
				if (strcmp(s->name, "quantity") == 0) {
					json_raw(j, c->value, strlen(c->value));
					break;
				}
			}
			json_str(j, c->value);
		}
	}
	json_obj_close(j);
	return 0;
}

static const struct param_spec segment_children[] = {
    {"arrival_airport_code", PT_STRING, 0, 3, NULL, NULL},
    {"carrier", PT_STRING, 0, 5000, NULL, NULL},
    {"departure_airport_code", PT_STRING, 0, 3, NULL, NULL},
    {"flight_number", PT_STRING, 0, 5000, NULL, NULL},
    {"service_class", PT_STRING, 0, 5000, NULL, NULL},
    {"stopover_allowed", PT_BOOL, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec flight_children[] = {
    {"departure_at", PT_INT, 0, 0, NULL, NULL},
    {"passenger_name", PT_STRING, 0, 5000, NULL, NULL},
    {"refundable", PT_BOOL, 0, 0, NULL, NULL},
    {"segments", PT_OBJECT_ARRAY, 0, 20, NULL, segment_children},
    {"travel_agency", PT_STRING, 0, 5000, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec fuel_children[] = {
    {"type", PT_ENUM, 0, 0,
     (const char *const[]){"diesel", "other", "unleaded_plus", "unleaded_regular", "unleaded_super",
			   NULL},
     NULL},
    {"unit", PT_ENUM, 0, 0, (const char *const[]){"liter", "us_gallon", NULL}, NULL},
    {"unit_cost_decimal", PT_STRING, 0, 24, NULL, NULL},
    {"volume_decimal", PT_STRING, 0, 24, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec lodging_children[] = {
    {"check_in_at", PT_INT, 0, 0, NULL, NULL},
    {"nights", PT_INT, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec receipt_children[] = {
    {"description", PT_STRING, 0, 26, NULL, NULL},
    {"quantity", PT_STRING, 0, 24, NULL, NULL},
    {"total", PT_INT, 0, 0, NULL, NULL},
    {"unit_cost", PT_INT, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec purchase_children[] = {
    {"flight", PT_OBJECT, 0, 0, NULL, flight_children},
    {"fuel", PT_OBJECT, 0, 0, NULL, fuel_children},
    {"lodging", PT_OBJECT, 0, 0, NULL, lodging_children},
    {"receipt", PT_OBJECT_ARRAY, 0, 20, NULL, receipt_children},
    {"reference", PT_STRING, 0, 5000, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};

/* purchase_details as a transaction shows it, NULL when not given */
static int purchase_details_json(struct req *r, const char **ret)
{
	*ret = NULL;
	const struct form_node *n = param_node(r, "purchase_details");
	if (!n)
		return 0;
	struct buf b;
	struct json j;
	buf_init(&b, 256 * 1024);
	json_init(&j, &b);
	if (hash_json(r, n, purchase_children, "purchase_details", &j) != 0) {
		buf_release(&b);
		return -1;
	}
	*ret = buf_to_arena(r, &b);
	return *ret ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

/* ---- rows ---- */

struct iauth {
	char id[ID_MAX];
	int64_t created, amount, held;
	bool approved;
	const char *card, *cardholder, *category, *currency, *amount_details, *method;
	const char *merchant_data, *network_data, *verification_data, *wallet, *status;
	const char *request_history, *metadata;
};

struct itxn {
	char id[ID_MAX];
	int64_t created, amount, refunded;
	const char *type, *authorization, *card, *cardholder, *category, *currency;
	const char *amount_details, *merchant_data, *purchase_details, *balance_transaction;
	const char *wallet, *metadata;
	const char *dispute; /* the latest dispute of it (issuing_disputes), NULL: none */
};

static const char SQL_AUTH_GET[] =
    "SELECT id, created, card, cardholder, category, amount, currency, amount_details, approved,"
    " authorization_method, merchant_data, network_data, verification_data, wallet, status,"
    " held, request_history, metadata FROM issuing_authorizations"
    " WHERE merchant_id = $1 AND id = $2";
static const char SQL_AUTH_INSERT[] =
    "INSERT INTO issuing_authorizations (merchant_id, id, created, card, cardholder, category,"
    " amount, currency, amount_details, approved, authorization_method, merchant_data,"
    " network_data, verification_data, wallet, status, held, request_history, metadata)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18,"
    " $19)";
/* moves only from the status and hold read */
static const char SQL_AUTH_UPDATE[] =
    "UPDATE issuing_authorizations SET amount = $5, status = $6, held = $7,"
    " request_history = $8, metadata = $9"
    " WHERE merchant_id = $1 AND id = $2 AND status = $3 AND held = $4";

static int auth_load(struct db *db, struct arena *a, const char *merchant_id, const char *id,
		     struct iauth *x)
{
	struct db_stmt *st;
	int rc = db_row_by_id(db, SQL_AUTH_GET, merchant_id, id, &st);
	if (rc != DB_OK)
		return rc;
	memset(x, 0, sizeof(*x));
	str_copy(x->id, sizeof(x->id), db_col_text(st, 0, NULL));
	x->created = db_col_int64(st, 1);
	x->card = col_text_dup(a, st, 2);
	x->cardholder = col_text_dup(a, st, 3);
	x->category = col_text_dup(a, st, 4);
	x->amount = db_col_int64(st, 5);
	x->currency = col_text_dup(a, st, 6);
	x->amount_details = col_text_dup(a, st, 7);
	x->approved = db_col_int64(st, 8) != 0;
	x->method = col_text_dup(a, st, 9);
	x->merchant_data = col_text_dup(a, st, 10);
	x->network_data = col_text_dup(a, st, 11);
	x->verification_data = col_text_dup(a, st, 12);
	x->wallet = col_text_dup(a, st, 13);
	x->status = col_text_dup(a, st, 14);
	x->held = db_col_int64(st, 15);
	x->request_history = col_text_dup(a, st, 16);
	x->metadata = col_text_dup(a, st, 17);
	db_reset(st);
	return x->card && x->category && x->currency && x->method && x->merchant_data &&
		       x->verification_data && x->status && x->request_history && x->metadata
		   ? DB_OK
		   : DB_ERR;
}

static int auth_insert(struct db *db, const char *merchant_id, const struct iauth *x)
{
	struct db_stmt *st = db_prepare(db, SQL_AUTH_INSERT);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, x->id, -1);
	db_bind_int64(st, 3, x->created);
	db_bind_text(st, 4, x->card, -1);
	db_bind_text(st, 5, x->cardholder, -1);
	db_bind_text(st, 6, x->category, -1);
	db_bind_int64(st, 7, x->amount);
	db_bind_text(st, 8, x->currency, -1);
	db_bind_text(st, 9, x->amount_details, -1);
	db_bind_int64(st, 10, x->approved ? 1 : 0);
	db_bind_text(st, 11, x->method, -1);
	db_bind_text(st, 12, x->merchant_data, -1);
	db_bind_text(st, 13, x->network_data, -1);
	db_bind_text(st, 14, x->verification_data, -1);
	db_bind_text(st, 15, x->wallet, -1);
	db_bind_text(st, 16, x->status, -1);
	db_bind_int64(st, 17, x->held);
	db_bind_text(st, 18, x->request_history, -1);
	db_bind_text(st, 19, x->metadata, -1);
	return db_step_done(st);
}

/* Writes x's mutable columns over old's; DB_CONFLICT when the row had moved meanwhile. */
static int auth_store(struct db *db, const char *merchant_id, const struct iauth *old,
		      const struct iauth *x)
{
	struct db_stmt *st = db_prepare(db, SQL_AUTH_UPDATE);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, x->id, -1);
	db_bind_text(st, 3, old->status, -1);
	db_bind_int64(st, 4, old->held);
	db_bind_int64(st, 5, x->amount);
	db_bind_text(st, 6, x->status, -1);
	db_bind_int64(st, 7, x->held);
	db_bind_text(st, 8, x->request_history, -1);
	db_bind_text(st, 9, x->metadata, -1);
	int64_t n = 0;
	int rc = db_step_changes(st, &n);
	if (rc != DB_OK)
		return rc;
	return n == 1 ? DB_OK : DB_CONFLICT;
}

static const char SQL_TXN_GET[] =
    "SELECT id, created, type, authorization_id, card, cardholder, category, amount, currency,"
    " amount_details, merchant_data, purchase_details, balance_transaction, wallet, refunded,"
    " metadata FROM issuing_transactions WHERE merchant_id = $1 AND id = $2";
static const char SQL_TXN_INSERT[] =
    "INSERT INTO issuing_transactions (merchant_id, id, created, type, authorization_id, card,"
    " cardholder, category, amount, currency, amount_details, merchant_data, purchase_details,"
    " balance_transaction, wallet, refunded, metadata) VALUES ($1, $2, $3, $4, $5, $6, $7, $8,"
    " $9, $10, $11, $12, $13, $14, $15, $16, $17)";
static const char SQL_TXN_UPDATE[] = "UPDATE issuing_transactions SET refunded = $4, metadata = $5"
				     " WHERE merchant_id = $1 AND id = $2 AND refunded = $3";

static const char SQL_TXN_DISPUTE[] =
    "SELECT id FROM issuing_disputes WHERE merchant_id = $1 AND transaction_id = $2"
    " ORDER BY id DESC LIMIT 1";

static int txn_load(struct db *db, struct arena *a, const char *merchant_id, const char *id,
		    struct itxn *t)
{
	struct db_stmt *st;
	int rc = db_row_by_id(db, SQL_TXN_GET, merchant_id, id, &st);
	if (rc != DB_OK)
		return rc;
	memset(t, 0, sizeof(*t));
	str_copy(t->id, sizeof(t->id), db_col_text(st, 0, NULL));
	t->created = db_col_int64(st, 1);
	t->type = col_text_dup(a, st, 2);
	t->authorization = col_text_dup(a, st, 3);
	t->card = col_text_dup(a, st, 4);
	t->cardholder = col_text_dup(a, st, 5);
	t->category = col_text_dup(a, st, 6);
	t->amount = db_col_int64(st, 7);
	t->currency = col_text_dup(a, st, 8);
	t->amount_details = col_text_dup(a, st, 9);
	t->merchant_data = col_text_dup(a, st, 10);
	t->purchase_details = col_text_dup(a, st, 11);
	t->balance_transaction = col_text_dup(a, st, 12);
	t->wallet = col_text_dup(a, st, 13);
	t->refunded = db_col_int64(st, 14);
	t->metadata = col_text_dup(a, st, 15);
	db_reset(st);
	rc = db_row_by_id(db, SQL_TXN_DISPUTE, merchant_id, t->id, &st);
	if (rc == DB_OK) {
		t->dispute = col_text_dup(a, st, 0);
		db_reset(st);
		if (!t->dispute)
			return DB_ERR;
	} else if (rc != DB_NOTFOUND) {
		return rc;
	}
	return t->type && t->card && t->category && t->currency && t->merchant_data &&
		       t->balance_transaction && t->metadata
		   ? DB_OK
		   : DB_ERR;
}

static int txn_insert(struct db *db, const char *merchant_id, const struct itxn *t)
{
	struct db_stmt *st = db_prepare(db, SQL_TXN_INSERT);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, t->id, -1);
	db_bind_int64(st, 3, t->created);
	db_bind_text(st, 4, t->type, -1);
	db_bind_text(st, 5, t->authorization, -1);
	db_bind_text(st, 6, t->card, -1);
	db_bind_text(st, 7, t->cardholder, -1);
	db_bind_text(st, 8, t->category, -1);
	db_bind_int64(st, 9, t->amount);
	db_bind_text(st, 10, t->currency, -1);
	db_bind_text(st, 11, t->amount_details, -1);
	db_bind_text(st, 12, t->merchant_data, -1);
	db_bind_text(st, 13, t->purchase_details, -1);
	db_bind_text(st, 14, t->balance_transaction, -1);
	db_bind_text(st, 15, t->wallet, -1);
	db_bind_int64(st, 16, t->refunded);
	db_bind_text(st, 17, t->metadata, -1);
	return db_step_done(st);
}

static int txn_store(struct db *db, const char *merchant_id, int64_t old_refunded,
		     const struct itxn *t)
{
	struct db_stmt *st = db_prepare(db, SQL_TXN_UPDATE);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, t->id, -1);
	db_bind_int64(st, 3, old_refunded);
	db_bind_int64(st, 4, t->refunded);
	db_bind_text(st, 5, t->metadata, -1);
	int64_t n = 0;
	int rc = db_step_changes(st, &n);
	if (rc != DB_OK)
		return rc;
	return n == 1 ? DB_OK : DB_CONFLICT;
}

/* ---- rendering ---- */

static void txn_render(bool livemode, const struct itxn *t, struct json *j)
{
	json_obj_open(j);
	json_kv_str(j, "id", t->id);
	json_kv_str(j, "object", "issuing.transaction");
	json_kv_int(j, "amount", t->amount);
	json_kv_raw_or_null(j, "amount_details", t->amount_details);
	json_kv_str_or_null(j, "authorization", t->authorization);
	json_kv_str(j, "balance_transaction", t->balance_transaction);
	json_kv_str(j, "card", t->card);
	json_kv_str_or_null(j, "cardholder", t->cardholder);
	json_kv_int(j, "created", t->created);
	json_kv_str(j, "currency", t->currency);
	json_kv_str_or_null(j, "dispute", t->dispute);
	json_kv_bool(j, "livemode", livemode);
	/* the merchant's currency is the card's: Tender converts nothing here */
	json_kv_int(j, "merchant_amount", t->amount);
	json_kv_str(j, "merchant_currency", t->currency);
	json_kv_raw(j, "merchant_data", t->merchant_data, strlen(t->merchant_data));
	json_kv_raw(j, "metadata", t->metadata, strlen(t->metadata));
	json_kv_raw_or_null(j, "purchase_details", t->purchase_details);
	json_kv_null(j, "treasury");
	json_kv_str(j, "type", t->type);
	json_kv_str_or_null(j, "wallet", t->wallet);
	json_obj_close(j);
}

#define IDS_MAX 200 /* an authorization's balance transactions or transactions rendered */

/* The ids sql (merchant $1, owner $2) selects, into the arena. */
static int ids_of(struct db *db, struct arena *a, const char *sql, const char *merchant_id,
		  const char *owner, const char **ids, int *n)
{
	struct db_stmt *st = db_prepare(db, sql);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, owner, -1);
	int rc;
	*n = 0;
	while ((rc = db_step(st)) == DB_ROW && *n < IDS_MAX) {
		ids[*n] = col_text_dup(a, st, 0);
		if (!ids[*n]) {
			db_reset(st);
			return DB_ERR;
		}
		(*n)++;
	}
	db_reset(st);
	return rc == DB_ROW || rc == DB_DONE ? DB_OK : rc < 0 ? rc : DB_ERR;
}

static const char SQL_AUTH_BTS[] =
    "SELECT id FROM balance_transactions WHERE merchant_id = $1 AND source = $2"
    " ORDER BY created, id";
static const char SQL_AUTH_TXNS[] =
    "SELECT id FROM issuing_transactions WHERE merchant_id = $1 AND authorization_id = $2"
    " ORDER BY id";

static int auth_render(struct db *db, struct arena *a, const char *merchant_id, bool livemode,
		       const struct iauth *x, struct json *j)
{
	const char **bts = arena_alloc(a, IDS_MAX * sizeof(*bts));
	const char **txns = arena_alloc(a, IDS_MAX * sizeof(*txns));
	int nb = 0, nt = 0;
	if (!bts || !txns)
		return DB_ERR;
	int rc = ids_of(db, a, SQL_AUTH_BTS, merchant_id, x->id, bts, &nb);
	if (rc == DB_OK)
		rc = ids_of(db, a, SQL_AUTH_TXNS, merchant_id, x->id, txns, &nt);
	if (rc != DB_OK)
		return rc;
	json_obj_open(j);
	json_kv_str(j, "id", x->id);
	json_kv_str(j, "object", "issuing.authorization");
	json_kv_int(j, "amount", x->amount);
	json_kv_raw_or_null(j, "amount_details", x->amount_details);
	json_kv_bool(j, "approved", x->approved);
	json_kv_str(j, "authorization_method", x->method);
	json_key(j, "balance_transactions");
	json_arr_open(j);
	for (int i = 0; i < nb; i++)
		if ((rc = ledger_balance_txn_render(db, merchant_id, bts[i], j)) != DB_OK)
			return rc == DB_NOTFOUND ? DB_ERR : rc;
	json_arr_close(j);
	json_key(j, "card");
	if ((rc = issuing_card_render(db, a, merchant_id, livemode, x->card, j)) != DB_OK)
		return rc == DB_NOTFOUND ? DB_ERR : rc;
	json_kv_str_or_null(j, "cardholder", x->cardholder);
	json_kv_int(j, "created", x->created);
	json_kv_str(j, "currency", x->currency);
	json_kv_bool(j, "livemode", livemode);
	json_kv_int(j, "merchant_amount", x->amount);
	json_kv_str(j, "merchant_currency", x->currency);
	json_kv_raw(j, "merchant_data", x->merchant_data, strlen(x->merchant_data));
	json_kv_raw(j, "metadata", x->metadata, strlen(x->metadata));
	json_kv_raw_or_null(j, "network_data", x->network_data);
	/* decided at once: never awaiting a real-time decision */
	json_kv_null(j, "pending_request");
	json_kv_raw(j, "request_history", x->request_history, strlen(x->request_history));
	json_kv_str(j, "status", x->status);
	json_key(j, "transactions");
	json_arr_open(j);
	for (int i = 0; i < nt; i++) {
		struct itxn t;
		if ((rc = txn_load(db, a, merchant_id, txns[i], &t)) != DB_OK)
			return rc == DB_NOTFOUND ? DB_ERR : rc;
		txn_render(livemode, &t, j);
	}
	json_arr_close(j);
	json_kv_null(j, "treasury");
	json_kv_raw(j, "verification_data", x->verification_data, strlen(x->verification_data));
	json_kv_str_or_null(j, "wallet", x->wallet);
	json_obj_close(j);
	return DB_OK;
}

static int auth_emit(struct req *r, struct db *db, const struct iauth *x, const char *type,
		     const char *prev)
{
	struct buf b;
	struct json j;
	buf_init(&b, 4u << 20);
	json_init(&j, &b);
	if (auth_render(db, &r->arena, r->merchant_id, r->livemode, x, &j) != DB_OK) {
		buf_release(&b);
		return req_fail(r, ERR_API, NULL, NULL);
	}
	const char *js;
	size_t len;
	char ev[ID_MAX];
	return api_event_append(r, db, type, x->id, &b, prev, &js, &len, ev);
}

static int auth_respond(struct req *r, struct db *db, const struct iauth *x)
{
	return auth_render(db, &r->arena, r->merchant_id, r->livemode, x, req_json(r)) == DB_OK
		   ? 0
		   : req_fail(r, ERR_API, NULL, NULL);
}

static int txn_emit(struct req *r, struct db *db, const struct itxn *t, const char *type,
		    const char *prev)
{
	struct buf b;
	struct json j;
	buf_init(&b, 1u << 20);
	json_init(&j, &b);
	txn_render(r->livemode, t, &j);
	const char *js;
	size_t len;
	char ev[ID_MAX];
	return api_event_append(r, db, type, t->id, &b, prev, &js, &len, ev);
}

/* previous_attributes of an authorization's change: the fields that moved */
static const char *auth_prev(struct req *r, const struct iauth *old, const struct iauth *x)
{
	struct buf b;
	struct json j;
	buf_init(&b, 1u << 20);
	json_init(&j, &b);
	json_obj_open(&j);
	bool any = false;
	if (old->amount != x->amount) {
		json_kv_int(&j, "amount", old->amount);
		json_kv_int(&j, "merchant_amount", old->amount);
		any = true;
	}
	if (strcmp(old->metadata, x->metadata) != 0) {
		json_kv_raw(&j, "metadata", old->metadata, strlen(old->metadata));
		any = true;
	}
	if (strcmp(old->request_history, x->request_history) != 0) {
		json_kv_raw(&j, "request_history", old->request_history,
			    strlen(old->request_history));
		any = true;
	}
	if (strcmp(old->status, x->status) != 0) {
		json_kv_str(&j, "status", old->status);
		any = true;
	}
	json_obj_close(&j);
	if (!any) {
		buf_release(&b);
		return NULL;
	}
	return buf_to_arena(r, &b);
}

/* ---- the decision ---- */

static const char SQL_HELD_CARD[] =
    "SELECT category, SUM(held) FROM issuing_authorizations WHERE merchant_id = $1 AND card = $2"
    " AND status = 'pending' AND created >= $3 GROUP BY category";
static const char SQL_HELD_HOLDER[] =
    "SELECT category, SUM(held) FROM issuing_authorizations WHERE merchant_id = $1"
    " AND cardholder = $2 AND status = 'pending' AND created >= $3 GROUP BY category";
static const char SQL_CAPTURED_CARD[] =
    "SELECT category, SUM(amount) FROM issuing_transactions WHERE merchant_id = $1 AND card = $2"
    " AND type = 'capture' AND created >= $3 GROUP BY category";
static const char SQL_CAPTURED_HOLDER[] =
    "SELECT category, SUM(amount) FROM issuing_transactions WHERE merchant_id = $1"
    " AND cardholder = $2 AND type = 'capture' AND created >= $3 GROUP BY category";

/* Adds to *sum (sign: +1 or −1 per row) what sql finds since `since` in the categories of limit
 * l (NULL categories: all). */
static int spent_add(struct db *db, const char *sql, const char *merchant_id, const char *owner,
		     int64_t since, const struct issuing_limit *l, int sign, int64_t *sum)
{
	struct db_stmt *st = db_prepare(db, sql);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, owner, -1);
	db_bind_int64(st, 3, since);
	int rc;
	while ((rc = db_step(st)) == DB_ROW) {
		const char *cat = db_col_text(st, 0, NULL);
		if (l->categories && !issuing_cats_has(l->categories, l->categories_len, cat))
			continue;
		int64_t v = db_col_int64(st, 1) * sign;
		if (__builtin_add_overflow(*sum, v, sum)) {
			db_reset(st);
			return LEDGER_ERR_OVERFLOW;
		}
	}
	db_reset(st);
	return rc == DB_DONE ? DB_OK : rc < 0 ? rc : DB_ERR;
}

/* Whether controls (card's or cardholder's, owner the card or cardholder id) allow `extra` more
 * in category, `total` being the authorization's whole amount. DB_OK with *ok set, or < 0. */
static int controls_allow(struct db *db, const char *merchant_id, const char *controls_json,
			  bool holder, const char *owner, const char *category, int64_t total,
			  int64_t extra, int64_t now, bool *ok)
{
	struct issuing_controls c;
	*ok = false;
	if (issuing_controls_parse(controls_json, &c) != 0)
		return DB_ERR;
	if (c.allowed && !issuing_cats_has(c.allowed, c.allowed_len, category))
		return DB_OK;
	if (c.blocked && issuing_cats_has(c.blocked, c.blocked_len, category))
		return DB_OK;
	for (int i = 0; i < c.n_limits; i++) {
		const struct issuing_limit *l = &c.limits[i];
		if (l->categories && !issuing_cats_has(l->categories, l->categories_len, category))
			continue;
		if (strcmp(l->interval, "per_authorization") == 0) {
			if (total > l->amount)
				return DB_OK;
			continue;
		}
		const int64_t since = issuing_window_start(l->interval, now);
		if (since == -1)
			return DB_ERR;
		int64_t spent = 0;
		int rc = spent_add(db, holder ? SQL_HELD_HOLDER : SQL_HELD_CARD, merchant_id, owner,
				   since, l, 1, &spent);
		if (rc == DB_OK)
			rc = spent_add(db, holder ? SQL_CAPTURED_HOLDER : SQL_CAPTURED_CARD,
				       merchant_id, owner, since, l, -1, &spent);
		if (rc != DB_OK)
			return rc;
		int64_t after;
		if (__builtin_add_overflow(spent, extra, &after) || after > l->amount)
			return DB_OK;
	}
	*ok = true;
	return DB_OK;
}

/* Decides a request for `extra` more (total: the authorization's amount with it) on card f;
 * *reason: Stripe's request_history reason. DB_OK with *approved set, or < 0. */
static int decide(struct req *r, struct db *db, const char *card_id,
		  const struct issuing_card_facts *f, const char *category,
		  const char *verification_data, int64_t total, int64_t extra, bool *approved,
		  const char **reason)
{
	*approved = false;
	if (strcmp(f->status, "active") != 0) {
		*reason = "card_inactive";
		return DB_OK;
	}
	if (strcmp(f->holder_status, "active") != 0) {
		*reason = "cardholder_inactive";
		return DB_OK;
	}
	if (f->holder_requirements_due) {
		*reason = "cardholder_verification_required";
		return DB_OK;
	}
	if (strstr(verification_data, "\"cvc_check\":\"mismatch\"") ||
	    strstr(verification_data, "\"expiry_check\":\"mismatch\"")) {
		*reason = "verification_failed";
		return DB_OK;
	}
	bool ok = false;
	int rc = controls_allow(db, r->merchant_id, f->spending_controls, false, card_id, category,
				total, extra, r->now, &ok);
	if (rc == DB_OK && ok)
		rc = controls_allow(db, r->merchant_id, f->holder_controls, true, f->cardholder,
				    category, total, extra, r->now, &ok);
	if (rc != DB_OK)
		return rc;
	if (!ok) {
		*reason = "spending_controls";
		return DB_OK;
	}
	int64_t available = 0;
	if ((rc = ledger_issuing_available(db, r->merchant_id, f->currency, &available)) != DB_OK)
		return rc;
	if (available < extra) {
		*reason = "insufficient_funds";
		return DB_OK;
	}
	*approved = true;
	/* approved with no real-time webhook to ask: the card was active and nothing declined */
	*reason = "card_active";
	return DB_OK;
}

/* request_history with one more entry */
static const char *history_add(struct req *r, const char *history, int64_t amount,
			       const char *amount_details, const char *currency, bool approved,
			       const char *reason)
{
	const char *entry = arena_printf(
	    &r->arena,
	    "{\"amount\":%lld,\"amount_details\":%s,\"approved\":%s,\"created\":%lld,"
	    "\"currency\":\"%s\",\"merchant_amount\":%lld,\"merchant_currency\":\"%s\","
	    "\"reason\":\"%s\",\"reason_message\":null}",
	    (long long)amount, amount_details ? amount_details : "null",
	    approved ? "true" : "false", (long long)r->now, currency, (long long)amount, currency,
	    reason);
	if (!entry)
		return NULL;
	size_t n = history ? strlen(history) : 0;
	if (n < 2) /* "[]" or nothing: the first entry */
		return arena_printf(&r->arena, "[%s]", entry);
	return arena_printf(&r->arena, "%.*s%s%s]", (int)(n - 1), history, n > 2 ? "," : "", entry);
}

static int fail_ledger(struct req *r, int rc)
{
	if (rc == LEDGER_ERR_OVERFLOW)
		return req_fail(r, ERR_AMOUNT_TOO_LARGE, "amount", "Amount is too large.");
	return req_fail(r, ERR_API, NULL, NULL);
}

/* ---- authorizations ---- */

struct auth_ctx {
	struct req *r;
	const char *id;
	struct iauth x;
};

static int card_facts_or_fail(struct req *r, struct db *db, const char *card,
			      struct issuing_card_facts *f)
{
	int rc = issuing_card_facts(db, &r->arena, r->merchant_id, card, f);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(r, "issuing.card", card, "card");
	return rc == DB_OK ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

/* The currency parameter, else the card's; Tender's Issuing has no conversion: it must be the
 * card's. */
static int currency_check(struct req *r, const struct issuing_card_facts *f)
{
	const char *cur = with_param(r, "currency");
	if (!cur)
		return 0;
	char lower[8];
	if (param_currency(r, "currency", NULL, lower) != 0)
		return -1;
	if (strcmp(lower, f->currency) != 0)
		return req_fail(r, ERR_INVALID_CURRENCY, "currency",
				"The currency %s is not the card's (%s): Tender's Issuing does not "
				"convert currencies.",
				lower, f->currency);
	return 0;
}

static int amount_param(struct req *r, const char *name, bool required, int64_t *ret)
{
	int has = param_int(r, name, ret);
	if (has != 1) {
		if (required)
			return req_fail(r, ERR_PARAM_MISSING, name, "%s", name);
		*ret = -1;
		return 0;
	}
	if (*ret < 1)
		return req_fail(r, ERR_PARAM_BAD, name, "Invalid %s: must be at least 1.", name);
	if (*ret > LEDGER_AMOUNT_MAX)
		return req_fail(r, ERR_AMOUNT_TOO_LARGE, name, "%s is too large.", name);
	return 0;
}

static int auth_create_fn(struct db *db, void *arg)
{
	struct auth_ctx *c = arg;
	struct req *r = c->r;
	struct iauth *x = &c->x;
	struct issuing_card_facts f;
	if (card_facts_or_fail(r, db, x->card, &f) != 0 || currency_check(r, &f) != 0)
		return -1;
	x->cardholder = arena_strdup(&r->arena, f.cardholder);
	x->currency = arena_strdup(&r->arena, f.currency);
	if (!x->cardholder || !x->currency)
		return req_fail(r, ERR_API, NULL, NULL);
	const char *reason = NULL;
	int rc = decide(r, db, x->card, &f, x->category, x->verification_data, x->amount, x->amount,
			&x->approved, &reason);
	if (rc != DB_OK)
		return fail_ledger(r, rc);
	x->request_history =
	    history_add(r, "[]", x->amount, x->amount_details, x->currency, x->approved, reason);
	if (!x->request_history)
		return req_fail(r, ERR_API, NULL, NULL);
	x->status = x->approved ? "pending" : "closed";
	x->held = x->approved ? x->amount : 0;
	if (auth_insert(db, r->merchant_id, x) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (x->approved && (rc = ledger_issuing_hold(db, r->merchant_id, x->id, x->amount,
						     x->currency, r->now, NULL)) != DB_OK)
		return fail_ledger(r, rc);
	if (auth_emit(r, db, x, "issuing_authorization.created", NULL) != 0)
		return -1;
	return auth_respond(r, db, x);
}

static int h_auth_create(struct req *r)
{
	struct auth_ctx c = {.r = r};
	struct iauth *x = &c.x;
	id_new_at(x->id, "iauth_", r->now);
	x->created = r->now;
	x->card = param_str(r, "card");
	if (!x->card || !*x->card)
		return req_fail(r, ERR_PARAM_MISSING, "card", "card");
	if (amount_param(r, "amount", true, &x->amount) != 0)
		return -1;
	x->method =
	    with_param(r, "authorization_method") ? param_str(r, "authorization_method") : "online";
	x->wallet = with_param(r, "wallet");
	x->metadata = "{}";
	if (merchant_data_json(r, &x->merchant_data, &x->category) != 0 ||
	    amount_details_json(r, &x->amount_details) != 0)
		return -1;
	const char *acq = with_param(r, "network_data.acquiring_institution_id");
	if (param_present(r, "network_data")) {
		x->network_data = acq ? arena_printf(&r->arena, "{\"acquiring_institution_id\":%s}",
						     json_quote(r, acq))
				      : "{\"acquiring_institution_id\":null}";
		if (!x->network_data)
			return req_fail(r, ERR_API, NULL, NULL);
	}
	/* the test helper's own card: its CVC and expiry match unless it says otherwise; no address
	 * is sent with an online test authorization */
	const char *a1 = with_param(r, "verification_data.address_line1_check");
	const char *ap = with_param(r, "verification_data.address_postal_code_check");
	const char *cv = with_param(r, "verification_data.cvc_check");
	const char *ex = with_param(r, "verification_data.expiry_check");
	x->verification_data =
	    arena_printf(&r->arena,
			 "{\"address_line1_check\":\"%s\",\"address_postal_code_check\":\"%s\","
			 "\"cvc_check\":\"%s\",\"expiry_check\":\"%s\"}",
			 a1 ? a1 : "not_provided", ap ? ap : "not_provided", cv ? cv : "match",
			 ex ? ex : "match");
	if (!x->verification_data)
		return req_fail(r, ERR_API, NULL, NULL);
	return req_write(r, auth_create_fn, &c);
}

static int auth_load_fn(struct db *db, void *arg)
{
	struct auth_ctx *c = arg;
	int rc = auth_load(db, &c->r->arena, c->r->merchant_id, c->id, &c->x);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(c->r, "issuing.authorization", c->id, "authorization");
	return rc == DB_OK ? 0 : req_fail(c->r, ERR_API, NULL, NULL);
}

static int auth_retrieve_fn(struct db *db, void *arg)
{
	struct auth_ctx *c = arg;
	return auth_load_fn(db, arg) != 0 ? -1 : auth_respond(c->r, db, &c->x);
}

static int h_auth_retrieve(struct req *r)
{
	struct auth_ctx c = {.r = r, .id = r->args[0]};
	return req_read(r, auth_retrieve_fn, &c) == 0 ? 0 : -1;
}

/* Stores x over old and appends issuing_authorization.updated when something moved. */
static int auth_changed(struct req *r, struct db *db, const struct iauth *old,
			const struct iauth *x)
{
	int rc = auth_store(db, r->merchant_id, old, x);
	if (rc == DB_CONFLICT)
		return req_fail(r, ERR_INVALID_STATE, NULL,
				"The authorization %s changed meanwhile: try again.", x->id);
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	const char *prev = auth_prev(r, old, x);
	if (prev && auth_emit(r, db, x, "issuing_authorization.updated", prev) != 0)
		return -1;
	return 0;
}

static int auth_update_fn(struct db *db, void *arg)
{
	struct auth_ctx *c = arg;
	struct req *r = c->r;
	if (auth_load_fn(db, arg) != 0)
		return -1;
	struct iauth old = c->x;
	if (metadata_apply(r, c->x.metadata, "metadata", &c->x.metadata) != 0 ||
	    auth_changed(r, db, &old, &c->x) != 0)
		return -1;
	return auth_respond(r, db, &c->x);
}

static int h_auth_update(struct req *r)
{
	struct auth_ctx c = {.r = r, .id = r->args[0]};
	return req_write(r, auth_update_fn, &c);
}

/* approve / decline: only for an authorization awaiting a real-time decision, which Tender never
 * has (it decides when the authorization is made) */
static int auth_decide_fn(struct db *db, void *arg)
{
	struct auth_ctx *c = arg;
	if (auth_load_fn(db, arg) != 0)
		return -1;
	return req_fail(c->r, ERR_INVALID_STATE, NULL,
			"This authorization (%s) is not awaiting a real-time decision: it was "
			"already %s when it was made.",
			c->x.id, c->x.approved ? "approved" : "declined");
}

static int h_auth_approve(struct req *r)
{
	struct auth_ctx c = {.r = r, .id = r->args[0]};
	return req_write(r, auth_decide_fn, &c);
}

static int pending_or_fail(struct req *r, const struct iauth *x)
{
	if (strcmp(x->status, "pending") == 0)
		return 0;
	return req_fail(r, ERR_INVALID_STATE, NULL,
			"This authorization (%s) is %s: only a pending authorization can be "
			"captured, expired, incremented or reversed.",
			x->id, x->status);
}

struct step_ctx {
	struct auth_ctx a;
	int64_t amount; /* capture_amount / increment_amount / reverse_amount; -1: not given */
	bool close;
	const char *purchase_details;
};

static const char SQL_AUTH_HAS_TXN[] =
    "SELECT 1 FROM issuing_transactions WHERE merchant_id = $1 AND authorization_id = $2"
    " LIMIT 1";

static int capture_fn(struct db *db, void *arg)
{
	struct step_ctx *s = arg;
	struct req *r = s->a.r;
	if (auth_load_fn(db, &s->a) != 0)
		return -1;
	struct iauth old = s->a.x, *x = &s->a.x;
	if (pending_or_fail(r, x) != 0)
		return -1;
	const int64_t amount = s->amount > 0 ? s->amount : x->amount;
	struct itxn t = {.created = r->now,
			 .type = "capture",
			 .authorization = x->id,
			 .card = x->card,
			 .cardholder = x->cardholder,
			 .category = x->category,
			 .amount = -amount,
			 .currency = x->currency,
			 .amount_details = x->amount_details,
			 .merchant_data = x->merchant_data,
			 .purchase_details = s->purchase_details,
			 .wallet = x->wallet,
			 .metadata = "{}"};
	id_new_at(t.id, "ipi_", r->now);
	char bt[ID_MAX];
	int rc = ledger_issuing_spend(db, r->merchant_id, t.id, amount, x->currency, r->now, bt);
	if (rc != DB_OK)
		return fail_ledger(r, rc);
	t.balance_transaction = bt;
	/* the hold goes: all of it when the authorization closes, else what was captured of it */
	int64_t release = s->close || amount > x->held ? x->held : amount;
	if (release > 0 && (rc = ledger_issuing_release(db, r->merchant_id, x->id, release,
							x->currency, r->now, NULL)) != DB_OK)
		return fail_ledger(r, rc);
	x->held -= release;
	if (s->close)
		x->status = "closed";
	if (txn_insert(db, r->merchant_id, &t) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (txn_emit(r, db, &t, "issuing_transaction.created", NULL) != 0)
		return -1;
	/* the authorization's transactions and balance transactions moved even when its status did
	 * not: always an update */
	if (auth_store(db, r->merchant_id, &old, x) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	const char *prev = auth_prev(r, &old, x);
	if (auth_emit(r, db, x, "issuing_authorization.updated", prev ? prev : "{}") != 0)
		return -1;
	return auth_respond(r, db, x);
}

static int h_capture(struct req *r)
{
	struct step_ctx s = {.a = {.r = r, .id = r->args[0]}, .close = true};
	if (amount_param(r, "capture_amount", false, &s.amount) != 0 ||
	    purchase_details_json(r, &s.purchase_details) != 0)
		return -1;
	bool close = true;
	if (param_bool(r, "close_authorization", &close) == 1)
		s.close = close;
	return req_write(r, capture_fn, &s);
}

static int expire_fn(struct db *db, void *arg)
{
	struct step_ctx *s = arg;
	struct req *r = s->a.r;
	if (auth_load_fn(db, &s->a) != 0)
		return -1;
	struct iauth old = s->a.x, *x = &s->a.x;
	if (pending_or_fail(r, x) != 0)
		return -1;
	int rc;
	if (x->held > 0 && (rc = ledger_issuing_release(db, r->merchant_id, x->id, x->held,
							x->currency, r->now, NULL)) != DB_OK)
		return fail_ledger(r, rc);
	x->held = 0;
	x->status = "closed";
	if (auth_changed(r, db, &old, x) != 0)
		return -1;
	return auth_respond(r, db, x);
}

static int h_expire(struct req *r)
{
	struct step_ctx s = {.a = {.r = r, .id = r->args[0]}};
	return req_write(r, expire_fn, &s);
}

static int increment_fn(struct db *db, void *arg)
{
	struct step_ctx *s = arg;
	struct req *r = s->a.r;
	if (auth_load_fn(db, &s->a) != 0)
		return -1;
	struct iauth old = s->a.x, *x = &s->a.x;
	if (pending_or_fail(r, x) != 0)
		return -1;
	int64_t total;
	if (__builtin_add_overflow(x->amount, s->amount, &total) || total > LEDGER_AMOUNT_MAX)
		return req_fail(r, ERR_AMOUNT_TOO_LARGE, "increment_amount",
				"The authorization's amount would be too large.");
	struct issuing_card_facts f;
	if (card_facts_or_fail(r, db, x->card, &f) != 0)
		return -1;
	bool approved = false;
	const char *reason = NULL;
	int rc = decide(r, db, x->card, &f, x->category, x->verification_data, total, s->amount,
			&approved, &reason);
	if (rc != DB_OK)
		return fail_ledger(r, rc);
	x->request_history = history_add(r, x->request_history, total, x->amount_details,
					 x->currency, approved, reason);
	if (!x->request_history)
		return req_fail(r, ERR_API, NULL, NULL);
	if (approved) {
		if ((rc = ledger_issuing_hold(db, r->merchant_id, x->id, s->amount, x->currency,
					      r->now, NULL)) != DB_OK)
			return fail_ledger(r, rc);
		x->amount = total;
		x->held += s->amount;
	}
	if (auth_changed(r, db, &old, x) != 0)
		return -1;
	return auth_respond(r, db, x);
}

static int h_increment(struct req *r)
{
	struct step_ctx s = {.a = {.r = r, .id = r->args[0]}};
	if (amount_param(r, "increment_amount", true, &s.amount) != 0)
		return -1;
	return req_write(r, increment_fn, &s);
}

static int reverse_fn(struct db *db, void *arg)
{
	struct step_ctx *s = arg;
	struct req *r = s->a.r;
	if (auth_load_fn(db, &s->a) != 0)
		return -1;
	struct iauth old = s->a.x, *x = &s->a.x;
	if (pending_or_fail(r, x) != 0)
		return -1;
	const int64_t amount = s->amount > 0 ? s->amount : x->held;
	if (amount > x->held)
		return req_fail(r, ERR_PARAM_BAD, "reverse_amount",
				"The reverse_amount (%lld) is more than the authorization still "
				"holds (%lld).",
				(long long)amount, (long long)x->held);
	int rc;
	if (amount > 0 && (rc = ledger_issuing_release(db, r->merchant_id, x->id, amount,
						       x->currency, r->now, NULL)) != DB_OK)
		return fail_ledger(r, rc);
	x->held -= amount;
	x->amount -= amount;
	if (x->held == 0) {
		/* reversed when nothing of it was captured, else closed by its captures */
		struct db_stmt *st = db_prepare(db, SQL_AUTH_HAS_TXN);
		if (!st)
			return req_fail(r, ERR_API, NULL, NULL);
		db_bind_text(st, 1, r->merchant_id, -1);
		db_bind_text(st, 2, x->id, -1);
		rc = db_step(st);
		db_reset(st);
		if (rc != DB_ROW && rc != DB_DONE)
			return req_fail(r, ERR_API, NULL, NULL);
		x->status = rc == DB_ROW ? "closed" : "reversed";
	}
	if (auth_changed(r, db, &old, x) != 0)
		return -1;
	return auth_respond(r, db, x);
}

static int h_reverse(struct req *r)
{
	struct step_ctx s = {.a = {.r = r, .id = r->args[0]}};
	if (amount_param(r, "reverse_amount", false, &s.amount) != 0)
		return -1;
	return req_write(r, reverse_fn, &s);
}

static const char SQL_AUTH_CURSOR[] =
    "SELECT created FROM issuing_authorizations WHERE merchant_id = $1 AND id = $2";
#define AUTH_LIST_WHERE                                                                            \
	"SELECT id FROM issuing_authorizations WHERE merchant_id = $1 AND id > $2 AND id < $3"     \
	" AND ($5 IS NULL OR card = $5) AND ($6 IS NULL OR cardholder = $6)"                       \
	" AND ($7 IS NULL OR status = $7)"
static const char SQL_AUTH_DESC[] = AUTH_LIST_WHERE " ORDER BY id DESC LIMIT $4";
static const char SQL_AUTH_ASC[] = AUTH_LIST_WHERE " ORDER BY id ASC LIMIT $4";

static int auth_list_bind(struct req *r, struct db_stmt *st, int first, void *ctx)
{
	(void)ctx;
	list_bind_filter(r, st, first, "card");
	list_bind_filter(r, st, first + 1, "cardholder");
	list_bind_filter(r, st, first + 2, "status");
	return 0;
}

static int auth_list_render(struct req *r, struct db *db, const char *id, struct json *j, void *ctx)
{
	(void)ctx;
	struct iauth x;
	int rc = auth_load(db, &r->arena, r->merchant_id, id, &x);
	if (rc != DB_OK)
		return rc;
	return auth_render(db, &r->arena, r->merchant_id, r->livemode, &x, j);
}

static int h_auth_list(struct req *r)
{
	static const struct list_spec spec = {
	    .url = "/v1/issuing/authorizations",
	    .object_name = "issuing.authorization",
	    .id_prefix = "iauth_",
	    .sql_cursor = SQL_AUTH_CURSOR,
	    .sql_desc = SQL_AUTH_DESC,
	    .sql_asc = SQL_AUTH_ASC,
	    .bind_filters = auth_list_bind,
	    .render = auth_list_render,
	};
	return list_respond(r, &spec);
}

/* ---- transactions ---- */

struct txn_ctx {
	struct req *r;
	const char *id;
	struct itxn t;
	int64_t amount;
	bool refund; /* the unlinked refund helper, not the force capture */
};

static int txn_load_fn(struct db *db, void *arg)
{
	struct txn_ctx *c = arg;
	int rc = txn_load(db, &c->r->arena, c->r->merchant_id, c->id, &c->t);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(c->r, "issuing.transaction", c->id, "transaction");
	return rc == DB_OK ? 0 : req_fail(c->r, ERR_API, NULL, NULL);
}

static int txn_retrieve_fn(struct db *db, void *arg)
{
	struct txn_ctx *c = arg;
	if (txn_load_fn(db, arg) != 0)
		return -1;
	txn_render(c->r->livemode, &c->t, req_json(c->r));
	return 0;
}

static int h_txn_retrieve(struct req *r)
{
	struct txn_ctx c = {.r = r, .id = r->args[0]};
	return req_read(r, txn_retrieve_fn, &c) == 0 ? 0 : -1;
}

static int txn_update_fn(struct db *db, void *arg)
{
	struct txn_ctx *c = arg;
	struct req *r = c->r;
	if (txn_load_fn(db, arg) != 0)
		return -1;
	const char *old = c->t.metadata;
	if (metadata_apply(r, old, "metadata", &c->t.metadata) != 0)
		return -1;
	if (strcmp(old, c->t.metadata) != 0) {
		if (txn_store(db, r->merchant_id, c->t.refunded, &c->t) != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		const char *prev = arena_printf(&r->arena, "{\"metadata\":%s}", old);
		if (!prev || txn_emit(r, db, &c->t, "issuing_transaction.updated", prev) != 0)
			return -1;
	}
	txn_render(r->livemode, &c->t, req_json(r));
	return 0;
}

static int h_txn_update(struct req *r)
{
	struct txn_ctx c = {.r = r, .id = r->args[0]};
	return req_write(r, txn_update_fn, &c);
}

/* create_force_capture / create_unlinked_refund: a transaction of the card with no
 * authorization, its money moved at once */
static int txn_create_fn(struct db *db, void *arg)
{
	struct txn_ctx *c = arg;
	struct req *r = c->r;
	struct itxn *t = &c->t;
	struct issuing_card_facts f;
	if (card_facts_or_fail(r, db, t->card, &f) != 0 || currency_check(r, &f) != 0)
		return -1;
	t->cardholder = arena_strdup(&r->arena, f.cardholder);
	t->currency = arena_strdup(&r->arena, f.currency);
	if (!t->cardholder || !t->currency)
		return req_fail(r, ERR_API, NULL, NULL);
	char bt[ID_MAX];
	int rc = c->refund ? ledger_issuing_credit(db, r->merchant_id, t->id, "issuing_transaction",
						   c->amount, t->currency, r->now, bt)
			   : ledger_issuing_spend(db, r->merchant_id, t->id, c->amount, t->currency,
						  r->now, bt);
	if (rc != DB_OK)
		return fail_ledger(r, rc);
	t->balance_transaction = bt;
	if (txn_insert(db, r->merchant_id, t) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (txn_emit(r, db, t, "issuing_transaction.created", NULL) != 0)
		return -1;
	txn_render(r->livemode, t, req_json(r));
	return 0;
}

static int h_txn_create(struct req *r, bool refund)
{
	struct txn_ctx c = {.r = r, .refund = refund};
	struct itxn *t = &c.t;
	id_new_at(t->id, "ipi_", r->now);
	t->created = r->now;
	t->type = refund ? "refund" : "capture";
	t->card = param_str(r, "card");
	if (!t->card || !*t->card)
		return req_fail(r, ERR_PARAM_MISSING, "card", "card");
	t->metadata = "{}";
	if (amount_param(r, "amount", true, &c.amount) != 0 ||
	    merchant_data_json(r, &t->merchant_data, &t->category) != 0 ||
	    purchase_details_json(r, &t->purchase_details) != 0)
		return -1;
	t->amount = refund ? c.amount : -c.amount;
	return req_write(r, txn_create_fn, &c);
}

static int h_force_capture(struct req *r)
{
	return h_txn_create(r, false);
}

static int h_unlinked_refund(struct req *r)
{
	return h_txn_create(r, true);
}

static const char SQL_TXN_WON[] =
    "SELECT COALESCE(SUM(amount), 0) FROM issuing_disputes WHERE merchant_id = $1"
    " AND transaction_id = $2 AND status = 'won'";

/* the refund test helper: a refund transaction of (part of) a capture */
static int txn_refund_fn(struct db *db, void *arg)
{
	struct txn_ctx *c = arg;
	struct req *r = c->r;
	if (txn_load_fn(db, arg) != 0)
		return -1;
	struct itxn *cap = &c->t;
	if (strcmp(cap->type, "capture") != 0)
		return req_fail(r, ERR_INVALID_STATE, NULL,
				"The transaction %s is a refund: only a capture can be refunded.",
				cap->id);
	/* what a won dispute already gave back of it is not refunded again */
	struct db_stmt *st;
	int rc = db_row_by_id(db, SQL_TXN_WON, r->merchant_id, cap->id, &st);
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	const int64_t won = db_col_int64(st, 0);
	db_reset(st);
	const int64_t left = -cap->amount - cap->refunded - won;
	const int64_t amount = c->amount > 0 ? c->amount : left;
	if (left <= 0)
		return req_fail(r, ERR_INVALID_STATE, NULL,
				"The transaction %s is already fully refunded.", cap->id);
	if (amount > left)
		return req_fail(r, ERR_PARAM_BAD, "refund_amount",
				"The refund_amount (%lld) is more than what is left of the capture "
				"(%lld).",
				(long long)amount, (long long)left);
	struct itxn t = *cap;
	id_new_at(t.id, "ipi_", r->now);
	t.created = r->now;
	t.type = "refund";
	t.amount = amount;
	t.refunded = 0;
	t.dispute = NULL;
	t.metadata = "{}";
	char bt[ID_MAX];
	rc = ledger_issuing_credit(db, r->merchant_id, t.id, "issuing_transaction", amount,
				   t.currency, r->now, bt);
	if (rc != DB_OK)
		return fail_ledger(r, rc);
	t.balance_transaction = bt;
	const int64_t old_refunded = cap->refunded;
	cap->refunded += amount; /* at most −amount of the capture: no overflow */
	if (txn_insert(db, r->merchant_id, &t) != DB_OK ||
	    txn_store(db, r->merchant_id, old_refunded, cap) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (txn_emit(r, db, &t, "issuing_transaction.created", NULL) != 0)
		return -1;
	txn_render(r->livemode, &t, req_json(r));
	return 0;
}

static int h_txn_refund(struct req *r)
{
	struct txn_ctx c = {.r = r, .id = r->args[0]};
	if (amount_param(r, "refund_amount", false, &c.amount) != 0)
		return -1;
	return req_write(r, txn_refund_fn, &c);
}

static const char SQL_TXN_CURSOR[] =
    "SELECT created FROM issuing_transactions WHERE merchant_id = $1 AND id = $2";
#define TXN_LIST_WHERE                                                                             \
	"SELECT id FROM issuing_transactions WHERE merchant_id = $1 AND id > $2 AND id < $3"       \
	" AND ($5 IS NULL OR card = $5) AND ($6 IS NULL OR cardholder = $6)"                       \
	" AND ($7 IS NULL OR type = $7)"
static const char SQL_TXN_DESC[] = TXN_LIST_WHERE " ORDER BY id DESC LIMIT $4";
static const char SQL_TXN_ASC[] = TXN_LIST_WHERE " ORDER BY id ASC LIMIT $4";

static int txn_list_bind(struct req *r, struct db_stmt *st, int first, void *ctx)
{
	(void)ctx;
	list_bind_filter(r, st, first, "card");
	list_bind_filter(r, st, first + 1, "cardholder");
	list_bind_filter(r, st, first + 2, "type");
	return 0;
}

static int txn_list_render(struct req *r, struct db *db, const char *id, struct json *j, void *ctx)
{
	(void)ctx;
	struct itxn t;
	int rc = txn_load(db, &r->arena, r->merchant_id, id, &t);
	if (rc == DB_OK)
		txn_render(r->livemode, &t, j);
	return rc;
}

static int h_txn_list(struct req *r)
{
	static const struct list_spec spec = {
	    .url = "/v1/issuing/transactions",
	    .object_name = "issuing.transaction",
	    .id_prefix = "ipi_",
	    .sql_cursor = SQL_TXN_CURSOR,
	    .sql_desc = SQL_TXN_DESC,
	    .sql_asc = SQL_TXN_ASC,
	    .bind_filters = txn_list_bind,
	    .render = txn_list_render,
	};
	return list_respond(r, &spec);
}

/* ---- disputes ---- */

/*
 * A dispute (idp_) of a capture transaction, for at most what is left of it after its refunds,
 * one at a time (another may follow only a lost or expired one). It is unsubmitted, its evidence
 * and amount editable, until submitted (evidence[reason] required). In test mode Stripe settles a
 * submitted dispute by its explanation (evidence[<reason>][explanation]): "winning_evidence" wins
 * it at once, the disputed amount coming back to the Issuing balance (ledger_issuing_credit, an
 * issuing_dispute balance transaction), "losing_evidence" loses it; anything else leaves it
 * submitted. Events issuing_dispute.created / .updated / .submitted / .closed, and
 * .funds_reinstated with the money back.
 */

struct idisp {
	char id[ID_MAX];
	int64_t created, amount;
	const char *transaction, *currency, *evidence, *status, *metadata;
};

static const char SQL_DISP_GET[] =
    "SELECT id, created, transaction_id, amount, currency, evidence, status, metadata"
    " FROM issuing_disputes WHERE merchant_id = $1 AND id = $2";
static const char SQL_DISP_INSERT[] =
    "INSERT INTO issuing_disputes (merchant_id, id, created, transaction_id, amount, currency,"
    " evidence, status, metadata) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
static const char SQL_DISP_UPDATE[] =
    "UPDATE issuing_disputes SET amount = $4, evidence = $5, status = $6, metadata = $7"
    " WHERE merchant_id = $1 AND id = $2 AND status = $3";
/* the transaction's disputes that still stand (not lost or expired) */
static const char SQL_DISP_OPEN[] =
    "SELECT id FROM issuing_disputes WHERE merchant_id = $1 AND transaction_id = $2"
    " AND status NOT IN ('lost', 'expired') LIMIT 1";

static int disp_load(struct db *db, struct arena *a, const char *merchant_id, const char *id,
		     struct idisp *d)
{
	struct db_stmt *st;
	int rc = db_row_by_id(db, SQL_DISP_GET, merchant_id, id, &st);
	if (rc != DB_OK)
		return rc;
	memset(d, 0, sizeof(*d));
	str_copy(d->id, sizeof(d->id), db_col_text(st, 0, NULL));
	d->created = db_col_int64(st, 1);
	d->transaction = col_text_dup(a, st, 2);
	d->amount = db_col_int64(st, 3);
	d->currency = col_text_dup(a, st, 4);
	d->evidence = col_text_dup(a, st, 5);
	d->status = col_text_dup(a, st, 6);
	d->metadata = col_text_dup(a, st, 7);
	db_reset(st);
	return d->transaction && d->currency && d->evidence && d->status && d->metadata ? DB_OK
											: DB_ERR;
}

static int disp_store(struct db *db, const char *merchant_id, const char *from,
		      const struct idisp *d)
{
	struct db_stmt *st = db_prepare(db, SQL_DISP_UPDATE);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, d->id, -1);
	db_bind_text(st, 3, from, -1);
	db_bind_int64(st, 4, d->amount);
	db_bind_text(st, 5, d->evidence, -1);
	db_bind_text(st, 6, d->status, -1);
	db_bind_text(st, 7, d->metadata, -1);
	int64_t n = 0;
	int rc = db_step_changes(st, &n);
	if (rc != DB_OK)
		return rc;
	return n == 1 ? DB_OK : DB_CONFLICT;
}

/* balance_transactions is Stripe's includable field: the list only with expand[] (bts true) */
static int disp_render(struct db *db, const char *merchant_id, bool livemode, const struct idisp *d,
		       bool bts, struct arena *a, struct json *j)
{
	json_obj_open(j);
	json_kv_str(j, "id", d->id);
	json_kv_str(j, "object", "issuing.dispute");
	json_kv_int(j, "amount", d->amount);
	json_key(j, "balance_transactions");
	if (bts) {
		const char **ids = arena_alloc(a, IDS_MAX * sizeof(*ids));
		int n = 0;
		if (!ids)
			return DB_ERR;
		int rc = ids_of(db, a, SQL_AUTH_BTS, merchant_id, d->id, ids, &n);
		if (rc != DB_OK)
			return rc;
		json_arr_open(j);
		for (int i = 0; i < n; i++)
			if ((rc = ledger_balance_txn_render(db, merchant_id, ids[i], j)) != DB_OK)
				return rc == DB_NOTFOUND ? DB_ERR : rc;
		json_arr_close(j);
	} else {
		json_nil(j);
	}
	json_kv_int(j, "created", d->created);
	json_kv_str(j, "currency", d->currency);
	json_kv_raw(j, "evidence", d->evidence, strlen(d->evidence));
	json_kv_bool(j, "livemode", livemode);
	json_kv_raw(j, "metadata", d->metadata, strlen(d->metadata));
	json_kv_str(j, "status", d->status);
	json_kv_str(j, "transaction", d->transaction);
	json_kv_null(j, "treasury");
	json_obj_close(j);
	return DB_OK;
}

static int disp_emit(struct req *r, struct db *db, const struct idisp *d, const char *type,
		     const char *prev)
{
	struct buf b;
	struct json j;
	buf_init(&b, 1u << 20);
	json_init(&j, &b);
	if (disp_render(db, r->merchant_id, r->livemode, d, false, &r->arena, &j) != DB_OK) {
		buf_release(&b);
		return req_fail(r, ERR_API, NULL, NULL);
	}
	const char *js;
	size_t len;
	char ev[ID_MAX];
	return api_event_append(r, db, type, d->id, &b, prev, &js, &len, ev);
}

static int disp_respond(struct req *r, struct db *db, const struct idisp *d)
{
	return disp_render(db, r->merchant_id, r->livemode, d,
			   req_expand_has(r, "balance_transactions"), &r->arena,
			   req_json(r)) == DB_OK
		   ? 0
		   : req_fail(r, ERR_API, NULL, NULL);
}

static const char *const REASONS[] = {"canceled",
				      "duplicate",
				      "fraudulent",
				      "merchandise_not_as_described",
				      "not_received",
				      "other",
				      "service_not_as_described",
				      NULL};
static const char *const PRODUCT_TYPES[] = {"merchandise", "service", NULL};
static const char *const RETURN_STATUSES[] = {"merchant_rejected", "successful", NULL};
static const struct param_spec ev_canceled[] = {
    {"additional_documentation", PT_STRING, PF_EMPTYABLE, 5000, NULL, NULL},
    {"canceled_at", PT_INT, PF_EMPTYABLE, 0, NULL, NULL},
    {"cancellation_policy_provided", PT_BOOL, PF_EMPTYABLE, 0, NULL, NULL},
    {"cancellation_reason", PT_STRING, PF_EMPTYABLE, 1500, NULL, NULL},
    {"expected_at", PT_INT, PF_EMPTYABLE, 0, NULL, NULL},
    {"explanation", PT_STRING, PF_EMPTYABLE, 2500, NULL, NULL},
    {"product_description", PT_STRING, PF_EMPTYABLE, 1500, NULL, NULL},
    {"product_type", PT_ENUM, PF_EMPTYABLE, 0, PRODUCT_TYPES, NULL},
    {"return_status", PT_ENUM, PF_EMPTYABLE, 0, RETURN_STATUSES, NULL},
    {"returned_at", PT_INT, PF_EMPTYABLE, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec ev_duplicate[] = {
    {"additional_documentation", PT_STRING, PF_EMPTYABLE, 5000, NULL, NULL},
    {"card_statement", PT_STRING, PF_EMPTYABLE, 5000, NULL, NULL},
    {"cash_receipt", PT_STRING, PF_EMPTYABLE, 5000, NULL, NULL},
    {"check_image", PT_STRING, PF_EMPTYABLE, 5000, NULL, NULL},
    {"explanation", PT_STRING, PF_EMPTYABLE, 2500, NULL, NULL},
    {"original_transaction", PT_STRING, 0, 5000, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec ev_fraudulent[] = {
    {"additional_documentation", PT_STRING, PF_EMPTYABLE, 5000, NULL, NULL},
    {"explanation", PT_STRING, PF_EMPTYABLE, 2500, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec ev_not_as_described[] = {
    {"additional_documentation", PT_STRING, PF_EMPTYABLE, 5000, NULL, NULL},
    {"explanation", PT_STRING, PF_EMPTYABLE, 2500, NULL, NULL},
    {"received_at", PT_INT, PF_EMPTYABLE, 0, NULL, NULL},
    {"return_description", PT_STRING, PF_EMPTYABLE, 1500, NULL, NULL},
    {"return_status", PT_ENUM, PF_EMPTYABLE, 0, RETURN_STATUSES, NULL},
    {"returned_at", PT_INT, PF_EMPTYABLE, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec ev_not_received[] = {
    {"additional_documentation", PT_STRING, PF_EMPTYABLE, 5000, NULL, NULL},
    {"expected_at", PT_INT, PF_EMPTYABLE, 0, NULL, NULL},
    {"explanation", PT_STRING, PF_EMPTYABLE, 2500, NULL, NULL},
    {"product_description", PT_STRING, PF_EMPTYABLE, 1500, NULL, NULL},
    {"product_type", PT_ENUM, PF_EMPTYABLE, 0, PRODUCT_TYPES, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec ev_other[] = {
    {"additional_documentation", PT_STRING, PF_EMPTYABLE, 5000, NULL, NULL},
    {"explanation", PT_STRING, PF_EMPTYABLE, 2500, NULL, NULL},
    {"product_description", PT_STRING, PF_EMPTYABLE, 1500, NULL, NULL},
    {"product_type", PT_ENUM, PF_EMPTYABLE, 0, PRODUCT_TYPES, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec ev_service[] = {
    {"additional_documentation", PT_STRING, PF_EMPTYABLE, 5000, NULL, NULL},
    {"canceled_at", PT_INT, PF_EMPTYABLE, 0, NULL, NULL},
    {"cancellation_reason", PT_STRING, PF_EMPTYABLE, 1500, NULL, NULL},
    {"explanation", PT_STRING, PF_EMPTYABLE, 2500, NULL, NULL},
    {"received_at", PT_INT, PF_EMPTYABLE, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec evidence_children[] = {
    {"canceled", PT_OBJECT, PF_EMPTYABLE, 0, NULL, ev_canceled},
    {"duplicate", PT_OBJECT, PF_EMPTYABLE, 0, NULL, ev_duplicate},
    {"fraudulent", PT_OBJECT, PF_EMPTYABLE, 0, NULL, ev_fraudulent},
    {"merchandise_not_as_described", PT_OBJECT, PF_EMPTYABLE, 0, NULL, ev_not_as_described},
    {"not_received", PT_OBJECT, PF_EMPTYABLE, 0, NULL, ev_not_received},
    {"other", PT_OBJECT, PF_EMPTYABLE, 0, NULL, ev_other},
    {"reason", PT_ENUM, 0, 0, REASONS, NULL},
    {"service_not_as_described", PT_OBJECT, PF_EMPTYABLE, 0, NULL, ev_service},
    {NULL, 0, 0, 0, NULL, NULL},
};

/* The evidence hash as the object shows it: reason (null until given) and the hash of each
 * reason that was given (Stripe's evidence carries only those). */
static int evidence_json(struct req *r, const char **ret)
{
	const struct form_node *n = param_node(r, "evidence");
	struct buf b;
	struct json j;
	buf_init(&b, 256 * 1024);
	json_init(&j, &b);
	json_obj_open(&j);
	for (const struct param_spec *s = evidence_children; s->name; s++) {
		const struct form_node *c = n ? form_get(n, s->name) : NULL;
		if (s->type == PT_ENUM) {
			json_kv_str_or_null(&j, s->name,
					    c && c->kind == FORM_SCALAR && c->value_len ? c->value
											: NULL);
			continue;
		}
		if (!c || c->kind == FORM_SCALAR)
			continue;
		char shown[96];
		snprintf(shown, sizeof(shown), "evidence[%s]", s->name);
		json_key(&j, s->name);
		if (hash_json(r, c, s->children, shown, &j) != 0) {
			buf_release(&b);
			return -1;
		}
	}
	json_obj_close(&j);
	*ret = buf_to_arena(r, &b);
	return *ret ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

/* The reason the evidence names, and whether its hash's explanation is Stripe's test outcome
 * ("winning_evidence" / "losing_evidence"): 1 won, -1 lost, 0 neither. */
static int test_outcome(const char *evidence, const char **ret_reason)
{
	*ret_reason = NULL;
	for (const char *const *rs = REASONS; *rs; rs++) {
		char pat[64];
		snprintf(pat, sizeof(pat), "\"reason\":\"%s\"", *rs);
		if (strstr(evidence, pat))
			*ret_reason = *rs;
	}
	if (!*ret_reason)
		return 0;
	char key[64];
	snprintf(key, sizeof(key), "\"%s\":{", *ret_reason);
	const char *h = strstr(evidence, key);
	if (!h)
		return 0;
	/* every reason's hash has an explanation key (evidence_json writes each of its keys), so
	 * the first one after the hash's start is its own */
	const char *e = strstr(h, "\"explanation\":");
	if (!e)
		return 0;
	e += strlen("\"explanation\":");
	if (strncmp(e, "\"winning_evidence\"", 18) == 0)
		return 1;
	if (strncmp(e, "\"losing_evidence\"", 17) == 0)
		return -1;
	return 0;
}

struct disp_ctx {
	struct req *r;
	const char *id;
	struct idisp d;
	int64_t amount; /* -1: not given */
};

static int disp_load_fn(struct db *db, void *arg)
{
	struct disp_ctx *c = arg;
	int rc = disp_load(db, &c->r->arena, c->r->merchant_id, c->id, &c->d);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(c->r, "issuing.dispute", c->id, "dispute");
	return rc == DB_OK ? 0 : req_fail(c->r, ERR_API, NULL, NULL);
}

/* The amount that may be disputed of transaction id: what is left of a capture. */
static int disputable(struct req *r, struct db *db, const char *txn_id, struct itxn *t,
		      int64_t *ret)
{
	int rc = txn_load(db, &r->arena, r->merchant_id, txn_id, t);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(r, "issuing.transaction", txn_id, "transaction");
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (strcmp(t->type, "capture") != 0)
		return req_fail(r, ERR_PARAM_BAD, "transaction",
				"The transaction %s is a refund: only a capture can be disputed.",
				t->id);
	*ret = -t->amount - t->refunded;
	return 0;
}

static int disp_amount_check(struct req *r, int64_t amount, int64_t max)
{
	if (amount > max)
		return req_fail(r, ERR_PARAM_BAD, "amount",
				"The amount (%lld) is more than the transaction leaves to dispute "
				"(%lld).",
				(long long)amount, (long long)max);
	return 0;
}

static int disp_create_fn(struct db *db, void *arg)
{
	struct disp_ctx *c = arg;
	struct req *r = c->r;
	struct idisp *d = &c->d;
	struct itxn t;
	int64_t max = 0;
	if (disputable(r, db, d->transaction, &t, &max) != 0)
		return -1;
	struct db_stmt *st;
	int rc = db_row_by_id(db, SQL_DISP_OPEN, r->merchant_id, t.id, &st);
	if (rc == DB_OK) {
		db_reset(st);
		return req_fail(r, ERR_PARAM_BAD, "transaction",
				"The transaction %s is already disputed.", t.id);
	}
	if (rc != DB_NOTFOUND)
		return req_fail(r, ERR_API, NULL, NULL);
	if (max < 1)
		return req_fail(r, ERR_PARAM_BAD, "transaction",
				"The transaction %s is fully refunded: nothing is left to dispute.",
				t.id);
	d->amount = c->amount > 0 ? c->amount : max;
	if (disp_amount_check(r, d->amount, max) != 0)
		return -1;
	d->currency = t.currency;
	st = db_prepare(db, SQL_DISP_INSERT);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, d->id, -1);
	db_bind_int64(st, 3, d->created);
	db_bind_text(st, 4, d->transaction, -1);
	db_bind_int64(st, 5, d->amount);
	db_bind_text(st, 6, d->currency, -1);
	db_bind_text(st, 7, d->evidence, -1);
	db_bind_text(st, 8, d->status, -1);
	db_bind_text(st, 9, d->metadata, -1);
	if (db_step_done(st) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (disp_emit(r, db, d, "issuing_dispute.created", NULL) != 0)
		return -1;
	return disp_respond(r, db, d);
}

static int h_disp_create(struct req *r)
{
	struct disp_ctx c = {.r = r};
	struct idisp *d = &c.d;
	id_new_at(d->id, "idp_", r->now);
	d->created = r->now;
	d->status = "unsubmitted";
	d->transaction = param_str(r, "transaction");
	if (!d->transaction || !*d->transaction)
		return req_fail(r, ERR_PARAM_MISSING, "transaction", "transaction");
	d->metadata = "{}";
	if (amount_param(r, "amount", false, &c.amount) != 0 ||
	    evidence_json(r, &d->evidence) != 0 ||
	    metadata_apply(r, NULL, "metadata", &d->metadata) != 0)
		return -1;
	return req_write(r, disp_create_fn, &c);
}

static int disp_retrieve_fn(struct db *db, void *arg)
{
	struct disp_ctx *c = arg;
	return disp_load_fn(db, arg) != 0 ? -1 : disp_respond(c->r, db, &c->d);
}

static int h_disp_retrieve(struct req *r)
{
	struct disp_ctx c = {.r = r, .id = r->args[0]};
	return req_read(r, disp_retrieve_fn, &c) == 0 ? 0 : -1;
}

/* previous_attributes of a dispute's change */
static const char *disp_prev(struct req *r, const struct idisp *old, const struct idisp *d)
{
	struct buf b;
	struct json j;
	buf_init(&b, 256 * 1024);
	json_init(&j, &b);
	json_obj_open(&j);
	bool any = false;
	if (old->amount != d->amount) {
		json_kv_int(&j, "amount", old->amount);
		any = true;
	}
	if (strcmp(old->evidence, d->evidence) != 0) {
		json_kv_raw(&j, "evidence", old->evidence, strlen(old->evidence));
		any = true;
	}
	if (strcmp(old->metadata, d->metadata) != 0) {
		json_kv_raw(&j, "metadata", old->metadata, strlen(old->metadata));
		any = true;
	}
	if (strcmp(old->status, d->status) != 0) {
		json_kv_str(&j, "status", old->status);
		any = true;
	}
	json_obj_close(&j);
	if (!any) {
		buf_release(&b);
		return NULL;
	}
	return buf_to_arena(r, &b);
}

static int disp_update_fn(struct db *db, void *arg)
{
	struct disp_ctx *c = arg;
	struct req *r = c->r;
	if (disp_load_fn(db, arg) != 0)
		return -1;
	struct idisp old = c->d, *d = &c->d;
	bool edits = c->amount > 0 || param_present(r, "evidence");
	if (edits && strcmp(d->status, "unsubmitted") != 0)
		return req_fail(r, ERR_INVALID_STATE, NULL,
				"The dispute %s is %s: only an unsubmitted dispute's amount and "
				"evidence can change.",
				d->id, d->status);
	if (c->amount > 0) {
		struct itxn t;
		int64_t max = 0;
		if (disputable(r, db, d->transaction, &t, &max) != 0 ||
		    disp_amount_check(r, c->amount, max) != 0)
			return -1;
		d->amount = c->amount;
	}
	if (param_present(r, "evidence") && evidence_json(r, &d->evidence) != 0)
		return -1;
	if (metadata_apply(r, d->metadata, "metadata", &d->metadata) != 0)
		return -1;
	const char *prev = disp_prev(r, &old, d);
	if (prev) {
		if (disp_store(db, r->merchant_id, old.status, d) != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		if (disp_emit(r, db, d, "issuing_dispute.updated", prev) != 0)
			return -1;
	}
	return disp_respond(r, db, d);
}

static int h_disp_update(struct req *r)
{
	struct disp_ctx c = {.r = r, .id = r->args[0]};
	if (amount_param(r, "amount", false, &c.amount) != 0)
		return -1;
	return req_write(r, disp_update_fn, &c);
}

static int disp_submit_fn(struct db *db, void *arg)
{
	struct disp_ctx *c = arg;
	struct req *r = c->r;
	if (disp_load_fn(db, arg) != 0)
		return -1;
	struct idisp old = c->d, *d = &c->d;
	if (strcmp(d->status, "unsubmitted") != 0)
		return req_fail(
		    r, ERR_INVALID_STATE, NULL,
		    "The dispute %s is %s: only an unsubmitted dispute can be submitted.", d->id,
		    d->status);
	const char *reason = NULL;
	const int outcome = test_outcome(d->evidence, &reason);
	if (!reason)
		return req_fail(r, ERR_PARAM_MISSING, "evidence[reason]",
				"evidence[reason] (the dispute's evidence must name its reason "
				"before it is submitted)");
	if (metadata_apply(r, d->metadata, "metadata", &d->metadata) != 0)
		return -1;
	d->status = "submitted";
	if (disp_store(db, r->merchant_id, old.status, d) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (disp_emit(r, db, d, "issuing_dispute.submitted", disp_prev(r, &old, d)) != 0)
		return -1;
	if (outcome == 0)
		return disp_respond(r, db, d);
	/* Stripe's test mode decides at once by the explanation */
	struct idisp submitted = *d;
	d->status = outcome > 0 ? "won" : "lost";
	int rc;
	if (outcome > 0 &&
	    (rc = ledger_issuing_credit(db, r->merchant_id, d->id, "issuing_dispute", d->amount,
					d->currency, r->now, NULL)) != DB_OK)
		return fail_ledger(r, rc);
	if (disp_store(db, r->merchant_id, submitted.status, d) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	const char *prev = "{\"status\":\"submitted\"}";
	if (outcome > 0 && disp_emit(r, db, d, "issuing_dispute.funds_reinstated", NULL) != 0)
		return -1;
	if (disp_emit(r, db, d, "issuing_dispute.closed", prev) != 0)
		return -1;
	return disp_respond(r, db, d);
}

static int h_disp_submit(struct req *r)
{
	struct disp_ctx c = {.r = r, .id = r->args[0]};
	return req_write(r, disp_submit_fn, &c);
}

static const char SQL_DISP_CURSOR[] =
    "SELECT created FROM issuing_disputes WHERE merchant_id = $1 AND id = $2";
#define DISP_LIST_WHERE                                                                            \
	"SELECT id FROM issuing_disputes WHERE merchant_id = $1 AND id > $2 AND id < $3"           \
	" AND ($5 IS NULL OR status = $5) AND ($6 IS NULL OR transaction_id = $6)"
static const char SQL_DISP_DESC[] = DISP_LIST_WHERE " ORDER BY id DESC LIMIT $4";
static const char SQL_DISP_ASC[] = DISP_LIST_WHERE " ORDER BY id ASC LIMIT $4";

static int disp_list_bind(struct req *r, struct db_stmt *st, int first, void *ctx)
{
	(void)ctx;
	list_bind_filter(r, st, first, "status");
	list_bind_filter(r, st, first + 1, "transaction");
	return 0;
}

static int disp_list_render(struct req *r, struct db *db, const char *id, struct json *j, void *ctx)
{
	(void)ctx;
	struct idisp d;
	int rc = disp_load(db, &r->arena, r->merchant_id, id, &d);
	if (rc != DB_OK)
		return rc;
	return disp_render(db, r->merchant_id, r->livemode, &d,
			   req_expand_has(r, "data.balance_transactions"), &r->arena, j);
}

static int h_disp_list(struct req *r)
{
	static const struct list_spec spec = {
	    .url = "/v1/issuing/disputes",
	    .object_name = "issuing.dispute",
	    .id_prefix = "idp_",
	    .sql_cursor = SQL_DISP_CURSOR,
	    .sql_desc = SQL_DISP_DESC,
	    .sql_asc = SQL_DISP_ASC,
	    .bind_filters = disp_list_bind,
	    .render = disp_list_render,
	};
	return list_respond(r, &spec);
}

/* ---- a balance transaction's expanded source (resources.h) ---- */

int issuing_spend_render_id(struct req *r, struct db *db, const char *id, struct json *j)
{
	int rc = DB_NOTFOUND;
	if (strncmp(id, "iauth_", 6) == 0) {
		struct iauth x;
		if ((rc = auth_load(db, &r->arena, r->merchant_id, id, &x)) == DB_OK)
			rc = auth_render(db, &r->arena, r->merchant_id, r->livemode, &x, j);
	} else if (strncmp(id, "ipi_", 4) == 0) {
		struct itxn t;
		if ((rc = txn_load(db, &r->arena, r->merchant_id, id, &t)) == DB_OK)
			txn_render(r->livemode, &t, j);
	} else if (strncmp(id, "idp_", 4) == 0) {
		struct idisp d;
		if ((rc = disp_load(db, &r->arena, r->merchant_id, id, &d)) == DB_OK)
			rc = disp_render(db, r->merchant_id, r->livemode, &d, false, &r->arena, j);
	}
	return rc;
}

/* ---- parameters and routes ---- */

static const char *const CHECKS[] = {"match", "mismatch", "not_provided", NULL};
static const struct param_spec merchant_data_children[] = {
    {"category", PT_STRING, 0, 5000, NULL, NULL},
    {"city", PT_STRING, 0, 5000, NULL, NULL},
    {"country", PT_STRING, 0, 5000, NULL, NULL},
    {"name", PT_STRING, 0, 5000, NULL, NULL},
    {"network_id", PT_STRING, 0, 5000, NULL, NULL},
    {"postal_code", PT_STRING, 0, 5000, NULL, NULL},
    {"state", PT_STRING, 0, 5000, NULL, NULL},
    {"terminal_id", PT_STRING, 0, 5000, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec amount_details_children[] = {
    {"atm_fee", PT_INT, 0, 0, NULL, NULL},
    {"cashback_amount", PT_INT, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec network_data_children[] = {
    {"acquiring_institution_id", PT_STRING, 0, 5000, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec verification_children[] = {
    {"address_line1_check", PT_ENUM, 0, 0, CHECKS, NULL},
    {"address_postal_code_check", PT_ENUM, 0, 0, CHECKS, NULL},
    {"cvc_check", PT_ENUM, 0, 0, CHECKS, NULL},
    {"expiry_check", PT_ENUM, 0, 0, CHECKS, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec auth_create_params[] = {
    {"amount", PT_INT, PF_REQUIRED, 0, NULL, NULL},
    {"amount_details", PT_OBJECT, 0, 0, NULL, amount_details_children},
    {"authorization_method", PT_ENUM, 0, 0,
     (const char *const[]){"chip", "contactless", "keyed_in", "online", "swipe", NULL}, NULL},
    {"card", PT_STRING, PF_REQUIRED, 5000, NULL, NULL},
    {"currency", PT_CURRENCY, 0, 0, NULL, NULL},
    {"is_amount_controllable", PT_BOOL, 0, 0, NULL, NULL},
    {"merchant_data", PT_OBJECT, 0, 0, NULL, merchant_data_children},
    {"network_data", PT_OBJECT, 0, 0, NULL, network_data_children},
    {"verification_data", PT_OBJECT, 0, 0, NULL, verification_children},
    {"wallet", PT_ENUM, 0, 0, (const char *const[]){"apple_pay", "google_pay", "samsung_pay", NULL},
     NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec metadata_params[] = {
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec approve_params[] = {
    {"amount", PT_INT, 0, 0, NULL, NULL},
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec capture_params[] = {
    {"capture_amount", PT_INT, 0, 0, NULL, NULL},
    {"close_authorization", PT_BOOL, 0, 0, NULL, NULL},
    {"purchase_details", PT_OBJECT, 0, 0, NULL, purchase_children},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec increment_params[] = {
    {"increment_amount", PT_INT, PF_REQUIRED, 0, NULL, NULL},
    {"is_amount_controllable", PT_BOOL, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec reverse_params[] = {
    {"reverse_amount", PT_INT, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec auth_list_params[] = {
    {"card", PT_STRING, 0, 5000, NULL, NULL},
    {"cardholder", PT_STRING, 0, 5000, NULL, NULL},
    {"status", PT_ENUM, 0, 0, (const char *const[]){"closed", "pending", "reversed", NULL}, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec txn_create_params[] = {
    {"amount", PT_INT, PF_REQUIRED, 0, NULL, NULL},
    {"card", PT_STRING, PF_REQUIRED, 5000, NULL, NULL},
    {"currency", PT_CURRENCY, 0, 0, NULL, NULL},
    {"merchant_data", PT_OBJECT, 0, 0, NULL, merchant_data_children},
    {"purchase_details", PT_OBJECT, 0, 0, NULL, purchase_children},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec refund_params[] = {
    {"refund_amount", PT_INT, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec txn_list_params[] = {
    {"card", PT_STRING, 0, 5000, NULL, NULL},
    {"cardholder", PT_STRING, 0, 5000, NULL, NULL},
    {"type", PT_ENUM, 0, 0, (const char *const[]){"capture", "refund", NULL}, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec no_params[] = {{NULL, 0, 0, 0, NULL, NULL}};
static const struct param_spec disp_create_params[] = {
    {"amount", PT_INT, 0, 0, NULL, NULL},
    {"evidence", PT_OBJECT, 0, 0, NULL, evidence_children},
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {"transaction", PT_STRING, 0, 5000, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec disp_update_params[] = {
    {"amount", PT_INT, 0, 0, NULL, NULL},
    {"evidence", PT_OBJECT, 0, 0, NULL, evidence_children},
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec disp_list_params[] = {
    {"status", PT_ENUM, 0, 0,
     (const char *const[]){"expired", "lost", "submitted", "unsubmitted", "won", NULL}, NULL},
    {"transaction", PT_STRING, 0, 5000, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};

#define TH "/v1/test_helpers/issuing"
const struct route issuing_spend_routes[] = {
    {"GET", "/v1/issuing/authorizations", h_auth_list, auth_list_params, ROUTE_LIST},
    {"GET", "/v1/issuing/authorizations/{id}", h_auth_retrieve, no_params, 0},
    {"POST", "/v1/issuing/authorizations/{id}", h_auth_update, metadata_params, 0},
    {"POST", "/v1/issuing/authorizations/{id}/approve", h_auth_approve, approve_params, 0},
    {"POST", "/v1/issuing/authorizations/{id}/decline", h_auth_approve, metadata_params, 0},
    {"POST", TH "/authorizations", h_auth_create, auth_create_params, 0},
    {"POST", TH "/authorizations/{id}/capture", h_capture, capture_params, 0},
    {"POST", TH "/authorizations/{id}/expire", h_expire, no_params, 0},
    {"POST", TH "/authorizations/{id}/increment", h_increment, increment_params, 0},
    {"POST", TH "/authorizations/{id}/reverse", h_reverse, reverse_params, 0},
    {"GET", "/v1/issuing/transactions", h_txn_list, txn_list_params, ROUTE_LIST},
    {"GET", "/v1/issuing/transactions/{id}", h_txn_retrieve, no_params, 0},
    {"POST", "/v1/issuing/transactions/{id}", h_txn_update, metadata_params, 0},
    {"POST", TH "/transactions/create_force_capture", h_force_capture, txn_create_params, 0},
    {"POST", TH "/transactions/create_unlinked_refund", h_unlinked_refund, txn_create_params, 0},
    {"POST", TH "/transactions/{id}/refund", h_txn_refund, refund_params, 0},
    {"POST", "/v1/issuing/disputes", h_disp_create, disp_create_params, 0},
    {"GET", "/v1/issuing/disputes", h_disp_list, disp_list_params, ROUTE_LIST},
    {"GET", "/v1/issuing/disputes/{id}", h_disp_retrieve, no_params, 0},
    {"POST", "/v1/issuing/disputes/{id}", h_disp_update, disp_update_params, 0},
    {"POST", "/v1/issuing/disputes/{id}/submit", h_disp_submit, metadata_params, 0},
    {NULL, NULL, NULL, NULL, 0},
};
