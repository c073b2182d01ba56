/*
 * The Connect terms of a payment as its requests name them, shared by PaymentIntents and the
 * Charges API so that a destination charge or an application fee is checked one way: at create
 * (transfer_data[destination], on_behalf_of, application_fee_amount, transfer_group), and at
 * capture or an incremental authorization (application_fee_amount, transfer_data[amount]),
 * which change the terms the capture then settles (payments/flow.c, connect_settle).
 */
#ifndef TENDER_API_PAYMENTS_CONNECT_H
#define TENDER_API_PAYMENTS_CONNECT_H

#include <stdint.h>

#include "http/req.h"
#include "payments/payments.h"

/* Which object a message names ("PaymentIntent" or "charge") and the parameters that carry the
 * destination and the fee in this request (the legacy charge's `destination[account]` and
 * `application_fee` included). */
struct connect_params {
	const char *object;
	const char *destination_param;	   /* e.g. "transfer_data[destination]" */
	const char *fee_param;		   /* e.g. "application_fee_amount" */
	const char *transfer_amount_param; /* e.g. "transfer_data[amount]" */
};

/* Checks terms c of a payment of `amount` (the amounts' bounds, a fee needs a destination or a
 * direct charge through Stripe-Account, not both a fee and transfer_data[amount]). 0, or -1 with
 * Stripe's 400 in r->err. */
int payments_connect_check_terms(struct req *r, const struct payment_connect *c, int64_t amount,
				 const struct connect_params *p);

/* Checks, in a read of its own, that c's destination and on_behalf_of are connected accounts of
 * the merchant that can take payments, and that Tender can convert `currency` into what the
 * destination settles in. 0, or -1 with r->err. */
/* Inside a transaction: destination and on_behalf_of (either NULL) are connected accounts of
 * r's merchant that may take payments; else Stripe's 400 naming destination_param or
 * on_behalf_of. 0, or -1 with r->err. */
int payments_connect_accounts_usable(struct req *r, struct db *db, const char *destination,
				     const char *destination_param, const char *on_behalf_of);
int payments_connect_check_accounts(struct req *r, const struct payment_connect *c,
				    const char *currency, const struct connect_params *p);
/* The same inside a transaction of the caller's (a Checkout Session's create, whose currency
 * is known only once its line items are priced there). 0, or -1 with r->err. */
int payments_connect_check_accounts_db(struct req *r, struct db *db,
				       const struct payment_connect *c, const char *currency,
				       const struct connect_params *p);

/* At capture or an incremental authorization: application_fee_amount (or the legacy
 * application_fee when legacy_fee) and transfer_data[amount] of this request replace c's, checked
 * against `amount` (what the payment is for: its authorization). Nothing given leaves c as it
 * is. 0, or -1 with r->err. */
int payments_connect_at_capture(struct req *r, struct payment_connect *c, int64_t amount,
				bool legacy_fee, const char *object);

#endif
