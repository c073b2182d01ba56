#include "http/form.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/redact.h"

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool utf8_valid(const unsigned char *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		unsigned char c = s[i];
		size_t len;
		uint32_t cp;
		if (c < 0x80) {
			i++;
			continue;
		} else if (c >= 0xc2 && c <= 0xdf) {
			len = 2;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			len = 3;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			len = 4;
			cp = c & 0x07;
		} else {
			return false;
		}
		if (n - i < len)
			return false;
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

/* Percent-decodes s[0..n) into arena memory. */
static int decode(struct arena *a, const char *s, size_t n, size_t max, char **ret, size_t *ret_len)
{
	if (n > max * 3)
		return FORM_ERR_LIMIT;
	char *out = arena_alloc(a, n + 1);
	if (!out)
		return FORM_ERR_NOMEM;
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '+') {
			out[o++] = ' ';
		} else if (c == '%') {
			if (i + 2 >= n)
				return FORM_ERR_MALFORMED;
			int h = hexval(s[i + 1]), l = hexval(s[i + 2]);
			if (h < 0 || l < 0)
				return FORM_ERR_MALFORMED;
			char v = (char)(h * 16 + l);
			if (v == '\0')
				return FORM_ERR_ENCODING;
			out[o++] = v;
			i += 2;
		} else if (c == '\0') {
			return FORM_ERR_ENCODING; /* a raw NUL would cut the string short */
		} else {
			out[o++] = c;
		}
	}
	out[o] = '\0';
	if (o > max)
		return FORM_ERR_LIMIT;
	if (!utf8_valid((const unsigned char *)out, o))
		return FORM_ERR_ENCODING;
	*ret = out;
	*ret_len = o;
	return 0;
}

enum seg_kind { SEG_NAME, SEG_INDEX, SEG_PUSH };

struct seg {
	const char *s;
	size_t n;
	enum seg_kind kind;
	long index;
};

/* Splits "a[b][0][]" into segments. */
static int split_key(char *key, size_t n, struct seg *segs, int *ret_count)
{
	size_t i = 0;
	int count = 0;
	while (i < n && key[i] != '[' && key[i] != ']')
		i++;
	if (i == 0 || (i < n && key[i] == ']'))
		return FORM_ERR_MALFORMED;
	segs[count++] = (struct seg){key, i, SEG_NAME, 0};
	while (i < n) {
		if (key[i] != '[')
			return FORM_ERR_MALFORMED;
		size_t start = ++i;
		while (i < n && key[i] != ']' && key[i] != '[')
			i++;
		if (i >= n || key[i] != ']')
			return FORM_ERR_MALFORMED;
		size_t len = i - start;
		i++;
		if (count >= FORM_DEPTH_MAX)
			return FORM_ERR_LIMIT;
		struct seg sg = {key + start, len, SEG_NAME, 0};
		if (len == 0) {
			sg.kind = SEG_PUSH;
		} else {
			bool digits = len <= 4;
			for (size_t k = 0; k < len && digits; k++)
				digits = key[start + k] >= '0' && key[start + k] <= '9';
			if (digits) {
				long v = 0;
				for (size_t k = 0; k < len; k++)
					v = v * 10 + (key[start + k] - '0');
				if (v > FORM_INDEX_MAX)
					return FORM_ERR_LIMIT;
				sg.kind = SEG_INDEX;
				sg.index = v;
			}
		}
		segs[count++] = sg;
	}
	for (int k = 0; k < count; k++) {
		/* terminate each segment in place: the brackets are no longer needed */
		((char *)segs[k].s)[segs[k].n] = '\0';
	}
	*ret_count = count;
	return 0;
}

static struct form_node *child_find(struct form_node *parent, const char *key, size_t n)
{
	for (struct form_node *c = parent->first_child; c; c = c->next)
		if (c->key_len == n && memcmp(c->key, key, n) == 0)
			return c;
	return NULL;
}

static struct form_node *child_add(struct arena *a, struct form_node *parent, const char *key,
                                   size_t n, enum form_kind kind)
{
	if (parent->child_count >= FORM_ITEMS_MAX)
		return NULL;
	struct form_node *c = arena_zalloc(a, sizeof(*c));
	if (!c)
		return NULL;
	c->key = key;
	c->key_len = n;
	c->kind = kind;
	if (parent->last_child)
		parent->last_child->next = c;
	else
		parent->first_child = c;
	parent->last_child = c;
	parent->child_count++;
	return c;
}

static void set_error(struct form_error *e, int code, const char *key, const char *message)
{
	e->code = code;
	e->message = message;
	if (!key || redact_pan_like(key, strlen(key)))
		snprintf(e->path, sizeof(e->path), "%s", key ? "(parameter name omitted)" : "");
	else
		snprintf(e->path, sizeof(e->path), "%.120s", key);
}

/* Inserts one decoded pair. */
static int insert(struct arena *a, struct form_node *root, struct seg *segs, int count,
                  char *value, size_t vlen)
{
	struct form_node *cur = root;
	for (int i = 0; i < count; i++) {
		bool last = i == count - 1;
		struct seg *sg = &segs[i];
		enum form_kind want = last ? FORM_SCALAR
		                           : (segs[i + 1].kind == SEG_NAME ? FORM_OBJECT : FORM_ARRAY);
		if (cur->kind == FORM_ARRAY) {
			int mode = sg->kind == SEG_PUSH ? 2 : sg->kind == SEG_INDEX ? 1 : 0;
			if (mode == 0)
				return FORM_ERR_CONFLICT;
			if (cur->array_mode && cur->array_mode != mode)
				return FORM_ERR_CONFLICT;
			cur->array_mode = mode;
		} else if (sg->kind != SEG_NAME && i > 0) {
			return FORM_ERR_CONFLICT;
		}
		struct form_node *c = NULL;
		if (sg->kind == SEG_PUSH) {
			if (!last)
				return FORM_ERR_MALFORMED; /* x[][k] is ambiguous: use x[0][k] */
			char *idx = arena_printf(a, "%zu", cur->child_count);
			if (!idx)
				return FORM_ERR_NOMEM;
			c = child_add(a, cur, idx, strlen(idx), FORM_SCALAR);
			if (!c)
				return cur->child_count >= FORM_ITEMS_MAX ? FORM_ERR_LIMIT : FORM_ERR_NOMEM;
			c->index = (long)cur->child_count - 1;
		} else {
			c = child_find(cur, sg->s, sg->n);
			if (c) {
				if (last)
					return c->kind == FORM_SCALAR ? FORM_ERR_DUPLICATE : FORM_ERR_CONFLICT;
				if (c->kind != want)
					return FORM_ERR_CONFLICT;
			} else {
				c = child_add(a, cur, sg->s, sg->n, want);
				if (!c)
					return cur->child_count >= FORM_ITEMS_MAX ? FORM_ERR_LIMIT
					                                          : FORM_ERR_NOMEM;
				c->index = sg->index;
			}
		}
		if (last) {
			c->value = value;
			c->value_len = vlen;
		}
		cur = c;
	}
	return 0;
}

/* Array items end up in numeric index order (insertion sort: arrays are small and bounded). */
static void sort_arrays(struct form_node *n, int depth)
{
	if (depth > FORM_DEPTH_MAX + 1)
		return;
	for (struct form_node *c = n->first_child; c; c = c->next)
		if (c->kind != FORM_SCALAR)
			sort_arrays(c, depth + 1);
	if (n->kind != FORM_ARRAY || n->array_mode != 1)
		return;
	struct form_node *sorted = NULL;
	struct form_node *c = n->first_child;
	while (c) {
		struct form_node *next = c->next;
		struct form_node **pp = &sorted;
		while (*pp && (*pp)->index <= c->index)
			pp = &(*pp)->next;
		c->next = *pp;
		*pp = c;
		c = next;
	}
	n->first_child = sorted;
	n->last_child = sorted;
	while (n->last_child && n->last_child->next)
		n->last_child = n->last_child->next;
}

int form_parse(struct arena *a, const char *input, size_t len, struct form_node **ret_root,
               struct form_error *e)
{
	memset(e, 0, sizeof(*e));
	struct form_node *root = arena_zalloc(a, sizeof(*root));
	if (!root) {
		set_error(e, FORM_ERR_NOMEM, NULL, "out of memory");
		return FORM_ERR_NOMEM;
	}
	root->kind = FORM_OBJECT;
	root->key = "";
	size_t pos = 0, pairs = 0;
	while (pos < len) {
		size_t end = pos;
		while (end < len && input[end] != '&')
			end++;
		if (end > pos) {
			if (++pairs > FORM_PAIRS_MAX) {
				set_error(e, FORM_ERR_LIMIT, NULL, "too many parameters");
				return FORM_ERR_LIMIT;
			}
			const char *eq = memchr(input + pos, '=', end - pos);
			size_t klen = eq ? (size_t)(eq - (input + pos)) : end - pos;
			const char *vs = eq ? eq + 1 : input + end;
			size_t vlen = eq ? (size_t)(input + end - vs) : 0;
			char *key, *value;
			size_t dk, dv;
			int rc = decode(a, input + pos, klen, FORM_KEY_MAX, &key, &dk);
			if (rc != 0) {
				set_error(e, rc, NULL,
				          rc == FORM_ERR_LIMIT ? "a parameter name is too long"
				                               : "a parameter name is not valid "
				                                 "percent-encoded UTF-8");
				return rc;
			}
			char *key_copy = arena_strndup(a, key, dk);
			if (!key_copy) {
				set_error(e, FORM_ERR_NOMEM, NULL, "out of memory");
				return FORM_ERR_NOMEM;
			}
			rc = decode(a, vs, vlen, FORM_VALUE_MAX, &value, &dv);
			if (rc != 0) {
				set_error(e, rc, key_copy,
				          rc == FORM_ERR_LIMIT ? "a parameter value is too long"
				                               : "a parameter value is not valid "
				                                 "percent-encoded UTF-8");
				return rc;
			}
			if (dk == 0) {
				set_error(e, FORM_ERR_MALFORMED, NULL, "a parameter has no name");
				return FORM_ERR_MALFORMED;
			}
			struct seg segs[FORM_DEPTH_MAX + 1];
			int count = 0;
			rc = split_key(key, dk, segs, &count);
			if (rc == 0)
				rc = insert(a, root, segs, count, value, dv);
			if (rc != 0) {
				const char *msg = rc == FORM_ERR_DUPLICATE ? "the parameter is repeated"
				                  : rc == FORM_ERR_CONFLICT
				                      ? "the parameter is used both as a value and as a "
				                        "hash or array"
				                  : rc == FORM_ERR_LIMIT  ? "the parameter is nested too deeply"
				                  : rc == FORM_ERR_NOMEM  ? "out of memory"
				                                          : "the parameter's brackets are "
				                                            "malformed";
				set_error(e, rc, key_copy, msg);
				return rc;
			}
		}
		pos = end + 1;
	}
	sort_arrays(root, 0);
	*ret_root = root;
	return 0;
}

const struct form_node *form_get(const struct form_node *obj, const char *key)
{
	if (!obj || obj->kind == FORM_SCALAR)
		return NULL;
	size_t n = strlen(key);
	for (const struct form_node *c = obj->first_child; c; c = c->next)
		if (c->key_len == n && memcmp(c->key, key, n) == 0)
			return c;
	return NULL;
}

const struct form_node *form_path(const struct form_node *root, const char *dotted)
{
	char seg[FORM_KEY_MAX + 1];
	const struct form_node *n = root;
	const char *p = dotted;
	while (n && *p) {
		const char *dot = strchr(p, '.');
		size_t len = dot ? (size_t)(dot - p) : strlen(p);
		if (len > FORM_KEY_MAX)
			return NULL;
		memcpy(seg, p, len);
		seg[len] = '\0';
		n = form_get(n, seg);
		p = dot ? dot + 1 : p + len;
	}
	return n;
}
