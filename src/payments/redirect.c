#include "payments/redirect.h"

#include <jansson.h>
#include <string.h>

#include "core/buf.h"
#include "core/json.h"
#include "core/str.h"
#include "ledger/ledger.h"
#include "payments/payments.h"
#include "processor/processor.h"
#include "vault/ideal.h"
#include "vault/payment_method.h"

const char REDIRECT_OUTCOME[] =
    "{\"network_status\":\"approved_by_network\",\"reason\":null,\"risk_level\":\"not_assessed\","
    "\"seller_message\":\"Payment complete.\",\"type\":\"authorized\"}";

/* authorized: the bank has reported the account (its IBAN's last four, the verified name);
 * before that (a SetupIntent's attempt waiting at the bank) they are null */
static const char *details(struct arena *a, const struct pm_card *pm,
			   const struct payment_intent *pi, bool authorized,
			   const char *generated_pm, const char *generated_mandate)
{
	bool ideal = strcmp(pm->type, "ideal") == 0;
	struct buf b;
	struct json j;
	buf_init(&b, 8192);
	json_init(&j, &b);
	json_obj_open(&j);
	/* the key first, so that charge_render knows the column by its head */
	if (ideal) {
		const struct ideal_bank *bank = redirect_ideal_bank(pm->ideal_bank);
		json_key(&j, "ideal");
		json_obj_open(&j);
		json_kv_str_or_null(&j, "bank", bank ? bank->code : NULL);
		json_kv_str_or_null(&j, "bic", bank ? bank->bic : NULL);
		json_kv_str_or_null(&j, "generated_sepa_debit", generated_pm);
		json_kv_str_or_null(&j, "generated_sepa_debit_mandate", generated_mandate);
		json_kv_str_or_null(&j, "iban_last4",
				    authorized ? redirect_test_iban_last4("ideal") : NULL);
		json_kv_str_or_null(&j, "verified_name",
				    authorized ? REDIRECT_TEST_VERIFIED_NAME : NULL);
		json_obj_close(&j);
	} else if (strcmp(pm->type, "affirm") == 0) {
		json_key(&j, "affirm");
		json_obj_open(&j);
		json_obj_close(&j);
	} else if (strcmp(pm->type, "afterpay_clearpay") == 0) {
		/* the lender's order id (Tender's test lender reports none) and the merchant's
		 * reference (payment_method_options) */
		json_key(&j, "afterpay_clearpay");
		json_obj_open(&j);
		json_kv_null(&j, "order_id");
		json_kv_str_or_null(&j, "reference", pi->pmo_afterpay_reference);
		json_obj_close(&j);
	} else if (strcmp(pm->type, "klarna") == 0) {
		/* the test page offers Klarna's "pay later" plan, in the locale asked for */
		json_key(&j, "klarna");
		json_obj_open(&j);
		json_kv_str(&j, "payment_method_category", "pay_later");
		json_kv_str_or_null(&j, "preferred_locale", pi->pmo_klarna_preferred_locale);
		json_obj_close(&j);
	} else {
		/* Stripe's test Bancontact account (VAN DE PUT & CO) */
		json_key(&j, "bancontact");
		json_obj_open(&j);
		json_kv_str_or_null(&j, "bank_code", authorized ? "VAPE" : NULL);
		json_kv_str_or_null(&j, "bank_name", authorized ? "VAN DE PUT & CO" : NULL);
		json_kv_str_or_null(&j, "bic", authorized ? "VAPEBE22" : NULL);
		json_kv_str_or_null(&j, "generated_sepa_debit", generated_pm);
		json_kv_str_or_null(&j, "generated_sepa_debit_mandate", generated_mandate);
		json_kv_str_or_null(&j, "iban_last4",
				    authorized ? redirect_test_iban_last4("bancontact") : NULL);
		json_kv_str(&j, "preferred_language",
			    pi && pi->pmo_bancontact_preferred_language
				? pi->pmo_bancontact_preferred_language
				: "en");
		json_kv_str_or_null(&j, "verified_name",
				    authorized ? REDIRECT_TEST_VERIFIED_NAME : NULL);
		json_obj_close(&j);
	}
	json_kv_str(&j, "type", pm->type);
	json_obj_close(&j);
	const char *s = b.failed ? NULL : arena_strndup(a, b.data, b.len);
	buf_release(&b);
	return s;
}

const char *redirect_charge_details(struct arena *a, const struct pm_card *pm,
				    const struct payment_intent *pi, const char *generated_pm,
				    const char *generated_mandate)
{
	return details(a, pm, pi, true, generated_pm, generated_mandate);
}

const char *redirect_setup_details(struct arena *a, const struct pm_card *pm, bool authorized,
				   const char *generated_pm, const char *generated_mandate)
{
	return details(a, pm, NULL, authorized, generated_pm, generated_mandate);
}

bool redirect_details_is(const char *details)
{
	static const char *const heads[] = {"{\"ideal\":", "{\"bancontact\":", "{\"affirm\":",
					    "{\"afterpay_clearpay\":", "{\"klarna\":",
					    /* bank transfers' (api/cash_balance.c) */
					    "{\"customer_balance\":"};
	for (size_t i = 0; details && i < sizeof(heads) / sizeof(heads[0]); i++)
		if (strncmp(details, heads[i], strlen(heads[i])) == 0)
			return true;
	return false;
}

/* Stripe's limits per lender and currency ("Payment options and limits" in each method's
 * docs), in minor units */
static const struct bnpl_limit {
	const char *type, *currency;
	int64_t min, max;
} LIMITS[] = {
    {"affirm", "usd", 5000, 3000000},	       {"affirm", "cad", 5000, 3000000},
    {"afterpay_clearpay", "aud", 100, 200000}, {"afterpay_clearpay", "cad", 100, 200000},
    {"afterpay_clearpay", "nzd", 100, 200000}, {"afterpay_clearpay", "gbp", 100, 120000},
    {"afterpay_clearpay", "usd", 100, 400000},
};

bool redirect_bnpl_limits(const char *type, const char *currency, int64_t *ret_min,
			  int64_t *ret_max)
{
	for (size_t i = 0; type && currency && i < sizeof(LIMITS) / sizeof(LIMITS[0]); i++)
		if (strcmp(LIMITS[i].type, type) == 0 &&
		    strcmp(LIMITS[i].currency, currency) == 0) {
			*ret_min = LIMITS[i].min;
			*ret_max = LIMITS[i].max;
			return true;
		}
	return false;
}

/* Whether root holds a non-empty string at key (inside the object at parent, when given). */
static bool has_str(json_t *root, const char *parent, const char *key)
{
	json_t *o = parent ? json_object_get(root, parent) : root;
	const char *v = json_string_value(json_object_get(o, key));
	return v && *v;
}

const char *redirect_bnpl_missing(const char *type, const char *billing_json,
				  const char *shipping_json)
{
	bool afterpay = type && strcmp(type, "afterpay_clearpay") == 0;
	bool klarna = type && strcmp(type, "klarna") == 0;
	if (!afterpay && !klarna)
		return NULL;
	json_error_t e;
	json_t *b = billing_json ? json_loads(billing_json, 0, &e) : NULL;
	const char *missing = NULL;
	if (afterpay) {
		json_t *sh = shipping_json ? json_loads(shipping_json, 0, &e) : NULL;
		if (!has_str(b, NULL, "name"))
			missing = "billing_details[name]";
		else if (!has_str(b, NULL, "email"))
			missing = "billing_details[email]";
		else if (!has_str(b, "address", "line1"))
			missing = "billing_details[address][line1]";
		else if (!has_str(b, "address", "country"))
			missing = "billing_details[address][country]";
		else if (!sh)
			missing = "shipping";
		else if (!has_str(sh, NULL, "name"))
			missing = "shipping[name]";
		else if (!has_str(sh, "address", "line1"))
			missing = "shipping[address][line1]";
		else if (!has_str(sh, "address", "country"))
			missing = "shipping[address][country]";
		json_decref(sh);
	} else if (!has_str(b, NULL, "email")) {
		missing = "billing_details[email]";
	} else if (!has_str(b, "address", "country")) {
		missing = "billing_details[address][country]";
	}
	json_decref(b);
	return missing;
}

static const char SQL_DELETE[] =
    "DELETE FROM redirect_authorizations WHERE merchant_id = $1 AND payment_intent = $2";
static const char SQL_INSERT[] =
    "INSERT INTO redirect_authorizations (merchant_id, payment_intent, token, payment_method,"
    " status, created, acceptance_type, acceptance_ip, acceptance_ua)"
    " VALUES ($1, $2, $3, $4, 'pending', $5, $6, $7, $8)";
static const char SQL_GET[] =
    "SELECT token, payment_method, status, acceptance_type, acceptance_ip, acceptance_ua"
    " FROM redirect_authorizations WHERE merchant_id = $1 AND payment_intent = $2";
static const char SQL_FINISH[] =
    "UPDATE redirect_authorizations SET status = $4 WHERE merchant_id = $1 AND payment_intent = $2"
    " AND token = $3 AND status = 'pending'";

int redirect_auth_put(struct db *db, const char *merchant_id, const char *pi_id, const char *token,
		      const char *pm_id, const struct redirect_acceptance *acc, int64_t now)
{
	/* a confirmation again replaces the earlier attempt: its token no longer opens anything */
	struct db_stmt *st = db_prepare(db, SQL_DELETE);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, pi_id, -1);
	int rc = db_step_done(st);
	if (rc != DB_OK)
		return rc;
	st = db_prepare(db, SQL_INSERT);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, pi_id, -1);
	db_bind_text(st, 3, token, -1);
	db_bind_text(st, 4, pm_id, -1);
	db_bind_int64(st, 5, now);
	db_bind_text(st, 6, acc ? acc->type : NULL, -1);
	db_bind_text(st, 7, acc ? acc->ip : NULL, -1);
	db_bind_text(st, 8, acc ? acc->user_agent : NULL, -1);
	return db_step_done(st);
}

int redirect_auth_get(struct db *db, struct arena *a, const char *merchant_id, const char *pi_id,
		      const char **ret_token, const char **ret_pm, const char **ret_status,
		      struct redirect_acceptance *ret_acc)
{
	struct db_stmt *st = db_prepare(db, SQL_GET);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, pi_id, -1);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		*ret_token = arena_strdup(a, db_col_text(st, 0, NULL));
		*ret_pm = arena_strdup(a, db_col_text(st, 1, NULL));
		*ret_status = arena_strdup(a, db_col_text(st, 2, NULL));
		if (ret_acc) {
			const char *t = db_col_text(st, 3, NULL);
			const char *ip = db_col_text(st, 4, NULL);
			const char *ua = db_col_text(st, 5, NULL);
			ret_acc->type = t ? arena_strdup(a, t) : NULL;
			ret_acc->ip = ip ? arena_strdup(a, ip) : NULL;
			ret_acc->user_agent = ua ? arena_strdup(a, ua) : NULL;
		}
	}
	db_reset(st);
	if (rc == DB_ROW)
		return *ret_token && *ret_pm && *ret_status ? DB_OK : DB_ERR;
	return rc == DB_DONE ? DB_NOTFOUND : rc;
}

int redirect_auth_finish(struct db *db, const char *merchant_id, const char *pi_id,
			 const char *token, const char *status)
{
	struct db_stmt *st = db_prepare(db, SQL_FINISH);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, pi_id, -1);
	db_bind_text(st, 3, token, -1);
	db_bind_text(st, 4, status, -1);
	int64_t changed = 0;
	int rc = db_step_changes(st, &changed);
	if (rc != DB_OK)
		return rc;
	return changed == 1 ? DB_OK : DB_CONFLICT;
}

int redirect_charge_book(struct db *db, struct arena *a, const char *merchant_id, struct charge *ch,
			 const char *type, bool capture, const struct ledger_pricing *pricing,
			 int64_t now)
{
	ch->status = "succeeded";
	ch->paid = true;
	if (!capture) {
		/* capture_method=manual (a lender's authorization): held as a card authorization
		 * is, the acquirer's hold and the ledger's, until payment_capture books the sale or
		 * payment_release lets it go; the type stands for the approval code they need */
		ch->authorization_code = type;
		int rc = processor_hold(db, merchant_id, type, ch->id, ch->amount, ch->currency,
					ACQ_SUCCEED, now);
		if (rc == DB_OK)
			rc = ledger_authorize(db, merchant_id, ch->id, ch->amount, ch->currency,
					      now);
		return rc == DB_OK ? charge_insert(db, merchant_id, ch) : rc;
	}
	/* the bank's authorization is the acquirer's hold captured in full as it is placed: refunds
	 * and the invariants between acquirer and ledger see it as a card's automatic capture */
	int rc = processor_hold_captured(db, merchant_id, type, ch->id, ch->amount, ch->currency,
					 ACQ_SUCCEED, now);
	if (rc != DB_OK)
		return rc;
	/* the method's own price (ledger.h) */
	struct ledger_pricing priced = *pricing;
	char country[3];
	charge_fee_facts(ch, &priced, country);
	char bt[ID_MAX];
	rc = ledger_sale_as(db, merchant_id, ch->id, ch->amount, ch->currency, &priced, now, NULL,
			    bt);
	if (rc != DB_OK)
		return rc;
	ch->captured = true;
	ch->amount_captured = ch->amount;
	ch->balance_transaction = arena_strdup(a, bt);
	if (!ch->balance_transaction)
		return DB_ERR;
	return charge_insert(db, merchant_id, ch);
}
