/*
 * The processor (acquirer) boundary. Tender ships one processor: the test-mode acquirer, which
 * answers Stripe's test cards the way Stripe's test mode does and keeps its own books of holds
 * (acquirer_holds), so capture, release and refund are real calls that can be refused.
 *
 * Authorization is split in two on purpose: the decision (processor_authorize) runs off the store's
 * writer thread, next to the vault's decryption, and the hold it grants is recorded
 * (processor_hold) inside the payment's write transaction, so a hold never exists without its
 * charge or the reverse. A live acquirer would make the network call in processor_authorize and
 * be asked to void the authorization when the transaction does not commit.
 */
#ifndef TENDER_PROCESSOR_PROCESSOR_H
#define TENDER_PROCESSOR_PROCESSOR_H

#include <stdbool.h>
#include <stdint.h>

#include "http/errors.h"
#include "store/db.h"

/* How a test card behaves (from the vault's test-card table). */
enum acq_behavior {
	ACQ_SUCCEED = 0,
	ACQ_DECLINE_GENERIC,
	ACQ_DECLINE_INSUFFICIENT_FUNDS,
	ACQ_DECLINE_LOST_CARD,
	ACQ_DECLINE_STOLEN_CARD,
	ACQ_EXPIRED_CARD,
	ACQ_INCORRECT_CVC,
	ACQ_PROCESSING_ERROR,
	ACQ_FRAUD_BLOCK,
	ACQ_RISK_HIGHEST,
	ACQ_RISK_ELEVATED,
	ACQ_3DS_REQUIRED,
	ACQ_DISPUTE_FRAUDULENT,
	ACQ_DISPUTE_PRODUCT_NOT_RECEIVED,
	ACQ_DISPUTE_INQUIRY,
	ACQ_REFUND_PENDING,
	ACQ_REFUND_FAILS,
	ACQ_AVAILABLE_IMMEDIATELY,
	/* 4000000000000341: the card checks out when it is set up (SetupIntents), every charge is
	 * declined. Appended: holds store these numbers. */
	ACQ_DECLINE_CHARGES,
	/* 4000002500003155: asks for 3-D Secure, except for an off-session payment with a card
	 * that was set up (authenticated) for later payments */
	ACQ_3DS_UNLESS_SET_UP,
	/* 4000000000005423: the charge succeeds, then the issuer sends an early fraud warning
	 * (src/disputes/early_fraud_warning.h) */
	ACQ_EARLY_FRAUD_WARNING,
	/* 4000000000006975: declined, card_velocity_exceeded */
	ACQ_DECLINE_VELOCITY,
	/* 4000000000000101: the CVC check fails when a CVC is given, and the charge is declined
	 * (incorrect_cvc); without a CVC the card succeeds */
	ACQ_CVC_CHECK_FAIL,
	/* 4000008260003178 / 4000008400001629: asks for 3-D Secure like ACQ_3DS_REQUIRED, and
	 * the issuer then declines the authenticated payment (insufficient_funds / a generic
	 * decline) */
	ACQ_3DS_THEN_INSUFFICIENT_FUNDS,
	ACQ_3DS_THEN_DECLINE,
	/* 4000003800000446: already set up for off-session use: every on-session payment asks for
	 * 3-D Secure, an off-session one goes through without it */
	ACQ_3DS_ON_SESSION,
	/* 4000000000000010 / 0028 / 0036: the charge succeeds, the issuer's address checks fail
	 * (line 1 and postal code / line 1 / postal code); 4000000000000044: both unavailable */
	ACQ_AVS_FAIL,
	ACQ_AVS_LINE1_FAIL,
	ACQ_AVS_ZIP_FAIL,
	ACQ_AVS_UNAVAILABLE,
	/* 4000008400001280: 3-D Secure is required but its lookup fails with a processing error,
	 * so no challenge can run and the payment is declined (card_declined) */
	ACQ_3DS_REQUIRED_LOOKUP_ERROR,
	/* 4000000000003097: 3-D Secure is supported, not required; an authentication the merchant
	 * asks for (request_three_d_secure=any) errors, and the payment goes on without it */
	ACQ_3DS_OPTIONAL_ERROR,
};

struct processor_card {
	int exp_month;
	int exp_year;
	bool cvc_provided;
	/* the billing address's line 1 and postal code were given: the issuer checks only those */
	bool line1_provided;
	bool postal_code_provided;
	enum acq_behavior behavior;
};

struct processor_decision {
	bool approved;
	char auth_code[16];
	enum api_err err;      /* when declined */
	char decline_code[40]; /* "" when none */
	const char
	    *network_status; /* approved_by_network | declined_by_network | not_sent_to_network */
	const char *reason;  /* outcome.reason or NULL */
	const char *seller_message;
	const char *outcome_type; /* authorized | issuer_declined | blocked */
	const char *risk_level;	  /* normal | elevated | highest */
	int risk_score;
	const char *cvc_check; /* pass | fail | unchecked */
	/* pass | fail | unavailable, NULL when nothing was given to check */
	const char *address_line1_check;
	const char *address_postal_code_check;
};

void processor_authorize(const struct processor_card *card, int64_t amount, const char *currency,
			 int64_t now, struct processor_decision *ret);
/* A card check without an amount (a SetupIntent's, a zero-amount authorization): declined as an
 * authorization would be, except for a card that only declines charges. Nothing is held. */
void processor_verify(const struct processor_card *card, int64_t now,
		      struct processor_decision *ret);

/* The acquirer's books, one hold per charge (the acquirer's transaction reference). All return
 * DB_OK, DB_CONFLICT when the acquirer refuses (over-capture, released hold, over-refund), or
 * another negative code. auth_code is the decision's approval code, recorded with the hold; like a
 * network's, it need not be unique. */
int processor_hold(struct db *db, const char *merchant_id, const char *auth_code,
		   const char *charge_id, int64_t amount, const char *currency,
		   enum acq_behavior behavior, int64_t now);
/* A hold captured in full as it is placed (automatic capture): the row processor_hold and then
 * processor_capture of the whole amount would leave, written once. */
int processor_hold_captured(struct db *db, const char *merchant_id, const char *auth_code,
			    const char *charge_id, int64_t amount, const char *currency,
			    enum acq_behavior behavior, int64_t now);
int processor_capture(struct db *db, const char *merchant_id, const char *charge_id,
		      int64_t amount);
int processor_release(struct db *db, const char *merchant_id, const char *charge_id);
/* An incremental authorization: the open (neither captured nor released) hold of charge_id
 * grows to new_amount, which must be more than it holds; DB_CONFLICT otherwise. */
int processor_increment(struct db *db, const char *merchant_id, const char *charge_id,
			int64_t new_amount);
/* How the card network settles a refund (test cards 7726 and 5126 differ). */
enum refund_mode {
	REFUND_IMMEDIATE,	/* succeeded at once */
	REFUND_PENDING_THEN_OK, /* pending, then succeeded */
	REFUND_OK_THEN_FAILS,	/* succeeded, then failed (the money comes back) */
};
int processor_refund(struct db *db, const char *merchant_id, const char *charge_id, int64_t amount,
		     enum refund_mode *ret_mode);
/* The test behavior of the card behind a charge's hold (ACQ_SUCCEED when it has none). */
int processor_card_behavior(struct db *db, const char *merchant_id, const char *charge_id,
			    enum acq_behavior *ret_behavior);
/* Undo of a refund that failed at the card network. */
int processor_refund_reverse(struct db *db, const char *merchant_id, const char *charge_id,
			     int64_t amount);

#endif
