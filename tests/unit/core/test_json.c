#include <criterion/criterion.h>
#include <string.h>

#include "core/json.h"

static struct buf b;
static struct json j;

static void setup(void)
{
	buf_init(&b, 4096);
	json_init(&j, &b);
}

static void teardown(void)
{
	buf_release(&b);
}

TestSuite(json, .init = setup, .fini = teardown);

Test(json, nested_objects_and_commas)
{
	json_obj_open(&j);
	json_kv_str(&j, "id", "cus_1");
	json_kv_int(&j, "amount", -42);
	json_key(&j, "list");
	json_arr_open(&j);
	json_int(&j, 1);
	json_nil(&j);
	json_bool(&j, true);
	json_obj_open(&j);
	json_obj_close(&j);
	json_arr_close(&j);
	json_kv_str_or_null(&j, "x", NULL);
	json_kv_raw(&j, "m", "{\"a\":\"b\"}", 9);
	json_obj_close(&j);
	cr_assert_str_eq(buf_cstr(&b),
	                 "{\"id\":\"cus_1\",\"amount\":-42,\"list\":[1,null,true,{}],\"x\":null,"
	                 "\"m\":{\"a\":\"b\"}}");
	cr_assert(!b.failed);
}

Test(json, escapes_control_quotes_and_invalid_utf8)
{
	json_str(&j, "a\"b\\c\n\x01\xff\xc3\xa9");
	cr_assert_str_eq(buf_cstr(&b), "\"a\\\"b\\\\c\\n\\u0001\\ufffd\xc3\xa9\"");
}

Test(json, int64_extremes)
{
	json_arr_open(&j);
	json_int(&j, INT64_MAX);
	json_int(&j, INT64_MIN);
	json_arr_close(&j);
	cr_assert_str_eq(buf_cstr(&b), "[9223372036854775807,-9223372036854775808]");
}

Test(json, depth_overflow_fails_instead_of_writing_garbage)
{
	for (int i = 0; i < JSON_DEPTH_MAX + 2; i++)
		json_arr_open(&j);
	cr_assert(b.failed);
}

Test(json, buffer_max_is_sticky)
{
	struct buf small;
	struct json sj;
	buf_init(&small, 8);
	json_init(&sj, &small);
	json_str(&sj, "this is far longer than eight bytes");
	cr_assert(small.failed);
	json_int(&sj, 1);
	cr_assert(small.len <= 8);
	buf_release(&small);
}

Test(json, keys_and_values_that_need_escaping_mix_with_plain_ones)
{
	json_obj_open(&j);
	json_kv_str(&j, "plain", "v");
	json_kv_str(&j, "qu\"ote", "line\nbreak");
	json_kv_int(&j, "zero", 0);
	json_key(&j, "arr");
	json_arr_open(&j);
	json_str(&j, "a");
	json_str(&j, "\xc3\xa9");
	json_str(&j, "");
	json_arr_close(&j);
	json_kv_bool(&j, "f", false);
	json_obj_close(&j);
	cr_assert_str_eq(buf_cstr(&b), "{\"plain\":\"v\",\"qu\\\"ote\":\"line\\nbreak\",\"zero\":0,"
	                               "\"arr\":[\"a\",\"\xc3\xa9\",\"\"],\"f\":false}");
}

/* The inline append path must respect max even when the allocation is larger than max. */
Test(json, max_holds_when_capacity_exceeds_it)
{
	struct buf m;
	struct json mj;
	buf_init(&m, 300); /* capacity grows in powers of two: 512 */
	json_init(&mj, &m);
	json_arr_open(&mj);
	for (int i = 0; i < 200; i++)
		json_str(&mj, "abc");
	cr_assert(m.failed);
	cr_assert(m.len <= 300, "len %zu", m.len);
	buf_release(&m);
}
