/* tender verify: runs every store invariant check and reports. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "store/store.h"
#include "vault/vault.h"
#include "verify/verify.h"

static void usage(FILE *f)
{
	fputs("usage: tender verify --data DIR [--database-url URL ...] [--master-key-file FILE]\n"
	      "\n"
	      "Checks every invariant the store must hold; exits 0 when all hold, 1 with a\n"
	      "report of each violation otherwise.\n"
	      "\n"
	      "  --data DIR            the data directory\n"
	      "  --database-url URL    a PostgreSQL shard (repeat for each shard)\n"
	      "  --master-key-file F   also decrypt and authenticate every stored card\n"
	      "  --help                this text\n",
	      f);
}

static int verify_fn(struct db *db, void *p)
{
	return verify_run(db, p);
}

int cli_verify(int argc, char **argv)
{
	struct cli_store_flags sf = {0};
	const char *key_file = NULL;
	static const struct option opts[] = {
	    {"data", required_argument, NULL, 'd'},
	    {"database-url", required_argument, NULL, 'u'},
	    {"master-key-file", required_argument, NULL, 'k'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	optind = 1;
	int c;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			sf.data_dir = optarg;
			break;
		case 'u':
			if (cli_store_add_url(&sf, optarg) != 0)
				return 2;
			break;
		case 'k':
			key_file = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "tender verify: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	struct store *s;
	if (cli_store_open(&sf, 1, &s) != 0)
		return 1;
	struct verify_report rep;
	memset(&rep, 0, sizeof(rep));
	buf_init(&rep.text, 0);
	if (key_file) {
		char err[512];
		if (vault_open(&rep.vault, key_file, err, sizeof(err)) != 0) {
			fprintf(stderr, "tender verify: %s\n", err);
			store_close(s);
			buf_release(&rep.text);
			return 1;
		}
	}
	int rc = store_each_shard_read(s, verify_fn, &rep);
	vault_free(rep.vault);
	store_close(s);
	if (rc != 0)
		verify_fail(&rep, "store", "a check could not run (store error %d)", rc);
	fputs(buf_cstr(&rep.text), stdout);
	if (rep.failures) {
		printf("verify: %d violation(s) in %d checks\n", rep.failures, rep.checks);
		buf_release(&rep.text);
		return 1;
	}
	printf("verify: ok (%d checks)\n", rep.checks);
	buf_release(&rep.text);
	return 0;
}
