/*
 * Stripe Issuing's cards (api/issuing.c) as the vault makes them: Tender is the issuer, so the
 * number is made here, from random digits in a test BIN, sealed at once in vault_cards like any
 * card, and shown only to a retrieve that asks `expand[]=number` (as Stripe allows for virtual
 * cards). The CVC is derived (vault_issuing_cvc), never stored.
 */
#ifndef TENDER_VAULT_ISSUING_CARD_H
#define TENDER_VAULT_ISSUING_CARD_H

#include <stdint.h>

#include "store/db.h"
#include "vault/vault.h"

/* Stripe's test-mode Issuing numbers are Visa numbers in BIN 4000 0099 99: ten fixed digits,
 * five random ones and the Luhn check digit. */
#define ISSUING_BIN "4000009999"
#define ISSUING_NUMBER_LEN 16

/* The Luhn check digit ('0'–'9') that completes digits (n digits, no check digit yet). */
char issuing_luhn_digit(const char *digits, size_t n);

/* Pure: the number whose random part is r modulo 10^5 (ISSUING_BIN, five digits of r, the check
 * digit), NUL-terminated in out. */
void issuing_number_make(uint64_t r, char out[ISSUING_NUMBER_LEN + 1]);

/* The expiry an issued card gets at `now`: the same month three years on (as Stripe's). */
void issuing_card_expiry(int64_t now, int *ret_month, int *ret_year);

/* Makes a new number for card card_id of merchant_id and seals it (vault_card_store, inside the
 * caller's write transaction); ret_info gets its public facts (visa, last4, expiry). 0, or
 * VAULT_ERR_NOKEY / a DB_* error. */
int vault_issuing_card_make(struct vault *v, struct db *db, const char *merchant_id,
			    const char *card_id, int64_t now, struct vault_card_info *ret_info);

/* Copies card card_id's number into out (NUL-terminated) for an answer that expands it; the
 * access is recorded (vault_access_record) in the caller's write transaction. DB_OK,
 * DB_NOTFOUND, VAULT_ERR_TAMPERED or < 0. The caller wipes out after use. */
int vault_issuing_card_number(struct vault *v, struct db *db, const char *merchant_id,
			      const char *card_id, char out[20]);

#endif
