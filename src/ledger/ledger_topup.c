/* The top-up movement (ledger_topup.h), through ledger_post() like every movement. */
#include "ledger/ledger_topup.h"

#include "ledger/ledger.h"
#include "ledger/ledger_internal.h"

int ledger_topup_into(struct db *db, const char *merchant_id, const char *topup_id, int64_t amount,
		      const char *currency, const char *description, int64_t now,
		      const char *account, const char *journal_type, const char *balance_type,
		      char ret_balance_txn_id[ID_MAX])
{
	if (amount < 1)
		return LEDGER_ERR_INVALID;
	if (amount > LEDGER_AMOUNT_MAX)
		return LEDGER_ERR_OVERFLOW;
	const struct ledger_entry e[] = {
	    {LEDGER_ACCT_TOPUP_FUNDING, currency, amount},
	    {account, currency, -amount},
	};
	char jtx[ID_MAX];
	int rc = ledger_post(db, merchant_id, journal_type, topup_id, e, 2, now, jtx);
	if (rc != DB_OK)
		return rc;
	const struct bt b = {
	    .type = "topup",
	    .source = topup_id,
	    .currency = currency,
	    .status = "available",
	    .description = description,
	    .journal_txn = jtx,
	    .amount = amount,
	    .fee = 0,
	    .created = now,
	    .available_on = now,
	    .balance_type = balance_type,
	};
	return bt_insert(db, merchant_id, &b, ret_balance_txn_id);
}

int ledger_topup(struct db *db, const char *merchant_id, const char *topup_id, int64_t amount,
		 const char *currency, const char *description, int64_t now,
		 char ret_balance_txn_id[ID_MAX])
{
	return ledger_topup_into(db, merchant_id, topup_id, amount, currency, description, now,
				 LEDGER_ACCT_MERCHANT_AVAILABLE, "topup", NULL, ret_balance_txn_id);
}
