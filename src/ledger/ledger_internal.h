/*
 * What the ledger's own files share and nobody else should call: the one function that inserts a
 * balance transaction. Movement functions (ledger.c, ledger_dispute.c) post their journal
 * transaction with ledger_post() first and then record the merchant-facing view with bt_insert()
 * in the same caller transaction, naming that journal transaction.
 */
#ifndef TENDER_LEDGER_LEDGER_INTERNAL_H
#define TENDER_LEDGER_LEDGER_INTERNAL_H

#include <stdint.h>

#include "core/id.h"
#include "store/db.h"

struct fx_rate;

struct bt {
	const char *id; /* NULL: a new "txn_…" id */
	const char *type, *source, *currency, *status, *description, *journal_txn;
	int64_t amount, fee, created, available_on;
	const char *charge_id; /* the charge it belongs to (NULL: none) */
	/* a converted movement: the rate and the amount in the presentment currency (signed like
	 * amount); rate NULL: no conversion */
	const struct fx_rate *rate;
	int64_t presentment_amount;
	const char *balance_type; /* the balance it moves: NULL "payments", or "issuing" */
};

/* Inserts one balance transaction (net = amount − fee, overflow-checked; reporting_category from
 * the type); ret_id (may be NULL) gets its "txn_…" id (b->id when given). */
int bt_insert(struct db *db, const char *merchant_id, const struct bt *b, char ret_id[ID_MAX]);
/* A paid top-up (ledger_topup.c): DR topup_funding / CR account, journal type journal_type, a
 * "topup" balance transaction available at once of balance_type (NULL: the payments balance's
 * default). The one movement behind ledger_topup and ledger_issuing_topup. */
int ledger_topup_into(struct db *db, const char *merchant_id, const char *topup_id, int64_t amount,
		      const char *currency, const char *description, int64_t now,
		      const char *account, const char *journal_type, const char *balance_type,
		      char ret_balance_txn_id[ID_MAX]);

#endif
