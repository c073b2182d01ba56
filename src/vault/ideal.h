/*
 * The public facts of the redirect PaymentMethods (ideal, bancontact): Stripe's iDEAL bank codes
 * and the BIC it shows for each, and which types are redirect types. Pure: no I/O, nothing
 * secret (the customer authorizes at their bank; Tender never sees an account number).
 */
#ifndef TENDER_VAULT_IDEAL_H
#define TENDER_VAULT_IDEAL_H

#include <stdbool.h>

struct ideal_bank {
	const char *code; /* ideal[bank]: "ing", "rabobank", … */
	const char *bic;  /* ideal.bic: "INGBNL2A", … */
	const char *name; /* shown on the test page */
};

/* The bank Stripe names code (ideal[bank]), or NULL (unknown, or code NULL / ""). */
const struct ideal_bank *redirect_ideal_bank(const char *code);

/* Whether type is a redirect PaymentMethod type Tender takes: "ideal" or "bancontact". */
bool redirect_type_known(const char *type);

#endif
