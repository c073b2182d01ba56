#include "payments/flow.h"
#include "risk/review.h"
#include "core/str.h"

#include "disputes/dispute.h"
#include "ledger/ledger_connect.h"
#include "merchant/connect.h"
#include "merchant/merchant.h"
#include "payments/connect.h"

#include <stdio.h>
#include <string.h>

/* A Terminal reader's card (card->present): the whole payment_method_details, {card_present:
 * {…}, type: card_present}, as Stripe renders an in-person payment's (a simulated reader's EMV
 * data: the card was tapped, contactless_emv). The charge keeps it whole in its card column, as a
 * bank debit's (payments/charge.c renders it as it is). */
const char *payment_card_present_details(struct arena *a, const struct payment_card *c,
					 int64_t amount_authorized, const char *auth_code)
{
	const char *f = c->funding ? c->funding : "unknown";
	const char *account_type = strcmp(f, "credit") == 0    ? "credit"
				   : strcmp(f, "debit") == 0   ? "checking"
				   : strcmp(f, "prepaid") == 0 ? "prepaid"
							       : "unknown";
	struct buf b;
	struct json j;
	buf_init(&b, 64 * 1024);
	json_init(&j, &b);
	json_obj_open(&j);
	json_key(&j, "card_present");
	json_obj_open(&j);
	if (auth_code && amount_authorized >= 0)
		json_kv_int(&j, "amount_authorized", amount_authorized);
	else
		json_kv_null(&j, "amount_authorized");
	json_kv_str(&j, "brand", c->brand);
	json_kv_null(&j, "cardholder_name");
	json_kv_str_or_null(&j, "country", c->country);
	json_kv_null(&j, "emv_auth_data");
	json_kv_int(&j, "exp_month", c->exp_month);
	json_kv_int(&j, "exp_year", c->exp_year);
	json_kv_str_or_null(&j, "fingerprint", c->fingerprint);
	json_kv_str(&j, "funding", f);
	json_kv_null(&j, "generated_card");
	json_kv_bool(&j, "incremental_authorization_supported", false);
	json_kv_str(&j, "last4", c->last4);
	json_kv_str(&j, "network", c->brand);
	json_kv_bool(&j, "overcapture_supported", false);
	json_kv_str(&j, "read_method", "contactless_emv");
	json_key(&j, "receipt");
	json_obj_open(&j);
	json_kv_str(&j, "account_type", account_type);
	json_kv_null(&j, "application_cryptogram");
	json_kv_null(&j, "application_preferred_name");
	json_kv_str_or_null(&j, "authorization_code", auth_code);
	json_kv_str(&j, "authorization_response_code", auth_code ? "3030" : "3035");
	json_kv_str(&j, "cardholder_verification_method", "none");
	json_kv_null(&j, "dedicated_file_name");
	json_kv_null(&j, "terminal_verification_results");
	json_kv_null(&j, "transaction_status_information");
	json_obj_close(&j);
	json_obj_close(&j);
	json_kv_str(&j, "type", "card_present");
	json_obj_close(&j);
	const char *s = b.failed ? NULL : arena_strndup(a, b.data, b.len);
	buf_release(&b);
	return s;
}

/* payment_method_details.card, as Stripe renders it for a card payment. */
static const char *card_details_json(struct arena *a, const struct attempt *in,
				     const char *auth_code)
{
	const struct payment_card *c = in->card;
	if (c->present)
		return payment_card_present_details(a, c, in->amount, auth_code);
	struct buf b;
	struct json j;
	buf_init(&b, 64 * 1024);
	json_init(&j, &b);
	json_obj_open(&j);
	json_kv_null(&j, "amount_authorized");
	json_kv_str_or_null(&j, "authorization_code", auth_code);
	json_kv_str(&j, "brand", c->brand);
	json_key(&j, "checks");
	json_obj_open(&j);
	json_kv_str_or_null(&j, "address_line1_check", in->decision->address_line1_check);
	json_kv_str_or_null(&j, "address_postal_code_check",
			    in->decision->address_postal_code_check);
	json_kv_str_or_null(&j, "cvc_check", in->decision->cvc_check);
	json_obj_close(&j);
	json_kv_str_or_null(&j, "country", c->country);
	json_kv_int(&j, "exp_month", c->exp_month);
	json_kv_int(&j, "exp_year", c->exp_year);
	json_kv_str_or_null(&j, "fingerprint", c->fingerprint);
	json_kv_str(&j, "funding", c->funding ? c->funding : "unknown");
	json_kv_null(&j, "installments");
	json_kv_str(&j, "last4", c->last4);
	json_kv_null(&j, "mandate");
	json_kv_str(&j, "network", c->brand);
	json_kv_null(&j, "network_token");
	if (in->three_d_secure) {
		/* liability for fraud shifts to the issuer once the cardholder authenticated */
		json_key(&j, "three_d_secure");
		json_obj_open(&j);
		json_kv_str(&j, "authentication_flow", "challenge");
		json_kv_str(&j, "electronic_commerce_indicator", "05");
		json_kv_null(&j, "exemption_indicator");
		json_kv_str(&j, "result", "authenticated");
		json_kv_null(&j, "result_reason");
		json_kv_str(&j, "transaction_id",
			    in->three_d_secure_txn ? in->three_d_secure_txn : "");
		json_kv_str(&j, "version", "2.2.0");
		json_obj_close(&j);
	} else if (in->three_d_secure_error) {
		/* asked for, errored before any challenge: no liability shift */
		json_key(&j, "three_d_secure");
		json_obj_open(&j);
		json_kv_null(&j, "authentication_flow");
		json_kv_null(&j, "electronic_commerce_indicator");
		json_kv_null(&j, "exemption_indicator");
		json_kv_str(&j, "result", "processing_error");
		json_kv_null(&j, "result_reason");
		json_kv_null(&j, "transaction_id");
		json_kv_str(&j, "version", "2.2.0");
		json_obj_close(&j);
	} else {
		json_kv_null(&j, "three_d_secure");
	}
	json_kv_null(&j, "wallet");
	json_obj_close(&j);
	const char *s = b.failed ? NULL : arena_strndup(a, b.data, b.len);
	buf_release(&b);
	return s;
}

static const char *outcome_json(struct arena *a, const struct processor_decision *d)
{
	struct buf b;
	struct json j;
	buf_init(&b, 8192);
	json_init(&j, &b);
	json_obj_open(&j);
	json_kv_str(&j, "network_status", d->network_status);
	json_kv_str_or_null(&j, "reason", d->reason);
	json_kv_str(&j, "risk_level", d->risk_level ? d->risk_level : "normal");
	json_kv_int(&j, "risk_score", d->risk_score);
	json_kv_str_or_null(&j, "seller_message", d->seller_message);
	json_kv_str(&j, "type", d->outcome_type);
	json_obj_close(&j);
	const char *s = b.failed ? NULL : arena_strndup(a, b.data, b.len);
	buf_release(&b);
	return s;
}

static const char SQL_VELOCITY_BUMP[] =
    "INSERT INTO risk_velocity (merchant_id, kind, key, hour, attempts, amount, declines)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (merchant_id, kind, key, hour) DO UPDATE"
    " SET attempts = risk_velocity.attempts + $5, amount = risk_velocity.amount + $6,"
    " declines = risk_velocity.declines + $7";
static const char SQL_VELOCITY_ADD[] =
    "UPDATE risk_velocity SET attempts = attempts + $5, amount = amount + $6,"
    " declines = declines + $7 WHERE merchant_id = $1 AND kind = $2 AND key = $3 AND hour = $4";

/* Every attempt counts towards the fraud model's velocity features (card, customer, IP). Most
 * payments of a group share a card or an IP, so the writer sums them and upserts once per group
 * (db_counter_add). */
static int velocity_bump(struct db *db, const char *merchant_id, const char *kind, const char *key,
			 int64_t now, int64_t amount, bool declined)
{
	if (!key || !*key)
		return DB_OK;
	return db_counter_add(db, SQL_VELOCITY_BUMP, SQL_VELOCITY_ADD, merchant_id, kind, key,
			      now / 3600, 1, amount, declined ? 1 : 0);
}

/* Test card 4000000000000077: the captured funds skip the pending balance and are available at
 * once, as on Stripe (the balance transaction is moved now rather than at its available_on). */
static int available_at_once(struct db *db, const char *merchant_id, const struct charge *ch,
			     enum acq_behavior behavior, int64_t now)
{
	if (behavior != ACQ_AVAILABLE_IMMEDIATELY || !ch->balance_transaction)
		return DB_OK;
	int moved = ledger_make_available_one(db, merchant_id, ch->balance_transaction, now);
	return moved < 0 ? moved : DB_OK;
}

static int capture_apply(struct db *db, struct arena *a, const char *merchant_id, struct charge *ch,
			 int64_t amount, const struct ledger_pricing *pricing, int64_t now,
			 bool hold_captured, const char *bt_id);

int payment_charge_prepare(struct arena *a, const struct attempt *in, struct charge *ch)
{
	const struct processor_decision *d = in->decision;
	memset(ch, 0, sizeof(*ch));
	if (in->charge_id)
		str_copy(ch->id, sizeof(ch->id), in->charge_id);
	else
		id_new_at(ch->id, "ch_", in->now);
	ch->created = in->now;
	ch->payment_intent = in->payment_intent;
	ch->invoice = in->invoice;
	ch->amount = in->amount;
	str_copy(ch->currency, sizeof(ch->currency), in->currency);
	ch->customer = in->customer;
	ch->payment_method = in->card->payment_method;
	ch->description = in->description;
	ch->metadata = in->metadata;
	ch->receipt_email = in->receipt_email;
	ch->shipping = in->shipping;
	ch->statement_descriptor = in->statement_descriptor;
	ch->statement_descriptor_suffix = in->statement_descriptor_suffix;
	ch->billing_details = in->card->billing_details;
	ch->three_d_secure = in->three_d_secure;
	ch->fingerprint = in->card->fingerprint;
	ch->client_ip = in->client_ip;
	ch->outcome = outcome_json(a, d);
	if (!ch->outcome)
		return DB_ERR;
	if (!d->approved) {
		ch->card = card_details_json(a, in, NULL);
		if (!ch->card)
			return DB_ERR;
		ch->status = "failed";
		ch->failure_code = api_error_info(d->err)->code;
		ch->failure_message = api_error_info(d->err)->message;
		return DB_OK;
	}
	ch->status = "succeeded";
	ch->paid = true;
	if (in->connect) {
		ch->connect = *in->connect;
		char id[ID_MAX];
		if (in->connect->destination) {
			id_new_at(id, "tr_", in->now);
			ch->reserved_transfer = arena_strdup(a, id);
			if (!ch->reserved_transfer)
				return DB_ERR;
		}
		if (in->connect->application_fee_amount) {
			id_new_at(id, "fee_", in->now);
			ch->reserved_fee = arena_strdup(a, id);
			if (!ch->reserved_fee)
				return DB_ERR;
		}
	}
	if (d->outcome_type && strcmp(d->outcome_type, REVIEW_OUTCOME_TYPE) == 0) {
		char id[ID_MAX];
		id_new_at(id, "prv_", in->now);
		ch->review = arena_strdup(a, id);
		if (!ch->review)
			return DB_ERR;
	}
	ch->capture_before = in->capture ? 0 : in->now + 7 * 86400;
	ch->authorization_code = arena_strdup(a, d->auth_code);
	ch->card = ch->authorization_code ? card_details_json(a, in, ch->authorization_code) : NULL;
	return ch->card ? DB_OK : DB_ERR;
}

/* The captured state a capture leaves on ch (capture_apply; payment_charge_final ahead of it). */
static int charge_set_captured(struct arena *a, struct charge *ch, int64_t amount, const char *bt)
{
	ch->captured = true;
	ch->amount_captured = amount;
	ch->balance_transaction = arena_strdup(a, bt);
	if (!ch->balance_transaction)
		return DB_ERR;
	if (!ch->connect.destination && !ch->connect.application_fee_amount)
		return DB_OK;
	/* a Connect charge names the transfer and fee its capture makes: the ids chosen when it was
	 * prepared, or new ones for a charge captured later */
	char id[ID_MAX];
	if (ch->connect.destination && !ch->reserved_transfer) {
		id_new_at(id, "tr_", ch->created);
		ch->reserved_transfer = arena_strdup(a, id);
	}
	if (ch->connect.application_fee_amount && !ch->reserved_fee) {
		id_new_at(id, "fee_", ch->created);
		ch->reserved_fee = arena_strdup(a, id);
	}
	ch->transfer = ch->connect.destination ? ch->reserved_transfer : NULL;
	ch->application_fee = ch->connect.application_fee_amount ? ch->reserved_fee : NULL;
	return (ch->transfer || !ch->connect.destination) &&
		       (ch->application_fee || !ch->connect.application_fee_amount)
		   ? DB_OK
		   : DB_ERR;
}

/* A direct charge's capture (made on a connected account through Stripe-Account): its platform
 * takes application_fee_amount (never more than was captured) out of it. */
static int direct_fee(struct db *db, struct arena *a, const char *merchant_id,
		      const struct charge *ch, int64_t now, const struct event_origin *o)
{
	struct merchant_terms terms;
	int rc = merchant_terms_get(db, merchant_id, &terms);
	if (rc != DB_OK)
		return rc;
	if (!terms.platform[0])
		return DB_CONFLICT; /* not a connected account (the intent's create checked it) */
	int64_t fee = ch->connect.application_fee_amount;
	if (fee > ch->amount_captured)
		fee = ch->amount_captured;
	struct ledger_bucket bucket;
	rc = ledger_bt_bucket(db, merchant_id, ch->balance_transaction, &bucket);
	if (rc != DB_OK)
		return rc;
	/* the fee is in the charge's currency; the account's funds are in its settlement
	 * currency when the capture converted them (connect_settle's rule) */
	int64_t conv = 0;
	if (ledger_bucket_amount(&bucket, ch->currency, ch->amount_captured, fee, &conv) != DB_OK)
		return DB_ERR;
	if (fee > 0 && conv < 1)
		conv = 1;
	return application_fee_direct(db, a, terms.platform, merchant_id, ch->id,
				      ch->application_fee, conv, bucket.currency, &bucket, now, o);
}

/* A destination charge's capture: the transfer of what was captured (or transfer_data[amount],
 * never more) to the connected account, funded by the charge's own funds wherever they are, and
 * the application fee it pays back out of it, with the ids charge_set_captured put on ch. */
static int connect_settle(struct db *db, struct arena *a, const char *merchant_id,
			  const struct charge *ch, int64_t now, const struct event_origin *origin,
			  const struct ledger_pricing *pricing)
{
	static const struct event_origin none = {NULL, NULL, 0};
	const struct event_origin *o = origin ? origin : &none;
	if (!ch->connect.destination)
		return ch->connect.application_fee_amount
			   ? direct_fee(db, a, merchant_id, ch, now, o)
			   : DB_OK;
	int rc = connect_account_check(db, merchant_id, ch->connect.destination, NULL);
	if (rc != DB_OK)
		return rc == DB_NOTFOUND ? DB_CONFLICT : rc;
	int64_t amount = ch->amount_captured;
	if (ch->connect.transfer_amount && ch->connect.transfer_amount < amount)
		amount = ch->connect.transfer_amount;
	int64_t fee = ch->connect.application_fee_amount;
	if (fee > amount)
		fee = amount;
	struct transfer_new in = {
	    .platform = merchant_id,
	    .destination = ch->connect.destination,
	    .transfer_id = ch->transfer,
	    .fee_id = ch->application_fee,
	    .amount = amount,
	    .fee = fee,
	    .source_transaction = ch->id,
	    .transfer_group = ch->connect.transfer_group,
	    .now = now,
	};
	rc = ledger_bt_bucket(db, merchant_id, ch->balance_transaction, &in.bucket);
	if (rc != DB_OK)
		return rc;
	/* a charge converted at capture: the transfer and its fee move the platform's settled
	 * funds, so both are converted at the capture's rate (the whole capture: exactly what it
	 * booked). A fee that converts to nothing stays one minor unit, so that the fee the charge
	 * names exists; a transfer of a converted capture is never less than that either. */
	int64_t conv = 0, conv_fee = 0;
	if (ledger_bucket_amount(&in.bucket, ch->currency, ch->amount_captured, amount, &conv) !=
		DB_OK ||
	    ledger_bucket_amount(&in.bucket, ch->currency, ch->amount_captured, fee, &conv_fee) !=
		DB_OK)
		return DB_ERR;
	if (conv < 1)
		conv = 1;
	if (fee > 0 && conv_fee < 1)
		conv_fee = 1;
	in.amount = conv;
	in.fee = conv_fee > conv ? conv : conv_fee;
	in.currency = in.bucket.currency;
	in.origin = o;
	/* an account settling in another currency gets it converted at today's rate */
	in.fx = pricing ? pricing->fx : NULL;
	in.reserve = true; /* the destination's rolling reserve holds its share, as of a charge */
	struct transfer t;
	return transfer_make(db, a, &in, &t, NULL);
}

int payment_charge_final(struct arena *a, const struct attempt *in, const struct charge *prepared,
			 struct charge *ch)
{
	if (!in->decision->approved || !in->capture || !in->charge_id || !in->balance_txn_id ||
	    strcmp(prepared->id, in->charge_id) != 0 || prepared->captured)
		return DB_CONFLICT;
	*ch = *prepared;
	return charge_set_captured(a, ch, in->amount, in->balance_txn_id);
}

/* A charge a manual_review rule placed in review: its review, in the same write. */
static int open_review(struct db *db, const struct attempt *in, const struct charge *ch)
{
	static const struct event_origin none = {NULL, NULL, 0};
	if (!ch->review)
		return DB_OK;
	return review_open(db, in->merchant_id, in->origin ? in->origin : &none, ch->review, ch->id,
			   ch->payment_intent, in->client_ip, in->now);
}

int payment_record_attempt(struct db *db, struct arena *a, const struct attempt *in,
			   struct charge *ch)
{
	bool declined = !in->decision->approved;
	if (velocity_bump(db, in->merchant_id, "card", in->card->fingerprint, in->now, in->amount,
			  declined) != DB_OK ||
	    velocity_bump(db, in->merchant_id, "customer", in->customer, in->now, in->amount,
			  declined) != DB_OK ||
	    velocity_bump(db, in->merchant_id, "ip", in->client_ip, in->now, in->amount,
			  declined) != DB_OK)
		return DB_ERR;
	int rc = DB_OK;
	if (in->prepared && !in->prepared->captured) /* made before the write: not again here */
		*ch = *in->prepared;
	else
		rc = payment_charge_prepare(a, in, ch);
	if (rc != DB_OK)
		return rc;
	if (declined)
		return charge_insert(db, in->merchant_id, ch);
	const struct processor_decision *d = in->decision;
	/* the charge row is inserted once, in its final state: after the capture's ledger (nothing
	 * there reads the charges table), not inserted uncaptured and updated in the same
	 * transaction; so is the acquirer's hold under automatic capture (captured in full) */
	rc = in->capture
		 ? processor_hold_captured(db, in->merchant_id, d->auth_code, ch->id, in->amount,
					   in->currency, in->card->behavior, in->now)
		 : processor_hold(db, in->merchant_id, d->auth_code, ch->id, in->amount,
				  in->currency, in->card->behavior, in->now);
	if (rc != DB_OK)
		return rc;
	if (!in->capture) {
		rc = ledger_authorize(db, in->merchant_id, ch->id, in->amount, in->currency,
				      in->now);
		if (rc != DB_OK)
			return rc;
		rc = charge_insert(db, in->merchant_id, ch);
		return rc == DB_OK ? open_review(db, in, ch) : rc;
	}
	/* automatic capture: authorized and captured in this one transaction, a sale to the
	 * ledger (no hold posted only to be released; ledger.h) */
	rc = capture_apply(db, a, in->merchant_id, ch, in->amount, in->pricing, in->now, true,
			   in->balance_txn_id);
	if (rc != DB_OK)
		return rc;
	rc = available_at_once(db, in->merchant_id, ch, in->card->behavior, in->now);
	if (rc != DB_OK)
		return rc;
	rc = connect_settle(db, a, in->merchant_id, ch, in->now, in->origin, in->pricing);
	if (rc != DB_OK)
		return rc;
	rc = charge_insert(db, in->merchant_id, ch);
	if (rc == DB_OK)
		rc = open_review(db, in, ch);
	if (rc != DB_OK)
		return rc;
	/* the card's test behavior is the one just given to the hold: not read back */
	return dispute_network_schedule_known(db, in->merchant_id, ch->id, ch->authorization_code,
					      in->amount, in->now, (int)in->card->behavior);
}

int payment_capture(struct db *db, struct arena *a, const char *merchant_id, struct charge *ch,
		    int64_t amount, const struct ledger_pricing *pricing, int64_t now,
		    const struct event_origin *origin)
{
	int rc = capture_apply(db, a, merchant_id, ch, amount, pricing, now, false, NULL);
	if (rc != DB_OK)
		return rc;
	enum acq_behavior behavior;
	rc = processor_card_behavior(db, merchant_id, ch->id, &behavior);
	if (rc != DB_OK)
		return rc;
	rc = available_at_once(db, merchant_id, ch, behavior, now);
	if (rc != DB_OK)
		return rc;
	rc = connect_settle(db, a, merchant_id, ch, now, origin, pricing);
	if (rc != DB_OK)
		return rc;
	rc = charge_update(db, merchant_id, ch);
	if (rc != DB_OK)
		return rc;
	/* test cards 0259/2685/1976: the network will dispute this capture a little later */
	return dispute_network_schedule(db, merchant_id, ch->id, ch->authorization_code, amount,
					now);
}

/* A capture's processor and ledger half, and the captured state set on ch (the caller stores
 * the row). hold_captured: the hold was placed already captured in full (automatic capture), and
 * the ledger books a sale, with no hold of its own to release. */
static int capture_apply(struct db *db, struct arena *a, const char *merchant_id, struct charge *ch,
			 int64_t amount, const struct ledger_pricing *pricing, int64_t now,
			 bool hold_captured, const char *bt_id)
{
	if (ch->captured || amount <= 0 || amount > ch->amount || !ch->authorization_code)
		return DB_CONFLICT;
	if (hold_captured && amount != ch->amount)
		return DB_CONFLICT;
	int rc = hold_captured ? DB_OK : processor_capture(db, merchant_id, ch->id, amount);
	if (rc != DB_OK)
		return rc;
	/* the fee is the price of this charge's method and card (ledger.h) */
	struct ledger_pricing priced = *pricing;
	char country[3];
	charge_fee_facts(ch, &priced, country);
	char bt[ID_MAX];
	rc = hold_captured ? ledger_sale_as(db, merchant_id, ch->id, amount, ch->currency, &priced,
					    now, bt_id, bt)
			   : ledger_capture_as(db, merchant_id, ch->id, amount, ch->currency,
					       &priced, now, bt_id, bt);
	if (rc != DB_OK)
		return rc;
	if (amount < ch->amount) {
		rc =
		    ledger_release(db, merchant_id, ch->id, ch->amount - amount, ch->currency, now);
		if (rc != DB_OK)
			return rc;
		/* Stripe: "any additional amount will be automatically refunded" (payments.h) */
		ch->amount_released = ch->amount - amount;
	}
	return charge_set_captured(a, ch, amount, bt);
}

int payment_release(struct db *db, const char *merchant_id, struct charge *ch, int64_t now)
{
	if (ch->captured || !ch->authorization_code)
		return DB_CONFLICT;
	int rc = processor_release(db, merchant_id, ch->id);
	if (rc != DB_OK)
		return rc;
	rc = ledger_release(db, merchant_id, ch->id, ch->amount, ch->currency, now);
	if (rc != DB_OK)
		return rc;
	/* the whole authorization, refunded as Stripe shows it (payments.h) */
	ch->amount_released = ch->amount;
	return charge_update(db, merchant_id, ch);
}
