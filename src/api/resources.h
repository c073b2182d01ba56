/* The API resources: their route tables (listed in routes.c) and the renderers other resources
 * use for expand[]. */
#ifndef TENDER_API_RESOURCES_H
#define TENDER_API_RESOURCES_H

#include "http/req.h"
#include "http/router.h"

extern const struct route customers_routes[];
extern const struct route balance_routes[];
extern const struct route events_routes[];
extern const struct route payment_intents_routes[];
extern const struct route charges_routes[];
extern const struct route refunds_routes[];
extern const struct route balance_transactions_routes[];
extern const struct route payment_methods_routes[];
extern const struct route webhook_endpoints_routes[];
extern const struct route disputes_routes[];

struct store;
/* Scheduler step: settles due refunds (pending → succeeded, succeeded → failed for the test
 * cards that do that). Returns how many moved, or < 0. */
int refunds_settle_tick(struct store *s, int64_t now);
extern const char REFUNDS_SETTLE_DUE_SQL[]; /* its probe for the scheduler */

/* Renders customer `id` of r's merchant; DB_NOTFOUND when it does not exist. */
int customer_render_by_id(struct req *r, struct db *db, const char *id, struct json *j);

#endif
