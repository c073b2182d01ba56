/*
 * The PDFs of invoices, credit notes and quotes, from the objects' JSON as the API renders them.
 *
 * Why from the JSON: the API's rendering is where every amount of the object is computed
 * (discounts, taxes, balances, what is due and remaining), and what a customer reads in the PDF
 * must be what the API says. So the handlers render the object as a GET would, and these
 * functions take from it the fields Stripe's PDFs show (pdf.h draws them). They know no store
 * and no HTTP, so the unit tests feed them JSON directly.
 *
 * Nothing of a card goes into a PDF: the fields read are the document's number, dates, status,
 * the customer's name, email and address, its lines and totals, memo and footer.
 */
#ifndef TENDER_DOCUMENTS_DOCUMENTS_H
#define TENDER_DOCUMENTS_DOCUMENTS_H

#include <stddef.h>

#include "core/buf.h"

/* What every document may take besides its object (each NULL when unknown). */
struct documents_context {
	const char *merchant_name; /* the issuer */
	const char *customer_json; /* the customer object: its address */
	const char *invoice_json;  /* a credit note's invoice: its number, customer name, email */
	/* {"txr_…": "VAT (20%)", …}: how the tax rows name their rates ("Tax" otherwise) */
	const char *tax_labels_json;
	/* ["EU VAT DE123456789", …]: the issuer's tax ids an invoice names (its account_tax_ids;
	 * a credit note's invoice's), shown under the issuer's name */
	const char *account_tax_ids_json;
};

/* The PDF of an invoice (its JSON as GET /v1/invoices/{id} answers), appended to out. 0,
 * PDF_ERR_INVALID (not an invoice's JSON, or a draft: a draft has no PDF), PDF_ERR_RENDER. */
int documents_invoice_pdf(const char *invoice_json, const struct documents_context *c,
			  struct buf *out);
/* The PDF of a credit note (its JSON as GET /v1/credit_notes/{id} answers). */
int documents_credit_note_pdf(const char *credit_note_json, const struct documents_context *c,
			      struct buf *out);
/* The PDF of a quote (its JSON) with its line items (line_items_json: the JSON array of its
 * item objects). */
int documents_quote_pdf(const char *quote_json, const char *line_items_json,
			const struct documents_context *c, struct buf *out);

/* The value of a Content-Disposition header for a document: `inline;
 * filename="<Kind>-<number>.pdf"` (kind "Invoice", "CreditNote", "Quote"; the number's characters
 * other than letters, digits,
 * '-' and '_' dropped; no number: the fallback, an object id), into out. 0, or -1 when out is
 * too small. */
int documents_disposition(const char *kind, const char *number, const char *fallback, char *out,
			  size_t n);

#endif
