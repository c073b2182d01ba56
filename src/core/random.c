#include "core/random.h"

#include <openssl/rand.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

struct rand_pool {
	unsigned char b[RANDOM_POOL];
	size_t pos;
	unsigned gen;
};
static _Thread_local struct rand_pool pool = {.pos = RANDOM_POOL};
/* fork bumps the generation, which empties every pool: parent and child must not hand out the
 * same bytes */
static atomic_uint pool_gen;
static pthread_once_t pool_once = PTHREAD_ONCE_INIT;

static void pool_forked(void)
{
	atomic_fetch_add(&pool_gen, 1);
}

static void pool_register(void)
{
	pthread_atfork(NULL, NULL, pool_forked);
}

static void pool_fill(unsigned gen)
{
	pthread_once(&pool_once, pool_register);
	if (RAND_bytes(pool.b, RANDOM_POOL) != 1)
		abort();
	pool.pos = 0;
	pool.gen = gen;
}

void random_bytes(void *out, size_t n)
{
	unsigned char *o = out;
	while (n > 0) {
		unsigned gen = atomic_load_explicit(&pool_gen, memory_order_relaxed);
		if (pool.pos >= RANDOM_POOL || pool.gen != gen)
			pool_fill(gen);
		size_t k = RANDOM_POOL - pool.pos;
		if (k > n)
			k = n;
		memcpy(o, pool.b + pool.pos, k);
		explicit_bzero(pool.b + pool.pos, k);
		pool.pos += k;
		o += k;
		n -= k;
	}
}
