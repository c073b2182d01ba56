/*
 * SEPA Direct Debit at the API: GET /v1/mandates/{id}, a PaymentIntent confirmed with a
 * sepa_debit PaymentMethod, the multi-use mandate of a SetupIntent, and the scheduler job that
 * later settles each debit (payments/sepa.h tells the design).
 *
 * Confirming with a sepa_debit PaymentMethod needs the customer's acceptance of a mandate
 * (mandate_data[customer_acceptance], online with the browser's ip_address and user_agent, or
 * offline), unless the PaymentMethod already has an active multi-use mandate (a SetupIntent's,
 * or a payment's with setup_future_usage) and the payment is off_session. No card, no acquirer,
 * no 3-D Secure, no Radar: the bank answers later. The confirm's one write records the mandate,
 * the pending charge, the debit to settle, the intent `processing`, and charge.pending and
 * payment_intent.processing.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/common.h"
#include "api/mandates.h"
#include "api/payments_common.h"
#include "api/resources.h"
#include "app.h"
#include "core/buf.h"
#include "core/str.h"
#include "http/form.h"
#include "money/fx.h"
#include "payments/sepa.h"
#include "scheduler/scheduler.h"
#include "store/store.h"
#include "vault/iban.h"
#include "vault/ideal.h"
#include "vault/payment_method.h"
#include "vault/vault.h"

/* ---- mandate_data ---- */

static const struct param_spec online_children[] = {
    {"ip_address", PT_STRING, 0, 100, NULL, NULL},
    {"user_agent", PT_STRING, 0, 1000, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec offline_children[] = {{NULL, 0, 0, 0, NULL, NULL}};
static const struct param_spec acceptance_children[] = {
    {"type", PT_ENUM, PF_REQUIRED, 0, (const char *const[]){"online", "offline", NULL}, NULL},
    {"accepted_at", PT_INT, 0, 0, NULL, NULL},
    {"online", PT_OBJECT, 0, 0, NULL, online_children},
    {"offline", PT_OBJECT, 0, 0, NULL, offline_children},
    {NULL, 0, 0, 0, NULL, NULL},
};
const struct param_spec sepa_mandate_data_params[] = {
    {"customer_acceptance", PT_OBJECT, PF_REQUIRED, 0, NULL, acceptance_children},
    {NULL, 0, 0, 0, NULL, NULL},
};

int sepa_mandate_data(struct req *r, const char **ret_type, const char **ret_ip,
		      const char **ret_ua)
{
	if (!param_present(r, "mandate_data"))
		return 0;
	const char *type = param_str(r, "mandate_data.customer_acceptance.type");
	if (!type || !*type)
		return req_fail(r, ERR_PARAM_MISSING, "mandate_data[customer_acceptance][type]",
				"%s", "mandate_data[customer_acceptance][type]");
	const char *ip = NULL, *ua = NULL;
	if (strcmp(type, "online") == 0) {
		ip = param_str(r, "mandate_data.customer_acceptance.online.ip_address");
		ua = param_str(r, "mandate_data.customer_acceptance.online.user_agent");
		if (!ip || !*ip)
			return req_fail(r, ERR_PARAM_MISSING,
					"mandate_data[customer_acceptance][online][ip_address]",
					"%s",
					"mandate_data[customer_acceptance][online][ip_address]");
		if (!ua || !*ua)
			return req_fail(r, ERR_PARAM_MISSING,
					"mandate_data[customer_acceptance][online][user_agent]",
					"%s",
					"mandate_data[customer_acceptance][online][user_agent]");
	} else if (param_present(r, "mandate_data.customer_acceptance.online")) {
		return req_fail(r, ERR_PARAM_BAD, "mandate_data[customer_acceptance][online]",
				"online can only be given with type=online.");
	}
	*ret_type = type;
	*ret_ip = ip;
	*ret_ua = ua;
	return 1;
}

const struct param_spec sepa_mandate_options_params[] = {
    {"reference_prefix", PT_STRING, PF_EMPTYABLE, 100, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};

int sepa_reference_prefix(struct req *r, const char **field)
{
	static const char NAME[] = "payment_method_options[sepa_debit][mandate_options]"
				   "[reference_prefix]";
	const char *v = param_str(r, "payment_method_options.sepa_debit.mandate_options."
				     "reference_prefix");
	if (!v)
		return 0;
	size_t n = strlen(v);
	/* Stripe's rules: at most 12 characters, upper-case letters, digits, spaces and
	 * / _ - & . only, and not beginning with STRIPE */
	if (n > SEPA_REFERENCE_PREFIX_MAX)
		return req_fail(r, ERR_PARAM_BAD, NAME,
				"The reference_prefix must be at most %d characters long.",
				SEPA_REFERENCE_PREFIX_MAX);
	for (size_t i = 0; i < n; i++) {
		char ch = v[i];
		if (!((ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == ' ' ||
		      ch == '/' || ch == '_' || ch == '-' || ch == '&' || ch == '.'))
			return req_fail(r, ERR_PARAM_BAD, NAME,
					"The reference_prefix must consist of only uppercase "
					"letters, numbers, spaces, or the following special "
					"characters: '/', '_', '-', '&', '.'.");
	}
	if (strncmp(v, "STRIPE", 6) == 0)
		return req_fail(r, ERR_PARAM_BAD, NAME,
				"The reference_prefix cannot begin with 'STRIPE'.");
	*field = n ? v : NULL;
	return 0;
}

int sepa_setup_mandate(struct req *r, struct db *db, const char *pm_id, const char *type,
		       const char *ip, const char *ua, const char *prefix, char ret_id[ID_MAX])
{
	return sepa_setup_mandate_single(r, db, pm_id, type, ip, ua, prefix, 0, NULL, ret_id);
}

int sepa_setup_mandate_single(struct req *r, struct db *db, const char *pm_id, const char *type,
			      const char *ip, const char *ua, const char *prefix, int64_t amount,
			      const char *currency, char ret_id[ID_MAX])
{
	struct mandate m = {
	    .payment_method = pm_id,
	    .type = currency ? "single_use" : "multi_use",
	    .status = "active",
	    .acceptance_type = type,
	    .ip_address = ip,
	    .user_agent = ua,
	    .amount = currency ? amount : 0,
	    .currency = currency,
	};
	sepa_mandate_new(&m, r->now);
	sepa_mandate_prefix(&m, prefix);
	if (sepa_mandate_insert(db, r->merchant_id, &m) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	str_copy(ret_id, ID_MAX, m.id);
	return 0;
}

/* ---- is it a SEPA PaymentMethod ---- */

struct kind_ctx {
	struct req *r;
	const char *id;
	int kind;
	const char *redirect_type;
};

static int kind_fn(struct db *db, void *p)
{
	struct kind_ctx *k = p;
	struct pm_card pm;
	int rc = pm_load(db, k->r->merchant_id, k->id, &pm);
	k->kind = rc != DB_OK				     ? PM_KIND_CARD
		  : strcmp(pm.type, "customer_balance") == 0 ? PM_KIND_CASH
		  : PM_IS_ACH(&pm)			     ? PM_KIND_ACH
		  : PM_IS_SEPA(&pm)			     ? PM_KIND_SEPA
		  : PM_IS_REDIRECT(&pm)			     ? PM_KIND_REDIRECT
							     : PM_KIND_CARD;
	if (k->kind == PM_KIND_REDIRECT)
		k->redirect_type = redirect_type_known(pm.type);
	return rc == DB_OK || rc == DB_NOTFOUND ? 0 : req_fail(k->r, ERR_API, NULL, NULL);
}

int pm_ref_kind(struct req *r, const char *pm_ref, const char **ret_redirect_type)
{
	if (ret_redirect_type)
		*ret_redirect_type = NULL;
	if (!pm_ref || strncmp(pm_ref, "pm_", 3) != 0 || vault_is_test_alias(pm_ref))
		return PM_KIND_CARD;
	struct kind_ctx k = {r, pm_ref, PM_KIND_CARD, NULL};
	if (req_read(r, kind_fn, &k) != 0)
		return -1;
	if (k.kind == PM_KIND_REDIRECT && !k.redirect_type)
		return PM_KIND_CARD; /* a type this build does not know: the card path refuses it */
	if (ret_redirect_type)
		*ret_redirect_type = k.redirect_type;
	return k.kind;
}

int sepa_pm_is_sepa(struct req *r, const char *pm_ref)
{
	int kind = pm_ref_kind(r, pm_ref, NULL);
	return kind == PM_KIND_SEPA ? 1 : kind == PM_KIND_ACH ? 2 : kind < 0 ? -1 : 0;
}

/* ---- ACH Direct Debit: microdeposits ---- */

static int debit_start(struct req *r, struct db *db, struct payment_intent *pi,
		       const struct pm_card *pm, const char *mandate_id, bool insert_first);

/*
 * A us_bank_account typed by hand is verified as Stripe verifies one without Financial
 * Connections (one made from a linked account, api/financial_connections.c, is set_up already):
 * two microdeposits (test mode: 32 and 45 cents, or the descriptor code SM11AA) the
 * customer reports back through verify_microdeposits. Until then the intent waits in
 * requires_action with next_action verify_with_microdeposits; the mandate accepted at confirm and
 * the count of wrong answers wait in ach_verifications (one row per intent). Three wrong answers
 * end it: the intent goes back to requires_payment_method. A verified account's PaymentMethod is
 * marked set_up and is not asked again.
 */

#define ACH_ATTEMPTS_MAX 3
#define ACH_ARRIVAL_SECONDS (2 * 86400)

static const char SQL_VERIFY_PUT[] =
    "INSERT INTO ach_verifications (merchant_id, intent, payment_method, mandate, attempts,"
    " status, created) VALUES ($1, $2, $3, $4, 0, 'pending', $5)"
    " ON CONFLICT (merchant_id, intent) DO UPDATE SET payment_method = $3, mandate = $4,"
    " attempts = 0, status = 'pending', created = $5";
static const char SQL_VERIFY_GET[] =
    "SELECT payment_method, mandate, attempts FROM ach_verifications WHERE merchant_id = $1"
    " AND intent = $2 AND status = 'pending'";
static const char SQL_VERIFY_SET[] =
    "UPDATE ach_verifications SET attempts = $3, status = $4 WHERE merchant_id = $1"
    " AND intent = $2 AND status = 'pending'";

int ach_verification_put(struct db *db, const char *merchant_id, const char *intent,
			 const char *pm_id, const char *mandate_id, int64_t now)
{
	struct db_stmt *st = db_prepare(db, SQL_VERIFY_PUT);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, intent, -1);
	db_bind_text(st, 3, pm_id, -1);
	db_bind_text(st, 4, mandate_id, -1);
	db_bind_int64(st, 5, now);
	return db_step_done(st);
}

int ach_verification_get(struct db *db, const char *merchant_id, const char *intent,
			 char ret_pm[ID_MAX], char ret_mandate[ID_MAX], int *ret_attempts)
{
	struct db_stmt *st = db_prepare(db, SQL_VERIFY_GET);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, intent, -1);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		str_copy(ret_pm, ID_MAX, db_col_text(st, 0, NULL));
		str_copy(ret_mandate, ID_MAX, db_col_text(st, 1, NULL));
		*ret_attempts = (int)db_col_int64(st, 2);
	}
	db_reset(st);
	if (rc == DB_ROW)
		return DB_OK;
	return rc == DB_DONE ? DB_NOTFOUND : rc;
}

int ach_verification_set(struct db *db, const char *merchant_id, const char *intent, int attempts,
			 const char *status)
{
	struct db_stmt *st = db_prepare(db, SQL_VERIFY_SET);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, intent, -1);
	db_bind_int64(st, 3, attempts);
	db_bind_text(st, 4, status, -1);
	int64_t changed = 0;
	int rc = db_step_changes(st, &changed);
	if (rc != DB_OK)
		return rc;
	return changed == 1 ? DB_OK : DB_CONFLICT;
}

static const char SQL_VERIFY_STATUS[] =
    "SELECT status, payment_method FROM ach_verifications WHERE merchant_id = $1 AND intent = $2";

int ach_verification_status(struct db *db, const char *merchant_id, const char *intent,
			    char ret_status[16], char ret_pm[ID_MAX])
{
	struct db_stmt *st = db_prepare(db, SQL_VERIFY_STATUS);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, intent, -1);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		str_copy(ret_status, 16, db_col_text(st, 0, NULL));
		str_copy(ret_pm, ID_MAX, db_col_text(st, 1, NULL));
	}
	db_reset(st);
	if (rc == DB_ROW)
		return DB_OK;
	return rc == DB_DONE ? DB_NOTFOUND : rc;
}

const char *ach_verification_url(struct req *r, const char *intent_id)
{
	char tok[VAULT_PAGE_TOKEN_LEN + 1];
	if (!r->app || !r->app->vault ||
	    vault_page_token(r->app->vault, r->merchant_id, intent_id, tok) != 0)
		return NULL;
	return arena_printf(&r->arena, "%s/microdeposits/%s/%s/%s", req_url_base(r), r->merchant_id,
			    intent_id, tok);
}

const char *ach_next_action(struct req *r, const char *intent_id)
{
	const char *url = ach_verification_url(r, intent_id);
	if (!url)
		return NULL;
	struct buf b;
	struct json j;
	buf_init(&b, 4096);
	json_init(&j, &b);
	json_obj_open(&j);
	json_kv_str(&j, "type", "verify_with_microdeposits");
	json_key(&j, "verify_with_microdeposits");
	json_obj_open(&j);
	json_kv_int(&j, "arrival_date", r->now + ACH_ARRIVAL_SECONDS);
	json_kv_str(&j, "hosted_verification_url", url);
	/* always amounts: descriptor codes are taken as answers but never offered (README: Not
	 * covered) */
	json_kv_str(&j, "microdeposit_type", "amounts");
	json_obj_close(&j);
	json_obj_close(&j);
	const char *s = b.failed ? NULL : arena_strndup(&r->arena, b.data, b.len);
	buf_release(&b);
	return s;
}

int ach_check_microdeposits(struct req *r, bool *ret_match)
{
	bool has_amounts = param_present(r, "amounts");
	const char *code = param_str(r, "descriptor_code");
	bool has_code = code && *code;
	if (has_amounts == has_code)
		return req_fail(r, ERR_PARAM_BAD, has_amounts ? "descriptor_code" : "amounts",
				"Provide exactly one of amounts or descriptor_code.");
	if (has_code) {
		*ret_match = strcmp(code, "SM11AA") == 0;
		return 0;
	}
	const struct form_node *n = param_node(r, "amounts");
	int64_t got[2];
	int count = 0;
	for (const struct form_node *x = n->kind == FORM_SCALAR ? n : n->first_child; x;
	     x = n->kind == FORM_SCALAR ? NULL : x->next) {
		char *end = NULL;
		errno = 0;
		long long v = x->value ? strtoll(x->value, &end, 10) : 0;
		if (!x->value || !*x->value || errno || *end || v < 0)
			return req_fail(r, ERR_PARAM_BAD, "amounts", "Invalid integer: %.40s",
					x->value ? x->value : "");
		if (count < 2)
			got[count] = v;
		count++;
		if (count > 2)
			break;
	}
	if (count != 2)
		return req_fail(r, ERR_PARAM_BAD, "amounts",
				"amounts must have exactly two values, the amounts of the two "
				"microdeposits in cents.");
	*ret_match = (got[0] == 32 && got[1] == 45) || (got[0] == 45 && got[1] == 32);
	return 0;
}

static int ach_requires_action(struct req *r, struct db *db, struct payment_intent *pi,
			       const struct pm_card *pm, const char *mandate_id, bool insert_first)
{
	if (ach_verification_put(db, r->merchant_id, pi->id, pm->id, mandate_id, r->now) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	pi->status = "requires_action";
	pi->payment_method = arena_strdup(&r->arena, pm->id);
	pi->next_action = ach_next_action(r, pi->id);
	pi->last_payment_error = NULL;
	/* a Checkout Session's intent confirmed again from a 3-D Secure challenge left open: that
	 * challenge pays nothing now */
	pi->three_d_secure_token = NULL;
	if (!pi->payment_method || !pi->next_action)
		return req_fail(r, ERR_API, NULL, NULL);
	int rc;
	if (insert_first) {
		pi->version++;
		rc = pi_insert(db, r->merchant_id, pi);
	} else {
		rc = pi_update(db, r->merchant_id, pi);
	}
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	/* a Checkout Session's payment completes it, unpaid until the microdeposits are verified
	 * and the bank answers (Stripe's Checkout does the same without Financial Connections) */
	if (pi->checkout_session && checkout_complete(r, db, pi->checkout_session) != 0)
		return -1;
	size_t len;
	const char *js = pi_json(db, &r->arena, r->merchant_id, r->livemode, pi, &len);
	if (!js)
		return req_fail(r, ERR_API, NULL, NULL);
	return payments_event_answer(r, db, "payment_intent.requires_action", pi->id, js, len,
				     NULL);
}

const char *ach_attempts_error(struct req *r, struct db *db, const char *pm_id)
{
	struct buf b;
	struct json j;
	buf_init(&b, 64 * 1024);
	json_init(&j, &b);
	json_obj_open(&j);
	json_kv_str(&j, "code", "payment_method_microdeposit_verification_attempts_exceeded");
	json_kv_str(&j, "doc_url",
		    "https://stripe.com/docs/error-codes/"
		    "payment-method-microdeposit-verification-attempts-exceeded");
	json_kv_str(&j, "message", ACH_ATTEMPTS_MESSAGE);
	json_key(&j, "payment_method");
	if (pm_render(db, r->merchant_id, pm_id, &j) != DB_OK)
		json_nil(&j);
	json_kv_str(&j, "payment_method_type", "us_bank_account");
	json_kv_str(&j, "type", "invalid_request_error");
	json_obj_close(&j);
	const char *s = b.failed ? NULL : arena_strndup(&r->arena, b.data, b.len);
	buf_release(&b);
	return s;
}

struct verify_ctx {
	struct req *r;
	const char *id;
	bool match;
	struct ach_verify_result *res;
};

static int verify_fn(struct db *db, void *p)
{
	struct verify_ctx *v = p;
	struct req *r = v->r;
	struct payment_intent pi;
	int rc = pi_load(db, &r->arena, r->merchant_id, v->id, &pi);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(r, "payment_intent", v->id, "intent");
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	char pm_id[ID_MAX], mandate_id[ID_MAX];
	int attempts = 0;
	rc = DB_NOTFOUND;
	if (strcmp(pi.status, "requires_action") == 0 && pi.next_action &&
	    strstr(pi.next_action, "\"verify_with_microdeposits\""))
		rc = ach_verification_get(db, r->merchant_id, pi.id, pm_id, mandate_id, &attempts);
	if (rc == DB_NOTFOUND)
		return req_fail(r, ERR_PAYMENT_INTENT_UNEXPECTED_STATE, NULL,
				"This PaymentIntent's microdeposits cannot be verified: its status "
				"is %s. Only a PaymentIntent whose next_action is "
				"verify_with_microdeposits can be verified.",
				pi.status);
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (!v->match) {
		attempts++;
		bool last = attempts >= ACH_ATTEMPTS_MAX;
		if (ach_verification_set(db, r->merchant_id, pi.id, attempts,
					 last ? "failed" : "pending") != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		v->res->left = ACH_ATTEMPTS_MAX - attempts;
		v->res->outcome = last ? ACH_VERIFY_EXCEEDED : ACH_VERIFY_MISMATCH;
		if (!last) {
			req_fail(r, ERR_MICRODEPOSIT_MISMATCH, "amounts",
				 "The amounts provided do not match the amounts that were sent to "
				 "the bank account. You have %d verification attempt%s remaining.",
				 ACH_ATTEMPTS_MAX - attempts,
				 ACH_ATTEMPTS_MAX - attempts == 1 ? "" : "s");
			return REQ_COMMIT_ERR;
		}
		pi.status = "requires_payment_method";
		pi.next_action = NULL;
		pi.last_payment_error = ach_attempts_error(r, db, pm_id);
		pi.payment_method = NULL;
		if (!pi.last_payment_error || pi_update(db, r->merchant_id, &pi) != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		size_t len;
		const char *js = pi_json(db, &r->arena, r->merchant_id, r->livemode, &pi, &len);
		if (!js || payments_event(r, db, "payment_intent.payment_failed", pi.id, js, len,
					  NULL) != 0)
			return req_fail(r, ERR_API, NULL, NULL);
		/* a Checkout Session completed with it learns its payment failed, and an invoice
		 * it pays (a subscription's first, bought on a Checkout page) the failed attempt */
		if (checkout_async_payment(db, r->merchant_id, pi.id, false, r->now) != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		if (pi.invoice && invoice_payment_settled(r, db, &pi) != 0)
			return -1;
		req_fail(r, ERR_MICRODEPOSIT_ATTEMPTS_EXCEEDED, NULL, "%s", ACH_ATTEMPTS_MESSAGE);
		return REQ_COMMIT_ERR;
	}
	v->res->outcome = ACH_VERIFY_OK;
	v->res->left = ACH_ATTEMPTS_MAX - attempts;
	if (ach_verification_set(db, r->merchant_id, pi.id, attempts, "verified") != DB_OK ||
	    pm_mark_set_up(db, r->merchant_id, pm_id) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	struct pm_card pm;
	if (pm_load(db, r->merchant_id, pm_id, &pm) != DB_OK || !PM_IS_ACH(&pm))
		return req_fail(r, ERR_API, NULL, NULL);
	rc = debit_start(r, db, &pi, &pm, mandate_id, false);
	/* an invoice's debit: the invoice waits for it in the same write, as confirm_fn's */
	if (rc == 0 && pi.invoice && invoice_payment_settled(r, db, &pi) != 0)
		return -1;
	return rc;
}

int ach_pi_verify(struct req *r, const char *id, bool match, struct ach_verify_result *res)
{
	memset(res, 0, sizeof(*res));
	struct verify_ctx v = {r, id, match, res};
	return req_write(r, verify_fn, &v);
}

static int h_pi_verify(struct req *r)
{
	bool match = false;
	if (ach_check_microdeposits(r, &match) != 0)
		return -1;
	struct ach_verify_result res;
	return ach_pi_verify(r, r->args[0], match, &res);
}

/* ---- confirming a PaymentIntent ---- */

struct confirm {
	struct req *r;
	struct payment_intent pi0, pi;
	bool insert_first;
	const char *pm_id;
	bool off_session;
	bool has_mandate_data;
	const char *mandate; /* the request's `mandate`: an existing one this payment uses */
	const char *acc_type, *acc_ip, *acc_ua;
	const char *created_json;
	size_t created_len;
	bool ach;		      /* a us_bank_account PaymentMethod (else sepa_debit) */
	const struct pi_invoice *inv; /* an invoice's payment made by Tender, or NULL */
};

static int ach_requires_action(struct req *r, struct db *db, struct payment_intent *pi,
			       const struct pm_card *pm, const char *mandate_id, bool insert_first);

static int confirm_fn(struct db *db, void *p)
{
	struct confirm *c = p;
	struct req *r = c->r;
	struct payment_intent *pi = &c->pi;
	*pi = c->pi0; /* a retried transaction starts over */
	if (pi->invoice && !c->ach && !pi_allows_type(pi, "sepa_debit"))
		pi->payment_method_types = "[\"card\",\"sepa_debit\"]";
	if (pi->invoice && c->ach && !pi_allows_type(pi, "us_bank_account"))
		pi->payment_method_types = "[\"card\",\"us_bank_account\"]";
	if (c->inv && c->inv->before && c->inv->before(r, db, c->inv->ctx) != 0)
		return -1;
	if (payments_confirm_begin(r, db, pi, c->insert_first, c->created_json, c->created_len) !=
	    0)
		return -1;
	struct pm_card pm;
	int rc = pm_load(db, r->merchant_id, c->pm_id, &pm);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(r, "payment_method", c->pm_id, "payment_method");
	if (rc != DB_OK || (c->ach ? !PM_IS_ACH(&pm) : !PM_IS_SEPA(&pm)))
		return req_fail(r, ERR_API, NULL, NULL);
	/* the mandate: the one accepted now, or (off session) the PaymentMethod's multi-use one */
	char mandate_id[ID_MAX] = "";
	int multi = DB_NOTFOUND;
	if (c->mandate) {
		/* the mandate the request names: this PaymentMethod's, and still in force */
		struct mandate m;
		rc = sepa_mandate_load(db, &r->arena, r->merchant_id, c->mandate, &m);
		if (rc == DB_NOTFOUND)
			return req_fail(r, ERR_PARAM_RESOURCE_MISSING, "mandate",
					"No such mandate: '%s'", c->mandate);
		if (rc != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		if (strcmp(m.payment_method, pm.id) != 0)
			return req_fail(r, ERR_PARAM_BAD, "mandate",
					"The mandate %s belongs to PaymentMethod %s, not to %s.",
					m.id, m.payment_method, pm.id);
		/* a single-use one (a SetupIntent's single_use) pays one payment of its amount */
		bool single = strcmp(m.type, "single_use") == 0;
		if (strcmp(m.status, "active") != 0 ||
		    (single && (m.amount != pi->amount || !m.currency ||
				strcmp(m.currency, pi->currency) != 0)))
			return req_fail(r, ERR_PAYMENT_METHOD_UNACTIVATED, "mandate",
					"The mandate %s cannot authorize this payment: it is %s.",
					m.id,
					strcmp(m.status, "active") != 0
					    ? "inactive"
					    : "single-use, for one payment of its own amount and "
					      "currency");
		/* its one payment is this one: "previously used" from now on, in this write
		 * (so no second payment uses it while this debit is processing) */
		struct event_origin o = {r->request_id[0] ? r->request_id : NULL,
					 r->idempotency_key, r->livemode};
		if (single &&
		    sepa_mandate_deactivate_single(db, &r->arena, r->merchant_id, &o, r->app->vault,
						   req_url_base(r), m.id, r->now) != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		str_copy(mandate_id, sizeof(mandate_id), m.id);
		multi = DB_OK;
	} else if (!c->has_mandate_data) {
		multi = sepa_mandate_multi_use(db, r->merchant_id, pm.id, mandate_id);
		if (multi != DB_OK && multi != DB_NOTFOUND)
			return req_fail(r, ERR_API, NULL, NULL);
		/* an off-session debit (an invoice's attempt too) whose mandate has ended: the
		 * customer must accept a new one */
		int inactive = multi == DB_NOTFOUND && c->off_session
				   ? sepa_mandate_inactive_multi_use(db, r->merchant_id, pm.id)
				   : 0;
		if (inactive < 0)
			return req_fail(r, ERR_API, NULL, NULL);
		if (inactive)
			return req_fail(
			    r, ERR_PAYMENT_METHOD_UNACTIVATED, "payment_method",
			    "The mandate for this %s PaymentMethod is inactive (the PaymentMethod "
			    "was detached from its customer), so it cannot be used for an "
			    "off-session payment. Collect a new mandate from the customer with "
			    "mandate_data[customer_acceptance].",
			    c->ach ? "us_bank_account" : "sepa_debit");
	}
	if (pm.detached)
		return req_fail(r, ERR_PARAM_BAD, "payment_method", "%s", PM_DETACHED_MESSAGE);
	/* an invoice is paid off session: nobody is there to verify microdeposits, unless the
	 * account was typed on a Checkout page now (a subscription's first invoice): then, as on
	 * Stripe, its intent waits for them */
	if (c->ach && pi->invoice && !pm.set_up && !(c->inv && c->inv->verify_on_page))
		return req_fail(r, ERR_BANK_ACCOUNT_UNVERIFIED, "payment_method",
				"The bank account %s has not been verified: verify it with "
				"microdeposits (a SetupIntent) before it pays invoices.",
				pm.id);
	if (pi->customer && pm.customer[0] && strcmp(pi->customer, pm.customer) != 0)
		return req_fail(r, ERR_PARAM_BAD, "payment_method",
				"The provided PaymentMethod belongs to another customer.");
	if (!pi->customer && pm.customer[0])
		return req_fail(r, ERR_PARAM_BAD, "payment_method",
				"The provided PaymentMethod is attached to a customer: give the "
				"PaymentIntent that customer to use it.");
	if (c->has_mandate_data) {
		/* the type's own setup_future_usage (payment_method_options) wins */
		const char *sfu =
		    pi_setup_future_usage(pi, c->ach ? "us_bank_account" : "sepa_debit");
		struct mandate m = {
		    .payment_method = pm.id,
		    .type = sfu ? "multi_use" : "single_use",
		    .status = "active",
		    .acceptance_type = c->acc_type,
		    .ip_address = c->acc_ip,
		    .user_agent = c->acc_ua,
		    .amount = pi->amount,
		    .currency = sfu ? NULL : pi->currency,
		};
		sepa_mandate_new(&m, r->now);
		if (!c->ach)
			sepa_mandate_prefix(&m, pi->pmo_sepa_reference_prefix);
		if (sepa_mandate_insert(db, r->merchant_id, &m) != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		str_copy(mandate_id, sizeof(mandate_id), m.id);
	} else if (!c->mandate) {
		if (multi == DB_NOTFOUND || !c->off_session)
			return req_fail(
			    r, ERR_PARAM_MISSING, "mandate_data",
			    "A mandate is required to confirm a PaymentIntent with a %s "
			    "PaymentMethod: pass mandate_data[customer_acceptance], or "
			    "off_session=true with a PaymentMethod that has a multi-use mandate "
			    "(set up by a SetupIntent).",
			    c->ach ? "us_bank_account" : "sepa_debit");
	}
	/* verification_method=instant: only an account linked through Financial Connections
	 * (Stripe verifies nothing else instantly; its client collects one first) */
	if (c->ach && pi->pmo_ach_verification_method &&
	    strcmp(pi->pmo_ach_verification_method, "instant") == 0 && !pm.ach_fc_account[0])
		return req_fail(r, ERR_PARAM_BAD, "payment_method",
				"verification_method=instant needs a us_bank_account PaymentMethod "
				"made from a Financial Connections account "
				"(us_bank_account[financial_connections_account]).");
	if (c->ach && !pm.set_up) {
		rc = ach_requires_action(r, db, pi, &pm, mandate_id, c->insert_first);
		/* a Checkout Session's subscription: the account is its customer's now (its
		 * default_payment_method, as a card bought with is), the invoice waits with the
		 * intent (invoice.payment_action_required), and the session completes unpaid
		 * (inv->answer) */
		if (rc == 0 && pi->invoice && pi->customer && !pm.customer[0]) {
			const char *id;
			char owner[ID_MAX];
			if (pm_attach_resolve(r, db, pm.id, "payment_method", &id, owner) != 0 ||
			    pm_attach_finish(r, db, id, owner, pi->customer) != 0)
				return -1;
		}
		if (rc == 0 && pi->invoice && invoice_payment_settled(r, db, pi) != 0)
			return -1;
		if (rc == 0 && c->inv && c->inv->answer)
			rc = c->inv->answer(r, db, c->inv->ctx, rc);
		return rc;
	}
	rc = debit_start(r, db, pi, &pm, mandate_id, c->insert_first);
	/* an invoice's debit: the invoice waits for it in the same write (invoices.c) */
	if (rc == 0 && pi->invoice && invoice_payment_settled(r, db, pi) != 0)
		return -1;
	if (rc == 0 && c->inv && c->inv->answer)
		rc = c->inv->answer(r, db, c->inv->ctx, rc);
	return rc;
}

/* The debit itself, inside the confirm's write (or a verification's, insert_first false): the
 * pending charge, the debit the scheduler settles, pi `processing`, charge.pending and
 * payment_intent.processing, and the answer. */
static int debit_start(struct req *r, struct db *db, struct payment_intent *pi,
		       const struct pm_card *pm, const char *mandate_id, bool insert_first)
{
	int rc;
	struct charge ch;
	memset(&ch, 0, sizeof(ch));
	/* Stripe names the charges of payment methods other than cards py_… */
	id_new_at(ch.id, "py_", r->now);
	ch.created = r->now;
	ch.payment_intent = pi->id;
	ch.invoice = pi->invoice;
	ch.amount = pi->amount;
	str_copy(ch.currency, sizeof(ch.currency), pi->currency);
	ch.status = "pending";
	ch.customer = pi->customer;
	ch.payment_method = pm->id;
	ch.description = pi->description;
	ch.metadata = "{}";
	ch.receipt_email = pi->receipt_email;
	ch.statement_descriptor = pi->statement_descriptor;
	ch.shipping = pi->shipping;
	ch.outcome = SEPA_OUTCOME_PENDING;
	ch.card = sepa_charge_details(&r->arena, pm, mandate_id);
	ch.fingerprint = pm->fingerprint;
	ch.client_ip = r->client_ip[0] ? r->client_ip : NULL;
	if (!ch.card)
		return req_fail(r, ERR_API, NULL, NULL);
	if (pm->has_billing &&
	    pm_billing_details(db, r->merchant_id, pm->id, &r->arena, &ch.billing_details) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (charge_insert(db, r->merchant_id, &ch) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	bool delayed =
	    pm->sepa_behavior == SEPA_SUCCEED_DELAYED || pm->sepa_behavior == SEPA_FAIL_DELAYED;
	if (sepa_debit_schedule(db, r->merchant_id, ch.id, pi->id, pm->sepa_behavior,
				r->now + (delayed ? SEPA_DELAY_SECONDS : 0)) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	pi->status = "processing";
	pi->payment_method = arena_strdup(&r->arena, pm->id);
	pi->latest_charge = arena_strdup(&r->arena, ch.id);
	pi->last_payment_error = NULL;
	pi->next_action = NULL;
	pi->three_d_secure_token = NULL;
	if (!pi->payment_method || !pi->latest_charge)
		return req_fail(r, ERR_API, NULL, NULL);
	rc = pi_write_confirmed(db, r->merchant_id, pi, insert_first);
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	/* setup_future_usage with a customer: the PaymentMethod is saved on it, as for a card */
	if (pi->customer &&
	    pi_setup_future_usage(pi, PM_IS_ACH(pm) ? "us_bank_account" : "sepa_debit") &&
	    !pm->customer[0]) {
		const char *id;
		char owner[ID_MAX];
		if (pm_attach_resolve(r, db, pm->id, "payment_method", &id, owner) != 0 ||
		    pm_attach_finish(r, db, id, owner, pi->customer) != 0)
			return -1;
	}
	/* a Checkout Session's payment completes it (unpaid, until the bank answers) */
	if (pi->checkout_session && checkout_complete(r, db, pi->checkout_session) != 0)
		return -1;
	size_t len;
	const char *js = charge_json(db, &r->arena, r->merchant_id, r->livemode, &ch, &len);
	if (!js || payments_event(r, db, "charge.pending", ch.id, js, len, NULL) != 0)
		return req_fail(r, ERR_API, NULL, NULL);
	js = pi_json(db, &r->arena, r->merchant_id, r->livemode, pi, &len);
	if (!js)
		return req_fail(r, ERR_API, NULL, NULL);
	return payments_event_answer(r, db, "payment_intent.processing", pi->id, js, len, NULL);
}

/* accept_ip / accept_ua: a Checkout Session's payment (sepa_pi_confirm_checkout), whose
 * mandate the buyer accepted online on the page; NULL for the API's confirms. */
static int bank_pi_confirm(struct req *r, const struct payment_intent *pi, bool insert_first,
			   const char *pm_id, bool ach, const struct pi_invoice *inv,
			   const char *accept_ip, const char *accept_ua)
{
	const char *type = ach ? "us_bank_account" : "sepa_debit";
	const char *currency = ach ? "usd" : "eur";
	/* an invoice's intent takes the types its invoice allows (invoices.c checks them) */
	if (!pi_allows_type(pi, type) && !pi->invoice)
		return req_fail(r, ERR_PARAM_BAD, "payment_method",
				"The PaymentMethod provided (%s) is not allowed for this "
				"PaymentIntent. Please attach a PaymentMethod of one of the "
				"types this PaymentIntent allows. Alternatively update the allowed "
				"payment_method_types for this PaymentIntent to include \"%s\".",
				type, type);
	if (strcmp(pi->currency, currency) != 0)
		return req_fail(r, ERR_PARAM_BAD, "currency",
				"The currency provided (%s) is invalid. Payments with %s "
				"support the following currencies: %s.",
				pi->currency, type, currency);
	if (strcmp(pi->capture_method, "manual") == 0)
		return req_fail(r, ERR_PARAM_BAD, "capture_method",
				"The payment method type %s does not support "
				"capture_method=manual.",
				type);
	if (pi->connect.destination || pi->connect.on_behalf_of ||
	    pi->connect.application_fee_amount || (pi->checkout_session && !accept_ip))
		return req_fail(r, ERR_PARAM_BAD, "payment_method",
				"Tender takes %s for direct PaymentIntents, invoices and its "
				"Checkout page only (no Connect destination, nor a Checkout "
				"Session's intent confirmed through the API).",
				type);
	struct confirm c;
	memset(&c, 0, sizeof(c));
	c.r = r;
	c.ach = ach;
	c.pi0 = *pi;
	c.insert_first = insert_first;
	c.pm_id = pm_id;
	c.inv = inv;
	const char *off = param_str(r, "off_session");
	/* Tender's own payment of an invoice is off session, with the multi-use mandate */
	c.off_session =
	    inv != NULL || (off && (strcasecmp(off, "true") == 0 || strcmp(off, "one_off") == 0 ||
				    strcmp(off, "recurring") == 0));
	int md = 1;
	if (accept_ip) {
		c.acc_type = "online";
		c.acc_ip = accept_ip;
		c.acc_ua = accept_ua;
	} else {
		md = sepa_mandate_data(r, &c.acc_type, &c.acc_ip, &c.acc_ua);
	}
	if (md < 0)
		return -1;
	c.has_mandate_data = md == 1;
	const char *mandate = param_str(r, "mandate");
	if (mandate && *mandate) {
		if (c.has_mandate_data)
			return req_fail(r, ERR_PARAM_BAD, "mandate",
					"You may only specify one of these parameters: mandate, "
					"mandate_data.");
		c.mandate = inv ? NULL : mandate;
	}
	if (payments_check_minimum(r, pi->amount, pi->currency, "currency", "amount") != 0)
		return -1;
	if (insert_first &&
	    payments_confirm_created(r, &c.pi0, &c.created_json, &c.created_len) != 0)
		return -1;
	return req_write(r, confirm_fn, &c);
}

int sepa_pi_confirm(struct req *r, const struct payment_intent *pi, bool insert_first,
		    const char *pm_id, const struct pi_invoice *inv)
{
	return bank_pi_confirm(r, pi, insert_first, pm_id, false, inv, NULL, NULL);
}

int sepa_pi_confirm_checkout(struct req *r, const struct payment_intent *pi, bool insert_first,
			     const char *pm_id, const char *ip, const char *user_agent)
{
	return bank_pi_confirm(r, pi, insert_first, pm_id, false, NULL, ip, user_agent);
}

int ach_pi_confirm(struct req *r, const struct payment_intent *pi, bool insert_first,
		   const char *pm_id, const struct pi_invoice *inv)
{
	return bank_pi_confirm(r, pi, insert_first, pm_id, true, inv, NULL, NULL);
}

int ach_pi_confirm_checkout(struct req *r, const struct payment_intent *pi, bool insert_first,
			    const char *pm_id, const char *ip, const char *user_agent)
{
	return bank_pi_confirm(r, pi, insert_first, pm_id, true, NULL, ip, user_agent);
}

/* ---- GET /v1/mandates/{id} ---- */

static int retrieve_fn(struct db *db, void *p)
{
	struct req *r = p;
	struct mandate m;
	int rc = sepa_mandate_load(db, &r->arena, r->merchant_id, r->args[0], &m);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(r, "mandate", r->args[0], "mandate");
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	m.url = sepa_mandate_url(&r->arena, r->app ? r->app->vault : NULL, req_url_base(r),
				 r->merchant_id, m.id);
	sepa_mandate_render(&m, r->livemode, req_json(r));
	return 0;
}

static int h_retrieve(struct req *r)
{
	return req_read(r, retrieve_fn, r) == 0 ? 0 : -1;
}

static const struct param_spec no_params[] = {{NULL, 0, 0, 0, NULL, NULL}};

const struct param_spec ach_verify_params[] = {
    {"amounts", PT_STRING_ARRAY, 0, 0, NULL, NULL},
    {"descriptor_code", PT_STRING, 0, 16, NULL, NULL},
    {"client_secret", PT_STRING, 0, 255, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};

const struct route mandates_routes[] = {
    {"GET", "/v1/mandates/{id}", h_retrieve, no_params, 0},
    {"POST", "/v1/payment_intents/{id}/verify_microdeposits", h_pi_verify, ach_verify_params, 0},
    {NULL, NULL, NULL, NULL, 0},
};

/* ---- the scheduler job ---- */

static struct app *tick_app;

void sepa_scheduler_init(struct app *app)
{
	tick_app = app;
}

struct tick_ctx {
	int64_t now;
	struct fx_table *fx;
	int done;
	struct shard_share share;
};

static int tick_fn(struct db *db, void *p)
{
	struct tick_ctx *c = p;
	int n = sepa_settle_db(db, c->fx, tick_app, c->now, scheduler_batch(64));
	if (n < 0)
		return -1;
	c->done += (int)shard_share_add(&c->share, db, n);
	return 0;
}

int sepa_settle_tick(struct store *s, int64_t now)
{
	struct tick_ctx c;
	memset(&c, 0, sizeof(c));
	c.now = now;
	c.fx = tick_app ? app_fx_acquire(tick_app) : NULL;
	int rc = store_each_shard_write(s, tick_fn, &c);
	fx_table_free(c.fx);
	return rc == 0 ? c.done : rc;
}
