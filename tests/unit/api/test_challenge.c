/* The 3-D Secure challenge pages' helpers: what reaches the HTML is escaped, and a token
 * matches only itself. */
#include <criterion/criterion.h>

#include "api/challenge.h"
#include "core/buf.h"

Test(challenge, html_escape_leaves_no_markup)
{
	struct buf b;
	buf_init(&b, 4096);
	html_escape(&b, "<a href=\"x\">O'Neil & Co</a>");
	cr_assert_str_eq(buf_cstr(&b), "&lt;a href=&quot;x&quot;&gt;O&#39;Neil &amp; Co&lt;/a&gt;");
	buf_reset(&b);
	html_escape(&b, NULL);
	cr_assert_str_eq(buf_cstr(&b), "");
	buf_release(&b);
}

Test(challenge, token_matches_only_itself)
{
	cr_assert(challenge_token_eq("abc123", "abc123"));
	cr_assert_not(challenge_token_eq("abc123", "abc124"));
	cr_assert_not(challenge_token_eq("abc123", "abc12"));
	cr_assert_not(challenge_token_eq("abc12", "abc123"));
	cr_assert_not(challenge_token_eq(NULL, "abc"));
	cr_assert_not(challenge_token_eq("abc", NULL));
	cr_assert_not(challenge_token_eq(NULL, NULL));
}

Test(challenge, forms_post_to_the_escaped_base)
{
	struct buf b;
	buf_init(&b, 4096);
	challenge_forms(&b, "/3ds-setup/acct_1/seti_1/t\"k");
	cr_assert_not_null(
	    strstr(buf_cstr(&b), "action=\"/3ds-setup/acct_1/seti_1/t&quot;k/complete\""));
	cr_assert_not_null(
	    strstr(buf_cstr(&b), "action=\"/3ds-setup/acct_1/seti_1/t&quot;k/fail\""));
	buf_release(&b);
}

Test(challenge, amounts_use_the_currency_exponent_and_a_sign)
{
	struct buf b;
	buf_init(&b, 4096);
	html_amount(&b, 2050, "usd");
	cr_assert_str_eq(buf_cstr(&b), "20.50 USD");
	buf_reset(&b);
	html_amount(&b, -1005, "eur");
	cr_assert_str_eq(buf_cstr(&b), "-10.05 EUR");
	buf_reset(&b);
	html_amount(&b, -5, "usd");
	cr_assert_str_eq(buf_cstr(&b), "-0.05 USD");
	buf_reset(&b);
	html_amount(&b, 1500, "jpy");
	cr_assert_str_eq(buf_cstr(&b), "1500 JPY");
	buf_reset(&b);
	html_amount(&b, -1500, "jpy");
	cr_assert_str_eq(buf_cstr(&b), "-1500 JPY");
	buf_reset(&b);
	html_amount(&b, 1234, "kwd");
	cr_assert_str_eq(buf_cstr(&b), "1.234 KWD");
	buf_reset(&b);
	html_amount(&b, INT64_MIN, "usd");
	cr_assert_str_eq(buf_cstr(&b), "-92233720368547758.08 USD");
	buf_release(&b);
}
