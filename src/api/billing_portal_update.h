/*
 * The customer portal's plan changes (features[subscription_update]): what billing_portal.c
 * asks of billing_portal_update.c. See the top of billing_portal_update.c.
 */
#ifndef TENDER_API_BILLING_PORTAL_UPDATE_H
#define TENDER_API_BILLING_PORTAL_UPDATE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "api/common.h"

/* A subscription as the portal's plan change sees it. `why` (NULL when it can be changed here)
 * says why not. Strings in r's arena or inline. */
struct portal_plan {
	char sub[ID_MAX], customer[ID_MAX], item[ID_MAX], price[ID_MAX];
	char currency[8], status[24];
	int64_t quantity, period_end;
	const char *why;
};

/* Inside a configuration's write: features JSON f's subscription_update checked as Stripe
 * checks it (its products exist, are active and the merchant's, each price of its product,
 * active, recurring and licensed; enabled needs a product) and refused where Tender does not
 * offer it (promotion_code). 0, or -1 with r->err. */
int portal_update_conf_check(struct req *r, struct db *db, const char *features);

/* Inside a transaction: subscription `sub` as the portal's plan change sees it under
 * configuration features f (its `why` set when it cannot be changed). DB_OK, DB_NOTFOUND, or
 * < 0. */
int portal_plan_load(struct req *r, struct db *db, json_t *f, const char *sub,
		     struct portal_plan *ret);

/* The configuration lets a plan change `what` (price, quantity). */
bool portal_update_allows(json_t *f, const char *what);

/* A change of plan p to price (NULL: unchanged) and quantity (0: unchanged) is one the
 * configuration allows, and changes something. price_shown and qty_shown: the parameters'
 * names in errors. 0, or -1 with r->err. */
int portal_update_choice_check(struct req *r, struct db *db, json_t *f, const struct portal_plan *p,
			       const char *price, int64_t qty, const char *price_shown,
			       const char *qty_shown);

/* Appends the plan choice of p (the prices the configuration offers it, the quantity when
 * allowed) as a form posting to `action` with one-time value nonce. DB_OK or < 0. */
int portal_update_choose_html(struct req *r, struct db *db, json_t *f, const struct portal_plan *p,
			      struct buf *b, const char *action, const char *nonce);

/* Appends the confirmation of p's change to price / qty: the new plan, the prorations and the
 * amount due now or on the next invoice, previewed by the subscription update's own code
 * (subscription_preview) and the invoices' (lines, discounts, taxes, the customer's balance),
 * with a form posting the same change to `action`. 0, or -1 with r->err. */
int portal_update_confirm_html(struct req *r, struct db *db, json_t *f, const struct portal_plan *p,
			       const char *price, int64_t qty, struct buf *b, const char *action,
			       const char *nonce);

/* Outside a transaction: p's change made through the subscription update's own code
 * (subscription_change: its events, prorations, and its invoice paid at once for
 * always_invoice), with the configuration's proration_behavior; a payment that fails undoes
 * it. in_write (NULL: none) runs in the change's write, with ctx. Its JSON answer is dropped
 * (the page answers). 0, or -1 with r->err. */
int portal_update_apply(struct req *r, json_t *f, const struct portal_plan *p, const char *price,
			int64_t qty, int (*in_write)(struct req *, struct db *, void *), void *ctx);

/* Inside a session's write: flow_data[subscription_update] or
 * [subscription_update_confirm] (type) of plan p checked as Stripe checks them, rendered as
 * the session's flow shows them (*ret_update, *ret_confirm: JSON or NULL). 0, or -1 with
 * r->err. */
int portal_update_flow(struct req *r, struct db *db, json_t *f, const char *type,
		       const struct portal_plan *p, const char **ret_update,
		       const char **ret_confirm);

/* A time as the portal pages show a date: "2024-05-01" (UTC) (billing_portal.c). */
void portal_html_date(struct buf *b, int64_t t);

#endif
