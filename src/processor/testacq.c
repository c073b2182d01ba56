/* The test-mode acquirer: Stripe's test cards, decided the way Stripe's test mode decides them. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/id.h"
#include "core/str.h"
#include "processor/processor.h"

static void decline(struct processor_decision *d, enum api_err err, const char *code,
		    const char *reason, const char *msg)
{
	d->approved = false;
	d->err = err;
	str_copy(d->decline_code, sizeof(d->decline_code), code ? code : "");
	d->network_status = "declined_by_network";
	d->outcome_type = "issuer_declined";
	d->reason = reason;
	d->seller_message = msg;
}

/* Six characters, digits and capitals, like a network's approval code. */
static void auth_code_new(char out[16])
{
	id_random_base62(out, 6);
	for (char *p = out; *p; p++)
		if (*p >= 'a' && *p <= 'z')
			*p = (char)(*p - 'a' + 'A');
}

void processor_authorize(const struct processor_card *card, int64_t amount, const char *currency,
			 int64_t now, struct processor_decision *d)
{
	(void)amount;
	(void)currency;
	memset(d, 0, sizeof(*d));
	d->approved = true;
	d->network_status = "approved_by_network";
	d->outcome_type = "authorized";
	d->seller_message = "Payment complete.";
	d->risk_level = "normal";
	d->risk_score = 20;
	d->cvc_check = card->cvc_provided ? "pass" : NULL;
	d->address_line1_check = card->line1_provided ? "pass" : NULL;
	d->address_postal_code_check = card->postal_code_provided ? "pass" : NULL;

	/* an expired card is declined whatever its number says */
	struct tm tm;
	time_t t = (time_t)now;
	gmtime_r(&t, &tm);
	int y = tm.tm_year + 1900, m = tm.tm_mon + 1;
	if (card->exp_year < y || (card->exp_year == y && card->exp_month < m)) {
		decline(d, ERR_CARD_EXPIRED, "expired_card", "expired_card",
			"The bank returned the decline code `expired_card`.");
		return;
	}
	switch (card->behavior) {
	case ACQ_DECLINE_GENERIC:
	case ACQ_DECLINE_CHARGES:
		decline(d, ERR_CARD_DECLINED, "generic_decline", "generic_decline",
			"The bank did not return any further details with this decline.");
		break;
	case ACQ_DECLINE_INSUFFICIENT_FUNDS:
		decline(d, ERR_CARD_DECLINED, "insufficient_funds", "insufficient_funds",
			"The bank returned the decline code `insufficient_funds`.");
		break;
	case ACQ_DECLINE_LOST_CARD:
		decline(d, ERR_CARD_DECLINED, "lost_card", "lost_card",
			"The bank returned the decline code `lost_card`.");
		break;
	case ACQ_DECLINE_STOLEN_CARD:
		decline(d, ERR_CARD_DECLINED, "stolen_card", "stolen_card",
			"The bank returned the decline code `stolen_card`.");
		break;
	case ACQ_EXPIRED_CARD:
		decline(d, ERR_CARD_EXPIRED, "expired_card", "expired_card",
			"The bank returned the decline code `expired_card`.");
		break;
	case ACQ_INCORRECT_CVC:
		decline(d, ERR_CARD_INCORRECT_CVC, "incorrect_cvc", "incorrect_cvc",
			"The bank returned the decline code `incorrect_cvc`.");
		d->cvc_check = "fail";
		break;
	case ACQ_DECLINE_VELOCITY:
		decline(d, ERR_CARD_DECLINED, "card_velocity_exceeded", "card_velocity_exceeded",
			"The bank returned the decline code `card_velocity_exceeded`.");
		break;
	case ACQ_CVC_CHECK_FAIL:
		/* the issuer can only fail a check it was asked to make */
		if (card->cvc_provided) {
			decline(d, ERR_CARD_INCORRECT_CVC, "incorrect_cvc", "incorrect_cvc",
				"The bank returned the decline code `incorrect_cvc`.");
			d->cvc_check = "fail";
		}
		break;
	/* Stripe's default settings decline on neither address check */
	case ACQ_AVS_FAIL:
	case ACQ_AVS_LINE1_FAIL:
	case ACQ_AVS_ZIP_FAIL:
	case ACQ_AVS_UNAVAILABLE: {
		bool line1 = card->behavior != ACQ_AVS_ZIP_FAIL;
		bool zip = card->behavior != ACQ_AVS_LINE1_FAIL;
		const char *res = card->behavior == ACQ_AVS_UNAVAILABLE ? "unavailable" : "fail";
		if (line1 && card->line1_provided)
			d->address_line1_check = res;
		if (zip && card->postal_code_provided)
			d->address_postal_code_check = res;
		break;
	}
	case ACQ_3DS_THEN_INSUFFICIENT_FUNDS:
		decline(d, ERR_CARD_DECLINED, "insufficient_funds", "insufficient_funds",
			"The bank returned the decline code `insufficient_funds`.");
		break;
	case ACQ_3DS_THEN_DECLINE:
		decline(d, ERR_CARD_DECLINED, "generic_decline", "generic_decline",
			"The bank did not return any further details with this decline.");
		break;
	case ACQ_3DS_REQUIRED_LOOKUP_ERROR:
		/* the authentication Stripe's defaults require could not even start: Stripe
		 * declines such a payment (and check) with card_declined */
		decline(d, ERR_CARD_DECLINED, "generic_decline", "generic_decline",
			"3D Secure authentication could not be performed (the lookup failed with a "
			"processing error).");
		/* the issuer never saw the authorization: nothing was checked */
		d->cvc_check = d->address_line1_check = d->address_postal_code_check = NULL;
		break;
	case ACQ_PROCESSING_ERROR:
		decline(d, ERR_CARD_PROCESSING, "processing_error", "processing_error",
			"The bank returned the decline code `processing_error`.");
		break;
	case ACQ_FRAUD_BLOCK:
		decline(d, ERR_CARD_DECLINED, "fraudulent", "highest_risk_level",
			"Stripe blocked this payment as too risky.");
		d->network_status = "not_sent_to_network";
		d->outcome_type = "blocked";
		d->risk_level = "highest";
		d->risk_score = 99;
		break;
	case ACQ_RISK_HIGHEST:
		d->risk_level = "highest";
		d->risk_score = 95;
		break;
	case ACQ_RISK_ELEVATED:
		d->risk_level = "elevated";
		d->risk_score = 65;
		break;
	default:
		break;
	}
	if (d->approved)
		auth_code_new(d->auth_code);
}

void processor_verify(const struct processor_card *card, int64_t now, struct processor_decision *d)
{
	struct processor_card c = *card;
	/* a verification moves no money: nothing for the issuer to find insufficient */
	if (c.behavior == ACQ_DECLINE_CHARGES || c.behavior == ACQ_3DS_THEN_INSUFFICIENT_FUNDS)
		c.behavior = ACQ_SUCCEED;
	processor_authorize(&c, 0, NULL, now, d);
	if (d->approved)
		d->seller_message = "The card was verified.";
}

/* The books are keyed by the charge: the acquirer's own transaction reference (migration 0016).
 * An approval code is only what the issuer answered; like a real network's six characters it
 * is not unique over a merchant's lifetime, and two holds may carry the same one. */
static const char SQL_HOLD[] =
    "INSERT INTO acquirer_holds (merchant_id, auth_code, charge_id, amount, currency,"
    " card_behavior, created, captured, released) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
static const char SQL_CAPTURE[] =
    "UPDATE acquirer_holds SET captured = $3, released = 1 WHERE merchant_id = $1"
    " AND charge_id = $2 AND released = 0 AND captured = 0 AND $3 <= amount AND $3 > 0";
static const char SQL_RELEASE[] = "UPDATE acquirer_holds SET released = 1 WHERE merchant_id = $1"
				  " AND charge_id = $2 AND released = 0";
static const char SQL_REFUND[] =
    "UPDATE acquirer_holds SET refunded = refunded + $3 WHERE merchant_id = $1"
    " AND charge_id = $2 AND refunded + $3 <= captured AND $3 > 0";
static const char SQL_REFUND_REVERSE[] =
    "UPDATE acquirer_holds SET refunded = refunded - $3 WHERE merchant_id = $1"
    " AND charge_id = $2 AND refunded >= $3 AND $3 > 0";

static int hold_insert(struct db *db, const char *merchant_id, const char *auth_code,
		       const char *charge_id, int64_t amount, const char *currency,
		       enum acq_behavior behavior, int64_t now, int64_t captured)
{
	struct db_stmt *st = db_prepare(db, SQL_HOLD);
	if (!st)
		return DB_ERR;
	db_bind_text_ref(st, 1, merchant_id, -1);
	db_bind_text_ref(st, 2, auth_code, -1);
	db_bind_text_ref(st, 3, charge_id, -1);
	db_bind_int64(st, 4, amount);
	db_bind_text_ref(st, 5, currency, -1);
	db_bind_int64(st, 6, behavior);
	db_bind_int64(st, 7, now);
	db_bind_int64(st, 8, captured);
	db_bind_int64(st, 9, captured > 0 ? 1 : 0); /* a capture ends the hold (SQL_CAPTURE) */
	return db_step_done(st);
}

int processor_hold(struct db *db, const char *merchant_id, const char *auth_code,
		   const char *charge_id, int64_t amount, const char *currency,
		   enum acq_behavior behavior, int64_t now)
{
	return hold_insert(db, merchant_id, auth_code, charge_id, amount, currency, behavior, now,
			   0);
}

int processor_hold_captured(struct db *db, const char *merchant_id, const char *auth_code,
			    const char *charge_id, int64_t amount, const char *currency,
			    enum acq_behavior behavior, int64_t now)
{
	if (amount <= 0)
		return DB_CONFLICT;
	return hold_insert(db, merchant_id, auth_code, charge_id, amount, currency, behavior, now,
			   amount);
}

static int guarded(struct db *db, const char *sql, const char *merchant_id, const char *charge_id,
		   int64_t amount, bool with_amount)
{
	struct db_stmt *st = db_prepare(db, sql);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, charge_id, -1);
	if (with_amount)
		db_bind_int64(st, 3, amount);
	int rc = db_step(st);
	int64_t n = rc == DB_DONE ? db_changes(st) : 0;
	db_reset(st);
	if (rc != DB_DONE)
		return rc < 0 ? rc : DB_ERR;
	return n == 1 ? DB_OK : DB_CONFLICT;
}

int processor_capture(struct db *db, const char *merchant_id, const char *charge_id, int64_t amount)
{
	return guarded(db, SQL_CAPTURE, merchant_id, charge_id, amount, true);
}

static const char SQL_INCREMENT[] =
    "UPDATE acquirer_holds SET amount = $3 WHERE merchant_id = $1 AND charge_id = $2"
    " AND released = 0 AND captured = 0 AND amount < $3";

int processor_increment(struct db *db, const char *merchant_id, const char *charge_id,
			int64_t new_amount)
{
	return guarded(db, SQL_INCREMENT, merchant_id, charge_id, new_amount, true);
}

int processor_release(struct db *db, const char *merchant_id, const char *charge_id)
{
	return guarded(db, SQL_RELEASE, merchant_id, charge_id, 0, false);
}

static const char SQL_BEHAVIOR[] =
    "SELECT card_behavior FROM acquirer_holds WHERE merchant_id = $1 AND charge_id = $2";

int processor_refund(struct db *db, const char *merchant_id, const char *charge_id, int64_t amount,
		     enum refund_mode *ret_mode)
{
	int rc = guarded(db, SQL_REFUND, merchant_id, charge_id, amount, true);
	if (rc != DB_OK)
		return rc;
	struct db_stmt *st = db_prepare(db, SQL_BEHAVIOR);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, charge_id, -1);
	*ret_mode = REFUND_IMMEDIATE;
	if (db_step(st) == DB_ROW) {
		int64_t b = db_col_int64(st, 0);
		if (b == ACQ_REFUND_PENDING)
			*ret_mode = REFUND_PENDING_THEN_OK;
		else if (b == ACQ_REFUND_FAILS)
			*ret_mode = REFUND_OK_THEN_FAILS;
	}
	db_reset(st);
	return DB_OK;
}

int processor_refund_reverse(struct db *db, const char *merchant_id, const char *charge_id,
			     int64_t amount)
{
	return guarded(db, SQL_REFUND_REVERSE, merchant_id, charge_id, amount, true);
}

int processor_card_behavior(struct db *db, const char *merchant_id, const char *charge_id,
			    enum acq_behavior *ret_behavior)
{
	struct db_stmt *st = db_prepare(db, SQL_BEHAVIOR);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, charge_id, -1);
	int rc = db_step(st);
	enum acq_behavior b = ACQ_SUCCEED;
	if (rc == DB_ROW)
		b = (enum acq_behavior)db_col_int64(st, 0);
	db_reset(st);
	if (rc != DB_ROW && rc != DB_DONE)
		return rc < 0 ? rc : DB_ERR;
	*ret_behavior = b;
	return DB_OK;
}
