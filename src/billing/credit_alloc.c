#include "billing/credit_alloc.h"

int64_t credit_alloc_grant(int64_t *line_left, const bool *covers, int n, int64_t *grant_left,
			   int64_t *cap_left, int64_t *takes)
{
	int64_t sum = 0;
	for (int k = 0; k < n; k++) {
		takes[k] = 0;
		if (!covers[k] || line_left[k] <= 0 || *grant_left <= 0 || *cap_left <= 0)
			continue;
		int64_t take = line_left[k];
		if (take > *grant_left)
			take = *grant_left;
		if (take > *cap_left)
			take = *cap_left;
		takes[k] = take;
		line_left[k] -= take;
		*grant_left -= take;
		*cap_left -= take;
		sum += take; /* at most the cap it came from: no overflow */
	}
	return sum;
}
