#include "webhooks/webhooks.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "core/id.h"
#include "core/parse.h"
#include "store/store.h"

static const int64_t DEFAULT_SCHEDULE_MS[] = {
    60000, 300000, 1800000, 3600000, 21600000, 43200000, 86400000, 86400000, 86400000,
};

int webhook_schedule_parse(const char *s, struct webhook_schedule *ret)
{
	memset(ret, 0, sizeof(*ret));
	if (!s) {
		ret->n = (int)(sizeof(DEFAULT_SCHEDULE_MS) / sizeof(DEFAULT_SCHEDULE_MS[0]));
		memcpy(ret->delays_ms, DEFAULT_SCHEDULE_MS, sizeof(DEFAULT_SCHEDULE_MS));
		return 0;
	}
	const char *p = s;
	while (*p) {
		size_t n = strcspn(p, ",");
		char tmp[32];
		if (n == 0 || n >= sizeof(tmp) || ret->n >= WEBHOOK_SCHEDULE_MAX)
			return -1;
		memcpy(tmp, p, n);
		tmp[n] = '\0';
		size_t digits = strspn(tmp, "0123456789");
		const char *unit = tmp + digits;
		int64_t mult = strcmp(unit, "ms") == 0                      ? 1
		               : strcmp(unit, "s") == 0 || *unit == '\0' ? 1000
		               : strcmp(unit, "m") == 0                   ? 60000
		               : strcmp(unit, "h") == 0                   ? 3600000
		               : strcmp(unit, "d") == 0                   ? 86400000
		                                                          : -1;
		tmp[digits] = '\0';
		int64_t v;
		if (mult < 0 || digits == 0 || digits > 9 || parse_i64(tmp, &v) != 0)
			return -1;
		ret->delays_ms[ret->n++] = v * mult;
		p += n;
		if (*p == ',')
			p++;
	}
	return ret->n > 0 ? 0 : -1;
}

void webhook_sign(const char *secret, int64_t t, const char *body, size_t len, struct buf *out)
{
	/* HMAC-SHA256 over "t.body", keyed by the whole whsec_ string, as Stripe signs */
	unsigned char mac[32];
	unsigned int ml = 0;
	struct buf msg;
	buf_init(&msg, len + 64);
	buf_printf(&msg, "%lld.", (long long)t);
	buf_append(&msg, body, len);
	HMAC(EVP_sha256(), secret, (int)strlen(secret), (const unsigned char *)buf_cstr(&msg),
	     msg.len, mac, &ml);
	buf_release(&msg);
	static const char hex[] = "0123456789abcdef";
	buf_printf(out, "t=%lld,v1=", (long long)t);
	for (unsigned i = 0; i < ml; i++) {
		buf_putc(out, hex[mac[i] >> 4]);
		buf_putc(out, hex[mac[i] & 15]);
	}
}

int webhook_url_check(const char *url, char *err, size_t errlen)
{
	size_t n = strlen(url);
	const char *rest;
	if (n > 2048) {
		snprintf(err, errlen, "Invalid URL: the URL is longer than 2048 characters.");
		return -1;
	}
	if (strncmp(url, "https://", 8) == 0)
		rest = url + 8;
	else if (strncmp(url, "http://", 7) == 0)
		rest = url + 7;
	else {
		snprintf(err, errlen, "Invalid URL: webhook URLs must use http or https.");
		return -1;
	}
	size_t host_end = strcspn(rest, "/?#");
	if (host_end == 0) {
		snprintf(err, errlen, "Invalid URL: the URL has no host.");
		return -1;
	}
	if (memchr(rest, '@', host_end)) {
		snprintf(err, errlen, "Invalid URL: credentials in the URL are not allowed.");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)url[i];
		if (c <= 0x20 || c >= 0x7f) {
			snprintf(err, errlen, "Invalid URL: the URL contains spaces or control characters.");
			return -1;
		}
	}
	if (rest[0] == ':' ) {
		snprintf(err, errlen, "Invalid URL: the URL has no host.");
		return -1;
	}
	return 0;
}

bool webhook_addr_is_internal(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET) {
		uint32_t a = ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr);
		return (a >> 24) == 127 || (a >> 24) == 10 || (a >> 24) == 0 ||
		       (a >> 20) == (172u << 4 | 1) || (a >> 16) == (192u << 8 | 168) ||
		       (a >> 16) == (169u << 8 | 254) || (a >> 22) == (100u << 2 | 1) /* CGNAT */;
	}
	if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a6 = &((const struct sockaddr_in6 *)sa)->sin6_addr;
		const uint8_t *b = a6->s6_addr;
		if (IN6_IS_ADDR_LOOPBACK(a6) || IN6_IS_ADDR_UNSPECIFIED(a6) || IN6_IS_ADDR_LINKLOCAL(a6))
			return true;
		if ((b[0] & 0xfe) == 0xfc) /* fc00::/7 unique local */
			return true;
		if (IN6_IS_ADDR_V4MAPPED(a6)) {
			struct sockaddr_in v4;
			memset(&v4, 0, sizeof(v4));
			v4.sin_family = AF_INET;
			memcpy(&v4.sin_addr, b + 12, 4);
			return webhook_addr_is_internal((const struct sockaddr *)&v4);
		}
		return false;
	}
	return true; /* anything else is not a public internet address */
}

static const char *const EVENT_TYPES[] = {
    "balance.available", "charge.captured", "charge.dispute.closed", "charge.dispute.created",
    "charge.dispute.funds_reinstated", "charge.dispute.funds_withdrawn", "charge.dispute.updated",
    "charge.expired", "charge.failed", "charge.pending", "charge.refund.updated", "charge.refunded",
    "charge.succeeded", "charge.updated", "customer.created", "customer.deleted",
    "customer.updated", "payment_intent.amount_capturable_updated", "payment_intent.canceled",
    "payment_intent.created", "payment_intent.partially_funded", "payment_intent.payment_failed",
    "payment_intent.processing", "payment_intent.requires_action", "payment_intent.succeeded",
    "payment_method.attached", "payment_method.automatically_updated", "payment_method.detached",
    "payment_method.updated", "payout.canceled", "payout.created", "payout.failed", "payout.paid",
    "payout.updated", "refund.created", "refund.failed", "refund.updated", NULL,
};

bool webhook_event_type_known(const char *type)
{
	if (strcmp(type, "*") == 0)
		return true;
	for (const char *const *t = EVENT_TYPES; *t; t++)
		if (strcmp(*t, type) == 0)
			return true;
	return false;
}

/* enabled_events is stored as a JSON array of strings; it matches "*" or the exact type. */
static bool filter_matches(const char *json, const char *type)
{
	if (strstr(json, "\"*\""))
		return true;
	size_t tl = strlen(type);
	for (const char *p = strchr(json, '"'); p; p = strchr(p + 1, '"')) {
		if (strncmp(p + 1, type, tl) == 0 && p[1 + tl] == '"')
			return true;
		p = strchr(p + 1, '"'); /* skip to the closing quote of this string */
		if (!p)
			break;
	}
	return false;
}

static const char SQL_ENDPOINTS[] =
    "SELECT id, enabled_events FROM webhook_endpoints WHERE merchant_id = $1"
    " AND status = 'enabled' AND deleted = 0 AND livemode = $2";
static const char SQL_DELIVERY_PUT[] =
    "INSERT INTO webhook_deliveries (merchant_id, id, event_id, endpoint_id, status, attempts,"
    " next_at, created) VALUES ($1, $2, $3, $4, 'pending', 0, $5, $6)";

#define ENDPOINTS_PER_MERCHANT_MAX 64

int webhooks_outbox(struct db *db, const char *merchant_id, const char *event_id,
                    const char *type, int livemode)
{
	char ids[ENDPOINTS_PER_MERCHANT_MAX][ID_MAX];
	int n = 0;
	struct db_stmt *st = db_prepare(db, SQL_ENDPOINTS);
	if (!st)
		return -1;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_int64(st, 2, livemode);
	while (n < ENDPOINTS_PER_MERCHANT_MAX && db_step(st) == DB_ROW) {
		const char *ev = db_col_text(st, 1, NULL);
		if (ev && filter_matches(ev, type))
			snprintf(ids[n++], ID_MAX, "%s", db_col_text(st, 0, NULL));
	}
	db_reset(st);
	int64_t now_ms = clock_now_ms();
	for (int i = 0; i < n; i++) {
		char did[ID_MAX];
		id_new(did, "whd_");
		st = db_prepare(db, SQL_DELIVERY_PUT);
		if (!st)
			return -1;
		db_bind_text(st, 1, merchant_id, -1);
		db_bind_text(st, 2, did, -1);
		db_bind_text(st, 3, event_id, -1);
		db_bind_text(st, 4, ids[i], -1);
		db_bind_int64(st, 5, now_ms);
		db_bind_int64(st, 6, now_ms / 1000);
		if (db_step_done(st) != DB_OK)
			return -1;
	}
	return n;
}

/* ---- CLI: attempts and resend ---- */

static const char SQL_ATTEMPTS[] =
    "SELECT a.merchant_id, a.endpoint_id, a.attempt, a.at, a.status_code, a.duration_ms, a.error,"
    " d.status FROM webhook_attempts a JOIN webhook_deliveries d ON d.merchant_id = a.merchant_id"
    " AND d.id = a.delivery_id WHERE a.event_id = $1 ORDER BY a.endpoint_id, a.attempt";
static const char SQL_PENDING_OF_EVENT[] =
    "SELECT endpoint_id, status, attempts, next_at FROM webhook_deliveries WHERE event_id = $1"
    " ORDER BY endpoint_id";

struct attempts_ctx {
	const char *event_id;
	struct buf *out;
	int rows;
};

/* The event id alone names it across merchants: this is an operator's view of one store. */
static int attempts_fn(struct db *db, void *p)
{
	struct attempts_ctx *c = p;
	struct db_stmt *st = db_prepare(db, SQL_ATTEMPTS);
	if (!st)
		return -1;
	db_bind_text(st, 1, c->event_id, -1);
	while (db_step(st) == DB_ROW) {
		c->rows++;
		const char *err = db_col_text(st, 6, NULL);
		buf_printf(c->out, "%s attempt %lld at %lld: ", db_col_text(st, 1, NULL),
		           (long long)db_col_int64(st, 2), (long long)db_col_int64(st, 3));
		if (db_col_is_null(st, 4))
			buf_puts(c->out, "no HTTP answer");
		else
			buf_printf(c->out, "HTTP %lld", (long long)db_col_int64(st, 4));
		buf_printf(c->out, " in %lld ms%s%s (delivery %s)\n", (long long)db_col_int64(st, 5),
		           err ? ", " : "", err ? err : "", db_col_text(st, 7, NULL));
	}
	db_reset(st);
	st = db_prepare(db, SQL_PENDING_OF_EVENT);
	if (!st)
		return -1;
	db_bind_text(st, 1, c->event_id, -1);
	while (db_step(st) == DB_ROW) {
		c->rows++;
		buf_printf(c->out, "%s: %s after %lld attempt(s), next at %lld ms\n",
		           db_col_text(st, 0, NULL), db_col_text(st, 1, NULL),
		           (long long)db_col_int64(st, 2), (long long)db_col_int64(st, 3));
	}
	db_reset(st);
	return 0;
}

int webhooks_print_attempts(struct store *s, const char *event_id, struct buf *out)
{
	struct attempts_ctx c = {event_id, out, 0};
	int rc = store_each_shard_read(s, attempts_fn, &c);
	if (rc == 0 && c.rows == 0)
		buf_printf(out, "no deliveries for %s\n", event_id);
	return rc;
}

static const char SQL_EVENT_OWNER[] = "SELECT merchant_id, type FROM events WHERE id = $1";
static const char SQL_ENDPOINT_OWNER[] =
    "SELECT 1 FROM webhook_endpoints WHERE merchant_id = $1 AND id = $2 AND deleted = 0";
static const char SQL_EVENT_PENDING_INC[] =
    "UPDATE events SET pending_webhooks = pending_webhooks + 1 WHERE merchant_id = $1 AND id = $2";

struct resend_ctx {
	const char *event_id, *endpoint_id;
	char err[256];
	int done;
};

static int resend_fn(struct db *db, void *p)
{
	struct resend_ctx *c = p;
	char merchant[ID_MAX] = "";
	struct db_stmt *st = db_prepare(db, SQL_EVENT_OWNER);
	if (!st)
		return -1;
	db_bind_text(st, 1, c->event_id, -1);
	if (db_step(st) == DB_ROW)
		snprintf(merchant, sizeof(merchant), "%s", db_col_text(st, 0, NULL));
	db_reset(st);
	if (!merchant[0])
		return 0; /* not on this shard */
	st = db_prepare(db, SQL_ENDPOINT_OWNER);
	if (!st)
		return -1;
	db_bind_text(st, 1, merchant, -1);
	db_bind_text(st, 2, c->endpoint_id, -1);
	int found = db_step(st) == DB_ROW;
	db_reset(st);
	if (!found) {
		snprintf(c->err, sizeof(c->err), "%s is not an endpoint of the event's merchant",
		         c->endpoint_id);
		return -1;
	}
	char did[ID_MAX];
	id_new(did, "whd_");
	st = db_prepare(db, SQL_DELIVERY_PUT);
	if (!st)
		return -1;
	int64_t now_ms = clock_now_ms();
	db_bind_text(st, 1, merchant, -1);
	db_bind_text(st, 2, did, -1);
	db_bind_text(st, 3, c->event_id, -1);
	db_bind_text(st, 4, c->endpoint_id, -1);
	db_bind_int64(st, 5, now_ms);
	db_bind_int64(st, 6, now_ms / 1000);
	if (db_step_done(st) != DB_OK)
		return -1;
	st = db_prepare(db, SQL_EVENT_PENDING_INC);
	if (!st)
		return -1;
	db_bind_text(st, 1, merchant, -1);
	db_bind_text(st, 2, c->event_id, -1);
	if (db_step_done(st) != DB_OK)
		return -1;
	c->done = 1;
	return 0;
}

int webhooks_resend(struct store *s, const char *event_id, const char *endpoint_id, char *err,
                    size_t errlen)
{
	struct resend_ctx c = {event_id, endpoint_id, "", 0};
	int rc = store_each_shard_write(s, resend_fn, &c);
	if (rc != 0 || !c.done) {
		snprintf(err, errlen, "%s", c.err[0] ? c.err : "no such event");
		return -1;
	}
	snprintf(err, errlen, "queued %s for %s", event_id, endpoint_id);
	return 0;
}

/* Resolves the URL's host and reports whether any address it names is internal. */
int webhook_url_internal(const char *url, bool *ret)
{
	const char *rest = strncmp(url, "https://", 8) == 0 ? url + 8 : url + 7;
	size_t n = strcspn(rest, "/?#");
	char host[256];
	if (n == 0 || n >= sizeof(host))
		return -1;
	memcpy(host, rest, n);
	host[n] = '\0';
	char *port = NULL;
	if (host[0] == '[') {
		char *close = strchr(host, ']');
		if (!close)
			return -1;
		*close = '\0';
		memmove(host, host + 1, strlen(host + 1) + 1);
	} else if ((port = strrchr(host, ':'))) {
		*port = '\0';
	}
	struct addrinfo hints, *res = NULL;
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(host, NULL, &hints, &res) != 0)
		return -1;
	*ret = false;
	for (struct addrinfo *a = res; a; a = a->ai_next)
		if (webhook_addr_is_internal(a->ai_addr))
			*ret = true;
	freeaddrinfo(res);
	return 0;
}
