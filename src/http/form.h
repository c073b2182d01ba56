/*
 * Request form decoder: application/x-www-form-urlencoded bodies and query strings with Stripe's
 * bracket nesting, decoded into a tree that lives entirely in the request's arena.
 *
 *   card[number]=4242&metadata[order]=7&expand[]=customer&items[0][price]=p&items[0][quantity]=2
 *
 * becomes root{ card{number}, metadata{order}, expand[customer], items[{price, quantity}] }.
 *
 * Decoding rules (the contract callers rely on):
 * - Pairs are split on '&', then on the FIRST '=' (a value may contain '='). Empty pairs (a
 *   trailing '&', "&&") are skipped. A pair without '=' ("flag") is the key with an empty value.
 * - Keys and values are percent-decoded and '+' is a space. Brackets are recognised AFTER
 *   decoding, so "card%5Bnumber%5D" is "card[number]"; a key therefore cannot contain a literal
 *   '[' or ']'. Decoded bytes must be valid UTF-8 without NUL (%00): FORM_ERR_ENCODING.
 * - An empty value is kept as "" (value_len 0) so "present but empty" (Stripe's "unset") differs
 *   from "absent" (form_get returns NULL).
 * - Bracket content decides the parent's shape:
 *     x[]=a           appends to array x (items keyed "0", "1", … in arrival order);
 *     x[0]=a, x[7]=b  indexed array: items sorted by numeric index, sparse indices allowed, the
 *                     item's key is the index text exactly as sent ("7", or "07");
 *     x[name]=a       object: keys in first-seen order.
 *   A container that receives BOTH digit-only and other keys is an object whose keys are all
 *   plain strings, whatever the order they arrived in: this is what makes Stripe metadata work
 *   (metadata[123]=a&metadata[note]=b). Metadata whose keys are ALL digit-only comes back as a
 *   FORM_ARRAY: read it by walking the children and using each child's key (the raw text, e.g.
 *   "007"), not the position. Such all-digit keys obey the array limits (index <= 999).
 *   "[]" may only end a key ("x[][a]" is malformed); mixing "x[]" with "x[0]" or "x[a]" is
 *   FORM_ERR_CONFLICT. The top level is always an object ("0=x" is the key "0").
 * - Rejected rather than guessed (a payment API must not pick one of two values):
 *     FORM_ERR_DUPLICATE  the same scalar path twice (a=1&a=2; also x[1] with x[01])
 *     FORM_ERR_CONFLICT   a path used as scalar and as container (a=1&a[b]=2), or [] mixed
 *     FORM_ERR_MALFORMED  bad percent escape, unbalanced or nested brackets, text after ']',
 *                         empty name ("=x", "[a]=x"), "[]" anywhere but at the end
 *     FORM_ERR_LIMIT      one past a FORM_*_MAX bound below
 *     FORM_ERR_NOMEM      the arena's cap was reached
 * - Time and memory are linear in the input (plus sorting array items, n log n with n <= 1000);
 *   nothing recurses.
 *
 * Security: values may be card numbers or CVCs. form_error never holds a value: its path is the
 * offending parameter's NAME, decoded, sanitised (control bytes and invalid UTF-8 become '?',
 * digits are masked with '*' when the name itself looks like a card number) and truncated
 * (ending in "..." when cut). Nothing here logs.
 */
#ifndef TENDER_HTTP_FORM_H
#define TENDER_HTTP_FORM_H

#include <stddef.h>

#include "core/arena.h"

/* Bounds; one past any of them is FORM_ERR_LIMIT. */
#define FORM_PAIRS_MAX 1000  /* non-empty pairs in one input */
#define FORM_DEPTH_MAX 8     /* levels in one key, base name included: a[1][2][3][4][5][6][7] */
#define FORM_KEY_MAX 256     /* bytes of one whole decoded key, brackets included */
#define FORM_VALUE_MAX 65536 /* bytes of one decoded value */
#define FORM_INDEX_MAX 999   /* largest array index */
#define FORM_ITEMS_MAX 1000  /* children of one object or array */
#define FORM_ERROR_PATH_MAX 128

enum form_err {
	FORM_OK = 0,
	FORM_ERR_MALFORMED = -1,
	FORM_ERR_DUPLICATE = -2,
	FORM_ERR_CONFLICT = -3,
	FORM_ERR_LIMIT = -4,
	FORM_ERR_ENCODING = -5,
	FORM_ERR_NOMEM = -6,
};

enum form_kind { FORM_SCALAR, FORM_OBJECT, FORM_ARRAY };

struct form_node {
	const char *key; /* NUL-terminated, decoded; array items: the index as text ("" for root) */
	size_t key_len;
	enum form_kind kind;
	const char *value; /* FORM_SCALAR only (NULL otherwise): decoded, NUL-terminated, no NUL */
	size_t value_len;
	/* Children in order: object keys in first-seen order, array items sorted by index. */
	struct form_node *first_child, *last_child, *next;
	size_t child_count;
};

struct form_error {
	int code;			/* one of FORM_ERR_* */
	char path[FORM_ERROR_PATH_MAX]; /* offending parameter name (never a value), or "" */
	const char *message;		/* static text, lowercase, no final period */
};

/*
 * Parses input[0..len) (no NUL terminator needed; NULL is allowed when len is 0). On success
 * returns 0 and sets *ret_root to the root object (an empty object for empty input). On failure
 * returns a FORM_ERR_* code, fills *ret_err when it is non-NULL, and leaves *ret_root untouched;
 * whatever was allocated stays in the arena until the arena is released.
 */
int form_parse(struct arena *a, const char *input, size_t len, struct form_node **ret_root,
	       struct form_error *ret_err);

/* Child of an object or array by exact key ("0" finds an array's item with key "0"), or NULL
 * when obj is NULL, a scalar, or has no such child. Linear in the number of children. */
const struct form_node *form_get(const struct form_node *obj, const char *key);

/* Walks dot-separated keys from root: "card.number", "items.0.price". NULL when any step is
 * missing, passes through a scalar, or a segment is empty; "" is root itself. Keys containing '.'
 * cannot be reached this way (use form_get). */
const struct form_node *form_path(const struct form_node *root, const char *dotted);

/*
 * Appends node's subtree to out as application/x-www-form-urlencoded pairs joined by '&' (a '&'
 * first when out is not empty), every key starting with name (e.g. name "account" and node
 * {company{name}} give account[company][name]=…). form_parse of the result gives the same tree,
 * array indices and order included. Bytes other than A-Z a-z 0-9 - . _ ~ are percent-encoded
 * (brackets in keys are the structure and stay). For keeping a validated parameter tree to apply
 * later (Connect's account tokens); values are written as they are, so a caller drops what must
 * not be kept before encoding. A NULL node appends nothing.
 */
struct buf;
void form_encode(struct buf *out, const struct form_node *node, const char *name);

#endif
