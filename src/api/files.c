/*
 * /v1/files and /v1/file_links: Stripe's file uploads (dispute evidence, identity documents,
 * logos …) and the public links to them.
 *
 * An upload is the one multipart/form-data request of the API (ROUTE_MULTIPART: the server
 * parses it with libmicrohttpd's post processor, http/multipart.h, and hands the file part over
 * as r->upload; the text parts are ordinary parameters). What a file is comes from its bytes,
 * never from the declared type: file_sniff reads the magic numbers, and each purpose takes the
 * types and the size Stripe's file upload guide gives it. A declared type that contradicts the
 * content is refused too. Nothing is stored for a refused upload.
 *
 * The bytes live in the store (files.content, a BLOB / BYTEA), per merchant, so that every node
 * of a PostgreSQL deployment serves them. Stripe's `url` is files.stripe.com's
 * /v1/files/{id}/contents; Tender's names its own address (the request's Host, as checkout and
 * 3-D Secure URLs do) and serves it with the merchant's secret key. Only the purposes Stripe
 * marks downloadable have a url.
 *
 * A file link is a public URL without a key: /links/{acct}/{token}, the token 256 random bits
 * (base62), the store keeping only its SHA-256. The URL names the merchant so that the store
 * reads the right shard, and spends that merchant's rate (ROUTE_PAGE_LIMIT) as the checkout pages
 * do. Since the token itself is not kept, a link's url is shown when it is made (the create's
 * answer, the upload's file_link_data) and is null afterwards, file.created's copy included
 * (Stripe's url is nullable). The answer that shows it is still saved as its idempotency key's
 * result for 24 hours, as every answer is. Contents are served with a sandboxing
 * Content-Security-Policy and nosniff: an uploaded SVG or PDF must not run script on Tender's
 * origin.
 *
 * Events: file.created (Stripe's only file event). File links send none.
 */
#include "api/files.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "api/common.h"
#include "api/list.h"
#include "api/resources.h"
#include "core/digest.h"
#include "core/str.h"
#include "events/events.h"
#include "http/form.h"
#include "http/multipart.h"

#define LINK_TOKEN_LEN 43 /* base62: ~256 bits */
#define FILE_LINKS_SHOWN 10

enum {
	T_PDF = 0x1,
	T_JPG = 0x2,
	T_PNG = 0x4,
	T_GIF = 0x8,
	T_SVG = 0x10,
	T_CSV = 0x20,
};
enum expiry { EXP_NEVER, EXP_9_MONTHS, EXP_7_DAYS, EXP_1_YEAR };

/* Stripe's file upload guide: the types, the largest size, when it expires, whether it can be
 * downloaded (has a url), whether a file link may point at it. */
static const struct purpose_rule {
	const char *name;
	unsigned types;
	int64_t max_bytes;
	enum expiry expiry;
	bool downloadable, linkable;
} purpose_rules[] = {
    {"account_requirement", T_PDF | T_JPG | T_PNG, 16 << 20, EXP_NEVER, false, false},
    {"additional_verification", T_PDF | T_JPG | T_PNG, 16 << 20, EXP_NEVER, false, false},
    {"business_icon", T_JPG | T_PNG | T_GIF, 512 << 10, EXP_NEVER, true, true},
    {"business_logo", T_JPG | T_PNG | T_GIF, 512 << 10, EXP_NEVER, true, true},
    {"customer_signature", T_JPG | T_PNG | T_SVG, 4 << 20, EXP_7_DAYS, true, true},
    {"dispute_evidence", T_PDF | T_JPG | T_PNG, 5 << 20, EXP_9_MONTHS, true, true},
    /* a report run's CSV (src/api/reporting.c): Tender makes it, the merchant downloads it
     * with its key and cannot upload one (not in `purposes`); no public link to its books */
    {"finance_report_run", T_CSV, 16 << 20, EXP_1_YEAR, true, false},
    {"identity_document", T_PDF | T_JPG | T_PNG, 16 << 20, EXP_NEVER, false, false},
    {"pci_document", T_PDF | T_JPG | T_PNG, 16 << 20, EXP_NEVER, true, true},
    {"tax_document_user_upload", T_PDF | T_JPG | T_PNG | T_CSV, 16 << 20, EXP_NEVER, true, true},
    {"terminal_reader_splashscreen", T_JPG | T_PNG | T_GIF, 2 << 20, EXP_NEVER, true, true},
};

static const char *const purposes[] = {
    "account_requirement",
    "additional_verification",
    "business_icon",
    "business_logo",
    "customer_signature",
    "dispute_evidence",
    "identity_document",
    "pci_document",
    "tax_document_user_upload",
    "terminal_reader_splashscreen",
    NULL,
};

static const struct purpose_rule *rule_of(const char *purpose)
{
	for (size_t i = 0; purpose && i < sizeof(purpose_rules) / sizeof(purpose_rules[0]); i++)
		if (strcmp(purpose_rules[i].name, purpose) == 0)
			return &purpose_rules[i];
	return NULL;
}

static const struct {
	const char *type, *mime;
	unsigned bit;
	const char *names; /* what a client may declare for it, '|'-separated */
} types[] = {
    {"pdf", "application/pdf", T_PDF, "application/pdf|application/x-pdf"},
    {"jpg", "image/jpeg", T_JPG, "image/jpeg|image/jpg|image/pjpeg"},
    {"png", "image/png", T_PNG, "image/png"},
    {"gif", "image/gif", T_GIF, "image/gif"},
    {"svg", "image/svg+xml", T_SVG, "image/svg+xml"},
    {"csv", "text/csv", T_CSV, "text/csv|application/csv|text/plain|application/vnd.ms-excel"},
};

static bool utf8_text(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned char c = p[i];
		if (c < 0x80) {
			if (c < 0x20 && c != '\t' && c != '\r' && c != '\n')
				return false;
			i++;
			continue;
		}
		size_t k = c >= 0xc2 && c <= 0xdf   ? 1
			   : c >= 0xe0 && c <= 0xef ? 2
			   : c >= 0xf0 && c <= 0xf4 ? 3
						    : 0;
		if (!k || k >= n - i)
			return false;
		for (size_t m = 1; m <= k; m++)
			if ((p[i + m] & 0xc0) != 0x80)
				return false;
		i += k + 1;
	}
	return true;
}

static bool starts(const unsigned char *p, size_t n, const char *magic, size_t mlen)
{
	return n >= mlen && memcmp(p, magic, mlen) == 0;
}

const char *file_sniff(const unsigned char *p, size_t n, const char **ret_mime)
{
	const char *t = NULL;
	if (starts(p, n, "%PDF-", 5))
		t = "pdf";
	else if (starts(p, n, "\x89PNG\r\n\x1a\n", 8))
		t = "png";
	else if (starts(p, n, "\xff\xd8\xff", 3))
		t = "jpg";
	else if (starts(p, n, "GIF87a", 6) || starts(p, n, "GIF89a", 6))
		t = "gif";
	else if (n > 0 && utf8_text(p, n)) {
		/* text: an SVG document when an <svg element opens it (after an XML declaration,
		 * comments or a doctype), else CSV */
		size_t head = n < 4096 ? n : 4096, i = 0;
		if (starts(p, n, "\xef\xbb\xbf", 3))
			i = 3;
		while (i < head && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
			i++;
		bool svg = false;
		if (i < head && p[i] == '<')
			for (size_t k = i; k + 4 <= head; k++)
				if (memcmp(p + k, "<svg", 4) == 0) {
					svg = true;
					break;
				}
		t = svg ? "svg" : "csv";
	}
	if (ret_mime) {
		*ret_mime = NULL;
		for (size_t i = 0; t && i < sizeof(types) / sizeof(types[0]); i++)
			if (strcmp(types[i].type, t) == 0)
				*ret_mime = types[i].mime;
	}
	return t;
}

static unsigned type_bit(const char *type)
{
	for (size_t i = 0; type && i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(types[i].type, type) == 0)
			return types[i].bit;
	return 0;
}

int file_rule_check(const char *purpose, const char *type, int64_t size)
{
	const struct purpose_rule *pr = rule_of(purpose);
	if (!pr)
		return FILE_BAD_PURPOSE;
	if (size <= 0)
		return FILE_EMPTY;
	if (size > pr->max_bytes)
		return FILE_TOO_LARGE;
	if (!(type_bit(type) & pr->types))
		return FILE_BAD_TYPE;
	return FILE_OK;
}

int64_t file_purpose_max_bytes(const char *purpose)
{
	const struct purpose_rule *pr = rule_of(purpose);
	return pr ? pr->max_bytes : 0;
}

int64_t file_expires_at(const char *purpose, int64_t created)
{
	const struct purpose_rule *pr = rule_of(purpose);
	if (!pr || pr->expiry == EXP_NEVER)
		return 0;
	if (pr->expiry == EXP_7_DAYS)
		return created + 7 * 86400;
	if (pr->expiry == EXP_1_YEAR) /* Stripe's report files: 365 days */
		return created + 365 * 86400;
	/* nine calendar months later, the day clamped to the month's last */
	time_t t = (time_t)created;
	struct tm tm;
	if (!gmtime_r(&t, &tm))
		return created + 274 * 86400;
	int mon = tm.tm_mon + 9, year = tm.tm_year + mon / 12;
	mon %= 12;
	static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int y = year + 1900;
	int last = days[mon] + (mon == 1 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0));
	tm.tm_year = year;
	tm.tm_mon = mon;
	if (tm.tm_mday > last)
		tm.tm_mday = last;
	return (int64_t)timegm(&tm);
}

/* The declared media type agrees with the sniffed type (none, or a generic one, says nothing). */
static bool declared_ok(const char *declared, const char *type)
{
	if (!declared || !*declared)
		return true;
	size_t n = strcspn(declared, "; \t");
	if (n == 24 && strncasecmp(declared, "application/octet-stream", 24) == 0)
		return true;
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		if (strcmp(types[i].type, type) != 0)
			continue;
		for (const char *p = types[i].names;;) {
			size_t k = strcspn(p, "|");
			if (k == n && strncasecmp(p, declared, n) == 0)
				return true;
			if (!p[k])
				return false;
			p += k + 1;
		}
	}
	return false;
}

/* ---- SQL ---- */

static const char SQL_INSERT[] =
    "INSERT INTO files (merchant_id, id, created, purpose, type, mime, filename, title, size,"
    " expires_at, content) VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, $8, $9, $10)";
static const char SQL_GET[] = "SELECT id, created, purpose, type, filename, title, size, expires_at"
			      " FROM files WHERE merchant_id = $1 AND id = $2";
static const char SQL_PURPOSE[] = "SELECT purpose FROM files WHERE merchant_id = $1 AND id = $2";
static const char SQL_CONTENT[] = "SELECT mime, purpose, expires_at, content FROM files"
				  " WHERE merchant_id = $1 AND id = $2";
static const char SQL_CURSOR[] = "SELECT created FROM files WHERE merchant_id = $1 AND id = $2";
static const char SQL_DESC[] = "SELECT id FROM files WHERE merchant_id = $1 AND id > $2 AND id < $3"
			       " AND ($5 IS NULL OR purpose = $5) ORDER BY id DESC LIMIT $4";
static const char SQL_ASC[] = "SELECT id FROM files WHERE merchant_id = $1 AND id > $2 AND id < $3"
			      " AND ($5 IS NULL OR purpose = $5) ORDER BY id ASC LIMIT $4";

static const char SQL_LINK_INSERT[] =
    "INSERT INTO file_links (merchant_id, id, created, file, expires_at, metadata, token_hash)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7)";
static const char SQL_LINK_GET[] = "SELECT id, created, file, expires_at, metadata FROM file_links"
				   " WHERE merchant_id = $1 AND id = $2";
static const char SQL_LINK_UPDATE[] = "UPDATE file_links SET expires_at = $3, metadata = $4"
				      " WHERE merchant_id = $1 AND id = $2";
static const char SQL_LINKS_OF[] = "SELECT id FROM file_links WHERE merchant_id = $1 AND file = $2"
				   " ORDER BY id DESC LIMIT $3";
static const char SQL_LINK_BY_TOKEN[] =
    "SELECT l.expires_at, f.mime, f.purpose, f.expires_at, f.content FROM file_links AS l"
    " JOIN files AS f ON f.merchant_id = l.merchant_id AND f.id = l.file"
    " WHERE l.merchant_id = $1 AND l.token_hash = $2";
static const char SQL_LINK_CURSOR[] =
    "SELECT created FROM file_links WHERE merchant_id = $1 AND id = $2";
static const char SQL_LINK_DESC[] =
    "SELECT id FROM file_links WHERE merchant_id = $1 AND id > $2 AND id < $3"
    " AND ($5 IS NULL OR file = $5) AND ($6 IS NULL OR ($6 = 1 AND expires_at IS NOT NULL AND"
    " expires_at <= $7) OR ($6 = 0 AND (expires_at IS NULL OR expires_at > $7)))"
    " ORDER BY id DESC LIMIT $4";
static const char SQL_LINK_ASC[] =
    "SELECT id FROM file_links WHERE merchant_id = $1 AND id > $2 AND id < $3"
    " AND ($5 IS NULL OR file = $5) AND ($6 IS NULL OR ($6 = 1 AND expires_at IS NOT NULL AND"
    " expires_at <= $7) OR ($6 = 0 AND (expires_at IS NULL OR expires_at > $7)))"
    " ORDER BY id ASC LIMIT $4";

int file_check_purpose(struct db *db, const char *merchant_id, const char *id, const char *purpose)
{
	struct db_stmt *st = db_prepare(db, SQL_PURPOSE);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, id, -1);
	int rc = db_step(st);
	bool ok = false;
	if (rc == DB_ROW) {
		const char *p = db_col_text(st, 0, NULL);
		ok = p && strcmp(p, purpose) == 0;
	}
	db_reset(st);
	if (rc != DB_ROW && rc != DB_DONE)
		return rc < 0 ? rc : DB_ERR;
	return ok ? DB_OK : DB_NOTFOUND;
}

int file_store_generated(struct db *db, const char *merchant_id, const char *id, int64_t now,
			 const char *purpose, const char *filename, const void *data, size_t len)
{
	const char *mime = NULL;
	const char *type = file_sniff(data, len, &mime);
	if (file_rule_check(purpose, type, (int64_t)len) != FILE_OK || !mime)
		return DB_ERR;
	struct db_stmt *st = db_prepare(db, SQL_INSERT);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, id, -1);
	db_bind_int64(st, 3, now);
	db_bind_text(st, 4, purpose, -1);
	db_bind_text(st, 5, type, -1);
	db_bind_text(st, 6, mime, -1);
	db_bind_text(st, 7, filename, -1);
	db_bind_int64(st, 8, (int64_t)len);
	db_bind_int64_or_null(st, 9, file_expires_at(purpose, now));
	db_bind_blob(st, 10, data, len);
	return db_step_done(st);
}

/* ---- file links ---- */

/* Renders link `id`; token (when just made) gives its url, else the url is null. */
static int link_render(struct req *r, struct db *db, const char *id, const char *token,
		       struct json *j)
{
	struct db_stmt *st;
	int rc = db_row_by_id(db, SQL_LINK_GET, r->merchant_id, id, &st);
	if (rc != DB_OK)
		return rc;
	const char *lid = col_text_dup(&r->arena, st, 0);
	int64_t created = db_col_int64(st, 1);
	const char *file = col_text_dup(&r->arena, st, 2);
	bool has_exp = !db_col_is_null(st, 3);
	int64_t exp = db_col_int64(st, 3);
	const char *metadata = col_text_dup(&r->arena, st, 4);
	db_reset(st);
	if (!lid || !file)
		return DB_ERR;
	json_obj_open(j);
	json_kv_str(j, "id", lid);
	json_kv_str(j, "object", "file_link");
	json_kv_int(j, "created", created);
	json_kv_bool(j, "expired", has_exp && exp <= r->now);
	json_key(j, "expires_at");
	if (has_exp)
		json_int(j, exp);
	else
		json_nil(j);
	json_kv_str(j, "file", file);
	json_kv_bool(j, "livemode", r->livemode);
	json_kv_raw(j, "metadata", metadata ? metadata : "{}", metadata ? strlen(metadata) : 2);
	json_key(j, "url");
	if (token)
		json_str(j, arena_printf(&r->arena, "%s/links/%s/%s", req_url_base(r),
					 r->merchant_id, token));
	else
		json_nil(j);
	json_obj_close(j);
	return DB_OK;
}

/* Inside a write: a link to `file` (which exists, of a linkable purpose). Fills ret_id and
 * ret_token (the only time the token is known). 0, or -1 with r->err. */
static int link_insert(struct req *r, struct db *db, const char *file, int64_t expires_at,
		       const char *metadata, char ret_id[ID_MAX],
		       char ret_token[LINK_TOKEN_LEN + 1])
{
	char id[ID_MAX], token[LINK_TOKEN_LEN + 1], hash[65];
	id_new_at(id, "link_", r->now);
	id_random_base62(token, LINK_TOKEN_LEN);
	if (digest_sha256_hex(token, strlen(token), hash) != 0)
		return req_fail(r, ERR_API, NULL, NULL);
	struct db_stmt *st = db_prepare(db, SQL_LINK_INSERT);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, id, -1);
	db_bind_int64(st, 3, r->now);
	db_bind_text(st, 4, file, -1);
	db_bind_int64_or_null(st, 5, expires_at);
	db_bind_text(st, 6, metadata, -1);
	db_bind_text(st, 7, hash, -1);
	if (db_step_done(st) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	str_copy(ret_id, ID_MAX, id);
	str_copy(ret_token, LINK_TOKEN_LEN + 1, token);
	return 0;
}

/* ---- files ---- */

/* Renders file `id`; the link just made (new_link/new_token) shows its url. */
static int file_render(struct req *r, struct db *db, const char *id, const char *new_link,
		       const char *new_token, struct json *j)
{
	struct db_stmt *st;
	int rc = db_row_by_id(db, SQL_GET, r->merchant_id, id, &st);
	if (rc != DB_OK)
		return rc;
	const char *fid = col_text_dup(&r->arena, st, 0);
	int64_t created = db_col_int64(st, 1);
	const char *purpose = col_text_dup(&r->arena, st, 2);
	const char *type = col_text_dup(&r->arena, st, 3);
	const char *filename = col_text_dup(&r->arena, st, 4);
	const char *title = col_text_dup(&r->arena, st, 5);
	int64_t size = db_col_int64(st, 6);
	bool has_exp = !db_col_is_null(st, 7);
	int64_t exp = db_col_int64(st, 7);
	db_reset(st);
	if (!fid || !purpose)
		return DB_ERR;
	/* the newest links, one more to know has_more */
	char links[FILE_LINKS_SHOWN + 1][ID_MAX];
	int n = 0;
	st = db_prepare(db, SQL_LINKS_OF);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, fid, -1);
	db_bind_int64(st, 3, FILE_LINKS_SHOWN + 1);
	while (n < FILE_LINKS_SHOWN + 1 && (rc = db_step(st)) == DB_ROW) {
		const char *l = db_col_text(st, 0, NULL);
		str_copy(links[n++], ID_MAX, l ? l : "");
	}
	db_reset(st);
	if (n < FILE_LINKS_SHOWN + 1 && rc != DB_DONE)
		return rc < 0 ? rc : DB_ERR;
	const struct purpose_rule *pr = rule_of(purpose);

	json_obj_open(j);
	json_kv_str(j, "id", fid);
	json_kv_str(j, "object", "file");
	json_kv_int(j, "created", created);
	json_key(j, "expires_at");
	if (has_exp)
		json_int(j, exp);
	else
		json_nil(j);
	json_kv_str_or_null(j, "filename", filename);
	json_key(j, "links");
	json_obj_open(j);
	json_kv_str(j, "object", "list");
	json_key(j, "data");
	json_arr_open(j);
	for (int i = 0; i < n && i < FILE_LINKS_SHOWN; i++) {
		const char *tok = new_link && strcmp(new_link, links[i]) == 0 ? new_token : NULL;
		rc = link_render(r, db, links[i], tok, j);
		if (rc != DB_OK)
			return rc;
	}
	json_arr_close(j);
	json_kv_bool(j, "has_more", n > FILE_LINKS_SHOWN);
	json_kv_str(j, "url", arena_printf(&r->arena, "/v1/file_links?file=%s", fid));
	json_obj_close(j);
	json_kv_str(j, "purpose", purpose);
	json_kv_int(j, "size", size);
	json_kv_str_or_null(j, "title", title);
	json_kv_str_or_null(j, "type", type);
	json_key(j, "url");
	if (pr && pr->downloadable)
		json_str(j,
			 arena_printf(&r->arena, "%s/v1/files/%s/contents", req_url_base(r), fid));
	else
		json_nil(j);
	json_obj_close(j);
	return DB_OK;
}

int file_render_by_id(struct req *r, struct db *db, const char *id, struct json *j)
{
	return file_render(r, db, id, NULL, NULL, j);
}

static const struct param_spec file_link_data_params[] = {
    {"create", PT_BOOL, PF_REQUIRED, 0, NULL, NULL},
    {"expires_at", PT_INT, 0, 0, NULL, NULL},
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec create_params[] = {
    /* the upload's digest (multipart.h); the bytes are r->upload */
    {"file", PT_STRING, PF_REQUIRED, 128, NULL, NULL},
    {"purpose", PT_ENUM, PF_REQUIRED, 0, purposes, NULL},
    {"file_link_data", PT_OBJECT, 0, 0, NULL, file_link_data_params},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec no_params[] = {{NULL, 0, 0, 0, NULL, NULL}};
static const struct param_spec list_params[] = {
    {"purpose", PT_STRING, 0, 5000, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};

struct create_ctx {
	struct req *r;
	const struct multipart_file *up;
	const char *purpose, *type, *mime;
	int64_t expires_at;
	bool link;
	int64_t link_expires_at;
	const char *link_metadata;
};

static int create_fn(struct db *db, void *p)
{
	struct create_ctx *x = p;
	struct req *r = x->r;
	char id[ID_MAX];
	id_new_at(id, "file_", r->now);
	struct db_stmt *st = db_prepare(db, SQL_INSERT);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, id, -1);
	db_bind_int64(st, 3, r->now);
	db_bind_text(st, 4, x->purpose, -1);
	db_bind_text(st, 5, x->type, -1);
	db_bind_text(st, 6, x->mime, -1);
	db_bind_text(st, 7, x->up->filename[0] ? x->up->filename : NULL, -1);
	db_bind_int64(st, 8, (int64_t)x->up->data.len);
	db_bind_int64_or_null(st, 9, x->expires_at);
	db_bind_blob(st, 10, x->up->data.data, x->up->data.len);
	if (db_step_done(st) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	char link_id[ID_MAX] = "", token[LINK_TOKEN_LEN + 1] = "";
	if (x->link &&
	    link_insert(r, db, id, x->link_expires_at, x->link_metadata, link_id, token) != 0)
		return -1;
	/* the event's file shows no link url: the token is kept nowhere (see the top) */
	struct json *j = req_json(r);
	if (file_render(r, db, id, NULL, NULL, j) != DB_OK || r->out.failed)
		return req_fail(r, ERR_API, NULL, NULL);
	char *json = arena_strndup(&r->arena, r->out.data, r->out.len);
	size_t len = r->out.len;
	if (!json)
		return req_fail(r, ERR_API, NULL, NULL);
	const struct event_origin o = {r->request_id[0] ? r->request_id : NULL, r->idempotency_key,
				       r->livemode};
	char evt[ID_MAX];
	if (event_append(db, r->merchant_id, &o, "file.created", id, json, len, NULL, r->now,
			 evt) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (!link_id[0])
		return req_answer_event(r, evt, json, len);
	j = req_json(r);
	if (file_render(r, db, id, link_id, token, j) != DB_OK || r->out.failed)
		return req_fail(r, ERR_API, NULL, NULL);
	return 0;
}

/* the types a purpose takes, as the file upload guide names them */
static const char *types_text(unsigned bits)
{
	switch (bits) {
	case T_PDF | T_JPG | T_PNG:
		return "PDF, JPEG or PNG";
	case T_JPG | T_PNG | T_GIF:
		return "JPEG, PNG or GIF";
	case T_JPG | T_PNG | T_SVG:
		return "JPEG, PNG or SVG";
	case T_PDF | T_JPG | T_PNG | T_CSV:
		return "PDF, JPEG, PNG or CSV";
	default:
		return "of the types it takes";
	}
}

static int h_create(struct req *r)
{
	const struct multipart_file *up = r->upload;
	const char *purpose = param_str(r, "purpose");
	if (!up)
		return req_fail(r, ERR_PARAM_BAD, "file",
				"Invalid file: it must be sent as a file part of a "
				"multipart/form-data request.");
	const struct purpose_rule *pr = rule_of(purpose);
	if (!pr)
		return req_fail(r, ERR_PARAM_BAD, "purpose", "Invalid purpose: %s.",
				purpose ? purpose : "");
	if (!utf8_text((const unsigned char *)up->filename, strlen(up->filename)))
		return req_fail(r, ERR_PARAM_BAD, "file",
				"Invalid file: its filename must be UTF-8 text.");
	const char *mime = NULL;
	const char *type = file_sniff((const unsigned char *)up->data.data, up->data.len, &mime);
	int64_t size = (int64_t)up->data.len;
	switch (file_rule_check(purpose, type, size)) {
	case FILE_OK:
		break;
	case FILE_EMPTY:
		return req_fail(r, ERR_PARAM_BAD, "file", "Invalid file: the file is empty.");
	case FILE_TOO_LARGE:
		return req_fail(r, ERR_PARAM_BAD, "file",
				"File size (%lld bytes) exceeds the limit of %lld bytes for files "
				"with purpose %s.",
				(long long)size, (long long)pr->max_bytes, purpose);
	default:
		return req_fail(r, ERR_PARAM_BAD, "file",
				"Invalid file: files with purpose %s must be one of %s (this one "
				"is %s).",
				purpose, types_text(pr->types), type ? type : "not one of them");
	}
	if (!declared_ok(up->content_type, type))
		return req_fail(
		    r, ERR_PARAM_BAD, "file",
		    "Invalid file: its content is %s, which does not match its declared "
		    "type.",
		    type);
	struct create_ctx x = {r,     up, purpose, type, mime, file_expires_at(purpose, r->now),
			       false, 0,  NULL};
	if (param_present(r, "file_link_data")) {
		bool create = false;
		param_bool(r, "file_link_data.create", &create);
		if (create) {
			if (r->publishable)
				return req_fail(r, ERR_PARAM_BAD, "file_link_data",
						"A file link cannot be created with a publishable "
						"key.");
			if (!pr->linkable)
				return req_fail(r, ERR_PARAM_BAD, "file_link_data[create]",
						"Cannot create a file link for a file with "
						"purpose %s.",
						purpose);
			x.link = true;
			if (param_int(r, "file_link_data.expires_at", &x.link_expires_at) == 1 &&
			    x.link_expires_at <= r->now)
				return req_fail(r, ERR_PARAM_BAD, "file_link_data[expires_at]",
						"The file link's expires_at must be in the "
						"future.");
			if (metadata_apply(r, NULL, "file_link_data.metadata", &x.link_metadata) !=
			    0)
				return -1;
		}
	}
	return req_write(r, create_fn, &x);
}

struct id_ctx {
	struct req *r;
	const char *id;
};

static int retrieve_fn(struct db *db, void *p)
{
	struct id_ctx *x = p;
	int rc = file_render(x->r, db, x->id, NULL, NULL, req_json(x->r));
	if (rc == DB_NOTFOUND)
		return req_fail_missing(x->r, "file", x->id, "file");
	return rc == DB_OK ? 0 : req_fail(x->r, ERR_API, NULL, NULL);
}

static int h_retrieve(struct req *r)
{
	struct id_ctx x = {r, r->args[0]};
	return req_read(r, retrieve_fn, &x) == 0 ? 0 : -1;
}

/* Answers with the stored bytes (a raw route): the content type the content was sniffed as,
 * sandboxed (see the top of this file). */
static int answer_bytes(struct req *r, const char *mime, const void *p, size_t n)
{
	buf_reset(&r->out);
	if (n)
		buf_append(&r->out, p, n);
	if (r->out.failed)
		return req_fail(r, ERR_API, NULL, NULL);
	r->status = 200;
	r->content_type = arena_strdup(&r->arena, mime ? mime : "application/octet-stream");
	r->csp = "default-src 'none'; style-src 'unsafe-inline'; sandbox";
	return 0;
}

static int contents_fn(struct db *db, void *p)
{
	struct id_ctx *x = p;
	struct req *r = x->r;
	struct db_stmt *st = db_prepare(db, SQL_CONTENT);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, x->id, -1);
	int rc = db_step(st);
	if (rc != DB_ROW) {
		db_reset(st);
		if (rc == DB_DONE)
			return req_fail_missing(r, "file", x->id, "file");
		return req_fail(r, ERR_API, NULL, NULL);
	}
	const char *mime = col_text_dup(&r->arena, st, 0);
	const struct purpose_rule *pr = rule_of(db_col_text(st, 1, NULL));
	bool expired = !db_col_is_null(st, 2) && db_col_int64(st, 2) <= r->now;
	if (!pr || !pr->downloadable || expired) {
		db_reset(st);
		return req_fail_missing(r, "file", x->id, "file");
	}
	size_t n = 0;
	const void *data = db_col_blob(st, 3, &n);
	rc = answer_bytes(r, mime, data, data ? n : 0);
	db_reset(st);
	return rc;
}

static int h_contents(struct req *r)
{
	struct id_ctx x = {r, r->args[0]};
	return req_read(r, contents_fn, &x) == 0 ? 0 : -1;
}

static int list_bind(struct req *r, struct db_stmt *st, int first, void *ctx)
{
	(void)ctx;
	const char *p = param_str(r, "purpose");
	db_bind_text(st, first, p && *p ? p : NULL, -1);
	return 0;
}

static int list_render(struct req *r, struct db *db, const char *id, struct json *j, void *ctx)
{
	(void)ctx;
	return file_render(r, db, id, NULL, NULL, j);
}

static int h_list(struct req *r)
{
	static const struct list_spec spec = {
	    .url = "/v1/files",
	    .object_name = "file",
	    .id_prefix = "file_",
	    .sql_cursor = SQL_CURSOR,
	    .sql_desc = SQL_DESC,
	    .sql_asc = SQL_ASC,
	    .bind_filters = list_bind,
	    .render = list_render,
	};
	return list_respond(r, &spec);
}

/* ---- /v1/file_links ---- */

static const struct param_spec link_create_params[] = {
    {"file", PT_STRING, PF_REQUIRED, 5000, NULL, NULL},
    {"expires_at", PT_INT, 0, 0, NULL, NULL},
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec link_update_params[] = {
    /* a timestamp, "now", or "" (never expires) */
    {"expires_at", PT_STRING, PF_EMPTYABLE, 32, NULL, NULL},
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec link_list_params[] = {
    {"file", PT_STRING, 0, 5000, NULL, NULL},
    {"expired", PT_BOOL, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};

struct link_ctx {
	struct req *r;
	const char *file;
	int64_t expires_at;
	const char *metadata;
};

static int link_create_fn(struct db *db, void *p)
{
	struct link_ctx *x = p;
	struct req *r = x->r;
	struct db_stmt *st = db_prepare(db, SQL_PURPOSE);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, x->file, -1);
	int rc = db_step(st);
	const char *purpose = rc == DB_ROW ? col_text_dup(&r->arena, st, 0) : NULL;
	db_reset(st);
	if (rc == DB_DONE)
		return req_fail(r, ERR_PARAM_RESOURCE_MISSING, "file", "No such file upload: '%s'",
				x->file);
	if (rc != DB_ROW || !purpose)
		return req_fail(r, ERR_API, NULL, NULL);
	const struct purpose_rule *pr = rule_of(purpose);
	if (!pr || !pr->linkable)
		return req_fail(r, ERR_PARAM_BAD, "file",
				"Cannot create a file link for a file with purpose %s.", purpose);
	char id[ID_MAX], token[LINK_TOKEN_LEN + 1];
	if (link_insert(r, db, x->file, x->expires_at, x->metadata, id, token) != 0)
		return -1;
	if (link_render(r, db, id, token, req_json(r)) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	return 0;
}

static int h_link_create(struct req *r)
{
	struct link_ctx x = {r, param_str(r, "file"), 0, NULL};
	if (param_int(r, "expires_at", &x.expires_at) == 1 && x.expires_at <= r->now)
		return req_fail(r, ERR_PARAM_BAD, "expires_at",
				"The file link's expires_at must be in the future.");
	if (metadata_apply(r, NULL, "metadata", &x.metadata) != 0)
		return -1;
	return req_write(r, link_create_fn, &x);
}

static int link_retrieve_fn(struct db *db, void *p)
{
	struct id_ctx *x = p;
	int rc = link_render(x->r, db, x->id, NULL, req_json(x->r));
	if (rc == DB_NOTFOUND)
		return req_fail_missing(x->r, "file_link", x->id, "link");
	return rc == DB_OK ? 0 : req_fail(x->r, ERR_API, NULL, NULL);
}

static int h_link_retrieve(struct req *r)
{
	struct id_ctx x = {r, r->args[0]};
	return req_read(r, link_retrieve_fn, &x) == 0 ? 0 : -1;
}

static int link_update_fn(struct db *db, void *p)
{
	struct id_ctx *x = p;
	struct req *r = x->r;
	struct db_stmt *st = db_prepare(db, SQL_LINK_GET);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, x->id, -1);
	int rc = db_step(st);
	bool has_exp = rc == DB_ROW && !db_col_is_null(st, 3);
	int64_t exp = rc == DB_ROW ? db_col_int64(st, 3) : 0;
	const char *metadata = rc == DB_ROW ? col_text_dup(&r->arena, st, 4) : NULL;
	db_reset(st);
	if (rc == DB_DONE)
		return req_fail_missing(r, "file_link", x->id, "link");
	if (rc != DB_ROW)
		return req_fail(r, ERR_API, NULL, NULL);
	if (has_exp && exp <= r->now)
		return req_fail(r, ERR_PARAM_BAD, NULL, "Cannot update an expired file link (%s).",
				x->id);
	const char *e = param_str(r, "expires_at");
	if (e) {
		int64_t v = 0;
		if (!*e) {
			has_exp = false;
		} else if (strcmp(e, "now") == 0) {
			has_exp = true;
			exp = r->now;
		} else if (parse_i64(e, &v) == 0 && v > r->now) {
			has_exp = true;
			exp = v;
		} else {
			return req_fail(r, ERR_PARAM_BAD, "expires_at",
					"Invalid expires_at: it must be a future timestamp, "
					"\"now\" or \"\".");
		}
	}
	const char *md = metadata;
	if (param_present(r, "metadata") && metadata_apply(r, metadata, "metadata", &md) != 0)
		return -1;
	st = db_prepare(db, SQL_LINK_UPDATE);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, x->id, -1);
	if (has_exp)
		db_bind_int64(st, 3, exp);
	else
		db_bind_null(st, 3);
	db_bind_text(st, 4, md, -1);
	if (db_step_done(st) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (link_render(r, db, x->id, NULL, req_json(r)) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	return 0;
}

static int h_link_update(struct req *r)
{
	struct id_ctx x = {r, r->args[0]};
	return req_write(r, link_update_fn, &x);
}

static int link_list_bind(struct req *r, struct db_stmt *st, int first, void *ctx)
{
	(void)ctx;
	const char *f = param_str(r, "file");
	bool expired = false;
	db_bind_text(st, first, f && *f ? f : NULL, -1);
	if (param_bool(r, "expired", &expired) == 1)
		db_bind_int64(st, first + 1, expired ? 1 : 0);
	else
		db_bind_null(st, first + 1);
	db_bind_int64(st, first + 2, r->now);
	return 0;
}

static int link_list_render(struct req *r, struct db *db, const char *id, struct json *j, void *ctx)
{
	(void)ctx;
	return link_render(r, db, id, NULL, j);
}

static int h_link_list(struct req *r)
{
	static const struct list_spec spec = {
	    .url = "/v1/file_links",
	    .object_name = "file_link",
	    .id_prefix = "link_",
	    .sql_cursor = SQL_LINK_CURSOR,
	    .sql_desc = SQL_LINK_DESC,
	    .sql_asc = SQL_LINK_ASC,
	    .bind_filters = link_list_bind,
	    .render = link_list_render,
	};
	return list_respond(r, &spec);
}

/* ---- the public link: /links/{acct}/{token}, no key ---- */

static int public_fn(struct db *db, void *p)
{
	struct id_ctx *x = p;
	struct req *r = x->r;
	char hash[65];
	if (digest_sha256_hex(x->id, strlen(x->id), hash) != 0)
		return req_fail(r, ERR_API, NULL, NULL);
	struct db_stmt *st = db_prepare(db, SQL_LINK_BY_TOKEN);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, hash, -1);
	int rc = db_step(st);
	if (rc != DB_ROW) {
		db_reset(st);
		if (rc == DB_DONE)
			return req_fail(r, ERR_RESOURCE_MISSING, NULL, "No such file link.");
		return req_fail(r, ERR_API, NULL, NULL);
	}
	bool expired = (!db_col_is_null(st, 0) && db_col_int64(st, 0) <= r->now) ||
		       (!db_col_is_null(st, 3) && db_col_int64(st, 3) <= r->now);
	const char *mime = col_text_dup(&r->arena, st, 1);
	const struct purpose_rule *pr = rule_of(db_col_text(st, 2, NULL));
	if (expired || !pr || !pr->linkable) {
		db_reset(st);
		return req_fail(r, ERR_RESOURCE_MISSING, NULL, "This file link has expired.");
	}
	size_t n = 0;
	const void *data = db_col_blob(st, 4, &n);
	rc = answer_bytes(r, mime, data, data ? n : 0);
	db_reset(st);
	return rc;
}

static int h_public(struct req *r)
{
	const char *acct = r->args[0], *token = r->args[1];
	if (strncmp(acct, "acct_", 5) != 0 || strlen(acct) >= ID_MAX ||
	    strlen(token) != LINK_TOKEN_LEN)
		return req_fail(r, ERR_RESOURCE_MISSING, NULL, "No such file link.");
	str_copy(r->merchant_id, sizeof(r->merchant_id), acct);
	struct id_ctx x = {r, token};
	return req_read(r, public_fn, &x) == 0 ? 0 : -1;
}

const struct route files_routes[] = {
    {"POST", "/v1/files", h_create, create_params, ROUTE_MULTIPART | ROUTE_PUBLISHABLE},
    {"GET", "/v1/files", h_list, list_params, ROUTE_LIST},
    {"GET", "/v1/files/{id}", h_retrieve, no_params, 0},
    {"GET", "/v1/files/{id}/contents", h_contents, no_params, ROUTE_RAW},
    {"POST", "/v1/file_links", h_link_create, link_create_params, 0},
    {"GET", "/v1/file_links", h_link_list, link_list_params, ROUTE_LIST},
    {"GET", "/v1/file_links/{id}", h_link_retrieve, no_params, 0},
    {"POST", "/v1/file_links/{id}", h_link_update, link_update_params, 0},
    {"GET", "/links/{acct}/{token}", h_public, no_params,
     ROUTE_NO_AUTH | ROUTE_RAW | ROUTE_PAGE_LIMIT},
    {NULL, NULL, NULL, NULL, 0},
};
