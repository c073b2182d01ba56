/*
 * The journal and balance transactions (see ledger.h for the accounts and movements).
 *
 * Money arithmetic is int64 with every step checked; fees are computed in 128 bits. A journal
 * transaction is checked to balance per currency before anything is written, and then written
 * entry by entry inside the caller's transaction, so an unbalanced set never reaches the store.
 */
#include "ledger/ledger.h"

#include "store/store.h"

#include <stdio.h>
#include <string.h>

#define ENTRIES_MAX 8
#define AVAILABLE_DELAY_S (2 * 86400)

struct entry {
	const char *account;
	int64_t amount;
};

static const char SQL_TXN[] =
    "INSERT INTO journal_txns (merchant_id, id, kind, source, created) VALUES ($1, $2, $3, $4, $5)";
static const char SQL_ENTRY[] = "INSERT INTO journal_entries (merchant_id, txn_id, seq, account,"
                                " currency, amount) VALUES ($1, $2, $3, $4, $5, $6)";

/* Posts one journal transaction in one currency. Zero-amount entries are skipped (a 0 fee). */
static int post(struct db *db, const char *merchant_id, const char *kind, const char *source,
                const char *currency, const struct entry *e, size_t n, int64_t now,
                char ret_txn[ID_MAX])
{
	int64_t sum = 0;
	for (size_t i = 0; i < n; i++)
		if (__builtin_add_overflow(sum, e[i].amount, &sum))
			return LEDGER_ERR_OVERFLOW;
	if (sum != 0)
		return LEDGER_ERR_UNBALANCED;
	char id[ID_MAX];
	id_new(id, "jtx_");
	struct db_stmt *st = db_prepare(db, SQL_TXN);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, id, -1);
	db_bind_text(st, 3, kind, -1);
	db_bind_text(st, 4, source, -1);
	db_bind_int64(st, 5, now);
	int rc = db_step_done(st);
	if (rc != DB_OK)
		return rc;
	int seq = 0;
	for (size_t i = 0; i < n; i++) {
		if (e[i].amount == 0)
			continue;
		st = db_prepare(db, SQL_ENTRY);
		if (!st)
			return DB_ERR;
		db_bind_text(st, 1, merchant_id, -1);
		db_bind_text(st, 2, id, -1);
		db_bind_int64(st, 3, seq++);
		db_bind_text(st, 4, e[i].account, -1);
		db_bind_text(st, 5, currency, -1);
		db_bind_int64(st, 6, e[i].amount);
		rc = db_step_done(st);
		if (rc != DB_OK)
			return rc;
	}
	if (ret_txn)
		memcpy(ret_txn, id, ID_MAX);
	return DB_OK;
}

static const char SQL_PRICING[] =
    "SELECT fee_percent_bps, fee_fixed_minor, settlement_currency FROM merchants WHERE id = $1";

int ledger_pricing_get(struct db *db, const char *merchant_id, struct ledger_pricing *ret,
                       char currency_buf[8])
{
	struct db_stmt *st = db_prepare(db, SQL_PRICING);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		ret->percent_bps = db_col_int64(st, 0);
		ret->fixed_minor = db_col_int64(st, 1);
		snprintf(currency_buf, 8, "%s", db_col_text(st, 2, NULL));
		ret->settlement_currency = currency_buf;
	}
	db_reset(st);
	if (rc == DB_ROW)
		return DB_OK;
	return rc == DB_DONE ? DB_NOTFOUND : rc;
}

/* fee = round half up(amount × bps / 10000) + fixed, never more than the amount itself, so a
 * tiny charge nets zero rather than negative. Exact in 128 bits. */
static int fee_for(int64_t amount, const struct ledger_pricing *p, int64_t *ret)
{
	if (amount < 0 || p->percent_bps < 0 || p->fixed_minor < 0)
		return LEDGER_ERR_OVERFLOW;
	__int128 pct = ((__int128)amount * p->percent_bps + 5000) / 10000;
	__int128 fee = pct + p->fixed_minor;
	if (fee > amount)
		fee = amount;
	*ret = (int64_t)fee;
	return DB_OK;
}

int ledger_authorize(struct db *db, const char *merchant_id, const char *charge_id,
                     int64_t amount, const char *currency, int64_t now)
{
	if (amount <= 0 || amount == INT64_MIN)
		return LEDGER_ERR_OVERFLOW;
	const struct entry e[] = {{"cardholder_holds", amount}, {"authorized", -amount}};
	return post(db, merchant_id, "authorize", charge_id, currency, e, 2, now, NULL);
}

int ledger_release(struct db *db, const char *merchant_id, const char *charge_id,
                   int64_t amount, const char *currency, int64_t now)
{
	if (amount <= 0)
		return LEDGER_ERR_OVERFLOW;
	const struct entry e[] = {{"authorized", amount}, {"cardholder_holds", -amount}};
	return post(db, merchant_id, "release", charge_id, currency, e, 2, now, NULL);
}

static const char SQL_BT[] =
    "INSERT INTO balance_transactions (merchant_id, id, created, type, reporting_category, source,"
    " amount, fee, net, currency, exchange_rate, status, available_on, description, journal_txn)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, NULL, 'pending', $11, $12, $13)";

static int bt_insert(struct db *db, const char *merchant_id, const char *type, const char *source,
                     int64_t amount, int64_t fee, const char *currency, int64_t now,
                     int64_t available_on, const char *description, const char *journal_txn,
                     char ret_id[ID_MAX])
{
	int64_t net;
	if (__builtin_sub_overflow(amount, fee, &net))
		return LEDGER_ERR_OVERFLOW;
	char id[ID_MAX];
	id_new(id, "txn_");
	struct db_stmt *st = db_prepare(db, SQL_BT);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, id, -1);
	db_bind_int64(st, 3, now);
	db_bind_text(st, 4, type, -1);
	db_bind_text(st, 5, type, -1);
	db_bind_text(st, 6, source, -1);
	db_bind_int64(st, 7, amount);
	db_bind_int64(st, 8, fee);
	db_bind_int64(st, 9, net);
	db_bind_text(st, 10, currency, -1);
	db_bind_int64(st, 11, available_on);
	db_bind_text(st, 12, description, -1);
	db_bind_text(st, 13, journal_txn, -1);
	int rc = db_step_done(st);
	if (rc == DB_OK && ret_id)
		memcpy(ret_id, id, ID_MAX);
	return rc;
}

int ledger_capture(struct db *db, const char *merchant_id, const char *charge_id,
                   int64_t amount, const char *currency, const struct ledger_pricing *pricing,
                   int64_t now, char ret_balance_txn_id[ID_MAX])
{
	if (amount <= 0)
		return LEDGER_ERR_OVERFLOW;
	int64_t fee;
	int rc = fee_for(amount, pricing, &fee);
	if (rc != DB_OK)
		return rc;
	const struct entry e[] = {
	    {"authorized", amount},           {"cardholder_holds", -amount},
	    {"acquirer_receivable", amount},  {"merchant_pending", -amount},
	    {"merchant_pending", fee},        {"fees", -fee},
	};
	char jtx[ID_MAX];
	rc = post(db, merchant_id, "capture", charge_id, currency, e, 6, now, jtx);
	if (rc != DB_OK)
		return rc;
	return bt_insert(db, merchant_id, "charge", charge_id, amount, fee, currency, now,
	                 now + AVAILABLE_DELAY_S, NULL, jtx, ret_balance_txn_id);
}

int ledger_refund(struct db *db, const char *merchant_id, const char *refund_id,
                  const char *charge_id, int64_t amount, const char *currency, int64_t now,
                  char ret_balance_txn_id[ID_MAX])
{
	(void)charge_id;
	if (amount <= 0)
		return LEDGER_ERR_OVERFLOW;
	const struct entry e[] = {{"merchant_pending", amount}, {"acquirer_payable", -amount}};
	char jtx[ID_MAX];
	int rc = post(db, merchant_id, "refund", refund_id, currency, e, 2, now, jtx);
	if (rc != DB_OK)
		return rc;
	/* a refund leaves the balance at once: it is due now and the scheduler makes it available */
	return bt_insert(db, merchant_id, "refund", refund_id, -amount, 0, currency, now, now,
	                 "REFUND FOR CHARGE", jtx, ret_balance_txn_id);
}

int ledger_refund_failure(struct db *db, const char *merchant_id, const char *refund_id,
                          int64_t amount, const char *currency, int64_t now,
                          char ret_balance_txn_id[ID_MAX])
{
	if (amount <= 0)
		return LEDGER_ERR_OVERFLOW;
	const struct entry e[] = {{"acquirer_payable", amount}, {"merchant_pending", -amount}};
	char jtx[ID_MAX];
	int rc = post(db, merchant_id, "refund_failure", refund_id, currency, e, 2, now, jtx);
	if (rc != DB_OK)
		return rc;
	return bt_insert(db, merchant_id, "refund_failure", refund_id, amount, 0, currency, now, now,
	                 "REFUND FAILURE", jtx, ret_balance_txn_id);
}

static const char SQL_DUE[] =
    "SELECT merchant_id, id, net, currency FROM balance_transactions WHERE status = 'pending'"
    " AND available_on <= $1 ORDER BY available_on LIMIT $2";
static const char SQL_MAKE_AVAILABLE[] =
    "UPDATE balance_transactions SET status = 'available' WHERE merchant_id = $1 AND id = $2"
    " AND status = 'pending'";

#define DUE_BATCH_MAX 512

int ledger_make_available(struct db *db, int64_t now, int limit)
{
	if (limit > DUE_BATCH_MAX)
		limit = DUE_BATCH_MAX;
	struct due {
		char merchant[ID_MAX], id[ID_MAX], currency[8];
		int64_t net;
	};
	static __thread struct due due[DUE_BATCH_MAX];
	int n = 0;
	struct db_stmt *st = db_prepare(db, SQL_DUE);
	if (!st)
		return DB_ERR;
	db_bind_int64(st, 1, now);
	db_bind_int64(st, 2, limit);
	while (n < limit && db_step(st) == DB_ROW) {
		snprintf(due[n].merchant, ID_MAX, "%s", db_col_text(st, 0, NULL));
		snprintf(due[n].id, ID_MAX, "%s", db_col_text(st, 1, NULL));
		due[n].net = db_col_int64(st, 2);
		snprintf(due[n].currency, 8, "%s", db_col_text(st, 3, NULL));
		n++;
	}
	db_reset(st);
	int moved = 0;
	for (int i = 0; i < n; i++) {
		st = db_prepare(db, SQL_MAKE_AVAILABLE);
		if (!st)
			return DB_ERR;
		db_bind_text(st, 1, due[i].merchant, -1);
		db_bind_text(st, 2, due[i].id, -1);
		int rc = db_step(st);
		int64_t changed = rc == DB_DONE ? db_changes(st) : 0;
		db_reset(st);
		if (rc != DB_DONE)
			return DB_ERR;
		if (changed != 1 || due[i].net == 0)
			continue; /* someone else moved it */
		const struct entry e[] = {{"merchant_pending", due[i].net},
		                          {"merchant_available", -due[i].net}};
		rc = post(db, due[i].merchant, "make_available", due[i].id, due[i].currency, e, 2, now,
		          NULL);
		if (rc != DB_OK)
			return rc;
		moved++;
	}
	return moved;
}

static const char SQL_BALANCE[] =
    "SELECT currency, status, COALESCE(SUM(net), 0) FROM balance_transactions"
    " WHERE merchant_id = $1 GROUP BY currency, status ORDER BY currency";

static void balance_list(struct json *j, struct db_stmt *st, const char *status)
{
	json_arr_open(j);
	while (db_step(st) == DB_ROW) {
		if (strcmp(db_col_text(st, 1, NULL), status) != 0)
			continue;
		int64_t amount = db_col_int64(st, 2);
		json_obj_open(j);
		json_kv_int(j, "amount", amount);
		json_kv_str(j, "currency", db_col_text(st, 0, NULL));
		json_key(j, "source_types");
		json_obj_open(j);
		json_kv_int(j, "card", amount);
		json_obj_close(j);
		json_obj_close(j);
	}
	db_reset(st);
	json_arr_close(j);
}

int ledger_balance_render(struct db *db, const char *merchant_id, int livemode, struct json *j)
{
	json_obj_open(j);
	json_kv_str(j, "object", "balance");
	json_key(j, "available");
	struct db_stmt *st = db_prepare(db, SQL_BALANCE);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	balance_list(j, st, "available");
	json_kv_bool(j, "livemode", livemode != 0);
	json_key(j, "pending");
	db_bind_text(st, 1, merchant_id, -1);
	balance_list(j, st, "pending");
	json_obj_close(j);
	return DB_OK;
}

static const char SQL_BT_GET[] =
    "SELECT id, created, type, reporting_category, source, amount, fee, net, currency,"
    " exchange_rate, status, available_on, description FROM balance_transactions"
    " WHERE merchant_id = $1 AND id = $2";

int ledger_balance_txn_render(struct db *db, const char *merchant_id, const char *id,
                              struct json *j)
{
	struct db_stmt *st = db_prepare(db, SQL_BT_GET);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, id, -1);
	int rc = db_step(st);
	if (rc != DB_ROW) {
		db_reset(st);
		return rc == DB_DONE ? DB_NOTFOUND : rc;
	}
	const char *currency = db_col_text(st, 8, NULL);
	int64_t fee = db_col_int64(st, 6);
	json_obj_open(j);
	json_kv_str(j, "id", db_col_text(st, 0, NULL));
	json_kv_str(j, "object", "balance_transaction");
	json_kv_int(j, "amount", db_col_int64(st, 5));
	json_kv_int(j, "available_on", db_col_int64(st, 11));
	json_kv_int(j, "created", db_col_int64(st, 1));
	json_kv_str(j, "currency", currency);
	json_kv_str_or_null(j, "description", db_col_text(st, 12, NULL));
	const char *rate = db_col_text(st, 9, NULL);
	if (rate)
		json_kv_raw(j, "exchange_rate", rate, strlen(rate));
	else
		json_kv_null(j, "exchange_rate");
	json_kv_int(j, "fee", fee);
	json_key(j, "fee_details");
	json_arr_open(j);
	if (fee != 0) {
		json_obj_open(j);
		json_kv_int(j, "amount", fee);
		json_kv_null(j, "application");
		json_kv_str(j, "currency", currency);
		json_kv_str(j, "description", "Tender processing fees");
		json_kv_str(j, "type", "stripe_fee");
		json_obj_close(j);
	}
	json_arr_close(j);
	json_kv_int(j, "net", db_col_int64(st, 7));
	json_kv_str(j, "reporting_category", db_col_text(st, 3, NULL));
	json_kv_str(j, "source", db_col_text(st, 4, NULL));
	json_kv_str(j, "status", db_col_text(st, 10, NULL));
	json_kv_str(j, "type", db_col_text(st, 2, NULL));
	json_obj_close(j);
	db_reset(st);
	return DB_OK;
}

struct tick_ctx {
	int64_t now;
	int moved;
};

static int tick_fn(struct db *db, void *p)
{
	struct tick_ctx *c = p;
	c->moved = ledger_make_available(db, c->now, DUE_BATCH_MAX);
	return c->moved < 0 ? -1 : 0;
}

int ledger_scheduler_tick(struct store *s, int64_t now)
{
	struct tick_ctx c = {now, 0};
	int rc = store_each_shard_write(s, tick_fn, &c);
	return rc == 0 ? c.moved : rc;
}
