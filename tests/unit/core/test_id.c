#include <criterion/criterion.h>
#include <string.h>
#include <time.h>

#include "core/id.h"
#include "core/redact.h"

Test(id, shape_and_uniqueness)
{
	char a[ID_MAX], b[ID_MAX];
	id_new(a, "cus_");
	id_new(b, "cus_");
	cr_assert_eq(strlen(a), 4 + ID_BODY_LEN);
	cr_assert_str_neq(a, b);
	cr_assert(id_valid(a, "cus_"));
	cr_assert(!id_valid(a, "pi_"));
	cr_assert(!id_valid("cus_", "cus_"));
	cr_assert(!id_valid("cus_a b", "cus_"));
}

Test(id, time_ordered)
{
	char a[ID_MAX], b[ID_MAX];
	id_new(a, "pi_");
	struct timespec ts = {0, 3 * 1000 * 1000};
	nanosleep(&ts, NULL);
	id_new(b, "pi_");
	cr_assert(strcmp(a, b) < 0, "%s should sort before %s", a, b);
}

Test(redact, pan_like_runs)
{
	cr_assert(redact_pan_like("4242424242424242", 16));
	cr_assert(redact_pan_like("x 4242 4242 4242 4242 y", 23));
	cr_assert(redact_pan_like("4242-4242-4242", 14));
	cr_assert(!redact_pan_like("12345678901", 11));
	cr_assert(!redact_pan_like("cus_123 456 abc", 15));
}
