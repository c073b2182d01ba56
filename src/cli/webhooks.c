/* tender webhooks attempts EVENT | resend EVENT --endpoint we_… */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "store/store.h"
#include "webhooks/webhooks.h"

static void usage(FILE *f)
{
	fputs(
	    "usage: tender webhooks attempts EVENT --data DIR [--database-url URL ...]\n"
	    "       tender webhooks resend EVENT --endpoint we_... --data DIR [--database-url URL "
	    "...]\n"
	    "\n"
	    "  attempts   every delivery attempt of the event (status code, duration, error)\n"
	    "  resend     queues the event again for one endpoint (delivered by a running serve)\n"
	    "\n"
	    "  --data DIR            the data directory\n"
	    "  --database-url URL    a PostgreSQL shard (repeat for each shard)\n"
	    "  --endpoint ID         the webhook endpoint (resend)\n"
	    "  --help                this text\n",
	    f);
}

int cli_webhooks(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	const char *sub = argv[1];
	if (strcmp(sub, "attempts") != 0 && strcmp(sub, "resend") != 0) {
		fprintf(stderr, "tender webhooks: unknown subcommand '%s'\n", sub);
		return 2;
	}
	struct cli_store_flags sf = {0};
	const char *endpoint = NULL;
	static const struct option opts[] = {
	    {"data", required_argument, NULL, 'd'},
	    {"database-url", required_argument, NULL, 'u'},
	    {"endpoint", required_argument, NULL, 'e'},
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
		case 'e':
			endpoint = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc - 2) {
		fprintf(stderr, "tender webhooks %s: expected exactly one EVENT id\n", sub);
		return 2;
	}
	const char *event_id = argv[optind + 1];
	struct store *s;
	if (!sf.data_dir && sf.n_urls == 0) {
		fprintf(stderr, "tender webhooks %s: --data DIR is required\n", sub);
		return 2;
	}
	/* attempts only reads; resend writes one delivery row (a running serve sends it) */
	if (cli_store_open(&sf, strcmp(sub, "attempts") == 0, &s) != 0)
		return 1;
	int rc;
	if (strcmp(sub, "attempts") == 0) {
		struct buf out;
		buf_init(&out, 0);
		rc = webhooks_print_attempts(s, event_id, &out);
		if (rc == 0 && out.len > 0)
			fwrite(out.data, 1, out.len, stdout);
		else if (rc == DB_NOTFOUND)
			fprintf(stderr, "tender webhooks attempts: no such event: %s\n", event_id);
		else
			fprintf(stderr, "tender webhooks attempts: cannot read the store\n");
		buf_release(&out);
	} else {
		if (!endpoint) {
			fprintf(stderr, "tender webhooks resend: --endpoint we_... is required\n");
			store_close(s);
			return 2;
		}
		char msg[512];
		rc = webhooks_resend(s, event_id, endpoint, msg, sizeof(msg));
		fprintf(rc == 0 ? stdout : stderr, "tender webhooks resend: %s\n", msg);
	}
	store_close(s);
	return rc == 0 ? 0 : 1;
}
