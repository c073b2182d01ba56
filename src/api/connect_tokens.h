/*
 * Connect's tokens of POST /v1/tokens: account tokens (`account[…]`, ct_), person tokens
 * (`person[…]`, cpt_) and PII tokens (`pii[id_number]`, pii_). A platform's client collects an
 * account's or a person's details and the platform's server makes or changes the account or
 * person with the token (`account_token`, `person_token`) instead of the details themselves, as
 * Stripe asks of platforms in some countries. An account or person token keeps its parameters,
 * validated, to be applied later as if the request had sent them; identity numbers are never
 * kept (only that one was provided), as for accounts and persons themselves.
 */
#ifndef TENDER_API_CONNECT_TOKENS_H
#define TENDER_API_CONNECT_TOKENS_H

#include <stdbool.h>

#include "http/params.h"
#include "http/req.h"

struct db;

/* The children of POST /v1/tokens' account[…], person[…] and pii[…]. */
extern const struct param_spec connect_token_account_params[];
extern const struct param_spec connect_token_person_params[];
extern const struct param_spec connect_token_pii_params[];

/* True when id names one of these tokens (ct_, cpt_, pii_). */
bool connect_token_id(const char *id);
/* POST /v1/tokens with account[…], person[…] or pii[…]; GET /v1/tokens/{ct_|cpt_|pii_…}. */
int connect_tokens_h_create(struct req *r);
int connect_tokens_h_retrieve(struct req *r);

/*
 * Before a write that takes `param` (account_token, person_token): reads token id of r's merchant,
 * which must be of type (`account` / `person`) and unused, and puts its parameters in front of
 * r->params (req_params_graft) as if the request had sent them. A request naming itself any of
 * keys (NULL-terminated, or NULL) or of the parameters of carried (a spec, or NULL; its metadata
 * aside) is refused as Stripe refuses it ("Parameter 'x' cannot be used in conjunction with an
 * account token."). 0, or -1 with r->err.
 */
int connect_token_apply(struct req *r, const char *id, const char *type, const char *param,
			const char *const *keys, const struct param_spec *carried);
/* Inside that write: marks the token used, once (a conditional update): 0, or -1 with r->err
 * (used meanwhile: token_already_used). */
int connect_token_use(struct req *r, struct db *db, const char *id, const char *param);

#endif
