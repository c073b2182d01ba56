/* libFuzzer target: the form decoder must never crash, leak or loop on any input, and the tree
 * it returns must be consistent. */
#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "http/form.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void walk(const struct form_node *n, int depth)
{
	assert(depth <= FORM_DEPTH_MAX + 1);
	size_t count = 0;
	for (const struct form_node *c = n->first_child; c; c = c->next) {
		assert(c->key != NULL);
		assert(strlen(c->key) == c->key_len);
		if (c->kind == FORM_SCALAR) {
			assert(c->value != NULL);
			assert(c->first_child == NULL);
		} else {
			walk(c, depth + 1);
		}
		count++;
	}
	assert(count == n->child_count);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arena a;
	arena_init(&a, 8u << 20);
	struct form_node *root = NULL;
	struct form_error e;
	if (form_parse(&a, (const char *)data, size, &root, &e) == 0) {
		walk(root, 0);
		(void)form_path(root, "card.number");
	} else {
		assert(e.code < 0);
		assert(strlen(e.path) < sizeof(e.path));
	}
	arena_release(&a);
	return 0;
}
