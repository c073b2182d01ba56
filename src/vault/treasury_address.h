/*
 * Stripe Treasury's financial addresses (api/treasury.c): Tender is the bank, so the ABA account
 * number of a financial account is made here, from random digits, at test routing number
 * 110000000 (Stripe's test bank), and sealed at once in vault_ibans under the financial
 * account's id (vault_ach_store). Only its last four digits leave the vault, except for the one
 * answer that asks for it (expand[]=financial_addresses.aba.account_number), which is recorded as
 * any vault access.
 */
#ifndef TENDER_VAULT_TREASURY_ADDRESS_H
#define TENDER_VAULT_TREASURY_ADDRESS_H

#include <stdint.h>

#include "store/db.h"
#include "vault/vault.h"

#define TREASURY_ROUTING "110000000"
#define TREASURY_BANK_NAME "STRIPE TEST BANK"
/* twelve digits, the first never 0 (so the number keeps its length as an integer) */
#define TREASURY_ACCOUNT_LEN 12

/* Pure: the account number whose random part is r (TREASURY_ACCOUNT_LEN digits, the first 1–9),
 * NUL-terminated in out. */
void treasury_account_number_make(uint64_t r, char out[TREASURY_ACCOUNT_LEN + 1]);

/* Makes the account number of financial account fa_id of merchant_id and seals it (inside the
 * caller's write transaction); ret_last4 gets its last four digits. 0, or VAULT_ERR_NOKEY / a
 * DB_* error. */
int vault_treasury_address_make(struct vault *v, struct db *db, const char *merchant_id,
				const char *fa_id, int64_t now, char ret_last4[5]);

/* Copies fa_id's account number into out for an answer that expands it; the access is recorded
 * in the caller's write transaction. DB_OK, DB_NOTFOUND, VAULT_ERR_TAMPERED or < 0. The caller
 * wipes out after use. */
int vault_treasury_account_number(struct vault *v, struct db *db, const char *merchant_id,
				  const char *fa_id, int64_t now,
				  char out[TREASURY_ACCOUNT_LEN + 1]);

#endif
