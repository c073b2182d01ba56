/* Stripe Issuing's shared pieces (api/issuing.c). */
#ifndef TENDER_API_ISSUING_H
#define TENDER_API_ISSUING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/id.h"
#include "core/json.h"
#include "http/req.h"
#include "store/db.h"

/* Whether name is one of Stripe's Issuing merchant categories (issuing_categories.def). */
bool issuing_category_known(const char *name);

/* The spending_controls hash at param as the object shows it (allowed_categories,
 * blocked_categories, spending_limits, spending_limits_currency), checked: categories from
 * Stripe's list, not both allowed and blocked, limits of 0 or more; with_currency: the
 * cardholder's form, which may name spending_limits_currency (usd). Absent: no controls. JSON in
 * r's arena via ret; 0, or -1 with r->err. */
int issuing_spending_controls_json(struct req *r, const char *param, bool with_currency,
				   const char **ret);

/* ---- spending controls as an authorization reads them (issuing_controls.c, pure) ---- */

/* The merchant category code (MCC) of one of Stripe's categories, or NULL. */
const char *issuing_category_code(const char *name);

/* The first second (UTC) of the window of a spending limit's interval that contains now: daily
 * since midnight, weekly since Sunday midnight, monthly since the 1st, yearly since January 1st
 * (all UTC, as Stripe counts them); all_time INT64_MIN; per_authorization now itself (only the
 * authorization being decided counts). -1 for an unknown interval. */
int64_t issuing_window_start(const char *interval, int64_t now);

#define ISSUING_LIMITS_MAX 20
struct issuing_limit {
	int64_t amount;
	const char *categories; /* the JSON array text ("[…]"), NULL: every category */
	size_t categories_len;
	char interval[24];
};
struct issuing_controls {
	const char *allowed, *blocked; /* JSON array texts, NULL when not set */
	size_t allowed_len, blocked_len;
	struct issuing_limit limits[ISSUING_LIMITS_MAX];
	int n_limits;
};
/* Takes apart the spending_controls JSON issuing_spending_controls_json wrote (pointers into
 * json). 0, or -1 when it is not that shape. */
int issuing_controls_parse(const char *json, struct issuing_controls *c);
/* Whether the category array text arr (len bytes, as parsed above) names cat. */
bool issuing_cats_has(const char *arr, size_t len, const char *cat);

/* ---- what api/issuing_authorizations.c reads of cards and cardholders (issuing.c) ---- */

struct issuing_card_facts {
	char cardholder[ID_MAX];
	char currency[8];
	const char *status;	       /* the card's: active, inactive, canceled */
	const char *spending_controls; /* the card's */
	const char *holder_status;     /* the cardholder's: active, inactive, blocked */
	const char *holder_controls;   /* the cardholder's spending_controls */
	bool holder_requirements_due;  /* requirements.disabled_reason is set */
};
/* The card's facts in db: DB_OK, DB_NOTFOUND or < 0. */
int issuing_card_facts(struct db *db, struct arena *a, const char *merchant_id, const char *card_id,
		       struct issuing_card_facts *ret);
/* Renders the issuing.card object (its cardholder expanded) as a retrieve shows it, without the
 * number or CVC. DB_OK, DB_NOTFOUND or < 0. */
int issuing_card_render(struct db *db, struct arena *a, const char *merchant_id, bool livemode,
			const char *card_id, struct json *j);

#endif
