/*
 * /v1/accounts and /v1/account: Stripe Connect's connected accounts, created and managed by a
 * platform (merchant/connect.h says what a connected account is).
 *
 * Creating one writes two rows in two transactions: the account's merchants row (global: shard
 * 0 on PostgreSQL, whose trigger puts the account on its platform's shard), then, in the
 * request's own write (req_write, with its idempotency record), the platform's
 * connected_accounts row and its event. A crash between the two leaves a merchants row with no
 * API keys and no connected_accounts row: nothing can reach it (Stripe-Account needs the row),
 * so it is harmless, and a retry with the same Idempotency-Key makes a new account.
 *
 * Onboarding. An Express or Standard account (type, or the controller settings Stripe treats as
 * such) owes what Stripe's onboarding collects: business_type, the individual's name, date of
 * birth and address (or the company's name and address), an external account, and the terms
 * of service acceptance. What is still missing is its requirements.currently_due (and
 * eventually_due, past_due); until nothing is, charges_enabled, payouts_enabled and
 * details_submitted are false and its requested capabilities "inactive". The platform gives it
 * through the API (individual[…], company[…], external_account, tos_acceptance on create or
 * update: an account created with everything is enabled at once) or sends the account holder
 * to the onboarding page (account_links.c). A Custom account's platform is responsible for
 * its requirements (Stripe's requirement_collection=application): it is usable at once, as
 * before. Tender does not refuse payments to an account that is not enabled: accounts made
 * before onboarding existed took payments at once, and Stripe's test mode is lenient there too
 * (its docs: sandboxes may not enforce capabilities).
 *
 * An enablement or requirements change is in account.updated's previous_attributes, and each
 * requested capability whose status changed gets capability.updated (the account's event).
 *
 * A connected account acting through Stripe-Account cannot make accounts of its own (no nested
 * platforms: a family is one platform and its accounts, which is what keeps it on one shard).
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/common.h"
#include "api/accounts.h"
#include "api/connect_tokens.h"
#include "api/external_accounts.h"
#include "api/files.h"
#include "api/persons.h"
#include "events/events.h"
#include "api/list.h"
#include "api/payments_common.h"
#include "api/payout_schedule.h"
#include "api/resources.h"
#include "app.h"
#include "core/parse.h"
#include "core/str.h"
#include "http/form.h"
#include "merchant/connect.h"
#include "merchant/merchant.h"
#include "money/currency.h"
#include "store/store.h"

/* business_profile's fields, in column order (bp_<name>) */
enum {
	BP_NAME,
	BP_URL,
	BP_MCC,
	BP_PRODUCT_DESCRIPTION,
	BP_SUPPORT_EMAIL,
	BP_SUPPORT_PHONE,
	BP_SUPPORT_URL,
	BP_N
};
static const char *const bp_names[BP_N] = {
    "name", "url", "mcc", "product_description", "support_email", "support_phone", "support_url",
};
/* the capabilities Tender takes requests for */
enum { CAP_CARD_PAYMENTS, CAP_TRANSFERS, CAP_N };
static const char *const cap_names[CAP_N] = {"card_payments", "transfers"};
#define CAP_NOT_REQUESTED (-1)

struct account {
	char id[ID_MAX];
	int64_t created;
	const char *type, *country, *email, *business_type, *metadata;
	char default_currency[8];
	const char *bp[BP_N];
	int cap[CAP_N]; /* CAP_NOT_REQUESTED, 0 (requested false) or 1 */
	bool has_tos_date;
	int64_t tos_date;
	const char *tos_ip, *tos_user_agent, *tos_service_agreement;
	bool deleted;
	bool own; /* the caller's own account (GET /v1/account), not one it controls */
	const char *co_name, *co_phone, *co_address, *co_structure; /* company[…] */
	bool co_tax_id_provided;
	bool has_individual;
	struct person individual;
	int64_t n_external;
	bool ind_dirty;			  /* individual[…] changed it: person_save */
	const char *due[ACCOUNT_DUE_MAX]; /* requirements.currently_due (account_requirements) */
	int n_due;
	struct payout_schedule sched; /* settings.payouts.schedule */
	int64_t po_next_due;	      /* its next due date, 0: none (manual) */
	/* settings.payouts.statement_descriptor (NULL: none) and debit_negative_balances as set
	 * (-1: never set, Stripe's default for the account's type) */
	const char *po_descriptor;
	int po_debit_negative;
	/* rejected by its platform (POST …/reject): the reason given, NULL while it is not;
	 * payouts_paused: that rejection paused its payouts (payouts_action=pause) */
	const char *rejected;
	bool payouts_paused;
};

#define COLS                                                                                       \
	"id, created, type, country, email, business_type, default_currency, metadata, bp_name,"   \
	" bp_url, bp_mcc, bp_product_description, bp_support_email, bp_support_phone,"             \
	" bp_support_url, cap_card_payments, cap_transfers, tos_date, tos_ip, tos_user_agent,"     \
	" tos_service_agreement, deleted, co_name, co_phone, co_address, co_structure,"            \
	" co_tax_id_provided, po_interval, po_delay_days, po_weekly_anchor, po_monthly_anchor,"    \
	" po_next_due, po_statement_descriptor, po_debit_negative"
static const char SQL_GET[] = "SELECT " COLS ", rejected, payouts_paused FROM connected_accounts"
			      " WHERE merchant_id = $1 AND id = $2";
static const char SQL_REJECT[] = "UPDATE connected_accounts SET rejected = $3,"
				 " payouts_paused = $4 WHERE merchant_id = $1 AND id = $2"
				 " AND deleted = 0 AND rejected IS NULL";
static const char SQL_UNREJECT[] = "UPDATE connected_accounts SET rejected = NULL,"
				   " payouts_paused = 0 WHERE merchant_id = $1 AND id = $2"
				   " AND deleted = 0 AND rejected IS NOT NULL";
static const char SQL_INSERT[] =
    "INSERT INTO connected_accounts (merchant_id, " COLS ")"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18,"
    " $19, $20, $21, $22, 0, $23, $24, $25, $26, $27, $28, $29, $30, $31, $32, $33, $34)";
static const char SQL_UPDATE[] =
    "UPDATE connected_accounts SET email = $3, business_type = $4, metadata = $5, bp_name = $6,"
    " bp_url = $7, bp_mcc = $8, bp_product_description = $9, bp_support_email = $10,"
    " bp_support_phone = $11, bp_support_url = $12, cap_card_payments = $13,"
    " cap_transfers = $14, tos_date = $15, tos_ip = $16, tos_user_agent = $17,"
    " tos_service_agreement = $18, co_name = $19, co_phone = $20, co_address = $21,"
    " co_structure = $22, co_tax_id_provided = $23, po_interval = $24, po_delay_days = $25,"
    " po_weekly_anchor = $26, po_monthly_anchor = $27, po_next_due = $28,"
    " po_statement_descriptor = $29, po_debit_negative = $30"
    " WHERE merchant_id = $1 AND id = $2 AND deleted = 0";
static const char SQL_DELETE[] = "UPDATE connected_accounts SET deleted = 1"
				 " WHERE merchant_id = $1 AND id = $2 AND deleted = 0";

/* A country's currency when default_currency is not given; any other country settles in usd
 * (a small table on purpose: Tender keeps no list of Stripe's supported countries). */
static const struct {
	const char *country, *currency;
} country_currencies[] = {
    {"US", "usd"}, {"CA", "cad"}, {"GB", "gbp"}, {"AU", "aud"}, {"NZ", "nzd"}, {"JP", "jpy"},
    {"SG", "sgd"}, {"HK", "hkd"}, {"CH", "chf"}, {"SE", "sek"}, {"DK", "dkk"}, {"NO", "nok"},
    {"PL", "pln"}, {"MX", "mxn"}, {"BR", "brl"}, {"IN", "inr"}, {"DE", "eur"}, {"FR", "eur"},
    {"IE", "eur"}, {"NL", "eur"}, {"ES", "eur"}, {"IT", "eur"}, {"BE", "eur"}, {"AT", "eur"},
    {"FI", "eur"}, {"PT", "eur"}, {"LU", "eur"},
};
#define N_COUNTRIES (sizeof(country_currencies) / sizeof(country_currencies[0]))

static const char *country_currency(const char *country)
{
	for (size_t i = 0; i < N_COUNTRIES; i++)
		if (strcmp(country_currencies[i].country, country) == 0)
			return country_currencies[i].currency;
	return "usd";
}

/* An ordinary merchant's country: Tender's merchants carry none, so the first country of the
 * table that settles in its currency (a eur merchant says DE), US when none does. */
static const char *currency_country(const char *currency)
{
	for (size_t i = 0; i < N_COUNTRIES; i++)
		if (strcmp(country_currencies[i].currency, currency) == 0)
			return country_currencies[i].country;
	return "US";
}

static bool str_same(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcmp(a, b) == 0;
}

static bool needs_onboarding(const struct account *acct)
{
	return !acct->own &&
	       (strcmp(acct->type, "express") == 0 || strcmp(acct->type, "standard") == 0);
}

/* It can take charges: it owes nothing and was not rejected. */
static bool acct_enabled(const struct account *acct)
{
	return acct->n_due == 0 && !acct->rejected;
}

/* It can make payouts: it owes nothing, and no rejection paused them. */
static bool acct_payouts_enabled(const struct account *acct)
{
	return acct->n_due == 0 && !acct->payouts_paused;
}

/* settings.payouts.debit_negative_balances: as the platform set it, else Stripe's default,
 * false when the platform collects requirements (a Custom account), true otherwise. */
static bool acct_debit_negative(const struct account *acct)
{
	if (acct->po_debit_negative >= 0)
		return acct->po_debit_negative != 0;
	return strcmp(acct->type, "custom") != 0;
}

/* requirements.disabled_reason: a rejection's (Stripe's names for one its platform made, since
 * API version 2026-09-30), else what onboarding owes; NULL: enabled. */
static const char *disabled_reason(const struct account *acct)
{
	if (acct->rejected) {
		if (strncmp(acct->rejected, "fraud", 5) == 0)
			return "rejected.platform_fraud";
		if (strcmp(acct->rejected, "terms_of_service") == 0)
			return "rejected.platform_terms_of_service";
		return "rejected.platform_other";
	}
	return acct->n_due ? "requirements.past_due" : NULL;
}

static bool is_company(const char *business_type)
{
	return business_type && strcmp(business_type, "individual") != 0;
}

/* requirements.currently_due, in Stripe's (alphabetical) order, from what acct holds. */
static void account_due_compute(struct arena *a, struct account *acct)
{
	acct->n_due = 0;
	if (!needs_onboarding(acct))
		return;
	const char **d = acct->due;
	int n = 0;
	if (!acct->business_type)
		d[n++] = "business_type";
	if (is_company(acct->business_type)) {
		/* a company owes its address and its name (person_due's address part) */
		struct person addr_only = {
		    .address = acct->co_address, .first_name = "", .last_name = "", .dob_day = 1};
		n += person_due(a, &addr_only, "company.", d + n);
		if (!acct->co_name)
			d[n++] = "company.name";
	}
	if (acct->n_external == 0)
		d[n++] = "external_account";
	if (acct->business_type && strcmp(acct->business_type, "individual") == 0) {
		struct person none = {.rel_director = -1};
		n += person_due(a, acct->has_individual ? &acct->individual : &none, "individual.",
				d + n);
	}
	if (!acct->has_tos_date)
		d[n++] = "tos_acceptance.date";
	if (!acct->tos_ip)
		d[n++] = "tos_acceptance.ip";
	acct->n_due = n;
}

/* The rest of a connected account: its individual, how many external accounts it has, and
 * what it still owes. */
static int account_complete(struct db *db, struct arena *a, struct account *acct)
{
	int rc = person_individual_load(db, a, acct->id, &acct->individual);
	if (rc != DB_OK && rc != DB_NOTFOUND)
		return rc;
	acct->has_individual = rc == DB_OK;
	rc = external_accounts_count(db, acct->id, &acct->n_external);
	if (rc != DB_OK)
		return rc;
	account_due_compute(a, acct);
	return DB_OK;
}

static int account_load(struct db *db, struct arena *a, const char *platform_id, const char *id,
			struct account *acct)
{
	struct db_stmt *st = db_prepare(db, SQL_GET);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, platform_id, -1);
	db_bind_text(st, 2, id, -1);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		memset(acct, 0, sizeof(*acct));
		str_copy(acct->id, sizeof(acct->id), db_col_text(st, 0, NULL));
		acct->created = db_col_int64(st, 1);
		acct->type = col_text_dup(a, st, 2);
		acct->country = col_text_dup(a, st, 3);
		acct->email = col_text_dup(a, st, 4);
		acct->business_type = col_text_dup(a, st, 5);
		const char *cur = db_col_text(st, 6, NULL);
		str_copy(acct->default_currency, sizeof(acct->default_currency), cur ? cur : "");
		acct->metadata = col_text_dup(a, st, 7);
		for (int i = 0; i < BP_N; i++)
			acct->bp[i] = col_text_dup(a, st, 8 + i);
		for (int i = 0; i < CAP_N; i++)
			acct->cap[i] = db_col_is_null(st, 15 + i) ? CAP_NOT_REQUESTED
								  : db_col_int64(st, 15 + i) != 0;
		acct->has_tos_date = !db_col_is_null(st, 17);
		acct->tos_date = acct->has_tos_date ? db_col_int64(st, 17) : 0;
		acct->tos_ip = col_text_dup(a, st, 18);
		acct->tos_user_agent = col_text_dup(a, st, 19);
		acct->tos_service_agreement = col_text_dup(a, st, 20);
		acct->deleted = db_col_int64(st, 21) != 0;
		acct->co_name = col_text_dup(a, st, 22);
		acct->co_phone = col_text_dup(a, st, 23);
		acct->co_address = col_text_dup(a, st, 24);
		acct->co_structure = col_text_dup(a, st, 25);
		acct->co_tax_id_provided = db_col_int64(st, 26) != 0;
		const char *iv = db_col_text(st, 27, NULL);
		if (payout_interval_parse(iv, &acct->sched.interval) != 0)
			acct->sched.interval = PAYOUT_MANUAL;
		acct->sched.delay_days = (int)db_col_int64(st, 28);
		acct->sched.weekly_anchor = -1;
		const char *wa = db_col_text(st, 29, NULL);
		if (wa && payout_weekday_parse(wa, &acct->sched.weekly_anchor) != 0)
			acct->sched.weekly_anchor = -1;
		acct->sched.monthly_anchor = (int)db_col_int64_or0(st, 30);
		acct->po_next_due = db_col_int64_or0(st, 31);
		acct->po_descriptor = col_text_dup(a, st, 32);
		acct->po_debit_negative = db_col_is_null(st, 33) ? -1 : db_col_int64(st, 33) != 0;
		acct->rejected = col_text_dup(a, st, 34);
		acct->payouts_paused = db_col_int64(st, 35) != 0;
		if (!acct->type || !acct->country || !acct->metadata)
			rc = DB_ERR;
	}
	db_reset(st);
	if (rc == DB_ROW)
		return account_complete(db, a, acct);
	return rc == DB_DONE ? DB_NOTFOUND : rc < 0 ? rc : DB_ERR;
}

/* The caller's own account, from its merchants row (GET /v1/account without Stripe-Account). */
static int own_account_load(struct db *db, struct arena *a, const char *merchant_id,
			    struct account *acct)
{
	struct merchant_info m;
	int rc = merchant_get(db, merchant_id, &m);
	if (rc != 0)
		return rc;
	memset(acct, 0, sizeof(*acct));
	str_copy(acct->id, sizeof(acct->id), m.id);
	acct->created = m.created;
	acct->type = "standard";
	str_copy(acct->default_currency, sizeof(acct->default_currency), m.settlement_currency);
	acct->country = currency_country(acct->default_currency);
	acct->metadata = "{}";
	acct->bp[BP_NAME] = m.name[0] ? arena_strdup(a, m.name) : NULL;
	acct->bp[BP_MCC] = m.mcc > 0 ? arena_printf(a, "%04d", m.mcc) : NULL;
	acct->cap[CAP_CARD_PAYMENTS] = 1;
	acct->cap[CAP_TRANSFERS] = 1;
	acct->own = true;
	acct->sched = (struct payout_schedule){PAYOUT_MANUAL, PAYOUT_DELAY_DAYS, -1, 0};
	acct->po_debit_negative = -1;
	return DB_OK;
}

static void render_due(struct json *j, const char *key, const char *const *due, int n)
{
	json_key(j, key);
	json_arr_open(j);
	for (int i = 0; i < n; i++)
		json_str(j, due[i]);
	json_arr_close(j);
}

/* An account's (or a capability's) requirements: what is due is also past due (onboarding has
 * no deadline in test mode) and disables the account, as a rejection does (`disabled`: the
 * reason, NULL when enabled). */
static void render_requirements(struct json *j, const char *key, const char *const *due, int n,
				const char *disabled)
{
	json_key(j, key);
	json_obj_open(j);
	render_due(j, "alternatives", NULL, 0);
	json_kv_null(j, "current_deadline");
	render_due(j, "currently_due", due, n);
	json_kv_str_or_null(j, "disabled_reason", disabled);
	render_due(j, "errors", NULL, 0);
	render_due(j, "eventually_due", due, n);
	render_due(j, "past_due", due, n);
	render_due(j, "pending_verification", NULL, 0);
	json_obj_close(j);
}

static void render_company(struct json *j, const struct account *acct)
{
	json_key(j, "company");
	json_obj_open(j);
	if (acct->co_address) {
		json_kv_raw(j, "address", acct->co_address, strlen(acct->co_address));
	} else {
		json_key(j, "address");
		json_obj_open(j);
		static const char *const keys[] = {"city",  "country",	   "line1",
						   "line2", "postal_code", "state"};
		for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			json_kv_null(j, keys[i]);
		json_obj_close(j);
	}
	json_kv_null(j, "address_kana");
	json_kv_null(j, "address_kanji");
	json_kv_bool(j, "directors_provided", false);
	json_kv_bool(j, "executives_provided", false);
	json_kv_str_or_null(j, "name", acct->co_name);
	json_kv_null(j, "name_kana");
	json_kv_null(j, "name_kanji");
	json_kv_bool(j, "owners_provided", false);
	json_kv_null(j, "ownership_declaration");
	json_kv_str_or_null(j, "phone", acct->co_phone);
	if (acct->co_structure)
		json_kv_str(j, "structure", acct->co_structure);
	json_kv_bool(j, "tax_id_provided", acct->co_tax_id_provided);
	json_kv_bool(j, "vat_id_provided", false);
	json_key(j, "verification");
	json_obj_open(j);
	json_key(j, "document");
	json_obj_open(j);
	json_kv_null(j, "back");
	json_kv_null(j, "details");
	json_kv_null(j, "details_code");
	json_kv_null(j, "front");
	json_obj_close(j);
	json_obj_close(j);
	json_obj_close(j);
}

/* settings.payouts.schedule: an anchor only with the interval it belongs to, as on Stripe. */
static void render_schedule(struct json *j, const struct payout_schedule *s)
{
	json_key(j, "schedule");
	json_obj_open(j);
	json_kv_int(j, "delay_days", s->delay_days);
	json_kv_str(j, "interval", payout_interval_name(s->interval));
	if (s->interval == PAYOUT_MONTHLY)
		json_kv_int(j, "monthly_anchor", s->monthly_anchor);
	if (s->interval == PAYOUT_WEEKLY)
		json_kv_str(j, "weekly_anchor", payout_weekday_name(s->weekly_anchor));
	json_obj_close(j);
}

static bool schedule_same(const struct payout_schedule *a, const struct payout_schedule *b)
{
	return a->interval == b->interval && a->delay_days == b->delay_days &&
	       (a->interval != PAYOUT_WEEKLY || a->weekly_anchor == b->weekly_anchor) &&
	       (a->interval != PAYOUT_MONTHLY || a->monthly_anchor == b->monthly_anchor);
}

/* Stripe's defaults for what Tender does not let an account change: card payments decline on
 * failed CVC and address checks, and payouts follow settings.payouts.schedule (manual unless the
 * platform sets one), on funds available after LEDGER_AVAILABLE_DELAY_S (2 days). */
static void render_settings(struct json *j, const struct account *acct)
{
	json_key(j, "settings");
	json_obj_open(j);
	json_key(j, "branding");
	json_obj_open(j);
	json_kv_null(j, "icon");
	json_kv_null(j, "logo");
	json_kv_null(j, "primary_color");
	json_kv_null(j, "secondary_color");
	json_obj_close(j);
	json_key(j, "card_payments");
	json_obj_open(j);
	json_key(j, "decline_on");
	json_obj_open(j);
	json_kv_bool(j, "avs_failure", true);
	json_kv_bool(j, "cvc_failure", true);
	json_obj_close(j);
	json_kv_null(j, "statement_descriptor_prefix");
	json_kv_null(j, "statement_descriptor_prefix_kana");
	json_kv_null(j, "statement_descriptor_prefix_kanji");
	json_obj_close(j);
	json_key(j, "dashboard");
	json_obj_open(j);
	json_kv_str_or_null(j, "display_name", acct->bp[BP_NAME]);
	json_kv_str(j, "timezone", "Etc/UTC");
	json_obj_close(j);
	json_key(j, "payments");
	json_obj_open(j);
	json_kv_null(j, "statement_descriptor");
	json_kv_null(j, "statement_descriptor_kana");
	json_kv_null(j, "statement_descriptor_kanji");
	json_kv_null(j, "statement_descriptor_prefix_kana");
	json_kv_null(j, "statement_descriptor_prefix_kanji");
	json_obj_close(j);
	json_key(j, "payouts");
	json_obj_open(j);
	json_kv_bool(j, "debit_negative_balances", acct_debit_negative(acct));
	render_schedule(j, &acct->sched);
	json_kv_str_or_null(j, "statement_descriptor", acct->po_descriptor);
	json_obj_close(j);
	json_obj_close(j);
}

/* A requested capability is active once the account owes nothing; NULL: not requested. */
static const char *cap_status_of(const struct account *acct, int i)
{
	if (acct->cap[i] == CAP_NOT_REQUESTED)
		return NULL;
	return acct->cap[i] && acct_enabled(acct) ? "active" : "inactive";
}

/* Every field of Stripe's Account but the nested settings of payment methods Tender does not
 * offer; `company` and `individual` only when the account has them, as on Stripe. */
static int account_render(struct db *db, struct arena *a, const struct account *acct,
			  struct json *j)
{
	bool enabled = acct_enabled(acct);
	json_obj_open(j);
	json_kv_str(j, "id", acct->id);
	json_kv_str(j, "object", "account");
	json_key(j, "business_profile");
	json_obj_open(j);
	json_kv_str_or_null(j, "mcc", acct->bp[BP_MCC]);
	json_kv_str_or_null(j, "name", acct->bp[BP_NAME]);
	json_kv_str_or_null(j, "product_description", acct->bp[BP_PRODUCT_DESCRIPTION]);
	json_kv_null(j, "support_address");
	json_kv_str_or_null(j, "support_email", acct->bp[BP_SUPPORT_EMAIL]);
	json_kv_str_or_null(j, "support_phone", acct->bp[BP_SUPPORT_PHONE]);
	json_kv_str_or_null(j, "support_url", acct->bp[BP_SUPPORT_URL]);
	json_kv_str_or_null(j, "url", acct->bp[BP_URL]);
	json_obj_close(j);
	json_kv_str_or_null(j, "business_type", acct->business_type);
	json_key(j, "capabilities");
	json_obj_open(j);
	for (int i = 0; i < CAP_N; i++)
		if (cap_status_of(acct, i))
			json_kv_str(j, cap_names[i], cap_status_of(acct, i));
	json_obj_close(j);
	json_kv_bool(j, "charges_enabled", enabled);
	if (acct->co_name || acct->co_phone || acct->co_address || acct->co_tax_id_provided ||
	    acct->co_structure)
		render_company(j, acct);
	json_key(j, "controller");
	json_obj_open(j);
	if (acct->own) {
		json_kv_str(j, "type", "account");
	} else {
		json_kv_bool(j, "is_controller", true);
		json_kv_str(j, "type", "application");
	}
	json_obj_close(j);
	json_kv_str(j, "country", acct->country);
	json_kv_int(j, "created", acct->created);
	json_kv_str(j, "default_currency", acct->default_currency);
	json_kv_bool(j, "details_submitted", acct->n_due == 0);
	json_kv_str_or_null(j, "email", acct->email);
	json_key(j, "external_accounts");
	int rc = external_accounts_list_render(db, acct->id, j);
	if (rc != DB_OK)
		return rc;
	render_requirements(j, "future_requirements", NULL, 0, NULL);
	if (acct->has_individual) {
		json_key(j, "individual");
		person_render(a, &acct->individual, j);
	}
	json_kv_raw(j, "metadata", acct->metadata, strlen(acct->metadata));
	json_kv_bool(j, "payouts_enabled", acct_payouts_enabled(acct));
	render_requirements(j, "requirements", acct->due, acct->n_due, disabled_reason(acct));
	render_settings(j, acct);
	json_key(j, "tos_acceptance");
	json_obj_open(j);
	if (acct->has_tos_date)
		json_kv_int(j, "date", acct->tos_date);
	else
		json_kv_null(j, "date");
	json_kv_str_or_null(j, "ip", acct->tos_ip);
	json_kv_str(j, "service_agreement",
		    acct->tos_service_agreement ? acct->tos_service_agreement : "full");
	json_kv_str_or_null(j, "user_agent", acct->tos_user_agent);
	json_obj_close(j);
	json_kv_str(j, "type", acct->type);
	json_obj_close(j);
	return DB_OK;
}

/* The account as JSON text in r's arena (for an event), or NULL. */
static const char *account_json(struct req *r, struct db *db, const struct account *acct,
				size_t *ret_len)
{
	struct buf b;
	struct json j;
	buf_init(&b, 1u << 20);
	json_init(&j, &b);
	int rc = account_render(db, &r->arena, acct, &j);
	char *out = NULL;
	if (!b.failed && rc == DB_OK) {
		out = arena_alloc(&r->arena, b.len + 1);
		if (out) {
			memcpy(out, b.data, b.len);
			out[b.len] = '\0';
			*ret_len = b.len;
		}
	}
	buf_release(&b);
	return out;
}

static int respond(struct req *r, struct db *db, const struct account *acct)
{
	return account_render(db, &r->arena, acct, req_json(r)) == DB_OK
		   ? 0
		   : req_fail(r, ERR_API, NULL, NULL);
}

/* ---- parameters shared by create and update ---- */

static const struct param_spec bp_params[] = {
    {"name", PT_STRING, PF_EMPTYABLE, 200, NULL, NULL},
    {"url", PT_STRING, PF_EMPTYABLE, 5000, NULL, NULL},
    {"mcc", PT_STRING, PF_EMPTYABLE, 4, NULL, NULL},
    {"product_description", PT_STRING, PF_EMPTYABLE, 5000, NULL, NULL},
    {"support_email", PT_STRING, PF_EMPTYABLE, 800, NULL, NULL},
    {"support_phone", PT_STRING, PF_EMPTYABLE, 64, NULL, NULL},
    {"support_url", PT_STRING, PF_EMPTYABLE, 5000, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec cap_requested[] = {
    {"requested", PT_BOOL, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec cap_params[] = {
    {"card_payments", PT_OBJECT, 0, 0, NULL, cap_requested},
    {"transfers", PT_OBJECT, 0, 0, NULL, cap_requested},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec tos_params[] = {
    {"date", PT_INT, 0, 0, NULL, NULL},
    {"ip", PT_STRING, PF_EMPTYABLE, 64, NULL, NULL},
    {"user_agent", PT_STRING, PF_EMPTYABLE, 5000, NULL, NULL},
    {"service_agreement", PT_ENUM, 0, 0, (const char *const[]){"full", "recipient", NULL}, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
const char *const accounts_business_types[] = {"company", "government_entity", "individual",
					       "non_profit", NULL};

/* acct's payout schedule becomes s: a changed schedule's first due date is the first one after
 * now; an unchanged one keeps its next due date. 0, or -1 with r->err. */
static int schedule_set(struct req *r, struct account *acct, const struct payout_schedule *s)
{
	if (schedule_same(s, &acct->sched))
		return 0;
	acct->sched = *s;
	acct->po_next_due = 0;
	if (s->interval != PAYOUT_MANUAL &&
	    payout_schedule_next(s, r->now, &acct->po_next_due) != 0)
		return req_fail(r, ERR_API, NULL, NULL);
	return 0;
}

/*
 * settings[payouts]: debit_negative_balances, statement_descriptor (the automatic payouts'),
 * and schedule: interval, weekly_anchor (with weekly, required then), monthly_anchor (with
 * monthly, required then), delay_days: how long the account's own charges (direct charges)
 * take to become available (the ledger reads it at capture: ledger_delay_days), from Tender's
 * 2 days ("minimum") to Stripe's 31.
 */
static int apply_schedule(struct req *r, struct account *acct)
{
	bool dnb;
	if (param_bool(r, "settings.payouts.debit_negative_balances", &dnb) == 1)
		acct->po_debit_negative = dnb;
	const char *sd = param_str(r, "settings.payouts.statement_descriptor");
	if (sd && *sd)
		acct->po_descriptor = sd;
	if (!param_present(r, "settings.payouts.schedule"))
		return 0;
	struct payout_schedule s = acct->sched;
	const char *iv = param_str(r, "settings.payouts.schedule.interval");
	if (iv && payout_interval_parse(iv, &s.interval) != 0)
		return req_fail(r, ERR_PARAM_BAD, "settings[payouts][schedule][interval]",
				"Invalid interval: manual, daily, weekly or monthly.");
	const char *dd = param_str(r, "settings.payouts.schedule.delay_days");
	if (dd && *dd) {
		int64_t days = PAYOUT_DELAY_DAYS;
		if (strcmp(dd, "minimum") != 0 &&
		    (parse_i64(dd, &days) != 0 || days < PAYOUT_DELAY_DAYS ||
		     days > PAYOUT_DELAY_DAYS_MAX))
			return req_fail(
			    r, ERR_PARAM_BAD, "settings[payouts][schedule][delay_days]",
			    "delay_days must be `minimum` or a number of days from %d "
			    "(Tender's minimum: a charge's funds become available 2 days "
			    "after it) to %d.",
			    PAYOUT_DELAY_DAYS, PAYOUT_DELAY_DAYS_MAX);
		s.delay_days = (int)days;
	}
	const char *wa = param_str(r, "settings.payouts.schedule.weekly_anchor");
	if (wa && *wa) {
		if (s.interval != PAYOUT_WEEKLY)
			return req_fail(r, ERR_PARAM_BAD,
					"settings[payouts][schedule][weekly_anchor]",
					"weekly_anchor can only be set with a weekly interval.");
		if (payout_weekday_parse(wa, &s.weekly_anchor) != 0)
			return req_fail(r, ERR_PARAM_BAD,
					"settings[payouts][schedule][weekly_anchor]",
					"Invalid weekly_anchor: a day of the week, e.g. monday.");
	}
	int64_t ma = 0;
	if (param_int(r, "settings.payouts.schedule.monthly_anchor", &ma) == 1) {
		if (s.interval != PAYOUT_MONTHLY)
			return req_fail(r, ERR_PARAM_BAD,
					"settings[payouts][schedule][monthly_anchor]",
					"monthly_anchor can only be set with a monthly interval.");
		if (ma < 1 || ma > 31)
			return req_fail(r, ERR_PARAM_BAD,
					"settings[payouts][schedule][monthly_anchor]",
					"Invalid monthly_anchor: a day of the month, 1 to 31.");
		s.monthly_anchor = (int)ma;
	}
	if (s.interval != PAYOUT_WEEKLY)
		s.weekly_anchor = -1;
	if (s.interval != PAYOUT_MONTHLY)
		s.monthly_anchor = 0;
	if (s.interval == PAYOUT_WEEKLY && s.weekly_anchor < 0)
		return req_fail(r, ERR_PARAM_MISSING, "settings[payouts][schedule][weekly_anchor]",
				"settings[payouts][schedule][weekly_anchor]");
	if (s.interval == PAYOUT_MONTHLY && s.monthly_anchor == 0)
		return req_fail(r, ERR_PARAM_MISSING, "settings[payouts][schedule][monthly_anchor]",
				"settings[payouts][schedule][monthly_anchor]");
	return schedule_set(r, acct, &s);
}

/* Applies the parameters create and update share (email, business_type, business_profile,
 * capabilities, tos_acceptance, metadata) to acct: absent keeps, "" unsets. 0, or -1 with
 * r->err. */
static int apply_common(struct req *r, struct account *acct)
{
	acct->email = str_update(r, "email", acct->email);
	acct->business_type = str_update(r, "business_type", acct->business_type);
	char path[64];
	for (int i = 0; i < BP_N; i++) {
		snprintf(path, sizeof(path), "business_profile.%s", bp_names[i]);
		acct->bp[i] = str_update(r, path, acct->bp[i]);
	}
	const char *mcc = acct->bp[BP_MCC];
	if (mcc && (strlen(mcc) != 4 || strspn(mcc, "0123456789") != 4))
		return req_fail(r, ERR_PARAM_BAD, "business_profile[mcc]",
				"Invalid business_profile[mcc]: a merchant category code is 4 "
				"digits (ISO 18245).");
	for (int i = 0; i < CAP_N; i++) {
		snprintf(path, sizeof(path), "capabilities.%s.requested", cap_names[i]);
		bool want;
		if (param_bool(r, path, &want) == 1)
			acct->cap[i] = want ? 1 : 0;
	}
	int64_t date = 0;
	if (param_int(r, "tos_acceptance.date", &date) == 1) {
		/* a Unix time, not before 2000 nor after the request: Stripe refuses a future one
		 */
		if (date < 946684800 || date > r->now)
			return req_fail(r, ERR_PARAM_BAD, "tos_acceptance[date]",
					"Invalid tos_acceptance[date]: it must be a Unix timestamp "
					"in the past.");
		acct->has_tos_date = true;
		acct->tos_date = date;
	}
	acct->tos_ip = str_update(r, "tos_acceptance.ip", acct->tos_ip);
	acct->tos_user_agent = str_update(r, "tos_acceptance.user_agent", acct->tos_user_agent);
	acct->tos_service_agreement =
	    str_update(r, "tos_acceptance.service_agreement", acct->tos_service_agreement);
	acct->co_name = str_update(r, "company.name", acct->co_name);
	acct->co_phone = str_update(r, "company.phone", acct->co_phone);
	acct->co_structure = str_update(r, "company.structure", acct->co_structure);
	if (address_from_params(r, "company.address", &acct->co_address) != 0)
		return -1;
	if (apply_schedule(r, acct) != 0)
		return -1;
	const char *tax = param_str(r, "company.tax_id");
	if (tax && *tax)
		acct->co_tax_id_provided = true; /* the number itself is not kept */
	if (param_present(r, "individual")) {
		if (is_company(acct->business_type))
			return req_fail(r, ERR_PARAM_BAD, "individual",
					"individual[…] is for accounts whose business_type is "
					"individual.");
		if (!acct->has_individual) {
			struct person *p = &acct->individual;
			memset(p, 0, sizeof(*p));
			id_new_at(p->id, "person_", r->now);
			p->account = acct->id;
			p->created = r->now;
			p->rel_director = p->rel_executive = p->rel_owner = -1;
			p->rel_representative = 1;
			p->individual = true;
			p->metadata = "{}";
			acct->has_individual = true;
		}
		if (person_apply(r, "individual", &acct->individual) != 0)
			return -1;
		acct->ind_dirty = true;
	}
	return metadata_apply(r, acct->metadata, "metadata", &acct->metadata);
}

/* What create and update keep beside the account's row: its individual, and the
 * external_account parameter (a token, or the hash, in the account's country and default
 * currency unless it says otherwise); then what the account owes again. */
static int store_extras(struct req *r, struct db *db, struct account *a)
{
	if (a->ind_dirty && person_extra_files_check(r, db, "individual", &a->individual) != 0)
		return -1;
	if (a->ind_dirty && person_save(db, &a->individual) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	const struct form_node *n = param_node(r, "external_account");
	if (n) {
		char id[ID_MAX];
		struct bank_facts f;
		const char *ref = param_str(r, "external_account");
		if (!ref) {
			if (bank_facts_from_params(r, "external_account", a->id, &f) != 0)
				return -1;
		}
		if (external_account_add(r, db, a->id, ref, &f, false, NULL, id) != 0)
			return -1;
	}
	if (account_complete(db, &r->arena, a) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	return 0;
}

/* Stripe's Capability object: one of the account's capabilities, requested or not. */
static void capability_render(struct json *j, const struct account *acct, int i)
{
	const char *status = cap_status_of(acct, i);
	bool requested = acct->cap[i] == 1;
	json_obj_open(j);
	json_kv_str(j, "id", cap_names[i]);
	json_kv_str(j, "object", "capability");
	json_kv_str(j, "account", acct->id);
	render_requirements(j, "future_requirements", NULL, 0, NULL);
	json_kv_bool(j, "requested", requested);
	if (requested)
		json_kv_int(j, "requested_at", acct->created);
	else
		json_kv_null(j, "requested_at");
	/* what onboarding still owes holds back a requested capability only */
	render_requirements(j, "requirements", acct->due, status ? acct->n_due : 0,
			    status && strcmp(status, "inactive") == 0 ? disabled_reason(acct)
								      : NULL);
	json_kv_str(j, "status", status ? status : "unrequested");
	json_obj_close(j);
}

/* capability.updated for each capability whose status moved from o to n (asking for one moves
 * it from unrequested, withdrawing the ask back there). */
static int capability_events(struct req *r, struct db *db, const struct account *o,
			     const struct account *n)
{
	for (int i = 0; i < CAP_N; i++) {
		const char *was = cap_status_of(o, i), *now = cap_status_of(n, i);
		was = was ? was : "unrequested";
		now = now ? now : "unrequested";
		bool ask_moved = (o->cap[i] == 1) != (n->cap[i] == 1);
		if (strcmp(was, now) == 0 && !ask_moved)
			continue;
		struct buf b;
		struct json j;
		buf_init(&b, 1u << 16);
		json_init(&j, &b);
		capability_render(&j, n, i);
		const char *prev =
		    strcmp(was, now) == 0
			? arena_printf(&r->arena, "{\"requested\":%s}",
				       ask_moved && o->cap[i] == 1 ? "true" : "false")
		    : ask_moved ? arena_printf(&r->arena, "{\"requested\":%s,\"status\":\"%s\"}",
					       o->cap[i] == 1 ? "true" : "false", was)
				: arena_printf(&r->arena, "{\"status\":\"%s\"}", was);
		struct event_origin eo = {r->request_id, r->idempotency_key, r->livemode};
		int rc = b.failed || !prev
			     ? DB_ERR
			     : event_append(db, n->id, &eo, "capability.updated", cap_names[i],
					    b.data, b.len, prev, r->now, NULL);
		buf_release(&b);
		if (rc != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
	}
	return 0;
}

static void bind_row(struct db_stmt *st, const char *platform_id, const struct account *acct)
{
	db_bind_text(st, 1, platform_id, -1);
	db_bind_text(st, 2, acct->id, -1);
}

static void bind_cap(struct db_stmt *st, int idx, int cap)
{
	if (cap == CAP_NOT_REQUESTED)
		db_bind_null(st, idx);
	else
		db_bind_int64(st, idx, cap);
}

static void bind_company(struct db_stmt *st, int first, const struct account *a)
{
	db_bind_text(st, first, a->co_name, -1);
	db_bind_text(st, first + 1, a->co_phone, -1);
	db_bind_text(st, first + 2, a->co_address, -1);
	db_bind_text(st, first + 3, a->co_structure, -1);
	db_bind_int64(st, first + 4, a->co_tax_id_provided);
}

static void bind_schedule(struct db_stmt *st, int first, const struct account *a)
{
	db_bind_text(st, first, payout_interval_name(a->sched.interval), -1);
	db_bind_int64(st, first + 1, a->sched.delay_days);
	if (a->sched.interval == PAYOUT_WEEKLY)
		db_bind_text(st, first + 2, payout_weekday_name(a->sched.weekly_anchor), -1);
	else
		db_bind_null(st, first + 2);
	if (a->sched.interval == PAYOUT_MONTHLY)
		db_bind_int64(st, first + 3, a->sched.monthly_anchor);
	else
		db_bind_null(st, first + 3);
	if (a->po_next_due > 0)
		db_bind_int64(st, first + 4, a->po_next_due);
	else
		db_bind_null(st, first + 4);
	db_bind_text(st, first + 5, a->po_descriptor, -1);
	if (a->po_debit_negative >= 0)
		db_bind_int64(st, first + 6, a->po_debit_negative);
	else
		db_bind_null(st, first + 6);
}

/* ---- create ---- */

/* account_token: the account's details (business_type, company, individual, tos_acceptance) as
 * the token carries them, applied as if sent (connect_tokens.c), and used up in the write. */
static const char *const token_keys[] = {"business_type", "company", "individual", "tos_acceptance",
					 NULL};

static int take_account_token(struct req *r)
{
	const char *tok = param_str(r, "account_token");
	return tok ? connect_token_apply(r, tok, "account", "account_token", token_keys, NULL) : 0;
}

static int use_account_token(struct req *r, struct db *db)
{
	const char *tok = param_str(r, "account_token");
	return tok ? connect_token_use(r, db, tok, "account_token") : 0;
}

struct create_ctx {
	struct req *r;
	struct account acct;
};

static int create_fn(struct db *db, void *arg)
{
	struct create_ctx *c = arg;
	struct req *r = c->r;
	struct account *a = &c->acct;
	if (use_account_token(r, db) != 0)
		return -1;
	struct db_stmt *st = db_prepare(db, SQL_INSERT);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	bind_row(st, r->merchant_id, a);
	db_bind_int64(st, 3, a->created);
	db_bind_text(st, 4, a->type, -1);
	db_bind_text(st, 5, a->country, -1);
	db_bind_text(st, 6, a->email, -1);
	db_bind_text(st, 7, a->business_type, -1);
	db_bind_text(st, 8, a->default_currency, -1);
	db_bind_text(st, 9, a->metadata, -1);
	for (int i = 0; i < BP_N; i++)
		db_bind_text(st, 10 + i, a->bp[i], -1);
	for (int i = 0; i < CAP_N; i++)
		bind_cap(st, 17 + i, a->cap[i]);
	if (a->has_tos_date)
		db_bind_int64(st, 19, a->tos_date);
	else
		db_bind_null(st, 19);
	db_bind_text(st, 20, a->tos_ip, -1);
	db_bind_text(st, 21, a->tos_user_agent, -1);
	db_bind_text(st, 22, a->tos_service_agreement, -1);
	bind_company(st, 23, a);
	bind_schedule(st, 28, a);
	if (db_step_done(st) != DB_OK || store_extras(r, db, a) != 0)
		return r->err.set ? -1 : req_fail(r, ERR_API, NULL, NULL);
	/* Stripe has no account.created: a platform learns of a new account's state through
	 * account.updated, which is what it is sent here too */
	size_t len = 0;
	const char *js = account_json(r, db, a, &len);
	if (!js || payments_event(r, db, "account.updated", a->id, js, len, NULL) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	return respond(r, db, a);
}

/* type, or the type that controller[…] describes (Stripe's newer way to make an account):
 * Stripe's Dashboard for the account → standard, the Express Dashboard → express, none (the
 * platform collects requirements) → custom. */
static int account_type(struct req *r, const char **ret)
{
	const char *type = param_str(r, "type");
	bool controller = param_present(r, "controller");
	if (type && controller)
		return req_fail(r, ERR_PARAM_BAD, "controller",
				"You cannot specify both type and controller: type is implied "
				"by controller.");
	if (type) {
		*ret = type;
		return 0;
	}
	const char *dash = param_str(r, "controller.stripe_dashboard.type");
	const char *collect = param_str(r, "controller.requirement_collection");
	if (dash && strcmp(dash, "express") == 0)
		*ret = "express";
	else if ((dash && strcmp(dash, "none") == 0) ||
		 (!dash && collect && strcmp(collect, "application") == 0))
		*ret = "custom";
	else
		*ret = "standard";
	return 0;
}

/* bank_account: the older name of external_account on create (a token or the bank account's
 * hash), taken as that */
static int take_bank_account(struct req *r)
{
	if (!param_present(r, "bank_account"))
		return 0;
	if (param_present(r, "external_account"))
		return req_fail(r, ERR_PARAM_BAD, "bank_account",
				"You cannot specify both bank_account and external_account: "
				"bank_account is the older name of external_account.");
	return req_param_alias(r, "bank_account", "external_account");
}

static int h_create(struct req *r)
{
	if (r->platform_id[0])
		return req_fail(r, ERR_PARAM_BAD, NULL,
				"A connected account cannot create accounts of its own: send this "
				"request without the Stripe-Account header.");
	if (take_account_token(r) != 0 || take_bank_account(r) != 0)
		return -1;
	struct create_ctx c = {.r = r};
	struct account *a = &c.acct;
	memset(a, 0, sizeof(*a));
	for (int i = 0; i < CAP_N; i++)
		a->cap[i] = CAP_NOT_REQUESTED;
	if (account_type(r, &a->type) != 0)
		return -1;
	const char *country = param_str(r, "country");
	char cc[3] = "US";
	if (country) {
		if (strlen(country) != 2 ||
		    !((country[0] | 0x20) >= 'a' && (country[0] | 0x20) <= 'z') ||
		    !((country[1] | 0x20) >= 'a' && (country[1] | 0x20) <= 'z'))
			return req_fail(r, ERR_PARAM_BAD, "country",
					"Invalid country: a two-letter ISO 3166-1 code, e.g. US.");
		cc[0] = (char)(country[0] & ~0x20);
		cc[1] = (char)(country[1] & ~0x20);
	}
	a->country = arena_strdup(&r->arena, cc);
	if (param_present(r, "default_currency")) {
		if (param_currency(r, "default_currency", NULL, a->default_currency) != 0)
			return -1;
	} else {
		str_copy(a->default_currency, sizeof(a->default_currency),
			 country_currency(a->country));
	}
	/* Standard accounts get card payments and transfers without asking, as on Stripe */
	if (strcmp(a->type, "standard") == 0)
		a->cap[CAP_CARD_PAYMENTS] = a->cap[CAP_TRANSFERS] = 1;
	a->metadata = "{}";
	a->created = r->now;
	/* manual until the platform sets a schedule: Tender's accounts always were */
	a->sched = (struct payout_schedule){PAYOUT_MANUAL, PAYOUT_DELAY_DAYS, -1, 0};
	a->po_debit_negative = -1;
	id_new_at(a->id, "acct_", a->created);
	if (!a->country || apply_common(r, a) != 0)
		return r->err.set ? -1 : req_fail(r, ERR_API, NULL, NULL);
	const char *mcc = a->bp[BP_MCC];
	int mcc_n = mcc ? (mcc[0] - '0') * 1000 + (mcc[1] - '0') * 100 + (mcc[2] - '0') * 10 +
			      (mcc[3] - '0')
			: 0;
	/* the merchants row names the account as the platform's dashboards would */
	const char *name = a->bp[BP_NAME] ? a->bp[BP_NAME] : a->email ? a->email : a->id;
	int rc = merchant_create_connected(r->app->store, r->merchant_id, a->id, name,
					   a->default_currency, mcc_n, a->created);
	if (rc == STORE_OVERLOADED)
		return req_fail(r, ERR_OVERLOADED, NULL, NULL);
	if (rc != 0)
		return req_fail(r, ERR_API, NULL, NULL);
	return req_write(r, create_fn, &c);
}

/* ---- retrieve, update, delete ---- */

struct id_ctx {
	struct req *r;
	const char *id;
	struct account acct;
};

/* The account id names for the caller: one of its connected accounts (not deleted), or itself
 * (Stripe lets an account retrieve itself by id: the merchant's own, or with Stripe-Account the
 * connected account's, read from its platform's row). */
static int load_fn(struct db *db, void *arg)
{
	struct id_ctx *x = arg;
	struct req *r = x->r;
	int rc;
	if (strcmp(x->id, r->merchant_id) != 0)
		rc = account_load(db, &r->arena, r->merchant_id, x->id, &x->acct);
	else if (r->platform_id[0])
		rc = account_load(db, &r->arena, r->platform_id, r->merchant_id, &x->acct);
	else
		rc = own_account_load(db, &r->arena, r->merchant_id, &x->acct);
	if (rc == DB_OK && x->acct.deleted)
		rc = DB_NOTFOUND;
	if (rc == DB_NOTFOUND)
		return req_fail_missing(r, "account", x->id, "account");
	return rc == DB_OK ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

/* Update and delete are the platform's: an account acting as itself (Stripe-Account) is sent
 * back to it, and a merchant's own account lives in Tender's configuration (merchant create). */
static int refuse_self(struct req *r, const struct id_ctx *x)
{
	if (r->platform_id[0])
		return req_fail(r, ERR_PARAM_BAD, NULL,
				"A connected account is managed by its platform: send this request "
				"with the platform's key and without the Stripe-Account header.");
	if (x->acct.own)
		return req_fail(r, ERR_PARAM_BAD, NULL,
				"Tender keeps a merchant's own account in its configuration: only "
				"a connected account can be changed through the API.");
	return 0;
}

static int retrieve_fn(struct db *db, void *arg)
{
	struct id_ctx *x = arg;
	return load_fn(db, arg) != 0 ? -1 : respond(x->r, db, &x->acct);
}

static int h_retrieve(struct req *r)
{
	struct id_ctx x = {.r = r, .id = r->args[0]};
	return req_read(r, retrieve_fn, &x) == 0 ? 0 : -1;
}

/* GET /v1/account: the account the request acts as. With Stripe-Account that is the connected
 * account, read from its platform's row (on the same shard); otherwise the caller itself. */
static int self_fn(struct db *db, void *arg)
{
	struct id_ctx *x = arg;
	struct req *r = x->r;
	int rc = r->platform_id[0]
		     ? account_load(db, &r->arena, r->platform_id, r->merchant_id, &x->acct)
		     : own_account_load(db, &r->arena, r->merchant_id, &x->acct);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(r, "account", r->merchant_id, "account");
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	return respond(r, db, &x->acct);
}

static int h_self(struct req *r)
{
	struct id_ctx x = {.r = r, .id = r->merchant_id};
	return req_read(r, self_fn, &x) == 0 ? 0 : -1;
}

/* previous_attributes of an update: each top-level field that changed, with its old value
 * (business_profile, capabilities and tos_acceptance name only their changed members). */
static const char *previous_attributes(struct req *r, const struct account *o,
				       const struct account *n)
{
	struct buf b;
	struct json j;
	buf_init(&b, 1u << 20);
	json_init(&j, &b);
	json_obj_open(&j);
	if (!str_same(o->email, n->email))
		json_kv_str_or_null(&j, "email", o->email);
	if (!str_same(o->business_type, n->business_type))
		json_kv_str_or_null(&j, "business_type", o->business_type);
	bool open = false;
	for (int i = 0; i < BP_N; i++) {
		if (str_same(o->bp[i], n->bp[i]))
			continue;
		if (!open) {
			json_key(&j, "business_profile");
			json_obj_open(&j);
			open = true;
		}
		json_kv_str_or_null(&j, bp_names[i], o->bp[i]);
	}
	if (open)
		json_obj_close(&j);
	open = false;
	for (int i = 0; i < CAP_N; i++) {
		if (str_same(cap_status_of(o, i), cap_status_of(n, i)))
			continue;
		if (!open) {
			json_key(&j, "capabilities");
			json_obj_open(&j);
			open = true;
		}
		json_kv_str_or_null(&j, cap_names[i], cap_status_of(o, i));
	}
	if (open)
		json_obj_close(&j);
	if (acct_enabled(o) != acct_enabled(n))
		json_kv_bool(&j, "charges_enabled", acct_enabled(o));
	if ((o->n_due == 0) != (n->n_due == 0))
		json_kv_bool(&j, "details_submitted", o->n_due == 0);
	if (acct_payouts_enabled(o) != acct_payouts_enabled(n))
		json_kv_bool(&j, "payouts_enabled", acct_payouts_enabled(o));
	bool due_same = o->n_due == n->n_due && str_same(disabled_reason(o), disabled_reason(n));
	for (int i = 0; due_same && i < o->n_due; i++)
		due_same = strcmp(o->due[i], n->due[i]) == 0;
	if (!due_same) {
		json_key(&j, "requirements");
		json_obj_open(&j);
		render_due(&j, "currently_due", o->due, o->n_due);
		json_kv_str_or_null(&j, "disabled_reason", disabled_reason(o));
		render_due(&j, "eventually_due", o->due, o->n_due);
		render_due(&j, "past_due", o->due, o->n_due);
		json_obj_close(&j);
	}
	if (!str_same(o->co_name, n->co_name) || !str_same(o->co_phone, n->co_phone) ||
	    !str_same(o->co_address, n->co_address) ||
	    !str_same(o->co_structure, n->co_structure) ||
	    o->co_tax_id_provided != n->co_tax_id_provided) {
		if (o->co_name || o->co_phone || o->co_address || o->co_structure ||
		    o->co_tax_id_provided)
			render_company(&j, o);
		else
			json_kv_null(&j, "company");
	}
	if (n->ind_dirty) {
		json_key(&j, "individual");
		if (o->has_individual)
			person_render(&r->arena, &o->individual, &j);
		else
			json_nil(&j);
	}
	if (o->has_tos_date != n->has_tos_date || o->tos_date != n->tos_date ||
	    !str_same(o->tos_ip, n->tos_ip) || !str_same(o->tos_user_agent, n->tos_user_agent) ||
	    !str_same(o->tos_service_agreement, n->tos_service_agreement)) {
		json_key(&j, "tos_acceptance");
		json_obj_open(&j);
		if (o->has_tos_date != n->has_tos_date || o->tos_date != n->tos_date) {
			if (o->has_tos_date)
				json_kv_int(&j, "date", o->tos_date);
			else
				json_kv_null(&j, "date");
		}
		if (!str_same(o->tos_ip, n->tos_ip))
			json_kv_str_or_null(&j, "ip", o->tos_ip);
		if (!str_same(o->tos_service_agreement, n->tos_service_agreement))
			json_kv_str(&j, "service_agreement",
				    o->tos_service_agreement ? o->tos_service_agreement : "full");
		if (!str_same(o->tos_user_agent, n->tos_user_agent))
			json_kv_str_or_null(&j, "user_agent", o->tos_user_agent);
		json_obj_close(&j);
	}
	if (strcmp(o->metadata, n->metadata) != 0)
		json_kv_raw(&j, "metadata", o->metadata, strlen(o->metadata));
	bool dnb_moved = acct_debit_negative(o) != acct_debit_negative(n);
	bool sd_moved = !str_same(o->po_descriptor, n->po_descriptor);
	if (!schedule_same(&o->sched, &n->sched) || dnb_moved || sd_moved) {
		json_key(&j, "settings");
		json_obj_open(&j);
		json_key(&j, "payouts");
		json_obj_open(&j);
		if (dnb_moved)
			json_kv_bool(&j, "debit_negative_balances", acct_debit_negative(o));
		if (!schedule_same(&o->sched, &n->sched))
			render_schedule(&j, &o->sched);
		if (sd_moved)
			json_kv_str_or_null(&j, "statement_descriptor", o->po_descriptor);
		json_obj_close(&j);
		json_obj_close(&j);
	}
	json_obj_close(&j);
	const char *out = b.failed ? NULL : arena_printf(&r->arena, "%.*s", (int)b.len, b.data);
	buf_release(&b);
	return out;
}

/* An update of a (loaded) by the request's parameters, with its events; the page's
 * tos_acceptance=accept is the account holder accepting now. 0, or -1 with r->err. */
static int account_save(struct req *r, struct db *db, const struct account *old, struct account *a);
/* account.updated (with what changed from old) and its capabilities' events. 0, or -1 with
 * r->err. */
static int account_announce(struct req *r, struct db *db, const struct account *old,
			    const struct account *a);

static int account_change(struct req *r, struct db *db, struct account *a, bool page)
{
	struct account old = *a;
	if (apply_common(r, a) != 0)
		return -1;
	const char *tos = page ? param_str(r, "tos_acceptance") : NULL;
	if (tos && strcmp(tos, "accept") == 0) {
		a->has_tos_date = true;
		a->tos_date = r->now;
		a->tos_ip = r->client_ip[0] ? arena_strdup(&r->arena, r->client_ip) : "0.0.0.0";
	}
	return account_save(r, db, &old, a);
}

/* Stores a (changed from old) with account.updated and its capabilities' events. 0, or -1
 * with r->err. */
static int account_save(struct req *r, struct db *db, const struct account *old, struct account *a)
{
	struct db_stmt *st = db_prepare(db, SQL_UPDATE);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	bind_row(st, r->merchant_id, a);
	db_bind_text(st, 3, a->email, -1);
	db_bind_text(st, 4, a->business_type, -1);
	db_bind_text(st, 5, a->metadata, -1);
	for (int i = 0; i < BP_N; i++)
		db_bind_text(st, 6 + i, a->bp[i], -1);
	for (int i = 0; i < CAP_N; i++)
		bind_cap(st, 13 + i, a->cap[i]);
	if (a->has_tos_date)
		db_bind_int64(st, 15, a->tos_date);
	else
		db_bind_null(st, 15);
	db_bind_text(st, 16, a->tos_ip, -1);
	db_bind_text(st, 17, a->tos_user_agent, -1);
	db_bind_text(st, 18, a->tos_service_agreement, -1);
	bind_company(st, 19, a);
	bind_schedule(st, 24, a);
	if (db_step_done(st) != DB_OK || store_extras(r, db, a) != 0)
		return r->err.set ? -1 : req_fail(r, ERR_API, NULL, NULL);
	return account_announce(r, db, old, a);
}

static void settings_out(const struct account *a, struct payout_settings *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->own = a->own;
	ret->payouts_enabled = acct_payouts_enabled(a);
	ret->debit_negative_balances = acct_debit_negative(a);
	ret->sched = a->sched;
	ret->statement_descriptor = a->po_descriptor;
}

/* balance_settings.updated, the account's own event, when what its balance settings show moved
 * from o to n (their settings, or the payouts status that onboarding and rejections move). */
static int balance_settings_event(struct req *r, struct db *db, const struct account *o,
				  const struct account *n)
{
	struct payout_settings os, ns;
	settings_out(o, &os);
	settings_out(n, &ns);
	if (!payout_settings_differ(&os, &ns))
		return 0;
	struct buf b, pb;
	struct json j, pj;
	buf_init(&b, 1u << 16);
	buf_init(&pb, 1u << 16);
	json_init(&j, &b);
	json_init(&pj, &pb);
	balance_settings_render(&j, &ns);
	balance_settings_render_previous(&pj, &os, &ns);
	const char *prev = pb.failed ? NULL : arena_printf(&r->arena, "%.*s", (int)pb.len, pb.data);
	struct event_origin eo = {r->request_id, r->idempotency_key, r->livemode};
	int rc = b.failed || !prev ? DB_ERR
				   : event_append(db, n->id, &eo, "balance_settings.updated", n->id,
						  b.data, b.len, prev, r->now, NULL);
	buf_release(&b);
	buf_release(&pb);
	return rc == DB_OK ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

static int account_announce(struct req *r, struct db *db, const struct account *old,
			    const struct account *a)
{
	size_t len = 0;
	const char *js = account_json(r, db, a, &len);
	const char *prev = previous_attributes(r, old, a);
	if (!js || !prev || payments_event(r, db, "account.updated", a->id, js, len, prev) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (balance_settings_event(r, db, old, a) != 0)
		return -1;
	return capability_events(r, db, old, a);
}

/* ---- balance settings (balance_settings.c): a view of the same columns ---- */

/* The account r acts as: with Stripe-Account the connected account, read from its platform's
 * row; otherwise the caller's own. 0, or -1 with r->err. */
static int acting_load(struct req *r, struct db *db, struct account *a)
{
	int rc = r->platform_id[0] ? account_load(db, &r->arena, r->platform_id, r->merchant_id, a)
				   : own_account_load(db, &r->arena, r->merchant_id, a);
	if (rc == DB_OK && a->deleted)
		rc = DB_NOTFOUND;
	if (rc == DB_NOTFOUND)
		return req_fail_missing(r, "account", r->merchant_id, "account");
	return rc == DB_OK ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

int accounts_payout_settings(struct req *r, struct db *db, struct payout_settings *ret)
{
	struct account a;
	if (acting_load(r, db, &a) != 0)
		return -1;
	settings_out(&a, ret);
	return 0;
}

int accounts_payout_settings_change(struct req *r, struct db *db,
				    const struct payout_settings_change *c,
				    struct payout_settings *ret)
{
	struct account a;
	if (acting_load(r, db, &a) != 0)
		return -1;
	if (a.own)
		return req_fail(r, ERR_PARAM_BAD, NULL,
				"Tender pays a merchant's own account out on request only (its "
				"payouts are manual): balance settings can be changed for a "
				"connected account, with its Stripe-Account header.");
	struct account old = a;
	if (c->sched && schedule_set(r, &a, c->sched) != 0)
		return -1;
	if (c->statement_descriptor)
		a.po_descriptor = c->statement_descriptor;
	if (c->debit_negative_balances >= 0)
		a.po_debit_negative = c->debit_negative_balances;
	/* nothing that either view shows moves (the same values again, or a delay Tender has
	 * already): no write and no event */
	struct payout_settings was;
	settings_out(&old, &was);
	settings_out(&a, ret);
	if (!payout_settings_differ(&was, ret))
		return 0;
	/* the platform's update of its account, as POST /v1/accounts/{id} makes it: the row and
	 * account.updated are the platform's */
	char self[ID_MAX];
	str_copy(self, sizeof(self), r->merchant_id);
	str_copy(r->merchant_id, sizeof(r->merchant_id), r->platform_id);
	int rc = account_save(r, db, &old, &a);
	str_copy(r->merchant_id, sizeof(r->merchant_id), self);
	if (rc != 0)
		return -1;
	settings_out(&a, ret);
	return 0;
}

/* documents[…][files]: Stripe's documents an account's verification takes, each a list of
 * files of purpose account_requirement (the account's own uploads, or its platform's for it).
 * Checked and kept (connected_accounts.documents, {kind: [file, …]}), not shown: Stripe's
 * account object has no such field. */
static const char *const doc_kinds[] = {"bank_account_ownership_verification",
					"company_license",
					"company_memorandum_of_association",
					"company_ministerial_decree",
					"company_registration_verification",
					"company_tax_id_verification",
					"proof_of_registration"};
#define DOC_FILES_MAX 10
static const char SQL_DOCS_GET[] =
    "SELECT documents FROM connected_accounts WHERE merchant_id = $1 AND id = $2";
static const char SQL_DOCS_SET[] = "UPDATE connected_accounts SET documents = $3"
				   " WHERE merchant_id = $1 AND id = $2 AND deleted = 0";

static int documents_apply(struct req *r, struct db *db, const struct account *a)
{
	if (!param_present(r, "documents"))
		return 0;
	struct db_stmt *st = db_prepare(db, SQL_DOCS_GET);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, a->id, -1);
	int rc = db_step(st);
	const char *old = rc == DB_ROW ? db_col_text(st, 0, NULL) : NULL;
	json_t *docs = old ? json_loads(old, 0, NULL) : json_object();
	db_reset(st);
	if (rc != DB_ROW || !json_is_object(docs)) {
		json_decref(docs);
		return req_fail(r, ERR_API, NULL, NULL);
	}
	rc = 0;
	for (size_t i = 0; rc == 0 && i < sizeof(doc_kinds) / sizeof(doc_kinds[0]); i++) {
		char path[96], shown[112];
		snprintf(path, sizeof(path), "documents.%s.files", doc_kinds[i]);
		snprintf(shown, sizeof(shown), "documents[%s][files]", doc_kinds[i]);
		const struct form_node *n = param_node(r, path);
		if (!n)
			continue;
		json_t *arr = json_array();
		if (!arr) {
			rc = req_fail(r, ERR_API, NULL, NULL);
			break;
		}
		for (const struct form_node *c = n->kind == FORM_ARRAY ? n->first_child : NULL;
		     c && rc == 0; c = c->next) {
			if (c->kind != FORM_SCALAR || !c->value_len)
				continue;
			int frc = file_check_purpose(db, a->id, c->value, "account_requirement");
			if (frc == DB_NOTFOUND)
				frc = file_check_purpose(db, r->merchant_id, c->value,
							 "account_requirement");
			if (frc == DB_NOTFOUND)
				rc = req_fail(r, ERR_PARAM_BAD, shown,
					      "No such file upload: '%s' (a file of purpose "
					      "account_requirement is needed here).",
					      c->value);
			else if (frc != DB_OK ||
				 json_array_append_new(arr, json_string(c->value)) != 0)
				rc = req_fail(r, ERR_API, NULL, NULL);
		}
		if (rc == 0 && json_array_size(arr) > DOC_FILES_MAX)
			rc = req_fail(r, ERR_PARAM_BAD, shown, "At most %d files can be given.",
				      DOC_FILES_MAX);
		if (rc != 0)
			json_decref(arr);
		else if (json_array_size(arr) == 0) /* files="": none any more */
			json_decref(arr), json_object_del(docs, doc_kinds[i]);
		else if (json_object_set_new(docs, doc_kinds[i], arr) != 0)
			rc = req_fail(r, ERR_API, NULL, NULL);
	}
	char *s = rc == 0 ? json_dumps(docs, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(docs);
	if (rc != 0)
		return -1;
	st = s ? db_prepare(db, SQL_DOCS_SET) : NULL;
	if (st) {
		db_bind_text(st, 1, r->merchant_id, -1);
		db_bind_text(st, 2, a->id, -1);
		db_bind_text(st, 3, s, -1);
		rc = db_step_done(st);
	}
	free(s);
	return st && rc == DB_OK ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

/* default_currency: an account settles in its merchants row's currency, which never changes
 * (merchant.h), so another currency cannot be honoured: refused, the same one is a no-op. */
static int default_currency_check(struct req *r, const struct account *a)
{
	if (!param_present(r, "default_currency"))
		return 0;
	char cur[8];
	if (param_currency(r, "default_currency", NULL, cur) != 0)
		return -1;
	if (strcmp(cur, a->default_currency) == 0)
		return 0;
	return req_fail(r, ERR_PARAM_BAD, "default_currency",
			"The default currency of account %s cannot be changed from %s: Tender "
			"settles an account in the currency it was created with.",
			a->id, a->default_currency);
}

static int update_fn(struct db *db, void *arg)
{
	struct id_ctx *x = arg;
	struct req *r = x->r;
	if (load_fn(db, arg) != 0 || refuse_self(r, x) != 0 ||
	    default_currency_check(r, &x->acct) != 0 || use_account_token(r, db) != 0)
		return -1;
	if (documents_apply(r, db, &x->acct) != 0 || account_change(r, db, &x->acct, false) != 0)
		return -1;
	return respond(r, db, &x->acct);
}

static void due_out(const struct account *a, struct account_due *ret)
{
	memset(ret, 0, sizeof(*ret));
	str_copy(ret->id, sizeof(ret->id), a->id);
	ret->type = a->type;
	ret->country = a->country;
	ret->business_type = a->business_type;
	str_copy(ret->default_currency, sizeof(ret->default_currency), a->default_currency);
	for (int i = 0; i < a->n_due; i++)
		ret->items[i] = a->due[i];
	ret->n = a->n_due;
}

int accounts_due(struct req *r, struct db *db, const char *platform, const char *acct,
		 struct account_due *ret)
{
	struct account a;
	int rc = account_load(db, &r->arena, platform, acct, &a);
	if (rc == DB_OK && a.deleted)
		rc = DB_NOTFOUND;
	if (rc == DB_OK)
		due_out(&a, ret);
	return rc;
}

int accounts_onboarding_submit(struct req *r, struct db *db, const char *platform, const char *acct,
			       struct account_due *ret)
{
	struct account a;
	int rc = account_load(db, &r->arena, platform, acct, &a);
	if (rc == DB_OK && a.deleted)
		rc = DB_NOTFOUND;
	if (rc == DB_NOTFOUND)
		return req_fail_missing(r, "account", acct, "account");
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	/* the page acts for the platform: its events are the platform's, as an update's are */
	char self[ID_MAX];
	str_copy(self, sizeof(self), r->merchant_id);
	str_copy(r->merchant_id, sizeof(r->merchant_id), platform);
	rc = account_change(r, db, &a, true);
	str_copy(r->merchant_id, sizeof(r->merchant_id), self);
	if (rc != 0)
		return -1;
	due_out(&a, ret);
	return 0;
}

static int h_update(struct req *r)
{
	struct id_ctx x = {.r = r, .id = r->args[0]};
	if (take_account_token(r) != 0)
		return -1;
	return req_write(r, update_fn, &x);
}

/*
 * DELETE: the account is marked deleted and is then unusable (Stripe-Account and
 * connect_account_check refuse it; retrieve says it does not exist); its merchants row and its
 * own objects stay, as its ledger must. Stripe lets a platform delete any account made with
 * test keys, which is all Tender has. The event is Stripe's account.application.deauthorized,
 * what a platform is told when it loses an account: its object is the platform's Connect
 * application ("ca_" and the platform's id), and the event is recorded against the account's id.
 * Stripe names the account in event.account, which Tender's events do not carry yet.
 */
static int delete_fn(struct db *db, void *arg)
{
	struct id_ctx *x = arg;
	struct req *r = x->r;
	if (load_fn(db, arg) != 0 || refuse_self(r, x) != 0)
		return -1;
	struct db_stmt *st = db_prepare(db, SQL_DELETE);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	bind_row(st, r->merchant_id, &x->acct);
	if (db_step_done(st) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	const char *suffix =
	    strncmp(r->merchant_id, "acct_", 5) == 0 ? r->merchant_id + 5 : r->merchant_id;
	struct merchant_info m;
	bool named = merchant_get(db, r->merchant_id, &m) == 0 && m.name[0];
	struct buf b;
	struct json j;
	buf_init(&b, 1u << 16);
	json_init(&j, &b);
	json_obj_open(&j);
	json_key(&j, "id");
	{
		char app[ID_MAX + 8];
		snprintf(app, sizeof(app), "ca_%s", suffix);
		json_str(&j, app);
	}
	json_kv_str_or_null(&j, "name", named ? m.name : NULL);
	json_kv_str(&j, "object", "application");
	json_obj_close(&j);
	int rc = b.failed ? DB_ERR
			  : payments_event(r, db, "account.application.deauthorized", x->acct.id,
					   b.data, b.len, NULL);
	buf_release(&b);
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	struct json *out = req_json(r);
	json_obj_open(out);
	json_kv_str(out, "id", x->acct.id);
	json_kv_str(out, "object", "account");
	json_kv_bool(out, "deleted", true);
	json_obj_close(out);
	return 0;
}

static int h_delete(struct req *r)
{
	struct id_ctx x = {.r = r, .id = r->args[0]};
	return req_write(r, delete_fn, &x);
}

/*
 * POST …/reject and …/unreject, as in the API version stripe-node speaks (2026-10-28): the
 * platform rejects an account it flagged, whatever its balance, and may take the rejection back.
 * Only accounts whose losses the platform carries, Custom and Express. A rejected account has
 * charges_enabled false, requirements.disabled_reason rejected.platform_<fraud | terms_of_service
 * | other>, its requested capabilities inactive; it takes no transfers, destination charges or
 * on_behalf_of payments and makes no payments of its own. payouts_action=pause (the default)
 * also stops its payouts (payouts_enabled false, no payout, its schedule skipped); none leaves
 * them going. Its balance stays in the ledger where it was: a rejection moves no money. Unreject
 * gives back what the rejection took (what onboarding owes still holds it back).
 */
static int reject_change(struct db *db, struct id_ctx *x, bool reject)
{
	struct req *r = x->r;
	if (load_fn(db, x) != 0 || refuse_self(r, x) != 0)
		return -1;
	struct account *a = &x->acct;
	if (strcmp(a->type, "custom") != 0 && strcmp(a->type, "express") != 0)
		return req_fail(r, ERR_INVALID_STATE, NULL,
				"Only Custom and Express accounts can be rejected; %s is a %s "
				"account.",
				a->id, a->type);
	if (reject == (a->rejected != NULL))
		return req_fail(r, ERR_INVALID_STATE, NULL,
				reject ? "Account %s was already rejected."
				       : "Account %s was not rejected by your platform.",
				a->id);
	struct account old = *a;
	const char *action = param_str(r, "payouts_action");
	a->rejected = reject ? param_str(r, "reason") : NULL;
	a->payouts_paused = reject && !(action && strcmp(action, "none") == 0);
	struct db_stmt *st = db_prepare(db, reject ? SQL_REJECT : SQL_UNREJECT);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, a->id, -1);
	if (reject) {
		db_bind_text(st, 3, a->rejected, -1);
		db_bind_int64(st, 4, a->payouts_paused);
	}
	int64_t n = 0;
	if (db_step_changes(st, &n) != DB_OK || n != 1)
		return req_fail(r, ERR_API, NULL, NULL);
	if (account_announce(r, db, &old, a) != 0)
		return -1;
	return respond(r, db, a);
}

static int reject_fn(struct db *db, void *arg)
{
	return reject_change(db, arg, true);
}

static int unreject_fn(struct db *db, void *arg)
{
	return reject_change(db, arg, false);
}

static int h_reject(struct req *r)
{
	struct id_ctx x = {.r = r, .id = r->args[0]};
	return req_write(r, reject_fn, &x);
}

static int h_unreject(struct req *r)
{
	struct id_ctx x = {.r = r, .id = r->args[0]};
	return req_write(r, unreject_fn, &x);
}

/* ---- list ---- */

static const char SQL_CURSOR[] =
    "SELECT created FROM connected_accounts WHERE merchant_id = $1 AND id = $2";
static const char SQL_DESC[] =
    "SELECT id FROM connected_accounts WHERE merchant_id = $1 AND id > $2 AND id < $3"
    " AND deleted = 0 ORDER BY id DESC LIMIT $4";
static const char SQL_ASC[] =
    "SELECT id FROM connected_accounts WHERE merchant_id = $1 AND id > $2 AND id < $3"
    " AND deleted = 0 ORDER BY id ASC LIMIT $4";

static int list_render(struct req *r, struct db *db, const char *id, struct json *j, void *ctx)
{
	(void)ctx;
	struct account a;
	int rc = account_load(db, &r->arena, r->merchant_id, id, &a);
	if (rc != DB_OK)
		return rc;
	return account_render(db, &r->arena, &a, j);
}

static int h_list(struct req *r)
{
	static const struct list_spec spec = {
	    .url = "/v1/accounts",
	    .object_name = "account",
	    .id_prefix = "acct_",
	    .sql_cursor = SQL_CURSOR,
	    .sql_desc = SQL_DESC,
	    .sql_asc = SQL_ASC,
	    .render = list_render,
	};
	return list_respond(r, &spec);
}

/* ---- routes ---- */

static const struct param_spec controller_fees[] = {
    {"payer", PT_ENUM, 0, 0,
     (const char *const[]){"account", "application", "application_custom", "application_express",
			   NULL},
     NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec controller_losses[] = {
    {"payments", PT_ENUM, 0, 0, (const char *const[]){"application", "stripe", NULL}, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec controller_dashboard[] = {
    {"type", PT_ENUM, 0, 0, (const char *const[]){"express", "full", "none", NULL}, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec controller_params[] = {
    {"fees", PT_OBJECT, 0, 0, NULL, controller_fees},
    {"losses", PT_OBJECT, 0, 0, NULL, controller_losses},
    {"requirement_collection", PT_ENUM, 0, 0, (const char *const[]){"application", "stripe", NULL},
     NULL},
    {"stripe_dashboard", PT_OBJECT, 0, 0, NULL, controller_dashboard},
    {NULL, 0, 0, 0, NULL, NULL},
};

const struct param_spec accounts_company_params[] = {
    {"name", PT_STRING, PF_EMPTYABLE, 200, NULL, NULL},
    {"phone", PT_STRING, PF_EMPTYABLE, 64, NULL, NULL},
    {"tax_id", PT_STRING, 0, 64, NULL, NULL},
    {"structure", PT_ENUM, PF_EMPTYABLE, 0,
     (const char *const[]){"government_instrumentality", "governmental_unit",
			   "incorporated_non_profit", "limited_liability_partnership", "llc",
			   "multi_member_llc", "private_company", "private_corporation",
			   "private_partnership", "public_company", "public_corporation",
			   "public_partnership", "single_member_llc", "sole_proprietorship",
			   "tax_exempt_government_instrumentality", "unincorporated_association",
			   "unincorporated_non_profit", NULL},
     NULL},
    {"address", PT_OBJECT, 0, 0, NULL, address_params},
    {NULL, 0, 0, 0, NULL, NULL},
};

static const struct param_spec schedule_params[] = {
    {"interval", PT_ENUM, 0, 0, (const char *const[]){"manual", "daily", "weekly", "monthly", NULL},
     NULL},
    {"delay_days", PT_STRING, 0, 16, NULL, NULL},
    {"weekly_anchor", PT_ENUM, 0, 0,
     (const char *const[]){"monday", "tuesday", "wednesday", "thursday", "friday", "saturday",
			   "sunday", NULL},
     NULL},
    {"monthly_anchor", PT_INT, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec payout_settings_params[] = {
    {"debit_negative_balances", PT_BOOL, 0, 0, NULL, NULL},
    {"schedule", PT_OBJECT, 0, 0, NULL, schedule_params},
    {"statement_descriptor", PT_STRING, 0, 22, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec settings_params[] = {
    {"payouts", PT_OBJECT, 0, 0, NULL, payout_settings_params},
    {NULL, 0, 0, 0, NULL, NULL},
};

static const struct param_spec create_params[] = {
    {"account_token", PT_STRING, 0, 255, NULL, NULL},
    {"type", PT_ENUM, 0, 0, (const char *const[]){"standard", "express", "custom", NULL}, NULL},
    {"controller", PT_OBJECT, 0, 0, NULL, controller_params},
    {"country", PT_STRING, 0, 2, NULL, NULL},
    {"email", PT_STRING, PF_EMPTYABLE, 800, NULL, NULL},
    {"business_type", PT_ENUM, PF_EMPTYABLE, 0, accounts_business_types, NULL},
    {"default_currency", PT_CURRENCY, 0, 0, NULL, NULL},
    {"business_profile", PT_OBJECT, 0, 0, NULL, bp_params},
    {"capabilities", PT_OBJECT, 0, 0, NULL, cap_params},
    {"tos_acceptance", PT_OBJECT, 0, 0, NULL, tos_params},
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {"company", PT_OBJECT, 0, 0, NULL, accounts_company_params},
    {"individual", PT_OBJECT, 0, 0, NULL, person_params},
    {"external_account", PT_OBJECT, PF_SCALAR_OK, 255, NULL, external_account_hash_params},
    {"bank_account", PT_OBJECT, PF_SCALAR_OK, 255, NULL, external_account_hash_params},
    {"settings", PT_OBJECT, 0, 0, NULL, settings_params},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec doc_files_params[] = {
    {"files", PT_STRING_ARRAY, PF_EMPTYABLE, 500, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec documents_params[] = {
    {"bank_account_ownership_verification", PT_OBJECT, 0, 0, NULL, doc_files_params},
    {"company_license", PT_OBJECT, 0, 0, NULL, doc_files_params},
    {"company_memorandum_of_association", PT_OBJECT, 0, 0, NULL, doc_files_params},
    {"company_ministerial_decree", PT_OBJECT, 0, 0, NULL, doc_files_params},
    {"company_registration_verification", PT_OBJECT, 0, 0, NULL, doc_files_params},
    {"company_tax_id_verification", PT_OBJECT, 0, 0, NULL, doc_files_params},
    {"proof_of_registration", PT_OBJECT, 0, 0, NULL, doc_files_params},
    {NULL, 0, 0, 0, NULL, NULL},
};
/* type, country and controller are fixed once the account exists; default_currency too (only
 * its own value is taken): the account's settlement currency is its merchants row's, which
 * never changes (merchant.h) */
static const struct param_spec update_params[] = {
    {"default_currency", PT_CURRENCY, 0, 0, NULL, NULL},
    {"documents", PT_OBJECT, 0, 0, NULL, documents_params},
    {"account_token", PT_STRING, 0, 255, NULL, NULL},
    {"email", PT_STRING, PF_EMPTYABLE, 800, NULL, NULL},
    {"business_type", PT_ENUM, PF_EMPTYABLE, 0, accounts_business_types, NULL},
    {"business_profile", PT_OBJECT, 0, 0, NULL, bp_params},
    {"capabilities", PT_OBJECT, 0, 0, NULL, cap_params},
    {"tos_acceptance", PT_OBJECT, 0, 0, NULL, tos_params},
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {"company", PT_OBJECT, 0, 0, NULL, accounts_company_params},
    {"individual", PT_OBJECT, 0, 0, NULL, person_params},
    {"external_account", PT_OBJECT, PF_SCALAR_OK, 255, NULL, external_account_hash_params},
    {"settings", PT_OBJECT, 0, 0, NULL, settings_params},
    {NULL, 0, 0, 0, NULL, NULL},
};
/* ---- an account's capabilities (GET/POST /v1/accounts/{id}/capabilities[/{capability}]) ----
 * Tender's two, card_payments and transfers, each as Stripe's Capability: its status follows the
 * account's onboarding (active once nothing is due), `unrequested` when not asked for. Asking for
 * one, or withdrawing the ask, is the account update's capabilities[…][requested], with the same
 * events (account.updated, and capability.updated when a status moves). */

struct cap_ctx {
	struct id_ctx x;
	int cap;
};

static int cap_find(struct req *r, const char *name)
{
	for (int i = 0; i < CAP_N; i++)
		if (strcmp(cap_names[i], name) == 0)
			return i;
	return req_fail(r, ERR_RESOURCE_MISSING, "capability", "No such capability: '%s'", name);
}

static int caps_list_fn(struct db *db, void *arg)
{
	struct id_ctx *x = arg;
	struct req *r = x->r;
	if (load_fn(db, arg) != 0)
		return -1;
	struct json *j = req_json(r);
	json_obj_open(j);
	json_kv_str(j, "object", "list");
	json_key(j, "data");
	json_arr_open(j);
	for (int i = 0; i < CAP_N; i++)
		capability_render(j, &x->acct, i);
	json_arr_close(j);
	json_kv_bool(j, "has_more", false);
	const char *url = arena_printf(&r->arena, "/v1/accounts/%s/capabilities", x->acct.id);
	if (!url)
		return req_fail(r, ERR_API, NULL, NULL);
	json_kv_str(j, "url", url);
	json_obj_close(j);
	return 0;
}

static int h_caps_list(struct req *r)
{
	struct id_ctx x = {.r = r, .id = r->args[0]};
	return req_read(r, caps_list_fn, &x) == 0 ? 0 : -1;
}

static int cap_retrieve_fn(struct db *db, void *arg)
{
	struct cap_ctx *c = arg;
	if (load_fn(db, &c->x) != 0)
		return -1;
	capability_render(req_json(c->x.r), &c->x.acct, c->cap);
	return 0;
}

static int h_cap_retrieve(struct req *r)
{
	struct cap_ctx c = {.x = {.r = r, .id = r->args[0]}};
	if ((c.cap = cap_find(r, r->args[1])) < 0)
		return -1;
	return req_read(r, cap_retrieve_fn, &c) == 0 ? 0 : -1;
}

static int cap_update_fn(struct db *db, void *arg)
{
	struct cap_ctx *c = arg;
	struct req *r = c->x.r;
	if (load_fn(db, &c->x) != 0 || refuse_self(r, &c->x) != 0)
		return -1;
	struct account *a = &c->x.acct;
	struct account old = *a;
	bool requested;
	if (param_bool(r, "requested", &requested) == 1)
		a->cap[c->cap] = requested ? 1 : 0;
	if (account_save(r, db, &old, a) != 0)
		return -1;
	capability_render(req_json(r), a, c->cap);
	return 0;
}

static int h_cap_update(struct req *r)
{
	struct cap_ctx c = {.x = {.r = r, .id = r->args[0]}};
	if ((c.cap = cap_find(r, r->args[1])) < 0)
		return -1;
	return req_write(r, cap_update_fn, &c);
}

static const struct param_spec cap_update_params[] = {
    {"requested", PT_BOOL, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};

static const struct param_spec no_params[] = {{NULL, 0, 0, 0, NULL, NULL}};

/* Stripe's reasons since 2026-09-30, and the older `fraud` that clients pinned to an earlier
 * version still send */
static const struct param_spec reject_params[] = {
    {"reason", PT_ENUM, PF_REQUIRED, 0,
     (const char *const[]){"fraud_payment_method_casher", "fraud_payment_method_tester",
			   "fraud_no_intent_to_fulfill", "fraud_other", "credit",
			   "terms_of_service", "other", "fraud", NULL},
     NULL},
    {"payouts_action", PT_ENUM, 0, 0, (const char *const[]){"pause", "none", NULL}, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};

const struct route accounts_routes[] = {
    {"GET", "/v1/account", h_self, no_params, 0},
    {"POST", "/v1/accounts", h_create, create_params, 0},
    {"GET", "/v1/accounts", h_list, no_params, ROUTE_LIST},
    {"GET", "/v1/accounts/{id}", h_retrieve, no_params, 0},
    {"POST", "/v1/accounts/{id}", h_update, update_params, 0},
    {"DELETE", "/v1/accounts/{id}", h_delete, no_params, 0},
    {"GET", "/v1/accounts/{id}/capabilities", h_caps_list, no_params, 0},
    {"GET", "/v1/accounts/{id}/capabilities/{capability}", h_cap_retrieve, no_params, 0},
    {"POST", "/v1/accounts/{id}/capabilities/{capability}", h_cap_update, cap_update_params, 0},
    {"POST", "/v1/accounts/{id}/reject", h_reject, reject_params, 0},
    {"POST", "/v1/accounts/{id}/unreject", h_unreject, no_params, 0},
    {NULL, NULL, NULL, NULL, 0},
};
