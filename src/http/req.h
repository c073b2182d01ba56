/*
 * struct req: one API request, from routing to response. Handlers receive it fully parsed,
 * authenticated and validated against their parameter table; they fill a response or an error.
 *
 * Handler contract (see docs/FRAMEWORK.md):
 *   int handler(struct req *r);
 *   return 0  → the response is r->status (default 200) + r->out (JSON);
 *   return -1 → r->err was set with req_fail(); the framework renders the Stripe error body.
 * All request memory comes from r->arena and is freed when the request ends.
 */
#ifndef TENDER_HTTP_REQ_H
#define TENDER_HTTP_REQ_H

#include <stdbool.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/id.h"
#include "core/json.h"
#include "http/errors.h"
#include "http/params.h"
#include "store/store.h"

#define ROUTE_ARGS_MAX 4

struct app;
struct route;
struct form_node;
struct multipart_file;

struct api_error {
	enum api_err code;
	char param[128];
	char detail[1024]; /* fills the %s of the table's message */
	char decline_code[48];
	char charge_id[ID_MAX]; /* error.charge */
	struct buf
	    extra; /* raw JSON members appended inside "error":{…}, e.g. "payment_intent":{…} */
	bool set;
};

struct req {
	struct app *app;
	struct arena arena;

	const char *method;
	const char *path;
	const char *host; /* Host header as sent (for URLs Tender hands out), or NULL */
	char client_ip[48];
	const char *user_agent; /* User-Agent header (a SEPA mandate accepted online), or NULL */
	const struct route *route;
	const char *args[ROUTE_ARGS_MAX];
	const struct form_node *params;
	/* ROUTE_MULTIPART routes: the uploaded `file` part (http/multipart.h), or NULL */
	const struct multipart_file *upload;

	char request_id[ID_MAX];
	const char *idempotency_key;
	char merchant_id[ID_MAX];
	/* With a Stripe-Account header naming one of the key's connected accounts: the platform
	 * (the key's merchant), while merchant_id is the connected account the request acts as.
	 * "" otherwise (no header, or the header named the key's own account). */
	char platform_id[ID_MAX];
	bool livemode;
	bool publishable;
	/* acting as a connected account its platform rejected (Stripe-Account): it makes no
	 * payments, and no payouts when the rejection paused them (api/accounts.c) */
	bool account_rejected;
	bool account_payouts_paused;
	/* Authenticated with an ephemeral key or customer session secret (api/ephemeral_keys.h):
	 * the one customer it may act on, "" for an API key. Only ROUTE_EPHEMERAL routes run
	 * with it set, and they check their objects with req_scope_customer. */
	char scope_customer[ID_MAX];
	/* the Stripe-Version header, for ROUTE_STRIPE_VERSION routes (NULL when absent) */
	const char *stripe_version;
	int64_t now;

	int status;
	const char *content_type; /* NULL: application/json (ROUTE_RAW handlers may set it) */
	const char *location;	  /* Location header for redirects (ROUTE_RAW) */
	const char *csp;	  /* Content-Security-Policy for pages (ROUTE_RAW) */
	const char *disposition;  /* Content-Disposition (ROUTE_RAW: a document's PDF) */
	struct buf out;
	struct json j;
	struct api_error err;
	bool replayed;
	bool idem_claimed;
	uint32_t idem_gen; /* release generation of the key's bucket before the first lookup */
	bool idem_changed; /* set by idem_claim: a request with this key may have finished since */
	const char *idem_name; /* "merchant|mode|key", built once (idempotency.c claim_name) */
	char idem_hash[65];
	char original_request[ID_MAX];
	/* Set by req_answer_event: the answer is this event's data.object, whose bytes are at
	 * answer_json (arena memory). While r->out still holds exactly those bytes, the
	 * idempotency record names the event instead of keeping a second copy of the body. */
	char answer_event[ID_MAX];
	const char *answer_json;
	size_t answer_len;
};

/* Inside a write: answers with json, the data.object of the event event_id that this same
 * transaction appended (json must live in r->arena). 0, or -1 with r->err set. */
int req_answer_event(struct req *r, const char *event_id, const char *json, size_t len);

/* A request Tender makes by itself (the scheduler renewing a subscription): no HTTP, no
 * parameters, no idempotency key, no request id (its events carry none), for merchant_id at
 * `now`, with host as the address for URLs it hands out (NULL: see req_url_base). It runs the same
 * handlers' internals as an API request. req_internal_release frees what init allocated. */
void req_internal_init(struct req *r, struct app *app, const char *merchant_id, int64_t now,
		       const char *host);
void req_internal_release(struct req *r);

/* The start of every URL Tender hands out (a hosted page, a file link), without a trailing
 * slash: --public-url when set (so that a node behind a proxy or load balancer names the
 * public address, and a client's Host header cannot redirect a customer elsewhere), else
 * http:// and the request's Host header, else the listener's own address, else
 * http://127.0.0.1:4242. Never NULL. */
const char *req_url_base(struct req *r);

/* Checks a --public-url and copies it to out without its trailing slashes: http:// or https://,
 * a host (letters, digits, '.', '-', or a bracketed IPv6 address) with an optional :port, and an
 * optional path prefix of URL-safe characters; no user info, query or fragment (every URL
 * Tender hands out appends its own path to it). 0, or -1 when it is not such a URL or does not
 * fit in outlen. */
int url_base_parse(const char *in, char *out, size_t outlen);

/* Sets r->err and returns -1. fmt fills the %s of the error's message (may be NULL). `param`
 * may be NULL. Never pass a card number, CVC or key in fmt's arguments. */
__attribute__((format(printf, 4, 5))) int req_fail(struct req *r, enum api_err code,
						   const char *param, const char *fmt, ...);
/* "No such customer: 'cus_123'" as resource_missing (404), param "id" unless given. */
int req_fail_missing(struct req *r, const char *object_name, const char *id, const char *param);

/* 0 when r may act on an object of customer (NULL or "": of none): r is not customer-scoped,
 * or customer is its scope's. Otherwise -1 with Stripe's 404 "No such <object_name>: '<id>'"
 * (param as req_fail_missing), the answer for an object the key cannot see. */
int req_scope_customer(struct req *r, const char *customer, const char *object_name, const char *id,
		       const char *param);

/* For a legacy route that adapts a modern handler (/v1/charges/{charge}/refunds → POST
 * /v1/refunds with charge=…): sets the top-level scalar parameter key to value (both copied into
 * r's arena) in front of r->params, after validation and the idempotency hash have seen the
 * request as sent. The route's own table must not declare key, so the form never holds it
 * already. 0, or -1 with r->err (out of memory). */
int req_param_set(struct req *r, const char *key, const char *value);

/* Like req_param_set for a whole tree: each top-level child of tree (a parsed form in r's arena,
 * e.g. the parameters a Connect account token carries) is put in front of r->params, after
 * validation and the idempotency hash have seen the request as sent. The caller makes sure the
 * request itself names none of those keys. 0, or -1 with r->err (out of memory). */
int req_params_graft(struct req *r, const struct form_node *tree);
/* The top-level parameter `from` (present) also under the name `to`, which the request must not
 * name itself: for an older name of a parameter (accounts' bank_account for external_account).
 * 0, or -1 with r->err. */
int req_param_alias(struct req *r, const char *from, const char *to);

/* Starts a JSON response: resets r->out, sets status 200 and returns the writer. */
struct json *req_json(struct req *r);
/* Renders r->err into r->out and sets r->status (the framework calls this itself). */
void req_render_error(struct req *r);
/* r->err as the error hash it renders (charge, code, decline_code, doc_url, message, param,
 * type) into j, without the pre-rendered members of r->err.extra (an intent, a setup intent):
 * for an object that shows an error it met, as a Terminal reader's action api_error. */
void req_error_hash(struct req *r, struct json *j);
/* The message r->err would show (the table's message with its detail), in r's arena. */
const char *req_error_message(struct req *r);

/* True when expand[] contains `field` (exact) or a path starting with "field.". */
bool req_expand_has(const struct req *r, const char *field);

/*
 * Writes with exactly-once semantics. Runs fn in a store write transaction on r's merchant;
 * when the request carries an Idempotency-Key, the response that fn produced is saved in the same
 * transaction. fn's return value:
 *   0              commit; r->out holds the response (fn renders it inside the transaction);
 *   REQ_COMMIT_ERR commit the effects AND answer with the error fn set via req_fail (e.g. a 402
 *                  decline that recorded a failed charge); the error response is saved too;
 *   negative       roll back; respond with r->err (a refusal is still saved as the key's
 *                  result, in a write of its own after the handler: idem_error_saved).
 * Returns 0 when r->out/r->status hold the answer to send (success or committed error), -1 when
 * r->err holds an error to render.
 */
#define REQ_COMMIT_ERR 1
int req_write(struct req *r, store_fn fn, void *ctx);
/* A read transaction on r's merchant. Returns fn's value (or a store error mapped to -1 + err). */
int req_read(struct req *r, store_fn fn, void *ctx);

#endif
