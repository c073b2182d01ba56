/*
 * The money of disputes (chargebacks), on top of the journal (ledger.h).
 *
 * When the card network opens a chargeback, the disputed amount goes back to the cardholder and
 * the merchant pays a dispute fee on top; if the merchant wins, the amount comes back, the fee
 * does not (as on Stripe). Inquiries move no money.
 *
 *   withdraw    DR merchant_available amount + fee / CR acquirer_payable amount / CR fees fee;
 *               balance txn type "adjustment" (reporting_category "dispute"): amount −amount,
 *               fee `fee` (fee_details: stripe_fee "Dispute fee"), net −(amount + fee),
 *               status "available" at once, source = the dispute
 *   reinstate   DR acquirer_payable amount / CR merchant_available amount; balance txn
 *               "adjustment" amount +amount, fee 0, status "available", source = the dispute
 *
 * Both are taken from / given to the available balance at once, as refunds are (ledger.h), so
 * the balance the API shows stays equal to the journal.
 *
 * Currencies. The amount of a dispute is in the charge's (presentment) currency P; the merchant's
 * balance is kept in the settlement currency S its capture was booked in. When the charge was
 * converted (P ≠ S), both movements convert the disputed amount at the CHARGE'S RECORDED RATE
 * (ledger_convert_like_charge, one rounding, half away from zero) and cross the fx account the
 * way refunds do, so a won dispute gives back exactly what it took:
 *   withdraw    DR merchant_available a_S + fee S / CR fx a_S S / CR fees fee S;
 *               DR fx a_P P / CR acquirer_payable a_P P
 *   reinstate   the reverse of the amount part
 * and the balance transaction records the rate, exchange_rate and the presentment amount, like a
 * converted refund's. The fee is 15.00 in S (15 × 10^exponent minor units).
 */
#ifndef TENDER_LEDGER_LEDGER_DISPUTE_H
#define TENDER_LEDGER_LEDGER_DISPUTE_H

#include <stdint.h>

#include "core/id.h"
#include "store/db.h"

/* The dispute fee in major units (Stripe's US price). */
#define LEDGER_DISPUTE_FEE_MAJOR 15

/* The dispute fee in currency's minor units: 15 × 10^exponent. LEDGER_ERR_INVALID for an unknown
 * currency. */
int ledger_dispute_fee(const char *currency, int64_t *ret_fee_minor);

/* The amount (and currency, 8 bytes) a dispute of `amount` in the charge's currency withdraws
 * from the merchant's balance: converted at the charge's recorded rate into the settlement
 * currency, or unchanged when the charge was not converted (or has no capture booked: db NULL or
 * no charge balance transaction). LEDGER_ERR_INVALID / LEDGER_ERR_OVERFLOW for bad amounts. */
int ledger_dispute_booking_amount(struct db *db, const char *merchant_id, const char *charge_id,
				  int64_t amount, const char *charge_currency, int64_t *ret_amount,
				  char ret_currency[8]);

/* Posts the withdrawal of a chargeback (see above) for dispute_id inside the caller's write
 * transaction: amount in the charge's currency `currency`, fee_minor in the settlement currency
 * (ledger_dispute_booking_amount tells which); ret_balance_txn_id (may be NULL) gets the balance
 * transaction's id. */
int ledger_dispute_withdraw(struct db *db, const char *merchant_id, const char *dispute_id,
			    const char *charge_id, int64_t amount, int64_t fee_minor,
			    const char *currency, int64_t now, char ret_balance_txn_id[ID_MAX]);

/* Posts the reinstatement of a won chargeback's amount, in the charge's currency, converted at
 * the same recorded rate as the withdrawal (the fee stays withdrawn). */
int ledger_dispute_reinstate(struct db *db, const char *merchant_id, const char *dispute_id,
			     const char *charge_id, int64_t amount, const char *currency,
			     int64_t now, char ret_balance_txn_id[ID_MAX]);

struct verify_report;
/* The dispute invariants (tender verify), one verify_fail per violation: every non-inquiry
 * dispute has exactly one withdrawal of −amount (in its currency); only won ones have a
 * reinstatement, of exactly +amount; inquiries have no balance transaction; every adjustment's
 * source is a dispute; a disputed charge has its dispute and the reverse. Returns 0, or -1 when
 * a check could not run (reported too). */
int ledger_dispute_verify(struct db *db, struct verify_report *rep);

#endif
