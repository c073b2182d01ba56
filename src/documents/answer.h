/*
 * The documents' URLs and answers: what ties documents.h (JSON to PDF) to requests and the store.
 *
 * Where the PDFs are served, without an API key, as the hosted invoice page is:
 *   an invoice with a hosted page:  its hosted_invoice_url + "/pdf"  (invoice_page.c finds it by
 *                                   the page secret's hash, as the page does)
 *   any other finalized invoice:    /invoice/{acct}/{invoice id}/{secret}/pdf
 *   a credit note:                  /credit_note/{acct}/{credit note id}/{secret}/pdf
 * where secret is vault_page_token(acct, object id): the same derivation as the hosted page's,
 * unguessable without the vault's key, and checked by deriving it again (constant-time compare),
 * so no column has to keep it. (A subscription's invoice charged automatically has no hosted
 * page, so no stored hash to find it by; the id in its URL is not a secret, the token is.)
 * A wrong or malformed secret, an unknown object, a draft: the same 404 page.
 */
#ifndef TENDER_DOCUMENTS_ANSWER_H
#define TENDER_DOCUMENTS_ANSWER_H

#include "api/billing_internal.h"
#include "core/buf.h"
#include "http/req.h"

/* invoice_pdf of invoice in (r's arena): NULL for a draft or a preview (or when the vault
 * cannot derive the secret). */
const char *documents_invoice_pdf_url(struct req *r, const struct invoice *in);
/* pdf of credit note id (r's arena): "" for a preview (no id) or when the vault cannot derive
 * the secret. */
const char *documents_credit_note_pdf_url(struct req *r, const char *id);

/* Answers r with the PDF of invoice in (loaded by the caller, of r->merchant_id): rendered
 * as GET /v1/invoices/{id} would, then drawn. A draft: the 404 page. 0, or -1 with r->err. */
int documents_invoice_answer(struct req *r, const struct invoice *in);
/* Answers r with pdf (moved into r->out) as application/pdf, inline, filename from kind and
 * number (see documents_disposition). 0, or -1 with r->err. */
int documents_answer_pdf(struct req *r, struct buf *pdf, const char *kind, const char *number,
			 const char *fallback);

/* GET /invoice/{acct}/{id}/{secret}/pdf and GET /credit_note/{acct}/{id}/{secret}/pdf
 * (ROUTE_NO_AUTH | ROUTE_RAW; listed in invoice_page.c's routes). */
int documents_h_invoice_pdf(struct req *r);
int documents_h_credit_note_pdf(struct req *r);

#endif
