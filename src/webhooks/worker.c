/* The delivery worker: claim → post (libcurl multi, outside any transaction) → record. */
#include <curl/curl.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "core/clock.h"
#include "core/id.h"
#include "core/log.h"
#include "events/events.h"
#include "store/store.h"
#include "webhooks/webhooks.h"

#define BATCH_MAX 32
#define CONNECTIONS_MAX 16
#define ATTEMPT_TIMEOUT_MS 10000
#define LEASE_MS 60000
#define POLL_MS 100
#define RESPONSE_KEEP_MAX 1024
#define DISABLE_AFTER_S (3 * 86400)

struct job {
	char merchant_id[ID_MAX], id[ID_MAX], event_id[ID_MAX], endpoint_id[ID_MAX];
	char url[2100];
	char secret[80];
	int attempts;
	bool livemode;
	struct buf body;
	long status;
	int64_t duration_ms;
	char error[256];
	CURL *easy;
	struct curl_slist *headers;
};

struct webhooks {
	struct app *app;
	struct webhook_schedule sched;
	pthread_t thread;
	atomic_int stopping;
	struct job jobs[BATCH_MAX];
};

static struct webhooks *running;

static const char SQL_DUE[] =
    "SELECT d.merchant_id, d.id, d.event_id, d.endpoint_id, d.attempts, e.url, e.secret,"
    " e.livemode FROM webhook_deliveries d JOIN webhook_endpoints e ON e.merchant_id ="
    " d.merchant_id AND e.id = d.endpoint_id WHERE (d.status = 'pending' AND d.next_at <= $1)"
    " OR (d.status = 'delivering' AND d.lease_until <= $1) ORDER BY d.next_at LIMIT $2";
static const char SQL_CLAIM[] =
    "UPDATE webhook_deliveries SET status = 'delivering', lease_until = $3 WHERE merchant_id = $1"
    " AND id = $2 AND (status = 'pending' OR (status = 'delivering' AND lease_until <= $4))";

struct claim_ctx {
	struct webhooks *w;
	int n;
};

static int claim_fn(struct db *db, void *p)
{
	struct claim_ctx *c = p;
	int64_t now = clock_now_ms();
	struct db_stmt *st = db_prepare(db, SQL_DUE);
	if (!st)
		return -1;
	db_bind_int64(st, 1, now);
	db_bind_int64(st, 2, BATCH_MAX);
	int n = 0;
	while (n < BATCH_MAX && db_step(st) == DB_ROW) {
		struct job *j = &c->w->jobs[n];
		snprintf(j->merchant_id, sizeof(j->merchant_id), "%s", db_col_text(st, 0, NULL));
		snprintf(j->id, sizeof(j->id), "%s", db_col_text(st, 1, NULL));
		snprintf(j->event_id, sizeof(j->event_id), "%s", db_col_text(st, 2, NULL));
		snprintf(j->endpoint_id, sizeof(j->endpoint_id), "%s", db_col_text(st, 3, NULL));
		j->attempts = (int)db_col_int64(st, 4);
		snprintf(j->url, sizeof(j->url), "%s", db_col_text(st, 5, NULL));
		snprintf(j->secret, sizeof(j->secret), "%s", db_col_text(st, 6, NULL));
		j->livemode = db_col_int64(st, 7) != 0;
		n++;
	}
	db_reset(st);
	int claimed = 0;
	for (int i = 0; i < n; i++) {
		st = db_prepare(db, SQL_CLAIM);
		if (!st)
			return -1;
		db_bind_text(st, 1, c->w->jobs[i].merchant_id, -1);
		db_bind_text(st, 2, c->w->jobs[i].id, -1);
		db_bind_int64(st, 3, now + LEASE_MS);
		db_bind_int64(st, 4, now);
		int rc = db_step(st);
		int64_t ch = rc == DB_DONE ? db_changes(st) : 0;
		db_reset(st);
		if (ch == 1) {
			if (claimed != i)
				c->w->jobs[claimed] = c->w->jobs[i];
			claimed++;
		}
	}
	c->n = claimed;
	return 0;
}

struct render_ctx {
	struct job *j;
	int rc;
};

static int render_fn(struct db *db, void *p)
{
	struct render_ctx *c = p;
	struct json js;
	json_init(&js, &c->j->body);
	c->rc = event_render(db, c->j->merchant_id, c->j->event_id, &js);
	return 0;
}

static size_t discard(char *ptr, size_t size, size_t nmemb, void *ud)
{
	(void)ptr;
	(void)ud;
	return size * nmemb; /* the answer's body does not matter, only its status */
}

/* Live endpoints never reach internal addresses, checked on the address actually connected
 * to (after DNS), so rebinding a name cannot get around it. */
static curl_socket_t open_socket(void *clientp, curlsocktype purpose, struct curl_sockaddr *a)
{
	struct job *j = clientp;
	(void)purpose;
	if (j->livemode && webhook_addr_is_internal(&a->addr)) {
		snprintf(j->error, sizeof(j->error), "refused: the address is internal");
		return CURL_SOCKET_BAD;
	}
	return socket(a->family, a->socktype, a->protocol);
}

static void deliver_batch(struct webhooks *w, int n)
{
	CURLM *multi = curl_multi_init();
	curl_multi_setopt(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)CONNECTIONS_MAX);
	int64_t t0 = clock_mono_us();
	int64_t ts = clock_now();
	for (int i = 0; i < n; i++) {
		struct job *j = &w->jobs[i];
		j->status = 0;
		j->error[0] = '\0';
		struct buf sig;
		buf_init(&sig, 512);
		buf_puts(&sig, "Stripe-Signature: ");
		webhook_sign(j->secret, ts, j->body.data ? j->body.data : "", j->body.len, &sig);
		j->headers = curl_slist_append(NULL, "Content-Type: application/json; charset=utf-8");
		j->headers = curl_slist_append(j->headers, buf_cstr(&sig));
		j->headers = curl_slist_append(j->headers, "User-Agent: Tender/1.0 (+webhooks)");
		j->headers = curl_slist_append(j->headers, "Expect:");
		buf_release(&sig);
		CURL *e = curl_easy_init();
		j->easy = e;
		curl_easy_setopt(e, CURLOPT_URL, j->url);
		curl_easy_setopt(e, CURLOPT_POST, 1L);
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, j->body.data ? j->body.data : "");
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)j->body.len);
		curl_easy_setopt(e, CURLOPT_HTTPHEADER, j->headers);
		curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)ATTEMPT_TIMEOUT_MS);
		curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)ATTEMPT_TIMEOUT_MS);
		curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
		curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
		curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
		curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, open_socket);
		curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, j);
		curl_easy_setopt(e, CURLOPT_PRIVATE, j);
		curl_multi_add_handle(multi, e);
	}
	int still = 0;
	do {
		curl_multi_perform(multi, &still);
		if (still)
			curl_multi_poll(multi, NULL, 0, 200, NULL);
		if (atomic_load(&w->stopping) &&
		    clock_mono_us() - t0 > 2000000) /* stopping: give up after 2 s, retried later */
			break;
	} while (still);
	CURLMsg *m;
	int left;
	while ((m = curl_multi_info_read(multi, &left))) {
		if (m->msg != CURLMSG_DONE)
			continue;
		struct job *j = NULL;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&j);
		if (!j)
			continue;
		if (m->data.result == CURLE_OK)
			curl_easy_getinfo(m->easy_handle, CURLINFO_RESPONSE_CODE, &j->status);
		else if (!j->error[0])
			snprintf(j->error, sizeof(j->error), "%s", curl_easy_strerror(m->data.result));
	}
	int64_t dur = (clock_mono_us() - t0) / 1000;
	for (int i = 0; i < n; i++) {
		struct job *j = &w->jobs[i];
		if (j->status == 0 && !j->error[0])
			snprintf(j->error, sizeof(j->error), "no answer");
		j->duration_ms = dur;
		curl_multi_remove_handle(multi, j->easy);
		curl_easy_cleanup(j->easy);
		curl_slist_free_all(j->headers);
		j->easy = NULL;
		j->headers = NULL;
	}
	curl_multi_cleanup(multi);
}

static const char SQL_ATTEMPT[] =
    "INSERT INTO webhook_attempts (merchant_id, delivery_id, event_id, endpoint_id, attempt, at,"
    " status_code, duration_ms, error) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
static const char SQL_DONE[] =
    "UPDATE webhook_deliveries SET status = $3, attempts = $4, next_at = $5, lease_until = NULL"
    " WHERE merchant_id = $1 AND id = $2 AND status = 'delivering'";
static const char SQL_PENDING_DEC[] =
    "UPDATE events SET pending_webhooks = pending_webhooks - 1 WHERE merchant_id = $1 AND id = $2"
    " AND pending_webhooks > 0";
static const char SQL_ENDPOINT_OK[] =
    "UPDATE webhook_endpoints SET failing_since = NULL WHERE merchant_id = $1 AND id = $2";
static const char SQL_ENDPOINT_FAIL[] =
    "UPDATE webhook_endpoints SET failing_since = COALESCE(failing_since, $3)"
    " WHERE merchant_id = $1 AND id = $2";
static const char SQL_ENDPOINT_DISABLE[] =
    "UPDATE webhook_endpoints SET status = 'disabled' WHERE merchant_id = $1 AND id = $2"
    " AND status = 'enabled' AND failing_since IS NOT NULL AND failing_since <= $3";

static int64_t jittered(int64_t ms)
{
	unsigned char r[2];
	RAND_bytes(r, 2);
	int64_t span = ms / 10; /* ±10 % so retries from many deliveries do not arrive together */
	if (span <= 0)
		return ms;
	int64_t off = (int64_t)(((unsigned)r[0] << 8 | r[1]) % (unsigned)(2 * span + 1)) - span;
	return ms + off;
}

static int exec2(struct db *db, const char *sql, const char *a, const char *b, int64_t c,
                 bool bind_c, int64_t *ret_changes)
{
	struct db_stmt *st = db_prepare(db, sql);
	if (!st)
		return -1;
	db_bind_text(st, 1, a, -1);
	db_bind_text(st, 2, b, -1);
	if (bind_c)
		db_bind_int64(st, 3, c);
	int rc = db_step(st);
	if (ret_changes)
		*ret_changes = rc == DB_DONE ? db_changes(st) : 0;
	db_reset(st);
	return rc == DB_DONE ? 0 : -1;
}

struct record_ctx {
	struct webhooks *w;
	int n;
};

static int record_fn(struct db *db, void *p)
{
	struct record_ctx *c = p;
	int64_t now = clock_now(), now_ms = clock_now_ms();
	for (int i = 0; i < c->n; i++) {
		struct job *j = &c->w->jobs[i];
		int attempt = j->attempts + 1;
		bool ok = j->status >= 200 && j->status < 300;
		struct db_stmt *st = db_prepare(db, SQL_ATTEMPT);
		if (!st)
			return -1;
		db_bind_text(st, 1, j->merchant_id, -1);
		db_bind_text(st, 2, j->id, -1);
		db_bind_text(st, 3, j->event_id, -1);
		db_bind_text(st, 4, j->endpoint_id, -1);
		db_bind_int64(st, 5, attempt);
		db_bind_int64(st, 6, now);
		if (j->status)
			db_bind_int64(st, 7, j->status);
		else
			db_bind_null(st, 7);
		db_bind_int64(st, 8, j->duration_ms);
		db_bind_text(st, 9, j->error[0] ? j->error : NULL, -1);
		if (db_step_done(st) != DB_OK)
			return -1;
		bool last = attempt >= 1 + c->w->sched.n;
		const char *status = ok ? "succeeded" : last ? "failed" : "pending";
		int64_t next = ok || last ? now_ms : now_ms + jittered(c->w->sched.delays_ms[attempt - 1]);
		st = db_prepare(db, SQL_DONE);
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
			continue; /* the lease ran out and another worker took it */
		if ((ok || last) &&
		    exec2(db, SQL_PENDING_DEC, j->merchant_id, j->event_id, 0, false, NULL) != 0)
			return -1;
		if (ok) {
			if (exec2(db, SQL_ENDPOINT_OK, j->merchant_id, j->endpoint_id, 0, false, NULL))
				return -1;
			continue;
		}
		if (exec2(db, SQL_ENDPOINT_FAIL, j->merchant_id, j->endpoint_id, now, true, NULL))
			return -1;
		int64_t disabled = 0;
		if (exec2(db, SQL_ENDPOINT_DISABLE, j->merchant_id, j->endpoint_id,
		          now - DISABLE_AFTER_S, true, &disabled) != 0)
			return -1;
		if (disabled)
			log_msg(LOG_ALERT,
			        "webhook_endpoint %s of merchant %s disabled: every delivery failed for "
			        "3 days",
			        j->endpoint_id, j->merchant_id);
	}
	return 0;
}

static void *worker_main(void *p)
{
	struct webhooks *w = p;
	while (!atomic_load(&w->stopping)) {
		struct claim_ctx cc = {w, 0};
		if (store_write(w->app->store, NULL, claim_fn, &cc) != 0 || cc.n == 0) {
			struct timespec t = {0, POLL_MS * 1000000L};
			nanosleep(&t, NULL);
			continue;
		}
		int n = 0;
		for (int i = 0; i < cc.n; i++) {
			struct job *j = &w->jobs[i];
			buf_reset(&j->body);
			struct render_ctx rc = {j, DB_ERR};
			if (store_read(w->app->store, j->merchant_id, render_fn, &rc) != 0 ||
			    rc.rc != DB_OK || j->body.failed) {
				/* the event vanished (cannot happen short of corruption): record a
				 * failed attempt rather than loop on it */
				snprintf(j->error, sizeof(j->error), "event cannot be rendered");
			}
			n++;
		}
		deliver_batch(w, n);
		struct record_ctx rc = {w, n};
		if (store_write(w->app->store, NULL, record_fn, &rc) != 0)
			log_msg(LOG_ERROR, "webhooks: cannot record %d delivery attempts (they will be "
			                   "retried when their lease ends)",
			        n);
	}
	return NULL;
}

int webhooks_start(struct webhooks **ret, struct app *app, char *err, size_t errlen)
{
	struct webhooks *w = calloc(1, sizeof(*w));
	if (!w) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	w->app = app;
	if (webhook_schedule_parse(app->cfg.webhook_retry_schedule, &w->sched) != 0) {
		snprintf(err, errlen, "invalid --webhook-retry-schedule");
		free(w);
		return -1;
	}
	for (int i = 0; i < BATCH_MAX; i++)
		buf_init(&w->jobs[i].body, 4u << 20);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	event_set_outbox(webhooks_outbox);
	if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
		snprintf(err, errlen, "cannot start the webhook worker");
		free(w);
		return -1;
	}
	running = w;
	*ret = w;
	return 0;
}

void webhooks_stop(struct webhooks *w)
{
	if (!w)
		return;
	atomic_store(&w->stopping, 1);
	pthread_join(w->thread, NULL);
	for (int i = 0; i < BATCH_MAX; i++)
		buf_release(&w->jobs[i].body);
	running = NULL;
	free(w);
}
