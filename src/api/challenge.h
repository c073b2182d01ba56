/* The pages Tender serves itself: the 3-D Secure challenges (/3ds/… for PaymentIntents,
 * /3ds-setup/… for SetupIntents; no API key, the token in the URL is the secret) and payment
 * links' checkout (/pay/…). Shared layout, policy and
 * helpers; each intent's module renders its own body and decides what completing means. */
#ifndef TENDER_API_CHALLENGE_H
#define TENDER_API_CHALLENGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "http/req.h"

struct db;

/* Appends s HTML-escaped. */
void html_escape(struct buf *b, const char *s);
/* Appends a table row <tr><th>label</th><td id="id">value</td></tr> (label and value escaped;
 * id is the caller's own constant). */
void html_row(struct buf *b, const char *label, const char *id, const char *value);
/* Appends "20.00 USD": amount in major units of currency, exactly (integer arithmetic only). */
void html_amount(struct buf *b, int64_t amount, const char *currency);
/* The token the intent holds equals the one in the URL (constant time; NULL never matches). */
bool challenge_token_eq(const char *stored, const char *given);
/* The merchant's display name into out ("" when it has none). 0, or -1 on a store error. */
int challenge_merchant_name(struct db *db, const char *merchant_id, char *out, size_t n);
/* Appends the two forms that post to base + "/complete" and base + "/fail". */
void challenge_forms(struct buf *b, const char *base);
/* Appends the bank transfer instructions of a PaymentIntent's next_action (JSON: its
 * display_bank_transfer_instructions; anything else appends nothing): the amount still due, the
 * reference, the customer's bank account, the merchant's name (bank_transfer_page.c). */
void cash_instructions_html(struct buf *b, const char *next_action, const char *merchant);
/* Replaces r's answer with a page (status, title, body HTML), under the page's CSP. */
int challenge_page(struct req *r, int status, const char *title, const char *body_html);
/* The page for a link that is wrong or already used (404). */
int challenge_not_found(struct req *r);
/* The page shown after the challenge when the intent has no return_url. */
int challenge_done(struct req *r, bool ok);
/* After a challenge: a 303 to the intent's return_url with Stripe's query parameters
 * (<kind>=id, <kind>_client_secret, redirect_status), or challenge_done's page when it has none.
 * kind: "payment_intent" or "setup_intent". */
int challenge_return(struct req *r, const char *return_url, const char *kind, const char *id,
		     const char *client_secret, bool ok);
/* A 303 to r->location (set by the caller). */
int challenge_redirect(struct req *r);
/* An intent's next_action sending the customer to url and back to return_url (may be NULL):
 * {"redirect_to_url":{"return_url","url"},"type":"redirect_to_url"}, in r's arena; NULL when
 * out of memory. */
const char *challenge_next_action(struct req *r, const char *return_url, const char *url);

#endif
