#include <criterion/criterion.h>
#include <unistd.h>
#include <sys/wait.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
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
	/* the time part is the clock's millisecond (it once kept only the low 40 bits) */
	char lo[ID_MAX], hi[ID_MAX];
	int64_t s = clock_now();
	id_new(a, "pi_");
	id_created_bound(lo, "pi_", s - 1);
	id_created_bound(hi, "pi_", s + 2);
	cr_assert(strcmp(lo, a) < 0 && strcmp(a, hi) < 0, "%s is not near %lld", a, (long long)s);
}

static void assert_in_second(const char *id, const char *prefix, int64_t created)
{
	char lo[ID_MAX], hi[ID_MAX];
	id_created_bound(lo, prefix, created);
	id_created_bound(hi, prefix, created + 1);
	cr_assert(strcmp(lo, id) < 0 && strcmp(id, hi) < 0, "%s is not inside second %lld [%s, %s)",
		  id, (long long)created, lo, hi);
}

/* Ids made for one `created` second, while the clock crosses into the next one and then for a
 * second already past, stay inside their second and in the order they were made: lists page by
 * id, newest first, as they did by (created, id). */
Test(id, made_at_a_second_stay_inside_it_in_order)
{
	char prev[ID_MAX] = "", id[ID_MAX];
	int64_t s = clock_now();
	int n = 0;
	while (clock_now() == s || n < 3) { /* on time, then late once the clock has moved on */
		id_new_at(id, "evt_", s);
		assert_in_second(id, "evt_", s);
		cr_assert(strcmp(prev, id) < 0, "%s should sort before %s", prev, id);
		strcpy(prev, id);
		n++;
		struct timespec ts = {0, 200 * 1000};
		nanosleep(&ts, NULL);
	}
	id_new(id, "evt_"); /* an ordinary id made now sorts after them all */
	cr_assert(strcmp(prev, id) < 0);
	prev[0] = '\0';
	for (int i = 0; i < 3; i++) { /* a second long past, as unit tests' virtual clocks use */
		id_new_at(id, "evt_", 1700000000);
		assert_in_second(id, "evt_", 1700000000);
		cr_assert(strcmp(prev, id) < 0);
		strcpy(prev, id);
	}
	id_new_at(id, "evt_", s + 3600); /* ahead of the clock */
	assert_in_second(id, "evt_", s + 3600);
	cr_assert_eq(strlen(id), 4 + ID_BODY_LEN);
}

Test(id, created_bounds)
{
	char b[ID_MAX], id[ID_MAX];
	id_created_bound(b, "pi_", 0);
	cr_assert_str_eq(b, "pi_");
	id_created_bound(b, "pi_", -7);
	cr_assert_str_eq(b, "pi_");
	id_created_bound(b, "pi_", ID_CREATED_MAX + 1);
	cr_assert_str_eq(b, "pi_~");
	id_created_bound(b, "pi_", INT64_MAX);
	cr_assert_str_eq(b, "pi_~");
	id_created_bound(b, "pi_", 1);
	cr_assert_str_eq(b, "pi_000000G8"); /* 1000 ms = 16 * 62 + 8 */
	/* out-of-range seconds are clamped into the first and the last */
	id_new_at(id, "pi_", -5);
	assert_in_second(id, "pi_", 0);
	id_new_at(id, "pi_", INT64_MAX);
	assert_in_second(id, "pi_", ID_CREATED_MAX);
}

/* A forked child draws from a fresh pool: the parent's buffered random bytes are not handed out
 * twice (same-millisecond ids in parent and child would otherwise be identical). */
Test(id, fork_does_not_repeat)
{
	char warm[ID_MAX], parent[ID_MAX], child[ID_MAX] = {0};
	id_new(warm, "pi_"); /* fills this thread's pool */
	int fds[2];
	cr_assert_eq(pipe(fds), 0);
	pid_t pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0) {
		char c[ID_MAX];
		id_new(c, "pi_");
		ssize_t w = write(fds[1], c + 3 + 13, ID_BODY_LEN - 13);
		_exit(w == ID_BODY_LEN - 13 ? 0 : 1);
	}
	id_new(parent, "pi_");
	close(fds[1]);
	cr_assert_eq(read(fds[0], child, ID_BODY_LEN - 13), ID_BODY_LEN - 13);
	close(fds[0]);
	int st = 0;
	waitpid(pid, &st, 0);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	cr_assert_neq(memcmp(parent + 3 + 13, child, ID_BODY_LEN - 13), 0,
		      "parent and child drew the same random part %s", child);
}

Test(redact, pan_like_runs)
{
	cr_assert(redact_pan_like("4242424242424242", 16));
	cr_assert(redact_pan_like("x 4242 4242 4242 4242 y", 23));
	cr_assert(redact_pan_like("4242-4242-4242", 14));
	cr_assert(!redact_pan_like("12345678901", 11));
	cr_assert(!redact_pan_like("cus_123 456 abc", 15));
}
