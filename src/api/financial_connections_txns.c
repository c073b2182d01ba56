/*
 * Financial Connections transactions (financial_connections.transaction, fctxn_…): the test
 * institution's generator, the transaction refresh that stores what it shows, and
 * /v1/financial_connections/transactions (list, retrieve).
 *
 * There is no real bank behind the test institution, so an account's history is a pure function
 * of its id (fc_txn_seed): the same account always shows the same transactions, whenever and
 * however often it is refreshed, and no two runs differ. Each day of the history has one or two
 * card or bill payments and, every fourteenth day, a payroll deposit; amounts are negative for
 * money leaving the account and positive for money coming in (as the account's balance reads
 * them). A transaction is pending when it happens and posts two days later, or, for the card
 * authorizations a merchant releases, turns void after one day. A refresh at time T stores every
 * transaction of the last FC_TXN_HISTORY_DAYS before the account was linked up to T that it has
 * not stored yet, and moves the stored pending ones whose time has come to posted or void: their
 * transaction_refresh is then that refresh's id, so transaction_refresh[after] finds what a later
 * refresh added or changed. Each refresh is appended to fc_transaction_refreshes.
 */
#include <stdio.h>
#include <string.h>

#include "api/common.h"
#include "api/financial_connections.h"
#include "api/list.h"
#include "api/resources.h"
#include "core/str.h"
#include "money/money.h"
#include "store/store.h"

/* ---- the generator (pure) ---- */

uint64_t fc_txn_seed(const char *account_id)
{
	uint64_t h = UINT64_C(1469598103934665603); /* FNV-1a */
	for (const unsigned char *p = (const unsigned char *)account_id; p && *p; p++) {
		h ^= *p;
		h *= UINT64_C(1099511628211);
	}
	return h;
}

/* splitmix64's finalizer: a well-mixed value for each input */
static uint64_t mix(uint64_t x)
{
	x += UINT64_C(0x9e3779b97f4a7c15);
	x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
	return x ^ (x >> 31);
}

struct payee {
	const char *description;
	int64_t min, span; /* cents: min .. min + span - 1 */
	bool card;	   /* a card purchase: its authorization may be released (void) */
};

static const struct payee PAYEES[] = {
    {"Rocket Rides", 900, 3900, true},		{"Cafe Sol", 350, 1300, true},
    {"Green Grocer", 2200, 12300, true},	{"Urban Fuel", 2500, 5300, true},
    {"Pharmacy Plus", 800, 5600, true},		{"Bookshop on Main", 1200, 4400, true},
    {"Hotel Meridian", 12000, 26000, true},	{"City Power & Light", 6500, 12000, false},
    {"Metro Water Utility", 2800, 3500, false}, {"Cloud Storage Co", 999, 1, false},
};
#define PAYEES_N (sizeof(PAYEES) / sizeof(PAYEES[0]))

int fc_txn_day(uint64_t seed, int64_t day, struct fc_txn out[FC_TXN_PER_DAY])
{
	int n = 0;
	uint64_t h = mix(seed ^ mix((uint64_t)day));
	int64_t midnight = day * 86400;
	/* payroll every fourteenth day, on the account's own phase, 06:00 UTC; the amount is the
	 * account's own (1,850.00 to 2,849.99) */
	if ((uint64_t)day % 14 == seed % 14) {
		out[n] = (struct fc_txn){.seq = day * FC_TXN_PER_DAY,
					 .transacted_at = midnight + 6 * 3600,
					 .amount = 185000 + (int64_t)((seed >> 8) % 100000),
					 .description = "Payroll ACME Corp",
					 .voids = false};
		n++;
	}
	/* one or two payments, the first in the morning, the second in the afternoon, so that seq
	 * order is time order */
	int payments = 1 + (int)(h % 2);
	for (int k = 1; k <= payments; k++) {
		uint64_t hk = mix(h + (uint64_t)k);
		const struct payee *p = &PAYEES[hk % PAYEES_N];
		int64_t base = k == 1 ? 8 * 3600 : 14 * 3600;
		int64_t cents = 0;
		/* min and span are small constants: the sum cannot overflow, checked all the same
		 */
		if (money_add(p->min, (int64_t)((hk >> 16) % (uint64_t)p->span), &cents) != 0)
			return -1;
		out[n] = (struct fc_txn){.seq = day * FC_TXN_PER_DAY + k,
					 .transacted_at =
					     midnight + base + (int64_t)((hk >> 32) % (5 * 3600)),
					 .amount = -cents,
					 .description = p->description,
					 .voids = p->card && (hk >> 48) % 9 == 0};
		n++;
	}
	return n;
}

const char *fc_txn_status_at(const struct fc_txn *t, int64_t now, int64_t *posted_at,
			     int64_t *void_at)
{
	*posted_at = 0;
	*void_at = 0;
	if (t->voids && now >= t->transacted_at + FC_TXN_VOID_AFTER) {
		*void_at = t->transacted_at + FC_TXN_VOID_AFTER;
		return "void";
	}
	if (!t->voids && now >= t->transacted_at + FC_TXN_POST_AFTER) {
		*posted_at = t->transacted_at + FC_TXN_POST_AFTER;
		return "posted";
	}
	return "pending";
}

/* The generated transaction numbered seq of the account of seed into *t. 0, or -1. */
static int txn_by_seq(uint64_t seed, int64_t seq, struct fc_txn *t)
{
	struct fc_txn day[FC_TXN_PER_DAY];
	int n = fc_txn_day(seed, seq / FC_TXN_PER_DAY, day);
	for (int i = 0; i < n; i++)
		if (day[i].seq == seq) {
			*t = day[i];
			return 0;
		}
	return -1;
}

/* ---- the refresh ---- */

static const char SQL_MAX_SEQ[] =
    "SELECT MAX(seq) FROM fc_transactions WHERE merchant_id = $1 AND account = $2";
static const char SQL_PENDING[] = "SELECT id, seq FROM fc_transactions WHERE merchant_id = $1"
				  " AND account = $2 AND status = 'pending' ORDER BY seq LIMIT 64";
static const char SQL_T_SETTLE[] =
    "UPDATE fc_transactions SET status = $3, posted_at = $4, void_at = $5,"
    " transaction_refresh = $6, updated = $7 WHERE merchant_id = $1 AND id = $2"
    " AND status = 'pending'";
static const char SQL_T_INSERT[] =
    "INSERT INTO fc_transactions (merchant_id, id, created, account, seq, amount, currency,"
    " description, status, transacted_at, posted_at, void_at, transaction_refresh, updated)"
    " VALUES ($1, $2, $3, $4, $5, $6, 'usd', $7, $8, $9, $10, $11, $12, $13)";
static const char SQL_REF_INSERT[] =
    "INSERT INTO fc_transaction_refreshes (merchant_id, id, created, account, status, inserted,"
    " updated) VALUES ($1, $2, $3, $4, 'succeeded', $5, $6)";

static void bind_time_or_null(struct db_stmt *st, int idx, int64_t v)
{
	if (v)
		db_bind_int64(st, idx, v);
	else
		db_bind_null(st, idx);
}

int fc_transactions_refresh(struct req *r, struct db *db, const char *account,
			    int64_t account_created, const char **ret_json)
{
	char ref[ID_MAX];
	id_new_at(ref, "fctxnref_", r->now);
	uint64_t seed = fc_txn_seed(account);
	int64_t inserted = 0, updated = 0;

	/* the stored pending transactions whose time has come */
	struct db_stmt *st = db_prepare(db, SQL_PENDING);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, account, -1);
	const char *ids[64];
	int64_t seqs[64];
	int np = 0, rc;
	while ((rc = db_step(st)) == DB_ROW && np < 64) {
		ids[np] = col_text_dup(&r->arena, st, 0);
		seqs[np++] = db_col_int64(st, 1);
	}
	db_reset(st);
	if (rc < 0)
		return rc;
	for (int i = 0; i < np; i++) {
		struct fc_txn t;
		int64_t posted_at, void_at;
		if (!ids[i] || txn_by_seq(seed, seqs[i], &t) != 0)
			return DB_ERR;
		const char *status = fc_txn_status_at(&t, r->now, &posted_at, &void_at);
		if (strcmp(status, "pending") == 0)
			continue;
		st = db_prepare(db, SQL_T_SETTLE);
		if (!st)
			return DB_ERR;
		db_bind_text(st, 1, r->merchant_id, -1);
		db_bind_text(st, 2, ids[i], -1);
		db_bind_text(st, 3, status, -1);
		bind_time_or_null(st, 4, posted_at);
		bind_time_or_null(st, 5, void_at);
		db_bind_text(st, 6, ref, -1);
		db_bind_int64(st, 7, r->now);
		if ((rc = db_step_done(st)) != DB_OK)
			return rc;
		updated++;
	}

	/* the transactions not stored yet: after the last stored one, back to the history's start
	 */
	st = db_prepare(db, SQL_MAX_SEQ);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, account, -1);
	rc = db_step(st);
	int64_t max_seq = rc == DB_ROW && !db_col_is_null(st, 0) ? db_col_int64(st, 0) : -1;
	db_reset(st);
	if (rc < 0)
		return rc;
	int64_t start = account_created - (int64_t)FC_TXN_HISTORY_DAYS * 86400;
	int64_t day = start / 86400, last_day = r->now / 86400;
	if (max_seq >= 0 && max_seq / FC_TXN_PER_DAY > day)
		day = max_seq / FC_TXN_PER_DAY;
	for (; day <= last_day; day++) {
		struct fc_txn gen[FC_TXN_PER_DAY];
		int n = fc_txn_day(seed, day, gen);
		if (n < 0)
			return DB_ERR;
		for (int i = 0; i < n; i++) {
			const struct fc_txn *t = &gen[i];
			if (t->seq <= max_seq || t->transacted_at < start ||
			    t->transacted_at > r->now)
				continue;
			int64_t posted_at, void_at;
			const char *status = fc_txn_status_at(t, r->now, &posted_at, &void_at);
			char id[ID_MAX];
			id_new_at(id, "fctxn_", r->now);
			st = db_prepare(db, SQL_T_INSERT);
			if (!st)
				return DB_ERR;
			db_bind_text(st, 1, r->merchant_id, -1);
			db_bind_text(st, 2, id, -1);
			db_bind_int64(st, 3, r->now);
			db_bind_text(st, 4, account, -1);
			db_bind_int64(st, 5, t->seq);
			db_bind_int64(st, 6, t->amount);
			db_bind_text(st, 7, t->description, -1);
			db_bind_text(st, 8, status, -1);
			db_bind_int64(st, 9, t->transacted_at);
			bind_time_or_null(st, 10, posted_at);
			bind_time_or_null(st, 11, void_at);
			db_bind_text(st, 12, ref, -1);
			db_bind_int64(st, 13, r->now);
			if ((rc = db_step_done(st)) != DB_OK)
				return rc;
			inserted++;
		}
	}

	st = db_prepare(db, SQL_REF_INSERT);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, ref, -1);
	db_bind_int64(st, 3, r->now);
	db_bind_text(st, 4, account, -1);
	db_bind_int64(st, 5, inserted);
	db_bind_int64(st, 6, updated);
	if ((rc = db_step_done(st)) != DB_OK)
		return rc;
	/* Tender does not limit refreshes: the next one may start at once */
	*ret_json = arena_printf(&r->arena,
				 "{\"id\":\"%s\",\"last_attempted_at\":%lld,"
				 "\"next_refresh_available_at\":%lld,\"status\":\"succeeded\"}",
				 ref, (long long)r->now, (long long)r->now);
	return *ret_json ? DB_OK : DB_ERR;
}

/* ---- the API ---- */

static const char SQL_T_GET[] =
    "SELECT id, account, amount, currency, description, status, transacted_at, posted_at,"
    " void_at, transaction_refresh, updated FROM fc_transactions"
    " WHERE merchant_id = $1 AND id = $2";
static const char SQL_ACCT_STATE[] =
    "SELECT status, permissions FROM fc_accounts WHERE merchant_id = $1 AND id = $2";
static const char SQL_REF_ACCOUNT[] =
    "SELECT account FROM fc_transaction_refreshes WHERE merchant_id = $1 AND id = $2";

static void time_or_null(struct json *j, const char *key, struct db_stmt *st, int col)
{
	json_key(j, key);
	if (db_col_is_null(st, col))
		json_nil(j);
	else
		json_int(j, db_col_int64(st, col));
}

static int txn_render(struct req *r, struct db *db, const char *id, struct json *j)
{
	struct db_stmt *st;
	int rc = db_row_by_id(db, SQL_T_GET, r->merchant_id, id, &st);
	if (rc != DB_OK)
		return rc;
	json_obj_open(j);
	json_kv_str(j, "id", db_col_text(st, 0, NULL));
	json_kv_str(j, "object", "financial_connections.transaction");
	json_kv_str(j, "account", db_col_text(st, 1, NULL));
	json_kv_int(j, "amount", db_col_int64(st, 2));
	json_kv_str(j, "currency", db_col_text(st, 3, NULL));
	json_kv_str(j, "description", db_col_text(st, 4, NULL));
	json_kv_bool(j, "livemode", r->livemode);
	json_kv_str(j, "status", db_col_text(st, 5, NULL));
	json_key(j, "status_transitions");
	json_obj_open(j);
	time_or_null(j, "posted_at", st, 7);
	time_or_null(j, "void_at", st, 8);
	json_obj_close(j);
	json_kv_int(j, "transacted_at", db_col_int64(st, 6));
	json_kv_str(j, "transaction_refresh", db_col_text(st, 9, NULL));
	json_kv_int(j, "updated", db_col_int64(st, 10));
	json_obj_close(j);
	db_reset(st);
	return DB_OK;
}

/* Account id (given at param) may show its transactions: the merchant's, not disconnected
 * (Stripe: disconnecting ends access to the account's data), linked with the transactions
 * permission. 0, or -1 with r->err. */
static int account_readable(struct req *r, struct db *db, const char *id, const char *param)
{
	struct db_stmt *st;
	int rc = db_row_by_id(db, SQL_ACCT_STATE, r->merchant_id, id, &st);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(r, "account", id, param);
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	const char *status = col_text_dup(&r->arena, st, 0);
	const char *perms = col_text_dup(&r->arena, st, 1);
	db_reset(st);
	if (!status || !perms)
		return req_fail(r, ERR_API, NULL, NULL);
	if (strcmp(status, "disconnected") == 0)
		return req_fail(r, ERR_INVALID_STATE, param,
				"The account %s is disconnected: its data, transactions among "
				"them, can no longer be accessed.",
				id);
	if (!strstr(perms, "\"transactions\""))
		return req_fail(r, ERR_PARAM_BAD, param,
				"The account %s was not linked with the transactions permission, "
				"so its transactions cannot be accessed.",
				id);
	return 0;
}

struct txn_ctx {
	struct req *r;
	const char *id, *account, *after;
};

static int txn_retrieve_fn(struct db *db, void *arg)
{
	struct txn_ctx *c = arg;
	struct req *r = c->r;
	struct db_stmt *st;
	int rc = db_row_by_id(db, SQL_T_GET, r->merchant_id, c->id, &st);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(r, "transaction", c->id, "id");
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	const char *account = col_text_dup(&r->arena, st, 1);
	db_reset(st);
	if (!account)
		return req_fail(r, ERR_API, NULL, NULL);
	if (account_readable(r, db, account, "id") != 0)
		return -1;
	return txn_render(r, db, c->id, req_json(r)) == DB_OK ? 0
							      : req_fail(r, ERR_API, NULL, NULL);
}

static int h_txn_retrieve(struct req *r)
{
	struct txn_ctx c = {.r = r, .id = r->args[0]};
	return req_read(r, txn_retrieve_fn, &c) == 0 ? 0 : -1;
}

static int txn_list_check_fn(struct db *db, void *arg)
{
	struct txn_ctx *c = arg;
	struct req *r = c->r;
	if (account_readable(r, db, c->account, "account") != 0)
		return -1;
	if (!c->after)
		return 0;
	/* the refresh after which to list is one of this account's */
	struct db_stmt *st;
	int rc = db_row_by_id(db, SQL_REF_ACCOUNT, r->merchant_id, c->after, &st);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(r, "transaction_refresh", c->after,
					"transaction_refresh[after]");
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	bool mine = str_eq(db_col_text(st, 0, NULL), c->account);
	db_reset(st);
	return mine ? 0
		    : req_fail_missing(r, "transaction_refresh", c->after,
				       "transaction_refresh[after]");
}

static const char SQL_T_CURSOR[] =
    "SELECT created FROM fc_transactions WHERE merchant_id = $1 AND id = $2";
#define T_LIST_WHERE                                                                               \
	"SELECT id FROM fc_transactions WHERE merchant_id = $1 AND id > $2 AND id < $3"            \
	" AND account = $5 AND ($6 IS NULL OR (transacted_at >= $6 AND transacted_at <= $7))"      \
	" AND ($8 IS NULL OR transaction_refresh > $8)"
static const char SQL_T_DESC[] = T_LIST_WHERE " ORDER BY id DESC LIMIT $4";
static const char SQL_T_ASC[] = T_LIST_WHERE " ORDER BY id ASC LIMIT $4";

static int t_list_bind(struct req *r, struct db_stmt *st, int first, void *ctx)
{
	(void)ctx;
	db_bind_text(st, first, param_str(r, "account"), -1);
	list_bind_range(r, st, first + 1, "transacted_at");
	list_bind_filter(r, st, first + 3, "transaction_refresh.after");
	return 0;
}

static int t_list_render(struct req *r, struct db *db, const char *id, struct json *j, void *ctx)
{
	(void)ctx;
	return txn_render(r, db, id, j);
}

static int h_txn_list(struct req *r)
{
	struct txn_ctx c = {.r = r, .account = param_str(r, "account")};
	if (!c.account || !*c.account)
		return req_fail(r, ERR_PARAM_MISSING, "account", "account");
	if (param_present(r, "transaction_refresh")) {
		c.after = param_str(r, "transaction_refresh.after");
		if (!c.after || !*c.after)
			return req_fail(r, ERR_PARAM_MISSING, "transaction_refresh[after]",
					"transaction_refresh[after]");
	}
	if (req_read(r, txn_list_check_fn, &c) != 0)
		return -1;
	static const struct list_spec spec = {
	    .url = "/v1/financial_connections/transactions",
	    .object_name = "transaction",
	    .id_prefix = "fctxn_",
	    .sql_cursor = SQL_T_CURSOR,
	    .sql_desc = SQL_T_DESC,
	    .sql_asc = SQL_T_ASC,
	    .bind_filters = t_list_bind,
	    .render = t_list_render,
	};
	return list_respond(r, &spec);
}

static const struct param_spec refresh_filter_params[] = {
    {"after", PT_STRING, 0, 5000, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec txn_list_params[] = {
    {"account", PT_STRING, 0, 255, NULL, NULL},
    {"transacted_at", PT_RANGE, 0, 0, NULL, NULL},
    {"transaction_refresh", PT_OBJECT, 0, 0, NULL, refresh_filter_params},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec no_params[] = {{NULL, 0, 0, 0, NULL, NULL}};

const struct route financial_connections_txn_routes[] = {
    {"GET", "/v1/financial_connections/transactions", h_txn_list, txn_list_params, ROUTE_LIST},
    {"GET", "/v1/financial_connections/transactions/{id}", h_txn_retrieve, no_params, 0},
    {NULL, NULL, NULL, NULL, 0},
};
