/*
 * /v1/tokens (single-use card tokens) and the card[…] parameter both it and
 * /v1/payment_methods take. The routes live in payment_methods_routes (src/api/resources.h), so
 * the two resources register as one table.
 */
#ifndef TENDER_API_TOKENS_H
#define TENDER_API_TOKENS_H

#include "http/req.h"
#include "vault/vault.h"

/* Validates card[number|exp_month|exp_year|cvc] into ret_info; on failure answers 400
 * parameter_missing or Stripe's 402 card_error (never echoing the number) and returns -1. */
int tokens_card_params(struct req *r, struct vault_card_info *ret_info);
/* Seals the validated card[number] as card card_id on the request's thread, before its write
 * (vault_card_preseal); ret->ok false leaves the sealing to the write. Returns card[number] as
 * the request holds it, for the write to hand vault_card_store (which seals it only when the
 * presealed card does not fit). */
const char *tokens_card_preseal(struct req *r, const char *card_id, struct vault_sealed_card *ret);

/* Inside a write: the tokens row of single-use token id for the card just stored as card_id
 * (its public facts, fingerprint fp, Radar's BIN, the request's client IP). DB_OK or < 0. */
int tokens_row_insert(struct req *r, struct db *db, const char *id, const char *card_id,
		      const struct vault_card_info *info, const char *fp);

/* A single-use token of the card in card[number|exp_month|exp_year|cvc] (the legacy
 * POST /v1/charges' card hash), made in a durable write of its own before the payment that uses
 * it, the number sealed as POST /v1/tokens seals it. 0 and ret_id, or -1 with r->err (a bad
 * number: Stripe's card error, never echoing it). */
int tokens_create_for_payment(struct req *r, char ret_id[ID_MAX]);

extern const struct param_spec tokens_create_params[];
int tokens_h_create(struct req *r);
/* A cvc_update token (cvctok_…, POST /v1/tokens with cvc_update[cvc]) of the merchant for a
 * payment's confirmation (payment_method_options[card][cvc_token], named `param` in errors):
 * tokens_cvc_check before the card is authorized (unknown: 400 resource_missing, used:
 * token_already_used), tokens_cvc_use in the payment's write (used up then; one used since the
 * check fails the write the same way). 0, or -1 with r->err. */
int tokens_cvc_check(struct req *r, struct db *db, const char *id, const char *param);
int tokens_cvc_use(struct req *r, struct db *db, const char *id, const char *param);
int tokens_h_retrieve(struct req *r);

#endif
