/*
 * The Connect terms of a payment as its requests name them (payments_connect.h). The money moves
 * in payments/flow.c (connect_settle) and payments/connect.c; this file only checks what a
 * request asks for, the same way for a PaymentIntent and a charge of the Charges API.
 */
#include "api/payments_connect.h"

#include <string.h>

#include "api/common.h"
#include "app.h"
#include "merchant/connect.h"
#include "merchant/merchant.h"
#include "money/fx.h"
#include "payments/connect.h"

int payments_connect_check_terms(struct req *r, const struct payment_connect *c, int64_t amount,
				 const struct connect_params *p)
{
	if (c->transfer_amount && !c->destination)
		return req_fail(r, ERR_PARAM_BAD, p->transfer_amount_param, "%s needs %s.",
				p->transfer_amount_param, p->destination_param);
	/* an application fee is a platform's: on a destination charge, or on a direct charge it
	 * makes on its connected account through Stripe-Account */
	if (c->application_fee_amount && !c->destination && !r->platform_id[0])
		return req_fail(r, ERR_PARAM_BAD, p->fee_param,
				"Can only apply an %s when the %s is attempting a direct payment "
				"(using an OAuth key or Stripe-Account header) or destination "
				"payment (using `%s`).",
				p->fee_param, p->object, p->destination_param);
	if (c->application_fee_amount && c->transfer_amount)
		return req_fail(r, ERR_PARAM_BAD, p->fee_param,
				"You may only specify one of these parameters: %s, %s.",
				p->fee_param, p->transfer_amount_param);
	if (c->application_fee_amount < 0 || c->application_fee_amount > amount)
		return req_fail(r, ERR_PARAM_BAD, p->fee_param,
				"The application fee must be between 0 and the amount (%lld).",
				(long long)amount);
	if (c->transfer_amount < 0 || c->transfer_amount > amount)
		return req_fail(r, ERR_PARAM_BAD, p->transfer_amount_param,
				"The amount to transfer must be between 1 and the amount (%lld).",
				(long long)amount);
	return 0;
}

struct accounts_check {
	struct req *r;
	const struct payment_connect *c;
	const char *currency;
	const struct connect_params *p;
};

/* A destination settling in another currency than the one its transfer will be in (the
 * platform's settlement currency, or the charge's when the platform converts nothing) gets the
 * transfer converted at capture (payments/connect.h): Tender must have a rate for that pair,
 * or the payment would be taken and its transfer refused. */
static int destination_rate_check(struct req *r, struct db *db, const struct accounts_check *x)
{
	struct merchant_terms terms;
	char settle[8];
	if (merchant_terms_get(db, r->merchant_id, &terms) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	const char *from = terms.settlement_currency[0] ? terms.settlement_currency : x->currency;
	if (connect_settlement_currency(db, x->c->destination, from, settle) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (strcmp(settle, from) == 0)
		return 0;
	struct fx_table *fx = app_fx_acquire(r->app);
	struct fx_rate rate;
	bool ok = fx && fx_lookup(fx, from, settle, r->now, &rate) == 0;
	fx_table_free(fx);
	if (ok)
		return 0;
	return req_fail(r, ERR_PARAM_BAD, x->p->destination_param,
			"Tender has no exchange rate from %s into %s, the currency the destination "
			"account %s settles in.",
			from, settle, x->c->destination);
}

int payments_connect_accounts_usable(struct req *r, struct db *db, const char *destination,
				     const char *destination_param, const char *on_behalf_of)
{
	const char *accounts[2] = {destination, on_behalf_of};
	const char *params[2] = {destination_param, "on_behalf_of"};
	for (int i = 0; i < 2; i++) {
		if (!accounts[i])
			continue;
		int rc = connect_account_usable(db, r->merchant_id, accounts[i]);
		if (rc == DB_NOTFOUND)
			return req_fail(r, ERR_PARAM_BAD, params[i],
					"No such destination: '%s': it is not a connected account "
					"of yours.",
					accounts[i]);
		if (rc == CONNECT_REJECTED)
			return req_fail(r, ERR_TRANSFER_CAPABILITIES, params[i],
					"The connected account %s was rejected: it can take no "
					"payments.",
					accounts[i]);
		if (rc != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
	}
	return 0;
}

int payments_connect_check_accounts_db(struct req *r, struct db *db,
				       const struct payment_connect *c, const char *currency,
				       const struct connect_params *p)
{
	struct accounts_check x = {r, c, currency, p};
	if (payments_connect_accounts_usable(r, db, c->destination, p->destination_param,
					     c->on_behalf_of) != 0)
		return -1;
	return c->destination ? destination_rate_check(r, db, &x) : 0;
}

static int accounts_check_fn(struct db *db, void *p)
{
	struct accounts_check *x = p;
	return payments_connect_check_accounts_db(x->r, db, x->c, x->currency, x->p);
}

int payments_connect_check_accounts(struct req *r, const struct payment_connect *c,
				    const char *currency, const struct connect_params *p)
{
	if (!c->destination && !c->on_behalf_of)
		return 0;
	struct accounts_check x = {r, c, currency, p};
	return req_read(r, accounts_check_fn, &x);
}

int payments_connect_at_capture(struct req *r, struct payment_connect *c, int64_t amount,
				bool legacy_fee, const char *object)
{
	const char *fee_param = "application_fee_amount";
	if (legacy_fee && param_present(r, "application_fee")) {
		if (param_present(r, "application_fee_amount"))
			return req_fail(r, ERR_PARAM_BAD, "application_fee",
					"You may only specify one of these parameters: "
					"application_fee, application_fee_amount.");
		fee_param = "application_fee";
	}
	bool fee = param_present(r, fee_param);
	bool transfer = param_present(r, "transfer_data.amount");
	if (!fee && !transfer)
		return 0;
	struct payment_connect next = *c;
	if (fee) {
		next.application_fee_amount = 0;
		param_int(r, fee_param, &next.application_fee_amount);
	}
	if (transfer) {
		next.transfer_amount = 0;
		param_int(r, "transfer_data.amount", &next.transfer_amount);
	}
	if (transfer && !next.destination)
		return req_fail(r, ERR_PARAM_BAD, "transfer_data[amount]",
				"This %s is not a destination charge: it has no transfer to set "
				"the amount of.",
				object);
	const struct connect_params p = {object, "transfer_data[destination]", fee_param,
					 "transfer_data[amount]"};
	/* the terms after this request, checked as on create (a fee beside transfer_data[amount]
	 * is refused there too, not one silently dropped for the other) */
	if (payments_connect_check_terms(r, &next, amount, &p) != 0)
		return -1;
	*c = next;
	return 0;
}
