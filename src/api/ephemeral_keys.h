/*
 * Ephemeral keys and customer sessions: short-lived secrets a merchant's server makes for one of
 * its customers, which Stripe's mobile and client SDKs then use as their API key (see the essay
 * at the top of ephemeral_keys.c). What the server's authentication needs of them is here.
 */
#ifndef TENDER_API_EPHEMERAL_KEYS_H
#define TENDER_API_EPHEMERAL_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/id.h"

struct store;

#define EPHKEY_SECRET_MAX 128
#define EPHKEY_TTL_S 3600	    /* an ephemeral key lives an hour, as on Stripe */
#define CUSTOMER_SESSION_TTL_S 1800 /* a customer session 30 minutes */

/* Writes a fresh secret into out (size >= EPHKEY_SECRET_MAX): "ek_test_" (or "ek_live_", or
 * "cuss_secret_" for a customer session) followed by the unpadded base64url of
 * "<merchant_id>,<32 random base62 characters>", the shape of Stripe's own, which lets the
 * server find the merchant's shard from the secret alone. 0, or -1 (merchant_id too long). */
int ephkey_secret_new(const char *merchant_id, bool session, bool livemode, char *out,
		      size_t outlen);

/* True when key starts like an ephemeral key or customer session secret (cheap; no decoding). */
bool ephkey_secret_shaped(const char *key);

/* The merchant id a secret carries (ret_merchant, size ID_MAX) and whether it is a customer
 * session's. 0, or -1 when the secret is not one ephkey_secret_new could have made. */
int ephkey_secret_parse(const char *secret, char ret_merchant[ID_MAX], bool *ret_session);

/* A key made at created with ttl_s expires at created + ttl_s; it is usable while now < expires
 * (a deleted key's expires is the moment it was deleted, so it is unusable from then on). */
int64_t ephkey_expires_at(int64_t created, int64_t ttl_s);
bool ephkey_usable(int64_t expires, int64_t now);

struct ephkey_auth {
	char merchant_id[ID_MAX];
	char customer[ID_MAX];
	bool livemode;
};

/* Resolves a presented secret at now: 0 (ret filled) for a live key of a customer that still
 * exists, 1 for an unknown, malformed, expired or deleted key (or a deleted customer), < 0 a
 * store error. Reads shard 0 (is the merchant the secret names one?), then that merchant's
 * shard. */
int ephkey_authenticate(struct store *s, const char *secret, int64_t now, struct ephkey_auth *ret);

#endif
