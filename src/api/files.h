/* Stripe's Files and File Links (src/api/files.c): what other resources need of them. */
#ifndef TENDER_API_FILES_H
#define TENDER_API_FILES_H

#include <stddef.h>
#include <stdint.h>

#include "core/json.h"
#include "store/db.h"

struct req;

/* What the bytes are, by their content (magic numbers, never the declared type): "pdf", "jpg",
 * "png", "gif", "svg", "csv", or NULL. *ret_mime (when not NULL) gets its media type. */
const char *file_sniff(const unsigned char *p, size_t n, const char **ret_mime);

enum file_rule {
	FILE_OK = 0,
	FILE_BAD_PURPOSE = -1, /* not one of Stripe's purposes for an upload */
	FILE_BAD_TYPE = -2,    /* the purpose does not take this type (or none was recognised) */
	FILE_TOO_LARGE = -3,   /* past the purpose's size limit */
	FILE_EMPTY = -4,
};
/* Checks an upload of `size` bytes sniffed as `type` (NULL: unrecognised) against purpose's
 * rules (Stripe's file upload guide). */
int file_rule_check(const char *purpose, const char *type, int64_t size);
/* The purpose's size limit in bytes (0 for an unknown purpose). */
int64_t file_purpose_max_bytes(const char *purpose);
/* When a file of this purpose made at `created` expires (Stripe: dispute evidence after 9
 * months, a customer signature after 7 days), 0 when it never does. */
int64_t file_expires_at(const char *purpose, int64_t created);

/* DB_OK when file `id` of merchant_id exists with this purpose, DB_NOTFOUND when not (another
 * merchant's file, another purpose, no such file), < 0 on a store error. */
int file_check_purpose(struct db *db, const char *merchant_id, const char *id, const char *purpose);

/* Inside a write: stores bytes Tender made itself (a report run's CSV) as file `id` of
 * merchant_id, checked against purpose's rules like an upload. DB_OK or < 0. */
int file_store_generated(struct db *db, const char *merchant_id, const char *id, int64_t now,
			 const char *purpose, const char *filename, const void *data, size_t len);

/* Renders file `id` of r's merchant (its `links` the newest file links). DB_OK, DB_NOTFOUND or
 * < 0. */
int file_render_by_id(struct req *r, struct db *db, const char *id, struct json *j);

#endif
