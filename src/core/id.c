#include "core/id.h"

#include <openssl/rand.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"

static const char B62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/*
 * Random bytes come from OpenSSL's DRBG, drawn RAND_POOL bytes at a time into a per-thread pool:
 * a RAND_bytes call costs ~7,000 instructions whatever its size (locking, the fork check's getpid,
 * reseed bookkeeping), and a payment makes a dozen ids of 11 random characters each. Bytes are
 * used once and wiped as they are taken. A forked child must not reuse its parent's pool (both
 * would hand out the same ids), so fork bumps a generation that empties every pool.
 */
#define RAND_POOL 512
struct rand_pool {
	unsigned char b[RAND_POOL];
	size_t pos;
	unsigned gen;
};
static _Thread_local struct rand_pool pool = {.pos = RAND_POOL};
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

static unsigned char random_byte(void)
{
	unsigned gen = atomic_load_explicit(&pool_gen, memory_order_relaxed);
	if (pool.pos >= RAND_POOL || pool.gen != gen) {
		pthread_once(&pool_once, pool_register);
		if (RAND_bytes(pool.b, RAND_POOL) != 1)
			abort(); /* no entropy means no safe ids: stopping is the only honest answer
				  */
		pool.pos = 0;
		pool.gen = gen;
	}
	unsigned char c = pool.b[pool.pos];
	pool.b[pool.pos++] = 0;
	return c;
}

void id_random_base62(char *out, size_t n)
{
	size_t i = 0;
	while (i < n) {
		unsigned char r = random_byte();
		/* rejection sampling keeps the distribution uniform */
		if (r >= 248)
			continue;
		out[i++] = B62[r % 62];
	}
	out[n] = '\0';
}

/*
 * Ids made by one process are strictly increasing: the time part (milliseconds) is followed by a
 * sequence number that orders ids made within the same millisecond, so objects and events created
 * in one transaction list in the order they were made. A clock that steps back does not break
 * the order either (the state only moves forward). The remaining 11 characters (~65 bits) are
 * random, which keeps ids unguessable.
 */
#define SEQ_BITS 24
static _Atomic uint64_t id_state;

void id_new(char *out, const char *prefix)
{
	size_t pl = strlen(prefix);
	if (pl > ID_MAX - ID_BODY_LEN - 1)
		abort();
	memcpy(out, prefix, pl);
	uint64_t now = (uint64_t)clock_now_ms() << SEQ_BITS;
	uint64_t prev = atomic_load(&id_state), next;
	do {
		next = now > prev ? now : prev + 1;
	} while (!atomic_compare_exchange_weak(&id_state, &prev, next));
	uint64_t ms = next >> SEQ_BITS, seq = next & ((1u << SEQ_BITS) - 1);
	char *t = out + pl;
	for (int i = 7; i >= 0; i--) {
		t[i] = B62[ms % 62];
		ms /= 62;
	}
	for (int i = 12; i >= 8; i--) {
		t[i] = B62[seq % 62];
		seq /= 62;
	}
	id_random_base62(t + 13, ID_BODY_LEN - 13);
}

int id_valid(const char *s, const char *prefix)
{
	size_t pl = strlen(prefix);
	if (strncmp(s, prefix, pl) != 0)
		return 0;
	size_t n = 0;
	for (const char *p = s + pl; *p; p++, n++) {
		char c = *p;
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      c == '_'))
			return 0;
		if (n > 120)
			return 0;
	}
	return n > 0;
}
