#include <criterion/criterion.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/random.h"

/* Runs of bytes across the pool's refills are all handed out and never the same. */
Test(random, bytes_across_refills_differ)
{
	unsigned char a[3 * RANDOM_POOL + 7], b[3 * RANDOM_POOL + 7], zero[64] = {0};
	random_bytes(a, sizeof(a));
	random_bytes(b, sizeof(b));
	cr_assert_neq(memcmp(a, b, sizeof(a)), 0);
	for (size_t i = 0; i + sizeof(zero) <= sizeof(a); i += sizeof(zero))
		cr_assert_neq(memcmp(a + i, zero, sizeof(zero)), 0, "no wiped bytes handed out");
	/* odd sizes come from the same pool without repeating */
	unsigned char c[12], d[12], one;
	random_bytes(&one, 1);
	random_bytes(c, sizeof(c));
	random_bytes(&one, 1);
	random_bytes(d, sizeof(d));
	cr_assert_neq(memcmp(c, d, sizeof(c)), 0);
}

/* A forked child does not hand out the bytes its parent had buffered. */
Test(random, fork_does_not_repeat)
{
	unsigned char first[8];
	random_bytes(first, sizeof(first)); /* fills the pool */
	int fds[2];
	cr_assert_eq(pipe(fds), 0);
	pid_t pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0) {
		unsigned char x[32];
		random_bytes(x, sizeof(x));
		_exit(write(fds[1], x, sizeof(x)) == (ssize_t)sizeof(x) ? 0 : 1);
	}
	unsigned char mine[32], theirs[32];
	random_bytes(mine, sizeof(mine));
	int st = 0;
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert_eq(read(fds[0], theirs, sizeof(theirs)), (ssize_t)sizeof(theirs));
	close(fds[0]);
	close(fds[1]);
	cr_assert_neq(memcmp(mine, theirs, sizeof(mine)), 0);
}
