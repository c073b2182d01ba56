#include "billing/transform.h"

int qty_transform_apply(const struct qty_transform *t, int64_t quantity, int64_t *ret)
{
	if (quantity < 0 || (t && t->divide_by < 0))
		return -1;
	if (!qty_transform_set(t)) {
		*ret = quantity;
		return 0;
	}
	int64_t q = quantity / t->divide_by;
	/* a part of a pack is a whole pack when rounding up; q + 1 cannot overflow when a
	 * remainder exists (divide_by >= 2 then), but the check keeps that explicit */
	if (t->round_up && quantity % t->divide_by != 0 && __builtin_add_overflow(q, 1, &q))
		return -1;
	*ret = q;
	return 0;
}
