/*
 * What the Treasury files share (api/treasury.c: financial accounts, transactions, received
 * credits and debits; api/treasury_flows.c: outbound transfers and payments, inbound
 * transfers): the financial account as loaded, its balance and movement lock, and the booking of
 * Treasury transactions and their entries (each entry a journal transaction of the ledger,
 * ledger/ledger_treasury.h), all inside the caller's write.
 */
#ifndef TENDER_API_TREASURY_H
#define TENDER_API_TREASURY_H

#include <stdbool.h>
#include <stdint.h>

#include "core/id.h"
#include "http/req.h"
#include "ledger/ledger_treasury.h"
#include "store/db.h"

struct treasury_fa {
	char id[ID_MAX];
	int64_t created;
	unsigned features;
	const char *status, *supported_currencies, *platform_restrictions, *metadata;
	const char *holder_name, *routing_number, *account_last4;
};

/* Whether feature `name` ("outbound_transfers.ach", …) is requested (and so active) on f. */
bool treasury_fa_has_feature(const struct treasury_fa *f, const char *name);

/* Whether the platform restricted f's flows ("inbound_flows" or "outbound_flows"). */
bool treasury_fa_restricted(const struct treasury_fa *f, const char *flows);

/* Loads financial account id of r's merchant for a movement and takes its movement lock (so the
 * balance read next stays true until the write ends): 0, or -1 with r->err (404 naming
 * `param`, or 400 when it is closed or its `restriction` flows are restricted by the platform:
 * "inbound_flows" / "outbound_flows", NULL for none). */
int treasury_fa_for_movement(struct req *r, struct db *db, const char *id, const char *param,
			     const char *restriction, struct treasury_fa *ret);
/* The balance of financial account fa_id in currency, summed from its entries. DB_OK or < 0. */
int treasury_fa_balance(struct db *db, const char *merchant_id, const char *fa_id,
			const char *currency, struct treasury_impact *ret);

/* A new Treasury transaction (trxn_) of fa: status "open" (a flow in progress) or "posted"
 * (posted_at now). 0, or -1 with r->err. */
int treasury_txn_new(struct req *r, struct db *db, const char *fa, const char *currency,
		     int64_t amount, const char *description, const char *flow,
		     const char *flow_type, const char *status, char ret_id[ID_MAX]);
/* Appends one entry (trxne_) of type entry_type with impact to transaction trxn_id of fa, and
 * its journal transaction. 0, or -1 with r->err. */
int treasury_txn_entry(struct req *r, struct db *db, const char *trxn_id, const char *fa,
		       const char *currency, const char *flow, const char *flow_type,
		       const char *entry_type, const struct treasury_impact *impact);
/* Moves open transaction trxn_id to "posted" or "void" (its posted_at / void_at now). 0, or -1
 * with r->err (also when it was not open). */
int treasury_txn_settle(struct req *r, struct db *db, const char *trxn_id, const char *status);

/* Inbound transfer inbound_transfer of fa returned: its amount taken back as a succeeded ACH
 * received debit (rd_, linked_flows.inbound_transfer naming the transfer, initiating the
 * transfer's origin details), whatever the cash (a return is not refused: the balance may go
 * below zero, as on Stripe), with its transaction and event. ret_id gets the debit's id. 0, or -1
 * with r->err. */
int treasury_return_as_received_debit(struct req *r, struct db *db, const char *fa, int64_t amount,
				      const char *currency, const char *description,
				      const char *initiating, const char *inbound_transfer,
				      char ret_id[ID_MAX]);

#endif
