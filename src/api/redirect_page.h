/*
 * Redirect payment methods at the API (redirect_page.c): a PaymentIntent confirmed with an ideal,
 * bancontact, affirm, afterpay_clearpay or klarna PaymentMethod, and Tender's hosted test page
 * standing in for the customer's bank or lender
 * (/redirect/{merchant}/{intent}/{token}; no API key, the token is the secret). payments/redirect.h
 * tells the design.
 */
#ifndef TENDER_API_REDIRECT_PAGE_H
#define TENDER_API_REDIRECT_PAGE_H

#include <stdbool.h>

#include "http/req.h"
#include "payments/payments.h"

/* Confirms pi (requires_payment_method / requires_confirmation / requires_action; insert_first:
 * created by this request and not stored yet) with redirect PaymentMethod pm_id of type: in a
 * currency the type takes (pm_types), automatic capture only for ideal / bancontact, within a
 * buy-now-pay-later lender's amount limits and with the details it requires, a return_url (the
 * request's or the intent's) required. Its one write leaves the intent requires_action with
 * next_action redirect_to_url (the hosted test page), records the page's token, appends
 * payment_intent.requires_action (after payment_intent.created when insert_first) and answers
 * with the intent. 0, or -1 with r->err. */
int redirect_pi_confirm(struct req *r, const struct payment_intent *pi, bool insert_first,
			const char *pm_id, const char *type);

/* A Checkout Session's payment (api/checkout.c): pi (made by the page, not stored yet, naming
 * its session and the session's own return URL) confirmed with redirect PaymentMethod pm_id of
 * type (ideal, bancontact, affirm, afterpay_clearpay or klarna) as redirect_pi_confirm confirms it;
 * *ret_url: the hosted test page the browser goes to. 0, or -1 with r->err. */
int redirect_pi_confirm_checkout(struct req *r, const struct payment_intent *pi, const char *pm_id,
				 const char *type, const char **ret_url);

#endif
