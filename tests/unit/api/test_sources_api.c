/* The Sources API's pure parts: which ids are its sources, and the 3-D Secure support a card
 * source shows for Stripe's test cards' behaviours. */
#include <criterion/criterion.h>

#include "api/sources_api.h"

Test(sources_api, ids)
{
	cr_assert(source_api_id("src_0Vd5USdz00000oBzT9NVL3nw"));
	cr_assert_not(source_api_id("src_"));
	cr_assert_not(source_api_id("card_0Vd5USdz00000oBzT9NVL3nw"));
	cr_assert_not(source_api_id("ba_0Vd5USdz00000oBzT9NVL3nw"));
	cr_assert_not(source_api_id("srcx"));
	cr_assert_not(source_api_id(NULL));
}

Test(sources_api, three_d_secure_support)
{
	cr_assert_str_eq(source_api_three_d_secure(ACQ_3DS_REQUIRED, "visa"), "required");
	cr_assert_str_eq(source_api_three_d_secure(ACQ_3DS_UNLESS_SET_UP, "visa"), "required");
	cr_assert_str_eq(source_api_three_d_secure(ACQ_SUCCEED, "amex"), "not_supported");
	cr_assert_str_eq(source_api_three_d_secure(ACQ_SUCCEED, "visa"), "optional");
	cr_assert_str_eq(source_api_three_d_secure(ACQ_DECLINE_GENERIC, "mastercard"), "optional");
	cr_assert_str_eq(source_api_three_d_secure(ACQ_SUCCEED, NULL), "optional");
}
