/*
 * Routes are data: each API file exports a {NULL}-terminated table of struct route, and
 * src/api/routes.c lists the tables. Patterns are literal segments and {name} placeholders, e.g.
 * "/v1/customers/{id}"; placeholders fill r->args in order.
 */
#ifndef TENDER_HTTP_ROUTER_H
#define TENDER_HTTP_ROUTER_H

#include "http/params.h"

struct req;
typedef int (*handler_fn)(struct req *r);

#define ROUTE_PUBLISHABLE 0x1u /* publishable keys may call it (tokens, payment methods) */
#define ROUTE_LIST 0x2u	       /* accepts the common list parameters */
#define ROUTE_NO_AUTH 0x4u     /* served without an API key (3-D Secure pages, health) */
#define ROUTE_RAW 0x8u	       /* the handler sets its own content type (HTML pages) */
/* a page without an API key that takes the rate limit of the merchant named by its first
 * path argument (checkout pages, where a card can be tried) */
#define ROUTE_PAGE_LIMIT 0x10u
/* a POST that only reads (an invoice preview): its Idempotency-Key is not looked up, claimed or
 * saved, so that it writes nothing */
#define ROUTE_READ_ONLY 0x20u
/* takes a multipart/form-data body (http/multipart.h) of up to MULTIPART_BODY_MAX bytes */
#define ROUTE_MULTIPART 0x40u
/* an ephemeral key or customer session secret (a request scoped to one customer,
 * r->scope_customer) may call it; its handler refuses other customers' objects */
#define ROUTE_EPHEMERAL 0x80u
/* the handler reads the Stripe-Version header (r->stripe_version; looked up for these only) */
#define ROUTE_STRIPE_VERSION 0x100u

struct route {
	const char *method;
	const char *pattern;
	handler_fn handler;
	const struct param_spec *params;
	unsigned flags;
};

/* Finds the route; fills args (decoded segments, arena memory). Returns NULL when no pattern
 * matches; *ret_path_known is set when the path matched under another method. */
const struct route *router_match(struct req *r, const char *method, const char *path,
				 int *ret_path_known);
/* The same answer by trying every route of every table in order: what router_match's index
 * must agree with (the unit tests compare them). */
const struct route *router_match_scan(struct req *r, const char *method, const char *path,
				      int *ret_path_known);

/* Route tables, registered in src/api/routes.c */
extern const struct route *const api_route_tables[];

#endif
