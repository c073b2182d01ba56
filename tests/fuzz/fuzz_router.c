/* libFuzzer target: routing arbitrary method/path pairs never crashes and only ever matches a
 * declared route with the declared number of path arguments. Input: METHOD '\n' PATH. */
#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "http/req.h"
#include "http/router.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 4096)
		return 0;
	char buf[4097];
	memcpy(buf, data, size);
	buf[size] = '\0';
	if (strlen(buf) != size)
		return 0; /* NUL inside: HTTP never hands us that */
	char *nl = strchr(buf, '\n');
	const char *method = "GET";
	const char *path = buf;
	if (nl) {
		*nl = '\0';
		method = buf;
		path = nl + 1;
	}
	struct req r;
	memset(&r, 0, sizeof(r));
	arena_init(&r.arena, 1u << 20);
	int known = 0;
	const struct route *rt = router_match(&r, method, path, &known);
	if (rt) {
		assert(strcmp(rt->method, method) == 0);
		int want = 0;
		for (const char *p = rt->pattern; *p; p++)
			want += *p == '{';
		for (int i = 0; i < want; i++)
			assert(r.args[i] && r.args[i][0]);
	}
	arena_release(&r.arena);
	return 0;
}
