/*
 * The recorded attempt on a real SQLite store: the charge rendered before the write
 * (payment_charge_final, what create+confirm renders ahead of the single writer thread) is the
 * charge the write records, byte for byte, both as payment_record_attempt returns it and as the
 * stored row renders afterwards; and only an approved, automatically captured attempt with its
 * ids chosen ahead is rendered that way.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/json.h"
#include "events/pack.h"
#include "ledger/ledger.h"
#include "payments/flow.h"
#include "payments/payments.h"
#include "store/store.h"

static char dir[256];
static struct store *s;

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/tender-unit-flow-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	char err[256];
	struct store_config cfg = {.data_dir = dir};
	cr_assert_eq(store_open(&s, &cfg, err, sizeof(err)), 0, "%s", err);
}

static void teardown(void)
{
	store_close(s);
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(flow, .init = setup, .fini = teardown);

#define M1 "acct_1"
#define T0 INT64_C(1700000000)

static const struct payment_card CARD = {
    .payment_method = "pm_0CGXtest00000000000000",
    .brand = "visa",
    .last4 = "4242",
    .funding = "credit",
    .country = "US",
    .fingerprint = "fp_abc",
    .exp_month = 12,
    .exp_year = 2034,
    .behavior = ACQ_SUCCEED,
    .billing_details = NULL,
};

static void approved(struct processor_decision *d)
{
	memset(d, 0, sizeof(*d));
	d->approved = true;
	snprintf(d->auth_code, sizeof(d->auth_code), "%s", "A1B2C3");
	d->network_status = "approved_by_network";
	d->seller_message = "Payment complete.";
	d->outcome_type = "authorized";
	d->risk_level = "normal";
	d->risk_score = 12;
	d->cvc_check = "pass";
}

static const struct ledger_pricing PRICING = {290, 30, "usd", NULL, NULL, NULL};

static struct attempt attempt_of(const struct processor_decision *d, bool capture)
{
	return (struct attempt){
	    .merchant_id = M1,
	    .amount = 2000,
	    .currency = "usd",
	    .payment_intent = "pi_0CGXtest00000000000001",
	    .customer = NULL,
	    .description = "order 7",
	    .receipt_email = "a@example.com",
	    .capture = capture,
	    .now = T0,
	    .card = &CARD,
	    .decision = d,
	    .pricing = &PRICING,
	    .client_ip = "127.0.0.1",
	    .charge_id = "ch_0CGXtest00000000000002",
	    .balance_txn_id = "txn_0CGXtest0000000000003",
	};
}

struct rec {
	struct attempt at;
	struct arena *a;
	const char *written; /* the charge as the write returned it, rendered */
	const char *stored;  /* the stored row, rendered by a read afterwards */
	int rc;
};

static int record_fn(struct db *db, void *p)
{
	struct rec *x = p;
	struct charge ch;
	x->rc = payment_record_attempt(db, x->a, &x->at, &ch);
	if (x->rc != DB_OK)
		return x->rc;
	size_t len;
	x->written = charge_json(NULL, x->a, M1, 0, &ch, &len);
	return x->written ? 0 : -1;
}

static int stored_fn(struct db *db, void *p)
{
	struct rec *x = p;
	struct buf b;
	struct json j;
	buf_init(&b, 8192);
	json_init(&j, &b);
	int rc = charge_render_by_id(db, x->a, M1, 0, x->at.charge_id, NULL, &j);
	x->stored = rc == DB_OK && !b.failed ? arena_strndup(x->a, b.data, b.len) : NULL;
	buf_release(&b);
	return rc;
}

Test(flow, the_charge_rendered_before_the_write_is_the_charge_the_write_records)
{
	struct arena a;
	arena_init(&a, 1 << 20);
	struct processor_decision d;
	approved(&d);
	struct rec x = {.at = attempt_of(&d, true), .a = &a};
	struct charge prepared, pre;
	cr_assert_eq(payment_charge_prepare(&a, &x.at, &prepared), DB_OK);
	cr_assert_eq(payment_charge_final(&a, &x.at, &prepared, &pre), DB_OK);
	size_t len;
	const char *before = charge_json(NULL, &a, M1, 0, &pre, &len);
	cr_assert_not_null(before);
	cr_assert(strstr(before, "\"balance_transaction\":\"txn_0CGXtest0000000000003\""), "%s",
		  before);
	cr_assert(strstr(before, "\"captured\":true"));
	cr_assert(strstr(before, "\"amount_captured\":2000"));

	/* the write takes the prepared charge (create+confirm) ... */
	x.at.prepared = &prepared;
	cr_assert_eq(store_write(s, M1, record_fn, &x), 0, "rc %d", x.rc);
	cr_assert_str_eq(x.written, before);
	cr_assert_eq(store_read(s, M1, stored_fn, &x), 0);
	cr_assert_str_eq(x.stored, before);
	/* ... or makes it itself from the same attempt: the same charge either way */
	struct rec y = {.at = attempt_of(&d, true), .a = &a};
	y.at.charge_id = "ch_0CGXtest00000000000004";
	y.at.balance_txn_id = "txn_0CGXtest0000000000005";
	struct charge prepared_y, pre_y;
	cr_assert_eq(payment_charge_prepare(&a, &y.at, &prepared_y), DB_OK);
	cr_assert_eq(payment_charge_final(&a, &y.at, &prepared_y, &pre_y), DB_OK);
	const char *before_y = charge_json(NULL, &a, M1, 0, &pre_y, &len);
	cr_assert_eq(store_write(s, M1, record_fn, &y), 0, "rc %d", y.rc);
	cr_assert_str_eq(y.written, before_y);
	cr_assert_eq(store_read(s, M1, stored_fn, &y), 0);
	cr_assert_str_eq(y.stored, before_y);
	arena_release(&a);
}

Test(flow, only_an_approved_automatic_capture_with_its_ids_is_rendered_ahead)
{
	struct arena a;
	arena_init(&a, 1 << 20);
	struct processor_decision d;
	approved(&d);
	struct charge ch, prep;
	struct attempt manual = attempt_of(&d, false);
	cr_assert_eq(payment_charge_prepare(&a, &manual, &prep), DB_OK);
	cr_assert_eq(payment_charge_final(&a, &manual, &prep, &ch), DB_CONFLICT);
	struct attempt no_ids = attempt_of(&d, true);
	cr_assert_eq(payment_charge_prepare(&a, &no_ids, &prep), DB_OK);
	no_ids.balance_txn_id = NULL;
	cr_assert_eq(payment_charge_final(&a, &no_ids, &prep, &ch), DB_CONFLICT);
	struct attempt other = attempt_of(&d, true);
	other.charge_id = "ch_0CGXtest00000000000009";
	cr_assert_eq(payment_charge_final(&a, &other, &prep, &ch), DB_CONFLICT,
		     "a charge prepared for another id");
	struct processor_decision declined = d;
	declined.approved = false;
	struct attempt dec = attempt_of(&declined, true);
	cr_assert_eq(payment_charge_prepare(&a, &dec, &prep), DB_OK);
	cr_assert_eq(payment_charge_final(&a, &dec, &prep, &ch), DB_CONFLICT);
	arena_release(&a);
}

struct stored_cols {
	const char *id;
	char card_type[16], outcome_type[16];
	int64_t card_len, outcome_len;
	int card_packed;
};

static int stored_cols_fn(struct db *db, void *p)
{
	struct stored_cols *c = p;
	static const char sql[] =
	    "SELECT typeof(card), length(CAST(card AS BLOB)), typeof(outcome),"
	    " length(CAST(outcome AS BLOB)), card FROM charges WHERE merchant_id = $1 AND id = $2";
	struct db_stmt *st = db_prepare(db, sql);
	if (!st)
		return -1;
	db_bind_text(st, 1, M1, -1);
	db_bind_text(st, 2, c->id, -1);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		snprintf(c->card_type, sizeof(c->card_type), "%s", db_col_text(st, 0, NULL));
		c->card_len = db_col_int64(st, 1);
		snprintf(c->outcome_type, sizeof(c->outcome_type), "%s", db_col_text(st, 2, NULL));
		c->outcome_len = db_col_int64(st, 3);
		size_t n = 0;
		const void *card = db_col_blob(st, 4, &n);
		c->card_packed = event_is_packed(card, n);
	}
	db_reset(st);
	return rc == DB_ROW ? 0 : -1;
}

/* The prepared charge's outcome and card, packed on the request's thread (charge_pack), are
 * stored packed, a fraction of their JSON, and read back as the same JSON; a charge whose card
 * changed after it was packed stores the JSON it holds, never the stale bytes; and a store that
 * keeps JSON text (PostgreSQL) gets nothing packed. */
Test(flow, a_packed_charge_is_stored_small_and_reads_back_the_same)
{
	struct arena a;
	arena_init(&a, 1 << 20);
	struct processor_decision d;
	approved(&d);
	struct buf pk;
	buf_init(&pk, 1 << 16);
	struct rec x = {.at = attempt_of(&d, true), .a = &a};
	struct charge prepared, pre;
	cr_assert_eq(payment_charge_prepare(&a, &x.at, &prepared), DB_OK);
	charge_pack(&prepared, DB_SQLITE, &pk);
	cr_assert_gt(prepared.packed.card_len, 0);
	cr_assert_gt(prepared.packed.outcome_len, 0);
	cr_assert_eq(payment_charge_final(&a, &x.at, &prepared, &pre), DB_OK);
	size_t len;
	const char *before = charge_json(NULL, &a, M1, 0, &pre, &len);
	cr_assert_not_null(before);
	x.at.prepared = &prepared;
	cr_assert_eq(store_write(s, M1, record_fn, &x), 0, "rc %d", x.rc);
	cr_assert_eq(store_read(s, M1, stored_fn, &x), 0);
	cr_assert_str_eq(x.stored, before);
	struct stored_cols c = {.id = x.at.charge_id};
	cr_assert_eq(store_read(s, M1, stored_cols_fn, &c), 0);
	cr_assert_str_eq(c.card_type, "blob");
	cr_assert_str_eq(c.outcome_type, "blob");
	cr_assert(c.card_packed);
	cr_assert_lt(c.card_len * 3, (int64_t)strlen(prepared.card), "%lld of %zu",
		     (long long)c.card_len, strlen(prepared.card));
	cr_assert_lt(c.outcome_len * 2, (int64_t)strlen(prepared.outcome));

	/* packed, then its card replaced: the JSON it holds is stored */
	struct rec y = {.at = attempt_of(&d, true), .a = &a};
	y.at.charge_id = "ch_0CGXtest00000000000006";
	y.at.balance_txn_id = "txn_0CGXtest0000000000007";
	struct charge prepared_y, pre_y;
	cr_assert_eq(payment_charge_prepare(&a, &y.at, &prepared_y), DB_OK);
	charge_pack(&prepared_y, DB_SQLITE, &pk);
	prepared_y.card = "{\"brand\":\"visa\",\"last4\":\"4242\"}";
	cr_assert_eq(payment_charge_final(&a, &y.at, &prepared_y, &pre_y), DB_OK);
	const char *before_y = charge_json(NULL, &a, M1, 0, &pre_y, &len);
	y.at.prepared = &prepared_y;
	cr_assert_eq(store_write(s, M1, record_fn, &y), 0, "rc %d", y.rc);
	cr_assert_eq(store_read(s, M1, stored_fn, &y), 0);
	cr_assert_str_eq(y.stored, before_y);
	cr_assert(strstr(y.stored, "\"card\":{\"brand\":\"visa\",\"last4\":\"4242\"}"), "%s",
		  y.stored);
	struct stored_cols cy = {.id = y.at.charge_id};
	cr_assert_eq(store_read(s, M1, stored_cols_fn, &cy), 0);
	cr_assert_str_eq(cy.card_type, "text");
	cr_assert_str_eq(cy.outcome_type, "blob");

	/* PostgreSQL keeps JSON text */
	struct charge pg;
	cr_assert_eq(payment_charge_prepare(&a, &x.at, &pg), DB_OK);
	charge_pack(&pg, DB_POSTGRES, &pk);
	cr_assert_eq(pg.packed.card_len, 0);
	cr_assert_eq(pg.packed.outcome_len, 0);
	buf_release(&pk);
	arena_release(&a);
}

struct kinds {
	const char *source;
	int64_t sale, authorize, capture, holds;
};

static int kinds_fn(struct db *db, void *p)
{
	struct kinds *k = p;
	static const char sql[] =
	    "SELECT (SELECT COUNT(*) FROM journal_txns WHERE merchant_id = $1 AND source = $2"
	    " AND kind = 'sale'), (SELECT COUNT(*) FROM journal_txns WHERE merchant_id = $1"
	    " AND source = $2 AND kind = 'authorize'), (SELECT COUNT(*) FROM journal_txns"
	    " WHERE merchant_id = $1 AND source = $2 AND kind = 'capture'), (SELECT COUNT(*)"
	    " FROM journal_entries e JOIN journal_txns t ON t.merchant_id = e.merchant_id"
	    " AND t.id = e.txn_id WHERE t.merchant_id = $1 AND t.source = $2"
	    " AND e.account = 'cardholder_holds')";
	struct db_stmt *st = db_prepare(db, sql);
	if (!st)
		return -1;
	db_bind_text(st, 1, M1, -1);
	db_bind_text(st, 2, k->source, -1);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		k->sale = db_col_int64(st, 0);
		k->authorize = db_col_int64(st, 1);
		k->capture = db_col_int64(st, 2);
		k->holds = db_col_int64(st, 3);
	}
	db_reset(st);
	return rc == DB_ROW ? 0 : -1;
}

/* Automatic capture authorizes and captures in one transaction: the ledger books one sale and
 * no hold. Manual capture books the authorization's hold, for a later capture or release. */
Test(flow, an_automatic_capture_is_one_sale_and_a_manual_one_holds_the_amount)
{
	struct arena a;
	arena_init(&a, 1 << 20);
	struct processor_decision d;
	approved(&d);
	struct rec aut = {.at = attempt_of(&d, true), .a = &a};
	cr_assert_eq(store_write(s, M1, record_fn, &aut), 0, "rc %d", aut.rc);
	struct rec man = {.at = attempt_of(&d, false), .a = &a};
	man.at.charge_id = "ch_0CGXtest00000000000006";
	man.at.balance_txn_id = NULL;
	cr_assert_eq(store_write(s, M1, record_fn, &man), 0, "rc %d", man.rc);

	struct kinds k = {.source = aut.at.charge_id};
	cr_assert_eq(store_read(s, M1, kinds_fn, &k), 0);
	cr_assert_eq(k.sale, 1);
	cr_assert_eq(k.authorize, 0);
	cr_assert_eq(k.capture, 0);
	cr_assert_eq(k.holds, 0);
	k = (struct kinds){.source = man.at.charge_id};
	cr_assert_eq(store_read(s, M1, kinds_fn, &k), 0);
	cr_assert_eq(k.sale, 0);
	cr_assert_eq(k.authorize, 1);
	cr_assert_eq(k.capture, 0);
	cr_assert_eq(k.holds, 1);
	arena_release(&a);
}

/* A card charge keeps its PaymentIntent's statement_descriptor_suffix, and its full descriptor
 * is the prefix, "* " and the suffix cut to the networks' 22 bytes between characters. */
Test(flow, a_card_charge_keeps_its_suffix_and_cuts_the_full_descriptor_between_characters)
{
	struct arena a;
	arena_init(&a, 1 << 20);
	struct processor_decision d;
	approved(&d);
	struct rec x = {.at = attempt_of(&d, true), .a = &a};
	/* "ORDER 4242 " is 11 bytes, then Ä (2) and Ö (2): 14 bytes would split the Ö */
	x.at.statement_descriptor_suffix = "ORDER 4242 \xc3\x84\xc3\x96";
	cr_assert_eq(store_write(s, M1, record_fn, &x), 0, "rc %d", x.rc);
	cr_assert_eq(store_read(s, M1, stored_fn, &x), 0);
	cr_assert_str_eq(x.stored, x.written);
	cr_assert(
	    strstr(x.stored, "\"statement_descriptor_suffix\":\"ORDER 4242 \xc3\x84\xc3\x96\""),
	    "%s", x.stored);
	cr_assert(
	    strstr(x.stored, "\"calculated_statement_descriptor\":\"TENDER* ORDER 4242 \xc3\x84\""),
	    "%s", x.stored);
	/* a short one whole; none: the prefix alone */
	struct rec y = {.at = attempt_of(&d, true), .a = &a};
	y.at.charge_id = "ch_0CGXtest00000000000006";
	y.at.balance_txn_id = "txn_0CGXtest0000000000007";
	y.at.statement_descriptor_suffix = "BOOKS";
	cr_assert_eq(store_write(s, M1, record_fn, &y), 0, "rc %d", y.rc);
	cr_assert(strstr(y.written, "\"calculated_statement_descriptor\":\"TENDER* BOOKS\""), "%s",
		  y.written);
	struct rec z = {.at = attempt_of(&d, true), .a = &a};
	z.at.charge_id = "ch_0CGXtest00000000000008";
	z.at.balance_txn_id = "txn_0CGXtest0000000000009";
	cr_assert_eq(store_write(s, M1, record_fn, &z), 0, "rc %d", z.rc);
	cr_assert(strstr(z.written, "\"calculated_statement_descriptor\":\"TENDER\""), "%s",
		  z.written);
	cr_assert(strstr(z.written, "\"statement_descriptor_suffix\":null"), "%s", z.written);
	arena_release(&a);
}

/* A Terminal reader's card (payment_card.present): the charge keeps its whole
 * payment_method_details, card_present (no card key), and the stored row renders the same;
 * declined, nothing was authorized. */
Test(flow, a_card_present_charge_shows_card_present_details)
{
	struct arena a;
	arena_init(&a, 1 << 20);
	struct processor_decision d;
	approved(&d);
	struct payment_card card = CARD;
	card.present = true;
	struct rec x = {.at = attempt_of(&d, true), .a = &a};
	x.at.card = &card;
	x.at.charge_id = "ch_0CGXtest00000000000006";
	x.at.balance_txn_id = "txn_0CGXtest0000000000007";
	cr_assert_eq(store_write(s, M1, record_fn, &x), 0, "rc %d", x.rc);
	cr_assert(strstr(x.written, "\"payment_method_details\":{\"card_present\":{"
				    "\"amount_authorized\":2000,\"brand\":\"visa\""),
		  "%s", x.written);
	cr_assert(strstr(x.written, "\"read_method\":\"contactless_emv\""), "%s", x.written);
	cr_assert(strstr(x.written, "\"authorization_code\":\"A1B2C3\""), "%s", x.written);
	cr_assert(strstr(x.written, "},\"type\":\"card_present\"}"), "%s", x.written);
	cr_assert_null(strstr(x.written, "\"card\":{"), "%s", x.written);
	cr_assert_eq(store_read(s, M1, stored_fn, &x), 0);
	cr_assert_str_eq(x.stored, x.written);

	struct processor_decision no;
	approved(&no);
	no.approved = false;
	no.auth_code[0] = '\0';
	no.err = ERR_CARD_DECLINED;
	no.network_status = "declined_by_network";
	no.outcome_type = "issuer_declined";
	struct attempt at = attempt_of(&no, true);
	at.card = &card;
	struct charge ch;
	cr_assert_eq(payment_charge_prepare(&a, &at, &ch), DB_OK);
	cr_assert_str_eq(ch.status, "failed");
	cr_assert(strstr(ch.card, "{\"card_present\":{\"amount_authorized\":null,"), "%s", ch.card);
	arena_release(&a);
}
