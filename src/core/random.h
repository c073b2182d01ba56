/*
 * Random bytes from OpenSSL's DRBG, taken from a per-thread pool. A RAND_bytes call costs
 * ~7,000 instructions (1.5-2 us here) whatever its size (locking, the fork check's getpid,
 * reseed bookkeeping), while a payment wants a dozen ids' worth of random characters and a
 * tokenization a 12-byte AES-GCM nonce: the pool draws RANDOM_POOL bytes at a time, hands each
 * byte out once and wipes it as it goes. A forked child never reuses its parent's bytes.
 * Without entropy the process aborts: there are no safe ids or nonces without it.
 */
#ifndef TENDER_CORE_RANDOM_H
#define TENDER_CORE_RANDOM_H

#include <stddef.h>

#define RANDOM_POOL 512

void random_bytes(void *out, size_t n);

#endif
