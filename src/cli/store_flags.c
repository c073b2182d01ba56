#include <stdio.h>

#include "cli/cli.h"
#include "store/store.h"

int cli_store_add_url(struct cli_store_flags *f, const char *url)
{
	if (f->n_urls >= CLI_DATABASE_URLS_MAX)
		return -1;
	f->database_urls[f->n_urls++] = url;
	f->database_urls[f->n_urls] = NULL;
	return 0;
}

static int open_store(const struct cli_store_flags *f, int read_only, int serving,
		      struct store **ret)
{
	char err[1024];
	struct store_config cfg = {
	    .data_dir = f->data_dir,
	    .database_urls = f->n_urls ? f->database_urls : NULL,
	    .read_only = read_only,
	    /* only the server checkpoints: a command may run beside it on the same files */
	    .no_checkpoints = !serving,
	};
	if (!f->data_dir && !f->n_urls) {
		fprintf(stderr, "tender: --data DIR (or --database-url URL) is required\n");
		return -1;
	}
	if (store_open(ret, &cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "tender: %s\n", err);
		return -1;
	}
	return 0;
}

int cli_store_open(const struct cli_store_flags *f, int read_only, struct store **ret)
{
	return open_store(f, read_only, 0, ret);
}

int cli_store_open_serving(const struct cli_store_flags *f, struct store **ret)
{
	return open_store(f, 0, 1, ret);
}
