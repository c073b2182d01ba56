/* The start of the URLs Tender hands out: --public-url's checks, and which address wins (the
 * configured one over a client's Host header, the Host header over the listener's own). */
#include <criterion/criterion.h>
#include <string.h>

#include "app.h"
#include "http/req.h"

Test(url_base, accepts_scheme_host_port_prefix_and_drops_trailing_slashes)
{
	char out[64];
	cr_assert_eq(url_base_parse("https://pay.example.com", out, sizeof(out)), 0);
	cr_assert_str_eq(out, "https://pay.example.com");
	cr_assert_eq(url_base_parse("http://10.0.0.7:8080/", out, sizeof(out)), 0);
	cr_assert_str_eq(out, "http://10.0.0.7:8080");
	cr_assert_eq(url_base_parse("https://example.com/pay/tender//", out, sizeof(out)), 0);
	cr_assert_str_eq(out, "https://example.com/pay/tender");
	cr_assert_eq(url_base_parse("http://[::1]:4242", out, sizeof(out)), 0);
	cr_assert_str_eq(out, "http://[::1]:4242");
}

Test(url_base, refuses_what_would_not_prefix_a_path)
{
	char out[64];
	const char *bad[] = {
	    "",
	    "pay.example.com",
	    "ftp://pay.example.com",
	    "https://",
	    "https:///x",
	    "https://user@pay.example.com",
	    "https://pay.example.com:",
	    "https://pay.example.com:123456",
	    "https://pay.example.com?x=1",
	    "https://pay.example.com/a#b",
	    "https://pay.example.com/a b",
	    "https://pay.example.com/\"><script>",
	    "https://[::1",
	    "https://[]",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		cr_assert_eq(url_base_parse(bad[i], out, sizeof(out)), -1, "%s", bad[i]);
	/* too long for out */
	cr_assert_eq(url_base_parse("https://a-rather-long-host-name.example.com", out, 16), -1);
}

Test(url_base, configured_address_over_host_header_over_listener)
{
	struct app app;
	memset(&app, 0, sizeof(app));
	struct req r;
	req_internal_init(&r, &app, "m", 0, "shop.internal:4242");
	cr_assert_str_eq(req_url_base(&r), "http://shop.internal:4242");
	app.cfg.public_url = "https://pay.example.com";
	cr_assert_str_eq(req_url_base(&r), "https://pay.example.com");
	app.cfg.public_url = NULL;
	r.host = NULL;
	cr_assert_str_eq(req_url_base(&r), "http://127.0.0.1:4242");
	strcpy(app.self_url_buf, "http://127.0.0.1:5555");
	app.self_url = app.self_url_buf;
	cr_assert_str_eq(req_url_base(&r), "http://127.0.0.1:5555");
	cr_assert_str_eq(app_url_base(NULL), "http://127.0.0.1:4242");
	req_internal_release(&r);
}
