/* File types by content, each purpose's types and sizes, and when a purpose's files expire. */
#include <criterion/criterion.h>
#include <string.h>

#include "api/files.h"

static const char *sniff(const char *p, size_t n)
{
	return file_sniff((const unsigned char *)p, n, NULL);
}

Test(files, sniff_by_magic_numbers)
{
	const char *mime = NULL;
	cr_assert_str_eq(file_sniff((const unsigned char *)"%PDF-1.4\n", 9, &mime), "pdf");
	cr_assert_str_eq(mime, "application/pdf");
	cr_assert_str_eq(sniff("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16), "png");
	cr_assert_str_eq(sniff("\xff\xd8\xff\xe0\0\x10JFIF", 10), "jpg");
	cr_assert_str_eq(sniff("GIF89a\x01\0", 8), "gif");
	cr_assert_str_eq(sniff("GIF87a", 6), "gif");
	cr_assert_str_eq(sniff("<?xml version=\"1.0\"?>\n<svg xmlns=\"x\"/>", 38), "svg");
	cr_assert_str_eq(sniff("  <svg/>", 8), "svg");
	cr_assert_str_eq(sniff("a,b\r\n1,2\n", 9), "csv");
	cr_assert_str_eq(sniff("caf\xc3\xa9,1\n", 8), "csv");
	/* what nothing takes */
	cr_assert_null(sniff("", 0));
	cr_assert_null(sniff("\x89PNG\r\n", 6));   /* a truncated signature */
	cr_assert_str_eq(sniff("%PDF", 4), "csv"); /* text, not a PDF */
	cr_assert_null(sniff("MZ\x90\0\x03", 5));  /* a Windows executable */
	cr_assert_null(sniff("a\0b", 3));	   /* binary */
	cr_assert_null(sniff("caf\xc3", 4));	   /* cut UTF-8 */
	cr_assert_null(sniff("\xc0\xaf", 2));	   /* overlong UTF-8 */
	/* a declared name changes nothing: the bytes decide */
	cr_assert_str_eq(sniff("<html><script>x</script></html>", 31), "csv");
}

Test(files, purposes_take_their_types_and_sizes)
{
	cr_assert_eq(file_rule_check("dispute_evidence", "pdf", 1000), FILE_OK);
	cr_assert_eq(file_rule_check("dispute_evidence", "jpg", 1000), FILE_OK);
	cr_assert_eq(file_rule_check("dispute_evidence", "png", 5 << 20), FILE_OK);
	cr_assert_eq(file_rule_check("dispute_evidence", "png", (5 << 20) + 1), FILE_TOO_LARGE);
	cr_assert_eq(file_rule_check("dispute_evidence", "gif", 1000), FILE_BAD_TYPE);
	cr_assert_eq(file_rule_check("dispute_evidence", "csv", 1000), FILE_BAD_TYPE);
	cr_assert_eq(file_rule_check("dispute_evidence", NULL, 1000), FILE_BAD_TYPE);
	cr_assert_eq(file_rule_check("dispute_evidence", "pdf", 0), FILE_EMPTY);
	cr_assert_eq(file_rule_check("business_logo", "gif", 512 << 10), FILE_OK);
	cr_assert_eq(file_rule_check("business_logo", "gif", (512 << 10) + 1), FILE_TOO_LARGE);
	cr_assert_eq(file_rule_check("business_icon", "pdf", 100), FILE_BAD_TYPE);
	cr_assert_eq(file_rule_check("customer_signature", "svg", 100), FILE_OK);
	cr_assert_eq(file_rule_check("customer_signature", "pdf", 100), FILE_BAD_TYPE);
	cr_assert_eq(file_rule_check("identity_document", "pdf", 16 << 20), FILE_OK);
	cr_assert_eq(file_rule_check("tax_document_user_upload", "csv", 10), FILE_OK);
	cr_assert_eq(file_rule_check("sigma_scheduled_query", "csv", 10), FILE_BAD_PURPOSE);
	cr_assert_eq(file_rule_check("nope", "pdf", 10), FILE_BAD_PURPOSE);
	cr_assert_eq(file_rule_check(NULL, "pdf", 10), FILE_BAD_PURPOSE);
	cr_assert_eq(file_purpose_max_bytes("dispute_evidence"), 5 << 20);
	cr_assert_eq(file_purpose_max_bytes("nope"), 0);
}

Test(files, expiry_per_purpose)
{
	/* 2026-01-31 12:00:00 UTC: nine months later is October 31 */
	cr_assert_eq(file_expires_at("dispute_evidence", 1769860800), 1793448000);
	/* 2026-05-31: February has no 31st, the day is clamped (2027-02-28) */
	cr_assert_eq(file_expires_at("dispute_evidence", 1780228800), 1803816000);
	cr_assert_eq(file_expires_at("customer_signature", 1000), 1000 + 7 * 86400);
	cr_assert_eq(file_expires_at("business_logo", 1000), 0);
	cr_assert_eq(file_expires_at("identity_document", 1000), 0);
	cr_assert_eq(file_expires_at("nope", 1000), 0);
}
