#include "verify/verify.h"

#include <jansson.h>
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
static int violations(struct db *db, struct verify_report *rep, const char *check,
                      const char *sql, const char *what)
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
		verify_fail(rep, check, "%s: %s%s%s", what, a ? a : "?", b ? " / " : "", b ? b : "");
	}
	db_reset(st);
	return rc == DB_DONE ? 0 : -1;
}

static const char SQL_KEYS_ORPHAN[] =
    "SELECT k.display, k.merchant_id FROM api_keys k LEFT JOIN merchants m ON m.id = k.merchant_id"
    " WHERE m.id IS NULL";
static const char SQL_CUSTOMER_NO_EVENT[] =
    "SELECT c.merchant_id, c.id FROM customers c WHERE NOT EXISTS (SELECT 1 FROM events e"
    " WHERE e.merchant_id = c.merchant_id AND e.object_id = c.id AND e.type = 'customer.created')";
static const char SQL_DELETED_NO_EVENT[] =
    "SELECT c.merchant_id, c.id FROM customers c WHERE c.deleted = 1 AND NOT EXISTS (SELECT 1"
    " FROM events e WHERE e.merchant_id = c.merchant_id AND e.object_id = c.id"
    " AND e.type = 'customer.deleted')";
static const char SQL_EVENT_NO_MERCHANT[] =
    "SELECT e.id, e.merchant_id FROM events e LEFT JOIN merchants m ON m.id = e.merchant_id"
    " WHERE m.id IS NULL";
static const char SQL_IDEM_ALL[] =
    "SELECT merchant_id, idem_key, status, body FROM idempotency_keys";

static int check_idempotency(struct db *db, struct verify_report *rep)
{
	rep->checks++;
	struct db_stmt *st = db_prepare(db, SQL_IDEM_ALL);
	if (!st)
		return -1;
	int rc;
	while ((rc = db_step(st)) == DB_ROW) {
		int64_t status = db_col_int64(st, 2);
		size_t n = 0;
		const char *body = db_col_text(st, 3, &n);
		json_error_t e;
		json_t *doc = body ? json_loadb(body, n, 0, &e) : NULL;
		if (status < 200 || status > 599 || !doc || !json_is_object(doc))
			verify_fail(rep, "idempotency", "record %s / %s holds no valid saved result",
			            db_col_text(st, 0, NULL), db_col_text(st, 1, NULL));
		json_decref(doc);
	}
	db_reset(st);
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
	rc |= violations(db, rep, "events", SQL_CUSTOMER_NO_EVENT,
	                 "customer without its customer.created event");
	rc |= violations(db, rep, "events", SQL_DELETED_NO_EVENT,
	                 "deleted customer without its customer.deleted event");
	rc |= check_idempotency(db, rep);
	return rc;
}
