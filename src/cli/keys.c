/*
 * tender keygen FILE; tender keys rotate|status.
 *
 * Both keys commands refuse to create a store: a mistyped --data would otherwise make an empty
 * store and report on (or "rotate") nothing. status only reads; rotate opens the store read-only
 * first to prove it exists, then for writing.
 */
#include "cli/keys.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/buf.h"
#include "store/store.h"
#include "vault/vault.h"

static void keygen_usage(FILE *f)
{
	fputs("usage: tender keygen FILE\n"
	      "\n"
	      "Writes a new master key (32 random bytes, as one line\n"
	      "'tender-master-key v1 <64 hex digits>') to FILE with mode 0600. Refuses to\n"
	      "overwrite an existing file. Keep it outside the data directory and back it up:\n"
	      "without it no stored card can be used.\n"
	      "\n"
	      "  --help   this text\n",
	      f);
}

int cli_keygen(int argc, char **argv)
{
	if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		keygen_usage(stdout);
		return 0;
	}
	if (argc != 2 || argv[1][0] == '-' || argv[1][0] == '\0') {
		keygen_usage(stderr);
		return 2;
	}
	char err[512];
	if (vault_keygen(argv[1], err, sizeof(err)) != 0) {
		fprintf(stderr, "tender keygen: %s\n", err);
		return 1;
	}
	return 0;
}

static void keys_usage(FILE *f)
{
	fputs(
	    "usage: tender keys rotate --data DIR [--database-url URL ...] --master-key-file OLD\n"
	    "                          --new-master-key-file NEW\n"
	    "       tender keys status --data DIR [--database-url URL ...] [--master-key-file F]\n"
	    "\n"
	    "  rotate   re-wraps every data key (and the fingerprint key) under NEW, in one\n"
	    "           transaction per shard; the sealed card numbers are not touched, and\n"
	    "           cards stored before keep working with NEW. Run it with tender serve\n"
	    "           stopped, then serve with --master-key-file NEW. A rotation interrupted\n"
	    "           between shards is finished by running the same command again.\n"
	    "  status   shows each shard's master key id, its data keys and the number of\n"
	    "           cards sealed under each; with --master-key-file, whether that key\n"
	    "           file matches the store. Read-only.\n"
	    "\n"
	    "  --data DIR                  the data directory (SQLite store DIR/tender.db)\n"
	    "  --database-url URL          a PostgreSQL shard (repeat for each shard)\n"
	    "  --master-key-file FILE      the current master key\n"
	    "  --new-master-key-file FILE  rotate: the new master key (tender keygen FILE)\n"
	    "  --help                      this text\n",
	    f);
}

static int keys_rotate(const struct cli_store_flags *sf, const char *old_key, const char *new_key)
{
	if (!old_key || !new_key) {
		fprintf(stderr,
			"tender keys rotate: --master-key-file and --new-master-key-file are "
			"required\n");
		return 2;
	}
	struct store *s;
	if (cli_store_open(sf, 1, &s) != 0)
		return 1;
	store_close(s);
	if (cli_store_open(sf, 0, &s) != 0)
		return 1;
	char err[512] = "";
	int rc = vault_rotate(s, old_key, new_key, err, sizeof(err));
	store_close(s);
	fprintf(rc == 0 ? stdout : stderr, "tender keys rotate: %s\n", err);
	return rc == 0 ? 0 : 1;
}

static int keys_status(const struct cli_store_flags *sf, const char *key_file)
{
	struct store *s;
	if (cli_store_open(sf, 1, &s) != 0)
		return 1;
	char err[512] = "";
	struct buf out;
	buf_init(&out, 1u << 20);
	int rc = vault_status(s, key_file, &out, err, sizeof(err));
	store_close(s);
	if (rc != 0 || out.failed) {
		fprintf(stderr, "tender keys status: %s\n", err[0] ? err : "store error");
		buf_release(&out);
		return 1;
	}
	fputs(buf_cstr(&out), stdout);
	buf_release(&out);
	return 0;
}

int cli_keys(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		keys_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	const char *sub = argv[1];
	bool rotate = strcmp(sub, "rotate") == 0;
	if (!rotate && strcmp(sub, "status") != 0) {
		fprintf(stderr, "tender keys: unknown subcommand '%s' (rotate or status)\n", sub);
		return 2;
	}
	struct cli_store_flags sf;
	memset(&sf, 0, sizeof(sf));
	const char *old_key = NULL, *new_key = NULL;
	static const struct option opts[] = {
	    {"data", required_argument, NULL, 'd'},
	    {"database-url", required_argument, NULL, 'u'},
	    {"master-key-file", required_argument, NULL, 'k'},
	    {"new-master-key-file", required_argument, NULL, 'n'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	/* argv + 1: the subcommand plays argv[0]; optind = 0 makes glibc start afresh */
	optind = 0;
	int c;
	while ((c = getopt_long(argc - 1, argv + 1, ":", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			sf.data_dir = optarg;
			break;
		case 'u':
			if (cli_store_add_url(&sf, optarg) != 0) {
				fprintf(stderr, "tender keys: at most %d --database-url\n",
					CLI_DATABASE_URLS_MAX);
				return 2;
			}
			break;
		case 'k':
			old_key = optarg;
			break;
		case 'n':
			if (!rotate) {
				fprintf(stderr, "tender keys status: --new-master-key-file is for "
						"rotate\n");
				return 2;
			}
			new_key = optarg;
			break;
		case 'h':
			keys_usage(stdout);
			return 0;
		case ':':
			fprintf(stderr, "tender keys %s: %s needs a value\n", sub,
				optind < argc ? argv[optind] : "an option");
			return 2;
		default:
			fprintf(stderr,
				"tender keys %s: unknown option '%s' (see tender keys --help)\n",
				sub, optind < argc ? argv[optind] : "?");
			return 2;
		}
	}
	if (optind < argc - 1) {
		fprintf(stderr, "tender keys %s: unexpected argument '%s'\n", sub,
			argv[optind + 1]);
		return 2;
	}
	return rotate ? keys_rotate(&sf, old_key, new_key) : keys_status(&sf, old_key);
}
