/*
 * Customers' cash balances (bank transfers): money customers pushed to their virtual bank
 * accounts, held for them until it pays one of their payments. It is not the merchant's: no
 * balance transaction is made and the merchant's balance does not move when cash comes in.
 *
 * Accounts (per merchant and currency, added to ledger.h's):
 *   cash_funding   what customers' banks paid in by bank transfer (debit = received)
 *   customer_cash  what Tender holds for the merchant's customers (credit = held)
 *
 * Movement (one balanced journal transaction, in the caller's write transaction, named by the
 * customer_cash_balance_transaction it books):
 *   cash_funding   DR cash_funding / CR customer_cash   (a `funded` cash balance transaction)
 *
 * So for every merchant and currency customer_cash holds exactly minus the sum of its customers'
 * cash balance transactions, and cash_funding exactly the funded ones (ledger_verify checks
 * both against customer_cash_balance_transactions).
 */
#ifndef TENDER_LEDGER_LEDGER_CASH_H
#define TENDER_LEDGER_LEDGER_CASH_H

#include <stdint.h>

#include "core/id.h"
#include "store/db.h"

#define LEDGER_ACCT_CASH_FUNDING "cash_funding"
#define LEDGER_ACCT_CUSTOMER_CASH "customer_cash"

/* amount: 1 … LEDGER_AMOUNT_MAX minor units of currency; source: the funded cash balance
 * transaction (ccsbtxn_…). ret_txn_id gets the journal transaction's id. */
int ledger_cash_fund(struct db *db, const char *merchant_id, const char *source, int64_t amount,
		     const char *currency, int64_t now, char ret_txn_id[ID_MAX]);

#endif
