/*
 * The vault: the only code in Tender that sees card numbers or key material (the PCI boundary).
 *
 * Keys. The master key (32 random bytes in a 0600 file, `tender keygen`) never encrypts data
 * itself: HKDF derives from it a key-encryption key (KEK) that wraps random data keys, a check key
 * that proves at start-up that the key file belongs to this store, and per-merchant fingerprint
 * keys. Card numbers are sealed with AES-256-GCM under a data key; the additional authenticated
 * data binds each ciphertext to its merchant and card id, so a ciphertext copied to another row
 * or merchant does not decrypt. Rotating the master key re-wraps the data keys only.
 *
 * Memory. Key material and revealed numbers live in mlock()ed pages excluded from core dumps
 * (MADV_DONTDUMP), the process is made non-dumpable, and every buffer that held a number is wiped
 * with OPENSSL_cleanse. A number leaves the vault only as the argument of a reveal callback (the
 * acquirer's authorization), and every reveal produces an access record the caller commits with
 * the payment.
 */
#ifndef TENDER_VAULT_VAULT_H
#define TENDER_VAULT_VAULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/id.h"
#include "http/errors.h"
#include "processor/processor.h"
#include "store/db.h"

struct vault;
struct store;
struct verify_report;

#define VAULT_ERR_TAMPERED (-300) /* answer processing_error */
#define VAULT_ERR_NOKEY (-301)
#define VAULT_ERR_TOKEN_USED (-302)

/* vault_card_validate's answers: one per ERR_CARD_* row of src/http/errors.def that a card's
 * own data can cause (vault_card_err_api maps them). */
enum vault_card_err {
	VAULT_CARD_INVALID_NUMBER = -320,
	VAULT_CARD_INCORRECT_NUMBER = -321,
	VAULT_CARD_INVALID_EXPIRY_MONTH = -322,
	VAULT_CARD_INVALID_EXPIRY_YEAR = -323,
	VAULT_CARD_INVALID_CVC = -324,
};

int vault_keygen(const char *path, char *err, size_t errlen);
int vault_open(struct vault **ret, const char *key_file, char *err, size_t errlen);
void vault_free(struct vault *v);
/* The master key's id (16 hex digits of HMAC(key, "tender-key-id")): what the store records as
 * the key that wrapped its data keys. Not secret. */
const char *vault_key_id(const struct vault *v);
/* Once at start, in a write transaction on each shard: creates or checks the store's check value
 * (a wrong master key is refused) and makes sure an active data key exists. */
int vault_attach(struct vault *v, struct db *db, char *err, size_t errlen);

/* ---- card validation (no key material involved) ---- */

struct vault_card_info {
	char brand[16]; /* visa, mastercard, amex, discover, diners, jcb, unionpay, unknown */
	char last4[5];
	char iin[7];	  /* the first six digits (the BIN) */
	char funding[16]; /* credit, debit, prepaid, unknown */
	char country[3];
	int exp_month;
	int exp_year;
	bool cvc_provided;
};

/* Validates as Stripe does, in Stripe's order (number, exp_month, exp_year, cvc): spaces and
 * dashes are ignored, 12–19 digits, Luhn, month 1–12, year 2 or 4 digits (YY = 20YY) not in the
 * past and at most 50 years ahead, a past expiry is invalid_expiry_year, a CVC when given is 3
 * digits (amex 4). Pure: no I/O, no key. Returns 0 (ret filled) or an enum vault_card_err. */
int vault_card_validate(const char *number, const char *exp_month, const char *exp_year,
			const char *cvc, int64_t now, struct vault_card_info *ret);
/* A CVC on its own (POST /v1/tokens cvc_update[cvc], recollected for a card the vault already
 * holds, whose brand the token does not know): 3 or 4 digits. Pure; the CVC is not kept
 * anywhere. 0 or VAULT_CARD_INVALID_CVC. */
int vault_cvc_validate(const char *cvc);
/* vault_card_validate's expiry rules alone (a PaymentMethod's expiry update). 0 with the month
 * and the 4-digit year, or VAULT_CARD_INVALID_EXPIRY_MONTH / _YEAR. */
int vault_card_validate_expiry(const char *exp_month, const char *exp_year, int64_t now,
			       int *ret_month, int *ret_year);
/* The errors.def row for a vault_card_err (ERR_API for any other code), and the card[…] field
 * Stripe names in error.param ("number", "exp_month", "exp_year", "cvc"; NULL otherwise). */
enum api_err vault_card_err_api(int rc);
const char *vault_card_err_param(int rc);

/* Stripe's published test cards, as the API may show them (never the number). */
struct vault_testcard {
	const char *brand;
	const char *funding;
	const char *country;
	const char *last4;
	enum acq_behavior behavior;
};
/* pm_card_visa, tok_visa, …: the card the alias stands for, or NULL. */
const struct vault_testcard *vault_testcard_by_alias(const char *alias);
/* The number of Stripe's test card NAME (visa, mastercard, …: what tok_NAME and pm_card_NAME
 * stand for), or NULL: for a simulated card reader, which reads a test card's number as a
 * customer's card would be read; only this table holds test numbers. */
const char *testcard_alias_number(const char *name);

/* A card number sealed ahead of its write transaction: the ciphertext (nonce, AES-256-GCM of the
 * digits, tag; the AAD binds it to merchant_id and card_id), the data key that sealed it and the
 * merchant's fingerprint. Nothing in it is secret. */
#define VAULT_SEALED_MAX (12 + 19 + 16)
#define VAULT_SHARDS_MAX 64
struct vault_sealed_card {
	bool ok;
	char merchant_id[ID_MAX];
	char card_id[ID_MAX];
	char data_key_id[ID_MAX];
	unsigned char sealed[VAULT_SEALED_MAX];
	size_t sealed_len;
	char fingerprint[24];
};

/* Seals number (already validated) as card card_id of merchant_id under the data key that
 * vault_attach found active on shard `shard`, outside any transaction: the request's own thread
 * does the AES-GCM and the fingerprint HMAC, so that the store's single writer only inserts the
 * row. 0 with ret->ok; otherwise ret->ok is false (that shard's key is not known here) and
 * vault_card_store seals in the transaction instead. */
int vault_card_preseal(struct vault *v, int shard, const char *merchant_id, const char *card_id,
		       const char *number, struct vault_sealed_card *ret);

/* Stores number as card card_id of merchant_id (inside the caller's write transaction) and
 * returns the merchant-scoped fingerprint (16 characters). pre, when not NULL, is the same number
 * presealed (vault_card_preseal): it is inserted as it is when it was sealed for this merchant
 * and card under a data key this shard holds; otherwise (or with NULL) the number is sealed here
 * under the shard's active key. */
int vault_card_store(struct vault *v, struct db *db, const char *merchant_id, const char *card_id,
		     const char *number, const struct vault_sealed_card *pre,
		     const struct vault_card_info *info, int64_t now, char ret_fingerprint[24]);

/* A bank account's fingerprint under merchant_id: 16 characters of the HMAC of "bank:" routing
 * ":" account under the merchant's fingerprint key (the one cards use), so that the same account
 * is recognised without the number being kept anywhere. routing may be "". 0, or
 * VAULT_ERR_NOKEY. */
int vault_bank_fingerprint(struct vault *v, const char *merchant_id, const char *routing,
			   const char *account, char ret_fingerprint[24]);

/* Seals IBAN iban (already checked and normalised, vault/iban.h) as row iban_id of merchant_id
 * in vault_ibans, inside the caller's write transaction, as card numbers are sealed (AES-256-GCM
 * under the shard's active data key, the AAD binding merchant and id), and returns its
 * merchant-scoped fingerprint (HMAC of "iban:" IBAN under the merchant's fingerprint key). 0,
 * VAULT_ERR_NOKEY, or a DB_* error. */
int vault_iban_store(struct vault *v, struct db *db, const char *merchant_id, const char *iban_id,
		     const char *iban, int64_t now, char ret_fingerprint[24]);
/* Seals US bank account routing/account (checked, vault/ach.h) as row id of vault_ibans as
 * vault_iban_store does; the fingerprint is merchant-scoped, of "ach:" routing ":" account. */
int vault_ach_store(struct vault *v, struct db *db, const char *merchant_id, const char *id,
		    const char *routing, const char *account, int64_t now,
		    char ret_fingerprint[24]);

/* Opens row id of vault_ibans sealed by vault_ach_store into out as "routing:account"
 * (NUL-terminated), for the one answer that shows the account number (a Treasury financial
 * address expanded, vault/treasury_address.h). DB_OK, DB_NOTFOUND, VAULT_ERR_TAMPERED (one log
 * line, nothing revealed) or < 0. The caller wipes out after use. */
#define VAULT_ACH_OPEN_MAX 40
int vault_ach_open(struct vault *v, struct db *db, const char *merchant_id, const char *id,
		   char out[VAULT_ACH_OPEN_MAX]);

/* Stripe Identity's personal data of a verification report (its date of birth, document number
 * and id number, as JSON text of at most VAULT_IDENTITY_MAX bytes), sealed as row id of
 * merchant_id in vault_identity as IBANs are (AES-256-GCM under the shard's active data key, the
 * AAD binding merchant and id), inside the caller's write transaction. 0, VAULT_ERR_NOKEY, or a
 * DB_* error. */
#define VAULT_IDENTITY_MAX 512
int vault_identity_store(struct vault *v, struct db *db, const char *merchant_id, const char *id,
			 const char *data, int64_t now);
/* Opens row id's data into out (NUL-terminated). DB_OK, DB_NOTFOUND (none, or erased),
 * VAULT_ERR_TAMPERED (one log line, nothing revealed) or < 0. The caller wipes out after use. */
int vault_identity_open(struct vault *v, struct db *db, const char *merchant_id, const char *id,
			char out[VAULT_IDENTITY_MAX + 1]);
/* Erases row id (a redaction): DB_OK whether or not it existed, or < 0. */
int vault_identity_erase(struct db *db, const char *merchant_id, const char *id);

/* Stripe Apps' Secret Store: a secret's payload (at most VAULT_APP_SECRET_MAX bytes of text),
 * sealed as row id of merchant_id in vault_app_secrets exactly as identity data is, opened and
 * erased the same way (the same return values). */
#define VAULT_APP_SECRET_MAX 5000
int vault_app_secret_store(struct vault *v, struct db *db, const char *merchant_id, const char *id,
			   const char *payload, int64_t now);
int vault_app_secret_open(struct vault *v, struct db *db, const char *merchant_id, const char *id,
			  char out[VAULT_APP_SECRET_MAX + 1]);
int vault_app_secret_erase(struct db *db, const char *merchant_id, const char *id);

/* The secret of the page Tender serves for object_id of merchant_id (the hosted invoice page):
 * 43 base62 characters of HMAC-SHA256(object_id) under HKDF(fingerprint root, "tender-page" ||
 * merchant_id). Derived, not stored: the same every time (the object's URL is stable, as
 * Stripe's hosted_invoice_url), unguessable without the key, and unchanged by a rotation of the
 * master key (the fingerprint root survives it). Callers keep only its hash, to find the object.
 * 0, or VAULT_ERR_NOKEY. */
#define VAULT_PAGE_TOKEN_LEN 43
int vault_page_token(struct vault *v, const char *merchant_id, const char *object_id,
		     char ret_token[VAULT_PAGE_TOKEN_LEN + 1]);

/* The CVC of Issuing card card_id of merchant_id (api/issuing.c): three digits of
 * HMAC-SHA256(card_id) under HKDF(fingerprint root, "tender-issuing-cvc" || merchant_id). Derived,
 * never stored: the same for the card's life, unguessable without the key. 0 or VAULT_ERR_NOKEY.
 * The caller wipes ret_cvc after use. */
int vault_issuing_cvc(struct vault *v, const char *merchant_id, const char *card_id,
		      char ret_cvc[4]);

/* Connect's cloning (POST /v1/payment_methods with payment_method, Stripe-Account): inside the
 * caller's write, opens from_merchant's sealed card from_card_id and seals the same number as
 * to_card_id of to_merchant (its own AAD, the shard's active key), with info's public facts. The
 * number never leaves the vault. 0 (ret_fingerprint set), DB_NOTFOUND, VAULT_ERR_TAMPERED, or
 * another negative code. */
int vault_card_clone(struct vault *v, struct db *db, const char *from_merchant,
		     const char *from_card_id, const char *to_merchant, const char *to_card_id,
		     const struct vault_card_info *info, int64_t now, char ret_fingerprint[24]);

/* A test alias (pm_card_visa, tok_visa, …): true, and the card it stands for sealed like any
 * card, when ref is one. */
bool vault_is_test_alias(const char *ref);
int vault_card_store_alias(struct vault *v, struct db *db, const char *merchant_id,
			   const char *card_id, const char *alias, int64_t now,
			   struct vault_card_info *ret_info, char ret_fingerprint[24]);

/* The sealed card of a test alias for a new PaymentMethod (inside the caller's write
 * transaction): the merchant's card for this alias and expiry when one is stored
 * (vault_alias_cards), else the alias sealed now as a new card and recorded for later uses.
 * DB_OK with its id, public facts and fingerprint; DB_NOTFOUND (not an alias), or < 0. */
int vault_alias_card(struct vault *v, struct db *db, const char *merchant_id, const char *alias,
		     int64_t now, char ret_card_id[ID_MAX], struct vault_card_info *ret_info,
		     char ret_fingerprint[24]);

/* The public facts and the merchant's fingerprint of a test alias's card, storing nothing (the
 * confirm that uses the alias stores it in its own transaction). 0 or DB_NOTFOUND. */
int vault_alias_info(struct vault *v, const char *merchant_id, const char *alias, int64_t now,
		     struct vault_card_info *ret_info, char ret_fingerprint[24]);

/* ---- reveal, for an authorization ---- */

struct vault_secret; /* opaque outside the vault: the number is inside */
enum acq_behavior vault_secret_behavior(const struct vault_secret *s);
/* The test card revealed (NULL for any other card). */
const struct vault_testcard *vault_secret_testcard(const struct vault_secret *s);
bool vault_secret_is_test_card(const struct vault_secret *s);
int vault_secret_exp_month(const struct vault_secret *s);
int vault_secret_exp_year(const struct vault_secret *s);
bool vault_secret_cvc_provided(const struct vault_secret *s);
/* For the acquirer link only: the number, valid during the callback. */
const char *vault_secret_number(const struct vault_secret *s);

struct vault_access {
	char merchant_id[ID_MAX];
	char card_id[ID_MAX];
	char purpose[32];
	int64_t at;
};

typedef int (*vault_reveal_fn)(const struct vault_secret *s, void *ctx);
/* Decrypts card card_id (read through db), calls fn with it, wipes it. Returns fn's value, or
 * VAULT_ERR_TAMPERED (one alert log line, nothing revealed), or DB_NOTFOUND. */
int vault_card_reveal(struct vault *v, struct db *db, const char *merchant_id, const char *card_id,
		      const char *purpose, vault_reveal_fn fn, void *ctx,
		      struct vault_access *ret_access);
/* A test alias's card for the acquirer: Stripe's published number, nothing decrypted. */
int vault_alias_reveal(const char *alias, vault_reveal_fn fn, void *ctx);
/* Appends the access record (append-only table) inside the caller's write transaction. */
int vault_access_record(struct db *db, const struct vault_access *a);

/* ---- keys ---- */
int vault_rotate(struct store *s, const char *old_key_file, const char *new_key_file, char *err,
		 size_t errlen);
int vault_status(struct store *s, const char *key_file, struct buf *out, char *err, size_t errlen);
/* Every sealed row (cards, IBANs and US bank accounts, identity data) decrypts and
 * authenticates, and a card's number passes the Luhn check (for tender verify
 * --master-key-file): one failure reported per row that does not. */
int vault_verify(struct vault *v, struct db *db, struct verify_report *rep);

#endif
