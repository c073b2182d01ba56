/*
 * A fresh SQLite store in a temporary directory for a suite's .init / .fini, and one integer
 * read from it: what the store-backed unit tests (ledger, disputes, cash balances) all need.
 */
#ifndef TENDER_TESTS_STORE_FIXTURE_H
#define TENDER_TESTS_STORE_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

struct store;

/* Opens a fresh store under /tmp/tender-unit-<tag>-XXXXXX; dir (n bytes) receives the
 * directory. The test fails when it cannot. */
struct store *fixture_store_open(char *dir, size_t n, const char *tag);
/* Closes s and removes dir. */
void fixture_store_close(struct store *s, const char *dir);
/* The first column of sql's first row as an integer, sql given up to two text parameters ($1,
 * $2; NULL: not bound), read in a transaction of its own. The test fails when there is no row. */
int64_t fixture_q_int(struct store *s, const char *sql, const char *a, const char *b);
/* Runs sql (no parameters) in a write of its own, routed as merchant's: what store_write
 * answers (0, or the store's error). */
int fixture_exec(struct store *s, const char *merchant, const char *sql);

#endif
