/*
 * Expanding a field that names an object by id, whatever its kind: the kind is read from the id's
 * prefix (Stripe's ids carry it), and the object is rendered by the module that owns it, scoped by
 * the caller's merchant. Used where a field may name several kinds (a balance transaction's
 * `source`) and where the object holding the field is rendered by a module that does not know
 * the other one (a charge's `transfer`, `application_fee`, `review`, `invoice`). Issuing's
 * authorizations, transactions and disputes are the sources of the Issuing balance's.
 */
#include <stdio.h>
#include <string.h>

#include "api/billing_internal.h"
#include "api/payments_common.h"
#include "api/resources.h"
#include "payments/payments.h"
#include "risk/review.h"

static bool has_prefix(const char *s, const char *p)
{
	return strncmp(s, p, strlen(p)) == 0;
}

int api_render_by_id(struct req *r, struct db *db, const char *id, const char *field,
		     struct json *j)
{
	char dotted[64];
	snprintf(dotted, sizeof(dotted), "%s.", field);
	/* longer prefixes first: "trr_" before "tr_", "fr_" is not "fee_" */
	if (has_prefix(id, "ch_") || has_prefix(id, "py_")) { /* py_: a bank debit's charge */
		struct expand_set ex;
		payments_expand_from_req(r, &ex, field);
		return charge_render_by_id(db, &r->arena, r->merchant_id, r->livemode, id, &ex, j);
	}
	if (has_prefix(id, "re_"))
		return refund_render_id(r, db, id, j);
	if (has_prefix(id, "po_"))
		return payout_render_id(r, db, id, dotted, j);
	if (has_prefix(id, "dp_"))
		return dispute_render_id(r, db, id, field, j);
	if (has_prefix(id, "trr_"))
		return transfer_reversal_render_id(r, db, id, j);
	if (has_prefix(id, "tr_"))
		return transfer_render_id(r, db, id, j);
	if (has_prefix(id, "fee_"))
		return application_fee_render_id(r, db, id, j);
	if (has_prefix(id, "fr_"))
		return fee_refund_render_id(r, db, id, j);
	if (has_prefix(id, "in_"))
		return invoice_render_by_id(r, db, id, dotted, j);
	if (has_prefix(id, "prv_"))
		return review_render(db, r->merchant_id, r->livemode, id, j, NULL);
	if (has_prefix(id, "iauth_") || has_prefix(id, "ipi_") || has_prefix(id, "idp_"))
		return issuing_spend_render_id(r, db, id, j);
	return DB_NOTFOUND;
}
