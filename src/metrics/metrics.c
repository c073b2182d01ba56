/*
 * The metrics registry (see metrics.h for what is counted and why).
 *
 * Everything is static storage: fixed arrays of relaxed atomics, so an observation never
 * allocates or locks. Labels come from bounded sets: the route table (indexed once by
 * metrics_init, looked up by binary search on the route's address), the API error table, and
 * four small "families" keyed by strings that Tender itself chooses (card brands and outcomes,
 * decline codes, fraud decisions, event types), each an open-addressing table of FAMILY_SLOTS
 * entries: a lookup reads without a lock; a new key is inserted under the family's mutex and
 * published by its slot's state (release), so a reader sees either no key or the whole key.
 * A family that is full counts what no longer fits in tender_metrics_labels_dropped_total.
 *
 * Histograms keep one counter per bucket (not cumulative; render sums them) and a sum, in the
 * unit they were observed in (µs or ns), printed as decimal seconds without floating point.
 * Render reads counters while others add: a scrape may see one observation's bucket and not
 * yet its sum, which Prometheus tolerates (the next scrape is consistent again).
 */
#include "metrics/metrics.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/clock.h"
#include "http/errors.h"
#include "http/router.h"
#include "store/store.h"

typedef _Atomic uint64_t counter;

static inline void inc(counter *c, uint64_t n)
{
	atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

static inline uint64_t get(counter *c)
{
	return atomic_load_explicit(c, memory_order_relaxed);
}

/* ---- histograms ---- */

#define HIST_BOUNDS_MAX 16

struct mhist {
	counter b[HIST_BOUNDS_MAX + 1]; /* b[i]: observations <= bounds[i]; the last: +Inf */
	counter sum;
};

struct hist_kind {
	const int64_t *bounds; /* ascending, in the observation's unit */
	size_t n;
	int unit_digits; /* 6: µs, 9: ns */
};

static const int64_t LATENCY_US[] = {500,    1000,   2500,   5000,    10000,   25000,	50000,
				     100000, 250000, 500000, 1000000, 2500000, 5000000, 10000000};
static const struct hist_kind LATENCY = {LATENCY_US, sizeof(LATENCY_US) / sizeof(LATENCY_US[0]), 6};
/* the fraud model answers in microseconds (the design's budget is 50 ms, the 0.2 ms) */
static const int64_t SCORE_NS[] = {5000,   10000,  25000,   50000,   100000,
				   200000, 500000, 1000000, 5000000, 50000000};
static const struct hist_kind SCORE = {SCORE_NS, sizeof(SCORE_NS) / sizeof(SCORE_NS[0]), 9};
static const int64_t WEBHOOK_US[] = {10000,   50000,   100000,	250000,	 500000,
				     1000000, 2500000, 5000000, 10000000};
static const struct hist_kind WEBHOOK = {WEBHOOK_US, sizeof(WEBHOOK_US) / sizeof(WEBHOOK_US[0]), 6};

static void observe(struct mhist *h, const struct hist_kind *k, int64_t v)
{
	if (v < 0)
		v = 0;
	size_t i = 0;
	while (i < k->n && v > k->bounds[i])
		i++;
	inc(&h->b[i], 1);
	inc(&h->sum, (uint64_t)v);
}

/* ---- labelled families ---- */

#define FAMILY_SLOTS 512 /* a power of two; at most half used, so probes stay short */
#define FAMILY_KEY_MAX METRICS_EVENT_TYPE_MAX

struct family {
	pthread_mutex_t mu;
	size_t used;
	struct {
		_Atomic int ready;
		char key[FAMILY_KEY_MAX];
		counter v;
	} slot[FAMILY_SLOTS];
};

static counter labels_dropped;

static uint32_t hash_key(const char *s)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

/* The counter of key in f, inserted if new; NULL when f is full or key too long. */
static counter *family_get(struct family *f, const char *key)
{
	size_t len = strlen(key);
	if (len >= FAMILY_KEY_MAX)
		return NULL;
	uint32_t h = hash_key(key);
	for (size_t i = 0; i < FAMILY_SLOTS; i++) {
		size_t s = (h + i) & (FAMILY_SLOTS - 1);
		if (!atomic_load_explicit(&f->slot[s].ready, memory_order_acquire))
			break;
		if (memcmp(f->slot[s].key, key, len + 1) == 0)
			return &f->slot[s].v;
	}
	pthread_mutex_lock(&f->mu);
	counter *c = NULL;
	for (size_t i = 0; i < FAMILY_SLOTS; i++) {
		size_t s = (h + i) & (FAMILY_SLOTS - 1);
		if (atomic_load_explicit(&f->slot[s].ready, memory_order_acquire)) {
			if (memcmp(f->slot[s].key, key, len + 1) == 0) {
				c = &f->slot[s].v;
				break;
			}
			continue;
		}
		if (f->used >= FAMILY_SLOTS / 2)
			break;
		memcpy(f->slot[s].key, key, len + 1);
		atomic_store_explicit(&f->slot[s].ready, 1, memory_order_release);
		f->used++;
		c = &f->slot[s].v;
		break;
	}
	pthread_mutex_unlock(&f->mu);
	return c;
}

static void family_inc(struct family *f, const char *key, uint64_t n)
{
	counter *c = family_get(f, key);
	inc(c ? c : &labels_dropped, n);
}

static struct family authorizations = {.mu = PTHREAD_MUTEX_INITIALIZER};
static struct family declines = {.mu = PTHREAD_MUTEX_INITIALIZER};
static struct family fraud_decisions = {.mu = PTHREAD_MUTEX_INITIALIZER};
static struct family events = {.mu = PTHREAD_MUTEX_INITIALIZER};
static struct family approved_payments = {.mu = PTHREAD_MUTEX_INITIALIZER};
static struct family approved_amounts = {.mu = PTHREAD_MUTEX_INITIALIZER};

/* ---- HTTP ---- */

#define ROUTES_MAX 1024
static const int STATUS_CODES[] = {200, 201, 204, 301, 302, 303, 304, 400, 401, 402, 403, 404, 405,
				   406, 409, 410, 413, 415, 422, 429, 431, 500, 501, 502, 503, 504};
#define STATUS_SLOTS (sizeof(STATUS_CODES) / sizeof(STATUS_CODES[0]) + 1) /* + other */

struct route_stats {
	counter status[STATUS_SLOTS];
	struct mhist latency;
};

static const struct route *routes[ROUTES_MAX];
static size_t nroutes;
/* routes' own stats, then one slot per method for requests that matched no route */
static const char *const UNMATCHED_METHODS[] = {"GET", "POST", "DELETE", "other"};
#define UNMATCHED_SLOTS 4
static struct route_stats route_stats[ROUTES_MAX + UNMATCHED_SLOTS];
static counter api_errors[API_ERR_COUNT];
enum { IDEM_EXECUTED, IDEM_REPLAYED, IDEM_IN_USE, IDEM_MISMATCH, IDEM_KINDS };
static const char *const IDEM_NAMES[] = {"executed", "replayed", "in_use", "mismatch"};
static counter idempotency[IDEM_KINDS];
static counter rate_limited;
static _Atomic int64_t inflight;

/* ---- the rest ---- */

static struct mhist fraud_score;
enum { STORE_OK, STORE_REFUSED, STORE_OVERLOADED_, STORE_FAILED, STORE_RESULTS };
static const char *const STORE_RESULT_NAMES[] = {"ok", "refused", "overloaded", "failed"};
static struct mhist store_writes[STORE_RESULTS];
static struct mhist store_fsyncs;
static counter store_fsync_failures;
static struct mhist webhook_attempts[2]; /* [0] failed, [1] delivered */
static int64_t start_time;

static int route_cmp(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t) * (const struct route *const *)a;
	uintptr_t y = (uintptr_t) * (const struct route *const *)b;
	return x < y ? -1 : x > y;
}

void metrics_init(void)
{
	if (!start_time)
		start_time = clock_now();
	if (nroutes)
		return;
	size_t n = 0;
	for (const struct route *const *t = api_route_tables; *t; t++)
		for (const struct route *r = *t; r->method && n < ROUTES_MAX; r++)
			routes[n++] = r;
	qsort(routes, n, sizeof(routes[0]), route_cmp);
	nroutes = n;
}

static struct route_stats *stats_of(const struct route *rt, const char *method)
{
	if (rt) {
		size_t lo = 0, hi = nroutes;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			if (routes[mid] == rt)
				return &route_stats[mid];
			if ((uintptr_t)routes[mid] < (uintptr_t)rt)
				lo = mid + 1;
			else
				hi = mid;
		}
	}
	size_t m = UNMATCHED_SLOTS - 1;
	for (size_t i = 0; method && i + 1 < UNMATCHED_SLOTS; i++)
		if (strcmp(method, UNMATCHED_METHODS[i]) == 0)
			m = i;
	return &route_stats[ROUTES_MAX + m];
}

void metrics_http(const struct route *rt, const char *method, int status, int err_code, bool idem,
		  bool replayed, int64_t duration_us)
{
	struct route_stats *s = stats_of(rt, method);
	size_t slot = STATUS_SLOTS - 1;
	for (size_t i = 0; i + 1 < STATUS_SLOTS; i++)
		if (STATUS_CODES[i] == status)
			slot = i;
	inc(&s->status[slot], 1);
	observe(&s->latency, &LATENCY, duration_us);
	if (err_code >= 0 && err_code < API_ERR_COUNT && !replayed)
		inc(&api_errors[err_code], 1);
	if (err_code == ERR_RATE_LIMIT)
		inc(&rate_limited, 1);
	if (idem) {
		int k = replayed			       ? IDEM_REPLAYED
			: err_code == ERR_IDEMPOTENCY_IN_USE   ? IDEM_IN_USE
			: err_code == ERR_IDEMPOTENCY_MISMATCH ? IDEM_MISMATCH
							       : IDEM_EXECUTED;
		inc(&idempotency[k], 1);
	}
}

void metrics_inflight_set(int64_t n)
{
	atomic_store_explicit(&inflight, n, memory_order_relaxed);
}

/* dst gets at most max bytes of s; returns how many */
static size_t put_part(char *dst, const char *s, size_t max)
{
	size_t n = strnlen(s, max);
	memcpy(dst, s, n);
	return n;
}

void metrics_authorization(const char *brand, const char *outcome, const char *decline_code)
{
	/* "brand\x1foutcome", copied rather than formatted: this runs on every card payment */
	char key[FAMILY_KEY_MAX];
	size_t n = put_part(key, brand && *brand ? brand : "unknown", 24);
	key[n++] = '\x1f';
	n += put_part(key + n, outcome ? outcome : "error", 24);
	key[n] = '\0';
	family_inc(&authorizations, key, 1);
	if (decline_code && *decline_code)
		family_inc(&declines, decline_code, 1);
}

void metrics_payment_approved(const char *currency, int64_t amount_minor)
{
	if (!currency || !*currency || amount_minor < 0)
		return;
	family_inc(&approved_payments, currency, 1);
	family_inc(&approved_amounts, currency, (uint64_t)amount_minor);
}

void metrics_fraud_score(int64_t duration_ns)
{
	observe(&fraud_score, &SCORE, duration_ns);
}

void metrics_fraud_decision(const char *action)
{
	family_inc(&fraud_decisions, action ? action : "allow", 1);
}

struct metrics_counter *metrics_event_counter(const char *type)
{
	const char *key = type && *type && strlen(type) < METRICS_EVENT_TYPE_MAX ? type : "other";
	return (struct metrics_counter *)family_get(&events, key);
}

void metrics_events_count(struct metrics_counter *const *counters, size_t n)
{
	for (size_t i = 0; i < n; i++)
		inc(counters[i] ? (counter *)counters[i] : &labels_dropped, 1);
}

void metrics_store_write(int64_t duration_us, int rc)
{
	/* store.h's own codes; any other negative is the transaction's refusal (a declined
	 * card, a bad parameter found inside the write) */
	int k = rc >= 0						       ? STORE_OK
		: rc == STORE_OVERLOADED			       ? STORE_OVERLOADED_
		: rc == STORE_COMMIT_FAILED || rc == STORE_UNSUPPORTED ? STORE_FAILED
								       : STORE_REFUSED;
	observe(&store_writes[k], &LATENCY, duration_us);
}

void metrics_store_fsync(int64_t duration_us, bool ok)
{
	observe(&store_fsyncs, &LATENCY, duration_us);
	if (!ok)
		inc(&store_fsync_failures, 1);
}

void metrics_webhook_attempt(bool ok, int64_t duration_ms)
{
	observe(&webhook_attempts[ok ? 1 : 0], &WEBHOOK, duration_ms * 1000);
}

/* ---- rendering ---- */

/* A label value with Prometheus' escapes (backslash, double quote, newline). */
static void put_label(struct buf *b, const char *name, const char *v, bool first)
{
	if (!first)
		buf_putc(b, ',');
	buf_puts(b, name);
	buf_puts(b, "=\"");
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			buf_putc(b, '\\');
		if (*v == '\n') {
			buf_puts(b, "\\n");
			continue;
		}
		buf_putc(b, *v);
	}
	buf_putc(b, '"');
}

/* v (in units of 10^-digits seconds) as a decimal number of seconds: "0.0025", "12", "1.5". */
static void put_seconds(struct buf *b, uint64_t v, int digits)
{
	uint64_t scale = 1;
	for (int i = 0; i < digits; i++)
		scale *= 10;
	char frac[16];
	snprintf(frac, sizeof(frac), "%0*llu", digits, (unsigned long long)(v % scale));
	size_t n = strlen(frac);
	while (n > 0 && frac[n - 1] == '0')
		frac[--n] = '\0';
	buf_printf(b, "%llu%s%s", (unsigned long long)(v / scale), n ? "." : "", frac);
}

static void put_u64(struct buf *b, uint64_t v)
{
	buf_printf(b, "%llu", (unsigned long long)v);
}

static void head(struct buf *b, const char *name, const char *type, const char *help)
{
	buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* One histogram's series. labels: "route=\"…\",…" already escaped, or "" for none. */
static void put_hist(struct buf *b, const char *name, const char *labels, struct mhist *h,
		     const struct hist_kind *k)
{
	uint64_t cum = 0;
	for (size_t i = 0; i <= k->n; i++) {
		cum += get(&h->b[i]);
		buf_printf(b, "%s_bucket{%s%sle=\"", name, labels, *labels ? "," : "");
		if (i < k->n)
			put_seconds(b, (uint64_t)k->bounds[i], k->unit_digits);
		else
			buf_puts(b, "+Inf");
		buf_puts(b, "\"} ");
		put_u64(b, cum);
		buf_putc(b, '\n');
	}
	buf_printf(b, "%s_sum%s%s%s ", name, *labels ? "{" : "", labels, *labels ? "}" : "");
	put_seconds(b, get(&h->sum), k->unit_digits);
	buf_printf(b, "\n%s_count%s%s%s ", name, *labels ? "{" : "", labels, *labels ? "}" : "");
	put_u64(b, cum);
	buf_putc(b, '\n');
}

static uint64_t hist_count(struct mhist *h, const struct hist_kind *k)
{
	uint64_t n = 0;
	for (size_t i = 0; i <= k->n; i++)
		n += get(&h->b[i]);
	return n;
}

static const struct route *route_at(size_t i, const char **ret_method, const char **ret_pattern)
{
	if (i < nroutes) {
		*ret_method = routes[i]->method;
		*ret_pattern = routes[i]->pattern;
		return routes[i];
	}
	*ret_method = UNMATCHED_METHODS[i - ROUTES_MAX];
	*ret_pattern = "(unmatched)";
	return NULL;
}

static size_t route_slot(size_t k)
{
	return k < nroutes ? k : ROUTES_MAX + (k - nroutes);
}

static void render_http(struct buf *b)
{
	size_t total = nroutes + UNMATCHED_SLOTS;
	struct buf l;
	buf_init(&l, 4096);
	head(b, "tender_http_requests_total", "counter",
	     "API requests answered, by route pattern, method and status code.");
	for (size_t k = 0; k < total; k++) {
		struct route_stats *s = &route_stats[route_slot(k)];
		const char *method, *pattern;
		route_at(route_slot(k), &method, &pattern);
		for (size_t i = 0; i < STATUS_SLOTS; i++) {
			uint64_t v = get(&s->status[i]);
			if (!v)
				continue;
			char code[16];
			if (i + 1 < STATUS_SLOTS)
				snprintf(code, sizeof(code), "%d", STATUS_CODES[i]);
			else
				snprintf(code, sizeof(code), "other");
			buf_puts(b, "tender_http_requests_total{");
			put_label(b, "route", pattern, true);
			put_label(b, "method", method, false);
			put_label(b, "code", code, false);
			buf_puts(b, "} ");
			put_u64(b, v);
			buf_putc(b, '\n');
		}
	}
	head(b, "tender_http_request_duration_seconds", "histogram",
	     "Time from a request's arrival to its answer (a write's includes its durable "
	     "commit), by route pattern and method.");
	for (size_t k = 0; k < total; k++) {
		struct route_stats *s = &route_stats[route_slot(k)];
		if (!hist_count(&s->latency, &LATENCY))
			continue;
		const char *method, *pattern;
		route_at(route_slot(k), &method, &pattern);
		buf_reset(&l);
		put_label(&l, "route", pattern, true);
		put_label(&l, "method", method, false);
		put_hist(b, "tender_http_request_duration_seconds", buf_cstr(&l), &s->latency,
			 &LATENCY);
	}
	buf_release(&l);
	head(b, "tender_api_errors_total", "counter",
	     "Error answers (not replays), by Stripe error type, code and Tender's error name.");
	for (int e = 0; e < API_ERR_COUNT; e++) {
		uint64_t v = get(&api_errors[e]);
		if (!v)
			continue;
		const struct api_error_info *info = api_error_info((enum api_err)e);
		char name[64];
		const char *n = info->name;
		if (strncmp(n, "ERR_", 4) == 0)
			n += 4;
		size_t j = 0;
		for (; n[j] && j + 1 < sizeof(name); j++)
			name[j] = (char)(n[j] >= 'A' && n[j] <= 'Z' ? n[j] - 'A' + 'a' : n[j]);
		name[j] = '\0';
		buf_puts(b, "tender_api_errors_total{");
		put_label(b, "error", name, true);
		put_label(b, "type", info->type, false);
		put_label(b, "code", info->code, false);
		buf_puts(b, "} ");
		put_u64(b, v);
		buf_putc(b, '\n');
	}
	head(b, "tender_idempotent_requests_total", "counter",
	     "Requests with an Idempotency-Key: executed, replayed from the saved answer, refused "
	     "while the first is in flight (in_use), or reused with other parameters (mismatch).");
	for (int k = 0; k < IDEM_KINDS; k++)
		buf_printf(b, "tender_idempotent_requests_total{result=\"%s\"} %llu\n",
			   IDEM_NAMES[k], (unsigned long long)get(&idempotency[k]));
	head(b, "tender_rate_limited_total", "counter",
	     "Requests refused by the per-merchant rate limit (429).");
	buf_printf(b, "tender_rate_limited_total %llu\n", (unsigned long long)get(&rate_limited));
	head(b, "tender_http_requests_in_flight", "gauge", "API requests being served now.");
	buf_printf(b, "tender_http_requests_in_flight %lld\n",
		   (long long)atomic_load_explicit(&inflight, memory_order_relaxed));
}

/* A family's series: name{label1="…"[,label2="…"]} v, for keys "a" or "a\x1fb". */
static void render_family(struct buf *b, struct family *f, const char *name, const char *label1,
			  const char *label2)
{
	for (size_t s = 0; s < FAMILY_SLOTS; s++) {
		if (!atomic_load_explicit(&f->slot[s].ready, memory_order_acquire))
			continue;
		char key[FAMILY_KEY_MAX];
		memcpy(key, f->slot[s].key, sizeof(key));
		key[sizeof(key) - 1] = '\0';
		char *second = label2 ? strchr(key, '\x1f') : NULL;
		if (second)
			*second++ = '\0';
		buf_printf(b, "%s{", name);
		put_label(b, label1, key, true);
		if (label2)
			put_label(b, label2, second ? second : "", false);
		buf_puts(b, "} ");
		put_u64(b, get(&f->slot[s].v));
		buf_putc(b, '\n');
	}
}

static void render_payments(struct buf *b)
{
	head(b, "tender_card_authorizations_total", "counter",
	     "The acquirer's answers to card payments and checks, by brand and outcome "
	     "(approved, declined, blocked by Radar, requires_action for 3-D Secure, error).");
	render_family(b, &authorizations, "tender_card_authorizations_total", "brand", "outcome");
	head(b, "tender_card_declines_total", "counter", "Declined cards, by decline code.");
	render_family(b, &declines, "tender_card_declines_total", "decline_code", NULL);
	head(b, "tender_card_approved_payments_total", "counter",
	     "Approved card payments (not checks without an amount), by currency.");
	render_family(b, &approved_payments, "tender_card_approved_payments_total", "currency",
		      NULL);
	head(b, "tender_card_approved_amount_minor_total", "counter",
	     "What approved card payments were for, in the currency's minor units (cents, yen, "
	     "fils), by currency: with the count above, the average transaction value.");
	render_family(b, &approved_amounts, "tender_card_approved_amount_minor_total", "currency",
		      NULL);
	head(b, "tender_fraud_decisions_total", "counter",
	     "Radar's decisions on scored payments: allow, review (3-D Secure) or block.");
	render_family(b, &fraud_decisions, "tender_fraud_decisions_total", "action", NULL);
	head(b, "tender_fraud_score_duration_seconds", "histogram",
	     "Time the fraud model took to score one payment.");
	put_hist(b, "tender_fraud_score_duration_seconds", "", &fraud_score, &SCORE);
	head(b, "tender_events_total", "counter",
	     "Events committed, by type (charge.succeeded, charge.failed, "
	     "charge.dispute.created, …), whoever made them.");
	render_family(b, &events, "tender_events_total", "type", NULL);
}

static void render_rest(struct buf *b)
{
	head(b, "tender_store_write_duration_seconds", "histogram",
	     "Store writes from the call to the durable answer, by result (ok, refused by the "
	     "transaction, overloaded, failed).");
	for (int k = 0; k < STORE_RESULTS; k++) {
		char l[64];
		snprintf(l, sizeof(l), "result=\"%s\"", STORE_RESULT_NAMES[k]);
		put_hist(b, "tender_store_write_duration_seconds", l, &store_writes[k], &LATENCY);
	}
	head(b, "tender_store_fsync_duration_seconds", "histogram",
	     "fdatasync of the embedded store's write-ahead log (one per commit group).");
	put_hist(b, "tender_store_fsync_duration_seconds", "", &store_fsyncs, &LATENCY);
	head(b, "tender_store_fsync_failures_total", "counter",
	     "Failed WAL fsyncs (after one the store refuses writes until a restart).");
	buf_printf(b, "tender_store_fsync_failures_total %llu\n",
		   (unsigned long long)get(&store_fsync_failures));
	head(b, "tender_webhook_attempt_duration_seconds", "histogram",
	     "Webhook delivery attempts, by result (delivered: a 2xx answer; failed: anything "
	     "else, timeouts included).");
	put_hist(b, "tender_webhook_attempt_duration_seconds", "result=\"failed\"",
		 &webhook_attempts[0], &WEBHOOK);
	put_hist(b, "tender_webhook_attempt_duration_seconds", "result=\"delivered\"",
		 &webhook_attempts[1], &WEBHOOK);
	head(b, "tender_metrics_labels_dropped_total", "counter",
	     "Observations not counted because their label set was full.");
	buf_printf(b, "tender_metrics_labels_dropped_total %llu\n",
		   (unsigned long long)get(&labels_dropped));
	long page = sysconf(_SC_PAGESIZE);
	unsigned long long size = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");
	if (f) {
		if (fscanf(f, "%llu %llu", &size, &resident) != 2)
			resident = 0;
		fclose(f);
	}
	head(b, "tender_process_resident_memory_bytes", "gauge", "Resident memory of the process.");
	buf_printf(b, "tender_process_resident_memory_bytes %llu\n",
		   resident * (unsigned long long)(page > 0 ? page : 4096));
	head(b, "tender_process_start_time_seconds", "gauge",
	     "When the process started, in seconds since the Unix epoch.");
	buf_printf(b, "tender_process_start_time_seconds %lld\n", (long long)start_time);
}

int metrics_render(struct buf *out)
{
	render_http(out);
	render_payments(out);
	render_rest(out);
	return out->failed ? -1 : 0;
}
