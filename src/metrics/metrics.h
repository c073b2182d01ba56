/*
 * Operators' metrics, in Prometheus' text exposition format (version 0.0.4), for the dashboards
 * and alerts of the design (its "Monitoring and Observability": authorization and capture
 * success, fraud blocks, chargebacks, API latency, store time, idempotency hits, webhook
 * delivery). Served on a listener of their own (metrics_server_start, `--metrics-listen`), never
 * on the API's: they add up every merchant's traffic, which no merchant may see.
 *
 * What is counted where, and when:
 *   - HTTP: every answered request, by route pattern ("/v1/payment_intents/{id}", never a
 *     concrete path: bounded labels), method and status; its time from the first byte to the
 *     answer queued; API errors by type and code; idempotency (a request with a key that ran,
 *     a replay, a key in use, a key reused with other parameters); rate-limit refusals.
 *   - Card authorizations as the acquirer answers them (before the payment's write: a write that
 *     then fails is still counted), by brand and outcome (approved, declined, blocked by Radar,
 *     requires_action for 3-D Secure, error), declines by decline code; the fraud model's
 *     scoring time and its decisions.
 *   - Events by type once their transaction has committed (a rolled-back job's, or a
 *     PostgreSQL attempt that was retried, are not counted): charge.succeeded / charge.failed /
 *     charge.captured / charge.dispute.created / charge.refunded give the business rates,
 *     whether the API, the scheduler or the webhook worker made them.
 *   - The store: each write's time from the call to its durable answer, by result; each WAL
 *     fsync's time (embedded store).
 *   - Webhook delivery attempts by result (2xx or not) and their time.
 *   - The process: resident memory, start time, open API requests.
 *
 * Cost: a counter is one relaxed atomic add; a histogram observation is two (its bucket and its
 * sum; the count is the buckets' sum, taken at render time). Event types are tallied per
 * committed group under one mutex. Nothing here allocates on a request's path.
 */
#ifndef TENDER_METRICS_METRICS_H
#define TENDER_METRICS_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct buf;
struct route;

#define METRICS_EVENT_TYPE_MAX 64 /* longest event type tallied (longer ones count as "other") */

/* Indexes the API's routes (api_route_tables) so that requests count per route. Once, before
 * the first request; a route not indexed counts under "(unmatched)". */
void metrics_init(void);

/* One answered API request. rt: the matched route or NULL; err_code: the enum api_err of the
 * error answered, or -1 for none (ERR_RATE_LIMIT also counts in tender_rate_limited_total);
 * idem: the request carried an Idempotency-Key; replayed: the answer was a saved one. */
void metrics_http(const struct route *rt, const char *method, int status, int err_code, bool idem,
		  bool replayed, int64_t duration_us);
/* The acquirer's answer to a card: brand ("visa", …), outcome ("approved", "declined",
 * "blocked", "requires_action", "error") and, for a decline, its code ("" or NULL: none). */
void metrics_authorization(const char *brand, const char *outcome, const char *decline_code);
/* An approved card payment's amount (minor units of currency), for the design's average
 * transaction value and revenue dashboards: tender_card_approved_amount_minor_total and
 * tender_card_approved_payments_total by currency. */
void metrics_payment_approved(const char *currency, int64_t amount_minor);
/* One fraud score: the model's time, and what the decision was ("allow", "review", "block"). */
void metrics_fraud_score(int64_t duration_ns);
void metrics_fraud_decision(const char *action);
/* The counter of events of `type` (tender_events_total{type}; a type of
 * METRICS_EVENT_TYPE_MAX bytes or more counts as "other"), found when an event is appended and
 * bumped by metrics_events_count once its transaction has committed. NULL when the label set is
 * full (metrics_events_count then counts it as dropped). */
struct metrics_counter;
struct metrics_counter *metrics_event_counter(const char *type);
void metrics_events_count(struct metrics_counter *const *counters, size_t n);
/* A store write from the call to its answer; rc is store_write's result. */
void metrics_store_write(int64_t duration_us, int rc);
/* One WAL fsync of the embedded store. */
void metrics_store_fsync(int64_t duration_us, bool ok);
/* One webhook delivery attempt: ok when the endpoint answered 2xx. */
void metrics_webhook_attempt(bool ok, int64_t duration_ms);
/* The number of API requests being served (a gauge the server keeps current). */
void metrics_inflight_set(int64_t n);

/* Appends the whole exposition to out. 0, or -1 when out failed (out of memory or bound). */
int metrics_render(struct buf *out);

/* The listener (exporter.c): GET /metrics on host:port (port 0: the kernel's choice). */
struct metrics_server;
int metrics_server_start(struct metrics_server **ret, const char *host, int port, char *err,
			 size_t errlen);
int metrics_server_port(const struct metrics_server *m);
void metrics_server_stop(struct metrics_server *m);

#endif
