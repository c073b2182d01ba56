/*
 * PDF documents (invoices, credit notes, quotes) from a plain C description, drawn with cairo.
 *
 * The caller describes the document (struct pdf_doc: who issues it, to whom, its dates, lines
 * and totals, all amounts int64 minor units of one currency) and pdf_render returns the PDF's
 * bytes. Nothing here knows the API's objects or the store: src/documents/documents.c turns an
 * object's JSON into a description.
 *
 * Bounds: every text is cut to PDF_TEXT_MAX bytes (at a character boundary, invalid UTF-8 and
 * control characters replaced), a line's description wraps onto at most PDF_WRAP_MAX rows, the
 * memo and footer onto at most PDF_NOTE_ROWS_MAX; at most PDF_LINES_MAX lines are drawn (the rest
 * counted in one "… more lines" row), on at most PDF_PAGES_MAX pages. So a document's size and
 * the time it takes are bounded whatever it holds.
 *
 * Same document, same bytes: the PDF's creation date is the document's own date (not the time
 * of the rendering) and cairo names font subsets deterministically, so two renderings of one
 * document are byte-identical (the unit tests check it).
 */
#ifndef TENDER_DOCUMENTS_PDF_H
#define TENDER_DOCUMENTS_PDF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

#define PDF_TEXT_MAX 500
#define PDF_WRAP_MAX 4
#define PDF_NOTE_ROWS_MAX 12
#define PDF_LINES_MAX 1000
#define PDF_PAGES_MAX 60
#define PDF_DATES_MAX 10
#define PDF_ADDRESS_MAX 6
#define PDF_TOTALS_MAX 40
/* the largest PDF pdf_render produces (it fails past it) */
#define PDF_BYTES_MAX (8u << 20)

#define PDF_ERR_INVALID (-2) /* a description out of its bounds (unknown currency, …) */
#define PDF_ERR_RENDER (-3)  /* cairo failed, or the PDF grew past PDF_BYTES_MAX */

struct pdf_party {
	const char *name, *email;	      /* NULL or "": not shown */
	const char *address[PDF_ADDRESS_MAX]; /* rows of the address, NULL-terminated early */
};

struct pdf_line {
	const char *description;
	bool has_quantity;
	int64_t quantity;
	bool has_unit_amount;
	int64_t unit_amount; /* minor units */
	int64_t amount;	     /* minor units */
	/* a decimal quantity (an invoice item's quantity_decimal), shown instead of quantity;
	 * NULL: quantity is whole */
	const char *quantity_text;
};

/* A fact of the header: a date, or a text (another document's number) */
struct pdf_date {
	const char *label; /* "Date of issue" */
	int64_t t;	   /* unix seconds, shown as YYYY-MM-DD (UTC) */
	const char *text;  /* shown instead of t when not NULL */
};

/* One row of the totals: "Subtotal", "Discount (SUMMER)", "Tax (20%)", "Total", "Amount due" */
struct pdf_total {
	const char *label;
	int64_t amount;
	bool strong; /* drawn in bold */
};

struct pdf_doc {
	const char *title;    /* "Invoice", "Credit note", "Quote" */
	const char *number;   /* NULL: none */
	const char *status;   /* "Paid", "Void", … NULL: none */
	const char *currency; /* lowercase ISO 4217: its exponent formats every amount */
	int64_t date;	      /* the document's date: the PDF's creation date */
	struct pdf_date dates[PDF_DATES_MAX];
	size_t n_dates;
	struct pdf_party issuer, customer;
	struct pdf_party ship_to; /* name NULL or "": none (its email is not shown) */
	const struct pdf_line *lines;
	size_t n_lines; /* how many lines the document has; lines past PDF_LINES_MAX are counted */
	struct pdf_total totals[PDF_TOTALS_MAX];
	size_t n_totals;
	const char *memo, *footer; /* NULL: none */
};

/*
 * Formats amount_minor of currency as "1,234.56 USD" (its exponent's decimals, thousands
 * separated, the upper-case code after), without floating point. 0, or PDF_ERR_INVALID for an
 * unknown currency or a buffer too small (out is then "").
 */
int pdf_format_amount(char *out, size_t n, int64_t amount_minor, const char *currency);

/* Renders d as a PDF into ret (appended). 0, PDF_ERR_INVALID, or PDF_ERR_RENDER. */
int pdf_render(const struct pdf_doc *d, struct buf *ret);

/* Frees cairo's and fontconfig's font caches, kept for the process's life otherwise (the server
 * renders many documents with them). For a process about to exit under LeakSanitizer; no
 * rendering may run at the same time or after. */
void pdf_caches_release(void);

#endif
