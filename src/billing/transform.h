/*
 * A per-unit price's quantity transformation (a price's transform_quantity, a plan's
 * transform_usage): the quantity, or a metered price's usage, divided by divide_by and rounded
 * up or down before it is multiplied by the unit amount ("sold in packs of 10": 25, divide_by
 * 10, up → 3 units billed). Pure: no store, no request; integer arithmetic only.
 */
#ifndef TENDER_BILLING_TRANSFORM_H
#define TENDER_BILLING_TRANSFORM_H

#include <stdbool.h>
#include <stdint.h>

/* divide_by 0: no transformation (the quantity is billed as it is) */
struct qty_transform {
	int64_t divide_by; /* >= 1, or 0 */
	bool round_up;	   /* else down */
};

static inline bool qty_transform_set(const struct qty_transform *t)
{
	return t && t->divide_by > 0;
}

/* The quantity billed for `quantity` (>= 0) under t (NULL or unset: quantity itself):
 * quantity / divide_by rounded as t says. 0, or -1 (quantity < 0, divide_by < 0). */
int qty_transform_apply(const struct qty_transform *t, int64_t quantity, int64_t *ret);

#endif
