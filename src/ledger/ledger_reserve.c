/*
 * Rolling reserve movements (ledger_reserve.h). Like every movement they go through ledger_post(),
 * which refuses an unbalanced or absurd set before it writes, and their balance transactions name
 * the journal transaction they belong to.
 */
#include "ledger/ledger_reserve.h"

#include <stdbool.h>
#include <string.h>

#include "core/str.h"
#include "ledger/ledger.h"
#include "ledger/ledger_internal.h"
#include "scheduler/scheduler.h"
#include "store/store.h"

#define DAY_S 86400
#define RELEASE_BATCH 64
#define TICK_BATCHES_MAX 8

int ledger_reserve_amount(int64_t amount, int64_t net, int64_t percent_bps, int64_t *ret)
{
	if (amount < 1 || net < 0 || net > amount || percent_bps < 0 ||
	    percent_bps > LEDGER_RESERVE_BPS_MAX)
		return LEDGER_ERR_INVALID;
	if (amount > LEDGER_AMOUNT_MAX)
		return LEDGER_ERR_OVERFLOW;
	int64_t scaled;
	if (__builtin_mul_overflow(amount, percent_bps, &scaled))
		return LEDGER_ERR_OVERFLOW;
	int64_t r = scaled / 10000; /* floor: both are >= 0 */
	*ret = r > net ? net : r;
	return DB_OK;
}

int ledger_reserve_release_at(int64_t created, int64_t available_on, int64_t days, int64_t *ret)
{
	if (days < 1 || days > LEDGER_RESERVE_DAYS_MAX || created < 0)
		return LEDGER_ERR_INVALID;
	int64_t at;
	if (__builtin_mul_overflow(days, DAY_S, &at) || __builtin_add_overflow(at, created, &at))
		return LEDGER_ERR_OVERFLOW;
	*ret = at > available_on ? at : available_on;
	return DB_OK;
}

int ledger_reserve_parse_percent(const char *s, int64_t *ret_bps)
{
	if (!s || !*s)
		return -1;
	int64_t whole = 0, frac = 0;
	int digits = 0, decimals = 0;
	const char *p = s;
	for (; *p >= '0' && *p <= '9'; p++) {
		whole = whole * 10 + (*p - '0');
		if (++digits > 5)
			return -1;
	}
	if (*p == '.') {
		p++;
		for (; *p >= '0' && *p <= '9'; p++) {
			if (++decimals > 2)
				return -1;
			frac = frac * 10 + (*p - '0');
		}
		if (decimals == 0)
			return -1;
	}
	if (*p || digits == 0)
		return -1;
	if (decimals == 1)
		frac *= 10;
	int64_t bps = whole * 100 + frac; /* at most 99999 × 100 + 99: no overflow */
	if (bps < 1 || bps > LEDGER_RESERVE_BPS_MAX)
		return -1;
	*ret_bps = bps;
	return 0;
}

static const char SQL_GET[] = "SELECT percent_bps, days, seq FROM reserve_settings"
			      " WHERE merchant_id = $1 ORDER BY seq DESC LIMIT 1";

static int setting_get(struct db *db, const char *merchant_id, int64_t *bps, int64_t *days,
		       int64_t *seq)
{
	struct db_stmt *st = db_prepare(db, SQL_GET);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	int rc = db_step(st);
	*bps = *days = *seq = 0;
	if (rc == DB_ROW) {
		*bps = db_col_int64(st, 0);
		*days = db_col_int64(st, 1);
		*seq = db_col_int64(st, 2);
	}
	db_reset(st);
	return rc == DB_ROW || rc == DB_DONE ? DB_OK : rc < 0 ? rc : DB_ERR;
}

int ledger_reserve_get(struct db *db, const char *merchant_id, int64_t *ret_bps, int64_t *ret_days)
{
	int64_t seq;
	return setting_get(db, merchant_id, ret_bps, ret_days, &seq);
}

static const char SQL_SET[] =
    "INSERT INTO reserve_settings (merchant_id, seq, created, percent_bps, days)"
    " VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING";

int ledger_reserve_set(struct db *db, const char *merchant_id, int64_t percent_bps, int64_t days,
		       int64_t now)
{
	bool off = percent_bps == 0 && days == 0;
	if (!off && (percent_bps < 1 || percent_bps > LEDGER_RESERVE_BPS_MAX || days < 1 ||
		     days > LEDGER_RESERVE_DAYS_MAX))
		return LEDGER_ERR_INVALID;
	int64_t bps, d, seq;
	int rc = setting_get(db, merchant_id, &bps, &d, &seq);
	if (rc != DB_OK)
		return rc;
	struct db_stmt *st = db_prepare(db, SQL_SET);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_int64(st, 2, seq + 1);
	db_bind_int64(st, 3, now);
	db_bind_int64(st, 4, percent_bps);
	db_bind_int64(st, 5, days);
	rc = db_step(st);
	int64_t n = rc == DB_DONE ? db_changes(st) : 0;
	db_reset(st);
	if (rc != DB_DONE)
		return rc < 0 ? rc : DB_ERR;
	return n == 1 ? DB_OK : DB_CONFLICT;
}

static const char SQL_HOLD[] =
    "INSERT INTO reserve_holds (merchant_id, id, created, charge, charge_balance_transaction,"
    " currency, amount, percent_bps, release_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";

int ledger_reserve_hold(struct db *db, const char *merchant_id, const char *charge_id,
			const char *charge_bt, const char *currency, int64_t amount, int64_t net,
			int64_t available_on, int64_t now)
{
	int64_t bps, days;
	int rc = ledger_reserve_get(db, merchant_id, &bps, &days);
	if (rc != DB_OK || bps == 0)
		return rc;
	int64_t r, release_at;
	if ((rc = ledger_reserve_amount(amount, net, bps, &r)) != DB_OK)
		return rc;
	if (r == 0)
		return DB_OK;
	if ((rc = ledger_reserve_release_at(now, available_on, days, &release_at)) != DB_OK)
		return rc;
	const struct ledger_entry e[] = {
	    {LEDGER_ACCT_MERCHANT_PENDING, currency, r},
	    {LEDGER_ACCT_MERCHANT_RESERVE, currency, -r},
	};
	char jtx[ID_MAX], bt[ID_MAX];
	rc = ledger_post(db, merchant_id, "reserve_hold", charge_id, e, 2, now, jtx);
	if (rc != DB_OK)
		return rc;
	const struct bt b = {
	    .type = "reserved_funds",
	    .source = charge_id,
	    .currency = currency,
	    .status = "pending",
	    .description = "Rolling reserve",
	    .journal_txn = jtx,
	    .amount = -r,
	    .fee = 0,
	    .created = now,
	    .available_on = available_on,
	};
	if ((rc = bt_insert(db, merchant_id, &b, bt)) != DB_OK)
		return rc;
	struct db_stmt *st = db_prepare(db, SQL_HOLD);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, bt, -1);
	db_bind_int64(st, 3, now);
	db_bind_text(st, 4, charge_id, -1);
	db_bind_text(st, 5, charge_bt, -1);
	db_bind_text(st, 6, currency, -1);
	db_bind_int64(st, 7, r);
	db_bind_int64(st, 8, bps);
	db_bind_int64(st, 9, release_at);
	return db_step_done(st);
}

static const char SQL_FOLLOW[] = "SELECT id FROM reserve_holds WHERE merchant_id = $1"
				 " AND charge_balance_transaction = $2";

int ledger_reserve_follow(struct db *db, const char *merchant_id, const char *bt_id, int64_t now)
{
	struct db_stmt *st = db_prepare(db, SQL_FOLLOW);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, bt_id, -1);
	char hold[ID_MAX] = "";
	int rc = db_step(st);
	if (rc == DB_ROW)
		str_copy(hold, sizeof(hold), db_col_text(st, 0, NULL));
	db_reset(st);
	if (rc == DB_DONE || (rc == DB_ROW && !hold[0]))
		return DB_OK;
	if (rc != DB_ROW)
		return rc < 0 ? rc : DB_ERR;
	/* a charge has at most one hold (made by its one capture) */
	int moved = ledger_make_available_one(db, merchant_id, hold, now);
	return moved < 0 ? moved : DB_OK;
}

static const char SQL_HOLD_GET[] =
    "SELECT charge, currency, amount FROM reserve_holds WHERE merchant_id = $1 AND id = $2"
    " AND released_balance_transaction IS NULL";
/* the guard: only the write whose update changed the row books the release */
static const char SQL_RELEASED[] =
    "UPDATE reserve_holds SET released_balance_transaction = $3 WHERE merchant_id = $1"
    " AND id = $2 AND released_balance_transaction IS NULL";

int ledger_reserve_release(struct db *db, const char *merchant_id, const char *hold_id, int64_t now)
{
	struct db_stmt *st = db_prepare(db, SQL_HOLD_GET);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, hold_id, -1);
	char charge[ID_MAX] = "", currency[8] = "";
	int64_t r = 0;
	int rc = db_step(st);
	if (rc == DB_ROW) {
		str_copy(charge, sizeof(charge), db_col_text(st, 0, NULL));
		str_copy(currency, sizeof(currency), db_col_text(st, 1, NULL));
		r = db_col_int64(st, 2);
	}
	db_reset(st);
	if (rc == DB_DONE)
		return 0;
	if (rc != DB_ROW)
		return rc < 0 ? rc : DB_ERR;
	/* the held funds first reach the available balance they are released into (a no-op when
	 * the scheduler moved them already, as it does by release_at >= available_on) */
	rc = ledger_make_available_one(db, merchant_id, hold_id, now);
	if (rc < 0)
		return rc;
	char bt[ID_MAX];
	id_new_at(bt, "txn_", now);
	st = db_prepare(db, SQL_RELEASED);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, hold_id, -1);
	db_bind_text(st, 3, bt, -1);
	rc = db_step(st);
	int64_t changed = rc == DB_DONE ? db_changes(st) : 0;
	db_reset(st);
	if (rc != DB_DONE)
		return rc < 0 ? rc : DB_ERR;
	if (changed != 1)
		return 0;
	const struct ledger_entry e[] = {
	    {LEDGER_ACCT_MERCHANT_RESERVE, currency, r},
	    {LEDGER_ACCT_MERCHANT_AVAILABLE, currency, -r},
	};
	char jtx[ID_MAX];
	rc = ledger_post(db, merchant_id, "reserve_release", charge, e, 2, now, jtx);
	if (rc != DB_OK)
		return rc;
	const struct bt b = {
	    .id = bt,
	    .type = "reserved_funds",
	    .source = charge,
	    .currency = currency,
	    .status = "available",
	    .description = "Rolling reserve released",
	    .journal_txn = jtx,
	    .amount = r,
	    .fee = 0,
	    .created = now,
	    .available_on = now,
	};
	rc = bt_insert(db, merchant_id, &b, NULL);
	return rc == DB_OK ? 1 : rc;
}

const char LEDGER_RESERVE_DUE_SQL[] =
    "SELECT 1 FROM reserve_holds WHERE released_balance_transaction IS NULL"
    " AND release_at <= $1 LIMIT 1";
static const char SQL_DUE[] =
    "SELECT merchant_id, id FROM reserve_holds WHERE released_balance_transaction IS NULL"
    " AND release_at <= $1 ORDER BY release_at LIMIT $2";

struct tick_ctx {
	int64_t now;
	int released;
	int full;
	struct shard_share share;
};

static int tick_fn(struct db *db, void *p)
{
	struct tick_ctx *c = p;
	struct scheduler_due due[RELEASE_BATCH];
	int n = 0, done = 0;
	const int batch = scheduler_batch(RELEASE_BATCH);
	int rc = scheduler_due_read(db, SQL_DUE, c->now, due, &n, batch);
	if (rc != DB_OK)
		return rc;
	for (int i = 0; i < n; i++) {
		rc = ledger_reserve_release(db, due[i].merchant, due[i].id, c->now);
		if (rc < 0)
			return rc;
		done += rc;
	}
	c->released += (int)shard_share_add(&c->share, db, done);
	if (n == batch)
		c->full = 1;
	return 0;
}

int ledger_reserve_tick(struct store *s, int64_t now)
{
	int total = 0;
	for (int batch = 0; batch < TICK_BATCHES_MAX; batch++) {
		struct tick_ctx c = {.now = now};
		int rc = store_each_shard_write(s, tick_fn, &c);
		if (rc != 0)
			return rc < 0 ? rc : DB_ERR;
		total += c.released;
		if (!c.full)
			break;
	}
	return total;
}
