/* Stripe Issuing's shared pieces (api/issuing.c). */
#ifndef TENDER_API_ISSUING_H
#define TENDER_API_ISSUING_H

#include <stdbool.h>

#include "http/req.h"

/* Whether name is one of Stripe's Issuing merchant categories (issuing_categories.def). */
bool issuing_category_known(const char *name);

/* The spending_controls hash at param as the object shows it (allowed_categories,
 * blocked_categories, spending_limits, spending_limits_currency), checked: categories from
 * Stripe's list, not both allowed and blocked, limits of 0 or more; with_currency: the
 * cardholder's form, which may name spending_limits_currency (usd). Absent: no controls. JSON in
 * r's arena via ret; 0, or -1 with r->err. */
int issuing_spending_controls_json(struct req *r, const char *param, bool with_currency,
				   const char **ret);

#endif
