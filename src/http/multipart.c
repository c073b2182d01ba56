/*
 * multipart/form-data through libmicrohttpd's post processor (the contract is in multipart.h).
 *
 * The post processor calls the iterator with a part's value in pieces: `off` is where the piece
 * starts within the value, so off == 0 opens a new part (MHD may deliver an empty value as one
 * empty piece at 0, which is still one part). The previous part is closed when the next opens,
 * and the last one after MHD_post_process returns. MHD_destroy_post_processor answers MHD_NO
 * when the body ended before the closing boundary: that is a malformed body, not a short one.
 */
#include "http/multipart.h"

#include <microhttpd.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/str.h"

bool multipart_content_type(const char *ct)
{
	if (!ct)
		return false;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	if (strncasecmp(ct, "multipart/form-data", 19) != 0)
		return false;
	return ct[19] == '\0' || ct[19] == ';' || ct[19] == ' ' || ct[19] == '\t';
}

void multipart_init(struct multipart *m)
{
	memset(m, 0, sizeof(*m));
	buf_init(&m->form, 4 * MULTIPART_TEXT_MAX);
	buf_init(&m->file.data, MULTIPART_BODY_MAX);
	buf_init(&m->cur_text, MULTIPART_TEXT_MAX);
}

void multipart_release(struct multipart *m)
{
	buf_release(&m->form);
	buf_release(&m->file.data);
	buf_release(&m->cur_text);
	EVP_MD_CTX_free(m->md);
	m->md = NULL;
}

/* application/x-www-form-urlencoded: everything but unreserved bytes is escaped (brackets too,
 * which the form decoder reads back as brackets) */
static void urlencode(struct buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || c == '.' || c == '~') {
			buf_putc(b, (char)c);
		} else {
			char e[3] = {'%', hex[c >> 4], hex[c & 15]};
			buf_append(b, e, 3);
		}
	}
}

static void add_pair(struct multipart *m, const char *key, const char *v, size_t vlen)
{
	if (m->form.len)
		buf_putc(&m->form, '&');
	urlencode(&m->form, key, strlen(key));
	buf_putc(&m->form, '=');
	urlencode(&m->form, v, vlen);
	if (m->form.failed && !m->err)
		m->err = MULTIPART_ERR_LIMIT;
}

/* Ends the part being read: its pair goes into the form. */
static void close_part(struct multipart *m)
{
	if (!m->cur_key[0] || m->err)
		return;
	if (!m->cur_is_file) {
		add_pair(m, m->cur_key, m->cur_text.data ? m->cur_text.data : "", m->cur_text.len);
	} else {
		/* the digest names the upload in the parameters (and in the idempotency hash) */
		unsigned char d[EVP_MAX_MD_SIZE];
		unsigned int dl = 0;
		char hexd[2 * EVP_MAX_MD_SIZE + 1];
		if (!m->md || EVP_DigestFinal_ex(m->md, d, &dl) != 1) {
			m->err = MULTIPART_ERR_NOMEM;
			return;
		}
		for (unsigned int i = 0; i < dl; i++)
			snprintf(hexd + 2 * i, 3, "%02x", d[i]);
		hexd[2 * dl] = '\0';
		add_pair(m, m->cur_key, hexd, 2 * dl);
	}
	m->cur_key[0] = '\0';
	buf_reset(&m->cur_text);
}

static int open_part(struct multipart *m, const char *key, const char *filename,
		     const char *content_type)
{
	close_part(m);
	if (m->err)
		return -1;
	if (++m->parts > MULTIPART_PARTS_MAX || !key || !*key ||
	    strlen(key) >= MULTIPART_NAME_MAX) {
		m->err = MULTIPART_ERR_LIMIT;
		return -1;
	}
	str_copy(m->cur_key, sizeof(m->cur_key), key);
	m->cur_is_file = filename != NULL;
	m->cur_len = 0;
	m->cur_keep = false;
	if (!m->cur_is_file)
		return 0;
	if (!m->md)
		m->md = EVP_MD_CTX_new();
	if (!m->md || EVP_DigestInit_ex(m->md, EVP_sha256(), NULL) != 1) {
		m->err = MULTIPART_ERR_NOMEM;
		return -1;
	}
	const char *ct = content_type ? content_type : "";
	EVP_DigestUpdate(m->md, filename, strlen(filename) + 1);
	EVP_DigestUpdate(m->md, ct, strlen(ct) + 1);
	/* the first part named `file` is the upload; any later one is a duplicate parameter (its
	 * pair says so), any other name an unknown one */
	if (strcmp(key, "file") == 0 && !m->file.present) {
		if (strlen(filename) >= sizeof(m->file.filename) ||
		    strlen(ct) >= sizeof(m->file.content_type)) {
			m->err = MULTIPART_ERR_LIMIT;
			return -1;
		}
		m->file.present = true;
		m->cur_keep = true;
		str_copy(m->file.filename, sizeof(m->file.filename), filename);
		str_copy(m->file.content_type, sizeof(m->file.content_type), ct);
	}
	return 0;
}

static enum MHD_Result iterate(void *cls, enum MHD_ValueKind kind, const char *key,
			       const char *filename, const char *content_type,
			       const char *transfer_encoding, const char *data, uint64_t off,
			       size_t size)
{
	(void)kind;
	(void)transfer_encoding;
	struct multipart *m = cls;
	if (m->err)
		return MHD_NO;
	if (off == 0 && open_part(m, key, filename, content_type) != 0)
		return MHD_NO;
	if (!m->cur_key[0] || off != m->cur_len) {
		m->err = MULTIPART_ERR_MALFORMED; /* a piece that does not continue its part */
		return MHD_NO;
	}
	m->cur_len += size;
	if (!size)
		return MHD_YES;
	if (!m->cur_is_file) {
		buf_append(&m->cur_text, data, size);
		if (m->cur_text.failed) {
			m->err = MULTIPART_ERR_LIMIT;
			return MHD_NO;
		}
		return MHD_YES;
	}
	EVP_DigestUpdate(m->md, data, size);
	if (m->cur_keep) {
		buf_append(&m->file.data, data, size);
		if (m->file.data.failed) {
			m->err = MULTIPART_ERR_LIMIT;
			return MHD_NO;
		}
	}
	return MHD_YES;
}

int multipart_parse(struct MHD_Connection *conn, const char *body, size_t len, struct multipart *m)
{
	const char *ct = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type");
	if (!multipart_content_type(ct))
		return MULTIPART_ERR_MALFORMED;
	struct MHD_PostProcessor *pp =
	    MHD_create_post_processor(conn, MULTIPART_HEADER_BUF, iterate, m);
	if (!pp)
		return MULTIPART_ERR_MALFORMED; /* no boundary */
	enum MHD_Result ok = len ? MHD_post_process(pp, body, len) : MHD_YES;
	enum MHD_Result done = MHD_destroy_post_processor(pp);
	if (m->err)
		return m->err;
	if (ok != MHD_YES || done != MHD_YES)
		return MULTIPART_ERR_MALFORMED;
	close_part(m);
	if (m->err)
		return m->err;
	if (!m->form.data)
		buf_puts(&m->form, ""); /* an empty form is still a string */
	return m->form.failed ? MULTIPART_ERR_NOMEM : MULTIPART_OK;
}
