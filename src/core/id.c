#include "core/id.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/random.h"

static const char B62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/* The random characters come from the per-thread pool of core/random.h, a few bytes per call
 * rather than one call per byte. */
void id_random_base62(char *out, size_t n)
{
	unsigned char r[32];
	size_t i = 0;
	while (i < n) {
		size_t want = n - i < sizeof(r) ? n - i : sizeof(r);
		random_bytes(r, want);
		/* rejection sampling keeps the distribution uniform */
		for (size_t k = 0; k < want; k++)
			if (r[k] < 248)
				out[i++] = B62[r[k] % 62];
	}
	out[n] = '\0';
}

/*
 * Ids made by one process are strictly increasing: the time part (milliseconds) is followed by a
 * sequence number that orders ids made within the same millisecond, so objects and events created
 * in one transaction list in the order they were made. A clock that steps back does not break
 * the order either (the state only moves forward). The remaining 11 characters (~65 bits) are
 * random, which keeps ids unguessable.
 *
 * The state packs (ms << SEQ_BITS | seq) in 64 bits: 48 bits hold any millisecond the 8 time
 * characters can (62^8 < 2^48), and a millisecond's 2^16th id carries into the next one.
 * (Before 2026-12-03 SEQ_BITS was 24, so the millisecond kept only its low 40 bits: ids made
 * until then carry a time part 2^40 ms behind, sort before every later id, and fall outside
 * every `created` range; see the list_by_id migrations.)
 *
 * id_new_at makes the id of an object whose `created` is a given second, and its time part always
 * falls inside that second, so lists can page by id alone (see id_created_bound). While the clock
 * is in that second it is the ordinary, process-wide increasing id. An object whose second has
 * already passed (its request began in the second before) or is ahead of the clock gets the
 * second's edge millisecond (its last, or its first) and a sequence number above every on-time
 * one, taken from a separate counter: it sorts after the ids made on time in that millisecond
 * and after the late ids made before it. That counter wraps after ~916 million late ids, the one
 * point where two late ids of the same second could list in swapped order.
 */
#define SEQ_BITS 16
#define SEQ_MASK ((UINT64_C(1) << SEQ_BITS) - 1)
#define SEQ_SPAN UINT64_C(916132832) /* 62^5: what the 5 sequence characters hold */
static _Atomic uint64_t id_state;
static _Atomic uint64_t id_late;

static char *put_prefix(char *out, const char *prefix)
{
	size_t pl = strlen(prefix);
	if (pl > ID_MAX - ID_BODY_LEN - 1)
		abort();
	memcpy(out, prefix, pl);
	return out + pl;
}

/* The 8 time characters: fixed width, so string order is numeric order. */
static void put_time(char *t, uint64_t ms)
{
	for (int i = 7; i >= 0; i--) {
		t[i] = B62[ms % 62];
		ms /= 62;
	}
}

static void put_body(char *t, uint64_t ms, uint64_t seq)
{
	put_time(t, ms);
	for (int i = 12; i >= 8; i--) {
		t[i] = B62[seq % 62];
		seq /= 62;
	}
	id_random_base62(t + 13, ID_BODY_LEN - 13);
}

/* The next on-time state at or after now_ms, or 0 when its millisecond would pass max_ms. */
static uint64_t next_state(uint64_t now_ms, uint64_t max_ms)
{
	uint64_t now = now_ms << SEQ_BITS;
	uint64_t prev = atomic_load(&id_state), next;
	do {
		next = now > prev ? now : prev + 1;
		if ((next >> SEQ_BITS) > max_ms)
			return 0;
	} while (!atomic_compare_exchange_weak(&id_state, &prev, next));
	return next;
}

void id_new(char *out, const char *prefix)
{
	char *t = put_prefix(out, prefix);
	int64_t ms = clock_now_ms();
	uint64_t next = next_state(ms > 0 ? (uint64_t)ms : 0, UINT64_MAX >> SEQ_BITS);
	put_body(t, next >> SEQ_BITS, next & SEQ_MASK);
}

static int64_t clamp_created(int64_t created)
{
	if (created < 0)
		return 0;
	return created > ID_CREATED_MAX ? ID_CREATED_MAX : created;
}

void id_new_at(char *out, const char *prefix, int64_t created)
{
	char *t = put_prefix(out, prefix);
	uint64_t first = (uint64_t)clamp_created(created) * 1000, last = first + 999;
	int64_t now = clock_now_ms();
	if (now >= 0 && (uint64_t)now >= first && (uint64_t)now <= last) {
		uint64_t next = next_state((uint64_t)now, last);
		if (next != 0) {
			put_body(t, next >> SEQ_BITS, next & SEQ_MASK);
			return;
		}
	}
	uint64_t late = atomic_fetch_add(&id_late, 1) % (SEQ_SPAN - (SEQ_MASK + 1));
	put_body(t, now >= 0 && (uint64_t)now < first ? first : last, SEQ_MASK + 1 + late);
}

void id_created_bound(char *out, const char *prefix, int64_t created)
{
	char *t = put_prefix(out, prefix);
	if (created <= 0) {
		*t = '\0';
	} else if (created > ID_CREATED_MAX) {
		t[0] = '~'; /* after every base62 character */
		t[1] = '\0';
	} else {
		put_time(t, (uint64_t)created * 1000);
		t[8] = '\0';
	}
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
