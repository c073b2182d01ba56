/*
 * libFuzzer target for Stripe's search query language (src/api/search.c, search_parse).
 * Built through CMake only (it links the whole library: search_parse reports through req.c).
 *
 * For any bytes (as a query string), search_parse must not crash, leak or overrun, and:
 * - it accepts (0) or refuses (-1), nothing else;
 * - a refusal is a 400 on param `query` with a message, and leaves no clause behind;
 * - an accepted query has 1 … SEARCH_CLAUSES_MAX clauses, each on a field of the spec, with an
 *   operator that field takes, a value, a key exactly when the field is metadata, a number
 *   operator only on a number field, and a substring of at least 3 bytes only where allowed.
 * Checks use CHECK, not assert(): assert vanishes under -DNDEBUG.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/search.h"
#include "http/req.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);   \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

static const struct search_field fields[] = {
    {"amount", SEARCH_NUMBER, false, 1, NULL},
    {"created", SEARCH_NUMBER, false, 2, NULL},
    {"email", SEARCH_STRING, true, 3, NULL},
    {"status", SEARCH_STRING, false, 4, NULL},
    {"refunded", SEARCH_BOOL, false, 5, NULL},
    {"metadata", SEARCH_METADATA, false, 6, NULL},
    {"card.exp_year", SEARCH_NUMBER, false, 7, "exp_year"},
    {"card.last4", SEARCH_STRING, false, 7, "last4"},
    {NULL, 0, false, 0, NULL},
};
/* the fields a clause may name: all of them but the terminator */
#define N_FIELDS (sizeof(fields) / sizeof(fields[0]) - 1)
static const struct search_spec spec = {.resource = "things", .id_prefix = "th_", .fields = fields};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 4096)
		return 0;
	char *query = malloc(size + 1);
	if (!query)
		return 0;
	memcpy(query, data, size);
	query[size] = '\0';
	struct req r;
	memset(&r, 0, sizeof(r));
	arena_init(&r.arena, 1 << 20);
	struct search_query q;
	int rc = search_parse(&r, &spec, query, &q);
	CHECK(rc == 0 || rc == -1);
	if (rc == -1) {
		CHECK(r.err.set);
		CHECK(strcmp(r.err.param, "query") == 0);
	} else {
		CHECK(!r.err.set);
		CHECK(q.n >= 1 && q.n <= SEARCH_CLAUSES_MAX);
		for (int i = 0; i < q.n; i++) {
			const struct search_clause *c = &q.c[i];
			CHECK(c->field >= fields && c->field < fields + N_FIELDS);
			CHECK(c->value != NULL);
			CHECK((c->key != NULL) == (c->field->kind == SEARCH_METADATA));
			CHECK(strchr(":~><gl", c->op) != NULL && c->op != '\0');
			if (c->op == '>' || c->op == '<' || c->op == 'g' || c->op == 'l')
				CHECK(c->field->kind == SEARCH_NUMBER);
			if (c->op == '~')
				CHECK(c->field->substring && strlen(c->value) >= 3 && !c->is_null);
			if (c->field->kind == SEARCH_BOOL && !c->is_null)
				CHECK(c->number == 0 || c->number == 1);
		}
	}
	arena_release(&r.arena);
	free(query);
	return 0;
}
