/*
 * GET /v1/balance. Until the ledger lands (issue 5) there are no balance transactions, so the
 * balance is empty, exactly as Stripe shows a new account: available and pending are empty lists.
 */
#include "api/resources.h"

static const struct param_spec no_params[] = {{NULL, 0, 0, 0, NULL, NULL}};

static int h_balance(struct req *r)
{
	struct json *j = req_json(r);
	json_obj_open(j);
	json_kv_str(j, "object", "balance");
	json_key(j, "available");
	json_arr_open(j);
	json_arr_close(j);
	json_kv_bool(j, "livemode", r->livemode);
	json_key(j, "pending");
	json_arr_open(j);
	json_arr_close(j);
	json_obj_close(j);
	return 0;
}

const struct route balance_routes[] = {
    {"GET", "/v1/balance", h_balance, no_params, 0},
    {NULL, NULL, NULL, NULL, 0},
};
