#include "vault/payment_method.h"
#include "core/str.h"
#include "vault/ach.h"
#include "vault/iban.h"
#include "vault/ideal.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

static const char SQL_INSERT[] =
    "INSERT INTO payment_methods (merchant_id, id, created, customer, card_id, brand, last4,"
    " exp_month, exp_year, funding, country, fingerprint, cvc_provided, billing_details, metadata,"
    " bin, check_cvc, check_address_line1, check_address_postal_code) VALUES ($1, $2, $3, $4,"
    " $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)";

static int insert_checked(struct db *db, const char *merchant_id, const char *pm_id,
			  const char *card_id, const struct vault_card_info *info,
			  const char *fingerprint, const char *billing_details,
			  const char *metadata, const char *customer,
			  const struct pm_checks *checks, int64_t now);

int pm_insert(struct db *db, const char *merchant_id, const char *pm_id, const char *card_id,
	      const struct vault_card_info *info, const char *fingerprint,
	      const char *billing_details, const char *metadata, const char *customer, int64_t now)
{
	return insert_checked(db, merchant_id, pm_id, card_id, info, fingerprint, billing_details,
			      metadata, customer, NULL, now);
}

static int insert_checked(struct db *db, const char *merchant_id, const char *pm_id,
			  const char *card_id, const struct vault_card_info *info,
			  const char *fingerprint, const char *billing_details,
			  const char *metadata, const char *customer,
			  const struct pm_checks *checks, int64_t now)
{
	struct db_stmt *st = db_prepare(db, SQL_INSERT);
	if (!st)
		return DB_ERR;
	db_bind_text_ref(st, 1, merchant_id, -1);
	db_bind_text_ref(st, 2, pm_id, -1);
	db_bind_int64(st, 3, now);
	db_bind_text_ref(st, 4, customer, -1);
	db_bind_text_ref(st, 5, card_id, -1);
	db_bind_text_ref(st, 6, info->brand, -1);
	db_bind_text_ref(st, 7, info->last4, -1);
	db_bind_int64(st, 8, info->exp_month);
	db_bind_int64(st, 9, info->exp_year);
	db_bind_text_ref(st, 10, info->funding, -1);
	db_bind_text_ref(st, 11, info->country[0] ? info->country : NULL, -1);
	db_bind_text_ref(st, 12, fingerprint, -1);
	db_bind_int64(st, 13, info->cvc_provided);
	db_bind_text_ref(st, 14, billing_details, -1);
	db_bind_text_ref(st, 15, metadata ? metadata : "{}", -1);
	db_bind_text_ref(st, 16, info->iin[0] ? info->iin : NULL, -1);
	db_bind_text_ref(st, 17, checks ? checks->cvc : NULL, -1);
	db_bind_text_ref(st, 18, checks ? checks->line1 : NULL, -1);
	db_bind_text_ref(st, 19, checks ? checks->postal_code : NULL, -1);
	return db_step_done(st);
}

static const char SQL_GET[] =
    "SELECT id, customer, card_id, brand, last4, exp_month, exp_year, funding, country,"
    " fingerprint, cvc_provided, billing_details, set_up, detached, bin, type, sepa_bank_code,"
    " sepa_branch_code, sepa_behavior, ach_routing_number, ach_account_holder_type,"
    " ach_account_type, ideal_bank, ach_fc_account FROM payment_methods"
    " WHERE merchant_id = $1 AND id = $2";

static void copy(char *dst, size_t n, const char *src)
{
	str_copy(dst, n, src ? src : "");
}

/* billing_details.address.country and .email of the stored billing JSON (written by the API from
 * validated params), for the fraud model's billing-vs-card country feature and Radar's email
 * rule fields; "" when absent (or not a two-letter code, or an email too long to keep). Parsed
 * only for PaymentMethods whose billing details name either. */
static void billing_facts(const char *billing_json, struct pm_card *ret)
{
	ret->billing_country[0] = '\0';
	ret->billing_email[0] = '\0';
	if (!billing_json ||
	    (!strstr(billing_json, "\"country\"") && !strstr(billing_json, "\"email\"")))
		return;
	json_error_t e;
	json_t *root = json_loads(billing_json, JSON_REJECT_DUPLICATES, &e);
	const char *c =
	    json_string_value(json_object_get(json_object_get(root, "address"), "country"));
	if (c && strlen(c) == 2)
		str_copy(ret->billing_country, sizeof(ret->billing_country), c);
	const char *em = json_string_value(json_object_get(root, "email"));
	if (em && strlen(em) < sizeof(ret->billing_email))
		str_copy(ret->billing_email, sizeof(ret->billing_email), em);
	json_decref(root);
}

int pm_load(struct db *db, const char *merchant_id, const char *pm_id, struct pm_card *ret)
{
	struct db_stmt *st = db_prepare(db, SQL_GET);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, pm_id, -1);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		memset(ret, 0, sizeof(*ret));
		copy(ret->id, sizeof(ret->id), db_col_text(st, 0, NULL));
		copy(ret->customer, sizeof(ret->customer), db_col_text(st, 1, NULL));
		copy(ret->card_id, sizeof(ret->card_id), db_col_text(st, 2, NULL));
		copy(ret->brand, sizeof(ret->brand), db_col_text(st, 3, NULL));
		copy(ret->last4, sizeof(ret->last4), db_col_text(st, 4, NULL));
		ret->exp_month = (int)db_col_int64(st, 5);
		ret->exp_year = (int)db_col_int64(st, 6);
		copy(ret->funding, sizeof(ret->funding), db_col_text(st, 7, NULL));
		copy(ret->country, sizeof(ret->country), db_col_text(st, 8, NULL));
		copy(ret->fingerprint, sizeof(ret->fingerprint), db_col_text(st, 9, NULL));
		ret->cvc_provided = db_col_int64(st, 10) != 0;
		billing_facts(db_col_text(st, 11, NULL), ret);
		ret->has_billing = !db_col_is_null(st, 11);
		ret->set_up = db_col_int64(st, 12) != 0;
		ret->detached = db_col_int64(st, 13) != 0;
		copy(ret->bin, sizeof(ret->bin), db_col_text(st, 14, NULL));
		copy(ret->type, sizeof(ret->type), db_col_text(st, 15, NULL));
		copy(ret->sepa_bank_code, sizeof(ret->sepa_bank_code), db_col_text(st, 16, NULL));
		copy(ret->sepa_branch_code, sizeof(ret->sepa_branch_code),
		     db_col_text(st, 17, NULL));
		ret->sepa_behavior = (int)db_col_int64(st, 18);
		copy(ret->ach_routing, sizeof(ret->ach_routing), db_col_text(st, 19, NULL));
		copy(ret->ach_holder_type, sizeof(ret->ach_holder_type), db_col_text(st, 20, NULL));
		copy(ret->ach_account_type, sizeof(ret->ach_account_type),
		     db_col_text(st, 21, NULL));
		copy(ret->ideal_bank, sizeof(ret->ideal_bank), db_col_text(st, 22, NULL));
		copy(ret->ach_fc_account, sizeof(ret->ach_fc_account), db_col_text(st, 23, NULL));
	}
	db_reset(st);
	if (rc == DB_ROW)
		return DB_OK;
	return rc == DB_DONE ? DB_NOTFOUND : rc;
}

static const char SQL_BILLING[] =
    "SELECT billing_details FROM payment_methods WHERE merchant_id = $1 AND id = $2";

int pm_billing_details(struct db *db, const char *merchant_id, const char *pm_id, struct arena *a,
		       const char **ret)
{
	struct db_stmt *st;
	int rc = db_row_by_id(db, SQL_BILLING, merchant_id, pm_id, &st);
	if (rc != DB_OK)
		return rc;
	const char *t = db_col_text(st, 0, NULL);
	const char *bd = t ? arena_strdup(a, t) : NULL;
	db_reset(st);
	if (t && !bd)
		return DB_ERR;
	*ret = bd;
	return DB_OK;
}

static const char SQL_INSERT_GENERATED[] =
    "INSERT INTO payment_methods (merchant_id, id, created, customer, card_id, brand, last4,"
    " exp_month, exp_year, funding, country, fingerprint, cvc_provided, billing_details, metadata,"
    " bin, generated_from)"
    " SELECT merchant_id, $3, $4, NULL, card_id, brand, last4, exp_month, exp_year, funding,"
    " country, fingerprint, 0, NULL, '{}', bin, $5 FROM payment_methods"
    " WHERE merchant_id = $1 AND id = $2 AND type = 'card_present'";

int pm_insert_generated(struct db *db, const char *merchant_id, const char *from_id,
			const char *pm_id, const char *generated_from, int64_t now)
{
	struct db_stmt *st = db_prepare(db, SQL_INSERT_GENERATED);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, from_id, -1);
	db_bind_text(st, 3, pm_id, -1);
	db_bind_int64(st, 4, now);
	db_bind_text(st, 5, generated_from, -1);
	int64_t n = 0;
	int rc = db_step_changes(st, &n);
	if (rc == DB_OK && n != 1)
		return DB_NOTFOUND;
	return rc;
}

static const char SQL_CARD_PRESENT[] =
    "UPDATE payment_methods SET type = 'card_present' WHERE merchant_id = $1 AND id = $2";

int pm_mark_card_present(struct db *db, const char *merchant_id, const char *pm_id)
{
	struct db_stmt *st = db_prepare(db, SQL_CARD_PRESENT);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, pm_id, -1);
	return db_step_done(st);
}

static const char SQL_SET_UP[] =
    "UPDATE payment_methods SET set_up = 1 WHERE merchant_id = $1 AND id = $2";

int pm_mark_set_up(struct db *db, const char *merchant_id, const char *pm_id)
{
	struct db_stmt *st = db_prepare(db, SQL_SET_UP);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, pm_id, -1);
	return db_step_done(st);
}

static const char SQL_REDISPLAY[] =
    "UPDATE payment_methods SET allow_redisplay = $3 WHERE merchant_id = $1 AND id = $2";
static const char SQL_REDISPLAY_DEFAULT[] =
    "UPDATE payment_methods SET allow_redisplay = $3 WHERE merchant_id = $1 AND id = $2"
    " AND allow_redisplay = 'unspecified'";

int pm_set_allow_redisplay(struct db *db, const char *merchant_id, const char *pm_id,
			   const char *value, bool if_unspecified)
{
	struct db_stmt *st = db_prepare(db, if_unspecified ? SQL_REDISPLAY_DEFAULT : SQL_REDISPLAY);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, pm_id, -1);
	db_bind_text(st, 3, value, -1);
	int64_t n = 0;
	int rc = db_step_changes(st, &n);
	if (rc == DB_OK && n != 1 && !if_unspecified)
		return DB_NOTFOUND;
	return rc;
}

static const char SQL_TOKEN_USE[] =
    "UPDATE tokens SET used = 1 WHERE merchant_id = $1 AND id = $2 AND used = 0";
static const char SQL_TOKEN_GET[] =
    "SELECT card_id, brand, last4, exp_month, exp_year, funding, country, fingerprint,"
    " cvc_provided, used, bin FROM tokens WHERE merchant_id = $1 AND id = $2";

/* pm_load's answer for the row pm_insert just stored from these values (no customer), without
 * reading it back. */
static void pm_card_fill(const char *pm_id, const char *card_id, const struct vault_card_info *info,
			 const char *fp, const char *billing_details, struct pm_card *ret)
{
	memset(ret, 0, sizeof(*ret));
	copy(ret->id, sizeof(ret->id), pm_id);
	copy(ret->card_id, sizeof(ret->card_id), card_id);
	copy(ret->brand, sizeof(ret->brand), info->brand);
	copy(ret->last4, sizeof(ret->last4), info->last4);
	ret->exp_month = info->exp_month;
	ret->exp_year = info->exp_year;
	copy(ret->funding, sizeof(ret->funding), info->funding);
	copy(ret->country, sizeof(ret->country), info->country);
	copy(ret->fingerprint, sizeof(ret->fingerprint), fp);
	ret->cvc_provided = info->cvc_provided;
	copy(ret->bin, sizeof(ret->bin), info->iin);
	billing_facts(billing_details, ret);
	ret->has_billing = billing_details != NULL;
}

/* A token's row: its card and what Stripe shows of it, and whether it was used. DB_NOTFOUND
 * when the merchant has no such token. */
static int token_read(struct db *db, const char *merchant_id, const char *ref, char *card_id,
		      struct vault_card_info *info, char *fp, bool *ret_used)
{
	if (strncmp(ref, "tok_", 4) != 0)
		return DB_NOTFOUND;
	struct db_stmt *st = db_prepare(db, SQL_TOKEN_GET);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, ref, -1);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		memset(info, 0, sizeof(*info));
		copy(card_id, ID_MAX, db_col_text(st, 0, NULL));
		copy(info->brand, sizeof(info->brand), db_col_text(st, 1, NULL));
		copy(info->last4, sizeof(info->last4), db_col_text(st, 2, NULL));
		info->exp_month = (int)db_col_int64(st, 3);
		info->exp_year = (int)db_col_int64(st, 4);
		copy(info->funding, sizeof(info->funding), db_col_text(st, 5, NULL));
		copy(info->country, sizeof(info->country), db_col_text(st, 6, NULL));
		copy(fp, 24, db_col_text(st, 7, NULL));
		info->cvc_provided = db_col_int64(st, 8) != 0;
		*ret_used = db_col_int64(st, 9) != 0;
		copy(info->iin, sizeof(info->iin), db_col_text(st, 10, NULL));
	}
	db_reset(st);
	if (rc == DB_DONE)
		return DB_NOTFOUND;
	return rc == DB_ROW ? DB_OK : rc;
}

int pm_token_peek(struct db *db, const char *merchant_id, const char *ref, struct pm_card *ret)
{
	char card_id[ID_MAX], fp[24];
	struct vault_card_info info;
	bool used = false;
	int rc = token_read(db, merchant_id, ref, card_id, &info, fp, &used);
	if (rc != DB_OK)
		return rc;
	if (used)
		return VAULT_ERR_TOKEN_USED;
	pm_card_fill("", card_id, &info, fp, NULL, ret);
	return DB_OK;
}

/* pm_create_from_ref, and what it stored into ret when ret is not NULL. */
static int create_from_ref(struct db *db, struct vault *v, const char *merchant_id, const char *ref,
			   const char *pm_id, const char *billing_details, const char *metadata,
			   const struct pm_checks *checks, int64_t now, struct pm_card *ret)
{
	char card_id[ID_MAX], fp[24];
	struct vault_card_info info;
	if (vault_is_test_alias(ref)) {
		/* the alias's card is sealed once per merchant (and expiry) and shared */
		int rc = vault_alias_card(v, db, merchant_id, ref, now, card_id, &info, fp);
		if (rc != 0)
			return rc;
		rc = insert_checked(db, merchant_id, pm_id, card_id, &info, fp, billing_details,
				    metadata, NULL, checks, now);
		if (rc == DB_OK && ret)
			pm_card_fill(pm_id, card_id, &info, fp, billing_details, ret);
		return rc;
	}
	bool used = false;
	int rc = token_read(db, merchant_id, ref, card_id, &info, fp, &used);
	if (rc != DB_OK)
		return rc;
	if (used)
		return VAULT_ERR_TOKEN_USED;
	/* single use: the conditional update decides between two racing uses */
	struct db_stmt *st = db_prepare(db, SQL_TOKEN_USE);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, ref, -1);
	rc = db_step(st);
	int64_t n = rc == DB_DONE ? db_changes(st) : 0;
	db_reset(st);
	if (rc != DB_DONE)
		return rc < 0 ? rc : DB_ERR;
	if (n != 1)
		return VAULT_ERR_TOKEN_USED;
	rc = insert_checked(db, merchant_id, pm_id, card_id, &info, fp, billing_details, metadata,
			    NULL, checks, now);
	if (rc == DB_OK && ret)
		pm_card_fill(pm_id, card_id, &info, fp, billing_details, ret);
	return rc;
}

int pm_token_take(struct db *db, const char *merchant_id, const char *token,
		  struct vault_card_info *ret_info, char ret_fingerprint[24])
{
	struct db_stmt *st = db_prepare(db, SQL_TOKEN_GET);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, token, -1);
	struct vault_card_info info;
	char fp[24] = "";
	bool used = false;
	int rc = db_step(st);
	if (rc == DB_ROW) {
		memset(&info, 0, sizeof(info));
		copy(info.brand, sizeof(info.brand), db_col_text(st, 1, NULL));
		copy(info.last4, sizeof(info.last4), db_col_text(st, 2, NULL));
		info.exp_month = (int)db_col_int64(st, 3);
		info.exp_year = (int)db_col_int64(st, 4);
		copy(info.funding, sizeof(info.funding), db_col_text(st, 5, NULL));
		copy(info.country, sizeof(info.country), db_col_text(st, 6, NULL));
		copy(fp, sizeof(fp), db_col_text(st, 7, NULL));
		info.cvc_provided = db_col_int64(st, 8) != 0;
		used = db_col_int64(st, 9) != 0;
		copy(info.iin, sizeof(info.iin), db_col_text(st, 10, NULL));
	}
	db_reset(st);
	if (rc == DB_DONE)
		return DB_NOTFOUND;
	if (rc != DB_ROW)
		return rc < 0 ? rc : DB_ERR;
	if (used)
		return VAULT_ERR_TOKEN_USED;
	/* single use: the conditional update decides between two racing uses */
	st = db_prepare(db, SQL_TOKEN_USE);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, token, -1);
	rc = db_step(st);
	int64_t n = rc == DB_DONE ? db_changes(st) : 0;
	db_reset(st);
	if (rc != DB_DONE)
		return rc < 0 ? rc : DB_ERR;
	if (n != 1)
		return VAULT_ERR_TOKEN_USED;
	*ret_info = info;
	memcpy(ret_fingerprint, fp, sizeof(fp));
	return DB_OK;
}

int pm_create_from_ref(struct db *db, struct vault *v, const char *merchant_id, const char *ref,
		       const char *pm_id, const char *billing_details, const char *metadata,
		       int64_t now)
{
	return create_from_ref(db, v, merchant_id, ref, pm_id, billing_details, metadata, NULL, now,
			       NULL);
}

int pm_materialize(struct db *db, struct vault *v, const char *merchant_id, const char *ref,
		   const struct pm_checks *checks, int64_t now, struct pm_card *ret)
{
	char pm_id[ID_MAX];
	id_new_at(pm_id, "pm_", now);
	return pm_materialize_as(db, v, merchant_id, ref, pm_id, checks, now, ret);
}

int pm_materialize_as(struct db *db, struct vault *v, const char *merchant_id, const char *ref,
		      const char *pm_id, const struct pm_checks *checks, int64_t now,
		      struct pm_card *ret)
{
	struct pm_card pm;
	int rc = create_from_ref(db, v, merchant_id, ref, pm_id, NULL, NULL, checks, now, &pm);
	if (rc == DB_OK)
		*ret = pm;
	return rc;
}

const char *pm_display_brand(const char *brand)
{
	static const char *const map[][2] = {
	    {"amex", "american_express"},
	    {"diners", "diners_club"},
	    {"unionpay", "union_pay"},
	    {"visa", "visa"},
	    {"mastercard", "mastercard"},
	    {"discover", "discover"},
	    {"jcb", "jcb"},
	};
	for (size_t i = 0; brand && i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(map[i][0], brand) == 0)
			return map[i][1];
	return "other";
}

static const char SQL_RENDER[] =
    "SELECT id, created, customer, brand, last4, exp_month, exp_year, funding, country,"
    " fingerprint, cvc_provided, billing_details, metadata, type, sepa_bank_code,"
    " sepa_branch_code, ach_routing_number, ach_account_holder_type, ach_account_type,"
    " ideal_bank, klarna_dob, generated_from, ach_fc_account, allow_redisplay, check_cvc,"
    " check_address_line1, check_address_postal_code FROM payment_methods"
    " WHERE merchant_id = $1 AND id = $2";

static const char EMPTY_BILLING[] =
    "{\"address\":{\"city\":null,\"country\":null,\"line1\":null,\"line2\":null,"
    "\"postal_code\":null,\"state\":null},\"email\":null,\"name\":null,\"phone\":null,"
    "\"tax_id\":null}";

/* What a PaymentMethod object shows, whether read back (pm_render) or just inserted
 * (pm_render_new). */
struct pm_view {
	const char *id, *customer, *brand, *last4, *funding, *country, *fingerprint;
	const char *billing_details, *metadata;
	int64_t created, exp_month, exp_year;
	bool cvc_provided;
	/* a sepa_debit PaymentMethod's bank and branch codes (sepa set); country, fingerprint and
	 * last4 above are the account's */
	bool sepa;
	const char *bank_code, *branch_code;
	/* a us_bank_account PaymentMethod's (ach set) */
	bool ach;
	const char *routing, *holder_type, *account_type;
	const char *fc_account; /* the Financial Connections account it was made from, or NULL */
	/* "ideal" or "bancontact" (NULL for the others), and an iDEAL one's bank (or NULL) */
	const char *redirect_type, *ideal_bank;
	const char *klarna_dob; /* a Klarna one's klarna.dob JSON, or NULL */
	bool present;		/* a card read by a Terminal reader (type card_present) */
	/* a card generated from a reader's card: card.generated_from's JSON, else NULL */
	const char *generated_from;
	const char *allow_redisplay; /* NULL: Stripe's default, unspecified */
	/* the issuer's last answers (pm_record_checks); NULL: not checked yet */
	const char *check_cvc, *check_line1, *check_postal;
};

/* billing_details.address.<key> is given (a non-empty string) */
static bool address_given(const char *billing_json, const char *key)
{
	if (!billing_json || !strstr(billing_json, key))
		return false;
	json_t *root = json_loads(billing_json, 0, NULL);
	const char *v = json_string_value(json_object_get(json_object_get(root, "address"), key));
	bool given = v && *v;
	json_decref(root);
	return given;
}

/* One of card.checks: the issuer's answer once it checked the card, `unchecked` for a part
 * given but not checked yet, null for a part not given (Stripe's rule). */
static void check_kv(struct json *j, const char *key, const char *checked, bool given)
{
	if (checked)
		json_kv_str(j, key, checked);
	else if (given)
		json_kv_str(j, key, "unchecked");
	else
		json_kv_null(j, key);
}

static void ach_details(struct json *j, const char *routing, const char *holder_type,
			const char *account_type, const char *fingerprint, const char *last4,
			bool details, const char *mandate, const char *fc_account)
{
	json_obj_open(j);
	json_kv_str_or_null(j, "account_holder_type",
			    holder_type && *holder_type ? holder_type : NULL);
	json_kv_str_or_null(j, "account_type", account_type && *account_type ? account_type : NULL);
	json_kv_str_or_null(j, "bank_name", ach_bank_name(routing));
	if (!details)
		json_kv_str_or_null(j, "financial_connections_account", fc_account);
	json_kv_str(j, "fingerprint", fingerprint);
	json_kv_str(j, "last4", last4);
	if (details)
		json_kv_str_or_null(j, "mandate", mandate);
	if (!details) {
		json_key(j, "networks");
		json_obj_open(j);
		json_kv_str(j, "preferred", "ach");
		json_key(j, "supported");
		json_arr_open(j);
		json_str(j, "ach");
		json_arr_close(j);
		json_obj_close(j);
	}
	json_kv_str(j, "routing_number", routing);
	if (!details)
		json_kv_null(j, "status_details");
	json_obj_close(j);
}

void pm_render_ach_details(struct json *j, const struct pm_card *pm, bool details,
			   const char *mandate)
{
	ach_details(j, pm->ach_routing, pm->ach_holder_type, pm->ach_account_type, pm->fingerprint,
		    pm->last4, details, mandate, pm->ach_fc_account[0] ? pm->ach_fc_account : NULL);
}

static void sepa_details(struct json *j, const char *bank_code, const char *branch_code,
			 const char *country, const char *fingerprint, const char *last4)
{
	json_obj_open(j);
	json_kv_str(j, "bank_code", bank_code ? bank_code : "");
	json_kv_str(j, "branch_code", branch_code ? branch_code : "");
	json_kv_str_or_null(j, "country", country);
	json_kv_str(j, "fingerprint", fingerprint);
	json_key(j, "generated_from");
	json_obj_open(j);
	json_kv_null(j, "charge");
	json_kv_null(j, "setup_attempt");
	json_obj_close(j);
	json_kv_str(j, "last4", last4);
	json_obj_close(j);
}

void pm_render_sepa_details(struct json *j, const struct pm_card *pm)
{
	sepa_details(j, pm->sepa_bank_code, pm->sepa_branch_code, pm->country, pm->fingerprint,
		     pm->last4);
}

/* Every PaymentMethod object's first keys. */
static void view_open(const struct pm_view *v, struct json *j)
{
	json_obj_open(j);
	json_kv_str(j, "id", v->id);
	json_kv_str(j, "object", "payment_method");
	json_kv_str(j, "allow_redisplay", v->allow_redisplay ? v->allow_redisplay : "unspecified");
}

/* A non-card PaymentMethod's billing details, creation time and customer, in the spec's order. */
static void view_owner(const struct pm_view *v, struct json *j)
{
	const char *bd = v->billing_details ? v->billing_details : EMPTY_BILLING;
	json_kv_raw(j, "billing_details", bd, strlen(bd));
	json_kv_int(j, "created", v->created);
	json_kv_str_or_null(j, "customer", v->customer);
	json_kv_null(j, "customer_account");
}

/* A bank debit PaymentMethod (sepa_debit or us_bank_account): no card key (Stripe's spec has
 * card non-nullable, present only on card methods); the type's own key has the account's public
 * facts, in the spec's order around "type". */
static void render_debit_view(const struct pm_view *v, struct json *j)
{
	view_open(v, j);
	view_owner(v, j);
	json_kv_bool(j, "livemode", false);
	const char *md = v->metadata ? v->metadata : "{}";
	json_kv_raw(j, "metadata", md, strlen(md));
	if (v->ach) {
		json_kv_str(j, "type", "us_bank_account");
		json_key(j, "us_bank_account");
		ach_details(j, v->routing, v->holder_type, v->account_type, v->fingerprint,
			    v->last4, false, NULL, v->fc_account);
	} else {
		json_key(j, "sepa_debit");
		sepa_details(j, v->bank_code, v->branch_code, v->country, v->fingerprint, v->last4);
		json_kv_str(j, "type", "sepa_debit");
	}
	json_obj_close(j);
}

/* A redirect PaymentMethod (ideal, bancontact): like a bank debit's, no card key; its type's
 * own hash is ideal {bank, bic} or bancontact {}. */
static void render_redirect_view(const struct pm_view *v, struct json *j)
{
	view_open(v, j);
	bool ideal = strcmp(v->redirect_type, "ideal") == 0;
	/* the type's own hash, in the spec's key order: affirm {}, afterpay_clearpay {} and
	 * bancontact {} before billing_details, klarna {dob} after livemode */
	if (!ideal && strcmp(v->redirect_type, "klarna") != 0) {
		json_key(j, v->redirect_type);
		json_obj_open(j);
		json_obj_close(j);
	}
	view_owner(v, j);
	if (ideal) {
		json_key(j, "ideal");
		json_obj_open(j);
		const struct ideal_bank *b = redirect_ideal_bank(v->ideal_bank);
		json_kv_str_or_null(j, "bank", b ? b->code : NULL);
		json_kv_str_or_null(j, "bic", b ? b->bic : NULL);
		json_obj_close(j);
	}
	if (strcmp(v->redirect_type, "klarna") == 0) {
		json_key(j, "klarna");
		json_obj_open(j);
		if (v->klarna_dob)
			json_kv_raw(j, "dob", v->klarna_dob, strlen(v->klarna_dob));
		else
			json_kv_null(j, "dob");
		json_obj_close(j);
	}
	json_kv_bool(j, "livemode", false);
	const char *md = v->metadata ? v->metadata : "{}";
	json_kv_raw(j, "metadata", md, strlen(md));
	json_kv_str(j, "type", v->redirect_type);
	json_obj_close(j);
}

/* A card read by a Terminal reader: no card key, its card_present hash (the spec's
 * payment_method_card_present) instead. */
static void render_present_view(const struct pm_view *v, struct json *j)
{
	view_open(v, j);
	const char *bd = v->billing_details ? v->billing_details : EMPTY_BILLING;
	json_kv_raw(j, "billing_details", bd, strlen(bd));
	json_key(j, "card_present");
	json_obj_open(j);
	json_kv_str(j, "brand", v->brand);
	json_kv_null(j, "cardholder_name");
	json_kv_str_or_null(j, "country", v->country);
	json_kv_int(j, "exp_month", v->exp_month);
	json_kv_int(j, "exp_year", v->exp_year);
	json_kv_str(j, "fingerprint", v->fingerprint);
	json_kv_str(j, "funding", v->funding);
	json_kv_str(j, "last4", v->last4);
	json_key(j, "networks");
	json_obj_open(j);
	json_key(j, "available");
	json_arr_open(j);
	json_str(j, v->brand);
	json_arr_close(j);
	json_kv_null(j, "preferred");
	json_obj_close(j);
	json_kv_str(j, "read_method", "contactless_emv");
	json_obj_close(j);
	json_kv_int(j, "created", v->created);
	json_kv_str_or_null(j, "customer", v->customer);
	json_kv_null(j, "customer_account");
	json_kv_bool(j, "livemode", false);
	const char *md = v->metadata ? v->metadata : "{}";
	json_kv_raw(j, "metadata", md, strlen(md));
	json_kv_str(j, "type", "card_present");
	json_obj_close(j);
}

static void render_view(const struct pm_view *v, struct json *j)
{
	if (v->present) {
		render_present_view(v, j);
		return;
	}
	if (v->redirect_type) {
		render_redirect_view(v, j);
		return;
	}
	if (v->ach || v->sepa) {
		render_debit_view(v, j);
		return;
	}
	view_open(v, j);
	const char *bd = v->billing_details ? v->billing_details : EMPTY_BILLING;
	json_kv_raw(j, "billing_details", bd, strlen(bd));
	json_key(j, "card");
	json_obj_open(j);
	json_kv_str(j, "brand", v->brand);
	json_key(j, "checks");
	json_obj_open(j);
	check_kv(j, "address_line1_check", v->check_line1,
		 address_given(v->billing_details, "line1"));
	check_kv(j, "address_postal_code_check", v->check_postal,
		 address_given(v->billing_details, "postal_code"));
	check_kv(j, "cvc_check", v->check_cvc, v->cvc_provided);
	json_obj_close(j);
	json_kv_str_or_null(j, "country", v->country);
	json_kv_str(j, "display_brand", pm_display_brand(v->brand));
	json_kv_int(j, "exp_month", v->exp_month);
	json_kv_int(j, "exp_year", v->exp_year);
	json_kv_str(j, "fingerprint", v->fingerprint);
	json_kv_str(j, "funding", v->funding);
	if (v->generated_from)
		json_kv_raw(j, "generated_from", v->generated_from, strlen(v->generated_from));
	else
		json_kv_null(j, "generated_from");
	json_kv_str(j, "last4", v->last4);
	json_key(j, "networks");
	json_obj_open(j);
	json_key(j, "available");
	json_arr_open(j);
	json_str(j, v->brand);
	json_arr_close(j);
	json_kv_null(j, "preferred");
	json_obj_close(j);
	json_key(j, "three_d_secure_usage");
	json_obj_open(j);
	json_kv_bool(j, "supported", true);
	json_obj_close(j);
	json_kv_null(j, "regulated_status");
	json_kv_null(j, "wallet");
	json_obj_close(j);
	json_kv_int(j, "created", v->created);
	json_kv_str_or_null(j, "customer", v->customer);
	json_kv_null(j, "customer_account");
	json_kv_bool(j, "livemode", false);
	const char *md = v->metadata ? v->metadata : "{}";
	json_kv_raw(j, "metadata", md, strlen(md));
	json_kv_str(j, "type", "card");
	json_obj_close(j);
}

int pm_render(struct db *db, const char *merchant_id, const char *pm_id, struct json *j)
{
	struct db_stmt *st = db_prepare(db, SQL_RENDER);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, pm_id, -1);
	int rc = db_step(st);
	if (rc != DB_ROW) {
		db_reset(st);
		return rc == DB_DONE ? DB_NOTFOUND : rc;
	}
	struct pm_view v = {
	    .id = db_col_text(st, 0, NULL),
	    .created = db_col_int64(st, 1),
	    .customer = db_col_text(st, 2, NULL),
	    .brand = db_col_text(st, 3, NULL),
	    .last4 = db_col_text(st, 4, NULL),
	    .exp_month = db_col_int64(st, 5),
	    .exp_year = db_col_int64(st, 6),
	    .funding = db_col_text(st, 7, NULL),
	    .country = db_col_text(st, 8, NULL),
	    .fingerprint = db_col_text(st, 9, NULL),
	    .cvc_provided = db_col_int64(st, 10) != 0,
	    .billing_details = db_col_text(st, 11, NULL),
	    .metadata = db_col_text(st, 12, NULL),
	    .sepa = db_col_text(st, 13, NULL) != NULL,
	    .bank_code = db_col_text(st, 14, NULL),
	    .branch_code = db_col_text(st, 15, NULL),
	    .ach = db_col_text(st, 16, NULL) != NULL,
	    .routing = db_col_text(st, 16, NULL),
	    .holder_type = db_col_text(st, 17, NULL),
	    .account_type = db_col_text(st, 18, NULL),
	    .ideal_bank = db_col_text(st, 19, NULL),
	    .klarna_dob = db_col_text(st, 20, NULL),
	    .generated_from = db_col_text(st, 21, NULL),
	    .fc_account = db_col_text(st, 22, NULL),
	    .allow_redisplay = db_col_text(st, 23, NULL),
	    .check_cvc = db_col_text(st, 24, NULL),
	    .check_line1 = db_col_text(st, 25, NULL),
	    .check_postal = db_col_text(st, 26, NULL),
	};
	const char *type = db_col_text(st, 13, NULL);
	if (type && (redirect_type_known(type) || strcmp(type, "customer_balance") == 0))
		v.redirect_type = type; /* customer_balance: data-less too (api/cash_balance.c) */
	if (type && strcmp(type, "card_present") == 0) {
		v.present = true; /* a card: no bank account's columns */
		v.sepa = false;
	}
	render_view(&v, j);
	db_reset(st);
	return DB_OK;
}

void pm_render_new(struct json *j, const char *pm_id, const struct vault_card_info *info,
		   const char *fingerprint, const char *billing_details, const char *metadata,
		   const char *customer, int64_t now)
{
	/* the values as pm_insert stores them, so that reading the row back would show the same */
	struct pm_view v = {
	    .id = pm_id,
	    .created = now,
	    .customer = customer,
	    .brand = info->brand,
	    .last4 = info->last4,
	    .exp_month = info->exp_month,
	    .exp_year = info->exp_year,
	    .funding = info->funding,
	    .country = info->country[0] ? info->country : NULL,
	    .fingerprint = fingerprint,
	    .cvc_provided = info->cvc_provided,
	    .billing_details = billing_details,
	    .metadata = metadata ? metadata : "{}",
	};
	render_view(&v, j);
}

/* Both bank debits in one row shape: the other type's columns stay NULL, which the loaders read
 * as "not this type". */
static const char SQL_INSERT_BANK[] =
    "INSERT INTO payment_methods (merchant_id, id, created, customer, card_id, brand, last4,"
    " exp_month, exp_year, funding, country, fingerprint, cvc_provided, billing_details, metadata,"
    " type, sepa_bank_code, sepa_branch_code, sepa_behavior, ach_routing_number,"
    " ach_account_holder_type, ach_account_type, ach_fc_account) VALUES ($1, $2, $3, NULL, $4,"
    " '', $5, 0, 0, '', $6, $7, 0, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)";

int pm_insert_bank(struct db *db, const char *merchant_id, const char *pm_id,
		   const struct pm_bank *b, const char *billing_details, const char *metadata,
		   int64_t now, struct json *j)
{
	bool ach = strcmp(b->type, "us_bank_account") == 0;
	const char *country = ach ? "US" : b->country;
	metadata = metadata ? metadata : "{}";
	struct db_stmt *st = db_prepare(db, SQL_INSERT_BANK);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, pm_id, -1);
	db_bind_int64(st, 3, now);
	db_bind_text(st, 4, b->secret_id, -1);
	db_bind_text(st, 5, b->last4, -1);
	db_bind_text(st, 6, country, -1);
	db_bind_text(st, 7, b->fingerprint, -1);
	db_bind_text(st, 8, billing_details, -1);
	db_bind_text(st, 9, metadata, -1);
	db_bind_text(st, 10, ach ? "us_bank_account" : "sepa_debit", -1);
	db_bind_text(st, 11, ach ? NULL : b->bank_code, -1);
	db_bind_text(st, 12, ach ? NULL : b->branch_code, -1);
	db_bind_int64(st, 13, b->behavior);
	db_bind_text(st, 14, ach ? b->routing : NULL, -1);
	db_bind_text(st, 15, ach ? b->holder_type : NULL, -1);
	db_bind_text(st, 16, ach ? b->account_type : NULL, -1);
	db_bind_text(st, 17, ach ? b->fc_account : NULL, -1);
	int rc = db_step_done(st);
	if (rc != DB_OK || !j)
		return rc;
	struct pm_view v = {
	    .id = pm_id,
	    .created = now,
	    .last4 = b->last4,
	    .country = ach ? NULL : country,
	    .fingerprint = b->fingerprint,
	    .billing_details = billing_details,
	    .metadata = metadata,
	    .sepa = !ach,
	    .bank_code = b->bank_code,
	    .branch_code = b->branch_code,
	    .ach = ach,
	    .routing = b->routing,
	    .holder_type = b->holder_type,
	    .account_type = b->account_type,
	    .fc_account = ach ? b->fc_account : NULL,
	};
	render_view(&v, j);
	return DB_OK;
}

static const char SQL_INSERT_REDIRECT[] =
    "INSERT INTO payment_methods (merchant_id, id, created, customer, card_id, brand, last4,"
    " exp_month, exp_year, funding, country, fingerprint, cvc_provided, billing_details, metadata,"
    " type, ideal_bank, klarna_dob) VALUES ($1, $2, $3, NULL, '', '', '', 0, 0, '', NULL, '', 0,"
    " $4, $5, $6, $7, $8)";

int pm_insert_redirect(struct db *db, const char *merchant_id, const char *pm_id, const char *type,
		       const char *bank, const char *klarna_dob, const char *billing_details,
		       const char *metadata, int64_t now, struct json *j)
{
	struct db_stmt *st = db_prepare(db, SQL_INSERT_REDIRECT);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, pm_id, -1);
	db_bind_int64(st, 3, now);
	db_bind_text(st, 4, billing_details, -1);
	db_bind_text(st, 5, metadata ? metadata : "{}", -1);
	db_bind_text(st, 6, type, -1);
	db_bind_text(st, 7, bank, -1);
	db_bind_text(st, 8, klarna_dob, -1);
	int rc = db_step_done(st);
	if (rc != DB_OK || !j)
		return rc;
	struct pm_view v = {
	    .id = pm_id,
	    .created = now,
	    .billing_details = billing_details,
	    .metadata = metadata ? metadata : "{}",
	    .redirect_type = type,
	    .ideal_bank = bank,
	    .klarna_dob = klarna_dob,
	};
	render_view(&v, j);
	return DB_OK;
}

/* Only the parts the issuer answered: a part it was not asked about keeps its last answer. */
static const char SQL_RECORD_CHECKS[] =
    "UPDATE payment_methods SET check_cvc = COALESCE($3, check_cvc),"
    " check_address_line1 = COALESCE($4, check_address_line1),"
    " check_address_postal_code = COALESCE($5, check_address_postal_code)"
    " WHERE merchant_id = $1 AND id = $2";

int pm_record_checks(struct db *db, const char *merchant_id, const char *pm_id, const char *cvc,
		     const char *line1, const char *postal_code)
{
	if (!cvc && !line1 && !postal_code)
		return DB_OK;
	struct db_stmt *st = db_prepare(db, SQL_RECORD_CHECKS);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, pm_id, -1);
	db_bind_text(st, 3, cvc, -1);
	db_bind_text(st, 4, line1, -1);
	db_bind_text(st, 5, postal_code, -1);
	return db_step_done(st);
}
