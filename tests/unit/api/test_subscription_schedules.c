/* Subscription schedules (api/subscription_schedules.c): a phase's metadata merged into its
 * subscription's when the phase is entered (keys added or replaced, the others kept). */
#include <criterion/criterion.h>
#include <string.h>

#include "api/subscription_schedules.h"
#include "http/req.h"

static struct req r;

static void setup(void)
{
	memset(&r, 0, sizeof(r));
	arena_init(&r.arena, 1 << 16);
}

static void teardown(void)
{
	arena_release(&r.arena);
}

TestSuite(schedule_metadata, .init = setup, .fini = teardown);

Test(schedule_metadata, adds_and_replaces_keys_in_order)
{
	const char *out = NULL;
	cr_assert_eq(schedule_metadata_merge(&r, "{\"a\":\"1\",\"b\":\"2\"}",
					     "{\"b\":\"3\",\"c\":\"4\"}", &out),
		     0);
	cr_assert_str_eq(out, "{\"a\":\"1\",\"b\":\"3\",\"c\":\"4\"}");
}

Test(schedule_metadata, empty_sides)
{
	const char *out = NULL;
	cr_assert_eq(schedule_metadata_merge(&r, "{}", "{\"k\":\"v\"}", &out), 0);
	cr_assert_str_eq(out, "{\"k\":\"v\"}");
	cr_assert_eq(schedule_metadata_merge(&r, "{\"k\":\"v\"}", "{}", &out), 0);
	cr_assert_str_eq(out, "{\"k\":\"v\"}");
	cr_assert_eq(schedule_metadata_merge(&r, NULL, NULL, &out), 0);
	cr_assert_str_eq(out, "{}");
}

Test(schedule_metadata, refuses_what_is_not_an_object)
{
	const char *out = "unchanged";
	cr_assert_lt(schedule_metadata_merge(&r, "[1]", "{}", &out), 0);
	cr_assert(r.err.set);
	cr_assert_str_eq(out, "unchanged");
	r.err.set = false;
	cr_assert_lt(schedule_metadata_merge(&r, "{}", "not json", &out), 0);
	cr_assert(r.err.set);
}
