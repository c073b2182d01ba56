/*
 * Stripe lists, once for every resource: {"object":"list","url":…,"has_more":…,"data":[…]},
 * newest first, limit 1–100 (default 10), cursors starting_after/ending_before, and created /
 * created[gt|gte|lt|lte].
 *
 * A listed object's id is made for its `created` second (id_new_at), so the order of ids is the
 * order of (created, creation) and a created range is an id range: a list walks the table's
 * (merchant_id, id) primary key and needs no index of its own. A resource describes its list
 * with three statements that select ids only, and a function that renders one object by id (the
 * same one its retrieve uses):
 *   sql_cursor: SELECT created FROM t WHERE merchant_id = $1 AND id = $2   (the cursor exists)
 *   sql_desc:   SELECT id FROM t WHERE merchant_id = $1 AND id > $2 AND id < $3
 *               <filters from $5> ORDER BY id DESC LIMIT $4
 *   sql_asc:    the same, ORDER BY id ASC LIMIT $4
 * $2 and $3 are exclusive bounds: the created range's and the cursor's, whichever is tighter.
 * bind_filters binds the resource's own filters from index 5 on.
 *
 * A resource whose ids the merchant may choose (a product's) keeps a second, time-ordered key of
 * its creation (list_key, made like an id: id_new_at with the same prefix) and sets `keyed`:
 * then sql_cursor selects the cursor object's list_key, and sql_desc / sql_asc bound and order
 * by list_key (still selecting the id).
 *
 * A filter that narrows a large table to a few rows (a customer's charges) and has an index on
 * (merchant_id, column) is written `($5 IS NULL OR customer = $5)` in sql_desc / sql_asc, which
 * neither engine can answer from that index (SQLite never; PostgreSQL not in a generic plan):
 * the list would walk the merchant's whole primary key. Such a filter is also a list_narrow:
 * when the request gives it, its own pair of statements runs instead, the same but with
 * `customer = $5`, bound the same way. The first narrow filter the request gives wins (the
 * others stay in its statements' `$n IS NULL OR …` form).
 */
#ifndef TENDER_API_LIST_H
#define TENDER_API_LIST_H

#include <stdbool.h>

#include "http/req.h"

struct list_narrow {
	const char *param; /* "customer"; NULL ends the list */
	const char *sql_desc;
	const char *sql_asc;
};

#define LIST_NARROW_MAX 3

struct list_spec {
	const char *url;
	const char *object_name; /* "customer": for "No such customer" on a bad cursor */
	const char *id_prefix;	 /* "cus_": every id in the table has it */
	const char *sql_cursor;
	const char *sql_desc;
	const char *sql_asc;
	bool keyed; /* rows page by their list_key (above), not their id */
	struct list_narrow narrow[LIST_NARROW_MAX];
	int (*bind_filters)(struct req *r, struct db_stmt *st, int first_idx, void *ctx);
	/* Renders one object; returns DB_OK, DB_NOTFOUND (skipped) or < 0. */
	int (*render)(struct req *r, struct db *db, const char *id, struct json *j, void *ctx);
	void *ctx;
};

/* Binds the list filter `name` (a text parameter) at idx of a resource's list statement: its
 * value, or NULL when it is absent or empty (no filter: the statement's `$n IS NULL OR …`). */
void list_bind_filter(struct req *r, struct db_stmt *st, int idx, const char *name);

/* The same for a boolean list filter (active=true): 1 or 0, or NULL when absent. */
void list_bind_bool(struct req *r, struct db_stmt *st, int idx, const char *name);

/* A timestamp list filter (PT_RANGE: an integer, or gt/gte/lt/lte) as inclusive bounds at idx
 * and idx + 1 of the statement (`$idx IS NULL OR (col >= $idx AND col <= $idx+1)`); absent or
 * empty: both NULL. */
void list_bind_range(struct req *r, struct db_stmt *st, int idx, const char *name);

/* The paging parameters of a list a handler pages itself (a computed list, or one without
 * `created`): `limit` 1 … max (default 10, else Stripe's 400 on `limit`), and at most one of
 * `starting_after` / `ending_before` (empty: absent). 0, or -1 with r->err. */
int list_page_params(struct req *r, int64_t max, int64_t *ret_limit, const char **ret_after,
		     const char **ret_before);

/* A complete list handler body: parses the list parameters, reads, renders into r->out. */
int list_respond(struct req *r, const struct list_spec *spec);

#endif
