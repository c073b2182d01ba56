/* The API resources: their route tables (listed in routes.c) and the renderers other resources
 * use for expand[]. */
#ifndef TENDER_API_RESOURCES_H
#define TENDER_API_RESOURCES_H

#include "http/req.h"
#include "http/router.h"

extern const struct route customers_routes[];
extern const struct route balance_routes[];
extern const struct route events_routes[];

/* Renders customer `id` of r's merchant; DB_NOTFOUND when it does not exist. */
int customer_render_by_id(struct req *r, struct db *db, const char *id, struct json *j);

#endif
