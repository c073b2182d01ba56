/*
 * IBANs (ISO 13616) for SEPA Direct Debit PaymentMethods: the check Stripe makes before it takes
 * one (the country's length, ISO 7064 mod 97-10), what Stripe shows of it (country, last4, bank
 * and branch codes), and the outcome Stripe's published test IBANs stand for. Pure: no I/O, no
 * key. The IBAN itself is sealed by the vault (vault_iban_store) and shown nowhere.
 */
#ifndef TENDER_VAULT_IBAN_H
#define TENDER_VAULT_IBAN_H

#include <stddef.h>

#define IBAN_MAX 34	  /* the longest IBAN, in characters */
#define IBAN_INPUT_MAX 64 /* what the request may send, spaces included */

struct iban_info {
	char country[3];
	char last4[5];
	char bank_code[16];   /* "" when the country's layout is not known here */
	char branch_code[16]; /* "" when the country has none (or it is not known here) */
};

/* Normalises in (spaces dropped, letters upper-cased) into out and checks it: a known country,
 * its length, letters and digits only, mod 97 == 1. 0 with out and ret filled, or -1 (out
 * wiped). */
int iban_check(const char *in, char out[IBAN_MAX + 1], struct iban_info *ret);

/* What a debit from an IBAN does in test mode (Stripe's SEPA Direct Debit test numbers). */
enum sepa_behavior {
	SEPA_SUCCEED = 0,	  /* any other IBAN too */
	SEPA_SUCCEED_DELAYED = 1, /* succeeds three minutes after the confirm */
	SEPA_FAIL = 2,
	SEPA_FAIL_DELAYED = 3,	     /* fails three minutes after the confirm */
	SEPA_DISPUTE = 4,	     /* succeeds, then a dispute is opened at once */
	SEPA_INSUFFICIENT_FUNDS = 5, /* fails with insufficient_funds */
	/* fails with charge_exceeds_source_limit (the account's weekly volume) */
	SEPA_EXCEEDS_VOLUME_LIMIT = 6,
	/* fails with charge_exceeds_weekly_limit (the account's transaction limit) */
	SEPA_EXCEEDS_WEEKLY_LIMIT = 7,
	/* ACH Direct Debit's returns (vault/ach.h): fail with no_account, account_closed,
	 * debit_not_authorized, invalid_currency */
	BANK_NO_ACCOUNT = 8,
	BANK_ACCOUNT_CLOSED = 9,
	BANK_DEBIT_NOT_AUTHORIZED = 10,
	BANK_INVALID_CURRENCY = 11,
};
#define SEPA_DELAY_SECONDS 180

/* The behavior of a normalised IBAN (iban_check's out). */
enum sepa_behavior iban_test_behavior(const char *iban);

#endif
