/* tender merchant create|list|show|reserve */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/json.h"
#include "core/str.h"
#include "disputes/dispute.h"
#include "ledger/ledger.h"
#include "ledger/ledger_reserve.h"
#include "merchant/merchant.h"
#include "money/currency.h"

static void usage(FILE *f)
{
	fputs(
	    "usage: tender merchant create --data DIR [--database-url URL ...] --name NAME\n"
	    "                              [--settlement-currency CUR] [--mcc NNNN]\n"
	    "       tender merchant list   --data DIR [--database-url URL ...]\n"
	    "       tender merchant show   --data DIR [--database-url URL ...] acct_…\n"
	    "       tender merchant reserve --data DIR [--database-url URL ...] acct_…\n"
	    "                              (--percent P --days N | --off)\n"
	    "\n"
	    "  create   creates a merchant (test mode) and prints one JSON object with its\n"
	    "           id (acct_…), secret_key (sk_test_…) and publishable_key (pk_test_…).\n"
	    "           The keys are shown only now: Tender stores only their hashes.\n"
	    "  list     prints every merchant as a JSON array.\n"
	    "  show     prints one merchant as JSON with its dispute rate over its whole history:\n"
	    "           chargebacks opened (inquiries excluded) / charges succeeded and captured,\n"
	    "           flagged (\"above_threshold\": true, and a warning on stderr) above 1 %.\n"
	    "           Also its rolling reserve (null when none) and the funds it holds.\n"
	    "  reserve  sets the merchant's (or connected account's) rolling reserve: P % of\n"
	    "           each later charge (a decimal with at most two places, 0.01 … 100,\n"
	    "           rounded down to the minor unit) is withheld and released N days\n"
	    "           (1 … 365) later; --off ends it for new charges (held funds are still\n"
	    "           released on their dates). Prints the reserve now in force.\n"
	    "\n"
	    "  --data DIR                 the data directory (SQLite store: DIR/tender.db)\n"
	    "  --database-url URL         a PostgreSQL shard (repeat for each shard)\n"
	    "  --name NAME                the merchant's display name (create)\n"
	    "  --settlement-currency CUR  ISO 4217 code funds settle in (default usd)\n"
	    "  --mcc NNNN                 merchant category code (ISO 18245, e.g. 5411 for\n"
	    "                             grocery stores); a fraud-model feature (default 0,\n"
	    "                             unknown)\n"
	    "  --percent P                the reserve's percent of each charge (reserve)\n"
	    "  --days N                   how long each hold is kept, 1 … 365 (reserve)\n"
	    "  --off                      ends the reserve for new charges (reserve)\n"
	    "  --help                     this text\n",
	    f);
}

static void print_one(const struct merchant_info *m, void *ctx)
{
	struct json *j = ctx;
	json_obj_open(j);
	json_kv_str(j, "id", m->id);
	json_kv_str(j, "name", m->name);
	json_kv_str(j, "settlement_currency", m->settlement_currency);
	json_kv_int(j, "fee_percent_bps", m->fee_percent_bps);
	json_kv_int(j, "fee_fixed_minor", m->fee_fixed_minor);
	json_kv_int(j, "created", m->created);
	json_kv_int(j, "mcc", m->mcc);
	json_obj_close(j);
}

#define HELD_MAX 16

struct show_ctx {
	const char *id;
	struct merchant_info m;
	int64_t disputes, charges;
	int64_t reserve_bps, reserve_days;
	struct {
		char currency[8];
		int64_t amount;
	} held[HELD_MAX];
	int nheld;
};

/* the funds a rolling reserve holds now, per currency (the unreleased holds) */
static const char SQL_HELD[] =
    "SELECT currency, SUM(amount) FROM reserve_holds WHERE merchant_id = $1"
    " AND released_balance_transaction IS NULL GROUP BY currency ORDER BY currency";

static int show_fn(struct db *db, void *p)
{
	struct show_ctx *c = p;
	int rc = merchant_get(db, c->id, &c->m);
	if (rc != 0)
		return rc;
	if ((rc = ledger_reserve_get(db, c->id, &c->reserve_bps, &c->reserve_days)) != DB_OK)
		return rc;
	struct db_stmt *st = db_prepare(db, SQL_HELD);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, c->id, -1);
	c->nheld = 0;
	while (c->nheld < HELD_MAX && (rc = db_step(st)) == DB_ROW) {
		str_copy(c->held[c->nheld].currency, 8, db_col_text(st, 0, NULL));
		c->held[c->nheld++].amount = db_col_int64(st, 1);
	}
	db_reset(st);
	if (rc != DB_DONE && rc != DB_ROW)
		return rc < 0 ? rc : DB_ERR;
	return dispute_rate(db, c->id, &c->disputes, &c->charges);
}

/* "reserve": {"percent": "10.00", "percent_bps": 1000, "days": 90}, or null when none */
static void reserve_json(struct json *j, int64_t bps, int64_t days)
{
	json_key(j, "reserve");
	if (bps == 0) {
		json_nil(j);
		return;
	}
	char pct[32];
	snprintf(pct, sizeof(pct), "%lld.%02lld", (long long)(bps / 100), (long long)(bps % 100));
	json_obj_open(j);
	json_kv_str(j, "percent", pct);
	json_kv_int(j, "percent_bps", bps);
	json_kv_int(j, "days", days);
	json_obj_close(j);
}

/* tender merchant show: the merchant and its dispute rate (whole history; see usage). */
static int merchant_show(const struct cli_store_flags *sf, const char *id)
{
	if (!id || !*id) {
		fprintf(stderr, "tender merchant show: the merchant id (acct_…) is required\n");
		return 2;
	}
	struct store *s;
	if (cli_store_open(sf, 0, &s) != 0)
		return 1;
	struct show_ctx c = {.id = id};
	int rc = store_read(s, id, show_fn, &c);
	store_close(s);
	if (rc == DB_NOTFOUND) {
		fprintf(stderr, "tender merchant show: no such merchant: %s\n", id);
		return 1;
	}
	int64_t bps = 0;
	bool above = false;
	if (rc != 0 || dispute_rate_bps(c.disputes, c.charges, &bps, &above) != 0) {
		fprintf(stderr, "tender merchant show: store error %d\n", rc);
		return 1;
	}
	char rate[32], threshold[32];
	snprintf(rate, sizeof(rate), "%lld.%02lld", (long long)(bps / 100), (long long)(bps % 100));
	snprintf(threshold, sizeof(threshold), "%d.%02d", DISPUTE_RATE_THRESHOLD_BPS / 100,
		 DISPUTE_RATE_THRESHOLD_BPS % 100);
	struct buf b;
	struct json j;
	buf_init(&b, 0);
	json_init(&j, &b);
	json_obj_open(&j);
	json_kv_str(&j, "id", c.m.id);
	json_kv_str(&j, "name", c.m.name);
	json_kv_str(&j, "settlement_currency", c.m.settlement_currency);
	json_kv_int(&j, "fee_percent_bps", c.m.fee_percent_bps);
	json_kv_int(&j, "fee_fixed_minor", c.m.fee_fixed_minor);
	json_kv_int(&j, "created", c.m.created);
	json_key(&j, "disputes");
	json_obj_open(&j);
	json_kv_str(&j, "window", "all_time");
	json_kv_int(&j, "count", c.disputes);
	json_kv_int(&j, "charges", c.charges);
	json_kv_str(&j, "rate_percent", rate);
	json_kv_str(&j, "threshold_percent", threshold);
	json_kv_bool(&j, "above_threshold", above);
	json_obj_close(&j);
	reserve_json(&j, c.reserve_bps, c.reserve_days);
	json_key(&j, "reserve_held");
	json_arr_open(&j);
	for (int i = 0; i < c.nheld; i++) {
		json_obj_open(&j);
		json_kv_str(&j, "currency", c.held[i].currency);
		json_kv_int(&j, "amount", c.held[i].amount);
		json_obj_close(&j);
	}
	json_arr_close(&j);
	json_obj_close(&j);
	printf("%s\n", buf_cstr(&b));
	buf_release(&b);
	if (above)
		fprintf(stderr,
			"tender merchant show: WARNING: %s's dispute rate %s %% is above %s %%\n",
			c.m.id, rate, threshold);
	return 0;
}

struct reserve_ctx {
	const char *id;
	int64_t bps, days, now;
	struct merchant_info m;
};

static int reserve_fn(struct db *db, void *p)
{
	struct reserve_ctx *c = p;
	int rc = merchant_get(db, c->id, &c->m);
	if (rc != 0)
		return rc;
	return ledger_reserve_set(db, c->id, c->bps, c->days, c->now);
}

/* tender merchant reserve: appends the change (ledger_reserve.h), prints the reserve in force */
static int merchant_reserve(const struct cli_store_flags *sf, const char *id, const char *percent,
			    const char *days, bool off)
{
	if (!id || !*id) {
		fprintf(stderr, "tender merchant reserve: the merchant id (acct_…) is required\n");
		return 2;
	}
	struct reserve_ctx c = {.id = id, .now = clock_now()};
	if (off) {
		if (percent || days) {
			fprintf(stderr, "tender merchant reserve: --off takes no --percent or "
					"--days\n");
			return 2;
		}
	} else {
		if (!percent || !days) {
			fprintf(stderr, "tender merchant reserve: --percent and --days are "
					"required (or --off)\n");
			return 2;
		}
		if (ledger_reserve_parse_percent(percent, &c.bps) != 0) {
			fprintf(stderr, "tender merchant reserve: --percent must be a number "
					"0.01 … 100 with at most two decimals\n");
			return 2;
		}
		char *end = NULL;
		long v = strtol(days, &end, 10);
		if (!*days || *end || v < 1 || v > LEDGER_RESERVE_DAYS_MAX) {
			fprintf(stderr, "tender merchant reserve: --days must be a number 1 … %d\n",
				LEDGER_RESERVE_DAYS_MAX);
			return 2;
		}
		c.days = v;
	}
	struct store *s;
	if (cli_store_open(sf, 0, &s) != 0)
		return 1;
	int rc = store_write(s, id, reserve_fn, &c);
	store_close(s);
	if (rc == DB_NOTFOUND) {
		fprintf(stderr, "tender merchant reserve: no such merchant: %s\n", id);
		return 1;
	}
	if (rc == DB_CONFLICT) {
		fprintf(stderr, "tender merchant reserve: changed meanwhile by another command; "
				"run it again\n");
		return 1;
	}
	if (rc != 0) {
		fprintf(stderr, "tender merchant reserve: store error %d\n", rc);
		return 1;
	}
	struct buf b;
	struct json j;
	buf_init(&b, 0);
	json_init(&j, &b);
	json_obj_open(&j);
	json_kv_str(&j, "id", id);
	reserve_json(&j, c.bps, c.days);
	json_obj_close(&j);
	printf("%s\n", buf_cstr(&b));
	buf_release(&b);
	return 0;
}

static bool currency_shape_ok(const char *c)
{
	if (strlen(c) != 3)
		return false;
	for (int i = 0; i < 3; i++)
		if (c[i] < 'a' || c[i] > 'z')
			return false;
	return currency_find(c) != NULL; /* a code Tender knows (src/money/currencies.def) */
}

int cli_merchant(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	const char *sub = argv[1];
	if (strcmp(sub, "create") != 0 && strcmp(sub, "list") != 0 && strcmp(sub, "show") != 0 &&
	    strcmp(sub, "reserve") != 0) {
		fprintf(stderr, "tender merchant: unknown subcommand '%s'\n", sub);
		usage(stderr);
		return 2;
	}
	struct cli_store_flags sf = {0};
	const char *name = NULL;
	const char *currency = "usd";
	int mcc = 0;
	const char *percent = NULL, *days = NULL;
	bool off = false;
	static const struct option opts[] = {
	    {"percent", required_argument, NULL, 'p'},
	    {"days", required_argument, NULL, 'D'},
	    {"off", no_argument, NULL, 'o'},
	    {"data", required_argument, NULL, 'd'},
	    {"database-url", required_argument, NULL, 'u'},
	    {"name", required_argument, NULL, 'n'},
	    {"settlement-currency", required_argument, NULL, 'c'},
	    {"mcc", required_argument, NULL, 'm'},
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
				fprintf(stderr, "tender merchant: too many --database-url\n");
				return 2;
			}
			break;
		case 'n':
			name = optarg;
			break;
		case 'c':
			currency = optarg;
			break;
		case 'm': {
			char *end = NULL;
			long v = strtol(optarg, &end, 10);
			if (!*optarg || *end || v < 0 || v > 9999) {
				fprintf(stderr,
					"tender merchant: --mcc must be a number 0 … 9999\n");
				return 2;
			}
			mcc = (int)v;
			break;
		}
		case 'p':
			percent = optarg;
			break;
		case 'D':
			days = optarg;
			break;
		case 'o':
			off = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	const char *show_id = NULL;
	if ((strcmp(sub, "show") == 0 || strcmp(sub, "reserve") == 0) && optind == argc - 2)
		show_id = argv[++optind];
	if (optind < argc - 1) {
		fprintf(stderr, "tender merchant: unexpected argument '%s'\n", argv[optind + 1]);
		return 2;
	}
	if (strcmp(sub, "show") == 0)
		return merchant_show(&sf, show_id);
	if (strcmp(sub, "reserve") == 0)
		return merchant_reserve(&sf, show_id, percent, days, off);
	if (percent || days || off) {
		fprintf(stderr, "tender merchant: --percent, --days and --off are for reserve\n");
		return 2;
	}
	if (strcmp(sub, "create") == 0) {
		if (!name || !*name) {
			fprintf(stderr, "tender merchant create: --name NAME is required\n");
			return 2;
		}
		if (strlen(name) > 200) {
			fprintf(stderr,
				"tender merchant create: --name is longer than 200 characters\n");
			return 2;
		}
		char cur[8];
		str_copy(cur, sizeof(cur), currency);
		for (char *p = cur; *p; p++)
			if (*p >= 'A' && *p <= 'Z')
				*p = (char)(*p - 'A' + 'a');
		if (!currency_shape_ok(cur)) {
			fprintf(stderr, "tender merchant create: --settlement-currency must be a "
					"three-letter ISO 4217 code\n");
			return 2;
		}
		struct store *s;
		if (cli_store_open(&sf, 0, &s) != 0)
			return 1;
		struct merchant_keys k;
		char err[256];
		int rc = merchant_create(s, name, cur, mcc, &k, err, sizeof(err));
		store_close(s);
		if (rc != 0) {
			fprintf(stderr, "tender merchant create: %s\n", err);
			return 1;
		}
		printf("{\"id\":\"%s\",\"secret_key\":\"%s\",\"publishable_key\":\"%s\","
		       "\"settlement_currency\":\"%s\"}\n",
		       k.id, k.secret_key, k.publishable_key, cur);
		return 0;
	}
	struct store *s;
	if (cli_store_open(&sf, 0, &s) != 0)
		return 1;
	struct buf b;
	struct json j;
	buf_init(&b, 0);
	json_init(&j, &b);
	json_arr_open(&j);
	int rc = merchant_list(s, print_one, &j);
	json_arr_close(&j);
	store_close(s);
	if (rc != 0) {
		fprintf(stderr, "tender merchant list: store error %d\n", rc);
		buf_release(&b);
		return 1;
	}
	printf("%s\n", buf_cstr(&b));
	buf_release(&b);
	return 0;
}
