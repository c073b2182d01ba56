/*
 * struct app: what a running Tender shares between requests. Built once by `tender serve`, read
 * by every handler through r->app, and torn down at exit. Fields that can be swapped at runtime
 * (exchange rates on SIGHUP) say how.
 */
#ifndef TENDER_APP_H
#define TENDER_APP_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store;
struct vault;
struct risk_model;
struct risk_rules;
struct fx_table;
struct ratelimit;

struct app_config {
	const char *listen_host;
	int listen_port;
	const char *data_dir;
	const char *master_key_file;
	const char *const *database_urls;
	const char *webhook_retry_schedule;
	int64_t rate_limit_per_s; /* 0 = off */
	int64_t rate_limit_burst;
	const char *rates_file;
	const char *fraud_model_file;
	const char *rules_file;
	int worker_threads;
	int idle_timeout_s; /* --idle-timeout: an idle or stalled connection is closed (0 = 30) */
	bool write_path_workers; /* --write-path workers: writes block worker threads (server.c) */
	/* --public-url: the scheme, host and optional path prefix every URL Tender hands out starts
	 * with (hosted pages, file links), e.g. https://pay.example.com; NULL: http:// and the
	 * request's Host header (see req_url_base) */
	const char *public_url;
};

struct app {
	struct app_config cfg;
	struct store *store;
	struct vault *vault;
	struct risk_model *risk;
	struct risk_rules *rules; /* merchant fraud rules (--rules-file), or NULL */
	/* Exchange rates (--rates-file, or the bundled snapshot). Swapped on SIGHUP: never read
	 * this pointer directly; take a reference with app_fx_acquire and drop it with
	 * fx_table_free when done (a request holds its reference across its write transaction, so
	 * a reload never changes the rate under a conversion in flight). */
	struct fx_table *fx;
	pthread_mutex_t fx_lock; /* guards the fx pointer (not the table: tables are immutable) */
	struct ratelimit *ratelimit;
	/* set when shutdown starts (server_stop): /healthz answers 503 so that load balancers take
	 * the node out while it drains */
	_Atomic int draining;
	/* http://HOST:PORT of the bound listener, for URLs made without a request's Host header
	 * (the scheduler's) when there is no --public-url: published (self_url, NULL before the
	 * server is bound) only once self_url_buf is written, as HTTP threads may already read it
	 */
	char self_url_buf[300];
	const char *_Atomic self_url;
};

/* The start of the URLs Tender hands out when no request's Host header names one (the
 * scheduler's writes): --public-url, else the listener's own http://HOST:PORT, else
 * http://127.0.0.1:4242 (app NULL too). Never NULL. See req_url_base. */
const char *app_url_base(const struct app *app);

/* Loads the exchange rates for `tender serve`: the file (ECB XML or CSV, src/money/fx.h) when
 * path is not NULL, else the bundled snapshot. NULL on failure, with the reason in err. */
struct fx_table *app_fx_load(const char *path, char *err, size_t errlen);
/* Initializes fx_lock and installs t (taking over its reference). 0 or -1. */
int app_fx_init(struct app *app, struct fx_table *t);
/* A new reference to the current table (NULL when none is installed); the caller drops it with
 * fx_table_free. Safe from any thread. */
struct fx_table *app_fx_acquire(struct app *app);
/* Installs t (taking over its reference) and drops the app's reference to the old table; readers
 * holding the old one keep using it until they drop it. */
void app_fx_swap(struct app *app, struct fx_table *t);
/* Drops the installed table and destroys fx_lock (at exit). */
void app_fx_release(struct app *app);

#endif
