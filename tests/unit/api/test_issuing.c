/* Issuing's merchant categories: Stripe's names are known (the table is sorted for bsearch), and
 * anything else is not. */
#include <criterion/criterion.h>

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
