/*
 * Stripe Treasury's money movements a merchant starts (api/treasury.h): outbound transfers
 * (obt_, to a us_bank_account PaymentMethod of the financial account's owner), outbound payments
 * (obp_, to a third party: a customer's us_bank_account PaymentMethod, or the bank account given
 * as destination_payment_method_data, whose number the vault seals under the payment's id) and
 * inbound transfers (ibt_, pulled from a us_bank_account PaymentMethod), with the test helpers
 * that move them on as Stripe's test mode does.
 *
 * Each flow has one Treasury transaction, open while the flow is processing:
 *   outbound, created:  cash −a, outbound_pending +a (entry outbound_transfer / outbound_payment);
 *                       refused (400) when the cash does not cover a
 *     posted:           outbound_pending −a (…_posting), the transaction posted
 *     failed/canceled:  cash +a, outbound_pending −a (…_failure / …_cancellation), void
 *     returned (after posted): a second, posted transaction of the flow: cash +a (…_return),
 *                       named by returned_details.transaction
 *   inbound, created:   inbound_pending +a (entry inbound_transfer)
 *     succeeded:        inbound_pending −a, cash +a, the transaction posted
 *     failed/canceled:  inbound_pending −a, void
 *     returned (after succeeded): the bank takes the money back as a received debit (its own
 *                       transaction, cash −a, whatever the cash), named by
 *                       linked_flows.received_debit; the transfer stays succeeded, returned true
 * Only a processing flow may be canceled (an ACH one: a wire cannot be called back), posted,
 * succeeded or failed; only a posted outbound one or a succeeded inbound one returned, once;
 * anything else is a 400 that changes nothing. Every move appends its event
 * (treasury.outbound_transfer.posted, …) in its write. Outbound flows need the financial account's
 * matching feature (outbound_transfers.ach, …) and outbound flows that the platform did not
 * restrict; inbound ones inbound_transfers.ach.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "api/common.h"
#include "api/list.h"
#include "api/resources.h"
#include "api/treasury.h"
#include "app.h"
#include "core/str.h"
#include "store/store.h"
#include "vault/ach.h"
#include "vault/payment_method.h"
#include "vault/vault.h"

enum flow_kind { OBT, OBP, IBT };

static const struct kind_info {
	const char *name;	/* flow_type and kind column: "outbound_transfer" */
	const char *object;	/* "treasury.outbound_transfer" */
	const char *prefix;	/* "obt_" */
	const char *pm_field;	/* "destination_payment_method" */
	const char *descriptor; /* the default statement_descriptor */
	const char *url;
} KINDS[] = {
    {"outbound_transfer", "treasury.outbound_transfer", "obt_", "destination_payment_method",
     "transfer", "/v1/treasury/outbound_transfers"},
    {"outbound_payment", "treasury.outbound_payment", "obp_", "destination_payment_method",
     "payment", "/v1/treasury/outbound_payments"},
    {"inbound_transfer", "treasury.inbound_transfer", "ibt_", "origin_payment_method", "transfer",
     "/v1/treasury/inbound_transfers"},
};

struct flow {
	char id[ID_MAX];
	enum flow_kind kind;
	int64_t created, amount, expected_arrival_date;
	int64_t canceled_at, failed_at, posted_at, returned_at;
	const char *financial_account, *currency, *description, *statement_descriptor;
	const char *payment_method, *method_details, *customer, *end_user_details, *metadata;
	const char *status, *transaction, *failure_code, *returned_code, *return_transaction;
	const char *received_debit; /* an inbound transfer returned: the debit that took it back */
};

static const char *with_param(struct req *r, const char *path)
{
	const char *v = param_str(r, path);
	return v && *v ? v : NULL;
}

static const char SQL_FLOW_GET[] =
    "SELECT id, kind, created, amount, expected_arrival_date, canceled_at, failed_at, posted_at,"
    " returned_at, financial_account, currency, description, statement_descriptor,"
    " payment_method, method_details, customer, end_user_details, metadata, status,"
    " transaction_id, failure_code, returned_code, return_transaction, received_debit"
    " FROM treasury_flows"
    " WHERE merchant_id = $1 AND id = $2";
static const char SQL_FLOW_INSERT[] =
    "INSERT INTO treasury_flows (merchant_id, id, kind, created, financial_account, amount,"
    " currency, description, statement_descriptor, payment_method, method_details, customer,"
    " end_user_details, metadata, status, expected_arrival_date, transaction_id) VALUES ($1, $2,"
    " $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)";
/* a move happens only from the status read (two helpers racing: one of them moves) */
static const char SQL_FLOW_MOVE[] =
    "UPDATE treasury_flows SET status = $4, canceled_at = $5, failed_at = $6, posted_at = $7,"
    " returned_at = $8, failure_code = $9, returned_code = $10, return_transaction = $11,"
    " received_debit = $12 WHERE merchant_id = $1 AND id = $2 AND status = $3"
    " AND received_debit IS NULL";

static int flow_load(struct db *db, struct arena *a, const char *merchant_id, const char *id,
		     enum flow_kind kind, struct flow *f)
{
	struct db_stmt *st;
	int rc = db_row_by_id(db, SQL_FLOW_GET, merchant_id, id, &st);
	if (rc != DB_OK)
		return rc;
	memset(f, 0, sizeof(*f));
	str_copy(f->id, sizeof(f->id), db_col_text(st, 0, NULL));
	const char *k = db_col_text(st, 1, NULL);
	bool same = k && strcmp(k, KINDS[kind].name) == 0;
	f->kind = kind;
	f->created = db_col_int64(st, 2);
	f->amount = db_col_int64(st, 3);
	f->expected_arrival_date = db_col_int64_or0(st, 4);
	f->canceled_at = db_col_int64_or0(st, 5);
	f->failed_at = db_col_int64_or0(st, 6);
	f->posted_at = db_col_int64_or0(st, 7);
	f->returned_at = db_col_int64_or0(st, 8);
	f->financial_account = col_text_dup(a, st, 9);
	f->currency = col_text_dup(a, st, 10);
	f->description = col_text_dup(a, st, 11);
	f->statement_descriptor = col_text_dup(a, st, 12);
	f->payment_method = col_text_dup(a, st, 13);
	f->method_details = col_text_dup(a, st, 14);
	f->customer = col_text_dup(a, st, 15);
	f->end_user_details = col_text_dup(a, st, 16);
	f->metadata = col_text_dup(a, st, 17);
	f->status = col_text_dup(a, st, 18);
	f->transaction = col_text_dup(a, st, 19);
	f->failure_code = col_text_dup(a, st, 20);
	f->returned_code = col_text_dup(a, st, 21);
	f->return_transaction = col_text_dup(a, st, 22);
	f->received_debit = col_text_dup(a, st, 23);
	db_reset(st);
	/* another kind's id is not found here (an obt_ asked for as an outbound payment) */
	if (!same)
		return DB_NOTFOUND;
	return f->financial_account && f->currency && f->statement_descriptor &&
		       f->method_details && f->metadata && f->status && f->transaction
		   ? DB_OK
		   : DB_ERR;
}

static bool is_wire(const struct flow *f)
{
	return strstr(f->method_details, "\"network\":\"us_domestic_wire\"") != NULL;
}

static bool cancelable(const struct flow *f)
{
	return strcmp(f->status, "processing") == 0 && !is_wire(f);
}

static void at_or_null(struct json *j, const char *key, int64_t v)
{
	if (v)
		json_kv_int(j, key, v);
	else
		json_kv_null(j, key);
}

static void flow_render(bool livemode, const struct flow *f, struct json *j)
{
	const struct kind_info *k = &KINDS[f->kind];
	json_obj_open(j);
	json_kv_str(j, "id", f->id);
	json_kv_str(j, "object", k->object);
	json_kv_int(j, "amount", f->amount);
	json_kv_bool(j, "cancelable", cancelable(f));
	json_kv_int(j, "created", f->created);
	json_kv_str(j, "currency", f->currency);
	if (f->kind == OBP)
		json_kv_str_or_null(j, "customer", f->customer);
	json_kv_str_or_null(j, "description", f->description);
	if (f->kind == IBT) {
		json_key(j, "failure_details");
		if (f->failure_code) {
			json_obj_open(j);
			json_kv_str(j, "code", f->failure_code);
			json_obj_close(j);
		} else {
			json_nil(j);
		}
	} else {
		json_kv_str_or_null(j, "destination_payment_method", f->payment_method);
		json_kv_raw(j, "destination_payment_method_details", f->method_details,
			    strlen(f->method_details));
	}
	if (f->kind == OBP)
		json_kv_raw_or_null(j, "end_user_details", f->end_user_details);
	if (f->kind != IBT)
		json_kv_int(j, "expected_arrival_date", f->expected_arrival_date);
	json_kv_str(j, "financial_account", f->financial_account);
	/* Tender serves no regulatory receipt page */
	json_kv_null(j, "hosted_regulatory_receipt_url");
	if (f->kind == IBT) {
		json_key(j, "linked_flows");
		json_obj_open(j);
		json_kv_str_or_null(j, "received_debit", f->received_debit);
		json_obj_close(j);
	}
	json_kv_bool(j, "livemode", livemode);
	json_kv_raw(j, "metadata", f->metadata, strlen(f->metadata));
	if (f->kind == IBT) {
		json_kv_str(j, "origin_payment_method", f->payment_method ? f->payment_method : "");
		json_kv_raw(j, "origin_payment_method_details", f->method_details,
			    strlen(f->method_details));
		json_kv_bool(j, "returned", f->received_debit != NULL);
	} else {
		json_key(j, "returned_details");
		if (f->returned_code && f->return_transaction) {
			json_obj_open(j);
			json_kv_str(j, "code", f->returned_code);
			json_kv_str(j, "transaction", f->return_transaction);
			json_obj_close(j);
		} else {
			json_nil(j);
		}
	}
	json_kv_str(j, "statement_descriptor", f->statement_descriptor);
	json_kv_str(j, "status", f->status);
	json_key(j, "status_transitions");
	json_obj_open(j);
	at_or_null(j, "canceled_at", f->canceled_at);
	at_or_null(j, "failed_at", f->failed_at);
	if (f->kind == IBT) {
		at_or_null(j, "succeeded_at", f->posted_at);
	} else {
		at_or_null(j, "posted_at", f->posted_at);
		at_or_null(j, "returned_at", f->returned_at);
	}
	json_obj_close(j);
	json_kv_str(j, "transaction", f->transaction);
	json_obj_close(j);
}

static int flow_emit(struct req *r, struct db *db, const struct flow *f, const char *what)
{
	char type[64];
	snprintf(type, sizeof(type), "treasury.%s.%s", KINDS[f->kind].name, what);
	struct buf b;
	struct json j;
	buf_init(&b, 1u << 20);
	json_init(&j, &b);
	flow_render(r->livemode, f, &j);
	const char *js;
	size_t len;
	char ev[ID_MAX];
	return api_event_append(r, db, type, f->id, &b, NULL, &js, &len, ev);
}

/* ---- the bank account a flow moves money to or from ---- */

#define NULL_ADDRESS                                                                               \
	"{\"city\":null,\"country\":null,\"line1\":null,\"line2\":null,\"postal_code\":null,"      \
	"\"state\":null}"
static const char EMPTY_BILLING[] = "{\"address\":" NULL_ADDRESS ",\"email\":null,\"name\":null}";

static const char *details_json(struct req *r, const char *billing, const char *holder_type,
				const char *account_type, const char *routing,
				const char *fingerprint, const char *last4, const char *network)
{
	struct buf b;
	struct json j;
	buf_init(&b, 16384);
	json_init(&j, &b);
	json_obj_open(&j);
	json_kv_raw(&j, "billing_details", billing, strlen(billing));
	json_kv_str(&j, "type", "us_bank_account");
	json_key(&j, "us_bank_account");
	json_obj_open(&j);
	json_kv_str_or_null(&j, "account_holder_type", holder_type);
	json_kv_str_or_null(&j, "account_type", account_type);
	json_kv_str_or_null(&j, "bank_name", ach_bank_name(routing));
	json_kv_str_or_null(&j, "fingerprint", fingerprint);
	json_kv_str_or_null(&j, "last4", last4);
	json_kv_str(&j, "network", network);
	json_kv_str_or_null(&j, "routing_number", routing);
	json_obj_close(&j);
	json_obj_close(&j);
	const char *s = b.failed ? NULL : arena_strdup(&r->arena, buf_cstr(&b));
	buf_release(&b);
	return s;
}

/* The details of us_bank_account PaymentMethod pm_id of r's merchant (param names it). */
static int details_from_pm(struct req *r, struct db *db, struct flow *f, const char *pm_id,
			   const char *param, const char *network)
{
	struct pm_card pm;
	int rc = pm_load(db, r->merchant_id, pm_id, &pm);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(r, "payment_method", pm_id, param);
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (!PM_IS_ACH(&pm))
		return req_fail(r, ERR_PARAM_BAD, param,
				"The PaymentMethod %s is not a us_bank_account PaymentMethod.",
				pm_id);
	if (f->kind == OBP && f->customer && strcmp(pm.customer, f->customer) != 0)
		return req_fail(r, ERR_PARAM_BAD, param,
				"The PaymentMethod %s does not belong to customer %s.", pm_id,
				f->customer);
	const char *billing = NULL;
	if (pm.has_billing &&
	    pm_billing_details(db, r->merchant_id, pm_id, &r->arena, &billing) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	f->payment_method = pm_id;
	f->method_details = details_json(r, billing ? billing : EMPTY_BILLING,
					 pm.ach_holder_type[0] ? pm.ach_holder_type : NULL,
					 pm.ach_account_type[0] ? pm.ach_account_type : NULL,
					 pm.ach_routing, pm.fingerprint, pm.last4, network);
	return f->method_details ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

/* destination_payment_method_data of an outbound payment: the third party's bank account, its
 * number sealed by the vault under the payment's id (and wiped here). */
static int details_from_data(struct req *r, struct db *db, struct flow *f, const char *network)
{
	const char *type = with_param(r, "destination_payment_method_data.type");
	if (!type || strcmp(type, "us_bank_account") != 0)
		return req_fail(r, ERR_PARAM_BAD, "destination_payment_method_data[type]",
				"Invalid destination_payment_method_data[type]: Tender pays out to "
				"us_bank_account only.");
	char routing[ACH_ROUTING_LEN + 1], account[ACH_ACCOUNT_MAX + 1];
	if (ach_routing_check(
		param_str(r, "destination_payment_method_data.us_bank_account.routing_number"),
		routing) != 0)
		return req_fail(r, ERR_PARAM_BAD,
				"destination_payment_method_data[us_bank_account][routing_number]",
				"Invalid routing number: not a valid ABA routing number.");
	if (ach_account_check(
		param_str(r, "destination_payment_method_data.us_bank_account.account_number"),
		account) != 0)
		return req_fail(r, ERR_PARAM_BAD,
				"destination_payment_method_data[us_bank_account][account_number]",
				"Invalid account number: it must be 4 to 17 digits.");
	char last4[5], fp[24];
	str_copy(last4, sizeof(last4), account + strlen(account) - 4);
	int rc =
	    vault_ach_store(r->app->vault, db, r->merchant_id, f->id, routing, account, r->now, fp);
	OPENSSL_cleanse(account, sizeof(account));
	if (rc != 0)
		return req_fail(r, ERR_API, NULL, NULL);
	const char *addr = NULL;
	if (address_from_params(r, "destination_payment_method_data.billing_details.address",
				&addr) != 0)
		return -1;
	const char *name = with_param(r, "destination_payment_method_data.billing_details.name");
	const char *email = with_param(r, "destination_payment_method_data.billing_details.email");
	struct buf b;
	struct json j;
	buf_init(&b, 16384);
	json_init(&j, &b);
	json_obj_open(&j);
	addr = addr ? addr : NULL_ADDRESS;
	json_kv_raw(&j, "address", addr, strlen(addr));
	json_kv_str_or_null(&j, "email", email);
	json_kv_str_or_null(&j, "name", name);
	json_obj_close(&j);
	const char *billing = b.failed ? NULL : arena_strdup(&r->arena, buf_cstr(&b));
	buf_release(&b);
	if (!billing)
		return req_fail(r, ERR_API, NULL, NULL);
	f->payment_method = NULL;
	f->method_details = details_json(
	    r, billing,
	    with_param(r, "destination_payment_method_data.us_bank_account.account_holder_type"),
	    with_param(r, "destination_payment_method_data.us_bank_account.account_type"), routing,
	    fp, last4, network);
	return f->method_details ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

/* ---- create ---- */

struct flow_ctx {
	struct req *r;
	const char *id;
	enum flow_kind kind;
	struct flow f;
	const char *network;
	int act;
};

static int flow_create_fn(struct db *db, void *arg)
{
	struct flow_ctx *x = arg;
	struct req *r = x->r;
	struct flow *f = &x->f;
	const struct kind_info *k = &KINDS[f->kind];
	bool out = f->kind != IBT;
	struct treasury_fa fa;
	if (treasury_fa_for_movement(r, db, f->financial_account, "financial_account",
				     out ? "outbound_flows" : "inbound_flows", &fa) != 0)
		return -1;
	char feature[64];
	snprintf(feature, sizeof(feature), "%ss.%s", k->name, x->network);
	if (!treasury_fa_has_feature(&fa, feature))
		return req_fail(r, ERR_INVALID_STATE, "financial_account",
				"The financial account %s does not have the %s feature.", fa.id,
				feature);
	const char *pm = with_param(r, k->pm_field);
	if (f->kind == OBP && pm && param_present(r, "destination_payment_method_data"))
		return req_fail(r, ERR_PARAM_BAD, "destination_payment_method_data",
				"You may only specify one of destination_payment_method and "
				"destination_payment_method_data.");
	if (pm) {
		if (details_from_pm(r, db, f, pm, k->pm_field, x->network) != 0)
			return -1;
	} else if (f->kind == OBP && param_present(r, "destination_payment_method_data")) {
		if (details_from_data(r, db, f, x->network) != 0)
			return -1;
	} else {
		return req_fail(r, ERR_PARAM_MISSING, k->pm_field, "%s", k->pm_field);
	}
	struct treasury_impact impact = {0};
	if (out) {
		struct treasury_impact bal;
		if (treasury_fa_balance(db, r->merchant_id, fa.id, f->currency, &bal) != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		if (bal.cash < f->amount)
			return req_fail(
			    r, ERR_INSUFFICIENT_FUNDS, "amount",
			    "The financial account %s has insufficient funds for this %s.", fa.id,
			    k->name);
		impact.cash = -f->amount;
		impact.outbound_pending = f->amount;
	} else {
		impact.inbound_pending = f->amount;
	}
	char trxn[ID_MAX];
	const char *desc = f->description ? f->description : k->name;
	if (treasury_txn_new(r, db, fa.id, f->currency, out ? -f->amount : f->amount, desc, f->id,
			     k->name, "open", trxn) != 0 ||
	    treasury_txn_entry(r, db, trxn, fa.id, f->currency, f->id, k->name, k->name, &impact) !=
		0)
		return -1;
	f->transaction = trxn;
	struct db_stmt *st = db_prepare(db, SQL_FLOW_INSERT);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, f->id, -1);
	db_bind_text(st, 3, k->name, -1);
	db_bind_int64(st, 4, f->created);
	db_bind_text(st, 5, fa.id, -1);
	db_bind_int64(st, 6, f->amount);
	db_bind_text(st, 7, f->currency, -1);
	db_bind_text(st, 8, f->description, -1);
	db_bind_text(st, 9, f->statement_descriptor, -1);
	db_bind_text(st, 10, f->payment_method, -1);
	db_bind_text(st, 11, f->method_details, -1);
	db_bind_text(st, 12, f->customer, -1);
	db_bind_text(st, 13, f->end_user_details, -1);
	db_bind_text(st, 14, f->metadata, -1);
	db_bind_text(st, 15, f->status, -1);
	db_bind_int64_or_null(st, 16, f->expected_arrival_date);
	db_bind_text(st, 17, f->transaction, -1);
	if (db_step_done(st) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (flow_emit(r, db, f, "created") != 0)
		return -1;
	flow_render(r->livemode, f, req_json(r));
	return 0;
}

static int flow_create(struct req *r, enum flow_kind kind)
{
	struct flow_ctx x = {.r = r, .kind = kind};
	struct flow *f = &x.f;
	const struct kind_info *k = &KINDS[kind];
	f->kind = kind;
	id_new_at(f->id, k->prefix, r->now);
	f->created = r->now;
	f->financial_account = param_str(r, "financial_account");
	f->status = "processing";
	f->metadata = "{}";
	f->description = with_param(r, "description");
	f->statement_descriptor = with_param(r, "statement_descriptor")
				      ? param_str(r, "statement_descriptor")
				      : k->descriptor;
	if (param_int(r, "amount", &f->amount) != 1 || f->amount < 1)
		return req_fail(r, ERR_PARAM_BAD, "amount",
				"Invalid amount: it must be a positive integer.");
	if (f->amount > LEDGER_AMOUNT_MAX)
		return req_fail(r, ERR_AMOUNT_TOO_LARGE, "amount",
				"Amount must be no more than %lld.", (long long)LEDGER_AMOUNT_MAX);
	const char *cur = param_str(r, "currency");
	if (!cur || strcasecmp(cur, "usd") != 0)
		return req_fail(r, ERR_INVALID_CURRENCY, "currency",
				"Invalid currency: financial accounts hold usd only.");
	f->currency = "usd";
	x.network = "ach";
	if (kind != IBT) {
		const char *n =
		    with_param(r, "destination_payment_method_options.us_bank_account.network");
		if (n)
			x.network = n;
		/* ACH arrives the next day, a wire the same day */
		f->expected_arrival_date = strcmp(x.network, "ach") == 0 ? r->now + 86400 : r->now;
	}
	if (kind == OBP) {
		f->customer = with_param(r, "customer");
		bool present = false;
		param_bool(r, "end_user_details.present", &present);
		const char *ip = with_param(r, "end_user_details.ip_address");
		f->end_user_details = arena_printf(
		    &r->arena, "{\"ip_address\":%s%s%s,\"present\":%s}", ip ? "\"" : "",
		    ip ? ip : "null", ip ? "\"" : "", present ? "true" : "false");
		if (ip && strspn(ip, "0123456789abcdefABCDEF.:") != strlen(ip))
			return req_fail(r, ERR_PARAM_BAD, "end_user_details[ip_address]",
					"Invalid end_user_details[ip_address]: not an IP address.");
	}
	if (metadata_apply(r, NULL, "metadata", &f->metadata) != 0)
		return -1;
	return req_write(r, flow_create_fn, &x);
}

static int h_obt_create(struct req *r)
{
	return flow_create(r, OBT);
}
static int h_obp_create(struct req *r)
{
	return flow_create(r, OBP);
}
static int h_ibt_create(struct req *r)
{
	return flow_create(r, IBT);
}

/* ---- retrieve and list ---- */

static int flow_load_fn(struct db *db, void *arg)
{
	struct flow_ctx *x = arg;
	int rc = flow_load(db, &x->r->arena, x->r->merchant_id, x->id, x->kind, &x->f);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(x->r, KINDS[x->kind].object, x->id, "id");
	return rc == DB_OK ? 0 : req_fail(x->r, ERR_API, NULL, NULL);
}

static int flow_retrieve_fn(struct db *db, void *arg)
{
	struct flow_ctx *x = arg;
	if (flow_load_fn(db, arg) != 0)
		return -1;
	flow_render(x->r->livemode, &x->f, req_json(x->r));
	return 0;
}

static int flow_retrieve(struct req *r, enum flow_kind kind)
{
	struct flow_ctx x = {.r = r, .id = r->args[0], .kind = kind};
	return req_read(r, flow_retrieve_fn, &x) == 0 ? 0 : -1;
}

static int h_obt_retrieve(struct req *r)
{
	return flow_retrieve(r, OBT);
}
static int h_obp_retrieve(struct req *r)
{
	return flow_retrieve(r, OBP);
}
static int h_ibt_retrieve(struct req *r)
{
	return flow_retrieve(r, IBT);
}

static const char SQL_FLOW_CURSOR[] =
    "SELECT created FROM treasury_flows WHERE merchant_id = $1 AND id = $2";
#define FLOW_LIST_WHERE                                                                            \
	"SELECT id FROM treasury_flows WHERE merchant_id = $1 AND id > $2 AND id < $3"             \
	" AND kind = $5 AND financial_account = $6 AND ($7 IS NULL OR status = $7)"                \
	" AND ($8 IS NULL OR customer = $8)"
static const char SQL_FLOW_DESC[] = FLOW_LIST_WHERE " ORDER BY id DESC LIMIT $4";
static const char SQL_FLOW_ASC[] = FLOW_LIST_WHERE " ORDER BY id ASC LIMIT $4";

static int flow_list_bind(struct req *r, struct db_stmt *st, int first, void *ctx)
{
	const struct kind_info *k = ctx;
	db_bind_text(st, first, k->name, -1);
	list_bind_filter(r, st, first + 1, "financial_account");
	list_bind_filter(r, st, first + 2, "status");
	if (k == &KINDS[OBP])
		list_bind_filter(r, st, first + 3, "customer");
	else
		db_bind_null(st, first + 3);
	return 0;
}

static int flow_list_render(struct req *r, struct db *db, const char *id, struct json *j, void *ctx)
{
	const struct kind_info *k = ctx;
	struct flow f;
	int rc = flow_load(db, &r->arena, r->merchant_id, id, (enum flow_kind)(k - KINDS), &f);
	if (rc == DB_OK)
		flow_render(r->livemode, &f, j);
	return rc;
}

static int flow_list(struct req *r, enum flow_kind kind)
{
	const struct kind_info *k = &KINDS[kind];
	const struct list_spec spec = {
	    .url = k->url,
	    .object_name = k->object,
	    .id_prefix = k->prefix,
	    .sql_cursor = SQL_FLOW_CURSOR,
	    .sql_desc = SQL_FLOW_DESC,
	    .sql_asc = SQL_FLOW_ASC,
	    .bind_filters = flow_list_bind,
	    .render = flow_list_render,
	    .ctx = (void *)k,
	};
	return list_respond(r, &spec);
}

static int h_obt_list(struct req *r)
{
	return flow_list(r, OBT);
}
static int h_obp_list(struct req *r)
{
	return flow_list(r, OBP);
}
static int h_ibt_list(struct req *r)
{
	return flow_list(r, IBT);
}

/* ---- moves: cancel, and the test helpers ---- */

enum act { ACT_CANCEL, ACT_POST, ACT_FAIL, ACT_RETURN, ACT_SUCCEED };

static int flow_move_fn(struct db *db, void *arg)
{
	struct flow_ctx *x = arg;
	struct req *r = x->r;
	if (flow_load_fn(db, arg) != 0)
		return -1;
	struct flow *f = &x->f;
	const struct kind_info *k = &KINDS[f->kind];
	bool out = f->kind != IBT;
	const char *from = x->act != ACT_RETURN ? "processing" : out ? "posted" : "succeeded";
	if (strcmp(f->status, from) != 0 || f->received_debit ||
	    (x->act == ACT_CANCEL && !cancelable(f)))
		return req_fail(r, ERR_INVALID_STATE, NULL, "The %s %s is %s: it cannot be %s.",
				k->name, f->id, f->status,
				x->act == ACT_CANCEL   ? "canceled"
				: x->act == ACT_POST   ? "posted"
				: x->act == ACT_FAIL   ? "failed"
				: x->act == ACT_RETURN ? "returned"
						       : "succeeded");
	struct treasury_fa fa;
	if (treasury_fa_for_movement(r, db, f->financial_account, "financial_account", NULL, &fa) !=
	    0)
		return -1;
	struct treasury_impact impact = {0};
	const char *entry = NULL, *settle = NULL, *to = NULL, *event = NULL;
	char entry_buf[64];
	switch (x->act) {
	case ACT_POST:
		impact.outbound_pending = -f->amount;
		snprintf(entry_buf, sizeof(entry_buf), "%s_posting", k->name);
		entry = entry_buf, settle = "posted", to = "posted", event = "posted";
		f->posted_at = r->now;
		break;
	case ACT_SUCCEED:
		impact.inbound_pending = -f->amount;
		impact.cash = f->amount;
		entry = k->name, settle = "posted", to = "succeeded", event = "succeeded";
		f->posted_at = r->now;
		break;
	case ACT_FAIL:
	case ACT_CANCEL:
		if (out) {
			impact.cash = f->amount;
			impact.outbound_pending = -f->amount;
			snprintf(entry_buf, sizeof(entry_buf), "%s_%s", k->name,
				 x->act == ACT_FAIL ? "failure" : "cancellation");
			entry = entry_buf;
		} else {
			impact.inbound_pending = -f->amount;
			entry = k->name;
		}
		settle = "void";
		to = event = x->act == ACT_FAIL ? "failed" : "canceled";
		if (x->act == ACT_FAIL) {
			f->failed_at = r->now;
			if (!out) {
				const char *code = with_param(r, "failure_details.code");
				f->failure_code = code ? code : "account_closed";
			}
		} else {
			f->canceled_at = r->now;
		}
		break;
	case ACT_RETURN: {
		if (!out) {
			/* the bank took the money back: a received debit linked to the transfer */
			char rd[ID_MAX];
			if (treasury_return_as_received_debit(r, db, fa.id, f->amount, f->currency,
							      f->description ? f->description
									     : k->name,
							      f->method_details, f->id, rd) != 0)
				return -1;
			f->received_debit = arena_strdup(&r->arena, rd);
			f->returned_at = r->now;
			to = from;
			break;
		}
		/* the money comes back in a transaction of its own */
		char trxn[ID_MAX];
		struct treasury_impact back = {.cash = f->amount};
		snprintf(entry_buf, sizeof(entry_buf), "%s_return", k->name);
		if (treasury_txn_new(r, db, fa.id, f->currency, f->amount,
				     f->description ? f->description : k->name, f->id, k->name,
				     "posted", trxn) != 0 ||
		    treasury_txn_entry(r, db, trxn, fa.id, f->currency, f->id, k->name, entry_buf,
				       &back) != 0)
			return -1;
		f->return_transaction = arena_strdup(&r->arena, trxn);
		const char *code = with_param(r, "returned_details.code");
		f->returned_code = code ? code : "declined";
		f->returned_at = r->now;
		to = event = "returned";
		break;
	}
	}
	if (entry && (treasury_txn_entry(r, db, f->transaction, fa.id, f->currency, f->id, k->name,
					 entry, &impact) != 0 ||
		      treasury_txn_settle(r, db, f->transaction, settle) != 0))
		return -1;
	struct db_stmt *st = db_prepare(db, SQL_FLOW_MOVE);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, f->id, -1);
	db_bind_text(st, 3, from, -1);
	db_bind_text(st, 4, to, -1);
	db_bind_int64_or_null(st, 5, f->canceled_at);
	db_bind_int64_or_null(st, 6, f->failed_at);
	db_bind_int64_or_null(st, 7, f->posted_at);
	db_bind_int64_or_null(st, 8, f->returned_at);
	db_bind_text(st, 9, f->failure_code, -1);
	db_bind_text(st, 10, f->returned_code, -1);
	db_bind_text(st, 11, f->return_transaction, -1);
	db_bind_text(st, 12, f->received_debit, -1);
	int64_t n = 0;
	if (db_step_changes(st, &n) != DB_OK || n != 1)
		return req_fail(r, ERR_API, NULL, NULL);
	f->status = to;
	/* an inbound transfer's return has the received debit's event (Stripe sends no other) */
	if (event && flow_emit(r, db, f, event) != 0)
		return -1;
	flow_render(r->livemode, f, req_json(r));
	return 0;
}

static int flow_move(struct req *r, enum flow_kind kind, enum act act)
{
	struct flow_ctx x = {.r = r, .id = r->args[0], .kind = kind, .act = act};
	return req_write(r, flow_move_fn, &x);
}

static int h_obt_cancel(struct req *r)
{
	return flow_move(r, OBT, ACT_CANCEL);
}
static int h_obt_post(struct req *r)
{
	return flow_move(r, OBT, ACT_POST);
}
static int h_obt_fail(struct req *r)
{
	return flow_move(r, OBT, ACT_FAIL);
}
static int h_obt_return(struct req *r)
{
	return flow_move(r, OBT, ACT_RETURN);
}
static int h_obp_cancel(struct req *r)
{
	return flow_move(r, OBP, ACT_CANCEL);
}
static int h_obp_post(struct req *r)
{
	return flow_move(r, OBP, ACT_POST);
}
static int h_obp_fail(struct req *r)
{
	return flow_move(r, OBP, ACT_FAIL);
}
static int h_obp_return(struct req *r)
{
	return flow_move(r, OBP, ACT_RETURN);
}
static int h_ibt_cancel(struct req *r)
{
	return flow_move(r, IBT, ACT_CANCEL);
}
static int h_ibt_succeed(struct req *r)
{
	return flow_move(r, IBT, ACT_SUCCEED);
}
static int h_ibt_fail(struct req *r)
{
	return flow_move(r, IBT, ACT_FAIL);
}
static int h_ibt_return(struct req *r)
{
	return flow_move(r, IBT, ACT_RETURN);
}

/* ---- parameters and routes ---- */

static const char *const NETWORKS[] = {"ach", "us_domestic_wire", NULL};
static const struct param_spec network_children[] = {
    {"network", PT_ENUM, 0, 0, NETWORKS, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec options_children[] = {
    {"us_bank_account", PT_OBJECT, 0, 0, NULL, network_children},
    {NULL, 0, 0, 0, NULL, NULL},
};
#define FLOW_COMMON_PARAMS                                                                         \
	{"amount", PT_INT, PF_REQUIRED, 0, NULL, NULL},                                            \
	    {"currency", PT_CURRENCY, PF_REQUIRED, 0, NULL, NULL},                                 \
	    {"description", PT_STRING, 0, 5000, NULL, NULL},                                       \
	    {"financial_account", PT_STRING, PF_REQUIRED, 5000, NULL, NULL},                       \
	    {"metadata", PT_METADATA, 0, 0, NULL, NULL},                                           \
	{                                                                                          \
		"statement_descriptor", PT_STRING, 0, 10, NULL, NULL                               \
	}
static const struct param_spec obt_create_params[] = {
    FLOW_COMMON_PARAMS,
    {"destination_payment_method", PT_STRING, 0, 5000, NULL, NULL},
    {"destination_payment_method_options", PT_OBJECT, 0, 0, NULL, options_children},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec dest_us_bank_children[] = {
    {"account_holder_type", PT_ENUM, 0, 0, (const char *const[]){"company", "individual", NULL},
     NULL},
    {"account_number", PT_STRING, 0, 64, NULL, NULL},
    {"account_type", PT_ENUM, 0, 0, (const char *const[]){"checking", "savings", NULL}, NULL},
    {"routing_number", PT_STRING, 0, 64, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec billing_children[] = {
    {"address", PT_OBJECT, 0, 0, NULL, address_params},
    {"email", PT_STRING, PF_EMPTYABLE, 800, NULL, NULL},
    {"name", PT_STRING, PF_EMPTYABLE, 5000, NULL, NULL},
    {"phone", PT_STRING, PF_EMPTYABLE, 5000, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec dest_data_children[] = {
    {"billing_details", PT_OBJECT, 0, 0, NULL, billing_children},
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {"type", PT_ENUM, PF_REQUIRED, 0,
     (const char *const[]){"financial_account", "us_bank_account", NULL}, NULL},
    {"us_bank_account", PT_OBJECT, 0, 0, NULL, dest_us_bank_children},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec end_user_children[] = {
    {"ip_address", PT_STRING, 0, 64, NULL, NULL},
    {"present", PT_BOOL, PF_REQUIRED, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec obp_create_params[] = {
    FLOW_COMMON_PARAMS,
    {"customer", PT_STRING, 0, 5000, NULL, NULL},
    {"destination_payment_method", PT_STRING, 0, 5000, NULL, NULL},
    {"destination_payment_method_data", PT_OBJECT, 0, 0, NULL, dest_data_children},
    {"destination_payment_method_options", PT_OBJECT, 0, 0, NULL, options_children},
    {"end_user_details", PT_OBJECT, 0, 0, NULL, end_user_children},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec ibt_create_params[] = {
    FLOW_COMMON_PARAMS,
    {"origin_payment_method", PT_STRING, PF_REQUIRED, 5000, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const char *const OUT_STATUSES[] = {"canceled",	 "failed",   "posted",
					   "processing", "returned", NULL};
static const struct param_spec out_list_params[] = {
    {"financial_account", PT_STRING, PF_REQUIRED, 5000, NULL, NULL},
    {"status", PT_ENUM, 0, 0, OUT_STATUSES, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec obp_list_params[] = {
    {"customer", PT_STRING, 0, 5000, NULL, NULL},
    {"financial_account", PT_STRING, PF_REQUIRED, 5000, NULL, NULL},
    {"status", PT_ENUM, 0, 0, OUT_STATUSES, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec ibt_list_params[] = {
    {"financial_account", PT_STRING, PF_REQUIRED, 5000, NULL, NULL},
    {"status", PT_ENUM, 0, 0,
     (const char *const[]){"canceled", "failed", "processing", "succeeded", NULL}, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const char *const RETURN_CODES[] = {"account_closed",
					   "account_frozen",
					   "bank_account_restricted",
					   "bank_ownership_changed",
					   "declined",
					   "incorrect_account_holder_name",
					   "invalid_account_number",
					   "invalid_currency",
					   "no_account",
					   "other",
					   NULL};
static const struct param_spec returned_children[] = {
    {"code", PT_ENUM, 0, 0, RETURN_CODES, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec return_params[] = {
    {"returned_details", PT_OBJECT, 0, 0, NULL, returned_children},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const char *const FAILURE_CODES[] = {"account_closed",
					    "account_frozen",
					    "bank_account_restricted",
					    "bank_ownership_changed",
					    "debit_not_authorized",
					    "incorrect_account_holder_address",
					    "incorrect_account_holder_name",
					    "incorrect_account_holder_tax_id",
					    "insufficient_funds",
					    "invalid_account_number",
					    "invalid_currency",
					    "no_account",
					    "other",
					    NULL};
static const struct param_spec failure_children[] = {
    {"code", PT_ENUM, 0, 0, FAILURE_CODES, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec ibt_fail_params[] = {
    {"failure_details", PT_OBJECT, 0, 0, NULL, failure_children},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec no_params[] = {{NULL, 0, 0, 0, NULL, NULL}};

#define TH "/v1/test_helpers/treasury"
const struct route treasury_flow_routes[] = {
    {"POST", "/v1/treasury/outbound_transfers", h_obt_create, obt_create_params, 0},
    {"GET", "/v1/treasury/outbound_transfers", h_obt_list, out_list_params, ROUTE_LIST},
    {"GET", "/v1/treasury/outbound_transfers/{id}", h_obt_retrieve, no_params, 0},
    {"POST", "/v1/treasury/outbound_transfers/{id}/cancel", h_obt_cancel, no_params, 0},
    {"POST", TH "/outbound_transfers/{id}/post", h_obt_post, no_params, 0},
    {"POST", TH "/outbound_transfers/{id}/fail", h_obt_fail, no_params, 0},
    {"POST", TH "/outbound_transfers/{id}/return", h_obt_return, return_params, 0},
    {"POST", "/v1/treasury/outbound_payments", h_obp_create, obp_create_params, 0},
    {"GET", "/v1/treasury/outbound_payments", h_obp_list, obp_list_params, ROUTE_LIST},
    {"GET", "/v1/treasury/outbound_payments/{id}", h_obp_retrieve, no_params, 0},
    {"POST", "/v1/treasury/outbound_payments/{id}/cancel", h_obp_cancel, no_params, 0},
    {"POST", TH "/outbound_payments/{id}/post", h_obp_post, no_params, 0},
    {"POST", TH "/outbound_payments/{id}/fail", h_obp_fail, no_params, 0},
    {"POST", TH "/outbound_payments/{id}/return", h_obp_return, return_params, 0},
    {"POST", "/v1/treasury/inbound_transfers", h_ibt_create, ibt_create_params, 0},
    {"GET", "/v1/treasury/inbound_transfers", h_ibt_list, ibt_list_params, ROUTE_LIST},
    {"GET", "/v1/treasury/inbound_transfers/{id}", h_ibt_retrieve, no_params, 0},
    {"POST", "/v1/treasury/inbound_transfers/{id}/cancel", h_ibt_cancel, no_params, 0},
    {"POST", TH "/inbound_transfers/{id}/succeed", h_ibt_succeed, no_params, 0},
    {"POST", TH "/inbound_transfers/{id}/fail", h_ibt_fail, ibt_fail_params, 0},
    {"POST", TH "/inbound_transfers/{id}/return", h_ibt_return, no_params, 0},
    {NULL, NULL, NULL, NULL, 0},
};
