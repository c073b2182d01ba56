/*
 * multipart/form-data request bodies (RFC 7578), for the one route that takes them (POST
 * /v1/files, flagged ROUTE_MULTIPART). The parsing is libmicrohttpd's post processor; this module
 * only bounds what it delivers and reshapes it for the framework:
 *
 * - every text part becomes one pair of an application/x-www-form-urlencoded string (`form`),
 *   which the ordinary form decoder (form.h) then turns into r->params, so bracketed names
 *   (file_link_data[create]) nest, duplicates are refused and the parameter table validates them
 *   exactly as on every other route;
 * - a file part named `file` keeps its bytes, filename and declared type (struct multipart_file),
 *   and adds the pair file=<SHA-256 of the bytes, name and type, hex>: the parameter table then
 *   sees `file` present (or reports it missing), and the idempotency hash of the request covers
 *   the upload's content. A file part under any other name adds its pair too (its bytes are
 *   dropped), so that the table refuses it as an unknown parameter.
 *
 * Bounds: MULTIPART_PARTS_MAX parts, MULTIPART_TEXT_MAX bytes in one text value, part headers
 * within MULTIPART_HEADER_BUF (MHD's buffer), the file within the body's own cap.
 */
#ifndef TENDER_HTTP_MULTIPART_H
#define TENDER_HTTP_MULTIPART_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"

/* The largest body POST /v1/files takes (the other routes: BODY_MAX_BYTES, server.h). */
#define MULTIPART_BODY_MAX (16u << 20)
#define MULTIPART_PARTS_MAX 64
#define MULTIPART_TEXT_MAX 65536
#define MULTIPART_HEADER_BUF 4096
#define MULTIPART_NAME_MAX 256

enum multipart_err {
	MULTIPART_OK = 0,
	MULTIPART_ERR_MALFORMED = -1, /* not multipart/form-data, or a body MHD cannot parse */
	MULTIPART_ERR_LIMIT = -2,     /* too many parts, a text value or a name too long */
	MULTIPART_ERR_NOMEM = -3,
};

struct multipart_file {
	bool present;
	char filename[MULTIPART_NAME_MAX]; /* "" when the part named none */
	char content_type[MULTIPART_NAME_MAX];
	struct buf data; /* the bytes (data.len); owned, freed by multipart_release */
};

struct multipart {
	struct buf form; /* the text parts (and the file's digest) as a urlencoded string */
	struct multipart_file file;
	/* parser state */
	int parts;
	char cur_key[MULTIPART_NAME_MAX];
	bool cur_is_file, cur_keep;
	size_t cur_len;
	struct buf cur_text;
	int err;
	void *md; /* EVP_MD_CTX of the current file part */
};

/* True when the Content-Type value is multipart/form-data (with its parameters). */
bool multipart_content_type(const char *ct);

void multipart_init(struct multipart *m);
void multipart_release(struct multipart *m);

/* Parses body[0..len) of the request on conn (whose Content-Type names the boundary) into m
 * (multipart_init'ed). 0, or a MULTIPART_ERR_* code; m is released either way by the caller. */
struct MHD_Connection;
int multipart_parse(struct MHD_Connection *conn, const char *body, size_t len, struct multipart *m);

#endif
