/*
 * Webhooks: endpoints, the outbox, and at-least-once signed delivery.
 *
 * The outbox: event_append() (src/events) calls webhooks_outbox() inside the transaction that
 * made the change; it queues one delivery per enabled endpoint whose filter matches, and the
 * count becomes the event's pending_webhooks. The delivery worker claims due deliveries with a
 * lease (so a crash re-delivers after the lease ends), posts them with libcurl's multi interface
 * (bounded connections, 10 s per attempt, no redirects), signs each body the way Stripe does
 * (Stripe-Signature: t=…,v1=HMAC-SHA256(secret, "t.body")), and records every attempt. Network
 * I/O never happens inside a store transaction, so a slow endpoint cannot delay a payment.
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

struct webhook_schedule {
	int64_t delays_ms[WEBHOOK_SCHEDULE_MAX]; /* wait before attempt 2, 3, … */
	int n;
};

/* "1s,2s,4s" (ms, s, m, h, d); NULL gives the seed's schedule: immediate, 1 min, 5 min, 30 min,
 * 1 h, 6 h, 12 h, 24 h, 24 h, 24 h (10 attempts). 0 or -1. */
int webhook_schedule_parse(const char *s, struct webhook_schedule *ret);

/* The outbox hook (registered with event_set_outbox by webhooks_start and by the CLI). */
int webhooks_outbox(struct db *db, const char *merchant_id, const char *event_id,
                    const char *type, int livemode);

/* Stripe-Signature header value for body at time t. */
void webhook_sign(const char *secret, int64_t t, const char *body, size_t len, struct buf *out);

/* URL rules: http or https, a host, no credentials. 0, or -1 with a message in err. */
int webhook_url_check(const char *url, char *err, size_t errlen);
/* True for loopback, private, link-local, unique-local and unspecified addresses (SSRF). */
bool webhook_addr_is_internal(const struct sockaddr *sa);

/* Resolves url's host: *ret true when it names an internal address. 0, or -1 (no such host). */
int webhook_url_internal(const char *url, bool *ret);

/* True when type is a Stripe event type Tender knows (or "*"). */
bool webhook_event_type_known(const char *type);

int webhooks_start(struct webhooks **ret, struct app *app, char *err, size_t errlen);
void webhooks_stop(struct webhooks *w);

/* CLI helpers */
int webhooks_print_attempts(struct store *s, const char *event_id, struct buf *out);
int webhooks_resend(struct store *s, const char *event_id, const char *endpoint_id,
                    char *err, size_t errlen);

#endif
