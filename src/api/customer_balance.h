/*
 * A customer's credit balance (Stripe's customer `balance`): what the customer will be billed
 * (positive) or credited (negative) on its next invoices, in minor units of the customer's one
 * currency. Every change of it is an append-only customer_balance_transaction (cbtxn_…, of
 * Stripe's types) naming the balance after it, so the balance is always the sum of its
 * transactions; a change is made in the same write as its transaction and as the
 * customer.updated event that shows it (previous_attributes.balance).
 *
 * Who changes it: the API (`balance` on POST /v1/customers[/{id}] and POST
 * /v1/customers/{id}/balance_transactions, type adjustment) and invoices
 * (customer_balance_apply, type applied_to_invoice).
 */
#ifndef TENDER_API_CUSTOMER_BALANCE_H
#define TENDER_API_CUSTOMER_BALANCE_H

#include <stdint.h>

#include "core/arena.h"
#include "core/id.h"
#include "events/events.h"
#include "http/req.h"
#include "store/db.h"

#define CUSTOMER_BALANCE_TXN_PREFIX "cbtxn_"
/* A balance (and any one change of it) stays within ±this many minor units: far beyond any
 * real credit, and far from int64's limits, so sums of a few never overflow. */
#define CUSTOMER_BALANCE_ABS_MAX INT64_C(999999999999)

/* customer_balance_apply's answer for a customer that does not exist (or was deleted) */
#define CUSTOMER_BALANCE_NO_CUSTOMER DB_NOTFOUND

/*
 * For an invoice's write (the billing module calls it; Tender's invoices do not yet): applies
 * customer `customer`'s balance to invoice `invoice` of merchant_id, whose amount due (its
 * total, before the balance) is amount_due in `currency` (lowercase ISO code).
 *   - a credit (negative balance) in the invoice's currency pays up to amount_due of it;
 *   - a debit (positive balance) in that currency is all added to the invoice;
 *   - a balance of 0, or in another currency, applies nothing.
 * What is applied is appended as an applied_to_invoice customer balance transaction naming the
 * invoice, the customer's balance moves by it, and customer.updated is appended
 * (previous_attributes.balance; origin: the event's request, NULL fields for Tender's own
 * work). *ret_applied is the amount the invoice's amount due goes down by: positive for a
 * credit applied, negative for a debit added, 0 for none (so the invoice's amount_remaining is
 * amount_due - *ret_applied).
 * An invoice has the balance applied once: calling it again for the same invoice changes
 * nothing and gives what the first call applied. amount_due < 0 (a credit invoice) applies
 * nothing of a credit. Runs inside the caller's write transaction; 0, CUSTOMER_BALANCE_NO_CUSTOMER,
 * or another negative store code (the caller then fails its write).
 */
int customer_balance_apply(struct db *db, const char *merchant_id, const char *customer,
			   const char *currency, const char *invoice, int64_t amount_due,
			   int64_t now, const struct event_origin *origin, int64_t *ret_applied);

/* The currency a customer without one gets its balance in: the merchant's settlement currency
 * (as its payouts). DB_OK or < 0. */
int customer_balance_default_currency(struct db *db, const char *merchant_id, char ret[8]);

/* customers.c's side, inside its own write: records the transaction for a change of the
 * customer's balance that customers.c writes itself (`balance` on create or update): type
 * adjustment, amount (the change), currency, ending_balance (the balance after it). DB_OK or
 * < 0. */
int customer_balance_txn_record(struct db *db, const char *merchant_id, const char *customer,
				int64_t amount, const char *currency, int64_t ending_balance,
				int64_t now);

/* customers.c's side for this module: appends customer.updated for customer id of merchant_id
 * (rendered as it is now) with previous_attributes prev (JSON object text). arena: scratch
 * memory. DB_OK or < 0. */
int customer_updated_event(struct db *db, struct arena *arena, const char *merchant_id,
			   const char *id, const char *prev, int64_t now,
			   const struct event_origin *origin);

#endif
