/*
 * Merchants (accounts) and their API keys. A merchant is created by the CLI; its keys are shown
 * once and stored only as SHA-256 hashes. The server resolves a presented key through a small
 * in-memory cache in front of the api_keys table.
 */
#ifndef TENDER_MERCHANT_MERCHANT_H
#define TENDER_MERCHANT_MERCHANT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/id.h"
#include "store/store.h"

#define API_KEY_MAX 128

struct merchant_keys {
	char id[ID_MAX];
	char secret_key[API_KEY_MAX];
	char publishable_key[API_KEY_MAX];
};

struct merchant_auth {
	char merchant_id[ID_MAX];
	bool publishable;
	bool livemode;
};

struct merchant_info {
	char id[ID_MAX];
	char name[256];
	char settlement_currency[8];
	int64_t fee_percent_bps;
	int64_t fee_fixed_minor;
	int64_t created;
	int mcc; /* merchant category code (ISO 18245), 0 = unknown */
};

/* mcc: the merchant category code, 0 (unknown) … 9999. */
int merchant_create(struct store *s, const char *name, const char *settlement_currency, int mcc,
		    struct merchant_keys *ret, char *err, size_t errlen);
/* A Stripe Connect connected account's merchants row (merchants.platform = platform_id), made
 * by POST /v1/accounts: no API keys (its platform's key reaches it with Stripe-Account), the
 * default pricing, settlement in currency. id is chosen by the caller (id_new_at(…, "acct_",
 * created), so that the platform's list of accounts pages by id). On PostgreSQL the row goes
 * to shard 0 and the shard trigger puts the account on its platform's shard. 0, or the store's
 * error (< 0). */
int merchant_create_connected(struct store *s, const char *platform_id, const char *id,
			      const char *name, const char *currency, int mcc, int64_t created);
/* 0 found, 1 unknown key, < 0 store error. */
int merchant_authenticate(struct store *s, const char *key, struct merchant_auth *ret);
int merchant_get(struct db *db, const char *merchant_id, struct merchant_info *ret);

/* What every payment reads of its merchant: the pricing (ledger_pricing_get reads it from here)
 * and the category code (0 when unknown), for the fraud model. Nothing changes a merchant's row
 * after it is created (there is no UPDATE of merchants, as there is no revocation of API keys,
 * which is what lets the key cache keep its entries), so it is read from the store once per
 * merchant and process, and kept (bounded: past 2,048 merchants it is read each time). DB_OK,
 * DB_NOTFOUND, or < 0. */
struct merchant_terms {
	int64_t fee_percent_bps;
	int64_t fee_fixed_minor;
	char settlement_currency[8]; /* "" when none */
	int mcc;		     /* 0 when unknown */
	char platform[ID_MAX];	     /* a connected account's platform (Connect), "" otherwise */
};
int merchant_terms_get(struct db *db, const char *merchant_id, struct merchant_terms *ret);

typedef void (*merchant_each_fn)(const struct merchant_info *m, void *ctx);
int merchant_list(struct store *s, merchant_each_fn fn, void *ctx);

/* SHA-256 of the key, lowercase hex (65 bytes with NUL). */
void merchant_key_hash(const char *key, char out[65]);

#endif
