/*
 * struct app: what a running Tender shares between requests. Built once by `tender serve`, read
 * by every handler through r->app, and torn down at exit. Fields that can be swapped at runtime
 * (exchange rates on SIGHUP) say how.
 */
#ifndef TENDER_APP_H
#define TENDER_APP_H

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
};

struct app {
	struct app_config cfg;
	struct store *store;
	struct vault *vault;
	struct risk_model *risk;
	struct risk_rules *rules; /* merchant fraud rules (--rules-file), or NULL */
	struct fx_table *fx;
	struct ratelimit *ratelimit;
};

#endif
