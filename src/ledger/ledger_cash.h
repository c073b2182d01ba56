/*
 * Customers' cash balances (bank transfers): money customers pushed to their virtual bank
 * accounts, held for them until it pays one of their payments. It is not the merchant's: no
 * balance transaction is made and the merchant's balance does not move when cash comes in.
 *
 * Accounts (per merchant and currency, added to ledger.h's):
 *   cash_funding   what customers' banks paid in by bank transfer (debit = received)
 *   customer_cash  what Tender holds for the merchant's customers (credit = held)
 *   customer_cash_applied  cash applied to PaymentIntents not yet paid by it (credit = held
 *                  for them): a partly funded intent's, until it is covered or canceled
 *
 * Movement (one balanced journal transaction, in the caller's write transaction, named by the
 * customer_cash_balance_transaction it books):
 *   cash_funding   DR cash_funding / CR customer_cash   (a `funded` cash balance transaction)
 *   cash_apply     DR customer_cash / CR customer_cash_applied   (`applied_to_payment`)
 *   cash_unapply   the reverse   (`unapplied_from_payment`: the intent was canceled)
 *   cash_sale      the covered intent's charge: ledger_sale_as's entries with
 *                  customer_cash_applied where a card's sale has acquirer_receivable (the
 *                  merchant's pending balance, the fee, a conversion), its "charge" balance
 *                  transaction; only now does the merchant's balance move
 *   cash_refund    a refund of that charge back to the cash balance: DR merchant_available /
 *                  CR customer_cash (`refunded_from_payment`), its "refund" balance transaction
 *   cash_return    cash going back to the customer's bank (a refund of the cash balance):
 *                  DR customer_cash / CR cash_funding (`return_initiated`): it leaves by the
 *                  way it came in, at once, while the refund waits for the customer's details
 *   cash_refund_return  a refund of a cash-paid charge to the customer's bank account:
 *                  DR merchant_available / CR cash_funding, its "refund" balance transaction
 *                  (no cash balance transaction: the money leaves the way it came in); when
 *                  that refund is canceled the money goes to the customer's cash balance
 *                  (cash_return_canceled, `return_canceled`)
 *   cash_return_canceled  the reverse of cash_return (`return_canceled`: the refund expired, the
 * cash is the customer's again)
 *
 * So for every merchant and currency customer_cash holds exactly minus the sum of its customers'
 * cash balance transactions, cash_funding exactly the funded ones less those returned
 * (return_initiated, return_canceled), and customer_cash_applied what was applied to intents less
 * what their charges took (ledger_verify checks all three).
 */
#ifndef TENDER_LEDGER_LEDGER_CASH_H
#define TENDER_LEDGER_LEDGER_CASH_H

#include <stdbool.h>
#include <stdint.h>

#include "core/id.h"
#include "store/db.h"

#define LEDGER_ACCT_CASH_FUNDING "cash_funding"
#define LEDGER_ACCT_CUSTOMER_CASH "customer_cash"
#define LEDGER_ACCT_CUSTOMER_CASH_APPLIED "customer_cash_applied"

/* amount: 1 … LEDGER_AMOUNT_MAX minor units of currency; source: the funded cash balance
 * transaction (ccsbtxn_…). ret_txn_id gets the journal transaction's id. */
int ledger_cash_fund(struct db *db, const char *merchant_id, const char *source, int64_t amount,
		     const char *currency, int64_t now, char ret_txn_id[ID_MAX]);

/* cash_apply (apply: amount moved to the intent) or cash_unapply (!apply); source: the cash
 * balance transaction. */
int ledger_cash_apply(struct db *db, const char *merchant_id, const char *source, int64_t amount,
		      const char *currency, bool apply, int64_t now, char ret_txn_id[ID_MAX]);

/* cash_return (initiate: amount leaves the cash balance for the customer's bank) or
 * cash_return_canceled (!initiate: it comes back); source: the cash balance transaction. */
int ledger_cash_return(struct db *db, const char *merchant_id, const char *source, int64_t amount,
		       const char *currency, bool initiate, int64_t now, char ret_txn_id[ID_MAX]);

struct ledger_pricing;
/* cash_sale of charge_id (amount in currency, converted as a capture is), balance transaction
 * as ledger_sale_as. */
int ledger_cash_sale_as(struct db *db, const char *merchant_id, const char *charge_id,
			int64_t amount, const char *currency, const struct ledger_pricing *pricing,
			int64_t now, const char *balance_txn_id, char ret_balance_txn_id[ID_MAX]);
/* cash_refund: a refund (refund_id) of amount of the cash-paid charge charge_id back to its
 * customer's cash balance, converted back as ledger_refund converts (the charge's recorded
 * rate, the cumulative rounding rule); its "refund" balance transaction. */
int ledger_cash_refund(struct db *db, const char *merchant_id, const char *refund_id,
		       const char *charge_id, int64_t amount, const char *currency, int64_t now,
		       char ret_balance_txn_id[ID_MAX]);

/* cash_refund_return: a refund (refund_id) of amount of the cash-paid charge charge_id to its
 * customer's bank account, converted back as ledger_cash_refund; its "refund" balance
 * transaction. */
int ledger_cash_refund_return(struct db *db, const char *merchant_id, const char *refund_id,
			      const char *charge_id, int64_t amount, const char *currency,
			      int64_t now, char ret_balance_txn_id[ID_MAX]);

#endif
