/*
 * The metrics listener: a libmicrohttpd daemon of its own, one internal thread, serving
 * GET /metrics (the registry's exposition, text/plain; version=0.0.4) and nothing else (404;
 * other methods 405). It is apart from the API's listener on purpose: the numbers cover every
 * merchant, and an operator binds it where only the monitoring can reach it (127.0.0.1 by
 * default in `tender serve --metrics-listen`). Bounded: a few connections, a short timeout, no
 * request body read, an exposition of at most EXPOSITION_MAX bytes.
 */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "metrics/metrics.h"

#define EXPOSITION_MAX (8u << 20)
#define METRICS_CONN_LIMIT 16
#define METRICS_TIMEOUT_S 10

struct metrics_server {
	struct MHD_Daemon *d;
	int port;
};

static enum MHD_Result answer(struct MHD_Connection *con, unsigned status, const char *type,
			      char *body, size_t len)
{
	struct MHD_Response *resp =
	    MHD_create_response_from_buffer_with_free_callback(len, body, free);
	if (!resp) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, "Content-Type", type);
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	if (status == 405)
		MHD_add_response_header(resp, "Allow", "GET");
	enum MHD_Result ret = MHD_queue_response(con, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result text(struct MHD_Connection *con, unsigned status, const char *msg)
{
	char *body = strdup(msg);
	return body ? answer(con, status, "text/plain; charset=utf-8", body, strlen(body)) : MHD_NO;
}

static enum MHD_Result access_cb(void *cls, struct MHD_Connection *con, const char *url,
				 const char *method, const char *version, const char *upload,
				 size_t *upload_size, void **con_cls)
{
	(void)cls;
	(void)version;
	(void)upload;
	if (!*con_cls) { /* the headers: wait for the (ignored) body */
		*con_cls = con;
		return MHD_YES;
	}
	if (*upload_size) { /* a body is never read: drop it */
		*upload_size = 0;
		return MHD_YES;
	}
	if (strcmp(url, "/metrics") != 0)
		return text(con, 404, "not found: the metrics are at /metrics\n");
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return text(con, 405, "method not allowed\n");
	struct buf b;
	buf_init(&b, EXPOSITION_MAX);
	if (metrics_render(&b) != 0) {
		buf_release(&b);
		return text(con, 500, "metrics: the exposition did not fit\n");
	}
	size_t len = 0;
	char *body = buf_detach(&b, &len);
	if (!body)
		body = strdup("");
	if (!body)
		return MHD_NO;
	return answer(con, 200, "text/plain; version=0.0.4; charset=utf-8", body, len);
}

int metrics_server_start(struct metrics_server **ret, const char *host, int port, char *err,
			 size_t errlen)
{
	struct sockaddr_in sa;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
		snprintf(err, errlen, "metrics: %s is not an IPv4 address", host);
		return -1;
	}
	struct metrics_server *m = calloc(1, sizeof(*m));
	if (!m) {
		snprintf(err, errlen, "metrics: out of memory");
		return -1;
	}
	m->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_USE_ERROR_LOG,
				0, NULL, NULL, access_cb, NULL, MHD_OPTION_SOCK_ADDR, &sa,
				MHD_OPTION_CONNECTION_LIMIT, (unsigned)METRICS_CONN_LIMIT,
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)METRICS_TIMEOUT_S,
				MHD_OPTION_END);
	if (!m->d) {
		snprintf(err, errlen, "metrics: cannot listen on %s:%d", host, port);
		free(m);
		return -1;
	}
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(m->d, MHD_DAEMON_INFO_BIND_PORT);
	m->port = info ? info->port : port;
	*ret = m;
	return 0;
}

int metrics_server_port(const struct metrics_server *m)
{
	return m ? m->port : 0;
}

void metrics_server_stop(struct metrics_server *m)
{
	if (!m)
		return;
	MHD_stop_daemon(m->d);
	free(m);
}
