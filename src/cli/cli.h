/*
 * The command-line interface. Its command names and flags are a public contract (issue 3): keep
 * them. Each command is `int cli_<name>(int argc, char **argv)` with argv[0] the command name;
 * it returns the process exit code. Unknown flags are errors; --help explains every flag.
 */
#ifndef TENDER_CLI_CLI_H
#define TENDER_CLI_CLI_H

#include <stddef.h>

#define CLI_DATABASE_URLS_MAX 64

/* The store flags every command that opens the store shares. */
struct cli_store_flags {
	const char *data_dir;
	const char *database_urls[CLI_DATABASE_URLS_MAX + 1];
	int n_urls;
};

/* Adds one --database-url; 0 or -1 (too many). */
int cli_store_add_url(struct cli_store_flags *f, const char *url);
/* Opens the store from the flags (creating/migrating unless read_only), printing errors. A
 * command's store never checkpoints (store_config.no_checkpoints): `tender serve` may be running
 * on the same files, and only its store does (cli_store_open_serving). */
struct store;
int cli_store_open(const struct cli_store_flags *f, int read_only, struct store **ret);
int cli_store_open_serving(const struct cli_store_flags *f, struct store **ret);

int cli_serve(int argc, char **argv);
int cli_merchant(int argc, char **argv);
int cli_verify(int argc, char **argv);
int cli_keygen(int argc, char **argv);
int cli_keys(int argc, char **argv);
int cli_fraud(int argc, char **argv);
int cli_webhooks(int argc, char **argv);
int cli_shards(int argc, char **argv);
int cli_dispute(int argc, char **argv);
int cli_routes(int argc, char **argv);

/* The routes of tables (NULL-terminated, as api_route_tables) as JSON lines {method, pattern,
 * flags, params} appended to b: how many, or -1 when b failed. */
struct buf;
struct route;
int routes_write_json(struct buf *b, const struct route *const *tables);

#endif
