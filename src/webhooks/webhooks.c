/*
 * Webhooks: the parts that are not the delivery loop. Schedules and jitter, signing, URL and
 * address rules (SSRF), the event type table and filters, the outbox hook, and the operator's
 * CLI views (attempts, resend). worker.c holds the delivery loop; webhooks.h has the essay.
 */
#include "webhooks/webhooks.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/core_names.h>
#include <openssl/params.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/clock.h"
#include "core/digest.h"
#include "core/id.h"
#include "core/parse.h"
#include "core/str.h"
#include "merchant/merchant.h"
#include "store/store.h"

/* The seed's schedule: attempt 1 immediately, then these waits (10 attempts in all). */
static const int64_t DEFAULT_SCHEDULE_MS[] = {
    60000, 300000, 1800000, 3600000, 21600000, 43200000, 86400000, 86400000, 86400000,
};

static int duration_ms(const char *s, size_t n, int64_t *ret)
{
	char tmp[32];
	if (n == 0 || n >= sizeof(tmp))
		return -1;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	size_t digits = strspn(tmp, "0123456789");
	if (digits == 0 || digits > 9)
		return -1;
	const char *unit = tmp + digits;
	int64_t mult;
	if (strcmp(unit, "ms") == 0)
		mult = 1;
	else if (strcmp(unit, "s") == 0 || *unit == '\0')
		mult = 1000;
	else if (strcmp(unit, "m") == 0)
		mult = 60000;
	else if (strcmp(unit, "h") == 0)
		mult = 3600000;
	else if (strcmp(unit, "d") == 0)
		mult = 86400000;
	else
		return -1;
	tmp[digits] = '\0';
	int64_t v;
	if (parse_i64(tmp, &v) != 0)
		return -1;
	*ret = v * mult; /* at most 999999999 d: fits in int64 */
	return 0;
}

int webhook_schedule_parse(const char *s, struct webhook_schedule *ret)
{
	struct webhook_schedule out;
	memset(&out, 0, sizeof(out));
	if (!s) {
		out.n = (int)(sizeof(DEFAULT_SCHEDULE_MS) / sizeof(DEFAULT_SCHEDULE_MS[0]));
		memcpy(out.delays_ms, DEFAULT_SCHEDULE_MS, sizeof(DEFAULT_SCHEDULE_MS));
		*ret = out;
		return 0;
	}
	const char *p = s;
	for (;;) {
		size_t n = strcspn(p, ",");
		if (out.n >= WEBHOOK_SCHEDULE_MAX || duration_ms(p, n, &out.delays_ms[out.n]) != 0)
			return -1;
		out.n++;
		p += n;
		if (*p == '\0')
			break;
		p++; /* the comma: a trailing one leaves an empty item, refused above */
	}
	*ret = out;
	return 0;
}

int64_t webhook_jitter_ms(int64_t ms, uint32_t rnd)
{
	/* ±10 %: retries of many deliveries that failed together do not all arrive together */
	int64_t span = ms / 10;
	if (span <= 0)
		return ms;
	return ms - span + (int64_t)(rnd % (uint64_t)(2 * span + 1));
}

void webhook_sign(const char *secret, int64_t t, const char *body, size_t len, struct buf *out)
{
	/* HMAC-SHA256 over "t.body", keyed by the whole whsec_ string, as Stripe signs */
	unsigned char mac[EVP_MAX_MD_SIZE];
	char prefix[32];
	int pl = snprintf(prefix, sizeof(prefix), "%lld.", (long long)t);
	size_t ml = 0;
	EVP_MAC *mac_alg = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *h = mac_alg ? EVP_MAC_CTX_new(mac_alg) : NULL;
	char digest[] = "SHA256";
	OSSL_PARAM params[] = {
	    OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
	    OSSL_PARAM_construct_end(),
	};
	if (!h || !EVP_MAC_init(h, (const unsigned char *)secret, strlen(secret), params) ||
	    !EVP_MAC_update(h, (const unsigned char *)prefix, (size_t)pl) ||
	    !EVP_MAC_update(h, (const unsigned char *)body, len) ||
	    !EVP_MAC_final(h, mac, &ml, sizeof(mac)))
		ml = 0; /* an empty v1 fails verification: better than a wrong one */
	EVP_MAC_CTX_free(h);
	EVP_MAC_free(mac_alg);
	char v1[2 * sizeof(mac) + 1];
	digest_hex(mac, ml, v1);
	buf_printf(out, "t=%lld,v1=%s", (long long)t, v1);
	OPENSSL_cleanse(mac, sizeof(mac));
	OPENSSL_cleanse(v1, sizeof(v1));
}

/* Splits an http(s) URL's authority into host (brackets removed) and port. 0 or -1 + err. */
static int url_host(const char *url, char *host, size_t hostlen, char *err, size_t errlen)
{
	const char *rest;
	if (strncasecmp(url, "https://", 8) == 0)
		rest = url + 8;
	else if (strncasecmp(url, "http://", 7) == 0)
		rest = url + 7;
	else {
		snprintf(err, errlen, "Invalid URL: webhook URLs must use http or https.");
		return -1;
	}
	size_t auth_len = strcspn(rest, "/?#");
	if (memchr(rest, '@', auth_len)) {
		snprintf(err, errlen, "Invalid URL: credentials in the URL are not allowed.");
		return -1;
	}
	const char *h = rest, *h_end, *after;
	if (auth_len > 0 && rest[0] == '[') {
		const char *close = memchr(rest, ']', auth_len);
		if (!close) {
			snprintf(err, errlen, "Invalid URL: the host is malformed.");
			return -1;
		}
		h = rest + 1;
		h_end = close;
		after = close + 1;
	} else {
		const char *colon = memchr(rest, ':', auth_len);
		h_end = colon ? colon : rest + auth_len;
		after = h_end;
	}
	if (h_end == h) {
		snprintf(err, errlen, "Invalid URL: the URL has no host.");
		return -1;
	}
	if ((size_t)(h_end - h) >= hostlen) {
		snprintf(err, errlen, "Invalid URL: the host is too long.");
		return -1;
	}
	const char *auth_end = rest + auth_len;
	if (after < auth_end) {
		/* a port: ":" then 1..65535 */
		if (*after != ':' || after + 1 == auth_end || auth_end - (after + 1) > 5) {
			snprintf(err, errlen, "Invalid URL: the port is malformed.");
			return -1;
		}
		char port[8];
		size_t pn = (size_t)(auth_end - (after + 1));
		memcpy(port, after + 1, pn);
		port[pn] = '\0';
		int64_t v;
		if (strspn(port, "0123456789") != pn || parse_i64(port, &v) != 0 || v < 1 ||
		    v > 65535) {
			snprintf(err, errlen, "Invalid URL: the port is malformed.");
			return -1;
		}
	}
	memcpy(host, h, (size_t)(h_end - h));
	host[h_end - h] = '\0';
	return 0;
}

int webhook_url_check(const char *url, char *err, size_t errlen)
{
	size_t n = strlen(url);
	if (n > WEBHOOK_URL_MAX) {
		snprintf(err, errlen, "Invalid URL: the URL is longer than %d characters.",
			 WEBHOOK_URL_MAX);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)url[i];
		/* '\\' is a path separator to some parsers and not to others: refuse the ambiguity
		 */
		if (c <= 0x20 || c >= 0x7f || c == '\\') {
			snprintf(err, errlen,
				 "Invalid URL: the URL contains spaces, backslashes or control "
				 "characters.");
			return -1;
		}
	}
	char host[256];
	return url_host(url, host, sizeof(host), err, errlen);
}

static bool refused(const struct sockaddr *sa, bool livemode, char *err, size_t errlen)
{
	if (webhook_addr_allowed(sa, livemode))
		return false;
	snprintf(err, errlen,
		 livemode ? "Invalid URL: live webhook endpoints must be publicly accessible; "
			    "loopback, private and link-local addresses are not allowed."
			  : "Invalid URL: webhook endpoints must not point at private or "
			    "link-local addresses (test mode allows loopback).");
	return true;
}

int webhook_url_check_target(const char *url, bool livemode, bool resolve, char *err, size_t errlen)
{
	char host[256];
	if (url_host(url, host, sizeof(host), err, errlen) != 0)
		return -1;
	struct sockaddr_in v4;
	struct sockaddr_in6 v6;
	memset(&v4, 0, sizeof(v4));
	memset(&v6, 0, sizeof(v6));
	v4.sin_family = AF_INET;
	v6.sin6_family = AF_INET6;
	if (inet_pton(AF_INET, host, &v4.sin_addr) == 1)
		return refused((const struct sockaddr *)&v4, livemode, err, errlen) ? -1 : 0;
	if (inet_pton(AF_INET6, host, &v6.sin6_addr) == 1)
		return refused((const struct sockaddr *)&v6, livemode, err, errlen) ? -1 : 0;
	if (!livemode || !resolve)
		return 0;
	struct addrinfo hints, *res = NULL;
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(host, NULL, &hints, &res) != 0)
		return 0;
	int rc = 0;
	int seen = 0;
	for (struct addrinfo *a = res; a && seen < 64; a = a->ai_next, seen++) {
		if (refused(a->ai_addr, livemode, err, errlen)) {
			rc = -1;
			break;
		}
	}
	freeaddrinfo(res);
	return rc;
}

/* IPv4 classification on a host-order address. */
static bool v4_internal(uint32_t a)
{
	return (a >> 24) == 0 ||			/* 0.0.0.0/8: "this network" */
	       (a >> 24) == 10 ||			/* 10/8 */
	       (a >> 24) == 127 ||			/* loopback */
	       (a >> 22) == (100u << 2 | 1) ||		/* 100.64/10 carrier-grade NAT */
	       (a >> 16) == (169u << 8 | 254) ||	/* link-local, cloud metadata */
	       (a >> 20) == (172u << 4 | 1) ||		/* 172.16/12 */
	       (a >> 16) == (192u << 8 | 168) ||	/* 192.168/16 */
	       (a >> 8) == (192u << 16 | 0 << 8 | 0) || /* 192.0.0/24 IETF protocol */
	       (a >> 17) == (198u << 7 | 18 >> 1) ||	/* 198.18/15 benchmarking */
	       (a >> 28) >= 14;				/* multicast, reserved, broadcast */
}

/* The IPv4 address an IPv6 one stands for (mapped ::ffff:a.b.c.d), if any. */
static bool v6_embedded_v4(const struct in6_addr *a6, uint32_t *ret)
{
	if (!IN6_IS_ADDR_V4MAPPED(a6))
		return false;
	uint32_t v;
	memcpy(&v, a6->s6_addr + 12, 4);
	*ret = ntohl(v);
	return true;
}

bool webhook_addr_is_internal(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return v4_internal(ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr));
	if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a6 = &((const struct sockaddr_in6 *)sa)->sin6_addr;
		const uint8_t *b = a6->s6_addr;
		uint32_t v4;
		if (v6_embedded_v4(a6, &v4))
			return v4_internal(v4);
		return IN6_IS_ADDR_LOOPBACK(a6) || IN6_IS_ADDR_UNSPECIFIED(a6) ||
		       (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) || /* fe80::/10 link-local */
		       (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) || /* fec0::/10 old site-local */
		       (b[0] & 0xfe) == 0xfc ||			  /* fc00::/7 unique local */
		       b[0] == 0xff ||				  /* multicast */
		       IN6_IS_ADDR_V4COMPAT(a6) ||		  /* ::a.b.c.d, deprecated */
		       (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b); /* NAT64 */
	}
	return true; /* any other family is not a public internet address */
}

bool webhook_addr_is_loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24 == 127;
	if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a6 = &((const struct sockaddr_in6 *)sa)->sin6_addr;
		uint32_t v4;
		if (v6_embedded_v4(a6, &v4))
			return v4 >> 24 == 127;
		return IN6_IS_ADDR_LOOPBACK(a6);
	}
	return false;
}

bool webhook_addr_allowed(const struct sockaddr *sa, bool livemode)
{
	if (!webhook_addr_is_internal(sa))
		return true;
	return !livemode && webhook_addr_is_loopback(sa);
}

static const char *const EVENT_TYPES[] = {
#define X(name) name,
#include "webhooks/event_types.def"
#undef X
};

bool webhook_event_type_known(const char *type)
{
	if (strcmp(type, "*") == 0)
		return true;
	/* the table is sorted: binary search */
	size_t lo = 0, hi = sizeof(EVENT_TYPES) / sizeof(EVENT_TYPES[0]);
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(type, EVENT_TYPES[mid]);
		if (c == 0)
			return true;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return false;
}

bool webhook_filter_matches(const char *json, const char *type)
{
	/* the stored array holds only "*" and names from EVENT_TYPES (no quotes or escapes), so
	 * every string in it is the text between one quote and the next */
	size_t tl = strlen(type);
	const char *p = strchr(json, '"');
	for (int i = 0; p && i < 1024; i++) {
		const char *end = strchr(p + 1, '"');
		if (!end)
			break;
		size_t n = (size_t)(end - (p + 1));
		if ((n == 1 && p[1] == '*') || (n == tl && memcmp(p + 1, type, tl) == 0))
			return true;
		p = strchr(end + 1, '"');
	}
	return false;
}

/* The enabled endpoints of a merchant in a mode that take its own events (connect = 0), or, for a
 * platform, the ones that take its connected accounts' events (connect = 1). connect is written
 * into each statement rather than bound: a bind costs the outbox's hot path about 100
 * instructions per event, and there are two kinds only. */
static const char SQL_ENDPOINTS_OWN[] =
    "SELECT id, enabled_events FROM webhook_endpoints WHERE merchant_id = $1"
    " AND status = 'enabled' AND deleted = 0 AND livemode = $2 AND connect = 0 ORDER BY id";
static const char SQL_ENDPOINTS_CONNECT[] =
    "SELECT id, enabled_events FROM webhook_endpoints WHERE merchant_id = $1"
    " AND status = 'enabled' AND deleted = 0 AND livemode = $2 AND connect = 1 ORDER BY id";
static const char SQL_DELIVERY_PUT[] =
    "INSERT INTO webhook_deliveries (merchant_id, id, event_id, endpoint_id, status, attempts,"
    " next_at, created, event_merchant_id) VALUES ($1, $2, $3, $4, 'pending', 0, $5, $6, $7)";

/* event_merchant_id: the merchant whose event it is when that is not merchant_id (a connected
 * account's event for its platform's connect endpoint), NULL otherwise. */
static int delivery_put(struct db *db, const char *merchant_id, const char *event_id,
			const char *endpoint_id, const char *event_merchant_id, int64_t now_ms)
{
	char did[ID_MAX];
	id_new(did, "whd_");
	struct db_stmt *st = db_prepare(db, SQL_DELIVERY_PUT);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, did, -1);
	db_bind_text(st, 3, event_id, -1);
	db_bind_text(st, 4, endpoint_id, -1);
	db_bind_int64(st, 5, now_ms);
	db_bind_int64(st, 6, now_ms / 1000);
	db_bind_text(st, 7, event_merchant_id, -1);
	return db_step_done(st);
}

/* endpoints_matching read straight from the table, for endpoints too many or too long to keep */
static int endpoints_scan(struct db *db, const char *merchant_id, int livemode, int connect,
			  const char *type, char ids[WEBHOOK_ENDPOINTS_MAX][ID_MAX])
{
	int n = 0, rc = DB_DONE;
	struct db_stmt *st = db_prepare(db, connect ? SQL_ENDPOINTS_CONNECT : SQL_ENDPOINTS_OWN);
	if (!st)
		return -1;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_int64(st, 2, livemode ? 1 : 0);
	while (n < WEBHOOK_ENDPOINTS_MAX && (rc = db_step(st)) == DB_ROW) {
		const char *ev = db_col_text(st, 1, NULL);
		if (ev && webhook_filter_matches(ev, type))
			str_copy(ids[n++], ID_MAX, db_col_text(st, 0, NULL));
	}
	db_reset(st);
	return rc == DB_ROW || rc == DB_DONE ? n : -1;
}

/* One write's endpoints of a kind, kept for the rest of that write (db_job). A payment appends
 * three events and each asked the same question of the same transaction, ~2,800 instructions
 * apiece on the group-commit writer. Within one job only an endpoint write of that same job can
 * change the answer, and it drops what is kept (webhooks_endpoints_changed); another job, a
 * rerun of this one after a rollback, another connection, or a read outside any job (db_job 0)
 * reads again. Rows whose filters do not fit `ev` are not kept (read each time, as before). */
struct endpoint_rows {
	const struct db *db;
	uint64_t job; /* 0: nothing kept */
	int livemode, n;
	char merchant[ID_MAX];
	char ids[WEBHOOK_ENDPOINTS_MAX][ID_MAX];
	int ev_at[WEBHOOK_ENDPOINTS_MAX]; /* offset in ev, -1: no filter */
	char ev[4096];
};
static _Thread_local struct endpoint_rows kept[2]; /* [connect] */

void webhooks_endpoints_changed(void)
{
	kept[0].job = kept[1].job = 0;
}

/* Reads merchant_id's enabled endpoints of the kind into k. Returns 0, 1 when they are too many
 * or their filters too long to keep (k is then unusable), or -1. */
static int endpoints_read(struct db *db, const char *merchant_id, int livemode, int connect,
			  struct endpoint_rows *k)
{
	int rc = DB_DONE, full = 0;
	size_t used = 0;
	k->job = 0;
	k->n = 0;
	struct db_stmt *st = db_prepare(db, connect ? SQL_ENDPOINTS_CONNECT : SQL_ENDPOINTS_OWN);
	if (!st)
		return -1;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_int64(st, 2, livemode ? 1 : 0);
	while ((rc = db_step(st)) == DB_ROW) {
		size_t len = 0;
		const char *ev = db_col_text(st, 1, &len);
		if (k->n == WEBHOOK_ENDPOINTS_MAX || (ev && len >= sizeof(k->ev) - used)) {
			full = 1;
			break;
		}
		str_copy(k->ids[k->n], ID_MAX, db_col_text(st, 0, NULL));
		k->ev_at[k->n] = -1;
		if (ev) {
			memcpy(k->ev + used, ev, len);
			k->ev[used + len] = '\0';
			k->ev_at[k->n] = (int)used;
			used += len + 1;
		}
		k->n++;
	}
	db_reset(st);
	if (rc != DB_ROW && rc != DB_DONE)
		return -1;
	return full;
}

/* The ids of merchant_id's enabled endpoints in the mode, of the kind connect says, whose filter
 * takes type: at most WEBHOOK_ENDPOINTS_MAX (creation keeps a merchant at that many per mode, so
 * none is ever left out). Returns how many, or -1. */
static int endpoints_matching(struct db *db, const char *merchant_id, int livemode, int connect,
			      const char *type, char ids[WEBHOOK_ENDPOINTS_MAX][ID_MAX])
{
	struct endpoint_rows *k = &kept[connect ? 1 : 0];
	uint64_t job = db_job(db);
	if (!(job && k->job == job && k->db == db && k->livemode == livemode &&
	      strcmp(k->merchant, merchant_id) == 0)) {
		int full = endpoints_read(db, merchant_id, livemode, connect, k);
		if (full < 0)
			return -1;
		if (full)
			return endpoints_scan(db, merchant_id, livemode, connect, type, ids);
		k->db = db;
		k->livemode = livemode;
		str_copy(k->merchant, ID_MAX, merchant_id);
		k->job = job; /* 0 outside a job: read again next time */
	}
	int n = 0;
	for (int i = 0; i < k->n; i++)
		if (k->ev_at[i] >= 0 && webhook_filter_matches(k->ev + k->ev_at[i], type))
			str_copy(ids[n++], ID_MAX, k->ids[i]);
	return n;
}

/* The last merchant platform_of answered on this thread, and its platform ("" for none). */
static _Thread_local char last_merchant[ID_MAX], last_platform[ID_MAX];

/* The platform of a connected account, "" for any other merchant (or one the store does not
 * know, as in tests that make up merchant ids). The outbox asks for every event, on the writer
 * thread (SQLite), so this must cost an ordinary merchant next to nothing: merchant_terms_get
 * answers from its in-memory cache without SQL (about 350 instructions: a lock and a hash), and
 * in front of it the last answer is kept per thread, since one change's events (three for a
 * payment) come one after another from one callback. Keeping answers is safe because a
 * merchant's platform never changes (merchants rows are never updated, merchant.h). */
static int platform_of(struct db *db, const char *merchant_id, char platform[ID_MAX])
{
	if (last_merchant[0] && strcmp(last_merchant, merchant_id) == 0) {
		memcpy(platform, last_platform, ID_MAX);
		return 0;
	}
	struct merchant_terms t;
	int rc = merchant_terms_get(db, merchant_id, &t);
	platform[0] = '\0';
	if (rc == DB_OK) {
		str_copy(platform, ID_MAX, t.platform);
		/* not a merchant the store does not know: it could still be created */
		str_copy(last_merchant, ID_MAX, merchant_id);
		memcpy(last_platform, platform, ID_MAX);
	}
	return rc == DB_OK || rc == DB_NOTFOUND ? 0 : -1;
}

int webhooks_outbox(struct db *db, const char *merchant_id, const char *event_id, const char *type,
		    int livemode)
{
	/* the merchant's own endpoints; then, for a connected account's event, its platform's
	 * connect endpoints too (Stripe's Connect webhooks): those deliveries belong to the
	 * platform (its endpoint, its secret, its views) and carry the account's event, named in
	 * event_merchant_id. A connected account lives on its platform's shard (migration 0036),
	 * so they are written in this same transaction on this same database. */
	char own[WEBHOOK_ENDPOINTS_MAX][ID_MAX], plat[WEBHOOK_ENDPOINTS_MAX][ID_MAX];
	char platform[ID_MAX];
	int n = endpoints_matching(db, merchant_id, livemode, 0, type, own);
	if (n < 0 || platform_of(db, merchant_id, platform) != 0)
		return -1;
	int m = platform[0] ? endpoints_matching(db, platform, livemode, 1, type, plat) : 0;
	if (m < 0)
		return -1;
	int64_t now_ms = clock_now_ms();
	for (int i = 0; i < n; i++)
		if (delivery_put(db, merchant_id, event_id, own[i], NULL, now_ms) != DB_OK)
			return -1;
	for (int i = 0; i < m; i++)
		if (delivery_put(db, platform, event_id, plat[i], merchant_id, now_ms) != DB_OK)
			return -1;
	if (n + m > 0)
		webhooks_kick(); /* before commit: the worker re-checks shortly if it finds nothing
				  */
	return n + m; /* pending_webhooks counts the platform's deliveries too, as on Stripe */
}

/* ---- CLI: attempts and resend ---- */

/* The operator names only the event; its id leads to its merchant, and everything after that is
 * scoped by the merchant like any other query. A connected account's event may also have
 * deliveries that belong to its platform (connect endpoints): those are found under the
 * platform, by the event's merchant they carry ($3; NULL there means the delivery's own). */
static const char SQL_EVENT_OWNER[] = "SELECT merchant_id FROM events WHERE id = $1";
static const char SQL_ATTEMPTS[] =
    "SELECT a.endpoint_id, a.attempt, a.at, a.status_code, a.duration_ms, a.error, d.status"
    " FROM webhook_attempts a JOIN webhook_deliveries d ON d.merchant_id = a.merchant_id"
    " AND d.id = a.delivery_id WHERE a.merchant_id = $1 AND a.event_id = $2"
    " AND COALESCE(d.event_merchant_id, d.merchant_id) = $3"
    " ORDER BY a.endpoint_id, a.at, a.attempt";
static const char SQL_DELIVERIES_OF_EVENT[] =
    "SELECT endpoint_id, status, attempts, next_at, id FROM webhook_deliveries"
    " WHERE merchant_id = $1 AND event_id = $2 AND COALESCE(event_merchant_id, merchant_id) = $3"
    " ORDER BY endpoint_id, created, id";

static int event_owner(struct db *db, const char *event_id, char merchant[ID_MAX])
{
	struct db_stmt *st = db_prepare(db, SQL_EVENT_OWNER);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, event_id, -1);
	int rc = db_step(st);
	if (rc == DB_ROW)
		str_copy(merchant, ID_MAX, db_col_text(st, 0, NULL));
	db_reset(st);
	return rc == DB_ROW ? DB_OK : rc == DB_DONE ? DB_NOTFOUND : rc;
}

struct attempts_ctx {
	const char *event_id;
	struct buf *out;
	int found;
};

/* The deliveries and attempts of the event that belong to holder (the event's merchant, or its
 * platform); adds the deliveries listed to *rows. 0 or -1. */
static int print_holder(struct db *db, struct attempts_ctx *c, const char *holder,
			const char *merchant, int *rows)
{
	struct db_stmt *st = db_prepare(db, SQL_DELIVERIES_OF_EVENT);
	if (!st)
		return -1;
	db_bind_text(st, 1, holder, -1);
	db_bind_text(st, 2, c->event_id, -1);
	db_bind_text(st, 3, merchant, -1);
	bool other = strcmp(holder, merchant) != 0;
	int rc, n = 0;
	while ((rc = db_step(st)) == DB_ROW && n++ < 10000) {
		const char *status = db_col_text(st, 1, NULL);
		buf_printf(c->out, "delivery %s to %s%s%s: %s after %lld attempt(s)",
			   db_col_text(st, 4, NULL), db_col_text(st, 0, NULL),
			   other ? " of platform " : "", other ? holder : "", status,
			   (long long)db_col_int64(st, 2));
		if (strcmp(status, "pending") == 0)
			buf_printf(c->out, ", next attempt at %lld",
				   (long long)(db_col_int64(st, 3) / 1000));
		buf_putc(c->out, '\n');
	}
	db_reset(st);
	if (rc < 0)
		return -1;
	*rows += n;
	st = db_prepare(db, SQL_ATTEMPTS);
	if (!st)
		return -1;
	db_bind_text(st, 1, holder, -1);
	db_bind_text(st, 2, c->event_id, -1);
	db_bind_text(st, 3, merchant, -1);
	n = 0;
	while ((rc = db_step(st)) == DB_ROW && n++ < 10000) {
		const char *err = db_col_text(st, 5, NULL);
		buf_printf(c->out, "  %s attempt %lld at %lld: ", db_col_text(st, 0, NULL),
			   (long long)db_col_int64(st, 1), (long long)db_col_int64(st, 2));
		if (db_col_is_null(st, 3))
			buf_puts(c->out, "no HTTP answer");
		else
			buf_printf(c->out, "HTTP %lld", (long long)db_col_int64(st, 3));
		buf_printf(c->out, " in %lld ms%s%s\n", (long long)db_col_int64(st, 4),
			   err ? ", " : "", err ? err : "");
	}
	db_reset(st);
	return rc < 0 ? -1 : 0;
}

static int attempts_fn(struct db *db, void *p)
{
	struct attempts_ctx *c = p;
	char merchant[ID_MAX], platform[ID_MAX];
	int rc = event_owner(db, c->event_id, merchant);
	if (rc == DB_NOTFOUND)
		return 0; /* not on this shard */
	if (rc != DB_OK || platform_of(db, merchant, platform) != 0)
		return -1;
	c->found = 1;
	buf_printf(c->out, "event %s (merchant %s)\n", c->event_id, merchant);
	int rows = 0;
	if (print_holder(db, c, merchant, merchant, &rows) != 0 ||
	    (platform[0] && print_holder(db, c, platform, merchant, &rows) != 0))
		return -1;
	if (rows == 0)
		buf_puts(c->out, "no deliveries (no enabled endpoint matched the event)\n");
	return 0;
}

int webhooks_print_attempts(struct store *s, const char *event_id, struct buf *out)
{
	struct attempts_ctx c = {event_id, out, 0};
	int rc = store_each_shard_read(s, attempts_fn, &c);
	if (rc != 0)
		return -1;
	return c.found ? 0 : DB_NOTFOUND;
}

/* An endpoint that takes the merchant's own events (connect = 0), or, for the platform of the
 * event's merchant, one of its connect endpoints (connect = 1). */
static const char SQL_ENDPOINT_OWNER[] = "SELECT 1 FROM webhook_endpoints WHERE merchant_id = $1"
					 " AND id = $2 AND deleted = 0 AND connect = $3";
static const char SQL_EVENT_PENDING_INC[] =
    "UPDATE events SET pending_webhooks = pending_webhooks + 1 WHERE merchant_id = $1 AND id = $2";

struct resend_ctx {
	const char *event_id, *endpoint_id;
	char err[256];
	int done;
};

static int endpoint_owned(struct db *db, const char *merchant_id, const char *endpoint_id,
			  int connect, bool *ret)
{
	struct db_stmt *st = db_prepare(db, SQL_ENDPOINT_OWNER);
	if (!st)
		return -1;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, endpoint_id, -1);
	db_bind_int64(st, 3, connect);
	int rc = db_step(st);
	db_reset(st);
	*ret = rc == DB_ROW;
	return rc == DB_ROW || rc == DB_DONE ? 0 : -1;
}

static int resend_fn(struct db *db, void *p)
{
	struct resend_ctx *c = p;
	char merchant[ID_MAX], platform[ID_MAX];
	int rc = event_owner(db, c->event_id, merchant);
	if (rc == DB_NOTFOUND)
		return 0; /* not on this shard */
	if (rc != DB_OK || platform_of(db, merchant, platform) != 0)
		return -1;
	/* the delivery belongs to the endpoint's merchant: the event's own, or its platform */
	const char *holder = merchant;
	bool found;
	if (endpoint_owned(db, merchant, c->endpoint_id, 0, &found) != 0)
		return -1;
	if (!found && platform[0]) {
		if (endpoint_owned(db, platform, c->endpoint_id, 1, &found) != 0)
			return -1;
		holder = platform;
	}
	if (!found) {
		snprintf(c->err, sizeof(c->err),
			 "%.64s is not an endpoint that receives the events of merchant %.64s",
			 c->endpoint_id, merchant);
		return -1;
	}
	if (delivery_put(db, holder, c->event_id, c->endpoint_id,
			 holder == merchant ? NULL : merchant, clock_now_ms()) != DB_OK)
		return -1;
	struct db_stmt *st = db_prepare(db, SQL_EVENT_PENDING_INC);
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
		snprintf(err, errlen, "%s",
			 c.err[0]  ? c.err
			 : rc != 0 ? "cannot write to the store"
				   : "no such event");
		return -1;
	}
	snprintf(err, errlen, "queued %s for %s (a running tender serve delivers it)", event_id,
		 endpoint_id);
	return 0;
}

int webhook_url_internal(const char *url, bool *ret)
{
	char host[256], err[128];
	if (url_host(url, host, sizeof(host), err, sizeof(err)) != 0)
		return -1;
	struct addrinfo hints, *res = NULL;
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(host, NULL, &hints, &res) != 0 || !res)
		return -1;
	bool internal = false;
	int seen = 0;
	/* any internal address counts: the connection could pick any of them */
	for (struct addrinfo *a = res; a && seen < 64; a = a->ai_next, seen++)
		if (webhook_addr_is_internal(a->ai_addr))
			internal = true;
	freeaddrinfo(res);
	*ret = internal;
	return 0;
}
