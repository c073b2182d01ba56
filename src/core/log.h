/*
 * Structured logging: one JSON object per line on stderr, written with a single write(2) so lines
 * from different threads never interleave. Library code returns error codes; the layer that
 * decides what an error means (the HTTP response writer, the CLI) logs it, once.
 * Never pass a request body, a card number or key material to these functions.
 */
#ifndef TENDER_CORE_LOG_H
#define TENDER_CORE_LOG_H

#include "core/json.h"

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR, LOG_ALERT };

void log_set_level(enum log_level lvl);
/* Whether lines of this level are written: statistics kept only for a debug line skip their
 * work otherwise. */
int log_enabled(enum log_level lvl);
/* A plain message line: {"ts":…,"level":…,"msg":…}. */
__attribute__((format(printf, 2, 3))) void log_msg(enum log_level lvl, const char *fmt, ...);

/* Structured line: log_begin opens an object with ts/level/msg, the caller adds fields with the
 * json_kv_* functions, log_end writes it. */
struct log_line {
	struct buf b;
	struct json j;
	int enabled;
};
void log_begin(struct log_line *l, enum log_level lvl, const char *msg);
void log_end(struct log_line *l);

#endif
