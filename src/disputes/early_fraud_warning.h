/*
 * Early fraud warnings (Stripe's radar.early_fraud_warning, issfr_…): the issuer's notice that a
 * charge may be fraudulent, which often comes before a dispute.
 *
 * In test mode the card network sends one for Stripe's test card 4000000000005423
 * (pm_card_createIssuerFraudRecord / tok_createIssuerFraudRecord) DISPUTE_NETWORK_DELAY_S after
 * the charge is captured, through the disputes' network jobs (dispute.h): the capture records the
 * job, the scheduler opens the warning (radar.early_fraud_warning.created). A warning is
 * actionable while its charge is neither disputed nor fully refunded (Stripe's definition); the
 * refund or dispute that ends it calls efw_charge_changed in its own write, which turns it
 * unactionable with radar.early_fraud_warning.updated. At most one warning per charge.
 *
 * Every function runs inside the caller's write (or read, for efw_render) transaction and returns
 * DB_OK or a negative code.
 */
#ifndef TENDER_DISPUTES_EARLY_FRAUD_WARNING_H
#define TENDER_DISPUTES_EARLY_FRAUD_WARNING_H

#include <stdbool.h>
#include <stdint.h>

#include "core/json.h"
#include "events/events.h"
#include "store/db.h"

#define EFW_FRAUD_TYPE_TEST "made_with_stolen_card"
/* the disputes' network job (dispute_jobs.reason) that opens a warning */
#define EFW_JOB_REASON "early_fraud_warning"

/* Renders warning id of merchant_id. DB_NOTFOUND when it has none of that id. */
int efw_render(struct db *db, const char *merchant_id, bool livemode, const char *id,
	       struct json *j);

/* Opens the warning of charge_id (radar.early_fraud_warning.created); nothing when the charge
 * has one already or is not the merchant's (DB_OK either way). */
int efw_open(struct db *db, const char *merchant_id, const struct event_origin *origin,
	     const char *charge_id, int64_t now);

/* After a refund or a dispute of charge_id: an actionable warning of a charge now disputed or
 * refunded in full becomes unactionable (radar.early_fraud_warning.updated). */
int efw_charge_changed(struct db *db, const char *merchant_id, const struct event_origin *origin,
		       const char *charge_id, int64_t now);

#endif
