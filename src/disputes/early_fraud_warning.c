#include "disputes/early_fraud_warning.h"

#include <string.h>

#include "core/buf.h"
#include "core/id.h"
#include "core/str.h"

static const char SQL_GET[] = "SELECT id, created, charge, payment_intent, fraud_type, actionable"
			      " FROM radar_early_fraud_warnings WHERE merchant_id = $1 AND id = $2";
static const char SQL_BY_CHARGE[] =
    "SELECT id, actionable FROM radar_early_fraud_warnings WHERE merchant_id = $1 AND charge = $2";
static const char SQL_CHARGE[] =
    "SELECT payment_intent, amount_captured, amount_refunded, disputed FROM charges"
    " WHERE merchant_id = $1 AND id = $2";
static const char SQL_INSERT[] =
    "INSERT INTO radar_early_fraud_warnings (merchant_id, id, created, charge, payment_intent,"
    " fraud_type, actionable) VALUES ($1, $2, $3, $4, $5, $6, $7)"
    " ON CONFLICT (merchant_id, charge) DO NOTHING";
static const char SQL_UNACTIONABLE[] =
    "UPDATE radar_early_fraud_warnings SET actionable = 0 WHERE merchant_id = $1 AND id = $2"
    " AND actionable = 1";

int efw_render(struct db *db, const char *merchant_id, bool livemode, const char *id,
	       struct json *j)
{
	struct db_stmt *st;
	int rc = db_row_by_id(db, SQL_GET, merchant_id, id, &st);
	if (rc != DB_OK)
		return rc;
	json_obj_open(j);
	json_kv_str(j, "id", db_col_text(st, 0, NULL));
	json_kv_str(j, "object", "radar.early_fraud_warning");
	json_kv_bool(j, "actionable", db_col_int64(st, 5) != 0);
	json_kv_str(j, "charge", db_col_text(st, 2, NULL));
	json_kv_int(j, "created", db_col_int64(st, 1));
	json_kv_str(j, "fraud_type", db_col_text(st, 4, NULL));
	json_kv_bool(j, "livemode", livemode);
	json_kv_str_or_null(j, "payment_intent", db_col_text(st, 3, NULL));
	json_obj_close(j);
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
	int rc = efw_render(db, merchant_id, origin->livemode, id, &j);
	if (rc == DB_OK && b.failed)
		rc = DB_ERR;
	if (rc == DB_OK)
		rc =
		    event_append(db, merchant_id, origin, type, id, b.data, b.len, prev, now, NULL);
	buf_release(&b);
	return rc;
}

struct charge_state {
	char payment_intent[ID_MAX];
	bool ended; /* disputed or refunded in full */
};

static int charge_state(struct db *db, const char *merchant_id, const char *charge_id,
			struct charge_state *ret)
{
	struct db_stmt *st;
	int rc = db_row_by_id(db, SQL_CHARGE, merchant_id, charge_id, &st);
	if (rc != DB_OK)
		return rc;
	const char *pi = db_col_text(st, 0, NULL);
	str_copy(ret->payment_intent, sizeof(ret->payment_intent), pi ? pi : "");
	int64_t captured = db_col_int64(st, 1), refunded = db_col_int64(st, 2);
	ret->ended = db_col_int64(st, 3) != 0 || (captured > 0 && refunded >= captured);
	db_reset(st);
	return DB_OK;
}

int efw_open(struct db *db, const char *merchant_id, const struct event_origin *origin,
	     const char *charge_id, int64_t now)
{
	struct charge_state cs;
	int rc = charge_state(db, merchant_id, charge_id, &cs);
	if (rc == DB_NOTFOUND)
		return DB_OK;
	if (rc != DB_OK)
		return rc;
	char id[ID_MAX];
	id_new_at(id, "issfr_", now);
	struct db_stmt *st = db_prepare(db, SQL_INSERT);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, id, -1);
	db_bind_int64(st, 3, now);
	db_bind_text(st, 4, charge_id, -1);
	if (cs.payment_intent[0])
		db_bind_text(st, 5, cs.payment_intent, -1);
	else
		db_bind_null(st, 5);
	db_bind_text(st, 6, EFW_FRAUD_TYPE_TEST, -1);
	db_bind_int64(st, 7, cs.ended ? 0 : 1);
	int64_t changed = 0;
	rc = db_step_changes(st, &changed);
	if (rc != DB_OK || changed != 1)
		return rc;
	return emit(db, merchant_id, origin, id, "radar.early_fraud_warning.created", NULL, now);
}

int efw_charge_changed(struct db *db, const char *merchant_id, const struct event_origin *origin,
		       const char *charge_id, int64_t now)
{
	struct db_stmt *st;
	int rc = db_row_by_id(db, SQL_BY_CHARGE, merchant_id, charge_id, &st);
	char id[ID_MAX];
	bool actionable = false;
	if (rc == DB_OK) {
		str_copy(id, sizeof(id), db_col_text(st, 0, NULL));
		actionable = db_col_int64(st, 1) != 0;
		db_reset(st);
	} else if (rc != DB_NOTFOUND) {
		return rc;
	}
	if (!actionable)
		return DB_OK; /* none, or no longer actionable: the common case, one lookup */
	struct charge_state cs;
	rc = charge_state(db, merchant_id, charge_id, &cs);
	if (rc != DB_OK || !cs.ended)
		return rc == DB_NOTFOUND ? DB_OK : rc;
	st = db_prepare(db, SQL_UNACTIONABLE);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, id, -1);
	int64_t changed = 0;
	rc = db_step_changes(st, &changed);
	if (rc != DB_OK || changed != 1)
		return rc;
	return emit(db, merchant_id, origin, id, "radar.early_fraud_warning.updated",
		    "{\"actionable\":true}", now);
}
