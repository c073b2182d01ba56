/*
 * A customer's active entitlements (Stripe's Entitlements): the features attached to the
 * products of its subscriptions in status active or trialing, one per feature. They are kept as
 * rows (active_entitlements, so that each has a stable ent_… id) equal to that set: every write
 * that may change it calls entitlements_sync, which computes the set from the store, compares it
 * with the rows, writes the difference and, only when there is one, appends
 * entitlements.active_entitlement_summary.updated (the summary after, and before as
 * previous_attributes) in the same transaction. No store access happens on a payment that has no
 * subscription: the hook is in the subscriptions' own event writer (api/subscriptions.c).
 */
#ifndef TENDER_BILLING_ENTITLEMENTS_H
#define TENDER_BILLING_ENTITLEMENTS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/id.h"
#include "core/json.h"
#include "events/events.h"
#include "store/db.h"

/* A customer's active entitlements, at most (past that the set is cut). */
#define ENTITLEMENTS_MAX 500
/* Customers one attach or detach of a product feature brings up to date, at most. */
#define ENTITLEMENTS_FANOUT_MAX 1000
#define ENTITLEMENT_LOOKUP_KEY_MAX 80

struct entitlement {
	char id[ID_MAX];      /* ent_… ("" for one not stored yet) */
	char feature[ID_MAX]; /* feat_… */
	char lookup_key[ENTITLEMENT_LOOKUP_KEY_MAX + 1];
};

/*
 * The difference between two sets of entitlements, each sorted by feature (strcmp) without a
 * feature twice: the indices of want's entries whose feature is not in have (ret_add, in
 * order, *ret_n_add of them) and of have's whose feature is not in want (ret_del). ret_add has
 * room for n_want, ret_del for n_have. Returns the number of differences.
 */
int entitlements_diff(const struct entitlement *want, int n_want, const struct entitlement *have,
		      int n_have, int *ret_add, int *ret_n_add, int *ret_del, int *ret_n_del);

/* Sorts n entitlements by feature (strcmp: the same order whatever the store's collation). */
void entitlements_sort(struct entitlement *e, int n);

/* Renders one entitlements.active_entitlement. */
void entitlement_render(struct json *j, const struct entitlement *e, bool livemode);

/*
 * Inside the caller's write: brings customer's active entitlements to what its subscriptions
 * give now and, when they changed, appends the summary event at `created`. 0, or < 0 (a store
 * error: the caller fails its write).
 */
int entitlements_sync(struct db *db, const char *merchant_id, const char *customer,
		      const struct event_origin *origin, int64_t created);

/* The same for every customer with a subscription (active or trialing) to product, after one
 * of its features was attached or detached (each summary at `created`, or at the customer's
 * test clock's time). 0; 1 when more than ENTITLEMENTS_FANOUT_MAX
 * customers would be (nothing done); < 0. */
int entitlements_sync_product(struct db *db, const char *merchant_id, const char *product,
			      const struct event_origin *origin, int64_t created);

#endif
