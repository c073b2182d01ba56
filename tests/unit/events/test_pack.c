/*
 * Packed event objects (events/pack.h): they come back byte for byte, plain JSON passes through,
 * damage is refused; and on the SQLite store an event's object is kept packed and rendered back
 * as the same JSON, whether the writer packed it or the caller did.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events/events.h"
#include "events/pack.h"
#include "events/pack_dict.h"
#include "store/store.h"

/* a payment intent as Tender renders one (shape of the dictionary's, other values) */
static const char PI[] =
    "{\"id\":\"pi_0VdT0000000000000000abcd\",\"object\":\"payment_intent\",\"amount\":4599,"
    "\"amount_capturable\":0,\"amount_details\":{\"tip\":{}},\"amount_received\":4599,"
    "\"application\":null,\"application_fee_amount\":null,\"automatic_payment_methods\":null,"
    "\"canceled_at\":null,\"cancellation_reason\":null,\"capture_method\":\"automatic\","
    "\"client_secret\":\"pi_0VdT0000000000000000abcd_secret_Zq81\",\"confirmation_method\":"
    "\"automatic\",\"created\":1800000000,\"currency\":\"eur\",\"customer\":\"cus_9\","
    "\"description\":\"Café ☕ order \\\"7\\\"\",\"invoice\":null,\"last_payment_error\":null,"
    "\"latest_charge\":\"ch_1\",\"livemode\":false,\"metadata\":{\"order\":\"7\"},"
    "\"next_action\":null,\"status\":\"succeeded\"}";

static void unpack_ok(const struct buf *packed, const char *want, size_t want_len)
{
	struct buf scratch;
	buf_init(&scratch, BUF_MAX_DEFAULT);
	const char *json = NULL;
	size_t len = 0;
	cr_assert_eq(event_unpack(packed->data, packed->len, &scratch, &json, &len), 0);
	cr_assert_eq(len, want_len);
	cr_assert_eq(memcmp(json, want, len), 0);
	buf_release(&scratch);
}

Test(event_pack, an_object_comes_back_byte_for_byte_and_smaller)
{
	struct buf b;
	buf_init(&b, BUF_MAX_DEFAULT);
	cr_assert_eq(event_pack(PI, strlen(PI), &b), 0);
	cr_assert(event_is_packed(b.data, b.len));
	cr_assert_eq((unsigned char)b.data[0], EVENT_PACK_DICT_2);
	cr_assert_lt(b.len * 3, strlen(PI), "packed %zu of %zu bytes", b.len, strlen(PI));
	unpack_ok(&b, PI, strlen(PI));
	buf_release(&b);
}

Test(event_pack, objects_unlike_the_dictionary_and_empty_ones_come_back_too)
{
	/* 64 KiB of text with nothing in common with the dictionary */
	size_t n = 64 * 1024;
	char *big = malloc(n);
	cr_assert_not_null(big);
	uint32_t x = 12345;
	for (size_t i = 0; i < n; i++) {
		x = x * 1103515245u + 12345u;
		big[i] = (char)('!' + (x >> 16) % 90);
	}
	struct buf b;
	buf_init(&b, BUF_MAX_DEFAULT);
	cr_assert_eq(event_pack(big, n, &b), 0);
	unpack_ok(&b, big, n);
	buf_reset(&b);
	cr_assert_eq(event_pack("{}", 2, &b), 0);
	unpack_ok(&b, "{}", 2);
	buf_release(&b);
	free(big);
}

Test(event_pack, plain_json_passes_through_untouched)
{
	struct buf scratch;
	buf_init(&scratch, BUF_MAX_DEFAULT);
	const char *json = NULL;
	size_t len = 0;
	cr_assert_not(event_is_packed(PI, strlen(PI)));
	cr_assert_eq(event_unpack(PI, strlen(PI), &scratch, &json, &len), 0);
	cr_assert_eq(json, PI, "plain JSON is not copied");
	cr_assert_eq(len, strlen(PI));
	cr_assert_eq(scratch.len, 0);
	buf_release(&scratch);
}

Test(event_pack, damaged_or_unknown_bytes_are_refused)
{
	struct buf b, scratch;
	buf_init(&b, BUF_MAX_DEFAULT);
	buf_init(&scratch, BUF_MAX_DEFAULT);
	cr_assert_eq(event_pack(PI, strlen(PI), &b), 0);
	const char *json = NULL;
	size_t len = 0;
	/* cut short */
	cr_assert_neq(event_unpack(b.data, b.len / 2, &scratch, &json, &len), 0);
	/* a flipped byte in the compressed data: zstd's frame checks or the size catch it */
	for (size_t i = 8; i < b.len; i += 7) {
		struct buf c;
		buf_init(&c, BUF_MAX_DEFAULT);
		buf_append(&c, b.data, b.len);
		c.data[i] ^= 0x5a;
		buf_reset(&scratch);
		if (event_unpack(c.data, c.len, &scratch, &json, &len) == 0)
			/* the rare flip zstd cannot see still gives an object of the right size */
			cr_assert_eq(len, strlen(PI));
		buf_release(&c);
	}
	/* the header alone */
	cr_assert_neq(event_unpack(b.data, 1, &scratch, &json, &len), 0);
	/* a dictionary this build does not have: refused, not passed off as JSON */
	b.data[0] = EVENT_PACK_DICT_2 + 1;
	cr_assert(event_is_packed(b.data, b.len));
	cr_assert_neq(event_unpack(b.data, b.len, &scratch, &json, &len), 0);
	cr_assert_eq(scratch.len, 0, "a refused unpacking leaves scratch as it was");
	buf_release(&b);
	buf_release(&scratch);
}

Test(event_pack, the_dictionaries_are_the_ones_stored_objects_were_packed_with)
{
	/* Changing a dictionary would make every object packed with it unreadable. Their sizes and
	 * ends are pinned here: a new dictionary goes beside them, under a new first byte. */
	cr_assert_eq(event_dict_1_len, 14325);
	cr_assert_eq(strncmp(event_dict_1, "{\"id\":\"cus_XXXXXXXXXXXXXXXXXXXXXXXX\"", 36), 0);
	cr_assert_eq(strcmp(event_dict_1 + event_dict_1_len - 22, "\"transfer_group\":null}"), 0,
		     "%s", event_dict_1 + event_dict_1_len - 22);
	/* dictionary 2's head: zstd's dictionary magic number, id 2, then its tables */
	cr_assert_eq(event_dict_2_head_len, 153);
	cr_assert_eq(memcmp(event_dict_2_head, "\x37\xa4\x30\xec\x02\x00\x00\x00", 8), 0);
	cr_assert_eq(memcmp(event_dict_2_head + 145, "\x04\x00\x00\x00\x08\x00\x00\x00", 8), 0);
}

/* An object packed by an earlier Tender, with each dictionary, as the bytes are in its store. */
static const char OLD_OBJECT[] =
    "{\"id\":\"pi_0VcrldAT00000Bau9zLp0Mek\",\"object\":\"payment_intent\","
    "\"amount\":2000,\"currency\":\"usd\",\"status\":\"succeeded\","
    "\"metadata\":{}}";

static void stored_unpacks(const char *bytes, size_t n)
{
	struct buf b;
	buf_init(&b, BUF_MAX_DEFAULT);
	buf_append(&b, bytes, n);
	cr_assert(event_is_packed(b.data, b.len));
	unpack_ok(&b, OLD_OBJECT, strlen(OLD_OBJECT));
	buf_release(&b);
}

Test(event_pack, objects_stored_with_either_dictionary_come_back)
{
	/* packed with dictionary 1 (2026-12-03 to 12-04) */
	static const char with_1[] =
	    "\x01\x28\xb5\x2f\xfd\x20\x80\x9d\x01\x00\xd0\x30\x56\x63\x72\x6c\x64\x41\x54\x30\x30"
	    "\x30\x30\x30\x42\x61\x75\x39\x7a\x4c\x70\x30\x4d\x65\x6b\x22\x7d\x07\x00\x87\x85\x1c"
	    "\x48\x94\x3f\x28\x14\x03\x3a\x45\x35\x40\x2f\x38\x80\x02\x32\x4e\x0b\x1f\x2b";
	stored_unpacks(with_1, sizeof(with_1) - 1);
	/* packed with dictionary 2 (no dictionary id in the frame) */
	static const char with_2[] =
	    "\x02\x28\xb5\x2f\xfd\x20\x80\x8d\x01\x00\xd0\x30\x56\x63\x72\x6c\x64\x41\x54\x30\x30"
	    "\x30\x30\x30\x42\x61\x75\x39\x7a\x4c\x70\x30\x4d\x65\x6b\x22\x7d\x07\xfc\x87\x55\x80"
	    "\x44\x9e\x29\x44\xd0\x29\x6a\xd3\xcb\xac\xed\x3a\x6d\xb3\x4e\x6f\x01";
	stored_unpacks(with_2, sizeof(with_2) - 1);
}

static void *pack_in_thread(void *arg)
{
	(void)arg;
	for (int i = 0; i < 200; i++) {
		struct buf b;
		buf_init(&b, BUF_MAX_DEFAULT);
		if (event_pack(PI, strlen(PI), &b) != 0)
			return (void *)1;
		struct buf scratch;
		buf_init(&scratch, BUF_MAX_DEFAULT);
		const char *json = NULL;
		size_t len = 0;
		int bad = event_unpack(b.data, b.len, &scratch, &json, &len) != 0 ||
			  len != strlen(PI) || memcmp(json, PI, len) != 0;
		buf_release(&b);
		buf_release(&scratch);
		if (bad)
			return (void *)1;
	}
	return NULL;
}

Test(event_pack, threads_pack_and_unpack_side_by_side)
{
	pthread_t t[4];
	for (int i = 0; i < 4; i++)
		cr_assert_eq(pthread_create(&t[i], NULL, pack_in_thread, NULL), 0);
	for (int i = 0; i < 4; i++) {
		void *rc = NULL;
		pthread_join(t[i], &rc);
		cr_assert_null(rc);
	}
}

/* ---- on the SQLite store ---- */

static char dir[256];
static struct store *st_;

static void store_setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/tender-unit-pack-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	char err[256];
	struct store_config cfg = {.data_dir = dir};
	cr_assert_eq(store_open(&st_, &cfg, err, sizeof(err)), 0, "%s", err);
}

static void store_teardown(void)
{
	store_close(st_);
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

struct ev_ctx {
	const struct buf *packed; /* NULL: event_append packs */
	char id[ID_MAX];
	char type[16];
	int64_t stored_len;
	char rendered[4096];
};

static int append_fn(struct db *db, void *p)
{
	struct ev_ctx *c = p;
	struct event_origin o = {"req_1", NULL, 0};
	return event_append_packed(db, "acct_a", &o, "payment_intent.succeeded", "pi_1", PI,
				   strlen(PI), c->packed, NULL, 1800000000, c->id);
}

/* How the event c->id is stored (type and length of data_object), and its rendering in out. */
static void read_event(struct db *db, struct ev_ctx *c, struct buf *out)
{
	struct db_stmt *s = db_prepare(
	    db, "SELECT typeof(data_object), length(data_object) FROM events WHERE merchant_id = $1"
		" AND id = $2");
	db_bind_text(s, 1, "acct_a", -1);
	db_bind_text(s, 2, c->id, -1);
	cr_assert_eq(db_step(s), DB_ROW);
	snprintf(c->type, sizeof(c->type), "%s", db_col_text(s, 0, NULL));
	c->stored_len = db_col_int64(s, 1);
	db_reset(s);
	buf_init(out, BUF_MAX_DEFAULT);
	struct json j;
	json_init(&j, out);
	cr_assert_eq(event_render(db, "acct_a", c->id, &j), DB_OK);
}

static int read_fn(struct db *db, void *p)
{
	struct ev_ctx *c = p;
	struct buf out;
	read_event(db, c, &out);
	snprintf(c->rendered, sizeof(c->rendered), "%s", buf_cstr(&out));
	buf_release(&out);
	return 0;
}

static void check_stored(struct ev_ctx *c)
{
	cr_assert_eq(store_read(st_, "acct_a", read_fn, c), 0);
	cr_assert_str_eq(c->type, "blob");
	cr_assert_lt(c->stored_len * 3, (int64_t)strlen(PI));
	const char *at = strstr(c->rendered, "\"data\":{\"object\":");
	cr_assert_not_null(at, "%s", c->rendered);
	at += strlen("\"data\":{\"object\":");
	cr_assert_eq(strncmp(at, PI, strlen(PI)), 0, "%s", c->rendered);
}

Test(event_pack, the_sqlite_store_keeps_objects_packed_and_renders_them_back, .init = store_setup,
     .fini = store_teardown)
{
	cr_assert(event_packs(store_kind(st_)));
	cr_assert_not(event_packs(DB_POSTGRES));
	/* packed by event_append, on the writer */
	struct ev_ctx a = {0};
	cr_assert_eq(store_write(st_, "acct_a", append_fn, &a), 0);
	check_stored(&a);
	/* packed by the caller beforehand */
	struct buf pre;
	buf_init(&pre, BUF_MAX_DEFAULT);
	cr_assert_eq(event_pack(PI, strlen(PI), &pre), 0);
	struct ev_ctx b = {.packed = &pre};
	cr_assert_eq(store_write(st_, "acct_a", append_fn, &b), 0);
	check_stored(&b);
	cr_assert_eq(a.stored_len, b.stored_len);
	/* a caller's buffer that is not a packed object is not trusted: packed again */
	struct buf junk;
	buf_init(&junk, BUF_MAX_DEFAULT);
	buf_puts(&junk, "{\"not\":\"packed\"}");
	struct ev_ctx c = {.packed = &junk};
	cr_assert_eq(store_write(st_, "acct_a", append_fn, &c), 0);
	check_stored(&c);
	buf_release(&pre);
	buf_release(&junk);
}

/* an object past what a reader unpacks: refused by event_pack, kept as JSON text by the store */
static char *big_json;
static size_t big_len;

static int append_big_fn(struct db *db, void *p)
{
	struct ev_ctx *c = p;
	struct event_origin o = {NULL, NULL, 0};
	return event_append(db, "acct_a", &o, "customer.updated", "cus_1", big_json, big_len, NULL,
			    1800000000, c->id);
}

static int read_big_fn(struct db *db, void *p)
{
	struct ev_ctx *c = p;
	struct buf out;
	read_event(db, c, &out);
	cr_assert_not_null(memmem(out.data, out.len, big_json, big_len));
	buf_release(&out);
	return 0;
}

Test(event_pack, an_object_too_big_to_pack_is_kept_as_json_text, .init = store_setup,
     .fini = store_teardown)
{
	big_len = (4u << 20) + 16;
	big_json = malloc(big_len + 1);
	cr_assert_not_null(big_json);
	memset(big_json, 'a', big_len);
	memcpy(big_json, "{\"x\":\"", 6);
	memcpy(big_json + big_len - 2, "\"}", 2);
	big_json[big_len] = '\0';
	struct buf b;
	buf_init(&b, BUF_MAX_DEFAULT);
	cr_assert_neq(event_pack(big_json, big_len, &b), 0);
	buf_release(&b);
	struct ev_ctx c = {0};
	cr_assert_eq(store_write(st_, "acct_a", append_big_fn, &c), 0);
	cr_assert_eq(store_read(st_, "acct_a", read_big_fn, &c), 0);
	cr_assert_str_eq(c.type, "text");
	cr_assert_eq(c.stored_len, (int64_t)big_len);
	free(big_json);
}
