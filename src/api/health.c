/*
 * GET /healthz: whether this node can serve, for load balancers and orchestrators (no API key;
 * not part of Stripe's API, and outside its /v1/ paths). 200 {"status":"ok","shards":N} when
 * the store takes writes and a read reaches every shard; 503 with the reason otherwise:
 * "draining" once shutdown has begun (so the balancer stops sending while in-flight requests
 * finish), "store_failed" after a failed WAL fsync (the embedded store then refuses every
 * write until a restart), "store_unreachable" when a shard does not answer. The answer names
 * no merchant and no data; the probe reads a constant, nothing of any merchant's.
 */
#include <stdatomic.h>

#include "api/resources.h"
#include "app.h"
#include "store/db.h"
#include "store/store.h"

static const struct param_spec no_params[] = {{NULL, 0, 0, 0, NULL, NULL}};

static const char SQL_PROBE[] = "SELECT 1";

static int probe_fn(struct db *db, void *p)
{
	(void)p;
	struct db_stmt *st = db_prepare(db, SQL_PROBE);
	if (!st)
		return -1;
	int rc = db_step(st);
	db_reset(st);
	return rc == DB_ROW ? 0 : -1;
}

static int answer(struct req *r, int status, const char *what, int shards)
{
	struct json *j = req_json(r);
	r->status = status;
	json_obj_open(j);
	json_kv_str(j, "status", what);
	if (shards > 0)
		json_kv_int(j, "shards", shards);
	json_obj_close(j);
	return 0;
}

static int h_health(struct req *r)
{
	struct app *app = r->app;
	if (atomic_load(&app->draining))
		return answer(r, 503, "draining", 0);
	if (!store_writable(app->store))
		return answer(r, 503, "store_failed", 0);
	if (store_each_shard_read(app->store, probe_fn, NULL) != 0)
		return answer(r, 503, "store_unreachable", 0);
	return answer(r, 200, "ok", store_shard_count(app->store));
}

const struct route health_routes[] = {
    {"GET", "/healthz", h_health, no_params, ROUTE_NO_AUTH},
    {NULL, NULL, NULL, NULL, 0},
};
