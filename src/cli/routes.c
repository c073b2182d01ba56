/* tender routes: the route table the server dispatches on, as JSON lines */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/buf.h"
#include "core/json.h"
#include "http/params.h"
#include "http/router.h"

static const struct {
	unsigned flag;
	const char *name;
} route_flags[] = {
    {ROUTE_PUBLISHABLE, "publishable"},
    {ROUTE_LIST, "list"},
    {ROUTE_NO_AUTH, "no_auth"},
    {ROUTE_RAW, "raw"},
    {ROUTE_PAGE_LIMIT, "page_limit"},
    {ROUTE_READ_ONLY, "read_only"},
    {ROUTE_MULTIPART, "multipart"},
    {ROUTE_EPHEMERAL, "ephemeral"},
    {ROUTE_STRIPE_VERSION, "stripe_version"},
};

static const char *const param_types[] = {
    [PT_STRING] = "string",
    [PT_INT] = "integer",
    [PT_BOOL] = "boolean",
    [PT_ENUM] = "enum",
    [PT_METADATA] = "metadata",
    [PT_EXPAND] = "expand",
    [PT_STRING_ARRAY] = "array",
    [PT_OBJECT] = "object",
    [PT_CURRENCY] = "currency",
    [PT_RANGE] = "range",
    [PT_HASH] = "hash",
    [PT_OBJECT_ARRAY] = "object_array",
    [PT_OBJECT_MAP] = "object_map",
};

static void write_params(struct json *j, const struct param_spec *spec)
{
	json_arr_open(j);
	for (const struct param_spec *sp = spec; sp && sp->name; sp++) {
		json_obj_open(j);
		json_kv_str(j, "name", sp->name);
		unsigned t = (unsigned)sp->type;
		json_kv_str(j, "type",
			    t < sizeof(param_types) / sizeof(param_types[0]) && param_types[t]
				? param_types[t]
				: "unknown");
		json_kv_bool(j, "required", (sp->flags & PF_REQUIRED) != 0);
		if (sp->type == PT_ENUM && sp->enum_values) {
			json_key(j, "enum");
			json_arr_open(j);
			for (const char *const *v = sp->enum_values; *v; v++)
				json_str(j, *v);
			json_arr_close(j);
		}
		/* a hash's or an array of hashes' own parameters (items[0][price], …) */
		if (sp->children && sp->children->name) {
			json_key(j, "children");
			write_params(j, sp->children);
		}
		json_obj_close(j);
	}
	json_arr_close(j);
}

int routes_write_json(struct buf *b, const struct route *const *tables)
{
	int n = 0;
	for (const struct route *const *t = tables; *t; t++) {
		for (const struct route *rt = *t; rt->method; rt++) {
			struct json j;
			json_init(&j, b);
			json_obj_open(&j);
			json_kv_str(&j, "method", rt->method);
			json_kv_str(&j, "pattern", rt->pattern);
			json_key(&j, "flags");
			json_arr_open(&j);
			for (size_t i = 0; i < sizeof(route_flags) / sizeof(route_flags[0]); i++)
				if (rt->flags & route_flags[i].flag)
					json_str(&j, route_flags[i].name);
			json_arr_close(&j);
			/* what params_validate accepts: the route's own table (and, for list
			 * routes, the common list parameters it adds) */
			json_key(&j, "params");
			write_params(&j, rt->params);
			json_obj_close(&j);
			buf_putc(b, '\n');
			n++;
		}
	}
	return b->failed ? -1 : n;
}

int cli_routes(int argc, char **argv)
{
	if (argc > 1) {
		bool help = strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0;
		fputs(
		    "usage: tender routes\n"
		    "\n"
		    "  prints every API route the server dispatches on, one JSON object a line:\n"
		    "  {method, pattern, flags, params}, in the order the router tries them.\n"
		    "  flags: publishable, list, no_auth, raw, page_limit, read_only, multipart,\n"
		    "  ephemeral, stripe_version; params: the declared parameters {name, type,\n"
		    "  required, enum, children} (list routes also take limit, starting_after, "
		    "ending_before,\n"
		    "  created; every route takes expand)\n",
		    help ? stdout : stderr);
		return help ? 0 : 2;
	}
	struct buf b;
	buf_init(&b, 0);
	int n = routes_write_json(&b, api_route_tables);
	if (n < 0) {
		fputs("tender routes: out of memory\n", stderr);
		buf_release(&b);
		return 1;
	}
	fwrite(b.data, 1, b.len, stdout);
	buf_release(&b);
	return 0;
}
