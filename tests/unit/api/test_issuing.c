/* Issuing's merchant categories (Stripe's names are known, the table is sorted for bsearch, and
 * anything else is not), their codes, and how an authorization reads spending controls. */
#include <criterion/criterion.h>
#include <stdint.h>

#include "api/issuing.h"

Test(issuing, categories_are_stripes)
{
	cr_assert(issuing_category_known("ac_refrigeration_repair")); /* the first */
	cr_assert(issuing_category_known("bakeries"));
	cr_assert(issuing_category_known("betting_casino_gambling"));
	cr_assert(issuing_category_known("eating_places_restaurants"));
	cr_assert(issuing_category_known("wrecking_and_salvage_yards")); /* the last */
	cr_assert_not(issuing_category_known("gambling"));
	cr_assert_not(issuing_category_known("Bakeries"));
	cr_assert_not(issuing_category_known(""));
	cr_assert_not(issuing_category_known(NULL));
}

/* Spending limits count from the start of their window, in UTC: midnight, Sunday midnight, the
 * 1st of the month, January 1st; all_time from the beginning, per_authorization only now. */
Test(issuing, window_starts)
{
	/* 2026-03-04 15:30:00 UTC, a Wednesday */
	const int64_t now = 1772638200;
	cr_assert_eq(issuing_window_start("daily", now), 1772582400);	/* 2026-03-04 00:00 */
	cr_assert_eq(issuing_window_start("weekly", now), 1772323200);	/* Sun 2026-03-01 */
	cr_assert_eq(issuing_window_start("monthly", now), 1772323200); /* 2026-03-01 */
	cr_assert_eq(issuing_window_start("yearly", now), 1767225600);	/* 2026-01-01 */
	cr_assert_eq(issuing_window_start("all_time", now), INT64_MIN);
	cr_assert_eq(issuing_window_start("per_authorization", now), now);
	cr_assert_eq(issuing_window_start("hourly", now), -1);
	cr_assert_eq(issuing_window_start(NULL, now), -1);
	/* the first second of a window is in it; a Sunday starts its own week */
	cr_assert_eq(issuing_window_start("daily", 1772582400), 1772582400);
	cr_assert_eq(issuing_window_start("weekly", 1772323200), 1772323200);
	cr_assert_eq(issuing_window_start("weekly", 1772323199), 1771718400); /* Sat → Sun 02-22 */
	/* a leap day, and the epoch's own Thursday */
	cr_assert_eq(issuing_window_start("monthly", 1709251199), 1706745600); /* 2024-02-29 */
	cr_assert_eq(issuing_window_start("weekly", 0), -345600);	       /* Sun 1969-12-28 */
	cr_assert_eq(issuing_window_start("yearly", 0), 0);
}

Test(issuing, controls_parse)
{
	const char *json = "{\"allowed_categories\":null,\"blocked_categories\":[\"bakeries\","
			   "\"betting_casino_gambling\"],\"spending_limits\":[{\"amount\":5000,"
			   "\"categories\":null,\"interval\":\"daily\"},{\"amount\":100,"
			   "\"categories\":[\"bakeries\"],\"interval\":\"per_authorization\"}],"
			   "\"spending_limits_currency\":\"usd\"}";
	struct issuing_controls c;
	cr_assert_eq(issuing_controls_parse(json, &c), 0);
	cr_assert_null(c.allowed);
	cr_assert(issuing_cats_has(c.blocked, c.blocked_len, "bakeries"));
	cr_assert(issuing_cats_has(c.blocked, c.blocked_len, "betting_casino_gambling"));
	cr_assert_not(issuing_cats_has(c.blocked, c.blocked_len, "betting"));
	cr_assert_not(issuing_cats_has(c.blocked, c.blocked_len, "casino_gambling"));
	cr_assert_eq(c.n_limits, 2);
	cr_assert_eq(c.limits[0].amount, 5000);
	cr_assert_null(c.limits[0].categories);
	cr_assert_str_eq(c.limits[0].interval, "daily");
	cr_assert_eq(c.limits[1].amount, 100);
	cr_assert(issuing_cats_has(c.limits[1].categories, c.limits[1].categories_len, "bakeries"));
	cr_assert_str_eq(c.limits[1].interval, "per_authorization");
	const char *none = "{\"allowed_categories\":[],\"blocked_categories\":null,"
			   "\"spending_limits\":[],\"spending_limits_currency\":null}";
	cr_assert_eq(issuing_controls_parse(none, &c), 0);
	cr_assert_not_null(c.allowed); /* allowed: none at all */
	cr_assert_not(issuing_cats_has(c.allowed, c.allowed_len, "bakeries"));
	cr_assert_eq(c.n_limits, 0);
	cr_assert_eq(issuing_controls_parse("{}", &c), -1);
	cr_assert_eq(issuing_controls_parse(NULL, &c), -1);
}

Test(issuing, category_codes)
{
	cr_assert_str_eq(issuing_category_code("ac_refrigeration_repair"), "7623");
	cr_assert_str_eq(issuing_category_code("grocery_stores_supermarkets"), "5411");
	cr_assert_str_eq(issuing_category_code("agricultural_cooperative"), "0763");
	cr_assert_str_eq(issuing_category_code("wrecking_and_salvage_yards"), "5935");
	cr_assert_null(issuing_category_code("groceries"));
	cr_assert_null(issuing_category_code(NULL));
}
