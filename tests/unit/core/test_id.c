#include <criterion/criterion.h>
#include <unistd.h>
#include <sys/wait.h>
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
