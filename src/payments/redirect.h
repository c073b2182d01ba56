/*
 * Redirect payment methods (ideal, bancontact; and the buy-now-pay-later affirm,
 * afterpay_clearpay, klarna): the customer authorizes the payment at their bank or lender,
 * reached through a redirect, and comes back to the merchant's return_url.
 *
 * The confirm (api/redirect_page.c, on the request's write) leaves the PaymentIntent in
 * requires_action with next_action redirect_to_url, and records one row of
 * redirect_authorizations (pending) holding the unguessable token of Tender's hosted test page,
 * which stands in for the bank as Stripe's test redirect page does. Authorizing there books, in
 * one write, the charge (succeeded, captured: these methods capture automatically), the
 * acquirer's captured hold and the sale in the ledger with its balance transaction, exactly as a
 * card's automatic capture does (processor_hold_captured, ledger_sale_as), and moves the row to
 * succeeded; failing moves it to failed and sends the intent back to requires_payment_method.
 * A buy-now-pay-later payment with capture_method=manual is held instead (requires_capture), as a
 * card authorization is, and captured or released through the card's paths.
 * The row's guarded update (pending -> …) is what makes a second click or a replayed POST change
 * nothing more.
 *
 * A charge's card column holds its whole payment_method_details JSON
 * ({"ideal":{…},"type":"ideal"}), as a SEPA debit's does (payments/sepa.h).
 *
 * A SetupIntent (seti_…) with ideal / bancontact takes the same path: its row of
 * redirect_authorizations is keyed by its id (the column named payment_intent holds either
 * kind of intent: ids never collide), the same page authorizes it, and the authorization
 * generates the sepa_debit PaymentMethod and mandate instead of booking a charge.
 */
#ifndef TENDER_PAYMENTS_REDIRECT_H
#define TENDER_PAYMENTS_REDIRECT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/id.h"
#include "store/db.h"

struct pm_card;
struct charge;
struct payment_intent;
struct ledger_pricing;

/* Stripe's test values for the account behind an authorization (the bank reports them): the
 * verified name (the IBAN's last four: redirect_test_iban_last4, vault/ideal.h). */
#define REDIRECT_TEST_VERIFIED_NAME "Jenny Rosen"

/* A charge's outcome for an authorized redirect payment. */
extern const char REDIRECT_OUTCOME[];

/* The payment_method_details of a charge paid with redirect PaymentMethod pm (its type's hash
 * and "type"), in a; pi: the intent it pays (its payment_method_options: Bancontact's
 * preferred_language, Klarna's preferred_locale, Afterpay's reference); generated_pm /
 * generated_mandate: the sepa_debit PaymentMethod and its mandate the payment generated
 * (setup_future_usage), or NULL. NULL when out of memory. */
const char *redirect_charge_details(struct arena *a, const struct pm_card *pm,
				    const struct payment_intent *pi, const char *generated_pm,
				    const char *generated_mandate);
/* A SetupIntent's attempt with ideal / bancontact PaymentMethod pm (setup_attempts.c keeps it
 * whole): its payment_method_details as Stripe's setup_attempt shows them, the account's
 * facts (IBAN last four, verified name, Bancontact's bank) null until the bank authorized;
 * generated_pm / generated_mandate: the sepa_debit PaymentMethod and mandate the authorization
 * generated, or NULL. In a; NULL when out of memory. */
const char *redirect_setup_details(struct arena *a, const struct pm_card *pm, bool authorized,
				   const char *generated_pm, const char *generated_mandate);
/* Whether a charge's details column is a redirect payment's whole payment_method_details. */
bool redirect_details_is(const char *details);

/* ---- buy now, pay later (affirm, afterpay_clearpay, klarna) ---- */

/* The amounts (minor units) a buy-now-pay-later payment of type in currency may have, as
 * Stripe's docs give each lender's limits: true with *ret_min / *ret_max, false when the type
 * sets none there (Stripe's own minimum still applies). */
bool redirect_bnpl_limits(const char *type, const char *currency, int64_t *ret_min,
			  int64_t *ret_max);
/* What a payment of type lacks of the customer's details its lender requires (afterpay_clearpay:
 * billing name, email and address line1 / country, and the intent's shipping name and address
 * line1 / country; klarna: billing email and address country), given the PaymentMethod's
 * billing_details JSON and the intent's shipping JSON (either may be NULL): the missing
 * parameter as Stripe names it ("billing_details[email]", "shipping[address][line1]"), or
 * NULL when nothing is. */
const char *redirect_bnpl_missing(const char *type, const char *billing_json,
				  const char *shipping_json);

/* ---- redirect_authorizations (one row per intent) ---- */

/* The customer_acceptance of a SetupIntent confirmation's mandate_data, for the mandate its
 * authorization generates: type online (ip, user_agent) or offline (both NULL). */
struct redirect_acceptance {
	const char *type, *ip, *user_agent;
};

/* Records (or replaces) the pending authorization of intent pi_id (pi_… or seti_…) with token
 * and pm_id; acc: the mandate's acceptance (a SetupIntent's), or NULL. */
int redirect_auth_put(struct db *db, const char *merchant_id, const char *pi_id, const char *token,
		      const char *pm_id, const struct redirect_acceptance *acc, int64_t now);
/* The authorization of pi_id: its token, PaymentMethod and status (pending | succeeded |
 * failed), in a; ret_acc (may be NULL): the acceptance it was put with (type NULL when none).
 * DB_OK, DB_NOTFOUND or < 0. */
int redirect_auth_get(struct db *db, struct arena *a, const char *merchant_id, const char *pi_id,
		      const char **ret_token, const char **ret_pm, const char **ret_status,
		      struct redirect_acceptance *ret_acc);
/* Moves the pending authorization of pi_id holding token to status. DB_OK, DB_CONFLICT when
 * it is not pending (or not that token's), or < 0. */
int redirect_auth_finish(struct db *db, const char *merchant_id, const char *pi_id,
			 const char *token, const char *status);

/* Books an authorized redirect payment's charge ch (filled: id, amount, currency, …; status,
 * paid, captured, amount_captured and balance_transaction are set here) inside the caller's
 * write: capture, the acquirer's captured hold, the sale in the ledger with its balance
 * transaction (pricing: the merchant's), and the charge row; !capture (capture_method=manual,
 * buy-now-pay-later types only), the acquirer's open hold, the ledger's authorization and the
 * uncaptured charge row, which payment_capture / payment_release (payments/flow.h) later take as
 * they take a card's. DB_OK or < 0. */
int redirect_charge_book(struct db *db, struct arena *a, const char *merchant_id, struct charge *ch,
			 const char *type, bool capture, const struct ledger_pricing *pricing,
			 int64_t now);

#endif
