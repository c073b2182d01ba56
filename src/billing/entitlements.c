/*
 * Keeping a customer's active entitlements equal to what its subscriptions give (see
 * entitlements.h). The set is computed by one query over the store (subscriptions in status
 * active, trialing, past_due or paused → their items → the items' prices → the prices' products →
 * the products' features), never from what a caller believes changed, so every path that changes a
 * subscription (create, item changes, status changes by payments and the scheduler,
 * cancellation) and every attach or detach of a feature end in the same answer.
 *
 * Which statuses grant: those of a subscription that lasts, active, trialing, past_due (its
 * payment is being retried) and paused (a trial ended without a payment method: Stripe keeps
 * the entitlements of a paused subscription); incomplete (never started), incomplete_expired,
 * unpaid and canceled give none. Stripe's docs: a customer keeps its entitlements "as long as
 * [it] maintains an active subscription". A feature that is
 * archived keeps the entitlements it gives (archiving only stops new attachments).
 *
 * Sets are compared sorted by feature id in C (strcmp), not by the store's ORDER BY, whose
 * collation differs between SQLite and PostgreSQL.
 */
#include "billing/entitlements.h"

#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/str.h"

#define SUMMARY_URL "/v1/entitlements/active_entitlements"

static const char SQL_WANT[] =
    "SELECT DISTINCT pf.feature, f.lookup_key FROM subscriptions s"
    " JOIN subscription_items si ON si.merchant_id = s.merchant_id AND si.subscription = s.id"
    " JOIN prices p ON p.merchant_id = si.merchant_id AND p.id = si.price"
    " JOIN product_features pf ON pf.merchant_id = p.merchant_id AND pf.product = p.product"
    " JOIN entitlement_features f ON f.merchant_id = pf.merchant_id AND f.id = pf.feature"
    " WHERE s.merchant_id = $1 AND s.customer = $2 AND s.status IN ('active', 'trialing',"
    " 'past_due', 'paused')"
    " LIMIT $3";
static const char SQL_HAVE[] =
    "SELECT ae.id, ae.feature, f.lookup_key FROM active_entitlements ae"
    " JOIN entitlement_features f ON f.merchant_id = ae.merchant_id AND f.id = ae.feature"
    " WHERE ae.merchant_id = $1 AND ae.customer = $2 LIMIT $3";
static const char SQL_INSERT[] =
    "INSERT INTO active_entitlements (merchant_id, id, created, customer, feature)"
    " VALUES ($1, $2, $3, $4, $5)";
static const char SQL_DELETE[] =
    "DELETE FROM active_entitlements WHERE merchant_id = $1 AND id = $2";
/* with the time of the customer's test clock, if any (its events carry the clock's time) */
static const char SQL_PRODUCT_CUSTOMERS[] =
    "SELECT DISTINCT s.customer, c.frozen_time, c.status FROM subscriptions s"
    " JOIN subscription_items si ON si.merchant_id = s.merchant_id AND si.subscription = s.id"
    " JOIN prices p ON p.merchant_id = si.merchant_id AND p.id = si.price"
    " LEFT JOIN test_clocks c ON c.merchant_id = s.merchant_id AND c.id = s.test_clock"
    " WHERE s.merchant_id = $1 AND p.product = $2 AND s.status IN ('active', 'trialing',"
    " 'past_due', 'paused')"
    " LIMIT $3";

static int cmp_feature(const void *a, const void *b)
{
	return strcmp(((const struct entitlement *)a)->feature,
		      ((const struct entitlement *)b)->feature);
}

void entitlements_sort(struct entitlement *e, int n)
{
	if (n > 1)
		qsort(e, (size_t)n, sizeof(*e), cmp_feature);
}

int entitlements_diff(const struct entitlement *want, int n_want, const struct entitlement *have,
		      int n_have, int *ret_add, int *ret_n_add, int *ret_del, int *ret_n_del)
{
	int i = 0, k = 0, na = 0, nd = 0;
	while (i < n_want || k < n_have) {
		int c = i >= n_want   ? 1
			: k >= n_have ? -1
				      : strcmp(want[i].feature, have[k].feature);
		if (c < 0) {
			ret_add[na++] = i++;
		} else if (c > 0) {
			ret_del[nd++] = k++;
		} else {
			i++;
			k++;
		}
	}
	*ret_n_add = na;
	*ret_n_del = nd;
	return na + nd;
}

void entitlement_render(struct json *j, const struct entitlement *e, bool livemode)
{
	json_obj_open(j);
	json_kv_str(j, "id", e->id);
	json_kv_str(j, "object", "entitlements.active_entitlement");
	json_kv_str(j, "feature", e->feature);
	json_kv_bool(j, "livemode", livemode);
	json_kv_str(j, "lookup_key", e->lookup_key);
	json_obj_close(j);
}

/* {"object":"list",…} of n entitlements (the set before a change, in previous_attributes) */
static void list_render(struct json *j, const struct entitlement *e, int n, bool livemode)
{
	json_obj_open(j);
	json_kv_str(j, "object", "list");
	json_key(j, "data");
	json_arr_open(j);
	for (int i = 0; i < n; i++)
		entitlement_render(j, &e[i], livemode);
	json_arr_close(j);
	json_kv_bool(j, "has_more", false);
	json_kv_str(j, "url", SUMMARY_URL);
	json_obj_close(j);
}

/* Reads up to ENTITLEMENTS_MAX rows of sql ($1 merchant, $2 customer, $3 limit) into e:
 * columns (feature, lookup_key) or, with ids, (id, feature, lookup_key). The count, or < 0. */
static int read_set(struct db *db, const char *sql, const char *merchant_id, const char *customer,
		    bool ids, struct entitlement *e)
{
	struct db_stmt *st = db_prepare(db, sql);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, customer, -1);
	db_bind_int64(st, 3, ENTITLEMENTS_MAX);
	int n = 0, rc;
	while ((rc = db_step(st)) == DB_ROW && n < ENTITLEMENTS_MAX) {
		struct entitlement *x = &e[n++];
		memset(x, 0, sizeof(*x));
		int c = 0;
		if (ids)
			str_copy(x->id, sizeof(x->id), db_col_text(st, c++, NULL));
		str_copy(x->feature, sizeof(x->feature), db_col_text(st, c++, NULL));
		str_copy(x->lookup_key, sizeof(x->lookup_key), db_col_text(st, c, NULL));
	}
	db_reset(st);
	if (rc < 0)
		return rc;
	entitlements_sort(e, n);
	return n;
}

static int row_write(struct db *db, const char *sql, const char *merchant_id,
		     const struct entitlement *e, const char *customer, int64_t created)
{
	struct db_stmt *st = db_prepare(db, sql);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, e->id, -1);
	if (customer) {
		db_bind_int64(st, 3, created);
		db_bind_text(st, 4, customer, -1);
		db_bind_text(st, 5, e->feature, -1);
	}
	return db_step_done(st);
}

/* The summary of the set after the change: have less the removed, plus want's added. */
static void summary_render(struct json *j, const char *customer, const struct entitlement *have,
			   int n_have, const bool *gone, const struct entitlement *want,
			   const int *add, int n_add, bool livemode)
{
	json_obj_open(j);
	json_kv_str(j, "object", "entitlements.active_entitlement_summary");
	json_kv_str(j, "customer", customer);
	json_key(j, "entitlements");
	json_obj_open(j);
	json_kv_str(j, "object", "list");
	json_key(j, "data");
	json_arr_open(j);
	for (int i = 0; i < n_have; i++)
		if (!gone[i])
			entitlement_render(j, &have[i], livemode);
	for (int i = 0; i < n_add; i++)
		entitlement_render(j, &want[add[i]], livemode);
	json_arr_close(j);
	json_kv_bool(j, "has_more", false);
	json_kv_str(j, "url", SUMMARY_URL);
	json_obj_close(j);
	json_kv_bool(j, "livemode", livemode);
	json_obj_close(j);
}

int entitlements_sync(struct db *db, const char *merchant_id, const char *customer,
		      const struct event_origin *origin, int64_t created)
{
	if (!customer || !*customer)
		return 0;
	/* want, have (ENTITLEMENTS_MAX each), then the index and mask arrays */
	struct entitlement *want = calloc(2 * ENTITLEMENTS_MAX, sizeof(*want));
	int *idx = calloc(2 * ENTITLEMENTS_MAX, sizeof(*idx));
	bool *gone = calloc(ENTITLEMENTS_MAX, sizeof(*gone));
	struct buf b, pb;
	buf_init(&b, 1u << 20);
	buf_init(&pb, 1u << 20);
	int rc = DB_ERR;
	if (!want || !idx || !gone)
		goto out;
	struct entitlement *have = want + ENTITLEMENTS_MAX;
	int *add = idx, *del = idx + ENTITLEMENTS_MAX;
	int n_want = read_set(db, SQL_WANT, merchant_id, customer, false, want);
	if (n_want < 0) {
		rc = n_want;
		goto out;
	}
	int n_have = read_set(db, SQL_HAVE, merchant_id, customer, true, have);
	if (n_have < 0) {
		rc = n_have;
		goto out;
	}
	int n_add = 0, n_del = 0;
	if (entitlements_diff(want, n_want, have, n_have, add, &n_add, del, &n_del) == 0) {
		rc = 0;
		goto out;
	}
	bool live = origin && origin->livemode;
	struct json pj;
	json_init(&pj, &pb);
	json_obj_open(&pj);
	json_key(&pj, "entitlements");
	list_render(&pj, have, n_have, live);
	json_obj_close(&pj);
	for (int i = 0; i < n_del; i++) {
		gone[del[i]] = true;
		if ((rc = row_write(db, SQL_DELETE, merchant_id, &have[del[i]], NULL, 0)) != DB_OK)
			goto out;
	}
	for (int i = 0; i < n_add; i++) {
		struct entitlement *e = &want[add[i]];
		id_new_at(e->id, "ent_", created);
		if ((rc = row_write(db, SQL_INSERT, merchant_id, e, customer, created)) != DB_OK)
			goto out;
	}
	struct json j;
	json_init(&j, &b);
	summary_render(&j, customer, have, n_have, gone, want, add, n_add, live);
	if (b.failed || pb.failed) {
		rc = DB_ERR;
		goto out;
	}
	rc =
	    event_append(db, merchant_id, origin, "entitlements.active_entitlement_summary.updated",
			 customer, b.data, b.len, buf_cstr(&pb), created, NULL) == DB_OK
		? 0
		: DB_ERR;
out:
	buf_release(&b);
	buf_release(&pb);
	free(want);
	free(idx);
	free(gone);
	return rc;
}

int entitlements_sync_product(struct db *db, const char *merchant_id, const char *product,
			      const struct event_origin *origin, int64_t created)
{
	/* the customers first, then one sync each: no statement is stepped inside another's */
	char(*cus)[ID_MAX] = calloc(ENTITLEMENTS_FANOUT_MAX + 1, sizeof(*cus));
	int64_t *at = calloc(ENTITLEMENTS_FANOUT_MAX + 1, sizeof(*at));
	if (!cus || !at) {
		free(cus);
		free(at);
		return DB_ERR;
	}
	struct db_stmt *st = db_prepare(db, SQL_PRODUCT_CUSTOMERS);
	int n = 0, rc = DB_ERR;
	if (st) {
		db_bind_text(st, 1, merchant_id, -1);
		db_bind_text(st, 2, product, -1);
		db_bind_int64(st, 3, ENTITLEMENTS_FANOUT_MAX + 1);
		while ((rc = db_step(st)) == DB_ROW && n <= ENTITLEMENTS_FANOUT_MAX) {
			const char *clock_status = db_col_text(st, 2, NULL);
			bool frozen = clock_status && strcmp(clock_status, "advancing") != 0;
			at[n] = frozen ? db_col_int64(st, 1) : created;
			str_copy(cus[n++], ID_MAX, db_col_text(st, 0, NULL));
		}
		db_reset(st);
	}
	if (rc >= 0)
		rc = n > ENTITLEMENTS_FANOUT_MAX ? 1 : 0;
	for (int i = 0; rc == 0 && i < n; i++)
		rc = entitlements_sync(db, merchant_id, cus[i], origin, at[i]);
	free(cus);
	free(at);
	return rc;
}
