/* The cash balance movements (ledger_cash.h), through ledger_post() like every movement. */
#include "ledger/ledger_cash.h"

#include "ledger/ledger.h"

int ledger_cash_fund(struct db *db, const char *merchant_id, const char *source, int64_t amount,
		     const char *currency, int64_t now, char ret_txn_id[ID_MAX])
{
	if (amount < 1)
		return LEDGER_ERR_INVALID;
	if (amount > LEDGER_AMOUNT_MAX)
		return LEDGER_ERR_OVERFLOW;
	const struct ledger_entry e[] = {
	    {LEDGER_ACCT_CASH_FUNDING, currency, amount},
	    {LEDGER_ACCT_CUSTOMER_CASH, currency, -amount},
	};
	return ledger_post(db, merchant_id, "cash_funding", source, e, 2, now, ret_txn_id);
}

int ledger_cash_apply(struct db *db, const char *merchant_id, const char *source, int64_t amount,
		      const char *currency, bool apply, int64_t now, char ret_txn_id[ID_MAX])
{
	if (amount < 1)
		return LEDGER_ERR_INVALID;
	if (amount > LEDGER_AMOUNT_MAX)
		return LEDGER_ERR_OVERFLOW;
	const struct ledger_entry e[] = {
	    {LEDGER_ACCT_CUSTOMER_CASH, currency, apply ? amount : -amount},
	    {LEDGER_ACCT_CUSTOMER_CASH_APPLIED, currency, apply ? -amount : amount},
	};
	return ledger_post(db, merchant_id, apply ? "cash_apply" : "cash_unapply", source, e, 2,
			   now, ret_txn_id);
}

int ledger_cash_return(struct db *db, const char *merchant_id, const char *source, int64_t amount,
		       const char *currency, bool initiate, int64_t now, char ret_txn_id[ID_MAX])
{
	if (amount < 1)
		return LEDGER_ERR_INVALID;
	if (amount > LEDGER_AMOUNT_MAX)
		return LEDGER_ERR_OVERFLOW;
	const struct ledger_entry e[] = {
	    {LEDGER_ACCT_CUSTOMER_CASH, currency, initiate ? amount : -amount},
	    {LEDGER_ACCT_CASH_FUNDING, currency, initiate ? -amount : amount},
	};
	return ledger_post(db, merchant_id, initiate ? "cash_return" : "cash_return_canceled",
			   source, e, 2, now, ret_txn_id);
}
