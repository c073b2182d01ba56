/* multipart/form-data bodies through libmicrohttpd's post processor, on a real MHD daemon (the
 * post processor reads the boundary from its connection): the text parts as a urlencoded form,
 * the file part's bytes, and the bounds. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/buf.h"
#include "http/multipart.h"

/* what the handler saw, for the test to check (one request at a time) */
static struct {
	int rc;
	char form[8192];
	bool file;
	char filename[256], content_type[256];
	char data[4096];
	size_t data_len;
} seen;

static enum MHD_Result handler(void *cls, struct MHD_Connection *conn, const char *url,
			       const char *method, const char *version, const char *upload,
			       size_t *upload_size, void **con_cls)
{
	(void)cls;
	(void)url;
	(void)method;
	(void)version;
	struct buf *body = *con_cls;
	if (!body) {
		body = calloc(1, sizeof(*body));
		buf_init(body, 1u << 20);
		*con_cls = body;
		return MHD_YES;
	}
	if (*upload_size) {
		buf_append(body, upload, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}
	struct multipart m;
	multipart_init(&m);
	seen.rc = multipart_parse(conn, body->data ? body->data : "", body->len, &m);
	snprintf(seen.form, sizeof(seen.form), "%s", m.form.data ? m.form.data : "");
	seen.file = m.file.present;
	snprintf(seen.filename, sizeof(seen.filename), "%s", m.file.filename);
	snprintf(seen.content_type, sizeof(seen.content_type), "%s", m.file.content_type);
	seen.data_len = m.file.data.len < sizeof(seen.data) ? m.file.data.len : sizeof(seen.data);
	if (seen.data_len)
		memcpy(seen.data, m.file.data.data, seen.data_len);
	multipart_release(&m);
	buf_release(body);
	free(body);
	*con_cls = NULL;
	struct MHD_Response *r =
	    MHD_create_response_from_buffer(2, (void *)"ok", MHD_RESPMEM_PERSISTENT);
	enum MHD_Result ok = MHD_queue_response(conn, 200, r);
	MHD_destroy_response(r);
	return ok;
}

static struct MHD_Daemon *d;
static uint16_t port;

static void start(void)
{
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, handler, NULL,
			     MHD_OPTION_END);
	cr_assert_not_null(d);
	const union MHD_DaemonInfo *i = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	cr_assert_not_null(i);
	port = i->port;
}

static void stop(void)
{
	MHD_stop_daemon(d);
}

TestSuite(multipart, .init = start, .fini = stop);

/* POSTs body with that Content-Type; the handler fills `seen`. */
static void post(const char *content_type, const char *body, size_t len)
{
	memset(&seen, 0, sizeof(seen));
	seen.rc = 99;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	cr_assert(fd >= 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	char head[512];
	int n = snprintf(head, sizeof(head),
			 "POST /v1/files HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
			 "Content-Type: %s\r\nContent-Length: %zu\r\n\r\n",
			 content_type, len);
	cr_assert_eq(write(fd, head, (size_t)n), n);
	for (size_t off = 0; off < len;) {
		ssize_t w = write(fd, body + off, len - off);
		cr_assert(w > 0);
		off += (size_t)w;
	}
	char resp[512];
	while (read(fd, resp, sizeof(resp)) > 0)
		;
	close(fd);
}

#define CT "multipart/form-data; boundary=B0und"

Test(multipart, text_parts_become_a_form_and_the_file_keeps_its_bytes)
{
	/* stripe-node's layout; the file holds NULs and a CRLF that is not a boundary */
	static const char body[] =
	    "--B0und\r\n"
	    "Content-Disposition: form-data; name=\"purpose\"\r\n\r\n"
	    "dispute_evidence\r\n"
	    "--B0und\r\n"
	    "Content-Disposition: form-data; name=\"file_link_data[create]\"\r\n\r\n"
	    "true\r\n"
	    "--B0und\r\n"
	    "Content-Disposition: form-data; name=\"file\"; filename=\"a b.pdf\"\r\n"
	    "Content-Type: application/pdf\r\n\r\n"
	    "%PDF\0\r\nx--B0un\0\r\n"
	    "--B0und--\r\n";
	post(CT, body, sizeof(body) - 1);
	cr_assert_eq(seen.rc, MULTIPART_OK);
	cr_assert(seen.file);
	cr_assert_str_eq(seen.filename, "a b.pdf");
	cr_assert_str_eq(seen.content_type, "application/pdf");
	cr_assert_eq(seen.data_len, 15);
	cr_assert_eq(memcmp(seen.data, "%PDF\0\r\nx--B0un\0", 15), 0);
	const char *want = "purpose=dispute_evidence&file_link_data%5Bcreate%5D=true&file=";
	cr_assert_eq(strncmp(seen.form, want, strlen(want)), 0, "%s", seen.form);
	cr_assert_eq(strlen(seen.form), strlen(want) + 64, "%s", seen.form); /* SHA-256, hex */
}

Test(multipart, the_digest_covers_the_bytes)
{
	static const char b1[] =
	    "--B0und\r\nContent-Disposition: form-data; name=\"file\"; "
	    "filename=\"f\"\r\nContent-Type: image/png\r\n\r\nAAAA\r\n--B0und--\r\n";
	static const char b2[] =
	    "--B0und\r\nContent-Disposition: form-data; name=\"file\"; "
	    "filename=\"f\"\r\nContent-Type: image/png\r\n\r\nAAAB\r\n--B0und--\r\n";
	post(CT, b1, sizeof(b1) - 1);
	cr_assert_eq(seen.rc, MULTIPART_OK);
	char f1[sizeof(seen.form)];
	snprintf(f1, sizeof(f1), "%s", seen.form);
	post(CT, b2, sizeof(b2) - 1);
	cr_assert_eq(seen.rc, MULTIPART_OK);
	cr_assert_str_neq(f1, seen.form);
}

Test(multipart, other_file_parts_are_named_but_not_kept)
{
	static const char body[] =
	    "--B0und\r\nContent-Disposition: form-data; name=\"file\"; filename=\"1\"\r\n"
	    "Content-Type: image/png\r\n\r\nfirst\r\n"
	    "--B0und\r\nContent-Disposition: form-data; name=\"file\"; filename=\"2\"\r\n"
	    "Content-Type: image/png\r\n\r\nsecond\r\n"
	    "--B0und\r\nContent-Disposition: form-data; name=\"logo\"; filename=\"3\"\r\n"
	    "Content-Type: image/png\r\n\r\nthird\r\n"
	    "--B0und--\r\n";
	post(CT, body, sizeof(body) - 1);
	cr_assert_eq(seen.rc, MULTIPART_OK);
	cr_assert_str_eq(seen.filename, "1");
	cr_assert_eq(seen.data_len, 5);
	cr_assert_eq(memcmp(seen.data, "first", 5), 0);
	/* two file= pairs (the form decoder refuses the duplicate) and logo= (unknown) */
	const char *p = strstr(seen.form, "file=");
	cr_assert_not_null(p);
	cr_assert_not_null(strstr(p + 1, "&file="));
	cr_assert_not_null(strstr(seen.form, "&logo="));
}

Test(multipart, bounds_and_malformed_bodies)
{
	/* one part past the count */
	struct buf b;
	buf_init(&b, 1u << 20);
	for (int i = 0; i <= MULTIPART_PARTS_MAX; i++)
		buf_printf(
		    &b, "--B0und\r\nContent-Disposition: form-data; name=\"k%d\"\r\n\r\nv\r\n", i);
	buf_puts(&b, "--B0und--\r\n");
	post(CT, b.data, b.len);
	cr_assert_eq(seen.rc, MULTIPART_ERR_LIMIT);
	/* exactly the count is fine */
	buf_reset(&b);
	for (int i = 0; i < MULTIPART_PARTS_MAX; i++)
		buf_printf(
		    &b, "--B0und\r\nContent-Disposition: form-data; name=\"k%d\"\r\n\r\nv\r\n", i);
	buf_puts(&b, "--B0und--\r\n");
	post(CT, b.data, b.len);
	cr_assert_eq(seen.rc, MULTIPART_OK);
	/* a text value past MULTIPART_TEXT_MAX */
	buf_reset(&b);
	buf_puts(&b, "--B0und\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\n");
	for (int i = 0; i <= MULTIPART_TEXT_MAX; i++)
		buf_putc(&b, 'a');
	buf_puts(&b, "\r\n--B0und--\r\n");
	post(CT, b.data, b.len);
	cr_assert_eq(seen.rc, MULTIPART_ERR_LIMIT);
	buf_release(&b);
	/* no closing boundary */
	static const char cut[] = "--B0und\r\nContent-Disposition: form-data; "
				  "name=\"purpose\"\r\n\r\ndispute_evidence\r\n";
	post(CT, cut, sizeof(cut) - 1);
	cr_assert_eq(seen.rc, MULTIPART_ERR_MALFORMED);
	/* not multipart at all */
	post("application/x-www-form-urlencoded", "purpose=x", 9);
	cr_assert_eq(seen.rc, MULTIPART_ERR_MALFORMED);
	/* no boundary */
	post("multipart/form-data", cut, sizeof(cut) - 1);
	cr_assert_eq(seen.rc, MULTIPART_ERR_MALFORMED);
}

Test(multipart, content_type_check)
{
	cr_assert(multipart_content_type("multipart/form-data; boundary=x"));
	cr_assert(multipart_content_type("Multipart/Form-Data;boundary=x"));
	cr_assert(multipart_content_type("multipart/form-data"));
	cr_assert_not(multipart_content_type("multipart/form-datax"));
	cr_assert_not(multipart_content_type("multipart/mixed; boundary=x"));
	cr_assert_not(multipart_content_type(NULL));
}

Test(multipart, an_empty_text_part_is_one_empty_pair)
{
	static const char body[] =
	    "--B0und\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n\r\n"
	    "--B0und\r\nContent-Disposition: form-data; name=\"b\"\r\n\r\nx\r\n"
	    "--B0und--\r\n";
	post(CT, body, sizeof(body) - 1);
	cr_assert_eq(seen.rc, MULTIPART_OK);
	cr_assert_str_eq(seen.form, "a=&b=x");
}
