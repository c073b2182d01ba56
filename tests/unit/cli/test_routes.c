/* tender routes: the server's own route tables as JSON lines */
#include <criterion/criterion.h>
#include <jansson.h>
#include <string.h>

#include "cli/cli.h"
#include "core/buf.h"
#include "http/params.h"
#include "http/router.h"

static int ok_handler(struct req *r)
{
	(void)r;
	return 0;
}

static const char *const kinds[] = {"a", "b", NULL};
static const struct param_spec part_params[] = {
    {"size", PT_INT, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec widget_params[] = {
    {"amount", PT_INT, PF_REQUIRED, 0, NULL, NULL},
    {"kind", PT_ENUM, 0, 0, kinds, NULL},
    {"parts", PT_OBJECT_ARRAY, 0, 0, NULL, part_params},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct route widget_routes[] = {
    {"POST", "/v1/widgets", ok_handler, widget_params, 0},
    {"GET", "/v1/widgets", ok_handler, NULL, ROUTE_LIST | ROUTE_PUBLISHABLE},
    {"GET", "/w/{id}", ok_handler, NULL, ROUTE_NO_AUTH | ROUTE_RAW},
    {NULL, NULL, NULL, NULL, 0},
};

Test(cli_routes, one_json_line_per_route_with_flags_and_params)
{
	const struct route *const tables[] = {widget_routes, NULL};
	struct buf b;
	buf_init(&b, 0);
	cr_assert_eq(routes_write_json(&b, tables), 3);
	const char *lines[3];
	char *text = strdup(buf_cstr(&b));
	char *save = NULL;
	int n = 0;
	for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
		lines[n++] = l;
	cr_assert_eq(n, 3);

	json_error_t e;
	json_t *first = json_loads(lines[0], 0, &e);
	cr_assert_not_null(first, "%s", e.text);
	cr_assert_str_eq(json_string_value(json_object_get(first, "method")), "POST");
	cr_assert_str_eq(json_string_value(json_object_get(first, "pattern")), "/v1/widgets");
	cr_assert_eq(json_array_size(json_object_get(first, "flags")), 0);
	json_t *params = json_object_get(first, "params");
	cr_assert_eq(json_array_size(params), 3);
	json_t *parts = json_array_get(params, 2);
	cr_assert_str_eq(json_string_value(json_object_get(parts, "type")), "object_array");
	cr_assert_str_eq(json_string_value(json_object_get(
			     json_array_get(json_object_get(parts, "children"), 0), "name")),
			 "size");
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(params, 0), "name")),
			 "amount");
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(params, 0), "type")),
			 "integer");
	cr_assert(json_is_true(json_object_get(json_array_get(params, 0), "required")));
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(params, 1), "type")),
			 "enum");
	json_decref(first);

	json_t *list = json_loads(lines[1], 0, &e);
	cr_assert_not_null(list);
	json_t *flags = json_object_get(list, "flags");
	cr_assert_eq(json_array_size(flags), 2);
	cr_assert_str_eq(json_string_value(json_array_get(flags, 0)), "publishable");
	cr_assert_str_eq(json_string_value(json_array_get(flags, 1)), "list");
	json_decref(list);

	json_t *page = json_loads(lines[2], 0, &e);
	cr_assert_not_null(page);
	flags = json_object_get(page, "flags");
	cr_assert_str_eq(json_string_value(json_array_get(flags, 0)), "no_auth");
	cr_assert_str_eq(json_string_value(json_array_get(flags, 1)), "raw");
	json_decref(page);
	free(text);
	buf_release(&b);
}

Test(cli_routes, the_servers_tables_are_all_listed)
{
	int want = 0;
	for (const struct route *const *t = api_route_tables; *t; t++)
		for (const struct route *rt = *t; rt->method; rt++)
			want++;
	struct buf b;
	buf_init(&b, 0);
	cr_assert_eq(routes_write_json(&b, api_route_tables), want);
	cr_assert_gt(want, 100);
	int lines = 0;
	for (size_t i = 0; i < b.len; i++)
		lines += b.data[i] == '\n';
	cr_assert_eq(lines, want);
	cr_assert(strstr(buf_cstr(&b), "\"pattern\":\"/v1/customers/{id}\""));
	buf_release(&b);
}
