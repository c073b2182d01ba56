/*
 * Payouts: the merchant's available funds sent to its bank account.
 *
 * Accounts (per merchant and currency, added to ledger.h's):
 *   payouts_in_transit  funds taken from the available balance and on their way to the bank
 *   paid_out            funds that reached the merchant's bank: they left Tender
 *
 * Movements (each one balanced journal transaction, in the caller's write transaction):
 *   payout          DR merchant_available / CR payouts_in_transit; balance txn type "payout",
 *                   amount −a, fee 0, status available (the available balance drops at once,
 *                   as on Stripe)
 *   payout_paid     DR payouts_in_transit / CR paid_out (no balance txn: the merchant's
 *                   balance already moved)
 *   payout_cancel   DR payouts_in_transit / CR merchant_available; balance txn type
 *                   "payout_cancel", amount +a (the funds come back)
 *   payout_failure  the same movement when the bank returned the payout (a Stripe test bank
 *                   account that fails): balance txn type "payout_failure", amount +a
 *   payout_reversal a paid payout's reversal r (the bank account debited back, Connect):
 *                   DR payouts_in_transit / CR merchant_available; balance txn type "payout"
 *                   with amount +r (reporting category payout_reversal), available at once;
 *                   the reversal's row is a payout of −r, so the in-transit account still
 *                   holds exactly the open payouts
 *   payout_reversal_paid  the bank paid the reversal back: DR paid_out / CR payouts_in_transit
 *   payout_fee      an instant payout's fee f: DR merchant_available / CR fees; a balance txn of
 *                   its own, type "stripe_fee", amount −f, fee 0 (Stripe's fee for the service,
 *                   not part of the money sent: the payout's own balance txn stays −a)
 *
 * So for every merchant and currency the in-transit account holds exactly the payouts that are
 * neither paid nor returned (ledger_verify checks it against the payouts table).
 */
#ifndef TENDER_LEDGER_LEDGER_PAYOUT_H
#define TENDER_LEDGER_LEDGER_PAYOUT_H

#include <stdint.h>

#include "core/id.h"
#include "store/db.h"

#define LEDGER_ACCT_PAYOUTS_IN_TRANSIT "payouts_in_transit"
#define LEDGER_ACCT_PAID_OUT "paid_out"

/* The merchant's available balance in currency: Σ net of its available balance transactions
 * (what GET /v1/balance shows as available). */
int ledger_available_balance(struct db *db, const char *merchant_id, const char *currency,
			     int64_t *ret);

/* A merchant's balance in one currency: Σ net of its available and of its pending balance
 * transactions (GET /v1/balance's two lists). */
struct ledger_balance_amount {
	char currency[8];
	int64_t available, pending;
};
/* Up to max of the merchant's currencies, in currency order: *ret_n of them in ret. */
int ledger_balance_amounts(struct db *db, const char *merchant_id,
			   struct ledger_balance_amount *ret, int max, int *ret_n);

/* Draws on the available balance (payouts, and Connect transfers that are not funded by a
 * charge) check the balance in a read transaction before the write, so that the single writer
 * never sums balance transactions. Two draws checked against the same balance could then both
 * pass; so the merchant's draws in a currency are counted (payout_counters), and a draw's write
 * moves the count from the number its read saw to the next with a conditional update (on
 * PostgreSQL a concurrent one waits, then finds it moved): ledger_draws reads the count
 * (0 before the first), ledger_draw_next moves it, DB_CONFLICT when another draw moved it first
 * (read again). */
int ledger_draws(struct db *db, const char *merchant_id, const char *currency, int64_t *ret);
int ledger_draw_next(struct db *db, const char *merchant_id, const char *currency, int64_t seen);

/* The movements above. amount: 1 … LEDGER_AMOUNT_MAX minor units of currency. ret_balance_txn_id
 * (may be NULL) gets the balance transaction's id. */
int ledger_payout(struct db *db, const char *merchant_id, const char *payout_id, int64_t amount,
		  const char *currency, int64_t now, char ret_balance_txn_id[ID_MAX]);
int ledger_payout_paid(struct db *db, const char *merchant_id, const char *payout_id,
		       int64_t amount, const char *currency, int64_t now);
int ledger_payout_cancel(struct db *db, const char *merchant_id, const char *payout_id,
			 int64_t amount, const char *currency, int64_t now,
			 char ret_balance_txn_id[ID_MAX]);
int ledger_payout_fail(struct db *db, const char *merchant_id, const char *payout_id,
		       int64_t amount, const char *currency, int64_t now,
		       char ret_balance_txn_id[ID_MAX]);
/* A reversal (reversal_id, of a paid payout of amount) and its arrival; amount > 0. */
int ledger_payout_reversal(struct db *db, const char *merchant_id, const char *reversal_id,
			   int64_t amount, const char *currency, int64_t now,
			   char ret_balance_txn_id[ID_MAX]);
int ledger_payout_reversal_paid(struct db *db, const char *merchant_id, const char *reversal_id,
				int64_t amount, const char *currency, int64_t now);
/* An automatic payout takes what it pays out: every available transaction of the merchant in
 * currency that no earlier automatic payout took, its own included, is marked as paid out by
 * payout_id (balance_transactions.payout, migration 0063), for GET /v1/balance_transactions
 * ?payout=. DB_OK or < 0. */
int ledger_payout_take(struct db *db, const char *merchant_id, const char *currency,
		       const char *payout_id);
int ledger_payout_fee(struct db *db, const char *merchant_id, const char *payout_id, int64_t fee,
		      const char *currency, int64_t now, char ret_balance_txn_id[ID_MAX]);

/* An instant payout's fee: Stripe's US price, 1.5 % of the amount (rounded half up) and at least
 * 0.50 (50 minor units of usd, the one currency Tender offers instant payouts in). amount:
 * 1 … LEDGER_AMOUNT_MAX, else LEDGER_ERR_INVALID / LEDGER_ERR_OVERFLOW. */
#define LEDGER_INSTANT_FEE_BPS 150
#define LEDGER_INSTANT_FEE_MIN 50
int ledger_instant_payout_fee(int64_t amount, int64_t *ret_fee);

#endif
