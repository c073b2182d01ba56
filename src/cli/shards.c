/*
 * tender shards: where merchants live on a sharded (PostgreSQL) store, and moving one.
 *
 *   tender shards list --database-url URL …
 *   tender shards rebalance --move acct_… --to N --database-url URL …
 *
 * A move is online: the merchant's writes pause while its rows are copied (requests wait, up to
 * 15 s, then get 503 with Stripe-Should-Retry), every node follows the switched shard map, and
 * an interrupted move is completed by running the same command again.
 */
#include "cli/shards.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "store/store.h"

static void usage(FILE *f)
{
	fputs("usage: tender shards list --database-url URL ...\n"
	      "       tender shards rebalance --move acct_... --to N --database-url URL ...\n"
	      "\n"
	      "Shows which PostgreSQL shard each merchant lives on, or moves one merchant's\n"
	      "rows to another shard while the gateway keeps serving.\n"
	      "\n"
	      "  --database-url URL    a PostgreSQL shard (repeat for each shard, in order)\n"
	      "  --move ACCOUNT        rebalance: the merchant to move (acct_...)\n"
	      "  --to N                rebalance: the target shard (0-based, as the flags' order)\n"
	      "  --help                this text\n",
	      f);
}

static void list_one(const char *merchant_id, int shard, int ready, void *ctx)
{
	int *n = ctx;
	printf("%s\t%d%s\n", merchant_id ? merchant_id : "?", shard, ready ? "" : "\t(new)");
	(*n)++;
}

int cli_shards(int argc, char **argv)
{
	struct cli_store_flags sf = {0};
	const char *move = NULL, *to_s = NULL;
	static const struct option opts[] = {
	    {"database-url", required_argument, NULL, 'u'},
	    {"move", required_argument, NULL, 'm'},
	    {"to", required_argument, NULL, 't'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	const char *sub = argv[1];
	if (strcmp(sub, "list") != 0 && strcmp(sub, "rebalance") != 0) {
		fprintf(stderr, "tender shards: unknown subcommand '%s'\n", sub);
		usage(stderr);
		return 2;
	}
	optind = 1;
	int c;
	while ((c = getopt_long(argc - 1, argv + 1, "", opts, NULL)) != -1) {
		switch (c) {
		case 'u':
			if (cli_store_add_url(&sf, optarg) != 0) {
				fprintf(stderr, "tender shards: too many --database-url flags\n");
				return 2;
			}
			break;
		case 'm':
			move = optarg;
			break;
		case 't':
			to_s = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc - 1) {
		fprintf(stderr, "tender shards: unexpected argument '%s'\n", argv[optind + 1]);
		return 2;
	}
	if (sf.n_urls == 0) {
		fprintf(stderr,
			"tender shards: --database-url is required (the SQLite store has one "
			"shard)\n");
		return 2;
	}
	long long to = -1;
	if (strcmp(sub, "rebalance") == 0) {
		char *end = NULL;
		if (!move || !to_s) {
			fprintf(
			    stderr,
			    "tender shards rebalance: --move ACCOUNT and --to N are required\n");
			return 2;
		}
		to = strtoll(to_s, &end, 10);
		if (!end || *end || end == to_s || to < 0 || to >= sf.n_urls) {
			fprintf(stderr,
				"tender shards rebalance: --to must be a shard index 0..%d\n",
				sf.n_urls - 1);
			return 2;
		}
	} else if (move || to_s) {
		fprintf(stderr, "tender shards list: --move and --to belong to rebalance\n");
		return 2;
	}
	struct store *s;
	if (cli_store_open(&sf, 0, &s) != 0)
		return 1;
	int rc = 0;
	if (strcmp(sub, "list") == 0) {
		int n = 0;
		if (store_shards_list(s, list_one, &n) != 0) {
			fprintf(stderr, "tender shards list: cannot read the shard map\n");
			rc = 1;
		}
	} else {
		char err[512] = "";
		int from = -1;
		if (store_shard_of(s, move, &from) != 0) {
			fprintf(stderr, "tender shards rebalance: cannot read the shard map\n");
			rc = 1;
		} else if (store_move_merchant(s, move, (int)to, err, sizeof(err)) != 0) {
			fprintf(stderr, "tender shards rebalance: %s\n", err);
			rc = 1;
		} else {
			printf("{\"merchant\":\"%s\",\"from\":%d,\"to\":%lld}\n", move, from, to);
		}
	}
	store_close(s);
	return rc;
}
