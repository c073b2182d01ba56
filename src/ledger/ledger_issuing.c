/* The Issuing balance's movements (ledger_issuing.h): a top-up is ledger_topup's movement into it.
 */
#include "ledger/ledger_issuing.h"

#include "ledger/ledger.h"
#include "ledger/ledger_internal.h"

int ledger_issuing_topup(struct db *db, const char *merchant_id, const char *topup_id,
			 int64_t amount, const char *currency, const char *description, int64_t now,
			 char ret_balance_txn_id[ID_MAX])
{
	return ledger_topup_into(db, merchant_id, topup_id, amount, currency, description, now,
				 LEDGER_ACCT_ISSUING_AVAILABLE, "issuing_topup", "issuing",
				 ret_balance_txn_id);
}
