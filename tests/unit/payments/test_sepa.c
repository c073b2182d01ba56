/*
 * SEPA debits settled on a real SQLite store: a debit is settled once its due time has come and
 * never twice (a second pass finds nothing: the claim committed with the settlement), a success
 * books one balance transaction and moves charge and intent to succeeded, a failure moves no
 * money and sends the intent back to requires_payment_method; mandates render as Stripe's; a
 * legacy ACH charge (no intent) settles alone.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/json.h"
#include "merchant/merchant.h"
#include "payments/payments.h"
#include "payments/sepa.h"
#include "store/store.h"
#include "vault/iban.h"

static char dir[256];
static struct store *s;
static char m1[ID_MAX];

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/tender-unit-sepa-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	char err[256];
	struct store_config cfg = {.data_dir = dir};
	cr_assert_eq(store_open(&s, &cfg, err, sizeof(err)), 0, "%s", err);
	struct merchant_keys k;
	cr_assert_eq(merchant_create(s, "SEPA test", "eur", 5734, &k, err, sizeof(err)), 0, "%s",
		     err);
	memcpy(m1, k.id, sizeof(m1));
}

static void teardown(void)
{
	store_close(s);
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(sepa, .init = setup, .fini = teardown);

#define T0 INT64_C(1800000000)

struct debit_ctx {
	const char *pi_id, *ch_id;
	int behavior;
	int64_t due_at;
};

/* A processing intent with its pending charge and the debit to settle (as the confirm makes). */
static int debit_fn(struct db *db, void *p)
{
	struct debit_ctx *x = p;
	struct payment_intent pi;
	memset(&pi, 0, sizeof(pi));
	snprintf(pi.id, sizeof(pi.id), "%s", x->pi_id);
	pi.created = T0;
	pi.version = 1;
	pi.amount = 2500;
	snprintf(pi.currency, sizeof(pi.currency), "eur");
	pi.status = "processing";
	pi.capture_method = "automatic";
	pi.confirmation_method = "automatic";
	pi.client_secret = "secret";
	pi.latest_charge = x->ch_id;
	pi.payment_method_types = "[\"sepa_debit\"]";
	int rc = pi_insert(db, m1, &pi);
	if (rc != DB_OK)
		return rc;
	struct charge ch;
	memset(&ch, 0, sizeof(ch));
	snprintf(ch.id, sizeof(ch.id), "%s", x->ch_id);
	ch.created = T0;
	ch.payment_intent = x->pi_id;
	ch.amount = 2500;
	snprintf(ch.currency, sizeof(ch.currency), "eur");
	ch.status = "pending";
	ch.outcome = SEPA_OUTCOME_PENDING;
	ch.card = "{\"sepa_debit\":{\"bank_code\":\"37040044\",\"branch_code\":\"\",\"country\":"
		  "\"DE\",\"fingerprint\":\"f\",\"last4\":\"3000\",\"mandate\":null},\"type\":"
		  "\"sepa_debit\"}";
	rc = charge_insert(db, m1, &ch);
	if (rc != DB_OK)
		return rc;
	return sepa_debit_schedule(db, m1, x->ch_id, x->pi_id, x->behavior, x->due_at);
}

struct settle_ctx {
	int64_t now;
	int n;
};

static int settle_fn(struct db *db, void *p)
{
	struct settle_ctx *x = p;
	x->n = sepa_settle_db(db, NULL, NULL, x->now, 64);
	return x->n < 0 ? -1 : 0;
}

static int settle(int64_t now)
{
	struct settle_ctx x = {now, 0};
	cr_assert_eq(store_write(s, m1, settle_fn, &x), 0, "settle rc %d", x.n);
	return x.n;
}

struct state_ctx {
	const char *pi_id, *ch_id;
	char pi_status[32], ch_status[32], failure_code[48];
	bool has_bt;
	int64_t received;
};

static int state_fn(struct db *db, void *p)
{
	struct state_ctx *x = p;
	struct arena a;
	arena_init(&a, 1u << 20);
	struct payment_intent pi;
	struct charge ch;
	int rc = pi_load(db, &a, m1, x->pi_id, &pi);
	if (rc == DB_OK)
		rc = charge_load(db, &a, m1, x->ch_id, &ch);
	if (rc == DB_OK) {
		snprintf(x->pi_status, sizeof(x->pi_status), "%s", pi.status);
		snprintf(x->ch_status, sizeof(x->ch_status), "%s", ch.status);
		snprintf(x->failure_code, sizeof(x->failure_code), "%s",
			 ch.failure_code ? ch.failure_code : "");
		x->has_bt = ch.balance_transaction != NULL;
		x->received = pi.amount_received;
	}
	arena_release(&a);
	return rc == DB_OK ? 0 : -1;
}

static struct state_ctx state(const char *pi_id, const char *ch_id)
{
	struct state_ctx x = {.pi_id = pi_id, .ch_id = ch_id};
	cr_assert_eq(store_read(s, m1, state_fn, &x), 0);
	return x;
}

Test(sepa, a_due_debit_succeeds_once_with_one_balance_transaction)
{
	struct debit_ctx d = {"pi_sepa_ok", "ch_sepa_ok", SEPA_SUCCEED, T0};
	cr_assert_eq(store_write(s, m1, debit_fn, &d), 0);
	cr_assert_eq(settle(T0 - 1), 0, "not due yet");
	struct state_ctx st = state(d.pi_id, d.ch_id);
	cr_assert_str_eq(st.pi_status, "processing");
	cr_assert_str_eq(st.ch_status, "pending");
	cr_assert_eq(settle(T0), 1);
	st = state(d.pi_id, d.ch_id);
	cr_assert_str_eq(st.pi_status, "succeeded");
	cr_assert_str_eq(st.ch_status, "succeeded");
	cr_assert(st.has_bt);
	cr_assert_eq(st.received, 2500);
	cr_assert_eq(settle(T0 + 5), 0, "settled once only");
}

Test(sepa, a_delayed_debit_waits_its_three_minutes_and_a_failure_moves_no_money)
{
	struct debit_ctx d = {"pi_sepa_late", "ch_sepa_late", SEPA_FAIL_DELAYED,
			      T0 + SEPA_DELAY_SECONDS};
	cr_assert_eq(store_write(s, m1, debit_fn, &d), 0);
	cr_assert_eq(settle(T0 + SEPA_DELAY_SECONDS - 1), 0);
	cr_assert_eq(settle(T0 + SEPA_DELAY_SECONDS), 1);
	struct state_ctx st = state(d.pi_id, d.ch_id);
	cr_assert_str_eq(st.pi_status, "requires_payment_method");
	cr_assert_str_eq(st.ch_status, "failed");
	cr_assert_str_eq(st.failure_code, "generic_could_not_process");
	cr_assert_not(st.has_bt);
	cr_assert_eq(st.received, 0);

	struct debit_ctx f = {"pi_sepa_nsf", "ch_sepa_nsf", SEPA_INSUFFICIENT_FUNDS, T0};
	cr_assert_eq(store_write(s, m1, debit_fn, &f), 0);
	cr_assert_eq(settle(T0 + SEPA_DELAY_SECONDS), 1);
	st = state(f.pi_id, f.ch_id);
	cr_assert_str_eq(st.failure_code, "insufficient_funds");
}

Test(sepa, mandates_render_as_stripe_shows_them)
{
	struct mandate m = {
	    .payment_method = "pm_x",
	    .type = "single_use",
	    .status = "active",
	    .acceptance_type = "offline",
	    .amount = 1200,
	    .currency = "eur",
	};
	sepa_mandate_new(&m, T0);
	cr_assert_eq(strncmp(m.id, "mandate_", 8), 0);
	cr_assert_eq(strlen(m.reference), 16);
	for (size_t i = 0; i < 16; i++)
		cr_assert((m.reference[i] >= 'A' && m.reference[i] <= 'Z') ||
			  (m.reference[i] >= '0' && m.reference[i] <= '9'));
	struct buf b;
	struct json j;
	buf_init(&b, 8192);
	json_init(&j, &b);
	sepa_mandate_render(&m, 0, &j);
	const char *out = buf_cstr(&b);
	cr_assert_not_null(strstr(out, "\"customer_acceptance\":{\"accepted_at\":1800000000,"
				       "\"offline\":{},\"type\":\"offline\"}"));
	cr_assert_not_null(strstr(out, "\"single_use\":{\"amount\":1200,\"currency\":\"eur\"}"));
	cr_assert_null(strstr(out, "multi_use"));
	cr_assert_null(strstr(out, "\"online\""));
	buf_release(&b);
}

Test(sepa, a_reference_prefix_begins_the_reference_and_keeps_its_random_part)
{
	struct mandate m = {.type = "multi_use", .status = "active", .acceptance_type = "online"};
	sepa_mandate_new(&m, T0);
	char random[17];
	memcpy(random, m.reference, sizeof(random));
	sepa_mandate_prefix(&m, NULL);
	cr_assert_str_eq(m.reference, random);
	sepa_mandate_prefix(&m, "ACME/2026 &.");
	cr_assert_eq(strlen(m.reference), 12 + 16);
	cr_assert_eq(strncmp(m.reference, "ACME/2026 &.", 12), 0);
	cr_assert_str_eq(m.reference + 12, random);
	/* longer than Stripe allows (callers check it first): left as it was */
	struct mandate n = m;
	sepa_mandate_prefix(&n, "ABCDEFGHIJKLM");
	cr_assert_str_eq(n.reference, m.reference);
}

Test(sepa, a_charge_names_its_mandate_in_its_details)
{
	char id[ID_MAX];
	cr_assert(sepa_details_mandate("{\"sepa_debit\":{\"bank_code\":\"37040044\",\"last4\":"
				       "\"3000\",\"mandate\":\"mandate_1AbC\"},\"type\":"
				       "\"sepa_debit\"}",
				       id));
	cr_assert_str_eq(id, "mandate_1AbC");
	cr_assert_not(sepa_details_mandate("{\"sepa_debit\":{\"mandate\":null}}", id));
	cr_assert_not(sepa_details_mandate("{\"sepa_debit\":{\"mandate\":\"\"}}", id));
	cr_assert_not(sepa_details_mandate(NULL, id));
}

/* A legacy ACH charge (POST /v1/charges of a customer's bank account source): a pending charge
 * and its debit, without a PaymentIntent (the debit's payment_intent is ''). */
struct legacy_ctx {
	const char *merchant, *ch_id, *details;
	int behavior;
};

static int legacy_fn(struct db *db, void *p)
{
	struct legacy_ctx *x = p;
	struct charge ch;
	memset(&ch, 0, sizeof(ch));
	snprintf(ch.id, sizeof(ch.id), "%s", x->ch_id);
	ch.created = T0;
	ch.amount = 1500;
	snprintf(ch.currency, sizeof(ch.currency), "usd");
	ch.status = "pending";
	ch.customer = "cus_legacy";
	ch.payment_method = "ba_legacy";
	ch.outcome = SEPA_OUTCOME_PENDING;
	ch.card = x->details;
	int rc = charge_insert(db, x->merchant, &ch);
	return rc != DB_OK ? rc
			   : sepa_debit_schedule(db, x->merchant, x->ch_id, "", x->behavior, T0);
}

struct legacy_state {
	const char *merchant, *ch_id;
	char status[32], failure_code[48];
	bool has_bt;
};

static int legacy_state_fn(struct db *db, void *p)
{
	struct legacy_state *x = p;
	struct arena a;
	arena_init(&a, 1u << 20);
	struct charge ch;
	int rc = charge_load(db, &a, x->merchant, x->ch_id, &ch);
	if (rc == DB_OK) {
		snprintf(x->status, sizeof(x->status), "%s", ch.status);
		snprintf(x->failure_code, sizeof(x->failure_code), "%s",
			 ch.failure_code ? ch.failure_code : "");
		x->has_bt = ch.balance_transaction != NULL;
	}
	arena_release(&a);
	return rc == DB_OK ? 0 : -1;
}

Test(sepa, a_legacy_ach_charge_settles_alone_and_a_returned_one_fails_with_its_code)
{
	char err[256];
	struct merchant_keys k;
	cr_assert_eq(merchant_create(s, "ACH test", "usd", 5734, &k, err, sizeof(err)), 0, "%s",
		     err);
	static const char ACH[] = "{\"ach_debit\":{\"account_holder_type\":null,\"bank_name\":"
				  "\"STRIPE TEST BANK\",\"country\":\"US\",\"fingerprint\":\"f\","
				  "\"last4\":\"6789\",\"routing_number\":\"110000000\"},\"type\":"
				  "\"ach_debit\"}";
	static const char SEPA[] =
	    "{\"sepa_debit\":{\"bank_code\":\"37040044\",\"branch_code\":"
	    "\"\",\"country\":\"DE\",\"fingerprint\":\"f\",\"last4\":\"3000\","
	    "\"mandate\":null},\"type\":\"sepa_debit\"}";
	struct legacy_ctx ok = {k.id, "py_legacy_ok", ACH, SEPA_SUCCEED};
	struct legacy_ctx closed = {k.id, "py_legacy_closed", ACH, BANK_ACCOUNT_CLOSED};
	/* a SEPA debit is always an intent's: one without is not the job's to settle */
	struct legacy_ctx stray = {k.id, "py_stray_sepa", SEPA, SEPA_SUCCEED};
	cr_assert_eq(store_write(s, k.id, legacy_fn, &ok), 0);
	cr_assert_eq(store_write(s, k.id, legacy_fn, &closed), 0);
	cr_assert_eq(store_write(s, k.id, legacy_fn, &stray), 0);
	struct settle_ctx x = {T0, 0};
	cr_assert_eq(store_write(s, k.id, settle_fn, &x), 0, "settle rc %d", x.n);
	cr_assert_eq(x.n, 2);
	struct legacy_state st = {.merchant = k.id, .ch_id = ok.ch_id};
	cr_assert_eq(store_read(s, k.id, legacy_state_fn, &st), 0);
	cr_assert_str_eq(st.status, "succeeded");
	cr_assert(st.has_bt);
	struct legacy_state cl = {.merchant = k.id, .ch_id = closed.ch_id};
	cr_assert_eq(store_read(s, k.id, legacy_state_fn, &cl), 0);
	cr_assert_str_eq(cl.status, "failed");
	cr_assert_str_eq(cl.failure_code, "account_closed");
	cr_assert_not(cl.has_bt);
	struct legacy_state sp = {.merchant = k.id, .ch_id = stray.ch_id};
	cr_assert_eq(store_read(s, k.id, legacy_state_fn, &sp), 0);
	cr_assert_str_eq(sp.status, "pending");
	x.now = T0 + 5;
	cr_assert_eq(store_write(s, k.id, settle_fn, &x), 0);
	cr_assert_eq(x.n, 0, "settled once only");
}
