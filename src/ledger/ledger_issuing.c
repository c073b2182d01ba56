/* The Issuing balance's movements (ledger_issuing.h), through ledger_post() like every one. */
#include "ledger/ledger_issuing.h"

#include "ledger/ledger.h"
#include "ledger/ledger_internal.h"
#include "ledger/ledger_topup.h"

int ledger_issuing_topup(struct db *db, const char *merchant_id, const char *topup_id,
			 int64_t amount, const char *currency, const char *description, int64_t now,
			 char ret_balance_txn_id[ID_MAX])
{
	if (amount < 1)
		return LEDGER_ERR_INVALID;
	if (amount > LEDGER_AMOUNT_MAX)
		return LEDGER_ERR_OVERFLOW;
	const struct ledger_entry e[] = {
	    {LEDGER_ACCT_TOPUP_FUNDING, currency, amount},
	    {LEDGER_ACCT_ISSUING_AVAILABLE, currency, -amount},
	};
	char jtx[ID_MAX];
	int rc = ledger_post(db, merchant_id, "issuing_topup", topup_id, e, 2, now, jtx);
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
	    .balance_type = "issuing",
	};
	return bt_insert(db, merchant_id, &b, ret_balance_txn_id);
}
