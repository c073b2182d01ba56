/*
 * A PaymentIntent's newer parameters (stripe-node 23): amount_details (line items, shipping, tax,
 * discount), payment_details (customer_reference, order_reference), excluded_payment_method_types
 * and hooks (inputs[tax][calculation]). They change nothing about how the payment is made: they
 * are checked, kept in the intent's one `details` column (payments.h) and shown on it. An intent
 * given none of them keeps that column NULL and costs nothing more to confirm.
 */
#ifndef TENDER_API_PI_DETAILS_H
#define TENDER_API_PI_DETAILS_H

#include <stdbool.h>
#include <stdint.h>

#include "http/params.h"

struct req;
struct db;
struct payment_intent;

/* The parameters' declarations: each route's flags differ (the SDK's types say which may be ""
 * to unset: update's all, confirm's amount_details, excluded_payment_method_types and
 * payment_details, capture's payment_details). */
extern const struct param_spec pi_amount_details_params[];
extern const struct param_spec pi_payment_details_params[];
extern const struct param_spec pi_hooks_params[];
#define PI_DETAILS_PARAMS(ad_flags, pd_flags)                                                      \
	{"amount_details", PT_OBJECT, (ad_flags), 0, NULL, pi_amount_details_params},              \
	    {"hooks", PT_OBJECT, 0, 0, NULL, pi_hooks_params},                                     \
	{                                                                                          \
		"payment_details", PT_OBJECT, (pd_flags), 0, NULL, pi_payment_details_params       \
	}
#define PI_EXCLUDED_PARAM(flags)                                                                   \
	{                                                                                          \
		"excluded_payment_method_types", PT_STRING_ARRAY, (flags), 0, NULL, NULL           \
	}

/* Whether the request names any of the four (one pass over its top-level names). */
bool pi_details_present(const struct req *r);

/*
 * The request's amount_details, payment_details, excluded_payment_method_types and hooks onto
 * pi->details (each part given replaces the one held, "" unsets it; amount_details' own parts
 * likewise), checked: amount_details must add up to `amount` (the intent's amount, or what a
 * capture takes) whenever they or the amount change (amount_changed), unless
 * amount_details[enforce_arithmetic_validation]=false, which keeps the intent and shows the
 * problem in amount_details.error instead of refusing it. db: the caller's transaction, or NULL
 * (a tax calculation named in hooks is then looked up in a read of its own). 0, or -1 with
 * r->err and pi unchanged.
 */
int pi_details_apply(struct req *r, struct db *db, struct payment_intent *pi, int64_t amount,
		     bool amount_changed);

/* excluded_payment_method_types held in details (a details column, or NULL) as a set of
 * pm_types bits (the types Tender does not offer have none). */
unsigned pi_details_excluded(const char *details);

/* GET /v1/payment_intents/{id}/amount_details_line_items: a page (limit, starting_after,
 * ending_before) of the line items held in details (the intent pi_id's column, or NULL: none)
 * as a list into j. 0, or -1 with r->err. */
struct json;
int pi_details_line_items_page(struct req *r, const char *pi_id, const char *details,
			       struct json *j);

#endif
