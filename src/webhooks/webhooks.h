/*
 * Webhooks: endpoints, the outbox, and at-least-once signed delivery.
 *
 * The outbox: event_append() (src/events) calls webhooks_outbox() inside the transaction that
 * made the change; it queues one delivery row per enabled endpoint whose filter matches, and the
 * count becomes the event's pending_webhooks. An event that committed therefore always has its
 * deliveries, and one that rolled back never had any.
 *
 * The worker (worker.c) is one thread driving a libcurl multi handle: it claims due deliveries in
 * small batches with a lease (status 'delivering', lease_until), so a crash re-delivers them once
 * the lease ends; posts them with a bounded number of connections, 10 s per attempt, no
 * redirects, http/https only, signed the way Stripe signs (Stripe-Signature: t=…,v1=hex
 * HMAC-SHA256 of "t.body" keyed by the whole whsec_ string); and records every attempt, the next
 * due time and pending_webhooks in one transaction. Network I/O never happens inside a store
 * transaction, so a slow endpoint cannot delay an API response; and because the worker keeps
 * claiming while other posts are in flight, one hanging endpoint does not hold back the others.
 *
 * SSRF: an endpoint may never make Tender reach an internal address. Live endpoints refuse
 * loopback, private, link-local, unique-local and unspecified addresses; test endpoints allow
 * loopback (local development) and refuse the rest. It is checked when the endpoint is created
 * (IP literals; live mode also resolves the name) and again on every connection, on the address
 * libcurl actually connects to, so a name that later resolves elsewhere (DNS rebinding) gains
 * nothing.
 */
#ifndef TENDER_WEBHOOKS_WEBHOOKS_H
#define TENDER_WEBHOOKS_WEBHOOKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/buf.h"
#include "store/db.h"

struct app;
struct store;
struct webhooks;

#define WEBHOOK_SCHEDULE_MAX 32
/* Endpoints per merchant and mode (Stripe's limit): the outbox never has to drop one. */
#define WEBHOOK_ENDPOINTS_MAX 16
#define WEBHOOK_URL_MAX 2048

struct webhook_schedule {
	int64_t delays_ms[WEBHOOK_SCHEDULE_MAX]; /* wait before attempt 2, 3, … */
	int n;					 /* attempts in all: n + 1 */
};

/* "1s,2s,4s" (ms, s, m, h, d; a bare number is seconds); NULL gives the seed's schedule:
 * immediate, 1 min, 5 min, 30 min, 1 h, 6 h, 12 h, 24 h, 24 h, 24 h (10 attempts). 0 or -1. */
int webhook_schedule_parse(const char *s, struct webhook_schedule *ret);
/* ms moved by a random amount within ±10 % (rnd is the random draw, any value). */
int64_t webhook_jitter_ms(int64_t ms, uint32_t rnd);

/* The outbox hook (registered with event_set_outbox by serve and webhooks_start). Returns the
 * number of deliveries queued, or -1. */
int webhooks_outbox(struct db *db, const char *merchant_id, const char *event_id, const char *type,
		    int livemode);

/* Appends the Stripe-Signature header value for body at time t to out. */
void webhook_sign(const char *secret, int64_t t, const char *body, size_t len, struct buf *out);

/* URL syntax rules: http or https, a host, a valid port, no credentials, no spaces or control
 * characters, at most WEBHOOK_URL_MAX bytes. 0, or -1 with a message in err. */
int webhook_url_check(const char *url, char *err, size_t errlen);
/* Where the URL points: refuses an IP-literal host that the mode does not allow, and in live mode
 * with resolve set, a name that resolves to one. 0, or -1 with a message in err. A name that does
 * not resolve is accepted: every connection is checked again anyway. */
int webhook_url_check_target(const char *url, bool livemode, bool resolve, char *err,
			     size_t errlen);
/* True for loopback, private, link-local, unique-local, CGNAT and unspecified addresses. */
bool webhook_addr_is_internal(const struct sockaddr *sa);
bool webhook_addr_is_loopback(const struct sockaddr *sa);
/* May a delivery in this mode connect to sa? */
bool webhook_addr_allowed(const struct sockaddr *sa, bool livemode);

/* Resolves url's host: *ret true when it names an internal address. 0, or -1 (no such host). */
int webhook_url_internal(const char *url, bool *ret);

/* True when type is a Stripe event type Tender knows (or "*"). */
bool webhook_event_type_known(const char *type);
/* enabled_events as stored (a JSON array of type names) matches type: "*" or the exact name. */
bool webhook_filter_matches(const char *enabled_events_json, const char *type);

int webhooks_start(struct webhooks **ret, struct app *app, char *err, size_t errlen);
void webhooks_stop(struct webhooks *w);

/* CLI helpers (operator views across merchants: the event id names its merchant). */
int webhooks_print_attempts(struct store *s, const char *event_id, struct buf *out);
int webhooks_resend(struct store *s, const char *event_id, const char *endpoint_id, char *err,
		    size_t errlen);

/* worker.c: tells a running worker that deliveries were queued (called by the outbox). */
void webhooks_kick(void);

/* A webhook endpoint was created, changed or deleted in the current write: what webhooks_outbox
 * kept of the endpoints for that write is dropped (webhooks.c, struct endpoint_rows). */
void webhooks_endpoints_changed(void);

#endif
