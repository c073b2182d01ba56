/*
 * Stripe lists, once for every resource: {"object":"list","url":…,"has_more":…,"data":[…]},
 * newest first by (created, id), limit 1–100 (default 10), cursors starting_after/ending_before,
 * and created / created[gt|gte|lt|lte].
 *
 * A resource describes its list with three statements that select ids only, and a function that
 * renders one object by id (the same one its retrieve uses):
 *   sql_cursor: SELECT created FROM t WHERE merchant_id = $1 AND id = $2
 *   sql_desc:   SELECT id FROM t WHERE merchant_id = $1 AND created >= $2 AND created <= $3
 *               AND (created < $4 OR (created = $4 AND id < $5)) <filters from $7>
 *               ORDER BY created DESC, id DESC LIMIT $6
 *   sql_asc:    … AND (created > $4 OR (created = $4 AND id > $5)) … ORDER BY created ASC, id ASC LIMIT $6
 * bind_filters binds the resource's own filters from index 7 on.
 */
#ifndef TENDER_API_LIST_H
#define TENDER_API_LIST_H

#include "http/req.h"

struct list_spec {
	const char *url;
	const char *object_name; /* "customer": for "No such customer" on a bad cursor */
	const char *sql_cursor;
	const char *sql_desc;
	const char *sql_asc;
	int (*bind_filters)(struct req *r, struct db_stmt *st, int first_idx, void *ctx);
	/* Renders one object; returns DB_OK, DB_NOTFOUND (skipped) or < 0. */
	int (*render)(struct req *r, struct db *db, const char *id, struct json *j, void *ctx);
	void *ctx;
};

/* A complete list handler body: parses the list parameters, reads, renders into r->out. */
int list_respond(struct req *r, const struct list_spec *spec);

#endif
