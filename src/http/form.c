/*
 * Form decoder. The rules callers rely on are in form.h; this note is about how.
 *
 * One pass over the input, pair by pair. Each key and value is decoded in two steps: a first scan
 * checks every escape and measures the decoded length (so limits are enforced before anything is
 * allocated, and the arena gets exact sizes), the second writes the bytes. UTF-8 is then checked
 * on the decoded bytes.
 *
 * Finding "the child `number` of node `card`" must not be a scan of the siblings, or 1000
 * top-level keys would cost half a million comparisons. Every keyed node therefore sits in one
 * open-addressing table keyed by (parent, key), sized once from a cheap pre-scan that bounds the
 * number of nodes (one per pair plus one per '[' or %5B); it never grows, so it cannot run out.
 * The hash is seeded per process so that a client cannot precompute colliding keys; even fully
 * colliding keys only cost O(nodes^2) with nodes <= 8000.
 *
 * Whether a container is an object or an array is decided at the end, not when it is created:
 * digit-only keys alone make an indexed array, any other key makes an object whatever the order
 * (Stripe metadata keys are strings even when they look like numbers), "[]" makes an appended
 * array and cannot be mixed with either. Deciding late is what makes the result independent of
 * the order in which a client happened to serialise its keys. Indexed arrays are sorted then,
 * reusing the hash table's memory as scratch space.
 *
 * The error path is built from the parameter NAME only. Values are never read after they are
 * decoded into the tree, and never touch the error.
 */
#include "http/form.h"
#include "core/buf.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "core/redact.h"

#define SHAPE_NAMED 0x1u    /* has a key that is not all digits */
#define SHAPE_INDEXED 0x2u  /* has a digit-only key: x[0] */
#define SHAPE_APPENDED 0x4u /* has x[] items */

/* How many decoded bytes of a name an error path shows before "...". */
#define PATH_SHOW_MAX 100

/* The public node plus what only the parser needs. Callers never see past pub. */
struct fnode {
	struct form_node pub;
	const struct fnode *parent;
	uint64_t hash;
	unsigned shape;	   /* containers: SHAPE_* seen among the children so far */
	unsigned index;	   /* digit-only keys: the value, saturated at FORM_INDEX_MAX + 1 */
	const char *src;   /* digit-only keys: decoded name of the pair that created the node, */
	size_t src_len;	   /* to name it in an error found only at the end */
	struct fnode *big; /* containers: first child whose index is past FORM_INDEX_MAX */
	struct fnode *next_container;
};

enum seg_kind { SEG_NAME, SEG_INDEX, SEG_APPEND };

struct seg {
	size_t off, len; /* within the decoded key */
	enum seg_kind kind;
	unsigned index;
};

struct parser {
	struct arena *a;
	struct form_error *err;
	struct fnode *root;
	struct fnode **slots; /* hash table of keyed nodes; capacity mask + 1, a power of two */
	size_t mask;
	size_t used;
	uint64_t seed;
	struct fnode *containers, *containers_tail;
};

static int hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Length of the well-formed UTF-8 sequence at s (1-4), or 0: rejects overlong forms, UTF-16
 * surrogates and code points past U+10FFFF. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	if (c < 0x80)
		return 1;
	size_t len;
	unsigned char lo = 0x80, hi = 0xbf; /* bounds of the second byte */
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
	} else {
		return 0;
	}
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t k = 2; k < len; k++)
		if ((s[k] & 0xc0) != 0x80)
			return 0;
	return len;
}

static bool utf8_valid(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0;
	while (i < n) {
		size_t l = utf8_seq(u + i, n - i);
		if (l == 0)
			return false;
		i += l;
	}
	return true;
}

/*
 * Error path: the name, decoded leniently when raw (bad escapes are shown as typed), cut at
 * PATH_SHOW_MAX bytes, with control bytes and invalid UTF-8 shown as '?', digits masked when the
 * name looks like a card number (a client that put a PAN in a key must not see it echoed, nor
 * have it logged by whoever logs our errors).
 */
static void path_set(char out[FORM_ERROR_PATH_MAX], const char *name, size_t n, bool raw)
{
	unsigned char tmp[PATH_SHOW_MAX];
	size_t t = 0;
	bool cut = false;
	for (size_t i = 0; i < n; i++) {
		if (t == sizeof(tmp)) {
			cut = true;
			break;
		}
		unsigned char c = (unsigned char)name[i];
		if (raw && c == '+') {
			c = ' ';
		} else if (raw && c == '%' && n - i >= 3 &&
			   hexval((unsigned char)name[i + 1]) >= 0 &&
			   hexval((unsigned char)name[i + 2]) >= 0) {
			c = (unsigned char)(hexval((unsigned char)name[i + 1]) * 16 +
					    hexval((unsigned char)name[i + 2]));
			i += 2;
		}
		tmp[t++] = c;
	}
	size_t o = 0, i = 0;
	while (i < t) {
		size_t l = utf8_seq(tmp + i, t - i);
		if (l == 0 && cut && t - i < 4 && tmp[i] >= 0xc2)
			break; /* a character cut in half by the truncation: drop it */
		if (l == 0 || (l == 1 && (tmp[i] < 0x20 || tmp[i] == 0x7f))) {
			out[o++] = '?';
			i++;
			continue;
		}
		memcpy(out + o, tmp + i, l);
		o += l;
		i += l;
	}
	if (redact_pan_like(out, o))
		for (size_t k = 0; k < o; k++)
			if (out[k] >= '0' && out[k] <= '9')
				out[k] = '*';
	if (cut) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
}

static int fail(struct parser *p, int code, const char *message, const char *name, size_t n,
		bool raw)
{
	if (p->err) {
		p->err->code = code;
		p->err->message = message;
		path_set(p->err->path, name, n, raw);
	}
	return code;
}

/* First decoding step: validates escapes and measures. 0, FORM_ERR_MALFORMED or _ENCODING. */
static int measure(const char *s, size_t n, size_t *ret_len)
{
	size_t out = 0;
	for (size_t i = 0; i < n; i++, out++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\0')
			return FORM_ERR_ENCODING; /* would end the C string early */
		if (c != '%')
			continue;
		if (n - i < 3 || hexval((unsigned char)s[i + 1]) < 0 ||
		    hexval((unsigned char)s[i + 2]) < 0)
			return FORM_ERR_MALFORMED;
		if (s[i + 1] == '0' && s[i + 2] == '0')
			return FORM_ERR_ENCODING;
		i += 2;
	}
	*ret_len = out;
	return 0;
}

/* Second step, on input that measure() accepted; out has room for len + 1 bytes. */
static void decode_into(char *out, const char *s, size_t n)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '+') {
			c = ' ';
		} else if (c == '%') {
			c = (unsigned char)(hexval((unsigned char)s[i + 1]) * 16 +
					    hexval((unsigned char)s[i + 2]));
			i += 2;
		}
		out[o++] = (char)c;
	}
	out[o] = '\0';
}

struct decode_msgs {
	const char *malformed, *nul, *too_long, *utf8;
};

static const struct decode_msgs KEY_MSGS = {
    "invalid percent-encoding in a parameter name", "a parameter name contains a NUL byte",
    "a parameter name is too long", "a parameter name is not valid UTF-8"};
static const struct decode_msgs VALUE_MSGS = {
    "invalid percent-encoding in a parameter value", "a parameter value contains a NUL byte",
    "a parameter value is too long", "a parameter value is not valid UTF-8"};

/* Decodes s[0..n) into the arena. Errors are reported against the name raw_name (raw) or, once
 * the key is decoded, name (decoded): never against s when s is a value. */
static int decode(struct parser *p, const char *s, size_t n, size_t max,
		  const struct decode_msgs *m, const char *name, size_t name_len, bool name_raw,
		  const char **ret, size_t *ret_len)
{
	size_t len = 0;
	int rc = measure(s, n, &len);
	if (rc != 0)
		return fail(p, rc, rc == FORM_ERR_MALFORMED ? m->malformed : m->nul, name, name_len,
			    name_raw);
	if (len > max)
		return fail(p, FORM_ERR_LIMIT, m->too_long, name, name_len, name_raw);
	if (len == 0) {
		*ret = "";
		*ret_len = 0;
		return 0;
	}
	char *out = arena_alloc(p->a, len + 1);
	if (!out)
		return fail(p, FORM_ERR_NOMEM, "out of memory", name, name_len, name_raw);
	decode_into(out, s, n);
	if (!utf8_valid(out, len))
		return fail(p, FORM_ERR_ENCODING, m->utf8, name, name_len, name_raw);
	*ret = out;
	*ret_len = len;
	return 0;
}

/* Splits a decoded key "a[b][0][]" into its segments; 0, FORM_ERR_MALFORMED or FORM_ERR_LIMIT. */
static int split_key(const char *k, size_t kl, struct seg *segs, size_t *ret_n)
{
	size_t i = 0;
	while (i < kl && k[i] != '[' && k[i] != ']')
		i++;
	if (i == 0 || (i < kl && k[i] == ']'))
		return FORM_ERR_MALFORMED; /* "[a]", "=x", "a]b" */
	size_t n = 0;
	segs[n++] = (struct seg){0, i, SEG_NAME, 0};
	while (i < kl) {
		if (k[i] != '[')
			return FORM_ERR_MALFORMED; /* text after ']': "a[b]c" */
		size_t start = ++i;
		while (i < kl && k[i] != '[' && k[i] != ']')
			i++;
		if (i == kl || k[i] == '[')
			return FORM_ERR_MALFORMED; /* "a[b", "a[[b]]" */
		if (n == FORM_DEPTH_MAX)
			return FORM_ERR_LIMIT;
		struct seg sg = {start, i - start, SEG_NAME, 0};
		if (sg.len == 0) {
			sg.kind = SEG_APPEND;
		} else {
			bool digits = true;
			unsigned v = 0;
			for (size_t d = start; d < i && digits; d++) {
				digits = k[d] >= '0' && k[d] <= '9';
				if (digits && v <= FORM_INDEX_MAX)
					v = v * 10 + (unsigned)(k[d] - '0');
			}
			if (digits) {
				sg.kind = SEG_INDEX;
				sg.index = v > FORM_INDEX_MAX ? FORM_INDEX_MAX + 1 : v;
			}
		}
		segs[n++] = sg;
		i++;
	}
	/* x[][k] would need guessing which item k belongs to: clients must write x[0][k]. */
	for (size_t s = 0; s + 1 < n; s++)
		if (segs[s].kind == SEG_APPEND)
			return FORM_ERR_MALFORMED;
	*ret_n = n;
	return 0;
}

static uint64_t hash_seed(void)
{
	static _Atomic uint64_t seed;
	uint64_t s = atomic_load_explicit(&seed, memory_order_relaxed);
	if (s == 0) {
		/* Racing initialisations are harmless: any seed works, it only has to be
		 * unguessable. */
		if (getrandom(&s, sizeof(s), GRND_NONBLOCK) != (ssize_t)sizeof(s))
			s = (uint64_t)(uintptr_t)&s * 0x9e3779b97f4a7c15u; /* ASLR at least */
		s |= 1;
		atomic_store_explicit(&seed, s, memory_order_relaxed);
	}
	return s;
}

static uint64_t key_hash(uint64_t seed, const struct fnode *parent, const char *s, size_t n)
{
	uint64_t h = seed ^ ((uint64_t)(uintptr_t)parent * 0x9e3779b97f4a7c15u);
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 0x100000001b3u;
	}
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdu;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53u;
	h ^= h >> 33;
	return h;
}

/* The slot holding (parent, key), or the empty slot where it belongs; NULL if the table is full
 * (cannot happen: it is sized for twice the most nodes the input can create). */
static struct fnode **slot_find(struct parser *p, const struct fnode *parent, uint64_t h,
				const char *key, size_t n)
{
	size_t i = (size_t)h & p->mask;
	for (size_t probes = 0; probes <= p->mask; probes++) {
		struct fnode *c = p->slots[i];
		if (!c || (c->hash == h && c->parent == parent && c->pub.key_len == n &&
			   memcmp(c->pub.key, key, n) == 0))
			return &p->slots[i];
		i = (i + 1) & p->mask;
	}
	return NULL;
}

static struct fnode *node_new(struct parser *p, struct fnode *parent, const char *key, size_t n)
{
	struct fnode *c = arena_zalloc(p->a, sizeof(*c));
	char *k = c ? arena_strndup(p->a, key, n) : NULL;
	if (!k)
		return NULL;
	c->pub.key = k;
	c->pub.key_len = n;
	c->parent = parent;
	if (parent->pub.last_child)
		parent->pub.last_child->next = &c->pub;
	else
		parent->pub.first_child = &c->pub;
	parent->pub.last_child = &c->pub;
	parent->pub.child_count++;
	return c;
}

/* Puts one decoded pair into the tree. k is the decoded key (kept for late error paths). */
static int insert(struct parser *p, const char *k, size_t kl, const struct seg *segs, size_t n,
		  const char *v, size_t vl)
{
	struct fnode *cur = p->root;
	for (size_t i = 0; i < n; i++) {
		const struct seg *sg = &segs[i];
		const char *key = k + sg->off;
		bool last = i + 1 == n;
		unsigned shape = sg->kind == SEG_APPEND	 ? SHAPE_APPENDED
				 : sg->kind == SEG_INDEX ? SHAPE_INDEXED
							 : SHAPE_NAMED;
		if ((shape == SHAPE_APPENDED && (cur->shape & (SHAPE_NAMED | SHAPE_INDEXED))) ||
		    (shape != SHAPE_APPENDED && (cur->shape & SHAPE_APPENDED)))
			return fail(
			    p, FORM_ERR_CONFLICT,
			    "an array mixes appended items (x[]) with indexed or named keys", k, kl,
			    false);
		if (cur->pub.child_count >= FORM_ITEMS_MAX && sg->kind == SEG_APPEND)
			return fail(p, FORM_ERR_LIMIT, "too many items in one hash or array", k, kl,
				    false);
		struct fnode *c;
		if (sg->kind == SEG_APPEND) {
			char num[24];
			int nl = snprintf(num, sizeof(num), "%zu", cur->pub.child_count);
			c = node_new(p, cur, num, (size_t)nl);
			if (!c)
				return fail(p, FORM_ERR_NOMEM, "out of memory", k, kl, false);
		} else {
			uint64_t h = key_hash(p->seed, cur, key, sg->len);
			struct fnode **slot = slot_find(p, cur, h, key, sg->len);
			if (!slot)
				return fail(p, FORM_ERR_NOMEM, "out of memory", k, kl, false);
			c = *slot;
			if (c) {
				if (last && c->pub.kind == FORM_SCALAR)
					return fail(p, FORM_ERR_DUPLICATE, "duplicate parameter", k,
						    kl, false);
				if (last || c->pub.kind == FORM_SCALAR)
					return fail(
					    p, FORM_ERR_CONFLICT,
					    "a parameter is used both as a value and as a hash "
					    "or array",
					    k, kl, false);
				cur = c;
				continue;
			}
			if (cur->pub.child_count >= FORM_ITEMS_MAX)
				return fail(p, FORM_ERR_LIMIT,
					    "too many items in one hash or array", k, kl, false);
			if (p->used >= p->mask) /* cannot happen: sized by the pre-scan */
				return fail(p, FORM_ERR_NOMEM, "out of memory", k, kl, false);
			c = node_new(p, cur, key, sg->len);
			if (!c)
				return fail(p, FORM_ERR_NOMEM, "out of memory", k, kl, false);
			c->hash = h;
			*slot = c;
			p->used++;
			if (sg->kind == SEG_INDEX) {
				c->index = sg->index;
				c->src = k;
				c->src_len = kl;
				if (sg->index > FORM_INDEX_MAX && !cur->big)
					cur->big = c;
			}
		}
		cur->shape |= shape;
		if (last) {
			c->pub.kind = FORM_SCALAR;
			c->pub.value = v;
			c->pub.value_len = vl;
		} else {
			c->pub.kind = FORM_OBJECT; /* until finish() knows better */
			if (p->containers_tail)
				p->containers_tail->next_container = c;
			else
				p->containers = c;
			p->containers_tail = c;
		}
		cur = c;
	}
	return 0;
}

static int cmp_index(const void *x, const void *y)
{
	const struct fnode *a = *(const struct fnode *const *)x;
	const struct fnode *b = *(const struct fnode *const *)y;
	if (a->index != b->index)
		return a->index < b->index ? -1 : 1;
	if (a->pub.key_len != b->pub.key_len)
		return a->pub.key_len < b->pub.key_len ? -1 : 1;
	return memcmp(a->pub.key, b->pub.key, a->pub.key_len);
}

/* Decides each container's shape and orders indexed arrays. */
static int finish(struct parser *p)
{
	for (struct fnode *c = p->containers; c; c = c->next_container) {
		if (c->shape & SHAPE_NAMED) {
			c->pub.kind = FORM_OBJECT;
			continue;
		}
		c->pub.kind = FORM_ARRAY;
		if (c->shape & SHAPE_APPENDED)
			continue;
		if (c->big)
			return fail(p, FORM_ERR_LIMIT, "an array index is too large", c->big->src,
				    c->big->src_len, false);
		/* The table's slots are no longer needed, and an indexed array's items are all
		 * in it, so there is room. */
		size_t n = 0;
		for (struct form_node *it = c->pub.first_child; it; it = it->next)
			p->slots[n++] = (struct fnode *)it;
		qsort(p->slots, n, sizeof(p->slots[0]), cmp_index);
		for (size_t i = 1; i < n; i++)
			if (p->slots[i]->index == p->slots[i - 1]->index) /* x[1] and x[01] */
				return fail(p, FORM_ERR_DUPLICATE, "duplicate array index",
					    p->slots[i]->src, p->slots[i]->src_len, false);
		for (size_t i = 0; i < n; i++)
			p->slots[i]->pub.next = i + 1 < n ? &p->slots[i + 1]->pub : NULL;
		c->pub.first_child = &p->slots[0]->pub;
		c->pub.last_child = &p->slots[n - 1]->pub;
	}
	return 0;
}

static int parse_pair(struct parser *p, const char *s, size_t n, size_t ordinal)
{
	const char *eq = memchr(s, '=', n);
	size_t rkl = eq ? (size_t)(eq - s) : n;
	const char *rv = eq ? eq + 1 : s + n;
	size_t rvl = eq ? n - rkl - 1 : 0;
	if (ordinal > FORM_PAIRS_MAX)
		return fail(p, FORM_ERR_LIMIT, "too many parameters", s, rkl, true);
	if (rkl == 0)
		return fail(p, FORM_ERR_MALFORMED, "a parameter has no name", "", 0, false);

	const char *k, *v;
	size_t kl, vl;
	int rc = decode(p, s, rkl, FORM_KEY_MAX, &KEY_MSGS, s, rkl, true, &k, &kl);
	if (rc != 0)
		return rc;
	struct seg segs[FORM_DEPTH_MAX];
	size_t nseg = 0;
	rc = split_key(k, kl, segs, &nseg);
	if (rc != 0)
		return fail(p, rc,
			    rc == FORM_ERR_LIMIT ? "a parameter is nested too deeply"
						 : "malformed brackets in a parameter name",
			    k, kl, false);
	rc = decode(p, rv, rvl, FORM_VALUE_MAX, &VALUE_MSGS, k, kl, false, &v, &vl);
	if (rc != 0)
		return rc;
	return insert(p, k, kl, segs, nseg, v, vl);
}

int form_parse(struct arena *a, const char *input, size_t len, struct form_node **ret_root,
	       struct form_error *ret_err)
{
	struct parser p = {.a = a, .err = ret_err};
	if (!input && len)
		return fail(&p, FORM_ERR_MALFORMED, "no input", "", 0, false);

	/* Pre-scan: bound the nodes the input can create (one per pair, one per bracket). */
	size_t pairs = 0, brackets = 0;
	bool in_pair = false;
	for (size_t i = 0; i < len; i++) {
		char c = input[i];
		if (c == '&') {
			in_pair = false;
			continue;
		}
		if (!in_pair) {
			in_pair = true;
			pairs++;
		}
		if (c == '[' || (c == '%' && len - i >= 3 && input[i + 1] == '5' &&
				 (input[i + 2] == 'B' || input[i + 2] == 'b')))
			brackets++;
	}
	if (pairs > FORM_PAIRS_MAX)
		pairs = FORM_PAIRS_MAX;
	if (brackets > pairs * (FORM_DEPTH_MAX - 1))
		brackets = pairs * (FORM_DEPTH_MAX - 1);

	p.root = arena_zalloc(a, sizeof(*p.root));
	if (!p.root)
		return fail(&p, FORM_ERR_NOMEM, "out of memory", "", 0, false);
	p.root->pub.key = "";
	p.root->pub.kind = FORM_OBJECT;
	p.root->shape = SHAPE_NAMED;
	if (pairs > 0) {
		size_t cap = 16;
		while (cap < 2 * (pairs + brackets) + 1)
			cap *= 2;
		p.slots = arena_zalloc(a, cap * sizeof(p.slots[0]));
		if (!p.slots)
			return fail(&p, FORM_ERR_NOMEM, "out of memory", "", 0, false);
		p.mask = cap - 1;
		p.seed = hash_seed();
	}

	size_t pos = 0, ordinal = 0;
	while (pos < len) {
		const char *s = input + pos;
		const char *amp = memchr(s, '&', len - pos);
		size_t n = amp ? (size_t)(amp - s) : len - pos;
		pos += n + 1;
		if (n == 0)
			continue; /* "&&", a trailing '&' */
		int rc = parse_pair(&p, s, n, ++ordinal);
		if (rc != 0)
			return rc;
	}
	int rc = finish(&p);
	if (rc != 0)
		return rc;
	*ret_root = &p.root->pub;
	return 0;
}

static const struct form_node *child_n(const struct form_node *obj, const char *key, size_t n)
{
	if (!obj || obj->kind == FORM_SCALAR)
		return NULL;
	for (const struct form_node *c = obj->first_child; c; c = c->next)
		if (c->key_len == n && memcmp(c->key, key, n) == 0)
			return c;
	return NULL;
}

const struct form_node *form_get(const struct form_node *obj, const char *key)
{
	if (!key)
		return NULL;
	return child_n(obj, key, strlen(key));
}

const struct form_node *form_path(const struct form_node *root, const char *dotted)
{
	if (!root || !dotted)
		return NULL;
	const struct form_node *n = root;
	const char *s = dotted;
	while (*s) {
		const char *dot = strchr(s, '.');
		size_t len = dot ? (size_t)(dot - s) : strlen(s);
		if (len == 0)
			return NULL;
		n = child_n(n, s, len);
		if (!n || !dot)
			return n;
		s = dot + 1;
		if (!*s)
			return NULL; /* "card." */
	}
	return n;
}

static bool unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_' || c == '~';
}

/* Writes s[0..n) percent-encoded at dst (room for 3 * n bytes); returns the bytes written */
static size_t pct_write(char *dst, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t l = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (unreserved(c)) {
			dst[l++] = (char)c;
		} else {
			dst[l++] = '%';
			dst[l++] = hex[c >> 4];
			dst[l++] = hex[c & 15];
		}
	}
	return l;
}

/* key holds the encoded key so far (len of cap bytes); the tree is at most FORM_DEPTH_MAX deep,
 * so the recursion is too */
static void encode_node(struct buf *out, const struct form_node *n, char *key, size_t len,
			size_t cap)
{
	if (n->kind == FORM_SCALAR) {
		if (out->len)
			buf_putc(out, '&');
		buf_append(out, key, len);
		buf_putc(out, '=');
		char chunk[3 * 256];
		for (size_t off = 0; off < n->value_len; off += 256) {
			size_t m = n->value_len - off < 256 ? n->value_len - off : 256;
			buf_append(out, chunk, pct_write(chunk, n->value + off, m));
		}
		return;
	}
	for (const struct form_node *c = n->first_child; c; c = c->next) {
		/* "%5B", each byte of the segment in at most 3, "%5D" */
		if (len + 3 * c->key_len + 6 > cap) {
			out->failed = true;
			return;
		}
		size_t l = len;
		memcpy(key + l, "%5B", 3);
		l += 3;
		l += pct_write(key + l, c->key, c->key_len);
		memcpy(key + l, "%5D", 3);
		l += 3;
		encode_node(out, c, key, l, cap);
	}
}

void form_encode(struct buf *out, const struct form_node *node, const char *name)
{
	size_t n = strlen(name);
	char key[3 * FORM_KEY_MAX + 16];
	if (!node)
		return;
	if (3 * n > sizeof(key)) {
		out->failed = true;
		return;
	}
	encode_node(out, node, key, pct_write(key, name, n), sizeof(key));
}
