#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "documents/pdf.h"

/* each test worker gives cairo's and fontconfig's caches back: LeakSanitizer then sees only
 * real leaks */
TestSuite(pdf, .fini = pdf_caches_release);

Test(pdf, format_amount_uses_the_currency_exponent)
{
	char s[64];
	cr_assert_eq(pdf_format_amount(s, sizeof(s), 123456, "usd"), 0);
	cr_assert_str_eq(s, "1,234.56 USD");
	cr_assert_eq(pdf_format_amount(s, sizeof(s), 5, "usd"), 0);
	cr_assert_str_eq(s, "0.05 USD");
	cr_assert_eq(pdf_format_amount(s, sizeof(s), -1000, "eur"), 0);
	cr_assert_str_eq(s, "-10.00 EUR");
	cr_assert_eq(pdf_format_amount(s, sizeof(s), 1234567, "jpy"), 0);
	cr_assert_str_eq(s, "1,234,567 JPY");
	cr_assert_eq(pdf_format_amount(s, sizeof(s), 1234, "kwd"), 0);
	cr_assert_str_eq(s, "1.234 KWD");
	cr_assert_eq(pdf_format_amount(s, sizeof(s), 0, "usd"), 0);
	cr_assert_str_eq(s, "0.00 USD");
	cr_assert_eq(pdf_format_amount(s, sizeof(s), INT64_MIN, "usd"), 0);
	cr_assert_str_eq(s, "-92,233,720,368,547,758.08 USD");
	cr_assert_eq(pdf_format_amount(s, sizeof(s), INT64_MAX, "jpy"), 0);
	cr_assert_str_eq(s, "9,223,372,036,854,775,807 JPY");
	cr_assert_eq(pdf_format_amount(s, sizeof(s), 100, "xxx"), PDF_ERR_INVALID);
	cr_assert_str_eq(s, "");
	cr_assert_eq(pdf_format_amount(s, 8, 123456, "usd"), PDF_ERR_INVALID);
	cr_assert_str_eq(s, "");
}

static struct pdf_doc sample(struct pdf_line *lines, size_t n)
{
	struct pdf_doc d = {
	    .title = "Invoice",
	    .number = "ABCD-0001",
	    .status = "Paid",
	    .currency = "usd",
	    .date = 1765000000,
	    .dates = {{"Date of issue", 1765000000, NULL}, {"Date due", 1765086400, NULL}},
	    .n_dates = 2,
	    .issuer = {.name = "Acme Widgets Ltd"},
	    .customer = {.name = "Jenny Rosen",
			 .email = "jenny@example.com",
			 .address = {"1 Main Street", "Springfield 12345", "US"}},
	    .lines = lines,
	    .n_lines = n,
	    .totals = {{"Subtotal", 123456, false},
		       {"Discount", -1000, false},
		       {"Total", 122456, true},
		       {"Amount due", 0, true}},
	    .n_totals = 4,
	    .memo = "Thank you for your business.",
	};
	return d;
}

/* The text pdftotext finds in pdf (poppler-utils), into a malloc'd string. */
static char *pdf_text(const struct buf *pdf, const char *opts)
{
	char in[] = "/tmp/tender-pdf-test-XXXXXX";
	int fd = mkstemp(in);
	cr_assert(fd >= 0);
	cr_assert_eq(write(fd, pdf->data, pdf->len), (ssize_t)pdf->len);
	close(fd);
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "pdftotext %s %s - 2>/dev/null", opts, in);
	FILE *p = popen(cmd, "r");
	cr_assert(p);
	size_t cap = 1 << 22, len = 0;
	char *out = malloc(cap + 1);
	size_t k;
	while ((k = fread(out + len, 1, cap - len, p)) > 0)
		len += k;
	out[len] = '\0';
	cr_assert_eq(pclose(p), 0, "pdftotext failed");
	unlink(in);
	return out;
}

static int pdf_pages(const struct buf *pdf)
{
	char *t = pdf_text(pdf, "");
	int pages = 0;
	for (char *p = t; *p; p++)
		pages += *p == '\f';
	free(t);
	return pages;
}

Test(pdf, renders_the_document_with_its_text_and_metadata)
{
	struct pdf_line lines[3] = {
	    {"Widget, blue", true, 3, true, 41152, 123456, NULL},
	    {"Setup fee \xff\xfe (bad bytes) and a\ttab", false, 0, false, 0, 0, NULL},
	    /* a decimal quantity shows as given, not as its whole part */
	    {"Consulting hours", true, 2, true, 4000, 11000, "2.75"},
	};
	struct pdf_doc d = sample(lines, 3);
	struct buf b;
	buf_init(&b, PDF_BYTES_MAX);
	cr_assert_eq(pdf_render(&d, &b), 0);
	cr_assert(b.len > 1000);
	cr_assert_eq(memcmp(b.data, "%PDF-", 5), 0);
	cr_assert(memmem(b.data, b.len, "%%EOF", 5) != NULL);
	cr_assert(memmem(b.data, b.len, "Tender", 6) != NULL, "creator metadata");
	cr_assert(memmem(b.data, b.len, "20251206", 8) != NULL, "creation date = document date");
	char *t = pdf_text(&b, "");
	cr_assert(strstr(t, "ABCD-0001"), "%s", t);
	cr_assert(strstr(t, "Widget, blue"));
	cr_assert(strstr(t, "1,234.56 USD"));
	cr_assert(strstr(t, "411.52 USD"));
	cr_assert(strstr(t, "-10.00 USD"));
	cr_assert(strstr(t, "1,224.56 USD"));
	cr_assert(strstr(t, "Jenny Rosen"));
	cr_assert(strstr(t, "jenny@example.com"));
	cr_assert(strstr(t, "Acme Widgets Ltd"));
	cr_assert(strstr(t, "2025-12-06"));
	cr_assert(strstr(t, "Paid"));
	cr_assert(strstr(t, "Thank you for your business."));
	cr_assert(strstr(t, "(bad bytes)"));
	cr_assert(strstr(t, "2.75"), "%s", t);
	free(t);
	cr_assert_eq(pdf_pages(&b), 1);
	buf_release(&b);
}

/* an invoice's shipping_details as a "Ship to" block beside "Bill to", and a header full of
 * rows (dates, custom fields) on the one page */
Test(pdf, ship_to_block_and_a_full_header)
{
	struct pdf_line lines[1] = {{"Widget", true, 1, true, 100, 100, NULL}};
	struct pdf_doc d = sample(lines, 1);
	d.ship_to.name = "Ada Lovelace";
	d.ship_to.address[0] = "1 Analytical St";
	d.ship_to.address[1] = "N1 9GU London";
	while (d.n_dates < PDF_DATES_MAX)
		d.dates[d.n_dates++] = (struct pdf_date){"PO number", 0, "PO-5678"};
	struct buf b;
	buf_init(&b, PDF_BYTES_MAX);
	cr_assert_eq(pdf_render(&d, &b), 0);
	char *t = pdf_text(&b, "-layout");
	cr_assert(strstr(t, "Ship to"), "%s", t);
	cr_assert(strstr(t, "Ada Lovelace"), "%s", t);
	cr_assert(strstr(t, "1 Analytical St"), "%s", t);
	cr_assert(strstr(t, "Bill to"), "%s", t);
	cr_assert(strstr(t, "Jenny Rosen"), "%s", t);
	cr_assert(strstr(t, "PO-5678"), "%s", t);
	free(t);
	cr_assert_eq(pdf_pages(&b), 1);
	/* one row too many is refused, as any description out of its bounds */
	d.n_dates = PDF_DATES_MAX + 1;
	buf_reset(&b);
	cr_assert_eq(pdf_render(&d, &b), PDF_ERR_INVALID);
	buf_release(&b);
}

Test(pdf, same_document_same_bytes)
{
	struct pdf_line lines[1] = {{"Widget", true, 1, true, 500, 500, NULL}};
	struct pdf_doc d = sample(lines, 1);
	struct buf a, b;
	buf_init(&a, PDF_BYTES_MAX);
	buf_init(&b, PDF_BYTES_MAX);
	cr_assert_eq(pdf_render(&d, &a), 0);
	cr_assert_eq(pdf_render(&d, &b), 0);
	cr_assert_eq(a.len, b.len);
	cr_assert_eq(memcmp(a.data, b.data, a.len), 0);
	d.number = "ABCD-0002";
	buf_reset(&b);
	cr_assert_eq(pdf_render(&d, &b), 0);
	cr_assert(a.len != b.len || memcmp(a.data, b.data, a.len) != 0);
	buf_release(&a);
	buf_release(&b);
}

Test(pdf, long_text_wraps_and_many_lines_continue_on_bounded_pages)
{
	size_t n = 5000;
	struct pdf_line *lines = calloc(n, sizeof(*lines));
	char *longtext = malloc(4000);
	for (size_t i = 0; i < 3999; i++)
		longtext[i] = i % 7 == 6 ? ' ' : (char)('a' + i % 26);
	longtext[3999] = '\0';
	char names[40][32];
	for (size_t i = 0; i < n; i++) {
		if (i < 40)
			snprintf(names[i], sizeof(names[0]), "Item %zu", i);
		lines[i].description = i == 0 ? longtext : i < 40 ? names[i] : "Item";
		lines[i].amount = (int64_t)i;
	}
	struct pdf_doc d = sample(lines, n);
	struct buf b;
	buf_init(&b, PDF_BYTES_MAX);
	cr_assert_eq(pdf_render(&d, &b), 0);
	int pages = pdf_pages(&b);
	cr_assert(pages > 10 && pages <= PDF_PAGES_MAX, "%d pages", pages);
	char *t = pdf_text(&b, "-f 1 -l 2");
	cr_assert(strstr(t, "Item 39"));
	cr_assert(strstr(t, "(continued)"));
	cr_assert(strstr(t, "Page 2"));
	cr_assert(strstr(t, "…"), "a description longer than its rows ends with an ellipsis");
	free(t);
	t = pdf_text(&b, "");
	cr_assert(strstr(t, "4000 more lines"));
	cr_assert(strstr(t, "1,224.56 USD"), "the totals come after the lines");
	free(t);
	buf_release(&b);
	free(lines);
	free(longtext);
}

Test(pdf, refuses_what_it_cannot_describe)
{
	struct pdf_doc d = sample(NULL, 0);
	struct buf b;
	buf_init(&b, PDF_BYTES_MAX);
	cr_assert_eq(pdf_render(&d, &b), 0, "no lines is a document too");
	buf_reset(&b);
	d.currency = "zzz";
	cr_assert_eq(pdf_render(&d, &b), PDF_ERR_INVALID);
	d.currency = "usd";
	d.n_lines = 3; /* but no lines */
	cr_assert_eq(pdf_render(&d, &b), PDF_ERR_INVALID);
	cr_assert_eq(b.len, 0);
	buf_release(&b);
}
