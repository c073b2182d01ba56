/*
 * The HTTP front end, on libmicrohttpd.
 *
 * MHD runs event-loop threads (one per core, in two pools: see "Two event loops" below; the
 * comments call them epoll threads) that parse HTTP and answer reads inline:
 * a GET touches only a thread-local read connection and is fastest served where it arrived.
 * Requests that write (POST, DELETE) wait for a group commit, and must not hold an epoll thread
 * meanwhile. On the embedded store (the default "async" write path) a write's handler runs in a
 * coroutine (core/coro.h) on the epoll thread: when it reaches store_write it parks, the
 * connection is suspended (MHD_suspend_connection) and the job goes to the store's writer; the
 * syncer's fsync wakes it (MHD_resume_connection) and the same epoll thread resumes the handler
 * where it stopped, then answers. Three threads touch a write (epoll, writer, syncer) instead of
 * five with a worker in between. With --write-path workers, and always on PostgreSQL (whose
 * writes block the calling thread on its own connection), the request goes instead to a bounded
 * queue served by a pool of worker threads, and the worker resumes the connection when the answer
 * is ready. Either way many requests wait in the same group commit at once, which is what makes
 * the commit groups large; the epoll threads never block on the disk. A write's first half
 * (authentication, parameters, the lookup of a saved idempotent result) runs on the epoll thread
 * before any of this, so a replay is answered there like a read.
 *
 * Two event loops. Tender accepts connections itself and hands each to one of two MHD daemons:
 * the first POLL_CONNS open connections to one that waits with poll(), later ones to one that
 * waits with epoll. A write suspends its connection (above), and on an epoll daemon MHD takes a
 * suspended connection out of the epoll set and puts it back once resumed and answered, then
 * reads the socket once more to learn it is empty (its resumed connections are marked ready):
 * three system calls per write that poll() does without, as it is given the whole set each
 * turn. That whole set is poll()'s cost too, growing with the connections held open, so only a
 * bounded number go there: at 64 busy connections poll() served 6-8 % more confirms, and with
 * 2,000 idle connections beside them it served a third fewer than epoll.
 *
 * Bounds: body ≤ 1 MiB (413; 16 MiB on the one multipart route, POST /v1/files: multipart.h),
 * per-connection memory (headers; MHD answers 431 past it),
 * connection timeout, connection count, worker queue (503 when full), request arena.
 */
#include "http/server.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <openssl/evp.h>
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api/ephemeral_keys.h"
#include "app.h"
#include "core/clock.h"
#include "core/coro.h"
#include "core/hist.h"
#include "core/log.h"
#include "core/redact.h"
#include "core/str.h"
#include "http/form.h"
#include "http/idempotency.h"
#include "http/multipart.h"
#include "http/ratelimit.h"
#include "http/req.h"
#include "http/router.h"
#include "merchant/connect.h"
#include "merchant/merchant.h"
#include "metrics/metrics.h"

#define REQ_ARENA_MAX (8u << 20)
#define RESPONSE_MAX (16u << 20)
#define WORK_QUEUE_MAX 4096
#define WORKERS_DEFAULT 64
#define WORKERS_MAX 512
/* Each connection's libmicrohttpd memory pool (headers and the read buffer; bodies are copied
 * out as they arrive). MHD zeroes the whole pool between two requests of a keep-alive connection,
 * so its size is paid on every request: at 32 KiB that memset was ~33,000 instructions, more
 * than a read's own SQL. 16 KiB still leaves ~8 KiB for a request's headers. */
#define CONN_MEMORY_LIMIT (16u * 1024u)
/* default --idle-timeout: a connection idle (or stalled mid-request) this long is closed */
#define CONN_TIMEOUT_S 30
#define CONN_LIMIT 20000
/* connections open at once on the poll() daemon at most (see the top of this file) */
#define POLL_CONNS 128
#define LISTEN_BACKLOG 1024
#define DISCARD_MAX_BYTES (16u << 20)
/* Uploads (POST /v1/files) read at once: each may hold its 16 MiB body and the file copied out
 * of it, so their number bounds that memory (about 256 MiB); one past it is a retryable 503. */
#define UPLOADS_MAX 8

/* CS_BARRIER: answered on the epoll thread, but what it read is not yet durable: a worker waits
 * for the fsync (store_barrier_wait) and then lets it go. CS_PARKED: its handler's coroutine is
 * parked on a write; the write's completion resumes the connection, and with it the handler. */
enum conn_state { CS_NEW, CS_UPLOAD, CS_RUNNING, CS_PARKED, CS_BARRIER, CS_DONE };

struct conn_req {
	struct req r;
	struct server *srv;
	struct MHD_Connection *conn;
	char *uri_raw;
	struct buf body;
	bool too_large;
	struct multipart *mp; /* a ROUTE_MULTIPART request's parts (r.upload points into it) */
	bool upload_slot;     /* holds one of UPLOADS_MAX (its body may reach MULTIPART_BODY_MAX) */
	bool upload_refused;  /* an upload past UPLOADS_MAX: answered 503 */
	enum conn_state state;
	int64_t start_us;
	struct ratelimit_result rl;
	bool rl_headers;
	/* the presented key as Stripe echoes it ("sk_test_****…wxyz"), for account_invalid */
	char masked_key[80];
	/* the Stripe-Account header (NULL: none), looked up once in authenticate() */
	const char *stripe_account;
	bool was_suspended;
	uint64_t barrier_need; /* CS_BARRIER: the store group its answer waits for */
	struct coro *co;       /* the async write path's handler, while it runs */
	/* the client left while the handler was parked: its remaining writes are waited for on
	 * this semaphore instead of through the connection (finish_orphan) */
	bool orphan;
	sem_t orphan_done;
	int64_t t_queued, t_taken, t_resumed; /* µs, a write's hand-offs (server statistics) */
	pthread_t owner;		      /* the epoll thread that runs its coroutine */
	struct conn_req *next_ready;	      /* on its owner's ready list (run_coro) */
};

struct server {
	struct app *app;
	/* d_poll holds up to POLL_CONNS connections, d_epoll the rest (see the top of this file) */
	struct MHD_Daemon *d_poll, *d_epoll;
	int lfd; /* the listen socket, served by the acceptor thread */
	pthread_t acceptor;
	bool acceptor_started;
	atomic_int closing;    /* the acceptor stops */
	atomic_int poll_conns; /* on d_poll: reserved by the acceptor, released when MHD closes */
	pthread_t workers[WORKERS_MAX];
	int nworkers;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct conn_req *queue[WORK_QUEUE_MAX];
	size_t q_head, q_len;
	int stopping;
	atomic_int inflight;
	/* Connections suspended while a worker runs their request. MHD aborts if it is stopped
	 * while any exists, so shutdown waits for this to reach zero. */
	atomic_int suspended;
	/* Set when shutdown starts: writes that arrive from then on (on any connection; the listen
	 * socket stays open until the end, see server_stop) are answered 503 at once instead of
	 * being suspended. */
	atomic_int draining;
	atomic_int uploads; /* requests holding an upload slot (UPLOADS_MAX) */
	int port;
	bool async; /* writes run in coroutines (see the top of this file) */
	/* Where a write's time goes outside the handler, for the debug statistics line: waiting in
	 * the worker queue, the worker's run (the handler, its durable commit included), and the
	 * way back to the epoll thread after MHD_resume_connection. */
	struct hist hand_queue, hand_run, hand_back;
	_Atomic int64_t hand_since;
};

static void conn_req_free(struct conn_req *c)
{
	if (!c)
		return;
	idem_release(&c->r);
	/* the body and the parsed parameters may have held a card number: wipe, then free */
	arena_wipe_release(&c->r.arena);
	buf_release(&c->r.out);
	buf_release(&c->r.err.extra);
	if (c->body.data)
		explicit_bzero(c->body.data, c->body.cap);
	buf_release(&c->body);
	if (c->mp) {
		multipart_release(c->mp);
		free(c->mp);
	}
	if (c->upload_slot)
		atomic_fetch_sub(&c->srv->uploads, 1);
	if (c->uri_raw)
		explicit_bzero(c->uri_raw, strlen(c->uri_raw));
	free(c->uri_raw);
	free(c);
}

static void *uri_log_cb(void *cls, const char *uri, struct MHD_Connection *con)
{
	struct server *srv = cls;
	struct conn_req *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->srv = srv;
	c->conn = con;
	c->uri_raw = strdup(uri ? uri : "");
	c->start_us = clock_mono_us();
	arena_init(&c->r.arena, REQ_ARENA_MAX);
	buf_init(&c->r.out, RESPONSE_MAX);
	buf_init(&c->r.err.extra, 1u << 20);
	buf_init(&c->body, BODY_MAX_BYTES);
	c->r.app = srv->app;
	c->r.status = 200;
	id_new(c->r.request_id, "req_");
	metrics_inflight_set(atomic_fetch_add(&srv->inflight, 1) + 1);
	return c;
}

/* ---- authentication ---- */

static bool key_well_formed(const char *k)
{
	size_t n = strlen(k);
	if (n < 12 || n >= API_KEY_MAX)
		return false;
	return strncmp(k, "sk_test_", 8) == 0 || strncmp(k, "sk_live_", 8) == 0 ||
	       strncmp(k, "pk_test_", 8) == 0 || strncmp(k, "pk_live_", 8) == 0 ||
	       strncmp(k, "rk_test_", 8) == 0 || strncmp(k, "rk_live_", 8) == 0;
}

/* "sk_test_********************wxyz": what Stripe echoes for a wrong key. */
static void mask_key(const char *k, char *out, size_t outlen)
{
	size_t n = strnlen(k, 200);
	if (n <= 12 || redact_pan_like(k, n)) {
		str_copy(out, outlen, "****");
		return;
	}
	snprintf(out, outlen, "%.8s%.*s%s", k, (int)(n - 12 > 40 ? 40 : n - 12),
		 "****************************************", k + n - 4);
}

/* Extracts the presented key into out. 0 found, -1 none. */
static int presented_key(struct MHD_Connection *con, char *out, size_t outlen)
{
	const char *h = MHD_lookup_connection_value(con, MHD_HEADER_KIND, "Authorization");
	if (!h)
		return -1;
	while (*h == ' ')
		h++;
	if (strncasecmp(h, "Bearer ", 7) == 0) {
		h += 7;
		while (*h == ' ')
			h++;
		size_t n = strcspn(h, " \t");
		if (n == 0 || n >= outlen)
			return n ? 0 * snprintf(out, outlen, "%s", "invalid") : -1;
		memcpy(out, h, n);
		out[n] = '\0';
		return 0;
	}
	if (strncasecmp(h, "Basic ", 6) == 0) {
		h += 6;
		size_t n = strlen(h);
		if (n == 0 || n > 400)
			return -1;
		unsigned char dec[320];
		int dl = EVP_DecodeBlock(dec, (const unsigned char *)h, (int)n);
		if (dl <= 0)
			return -1;
		/* EVP_DecodeBlock counts padding bytes as output: trim them */
		while (dl > 0 && n > 0 && h[n - 1] == '=') {
			dl--;
			n--;
		}
		dec[dl] = '\0';
		size_t user = strcspn((char *)dec, ":");
		if (user == 0)
			return -1;
		if (user >= outlen)
			user = outlen - 1;
		memcpy(out, dec, user);
		out[user] = '\0';
		OPENSSL_cleanse(dec, sizeof(dec));
		return 0;
	}
	str_copy(out, outlen, "invalid");
	return 0;
}

/*
 * An ephemeral key or customer session secret (api/ephemeral_keys.h): the request is scoped to
 * that key's customer (r->scope_customer), which process_front lets reach ROUTE_EPHEMERAL routes
 * only. Unknown, expired and deleted keys are Stripe's 401 for an invalid key. The key is wiped
 * here, as the caller's is; c->masked_key is always set (the 403 for a route it may not call
 * names it).
 */
static int authenticate_ephemeral(struct conn_req *c, char *key, size_t keylen)
{
	struct req *r = &c->r;
	struct ephkey_auth a;
	int rc = ephkey_authenticate(r->app->store, key, r->now, &a);
	c->stripe_account = MHD_lookup_connection_value(c->conn, MHD_HEADER_KIND, "Stripe-Account");
	mask_key(key, c->masked_key, sizeof(c->masked_key));
	OPENSSL_cleanse(key, keylen);
	if (rc == STORE_OVERLOADED)
		return req_fail(r, ERR_OVERLOADED, NULL, NULL);
	if (rc < 0)
		return req_fail(r, ERR_API, NULL, NULL);
	if (rc == 1)
		return req_fail(r, ERR_AUTH_INVALID, NULL, "%s", c->masked_key);
	str_copy(r->merchant_id, sizeof(r->merchant_id), a.merchant_id);
	str_copy(r->scope_customer, sizeof(r->scope_customer), a.customer);
	r->livemode = a.livemode;
	return 0;
}

static int authenticate(struct conn_req *c)
{
	struct req *r = &c->r;
	char key[API_KEY_MAX];
	if (presented_key(c->conn, key, sizeof(key)) != 0)
		return req_fail(r, ERR_AUTH_MISSING, NULL, NULL);
	/* one byte's test on the way of an ordinary key (sk_, pk_, rk_) */
	if ((key[0] == 'e' || key[0] == 'c') && ephkey_secret_shaped(key))
		return authenticate_ephemeral(c, key, sizeof(key));
	/* the masked key is only for the error message, made before the key is wiped */
	char masked[80];
	if (!key_well_formed(key)) {
		mask_key(key, masked, sizeof(masked));
		OPENSSL_cleanse(key, sizeof(key));
		return req_fail(r, ERR_AUTH_INVALID, NULL, "%s", masked);
	}
	struct merchant_auth a;
	int rc = merchant_authenticate(r->app->store, key, &a);
	/* masked only when an answer may name it: a wrong key, or a Stripe-Account header (whose
	 * refusal names the key) */
	c->stripe_account = MHD_lookup_connection_value(c->conn, MHD_HEADER_KIND, "Stripe-Account");
	if (rc == 1 || c->stripe_account)
		mask_key(key, masked, sizeof(masked));
	else
		masked[0] = '\0';
	OPENSSL_cleanse(key, sizeof(key));
	if (rc < 0)
		return req_fail(r, ERR_API, NULL, NULL);
	if (rc == 1)
		return req_fail(r, ERR_AUTH_INVALID, NULL, "%s", masked);
	str_copy(c->masked_key, sizeof(c->masked_key), masked);
	str_copy(r->merchant_id, sizeof(r->merchant_id), a.merchant_id);
	r->livemode = a.livemode;
	r->publishable = a.publishable;
	return 0;
}

/* ---- Stripe-Account: a platform acting as one of its connected accounts ---- */

struct acting_ctx {
	const char *platform, *account;
	int rc;
	unsigned flags;
};

static int acting_fn(struct db *db, void *p)
{
	struct acting_ctx *x = p;
	x->rc = connect_account_state(db, x->platform, x->account, NULL, &x->flags);
	return x->rc == DB_OK || x->rc == DB_NOTFOUND ? 0 : x->rc;
}

/*
 * The authenticated key's merchant acts as `account`: it must be the platform of that account,
 * which must not be deleted (connect_account_check, read on the platform's shard, where the
 * account's row lives; like the idempotency lookup this read runs on the epoll thread). Then
 * r->merchant_id is the account and r->platform_id the platform, so everything after this
 * (idempotency keys, the handler's reads and writes, its events) belongs to the account. The
 * check is against the key's own merchant, never an account reached through it, so a connected
 * account cannot reach another one; a header naming the key's own account acts as itself, as on
 * Stripe. A publishable key is refused: Tender's publishable-key routes (tokens, card forms)
 * are not offered to connected accounts. Anything else is Stripe's 403 account_invalid, naming
 * the masked key and the account as sent, for an unknown, deleted or other platform's account
 * alike, so that the answer does not tell them apart. 0, or -1 with r->err.
 */
static int act_as_account(struct conn_req *c, const char *account)
{
	struct req *r = &c->r;
	if (strcmp(account, r->merchant_id) == 0)
		return 0;
	size_t n = strnlen(account, 256);
	bool shown = n < ID_MAX && !redact_pan_like(account, n);
	if (!r->publishable && !r->scope_customer[0] && n < ID_MAX) {
		struct acting_ctx x = {.platform = r->merchant_id, .account = account};
		int rc = store_read(r->app->store, r->merchant_id, acting_fn, &x);
		if (rc == STORE_OVERLOADED)
			return req_fail(r, ERR_OVERLOADED, NULL, NULL);
		if (rc != 0)
			return req_fail(r, ERR_API, NULL, NULL);
		if (x.rc == DB_OK) {
			str_copy(r->platform_id, sizeof(r->platform_id), r->merchant_id);
			str_copy(r->merchant_id, sizeof(r->merchant_id), account);
			r->account_rejected = (x.flags & CONNECT_REJECTED_FLAG) != 0;
			r->account_payouts_paused = (x.flags & CONNECT_PAYOUTS_PAUSED) != 0;
			return 0;
		}
	}
	return req_fail(r, ERR_ACCOUNT_INVALID, NULL,
			"The provided key '%s' does not have access to account '%s' (or that "
			"account does not exist). Application access may have been revoked.",
			c->masked_key, shown ? account : "(omitted)");
}

/* A query string that carries something shaped like an API key is refused outright: keys in URLs
 * end up in proxy logs and browser histories. */
static bool query_has_key(const char *q)
{
	static const char *const prefixes[] = {"sk_test_",     "sk_live_", "rk_test_", "rk_live_",
					       "pk_test_",     "pk_live_", "ek_test_", "ek_live_",
					       "cuss_secret_", NULL};
	for (const char *const *p = prefixes; *p; p++)
		if (strstr(q, *p))
			return true;
	return false;
}

/* ---- the request pipeline ---- */

static int parse_params(struct req *r, const char *src, size_t len)
{
	struct form_node *root = NULL;
	struct form_error fe;
	memset(&fe, 0, sizeof(fe));
	int rc = form_parse(&r->arena, src ? src : "", src ? len : 0, &root, &fe);
	if (rc == 0) {
		r->params = root;
		return 0;
	}
	switch (rc) {
	case FORM_ERR_DUPLICATE:
		return req_fail(r, ERR_PARAM_DUPLICATE, fe.path, "%s", fe.path);
	case FORM_ERR_NOMEM:
		return req_fail(r, ERR_BODY_TOO_LARGE, NULL, "%u", BODY_MAX_BYTES);
	default:
		return req_fail(r, ERR_MALFORMED_BODY, fe.path[0] ? fe.path : NULL,
				"Invalid request: %s%s%s.",
				fe.message ? fe.message : "malformed parameters",
				fe.path[0] ? " at " : "", fe.path);
	}
}

/* A ROUTE_MULTIPART route's body: its text parts become r->params (through the form decoder,
 * see multipart.h), its file part r->upload. The raw body is let go once parsed. */
static int parse_multipart(struct conn_req *c)
{
	struct req *r = &c->r;
	c->mp = malloc(sizeof(*c->mp));
	if (!c->mp)
		return req_fail(r, ERR_API, NULL, NULL);
	multipart_init(c->mp);
	int rc = multipart_parse(c->conn, c->body.data, c->body.len, c->mp);
	buf_release(&c->body);
	if (rc == MULTIPART_ERR_LIMIT)
		return req_fail(r, ERR_MALFORMED_BODY, NULL,
				"Invalid request: the multipart/form-data body has more than %d "
				"parts, or a part whose name or value is too long.",
				MULTIPART_PARTS_MAX);
	if (rc == MULTIPART_ERR_NOMEM)
		return req_fail(r, ERR_API, NULL, NULL);
	if (rc != 0)
		return req_fail(r, ERR_MALFORMED_BODY, NULL,
				"Invalid request: malformed multipart/form-data body.");
	if (parse_params(r, c->mp->form.data ? c->mp->form.data : "", c->mp->form.len) != 0)
		return -1;
	if (c->mp->file.present)
		r->upload = &c->mp->file;
	return 0;
}

static bool content_type_ok(struct MHD_Connection *con)
{
	const char *ct = MHD_lookup_connection_value(con, MHD_HEADER_KIND, "Content-Type");
	if (!ct || !*ct)
		return true;
	return strncasecmp(ct, "application/x-www-form-urlencoded", 33) == 0;
}

/* Runs the request from routing to a filled response (r->status/r->out or r->err). */
/*
 * A request runs in two halves. process_front (authentication, parameters, and for a keyed POST
 * the lookup of its saved result) never waits for the writer, so it runs on the epoll thread:
 * an idempotent replay is answered there like a GET, without a trip through the worker queue.
 * Returns true when the answer is ready. process_back (the claim of the key and the handler)
 * runs on a worker for writes.
 */
static bool process_front(struct conn_req *c, const char *method, const char *url)
{
	struct req *r = &c->r;
	r->method = method;
	r->path = url;
	r->host = MHD_lookup_connection_value(c->conn, MHD_HEADER_KIND, "Host");
	r->user_agent = MHD_lookup_connection_value(c->conn, MHD_HEADER_KIND, "User-Agent");
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(c->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci && ci->client_addr) {
		const struct sockaddr *sa = ci->client_addr;
		if (sa->sa_family == AF_INET)
			str_ipv4((const unsigned char *)&((const struct sockaddr_in *)sa)->sin_addr,
				 r->client_ip);
		else if (sa->sa_family == AF_INET6)
			inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr,
				  r->client_ip, sizeof(r->client_ip));
	}
	r->now = clock_now();
	const char *q = strchr(c->uri_raw, '?');
	const char *query = q ? q + 1 : "";

	int path_known = 0;
	const struct route *rt = router_match(r, method, url, &path_known);
	if (!rt) {
		size_t ul = strlen(url);
		/* an empty segment is most often an id that came out empty in the client: Stripe's
		 * hint says so */
		const char *hint =
		    ul > 1 && (url[ul - 1] == '/' || strstr(url, "//"))
			? " If you are trying to list objects, remove the trailing "
			  "slash. If you are trying to retrieve an object, make sure "
			  "you passed a valid (non-empty) identifier in your code."
			: "";
		if (redact_pan_like(url, ul) || ul > 200)
			req_fail(r, ERR_NOT_FOUND_ROUTE, NULL, "(%s: (path omitted)).%s", method,
				 hint);
		else
			req_fail(r, ERR_NOT_FOUND_ROUTE, NULL, "(%s: %s).%s", method, url, hint);
		return true;
	}
	r->route = rt;
	if (rt->flags & ROUTE_STRIPE_VERSION)
		r->stripe_version =
		    MHD_lookup_connection_value(c->conn, MHD_HEADER_KIND, "Stripe-Version");
	/* most requests (a POST's form is its body) have no query string to scan */
	if (*query && query_has_key(query)) {
		req_fail(r, ERR_AUTH_QUERY_KEY, NULL, NULL);
		return true;
	}
	if (!(rt->flags & ROUTE_NO_AUTH)) {
		if (authenticate(c) != 0)
			return true;
		if (r->publishable && !(rt->flags & ROUTE_PUBLISHABLE)) {
			req_fail(r, ERR_PUBLISHABLE_KEY, NULL, NULL);
			return true;
		}
		if (r->scope_customer[0] && !(rt->flags & ROUTE_EPHEMERAL)) {
			req_fail(
			    r, ERR_KEY_PERMISSION, NULL,
			    "The provided key '%s' does not have the required permissions for "
			    "this endpoint on account '%s'. Having more permissions would allow "
			    "this request to continue.",
			    c->masked_key, r->merchant_id);
			return true;
		}
		ratelimit_take(r->app->ratelimit, r->merchant_id, clock_mono_us(), &c->rl);
		if (!c->rl.allowed) {
			c->rl_headers = true;
			req_fail(r, ERR_RATE_LIMIT, NULL, NULL);
			return true;
		}
		/* after the rate limit: a platform's requests for its accounts spend its rate */
		const char *sa = c->stripe_account;
		if (sa && *sa && act_as_account(c, sa) != 0)
			return true;
	}
	if ((rt->flags & ROUTE_PAGE_LIMIT) && r->args[0]) {
		/* a public checkout page is where stolen cards get tried: it spends its
		 * merchant's rate, as the API does */
		ratelimit_take(r->app->ratelimit, r->args[0], clock_mono_us(), &c->rl);
		if (!c->rl.allowed) {
			c->rl_headers = true;
			req_fail(r, ERR_RATE_LIMIT, NULL, NULL);
			return true;
		}
	}
	if (c->upload_refused && (rt->flags & ROUTE_MULTIPART)) {
		req_fail(r, ERR_OVERLOADED, NULL, NULL);
		return true;
	}
	if (c->too_large || (c->body.len > BODY_MAX_BYTES && !(rt->flags & ROUTE_MULTIPART))) {
		req_fail(r, ERR_BODY_TOO_LARGE, NULL, "%u",
			 (rt->flags & ROUTE_MULTIPART) ? MULTIPART_BODY_MAX : BODY_MAX_BYTES);
		return true;
	}
	bool is_post = strcmp(method, "POST") == 0;
	if (is_post && c->body.len > 0 && (rt->flags & ROUTE_MULTIPART) &&
	    multipart_content_type(
		MHD_lookup_connection_value(c->conn, MHD_HEADER_KIND, "Content-Type"))) {
		if (parse_multipart(c) != 0)
			return true;
	} else if (is_post && c->body.len > 0) {
		if (!content_type_ok(c->conn)) {
			req_fail(r, ERR_MALFORMED_BODY, NULL,
				 "Invalid request: request bodies must be "
				 "application/x-www-form-urlencoded");
			return true;
		}
		if (parse_params(r, c->body.data, c->body.len) != 0)
			return true;
	} else if (parse_params(r, query, strlen(query)) != 0) {
		return true;
	}
	if (params_validate(r, rt->params) != 0)
		return true;

	const char *ik = MHD_lookup_connection_value(c->conn, MHD_HEADER_KIND, "Idempotency-Key");
	/* a customer-scoped request (an ephemeral key) neither replays nor keeps a result under
	 * the merchant's idempotency keys: a replay would skip its handler's customer check */
	if (is_post && ik && *ik && !(rt->flags & (ROUTE_NO_AUTH | ROUTE_READ_ONLY)) &&
	    !r->scope_customer[0]) {
		if (strlen(ik) > IDEMPOTENCY_KEY_MAX) {
			req_fail(r, ERR_IDEMPOTENCY_KEY_TOO_LONG, NULL, NULL);
			return true;
		}
		r->idempotency_key = ik;
		idem_hash_request(r);
		idem_note_generation(r);
		if (idem_lookup(r) != 0)
			return true; /* replayed, or an error */
	}
	return false;
}

static void process_back(struct conn_req *c)
{
	struct req *r = &c->r;
	if (r->idempotency_key) {
		if (idem_claim(r) != 0)
			return;
		/* a request with this key that finished between our lookup and our claim */
		if (r->idem_changed && idem_lookup(r) != 0)
			return;
	}
	r->err.set = false;
	int rc = r->route->handler(r);
	if (rc != 0 && !r->err.set)
		req_fail(r, ERR_API, NULL, NULL);
	else if (rc == 0)
		r->err.set = false;
	/* a refusal is this key's result too (idem_error_saved): the same key replays it and
	 * other parameters get idempotency_error, rather than running again */
	if (rc != 0 && r->idempotency_key && !r->replayed && idem_error_saved(r->err.code) &&
	    idem_save_error(r) == 0)
		r->err.set = false;
}

static enum MHD_Result add_header(struct MHD_Response *resp, const char *k, const char *v)
{
	return MHD_add_response_header(resp, k, v);
}

static enum MHD_Result send_response(struct conn_req *c)
{
	struct req *r = &c->r;
	if (r->err.set)
		req_render_error(r);
	if (r->out.failed) {
		req_fail(r, ERR_API, NULL, NULL);
		buf_reset(&r->out);
		req_render_error(r);
	}
	size_t len = 0;
	char *body = buf_detach(&r->out, &len);
	struct MHD_Response *resp =
	    MHD_create_response_from_buffer_with_free_callback(len, body ? body : strdup(""), free);
	if (!resp)
		return MHD_NO;
	add_header(resp, "Content-Type", r->content_type ? r->content_type : "application/json");
	add_header(resp, "Request-Id", r->request_id);
	add_header(resp, "Cache-Control", "no-cache, no-store");
	if (r->location)
		add_header(resp, "Location", r->location);
	if (r->disposition)
		add_header(resp, "Content-Disposition", r->disposition);
	if (r->csp) {
		add_header(resp, "Content-Security-Policy", r->csp);
		add_header(resp, "X-Content-Type-Options", "nosniff");
		add_header(resp, "Referrer-Policy", "no-referrer");
	}
	if (r->idempotency_key) {
		add_header(resp, "Idempotency-Key", r->idempotency_key);
		add_header(resp, "Original-Request",
			   r->replayed && r->original_request[0] ? r->original_request
								 : r->request_id);
	}
	if (r->replayed)
		add_header(resp, "Idempotent-Replayed", "true");
	if (c->rl_headers) {
		char v[32];
		snprintf(v, sizeof(v), "%lld", (long long)c->rl.limit);
		add_header(resp, "X-RateLimit-Limit", v);
		snprintf(v, sizeof(v), "%lld", (long long)c->rl.remaining);
		add_header(resp, "X-RateLimit-Remaining", v);
		snprintf(v, sizeof(v), "%lld", (long long)c->rl.reset_unix);
		add_header(resp, "X-RateLimit-Reset", v);
		add_header(resp, "Stripe-Should-Retry", "false");
	}
	if (r->status == 503)
		add_header(resp, "Stripe-Should-Retry", "true");
	enum MHD_Result ret = MHD_queue_response(c->conn, (unsigned)r->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* Holds an answer until what its request read is on disk; a failed fsync turns it into a 500
 * (what it would have said may be lost). */
static void barrier_wait(struct server *srv, struct conn_req *c, uint64_t need)
{
	if (need && store_barrier_wait(srv->app->store, need) != 0) {
		buf_reset(&c->r.out);
		c->r.replayed = false;
		req_fail(&c->r, ERR_API, NULL, NULL);
	}
}

static void *worker_main(void *arg)
{
	struct server *srv = arg;
	pthread_setname_np(pthread_self(), "tender-worker");
	store_barrier_defer(1);
	for (;;) {
		pthread_mutex_lock(&srv->mu);
		while (srv->q_len == 0 && !srv->stopping)
			pthread_cond_wait(&srv->cv, &srv->mu);
		if (srv->q_len == 0) {
			pthread_mutex_unlock(&srv->mu);
			return NULL;
		}
		struct conn_req *c = srv->queue[srv->q_head];
		srv->q_head = (srv->q_head + 1) % WORK_QUEUE_MAX;
		srv->q_len--;
		pthread_mutex_unlock(&srv->mu);
		c->t_taken = clock_mono_us();
		if (c->state == CS_BARRIER) {
			barrier_wait(srv, c, c->barrier_need);
		} else {
			process_back(c);
			uint64_t need = store_barrier_take(srv->app->store);
			barrier_wait(srv, c, need > c->barrier_need ? need : c->barrier_need);
		}
		c->state = CS_DONE;
		c->t_resumed = clock_mono_us();
		MHD_resume_connection(c->conn);
	}
}

static int enqueue(struct server *srv, struct conn_req *c)
{
	pthread_mutex_lock(&srv->mu);
	if (srv->q_len >= WORK_QUEUE_MAX || srv->stopping) {
		pthread_mutex_unlock(&srv->mu);
		return -1;
	}
	srv->queue[(srv->q_head + srv->q_len) % WORK_QUEUE_MAX] = c;
	srv->q_len++;
	pthread_cond_signal(&srv->cv);
	pthread_mutex_unlock(&srv->mu);
	return 0;
}

/* Sends the answer of a request that ran on the epoll thread, once what it read (up to need) is
 * durable. If that fsync is still running, a worker waits for it instead of this thread (which
 * serves every other connection too); with the queue full, this thread waits. suspended: the
 * connection is suspended already (a coroutine continued by run_ready, outside its access_cb),
 * so the answer goes out through a resume. */
static enum MHD_Result answer_after(struct server *srv, struct conn_req *c, uint64_t need,
				    bool suspended)
{
	need = store_barrier_pending(srv->app->store, need);
	if (!need) {
		c->state = CS_DONE;
		if (!suspended)
			return send_response(c);
		MHD_resume_connection(c->conn);
		return MHD_YES;
	}
	c->barrier_need = need;
	c->state = CS_BARRIER;
	if (!suspended) {
		atomic_fetch_add(&srv->suspended, 1);
		c->was_suspended = true;
		MHD_suspend_connection(c->conn);
	}
	if (enqueue(srv, c) != 0) {
		barrier_wait(srv, c, need);
		c->state = CS_DONE;
		MHD_resume_connection(c->conn);
	}
	return MHD_YES;
}

static enum MHD_Result answer_here(struct server *srv, struct conn_req *c)
{
	return answer_after(srv, c, store_barrier_take(srv->app->store), false);
}

static void hand_off_stats(struct server *srv, struct conn_req *c);

/* ---- the async write path ---- */

static void coro_main(void *arg)
{
	process_back(arg);
}

/*
 * Coroutines woken by another coroutine of the same epoll thread (a fraud-scoring batch: the
 * first request scores the rows of the others and wakes them, risk/batch.h) are run by that
 * thread as soon as the waking one gives it back, still inside the same run_coro, while their
 * connections stay suspended: a woken request goes on to its write in this turn of the event loop
 * instead of through MHD_resume_connection (an eventfd write) and a later turn. A coroutine that
 * then parks on its write is woken by the syncer as before; one that finishes has its connection
 * resumed for the answer (answer_after). Wakes from any other thread, or outside run_coro,
 * resume the connection.
 */
static __thread bool ready_collect; /* run_coro is running coroutines on this thread */
static __thread struct conn_req *ready_head, *ready_tail;

/* coro_wake: the parked operation is done (the syncer's thread, usually) */
static void coro_waker(void *arg)
{
	struct conn_req *c = arg;
	if (c->orphan) {
		sem_post(&c->orphan_done);
		return;
	}
	c->t_resumed = clock_mono_us();
	if (ready_collect && coro_current() && pthread_equal(c->owner, pthread_self())) {
		c->next_ready = NULL;
		if (ready_tail)
			ready_tail->next_ready = c;
		else
			ready_head = c;
		ready_tail = c;
		return;
	}
	MHD_resume_connection(c->conn);
}

/* Runs the handler's coroutine on this epoll thread until it parks on a write (the connection is
 * suspended until the write wakes it) or finishes (the answer goes out, after what it read is
 * durable). What its reads saw is taken after every run, so nothing of it is left on the thread
 * for the next connection's requests: the coroutine's reads are its own. suspended: continued by
 * run_ready, its connection still suspended from its last park. */
static enum MHD_Result run_coro_one(struct server *srv, struct conn_req *c, bool suspended)
{
	bool done = coro_resume(c->co);
	store_read_release(srv->app->store); /* a hold (access_cb) ends with the handler's turn */
	uint64_t need = store_barrier_take(srv->app->store);
	if (need > c->barrier_need)
		c->barrier_need = need;
	if (!done) {
		c->state = CS_PARKED;
		if (!suspended) {
			atomic_fetch_add(&srv->suspended, 1);
			c->was_suspended = true;
			MHD_suspend_connection(c->conn);
		}
		coro_submit(c->co); /* only now can its completion resume the connection */
		return MHD_YES;
	}
	coro_free(c->co);
	c->co = NULL;
	if (c->t_resumed && log_enabled(LOG_DEBUG))
		hand_off_stats(srv, c);
	c->t_resumed = 0; /* counted: not again if a worker holds the answer for a barrier */
	return answer_after(srv, c, c->barrier_need, suspended);
}

/* Runs the coroutines woken meanwhile by those this thread ran (ready_collect is still set, so
 * any they wake join the list). */
static void run_ready(struct server *srv)
{
	struct conn_req *c;
	while ((c = ready_head)) {
		ready_head = c->next_ready;
		if (!ready_head)
			ready_tail = NULL;
		run_coro_one(srv, c, true);
	}
}

static enum MHD_Result run_coro(struct server *srv, struct conn_req *c)
{
	ready_collect = true;
	enum MHD_Result ret = run_coro_one(srv, c, false);
	run_ready(srv);
	ready_collect = false;
	return ret;
}

/* The client closed while the handler was parked: MHD ends the request without asking for its
 * answer. The handler still finishes (a payment half-recorded is not an option); any further
 * write it makes is waited for here, on this thread. Rare: a write ends a handler. */
static void finish_orphan(struct server *srv, struct conn_req *c)
{
	c->orphan = true;
	sem_init(&c->orphan_done, 0, 0);
	/* this thread waits here for each park's wake, so the handler must not park on work the
	 * thread would do later (a scoring batch: risk/batch.h) */
	coro_owner_blocks(true);
	while (!coro_resume(c->co)) {
		coro_submit(c->co);
		while (sem_wait(&c->orphan_done) != 0 && errno == EINTR)
			;
	}
	coro_owner_blocks(false);
	store_barrier_take(srv->app->store); /* nobody to answer */
	log_msg(LOG_DEBUG,
		"http: the client left while its write was in flight; its handler finished");
	sem_destroy(&c->orphan_done);
	coro_free(c->co);
	c->co = NULL;
}

#define HAND_STATS_US 5000000

/* Records a write's hand-offs, and every HAND_STATS_US logs their p50/p99 (debug level) */
static void hand_off_stats(struct server *srv, struct conn_req *c)
{
	int64_t now = clock_mono_us();
	hist_add(&srv->hand_queue, c->t_taken - c->t_queued);
	hist_add(&srv->hand_run, c->t_resumed - c->t_taken);
	hist_add(&srv->hand_back, now - c->t_resumed);
	int64_t since = atomic_load(&srv->hand_since);
	if (now - since < HAND_STATS_US ||
	    !atomic_compare_exchange_strong(&srv->hand_since, &since, now))
		return;
	double q50, q99, r50, r99, b50, b99;
	hist_take(&srv->hand_queue, &q50, &q99);
	hist_take(&srv->hand_run, &r50, &r99);
	hist_take(&srv->hand_back, &b50, &b99);
	log_msg(LOG_DEBUG,
		"http: writes' hand-offs p50/p99 ms: worker queue %.1f/%.1f, worker run %.1f/%.1f,"
		" back to the epoll thread %.1f/%.1f",
		q50, q99, r50, r99, b50, b99);
}

static enum MHD_Result access_cb(void *cls, struct MHD_Connection *con, const char *url,
				 const char *method, const char *version, const char *upload_data,
				 size_t *upload_data_size, void **con_cls)
{
	struct server *srv = cls;
	struct conn_req *c = *con_cls;
	if (!c)
		return MHD_NO; /* out of memory in the URI callback: drop the connection */
	if (c->state == CS_NEW) {
		c->state = CS_UPLOAD;
		c->conn = con;
		const char *cl =
		    MHD_lookup_connection_value(con, MHD_HEADER_KIND, "Content-Length");
		int64_t n = 0;
		if (cl && parse_i64(cl, &n) == 0 && n > (int64_t)DISCARD_MAX_BYTES) {
			/* Far too large: refuse before reading; MHD closes the connection after
			 * this answer, which a client still sending may see as a reset. Between 1
			 * and 16 MiB the body is read and thrown away so the client gets its 413
			 * cleanly. */
			c->r.method = method;
			c->r.path = url;
			req_fail(&c->r, ERR_BODY_TOO_LARGE, NULL, "%u", BODY_MAX_BYTES);
			c->state = CS_DONE;
			return send_response(c);
		}
		/* the upload route (ROUTE_MULTIPART) takes a larger body; process_front holds
		 * every other route to BODY_MAX_BYTES whatever the path said here */
		if (method[0] == 'P' && strcmp(url, "/v1/files") == 0 &&
		    strcmp(method, "POST") == 0) {
			if (atomic_fetch_add(&srv->uploads, 1) < UPLOADS_MAX) {
				c->upload_slot = true;
				c->body.max = MULTIPART_BODY_MAX;
			} else {
				atomic_fetch_sub(&srv->uploads, 1);
				c->upload_refused = true;
			}
		}
		return MHD_YES;
	}
	if (c->state == CS_UPLOAD) {
		if (*upload_data_size) {
			if (!c->too_large) {
				buf_append(&c->body, upload_data, *upload_data_size);
				if (c->body.failed)
					c->too_large = true;
			}
			*upload_data_size = 0;
			return MHD_YES;
		}
		c->r.method = method;
		c->r.path = url;
		store_barrier_defer(1); /* this epoll thread's reads: see answer_here */
		if (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0) {
			if (!process_front(c, method, url))
				process_back(c);
			return answer_here(srv, c);
		}
		if (atomic_load(&srv->draining)) {
			req_fail(&c->r, ERR_OVERLOADED, NULL, NULL);
			c->state = CS_DONE;
			return send_response(c);
		}
		/* The saved-result lookup and the handler's reads until it first parks (a
		 * payment's card, merchant and fraud counts) run back to back on this thread:
		 * one read transaction for all of them (store.h), ended in run_coro_one when the
		 * handler gives the thread back, before anything else runs here. */
		store_read_hold(srv->app->store);
		if (process_front(c, method, url)) {
			store_read_release(srv->app->store);
			return answer_here(srv, c);
		}
		/* what the epoll thread read for it (the saved-result lookup) goes with it */
		c->barrier_need = store_barrier_take(srv->app->store);
		if (srv->async && (c->co = coro_new(coro_main, c, coro_waker, c))) {
			c->owner = pthread_self();
			c->t_queued = c->t_taken = clock_mono_us();
			return run_coro(srv, c);
		}
		store_read_release(srv->app->store);
		/* the worker path (also when CORO_LIVE_MAX handlers are parked already) */
		c->state = CS_RUNNING;
		atomic_fetch_add(&srv->suspended, 1);
		c->was_suspended = true;
		MHD_suspend_connection(con);
		c->t_queued = clock_mono_us();
		if (enqueue(srv, c) != 0) {
			req_fail(&c->r, ERR_OVERLOADED, NULL, NULL);
			c->state = CS_DONE;
			MHD_resume_connection(con);
		}
		return MHD_YES;
	}
	if (c->state == CS_PARKED) {
		/* its write woke it: MHD has taken the connection back from the suspended list */
		c->was_suspended = false;
		atomic_fetch_sub(&srv->suspended, 1);
		return run_coro(srv, c);
	}
	if (c->state == CS_DONE) {
		if (c->was_suspended) {
			/* MHD has taken the connection back from the suspended list by now */
			c->was_suspended = false;
			atomic_fetch_sub(&srv->suspended, 1);
			if (c->t_queued && c->t_resumed && log_enabled(LOG_DEBUG))
				hand_off_stats(srv, c);
		}
		return send_response(c);
	}
	return MHD_YES; /* CS_RUNNING, CS_BARRIER: called again only after resume */
}

static void completed_cb(void *cls, struct MHD_Connection *con, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct server *srv = cls;
	struct conn_req *c = *con_cls;
	if (!c)
		return;
	struct req *r = &c->r;
	struct log_line l;
	log_begin(&l, LOG_INFO, "request");
	if (l.enabled) {
		json_kv_str(&l.j, "method", r->method ? r->method : "?");
		json_kv_str(&l.j, "route", r->route ? r->route->pattern : "(unmatched)");
		json_kv_int(&l.j, "status", r->status);
		json_kv_int(&l.j, "duration_us", clock_mono_us() - c->start_us);
		json_kv_str(&l.j, "request_id", r->request_id);
		/* a page's merchant is its first path segment as sent, before the page has
		 * looked it up: a card number typed there must not reach the log */
		const char *m = r->merchant_id[0] ? r->merchant_id : "-";
		if (redact_pan_like(m, strlen(m)))
			m = "(omitted)";
		json_kv_str(&l.j, "merchant", m);
		if (r->err.set || r->status >= 400)
			json_kv_str(&l.j, "error", api_error_info(r->err.code)->name);
		if (r->replayed)
			json_kv_bool(&l.j, "replayed", true);
		if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK)
			json_kv_int(&l.j, "termination", toe);
	}
	log_end(&l);
	metrics_http(r->route, r->method, r->status,
		     r->err.set || r->status >= 400 ? (int)r->err.code : -1,
		     r->idempotency_key != NULL, r->replayed, clock_mono_us() - c->start_us);
	if (c->was_suspended) {
		/* the client closed while its request was suspended: after the resume MHD saw the
		 * closed socket and ends the request here without calling access_cb in CS_DONE */
		atomic_fetch_sub(&srv->suspended, 1);
	}
	if (c->co)
		finish_orphan(srv, c);
	conn_req_free(c);
	*con_cls = NULL;
	metrics_inflight_set(atomic_fetch_sub(&srv->inflight, 1) - 1);
}

__attribute__((format(printf, 2, 0))) static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	size_t n = strlen(msg);
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	log_msg(LOG_WARN, "http: %s", msg);
}

/* The listen socket, bound and listening; its port (the one asked for, or the kernel's choice
 * for 0) in *port. -1 when it cannot be had. */
static int listen_on(const struct sockaddr_in *sa, int *port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	int one = 1;
	struct sockaddr_in bound;
	socklen_t len = sizeof(bound);
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(fd, (const struct sockaddr *)sa, sizeof(*sa)) != 0 ||
	    listen(fd, LISTEN_BACKLOG) != 0 ||
	    getsockname(fd, (struct sockaddr *)&bound, &len) != 0) {
		close(fd);
		return -1;
	}
	*port = ntohs(bound.sin_port);
	return fd;
}

/* d_poll's connections: the acceptor reserves a place before handing one over, this releases it
 * when MHD closes the connection (MHD tells of every connection it started) */
static void poll_conn_cb(void *cls, struct MHD_Connection *con, void **socket_context,
			 enum MHD_ConnectionNotificationCode toe)
{
	(void)con, (void)socket_context;
	if (toe == MHD_CONNECTION_NOTIFY_CLOSED)
		atomic_fetch_sub(&((struct server *)cls)->poll_conns, 1);
}

/* An MHD daemon without a listen socket of its own (the acceptor hands it connections), waiting
 * with loop_flag (MHD_USE_POLL or MHD_USE_EPOLL) on each of its pool threads. */
static struct MHD_Daemon *daemon_start(struct server *srv, unsigned loop_flag, unsigned pool)
{
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | loop_flag | MHD_USE_NO_LISTEN_SOCKET |
			 MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG | MHD_USE_TURBO;
	bool polls = loop_flag == MHD_USE_POLL;
	/* On d_poll MHD's limit is only a backstop: MHD counts a worker's connections once the
	 * worker has taken them in, so a burst could pass a tighter one and be refused; the
	 * acceptor keeps d_poll's count (POLL_CONNS). On d_epoll it is the connection limit: past
	 * it MHD closes the new connection. */
	return MHD_start_daemon(
	    flags, 0, NULL, NULL, access_cb, srv, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
	    MHD_OPTION_THREAD_POOL_SIZE, pool, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
	    (size_t)CONN_MEMORY_LIMIT, MHD_OPTION_CONNECTION_TIMEOUT,
	    (unsigned)(srv->app->cfg.idle_timeout_s > 0 ? srv->app->cfg.idle_timeout_s
							: CONN_TIMEOUT_S),
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)CONN_LIMIT, MHD_OPTION_URI_LOG_CALLBACK,
	    uri_log_cb, srv, MHD_OPTION_NOTIFY_COMPLETED, completed_cb, srv,
	    polls ? MHD_OPTION_NOTIFY_CONNECTION : MHD_OPTION_END, poll_conn_cb, srv,
	    MHD_OPTION_END);
}

/* Accepts connections and hands each to d_poll while it has fewer than POLL_CONNS, else to
 * d_epoll. MHD_add_connection wakes the chosen daemon's thread and closes the socket itself when
 * it refuses it. */
static void *acceptor_main(void *arg)
{
	struct server *srv = arg;
	pthread_setname_np(pthread_self(), "tender-accept");
	int64_t last_warn = 0;
	while (!atomic_load(&srv->closing)) {
		struct sockaddr_storage peer;
		socklen_t len = sizeof(peer);
		int fd = accept4(srv->lfd, (struct sockaddr *)&peer, &len, SOCK_CLOEXEC);
		if (fd < 0) {
			if (atomic_load(&srv->closing))
				break;
			if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO)
				continue;
			/* out of descriptors or memory: the connection waits in the backlog; said
			 * once a minute at most, as this retries every 10 ms */
			int64_t now = clock_mono_us();
			if (now - last_warn >= 60 * 1000000LL || last_warn == 0) {
				log_msg(LOG_WARN, "http: accept: %s", strerror(errno));
				last_warn = now;
			}
			struct timespec ts = {0, 10 * 1000 * 1000};
			nanosleep(&ts, NULL);
			continue;
		}
		struct MHD_Daemon *d = srv->d_epoll;
		int held = atomic_fetch_add(&srv->poll_conns, 1);
		if (held < POLL_CONNS)
			d = srv->d_poll;
		else
			atomic_fetch_sub(&srv->poll_conns, 1);
		log_msg(LOG_DEBUG, "http: a connection for the %s loop (the poll loop had %d)",
			d == srv->d_poll ? "poll" : "epoll", held);
		if (MHD_add_connection(d, fd, (struct sockaddr *)&peer, len) != MHD_YES &&
		    d == srv->d_poll)
			atomic_fetch_sub(&srv->poll_conns, 1);
	}
	return NULL;
}

int server_start(struct server **ret, struct app *app, char *err, size_t errlen)
{
	struct server *srv = calloc(1, sizeof(*srv));
	if (!srv) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	srv->app = app;
	srv->lfd = -1;
	srv->async = !app->cfg.write_path_workers && store_writes_park(app->store);
	pthread_mutex_init(&srv->mu, NULL);
	pthread_cond_init(&srv->cv, NULL);
	srv->nworkers = app->cfg.worker_threads > 0 ? app->cfg.worker_threads : WORKERS_DEFAULT;
	if (srv->nworkers > WORKERS_MAX)
		srv->nworkers = WORKERS_MAX;
	for (int i = 0; i < srv->nworkers; i++) {
		if (pthread_create(&srv->workers[i], NULL, worker_main, srv) != 0) {
			snprintf(err, errlen, "cannot start worker threads");
			srv->nworkers = i;
			server_stop(srv, 0);
			return -1;
		}
	}
	struct sockaddr_in sa;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)app->cfg.listen_port);
	if (inet_pton(AF_INET, app->cfg.listen_host, &sa.sin_addr) != 1) {
		snprintf(err, errlen, "--listen: '%s' is not an IPv4 address",
			 app->cfg.listen_host);
		server_stop(srv, 0);
		return -1;
	}
	srv->lfd = listen_on(&sa, &srv->port);
	if (srv->lfd < 0) {
		snprintf(err, errlen, "cannot listen on %s:%d (in use, or not permitted)",
			 app->cfg.listen_host, app->cfg.listen_port);
		server_stop(srv, 0);
		return -1;
	}
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned pool = ncpu > 0 && ncpu < 64 ? (unsigned)ncpu : 2;
	srv->d_poll = daemon_start(srv, MHD_USE_POLL, pool);
	srv->d_epoll = daemon_start(srv, MHD_USE_EPOLL, pool);
	if (!srv->d_poll || !srv->d_epoll) {
		snprintf(err, errlen, "cannot start the HTTP event loops");
		server_stop(srv, 0);
		return -1;
	}
	if (pthread_create(&srv->acceptor, NULL, acceptor_main, srv) != 0) {
		snprintf(err, errlen, "cannot start the acceptor thread");
		server_stop(srv, 0);
		return -1;
	}
	srv->acceptor_started = true;
	*ret = srv;
	return 0;
}

int server_port(const struct server *s)
{
	return s->port;
}

void server_stop(struct server *srv, int timeout_ms)
{
	if (!srv)
		return;
	if (srv->d_poll || srv->d_epoll) {
		/* From here, writes on new and kept-alive connections alike are answered 503 at
		 * once (retryable). The listen socket stays open until the daemons stop. */
		atomic_store(&srv->draining, 1);
		if (srv->app)
			atomic_store(&srv->app->draining, 1);
		int64_t deadline = clock_mono_us() + (int64_t)timeout_ms * 1000;
		while (atomic_load(&srv->inflight) > 0 && clock_mono_us() < deadline) {
			struct timespec ts = {0, 10 * 1000 * 1000};
			nanosleep(&ts, NULL);
		}
		/* Suspended connections always come back: their workers finish against a store that
		 * is still open. Wait for them (bounded) so MHD is never stopped with one. */
		int64_t hard = clock_mono_us() + 120 * 1000000LL;
		while (atomic_load(&srv->suspended) > 0 && clock_mono_us() < hard) {
			struct timespec ts = {0, 5 * 1000 * 1000};
			nanosleep(&ts, NULL);
		}
		/* shutdown wakes the acceptor's accept (EINVAL) */
		atomic_store(&srv->closing, 1);
		if (srv->lfd >= 0)
			shutdown(srv->lfd, SHUT_RDWR);
		if (srv->acceptor_started)
			pthread_join(srv->acceptor, NULL);
		if (srv->d_poll)
			MHD_stop_daemon(srv->d_poll);
		if (srv->d_epoll)
			MHD_stop_daemon(srv->d_epoll);
	}
	if (srv->lfd >= 0)
		close(srv->lfd);
	pthread_mutex_lock(&srv->mu);
	srv->stopping = 1;
	pthread_cond_broadcast(&srv->cv);
	pthread_mutex_unlock(&srv->mu);
	for (int i = 0; i < srv->nworkers; i++)
		pthread_join(srv->workers[i], NULL);
	pthread_mutex_destroy(&srv->mu);
	pthread_cond_destroy(&srv->cv);
	free(srv);
}
