#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "documents/documents.h"
#include "documents/pdf.h"

TestSuite(documents, .fini = pdf_caches_release);

/* The text pdftotext (poppler-utils) finds in pdf, malloc'd. */
static char *text_of(const struct buf *pdf)
{
	char in[] = "/tmp/tender-doc-test-XXXXXX";
	int fd = mkstemp(in);
	cr_assert(fd >= 0);
	cr_assert_eq(write(fd, pdf->data, pdf->len), (ssize_t)pdf->len);
	close(fd);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "pdftotext -layout %s - 2>/dev/null", in);
	FILE *p = popen(cmd, "r");
	cr_assert(p);
	size_t cap = 1 << 20, len = 0, k;
	char *out = malloc(cap + 1);
	while ((k = fread(out + len, 1, cap - len, p)) > 0)
		len += k;
	out[len] = '\0';
	cr_assert_eq(pclose(p), 0);
	unlink(in);
	return out;
}

static const char INVOICE[] =
    "{\"id\":\"in_1\",\"object\":\"invoice\",\"status\":\"open\",\"currency\":\"eur\","
    "\"number\":\"ZX-0042\",\"created\":1700000000,\"due_date\":1702592000,"
    "\"status_transitions\":{\"finalized_at\":1700000100,\"paid_at\":null},"
    "\"customer_name\":\"Ada Lovelace\",\"customer_email\":\"ada@example.com\","
    "\"customer_address\":null,\"account_name\":\"Ignored when the context names one\","
    "\"lines\":{\"object\":\"list\",\"data\":["
    "{\"description\":\"Analytical engine\",\"quantity\":3,\"amount\":3000,"
    "\"pricing\":{\"unit_amount_decimal\":\"1000\"}},"
    "{\"description\":\"Punch cards\",\"quantity\":7,\"amount\":700,"
    "\"pricing\":{\"unit_amount_decimal\":\"100.5\"}}]},"
    "\"subtotal\":3700,\"total_discount_amounts\":[{\"amount\":370,\"discount\":\"di_1\"}],"
    "\"total_tax_amounts\":[{\"amount\":666,\"inclusive\":false,\"tax_rate\":\"txr_1\"},"
    "{\"amount\":150,\"inclusive\":true,\"tax_rate\":\"txr_2\"}],"
    "\"total\":3996,\"starting_balance\":-500,\"ending_balance\":0,\"amount_due\":3496,"
    "\"amount_paid\":1000,\"amount_remaining\":2496,\"description\":\"Memo here\","
    "\"footer\":\"Footer here\",\"payment_settings\":{\"card\":\"4242424242424242\"}}";

Test(documents, invoice_json_to_pdf)
{
	struct documents_context c = {
	    .merchant_name = "Babbage & Co",
	    .tax_labels_json = "{\"txr_1\":\"Sales tax (8.25%)\"}",
	    .customer_json = "{\"id\":\"cus_1\",\"name\":\"Other name\",\"address\":{\"line1\":"
			     "\"12 Marylebone\",\"city\":\"London\",\"postal_code\":\"W1\","
			     "\"country\":\"GB\"}}",
	};
	struct buf b;
	buf_init(&b, PDF_BYTES_MAX);
	cr_assert_eq(documents_invoice_pdf(INVOICE, &c, &b), 0);
	char *t = text_of(&b);
	cr_assert(strstr(t, "ZX-0042"), "%s", t);
	cr_assert(strstr(t, "Babbage & Co"));
	cr_assert(!strstr(t, "Ignored when"));
	cr_assert(strstr(t, "Ada Lovelace"), "the invoice's own customer name comes first");
	cr_assert(!strstr(t, "Other name"));
	cr_assert(strstr(t, "12 Marylebone"), "the address from the customer");
	cr_assert(strstr(t, "W1 London"));
	cr_assert(strstr(t, "2023-11-14"), "date of issue: finalized_at");
	cr_assert(strstr(t, "2023-12-14"), "due date");
	cr_assert(strstr(t, "10.00 EUR"), "a whole unit_amount_decimal is shown");
	cr_assert(strstr(t, "30.00 EUR"));
	cr_assert(!strstr(t, "1.00 EUR"), "a fractional unit amount is left out");
	cr_assert(strstr(t, "-3.70 EUR"));
	cr_assert(strstr(t, "6.66 EUR"));
	cr_assert(strstr(t, "Sales tax (8.25%)"), "a rate named by the labels");
	cr_assert(strstr(t, "Tax included"), "a rate the labels do not name");
	cr_assert(strstr(t, "39.96 EUR"));
	cr_assert(strstr(t, "Applied balance"));
	cr_assert(strstr(t, "24.96 EUR"));
	cr_assert(strstr(t, "Open"));
	cr_assert(strstr(t, "Memo here") && strstr(t, "Footer here"));
	cr_assert(!strstr(t, "4242"), "nothing but the document's fields is read");
	free(t);
	buf_release(&b);
}

/* an invoice's account_tax_ids: rows under the issuer's name, as many as its address rows */
Test(documents, account_tax_ids_under_the_issuer)
{
	struct documents_context c = {
	    .merchant_name = "Babbage & Co",
	    .account_tax_ids_json = "[\"EU VAT DE123456789\",\"US EIN 12-3456789\",\"A\",\"B\","
				    "\"C\",\"GB VAT GB999999999\"]",
	};
	struct buf b;
	buf_init(&b, PDF_BYTES_MAX);
	cr_assert_eq(documents_invoice_pdf(INVOICE, &c, &b), 0);
	char *t = text_of(&b);
	cr_assert(strstr(t, "EU VAT DE123456789"), "%s", t);
	cr_assert(strstr(t, "US EIN 12-3456789"));
	cr_assert(!strstr(t, "GB VAT GB999999999"), "past the issuer's rows: left out");
	free(t);
	buf_release(&b);
	c.account_tax_ids_json = NULL; /* none: nothing under the name */
	buf_init(&b, PDF_BYTES_MAX);
	cr_assert_eq(documents_invoice_pdf(INVOICE, &c, &b), 0);
	t = text_of(&b);
	cr_assert(!strstr(t, "EU VAT"));
	free(t);
	buf_release(&b);
}

/* billing credits (pretax): one row for all of them, before the taxes taken after them */
Test(documents, pretax_credits_row)
{
	static const char inv[] =
	    "{\"id\":\"in_2\",\"object\":\"invoice\",\"status\":\"paid\",\"currency\":\"usd\","
	    "\"number\":\"ZX-0043\",\"created\":1700000000,"
	    "\"status_transitions\":{\"finalized_at\":1700000100},"
	    "\"lines\":{\"object\":\"list\",\"data\":[{\"description\":\"API calls\","
	    "\"quantity\":300,\"amount\":1500}]},\"subtotal\":1500,"
	    "\"total_pretax_credit_amounts\":[{\"amount\":600,\"type\":\"credit_balance_"
	    "transaction\"},"
	    "{\"amount\":400,\"type\":\"credit_balance_transaction\"}],"
	    "\"total_tax_amounts\":[{\"amount\":50,\"inclusive\":false,\"tax_rate\":\"txr_1\"}],"
	    "\"total\":550,\"amount_due\":550,\"amount_paid\":550,\"amount_remaining\":0}";
	struct documents_context c = {.merchant_name = "Babbage & Co"};
	struct buf b;
	buf_init(&b, PDF_BYTES_MAX);
	cr_assert_eq(documents_invoice_pdf(inv, &c, &b), 0);
	char *t = text_of(&b);
	const char *row = strstr(t, "Credits applied"), *tax = strstr(t, "Tax");
	cr_assert(row, "%s", t);
	cr_assert(strstr(row, "-10.00 USD"), "the credits summed: %s", row);
	cr_assert(tax && tax > row, "the tax after the credits it was taken on");
	cr_assert(strstr(t, "5.50 USD"));
	free(t);
	buf_release(&b);
}

Test(documents, drafts_and_garbage_have_no_pdf)
{
	struct buf b;
	buf_init(&b, PDF_BYTES_MAX);
	cr_assert_eq(documents_invoice_pdf("{\"status\":\"draft\",\"currency\":\"usd\"}", NULL, &b),
		     PDF_ERR_INVALID);
	cr_assert_eq(documents_invoice_pdf("not json", NULL, &b), PDF_ERR_INVALID);
	cr_assert_eq(documents_invoice_pdf("{\"status\":\"paid\"}", NULL, &b), PDF_ERR_INVALID);
	cr_assert_eq(
	    documents_quote_pdf("{\"status\":\"draft\",\"currency\":\"usd\"}", "[]", NULL, &b),
	    PDF_ERR_INVALID);
	cr_assert_eq(documents_credit_note_pdf("[]", NULL, &b), PDF_ERR_INVALID);
	cr_assert_eq(b.len, 0);
	/* the least a finalized document needs: a status and a currency */
	cr_assert_eq(documents_invoice_pdf("{\"status\":\"void\",\"currency\":\"usd\"}", NULL, &b),
		     0);
	buf_release(&b);
}

Test(documents, quote_and_credit_note)
{
	struct buf b;
	buf_init(&b, PDF_BYTES_MAX);
	const char *q = "{\"status\":\"accepted\",\"currency\":\"jpy\",\"number\":\"QT-7\","
			"\"amount_subtotal\":5000,\"amount_total\":4500,\"total_details\":"
			"{\"amount_discount\":500,\"amount_tax\":0},\"expires_at\":1700000000}";
	const char *items =
	    "{\"object\":\"list\",\"data\":[{\"description\":\"Tea set\","
	    "\"quantity\":2,\"amount_subtotal\":5000,\"price\":{\"unit_amount\":2500}}]}";
	cr_assert_eq(documents_quote_pdf(q, items, NULL, &b), 0);
	char *t = text_of(&b);
	cr_assert(strstr(t, "QT-7") && strstr(t, "Tea set") && strstr(t, "2,500 JPY") &&
		      strstr(t, "4,500 JPY") && strstr(t, "-500 JPY") && strstr(t, "Accepted"),
		  "%s", t);
	free(t);
	buf_reset(&b);
	const char *cn =
	    "{\"status\":\"void\",\"currency\":\"usd\",\"number\":\"ZX-0042-CN-01\","
	    "\"invoice\":\"in_1\",\"lines\":{\"data\":[{\"description\":\"Returned\","
	    "\"quantity\":1,\"unit_amount\":700,\"amount\":700}]},\"subtotal\":700,"
	    "\"total\":700,\"refunds\":[{\"amount_refunded\":700}],\"memo\":\"Sorry\"}";
	/* its invoice's account_tax_ids under the issuer, as on the invoice */
	struct documents_context c = {.invoice_json = INVOICE,
				      .account_tax_ids_json = "[\"EU VAT DE123456789\"]"};
	cr_assert_eq(documents_credit_note_pdf(cn, &c, &b), 0);
	t = text_of(&b);
	cr_assert(strstr(t, "ZX-0042-CN-01") && strstr(t, "Returned") && strstr(t, "Void") &&
		      strstr(t, "Refunded to the payment method") && strstr(t, "Ada Lovelace") &&
		      strstr(t, "Sorry") && strstr(t, "EU VAT DE123456789"),
		  "%s", t);
	free(t);
	buf_release(&b);
}

Test(documents, disposition_keeps_safe_characters)
{
	char s[128];
	cr_assert_eq(documents_disposition("Invoice", "ABC-0001", "in_1", s, sizeof(s)), 0);
	cr_assert_str_eq(s, "inline; filename=\"Invoice-ABC-0001.pdf\"");
	cr_assert_eq(documents_disposition("Quote", "Q\"1/..\r\n2", "qt_1", s, sizeof(s)), 0);
	cr_assert_str_eq(s, "inline; filename=\"Quote-Q12.pdf\"");
	cr_assert_eq(documents_disposition("Quote", NULL, "qt_1", s, sizeof(s)), 0);
	cr_assert_str_eq(s, "inline; filename=\"Quote-qt_1.pdf\"");
	cr_assert_eq(documents_disposition("Quote", NULL, "qt_1", s, 10), -1);
}

Test(documents, stripe_tax_entries_of_zero)
{
	/* a reverse charge and an exempt customer are stated; a tax not collected is no row */
	static const char inv[] =
	    "{\"object\":\"invoice\",\"status\":\"open\",\"currency\":\"eur\",\"number\":\"RC-1\","
	    "\"created\":1700000000,\"lines\":{\"object\":\"list\",\"data\":[{\"description\":"
	    "\"Consulting\",\"quantity\":1,\"amount\":5000}]},\"subtotal\":5000,"
	    "\"total_tax_amounts\":[{\"amount\":0,\"inclusive\":false,\"tax_rate\":\"txr_a\","
	    "\"taxability_reason\":\"reverse_charge\"},{\"amount\":0,\"inclusive\":false,"
	    "\"tax_rate\":\"txr_b\",\"taxability_reason\":\"customer_exempt\"},{\"amount\":0,"
	    "\"inclusive\":false,\"tax_rate\":\"txr_c\",\"taxability_reason\":\"not_collecting\"}],"
	    "\"total\":5000,\"amount_due\":5000,\"amount_paid\":0,\"amount_remaining\":5000}";
	struct documents_context c = {
	    .tax_labels_json = "{\"txr_a\":\"VAT (0%)\",\"txr_b\":\"USt (0%)\",\"txr_c\":\"JCT\"}",
	};
	struct buf b;
	buf_init(&b, PDF_BYTES_MAX);
	cr_assert_eq(documents_invoice_pdf(inv, &c, &b), 0);
	char *t = text_of(&b);
	cr_assert(strstr(t, "VAT (0%) - Reverse charge"), "%s", t);
	cr_assert(strstr(t, "USt (0%) - Customer exempt"), "%s", t);
	cr_assert(!strstr(t, "JCT"), "%s", t);
	free(t);
	buf_release(&b);
}
