/*
 * Cloning a platform's card PaymentMethod to one of its connected accounts (pm_clone.h), as
 * Stripe's "clone payment methods" for direct charges: the platform names its own PaymentMethod
 * (and, when that one is attached, the platform customer it is attached to) and acts as the
 * connected account with Stripe-Account; the answer is a new PaymentMethod of the connected
 * account, attached to no customer, whose card the vault sealed again for that account (the
 * number never leaves the vault). The platform's PaymentMethod is left as it was. Stripe's test
 * aliases (pm_card_visa) clone as what they stand for. Only cards are cloned.
 */
#include "api/pm_clone.h"

#include <string.h>

#include "app.h"
#include "core/str.h"
#include "api/common.h"
#include "store/store.h"
#include "vault/payment_method.h"

struct clone_ctx {
	struct req *r;
	const char *src, *customer, *metadata;
	char pm_id[ID_MAX], card_id[ID_MAX];
};

int pm_clone_card(struct req *r, struct db *db, const char *src_id, const char *customer,
		  const char *param, const char *card_id, struct vault_card_info *ret_info,
		  char ret_fingerprint[24], const char **ret_billing)
{
	struct pm_card src;
	int rc = pm_load(db, r->platform_id, src_id, &src);
	if (rc == DB_NOTFOUND)
		return req_fail(r, ERR_PARAM_RESOURCE_MISSING, param, "No such PaymentMethod: '%s'",
				src_id);
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (src.type[0] && strcmp(src.type, "card") != 0)
		return req_fail(r, ERR_PARAM_BAD, param,
				"Only cards can be cloned to a connected account; %s is a %s "
				"PaymentMethod.",
				src_id, src.type);
	if (src.detached)
		return req_fail(r, ERR_PARAM_BAD, param, PM_DETACHED_MESSAGE);
	/* Stripe asks for the customer an attached card belongs to, and refuses one it does not
	 * belong to */
	if (src.customer[0] && !customer)
		return req_fail(r, ERR_PARAM_MISSING, "customer",
				"The PaymentMethod %s is attached to a customer: customer is "
				"required to clone it.",
				src_id);
	if (customer && strcmp(customer, src.customer) != 0)
		return req_fail(r, ERR_PARAM_BAD, "customer",
				"The customer %s does not have a PaymentMethod with the ID %s.",
				customer, src_id);
	struct vault_card_info *info = ret_info;
	memset(info, 0, sizeof(*info));
	str_copy(info->brand, sizeof(info->brand), src.brand);
	str_copy(info->last4, sizeof(info->last4), src.last4);
	str_copy(info->iin, sizeof(info->iin), src.bin);
	str_copy(info->funding, sizeof(info->funding), src.funding);
	str_copy(info->country, sizeof(info->country), src.country);
	info->exp_month = src.exp_month;
	info->exp_year = src.exp_year;
	rc = vault_card_clone(r->app->vault, db, r->platform_id, src.card_id, r->merchant_id,
			      card_id, info, r->now, ret_fingerprint);
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	*ret_billing = NULL;
	if (src.has_billing &&
	    pm_billing_details(db, r->platform_id, src_id, &r->arena, ret_billing) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	return 0;
}

int pm_clone_allowed(struct req *r, const char *param)
{
	/* a platform's secret key only: a publishable key must not copy cards between accounts */
	if (r->publishable)
		return req_fail(r, ERR_PARAM_BAD, param,
				"Cloning a card to a connected account needs your secret key.");
	if (!r->platform_id[0])
		return req_fail(
		    r, ERR_PARAM_BAD, param,
		    "Cloning a card shares it with one of your connected accounts: send "
		    "the request with the Stripe-Account header naming that account.");
	return 0;
}

static int clone_fn(struct db *db, void *arg)
{
	struct clone_ctx *c = arg;
	struct req *r = c->r;
	if (vault_is_test_alias(c->src)) {
		/* an alias stands for the same test card in every account */
		if (c->customer)
			return req_fail(r, ERR_PARAM_BAD, "customer",
					"The PaymentMethod %s is attached to no customer.", c->src);
		int rc = pm_create_from_ref(db, r->app->vault, r->merchant_id, c->src, c->pm_id,
					    NULL, c->metadata, r->now);
		if (rc != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		return pm_render(db, r->merchant_id, c->pm_id, req_json(r)) == DB_OK
			   ? 0
			   : req_fail(r, ERR_API, NULL, NULL);
	}
	struct vault_card_info info;
	char fp[24];
	const char *billing = NULL;
	if (pm_clone_card(r, db, c->src, c->customer, "payment_method", c->card_id, &info, fp,
			  &billing) != 0)
		return -1;
	if (pm_insert(db, r->merchant_id, c->pm_id, c->card_id, &info, fp, billing, c->metadata,
		      NULL, r->now) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	pm_render_new(req_json(r), c->pm_id, &info, fp, billing, c->metadata, NULL, r->now);
	return 0;
}

int pm_clone_h_create(struct req *r)
{
	if (pm_clone_allowed(r, "payment_method") != 0)
		return -1;
	static const char *const other[] = {
	    "type",	  "card",   "sepa_debit",	 "us_bank_account", "ideal",
	    "bancontact", "affirm", "afterpay_clearpay", "klarna",	    "billing_details",
	    NULL};
	for (const char *const *k = other; *k; k++)
		if (param_present(r, *k))
			return req_fail(r, ERR_PARAM_BAD, *k,
					"%s cannot be given when cloning a PaymentMethod "
					"(payment_method): the clone is the same card.",
					*k);
	struct clone_ctx c = {.r = r, .src = param_str(r, "payment_method")};
	const char *cus = param_str(r, "customer");
	c.customer = cus && *cus ? cus : NULL;
	if (!c.src || !*c.src)
		return req_fail(r, ERR_PARAM_MISSING, "payment_method", "%s", "payment_method");
	if (metadata_apply(r, "{}", "metadata", &c.metadata) != 0)
		return -1;
	id_new(c.pm_id, "pm_");
	id_new(c.card_id, "card_");
	return req_write(r, clone_fn, &c);
}
