#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events/events.h"
#include "merchant/merchant.h"
#include "store/store.h"
#include "webhooks/webhooks.h"

Test(webhooks, signature_matches_a_known_hmac)
{
	/* echo -n '1700000000.{"a":1}' | openssl dgst -sha256 -hmac whsec_test */
	struct buf b;
	buf_init(&b, 0);
	webhook_sign("whsec_test", 1700000000, "{\"a\":1}", 7, &b);
	cr_assert_str_eq(
	    buf_cstr(&b),
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
	const char *bad[] = {"file:///etc/passwd", "gopher://x",  "http://",
			     "https://u:p@x.com/", "ftp://x.com", "http:///x",
			     "https://a b.com",	   "javascript:1"};
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
	const char *in4[] = {"127.0.0.1",	"127.9.9.9",	  "10.1.2.3",
			     "172.16.0.1",	"172.31.255.255", "192.168.1.1",
			     "169.254.169.254", "0.0.0.0",	  "100.64.0.1"};
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

Test(webhooks, signature_covers_timestamp_and_body)
{
	struct buf a, b, c;
	buf_init(&a, 0);
	buf_init(&b, 0);
	buf_init(&c, 0);
	webhook_sign("whsec_test", 1700000000, "{\"a\":1}", 7, &a);
	webhook_sign("whsec_test", 1700000001, "{\"a\":1}", 7, &b);
	webhook_sign("whsec_tesu", 1700000000, "{\"a\":1}", 7, &c);
	cr_assert_str_neq(buf_cstr(&a) + 13, buf_cstr(&b) + 13);
	cr_assert_str_neq(buf_cstr(&a), buf_cstr(&c));
	/* t=10 digits, ",v1=", 64 lowercase hex digits, nothing else */
	cr_assert_eq(strlen(buf_cstr(&a)), strlen("t=1700000000,v1=") + 64);
	cr_assert_eq(strspn(buf_cstr(&a) + 16, "0123456789abcdef"), 64);
	buf_release(&a);
	buf_release(&b);
	buf_release(&c);
}

Test(webhooks, schedule_edges)
{
	struct webhook_schedule s;
	cr_assert_eq(webhook_schedule_parse("1s,1s,1s", &s), 0);
	cr_assert_eq(s.n, 3);
	cr_assert_eq(webhook_schedule_parse("30", &s), 0, "a bare number is seconds");
	cr_assert_eq(s.delays_ms[0], 30000);
	cr_assert_eq(webhook_schedule_parse(NULL, &s), 0);
	const int64_t seed[] = {60000,	  300000,   1800000,  3600000, 21600000,
				43200000, 86400000, 86400000, 86400000};
	for (int i = 0; i < 9; i++)
		cr_assert_eq(s.delays_ms[i], seed[i], "delay %d", i);
	const char *bad[] = {"1s,", ",1s", "1x", "-1s", "1.5s", "s", "1s 2s", "9999999999s"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_neq(webhook_schedule_parse(bad[i], &s), 0, "%s", bad[i]);
	char many[200] = "";
	for (int i = 0; i < 33; i++)
		strncat(many, i ? ",1s" : "1s", sizeof(many) - strlen(many) - 1);
	cr_assert_neq(webhook_schedule_parse(many, &s), 0, "more than WEBHOOK_SCHEDULE_MAX");
}

Test(webhooks, jitter_stays_within_ten_percent)
{
	const uint32_t draws[] = {0, 1, 2, 999, 1000, 60000, 65535, 123456789, UINT32_MAX};
	for (size_t i = 0; i < sizeof(draws) / sizeof(draws[0]); i++) {
		int64_t v = webhook_jitter_ms(60000, draws[i]);
		cr_assert(v >= 54000 && v <= 66000, "%lld", (long long)v);
	}
	cr_assert_eq(webhook_jitter_ms(60000, 0), 54000);
	cr_assert_eq(webhook_jitter_ms(60000, 12000), 66000);
	cr_assert_eq(webhook_jitter_ms(5, 7), 5, "too small to jitter");
}

Test(webhooks, url_rules_more)
{
	char err[256];
	const char *good[] = {"HTTPS://Example.com/hook", "http://example.com:8080/a?b=c#d",
			      "https://[2606:4700::1111]:443/x", "http://localhost/x",
			      "https://example.com"};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		cr_assert_eq(webhook_url_check(good[i], err, sizeof(err)), 0, "%s: %s", good[i],
			     err);
	const char *bad[] = {"",
			     "example.com/hook",
			     "//example.com/hook",
			     "data:text/plain,hi",
			     "ws://example.com/",
			     "https://user@example.com/",
			     "https://:pw@example.com/",
			     "http://:80/",
			     "http://example.com:0/",
			     "http://example.com:65536/",
			     "http://example.com:8x/",
			     "http://example.com:/",
			     "http://[::1/",
			     "http://exa\\mple.com/",
			     "http://example.com/\x01",
			     "http://example.com/a b"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_neq(webhook_url_check(bad[i], err, sizeof(err)), 0, "%s", bad[i]);
	static char longurl[WEBHOOK_URL_MAX + 2];
	memset(longurl, 'a', sizeof(longurl) - 1);
	memcpy(longurl, "https://example.com/", 20);
	longurl[sizeof(longurl) - 1] = '\0';
	cr_assert_neq(webhook_url_check(longurl, err, sizeof(err)), 0);
}

Test(webhooks, targets_by_mode)
{
	char err[256];
	/* test mode: loopback is fine (local development), the rest of the inside is not */
	cr_assert_eq(webhook_url_check_target("http://127.0.0.1:9/x", false, false, err, 256), 0);
	cr_assert_eq(webhook_url_check_target("http://[::1]:9/x", false, false, err, 256), 0);
	cr_assert_neq(webhook_url_check_target("http://169.254.169.254/x", false, false, err, 256),
		      0);
	cr_assert_neq(webhook_url_check_target("http://10.0.0.1/x", false, false, err, 256), 0);
	cr_assert_neq(webhook_url_check_target("http://[fe80::1]/x", false, false, err, 256), 0);
	cr_assert_eq(webhook_url_check_target("https://8.8.8.8/x", false, false, err, 256), 0);
	/* live mode: nothing inside */
	cr_assert_neq(webhook_url_check_target("http://127.0.0.1:9/x", true, false, err, 256), 0);
	cr_assert_neq(webhook_url_check_target("http://[::ffff:127.0.0.1]/", true, false, err, 256),
		      0);
	cr_assert_neq(webhook_url_check_target("http://0.0.0.0/", true, false, err, 256), 0);
	cr_assert_eq(webhook_url_check_target("https://8.8.8.8/x", true, false, err, 256), 0);
	/* a name is left to the connection check unless asked to resolve */
	cr_assert_eq(webhook_url_check_target("http://example.invalid/", true, false, err, 256), 0);
}

static bool allowed4(const char *ip, bool live)
{
	struct sockaddr_in a;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	cr_assert_eq(inet_pton(AF_INET, ip, &a.sin_addr), 1);
	return webhook_addr_allowed((struct sockaddr *)&a, live);
}

static bool allowed6(const char *ip, bool live)
{
	struct sockaddr_in6 a;
	memset(&a, 0, sizeof(a));
	a.sin6_family = AF_INET6;
	cr_assert_eq(inet_pton(AF_INET6, ip, &a.sin6_addr), 1);
	return webhook_addr_allowed((struct sockaddr *)&a, live);
}

Test(webhooks, ssrf_connection_rule)
{
	cr_assert(allowed4("127.0.0.1", false));
	cr_assert(allowed4("127.1.2.3", false));
	cr_assert(!allowed4("127.0.0.1", true));
	cr_assert(allowed6("::1", false));
	cr_assert(!allowed6("::1", true));
	cr_assert(allowed6("::ffff:127.0.0.1", false));
	const char *never4[] = {"10.0.0.1",    "172.16.0.1",  "172.31.1.1",
				"192.168.0.1", "169.254.1.1", "0.0.0.0",
				"100.64.0.1",  "224.0.0.1",   "255.255.255.255"};
	for (size_t i = 0; i < sizeof(never4) / sizeof(never4[0]); i++) {
		cr_assert(!allowed4(never4[i], false), "%s", never4[i]);
		cr_assert(!allowed4(never4[i], true), "%s", never4[i]);
	}
	const char *never6[] = {"fe80::1",
				"febf::1",
				"fc00::1",
				"fdff::1",
				"::",
				"ff02::1",
				"::ffff:192.168.0.1",
				"::ffff:169.254.169.254"};
	for (size_t i = 0; i < sizeof(never6) / sizeof(never6[0]); i++) {
		cr_assert(!allowed6(never6[i], false), "%s", never6[i]);
		cr_assert(!allowed6(never6[i], true), "%s", never6[i]);
	}
	cr_assert(allowed4("93.184.216.34", true));
	cr_assert(allowed4("172.15.255.255", true));
	cr_assert(allowed4("11.0.0.1", true));
	cr_assert(allowed6("2001:4860:4860::8888", true));
	cr_assert(allowed6("fec0::1", true) == false, "deprecated site-local is internal");
}

Test(webhooks, filters)
{
	cr_assert(webhook_filter_matches("[\"*\"]", "customer.created"));
	cr_assert(webhook_filter_matches("[\"charge.succeeded\",\"customer.created\"]",
					 "customer.created"));
	cr_assert(!webhook_filter_matches("[\"charge.succeeded\"]", "charge.succeeded.x"));
	cr_assert(!webhook_filter_matches("[\"charge.succeeded\"]", "charge.succeede"));
	cr_assert(!webhook_filter_matches("[\"charge.dispute.created\"]", "charge.dispute"));
	cr_assert(!webhook_filter_matches("[]", "customer.created"));
	cr_assert(!webhook_filter_matches("[\"customer.updated\"]", "customer.created"));
}

Test(webhooks, event_type_table)
{
	const char *need[] = {"customer.created",
			      "customer.updated",
			      "customer.deleted",
			      "payment_intent.created",
			      "payment_intent.succeeded",
			      "payment_intent.payment_failed",
			      "payment_intent.canceled",
			      "payment_intent.requires_action",
			      "payment_intent.amount_capturable_updated",
			      "charge.succeeded",
			      "charge.failed",
			      "charge.captured",
			      "charge.refunded",
			      "charge.dispute.created",
			      "charge.dispute.funds_reinstated",
			      "balance_settings.updated",
			      "refund.created",
			      "refund.updated",
			      "refund.failed",
			      "billing.alert.triggered",
			      "billing.credit_grant.created",
			      "billing.credit_grant.updated",
			      "payment_method.attached",
			      "payment_method.detached",
			      "balance.available",
			      "payout.paid",
			      "payout.failed",
			      "invoice.paid"};
	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++)
		cr_assert(webhook_event_type_known(need[i]), "%s", need[i]);
	const char *bad[] = {"",  "customer", "customer.*", "Customer.created", "charge.succeeded ",
			     "**"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert(!webhook_event_type_known(bad[i]), "%s", bad[i]);
}

/* ---- the outbox, on a real store ---- */

static char odir[256];
static struct store *ost;

static void outbox_setup(void)
{
	snprintf(odir, sizeof(odir), "/tmp/tender-unit-webhooks-XXXXXX");
	cr_assert_not_null(mkdtemp(odir));
	char err[256];
	struct store_config cfg = {.data_dir = odir};
	cr_assert_eq(store_open(&ost, &cfg, err, sizeof(err)), 0, "%s", err);
	event_set_outbox(webhooks_outbox);
}

static void outbox_teardown(void)
{
	event_set_outbox(NULL);
	store_close(ost);
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", odir);
	cr_assert_eq(system(cmd), 0);
}

static const char SQL_EP[] =
    "INSERT INTO webhook_endpoints (merchant_id, id, created, url, enabled_events, status, secret,"
    " livemode, deleted) VALUES ($1, $2, 1, 'http://127.0.0.1:9/', $3, $4, 'whsec_x', $5, $6)";
static const char SQL_PENDING[] =
    "SELECT pending_webhooks FROM events WHERE merchant_id = $1 AND id = $2";
static const char SQL_DELIVERIES[] =
    "SELECT endpoint_id FROM webhook_deliveries WHERE merchant_id = $1 AND event_id = $2"
    " AND status = 'pending' ORDER BY endpoint_id";

struct ep {
	const char *merchant, *id, *events, *status;
	int live, deleted;
};

static const struct ep eps[] = {
    {"acct_a", "we_1all", "[\"*\"]", "enabled", 0, 0},
    {"acct_a", "we_2cus", "[\"customer.created\",\"charge.failed\"]", "enabled", 0, 0},
    {"acct_a", "we_3chg", "[\"charge.succeeded\"]", "enabled", 0, 0},
    {"acct_a", "we_4off", "[\"*\"]", "disabled", 0, 0},
    {"acct_a", "we_5del", "[\"*\"]", "enabled", 0, 1},
    {"acct_a", "we_6live", "[\"*\"]", "enabled", 1, 0},
    {"acct_b", "we_7other", "[\"*\"]", "enabled", 0, 0},
};

struct append_ctx {
	char event_id[ID_MAX];
	const char *type;
};

static int seed_fn(struct db *db, void *p)
{
	(void)p;
	for (size_t i = 0; i < sizeof(eps) / sizeof(eps[0]); i++) {
		struct db_stmt *st = db_prepare(db, SQL_EP);
		cr_assert_not_null(st);
		db_bind_text(st, 1, eps[i].merchant, -1);
		db_bind_text(st, 2, eps[i].id, -1);
		db_bind_text(st, 3, eps[i].events, -1);
		db_bind_text(st, 4, eps[i].status, -1);
		db_bind_int64(st, 5, eps[i].live);
		db_bind_int64(st, 6, eps[i].deleted);
		cr_assert_eq(db_step_done(st), DB_OK);
	}
	return 0;
}

static int append_fn(struct db *db, void *p)
{
	struct append_ctx *c = p;
	struct event_origin o = {NULL, NULL, 0};
	return event_append(db, "acct_a", &o, c->type, "cus_1", "{}", 2, NULL, 1, c->event_id);
}

struct check_ctx {
	const char *event_id;
	int64_t pending;
	char endpoints[256];
};

static int check_fn(struct db *db, void *p)
{
	struct check_ctx *c = p;
	struct db_stmt *st = db_prepare(db, SQL_PENDING);
	db_bind_text(st, 1, "acct_a", -1);
	db_bind_text(st, 2, c->event_id, -1);
	cr_assert_eq(db_step(st), DB_ROW);
	c->pending = db_col_int64(st, 0);
	db_reset(st);
	st = db_prepare(db, SQL_DELIVERIES);
	db_bind_text(st, 1, "acct_a", -1);
	db_bind_text(st, 2, c->event_id, -1);
	c->endpoints[0] = '\0';
	while (db_step(st) == DB_ROW) {
		size_t l = strlen(c->endpoints);
		snprintf(c->endpoints + l, sizeof(c->endpoints) - l, "%s ",
			 db_col_text(st, 0, NULL));
	}
	db_reset(st);
	return 0;
}

Test(outbox, queues_one_delivery_per_matching_enabled_endpoint_in_the_same_mode,
     .init = outbox_setup, .fini = outbox_teardown)
{
	cr_assert_eq(store_write(ost, NULL, seed_fn, NULL), 0);
	struct append_ctx a = {"", "customer.created"};
	cr_assert_eq(store_write(ost, "acct_a", append_fn, &a), 0);
	struct check_ctx c = {a.event_id, -1, ""};
	cr_assert_eq(store_read(ost, "acct_a", check_fn, &c), 0);
	cr_assert_eq(c.pending, 2);
	cr_assert_str_eq(c.endpoints, "we_1all we_2cus ");

	struct append_ctx b = {"", "charge.succeeded"};
	cr_assert_eq(store_write(ost, "acct_a", append_fn, &b), 0);
	struct check_ctx d = {b.event_id, -1, ""};
	cr_assert_eq(store_read(ost, "acct_a", check_fn, &d), 0);
	cr_assert_eq(d.pending, 2);
	cr_assert_str_eq(d.endpoints, "we_1all we_3chg ");

	/* resend queues one more and counts it as pending */
	char msg[256];
	cr_assert_eq(webhooks_resend(ost, a.event_id, "we_3chg", msg, sizeof(msg)), 0, "%s", msg);
	cr_assert_eq(store_read(ost, "acct_a", check_fn, &c), 0);
	cr_assert_eq(c.pending, 3);
	cr_assert_str_eq(c.endpoints, "we_1all we_2cus we_3chg ");
	cr_assert_neq(webhooks_resend(ost, a.event_id, "we_7other", msg, sizeof(msg)), 0,
		      "another merchant's endpoint");
	cr_assert_neq(webhooks_resend(ost, "evt_nope", "we_1all", msg, sizeof(msg)), 0);

	struct buf out;
	buf_init(&out, 0);
	cr_assert_eq(webhooks_print_attempts(ost, a.event_id, &out), 0);
	cr_assert_not_null(strstr(buf_cstr(&out), "we_2cus: pending after 0 attempt(s)"), "%s",
			   buf_cstr(&out));
	buf_release(&out);
}

/* What webhooks_outbox keeps of one write's endpoints lasts that write only: a later write
 * reads the table again (here an endpoint added in between without webhooks_endpoints_changed,
 * as another node or the webhook worker would add or change one), and inside one write an
 * endpoint write drops it. */
struct kept_ctx {
	char first[ID_MAX], second[ID_MAX];
	int add; /* 1: add an endpoint between the two events, and say so */
};

static int ep_add(struct db *db, const char *id)
{
	struct db_stmt *st = db_prepare(db, SQL_EP);
	db_bind_text(st, 1, "acct_k", -1);
	db_bind_text(st, 2, id, -1);
	db_bind_text(st, 3, "[\"*\"]", -1);
	db_bind_text(st, 4, "enabled", -1);
	db_bind_int64(st, 5, 0);
	db_bind_int64(st, 6, 0);
	return db_step_done(st) == DB_OK ? 0 : -1;
}

static int kept_fn(struct db *db, void *p)
{
	struct kept_ctx *c = p;
	struct event_origin o = {NULL, NULL, 0};
	if (event_append(db, "acct_k", &o, "customer.created", "cus_1", "{}", 2, NULL, 1,
			 c->first) != 0)
		return -1;
	if (c->add) {
		if (ep_add(db, "we_k2") != 0)
			return -1;
		webhooks_endpoints_changed();
	}
	return event_append(db, "acct_k", &o, "customer.updated", "cus_1", "{}", 2, NULL, 1,
			    c->second);
}

static int ep_add_fn(struct db *db, void *p)
{
	(void)p;
	return ep_add(db, "we_k1");
}

struct pending_ctx {
	const char *event_id;
	int64_t pending;
};

static int pending_fn(struct db *db, void *p)
{
	struct pending_ctx *c = p;
	struct db_stmt *st = db_prepare(db, SQL_PENDING);
	db_bind_text(st, 1, "acct_k", -1);
	db_bind_text(st, 2, c->event_id, -1);
	cr_assert_eq(db_step(st), DB_ROW);
	c->pending = db_col_int64(st, 0);
	db_reset(st);
	return 0;
}

static int64_t pending_of(const char *event_id)
{
	struct pending_ctx c = {event_id, -1};
	cr_assert_eq(store_read(ost, "acct_k", pending_fn, &c), 0);
	return c.pending;
}

Test(outbox, endpoints_are_kept_for_one_write_only, .init = outbox_setup, .fini = outbox_teardown)
{
	struct kept_ctx a = {"", "", 0};
	cr_assert_eq(store_write(ost, "acct_k", kept_fn, &a), 0);
	/* added by a write of its own, which does not say so */
	cr_assert_eq(store_write(ost, "acct_k", ep_add_fn, NULL), 0);
	struct kept_ctx b = {"", "", 0};
	cr_assert_eq(store_write(ost, "acct_k", kept_fn, &b), 0);
	struct kept_ctx c = {"", "", 1};
	cr_assert_eq(store_write(ost, "acct_k", kept_fn, &c), 0);
	cr_assert_eq(pending_of(a.first), 0);
	cr_assert_eq(pending_of(a.second), 0);
	cr_assert_eq(pending_of(b.first), 1, "a later write reads the endpoints again");
	cr_assert_eq(pending_of(b.second), 1);
	cr_assert_eq(pending_of(c.first), 1);
	cr_assert_eq(pending_of(c.second), 2, "an endpoint written in the write is seen");
}

static int append_fail_fn(struct db *db, void *p)
{
	append_fn(db, p);
	return -1; /* the change fails: its event and deliveries vanish with it */
}

Test(outbox, a_rolled_back_change_leaves_no_delivery, .init = outbox_setup, .fini = outbox_teardown)
{
	cr_assert_eq(store_write(ost, NULL, seed_fn, NULL), 0);
	struct append_ctx a = {"", "customer.created"};
	cr_assert_neq(store_write(ost, "acct_a", append_fail_fn, &a), 0);
	struct check_ctx c = {a.event_id, -1, ""};
	struct buf out;
	buf_init(&out, 0);
	cr_assert_eq(webhooks_print_attempts(ost, a.event_id, &out), DB_NOTFOUND);
	buf_release(&out);
	(void)c;
}

/* ---- Connect: a connected account's events also go to its platform's connect endpoints ---- */

struct family {
	struct merchant_keys p1, p2; /* two platforms */
	char acct[ID_MAX];	     /* a connected account of p1 */
};

static void family_make(struct family *f)
{
	char err[256];
	cr_assert_eq(merchant_create(ost, "Platform 1", "usd", 0, &f->p1, err, sizeof(err)), 0,
		     "%s", err);
	cr_assert_eq(merchant_create(ost, "Platform 2", "usd", 0, &f->p2, err, sizeof(err)), 0,
		     "%s", err);
	id_new(f->acct, "acct_");
	cr_assert_eq(merchant_create_connected(ost, f->p1.id, f->acct, "Shop", "usd", 0, 1), 0);
}

struct cep {
	const char *merchant, *id, *events, *status;
	int live, connect;
};

static int cseed_fn(struct db *db, void *p)
{
	const struct cep *e = p;
	for (; e->merchant; e++) {
		struct db_stmt *st = db_prepare(
		    db,
		    "INSERT INTO webhook_endpoints (merchant_id, id, created, url, enabled_events,"
		    " status, secret, livemode, connect) VALUES ($1, $2, 1, 'http://127.0.0.1:9/',"
		    " $3, $4, 'whsec_x', $5, $6)");
		cr_assert_not_null(st);
		db_bind_text(st, 1, e->merchant, -1);
		db_bind_text(st, 2, e->id, -1);
		db_bind_text(st, 3, e->events, -1);
		db_bind_text(st, 4, e->status, -1);
		db_bind_int64(st, 5, e->live);
		db_bind_int64(st, 6, e->connect);
		cr_assert_eq(db_step_done(st), DB_OK);
	}
	return 0;
}

struct cappend {
	const char *merchant, *type;
	char event_id[ID_MAX];
};

static int cappend_fn(struct db *db, void *p)
{
	struct cappend *c = p;
	struct event_origin o = {NULL, NULL, 0};
	return event_append(db, c->merchant, &o, c->type, "cus_1", "{}", 2, NULL, 1, c->event_id);
}

/* What one event left: its pending_webhooks, the deliveries held by each merchant given (as
 * "endpoint<event_merchant_id or ->" items), and its rendering. */
struct cstate {
	const char *owner, *event_id, *holders[3];
	int64_t pending;
	char deliveries[512];
	char rendered[4096];
};

static int cstate_fn(struct db *db, void *p)
{
	struct cstate *c = p;
	struct db_stmt *st = db_prepare(db, SQL_PENDING);
	db_bind_text(st, 1, c->owner, -1);
	db_bind_text(st, 2, c->event_id, -1);
	cr_assert_eq(db_step(st), DB_ROW);
	c->pending = db_col_int64(st, 0);
	db_reset(st);
	c->deliveries[0] = '\0';
	for (int i = 0; i < 3 && c->holders[i]; i++) {
		st = db_prepare(db, "SELECT endpoint_id, COALESCE(event_merchant_id, '-') FROM"
				    " webhook_deliveries WHERE merchant_id = $1 AND event_id = $2"
				    " ORDER BY endpoint_id");
		db_bind_text(st, 1, c->holders[i], -1);
		db_bind_text(st, 2, c->event_id, -1);
		while (db_step(st) == DB_ROW) {
			size_t l = strlen(c->deliveries);
			const char *em = db_col_text(st, 1, NULL);
			snprintf(c->deliveries + l, sizeof(c->deliveries) - l, "%s<%s> ",
				 db_col_text(st, 0, NULL),
				 strcmp(em, "-") == 0	     ? "-"
				 : strcmp(em, c->owner) == 0 ? "owner"
							     : em);
		}
		db_reset(st);
	}
	struct buf b;
	buf_init(&b, 0);
	struct json j;
	json_init(&j, &b);
	cr_assert_eq(event_render(db, c->owner, c->event_id, &j), DB_OK);
	snprintf(c->rendered, sizeof(c->rendered), "%s", buf_cstr(&b));
	buf_release(&b);
	return 0;
}

static void cstate_read(struct cstate *c)
{
	cr_assert_eq(store_read(ost, c->owner, cstate_fn, c), 0);
}

Test(outbox, connect_endpoints_take_the_accounts_events_and_plain_ones_the_merchants_own,
     .init = outbox_setup, .fini = outbox_teardown)
{
	struct family f;
	family_make(&f);
	const struct cep eps_c[] = {
	    {f.p1.id, "we_p1plain", "[\"*\"]", "enabled", 0, 0},
	    {f.p1.id, "we_p1conn", "[\"*\"]", "enabled", 0, 1},
	    {f.p1.id, "we_p1connchg", "[\"charge.succeeded\"]", "enabled", 0, 1},
	    {f.p1.id, "we_p1connoff", "[\"*\"]", "disabled", 0, 1},
	    {f.p1.id, "we_p1connlive", "[\"*\"]", "enabled", 1, 1},
	    {f.p2.id, "we_p2conn", "[\"*\"]", "enabled", 0, 1},
	    {f.acct, "we_aown", "[\"*\"]", "enabled", 0, 0},
	    {NULL, NULL, NULL, NULL, 0, 0},
	};
	cr_assert_eq(store_write(ost, NULL, cseed_fn, (void *)eps_c), 0);

	/* the account's event: its own endpoint, and p1's matching enabled test-mode connect
	 * endpoint, held by p1 and naming the account; p2 gets nothing */
	struct cappend a = {f.acct, "customer.created", ""};
	cr_assert_eq(store_write(ost, f.acct, cappend_fn, &a), 0);
	struct cstate s = {f.acct, a.event_id, {f.acct, f.p1.id, f.p2.id}, -1, "", ""};
	cstate_read(&s);
	cr_assert_str_eq(s.deliveries, "we_aown<-> we_p1conn<owner> ");
	cr_assert_eq(s.pending, 2, "pending_webhooks counts the platform's delivery");
	char want[256];
	snprintf(want, sizeof(want), "{\"id\":\"%s\",\"object\":\"event\",\"account\":\"%s\",",
		 a.event_id, f.acct);
	cr_assert(strncmp(s.rendered, want, strlen(want)) == 0, "%s", s.rendered);

	/* the filter applies to connect endpoints too */
	struct cappend b = {f.acct, "charge.succeeded", ""};
	cr_assert_eq(store_write(ost, f.acct, cappend_fn, &b), 0);
	struct cstate t = {f.acct, b.event_id, {f.acct, f.p1.id, f.p2.id}, -1, "", ""};
	cstate_read(&t);
	cr_assert_str_eq(t.deliveries, "we_aown<-> we_p1conn<owner> we_p1connchg<owner> ");
	cr_assert_eq(t.pending, 3);

	/* the platform's own event: its plain endpoint only, rendered without `account` */
	struct cappend c = {f.p1.id, "customer.created", ""};
	cr_assert_eq(store_write(ost, f.p1.id, cappend_fn, &c), 0);
	struct cstate u = {f.p1.id, c.event_id, {f.p1.id, f.p2.id, NULL}, -1, "", ""};
	cstate_read(&u);
	cr_assert_str_eq(u.deliveries, "we_p1plain<-> ");
	cr_assert_eq(u.pending, 1);
	cr_assert_null(strstr(u.rendered, "\"account\""), "%s", u.rendered);

	/* the operator's views find the platform's delivery of the account's event */
	struct buf out;
	buf_init(&out, 0);
	cr_assert_eq(webhooks_print_attempts(ost, a.event_id, &out), 0);
	char line[256];
	snprintf(line, sizeof(line), "to we_p1conn of platform %s: pending", f.p1.id);
	cr_assert_not_null(strstr(buf_cstr(&out), line), "%s", buf_cstr(&out));
	cr_assert_not_null(strstr(buf_cstr(&out), "to we_aown: pending"), "%s", buf_cstr(&out));
	buf_release(&out);

	/* resend: to the platform's connect endpoint, held by the platform; never to its plain
	 * endpoint, another platform's, or, for the platform's own event, a connect endpoint */
	char msg[256];
	cr_assert_eq(webhooks_resend(ost, a.event_id, "we_p1connchg", msg, sizeof(msg)), 0, "%s",
		     msg);
	cstate_read(&s);
	cr_assert_str_eq(s.deliveries, "we_aown<-> we_p1conn<owner> we_p1connchg<owner> ");
	cr_assert_eq(s.pending, 3);
	cr_assert_neq(webhooks_resend(ost, a.event_id, "we_p1plain", msg, sizeof(msg)), 0);
	cr_assert_neq(webhooks_resend(ost, a.event_id, "we_p2conn", msg, sizeof(msg)), 0);
	cr_assert_neq(webhooks_resend(ost, c.event_id, "we_p1conn", msg, sizeof(msg)), 0);
	cstate_read(&u);
	cr_assert_eq(u.pending, 1);
}
