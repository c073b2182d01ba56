/*
 * tender dispute open: the card network's side of a dispute, for any succeeded charge (what the
 * test cards 0259 / 2685 / 1976 do by themselves). Opens the dispute at once, in one write
 * transaction on the charge's merchant (money withdrawn, events appended), and prints it.
 *
 * The charge's merchant is found by asking each merchant's shard whether the charge is theirs
 * (a primary-key lookup scoped by merchant, one per merchant, bounded by MERCHANTS_MAX), unless
 * --merchant names it.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/arena.h"
#include "core/clock.h"
#include "core/parse.h"
#include "core/str.h"
#include "disputes/dispute.h"
#include "ledger/ledger.h"
#include "merchant/merchant.h"
#include "store/store.h"

#define MERCHANTS_MAX 100000

static void usage(FILE *f)
{
	fputs(
	    "usage: tender dispute open --data DIR [--database-url URL ...] --charge ch_…\n"
	    "                           --reason R [--amount N] [--merchant acct_…]\n"
	    "\n"
	    "Opens a dispute on a succeeded, captured charge as its card network would, and\n"
	    "prints the dispute as JSON. A chargeback withdraws the amount plus the dispute fee\n"
	    "from the merchant's available balance; an inquiry moves no money.\n"
	    "\n"
	    "  --data DIR           the data directory\n"
	    "  --database-url URL   a PostgreSQL shard (repeat for each shard)\n"
	    "  --charge ch_…        the charge to dispute\n"
	    "  --reason R           fraudulent, product_not_received, duplicate, general, … "
	    "(Stripe's\n"
	    "                       reasons), or inquiry (an inquiry, recorded with reason "
	    "general)\n"
	    "  --amount N           the disputed amount in minor units (default: what the charge\n"
	    "                       has left, captured − refunded)\n"
	    "  --merchant acct_…    the charge's merchant (default: found by searching)\n"
	    "  --help               this text\n",
	    f);
}

struct ids {
	char (*v)[ID_MAX];
	size_t n, cap;
	bool overflow;
};

static void collect(const struct merchant_info *m, void *ctx)
{
	struct ids *ids = ctx;
	if (ids->n == ids->cap) {
		size_t cap = ids->cap ? ids->cap * 2 : 64;
		if (cap > MERCHANTS_MAX || !(ids->v = realloc(ids->v, cap * sizeof(*ids->v)))) {
			ids->overflow = true;
			return;
		}
		ids->cap = cap;
	}
	str_copy(ids->v[ids->n++], ID_MAX, m->id);
}

struct owned_ctx {
	const char *merchant, *charge;
	int owned;
};

static int owned_fn(struct db *db, void *p)
{
	struct owned_ctx *c = p;
	c->owned = dispute_charge_owned(db, c->merchant, c->charge);
	return c->owned < 0 ? c->owned : 0;
}

/* The charge's merchant into ret; 0, 1 when no merchant has it, -1 on a store error. */
static int find_merchant(struct store *s, const char *charge, char ret[ID_MAX])
{
	struct ids ids = {0};
	int rc = merchant_list(s, collect, &ids);
	if (rc != 0 || ids.overflow) {
		free(ids.v);
		return -1;
	}
	int found = 1;
	for (size_t i = 0; i < ids.n && found == 1; i++) {
		struct owned_ctx c = {ids.v[i], charge, 0};
		if (store_read(s, ids.v[i], owned_fn, &c) != 0) {
			found = -1;
			break;
		}
		if (c.owned == 1) {
			str_copy(ret, ID_MAX, ids.v[i]);
			found = 0;
		}
	}
	free(ids.v);
	return found;
}

struct open_ctx {
	const char *merchant, *charge, *reason;
	int64_t amount, now;
	struct arena arena;
	char *json; /* malloc'd copy of the dispute, set when the transaction succeeded */
};

static int open_fn(struct db *db, void *p)
{
	struct open_ctx *c = p;
	free(c->json); /* a retried transaction starts over */
	c->json = NULL;
	const struct event_origin origin = {NULL, NULL, 0};
	struct dispute d;
	int rc = dispute_open(db, &c->arena, c->merchant, &origin, c->charge, c->reason, c->amount,
			      c->now, &d);
	if (rc != DB_OK)
		return rc;
	size_t len = 0;
	const char *js = dispute_json(db, &c->arena, c->merchant, 0, &d, &len);
	if (!js || !(c->json = strndup(js, len)))
		return DB_ERR;
	return 0;
}

static const char *open_error(int rc)
{
	switch (rc) {
	case DB_NOTFOUND:
		return "no such charge";
	case DISPUTE_ERR_DISPUTED:
		return "the charge already has a dispute (a charge is disputed once)";
	case DISPUTE_ERR_STATE:
		return "only a succeeded, captured charge can be disputed";
	case DISPUTE_ERR_AMOUNT:
		return "--amount must be 1 … what the charge has left (captured − refunded)";
	case DISPUTE_ERR_REASON:
		return "unknown --reason (see tender dispute --help)";
	default:
		return NULL;
	}
}

static int dispute_open_cmd(struct cli_store_flags *sf, const char *charge, const char *reason,
			    const char *amount_s, const char *merchant)
{
	int64_t amount = 0;
	if (!charge || !*charge || !reason || !*reason) {
		fprintf(stderr, "tender dispute open: --charge and --reason are required\n");
		return 2;
	}
	if (amount_s &&
	    (parse_i64(amount_s, &amount) != 0 || amount <= 0 || amount > LEDGER_AMOUNT_MAX)) {
		fprintf(stderr, "tender dispute open: --amount must be a positive integer of minor "
				"units\n");
		return 2;
	}
	struct store *s;
	if (cli_store_open(sf, 0, &s) != 0)
		return 1;
	char owner[ID_MAX];
	if (merchant) {
		str_copy(owner, sizeof(owner), merchant);
	} else {
		int f = find_merchant(s, charge, owner);
		if (f != 0) {
			fprintf(stderr, "tender dispute open: %s\n",
				f > 0 ? "no merchant has that charge"
				      : "store error while searching");
			store_close(s);
			return 1;
		}
	}
	struct open_ctx c = {owner, charge, reason, amount, clock_now(), {0}, NULL};
	arena_init(&c.arena, 16u << 20);
	int rc = store_write(s, owner, open_fn, &c);
	arena_release(&c.arena);
	store_close(s);
	if (rc != 0) {
		const char *why = open_error(rc);
		if (why)
			fprintf(stderr, "tender dispute open: %s\n", why);
		else
			fprintf(stderr, "tender dispute open: store error %d\n", rc);
		free(c.json);
		return 1;
	}
	printf("%s\n", c.json ? c.json : "{}");
	free(c.json);
	return 0;
}

int cli_dispute(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (strcmp(argv[1], "open") != 0) {
		fprintf(stderr, "tender dispute: unknown subcommand '%s'\n", argv[1]);
		usage(stderr);
		return 2;
	}
	struct cli_store_flags sf = {0};
	const char *charge = NULL, *reason = NULL, *amount = NULL, *merchant = NULL;
	static const struct option opts[] = {
	    {"data", required_argument, NULL, 'd'},
	    {"database-url", required_argument, NULL, 'u'},
	    {"charge", required_argument, NULL, 'c'},
	    {"reason", required_argument, NULL, 'r'},
	    {"amount", required_argument, NULL, 'a'},
	    {"merchant", required_argument, NULL, 'm'},
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
			if (cli_store_add_url(&sf, optarg) != 0) {
				fprintf(stderr, "tender dispute: too many --database-url\n");
				return 2;
			}
			break;
		case 'c':
			charge = optarg;
			break;
		case 'r':
			reason = optarg;
			break;
		case 'a':
			amount = optarg;
			break;
		case 'm':
			merchant = optarg;
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
		fprintf(stderr, "tender dispute: unexpected argument '%s'\n", argv[optind + 1]);
		return 2;
	}
	return dispute_open_cmd(&sf, charge, reason, amount, merchant);
}
