/*
 * Declarative request parameters. Each endpoint declares what it accepts in a table; the framework
 * checks the parsed form against it before the handler runs, so a handler only ever sees
 * parameters it declared, with the right shape:
 *   unknown → 400 parameter_unknown, missing required → 400 parameter_missing (with `param`),
 *   wrong type → 400 parameter_invalid_* — and nothing has changed.
 * Read-only fields (status, amount_received, …) are simply not declared, so setting one is
 * "unknown parameter", as on Stripe.
 */
#ifndef TENDER_HTTP_PARAMS_H
#define TENDER_HTTP_PARAMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/parse.h"

enum param_type {
	PT_STRING,   /* scalar text, max_len bytes (default 5000) */
	PT_INT,	     /* base-10 int64 */
	PT_BOOL,     /* "true" / "false" */
	PT_ENUM,     /* one of enum_values */
	PT_METADATA, /* Stripe metadata hash (50 keys, key <= 40, value <= 500) or "" to clear */
	PT_EXPAND,   /* array of strings */
	PT_STRING_ARRAY, /* array of strings */
	PT_OBJECT,	 /* nested hash declared by children */
	PT_CURRENCY,	 /* 3-letter ISO code, lowercased by the handler */
	PT_RANGE,	 /* integer, or a hash of gt/gte/lt/lte integers (list `created`) */
	PT_HASH,	 /* free-form hash of strings (validated by the handler) */
	PT_OBJECT_ARRAY, /* array of hashes, each declared by children (a[0][k]=v); max_len: the
			    most items (default 20) */
	PT_OBJECT_MAP,	 /* hash whose keys the handler checks (currency_options[eur][…]), each
			    value a hash declared by children; max_len: the most keys (default 20) */
};

#define PF_REQUIRED 0x1u
#define PF_EMPTYABLE 0x2u /* "" is accepted and means "unset" */
/* a PT_OBJECT that may instead be one scalar of at most max_len bytes (Stripe's "a token id, or
 * the hash it stands for", e.g. external_account=btok_… or external_account[object]=…) */
#define PF_SCALAR_OK 0x4u

struct param_spec {
	const char *name;
	enum param_type type;
	unsigned flags;
	size_t max_len;
	const char *const *enum_values;	   /* NULL-terminated, for PT_ENUM */
	const struct param_spec *children; /* {NULL}-terminated, for PT_OBJECT */
};

struct req;
struct form_node;

/* Checks r->params against spec (plus `expand`, always allowed). 0, or -1 with r->err set. */
int params_validate(struct req *r, const struct param_spec *spec);
/* List endpoints: limit, starting_after, ending_before, created. */
extern const struct param_spec params_list_common[];

/* Typed access after validation. Paths use dots for nesting: "card.number". */
const struct form_node *param_node(const struct req *r, const char *path);
bool param_present(const struct req *r, const char *path);
/* Scalar text, or NULL when absent or not a scalar. "" when sent empty. */
const char *param_str(const struct req *r, const char *path);
/* 1 and *ret set when present and non-empty; 0 when absent or empty. Validated already. */
int param_int(const struct req *r, const char *path, int64_t *ret);
int param_bool(const struct req *r, const char *path, bool *ret);

#endif
