/*
 * Radar reviews (Stripe's `review`, prv_…): a payment a merchant's `manual_review` rule placed in
 * review (risk/rules.h) goes through (outcome.type manual_review) and its charge names an open
 * review, opened by the payment's own write (review.opened). It is closed by an approval
 * (POST /v1/reviews/{id}/approve: `approved`), by a refund of the charge (`refunded`, or
 * `refunded_as_fraud` for a refund with reason fraudulent) or by a dispute (`disputed`), each
 * appending review.closed in its own write. At most one review per charge.
 *
 * The charge's `review` is read only for a charge whose outcome says manual_review
 * (review_for_charge), so rendering any other charge costs nothing more.
 */
#ifndef TENDER_RISK_REVIEW_H
#define TENDER_RISK_REVIEW_H

#include <stdbool.h>
#include <stdint.h>

#include "core/id.h"
#include "core/json.h"
#include "events/events.h"
#include "store/db.h"

#define REVIEW_OUTCOME_TYPE "manual_review"

/* Opens review id (chosen by the caller, "prv_…") of charge_id; review.opened. */
int review_open(struct db *db, const char *merchant_id, const struct event_origin *origin,
		const char *id, const char *charge_id, const char *payment_intent,
		const char *ip_address, int64_t now);

/* Renders review id. DB_NOTFOUND when merchant_id has none of that id. *ret_open (when not
 * NULL) tells whether it is open. */
int review_render(struct db *db, const char *merchant_id, bool livemode, const char *id,
		  struct json *j, bool *ret_open);

/* Closes open review id with reason (approved, refunded, refunded_as_fraud, disputed):
 * review.closed. DB_CONFLICT when it is not open. */
int review_close(struct db *db, const char *merchant_id, const struct event_origin *origin,
		 const char *id, const char *reason, int64_t now);

/* Closes charge_id's review, when it has an open one (DB_OK when it has none). */
int review_close_for_charge(struct db *db, const char *merchant_id,
			    const struct event_origin *origin, const char *charge_id,
			    const char *reason, int64_t now);

/* The review of a charge whose outcome JSON is outcome: NULL (no query) unless its type is
 * manual_review; then the id in ret (DB_OK) or DB_NOTFOUND. */
int review_for_charge(struct db *db, const char *merchant_id, const char *charge_id,
		      const char *outcome, char ret[ID_MAX]);

#endif
