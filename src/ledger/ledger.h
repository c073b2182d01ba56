/*
 * The ledger: an append-only double-entry journal, and Stripe's balance transactions on top of it.
 *
 * Every money movement is one journal transaction: a set of entries (account, amount, currency)
 * whose amounts sum to zero per currency; entries are only ever inserted. Debits are positive,
 * credits negative. Balances are derived from entries (and, for the merchant-facing view, from
 * balance transactions), never stored and edited.
 *
 * Accounts, per merchant and currency (the account names are stable strings stored in rows):
 *   cardholder_holds     money reserved on cardholders' cards by authorizations (debit = held)
 *   authorized           the merchant's claim on those holds (credit side of a hold)
 *   acquirer_receivable  money the acquirer owes Tender for captured charges
 *   acquirer_payable     money Tender owes the acquirer/cardholders for refunds and disputes
 *   merchant_pending     the merchant's funds not yet available (credit = merchant owed)
 *   merchant_available   the merchant's available funds
 *   fees                 Tender's fee revenue
 *   fx                   absorbs rounding differences of currency conversions, visibly
 *
 * Movements (each function posts one balanced journal transaction, and where Stripe shows one,
 * creates the balance transaction, all inside the caller's write transaction):
 *   authorize   DR cardholder_holds / CR authorized                        (no balance txn)
 *   release     the reverse, for the uncaptured or canceled remainder        (no balance txn)
 *   capture     release the captured part of the hold; DR acquirer_receivable amount /
 *               CR merchant_pending amount; DR merchant_pending fee / CR fees fee;
 *               balance txn type "charge": amount, fee, net, status pending, available_on
 *   refund      DR merchant_pending-or-available amount / CR acquirer_payable; balance txn
 *               type "refund" with a negative amount
 *   refund_failure  the reverse of a refund; balance txn type "refund_failure"
 *   make_available  due pending balance txns: DR merchant_pending net / CR merchant_available
 * Amounts in a presentment currency other than the merchant's settlement currency are converted
 * at capture (issue 7); until then presentment == settlement and exchange_rate is null.
 */
#ifndef TENDER_LEDGER_LEDGER_H
#define TENDER_LEDGER_LEDGER_H

#include <stdint.h>

#include "core/id.h"
#include "core/json.h"
#include "store/db.h"

#define LEDGER_ERR_UNBALANCED (-200)
#define LEDGER_ERR_OVERFLOW (-201)

/* Pricing of one merchant: fee = round_half_up(amount × percent_bps / 10000) + fixed. */
struct ledger_pricing {
	int64_t percent_bps;   /* default 290 (2.9 %) */
	int64_t fixed_minor;   /* default 30 */
	const char *settlement_currency;
};

/* Loads the merchant's pricing (merchants table). */
int ledger_pricing_get(struct db *db, const char *merchant_id, struct ledger_pricing *ret,
                       char currency_buf[8]);

int ledger_authorize(struct db *db, const char *merchant_id, const char *charge_id,
                     int64_t amount, const char *currency, int64_t now);
int ledger_release(struct db *db, const char *merchant_id, const char *charge_id,
                   int64_t amount, const char *currency, int64_t now);
/* Captures `amount` of the hold of charge_id; creates the "charge" balance transaction.
 * available_on = now + 2 days unless the merchant's charges become available immediately. */
int ledger_capture(struct db *db, const char *merchant_id, const char *charge_id,
                   int64_t amount, const char *currency, const struct ledger_pricing *pricing,
                   int64_t now, char ret_balance_txn_id[ID_MAX]);
int ledger_refund(struct db *db, const char *merchant_id, const char *refund_id,
                  const char *charge_id, int64_t amount, const char *currency, int64_t now,
                  char ret_balance_txn_id[ID_MAX]);
int ledger_refund_failure(struct db *db, const char *merchant_id, const char *refund_id,
                          int64_t amount, const char *currency, int64_t now,
                          char ret_balance_txn_id[ID_MAX]);

/* Scheduler: makes up to `limit` due balance transactions available (all merchants). Returns
 * how many, or < 0. */
int ledger_make_available(struct db *db, int64_t now, int limit);

struct store;
/* The scheduler's job: ledger_make_available in bounded batches on every shard. */
int ledger_scheduler_tick(struct store *s, int64_t now);

struct verify_report;
/* Journal balanced per transaction and currency; balance = Σ balance transactions; every
 * balance transaction has its journal transaction; net = amount − fee. */
int ledger_verify(struct db *db, struct verify_report *rep);

/* Renders GET /v1/balance for the merchant. */
int ledger_balance_render(struct db *db, const char *merchant_id, int livemode, struct json *j);
/* Renders one balance transaction; DB_NOTFOUND when absent. */
int ledger_balance_txn_render(struct db *db, const char *merchant_id, const char *id,
                              struct json *j);

#endif
