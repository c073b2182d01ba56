/*
 * tender serve: opens the store, unlocks the vault (refusing to start on a missing, unsafe or
 * wrong master key), starts the HTTP server, and waits for signals: SIGTERM/SIGINT drain in-flight
 * requests and exit 0; SIGHUP reloads what can be reloaded (exchange rates).
 */
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "cli/cli.h"
#include "core/log.h"
#include "http/params.h"
#include "http/req.h"
#include "http/ratelimit.h"
#include "http/server.h"
#include "api/resources.h"
#include "api/financial_connections.h"
#include "api/mandates.h"
#include "api/sources_api.h"
#include "payments/sepa.h"
#include "ledger/ledger.h"
#include "ledger/ledger_reserve.h"
#include "money/fx.h"
#include "risk/model.h"
#include "risk/rules.h"
#include "disputes/dispute.h"
#include "documents/pdf.h"
#include "scheduler/scheduler.h"
#include "store/store.h"
#include "vault/vault.h"
#include "events/events.h"
#include "webhooks/webhooks.h"
#include "metrics/metrics.h"

#define DRAIN_TIMEOUT_MS 30000
#define SCHEDULER_TICK_MS 500

static const struct scheduler_job scheduler_jobs[] = {
    {"funds_available", ledger_scheduler_tick, LEDGER_DUE_SQL, NULL},
    {"reserve_release", ledger_reserve_tick, LEDGER_RESERVE_DUE_SQL, NULL},
    {"refunds_settle", refunds_settle_tick, REFUNDS_SETTLE_DUE_SQL, NULL},
    {"payouts", payouts_settle_tick, PAYOUTS_DUE_SQL, NULL},
    {"topups", topups_settle_tick, TOPUPS_DUE_SQL, NULL},
    {"checkout_expire", checkout_expire_tick, CHECKOUT_EXPIRE_DUE_SQL, NULL},
    {"quotes_expire", quotes_expire_tick, QUOTES_EXPIRE_DUE_SQL, NULL},
    {"credit_grants_expire", credit_grants_expire_tick, CREDIT_GRANTS_EXPIRE_DUE_SQL, NULL},
    {"report_runs", reporting_runs_tick, REPORTING_DUE_SQL, NULL},
    {"disputes", disputes_scheduler_tick, DISPUTES_DUE_SQL, NULL},
    {"sepa_debits", sepa_settle_tick, SEPA_SETTLE_DUE_SQL, NULL},
    {"subscriptions", subscriptions_tick, SUBSCRIPTIONS_DUE_SQL, NULL},
    {"fc_transaction_refreshes", fc_subscriptions_tick, FC_SUBSCRIPTIONS_DUE_SQL, NULL},
    {"idempotency_prune", scheduler_prune_idempotency, NULL, scheduler_prune_due},
    {NULL, NULL, NULL, NULL},
};

static void usage(FILE *f)
{
	fputs(
	    "usage: tender serve --data DIR --master-key-file FILE [options]\n"
	    "\n"
	    "Serves Stripe's v1 HTTP API.\n"
	    "\n"
	    "  --listen HOST:PORT            address to listen on (default 127.0.0.1:4242;\n"
	    "                                port 0 picks a free port, printed at start)\n"
	    "  --data DIR                    data directory, created when missing; holds the\n"
	    "                                SQLite store when no --database-url is given\n"
	    "  --master-key-file FILE        the vault's master key (tender keygen FILE); must\n"
	    "                                not be readable by group or others\n"
	    "  --database-url URL            a PostgreSQL shard; repeat once per shard\n"
	    "  --webhook-retry-schedule LIST delays between webhook attempts, e.g. 1s,2s,4s\n"
	    "                                (units ms, s, m, h, d; default: the seed's schedule)\n"
	    "  --rate-limit RATE[/BURST]     requests per second per merchant (default\n"
	    "                                1000/2000); 0 turns rate limiting off\n"
	    "  --rates-file FILE             exchange rates (ECB XML or CSV base,quote,rate,\n"
	    "                                valid_from); default: the bundled snapshot;\n"
	    "                                reloaded on SIGHUP (a bad file keeps the old)\n"
	    "  --fraud-model FILE            XGBoost model (JSON) for fraud scoring; default:\n"
	    "                                the bundled model\n"
	    "  --rules-file FILE             fraud rules (allow / block / review if …, see\n"
	    "                                src/risk/rules.h); checked by tender fraud "
	    "check-rules\n"
	    "  --workers N                   request worker threads (default 64)\n"
	    "  --idle-timeout SECONDS        close a connection idle, or stalled mid-request,\n"
	    "                                this long (1..3600, default 30)\n"
	    "  --write-path async|workers    async (default on the embedded store): a write's\n"
	    "                                handler parks on its group commit and the HTTP\n"
	    "                                thread serves others meanwhile; workers: it runs\n"
	    "                                on a worker thread that sleeps until the commit\n"
	    "                                (always so on PostgreSQL)\n"
	    "  --metrics-listen HOST:PORT    Prometheus metrics (GET /metrics) on this address,\n"
	    "                                apart from the API: every merchant's traffic, so\n"
	    "                                keep it where only monitoring reaches; default none\n"
	    "  --public-url URL              the address customers and clients reach Tender\n"
	    "                                by, e.g. https://pay.example.com: every URL it\n"
	    "                                hands out (hosted pages, file links) starts with\n"
	    "                                it; default: http:// and the request's Host header\n"
	    "  --log-level LEVEL             debug, info (default), warn, error\n"
	    "  --help                        this text\n",
	    f);
}

static int parse_listen(const char *s, char *host, size_t hostlen, int *port)
{
	const char *colon = strrchr(s, ':');
	if (!colon || colon == s || (size_t)(colon - s) >= hostlen)
		return -1;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	int64_t p;
	if (parse_i64(colon + 1, &p) != 0 || p < 0 || p > 65535)
		return -1;
	*port = (int)p;
	return 0;
}

struct attach_ctx {
	struct vault *v;
	char err[512];
};

static int attach_fn(struct db *db, void *p)
{
	struct attach_ctx *a = p;
	return vault_attach(a->v, db, a->err, sizeof(a->err)) == 0 ? 0 : -1;
}

/* SIGHUP: loads the rates again (the same --rates-file, or the bundled snapshot) and swaps them
 * in; requests already holding the old table finish with it. A file that does not load keeps
 * the old table: a typo in the file must not stop payments. */
static void reload_rates(struct app *app)
{
	char err[1024];
	struct fx_table *t = app_fx_load(app->cfg.rates_file, err, sizeof(err));
	if (!t) {
		log_msg(LOG_ERROR,
			"SIGHUP: exchange rates not reloaded, keeping the old ones: %s%s%s",
			app->cfg.rates_file ? app->cfg.rates_file : "",
			app->cfg.rates_file ? ": " : "", err);
		return;
	}
	size_t n = fx_table_count(t);
	app_fx_swap(app, t);
	log_msg(LOG_INFO, "SIGHUP: exchange rates reloaded: %zu from %s", n,
		app->cfg.rates_file ? app->cfg.rates_file : "the bundled snapshot");
}

int cli_serve(int argc, char **argv)
{
	struct cli_store_flags sf = {0};
	struct app app;
	memset(&app, 0, sizeof(app));
	const char *listen = "127.0.0.1:4242";
	const char *metrics_listen = NULL;
	char public_url[256];
	app.cfg.rate_limit_per_s = 1000;
	app.cfg.rate_limit_burst = 2000;
	static const struct option opts[] = {
	    {"listen", required_argument, NULL, 'l'},
	    {"data", required_argument, NULL, 'd'},
	    {"master-key-file", required_argument, NULL, 'k'},
	    {"database-url", required_argument, NULL, 'u'},
	    {"webhook-retry-schedule", required_argument, NULL, 'w'},
	    {"rate-limit", required_argument, NULL, 'r'},
	    {"rates-file", required_argument, NULL, 'x'},
	    {"fraud-model", required_argument, NULL, 'f'},
	    {"rules-file", required_argument, NULL, 'R'},
	    {"workers", required_argument, NULL, 'W'},
	    {"idle-timeout", required_argument, NULL, 'T'},
	    {"write-path", required_argument, NULL, 'P'},
	    {"log-level", required_argument, NULL, 'L'},
	    {"metrics-listen", required_argument, NULL, 'M'},
	    {"public-url", required_argument, NULL, 'U'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	optind = 1;
	int c;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'l':
			listen = optarg;
			break;
		case 'd':
			sf.data_dir = optarg;
			break;
		case 'k':
			app.cfg.master_key_file = optarg;
			break;
		case 'u':
			if (cli_store_add_url(&sf, optarg) != 0) {
				fprintf(stderr, "tender serve: too many --database-url\n");
				return 2;
			}
			break;
		case 'w': {
			struct webhook_schedule sched;
			if (webhook_schedule_parse(optarg, &sched) != 0) {
				fprintf(stderr,
					"tender serve: --webhook-retry-schedule: expected a "
					"comma-separated list of durations like 1s,2s,4s\n");
				return 2;
			}
			app.cfg.webhook_retry_schedule = optarg;
			break;
		}
		case 'r':
			if (ratelimit_parse(optarg, &app.cfg.rate_limit_per_s,
					    &app.cfg.rate_limit_burst) != 0) {
				fprintf(stderr,
					"tender serve: --rate-limit: expected RATE[/BURST], "
					"e.g. 1000/2000, or 0 to turn it off\n");
				return 2;
			}
			break;
		case 'x':
			app.cfg.rates_file = optarg;
			break;
		case 'f':
			app.cfg.fraud_model_file = optarg;
			break;
		case 'R':
			app.cfg.rules_file = optarg;
			break;
		case 'W': {
			int64_t n;
			if (parse_i64(optarg, &n) != 0 || n < 1 || n > 512) {
				fprintf(stderr, "tender serve: --workers: expected 1..512\n");
				return 2;
			}
			app.cfg.worker_threads = (int)n;
			break;
		}
		case 'T': {
			int64_t n;
			if (parse_i64(optarg, &n) != 0 || n < 1 || n > 3600) {
				fprintf(stderr, "tender serve: --idle-timeout: expected 1..3600 "
						"seconds\n");
				return 2;
			}
			app.cfg.idle_timeout_s = (int)n;
			break;
		}
		case 'P':
			if (strcmp(optarg, "async") == 0) {
				app.cfg.write_path_workers = false;
			} else if (strcmp(optarg, "workers") == 0) {
				app.cfg.write_path_workers = true;
			} else {
				fprintf(stderr,
					"tender serve: --write-path: expected async or workers\n");
				return 2;
			}
			break;
		case 'L':
			if (strcmp(optarg, "debug") == 0)
				log_set_level(LOG_DEBUG);
			else if (strcmp(optarg, "info") == 0)
				log_set_level(LOG_INFO);
			else if (strcmp(optarg, "warn") == 0)
				log_set_level(LOG_WARN);
			else if (strcmp(optarg, "error") == 0)
				log_set_level(LOG_ERROR);
			else {
				fprintf(stderr,
					"tender serve: --log-level: debug, info, warn or error\n");
				return 2;
			}
			break;
		case 'M':
			metrics_listen = optarg;
			break;
		case 'U':
			if (url_base_parse(optarg, public_url, sizeof(public_url)) != 0) {
				fprintf(stderr, "tender serve: --public-url: expected "
						"http(s)://HOST[:PORT][/PREFIX], "
						"e.g. https://pay.example.com\n");
				return 2;
			}
			app.cfg.public_url = public_url;
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
		fprintf(stderr, "tender serve: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	char host[256];
	if (parse_listen(listen, host, sizeof(host), &app.cfg.listen_port) != 0) {
		fprintf(stderr,
			"tender serve: --listen: expected HOST:PORT, e.g. 127.0.0.1:4242\n");
		return 2;
	}
	app.cfg.listen_host = host;
	char metrics_host[256];
	int metrics_port = 0;
	if (metrics_listen &&
	    parse_listen(metrics_listen, metrics_host, sizeof(metrics_host), &metrics_port) != 0) {
		fprintf(stderr, "tender serve: --metrics-listen: expected HOST:PORT, e.g. "
				"127.0.0.1:9464\n");
		return 2;
	}
	if (!sf.data_dir) {
		fprintf(stderr, "tender serve: --data DIR is required\n");
		return 2;
	}
	if (!app.cfg.master_key_file) {
		fprintf(stderr, "tender serve: --master-key-file FILE is required "
				"(create one with: tender keygen FILE)\n");
		return 2;
	}
	app.cfg.data_dir = sf.data_dir;
	app.cfg.database_urls = sf.n_urls ? sf.database_urls : NULL;

	/* Signals go to the main thread only: block them before any thread starts. */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	char err[1024];
	if (vault_open(&app.vault, app.cfg.master_key_file, err, sizeof(err)) != 0) {
		fprintf(stderr, "tender serve: %s\n", err);
		return 1;
	}
	if (cli_store_open_serving(&sf, &app.store) != 0) {
		vault_free(app.vault);
		return 1;
	}
	/* the outbox is part of every event's transaction: register it before anything can run */
	event_set_outbox(webhooks_outbox);
	struct attach_ctx ac = {.v = app.vault};
	if (store_each_shard_write(app.store, attach_fn, &ac) != 0) {
		fprintf(stderr, "tender serve: %s\n",
			ac.err[0] ? ac.err : "cannot unlock the vault");
		store_close(app.store);
		vault_free(app.vault);
		return 1;
	}
	int mrc = app.cfg.fraud_model_file
		      ? risk_model_load_file(&app.risk, app.cfg.fraud_model_file, err, sizeof(err))
		      : risk_model_load_bundled(&app.risk, err, sizeof(err));
	if (mrc != 0) {
		fprintf(stderr, "tender serve: fraud model: %s\n", err);
		store_close(app.store);
		vault_free(app.vault);
		return 1;
	}
	if (app.cfg.rules_file &&
	    risk_rules_load_file(app.cfg.rules_file, &app.rules, err, sizeof(err)) != 0) {
		fprintf(stderr, "tender serve: --rules-file %s: %s\n", app.cfg.rules_file, err);
		risk_model_free(app.risk);
		store_close(app.store);
		vault_free(app.vault);
		return 1;
	}
	/* exchange rates: a file that does not load stops the server, as a bad model or rules file
	 * does; without --rates-file the bundled snapshot */
	struct fx_table *fx = app_fx_load(app.cfg.rates_file, err, sizeof(err));
	if (!fx || app_fx_init(&app, fx) != 0) {
		fprintf(stderr, "tender serve: %s%s: %s\n",
			app.cfg.rates_file ? "--rates-file " : "exchange rates",
			app.cfg.rates_file ? app.cfg.rates_file : "", fx ? "cannot lock" : err);
		fx_table_free(fx);
		risk_rules_free(app.rules);
		risk_model_free(app.risk);
		store_close(app.store);
		vault_free(app.vault);
		return 1;
	}
	log_msg(LOG_INFO, "exchange rates: %zu from %s", fx_table_count(fx),
		app.cfg.rates_file ? app.cfg.rates_file : "the bundled snapshot");
	app.ratelimit = ratelimit_new(app.cfg.rate_limit_per_s, app.cfg.rate_limit_burst);
	metrics_init();
	struct metrics_server *metrics = NULL;
	if (metrics_listen &&
	    metrics_server_start(&metrics, metrics_host, metrics_port, err, sizeof(err)) != 0) {
		fprintf(stderr, "tender serve: --metrics-listen: %s\n", err);
		ratelimit_free(app.ratelimit);
		app_fx_release(&app);
		risk_rules_free(app.rules);
		risk_model_free(app.risk);
		store_close(app.store);
		vault_free(app.vault);
		return 1;
	}
	/* sources' client secrets are derived by the vault, wherever a source is rendered */
	sources_api_init(&app);
	struct server *srv = NULL;
	if (server_start(&srv, &app, err, sizeof(err)) != 0) {
		fprintf(stderr, "tender serve: %s\n", err);
		metrics_server_stop(metrics);
		ratelimit_free(app.ratelimit);
		app_fx_release(&app);
		store_close(app.store);
		vault_free(app.vault);
		return 1;
	}
	struct webhooks *hooks = NULL;
	if (webhooks_start(&hooks, &app, err, sizeof(err)) != 0) {
		fprintf(stderr, "tender serve: %s\n", err);
		server_stop(srv, 0);
		metrics_server_stop(metrics);
		ratelimit_free(app.ratelimit);
		app_fx_release(&app);
		store_close(app.store);
		vault_free(app.vault);
		return 1;
	}
	struct scheduler *sched = NULL;
	/* renewals pay as internal requests: they need the app, and the address 3-D Secure
	 * challenge URLs name */
	char sched_host[300];
	snprintf(sched_host, sizeof(sched_host), "%s:%d", host, server_port(srv));
	/* URLs made with no request's Host header (other scheduler writes) name the listener, as
	 * a wildcard address cannot be reached by that name */
	snprintf(app.self_url_buf, sizeof(app.self_url_buf), "http://%s:%d",
		 strcmp(host, "0.0.0.0") == 0 ? "127.0.0.1" : host, server_port(srv));
	atomic_store(&app.self_url, app.self_url_buf);
	subscriptions_scheduler_init(&app, sched_host);
	sepa_scheduler_init(&app);
	if (scheduler_start(&sched, app.store, scheduler_jobs, SCHEDULER_TICK_MS) != 0) {
		fprintf(stderr, "tender serve: cannot start the scheduler\n");
		server_stop(srv, 0);
		webhooks_stop(hooks);
		metrics_server_stop(metrics);
		ratelimit_free(app.ratelimit);
		app_fx_release(&app);
		store_close(app.store);
		vault_free(app.vault);
		return 1;
	}
	if (metrics)
		printf("tender metrics on http://%s:%d/metrics\n", metrics_host,
		       metrics_server_port(metrics));
	printf("tender listening on http://%s:%d\n", host, server_port(srv));
	fflush(stdout);
	log_msg(LOG_INFO, "listening on %s:%d", host, server_port(srv));

	for (;;) {
		int sig = 0;
		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig == SIGHUP) {
			reload_rates(&app);
			continue;
		}
		log_msg(LOG_INFO, "signal %d: draining", sig);
		break;
	}
	server_stop(srv, DRAIN_TIMEOUT_MS);
	scheduler_stop(sched);
	webhooks_stop(hooks);
	metrics_server_stop(metrics);
	ratelimit_free(app.ratelimit);
	app_fx_release(&app);
	risk_model_free(app.risk);
	risk_rules_free(app.rules);
	store_close(app.store);
	vault_free(app.vault);
	pdf_caches_release(); /* the HTTP threads that draw PDFs are stopped */
	log_msg(LOG_INFO, "stopped");
	return 0;
}
