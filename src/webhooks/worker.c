/*
 * The delivery worker: one thread, one libcurl multi handle, SLOTS_MAX transfers in flight.
 *
 * The loop: claim due deliveries into free slots (a write transaction that marks them
 * 'delivering' with a lease), render their events (a read), start their transfers, let libcurl
 * run them, and record every finished attempt with its outcome (a write transaction per merchant:
 * the attempt row, the delivery's next state, the event's pending_webhooks, the endpoint's
 * failure clock). No transaction is ever open while a transfer runs: the store's writer is only
 * held for the short claim and record steps, so API requests never wait for an endpoint.
 *
 * Claiming continues while other transfers are in flight, so one hanging endpoint holds at most
 * its own slots (PER_ENDPOINT_MAX) for at most the attempt timeout. The due rows looked at hold
 * at most PER_ENDPOINT_MAX of each endpoint, so one endpoint's backlog never hides the others'
 * deliveries; when an endpoint's slots were the limit, a freed slot is filled at once instead
 * of on the next poll, so a fast endpoint is served as fast as it answers.
 *
 * At-least-once: a delivery leaves 'delivering' only when its outcome is recorded. If Tender
 * dies in between, the lease runs out and the delivery is claimed again (the receiver may see
 * it twice; Stripe's receivers are built for that). On an orderly stop, unfinished transfers
 * are handed back as 'pending' without counting an attempt.
 *
 * Waking up: the outbox calls webhooks_kick() inside the event's transaction, before it
 * commits, so a claim right away could find nothing; the worker claims KICK_DELAY_MS later and
 * otherwise polls every POLL_MS (a cheap read first, the claim transaction only when something
 * is due).
 */
#include <curl/curl.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "core/clock.h"
#include "core/id.h"
#include "core/log.h"
#include "core/str.h"
#include "events/events.h"
#include "store/store.h"
#include "webhooks/webhooks.h"
#include "metrics/metrics.h"

#define SLOTS_MAX 16	   /* transfers in flight; each has its own connection */
#define PER_ENDPOINT_MAX 4 /* in flight to one endpoint */
#define CANDIDATES_MAX 64  /* due rows looked at per claim */
/* the oldest due rows a claim ranks per endpoint: bounds the work of a claim, which holds the
 * store's writer, when a backlog has many thousands */
#define SCAN_MAX 1024
#define STR_(x) #x
#define STR(x) STR_(x)
#define ATTEMPT_TIMEOUT_MS 10000
/* After a crash, leased deliveries go out again this much later. Within one process a claimed
 * delivery is never claimed twice (already_held), however long recording takes. */
#define LEASE_MS 15000
#define POLL_MS 200
#define KICK_DELAY_MS 20
#define STOP_GRACE_MS 2000 /* on stop, in-flight attempts get this long to finish */
#define DISABLE_AFTER_S (3 * 86400)
#define BODY_MAX (4u << 20)

struct job {
	bool busy;     /* the slot holds a claimed delivery */
	bool finished; /* its attempt is over (or was never possible), waiting to be recorded */
	bool endpoint_disabled; /* set by record_fn: log the alert after the commit */
	char merchant_id[ID_MAX], id[ID_MAX], event_id[ID_MAX], endpoint_id[ID_MAX];
	/* whose event it is: merchant_id, or the connected account whose event goes to its
	 * platform's connect endpoint (webhook_deliveries.event_merchant_id) */
	char event_merchant_id[ID_MAX];
	char url[WEBHOOK_URL_MAX + 1];
	char secret[128];
	int attempts; /* attempts made before this one */
	bool livemode;
	struct buf body;
	long status;
	int64_t duration_ms;
	char error[256];
	char curl_err[CURL_ERROR_SIZE];
	CURL *easy;
	struct curl_slist *headers;
};

/* One due row, as the claim transaction read it. */
struct candidate {
	char merchant_id[ID_MAX], id[ID_MAX], event_id[ID_MAX], endpoint_id[ID_MAX];
	char event_merchant_id[ID_MAX]; /* as in struct job */
	char url[WEBHOOK_URL_MAX + 1];
	char secret[128];
	int attempts;
	bool livemode;
	const char *gone; /* non-NULL: the endpoint cannot receive (deleted, disabled) */
};

struct webhooks {
	struct app *app;
	struct webhook_schedule sched;
	pthread_t thread;
	atomic_int stopping;
	atomic_int kicked;
	CURLM *multi;
	int in_flight;
	struct job jobs[SLOTS_MAX];
	/* claim scratch: only touched by claim_fn while the worker waits for it */
	struct candidate cands[CANDIDATES_MAX];
	struct candidate staged[SLOTS_MAX];
	int n_staged;
	/* the shard claim_fn last ran on (store_current_shard; -1 before the first), and n_staged
	 * before that run: a run again on the same shard (its first was undone, see store.h)
	 * stages from there, not after its own claims. The shard, not the connection: PostgreSQL
	 * may run the transaction again on another of its pooled connections. */
	int stage_shard;
	int stage_base;
	/* the last claim filled an endpoint's PER_ENDPOINT_MAX slots (or left its due deliveries
	 * for want of one): it may have more due, so a slot that frees is filled at once, not
	 * POLL_MS later (else such an endpoint got at most PER_ENDPOINT_MAX deliveries per POLL_MS,
	 * ~20 a second, however fast it answered) */
	bool saturated;
};

static pthread_mutex_t running_mu = PTHREAD_MUTEX_INITIALIZER;
static struct webhooks *running;

void webhooks_kick(void)
{
	pthread_mutex_lock(&running_mu);
	if (running) {
		atomic_store(&running->kicked, 1);
		curl_multi_wakeup(running->multi);
	}
	pthread_mutex_unlock(&running_mu);
}

static int64_t mono_ms(void)
{
	return clock_mono_us() / 1000;
}

static void col_copy(char *dst, size_t n, struct db_stmt *st, int col)
{
	const char *t = db_col_text(st, col, NULL);
	str_copy(dst, n, t ? t : "");
}

/* ---- claim ---- */

static const char SQL_ANY_DUE[] =
    "SELECT 1 FROM webhook_deliveries WHERE (status = 'pending' AND next_at <= $1)"
    " OR (status = 'delivering' AND lease_until <= $1) LIMIT 1";
/* the oldest SCAN_MAX due rows, numbered in due order within their endpoint */
#define DUE_RANKED                                                                                 \
	"SELECT merchant_id, id, ROW_NUMBER() OVER (PARTITION BY merchant_id, endpoint_id"         \
	" ORDER BY next_at, id) AS rn FROM (SELECT merchant_id, id, endpoint_id, next_at"          \
	" FROM webhook_deliveries WHERE (status = 'pending' AND next_at <= $1)"                    \
	" OR (status = 'delivering' AND lease_until <= $1) ORDER BY next_at, id"                   \
	" LIMIT " STR(SCAN_MAX) ") s"
static const char SQL_DUE[] =
    "SELECT d.merchant_id, d.id, d.event_id, d.endpoint_id, d.attempts, e.url, e.secret,"
    " e.livemode, e.status, e.deleted, COALESCE(d.event_merchant_id, d.merchant_id)"
    " FROM webhook_deliveries d LEFT JOIN webhook_endpoints e"
    " ON e.merchant_id = d.merchant_id AND e.id = d.endpoint_id"
    " WHERE ((d.status = 'pending' AND d.next_at <= $1)"
    " OR (d.status = 'delivering' AND d.lease_until <= $1))"
    " AND (d.merchant_id, d.id) IN (SELECT merchant_id, id FROM (" DUE_RANKED ") r"
    " WHERE r.rn <= " STR(PER_ENDPOINT_MAX) ") ORDER BY d.next_at, d.id LIMIT $2";
/* On PostgreSQL several nodes claim at once: each locks the rows it read and skips the ones
 * another node holds, so they divide the work instead of colliding and retrying. */
static const char SQL_DUE_PG[] =
    "SELECT d.merchant_id, d.id, d.event_id, d.endpoint_id, d.attempts, e.url, e.secret,"
    " e.livemode, e.status, e.deleted, COALESCE(d.event_merchant_id, d.merchant_id)"
    " FROM webhook_deliveries d LEFT JOIN webhook_endpoints e"
    " ON e.merchant_id = d.merchant_id AND e.id = d.endpoint_id"
    " WHERE ((d.status = 'pending' AND d.next_at <= $1)"
    " OR (d.status = 'delivering' AND d.lease_until <= $1))"
    " AND (d.merchant_id, d.id) IN (SELECT merchant_id, id FROM (" DUE_RANKED ") r"
    " WHERE r.rn <= " STR(PER_ENDPOINT_MAX) ") ORDER BY d.next_at, d.id LIMIT $2"
					    " FOR UPDATE OF d SKIP LOCKED";
/* The guard is the state the row was read in: a concurrent claimer (another process on the
 * same store) wins or loses the row as a whole. */
static const char SQL_CLAIM[] =
    "UPDATE webhook_deliveries SET status = 'delivering', lease_until = $3"
    " WHERE merchant_id = $1 AND id = $2 AND ((status = 'pending' AND next_at <= $4)"
    " OR (status = 'delivering' AND lease_until <= $4))";
static const char SQL_ABANDON[] =
    "UPDATE webhook_deliveries SET status = 'failed', lease_until = NULL, attempts = $3"
    " WHERE merchant_id = $1 AND id = $2 AND ((status = 'pending' AND next_at <= $4)"
    " OR (status = 'delivering' AND lease_until <= $4))";
static const char SQL_ATTEMPT[] =
    "INSERT INTO webhook_attempts (merchant_id, delivery_id, event_id, endpoint_id, attempt, at,"
    " status_code, duration_ms, error) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
static const char SQL_PENDING_DEC[] =
    "UPDATE events SET pending_webhooks = pending_webhooks - 1 WHERE merchant_id = $1 AND id = $2"
    " AND pending_webhooks > 0";

struct due_ctx {
	int64_t now_ms;
	bool due;
};

static int any_due_fn(struct db *db, void *p)
{
	struct due_ctx *c = p;
	struct db_stmt *st = db_prepare(db, SQL_ANY_DUE);
	if (!st)
		return -1;
	db_bind_int64(st, 1, c->now_ms);
	int rc = db_step(st);
	c->due = c->due || rc == DB_ROW;
	db_reset(st);
	return rc < 0 ? -1 : 0;
}

/* Runs a guarded UPDATE of one delivery; returns the rows changed (0 or 1) or -1. */
static int delivery_update(struct db *db, const char *sql, const struct candidate *c, int64_t v3,
			   int64_t now_ms)
{
	struct db_stmt *st = db_prepare(db, sql);
	if (!st)
		return -1;
	db_bind_text(st, 1, c->merchant_id, -1);
	db_bind_text(st, 2, c->id, -1);
	db_bind_int64(st, 3, v3);
	db_bind_int64(st, 4, now_ms);
	int rc = db_step(st);
	int64_t n = rc == DB_DONE ? db_changes(st) : 0;
	db_reset(st);
	return rc == DB_DONE ? (int)n : -1;
}

static int attempt_insert(struct db *db, const char *merchant_id, const char *delivery_id,
			  const char *event_id, const char *endpoint_id, int attempt, long status,
			  int64_t duration_ms, const char *error)
{
	struct db_stmt *st = db_prepare(db, SQL_ATTEMPT);
	if (!st)
		return -1;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, delivery_id, -1);
	db_bind_text(st, 3, event_id, -1);
	db_bind_text(st, 4, endpoint_id, -1);
	db_bind_int64(st, 5, attempt);
	db_bind_int64(st, 6, clock_now());
	if (status)
		db_bind_int64(st, 7, status);
	else
		db_bind_null(st, 7);
	db_bind_int64(st, 8, duration_ms);
	db_bind_text(st, 9, error, -1);
	return db_step_done(st) == DB_OK ? 0 : -1;
}

static int pending_dec(struct db *db, const char *merchant_id, const char *event_id)
{
	struct db_stmt *st = db_prepare(db, SQL_PENDING_DEC);
	if (!st)
		return -1;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, event_id, -1);
	return db_step_done(st) == DB_OK ? 0 : -1;
}

/* Deliveries to this endpoint in flight or staged now. */
static int endpoint_load(const struct webhooks *w, const struct candidate *c)
{
	int n = 0;
	for (int i = 0; i < SLOTS_MAX; i++)
		if (w->jobs[i].busy && strcmp(w->jobs[i].endpoint_id, c->endpoint_id) == 0 &&
		    strcmp(w->jobs[i].merchant_id, c->merchant_id) == 0)
			n++;
	for (int i = 0; i < w->n_staged; i++)
		if (strcmp(w->staged[i].endpoint_id, c->endpoint_id) == 0 &&
		    strcmp(w->staged[i].merchant_id, c->merchant_id) == 0)
			n++;
	return n;
}

/* Already ours: in a slot (its lease ran out while its outcome could not be recorded) or
 * staged by an earlier run of this callback. */
static bool already_held(const struct webhooks *w, const struct candidate *c)
{
	for (int i = 0; i < SLOTS_MAX; i++)
		if (w->jobs[i].busy && strcmp(w->jobs[i].id, c->id) == 0 &&
		    strcmp(w->jobs[i].merchant_id, c->merchant_id) == 0)
			return true;
	for (int i = 0; i < w->n_staged; i++)
		if (strcmp(w->staged[i].id, c->id) == 0 &&
		    strcmp(w->staged[i].merchant_id, c->merchant_id) == 0)
			return true;
	return false;
}

/* Claims up to the free slots into w->staged. It may run again after a retryable failure, and
 * once per shard: staged rows are deduplicated by id, so neither doubles a delivery. */
static int claim_fn(struct db *db, void *p)
{
	struct webhooks *w = p;
	int shard = store_current_shard();
	if (w->stage_shard == shard) {
		w->n_staged = w->stage_base;
	} else {
		w->stage_shard = shard;
		w->stage_base = w->n_staged;
	}
	int64_t now_ms = clock_now_ms();
	int free_slots = SLOTS_MAX - w->in_flight;
	struct db_stmt *st = db_prepare(db, db_kind(db) == DB_POSTGRES ? SQL_DUE_PG : SQL_DUE);
	if (!st)
		return -1;
	db_bind_int64(st, 1, now_ms);
	db_bind_int64(st, 2, CANDIDATES_MAX);
	int n = 0, rc;
	while (n < CANDIDATES_MAX && (rc = db_step(st)) == DB_ROW) {
		struct candidate *c = &w->cands[n++];
		col_copy(c->merchant_id, sizeof(c->merchant_id), st, 0);
		col_copy(c->id, sizeof(c->id), st, 1);
		col_copy(c->event_id, sizeof(c->event_id), st, 2);
		col_copy(c->endpoint_id, sizeof(c->endpoint_id), st, 3);
		c->attempts = (int)db_col_int64(st, 4);
		col_copy(c->url, sizeof(c->url), st, 5);
		col_copy(c->secret, sizeof(c->secret), st, 6);
		c->livemode = db_col_int64(st, 7) != 0;
		const char *status = db_col_text(st, 8, NULL);
		col_copy(c->event_merchant_id, sizeof(c->event_merchant_id), st, 10);
		c->gone = !status || db_col_int64(st, 9)   ? "not sent: the endpoint was deleted"
			  : strcmp(status, "enabled") != 0 ? "not sent: the endpoint is disabled"
							   : NULL;
	}
	db_reset(st);
	for (int i = 0; i < n; i++) {
		struct candidate *c = &w->cands[i];
		if (already_held(w, c))
			continue;
		if (c->gone) {
			/* nothing to deliver to: close it out, recorded, so pending_webhooks ends
			 */
			int ch = delivery_update(db, SQL_ABANDON, c, c->attempts, now_ms);
			if (ch < 0)
				return -1;
			if (ch == 1 &&
			    (attempt_insert(db, c->merchant_id, c->id, c->event_id, c->endpoint_id,
					    c->attempts + 1, 0, 0, c->gone) != 0 ||
			     pending_dec(db, c->event_merchant_id, c->event_id) != 0))
				return -1;
			continue;
		}
		if (w->n_staged >= free_slots)
			break;
		if (endpoint_load(w, c) >= PER_ENDPOINT_MAX) {
			/* left due: it cannot crowd the others out (at most PER_ENDPOINT_MAX of an
			 * endpoint are looked at), and it goes as soon as a slot of its frees */
			w->saturated = true;
			continue;
		}
		int ch = delivery_update(db, SQL_CLAIM, c, now_ms + LEASE_MS, now_ms);
		if (ch < 0)
			return -1;
		if (ch == 1) {
			w->staged[w->n_staged++] = *c;
			/* at its cap: it may have more due than the rows looked at */
			if (endpoint_load(w, c) >= PER_ENDPOINT_MAX)
				w->saturated = true;
		}
	}
	return 0;
}

/* ---- transfers ---- */

struct render_ctx {
	struct job *j;
	int rc;
};

static int render_fn(struct db *db, void *p)
{
	struct render_ctx *c = p;
	struct json js;
	buf_reset(&c->j->body);
	json_init(&js, &c->j->body);
	c->rc = event_render(db, c->j->event_merchant_id, c->j->event_id, &js);
	return 0;
}

static size_t discard(char *ptr, size_t size, size_t nmemb, void *ud)
{
	(void)ptr;
	(void)ud;
	return size * nmemb; /* only the status of the answer matters */
}

/* Every connection, to whatever address the name resolved to this time, passes the SSRF rule:
 * DNS rebinding gains nothing. */
static curl_socket_t open_socket(void *clientp, curlsocktype purpose, struct curl_sockaddr *a)
{
	struct job *j = clientp;
	(void)purpose;
	if (!webhook_addr_allowed(&a->addr, j->livemode)) {
		snprintf(j->error, sizeof(j->error),
			 "refused: the endpoint resolved to an internal address");
		return CURL_SOCKET_BAD;
	}
	return socket(a->family, a->socktype, a->protocol);
}

static void job_finish(struct job *j, const char *error)
{
	if (error && !j->error[0])
		snprintf(j->error, sizeof(j->error), "%.250s", error);
	j->finished = true;
}

static void job_start(struct webhooks *w, struct job *j)
{
	j->status = 0;
	j->duration_ms = 0;
	j->error[0] = '\0';
	j->curl_err[0] = '\0';
	struct render_ctx rc = {j, DB_ERR};
	if (store_read(w->app->store, j->event_merchant_id, render_fn, &rc) != 0 ||
	    rc.rc != DB_OK || j->body.failed) {
		/* only corruption gets here: record a failed attempt rather than loop on it */
		job_finish(j, "not sent: the event cannot be rendered");
		return;
	}
	struct buf sig;
	buf_init(&sig, 512);
	buf_puts(&sig, "Stripe-Signature: ");
	webhook_sign(j->secret, clock_now(), j->body.data, j->body.len, &sig);
	struct curl_slist *h =
	    curl_slist_append(NULL, "Content-Type: application/json; charset=utf-8");
	if (h)
		h = curl_slist_append(h, buf_cstr(&sig));
	if (h)
		h = curl_slist_append(h,
				      "User-Agent: Tender/1.0 (+https://stripe.com/docs/webhooks)");
	if (h)
		h = curl_slist_append(h, "Expect:");
	buf_release(&sig);
	CURL *e = curl_easy_init();
	if (!h || !e) {
		curl_slist_free_all(h);
		if (e)
			curl_easy_cleanup(e);
		job_finish(j, "not sent: out of memory");
		return;
	}
	j->headers = h;
	j->easy = e;
	curl_easy_setopt(e, CURLOPT_URL, j->url);
	curl_easy_setopt(e, CURLOPT_POST, 1L);
	curl_easy_setopt(e, CURLOPT_POSTFIELDS, j->body.data);
	curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)j->body.len);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, j->headers);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)ATTEMPT_TIMEOUT_MS);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)ATTEMPT_TIMEOUT_MS);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_PROXY, ""); /* no proxy from the environment: we connect */
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, j->curl_err);
	curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, open_socket);
	curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, j);
	curl_easy_setopt(e, CURLOPT_PRIVATE, j);
	if (curl_multi_add_handle(w->multi, e) != CURLM_OK) {
		job_finish(j, "not sent: cannot start the transfer");
		return;
	}
}

static void job_release_handle(struct webhooks *w, struct job *j)
{
	if (j->easy) {
		curl_multi_remove_handle(w->multi, j->easy);
		curl_easy_cleanup(j->easy);
	}
	curl_slist_free_all(j->headers);
	j->easy = NULL;
	j->headers = NULL;
}

static void slot_free(struct webhooks *w, struct job *j)
{
	job_release_handle(w, j);
	j->busy = false;
	j->finished = false;
	w->in_flight--;
}

/* Claims due deliveries into free slots and starts them. Returns how many started, or -1. */
static int claim(struct webhooks *w)
{
	if (w->in_flight >= SLOTS_MAX)
		return 0;
	w->saturated = false;
	struct due_ctx d = {clock_now_ms(), false};
	if (store_each_shard_read(w->app->store, any_due_fn, &d) != 0 || !d.due)
		return 0;
	w->n_staged = 0;
	w->stage_shard = -1;
	if (store_each_shard_write(w->app->store, claim_fn, w) != 0) {
		w->n_staged = 0;
		return -1;
	}
	int started = 0;
	for (int i = 0; i < w->n_staged; i++) {
		struct job *j = NULL;
		for (int k = 0; k < SLOTS_MAX && !j; k++)
			if (!w->jobs[k].busy)
				j = &w->jobs[k];
		if (!j)
			break; /* cannot happen: claim_fn stages at most the free slots */
		const struct candidate *c = &w->staged[i];
		memcpy(j->merchant_id, c->merchant_id, ID_MAX);
		memcpy(j->id, c->id, ID_MAX);
		memcpy(j->event_id, c->event_id, ID_MAX);
		memcpy(j->endpoint_id, c->endpoint_id, ID_MAX);
		memcpy(j->event_merchant_id, c->event_merchant_id, ID_MAX);
		memcpy(j->url, c->url, sizeof(j->url));
		memcpy(j->secret, c->secret, sizeof(j->secret));
		j->attempts = c->attempts;
		j->livemode = c->livemode;
		j->busy = true;
		j->finished = false;
		w->in_flight++;
		job_start(w, j);
		started++;
	}
	w->n_staged = 0;
	return started;
}

static void collect(struct webhooks *w)
{
	CURLMsg *m;
	int left;
	int guard = 0;
	while (guard++ < 4 * SLOTS_MAX && (m = curl_multi_info_read(w->multi, &left))) {
		if (m->msg != CURLMSG_DONE)
			continue;
		struct job *j = NULL;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&j);
		if (!j)
			continue;
		curl_off_t us = 0;
		curl_easy_getinfo(m->easy_handle, CURLINFO_TOTAL_TIME_T, &us);
		j->duration_ms = (int64_t)us / 1000;
		CURLcode res = m->data.result;
		long code = 0;
		if (res == CURLE_OK)
			curl_easy_getinfo(m->easy_handle, CURLINFO_RESPONSE_CODE, &code);
		metrics_webhook_attempt(code >= 200 && code < 300, j->duration_ms);
		if (res == CURLE_OK) {
			curl_easy_getinfo(m->easy_handle, CURLINFO_RESPONSE_CODE, &j->status);
			job_finish(j, NULL);
		} else if (res == CURLE_OPERATION_TIMEDOUT) {
			job_finish(j, "timed out after 10 s");
		} else {
			char e[256];
			snprintf(e, sizeof(e), "%.60s%s%.180s", curl_easy_strerror(res),
				 j->curl_err[0] ? ": " : "", j->curl_err);
			job_finish(j, e);
		}
	}
}

/* ---- record ---- */

static const char SQL_DONE[] =
    "UPDATE webhook_deliveries SET status = $3, attempts = $4, next_at = $5, lease_until = NULL"
    " WHERE merchant_id = $1 AND id = $2 AND status = 'delivering'";
static const char SQL_ENDPOINT_OK[] =
    "UPDATE webhook_endpoints SET failing_since = NULL WHERE merchant_id = $1 AND id = $2"
    " AND failing_since IS NOT NULL";
static const char SQL_ENDPOINT_FAIL[] =
    "UPDATE webhook_endpoints SET failing_since = $3 WHERE merchant_id = $1 AND id = $2"
    " AND failing_since IS NULL";
static const char SQL_ENDPOINT_DISABLE[] =
    "UPDATE webhook_endpoints SET status = 'disabled' WHERE merchant_id = $1 AND id = $2"
    " AND status = 'enabled' AND failing_since IS NOT NULL AND failing_since <= $3";

static int endpoint_update(struct db *db, const char *sql, const struct job *j, int64_t v,
			   bool bind_v, int64_t *ret_changes)
{
	struct db_stmt *st = db_prepare(db, sql);
	if (!st)
		return -1;
	db_bind_text(st, 1, j->merchant_id, -1);
	db_bind_text(st, 2, j->endpoint_id, -1);
	if (bind_v)
		db_bind_int64(st, 3, v);
	int rc = db_step(st);
	if (ret_changes)
		*ret_changes = rc == DB_DONE ? db_changes(st) : 0;
	db_reset(st);
	return rc == DB_DONE ? 0 : -1;
}

struct record_ctx {
	struct webhooks *w;
	const char *merchant_id;
};

/* Records every finished job of one merchant. Re-runnable: it only reads the jobs, except the
 * alert flag, which it sets afresh. A job carrying a connected account's event to its platform's
 * endpoint runs here in the platform's transaction and lowers the account's pending_webhooks:
 * a Connect family lives on one shard, so that is the same database. */
static int record_fn(struct db *db, void *p)
{
	struct record_ctx *c = p;
	struct webhooks *w = c->w;
	int64_t now = clock_now(), now_ms = clock_now_ms();
	for (int i = 0; i < SLOTS_MAX; i++) {
		struct job *j = &w->jobs[i];
		if (!j->busy || !j->finished || strcmp(j->merchant_id, c->merchant_id) != 0)
			continue;
		j->endpoint_disabled = false;
		int attempt = j->attempts + 1;
		bool ok = j->status >= 200 && j->status < 300;
		const char *error = j->error[0] ? j->error : NULL;
		if (!ok && !error && j->status)
			error = j->status >= 300 && j->status < 400 ? "redirects are not followed"
								    : NULL;
		if (attempt_insert(db, j->merchant_id, j->id, j->event_id, j->endpoint_id, attempt,
				   j->status, j->duration_ms, error) != 0)
			return -1;
		bool last = attempt >= 1 + w->sched.n;
		const char *status = ok ? "succeeded" : last ? "failed" : "pending";
		int64_t next = now_ms;
		if (!ok && !last) {
			uint32_t rnd = 0;
			if (RAND_bytes((unsigned char *)&rnd, sizeof(rnd)) != 1)
				rnd = (uint32_t)now_ms;
			next += webhook_jitter_ms(w->sched.delays_ms[attempt - 1], rnd);
		}
		struct db_stmt *st = db_prepare(db, SQL_DONE);
		if (!st)
			return -1;
		db_bind_text(st, 1, j->merchant_id, -1);
		db_bind_text(st, 2, j->id, -1);
		db_bind_text(st, 3, status, -1);
		db_bind_int64(st, 4, attempt);
		db_bind_int64(st, 5, next);
		int rc = db_step(st);
		int64_t changed = rc == DB_DONE ? db_changes(st) : 0;
		db_reset(st);
		if (rc != DB_DONE)
			return -1;
		if (changed != 1)
			continue; /* no longer ours (another process re-claimed it): its owner
				     records */
		if ((ok || last) && pending_dec(db, j->event_merchant_id, j->event_id) != 0)
			return -1;
		if (ok) {
			if (endpoint_update(db, SQL_ENDPOINT_OK, j, 0, false, NULL) != 0)
				return -1;
			continue;
		}
		int64_t disabled = 0;
		if (endpoint_update(db, SQL_ENDPOINT_FAIL, j, now, true, NULL) != 0 ||
		    endpoint_update(db, SQL_ENDPOINT_DISABLE, j, now - DISABLE_AFTER_S, true,
				    &disabled) != 0)
			return -1;
		j->endpoint_disabled = disabled == 1;
	}
	return 0;
}

/* Records every finished attempt and frees its slot. Returns how many slots it freed. */
static int record_finished(struct webhooks *w)
{
	int freed = 0;
	for (int i = 0; i < SLOTS_MAX; i++) {
		struct job *first = &w->jobs[i];
		if (!first->busy || !first->finished)
			continue;
		char merchant[ID_MAX];
		memcpy(merchant, first->merchant_id, ID_MAX);
		struct record_ctx rc = {w, merchant};
		int r = store_write(w->app->store, merchant, record_fn, &rc);
		for (int k = i; k < SLOTS_MAX; k++) {
			struct job *j = &w->jobs[k];
			if (!j->busy || !j->finished || strcmp(j->merchant_id, merchant) != 0)
				continue;
			if (r == 0 && j->endpoint_disabled)
				log_msg(
				    LOG_ALERT,
				    "webhook_endpoint %s of merchant %s disabled: every delivery "
				    "failed for 3 days",
				    j->endpoint_id, merchant);
			slot_free(w, j);
			freed++;
		}
		if (r != 0)
			log_msg(
			    LOG_ERROR,
			    "webhooks: cannot record delivery attempts of merchant %s (%d); they "
			    "are retried when their lease ends",
			    merchant, r);
	}
	return freed;
}

/* ---- stop: hand unfinished deliveries back ---- */

static const char SQL_RELEASE[] =
    "UPDATE webhook_deliveries SET status = 'pending', lease_until = NULL, next_at = $3"
    " WHERE merchant_id = $1 AND id = $2 AND status = 'delivering'";

static int release_fn(struct db *db, void *p)
{
	struct job *j = p;
	struct db_stmt *st = db_prepare(db, SQL_RELEASE);
	if (!st)
		return -1;
	db_bind_text(st, 1, j->merchant_id, -1);
	db_bind_text(st, 2, j->id, -1);
	db_bind_int64(st, 3, clock_now_ms());
	return db_step_done(st) == DB_OK ? 0 : -1;
}

static void release_unfinished(struct webhooks *w)
{
	for (int i = 0; i < SLOTS_MAX; i++) {
		struct job *j = &w->jobs[i];
		if (!j->busy)
			continue;
		job_release_handle(w, j);
		/* not an attempt: the receiver may or may not have seen it, so it is sent again */
		if (store_write(w->app->store, j->merchant_id, release_fn, j) != 0)
			log_msg(LOG_WARN, "webhooks: delivery %s stays leased until its lease ends",
				j->id);
		slot_free(w, j);
	}
}

static void *worker_main(void *p)
{
	struct webhooks *w = p;
	int64_t next_claim = 0, stop_deadline = 0;
	pthread_setname_np(pthread_self(), "tender-webhooks");
	for (;;) {
		int64_t now = mono_ms();
		bool stopping = atomic_load(&w->stopping) != 0;
		if (stopping) {
			if (!stop_deadline)
				stop_deadline = now + STOP_GRACE_MS;
			if (w->in_flight == 0 || now >= stop_deadline)
				break;
		}
		if (atomic_exchange(&w->kicked, 0) && next_claim > now + KICK_DELAY_MS)
			next_claim = now + KICK_DELAY_MS;
		if (!stopping && now >= next_claim) {
			int want = SLOTS_MAX - w->in_flight;
			int got = claim(w);
			/* a full batch suggests more are due: look again without waiting */
			next_claim = got > 0 && got == want ? now : now + POLL_MS;
		}
		int still = 0;
		curl_multi_perform(w->multi, &still);
		collect(w);
		/* attempts that never went on the wire (render failure) are finished already */
		if (record_finished(w) > 0 && w->saturated && !stopping)
			next_claim = mono_ms();
		int64_t wait = next_claim - mono_ms();
		if (w->in_flight >= SLOTS_MAX || stopping)
			wait = stopping ? 50 : POLL_MS;
		if (wait < 0)
			wait = 0;
		if (wait > POLL_MS)
			wait = POLL_MS;
		curl_multi_poll(w->multi, NULL, 0, (int)wait, NULL);
	}
	release_unfinished(w);
	return NULL;
}

int webhooks_start(struct webhooks **ret, struct app *app, char *err, size_t errlen)
{
	struct webhooks *w = calloc(1, sizeof(*w));
	if (!w) {
		snprintf(err, errlen, "webhooks: out of memory");
		return -1;
	}
	w->app = app;
	if (webhook_schedule_parse(app->cfg.webhook_retry_schedule, &w->sched) != 0) {
		snprintf(err, errlen, "invalid --webhook-retry-schedule");
		free(w);
		return -1;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || !(w->multi = curl_multi_init())) {
		snprintf(err, errlen, "webhooks: cannot initialize libcurl");
		free(w);
		return -1;
	}
	curl_multi_setopt(w->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)SLOTS_MAX);
	for (int i = 0; i < SLOTS_MAX; i++)
		buf_init(&w->jobs[i].body, BODY_MAX);
	event_set_outbox(webhooks_outbox);
	pthread_mutex_lock(&running_mu);
	running = w;
	pthread_mutex_unlock(&running_mu);
	if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
		pthread_mutex_lock(&running_mu);
		running = NULL;
		pthread_mutex_unlock(&running_mu);
		for (int i = 0; i < SLOTS_MAX; i++)
			buf_release(&w->jobs[i].body);
		curl_multi_cleanup(w->multi);
		free(w);
		snprintf(err, errlen, "webhooks: cannot start the delivery worker");
		return -1;
	}
	*ret = w;
	return 0;
}

void webhooks_stop(struct webhooks *w)
{
	if (!w)
		return;
	atomic_store(&w->stopping, 1);
	curl_multi_wakeup(w->multi);
	pthread_join(w->thread, NULL);
	pthread_mutex_lock(&running_mu);
	running = NULL;
	pthread_mutex_unlock(&running_mu);
	for (int i = 0; i < SLOTS_MAX; i++)
		buf_release(&w->jobs[i].body);
	curl_multi_cleanup(w->multi);
	free(w);
}
