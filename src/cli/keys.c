/* tender keygen FILE; tender keys rotate|status */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "store/store.h"
#include "vault/vault.h"

static void keygen_usage(FILE *f)
{
	fputs("usage: tender keygen FILE\n\n"
	      "Writes a new master key (32 random bytes) to FILE with mode 0600. Refuses to\n"
	      "overwrite an existing file. Keep it outside the data directory and back it up:\n"
	      "without it no stored card can be used.\n",
	      f);
}

int cli_keygen(int argc, char **argv)
{
	if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		keygen_usage(stdout);
		return 0;
	}
	if (argc != 2 || argv[1][0] == '-') {
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
	fputs("usage: tender keys rotate --data DIR [--database-url URL ...] --master-key-file OLD\n"
	      "                          --new-master-key-file NEW\n"
	      "       tender keys status --data DIR [--database-url URL ...] [--master-key-file F]\n"
	      "\n"
	      "  rotate   re-wraps every data key under NEW, atomically per shard; the sealed\n"
	      "           card numbers are not touched. Serve with NEW afterwards.\n"
	      "  status   shows the store's master key id, its data keys and cards per key\n"
	      "\n"
	      "  --data DIR                  the data directory\n"
	      "  --database-url URL          a PostgreSQL shard (repeat for each shard)\n"
	      "  --master-key-file FILE      the current master key\n"
	      "  --new-master-key-file FILE  the new master key (tender keygen FILE)\n"
	      "  --help                      this text\n",
	      f);
}

int cli_keys(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
		keys_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	const char *sub = argv[1];
	if (strcmp(sub, "rotate") != 0 && strcmp(sub, "status") != 0) {
		fprintf(stderr, "tender keys: unknown subcommand '%s'\n", sub);
		return 2;
	}
	struct cli_store_flags sf = {0};
	const char *old_key = NULL, *new_key = NULL;
	static const struct option opts[] = {
	    {"data", required_argument, NULL, 'd'},
	    {"database-url", required_argument, NULL, 'u'},
	    {"master-key-file", required_argument, NULL, 'k'},
	    {"new-master-key-file", required_argument, NULL, 'n'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	optind = 1;
	int c;
	while ((c = getopt_long(argc - 1, argv + 1, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			sf.data_dir = optarg;
			break;
		case 'u':
			if (cli_store_add_url(&sf, optarg) != 0)
				return 2;
			break;
		case 'k':
			old_key = optarg;
			break;
		case 'n':
			new_key = optarg;
			break;
		case 'h':
			keys_usage(stdout);
			return 0;
		default:
			keys_usage(stderr);
			return 2;
		}
	}
	if (optind < argc - 1) {
		fprintf(stderr, "tender keys: unexpected argument '%s'\n", argv[optind + 1]);
		return 2;
	}
	char err[512] = "";
	struct store *s;
	if (strcmp(sub, "rotate") == 0) {
		if (!old_key || !new_key) {
			fprintf(stderr, "tender keys rotate: --master-key-file and "
			                "--new-master-key-file are required\n");
			return 2;
		}
		if (cli_store_open(&sf, 0, &s) != 0)
			return 1;
		int rc = vault_rotate(s, old_key, new_key, err, sizeof(err));
		store_close(s);
		fprintf(rc == 0 ? stdout : stderr, "tender keys rotate: %s\n", err);
		return rc == 0 ? 0 : 1;
	}
	if (cli_store_open(&sf, 0, &s) != 0)
		return 1;
	struct buf out;
	buf_init(&out, 0);
	int rc = vault_status(s, old_key, &out, err, sizeof(err));
	store_close(s);
	if (rc != 0) {
		fprintf(stderr, "tender keys status: %s\n", err[0] ? err : "store error");
		buf_release(&out);
		return 1;
	}
	fputs(buf_cstr(&out), stdout);
	buf_release(&out);
	return 0;
}
