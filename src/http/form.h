/*
 * The request form decoder: application/x-www-form-urlencoded bodies (and GET/DELETE query
 * strings) with Stripe's bracket nesting, decoded into a tree.
 *
 *   card[number]=4242…               → object "card" with scalar "number"
 *   expand[0]=a&expand[1]=b          → array "expand" with items "0", "1" (sorted by index)
 *   expand[]=a&expand[]=b            → array "expand", items appended in order
 *   items[0][price]=p&items[0][q]=2  → array of objects
 *   %5B / %5D                        → the same as [ and ];  '+' is a space
 *
 * A value may be empty ("unset"). A scalar path given twice is an error (FORM_ERR_DUPLICATE): a
 * payment API must not pick one of two amounts. A path used both as a value and as a container is
 * FORM_ERR_CONFLICT; mixing `x[]` with `x[0]` too. Everything is bounded (FORM_*_MAX); the parse is
 * linear in the input apart from sibling lookups, which the parameter cap bounds.
 * Digit-only bracket keys make an array; callers that want an object with numeric-looking keys
 * (metadata[123]=x) read the items' `key` text, which keeps what the client wrote.
 *
 * Values may be card numbers: no value is ever copied into a form_error.
 * All memory comes from the caller's arena.
 */
#ifndef TENDER_HTTP_FORM_H
#define TENDER_HTTP_FORM_H

#include <stddef.h>

#include "core/arena.h"

#define FORM_PAIRS_MAX 1000
#define FORM_DEPTH_MAX 8
#define FORM_KEY_MAX 256
#define FORM_VALUE_MAX (64 * 1024)
#define FORM_INDEX_MAX 999
#define FORM_ITEMS_MAX 1000

enum form_kind { FORM_SCALAR, FORM_OBJECT, FORM_ARRAY };

enum form_err {
	FORM_ERR_MALFORMED = -1,
	FORM_ERR_DUPLICATE = -2,
	FORM_ERR_CONFLICT = -3,
	FORM_ERR_LIMIT = -4,
	FORM_ERR_ENCODING = -5,
	FORM_ERR_NOMEM = -6,
};

struct form_node {
	const char *key; /* decoded, NUL-terminated; for array items the index text */
	size_t key_len;
	enum form_kind kind;
	const char *value; /* FORM_SCALAR only: decoded, NUL-terminated */
	size_t value_len;
	struct form_node *first_child, *last_child, *next;
	size_t child_count;
	int array_mode; /* internal: 0 unknown, 1 indexed, 2 appended */
	long index;     /* internal: numeric index of an array item */
};

struct form_error {
	int code;
	char path[128];      /* the parameter's name as written (decoded, truncated), never a value */
	const char *message; /* static text */
};

int form_parse(struct arena *a, const char *input, size_t len, struct form_node **ret_root,
               struct form_error *ret_err);
const struct form_node *form_get(const struct form_node *obj, const char *key);
/* "card.number" convenience: walks dotted segments through objects. */
const struct form_node *form_path(const struct form_node *root, const char *dotted);

#endif
