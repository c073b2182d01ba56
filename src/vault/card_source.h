/*
 * Stripe's legacy `card` object (the Cards/Sources API: a customer's sources, a charge's
 * `source`) over a payment_methods row whose id is card_…: a card source is also a
 * PaymentMethod, as on Stripe, so it is stored once, with its number sealed in vault_cards like
 * any other. The cardholder's name and address are the row's billing_details.
 */
#ifndef TENDER_VAULT_CARD_SOURCE_H
#define TENDER_VAULT_CARD_SOURCE_H

#include <stdbool.h>

#include "core/json.h"
#include "store/db.h"

#define CARD_SOURCE_PREFIX "card_"

/* Whether id names a card source (card_…). */
bool card_source_id(const char *id);

/* Stripe's card objects name brands the old way: visa → "Visa", amex → "American Express";
 * anything else → "Unknown". */
const char *card_brand_title(const char *brand);

/* Renders card source `id` of merchant_id as Stripe's card object. customer: the customer to
 * show, or NULL for the row's own (a charge shows the customer it was made for, even after the
 * card was deleted). DB_OK, DB_NOTFOUND when there is no such card, or < 0. */
int card_source_render(struct db *db, const char *merchant_id, const char *id, const char *customer,
		       struct json *j);

#endif
