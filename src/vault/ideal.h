/*
 * The public facts of the redirect PaymentMethods (ideal, bancontact, and the buy-now-pay-later
 * affirm, afterpay_clearpay, klarna): Stripe's iDEAL bank codes
 * and the BIC it shows for each, and which types are redirect types (pure: the customer
 * authorizes at their bank; Tender never sees their account number). And the sepa_debit
 * PaymentMethod an authorized payment with setup_future_usage generates, from the test IBAN
 * Stripe's test mode reports for the type, sealed as any IBAN is.
 */
#ifndef TENDER_VAULT_IDEAL_H
#define TENDER_VAULT_IDEAL_H

#include <stdbool.h>
#include <stdint.h>

#include "store/db.h"

struct ideal_bank {
	const char *code; /* ideal[bank]: "ing", "rabobank", … */
	const char *bic;  /* ideal.bic: "INGBNL2A", … */
	const char *name; /* shown on the test page */
};

/* The bank Stripe names code (ideal[bank]), or NULL (unknown, or code NULL / ""). */
const struct ideal_bank *redirect_ideal_bank(const char *code);

/* The redirect PaymentMethod type Tender takes named type ("ideal", "bancontact", "affirm",
 * "afterpay_clearpay", "klarna"), as a static string, or NULL. */
const char *redirect_type_known(const char *type);
/* Whether type is a buy-now-pay-later one (affirm, afterpay_clearpay, klarna): a lender, not a
 * bank, authorizes it, and it can be captured by hand. */
bool redirect_type_bnpl(const char *type);

/* The last four characters of the test IBAN behind an authorized payment of type (Stripe's test
 * IBANs: NL39RABO0300065264 for ideal, BE62510007547061 for bancontact). */
const char *redirect_test_iban_last4(const char *type);

/* Inside the caller's write: seals the test IBAN of type (as vault_iban_store seals any, as row
 * iban_id) and inserts the sepa_debit PaymentMethod pm_id generated from it, with
 * billing_details JSON (or NULL). DB_OK or < 0. */
struct vault;
int redirect_generate_sepa(struct vault *v, struct db *db, const char *merchant_id,
			   const char *type, const char *pm_id, const char *iban_id,
			   const char *billing_details, int64_t now);

#endif
