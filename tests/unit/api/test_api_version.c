/*
 * The Stripe-Version comparison (api/common.c, api_version_from) that picks a default by API
 * version: subscriptions' billing_mode (flexible from 2025-09-30.clover on) and Checkout's
 * ui_mode name (hosted_page from 2026-03-25 on). A version begins with its release date, so a
 * named release of that date or later counts; no header counts as older than any date.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "api/common.h"

static bool from(const char *header, const char *date)
{
	struct req r;
	memset(&r, 0, sizeof(r));
	r.stripe_version = header;
	return api_version_from(&r, date);
}

Test(api_version_from, the_date_itself_and_later_releases_count)
{
	cr_assert(from("2025-09-30.clover", "2025-09-30"));
	cr_assert(from("2025-09-30", "2025-09-30"));
	cr_assert(from("2026-10-28.endive", "2025-09-30"));
	cr_assert(from("2025-10-01.preview", "2025-09-30"));
	cr_assert(from("2026-03-25.dahlia", "2026-03-25"));
}

Test(api_version_from, earlier_releases_and_no_header_do_not)
{
	cr_assert_not(from("2025-08-27.basil", "2025-09-30"));
	cr_assert_not(from("2025-06-30.basil", "2025-09-30"));
	cr_assert_not(from("2024-06-20", "2025-09-30"));
	cr_assert_not(from("2025-09-29.preview", "2025-09-30"));
	cr_assert_not(from(NULL, "2025-09-30"));
	cr_assert_not(from("", "2025-09-30"));
}
