#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <string.h>

#include "webhooks/webhooks.h"

Test(webhooks, signature_matches_a_known_hmac)
{
	/* echo -n '1700000000.{"a":1}' | openssl dgst -sha256 -hmac whsec_test */
	struct buf b;
	buf_init(&b, 0);
	webhook_sign("whsec_test", 1700000000, "{\"a\":1}", 7, &b);
	cr_assert_str_eq(buf_cstr(&b),
	                 "t=1700000000,v1=38877139021993b830af32feea6e18a8da83eb2f6e49ee50bd9e4cf4ca4d"
	                 "3789");
	buf_release(&b);
}

Test(webhooks, schedule)
{
	struct webhook_schedule s;
	cr_assert_eq(webhook_schedule_parse("1s,2s,500ms,5m,1h,1d", &s), 0);
	cr_assert_eq(s.n, 6);
	cr_assert_eq(s.delays_ms[0], 1000);
	cr_assert_eq(s.delays_ms[2], 500);
	cr_assert_eq(s.delays_ms[5], 86400000);
	cr_assert_eq(webhook_schedule_parse(NULL, &s), 0);
	cr_assert_eq(s.n, 9, "ten attempts: one now and nine retries");
	cr_assert_eq(s.delays_ms[0], 60000);
	cr_assert_neq(webhook_schedule_parse("soon", &s), 0);
	cr_assert_neq(webhook_schedule_parse("1s,,2s", &s), 0);
	cr_assert_neq(webhook_schedule_parse("", &s), 0);
}

Test(webhooks, url_rules)
{
	char err[256];
	cr_assert_eq(webhook_url_check("https://example.com/hook", err, sizeof(err)), 0);
	cr_assert_eq(webhook_url_check("http://127.0.0.1:8080/x", err, sizeof(err)), 0);
	const char *bad[] = {"file:///etc/passwd", "gopher://x", "http://", "https://u:p@x.com/",
	                     "ftp://x.com",        "http:///x",  "https://a b.com", "javascript:1"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_neq(webhook_url_check(bad[i], err, sizeof(err)), 0, "%s", bad[i]);
}

static bool internal4(const char *ip)
{
	struct sockaddr_in a;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	inet_pton(AF_INET, ip, &a.sin_addr);
	return webhook_addr_is_internal((struct sockaddr *)&a);
}

static bool internal6(const char *ip)
{
	struct sockaddr_in6 a;
	memset(&a, 0, sizeof(a));
	a.sin6_family = AF_INET6;
	inet_pton(AF_INET6, ip, &a.sin6_addr);
	return webhook_addr_is_internal((struct sockaddr *)&a);
}

Test(webhooks, ssrf_address_classes)
{
	const char *in4[] = {"127.0.0.1", "127.9.9.9", "10.1.2.3", "172.16.0.1", "172.31.255.255",
	                     "192.168.1.1", "169.254.169.254", "0.0.0.0", "100.64.0.1"};
	for (size_t i = 0; i < sizeof(in4) / sizeof(in4[0]); i++)
		cr_assert(internal4(in4[i]), "%s", in4[i]);
	const char *out4[] = {"8.8.8.8", "172.32.0.1", "192.169.0.1", "1.1.1.1"};
	for (size_t i = 0; i < sizeof(out4) / sizeof(out4[0]); i++)
		cr_assert(!internal4(out4[i]), "%s", out4[i]);
	cr_assert(internal6("::1"));
	cr_assert(internal6("fe80::1"));
	cr_assert(internal6("fd00::1"));
	cr_assert(internal6("::ffff:10.0.0.1"));
	cr_assert(internal6("::"));
	cr_assert(!internal6("2606:4700::1111"));
}

Test(webhooks, event_types)
{
	cr_assert(webhook_event_type_known("*"));
	cr_assert(webhook_event_type_known("charge.succeeded"));
	cr_assert(webhook_event_type_known("charge.dispute.created"));
	cr_assert(!webhook_event_type_known("charge.exploded"));
}

Test(webhooks, url_resolution_flags_internal_hosts)
{
	bool internal = false;
	cr_assert_eq(webhook_url_internal("http://127.0.0.1:9/x", &internal), 0);
	cr_assert(internal);
	cr_assert_eq(webhook_url_internal("http://localhost/x", &internal), 0);
	cr_assert(internal);
	cr_assert_eq(webhook_url_internal("https://[::1]:8443/x", &internal), 0);
	cr_assert(internal);
	cr_assert_eq(webhook_url_internal("http://10.0.0.7/", &internal), 0);
	cr_assert(internal);
	cr_assert_eq(webhook_url_internal("http://8.8.8.8/", &internal), 0);
	cr_assert(!internal);
}
