#ifndef TENDER_HTTP_SERVER_H
#define TENDER_HTTP_SERVER_H

#include <stddef.h>

struct app;
struct server;

#define BODY_MAX_BYTES (1u << 20)

int server_start(struct server **ret, struct app *app, char *err, size_t errlen);
/* Answers new writes 503 (retryable), waits up to timeout_ms for in-flight requests, then stops. */
void server_stop(struct server *s, int timeout_ms);
/* The port actually bound (useful with port 0). */
int server_port(const struct server *s);

#endif
