/*
 * libFuzzer target for the form decoder (src/http/form.c).
 * fuzz-sources: src/http/form.c src/core/arena.c src/core/buf.c src/core/redact.c
 * fuzz-libs: -lcrypto
 *
 * For any bytes, form_parse must not crash, leak or overrun, and:
 * - a tree it returns is well formed (counts, links, kinds, keys, values, limits, array order);
 * - every child is found again by form_get under its key;
 * - re-encoding the tree and parsing that gives the same tree (a round trip through the wire
 *   format: nothing decoded twice, nothing lost, order kept);
 * - with a much smaller arena the answer is the same, or FORM_ERR_NOMEM;
 * - an error is well formed: its path is short, NUL-terminated, printable UTF-8.
 * Checks use CHECK, not assert(): assert vanishes under -DNDEBUG (CMake's RelWithDebInfo).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/form.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);   \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

static bool utf8_ok(const unsigned char *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		unsigned c = s[i];
		size_t len = c < 0x80		      ? 1
			     : c >= 0xc2 && c <= 0xdf ? 2
			     : c >= 0xe0 && c <= 0xef ? 3
			     : c >= 0xf0 && c <= 0xf4 ? 4
						      : 0;
		if (len == 0 || n - i < len)
			return false;
		uint32_t cp = len == 1 ? c : c & (0x7f >> len);
		for (size_t k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += len;
	}
	return true;
}

static bool all_digits(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/* Numeric value of a digit-only key, saturating (leading zeros can make keys long). */
static unsigned index_of(const char *s, size_t n)
{
	unsigned v = 0;
	for (size_t i = 0; i < n; i++) {
		v = v * 10 + (unsigned)(s[i] - '0');
		if (v > 1000000)
			return 1000000;
	}
	return v;
}

struct walk {
	size_t scalars;
	size_t nodes;
};

static void walk(const struct form_node *n, int level, struct walk *w)
{
	CHECK(level <= FORM_DEPTH_MAX);
	CHECK(n->kind != FORM_SCALAR);
	CHECK(n->value == NULL && n->value_len == 0);
	size_t count = 0;
	const struct form_node *prev = NULL;
	bool any_name = false;
	for (const struct form_node *c = n->first_child; c; prev = c, c = c->next) {
		CHECK(++count <= FORM_ITEMS_MAX);
		w->nodes++;
		CHECK(c->key != NULL);
		CHECK(c->key_len > 0 && c->key_len <= FORM_KEY_MAX);
		CHECK(strlen(c->key) == c->key_len);
		CHECK(!memchr(c->key, '[', c->key_len) && !memchr(c->key, ']', c->key_len));
		CHECK(utf8_ok((const unsigned char *)c->key, c->key_len));
		if (!all_digits(c->key, c->key_len))
			any_name = true;
		if (n->kind == FORM_ARRAY) {
			CHECK(all_digits(c->key, c->key_len));
			CHECK(index_of(c->key, c->key_len) <= FORM_INDEX_MAX);
			if (prev)
				CHECK(index_of(prev->key, prev->key_len) <
				      index_of(c->key, c->key_len));
		}
		if (n->child_count <= 64)
			CHECK(form_get(n, c->key) == c); /* keys are unique in a container */
		if (c->kind == FORM_SCALAR) {
			CHECK(c->value != NULL);
			CHECK(c->value_len <= FORM_VALUE_MAX);
			CHECK(strlen(c->value) == c->value_len);
			CHECK(utf8_ok((const unsigned char *)c->value, c->value_len));
			CHECK(c->first_child == NULL && c->last_child == NULL &&
			      c->child_count == 0);
			w->scalars++;
		} else {
			CHECK(c->kind == FORM_OBJECT || c->kind == FORM_ARRAY);
			CHECK(c->first_child != NULL);
			walk(c, level + 1, w);
		}
	}
	CHECK(count == n->child_count);
	CHECK(n->last_child == prev);
	CHECK((n->first_child == NULL) == (count == 0));
	/* a nested object always has a non-digit key, or it would be an array */
	if (n->kind == FORM_OBJECT && level > 0)
		CHECK(any_name);
}

/* ---- re-encoding ---- */

struct out {
	char *p;
	size_t len, cap;
	size_t key_len; /* decoded length of the key being written */
	bool too_long;	/* a re-encoded key is past FORM_KEY_MAX (x[] became x[999]) */
};

static void out_raw(struct out *o, const char *s, size_t n)
{
	if (o->len + n + 1 > o->cap) {
		size_t cap = o->cap ? o->cap : 256;
		while (cap < o->len + n + 1)
			cap *= 2;
		char *p = realloc(o->p, cap);
		CHECK(p != NULL);
		o->p = p;
		o->cap = cap;
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
	o->p[o->len] = '\0';
}

static void out_enc(struct out *o, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || c == '.' || c == '~') {
			out_raw(o, (const char *)&c, 1);
		} else {
			char e[3] = {'%', hex[c >> 4], hex[c & 15]};
			out_raw(o, e, 3);
		}
	}
}

/* Writes every scalar under n as "prefix[key]...=value&". prefix is n's encoded path. */
static void encode(struct out *o, const struct form_node *n, const char *prefix, size_t plen,
		   size_t pdec, int level)
{
	CHECK(level <= FORM_DEPTH_MAX);
	for (const struct form_node *c = n->first_child; c; c = c->next) {
		struct out key = {0};
		if (level == 0) {
			out_enc(&key, c->key, c->key_len);
		} else {
			out_raw(&key, prefix, plen);
			out_raw(&key, "[", 1);
			out_enc(&key, c->key, c->key_len);
			out_raw(&key, "]", 1);
		}
		size_t dec = pdec + c->key_len + (level == 0 ? 0 : 2);
		if (dec > FORM_KEY_MAX)
			o->too_long = true;
		if (c->kind == FORM_SCALAR) {
			out_raw(o, key.p, key.len);
			out_raw(o, "=", 1);
			out_enc(o, c->value, c->value_len);
			out_raw(o, "&", 1);
		} else {
			encode(o, c, key.p, key.len, dec, level + 1);
		}
		free(key.p);
	}
}

static void same_tree(const struct form_node *x, const struct form_node *y, int level)
{
	CHECK(level <= FORM_DEPTH_MAX + 1);
	CHECK(x->kind == y->kind);
	CHECK(x->key_len == y->key_len && memcmp(x->key, y->key, x->key_len) == 0);
	CHECK(x->value_len == y->value_len);
	if (x->kind == FORM_SCALAR) {
		CHECK(memcmp(x->value, y->value, x->value_len) == 0);
		return;
	}
	CHECK(x->child_count == y->child_count);
	const struct form_node *a = x->first_child, *b = y->first_child;
	for (; a && b; a = a->next, b = b->next)
		same_tree(a, b, level + 1);
	CHECK(a == NULL && b == NULL);
}

static void check_error(int rc, const struct form_error *e)
{
	CHECK(rc <= FORM_ERR_MALFORMED && rc >= FORM_ERR_NOMEM);
	CHECK(e->code == rc);
	CHECK(e->message != NULL);
	size_t pl = strnlen(e->path, sizeof(e->path));
	CHECK(pl < sizeof(e->path));
	CHECK(pl <= 103); /* 100 bytes of name and "..." */
	for (size_t i = 0; i < pl; i++)
		CHECK((unsigned char)e->path[i] >= 0x20 && e->path[i] != 0x7f);
	CHECK(utf8_ok((const unsigned char *)e->path, pl));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	struct arena a;
	arena_init(&a, 4u << 20);
	struct form_node *root = NULL;
	struct form_error e;
	memset(&e, 0, sizeof(e));
	int rc = form_parse(&a, in, size, &root, &e);
	if (rc == 0) {
		CHECK(root != NULL && root->kind == FORM_OBJECT && root->key_len == 0);
		struct walk w = {0, 0};
		walk(root, 0, &w);
		CHECK(w.scalars <= FORM_PAIRS_MAX);
		CHECK(w.scalars <= size); /* every scalar came from at least one input byte */
		(void)form_path(root, "card.number");

		struct out o = {0};
		encode(&o, root, "", 0, 0, 0);
		if (!o.too_long) {
			struct arena b;
			arena_init(&b, 16u << 20);
			struct form_node *again = NULL;
			struct form_error e2;
			int rc2 = form_parse(&b, o.p ? o.p : "", o.len, &again, &e2);
			if (rc2 != 0)
				fprintf(stderr, "re-encoded form rejected: %d %s at %s\n", rc2,
					e2.message, e2.path);
			CHECK(rc2 == 0);
			same_tree(root, again, 0);
			arena_release(&b);
		}
		free(o.p);
	} else {
		CHECK(root == NULL);
		check_error(rc, &e);
	}

	/* The same input with little memory: the same answer, or out of memory. */
	struct arena s;
	arena_init(&s, 40u * 1024u);
	struct form_node *small = NULL;
	struct form_error es;
	int rcs = form_parse(&s, in, size, &small, &es);
	CHECK(rcs == rc || rcs == FORM_ERR_NOMEM);
	if (rcs == 0)
		same_tree(root, small, 0);
	else
		check_error(rcs, &es);
	if (rcs == rc && rc != 0)
		CHECK(strcmp(es.path, e.path) == 0 && es.message == e.message);
	arena_release(&s);
	arena_release(&a);
	return 0;
}
