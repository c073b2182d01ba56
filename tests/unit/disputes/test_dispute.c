/*
 * Disputes on a real SQLite store, with an injected clock: opening (once per charge), the money
 * and events of each transition, the network's delayed opening and decision (scheduler ticks
 * before and after the due time), due_by expiry, closing, refusals; and the pure rules (due
 * dates, test-mode decisions, the dispute rate).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "disputes/dispute.h"
#include "ledger/ledger.h"
#include "ledger/ledger_dispute.h"
#include "payments/payments.h"
#include "processor/processor.h"
#include "store/store.h"
#include "verify/verify.h"
#include "../support/store_fixture.h"

static char dir[256];
static struct store *s;

static void setup(void)
{
	s = fixture_store_open(dir, sizeof(dir), "dispute");
}

static void teardown(void)
{
	fixture_store_close(s, dir);
}

TestSuite(dispute, .init = setup, .fini = teardown);

#define T0 INT64_C(1700000000) /* 2023-11-14T22:13:20Z */
#define M1 "acct_1"
#define DAY INT64_C(86400)

/* ---- helpers ---- */

static int64_t q_int(const char *sql, const char *a, const char *b)
{
	return fixture_q_int(s, sql, a, b);
}

static int64_t events_of(const char *id, const char *type)
{
	return q_int("SELECT COUNT(*) FROM events WHERE object_id = $1 AND type = $2", id, type);
}

struct charge_ctx {
	const char *id, *status, *auth;
	int64_t amount;
	enum acq_behavior behavior;
};

/* A captured (or failed) card charge of M1, with its hold and its capture booked. */
static int charge_fn(struct db *db, void *p)
{
	struct charge_ctx *c = p;
	struct charge ch;
	memset(&ch, 0, sizeof(ch));
	snprintf(ch.id, sizeof(ch.id), "%s", c->id);
	ch.created = T0;
	ch.amount = c->amount;
	snprintf(ch.currency, sizeof(ch.currency), "usd");
	ch.status = c->status;
	bool ok = strcmp(c->status, "succeeded") == 0;
	ch.captured = ok;
	ch.paid = ok;
	ch.amount_captured = ok ? c->amount : 0;
	ch.metadata = "{}";
	ch.card = "{\"brand\":\"visa\",\"last4\":\"0259\"}";
	ch.authorization_code = c->auth;
	int rc = charge_insert(db, M1, &ch);
	if (rc != DB_OK || !ok)
		return rc;
	rc = processor_hold(db, M1, c->auth, c->id, c->amount, "usd", c->behavior, T0);
	if (rc == DB_OK)
		rc = processor_capture(db, M1, c->id, c->amount);
	const struct ledger_pricing pricing = {290, 30, "usd", NULL, NULL, NULL};
	if (rc == DB_OK)
		rc = ledger_authorize(db, M1, c->id, c->amount, "usd", T0);
	if (rc == DB_OK)
		rc = ledger_capture(db, M1, c->id, c->amount, "usd", &pricing, T0, NULL);
	return rc;
}

static void make_charge(const char *id, const char *status, int64_t amount,
			enum acq_behavior behavior)
{
	char auth[32];
	snprintf(auth, sizeof(auth), "auth_%s", id);
	struct charge_ctx c = {id, status, auth, amount, behavior};
	cr_assert_eq(store_write(s, M1, charge_fn, &c), 0);
}

struct op {
	enum { OP_OPEN, OP_UPDATE, OP_CLOSE, OP_SCHEDULE, OP_TICK, OP_BLOCKED } kind;
	const char *charge, *reason, *id;
	int64_t amount, now;
	struct dispute_change change;
	int rc;
	struct dispute d;
	int64_t out;
};

static int op_fn(struct db *db, void *p)
{
	struct op *o = p;
	struct arena a;
	arena_init(&a, 4u << 20);
	const struct event_origin origin = {NULL, NULL, 0};
	struct dispute d;
	switch (o->kind) {
	case OP_OPEN:
		o->rc =
		    dispute_open(db, &a, M1, &origin, o->charge, o->reason, o->amount, o->now, &d);
		break;
	case OP_UPDATE:
	case OP_CLOSE:
		o->rc = dispute_load(db, &a, M1, o->id, &d);
		if (o->rc == DB_OK)
			o->rc = o->kind == OP_UPDATE
				    ? dispute_update(db, &a, M1, &origin, &d, &o->change, o->now)
				    : dispute_close(db, &a, M1, &origin, &d, o->now);
		break;
	case OP_SCHEDULE:
		o->rc = dispute_network_schedule(db, M1, o->charge, o->id, o->amount, o->now);
		break;
	case OP_TICK:
		o->rc = disputes_tick_db(db, o->now);
		o->out = o->rc;
		if (o->rc > 0)
			o->rc = DB_OK;
		break;
	case OP_BLOCKED:
		o->rc = dispute_charge_blocked_amount(db, M1, o->charge, &o->out);
		break;
	}
	if (o->rc == DB_OK && (o->kind == OP_OPEN || o->kind == OP_UPDATE || o->kind == OP_CLOSE)) {
		/* keep what the test reads after the arena is gone */
		o->d = d;
		o->d.charge = o->d.reason = o->d.status = o->d.evidence = o->d.metadata = NULL;
		o->d.payment_intent = o->d.brand = o->d.network_reason_code = NULL;
	}
	arena_release(&a);
	return o->rc == DB_OK ? 0 : -1;
}

static int run(struct op *o)
{
	store_write(s, M1, op_fn, o);
	return o->rc;
}

static struct op open_(const char *charge, const char *reason, int64_t amount, int64_t now)
{
	struct op o = {
	    .kind = OP_OPEN, .charge = charge, .reason = reason, .amount = amount, .now = now};
	run(&o);
	return o;
}

static int64_t tick(int64_t now)
{
	struct op o = {.kind = OP_TICK, .now = now};
	cr_assert_eq(run(&o), DB_OK, "tick failed: %d", o.rc);
	return o.out;
}

static const char *status_of(const char *id)
{
	static const char *const all[] = {
	    "needs_response",	    "under_review",   "won", "lost", "warning_needs_response",
	    "warning_under_review", "warning_closed", NULL};
	for (int i = 0; all[i]; i++)
		if (q_int("SELECT COUNT(*) FROM disputes WHERE id = $1 AND status = $2", id,
			  all[i]) == 1)
			return all[i];
	return "?";
}

static const char *text_of(struct buf *b)
{
	return b->len ? buf_cstr(b) : "";
}

static int verify_fn(struct db *db, void *p)
{
	int a = ledger_verify(db, p);
	int b = ledger_dispute_verify(db, p);
	return a || b ? -1 : 0;
}

static void assert_books_ok(void)
{
	struct verify_report rep;
	memset(&rep, 0, sizeof(rep));
	buf_init(&rep.text, 1u << 20);
	cr_assert_eq(store_read(s, NULL, verify_fn, &rep), 0, "%s", text_of(&rep.text));
	cr_assert_eq(rep.failures, 0, "%s", text_of(&rep.text));
	buf_release(&rep.text);
}

static int64_t available(void)
{
	return q_int("SELECT COALESCE(SUM(net), 0) FROM balance_transactions WHERE merchant_id = $1"
		     " AND status = 'available'",
		     M1, NULL);
}

/* ---- pure rules ---- */

Test(dispute, due_by_is_the_end_of_the_day_7_or_21_days_later)
{
	int64_t d;
	cr_assert_eq(dispute_due_by(T0, false, &d), DB_OK);
	/* 2023-11-14T22:13:20Z + 21 days → 2023-12-05T23:59:59Z */
	cr_assert_eq(d, INT64_C(1701820799));
	cr_assert_eq(dispute_due_by(T0, true, &d), DB_OK);
	cr_assert_eq(d, INT64_C(1700611199)); /* 2023-11-21T23:59:59Z */
	cr_assert_eq(dispute_due_by(INT64_MAX - 10, false, &d), LEDGER_ERR_OVERFLOW);
	cr_assert_eq(dispute_due_by(-1, false, &d), LEDGER_ERR_OVERFLOW);
}

Test(dispute, test_mode_decision_reads_every_text_field)
{
	cr_assert_eq(dispute_evidence_decision("{\"uncategorized_text\":\"winning_evidence\"}"), 1);
	cr_assert_eq(dispute_evidence_decision("{\"customer_name\":\"x losing_evidence y\"}"), -1);
	cr_assert_eq(
	    dispute_evidence_decision("{\"a\":\"losing_evidence\",\"b\":\"winning_evidence\"}"), 1);
	cr_assert_eq(dispute_evidence_decision("{\"product_description\":\"shoes\"}"), 0);
	cr_assert_eq(dispute_evidence_decision("{}"), 0);
	cr_assert_eq(dispute_evidence_decision("not json"), 0);
	cr_assert_eq(dispute_evidence_decision(NULL), 0);
	cr_assert(dispute_has_evidence("{\"receipt\":\"file_1\"}"));
	cr_assert(!dispute_has_evidence("{}"));
	cr_assert(!dispute_has_evidence("{\"receipt\":\"\"}"));
}

Test(dispute, rate_and_threshold)
{
	int64_t bps;
	bool above;
	cr_assert_eq(dispute_rate_bps(1, 100, &bps, &above), DB_OK);
	cr_assert_eq(bps, 100);
	cr_assert(!above, "exactly 1 %% is not above 1 %%");
	cr_assert_eq(dispute_rate_bps(101, 10000, &bps, &above), DB_OK);
	cr_assert_eq(bps, 101);
	cr_assert(above);
	cr_assert_eq(dispute_rate_bps(1, 3, &bps, &above), DB_OK);
	cr_assert_eq(bps, 3333);
	cr_assert_eq(dispute_rate_bps(2, 3, &bps, &above), DB_OK);
	cr_assert_eq(bps, 6667); /* rounded half up */
	cr_assert_eq(dispute_rate_bps(0, 0, &bps, &above), DB_OK);
	cr_assert_eq(bps, 0);
	cr_assert(!above);
	cr_assert_eq(dispute_rate_bps(INT64_MAX, 1, &bps, &above), LEDGER_ERR_OVERFLOW);
	cr_assert_eq(dispute_rate_bps(-1, 1, &bps, &above), LEDGER_ERR_INVALID);
	cr_assert(dispute_status_is_inquiry("warning_closed"));
	cr_assert(!dispute_status_is_inquiry("lost"));
	cr_assert(dispute_status_is_closed("won") && dispute_status_is_closed("warning_closed"));
	cr_assert(!dispute_status_is_closed("under_review"));
}

/* ---- the lifecycle ---- */

Test(dispute, open_submit_win_moves_the_money_and_appends_every_event)
{
	make_charge("ch_1", "succeeded", 4000, ACQ_SUCCEED);
	int64_t before = available();
	struct op o = open_("ch_1", "fraudulent", 0, T0 + 10);
	cr_assert_eq(o.rc, DB_OK);
	char id[ID_MAX];
	snprintf(id, sizeof(id), "%s", o.d.id);
	cr_assert_str_eq(status_of(id), "needs_response");
	cr_assert_eq(o.d.amount, 4000);
	cr_assert_eq(available(), before - 4000 - 1500);
	cr_assert_eq(
	    q_int("SELECT disputed FROM charges WHERE merchant_id = $1 AND id = $2", M1, "ch_1"),
	    1);
	cr_assert_eq(events_of(id, "charge.dispute.created"), 1);
	cr_assert_eq(events_of(id, "charge.dispute.funds_withdrawn"), 1);
	/* disputed once */
	cr_assert_eq(open_("ch_1", "fraudulent", 0, T0 + 11).rc, DISPUTE_ERR_DISPUTED);
	struct op b = {.kind = OP_BLOCKED, .charge = "ch_1"};
	cr_assert_eq(run(&b), DB_OK);
	cr_assert_eq(b.out, 4000);
	assert_books_ok();

	struct op u = {.kind = OP_UPDATE, .id = id, .now = T0 + 20};
	u.change.evidence = "{\"uncategorized_text\":\"winning_evidence\"}";
	u.change.submit = true;
	cr_assert_eq(run(&u), DB_OK);
	cr_assert_str_eq(status_of(id), "under_review");
	cr_assert_eq(u.d.submission_count, 1);
	cr_assert_eq(u.d.decide_at, T0 + 20 + DISPUTE_NETWORK_DELAY_S);
	/* under review: evidence is frozen */
	struct op u2 = {.kind = OP_UPDATE, .id = id, .now = T0 + 21};
	u2.change.evidence = "{}";
	cr_assert_eq(run(&u2), DISPUTE_ERR_STATE);

	cr_assert_eq(tick(T0 + 20 + DISPUTE_NETWORK_DELAY_S - 1), 0, "decided too early");
	cr_assert_str_eq(status_of(id), "under_review");
	cr_assert_eq(tick(T0 + 20 + DISPUTE_NETWORK_DELAY_S), 1);
	cr_assert_str_eq(status_of(id), "won");
	cr_assert_eq(available(), before - 1500, "the amount comes back, not the fee");
	cr_assert_eq(events_of(id, "charge.dispute.funds_reinstated"), 1);
	cr_assert_eq(events_of(id, "charge.dispute.closed"), 1);
	cr_assert_eq(tick(T0 + 100), 0, "decided twice");
	cr_assert_eq(events_of(id, "charge.dispute.closed"), 1);
	/* decided: nothing changes any more */
	struct op u3 = {.kind = OP_UPDATE, .id = id, .now = T0 + 200};
	u3.change.metadata = "{\"a\":\"b\"}";
	cr_assert_eq(run(&u3), DISPUTE_ERR_STATE);
	struct op c = {.kind = OP_CLOSE, .id = id, .now = T0 + 200};
	cr_assert_eq(run(&c), DISPUTE_ERR_STATE);
	assert_books_ok();
}

Test(dispute, no_keyword_stays_under_review)
{
	make_charge("ch_1", "succeeded", 1000, ACQ_SUCCEED);
	struct op o = open_("ch_1", "general", 0, T0);
	cr_assert_eq(o.rc, DB_OK);
	struct op u = {.kind = OP_UPDATE, .id = o.d.id, .now = T0};
	u.change.evidence = "{\"product_description\":\"shoes\"}";
	u.change.submit = true;
	cr_assert_eq(run(&u), DB_OK);
	tick(T0 + 10);
	cr_assert_str_eq(status_of(o.d.id), "under_review");
	cr_assert_eq(q_int("SELECT COUNT(*) FROM disputes WHERE id = $1 AND decide_at IS NULL",
			   o.d.id, NULL),
		     1);
	assert_books_ok();
}

Test(dispute, unanswered_at_due_by_is_lost_and_past_due)
{
	make_charge("ch_1", "succeeded", 2500, ACQ_SUCCEED);
	struct op o = open_("ch_1", "fraudulent", 0, T0);
	cr_assert_eq(o.rc, DB_OK);
	int64_t before = available();
	cr_assert_eq(tick(o.d.due_by), 0, "lost before the due date passed");
	cr_assert_str_eq(status_of(o.d.id), "needs_response");
	cr_assert_eq(tick(o.d.due_by + 1), 1);
	cr_assert_str_eq(status_of(o.d.id), "lost");
	cr_assert_eq(
	    q_int("SELECT past_due FROM disputes WHERE merchant_id = $1 AND id = $2", M1, o.d.id),
	    1);
	cr_assert_eq(available(), before, "losing keeps the withdrawal, moves nothing more");
	cr_assert_eq(events_of(o.d.id, "charge.dispute.closed"), 1);
	assert_books_ok();
}

Test(dispute, closing_an_inquiry_and_a_chargeback)
{
	make_charge("ch_1", "succeeded", 2000, ACQ_SUCCEED);
	make_charge("ch_2", "succeeded", 3000, ACQ_SUCCEED);
	int64_t before = available();
	struct op inq = open_("ch_1", "inquiry", 0, T0);
	cr_assert_eq(inq.rc, DB_OK);
	cr_assert_str_eq(status_of(inq.d.id), "warning_needs_response");
	cr_assert_eq(available(), before, "an inquiry moves no money");
	struct op b = {.kind = OP_BLOCKED, .charge = "ch_1"};
	cr_assert_eq(run(&b), DB_OK);
	cr_assert_eq(b.out, 0, "an inquiry does not block refunds");
	struct op c = {.kind = OP_CLOSE, .id = inq.d.id, .now = T0 + 1};
	cr_assert_eq(run(&c), DB_OK);
	cr_assert_str_eq(status_of(inq.d.id), "warning_closed");
	cr_assert_eq(run(&c), DISPUTE_ERR_STATE);

	struct op cb = open_("ch_2", "duplicate", 1200, T0);
	cr_assert_eq(cb.rc, DB_OK);
	cr_assert_eq(cb.d.amount, 1200);
	struct op c2 = {.kind = OP_CLOSE, .id = cb.d.id, .now = T0 + 1};
	cr_assert_eq(run(&c2), DB_OK);
	cr_assert_str_eq(status_of(cb.d.id), "lost");
	cr_assert_eq(available(), before - 1200 - 1500);
	assert_books_ok();
}

Test(dispute, refusals)
{
	make_charge("ch_1", "succeeded", 1000, ACQ_SUCCEED);
	make_charge("ch_f", "failed", 1000, ACQ_SUCCEED);
	cr_assert_eq(open_("ch_none", "fraudulent", 0, T0).rc, DB_NOTFOUND);
	cr_assert_eq(open_("ch_f", "fraudulent", 0, T0).rc, DISPUTE_ERR_STATE);
	cr_assert_eq(open_("ch_1", "because", 0, T0).rc, DISPUTE_ERR_REASON);
	cr_assert_eq(open_("ch_1", "fraudulent", 1001, T0).rc, DISPUTE_ERR_AMOUNT);
	cr_assert_eq(open_("ch_1", "fraudulent", -1, T0).rc, DISPUTE_ERR_AMOUNT);
	cr_assert_eq(q_int("SELECT COUNT(*) FROM disputes WHERE merchant_id = $1", M1, NULL), 0);
	cr_assert_eq(
	    q_int("SELECT disputed FROM charges WHERE merchant_id = $1 AND id = $2", M1, "ch_1"),
	    0);
}

Test(dispute, the_network_opens_test_card_disputes_after_the_delay_once)
{
	make_charge("ch_1", "succeeded", 4200, ACQ_DISPUTE_PRODUCT_NOT_RECEIVED);
	make_charge("ch_2", "succeeded", 1000, ACQ_SUCCEED);
	struct op sch = {
	    .kind = OP_SCHEDULE, .charge = "ch_1", .id = "auth_ch_1", .amount = 4200, .now = T0};
	cr_assert_eq(run(&sch), DB_OK);
	cr_assert_eq(run(&sch), DB_OK); /* a repeated hook records one job */
	struct op sch2 = {
	    .kind = OP_SCHEDULE, .charge = "ch_2", .id = "auth_ch_2", .amount = 1000, .now = T0};
	cr_assert_eq(run(&sch2), DB_OK);
	cr_assert_eq(q_int("SELECT COUNT(*) FROM dispute_jobs WHERE merchant_id = $1", M1, NULL),
		     1);
	cr_assert_eq(tick(T0 + DISPUTE_NETWORK_DELAY_S - 1), 0, "opened before the delay");
	cr_assert_eq(tick(T0 + DISPUTE_NETWORK_DELAY_S), 1);
	cr_assert_eq(tick(T0 + DISPUTE_NETWORK_DELAY_S + 5), 0, "opened twice");
	cr_assert_eq(q_int("SELECT COUNT(*) FROM disputes WHERE merchant_id = $1 AND charge = $2"
			   " AND reason = 'product_not_received' AND amount = 4200",
			   M1, "ch_1"),
		     1);
	cr_assert_eq(q_int("SELECT COUNT(*) FROM dispute_jobs WHERE merchant_id = $1"
			   " AND status = 'done' AND dispute IS NOT NULL",
			   M1, NULL),
		     1);
	assert_books_ok();
}

Test(dispute, a_job_for_a_charge_disputed_meanwhile_is_done_without_a_second_dispute)
{
	make_charge("ch_1", "succeeded", 4200, ACQ_DISPUTE_FRAUDULENT);
	struct op sch = {
	    .kind = OP_SCHEDULE, .charge = "ch_1", .id = "auth_ch_1", .amount = 4200, .now = T0};
	cr_assert_eq(run(&sch), DB_OK);
	cr_assert_eq(open_("ch_1", "general", 0, T0 + 1).rc, DB_OK);
	cr_assert_eq(tick(T0 + 10), 0);
	cr_assert_eq(q_int("SELECT COUNT(*) FROM disputes WHERE merchant_id = $1", M1, NULL), 1);
	cr_assert_eq(q_int("SELECT COUNT(*) FROM dispute_jobs WHERE merchant_id = $1 AND status ="
			   " 'done' AND dispute IS NULL",
			   M1, NULL),
		     1);
	assert_books_ok();
}
