/* Helpers every resource uses: metadata, addresses, optional strings. */
#ifndef TENDER_API_COMMON_H
#define TENDER_API_COMMON_H

#include "http/req.h"

struct form_node;

/* Inside a write: appends event `type` of object `id` whose JSON is in b (a buffer the caller
 * rendered the object into; released here), with r's origin (request id, idempotency key,
 * livemode) and prev (previous_attributes JSON, or NULL). *ret_js / *ret_len get a copy of the
 * JSON in r's arena and ret_ev the event's id, for req_answer_event. 0, or -1 with r->err. */
struct buf;
struct db;
int api_event_append(struct req *r, struct db *db, const char *type, const char *id, struct buf *b,
		     const char *prev, const char **ret_js, size_t *ret_len, char ret_ev[ID_MAX]);

/* Applies a metadata parameter (absent → unchanged, "" → cleared, [k]="" → key removed) to
 * old_json (may be NULL) and returns the new JSON object text in arena memory via ret. 0 or -1
 * with r->err set (e.g. more than 50 keys after the merge). */
int metadata_apply(struct req *r, const char *old_json, const char *param, const char **ret);

/* Renders the address hash given at `param` (city, country, line1, line2, postal_code, state)
 * as JSON text in arena memory; "" → NULL (unset). *ret untouched when the param is absent. */
int address_from_params(struct req *r, const char *param, const char **ret);
/* Stripe's shipping hash: {address:{…}, name, phone}. */
/* Stripe's address hash (city, country, line1, line2, postal_code, state; each may be ""), a
 * shipping hash (address, name, phone: a customer's, a confirmation token's), and the shipping of
 * a payment (the same with carrier and tracking_number: PaymentIntents, charges). */
extern const struct param_spec address_params[];
extern const struct param_spec shipping_params[];
extern const struct param_spec payment_shipping_params[];

int shipping_from_params(struct req *r, const char *param, const char **ret);

/* "" → NULL, absent → keep old, else the new value (arena). */
const char *str_update(struct req *r, const char *param, const char *old);

/* A string-array parameter (param[]=a&param[]=b, or one scalar; "" is the empty array) as a
 * JSON array of strings in arena memory; *ret untouched when the param is absent. 0, or -1 with
 * r->err. */
int string_array_json(struct req *r, const char *param, const char **ret);

/* Column col of st's current row as a string in arena a, NULL when the column is NULL. */
struct db_stmt;
const char *col_text_dup(struct arena *a, struct db_stmt *st, int col);

/* key: raw JSON text or null */
void json_kv_raw_or_null(struct json *j, const char *key, const char *raw);

/* Whether the request's Stripe-Version header (a ROUTE_STRIPE_VERSION route's; absent: the
 * account's default, older than any date asked here) names date ("YYYY-MM-DD") or a later
 * version: Stripe's versions begin with their release date, so they compare as text. */
bool api_version_from(const struct req *r, const char *date);

/* Canonical JSON of one string value (for previous_attributes), arena memory. */
const char *json_quote(struct req *r, const char *s);

/* The currency parameter at path (absent counts as invalid) lowercased into out and checked
 * against ISO 4217 (money/currency.h). 0, or -1 with r->err: Stripe's invalid_currency on shown
 * (NULL: path itself). */
int param_currency(struct req *r, const char *path, const char *shown, char out[8]);

/* An object whose id the merchant may choose (a product's, a plan's: Stripe's `id` parameter):
 * list_key gets a new time-ordered key (prefix "prod_", …, list.h), and id the parameter at path
 * when given (letters, digits, '-' and '_', since it appears in URLs; else a 400 on shown naming
 * `what`), or list_key itself. 0, or -1 with r->err. */
int own_id_or_key(struct req *r, const char *path, const char *shown, const char *what,
		  const char *prefix, char id[ID_MAX], char list_key[ID_MAX]);

/* A subscription item's price under `prefix` (dotted, "" for the top level): its `price`, or
 * `plan`, the legacy Plans API's name for a recurring price (api/plans.c); both is a 400 on
 * shown ("" for the top level). *ret is NULL when neither is given (or empty). 0, or -1. */
int param_price_or_plan(struct req *r, const char *prefix, const char *shown, const char **ret);

#endif
