/*
 * /v1/payment_methods (type=card): create (publishable keys may), retrieve, update, list
 * (customer, type), attach, detach. The card number goes straight from the request to the vault;
 * only its public facts come back. card[token] (a tok_… or a test alias) and the pm_card_*
 * aliases Stripe accepts in test mode become stored PaymentMethods like any card. The /v1/tokens
 * handlers live in tokens.c and are routed from this file's table.
 *
 * A customer's legacy card sources (card_…, api/sources.c) are PaymentMethods too, as on
 * Stripe: a customer's list shows them among its pm_… (in creation order: the id bodies sort
 * by time whatever the prefix, core/id.h), and detaching one deletes the card as DELETE
 * /v1/customers/{id}/sources/{card} does (customer.source.deleted, payment_method.detached, the
 * default source moving on). A deleted card is gone for this API (404), while the charges that
 * name it still show it. A detached pm_… stays visible but never pays or attaches again.
 */
#include <stdio.h>
#include <string.h>

#include "api/common.h"
#include "api/financial_connections.h"
#include "api/list.h"
#include "api/pm_clone.h"
#include "api/resources.h"
#include "api/sources.h"
#include "api/sources_api.h"
#include "api/tokens.h"
#include "app.h"
#include "core/parse.h"
#include "core/str.h"
#include "events/events.h"
#include "http/form.h"
#include "payments/sepa.h"
#include "vault/card_source.h"
#include "vault/fc_institution.h"
#include "vault/ach.h"
#include "vault/iban.h"
#include "vault/payment_method.h"
#include "vault/vault.h"

static const char *const pm_types[] = {"card",	     "sepa_debit", "us_bank_account",	"ideal",
				       "bancontact", "affirm",	   "afterpay_clearpay", "klarna",
				       NULL};

/* Stripe's ideal[bank] values (vault/ideal.h has their BICs) */
static const char *const ideal_banks[] = {
    "abn_amro",	    "asn_bank",	    "bunq",	"handelsbanken",
    "ing",	    "knab",	    "moneyou",	"n26",
    "rabobank",	    "regiobank",    "revolut",	"sns_bank",
    "triodos_bank", "van_lanschot", "yoursafe", NULL};
static const struct param_spec ideal_children[] = {
    {"bank", PT_ENUM, 0, 0, ideal_banks, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec bancontact_children[] = {{NULL, 0, 0, 0, NULL, NULL}};
/* affirm and afterpay_clearpay: empty hashes, as Stripe takes them; klarna[dob] */
static const struct param_spec bnpl_children[] = {{NULL, 0, 0, 0, NULL, NULL}};
static const struct param_spec klarna_dob_children[] = {
    {"day", PT_INT, 0, 0, NULL, NULL},
    {"month", PT_INT, 0, 0, NULL, NULL},
    {"year", PT_INT, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec klarna_children[] = {
    {"dob", PT_OBJECT, 0, 0, NULL, klarna_dob_children},
    {NULL, 0, 0, 0, NULL, NULL},
};

static const struct param_spec ach_children[] = {
    {"account_holder_type", PT_ENUM, 0, 0, (const char *const[]){"individual", "company", NULL},
     NULL},
    {"account_number", PT_STRING, 0, 64, NULL, NULL},
    {"account_type", PT_ENUM, 0, 0, (const char *const[]){"checking", "savings", NULL}, NULL},
    {"routing_number", PT_STRING, 0, 64, NULL, NULL},
    {"financial_connections_account", PT_STRING, 0, 255, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};

static const struct param_spec sepa_children[] = {
    {"iban", PT_STRING, PF_REQUIRED, 64, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};

static const struct param_spec card_children[] = {
    {"number", PT_STRING, 0, 64, NULL, NULL},  {"exp_month", PT_STRING, 0, 4, NULL, NULL},
    {"exp_year", PT_STRING, 0, 4, NULL, NULL}, {"cvc", PT_STRING, 0, 8, NULL, NULL},
    {"token", PT_STRING, 0, 255, NULL, NULL},  {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec address_children[] = {
    {"city", PT_STRING, PF_EMPTYABLE, 200, NULL, NULL},
    {"country", PT_STRING, PF_EMPTYABLE, 2, NULL, NULL},
    {"line1", PT_STRING, PF_EMPTYABLE, 200, NULL, NULL},
    {"line2", PT_STRING, PF_EMPTYABLE, 200, NULL, NULL},
    {"postal_code", PT_STRING, PF_EMPTYABLE, 20, NULL, NULL},
    {"state", PT_STRING, PF_EMPTYABLE, 200, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec billing_children[] = {
    {"address", PT_OBJECT, PF_EMPTYABLE, 0, NULL, address_children},
    {"email", PT_STRING, PF_EMPTYABLE, 512, NULL, NULL},
    {"name", PT_STRING, PF_EMPTYABLE, 256, NULL, NULL},
    {"phone", PT_STRING, PF_EMPTYABLE, 50, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
/* type is required unless payment_method (a clone, pm_clone.c) is given */
static const char *const redisplays[] = {"always", "limited", "unspecified", NULL};
static const struct param_spec create_params[] = {
    {"type", PT_ENUM, 0, 0, pm_types, NULL},
    {"allow_redisplay", PT_ENUM, 0, 0, redisplays, NULL},
    {"card", PT_OBJECT, 0, 0, NULL, card_children},
    {"sepa_debit", PT_OBJECT, 0, 0, NULL, sepa_children},
    {"us_bank_account", PT_OBJECT, 0, 0, NULL, ach_children},
    {"ideal", PT_OBJECT, 0, 0, NULL, ideal_children},
    {"bancontact", PT_OBJECT, 0, 0, NULL, bancontact_children},
    {"affirm", PT_OBJECT, 0, 0, NULL, bnpl_children},
    {"afterpay_clearpay", PT_OBJECT, 0, 0, NULL, bnpl_children},
    {"klarna", PT_OBJECT, 0, 0, NULL, klarna_children},
    {"billing_details", PT_OBJECT, 0, 0, NULL, billing_children},
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {"customer", PT_STRING, 0, 255, NULL, NULL},
    {"payment_method", PT_STRING, 0, 255, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec card_update_children[] = {
    {"exp_month", PT_STRING, 0, 4, NULL, NULL},
    {"exp_year", PT_STRING, 0, 4, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec ach_update_children[] = {
    {"account_holder_type", PT_ENUM, 0, 0, (const char *const[]){"individual", "company", NULL},
     NULL},
    {"account_type", PT_ENUM, 0, 0, (const char *const[]){"checking", "savings", NULL}, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec update_params[] = {
    {"allow_redisplay", PT_ENUM, 0, 0, redisplays, NULL},
    {"billing_details", PT_OBJECT, 0, 0, NULL, billing_children},
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {"card", PT_OBJECT, 0, 0, NULL, card_update_children},
    {"us_bank_account", PT_OBJECT, 0, 0, NULL, ach_update_children},
    /* Stripe's hash has no parameters; Tender makes no Link PaymentMethods (update_fn) */
    {"link", PT_OBJECT, 0, 0, NULL, (const struct param_spec[]){{NULL, 0, 0, 0, NULL, NULL}}},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec list_params[] = {
    {"customer", PT_STRING, 0, 255, NULL, NULL},
    {"type", PT_ENUM, 0, 0, pm_types, NULL},
    {"allow_redisplay", PT_ENUM, 0, 0, redisplays, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec attach_params[] = {
    {"customer", PT_STRING, PF_REQUIRED, 255, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec no_params[] = {{NULL, 0, 0, 0, NULL, NULL}};
/* billing_details JSON from params (absent → old). */
static int billing_from_params(struct req *r, const char *old, const char **ret)
{
	const struct form_node *n = param_node(r, "billing_details");
	*ret = old;
	if (!n)
		return 0;
	const char *addr = NULL;
	if (address_from_params(r, "billing_details.address", &addr) != 0)
		return -1;
	struct buf b;
	struct json j;
	buf_init(&b, 64 * 1024);
	json_init(&j, &b);
	json_obj_open(&j);
	json_kv_raw(&j, "address",
		    addr ? addr
			 : "{\"city\":null,\"country\":null,\"line1\":null,\"line2\":null,"
			   "\"postal_code\":null,\"state\":null}",
		    strlen(addr ? addr
				: "{\"city\":null,\"country\":null,\"line1\":null,\"line2\":null,"
				  "\"postal_code\":null,\"state\":null}"));
	static const char *const fields[] = {"email", "name", "phone", NULL};
	for (const char *const *f = fields; *f; f++) {
		char path[64];
		snprintf(path, sizeof(path), "billing_details.%s", *f);
		const char *v = param_str(r, path);
		json_kv_str_or_null(&j, *f, v && *v ? v : NULL);
	}
	json_kv_null(&j, "tax_id");
	json_obj_close(&j);
	*ret = b.failed ? NULL : arena_strdup(&r->arena, buf_cstr(&b));
	buf_release(&b);
	return 0;
}

struct create_ctx {
	struct req *r;
	struct vault_card_info info;
	struct vault_sealed_card sealed;
	const char *number; /* card[number], for the write when the card was not presealed */
	const char *token;  /* card[token]: tok_… or a test alias, instead of a number */
	char pm_id[ID_MAX];
	char card_id[ID_MAX];
	const char *billing;
	const char *metadata;
	/* type=sepa_debit: the IBAN checked and normalised (wiped after the write) */
	bool sepa;
	char iban[IBAN_MAX + 1];
	struct iban_info iban_info;
	/* type=us_bank_account: routing and account numbers checked (the account wiped after) */
	bool ach;
	char routing[ACH_ROUTING_LEN + 1];
	char account[ACH_ACCOUNT_MAX + 1];
	const char *holder_type, *account_type;
	/* us_bank_account[financial_connections_account]: the linked account (fca_…) the number
	 * comes from (the vault's, read in the write), or NULL */
	const char *fca;
	/* type=ideal / bancontact / affirm / afterpay_clearpay / klarna: nothing to seal (the
	 * customer authorizes at their bank or lender) */
	const char *redirect_type;
	const char *ideal_bank;	     /* ideal[bank], or NULL */
	const char *klarna_dob;	     /* klarna[dob] as the object's JSON, or NULL */
	const char *allow_redisplay; /* allow_redisplay given, or NULL (unspecified) */
};

/* us_bank_account[financial_connections_account]: the account's number, routing number and
 * type come from the linked account (fc_pm_number, in the write), so none of them may be given.
 * 0, or -1 with r->err. */
static int fc_pm_prepare(struct req *r, struct create_ctx *c)
{
	const char *fca = param_str(r, "us_bank_account.financial_connections_account");
	if (!fca)
		return 0;
	if (!*fca)
		return req_fail(
		    r, ERR_PARAM_BAD, "us_bank_account[financial_connections_account]",
		    "You passed an empty string for "
		    "'us_bank_account[financial_connections_account]'. We assume empty "
		    "values are an attempt to unset a parameter; however "
		    "'us_bank_account[financial_connections_account]' cannot be unset.");
	static const char *const given[] = {"routing_number", "account_number", "account_type"};
	for (size_t i = 0; i < sizeof(given) / sizeof(given[0]); i++) {
		char path[64];
		snprintf(path, sizeof(path), "us_bank_account.%s", given[i]);
		if (param_present(r, path))
			return req_fail(r, ERR_PARAM_BAD,
					arena_printf(&r->arena, "us_bank_account[%s]", given[i]),
					"us_bank_account[%s] cannot be given with "
					"us_bank_account[financial_connections_account].",
					given[i]);
	}
	const char *ht = param_str(r, "us_bank_account.account_holder_type");
	c->holder_type = ht && *ht ? ht : "individual";
	c->fca = fca;
	c->ach = true;
	return 0;
}

/* In the write: the linked account's number (the vault's test institution), routing number and
 * type. 0, or -1 with r->err. */
static int fc_pm_number(struct req *r, struct db *db, struct create_ctx *c)
{
	char key[32];
	const char *sub = NULL;
	if (fc_payment_method_account(
		r, db, c->fca, "us_bank_account[financial_connections_account]", key, &sub) != 0)
		return -1;
	if (fc_test_account_number(key, c->account) != 0)
		return req_fail(r, ERR_API, NULL, NULL);
	str_copy(c->routing, sizeof(c->routing), FC_TEST_ROUTING);
	c->account_type = sub;
	return 0;
}

static int create_row(struct db *db, struct create_ctx *c);

/* The PaymentMethod stored (and rendered); an allow_redisplay given is set on the row in the
 * same write and the object read back with it. */
static int create_fn(struct db *db, void *p)
{
	struct create_ctx *c = p;
	struct req *r = c->r;
	if (create_row(db, c) != 0)
		return -1;
	if (!c->allow_redisplay || strcmp(c->allow_redisplay, "unspecified") == 0)
		return 0;
	if (pm_set_allow_redisplay(db, r->merchant_id, c->pm_id, c->allow_redisplay, false) !=
		DB_OK ||
	    pm_render(db, r->merchant_id, c->pm_id, req_json(r)) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	return 0;
}

static int create_row(struct db *db, struct create_ctx *c)
{
	struct req *r = c->r;
	if (c->redirect_type) {
		int rc = pm_insert_redirect(db, r->merchant_id, c->pm_id, c->redirect_type,
					    c->ideal_bank, c->klarna_dob, c->billing, c->metadata,
					    r->now, req_json(r));
		return rc == DB_OK ? 0 : req_fail(r, ERR_API, NULL, NULL);
	}
	if (c->ach) {
		if (c->fca && fc_pm_number(r, db, c) != 0)
			return -1;
		char fp[24];
		int rc = vault_ach_store(r->app->vault, db, r->merchant_id, c->card_id, c->routing,
					 c->account, r->now, fp);
		if (rc != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		size_t n = strlen(c->account);
		struct pm_bank b = {.type = "us_bank_account",
				    .secret_id = c->card_id,
				    .last4 = c->account + n - 4,
				    .fingerprint = fp,
				    .behavior = (int)ach_test_behavior(c->routing, c->account),
				    .routing = c->routing,
				    .holder_type = c->holder_type,
				    .account_type = c->account_type,
				    .fc_account = c->fca};
		rc = pm_insert_bank(db, r->merchant_id, c->pm_id, &b, c->billing, c->metadata,
				    r->now, req_json(r));
		/* an account linked through Financial Connections is verified: no microdeposits */
		if (rc == DB_OK && c->fca)
			rc = pm_mark_set_up(db, r->merchant_id, c->pm_id);
		return rc == DB_OK ? 0 : req_fail(r, ERR_API, NULL, NULL);
	}
	if (c->sepa) {
		/* the IBAN is sealed like a card number (its id in card_id); only its public
		 * facts reach payment_methods */
		char fp[24];
		int rc = vault_iban_store(r->app->vault, db, r->merchant_id, c->card_id, c->iban,
					  r->now, fp);
		if (rc != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		struct pm_bank b = {.type = "sepa_debit",
				    .secret_id = c->card_id,
				    .last4 = c->iban_info.last4,
				    .fingerprint = fp,
				    .behavior = (int)iban_test_behavior(c->iban),
				    .country = c->iban_info.country,
				    .bank_code = c->iban_info.bank_code,
				    .branch_code = c->iban_info.branch_code};
		rc = pm_insert_bank(db, r->merchant_id, c->pm_id, &b, c->billing, c->metadata,
				    r->now, req_json(r));
		return rc == DB_OK ? 0 : req_fail(r, ERR_API, NULL, NULL);
	}
	if (c->token) {
		int rc = pm_create_from_ref(db, r->app->vault, r->merchant_id, c->token, c->pm_id,
					    c->billing, c->metadata, r->now);
		if (rc == DB_NOTFOUND)
			return req_fail_missing(r, "token", c->token, "card[token]");
		if (rc == VAULT_ERR_TOKEN_USED)
			return req_fail(r, ERR_TOKEN_USED, "card[token]", "%s", c->token);
		if (rc != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
	} else {
		char fp[24];
		int rc = vault_card_store(r->app->vault, db, r->merchant_id, c->card_id, c->number,
					  &c->sealed, &c->info, r->now, fp);
		if (rc != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		if (pm_insert(db, r->merchant_id, c->pm_id, c->card_id, &c->info, fp, c->billing,
			      c->metadata, NULL, r->now) != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		pm_render_new(req_json(r), c->pm_id, &c->info, fp, c->billing, c->metadata, NULL,
			      r->now);
		return 0;
	}
	return pm_render(db, r->merchant_id, c->pm_id, req_json(r)) == DB_OK
		   ? 0
		   : req_fail(r, ERR_API, NULL, NULL);
}

/* Validates a create's card, billing details and metadata (at the paths of r->params) and seals
 * the card, before the write. 0, or -1 with r->err. */
static int klarna_dob_param(struct req *r, const char **ret);

static int create_prepare(struct req *r, struct create_ctx *c)
{
	memset(c, 0, sizeof(*c));
	c->r = r;
	c->allow_redisplay = param_str(r, "allow_redisplay");
	const char *type = param_str(r, "type");
	if (type && strcmp(type, "sepa_debit") == 0) {
		if (param_present(r, "card"))
			return req_fail(r, ERR_PARAM_BAD, "card",
					"card cannot be given with type=sepa_debit.");
		if (!param_present(r, "sepa_debit"))
			return req_fail(r, ERR_PARAM_MISSING, "sepa_debit", "%s", "sepa_debit");
		/* Stripe's SEPA mandates need the account holder's name and email */
		const char *name = param_str(r, "billing_details.name");
		const char *email = param_str(r, "billing_details.email");
		if (!name || !*name)
			return req_fail(r, ERR_PARAM_MISSING, "billing_details[name]", "%s",
					"billing_details[name]");
		if (!email || !*email)
			return req_fail(r, ERR_PARAM_MISSING, "billing_details[email]", "%s",
					"billing_details[email]");
		if (iban_check(param_str(r, "sepa_debit.iban"), c->iban, &c->iban_info) != 0)
			return req_fail(r, ERR_IBAN_INVALID, "sepa_debit[iban]", NULL);
		c->sepa = true;
	} else if (param_present(r, "sepa_debit")) {
		return req_fail(r, ERR_PARAM_BAD, "sepa_debit",
				"sepa_debit can only be given with type=sepa_debit.");
	}
	if (type && strcmp(type, "us_bank_account") == 0) {
		if (param_present(r, "card"))
			return req_fail(r, ERR_PARAM_BAD, "card",
					"card cannot be given with type=us_bank_account.");
		if (!param_present(r, "us_bank_account"))
			return req_fail(r, ERR_PARAM_MISSING, "us_bank_account", "%s",
					"us_bank_account");
		/* Stripe's ACH mandates need the account holder's name */
		const char *name = param_str(r, "billing_details.name");
		if (!name || !*name)
			return req_fail(r, ERR_PARAM_MISSING, "billing_details[name]", "%s",
					"billing_details[name]");
		if (fc_pm_prepare(r, c) != 0)
			return -1;
	}
	if (type && strcmp(type, "us_bank_account") == 0 && !c->fca) {
		/* the account entered by hand (a linked one's facts are read in the write) */
		static const char *const need[] = {"account_holder_type", "routing_number",
						   "account_number"};
		for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++) {
			char path[64], wire[64];
			snprintf(path, sizeof(path), "us_bank_account.%s", need[i]);
			snprintf(wire, sizeof(wire), "us_bank_account[%s]", need[i]);
			const char *v = param_str(r, path);
			if (!v || !*v)
				return req_fail(r, ERR_PARAM_MISSING, wire, "%s", wire);
		}
		if (ach_routing_check(param_str(r, "us_bank_account.routing_number"), c->routing) !=
		    0)
			return req_fail(r, ERR_ROUTING_NUMBER_INVALID,
					"us_bank_account[routing_number]", "%s",
					"Routing number must have 9 digits and a valid checksum.");
		if (ach_account_check(param_str(r, "us_bank_account.account_number"), c->account) !=
		    0)
			return req_fail(r, ERR_ACCOUNT_NUMBER_INVALID,
					"us_bank_account[account_number]", "%s",
					"The account number must have 4 to 17 digits.");
		c->holder_type = param_str(r, "us_bank_account.account_holder_type");
		const char *at = param_str(r, "us_bank_account.account_type");
		c->account_type = at && *at ? at : "checking";
		c->ach = true;
	}
	if (!(type && strcmp(type, "us_bank_account") == 0) &&
	    param_present(r, "us_bank_account")) {
		return req_fail(r, ERR_PARAM_BAD, "us_bank_account",
				"us_bank_account can only be given with type=us_bank_account.");
	}
	/* customer_balance (PaymentIntents' payment_method_data only, pm_data_params_pi) has
	 * nothing to seal either: stored as a redirect PaymentMethod is, with its empty hash */
	static const char *const redirect_types[] = {
	    "ideal", "bancontact", "affirm", "afterpay_clearpay", "klarna", "customer_balance"};
	for (size_t i = 0; i < sizeof(redirect_types) / sizeof(redirect_types[0]); i++) {
		const char *t = redirect_types[i];
		bool is = type && strcmp(type, t) == 0;
		if (!is && param_present(r, t))
			return req_fail(r, ERR_PARAM_BAD, t, "%s can only be given with type=%s.",
					t, t);
		if (is && param_present(r, "card"))
			return req_fail(r, ERR_PARAM_BAD, "card",
					"card cannot be given with type=%s.", t);
		if (is)
			c->redirect_type = t;
	}
	if (c->redirect_type) {
		const char *bank = param_str(r, "ideal.bank");
		c->ideal_bank = bank && *bank ? bank : NULL;
		if (param_present(r, "klarna.dob") && klarna_dob_param(r, &c->klarna_dob) != 0)
			return -1;
	}
	if (c->sepa || c->ach || c->redirect_type) {
		/* nothing of a card to read */
	} else if (!param_present(r, "card")) {
		return req_fail(r, ERR_PARAM_MISSING, "card", "%s", "card");
	} else {
		const char *token = param_str(r, "card.token");
		if (token && *token) {
			if (param_present(r, "card.number") || param_present(r, "card.exp_month") ||
			    param_present(r, "card.exp_year") || param_present(r, "card.cvc"))
				return req_fail(
				    r, ERR_PARAM_BAD, "card[token]",
				    "You cannot provide card details together with card[token].");
			if (!vault_is_test_alias(token) && strncmp(token, "tok_", 4) != 0)
				return req_fail_missing(r, "token", token, "card[token]");
			c->token = token;
		} else if (tokens_card_params(r, &c->info) != 0) {
			return -1;
		}
	}
	if (billing_from_params(r, NULL, &c->billing) != 0)
		return -1;
	c->metadata = "{}";
	if (metadata_apply(r, NULL, "metadata", &c->metadata) != 0)
		return -1;
	id_new_at(c->pm_id, "pm_", r->now);
	id_new(c->card_id, c->sepa ? "iban_" : c->ach ? "bacct_" : "card_");
	if (!c->token && !c->sepa && !c->ach && !c->redirect_type)
		c->number = tokens_card_preseal(r, c->card_id, &c->sealed);
	return 0;
}

/* klarna[dob]: a whole date of birth in the past, as the JSON the object shows. 0, or -1 with
 * r->err. */
static int klarna_dob_param(struct req *r, const char **ret)
{
	int64_t d = 0, m = 0, y = 0;
	int hd = param_int(r, "klarna.dob.day", &d);
	int hm = param_int(r, "klarna.dob.month", &m);
	int hy = param_int(r, "klarna.dob.year", &y);
	static const char *const missing[] = {"klarna[dob][day]", "klarna[dob][month]",
					      "klarna[dob][year]"};
	int have[] = {hd, hm, hy};
	for (size_t i = 0; i < 3; i++)
		if (have[i] != 1)
			return req_fail(r, ERR_PARAM_MISSING, missing[i], "%s", missing[i]);
	if (d < 1 || d > 31 || m < 1 || m > 12 || y < 1900 ||
	    (r->now > 0 && y > 1970 + r->now / 31556952))
		return req_fail(r, ERR_PARAM_BAD, "klarna[dob]",
				"Invalid klarna[dob]: day, month and year of a date of birth in "
				"the past.");
	*ret = arena_printf(&r->arena, "{\"day\":%d,\"month\":%d,\"year\":%d}", (int)d, (int)m,
			    (int)y);
	return *ret ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

static int h_create(struct req *r)
{
	if (param_present(r, "payment_method"))
		return pm_clone_h_create(r);
	/* Stripe takes customer here only to clone (with payment_method); attaching goes through
	 * /attach, which checks the customer. Accepting it would let a publishable key attach a
	 * card to any customer id. */
	if (param_present(r, "customer"))
		return req_fail(
		    r, ERR_PARAM_BAD, "customer",
		    "customer can only be set together with payment_method (cloning "
		    "to a connected account). Use POST /v1/payment_methods/{id}/attach.");
	if (!param_present(r, "type"))
		return req_fail(r, ERR_PARAM_MISSING, "type", "%s", "type");
	struct create_ctx c;
	if (create_prepare(r, &c) != 0)
		return -1;
	int rc = req_write(r, create_fn, &c);
	explicit_bzero(c.iban, sizeof(c.iban));
	explicit_bzero(c.account, sizeof(c.account));
	return rc;
}

const struct param_spec pm_data_params[] = {
    {"type", PT_ENUM, PF_REQUIRED, 0, pm_types, NULL},
    {"card", PT_OBJECT, 0, 0, NULL, card_children},
    {"sepa_debit", PT_OBJECT, 0, 0, NULL, sepa_children},
    {"us_bank_account", PT_OBJECT, 0, 0, NULL, ach_children},
    {"ideal", PT_OBJECT, 0, 0, NULL, ideal_children},
    {"bancontact", PT_OBJECT, 0, 0, NULL, bancontact_children},
    {"affirm", PT_OBJECT, 0, 0, NULL, bnpl_children},
    {"afterpay_clearpay", PT_OBJECT, 0, 0, NULL, bnpl_children},
    {"klarna", PT_OBJECT, 0, 0, NULL, klarna_children},
    {"billing_details", PT_OBJECT, 0, 0, NULL, billing_children},
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {"allow_redisplay", PT_ENUM, 0, 0, redisplays, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};

/* A PaymentIntent's payment_method_data: the same, and type=customer_balance (bank transfers,
 * api/cash_balance.c), which nothing else pays with */
static const char *const pm_types_pi[] = {"card",
					  "sepa_debit",
					  "us_bank_account",
					  "ideal",
					  "bancontact",
					  "affirm",
					  "afterpay_clearpay",
					  "klarna",
					  "customer_balance",
					  NULL};
const struct param_spec pm_data_params_pi[] = {
    {"type", PT_ENUM, PF_REQUIRED, 0, pm_types_pi, NULL},
    {"card", PT_OBJECT, 0, 0, NULL, card_children},
    {"sepa_debit", PT_OBJECT, 0, 0, NULL, sepa_children},
    {"us_bank_account", PT_OBJECT, 0, 0, NULL, ach_children},
    {"ideal", PT_OBJECT, 0, 0, NULL, ideal_children},
    {"bancontact", PT_OBJECT, 0, 0, NULL, bancontact_children},
    {"affirm", PT_OBJECT, 0, 0, NULL, bnpl_children},
    {"afterpay_clearpay", PT_OBJECT, 0, 0, NULL, bnpl_children},
    {"klarna", PT_OBJECT, 0, 0, NULL, klarna_children},
    {"customer_balance", PT_OBJECT, 0, 0, NULL, bnpl_children},
    {"billing_details", PT_OBJECT, 0, 0, NULL, billing_children},
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {"allow_redisplay", PT_ENUM, 0, 0, redisplays, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};

/* "card[token]" under "payment_method_data" → "payment_method_data[card][token]" */
static void err_param_under(struct req *r, const char *parent)
{
	if (!r->err.set || !r->err.param[0] ||
	    strcmp(api_error_info(r->err.code)->type, "invalid_request_error") != 0)
		return; /* card errors name the card's field itself, as on /v1/payment_methods */
	char old[sizeof(r->err.param)];
	str_copy(old, sizeof(old), r->err.param);
	size_t head = strcspn(old, "[");
	snprintf(r->err.param, sizeof(r->err.param), "%s[%.*s]%s", parent, (int)head, old,
		 old + head);
	/* "Missing required param: card." names the parameter in the message too */
	if (strcmp(r->err.detail, old) == 0)
		str_copy(r->err.detail, sizeof(r->err.detail), r->err.param);
}

struct data_ctx {
	struct create_ctx c;
	int rc;
};

static int data_fn(struct db *db, void *p)
{
	struct data_ctx *d = p;
	d->rc = create_fn(db, &d->c);
	return d->rc;
}

int pm_create_from_data(struct req *r, const char *param, char ret_id[ID_MAX])
{
	const struct form_node *node = param_node(r, param);
	if (!node)
		return req_fail(r, ERR_PARAM_MISSING, param, "%s", param);
	/* the PaymentMethod create's own reading of card, billing_details and metadata, at the
	 * object's paths: r->params points at the object meanwhile */
	const struct form_node *saved = r->params;
	r->params = node;
	struct data_ctx d;
	int rc = create_prepare(r, &d.c);
	r->params = saved;
	if (rc != 0) {
		err_param_under(r, param);
		return -1;
	}
	/* A write of its own, not req_write: the request's idempotent answer is the payment's,
	 * saved with the payment's write (as for a token that becomes a PaymentMethod,
	 * payments_card_authorize). */
	d.rc = 0;
	int wrc = store_write(r->app->store, r->merchant_id, data_fn, &d);
	explicit_bzero(d.c.iban, sizeof(d.c.iban));
	explicit_bzero(d.c.account, sizeof(d.c.account));
	buf_reset(&r->out); /* create_fn rendered the PaymentMethod: not this request's answer */
	if (d.rc != 0) {
		err_param_under(r, param);
		return -1;
	}
	if (wrc != 0)
		return req_fail(r, wrc == STORE_OVERLOADED ? ERR_OVERLOADED : ERR_API, NULL, NULL);
	str_copy(ret_id, ID_MAX, d.c.pm_id);
	return 0;
}

int pm_create_linked(struct req *r, struct db *db, const char *param, const char *fca,
		     char ret_id[ID_MAX])
{
	struct create_ctx c;
	memset(&c, 0, sizeof(c));
	c.r = r;
	/* billing_details at the object's paths, as pm_create_from_data reads them */
	const struct form_node *saved = r->params;
	r->params = param_node(r, param);
	int rc = billing_from_params(r, NULL, &c.billing);
	r->params = saved;
	if (rc != 0) {
		err_param_under(r, param);
		return -1;
	}
	c.metadata = "{}";
	c.fca = fca;
	c.ach = true;
	c.holder_type = "individual";
	id_new_at(c.pm_id, "pm_", r->now);
	id_new(c.card_id, "bacct_");
	rc = create_fn(db, &c);
	explicit_bzero(c.account, sizeof(c.account));
	buf_reset(&r->out); /* create_fn rendered the PaymentMethod: not this request's answer */
	if (rc != 0)
		return -1;
	str_copy(ret_id, ID_MAX, c.pm_id);
	return 0;
}

struct id_ctx {
	struct req *r;
	const char *id;
};

static int retrieve_fn(struct db *db, void *p)
{
	struct id_ctx *x = p;
	int rc = pm_render(db, x->r->merchant_id, x->id, req_json(x->r));
	if (rc == DB_NOTFOUND)
		return req_fail_missing(x->r, "payment_method", x->id, "payment_method");
	return rc == DB_OK ? 0 : req_fail(x->r, ERR_API, NULL, NULL);
}

/* Loads PaymentMethod id as this API sees it: a card source deleted from its customer (a
 * card_… without one) no longer exists, as on Stripe. DB_OK, DB_NOTFOUND or < 0. */
static int pm_load_visible(struct db *db, const char *merchant_id, const char *id,
			   struct pm_card *pm)
{
	int rc = pm_load(db, merchant_id, id, pm);
	if (rc == DB_OK && card_source_id(id) && !pm->customer[0])
		return DB_NOTFOUND;
	return rc;
}

/* GET /v1/payment_methods/{id}: the PaymentMethod, if it is visible. */
static int retrieve_visible_fn(struct db *db, void *p)
{
	struct id_ctx *x = p;
	struct pm_card pm;
	int rc = pm_load_visible(db, x->r->merchant_id, x->id, &pm);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(x->r, "payment_method", x->id, "payment_method");
	if (rc != DB_OK)
		return req_fail(x->r, ERR_API, NULL, NULL);
	if (req_scope_customer(x->r, pm.customer, "payment_method", x->id, "payment_method") != 0)
		return -1;
	return retrieve_fn(db, x);
}

/* A test alias (pm_card_visa …) stands for a new PaymentMethod each time it is used, as in
 * Stripe's test mode: store one (inside the caller's transaction) and continue with its id. */
static int alias_materialize(struct req *r, struct db *db, struct id_ctx *x)
{
	char *id = arena_zalloc(&r->arena, ID_MAX);
	if (!id)
		return req_fail(r, ERR_API, NULL, NULL);
	id_new_at(id, "pm_", r->now);
	if (pm_create_from_ref(db, r->app->vault, r->merchant_id, x->id, id, NULL, NULL, r->now) !=
	    DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	x->id = id;
	return 0;
}

static int retrieve_alias_fn(struct db *db, void *p)
{
	struct id_ctx *x = p;
	if (alias_materialize(x->r, db, x) != 0)
		return -1;
	return retrieve_fn(db, x);
}

static int h_retrieve(struct req *r)
{
	struct id_ctx x = {r, r->args[0]};
	/* an alias is a new PaymentMethod of no customer: none a customer-scoped key can see */
	if (vault_is_test_alias(x.id) && !r->scope_customer[0])
		return req_write(r, retrieve_alias_fn, &x);
	return req_read(r, retrieve_visible_fn, &x) == 0 ? 0 : -1;
}

static const char SQL_PM_UPDATE[] =
    "UPDATE payment_methods SET billing_details = $3, metadata = $4, exp_month = $5,"
    " exp_year = $6 WHERE merchant_id = $1 AND id = $2";
static const char SQL_PM_ACH_UPDATE[] =
    "UPDATE payment_methods SET ach_account_holder_type = $3, ach_account_type = $4"
    " WHERE merchant_id = $1 AND id = $2";
static const char SQL_PM_META[] = "SELECT billing_details, metadata, exp_month, exp_year"
				  " FROM payment_methods WHERE merchant_id = $1 AND id = $2";
static const char SQL_PM_ATTACH[] = "UPDATE payment_methods SET customer = $3"
				    " WHERE merchant_id = $1 AND id = $2 AND detached = 0";
static const char SQL_PM_DETACH[] = "UPDATE payment_methods SET customer = NULL, detached = 1"
				    " WHERE merchant_id = $1 AND id = $2 AND customer = $3";
/* how many PaymentMethods a customer has, counted up to a bound ($3) */
static const char SQL_PM_COUNT[] =
    "SELECT COUNT(*) FROM (SELECT 1 FROM payment_methods WHERE merchant_id = $1"
    " AND customer = $2 LIMIT $3) AS x";
static const char SQL_CUSTOMER_EXISTS[] =
    "SELECT 1 FROM customers WHERE merchant_id = $1 AND id = $2 AND deleted = 0";

static int pm_event(struct req *r, struct db *db, const char *id, const char *type)
{
	struct buf b;
	struct json j;
	buf_init(&b, 1u << 20);
	json_init(&j, &b);
	int rc = pm_render(db, r->merchant_id, id, &j);
	struct event_origin o = {r->request_id, r->idempotency_key, r->livemode};
	if (rc == DB_OK && !b.failed)
		rc = event_append(db, r->merchant_id, &o, type, id, b.data, b.len, NULL, r->now,
				  NULL);
	buf_release(&b);
	return rc == DB_OK ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

static int update_fn(struct db *db, void *p)
{
	struct id_ctx *x = p;
	struct req *r = x->r;
	struct pm_card pm;
	int vrc = pm_load_visible(db, r->merchant_id, x->id, &pm);
	if (vrc == DB_NOTFOUND)
		return req_fail_missing(r, "payment_method", x->id, "payment_method");
	if (vrc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (req_scope_customer(r, pm.customer, "payment_method", x->id, "payment_method") != 0)
		return -1;
	/* a type's own hash updates only a PaymentMethod of that type, as on Stripe */
	if (param_present(r, "link"))
		return req_fail(r, ERR_PARAM_BAD, "link",
				"You cannot update link on a %s PaymentMethod: %s is not a link "
				"PaymentMethod.",
				pm.type, x->id);
	bool ach = param_present(r, "us_bank_account");
	if (ach && !PM_IS_ACH(&pm))
		return req_fail(
		    r, ERR_PARAM_BAD, "us_bank_account",
		    "You cannot update us_bank_account on a %s PaymentMethod: %s is not "
		    "a us_bank_account PaymentMethod.",
		    pm.type, x->id);
	struct db_stmt *st;
	if (ach) {
		const char *ht = param_str(r, "us_bank_account.account_holder_type");
		const char *at = param_str(r, "us_bank_account.account_type");
		st = db_prepare(db, SQL_PM_ACH_UPDATE);
		if (!st)
			return req_fail(r, ERR_API, NULL, NULL);
		db_bind_text(st, 1, r->merchant_id, -1);
		db_bind_text(st, 2, x->id, -1);
		db_bind_text(st, 3, ht && *ht ? ht : pm.ach_holder_type, -1);
		db_bind_text(st, 4, at && *at ? at : pm.ach_account_type, -1);
		if (db_step_done(st) != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
	}
	st = db_prepare(db, SQL_PM_META);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, x->id, -1);
	if (db_step(st) != DB_ROW) {
		db_reset(st);
		return req_fail_missing(r, "payment_method", x->id, "payment_method");
	}
	const char *t = db_col_text(st, 0, NULL);
	const char *billing = t ? arena_strdup(&r->arena, t) : NULL;
	t = db_col_text(st, 1, NULL);
	const char *meta = t ? arena_strdup(&r->arena, t) : "{}";
	int64_t em = db_col_int64(st, 2), ey = db_col_int64(st, 3);
	db_reset(st);
	if (billing_from_params(r, billing, &billing) != 0)
		return -1;
	if (metadata_apply(r, meta, "metadata", &meta) != 0)
		return -1;
	const char *ems = param_str(r, "card.exp_month"), *eys = param_str(r, "card.exp_year");
	if ((ems && *ems) || (eys && *eys)) {
		/* the new expiry (a side not given keeps its stored value) must not be past */
		char mbuf[24], ybuf[24];
		snprintf(mbuf, sizeof(mbuf), "%lld", (long long)em);
		snprintf(ybuf, sizeof(ybuf), "%lld", (long long)ey);
		int m = 0, y = 0;
		int e = vault_card_validate_expiry(ems && *ems ? ems : mbuf,
						   eys && *eys ? eys : ybuf, r->now, &m, &y);
		if (e != 0)
			return req_fail(r, vault_card_err_api(e), vault_card_err_param(e), NULL);
		em = m;
		ey = y;
	}
	st = db_prepare(db, SQL_PM_UPDATE);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, x->id, -1);
	db_bind_text(st, 3, billing, -1);
	db_bind_text(st, 4, meta, -1);
	db_bind_int64(st, 5, em);
	db_bind_int64(st, 6, ey);
	if (db_step_done(st) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	const char *redisplay = param_str(r, "allow_redisplay");
	if (redisplay && *redisplay &&
	    pm_set_allow_redisplay(db, r->merchant_id, x->id, redisplay, false) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (pm_event(r, db, x->id, "payment_method.updated") != 0)
		return -1;
	return retrieve_fn(db, x);
}

static int h_update(struct req *r)
{
	struct id_ctx x = {r, r->args[0]};
	return req_write(r, update_fn, &x);
}

/* Runs a guarded statement on PaymentMethod id ($1 merchant, $2 id, $3 customer); -1 with
 * r->err unless it changed exactly one row. */
static int pm_set(struct req *r, struct db *db, const char *sql, const char *id,
		  const char *customer)
{
	struct db_stmt *st = db_prepare(db, sql);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, id, -1);
	db_bind_text(st, 3, customer, -1);
	int64_t changed = 0;
	if (db_step_changes(st, &changed) != DB_OK || changed != 1)
		return req_fail(r, ERR_API, NULL, NULL);
	return 0;
}

int pm_attach_resolve(struct req *r, struct db *db, const char *pm_ref, const char *param,
		      const char **ret_id, char ret_customer[ID_MAX])
{
	struct id_ctx x = {r, pm_ref};
	if (vault_is_test_alias(x.id) && alias_materialize(r, db, &x) != 0)
		return -1;
	struct pm_card pm;
	if (pm_load_visible(db, r->merchant_id, x.id, &pm) != DB_OK)
		return req_fail_missing(r, "payment_method", x.id, param);
	if (pm.detached)
		return req_fail(r, ERR_PARAM_BAD, param, "%s", PM_DETACHED_MESSAGE);
	*ret_id = x.id;
	str_copy(ret_customer, ID_MAX, pm.customer);
	return 0;
}

int pm_attach_finish(struct req *r, struct db *db, const char *id, const char *owner,
		     const char *customer)
{
	if (owner[0] && strcmp(owner, customer) != 0)
		return req_fail(r, ERR_PAYMENT_METHOD_UNEXPECTED_STATE, NULL,
				"The payment method you provided has already been attached to a "
				"customer.");
	if (!owner[0] && fc_payment_method_attach_check(r, db, id, customer) != 0)
		return -1;
	if (!owner[0]) {
		/* bounded, so that deleting the customer (which detaches them all in its one
		 * write) stays bounded too */
		struct db_stmt *st = db_prepare(db, SQL_PM_COUNT);
		if (!st)
			return req_fail(r, ERR_API, NULL, NULL);
		db_bind_text(st, 1, r->merchant_id, -1);
		db_bind_text(st, 2, customer, -1);
		db_bind_int64(st, 3, PAYMENT_METHODS_PER_CUSTOMER_MAX);
		int64_t n = db_step(st) == DB_ROW ? db_col_int64(st, 0) : -1;
		db_reset(st);
		if (n < 0)
			return req_fail(r, ERR_API, NULL, NULL);
		if (n >= PAYMENT_METHODS_PER_CUSTOMER_MAX)
			return req_fail(r, ERR_PARAM_BAD, "customer",
					"Customer %s already has the maximum of %d payment methods "
					"attached.",
					customer, PAYMENT_METHODS_PER_CUSTOMER_MAX);
	}
	if (pm_set(r, db, SQL_PM_ATTACH, id, customer) != 0 ||
	    pm_event(r, db, id, "payment_method.attached") != 0)
		return -1;
	return 0;
}

int customer_check(struct req *r, struct db *db, const char *customer)
{
	struct db_stmt *st = db_prepare(db, SQL_CUSTOMER_EXISTS);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, customer, -1);
	int found = db_step(st) == DB_ROW;
	db_reset(st);
	return found ? 0 : req_fail_missing(r, "customer", customer, "customer");
}

struct customer_check_ctx {
	struct req *r;
	const char *customer;
};

static int customer_check_fn(struct db *db, void *p)
{
	struct customer_check_ctx *x = p;
	return customer_check(x->r, db, x->customer);
}

int customer_check_read(struct req *r, const char *customer)
{
	struct customer_check_ctx x = {r, customer};
	return req_read(r, customer_check_fn, &x);
}

static int attach_fn(struct db *db, void *p)
{
	struct id_ctx *x = p;
	struct req *r = x->r;
	char owner[ID_MAX];
	if (pm_attach_resolve(r, db, x->id, "payment_method", &x->id, owner) != 0)
		return -1;
	/* a customer-scoped key attaches a PaymentMethod of no customer (or its own) to its
	 * customer only */
	if (owner[0] &&
	    req_scope_customer(r, owner, "payment_method", x->id, "payment_method") != 0)
		return -1;
	const char *customer = param_str(r, "customer");
	if (req_scope_customer(r, customer, "customer", customer, "customer") != 0 ||
	    customer_check(r, db, customer) != 0)
		return -1;
	if (pm_attach_finish(r, db, x->id, owner, customer) != 0)
		return -1;
	return retrieve_fn(db, x);
}

static int h_attach(struct req *r)
{
	struct id_ctx x = {r, r->args[0]};
	return req_write(r, attach_fn, &x);
}

/* Detaches PaymentMethod id (attached to customer) inside a write: a card source is deleted
 * (customer.source.deleted, payment_method.detached), a pm_… leaves the customer for good
 * (payment_method.detached). The customer's defaults are left to the caller. 0, or -1. */
static int pm_detach(struct req *r, struct db *db, const char *id, const char *customer)
{
	/* a src_… (api/sources_api.c) is consumed as its customer.source.deleted says */
	if (card_source_id(id) || source_api_id(id))
		return source_detach(r, db, customer, id);
	if (pm_set(r, db, SQL_PM_DETACH, id, customer) != 0)
		return -1;
	if (pm_event(r, db, id, "payment_method.detached") != 0)
		return -1;
	/* a bank account's multi-use mandates end with its customer (Stripe: a detached
	 * PaymentMethod's mandates become inactive), in the detach's own write */
	struct event_origin o = {r->request_id, r->idempotency_key, r->livemode};
	if (sepa_mandates_deactivate_pm(db, &r->arena, r->merchant_id, &o,
					r->app ? r->app->vault : NULL, req_url_base(r), id,
					r->now) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	return 0;
}

static int detach_fn(struct db *db, void *p)
{
	struct id_ctx *x = p;
	struct req *r = x->r;
	struct pm_card pm;
	int rc = pm_load_visible(db, r->merchant_id, x->id, &pm);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(r, "payment_method", x->id, "payment_method");
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (req_scope_customer(r, pm.customer, "payment_method", x->id, "payment_method") != 0)
		return -1;
	if (!pm.customer[0])
		return req_fail(r, ERR_PAYMENT_METHOD_UNEXPECTED_STATE, NULL,
				"The payment method you provided is not attached to a customer so "
				"detachment is impossible.");
	/* a default source or default PaymentMethod moves on, with customer.updated */
	if (pm_detach(r, db, x->id, pm.customer) != 0 ||
	    customer_unset_default_pm(r, db, pm.customer, x->id) != 0)
		return -1;
	return retrieve_fn(db, x);
}

/* a customer's PaymentMethods, a batch at a time (each batch is detached before the next) */
#define DETACH_BATCH 100
static const char SQL_CUSTOMER_PMS[] = "SELECT id FROM payment_methods WHERE merchant_id = $1"
				       " AND customer = $2 ORDER BY id LIMIT $3";

int customer_pms_detach_all(struct req *r, struct db *db, const char *customer)
{
	/* at most PAYMENT_METHODS_PER_CUSTOMER_MAX + SOURCES_PER_CUSTOMER_MAX rows: a few more
	 * rounds than that needs, for rows attached before those bounds existed */
	const int rounds_max =
	    (PAYMENT_METHODS_PER_CUSTOMER_MAX + SOURCES_PER_CUSTOMER_MAX) / DETACH_BATCH + 8;
	for (int round = 0; round < rounds_max; round++) {
		struct db_stmt *st = db_prepare(db, SQL_CUSTOMER_PMS);
		if (!st)
			return req_fail(r, ERR_API, NULL, NULL);
		db_bind_text(st, 1, r->merchant_id, -1);
		db_bind_text(st, 2, customer, -1);
		db_bind_int64(st, 3, DETACH_BATCH);
		char *ids[DETACH_BATCH];
		size_t n = 0;
		int rc = DB_DONE;
		while (n < DETACH_BATCH && (rc = db_step(st)) == DB_ROW) {
			ids[n] = arena_strdup(&r->arena, db_col_text(st, 0, NULL));
			if (!ids[n++]) {
				db_reset(st);
				return req_fail(r, ERR_API, NULL, NULL);
			}
		}
		db_reset(st);
		if (n < DETACH_BATCH && rc != DB_DONE)
			return req_fail(r, ERR_API, NULL, NULL);
		for (size_t i = 0; i < n; i++)
			if (pm_detach(r, db, ids[i], customer) != 0)
				return -1;
		if (n < DETACH_BATCH)
			return 0;
	}
	return req_fail(r, ERR_API, NULL, NULL);
}

static int h_detach(struct req *r)
{
	struct id_ctx x = {r, r->args[0]};
	return req_write(r, detach_fn, &x);
}

static const char SQL_CURSOR[] =
    "SELECT created FROM payment_methods WHERE merchant_id = $1 AND id = $2";
/* every pm_… of the merchant (a customer's list is customer_list_fn's) */
static const char SQL_DESC[] =
    "SELECT id FROM payment_methods WHERE merchant_id = $1 AND id > $2 AND id < $3"
    " ORDER BY id DESC LIMIT $4";
static const char SQL_ASC[] =
    "SELECT id FROM payment_methods WHERE merchant_id = $1 AND id > $2 AND id < $3"
    " ORDER BY id ASC LIMIT $4";

static int list_render(struct req *r, struct db *db, const char *id, struct json *j, void *ctx)
{
	return pm_render(db, r->merchant_id, id, j);
}

/* PaymentMethods newest first. */
static int list_pms(struct req *r, const char *url)
{
	const struct list_spec spec = {
	    .url = url,
	    .object_name = "payment_method",
	    .id_prefix = "pm_",
	    .sql_cursor = SQL_CURSOR,
	    .sql_desc = SQL_DESC,
	    .sql_asc = SQL_ASC,
	    .render = list_render,
	};
	return list_respond(r, &spec);
}

/* ---- a customer's PaymentMethods, its card sources included ----
 * Stripe lists them newest first whatever their prefix. The 24-character id body orders ids by
 * creation across prefixes (core/id.h), so the list pages by the body: list.c pages by whole
 * ids of one prefix, hence this list of its own, over the customer's rows only (bounded by
 * PAYMENT_METHODS_PER_CUSTOMER_MAX and SOURCES_PER_CUSTOMER_MAX). */

#define CUSTOMER_LIST_LIMIT_MAX 100
#define ID_BODY "substr(id, length(id) - 23)"
/* type=…: a card row has no type (NULL); $6 NULL lists every type, $7 NULL every
 * allow_redisplay */
#define TYPE_IS                                                                                    \
	"($6 IS NULL OR COALESCE(type, 'card') = $6) AND ($7 IS NULL OR allow_redisplay = $7)"
static const char SQL_CUST_DESC[] =
    "SELECT id FROM payment_methods WHERE merchant_id = $1 AND customer = $2"
    " AND " ID_BODY " > $3 AND " ID_BODY " < $4 AND " TYPE_IS " ORDER BY " ID_BODY " DESC LIMIT $5";
static const char SQL_CUST_ASC[] =
    "SELECT id FROM payment_methods WHERE merchant_id = $1 AND customer = $2"
    " AND " ID_BODY " > $3 AND " ID_BODY " < $4 AND " TYPE_IS " ORDER BY " ID_BODY " ASC LIMIT $5";
static const char SQL_CUST_CURSOR[] =
    "SELECT customer FROM payment_methods WHERE merchant_id = $1 AND id = $2";

struct customer_list {
	struct req *r;
	const char *customer, *url;
	const char *type;	     /* NULL: every type */
	const char *allow_redisplay; /* NULL: any */
	int64_t limit;
	char lo[ID_MAX], hi[ID_MAX]; /* exclusive bounds on the id body */
	const char *starting_after, *ending_before;
};

/* The list parameters (as list.c reads them): limit, created, cursors. 0, or -1 with r->err. */
static int customer_list_parse(struct req *r, struct customer_list *q)
{
	q->limit = 10;
	const char *ls = param_str(r, "limit");
	if (ls && *ls &&
	    (parse_i64(ls, &q->limit) != 0 || q->limit < 1 || q->limit > CUSTOMER_LIST_LIMIT_MAX))
		return req_fail(r, ERR_LIST_LIMIT, "limit", "%s", ls);
	int64_t lo = INT64_MIN, hi = INT64_MAX, v;
	const struct form_node *c = param_node(r, "created");
	if (c && c->kind == FORM_SCALAR && c->value_len) {
		if (parse_i64(c->value, &v) != 0)
			return req_fail(r, ERR_PARAM_INVALID_INTEGER, "created", "%s", c->value);
		lo = hi = v;
	} else if (c && c->kind != FORM_SCALAR) {
		if (param_int(r, "created.gt", &v) == 1 && v < INT64_MAX && v + 1 > lo)
			lo = v + 1;
		if (param_int(r, "created.gte", &v) == 1 && v > lo)
			lo = v;
		if (param_int(r, "created.lt", &v) == 1 && v > INT64_MIN && v - 1 < hi)
			hi = v - 1;
		if (param_int(r, "created.lte", &v) == 1 && v < hi)
			hi = v;
	}
	/* bodies made in second >= lo sort after bound(lo); those <= hi before bound(hi + 1) */
	id_created_bound(q->lo, "", lo);
	id_created_bound(q->hi, "", hi >= ID_CREATED_MAX ? INT64_MAX : hi + 1);
	q->starting_after = param_str(r, "starting_after");
	q->ending_before = param_str(r, "ending_before");
	if (q->starting_after && !*q->starting_after)
		q->starting_after = NULL;
	if (q->ending_before && !*q->ending_before)
		q->ending_before = NULL;
	if (q->starting_after && q->ending_before)
		return req_fail(r, ERR_PARAM_BAD, "ending_before",
				"You may only specify one of these parameters: ending_before, "
				"starting_after.");
	return 0;
}

static int customer_list_fn(struct db *db, void *p)
{
	struct customer_list *q = p;
	struct req *r = q->r;
	if (customer_check(r, db, q->customer) != 0)
		return -1;
	const char *cursor = q->starting_after ? q->starting_after : q->ending_before;
	const char *after = q->lo, *before = q->hi;
	if (cursor) {
		/* a cursor is one of this customer's PaymentMethods */
		struct db_stmt *cs = db_prepare(db, SQL_CUST_CURSOR);
		if (!cs)
			return req_fail(r, ERR_API, NULL, NULL);
		db_bind_text(cs, 1, r->merchant_id, -1);
		db_bind_text(cs, 2, cursor, -1);
		int rc = db_step(cs);
		bool mine = rc == DB_ROW && db_col_text(cs, 0, NULL) &&
			    strcmp(db_col_text(cs, 0, NULL), q->customer) == 0;
		db_reset(cs);
		size_t len = strlen(cursor);
		if (!mine || len < ID_BODY_LEN)
			return req_fail_missing(r, "payment_method", cursor,
						q->starting_after ? "starting_after"
								  : "ending_before");
		const char *body = cursor + len - ID_BODY_LEN;
		if (q->ending_before && strcmp(body, after) > 0)
			after = body;
		else if (q->starting_after && strcmp(body, before) < 0)
			before = body;
	}
	bool asc = q->ending_before != NULL;
	struct db_stmt *st = db_prepare(db, asc ? SQL_CUST_ASC : SQL_CUST_DESC);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, q->customer, -1);
	db_bind_text(st, 3, after, -1);
	db_bind_text(st, 4, before, -1);
	db_bind_int64(st, 5, q->limit + 1);
	if (q->type)
		db_bind_text(st, 6, q->type, -1);
	else
		db_bind_null(st, 6);
	if (q->allow_redisplay)
		db_bind_text(st, 7, q->allow_redisplay, -1);
	else
		db_bind_null(st, 7);
	char *ids[CUSTOMER_LIST_LIMIT_MAX + 1];
	size_t n = 0;
	int rc = DB_DONE;
	while (n < (size_t)q->limit + 1 && (rc = db_step(st)) == DB_ROW) {
		ids[n] = arena_strdup(&r->arena, db_col_text(st, 0, NULL));
		if (!ids[n++]) {
			db_reset(st);
			return req_fail(r, ERR_API, NULL, NULL);
		}
	}
	db_reset(st);
	if (rc != DB_ROW && rc != DB_DONE)
		return req_fail(r, ERR_API, NULL, NULL);
	bool has_more = n > (size_t)q->limit;
	if (has_more)
		n = (size_t)q->limit;
	if (asc) /* walked towards newer ones; the list is newest first */
		for (size_t i = 0; i < n / 2; i++) {
			char *t = ids[i];
			ids[i] = ids[n - 1 - i];
			ids[n - 1 - i] = t;
		}
	struct json *j = req_json(r);
	json_obj_open(j);
	json_kv_str(j, "object", "list");
	json_key(j, "data");
	json_arr_open(j);
	for (size_t i = 0; i < n; i++)
		if (pm_render(db, r->merchant_id, ids[i], j) != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
	json_arr_close(j);
	json_kv_bool(j, "has_more", has_more);
	json_kv_str(j, "url", q->url);
	json_obj_close(j);
	return 0;
}

static int customer_list_respond(struct req *r, const char *customer, const char *url)
{
	struct customer_list q = {.r = r, .customer = customer, .url = url};
	q.type = param_str(r, "type");
	if (q.type && !*q.type)
		q.type = NULL;
	q.allow_redisplay = param_str(r, "allow_redisplay");
	if (q.allow_redisplay && !*q.allow_redisplay)
		q.allow_redisplay = NULL;
	if (customer_list_parse(r, &q) != 0)
		return -1;
	return req_read(r, customer_list_fn, &q) == 0 ? 0 : -1;
}

static int h_list(struct req *r)
{
	const char *c = param_str(r, "customer");
	if (r->scope_customer[0] && (!c || !*c))
		return req_fail(
		    r, ERR_KEY_PERMISSION, "customer",
		    "An ephemeral key lists the PaymentMethods of its own customer only: "
		    "pass customer=%s.",
		    r->scope_customer);
	if (req_scope_customer(r, c, "customer", c, "customer") != 0)
		return -1;
	if (c && *c)
		return customer_list_respond(r, c, "/v1/payment_methods");
	/* the filter is a customer's list's (customer_list_fn) */
	if (param_present(r, "allow_redisplay"))
		return req_fail(
		    r, ERR_PARAM_BAD, "allow_redisplay",
		    "allow_redisplay filters a customer's PaymentMethods: pass customer "
		    "too.");
	return list_pms(r, "/v1/payment_methods");
}

/* ---- a customer's PaymentMethods: /v1/customers/{customer}/payment_methods[/{id}] ---- */

static const struct param_spec customer_list_params[] = {
    {"type", PT_ENUM, 0, 0, pm_types, NULL},
    {"allow_redisplay", PT_ENUM, 0, 0, redisplays, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};

/* The customer in the path exists for r's merchant. */
static int customer_exists_fn(struct db *db, void *p)
{
	struct id_ctx *x = p;
	return customer_check(x->r, db, x->id);
}

static int h_customer_list(struct req *r)
{
	if (req_scope_customer(r, r->args[0], "customer", r->args[0], "customer") != 0)
		return -1;
	const char *url = arena_printf(&r->arena, "/v1/customers/%s/payment_methods", r->args[0]);
	if (!url)
		return req_fail(r, ERR_API, NULL, NULL);
	return customer_list_respond(r, r->args[0], url);
}

/* A PaymentMethod of the customer's: one attached to another customer, or to none, is missing
 * here, as on Stripe. */
static int customer_retrieve_fn(struct db *db, void *p)
{
	struct id_ctx *x = p;
	struct req *r = x->r;
	if (customer_exists_fn(db, p) != 0)
		return -1;
	const char *id = r->args[1];
	struct pm_card pm;
	if (pm_load(db, r->merchant_id, id, &pm) != DB_OK || strcmp(pm.customer, x->id) != 0)
		return req_fail_missing(r, "PaymentMethod", id, "payment_method");
	struct id_ctx y = {r, id};
	return retrieve_fn(db, &y);
}

static int h_customer_retrieve(struct req *r)
{
	if (req_scope_customer(r, r->args[0], "customer", r->args[0], "customer") != 0)
		return -1;
	struct id_ctx x = {r, r->args[0]};
	return req_read(r, customer_retrieve_fn, &x) == 0 ? 0 : -1;
}

const struct route payment_methods_routes[] = {
    {"POST", "/v1/payment_methods", h_create, create_params, ROUTE_PUBLISHABLE},
    {"GET", "/v1/payment_methods", h_list, list_params, ROUTE_LIST | ROUTE_EPHEMERAL},
    {"GET", "/v1/payment_methods/{id}", h_retrieve, no_params, ROUTE_EPHEMERAL},
    {"POST", "/v1/payment_methods/{id}", h_update, update_params, ROUTE_EPHEMERAL},
    {"POST", "/v1/payment_methods/{id}/attach", h_attach, attach_params, ROUTE_EPHEMERAL},
    {"POST", "/v1/payment_methods/{id}/detach", h_detach, no_params, ROUTE_EPHEMERAL},
    {"POST", "/v1/tokens", tokens_h_create, tokens_create_params, ROUTE_PUBLISHABLE},
    {"GET", "/v1/tokens/{id}", tokens_h_retrieve, no_params, 0},
    {"GET", "/v1/customers/{customer}/payment_methods", h_customer_list, customer_list_params,
     ROUTE_LIST | ROUTE_EPHEMERAL},
    {"GET", "/v1/customers/{customer}/payment_methods/{id}", h_customer_retrieve, no_params,
     ROUTE_EPHEMERAL},
    {NULL, NULL, NULL, NULL, 0},
};
