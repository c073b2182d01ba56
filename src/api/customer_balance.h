/*
 * A customer's credit balance (Stripe's customer `balance`): what the customer will be billed
 * (positive) or credited (negative) on its next invoices, in minor units of the customer's one
 * currency. Every change of it is an append-only customer_balance_transaction (cbtxn_…, of
 * Stripe's types) naming the balance after it, so the balance is always the sum of its
 * transactions; a change is made in the same write as its transaction and as the
 * customer.updated event that shows it (previous_attributes.balance).
 *
 * Who changes it: the API (`balance` on POST /v1/customers[/{id}] and POST
 * /v1/customers/{id}/balance_transactions, type adjustment) and invoices: each finalized
 * invoice takes it (customer_balance_apply, type applied_to_invoice), and a voided one gives
 * back what it took (customer_balance_unapply, type unapplied_from_invoice).
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

/* customer_balance_apply's answer when the customer's balance is in another currency than the
 * invoice's: nothing is applied (a credit invoice's credit cannot go on that balance). */
#define CUSTOMER_BALANCE_OTHER_CURRENCY 1

/*
 * For an invoice's write, when the invoice is finalized (invoices.c): applies customer
 * `customer`'s balance to invoice `invoice` of merchant_id, whose total is `total` in
 * `currency` (lowercase ISO code), as Stripe does: the invoice takes the balance whole, and
 * what is below zero afterwards stays (or goes) on the balance:
 *   ending = min(0, balance + total), amount_due = max(0, balance + total)
 * So a credit (negative balance) pays up to the total, a debit (positive balance) is all added
 * to the invoice, and a credit invoice (total below zero) credits the balance with it. An
 * invoice of 0 (a trial's) takes nothing: Tender's choice, so that a trial is never charged
 * for a debit; the next invoice that charges takes it.
 * The move (ending - balance) is appended as one applied_to_invoice customer balance
 * transaction naming the invoice, the customer's balance moves by it, and customer.updated is
 * appended (previous_attributes.balance; origin: the event's request, NULL fields for
 * Tender's own work). *ret_starting is the balance before; *ret_applied the move, which is what
 * the invoice's amount due is below its total (amount_due = total - *ret_applied): positive
 * for a credit applied, negative for a debit added or a credit invoice's credit, 0 for none.
 * An invoice has the balance applied once: calling it again for the same invoice changes
 * nothing and gives what the first call did. Runs inside the caller's write transaction; 0,
 * CUSTOMER_BALANCE_OTHER_CURRENCY (a balance in another currency: nothing applied,
 * *ret_starting and *ret_applied 0), CUSTOMER_BALANCE_NO_CUSTOMER, or another negative store
 * code (the caller then fails its write).
 */
int customer_balance_apply(struct db *db, const char *merchant_id, const char *customer,
			   const char *currency, const char *invoice, int64_t total, int64_t now,
			   const struct event_origin *origin, int64_t *ret_starting,
			   int64_t *ret_applied);

/* Before an invoice's write (a read transaction): what customer_balance_apply would make the
 * amount due of an invoice of `total` in `currency` with the customer's balance as it is now
 * (the write applies it again and checks that it came out the same). *ret_starting: the
 * balance it would take (0 for one in another currency). A customer that does not exist yet
 * (a checkout's, made in the payment's write) has none. DB_OK or < 0. */
int customer_balance_preview(struct db *db, const char *merchant_id, const char *customer,
			     const char *currency, int64_t total, int64_t *ret_starting,
			     int64_t *ret_amount_due);

/* For the write that finalizes an invoice whose amount due (`amount`, > 0) is below the
 * currency's minimum charge (invoices.c): the invoice is not charged, and the amount goes onto
 * the customer's balance as a debit, an invoice_too_small transaction naming it (Stripe's rule),
 * with customer.updated, for the next invoice to take. Once per invoice. 0,
 * CUSTOMER_BALANCE_OTHER_CURRENCY (the balance cannot take it: in another currency, or out of
 * range), or < 0. */
int customer_balance_too_small(struct db *db, const char *merchant_id, const char *customer,
			       const char *currency, const char *invoice, int64_t amount,
			       int64_t now, const struct event_origin *origin);

/* For a voided invoice's write: what customer_balance_apply moved for `invoice` goes back, as
 * an unapplied_from_invoice transaction of the opposite amount (Stripe returns the balance an
 * invoice took when it is voided), with customer.updated. Once per invoice; nothing when it
 * took nothing or its customer is gone. *ret_returned: the amount of that transaction (0:
 * none). 0 or < 0. */
int customer_balance_unapply(struct db *db, const char *merchant_id, const char *customer,
			     const char *invoice, int64_t now, const struct event_origin *origin,
			     int64_t *ret_returned);

/* For a credit note's write (credit_notes.c): the customer's balance moves by `amount` (negative:
 * a post-payment credit note's credit_amount; positive: that credit taken back when the credit
 * note is voided), as one `credit_note` transaction naming the credit note and its invoice, with
 * customer.updated. ret_id: the transaction's id. 0, CUSTOMER_BALANCE_OTHER_CURRENCY (the
 * balance is in another currency, or would leave its range: nothing moved),
 * CUSTOMER_BALANCE_NO_CUSTOMER, or another negative store code. */
int customer_balance_credit_note(struct db *db, const char *merchant_id, const char *customer,
				 const char *currency, const char *credit_note, const char *invoice,
				 int64_t amount, int64_t now, const struct event_origin *origin,
				 char ret_id[ID_MAX]);

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
