#include "risk/review.h"

#include <string.h>

#include "core/buf.h"
#include "core/str.h"

static const char SQL_INSERT[] =
    "INSERT INTO radar_reviews (merchant_id, id, created, charge, payment_intent, open,"
    " opened_reason, reason, closed_reason, ip_address) VALUES ($1, $2, $3, $4, $5, 1, 'rule',"
    " 'rule', NULL, $6) ON CONFLICT (merchant_id, charge) DO NOTHING";
static const char SQL_GET[] =
    "SELECT id, created, charge, payment_intent, open, opened_reason, reason, closed_reason,"
    " ip_address FROM radar_reviews WHERE merchant_id = $1 AND id = $2";
static const char SQL_BY_CHARGE[] =
    "SELECT id, open FROM radar_reviews WHERE merchant_id = $1 AND charge = $2";
static const char SQL_CLOSE[] = "UPDATE radar_reviews SET open = 0, reason = $3, closed_reason = $3"
				" WHERE merchant_id = $1 AND id = $2 AND open = 1";

int review_render(struct db *db, const char *merchant_id, bool livemode, const char *id,
		  struct json *j, bool *ret_open)
{
	struct db_stmt *st;
	int rc = db_row_by_id(db, SQL_GET, merchant_id, id, &st);
	if (rc != DB_OK)
		return rc;
	bool open = db_col_int64(st, 4) != 0;
	if (ret_open)
		*ret_open = open;
	if (j) {
		json_obj_open(j);
		json_kv_str(j, "id", db_col_text(st, 0, NULL));
		json_kv_str(j, "object", "review");
		json_kv_null(j, "billing_zip");
		json_kv_str(j, "charge", db_col_text(st, 2, NULL));
		json_kv_str_or_null(j, "closed_reason", db_col_text(st, 7, NULL));
		json_kv_int(j, "created", db_col_int64(st, 1));
		json_kv_str_or_null(j, "ip_address", db_col_text(st, 8, NULL));
		json_kv_null(j, "ip_address_location");
		json_kv_bool(j, "livemode", livemode);
		json_kv_bool(j, "open", open);
		json_kv_str(j, "opened_reason", db_col_text(st, 5, NULL));
		json_kv_str_or_null(j, "payment_intent", db_col_text(st, 3, NULL));
		json_kv_str(j, "reason", db_col_text(st, 6, NULL));
		json_kv_null(j, "session");
		json_obj_close(j);
	}
	db_reset(st);
	return DB_OK;
}

static int emit(struct db *db, const char *merchant_id, const struct event_origin *origin,
		const char *id, const char *type, const char *prev, int64_t now)
{
	struct buf b;
	struct json j;
	buf_init(&b, 16 * 1024);
	json_init(&j, &b);
	int rc = review_render(db, merchant_id, origin->livemode, id, &j, NULL);
	if (rc == DB_OK && b.failed)
		rc = DB_ERR;
	if (rc == DB_OK)
		rc =
		    event_append(db, merchant_id, origin, type, id, b.data, b.len, prev, now, NULL);
	buf_release(&b);
	return rc;
}

int review_open(struct db *db, const char *merchant_id, const struct event_origin *origin,
		const char *id, const char *charge_id, const char *payment_intent,
		const char *ip_address, int64_t now)
{
	struct db_stmt *st = db_prepare(db, SQL_INSERT);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, id, -1);
	db_bind_int64(st, 3, now);
	db_bind_text(st, 4, charge_id, -1);
	if (payment_intent)
		db_bind_text(st, 5, payment_intent, -1);
	else
		db_bind_null(st, 5);
	if (ip_address && *ip_address)
		db_bind_text(st, 6, ip_address, -1);
	else
		db_bind_null(st, 6);
	int64_t changed = 0;
	int rc = db_step_changes(st, &changed);
	if (rc != DB_OK || changed != 1)
		return rc;
	return emit(db, merchant_id, origin, id, "review.opened", NULL, now);
}

int review_close(struct db *db, const char *merchant_id, const struct event_origin *origin,
		 const char *id, const char *reason, int64_t now)
{
	struct db_stmt *st = db_prepare(db, SQL_CLOSE);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, id, -1);
	db_bind_text(st, 3, reason, -1);
	int64_t changed = 0;
	int rc = db_step_changes(st, &changed);
	if (rc != DB_OK)
		return rc;
	if (changed != 1)
		return DB_CONFLICT;
	return emit(db, merchant_id, origin, id, "review.closed",
		    "{\"closed_reason\":null,\"open\":true,\"reason\":\"rule\"}", now);
}

int review_close_for_charge(struct db *db, const char *merchant_id,
			    const struct event_origin *origin, const char *charge_id,
			    const char *reason, int64_t now)
{
	struct db_stmt *st;
	int rc = db_row_by_id(db, SQL_BY_CHARGE, merchant_id, charge_id, &st);
	char id[ID_MAX];
	bool open = false;
	if (rc == DB_OK) {
		str_copy(id, sizeof(id), db_col_text(st, 0, NULL));
		open = db_col_int64(st, 1) != 0;
		db_reset(st);
	} else if (rc != DB_NOTFOUND) {
		return rc;
	}
	return open ? review_close(db, merchant_id, origin, id, reason, now) : DB_OK;
}

int review_for_charge(struct db *db, const char *merchant_id, const char *charge_id,
		      const char *outcome, char ret[ID_MAX])
{
	if (!db || !outcome || !strstr(outcome, "\"type\":\"" REVIEW_OUTCOME_TYPE "\""))
		return DB_NOTFOUND;
	struct db_stmt *st = db_prepare(db, SQL_BY_CHARGE);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, charge_id, -1);
	int rc = db_step(st);
	if (rc == DB_ROW)
		str_copy(ret, ID_MAX, db_col_text(st, 0, NULL));
	db_reset(st);
	return rc == DB_ROW ? DB_OK : rc == DB_DONE ? DB_NOTFOUND : rc < 0 ? rc : DB_ERR;
}
