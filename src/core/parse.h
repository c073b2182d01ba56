#ifndef TENDER_CORE_PARSE_H
#define TENDER_CORE_PARSE_H

#include <stdint.h>

/* Parses a base-10 int64 strictly: optional '-', 1–19 digits, nothing else. 0 or -1. */
int parse_i64(const char *s, int64_t *ret);

#endif
