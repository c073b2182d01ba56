#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
    {"serve", cli_serve, "serve the Stripe-compatible HTTP API"},
    {"keygen", cli_keygen, "write a new master key file (mode 0600)"},
    {"keys", cli_keys, "rotate the master key, show key status"},
    {"merchant", cli_merchant, "create, list and show merchants (dispute rate)"},
    {"dispute", cli_dispute, "open a dispute on a charge, as the card network would"},
    {"verify", cli_verify, "check every invariant the store must hold"},
    {"fraud", cli_fraud, "synthesize data and train the fraud model"},
    {"shards", cli_shards, "list PostgreSQL shards, move a merchant to another shard"},
    {"webhooks", cli_webhooks, "show delivery attempts of an event, resend one"},
    {"routes", cli_routes, "print every API route (method, pattern, flags, params) as JSON lines"},
    {NULL, NULL, NULL},
};

static void usage(FILE *f)
{
	fputs("usage: tender COMMAND [flags]   (tender COMMAND --help for its flags)\n\n", f);
	for (const struct command *c = commands; c->name; c++)
		fprintf(f, "  %-10s %s\n", c->name, c->summary);
	fputs("  help       this text\n", f);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0) {
		if (argc > 2) {
			for (const struct command *c = commands; c->name; c++) {
				if (strcmp(c->name, argv[2]) == 0) {
					char help[] = "--help";
					char *av[] = {argv[2], help, NULL};
					return c->fn(2, av);
				}
			}
		}
		usage(stdout);
		return 0;
	}
	for (const struct command *c = commands; c->name; c++)
		if (strcmp(c->name, argv[1]) == 0)
			return c->fn(argc - 1, argv + 1);
	fprintf(stderr, "tender: unknown command '%s'\n\n", argv[1]);
	usage(stderr);
	return 2;
}
