/*
 * Connect objects that move money between a platform and its connected accounts: transfers,
 * their reversals, and application fees (their rows, rendering and the writes that make them).
 * The money itself moves in ledger_connect.h. Every row belongs to the platform (merchant_id);
 * the connected account sees only its own side: the "payment" (py_…) and "payment_refund"
 * (pyr_…) balance transactions in its balance.
 *
 * Used by the transfers API, and by the payment flow for destination charges (a PaymentIntent's
 * transfer_data[destination]): a destination charge's capture makes a transfer of the captured
 * amount (or transfer_data[amount]) funded by the charge, so it becomes available to the
 * connected account the day the charge's funds do, and with application_fee_amount the
 * connected account pays that fee back to the platform out of it (an application fee object).
 *
 * A connected account settles in its own currency (connect_settlement_currency): a transfer in
 * another one arrives converted at the rate of the moment, and its reversals and its fee's
 * refunds go back at that recorded rate (ledger_connect.h has the rule and the books).
 */
#ifndef TENDER_PAYMENTS_CONNECT_H
#define TENDER_PAYMENTS_CONNECT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/id.h"
#include "core/json.h"
#include "events/events.h"
#include "ledger/ledger_connect.h"
#include "store/db.h"

/* At most this many reversals are rendered inside a transfer (its `reversals` list; the rest
 * page through GET /v1/transfers/{id}/reversals), as Stripe does. */
#define TRANSFER_REVERSALS_INLINE 10

struct transfer {
	char id[ID_MAX];
	int64_t created, amount, amount_reversed;
	char currency[8];
	const char *destination, *destination_payment;
	const char *balance_transaction, *destination_balance_transaction;
	const char *source_transaction, *transfer_group, *description, *metadata;
};

struct transfer_reversal {
	char id[ID_MAX];
	int64_t created, amount;
	char currency[8];
	const char *transfer, *balance_transaction, *destination_payment_refund;
	const char *destination_balance_transaction, *source_refund, *metadata;
};

struct application_fee {
	char id[ID_MAX];
	int64_t created, amount, amount_refunded;
	char currency[8];
	const char *account, *charge, *originating_transaction, *balance_transaction;
};

/* What a transfer is made of. ids: NULL for new ones (transfer_id may be chosen ahead, so that
 * a charge rendered before its write names it). */
struct transfer_new {
	const char *platform, *destination;
	const char *transfer_id, *fee_id;
	int64_t amount;
	int64_t fee; /* an application fee the destination pays back out of it; 0: none */
	const char *currency;
	const char *source_transaction; /* the platform's charge that funds it, or NULL */
	const char *transfer_group, *description, *metadata;
	struct ledger_bucket bucket; /* where the platform's funds are (ledger_connect.h) */
	int64_t now;
	const struct event_origin *origin;
	/* the rates a transfer to an account settling in another currency converts with (the
	 * caller's reference, app_fx_acquire); NULL: such a transfer fails (LEDGER_ERR_NO_RATE) */
	const struct fx_table *fx;
	/* a destination charge's payment: held by the destination's rolling reserve */
	bool reserve;
};

/* The currency a transfer in `currency` arrives in at connected account `destination`, as on
 * Stripe: that currency itself when the account has an external account (bank account or debit
 * card) in it, whose balance it then pays out (multi-currency settlement); else the account's
 * default currency (its settlement currency), into which the transfer is converted
 * (ledger_connect.h); the rule of the account's own charges too (ledger_settlement_currency).
 * DB_OK, DB_NOTFOUND for an unknown account, or < 0. */
int connect_settlement_currency(struct db *db, const char *destination, const char *currency,
				char ret[8]);

/* Makes the transfer: its row, the ledger's movements in both merchants, the application fee's
 * row when fee > 0, and the platform's transfer.created (and application_fee.created) events.
 * Inside the caller's write transaction. ret gets the transfer (strings in a); ret_fee_id (may
 * be NULL) the fee's id or "". */
int transfer_make(struct db *db, struct arena *a, const struct transfer_new *in,
		  struct transfer *ret, char ret_fee_id[ID_MAX]);

/* A direct charge's application fee (charge_id on the connected account `account`, made
 * through Stripe-Account): the ledger's movement, the platform's fee row and its
 * application_fee.created. */
int application_fee_direct(struct db *db, struct arena *a, const char *platform,
			   const char *account, const char *charge_id, const char *fee_id,
			   int64_t fee, const char *currency, const struct ledger_bucket *bucket,
			   int64_t now, const struct event_origin *origin);

/* How much the platform's charge has funded already (its transfers' amounts). */
int transfer_funded_by(struct db *db, const char *platform, const char *charge_id, int64_t *ret);

int transfer_load(struct db *db, struct arena *a, const char *platform, const char *id,
		  struct transfer *ret);
int transfer_render(struct db *db, struct arena *a, const char *platform, int livemode,
		    const struct transfer *t, struct json *j);
/* The same, with destination_payment rendered by `payment` (expand[]=destination_payment;
 * NULL: its id). */
int transfer_render_ex(struct db *db, struct arena *a, const char *platform, int livemode,
		       const struct transfer *t,
		       int (*payment)(void *, struct db *, const char *, struct json *), void *ctx,
		       struct json *j);

struct charge;
/* A transfer's destination payment (py_…) as the Charge connected account `account` sees
 * (Stripe's): read-only, made from the transfer row its platform holds and the account's
 * balance transaction for it, nothing stored twice. The amount and currency are what arrived
 * (converted when the account settles in another currency), amount_refunded what the
 * transfer's reversals took back in that currency, source_transfer the transfer.
 * DB_NOTFOUND when id is no payment of a transfer to `account` (another account's, or the
 * platform asking). ret_transfer (may be NULL) gets the transfer. */
int destination_payment_load(struct db *db, struct arena *a, const char *account, const char *id,
			     struct charge *ret, struct transfer *ret_transfer);
/* Sets metadata and/or description (NULL: unchanged). */
int transfer_update(struct db *db, const char *platform, const struct transfer *t);

/* Reverses r of transfer t (t->amount_reversed grows; DB_CONFLICT when that would pass the
 * transfer's amount), and appends transfer.reversed on the platform. description (NULL: none)
 * is the platform's balance transaction's, as Stripe shows a reversal's beside it. */
int transfer_reverse(struct db *db, struct arena *a, const char *platform, struct transfer *t,
		     int64_t r, const char *metadata, const char *description,
		     const char *source_refund, int64_t now, const struct event_origin *origin,
		     struct transfer_reversal *ret);
/* transfer_id NULL: the reversal of whichever of the platform's transfers has it */
int transfer_reversal_load(struct db *db, struct arena *a, const char *platform,
			   const char *transfer_id, const char *id, struct transfer_reversal *ret);
void transfer_reversal_render(const struct transfer_reversal *v, struct json *j);
int transfer_reversal_set_metadata(struct db *db, const char *platform,
				   const struct transfer_reversal *v);

struct fee_refund {
	char id[ID_MAX];
	int64_t created, amount;
	char currency[8];
	const char *fee, *balance_transaction, *account_balance_transaction, *metadata;
};

/* Gives `amount` of fee f back to the account that paid it (f->amount_refunded grows;
 * DB_CONFLICT when that would pass the fee), and appends application_fee.refunded. */
int application_fee_refund(struct db *db, struct arena *a, const char *platform,
			   struct application_fee *f, int64_t amount, const char *metadata,
			   int64_t now, const struct event_origin *origin, struct fee_refund *ret);
/* fee_id NULL: the refund of whichever of the platform's fees has it */
int fee_refund_load(struct db *db, struct arena *a, const char *platform, const char *fee_id,
		    const char *id, struct fee_refund *ret);
void fee_refund_render(const struct fee_refund *v, struct json *j);
int fee_refund_set_metadata(struct db *db, const char *platform, const struct fee_refund *v);

int application_fee_load(struct db *db, struct arena *a, const char *platform, const char *id,
			 struct application_fee *ret);
/* With its newest refunds inline (a store read). */
int application_fee_render(struct db *db, struct arena *a, const char *platform, int livemode,
			   const struct application_fee *f, struct json *j);

#endif
