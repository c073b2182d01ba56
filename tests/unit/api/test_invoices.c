/* The invoice line helpers a preview shares with stored invoices: splitting a stored lines array
 * into its elements, and a line rendered with what discounts took from it. */
#include <criterion/criterion.h>
#include <string.h>

#include "api/billing_internal.h"
#include "core/buf.h"
#include "core/json.h"

Test(invoices, lines_split_takes_top_level_objects_only)
{
	const char *s = "[{\"id\":\"il_1\",\"p\":{\"a\":\"}\"}},{\"id\":\"il_\\\"2\"}]";
	const char *items[4];
	size_t lens[4];
	cr_assert_eq(invoice_lines_split(s, items, lens, 4), 2);
	cr_assert_eq(lens[0], strlen("{\"id\":\"il_1\",\"p\":{\"a\":\"}\"}}"));
	cr_assert_eq(strncmp(items[1], "{\"id\":\"il_\\\"2\"}", lens[1]), 0);
	cr_assert_eq(invoice_lines_split(s, items, lens, 1), 1, "bounded by max");
	cr_assert_eq(invoice_lines_split("[]", items, lens, 4), 0);
}

static char *render(const char *line, const char *amounts)
{
	struct buf b;
	struct json j;
	buf_init(&b, 4096);
	json_init(&j, &b);
	cr_assert_eq(invoice_line_render_with_amounts(line, strlen(line), amounts, &j), 0);
	buf_append(&b, "", 1);
	cr_assert_not(b.failed);
	char *out = strdup(b.data);
	buf_release(&b);
	return out;
}

Test(invoices, line_takes_its_discount_amounts)
{
	const char *line = "{\"id\":\"il_1\",\"amount\":3000,\"discount_amounts\":[],\"x\":1}";
	char *out = render(line, "[{\"amount\":750,\"discount\":\"di_1\"}]");
	cr_assert_str_eq(out,
			 "{\"id\":\"il_1\",\"amount\":3000,\"discount_amounts\":[{\"amount\":750,"
			 "\"discount\":\"di_1\"}],\"x\":1}");
	free(out);
	out = render(line, NULL);
	cr_assert_str_eq(out, line, "no amounts: the line as stored");
	free(out);
	const char *other = "{\"id\":\"il_2\",\"discount_amounts\":[{\"amount\":1}]}";
	out = render(other, "[]");
	cr_assert_str_eq(out, other, "a line without the empty array is left as it is");
	free(out);
}
