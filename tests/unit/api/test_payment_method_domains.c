/* The host names a payment method domain (or a legacy Apple Pay domain) may name. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "api/payment_method_domains.h"

static const char *norm(const char *in)
{
	static char out[HOST_NAME_MAX_LEN + 1];
	return host_name_normalize(in, out) == 0 ? out : NULL;
}

Test(payment_method_domains, host_names_taken_lower_cased)
{
	cr_assert_str_eq(norm("example.com"), "example.com");
	cr_assert_str_eq(norm("Shop.Example.COM"), "shop.example.com");
	cr_assert_str_eq(norm("a-b.c1.example.co.uk"), "a-b.c1.example.co.uk");
	cr_assert_str_eq(norm("1.2.3.example"), "1.2.3.example");
	cr_assert_str_eq(norm("xn--bcher-kva.example"), "xn--bcher-kva.example");
}

Test(payment_method_domains, what_is_not_a_host_name)
{
	static const char *const bad[] = {
	    "",
	    "localhost",
	    "example",
	    "https://example.com",
	    "example.com/",
	    "exa mple.com",
	    "-a.example.com",
	    "a-.example.com",
	    "a..example.com",
	    ".example.com",
	    "example.com.",
	    "1.2.3.4",
	    "example.123",
	    "ex_ample.com",
	    "example.com:443",
	    "ex\xc3\xa4mple.com",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_null(norm(bad[i]), "%s", bad[i]);
	cr_assert_null(norm(NULL));
}

Test(payment_method_domains, length_bounds)
{
	char label[70], name[300];
	memset(label, 'a', 63);
	label[63] = '\0';
	snprintf(name, sizeof(name), "%s.com", label);
	cr_assert_not_null(norm(name)); /* a 63-character label */
	memset(label, 'a', 64);
	label[64] = '\0';
	snprintf(name, sizeof(name), "%s.com", label);
	cr_assert_null(norm(name)); /* 64 */
	/* 253 characters in all is the most: four labels of 62 and one of 1 (+ dots) */
	memset(name, 'b', 253);
	name[253] = '\0';
	for (int i = 62; i < 253; i += 63)
		name[i] = '.';
	cr_assert_eq(strlen(name), 253);
	cr_assert_not_null(norm(name));
	char longer[320];
	snprintf(longer, sizeof(longer), "%sc", name); /* 254: its last label "bc" */
	cr_assert_eq(strlen(longer), 254);
	cr_assert_null(norm(longer));
}
