#ifndef TENDER_CORE_REDACT_H
#define TENDER_CORE_REDACT_H

#include <stdbool.h>
#include <stddef.h>

/* True when s holds a run of 12 or more digits (spaces/dashes inside ignored): it might be a card
 * number, so it must not be echoed in an error message or a log line. */
bool redact_pan_like(const char *s, size_t n);

#endif
