#include <criterion/criterion.h>

#include "core/hist.h"

Test(hist, quantiles_are_bucket_upper_edges_and_a_take_empties_it)
{
	static struct hist h;
	double p50, p99;
	hist_take(&h, &p50, &p99);
	cr_assert_eq(p50, 0.0);
	cr_assert_eq(p99, 0.0);
	/* 98 fast samples (0.25 ms → the 0.2–0.3 ms bucket), two slow ones (7 ms) */
	for (int i = 0; i < 98; i++)
		hist_add(&h, 250);
	hist_add(&h, 7000);
	hist_add(&h, 7050);
	hist_take(&h, &p50, &p99);
	cr_assert_float_eq(p50, 0.3, 1e-9);
	cr_assert_float_eq(p99, 7.1, 1e-9);
	hist_take(&h, &p50, &p99);
	cr_assert_eq(p99, 0.0, "the take emptied it");
}

Test(hist, out_of_range_samples_land_in_the_end_buckets)
{
	static struct hist h;
	double p50, p99;
	hist_add(&h, -5);
	hist_take(&h, &p50, &p99);
	cr_assert_float_eq(p50, 0.1, 1e-9);
	hist_add(&h, INT64_C(10000000));
	hist_take(&h, &p50, &p99);
	cr_assert_float_eq(p99, HIST_BUCKETS / 10.0, 1e-9);
}
