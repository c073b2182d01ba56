#ifndef TENDER_CORE_DIGEST_H
#define TENDER_CORE_DIGEST_H

#include <stddef.h>

#include <openssl/evp.h>

/*
 * SHA-256 through OpenSSL with the algorithm fetched once. EVP_sha256() makes OpenSSL 3 look the
 * implementation up in its provider tables on every EVP_DigestInit (a global lock and a property
 * query: 0.6 µs against 0.25 µs here), and every request hashes its API key.
 */

/* The fetched SHA-256, or NULL if OpenSSL has none (then every digest_* call fails). */
const EVP_MD *digest_sha256(void);

/* out = p[0..n) as 2n lowercase hex digits and a NUL (out holds 2n + 1 bytes). */
void digest_hex(const unsigned char *p, size_t n, char *out);

/* out = SHA-256(p[0..n)) as 64 lowercase hex digits and a NUL. Returns 0, or -1 on failure (out
 * is then the empty string). */
int digest_sha256_hex(const void *p, size_t n, char out[65]);

#endif
