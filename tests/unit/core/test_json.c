#include <criterion/criterion.h>
#include <stdio.h>
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

/* JSON_OWN copies a plain string literal without scanning it; every other literal (too long, or
 * needing escaping) and every run-time string takes the scanning path. Both must write the same
 * bytes. */
static void both_ways(const char *lit_out, const char *runtime)
{
	struct buf rb;
	struct json rj;
	buf_init(&rb, 4096);
	json_init(&rj, &rb);
	json_obj_open(&rj);
	json_key_n(&rj, runtime, strlen(runtime), false);
	json_strn_own(&rj, runtime, strlen(runtime), false);
	json_obj_close(&rj);
	cr_assert_str_eq(lit_out, rb.data, "%s", runtime);
	buf_release(&rb);
}

#define LITERAL_BOTH_WAYS(lit)                                                                     \
	do {                                                                                       \
		buf_release(&b);                                                                   \
		buf_init(&b, 4096);                                                                \
		json_init(&j, &b);                                                                 \
		json_obj_open(&j);                                                                 \
		json_kv_str(&j, lit, lit);                                                         \
		json_obj_close(&j);                                                                \
		char copy[] = lit; /* the same text, known only at run time */                     \
		both_ways(b.data, copy);                                                           \
	} while (0)

Test(json, string_literals_and_runtime_strings_write_the_same)
{
	cr_assert(JSON_OWN("amount_capturable"));
	cr_assert_not(JSON_OWN("say \"hi\""));
	cr_assert_not(JSON_OWN("0123456789012345678901234567890123456789x")); /* 41 bytes */
	LITERAL_BOTH_WAYS("");
	LITERAL_BOTH_WAYS("id");
	LITERAL_BOTH_WAYS("cancellation_reason");
	LITERAL_BOTH_WAYS("0123456789012345678901234567890123456789");	/* 40: copied */
	LITERAL_BOTH_WAYS("0123456789012345678901234567890123456789x"); /* 41: scanned */
	LITERAL_BOTH_WAYS("payment_method_configuration_details_long_key_x");
	LITERAL_BOTH_WAYS("say \"hi\"");
	LITERAL_BOTH_WAYS("back\\slash");
	LITERAL_BOTH_WAYS("tab\there");
	LITERAL_BOTH_WAYS("caf\xc3\xa9");
	LITERAL_BOTH_WAYS("bad \xff byte");
	LITERAL_BOTH_WAYS("a long plain value, then a quote at the very end\"");
	cr_assert_str_eq(b.data, "{\"a long plain value, then a quote at the very end\\\"\":"
				 "\"a long plain value, then a quote at the very end\\\"\"}");
}

/* Writes s (len bytes) with json_strn, asserts it is exactly '"' + json_escape(s) + '"', and
 * returns the written length. */
static size_t written_like_the_escaper(const char *s, size_t len, const char *what)
{
	struct buf got, want;
	buf_init(&got, 4096);
	buf_init(&want, 4096);
	struct json gj;
	json_init(&gj, &got);
	json_strn(&gj, s, len);
	buf_putc(&want, '"');
	json_escape(&want, s, len);
	buf_putc(&want, '"');
	cr_assert_str_eq(got.data, want.data, "%s", what);
	size_t n = got.len;
	buf_release(&got);
	buf_release(&want);
	return n;
}

/* The scan reads eight bytes at a time (the last eight overlapping): a byte that needs escaping
 * at any position of a string of any length must still be found. */
Test(json, the_word_at_a_time_scan_finds_every_special_byte)
{
	static const unsigned char specials[] = {'"', '\\', '\n', 0x01, 0x1f, 0x80, 0xc3, 0xff};
	for (size_t len = 1; len <= 26; len++) {
		for (size_t pos = 0; pos < len; pos++) {
			for (size_t k = 0; k < sizeof(specials); k++) {
				char s[32];
				memset(s, 'a', len);
				s[len] = '\0';
				s[pos] = (char)specials[k];
				char what[64];
				snprintf(what, sizeof(what), "len %zu pos %zu byte %02x", len, pos,
					 specials[k]);
				cr_assert_neq(written_like_the_escaper(s, len, what), len + 2, "%s",
					      what);
			}
		}
	}
}

/* Every byte value at every position of a 9-byte string (one 8-byte word and an overlapping
 * tail): the scan's verdict agrees with the escaper, which leaves a plain string as it is. */
Test(json, the_scan_agrees_with_the_escaper_on_every_byte)
{
	for (int c = 1; c < 256; c++) {
		for (size_t pos = 0; pos < 9; pos++) {
			char s[10];
			memset(s, 'a', 9);
			s[9] = '\0';
			s[pos] = (char)c;
			char what[32];
			snprintf(what, sizeof(what), "byte %02x at %zu", c, pos);
			written_like_the_escaper(s, 9, what);
		}
	}
}
