/*
 * POST /v1/account_sessions: a platform's session for Connect embedded components, made for one
 * of its connected accounts (`account`), with the components it asks for (components[x][enabled],
 * components[x][features][f]).
 *
 * The answer lists every component Stripe lists, each `enabled` false unless asked, with its
 * features at Stripe's defaults unless asked; a fresh random client_secret; expires_at 30
 * minutes on (Stripe's). Components of products Tender does not have (Issuing, Treasury's
 * financial accounts, Terminal hardware) cannot be enabled: Stripe's 400 for a platform not set
 * up for them.
 *
 * Nothing is stored: Tender serves no embedded component that would redeem the secret, so no
 * record of it (not even its hash) has a use; and as with customer sessions
 * (api/ephemeral_keys.c) the route keeps no Idempotency-Key record, which would hold the secret
 * in clear (ROUTE_READ_ONLY: a retried create makes a second session, which is harmless). Stripe
 * sends no event for an account session, nor does Tender. With a Stripe-Account header (a
 * connected account acting) it is refused, as only the platform makes them.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "api/accounts.h"
#include "api/common.h"
#include "api/resources.h"
#include "store/store.h"

#define ACCOUNT_SESSION_TTL_S 1800 /* Stripe's: 30 minutes */
#define SECRET_RANDOM_LEN 48
#define SECRET_PREFIX "accs_secret__"

/* ---- the components and their features, as Stripe lists them ---- */

/* Stripe's default of a feature not asked for: these are on, every other one off. */
static const char *const features_on[] = {
    "capture_payments",
    "dispute_management",
    "external_account_collection",
    "refund_management",
    "send_money",
    "transfer_balance",
    NULL,
};

/* Components of products Tender does not have: never enabled. */
static const char *const unavailable[] = {
    "financial_account",
    "financial_account_transactions",
    "issuing_card",
    "issuing_cards_list",
    "terminal_hardware_orders",
    "terminal_hardware_shop",
    NULL,
};

static bool listed(const char *const *names, const char *name)
{
	for (; *names; names++)
		if (strcmp(*names, name) == 0)
			return true;
	return false;
}

/* The parameter tables: one PT_BOOL per feature. */
#define FEAT(n)                                                                                    \
	{                                                                                          \
		n, PT_BOOL, 0, 0, NULL, NULL                                                       \
	}
#define END                                                                                        \
	{                                                                                          \
		NULL, 0, 0, 0, NULL, NULL                                                          \
	}
static const struct param_spec p_none[] = {END};
static const struct param_spec p_account[] = {FEAT("disable_stripe_user_authentication"),
					      FEAT("external_account_collection"), END};
static const struct param_spec p_payouts[] = {FEAT("disable_stripe_user_authentication"),
					      FEAT("edit_payout_schedule"),
					      FEAT("external_account_collection"),
					      FEAT("instant_payouts"),
					      FEAT("standard_payouts"),
					      END};
static const struct param_spec p_payments[] = {
    FEAT("capture_payments"),	       FEAT("destination_on_behalf_of_charge_management"),
    FEAT("dispute_management"),	       FEAT("refund_management"),
    FEAT("smart_disputes_management"), END};
static const struct param_spec p_payment_disputes[] = {
    FEAT("destination_on_behalf_of_charge_management"), FEAT("dispute_management"),
    FEAT("refund_management"), FEAT("smart_disputes_management"), END};
static const struct param_spec p_financial_account[] = {
    FEAT("disable_stripe_user_authentication"), FEAT("external_account_collection"),
    FEAT("send_money"), FEAT("transfer_balance"), END};
static const struct param_spec p_fa_transactions[] = {FEAT("card_spend_dispute_management"), END};
static const struct param_spec p_instant_promo[] = {FEAT("disable_stripe_user_authentication"),
						    FEAT("external_account_collection"),
						    FEAT("instant_payouts"), END};
static const struct param_spec p_issuing_card[] = {
    FEAT("card_management"), FEAT("card_spend_dispute_management"), FEAT("cardholder_management"),
    FEAT("spend_control_management"), END};
static const struct param_spec p_issuing_list[] = {
    FEAT("card_management"),	      FEAT("card_spend_dispute_management"),
    FEAT("cardholder_management"),    FEAT("disable_stripe_user_authentication"),
    FEAT("spend_control_management"), END};
static const struct param_spec p_pm_settings[] = {FEAT("disable_stripe_user_authentication"), END};

/* components[x]: enabled (required, as Stripe's base_config_param), features */
#define CONFIG(id, feats)                                                                          \
	static const struct param_spec id[] = {{"enabled", PT_BOOL, PF_REQUIRED, 0, NULL, NULL},   \
					       {"features", PT_OBJECT, 0, 0, NULL, feats},         \
					       END}
CONFIG(c_none, p_none);
CONFIG(c_account, p_account);
CONFIG(c_payouts, p_payouts);
CONFIG(c_payments, p_payments);
CONFIG(c_payment_disputes, p_payment_disputes);
CONFIG(c_financial_account, p_financial_account);
CONFIG(c_fa_transactions, p_fa_transactions);
CONFIG(c_instant_promo, p_instant_promo);
CONFIG(c_issuing_card, p_issuing_card);
CONFIG(c_issuing_list, p_issuing_list);
CONFIG(c_pm_settings, p_pm_settings);

/* In Stripe's (alphabetical) order; the answer lists them all. */
#define COMP(n, c)                                                                                 \
	{                                                                                          \
		n, PT_OBJECT, 0, 0, NULL, c                                                        \
	}
static const struct param_spec components_params[] = {
    COMP("account_management", c_account),
    COMP("account_onboarding", c_account),
    COMP("balance_report", c_none),
    COMP("balances", c_payouts),
    COMP("disputes_list", c_payments),
    COMP("documents", c_none),
    COMP("financial_account", c_financial_account),
    COMP("financial_account_transactions", c_fa_transactions),
    COMP("instant_payouts_promotion", c_instant_promo),
    COMP("issuing_card", c_issuing_card),
    COMP("issuing_cards_list", c_issuing_list),
    COMP("notification_banner", c_account),
    COMP("payment_details", c_payments),
    COMP("payment_disputes", c_payment_disputes),
    COMP("payment_method_settings", c_pm_settings),
    COMP("payments", c_payments),
    COMP("payout_details", c_none),
    COMP("payout_reconciliation_report", c_none),
    COMP("payouts", c_payouts),
    COMP("payouts_list", c_none),
    COMP("reporting_chart", c_none),
    COMP("tax_registrations", c_none),
    COMP("tax_settings", c_none),
    COMP("terminal_hardware_orders", c_none),
    COMP("terminal_hardware_shop", c_none),
    END,
};

static const struct param_spec create_params[] = {
    {"account", PT_STRING, PF_REQUIRED, 255, NULL, NULL},
    {"components", PT_OBJECT, PF_REQUIRED, 0, NULL, components_params},
    END,
};

/* ---- create ---- */

struct create_ctx {
	struct req *r;
	const char *account;
};

static int account_fn(struct db *db, void *p)
{
	struct create_ctx *c = p;
	struct req *r = c->r;
	struct account_due due;
	int rc = accounts_due(r, db, r->merchant_id, c->account, &due);
	if (rc == DB_NOTFOUND) /* not one of the caller's connected accounts */
		return req_fail(r, ERR_PARAM_RESOURCE_MISSING, "account", "No such account: '%s'",
				c->account);
	return rc == DB_OK ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

/* components[k]: enabled as asked (else false), each feature as asked (else Stripe's default) */
static void render_component(struct req *r, const struct param_spec *k, struct json *j)
{
	char path[128];
	snprintf(path, sizeof(path), "components.%s.enabled", k->name);
	bool enabled = false;
	param_bool(r, path, &enabled);
	json_key(j, k->name);
	json_obj_open(j);
	json_kv_bool(j, "enabled", enabled);
	json_key(j, "features");
	json_obj_open(j);
	/* the component's table: enabled, then features with its feature table */
	for (const struct param_spec *f = k->children[1].children; f->name; f++) {
		bool on = listed(features_on, f->name);
		snprintf(path, sizeof(path), "components.%s.features.%s", k->name, f->name);
		param_bool(r, path, &on);
		json_kv_bool(j, f->name, on);
	}
	json_obj_close(j);
	json_obj_close(j);
}

static int h_create(struct req *r)
{
	if (r->platform_id[0])
		return req_fail(r, ERR_PARAM_BAD, NULL,
				"Account sessions are made by the account's platform: send this "
				"request without the Stripe-Account header.");
	struct create_ctx c = {.r = r, .account = param_str(r, "account")};
	for (const struct param_spec *k = components_params; k->name; k++) {
		char path[128];
		bool enabled = false;
		snprintf(path, sizeof(path), "components.%s.enabled", k->name);
		if (listed(unavailable, k->name) && param_bool(r, path, &enabled) == 1 && enabled)
			return req_fail(r, ERR_PARAM_BAD,
					arena_printf(&r->arena, "components[%s][enabled]", k->name),
					"The %s component is not available: this platform is not "
					"set up for the product it belongs to.",
					k->name);
	}
	if (req_read(r, account_fn, &c) != 0)
		return -1;
	char rnd[SECRET_RANDOM_LEN + 1];
	id_random_base62(rnd, SECRET_RANDOM_LEN);
	rnd[SECRET_RANDOM_LEN] = '\0';
	const char *secret = arena_printf(&r->arena, SECRET_PREFIX "%s", rnd);
	if (!secret)
		return req_fail(r, ERR_API, NULL, NULL);
	struct json *j = req_json(r);
	json_obj_open(j);
	json_kv_str(j, "object", "account_session");
	json_kv_str(j, "account", c.account);
	/* the secret leaves only in this answer */
	json_kv_str(j, "client_secret", secret);
	json_key(j, "components");
	json_obj_open(j);
	for (const struct param_spec *k = components_params; k->name; k++)
		render_component(r, k, j);
	json_obj_close(j);
	json_kv_int(j, "expires_at", r->now + ACCOUNT_SESSION_TTL_S);
	json_kv_bool(j, "livemode", r->livemode);
	json_obj_close(j);
	return 0;
}

const struct route account_sessions_routes[] = {
    /* ROUTE_READ_ONLY: no Idempotency-Key record, which would keep the secret (see above) */
    {"POST", "/v1/account_sessions", h_create, create_params, ROUTE_READ_ONLY},
    {NULL, NULL, NULL, NULL, 0},
};
