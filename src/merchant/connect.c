#include "merchant/connect.h"

#include <string.h>

#include "core/str.h"

static const char SQL_CHECK[] =
    "SELECT default_currency, rejected, payouts_paused FROM connected_accounts"
    " WHERE merchant_id = $1 AND id = $2 AND deleted = 0";

int connect_account_state(struct db *db, const char *platform_id, const char *account_id,
			  char ret_currency[8], unsigned *ret_flags)
{
	/* an empty id names nobody; without this "" would be looked up like any id */
	if (!platform_id || !account_id || !platform_id[0] || !account_id[0])
		return DB_NOTFOUND;
	struct db_stmt *st = db_prepare(db, SQL_CHECK);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, platform_id, -1);
	db_bind_text(st, 2, account_id, -1);
	int rc = db_step(st);
	if (rc == DB_ROW && ret_currency) {
		const char *cur = db_col_text(st, 0, NULL);
		str_copy(ret_currency, 8, cur ? cur : "");
	}
	if (rc == DB_ROW && ret_flags)
		*ret_flags = (db_col_is_null(st, 1) ? 0u : CONNECT_REJECTED_FLAG) |
			     (db_col_int64(st, 2) != 0 ? CONNECT_PAYOUTS_PAUSED : 0u);
	db_reset(st);
	if (rc == DB_ROW)
		return DB_OK;
	return rc == DB_DONE ? DB_NOTFOUND : rc < 0 ? rc : DB_ERR;
}

int connect_account_check(struct db *db, const char *platform_id, const char *account_id,
			  char ret_currency[8])
{
	return connect_account_state(db, platform_id, account_id, ret_currency, NULL);
}

int connect_account_usable(struct db *db, const char *platform_id, const char *account_id)
{
	unsigned flags = 0;
	int rc = connect_account_state(db, platform_id, account_id, NULL, &flags);
	return rc == DB_OK && (flags & CONNECT_REJECTED_FLAG) ? CONNECT_REJECTED : rc;
}
