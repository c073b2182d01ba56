#include "verify/verify.h"

#include "events/pack.h"
#include "http/idempotency.h"
#include "ledger/ledger.h"
#include "ledger/ledger_dispute.h"
#include "vault/vault.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define FAILURES_SHOWN_MAX 200

void verify_fail(struct verify_report *rep, const char *check, const char *fmt, ...)
{
	rep->failures++;
	if (rep->failures > FAILURES_SHOWN_MAX)
		return;
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	buf_printf(&rep->text, "FAIL %s: %s\n", check, msg);
}

/* Runs a statement whose rows are violations; each row's first two columns are reported. */
static int violations(struct db *db, struct verify_report *rep, const char *check, const char *sql,
		      const char *what)
{
	rep->checks++;
	struct db_stmt *st = db_prepare(db, sql);
	if (!st) {
		verify_fail(rep, check, "cannot prepare the check: %s", db_errmsg(db));
		return -1;
	}
	int rc;
	while ((rc = db_step(st)) == DB_ROW) {
		const char *a = db_col_text(st, 0, NULL);
		const char *b = db_col_count(st) > 1 ? db_col_text(st, 1, NULL) : NULL;
		verify_fail(rep, check, "%s: %s%s%s", what, a ? a : "?", b ? " / " : "",
			    b ? b : "");
	}
	db_reset(st);
	return rc == DB_DONE ? 0 : -1;
}

static const char SQL_KEYS_ORPHAN[] =
    "SELECT k.display, k.merchant_id FROM api_keys k LEFT JOIN merchants m ON m.id = k.merchant_id"
    " WHERE m.id IS NULL";
NO_EVENT(SQL_CUSTOMER_NO_EVENT, "SELECT c.merchant_id, c.id FROM customers c", "", "c.merchant_id",
	 "c.id", "= 'customer.created'");
NO_EVENT(SQL_DELETED_NO_EVENT, "SELECT c.merchant_id, c.id FROM customers c", "c.deleted = 1 AND ",
	 "c.merchant_id", "c.id", "= 'customer.deleted'");
static const char SQL_EVENT_NO_MERCHANT[] =
    "SELECT e.id, e.merchant_id FROM events e LEFT JOIN merchants m ON m.id = e.merchant_id"
    " WHERE m.id IS NULL";
/* SQLite without statistics would answer the subquery from the refunds' primary key
 * (merchant_id = ?), reading every refund of the merchant for each charge; INDEXED BY holds it
 * to refunds_charge. A refund to a bank transfer customer's bank account (a charge and an
 * instructions_email) counts while it waits (requires_action) and once canceled: its money went
 * to the customer's cash balance, not back to the merchant (api/refunds.c) */
#define CHARGE_REFUNDS(idx)                                                                        \
	"SELECT c.merchant_id, c.id FROM charges c WHERE c.amount_refunded <> (SELECT "            \
	"COALESCE(SUM("                                                                            \
	"r.amount), 0) FROM refunds r" idx                                                         \
	" WHERE r.merchant_id = c.merchant_id AND r.charge = c.id"                                 \
	" AND (r.status IN ('succeeded', 'pending', 'requires_action') OR (r.status ="             \
	" 'canceled' AND r.instructions_email IS NOT NULL)) AND r.releases = 0) AND c.captured = " \
	"1"
static const char SQL_CHARGE_REFUNDS_SQLITE[] = CHARGE_REFUNDS(" INDEXED BY refunds_charge");
static const char SQL_CHARGE_REFUNDS_PG[] = CHARGE_REFUNDS("");
static const char SQL_CHARGE_BOUNDS[] =
    "SELECT merchant_id, id FROM charges WHERE amount_refunded > amount_captured"
    " OR amount_captured > amount OR amount_refunded < 0 OR amount_released < 0"
    " OR amount_captured + amount_released > amount";
static const char SQL_PI_RECEIVED[] =
    "SELECT p.merchant_id, p.id FROM payment_intents p WHERE p.status = 'succeeded' AND"
    " p.amount_received <> (SELECT c.amount_captured FROM charges c WHERE c.merchant_id ="
    " p.merchant_id AND c.id = p.latest_charge)";
static const char SQL_PI_CHARGES[] =
    "SELECT merchant_id, payment_intent FROM charges WHERE payment_intent IS NOT NULL"
    " AND captured = 1 GROUP BY merchant_id, payment_intent HAVING COUNT(*) > 1";
static const char SQL_HOLDS_MATCH[] =
    "SELECT c.merchant_id, c.id FROM charges c JOIN acquirer_holds h ON h.merchant_id ="
    " c.merchant_id AND h.charge_id = c.id WHERE h.captured <> c.amount_captured"
    " OR h.refunded <> c.amount_refunded";
NO_EVENT(SQL_CHARGE_NO_EVENT, "SELECT c.merchant_id, c.id FROM charges c", "", "c.merchant_id",
	 "c.id", "IN ('charge.succeeded', 'charge.failed')");
NO_EVENT(SQL_CAPTURED_NO_EVENT, "SELECT c.merchant_id, c.id FROM charges c",
	 "c.captured = 1 AND c.payment_intent IS NOT NULL AND ", "c.merchant_id",
	 "c.payment_intent", "= 'payment_intent.succeeded'");
NO_EVENT(SQL_PI_NO_EVENT, "SELECT p.merchant_id, p.id FROM payment_intents p", "", "p.merchant_id",
	 "p.id", "= 'payment_intent.created'");
NO_EVENT(SQL_REFUND_NO_EVENT, "SELECT r.merchant_id, r.id FROM refunds r", "", "r.merchant_id",
	 "r.id", "= 'refund.created'");
NO_EVENT(SQL_SETI_NO_EVENT, "SELECT s.merchant_id, s.id FROM setup_intents s", "", "s.merchant_id",
	 "s.id", "= 'setup_intent.created'");
NO_EVENT(SQL_PRODUCT_NO_EVENT, "SELECT p.merchant_id, p.id FROM products p", "", "p.merchant_id",
	 "p.id", "= 'product.created'");
NO_EVENT(SQL_PRICE_NO_EVENT, "SELECT p.merchant_id, p.id FROM prices p", "", "p.merchant_id",
	 "p.id", "= 'price.created'");
NO_EVENT(SQL_SETI_DONE_NO_EVENT, "SELECT s.merchant_id, s.id FROM setup_intents s",
	 "s.status = 'succeeded' AND ", "s.merchant_id", "s.id", "= 'setup_intent.succeeded'");

/* A record whose named event is missing has a NULL answer: not a valid saved result. */
static const char SQL_IDEM_ALL[] =
    "SELECT i.merchant_id, i.idem_key, i.status, " IDEM_ANSWER_SQL IDEM_ANSWER_JOIN;

/* The saved result of a successful create names an object: it must exist. */
static bool object_missing(struct db *db, const char *merchant_id, json_t *doc)
{
	static const char SQL_PI[] =
	    "SELECT 1 FROM payment_intents WHERE merchant_id = $1 AND id = $2";
	static const char SQL_CH[] = "SELECT 1 FROM charges WHERE merchant_id = $1 AND id = $2";
	static const char SQL_RE[] = "SELECT 1 FROM refunds WHERE merchant_id = $1 AND id = $2";
	static const char SQL_CU[] = "SELECT 1 FROM customers WHERE merchant_id = $1 AND id = $2";
	const char *object = json_string_value(json_object_get(doc, "object"));
	const char *id = json_string_value(json_object_get(doc, "id"));
	if (!object || !id || !merchant_id)
		return false;
	const char *sql = strcmp(object, "payment_intent") == 0 ? SQL_PI
			  : strcmp(object, "charge") == 0	? SQL_CH
			  : strcmp(object, "refund") == 0	? SQL_RE
			  : strcmp(object, "customer") == 0	? SQL_CU
								: NULL;
	if (!sql)
		return false;
	struct db_stmt *st = db_prepare(db, sql);
	if (!st)
		return false;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, id, -1);
	bool missing = db_step(st) != DB_ROW;
	db_reset(st);
	return missing;
}

/* Column col as JSON text: an event's object may be packed (events/pack.h), and is unpacked into
 * scratch. NULL when the column is NULL or the packed value is damaged. */
static const char *stored_json(struct db_stmt *st, int col, struct buf *scratch, size_t *len)
{
	size_t n = 0;
	const char *raw = db_col_text(st, col, &n);
	const char *json = NULL;
	buf_reset(scratch);
	if (!raw || event_unpack(raw, n, scratch, &json, len) != 0)
		return NULL;
	return json;
}

static int check_idempotency(struct db *db, struct verify_report *rep)
{
	rep->checks++;
	struct db_stmt *st = db_prepare(db, SQL_IDEM_ALL);
	if (!st)
		return -1;
	struct buf scratch;
	buf_init(&scratch, BUF_MAX_DEFAULT);
	int rc;
	while ((rc = db_step(st)) == DB_ROW) {
		int64_t status = db_col_int64(st, 2);
		json_error_t e;
		/* an event's object that does not unpack is no valid saved result either */
		size_t len = 0;
		const char *json = stored_json(st, 3, &scratch, &len);
		json_t *doc = json ? json_loadb(json, len, 0, &e) : NULL;
		if (status < 200 || status > 599 || !doc || !json_is_object(doc))
			verify_fail(rep, "idempotency",
				    "record %s / %s holds no valid saved result",
				    db_col_text(st, 0, NULL), db_col_text(st, 1, NULL));
		else if (status == 200 && object_missing(db, db_col_text(st, 0, NULL), doc))
			verify_fail(rep, "idempotency", "record %s / %s points at a missing object",
				    db_col_text(st, 0, NULL), db_col_text(st, 1, NULL));
		json_decref(doc);
	}
	db_reset(st);
	buf_release(&scratch);
	return rc == DB_DONE ? 0 : -1;
}

/* Every event's object reads back: a packed one (events/pack.h) unpacks, and what comes out, or
 * what was stored as text, is a JSON object's text. A damaged value would otherwise surface
 * only when the event is read (the API, a webhook delivery, a replay). */
static int check_event_objects(struct db *db, struct verify_report *rep)
{
	rep->checks++;
	static const char SQL[] = "SELECT merchant_id, id, data_object FROM events";
	struct db_stmt *st = db_prepare(db, SQL);
	if (!st)
		return -1;
	struct buf scratch;
	buf_init(&scratch, BUF_MAX_DEFAULT);
	int rc;
	while ((rc = db_step(st)) == DB_ROW) {
		size_t len = 0;
		const char *json = stored_json(st, 2, &scratch, &len);
		if (!json || len < 2 || json[0] != '{' || json[len - 1] != '}')
			verify_fail(rep, "events", "event whose object does not read back: %s / %s",
				    db_col_text(st, 0, NULL), db_col_text(st, 1, NULL));
	}
	db_reset(st);
	buf_release(&scratch);
	return rc == DB_DONE ? 0 : -1;
}

static int check_sqlite_integrity(struct db *db, struct verify_report *rep)
{
	if (db_kind(db) != DB_SQLITE)
		return 0;
	rep->checks++;
	static const char SQL[] = "PRAGMA quick_check";
	struct db_stmt *st = db_prepare(db, SQL);
	if (!st)
		return -1;
	int rc;
	while ((rc = db_step(st)) == DB_ROW) {
		const char *t = db_col_text(st, 0, NULL);
		if (!t || strcmp(t, "ok") != 0)
			verify_fail(rep, "sqlite", "%s", t ? t : "?");
	}
	db_reset(st);
	return rc == DB_DONE ? 0 : -1;
}

int verify_run(struct db *db, struct verify_report *rep)
{
	int rc = 0;
	rc |= check_sqlite_integrity(db, rep);
	rc |= violations(db, rep, "merchants", SQL_KEYS_ORPHAN, "API key of no merchant");
	rc |= violations(db, rep, "events", SQL_EVENT_NO_MERCHANT, "event of no merchant");
	rc |= violations(db, rep, "events", FOR_DB(db, SQL_CUSTOMER_NO_EVENT),
			 "customer without its customer.created event");
	rc |= violations(db, rep, "events", FOR_DB(db, SQL_DELETED_NO_EVENT),
			 "deleted customer without its customer.deleted event");
	rc |= check_idempotency(db, rep);
	rc |= check_event_objects(db, rep);
	rc |= ledger_verify(db, rep);
	rc |= ledger_dispute_verify(db, rep);
	if (rep->vault)
		rc |= vault_verify(rep->vault, db, rep);
	rc |= violations(
	    db, rep, "payments", SQL_CHARGE_BOUNDS,
	    "charge with amount_refunded > amount_captured, amount_captured > amount, or "
	    "more released than it held uncaptured");
	rc |= violations(db, rep, "payments", FOR_DB(db, SQL_CHARGE_REFUNDS),
			 "charge whose amount_refunded is not the sum of its refunds");
	rc |= violations(db, rep, "payments", SQL_PI_RECEIVED,
			 "succeeded PaymentIntent whose amount_received differs from its charge");
	rc |= violations(db, rep, "payments", SQL_PI_CHARGES,
			 "PaymentIntent captured by more than one charge (double charge)");
	rc |= violations(db, rep, "payments", SQL_HOLDS_MATCH,
			 "charge that disagrees with the acquirer's books");
	rc |= violations(db, rep, "events", FOR_DB(db, SQL_CHARGE_NO_EVENT),
			 "charge without its event");
	rc |= violations(db, rep, "events", FOR_DB(db, SQL_CAPTURED_NO_EVENT),
			 "captured PaymentIntent without payment_intent.succeeded");
	rc |= violations(db, rep, "events", FOR_DB(db, SQL_PI_NO_EVENT),
			 "PaymentIntent without payment_intent.created");
	rc |= violations(db, rep, "events", FOR_DB(db, SQL_REFUND_NO_EVENT),
			 "refund without refund.created");
	rc |= violations(db, rep, "events", FOR_DB(db, SQL_SETI_NO_EVENT),
			 "SetupIntent without setup_intent.created");
	rc |= violations(db, rep, "events", FOR_DB(db, SQL_PRODUCT_NO_EVENT),
			 "product without product.created");
	rc |= violations(db, rep, "events", FOR_DB(db, SQL_PRICE_NO_EVENT),
			 "price without price.created");
	rc |= violations(db, rep, "events", FOR_DB(db, SQL_SETI_DONE_NO_EVENT),
			 "succeeded SetupIntent without setup_intent.succeeded");
	return rc;
}
