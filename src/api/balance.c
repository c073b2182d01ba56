/* GET /v1/balance: Σ net of the merchant's balance transactions per currency and status. */
#include "api/resources.h"
#include "ledger/ledger.h"

static const struct param_spec no_params[] = {{NULL, 0, 0, 0, NULL, NULL}};

static int balance_fn(struct db *db, void *p)
{
	struct req *r = p;
	if (ledger_balance_render(db, r->merchant_id, r->livemode, req_json(r)) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	return 0;
}

static int h_balance(struct req *r)
{
	return req_read(r, balance_fn, r) == 0 ? 0 : -1;
}

const struct route balance_routes[] = {
    {"GET", "/v1/balance", h_balance, no_params, 0},
    {NULL, NULL, NULL, NULL, 0},
};
