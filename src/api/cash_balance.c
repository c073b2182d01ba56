/*
 * Customers' cash balances (Stripe's bank transfers, payment method type customer_balance):
 * GET/POST /v1/customers/{customer}/cash_balance (its reconciliation settings),
 * POST /v1/customers/{customer}/funding_instructions (the customer's virtual bank account),
 * GET /v1/customers/{customer}/cash_balance_transactions[/{transaction}], and
 * POST /v1/test_helpers/customers/{customer}/fund_cash_balance (a bank transfer arriving).
 *
 * A cash balance is per currency: customer_cash_balances keeps what the customer holds in each,
 * moved only by cash_move inside one write, which appends the customer_cash_balance_transaction
 * (ccsbtxn_…, Stripe's types) with the balance after it, moves the row from the amount it read
 * (a guarded update, as customer_balance.c's balance_move), and posts the journal transaction
 * (ledger_cash.h): the money is Tender's to hold for the customer, not the merchant's, so the
 * merchant's balance does not move until the cash pays for something.
 *
 * A customer's virtual account for a bank transfer type (and an eu_bank_transfer country) is
 * made the first time it is asked for and kept (customer_funding_accounts): test-mode numbers
 * made up from random digits (payments/bank_transfer.h), no one's bank data.
 *
 * PaymentIntents paid from the cash balance are the API's own (cash_pi_confirm) or a
 * send_invoice invoice's (cash_invoice_pay, from invoices.c): an invoice's intent is never
 * funded in part (Stripe's rule), it takes the cash only when the cash covers all of it.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "api/common.h"
#include "api/customer_balance.h"
#include "api/list.h"
#include "api/payments_common.h"
#include "api/resources.h"
#include "app.h"
#include "core/random.h"
#include "core/str.h"
#include "http/form.h"
#include "http/params.h"
#include "ledger/ledger.h"
#include "ledger/ledger_cash.h"
#include "payments/bank_transfer.h"
#include "payments/payments.h"
#include "payments/pm_types.h"
#include "payments/redirect.h"
#include "vault/payment_method.h"

#define CASH_TXN_PREFIX "ccsbtxn_"

static const char SQL_MODE[] = "SELECT cash_reconciliation_mode FROM customers"
			       " WHERE merchant_id = $1 AND id = $2 AND deleted = 0";
static const char SQL_SET_MODE[] = "UPDATE customers SET cash_reconciliation_mode = $3"
				   " WHERE merchant_id = $1 AND id = $2 AND deleted = 0";
static const char SQL_AVAILABLE[] = "SELECT currency, available FROM customer_cash_balances"
				    " WHERE merchant_id = $1 AND customer = $2 ORDER BY currency";
static const char SQL_ONE_AVAILABLE[] =
    "SELECT available FROM customer_cash_balances WHERE merchant_id = $1 AND customer = $2"
    " AND currency = $3";
static const char SQL_BALANCE_INSERT[] =
    "INSERT INTO customer_cash_balances (merchant_id, customer, currency, available)"
    " VALUES ($1, $2, $3, $4)";
/* from the amount read only ($5): a move is computed from what it replaces */
static const char SQL_BALANCE_MOVE[] =
    "UPDATE customer_cash_balances SET available = $4 WHERE merchant_id = $1 AND customer = $2"
    " AND currency = $3 AND available = $5";
static const char SQL_TXN_INSERT[] =
    "INSERT INTO customer_cash_balance_transactions (merchant_id, id, created, customer, type,"
    " currency, net_amount, ending_balance, bank_transfer_type, reference, payment_intent,"
    " refund, journal_txn) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)";
static const char SQL_TXN_GET[] =
    "SELECT id, created, customer, type, currency, net_amount, ending_balance,"
    " bank_transfer_type, reference, payment_intent, refund"
    " FROM customer_cash_balance_transactions WHERE merchant_id = $1 AND id = $2";
static const char SQL_ACCOUNT_GET[] =
    "SELECT address FROM customer_funding_accounts WHERE merchant_id = $1 AND customer = $2"
    " AND type = $3 AND country = $4";
static const char SQL_ACCOUNT_INSERT[] =
    "INSERT INTO customer_funding_accounts (merchant_id, customer, type, country, created,"
    " address) VALUES ($1, $2, $3, $4, $5, $6)";
static const char SQL_MERCHANT_NAME[] = "SELECT name FROM merchants WHERE id = $1";

/* ---- the balance ---- */

/* The customer's reconciliation mode as stored (NULL: the merchant's default) into mode
 * ("" for NULL). DB_OK, DB_NOTFOUND (no such customer, or deleted) or < 0. */
static int mode_load(struct db *db, const char *merchant_id, const char *customer, char mode[16])
{
	struct db_stmt *st = db_prepare(db, SQL_MODE);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, customer, -1);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		const char *m = db_col_text(st, 0, NULL);
		str_copy(mode, 16, m ? m : "");
	}
	db_reset(st);
	if (rc == DB_ROW)
		return DB_OK;
	return rc == DB_DONE ? DB_NOTFOUND : rc < 0 ? rc : DB_ERR;
}

/* settings as Stripe shows them: the merchant's default is automatic reconciliation */
static void settings_render(struct json *j, const char *mode)
{
	json_key(j, "settings");
	json_obj_open(j);
	json_kv_str(j, "reconciliation_mode", mode[0] ? mode : "automatic");
	json_kv_bool(j, "using_merchant_default", mode[0] == '\0');
	json_obj_close(j);
}

int cash_balance_render(struct db *db, const char *merchant_id, bool livemode, const char *customer,
			struct json *j)
{
	char mode[16];
	int rc = mode_load(db, merchant_id, customer, mode);
	if (rc != DB_OK)
		return rc;
	struct db_stmt *st = db_prepare(db, SQL_AVAILABLE);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, customer, -1);
	json_obj_open(j);
	json_kv_str(j, "object", "cash_balance");
	json_key(j, "available");
	int n = 0;
	while ((rc = db_step(st)) == DB_ROW) {
		const char *cur = db_col_text(st, 0, NULL);
		if (!cur)
			continue;
		if (n++ == 0)
			json_obj_open(j);
		json_kv_int(j, cur, db_col_int64(st, 1));
	}
	db_reset(st);
	if (rc != DB_DONE)
		return rc < 0 ? rc : DB_ERR;
	if (n)
		json_obj_close(j);
	else
		json_nil(j); /* nothing ever paid in */
	json_kv_str(j, "customer", customer);
	json_kv_bool(j, "livemode", livemode);
	settings_render(j, mode);
	json_obj_close(j);
	return DB_OK;
}

/* What the customer holds in currency (0 when nothing yet); *ret_exists: whether its row is
 * there. DB_OK or < 0. */
static int available_load(struct db *db, const char *merchant_id, const char *customer,
			  const char *currency, int64_t *ret, bool *ret_exists)
{
	struct db_stmt *st = db_prepare(db, SQL_ONE_AVAILABLE);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, customer, -1);
	db_bind_text(st, 3, currency, -1);
	int rc = db_step(st);
	*ret = rc == DB_ROW ? db_col_int64(st, 0) : 0;
	*ret_exists = rc == DB_ROW;
	db_reset(st);
	return rc == DB_ROW || rc == DB_DONE ? DB_OK : rc < 0 ? rc : DB_ERR;
}

/* One change of a cash balance (see the file's comment). */
struct cash_move {
	const char *id; /* ccsbtxn_… */
	const char *customer, *type, *currency;
	const char *bank_transfer_type, *reference; /* funded */
	const char *payment_intent, *refund;	    /* applied / unapplied, refunded */
	int64_t amount;				    /* net_amount: + in, - out */
};

/* cash_move's refusal apart from the store's negative codes */
#define MOVE_RANGE 1 /* the balance would go below 0 or above LEDGER_AMOUNT_MAX */

/* Moves the customer's cash in m->currency by m->amount: the transaction, the balance row and
 * the journal (jtx: the caller's journal transaction for it, posted already). DB_OK,
 * MOVE_RANGE or < 0; *ret_ending: the balance after it. */
static int cash_move(struct db *db, const char *merchant_id, const struct cash_move *m,
		     const char *jtx, int64_t now, int64_t *ret_ending)
{
	int64_t before = 0, ending;
	bool exists = false;
	int rc = available_load(db, merchant_id, m->customer, m->currency, &before, &exists);
	if (rc != DB_OK)
		return rc;
	if (__builtin_add_overflow(before, m->amount, &ending) || ending < 0 ||
	    ending > LEDGER_AMOUNT_MAX)
		return MOVE_RANGE;
	struct db_stmt *st = db_prepare(db, SQL_TXN_INSERT);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, m->id, -1);
	db_bind_int64(st, 3, now);
	db_bind_text(st, 4, m->customer, -1);
	db_bind_text(st, 5, m->type, -1);
	db_bind_text(st, 6, m->currency, -1);
	db_bind_int64(st, 7, m->amount);
	db_bind_int64(st, 8, ending);
	db_bind_text(st, 9, m->bank_transfer_type, -1);
	db_bind_text(st, 10, m->reference, -1);
	db_bind_text(st, 11, m->payment_intent, -1);
	db_bind_text(st, 12, m->refund, -1);
	db_bind_text(st, 13, jtx, -1);
	rc = db_step_done(st);
	if (rc != DB_OK)
		return rc;
	st = db_prepare(db, exists ? SQL_BALANCE_MOVE : SQL_BALANCE_INSERT);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, m->customer, -1);
	db_bind_text(st, 3, m->currency, -1);
	db_bind_int64(st, 4, ending);
	if (exists)
		db_bind_int64(st, 5, before);
	int64_t changed = 0;
	rc = db_step_changes(st, &changed);
	if (rc != DB_OK)
		return rc;
	if (changed != 1)
		return DB_CONFLICT;
	*ret_ending = ending;
	return DB_OK;
}

/* ---- transactions ---- */

struct txn {
	const char *id, *customer, *type, *currency, *bank_transfer_type, *reference;
	const char *payment_intent, *refund;
	int64_t created, net_amount, ending_balance;
};

static int txn_load(struct arena *a, struct db *db, const char *merchant_id, const char *id,
		    struct txn *t)
{
	struct db_stmt *st = db_prepare(db, SQL_TXN_GET);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, id, -1);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		memset(t, 0, sizeof(*t));
		t->id = col_text_dup(a, st, 0);
		t->created = db_col_int64(st, 1);
		t->customer = col_text_dup(a, st, 2);
		t->type = col_text_dup(a, st, 3);
		t->currency = col_text_dup(a, st, 4);
		t->net_amount = db_col_int64(st, 5);
		t->ending_balance = db_col_int64(st, 6);
		t->bank_transfer_type = col_text_dup(a, st, 7);
		t->reference = col_text_dup(a, st, 8);
		t->payment_intent = col_text_dup(a, st, 9);
		t->refund = col_text_dup(a, st, 10);
		if (!t->id || !t->customer || !t->type || !t->currency)
			rc = DB_ERR;
	}
	db_reset(st);
	if (rc == DB_ROW)
		return DB_OK;
	return rc == DB_DONE ? DB_NOTFOUND : rc < 0 ? rc : DB_ERR;
}

/* The funded transaction's bank_transfer hash: the type, the customer's reference, and what
 * the sender's bank told (Tender's test helper hears nothing of the sender: null). */
static void funded_render(struct json *j, const struct txn *t)
{
	const char *type = t->bank_transfer_type ? t->bank_transfer_type : "us_bank_transfer";
	json_key(j, "funded");
	json_obj_open(j);
	json_key(j, "bank_transfer");
	json_obj_open(j);
	json_key(j, type);
	json_obj_open(j);
	if (strcmp(type, "eu_bank_transfer") == 0) {
		json_kv_null(j, "bic");
		json_kv_null(j, "iban_last4");
	} else if (strcmp(type, "gb_bank_transfer") == 0) {
		json_kv_null(j, "account_number_last4");
	} else if (strcmp(type, "jp_bank_transfer") == 0) {
		json_kv_null(j, "sender_bank");
		json_kv_null(j, "sender_branch");
	} else if (strcmp(type, "us_bank_transfer") == 0) {
		json_kv_str(j, "network", "ach");
	}
	json_kv_null(j, "sender_name");
	if (strcmp(type, "gb_bank_transfer") == 0)
		json_kv_null(j, "sort_code");
	json_obj_close(j);
	json_kv_str_or_null(j, "reference", t->reference);
	json_kv_str(j, "type", type);
	json_obj_close(j);
	json_obj_close(j);
}

/* prefix: where the transaction sits in the answer (NULL: the answer itself, "data": a list),
 * for expand[]=customer; r NULL (an event): nothing expanded. */
static int txn_render(struct req *r, struct db *db, const struct txn *t, bool livemode,
		      const char *prefix, struct json *j)
{
	char path[64];
	snprintf(path, sizeof(path), "%s%scustomer", prefix ? prefix : "", prefix ? "." : "");
	json_obj_open(j);
	json_kv_str(j, "id", t->id);
	json_kv_str(j, "object", "customer_cash_balance_transaction");
	if (strcmp(t->type, "applied_to_payment") == 0 ||
	    strcmp(t->type, "unapplied_from_payment") == 0) {
		json_key(j, t->type);
		json_obj_open(j);
		json_kv_str_or_null(j, "payment_intent", t->payment_intent);
		json_obj_close(j);
	}
	json_kv_int(j, "created", t->created);
	json_kv_str(j, "currency", t->currency);
	json_key(j, "customer");
	if (r && req_expand_has(r, path)) {
		int rc = customer_render_by_id(r, db, t->customer, j);
		if (rc != DB_OK)
			return rc;
	} else {
		json_str(j, t->customer);
	}
	json_kv_int(j, "ending_balance", t->ending_balance);
	if (strcmp(t->type, "funded") == 0)
		funded_render(j, t);
	json_kv_bool(j, "livemode", livemode);
	json_kv_int(j, "net_amount", t->net_amount);
	if (strcmp(t->type, "refunded_from_payment") == 0) {
		json_key(j, "refunded_from_payment");
		json_obj_open(j);
		json_kv_str_or_null(j, "refund", t->refund);
		json_obj_close(j);
	}
	json_kv_str(j, "type", t->type);
	json_obj_close(j);
	return DB_OK;
}

/* Appends customer_cash_balance_transaction.created for transaction id, then
 * cash_balance.funds_available when it brought cash in, each with the object as it is now. */
static int txn_events(struct db *db, const char *merchant_id, const struct event_origin *o,
		      struct arena *a, const char *id, int64_t now)
{
	struct txn t;
	int rc = txn_load(a, db, merchant_id, id, &t);
	if (rc != DB_OK)
		return rc;
	struct buf b;
	struct json j;
	buf_init(&b, 1u << 16);
	json_init(&j, &b);
	rc = txn_render(NULL, db, &t, o->livemode, NULL, &j);
	if (rc == DB_OK && b.failed)
		rc = DB_ERR;
	if (rc == DB_OK)
		rc = event_append(db, merchant_id, o, "customer_cash_balance_transaction.created",
				  t.id, b.data, b.len, NULL, now, NULL);
	buf_release(&b);
	if (rc != DB_OK || strcmp(t.type, "funded") != 0)
		return rc;
	buf_init(&b, 1u << 16);
	json_init(&j, &b);
	rc = cash_balance_render(db, merchant_id, o->livemode, t.customer, &j);
	if (rc == DB_OK && b.failed)
		rc = DB_ERR;
	/* the cash balance has no id of its own: the event names its customer */
	if (rc == DB_OK)
		rc = event_append(db, merchant_id, o, "cash_balance.funds_available", t.customer,
				  b.data, b.len, NULL, now, NULL);
	buf_release(&b);
	return rc;
}

/* ---- funding instructions ---- */

/* The customer's virtual account of type t (country: eu_bank_transfer's, else t's) as its JSON
 * address, made and kept the first time (see the file's comment); arena memory. DB_OK or < 0. */
static int account_get_or_make(struct req *r, struct db *db, const char *customer,
			       const struct bank_transfer_type *t, const char *country,
			       const char **ret)
{
	const char *key = t->country ? "" : country;
	struct db_stmt *st = db_prepare(db, SQL_ACCOUNT_GET);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, customer, -1);
	db_bind_text(st, 3, t->name, -1);
	db_bind_text(st, 4, key, -1);
	int rc = db_step(st);
	if (rc == DB_ROW)
		*ret = col_text_dup(&r->arena, st, 0);
	db_reset(st);
	if (rc == DB_ROW)
		return *ret ? DB_OK : DB_ERR;
	if (rc != DB_DONE)
		return rc < 0 ? rc : DB_ERR;
	/* the account holder the customer sees: the merchant they are paying */
	char holder[256] = "Tender";
	st = db_prepare(db, SQL_MERCHANT_NAME);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, r->merchant_id, -1);
	rc = db_step(st);
	if (rc == DB_ROW) {
		const char *n = db_col_text(st, 0, NULL);
		if (n && *n)
			str_copy(holder, sizeof(holder), n);
	}
	db_reset(st);
	if (rc != DB_ROW && rc != DB_DONE)
		return rc < 0 ? rc : DB_ERR;
	uint8_t rnd[BANK_TRANSFER_RANDOM_BYTES];
	random_bytes(rnd, sizeof(rnd));
	struct buf b;
	struct json j;
	buf_init(&b, 1u << 12);
	json_init(&j, &b);
	bool ok =
	    bank_transfer_address_render(t, t->country ? t->country : country, holder, rnd, &j) &&
	    !b.failed;
	const char *addr = ok ? arena_strndup(&r->arena, b.data, b.len) : NULL;
	buf_release(&b);
	if (!addr)
		return DB_ERR;
	st = db_prepare(db, SQL_ACCOUNT_INSERT);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, customer, -1);
	db_bind_text(st, 3, t->name, -1);
	db_bind_text(st, 4, key, -1);
	db_bind_int64(st, 5, r->now);
	db_bind_text(st, 6, addr, -1);
	rc = db_step_done(st);
	if (rc != DB_OK)
		return rc;
	*ret = addr;
	return DB_OK;
}

/* ---- the routes ---- */

static const char *const MODES[] = {"automatic", "manual", "merchant_default", NULL};
static const char *const BT_TYPES[] = {"eu_bank_transfer", "gb_bank_transfer", "jp_bank_transfer",
				       "mx_bank_transfer", "us_bank_transfer", NULL};
static const char *const EU_COUNTRIES[] = {"BE", "DE", "ES", "FR", "IE", "NL", NULL};

static const struct param_spec settings_params[] = {
    {"reconciliation_mode", PT_ENUM, 0, 0, MODES, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec update_params[] = {
    {"settings", PT_OBJECT, 0, 0, NULL, settings_params},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec eu_params[] = {
    {"country", PT_ENUM, PF_REQUIRED, 0, EU_COUNTRIES, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec bank_transfer_params[] = {
    {"type", PT_ENUM, PF_REQUIRED, 0, BT_TYPES, NULL},
    {"eu_bank_transfer", PT_OBJECT, 0, 0, NULL, eu_params},
    {"requested_address_types", PT_STRING_ARRAY, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec funding_params[] = {
    {"funding_type", PT_ENUM, PF_REQUIRED, 0, (const char *const[]){"bank_transfer", NULL}, NULL},
    {"bank_transfer", PT_OBJECT, PF_REQUIRED, 0, NULL, bank_transfer_params},
    {"currency", PT_CURRENCY, PF_REQUIRED, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec fund_params[] = {
    {"amount", PT_INT, PF_REQUIRED, 0, NULL, NULL},
    {"currency", PT_CURRENCY, PF_REQUIRED, 0, NULL, NULL},
    {"reference", PT_STRING, 0, 140, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec no_params[] = {{NULL, 0, 0, 0, NULL, NULL}};
static const struct param_spec apply_params[] = {
    {"amount", PT_INT, 0, 0, NULL, NULL},
    {"currency", PT_CURRENCY, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};

/* ---- PaymentIntents paid from the cash balance (customer_balance) ---- */

/* A charge's payment_method_details, whole (payments/redirect.h: redirect_details_is) */
#define CASH_DETAILS "{\"customer_balance\":{},\"type\":\"customer_balance\"}"

static const char SQL_APPLIED_TO[] =
    "SELECT COALESCE(SUM(net_amount), 0) FROM customer_cash_balance_transactions"
    " WHERE merchant_id = $1 AND payment_intent = $2"
    " AND type IN ('applied_to_payment', 'unapplied_from_payment')";
static const char SQL_WAIT_GET[] =
    "SELECT reference FROM cash_balance_waiting WHERE merchant_id = $1 AND payment_intent = $2";
static const char SQL_WAIT_PUT[] =
    "INSERT INTO cash_balance_waiting (merchant_id, payment_intent, customer, currency,"
    " reference, created) VALUES ($1, $2, $3, $4, $5, $6)";
static const char SQL_WAIT_DEL[] =
    "DELETE FROM cash_balance_waiting WHERE merchant_id = $1 AND payment_intent = $2";
/* the intents automatic reconciliation funds, oldest first (a bounded batch: a customer with
 * more waiting has the rest funded by the next transfer) */
static const char SQL_WAITING[] =
    "SELECT payment_intent, reference FROM cash_balance_waiting WHERE merchant_id = $1"
    " AND customer = $2 AND currency = $3 ORDER BY created, payment_intent LIMIT 64";

/* What is applied to intent pi_id now (applied less unapplied). DB_OK or < 0. */
static int applied_to(struct db *db, const char *merchant_id, const char *pi_id, int64_t *ret)
{
	struct db_stmt *st = db_prepare(db, SQL_APPLIED_TO);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, pi_id, -1);
	int rc = db_step(st);
	int64_t sum = rc == DB_ROW ? db_col_int64(st, 0) : 0;
	db_reset(st);
	if (rc != DB_ROW)
		return rc < 0 ? rc : DB_ERR;
	*ret = -sum; /* applied transactions take cash out of the balance: negative */
	return DB_OK;
}

/* The intent's reference while it waits (arena), NULL when it does not. DB_OK or < 0. */
static int waiting_reference(struct req *r, struct db *db, const char *pi_id, const char **ret)
{
	struct db_stmt *st = db_prepare(db, SQL_WAIT_GET);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, pi_id, -1);
	int rc = db_step(st);
	*ret = rc == DB_ROW ? col_text_dup(&r->arena, st, 0) : NULL;
	db_reset(st);
	return rc == DB_ROW || rc == DB_DONE ? DB_OK : rc < 0 ? rc : DB_ERR;
}

static int waiting_del(struct db *db, const char *merchant_id, const char *pi_id)
{
	struct db_stmt *st = db_prepare(db, SQL_WAIT_DEL);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, pi_id, -1);
	return db_step_done(st);
}

/* The bank transfer the intent's payment_method_options[customer_balance] asks for: its type
 * and the eu_bank_transfer country (NULL for the others). false when it names none. */
static bool pmo_transfer(struct req *r, const struct payment_intent *pi,
			 const struct bank_transfer_type **ret_type, const char **ret_country)
{
	*ret_type = NULL;
	*ret_country = NULL;
	if (!pi->pmo_customer_balance)
		return false;
	json_t *root = json_loads(pi->pmo_customer_balance, 0, NULL);
	json_t *bt = json_object_get(root, "bank_transfer");
	*ret_type = bank_transfer_type_find(json_string_value(json_object_get(bt, "type")));
	const char *c =
	    json_string_value(json_object_get(json_object_get(bt, "eu_bank_transfer"), "country"));
	*ret_country = c ? arena_strdup(&r->arena, c) : NULL;
	json_decref(root);
	return *ret_type != NULL;
}

/* Appends event type (a payment_intent.* one) with pi as it is now; answer: it is also the
 * request's answer. 0, or -1 with r->err. */
static int pi_event(struct req *r, struct db *db, const struct payment_intent *pi, const char *type,
		    bool answer)
{
	size_t len;
	const char *js = pi_json(db, &r->arena, r->merchant_id, r->livemode, pi, &len);
	if (!js)
		return req_fail(r, ERR_API, NULL, NULL);
	if (answer)
		return payments_event_answer(r, db, type, pi->id, js, len, NULL);
	return payments_event(r, db, type, pi->id, js, len, NULL);
}

/* Moves `amount` of the customer's cash to intent pi (apply) or back from it (!apply): the
 * applied_to_payment / unapplied_from_payment transaction, its journal transaction and its
 * event. 0, MOVE_RANGE (not that much cash), or -1 with r->err. */
static int cash_to_intent(struct req *r, struct db *db, const struct payment_intent *pi,
			  int64_t amount, bool apply)
{
	char id[ID_MAX], jtx[ID_MAX];
	id_new_at(id, CASH_TXN_PREFIX, r->now);
	const struct cash_move m = {.id = id,
				    .customer = pi->customer,
				    .type = apply ? "applied_to_payment" : "unapplied_from_payment",
				    .currency = pi->currency,
				    .payment_intent = pi->id,
				    .amount = apply ? -amount : amount};
	int64_t ending = 0;
	if (ledger_cash_apply(db, r->merchant_id, id, amount, pi->currency, apply, r->now, jtx) !=
	    DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	int rc = cash_move(db, r->merchant_id, &m, jtx, r->now, &ending);
	if (rc == MOVE_RANGE)
		return MOVE_RANGE;
	struct event_origin o = {r->request_id[0] ? r->request_id : NULL, r->idempotency_key,
				 r->livemode};
	if (rc != DB_OK || txn_events(db, r->merchant_id, &o, &r->arena, id, r->now) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	return 0;
}

/* The intent is covered: its charge (py_…, paid from the cash applied to it), the sale in the
 * ledger with its balance transaction, the intent succeeded, charge.succeeded and
 * payment_intent.succeeded (answer: the request's answer). 0, or -1 with r->err. */
static int cash_settle(struct req *r, struct db *db, struct payment_intent *pi,
		       const struct fx_table *fx, bool inserted_now, bool answer)
{
	struct charge ch;
	memset(&ch, 0, sizeof(ch));
	id_new_at(ch.id, "py_", r->now);
	ch.created = r->now;
	ch.payment_intent = pi->id;
	ch.invoice = pi->invoice;
	ch.amount = pi->amount;
	str_copy(ch.currency, sizeof(ch.currency), pi->currency);
	ch.customer = pi->customer;
	ch.payment_method = pi->payment_method;
	ch.description = pi->description;
	ch.metadata = "{}";
	ch.receipt_email = pi->receipt_email;
	ch.statement_descriptor = pi->statement_descriptor;
	ch.shipping = pi->shipping;
	ch.outcome = REDIRECT_OUTCOME; /* Stripe's for a payment the bank has made */
	ch.card = CASH_DETAILS;
	ch.status = "succeeded";
	ch.paid = true;
	ch.captured = true;
	ch.amount_captured = pi->amount;
	struct ledger_pricing pricing;
	char cur[8], bt[ID_MAX];
	if (payments_pricing(r, db, &pricing, cur) != 0)
		return -1;
	pricing.fx = fx;
	char country[3];
	charge_fee_facts(&ch, &pricing, country); /* a bank transfer's price (ledger.h) */
	int rc = ledger_cash_sale_as(db, r->merchant_id, ch.id, ch.amount, ch.currency, &pricing,
				     r->now, NULL, bt);
	if (rc == LEDGER_ERR_NO_RATE)
		return req_fail(r, ERR_INVALID_CURRENCY, "currency",
				"Tender cannot convert %s into the merchant's settlement currency.",
				ch.currency);
	ch.balance_transaction = arena_strdup(&r->arena, bt);
	if (rc != DB_OK || !ch.balance_transaction ||
	    charge_insert(db, r->merchant_id, &ch) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	pi->status = "succeeded";
	pi->amount_received = pi->amount;
	pi->amount_capturable = 0;
	pi->latest_charge = arena_strdup(&r->arena, ch.id);
	pi->last_payment_error = NULL;
	pi->next_action = NULL;
	if (!pi->latest_charge || waiting_del(db, r->merchant_id, pi->id) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	rc = inserted_now ? pi_write_confirmed(db, r->merchant_id, pi, true)
			  : pi_update(db, r->merchant_id, pi);
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	size_t len;
	const char *js = charge_json(db, &r->arena, r->merchant_id, r->livemode, &ch, &len);
	if (!js || payments_event(r, db, "charge.succeeded", ch.id, js, len, NULL) != 0)
		return req_fail(r, ERR_API, NULL, NULL);
	if (pi_event(r, db, pi, "payment_intent.succeeded", answer) != 0)
		return -1;
	/* a Checkout Session's intent that waited for a transfer: the session, complete and
	 * unpaid, is paid now (checkout.session.async_payment_succeeded, in the same write); paid
	 * at its confirmation, the session is still open and checkout_complete makes it paid */
	if (pi->checkout_session &&
	    checkout_async_payment(db, r->merchant_id, pi->id, true, r->now) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	/* an invoice's intent pays its invoice in the same write (invoice.paid, its
	 * subscription active: invoices.c) */
	return pi->invoice ? invoice_payment_settled(r, db, pi) : 0;
}

/* next_action display_bank_transfer_instructions of pi, remaining still to be paid, as Stripe
 * shows it: the customer's virtual account for the type asked for, and the reference a transfer
 * names to pay this intent first, and the page that shows them. NULL with r->err. */
static const char *instructions(struct req *r, struct db *db, const struct payment_intent *pi,
				const struct bank_transfer_type *t, const char *country,
				int64_t remaining, const char *reference)
{
	const char *addr = NULL;
	if (account_get_or_make(r, db, pi->customer, t, country, &addr) != DB_OK) {
		req_fail(r, ERR_API, NULL, NULL);
		return NULL;
	}
	struct buf b;
	struct json j;
	buf_init(&b, 1u << 14);
	json_init(&j, &b);
	json_obj_open(&j);
	json_key(&j, "display_bank_transfer_instructions");
	json_obj_open(&j);
	json_kv_int(&j, "amount_remaining", remaining);
	json_kv_str(&j, "currency", pi->currency);
	json_key(&j, "financial_addresses");
	json_arr_open(&j);
	json_raw(&j, addr, strlen(addr));
	json_arr_close(&j);
	/* Tender's page with these instructions (bank_transfer_page.c); null without a vault */
	json_kv_str_or_null(&j, "hosted_instructions_url", cash_instructions_url(r, pi->id));
	json_kv_str(&j, "reference", reference);
	json_kv_str(&j, "type", t->name);
	json_obj_close(&j);
	json_kv_str(&j, "type", "display_bank_transfer_instructions");
	json_obj_close(&j);
	const char *out = b.failed ? NULL : arena_strndup(&r->arena, b.data, b.len);
	buf_release(&b);
	if (!out)
		req_fail(r, ERR_API, NULL, NULL);
	return out;
}

/* A reference for the customer's transfer: 12 capital letters and digits. */
static void reference_new(char out[13])
{
	static const char alphabet[] = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
	uint8_t rnd[12];
	random_bytes(rnd, sizeof(rnd));
	for (int i = 0; i < 12; i++)
		out[i] = alphabet[rnd[i] % 32];
	out[12] = '\0';
}

/*
 * Applies what the customer's cash can give to intent pi (waiting for it, or being confirmed),
 * at most `want` (0: all it still needs), and moves it on: covered → cash_settle; not covered →
 * requires_action with the instructions for what remains (payment_intent.partially_funded when
 * cash was applied to it now and it had some before or this is not its confirmation,
 * payment_intent.requires_action at its confirmation). confirming: its confirmation's write
 * (inserted_now: created by it); automatic: apply what is there (manual reconciliation applies
 * only through apply_customer_balance). 0, or -1 with r->err.
 */
struct cash_step {
	bool confirming, inserted_now, automatic, answer;
	int64_t want;
	const struct fx_table *fx;
};

static int cash_step(struct req *r, struct db *db, struct payment_intent *pi,
		     const struct cash_step *s)
{
	int64_t applied = 0, available = 0, remaining;
	bool exists;
	if (applied_to(db, r->merchant_id, pi->id, &applied) != DB_OK ||
	    available_load(db, r->merchant_id, pi->customer, pi->currency, &available, &exists) !=
		DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (__builtin_sub_overflow(pi->amount, applied, &remaining) || remaining < 0)
		return req_fail(r, ERR_API, NULL, NULL);
	int64_t take = 0;
	if (s->automatic || s->want > 0) {
		take = s->want > 0 && s->want < remaining ? s->want : remaining;
		if (take > available)
			take = s->automatic ? available : -1;
	}
	/* Stripe does not fund an invoice partly: its intent takes cash only when the cash
	 * covers all of it, until then the cash stays the customer's */
	if (pi->invoice && take > 0 && take < remaining)
		take = s->automatic ? 0 : -1;
	if (take < 0)
		return req_fail(r, ERR_PARAM_BAD, "amount",
				"The customer's cash balance has %lld %s available: not enough to "
				"apply that amount.",
				(long long)available, pi->currency);
	if (take > 0) {
		int rc = cash_to_intent(r, db, pi, take, true);
		if (rc != 0)
			return rc == MOVE_RANGE ? req_fail(r, ERR_API, NULL, NULL) : -1;
	}
	if (take == remaining)
		return cash_settle(r, db, pi, s->fx, s->inserted_now, s->answer);
	const struct bank_transfer_type *t;
	const char *country;
	if (!pmo_transfer(r, pi, &t, &country))
		return req_fail(r, ERR_API, NULL, NULL);
	const char *reference = NULL;
	if (waiting_reference(r, db, pi->id, &reference) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (!reference) {
		char ref[13];
		reference_new(ref);
		reference = arena_strdup(&r->arena, ref);
		struct db_stmt *st = db_prepare(db, SQL_WAIT_PUT);
		if (!st || !reference)
			return req_fail(r, ERR_API, NULL, NULL);
		db_bind_text(st, 1, r->merchant_id, -1);
		db_bind_text(st, 2, pi->id, -1);
		db_bind_text(st, 3, pi->customer, -1);
		db_bind_text(st, 4, pi->currency, -1);
		db_bind_text(st, 5, reference, -1);
		db_bind_int64(st, 6, pi->created);
		if (db_step_done(st) != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
	}
	pi->next_action = instructions(r, db, pi, t, country, remaining - take, reference);
	if (!pi->next_action)
		return -1;
	pi->status = "requires_action";
	pi->last_payment_error = NULL;
	int rc = s->confirming ? pi_write_confirmed(db, r->merchant_id, pi, s->inserted_now)
			       : pi_update(db, r->merchant_id, pi);
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (s->confirming &&
	    pi_event(r, db, pi, "payment_intent.requires_action", s->answer && take == 0) != 0)
		return -1;
	if (take > 0)
		return pi_event(r, db, pi, "payment_intent.partially_funded", s->answer);
	if (!s->confirming && s->answer) { /* nothing moved: the intent as it is */
		size_t len;
		const char *js = pi_json(db, &r->arena, r->merchant_id, r->livemode, pi, &len);
		if (!js)
			return req_fail(r, ERR_API, NULL, NULL);
		json_raw(req_json(r), js, len);
	}
	return 0;
}

/* automatic unless the customer chose manual (the merchant's default is automatic) */
static int reconciles_automatically(struct req *r, struct db *db, const char *customer, bool *ret)
{
	char mode[16];
	if (mode_load(db, r->merchant_id, customer, mode) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	*ret = strcmp(mode, "manual") != 0;
	return 0;
}

struct cash_confirm {
	struct req *r;
	struct payment_intent pi0, pi;
	bool insert_first;
	const char *pm_id;
	const char *created_json;
	size_t created_len;
	struct fx_table *fx;
};

static int cash_confirm_fn(struct db *db, void *p)
{
	struct cash_confirm *c = p;
	struct req *r = c->r;
	struct payment_intent *pi = &c->pi;
	*pi = c->pi0; /* a retried transaction starts over */
	if (payments_confirm_begin(r, db, pi, c->insert_first, c->created_json, c->created_len) !=
	    0)
		return -1;
	if (customer_check(r, db, pi->customer) != 0)
		return -1;
	struct pm_card pm;
	/* Checkout's bank transfer form (no pm_id): the customer_balance PaymentMethod it pays
	 * with, data-less as payment_method_data makes one */
	char made[ID_MAX];
	if (!c->pm_id) {
		id_new_at(made, "pm_", r->now);
		if (pm_insert_redirect(db, r->merchant_id, made, "customer_balance", NULL, NULL,
				       NULL, NULL, r->now, NULL) != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
	}
	int rc = pm_load(db, r->merchant_id, c->pm_id ? c->pm_id : made, &pm);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(r, "payment_method", c->pm_id, "payment_method");
	if (rc != DB_OK || strcmp(pm.type, "customer_balance") != 0)
		return req_fail(r, ERR_API, NULL, NULL);
	if (pm.customer[0] && strcmp(pi->customer, pm.customer) != 0)
		return req_fail(r, ERR_PARAM_BAD, "payment_method",
				"The provided PaymentMethod belongs to another customer.");
	pi->payment_method = arena_strdup(&r->arena, pm.id);
	if (!pi->payment_method)
		return req_fail(r, ERR_API, NULL, NULL);
	struct cash_step s = {
	    .confirming = true, .inserted_now = c->insert_first, .answer = true, .fx = c->fx};
	if (reconciles_automatically(r, db, pi->customer, &s.automatic) != 0)
		return -1;
	if (cash_step(r, db, pi, &s) != 0)
		return -1;
	/* a checkout's payment completes its session in the same write: unpaid while the intent
	 * waits for the transfer, paid when the cash covered it */
	return pi->checkout_session ? checkout_complete(r, db, pi->checkout_session) : 0;
}

int cash_pi_confirm(struct req *r, const struct payment_intent *pi, bool insert_first,
		    const char *pm_id)
{
	if (!pi_allows_type(pi, "customer_balance"))
		return req_fail(r, ERR_PARAM_BAD, "payment_method",
				"The PaymentMethod provided (customer_balance) is not allowed for "
				"this PaymentIntent. Alternatively update the allowed "
				"payment_method_types for this PaymentIntent to include "
				"\"customer_balance\".");
	if (!pi->customer || !*pi->customer)
		return req_fail(r, ERR_PARAM_MISSING, "customer",
				"customer: a customer_balance PaymentIntent is paid from a "
				"customer's cash balance.");
	if (pm_types_check_currency(r, PMT_CUSTOMER_BALANCE, pi->currency, "currency") != 0)
		return -1;
	const struct bank_transfer_type *t;
	const char *country;
	if (!pmo_transfer(r, pi, &t, &country)) {
		/* funding_type given, the transfer's type not */
		const char *missing =
		    pi->pmo_customer_balance &&
			    strstr(pi->pmo_customer_balance, "\"funding_type\":\"bank_transfer\"")
			? "payment_method_options[customer_balance][bank_transfer][type]"
			: "payment_method_options[customer_balance][funding_type]";
		return req_fail(r, ERR_PARAM_MISSING, missing, "%s", missing);
	}
	if (strcmp(t->currency, pi->currency) != 0)
		return req_fail(r, ERR_PARAM_BAD,
				"payment_method_options[customer_balance][bank_transfer][type]",
				"A %s takes %s: this PaymentIntent is in %s.", t->name, t->currency,
				pi->currency);
	if (strcmp(pi_capture_method(pi, "customer_balance"), "manual") == 0)
		return req_fail(r, ERR_PARAM_BAD, "capture_method",
				"The payment method type customer_balance does not support "
				"capture_method=manual.");
	if (pi->setup_future_usage)
		return req_fail(r, ERR_PARAM_BAD, "setup_future_usage",
				"The payment method type customer_balance does not support "
				"setup_future_usage.");
	if (pi->connect.destination || pi->connect.on_behalf_of ||
	    pi->connect.application_fee_amount || pi->invoice)
		return req_fail(r, ERR_PARAM_BAD, "payment_method",
				"Tender takes customer_balance for direct PaymentIntents only (no "
				"Connect or invoice payments).");
	if (payments_check_minimum(r, pi->amount, pi->currency, "currency", "amount") != 0)
		return -1;
	struct cash_confirm c;
	memset(&c, 0, sizeof(c));
	c.r = r;
	c.pi0 = *pi;
	c.insert_first = insert_first;
	c.pm_id = pm_id;
	if (insert_first &&
	    payments_confirm_created(r, &c.pi0, &c.created_json, &c.created_len) != 0)
		return -1;
	c.fx = app_fx_acquire(r->app);
	int rc = req_write(r, cash_confirm_fn, &c);
	fx_table_free(c.fx);
	return rc;
}

/* Automatic reconciliation after cash came in (fund_fn): the customer's waiting intents in the
 * currency get what the balance has, the one whose reference the transfer named first, then
 * the oldest (payments/bank_transfer.h: bank_transfer_allocate). 0, or -1 with r->err. */
static int reconcile(struct req *r, struct db *db, const char *customer, const char *currency,
		     const char *reference, const struct fx_table *fx)
{
	bool automatic = false;
	if (reconciles_automatically(r, db, customer, &automatic) != 0)
		return -1;
	if (!automatic)
		return 0;
	struct db_stmt *st = db_prepare(db, SQL_WAITING);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, customer, -1);
	db_bind_text(st, 3, currency, -1);
	const char *ids[BANK_TRANSFER_WAITING_MAX], *refs[BANK_TRANSFER_WAITING_MAX];
	size_t n = 0;
	int rc;
	while (n < BANK_TRANSFER_WAITING_MAX && (rc = db_step(st)) == DB_ROW) {
		ids[n] = col_text_dup(&r->arena, st, 0);
		refs[n] = col_text_dup(&r->arena, st, 1);
		if (!ids[n] || !refs[n]) {
			rc = DB_ERR;
			break;
		}
		n++;
	}
	db_reset(st);
	if (n < BANK_TRANSFER_WAITING_MAX && rc != DB_DONE)
		return req_fail(r, ERR_API, NULL, NULL);
	/* what each still needs, then the allocation (payments/bank_transfer.h) */
	int64_t remaining[BANK_TRANSFER_WAITING_MAX], take[BANK_TRANSFER_WAITING_MAX];
	bool whole[BANK_TRANSFER_WAITING_MAX];
	struct payment_intent *pis = arena_zalloc(&r->arena, sizeof(*pis) * (n ? n : 1));
	int64_t available = 0;
	bool exists;
	if (!pis ||
	    available_load(db, r->merchant_id, customer, currency, &available, &exists) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	for (size_t i = 0; i < n; i++) {
		int64_t applied = 0;
		if (pi_load(db, &r->arena, r->merchant_id, ids[i], &pis[i]) != DB_OK ||
		    applied_to(db, r->merchant_id, ids[i], &applied) != DB_OK ||
		    applied >= pis[i].amount)
			return req_fail(r, ERR_API, NULL, NULL);
		remaining[i] = pis[i].amount - applied;
		take[i] = 0;
		whole[i] = pis[i].invoice != NULL; /* an invoice's: all of it or nothing */
	}
	if (!bank_transfer_allocate_whole(available, remaining, refs, whole, n, reference, take))
		return req_fail(r, ERR_API, NULL, NULL);
	for (size_t i = 0; i < n; i++) {
		if (take[i] == 0 || strcmp(pis[i].status, "requires_action") != 0)
			continue;
		const struct cash_step s = {.want = take[i], .fx = fx};
		if (cash_step(r, db, &pis[i], &s) != 0)
			return -1;
	}
	return 0;
}

/* ---- apply_customer_balance (manual reconciliation) ---- */

struct apply_ctx {
	struct req *r;
	const char *id;
	int64_t amount; /* 0: what remains */
	const char *currency;
	struct fx_table *fx;
};

static int apply_fn(struct db *db, void *p)
{
	struct apply_ctx *x = p;
	struct req *r = x->r;
	struct payment_intent pi;
	int rc = pi_load(db, &r->arena, r->merchant_id, x->id, &pi);
	if (rc == DB_NOTFOUND)
		return req_fail_missing(r, "payment_intent", x->id, "intent");
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	const char *reference = NULL;
	if (waiting_reference(r, db, pi.id, &reference) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (!reference || strcmp(pi.status, "requires_action") != 0)
		return req_fail(r, ERR_PAYMENT_INTENT_UNEXPECTED_STATE, NULL,
				"You cannot apply a customer's cash balance to this PaymentIntent: "
				"it has a status of %s and is not waiting for a bank transfer.",
				pi.status);
	if (x->currency && strcmp(x->currency, pi.currency) != 0)
		return req_fail(r, ERR_INVALID_CURRENCY, "currency",
				"The currency %s is not this PaymentIntent's (%s).", x->currency,
				pi.currency);
	int64_t applied = 0;
	if (applied_to(db, r->merchant_id, pi.id, &applied) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (pi.invoice && x->amount > 0 && x->amount != pi.amount - applied)
		return req_fail(r, ERR_PARAM_BAD, "amount",
				"This PaymentIntent pays invoice %s, which is not paid in part: "
				"the amount must be all it needs (%lld).",
				pi.invoice, (long long)(pi.amount - applied));
	if (x->amount > pi.amount - applied)
		return req_fail(r, ERR_PARAM_BAD, "amount",
				"The amount (%lld) is more than this PaymentIntent still needs "
				"(%lld).",
				(long long)x->amount, (long long)(pi.amount - applied));
	const struct cash_step s = {
	    .want = x->amount > 0 ? x->amount : pi.amount - applied, .answer = true, .fx = x->fx};
	return cash_step(r, db, &pi, &s);
}

static int h_apply(struct req *r)
{
	struct apply_ctx x = {.r = r, .id = r->args[0]};
	if (param_present(r, "amount")) {
		param_int(r, "amount", &x.amount);
		if (x.amount < 1 || x.amount > LEDGER_AMOUNT_MAX)
			return req_fail(r, ERR_PARAM_BAD, "amount",
					"Invalid amount: it must be a positive integer.");
	}
	char cur[8];
	if (param_present(r, "currency")) {
		if (param_currency(r, "currency", NULL, cur) != 0)
			return -1;
		x.currency = cur;
	}
	x.fx = app_fx_acquire(r->app);
	int rc = req_write(r, apply_fn, &x);
	fx_table_free(x.fx);
	return rc;
}

/* ---- invoices paid by bank transfer ---- */

/* The bank transfer an invoice's options name (pmo: the invoice's JSON, NULL: none), else the
 * one its currency takes; country: eu_bank_transfer's (NULL for the others, or when not
 * named). NULL when its currency takes no bank transfer. */
static const struct bank_transfer_type *
invoice_transfer(struct req *r, const char *pmo, const char *currency, const char **ret_country)
{
	*ret_country = NULL;
	const struct bank_transfer_type *t = NULL;
	if (pmo) {
		json_t *root = json_loads(pmo, 0, NULL);
		json_t *bt = json_object_get(root, "bank_transfer");
		t = bank_transfer_type_find(json_string_value(json_object_get(bt, "type")));
		const char *c = json_string_value(
		    json_object_get(json_object_get(bt, "eu_bank_transfer"), "country"));
		*ret_country = c ? arena_strdup(&r->arena, c) : NULL;
		json_decref(root);
	}
	if (!t)
		t = bank_transfer_type_for_currency(currency);
	if (t && t->country)
		*ret_country = NULL;
	return t;
}

int cash_invoice_pmo_check(struct req *r, const char *types, const char *pmo, const char *currency,
			   const char *shown)
{
	if (!types || !strstr(types, "\"customer_balance\""))
		return 0;
	const char *country;
	const struct bank_transfer_type *t = invoice_transfer(r, pmo, currency, &country);
	if (t && !t->country && !country) {
		char name[200];
		snprintf(name, sizeof(name),
			 "%s[payment_method_options][customer_balance][bank_transfer]"
			 "[eu_bank_transfer][country]",
			 shown);
		return req_fail(r, ERR_PARAM_MISSING, name,
				"%s: a bank transfer in eur is made to an account in one country "
				"(BE, DE, ES, FR, IE or NL).",
				name);
	}
	return 0;
}

int cash_invoice_pay(struct req *r, struct db *db, const struct cash_invoice *ci,
		     char ret_pi[ID_MAX])
{
	const char *country;
	const struct bank_transfer_type *t = invoice_transfer(r, ci->pmo, ci->currency, &country);
	if (!t || (!t->country && !country) || strcmp(t->currency, ci->currency) != 0)
		return req_fail(r, ERR_PARAM_BAD, "payment_settings[payment_method_types]",
				"Invoice %s in %s cannot be paid by bank transfer "
				"(customer_balance) with its payment_method_options.",
				ci->invoice, ci->currency);
	/* the intent's options as a PaymentIntent shows them */
	const char *pmo = arena_printf(
	    &r->arena,
	    "{\"bank_transfer\":{%s%s%s\"requested_address_types\":[\"%s\"],\"type\":\"%s\"},"
	    "\"funding_type\":\"bank_transfer\"}",
	    country ? "\"eu_bank_transfer\":{\"country\":\"" : "", country ? country : "",
	    country ? "\"}," : "", t->address, t->name);
	struct payment_intent pi;
	memset(&pi, 0, sizeof(pi));
	id_new_at(pi.id, "pi_", r->now);
	char secret[32], pm_id[ID_MAX];
	id_random_base62(secret, 24);
	id_new_at(pm_id, "pm_", r->now);
	pi.client_secret = arena_printf(&r->arena, "%s_secret_%s", pi.id, secret);
	pi.created = r->now;
	pi.version = 1;
	pi.amount = ci->amount;
	str_copy(pi.currency, sizeof(pi.currency), ci->currency);
	pi.payment_method = arena_strdup(&r->arena, pm_id);
	pi.capture_method = "automatic";
	pi.confirmation_method = "automatic";
	pi.description = ci->description;
	pi.metadata = "{}";
	pi.customer = ci->customer;
	pi.invoice = ci->invoice;
	pi.payment_method_types = "[\"customer_balance\"]";
	pi.pmo_customer_balance = pmo;
	if (!pi.client_secret || !pi.payment_method || !pmo)
		return req_fail(r, ERR_API, NULL, NULL);
	/* the customer_balance PaymentMethod it is paid with (data-less, as payment_method_data
	 * makes one) */
	if (pm_insert_redirect(db, r->merchant_id, pm_id, "customer_balance", NULL, NULL, NULL,
			       NULL, r->now, NULL) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	const char *created;
	size_t created_len;
	if (payments_confirm_created(r, &pi, &created, &created_len) != 0 ||
	    payments_event(r, db, "payment_intent.created", pi.id, created, created_len, NULL) != 0)
		return -1;
	struct cash_step s = {.confirming = true, .inserted_now = true};
	if (reconciles_automatically(r, db, pi.customer, &s.automatic) != 0)
		return -1;
	struct fx_table *fx = app_fx_acquire(r->app);
	s.fx = fx;
	int rc = cash_step(r, db, &pi, &s);
	fx_table_free(fx);
	str_copy(ret_pi, ID_MAX, pi.id);
	return rc;
}

int cash_pi_release(struct req *r, struct db *db, struct payment_intent *pi)
{
	if (waiting_del(db, r->merchant_id, pi->id) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (!pi->customer)
		return 0;
	int64_t applied = 0;
	if (applied_to(db, r->merchant_id, pi->id, &applied) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (applied <= 0)
		return 0;
	int rc = cash_to_intent(r, db, pi, applied, false);
	return rc == 0 ? 0 : rc == MOVE_RANGE ? req_fail(r, ERR_API, NULL, NULL) : -1;
}

struct locked_ctx {
	struct req *r;
	const char *pi_id;
};

static int locked_fn(struct db *db, void *p)
{
	struct locked_ctx *x = p;
	const char *reference = NULL;
	if (waiting_reference(x->r, db, x->pi_id, &reference) != DB_OK)
		return req_fail(x->r, ERR_API, NULL, NULL);
	if (reference)
		return req_fail(x->r, ERR_PAYMENT_INTENT_UNEXPECTED_STATE, NULL,
				"This PaymentIntent is waiting for a bank transfer into its "
				"customer's cash balance (customer_balance): it can only be paid "
				"that way now. Cancel it to pay otherwise.");
	return 0;
}

int cash_pi_waiting(struct req *r, struct db *db, const char *pi_id, bool *ret)
{
	const char *reference = NULL;
	if (waiting_reference(r, db, pi_id, &reference) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	*ret = reference != NULL;
	return 0;
}

int cash_pi_locked(struct req *r, struct db *db, const char *pi_id)
{
	struct locked_ctx x = {r, pi_id};
	if (db)
		return locked_fn(db, &x);
	return req_read(r, locked_fn, &x) == 0 ? 0 : -1;
}

static const char SQL_BT_JOURNAL[] =
    "SELECT journal_txn FROM balance_transactions WHERE merchant_id = $1 AND id = $2";

bool cash_charge_is(const char *details)
{
	return details && strncmp(details, "{\"customer_balance\":", 20) == 0;
}

int cash_refund(struct req *r, struct db *db, const struct charge *ch, const char *refund_id,
		int64_t amount, char ret_bt[ID_MAX])
{
	if (!ch->customer)
		return req_fail(r, ERR_API, NULL, NULL);
	if (ledger_cash_refund(db, r->merchant_id, refund_id, ch->id, amount, ch->currency, r->now,
			       ret_bt) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	/* the refund's journal transaction is the cash transaction's too */
	char jtx[ID_MAX] = "";
	struct db_stmt *st = db_prepare(db, SQL_BT_JOURNAL);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, ret_bt, -1);
	int rc = db_step(st);
	const char *j = rc == DB_ROW ? db_col_text(st, 0, NULL) : NULL;
	if (j)
		str_copy(jtx, sizeof(jtx), j);
	db_reset(st);
	if (!jtx[0])
		return req_fail(r, ERR_API, NULL, NULL);
	char id[ID_MAX];
	id_new_at(id, CASH_TXN_PREFIX, r->now);
	const struct cash_move m = {.id = id,
				    .customer = ch->customer,
				    .type = "refunded_from_payment",
				    .currency = ch->currency,
				    .payment_intent = ch->payment_intent,
				    .refund = refund_id,
				    .amount = amount};
	int64_t ending = 0;
	struct event_origin o = {r->request_id[0] ? r->request_id : NULL, r->idempotency_key,
				 r->livemode};
	if (cash_move(db, r->merchant_id, &m, jtx, r->now, &ending) != DB_OK ||
	    txn_events(db, r->merchant_id, &o, &r->arena, id, r->now) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	return 0;
}

int cash_return(struct db *db, struct arena *a, const char *merchant_id,
		const struct event_origin *o, const char *customer, const char *currency,
		int64_t amount, const char *refund_id, bool initiate, int64_t now)
{
	if (initiate) {
		/* refused before anything is written: the balance must cover it */
		int64_t have = 0;
		bool exists = false;
		int rc = available_load(db, merchant_id, customer, currency, &have, &exists);
		if (rc != DB_OK)
			return rc;
		if (have < amount)
			return CASH_RETURN_SHORT;
	}
	char id[ID_MAX], jtx[ID_MAX];
	id_new_at(id, CASH_TXN_PREFIX, now);
	int rc = ledger_cash_return(db, merchant_id, id, amount, currency, initiate, now, jtx);
	if (rc != DB_OK)
		return rc < 0 ? rc : DB_ERR;
	const struct cash_move m = {.id = id,
				    .customer = customer,
				    .type = initiate ? "return_initiated" : "return_canceled",
				    .currency = currency,
				    .refund = refund_id,
				    .amount = initiate ? -amount : amount};
	int64_t ending = 0;
	rc = cash_move(db, merchant_id, &m, jtx, now, &ending);
	if (rc == MOVE_RANGE)
		return CASH_RETURN_SHORT;
	if (rc != DB_OK)
		return rc;
	return txn_events(db, merchant_id, o, a, id, now);
}

/* ---- payment_method_options[customer_balance] ---- */

static const char *const PMO_FUNDING[] = {"bank_transfer", NULL};
static const char *const ADDRESS_TYPES[] = {"aba",  "iban",  "sepa",   "sort_code",
					    "spei", "swift", "zengin", NULL};
static const struct param_spec pmo_bt_params[] = {
    {"type", PT_ENUM, 0, 0, BT_TYPES, NULL},
    {"eu_bank_transfer", PT_OBJECT, 0, 0, NULL, eu_params},
    {"requested_address_types", PT_STRING_ARRAY, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
const struct param_spec cash_pmo_params[] = {
    {"funding_type", PT_ENUM, 0, 0, PMO_FUNDING, NULL},
    {"bank_transfer", PT_OBJECT, 0, 0, NULL, pmo_bt_params},
    {"setup_future_usage", PT_ENUM, 0, 0, (const char *const[]){"none", NULL}, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};

/* An invoice's (and a subscription's) payment_settings[payment_method_options]
 * [customer_balance]: no requested_address_types nor setup_future_usage (Stripe's) */
static const struct param_spec invoice_bt_params[] = {
    {"type", PT_ENUM, 0, 0, BT_TYPES, NULL},
    {"eu_bank_transfer", PT_OBJECT, 0, 0, NULL, eu_params},
    {NULL, 0, 0, 0, NULL, NULL},
};
const struct param_spec cash_invoice_pmo_params[] = {
    {"funding_type", PT_ENUM, 0, 0, PMO_FUNDING, NULL},
    {"bank_transfer", PT_OBJECT, 0, 0, NULL, invoice_bt_params},
    {NULL, 0, 0, 0, NULL, NULL},
};

/* The customer_balance options at dotted path base (shown: its name in errors) into *pmo:
 * the PaymentIntent's shape (requested_address_types filled in) or the invoice's (!pi_shape:
 * bank_transfer's eu_bank_transfer and type only, each null when not given). 0 when absent
 * (*pmo untouched), 1 given, -1 with r->err. */
static int pmo_parse(struct req *r, const char *base, const char *shown, bool pi_shape,
		     const char **pmo)
{
	if (!param_present(r, base))
		return 0;
	char path[160], name[200], name2[200];
#define PATH(sfx) (snprintf(path, sizeof(path), "%s." sfx, base), path)
#define NAME(buf, sfx) (snprintf(buf, sizeof(buf), "%s" sfx, shown), buf)
	const char *ft = param_str(r, PATH("funding_type"));
	const struct bank_transfer_type *t =
	    bank_transfer_type_find(param_str(r, PATH("bank_transfer.type")));
	const char *country = param_str(r, PATH("bank_transfer.eu_bank_transfer.country"));
	if (param_present(r, PATH("bank_transfer")) && !t)
		return req_fail(r, ERR_PARAM_MISSING, NAME(name, "[bank_transfer][type]"), "%s",
				NAME(name2, "[bank_transfer][type]"));
	if (t && (!ft || !*ft))
		return req_fail(r, ERR_PARAM_MISSING, NAME(name, "[funding_type]"), "%s",
				NAME(name2, "[funding_type]"));
	if (t && !t->country && !country)
		return req_fail(r, ERR_PARAM_MISSING,
				NAME(name, "[bank_transfer][eu_bank_transfer][country]"), "%s",
				NAME(name2, "[bank_transfer][eu_bank_transfer][country]"));
	if (country && (!t || t->country))
		return req_fail(
		    r, ERR_PARAM_BAD, NAME(name, "[bank_transfer][eu_bank_transfer]"),
		    "eu_bank_transfer is only for bank_transfer[type]=eu_bank_transfer.");
	const char *types = NULL;
	if (pi_shape && param_present(r, PATH("bank_transfer.requested_address_types")) &&
	    string_array_json(r, PATH("bank_transfer.requested_address_types"), &types) != 0)
		return -1;
	for (const char *q = types ? strchr(types, '"') : NULL; q; q = strchr(q, '"')) {
		const char *end = strchr(q + 1, '"');
		if (!end)
			break;
		bool known = false;
		for (size_t i = 0; ADDRESS_TYPES[i]; i++)
			known |= strlen(ADDRESS_TYPES[i]) == (size_t)(end - q - 1) &&
				 strncmp(ADDRESS_TYPES[i], q + 1, (size_t)(end - q - 1)) == 0;
		if (!known)
			return req_fail(r, ERR_PARAM_BAD,
					NAME(name, "[bank_transfer][requested_address_types]"),
					"Invalid requested_address_types: %.*s.",
					(int)(end - q - 1), q + 1);
		q = end + 1;
	}
#undef PATH
#undef NAME
	struct buf b;
	struct json j;
	buf_init(&b, 1u << 12);
	json_init(&j, &b);
	json_obj_open(&j);
	if (t || !pi_shape) {
		json_key(&j, "bank_transfer");
		json_obj_open(&j);
		if (country) {
			json_key(&j, "eu_bank_transfer");
			json_obj_open(&j);
			json_kv_str(&j, "country", country);
			json_obj_close(&j);
		} else if (!pi_shape) {
			json_kv_null(&j, "eu_bank_transfer");
		}
		if (pi_shape) {
			json_key(&j, "requested_address_types");
			if (types) {
				json_raw(&j, types, strlen(types));
			} else { /* the type's own address, as Stripe fills it in */
				json_arr_open(&j);
				json_str(&j, t->address);
				json_arr_close(&j);
			}
		}
		json_kv_str_or_null(&j, "type", t ? t->name : NULL);
		json_obj_close(&j);
	}
	json_kv_str_or_null(&j, "funding_type", ft && *ft ? ft : NULL);
	json_obj_close(&j);
	*pmo = b.failed ? NULL : arena_strndup(&r->arena, b.data, b.len);
	buf_release(&b);
	return *pmo ? 1 : req_fail(r, ERR_API, NULL, NULL);
}

int cash_pmo_apply(struct req *r, const char **pmo)
{
	return pmo_parse(r, "payment_method_options.customer_balance",
			 "payment_method_options[customer_balance]", true, pmo) < 0
		   ? -1
		   : 0;
}

int cash_invoice_pmo_param(struct req *r, const char *base, const char *shown, const char *currency,
			   const char **pmo)
{
	const char *got = NULL;
	int rc = pmo_parse(r, base, shown, false, &got);
	if (rc <= 0)
		return rc;
	/* a type in another currency than the invoice's could never pay it */
	json_t *root = json_loads(got, 0, NULL);
	const struct bank_transfer_type *t = bank_transfer_type_find(
	    json_string_value(json_object_get(json_object_get(root, "bank_transfer"), "type")));
	json_decref(root);
	if (t && currency && strcmp(t->currency, currency) != 0) {
		char name[200];
		snprintf(name, sizeof(name), "%s[bank_transfer][type]", shown);
		return req_fail(r, ERR_PARAM_BAD, name, "A %s takes %s: this is in %s.", t->name,
				t->currency, currency);
	}
	*pmo = got;
	return 1;
}

struct ctx {
	struct req *r;
	const char *customer, *id;
	const char *mode; /* update: the stored mode (NULL: merchant_default); NULL when absent */
	bool mode_given;
	const struct bank_transfer_type *type;
	const char *country; /* eu_bank_transfer's */
	char currency[8];
	const char *reference;
	int64_t amount;
	struct fx_table *fx; /* fund: the rates a payment it completes converts with */
};

static int cash_balance_answer(struct req *r, struct db *db, const char *customer)
{
	return cash_balance_render(db, r->merchant_id, r->livemode, customer, req_json(r)) == DB_OK
		   ? 0
		   : req_fail(r, ERR_API, NULL, NULL);
}

static int retrieve_balance_fn(struct db *db, void *p)
{
	struct ctx *x = p;
	if (customer_check(x->r, db, x->customer) != 0)
		return -1;
	return cash_balance_answer(x->r, db, x->customer);
}

static int h_retrieve_balance(struct req *r)
{
	struct ctx x = {.r = r, .customer = r->args[0]};
	return req_read(r, retrieve_balance_fn, &x) == 0 ? 0 : -1;
}

static int update_balance_fn(struct db *db, void *p)
{
	struct ctx *x = p;
	struct req *r = x->r;
	if (customer_check(r, db, x->customer) != 0)
		return -1;
	char old[16];
	if (mode_load(db, r->merchant_id, x->customer, old) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	const char *now_mode = x->mode ? x->mode : "";
	if (x->mode_given && strcmp(old, now_mode) != 0) {
		struct db_stmt *st = db_prepare(db, SQL_SET_MODE);
		if (!st)
			return req_fail(r, ERR_API, NULL, NULL);
		db_bind_text(st, 1, r->merchant_id, -1);
		db_bind_text(st, 2, x->customer, -1);
		db_bind_text(st, 3, x->mode, -1);
		if (db_step_done(st) != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		/* Stripe has no event of its own for a cash balance's settings: the customer's
		 * customer.updated names what they were */
		const char *prev =
		    arena_printf(&r->arena,
				 "{\"cash_balance\":{\"settings\":{\"reconciliation_mode\":\"%s\","
				 "\"using_merchant_default\":%s}}}",
				 old[0] ? old : "automatic", old[0] ? "false" : "true");
		struct event_origin o = {r->request_id[0] ? r->request_id : NULL,
					 r->idempotency_key, r->livemode};
		if (!prev || customer_updated_event(db, &r->arena, r->merchant_id, x->customer,
						    prev, r->now, &o) != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
	}
	return cash_balance_answer(r, db, x->customer);
}

static int h_update_balance(struct req *r)
{
	struct ctx x = {.r = r, .customer = r->args[0]};
	const char *mode = param_str(r, "settings.reconciliation_mode");
	if (mode) {
		x.mode_given = true;
		x.mode = strcmp(mode, "merchant_default") == 0 ? NULL : mode;
	}
	return req_write(r, update_balance_fn, &x);
}

static int funding_fn(struct db *db, void *p)
{
	struct ctx *x = p;
	struct req *r = x->r;
	if (customer_check(r, db, x->customer) != 0)
		return -1;
	const char *addr = NULL;
	if (account_get_or_make(r, db, x->customer, x->type, x->country, &addr) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	struct json *j = req_json(r);
	json_obj_open(j);
	json_kv_str(j, "object", "funding_instructions");
	json_key(j, "bank_transfer");
	json_obj_open(j);
	json_kv_str(j, "country", x->type->country ? x->type->country : x->country);
	json_key(j, "financial_addresses");
	json_arr_open(j);
	json_raw(j, addr, strlen(addr));
	json_arr_close(j);
	json_kv_str(j, "type", x->type->name);
	json_obj_close(j);
	json_kv_str(j, "currency", x->currency);
	json_kv_str(j, "funding_type", "bank_transfer");
	json_kv_bool(j, "livemode", r->livemode);
	json_obj_close(j);
	return 0;
}

/* requested_address_types, where given, must name the type's own address (Stripe's
 * financial address types; Tender makes one per type) */
static int address_types_check(struct req *r, const struct bank_transfer_type *t)
{
	const struct form_node *n = param_node(r, "bank_transfer.requested_address_types");
	if (!n)
		return 0;
	const char *json = NULL;
	if (string_array_json(r, "bank_transfer.requested_address_types", &json) != 0)
		return -1;
	char want[40];
	snprintf(want, sizeof(want), "\"%s\"", t->address);
	/* the array is of quoted names; each must be the type's address */
	for (const char *q = json ? strchr(json, '"') : NULL; q; q = strchr(q, '"')) {
		const char *end = strchr(q + 1, '"');
		if (!end)
			break;
		if ((size_t)(end - q + 1) != strlen(want) || strncmp(q, want, strlen(want)) != 0)
			return req_fail(r, ERR_PARAM_BAD, "bank_transfer[requested_address_types]",
					"Invalid requested_address_types: a %s gives an address of "
					"type %s.",
					t->name, t->address);
		q = end + 1;
	}
	return 0;
}

static int h_funding(struct req *r)
{
	struct ctx x = {.r = r, .customer = r->args[0]};
	if (param_currency(r, "currency", NULL, x.currency) != 0)
		return -1;
	x.type = bank_transfer_type_find(param_str(r, "bank_transfer.type"));
	if (!x.type)
		return req_fail(r, ERR_API, NULL, NULL); /* the enum has checked it */
	x.country = param_str(r, "bank_transfer.eu_bank_transfer.country");
	if (strcmp(x.type->name, "eu_bank_transfer") == 0 && !x.country)
		return req_fail(r, ERR_PARAM_MISSING, "bank_transfer[eu_bank_transfer][country]",
				"bank_transfer[eu_bank_transfer][country]");
	if (strcmp(x.type->name, "eu_bank_transfer") != 0 && x.country)
		return req_fail(r, ERR_PARAM_BAD, "bank_transfer[eu_bank_transfer]",
				"bank_transfer[eu_bank_transfer] is only for "
				"bank_transfer[type]=eu_bank_transfer.");
	if (strcmp(x.currency, x.type->currency) != 0)
		return req_fail(r, ERR_INVALID_CURRENCY, "currency",
				"The currency %s is not supported for %s: it takes %s.", x.currency,
				x.type->name, x.type->currency);
	if (address_types_check(r, x.type) != 0)
		return -1;
	return req_write(r, funding_fn, &x);
}

static int fund_fn(struct db *db, void *p)
{
	struct ctx *x = p;
	struct req *r = x->r;
	if (customer_check(r, db, x->customer) != 0)
		return -1;
	const struct bank_transfer_type *t = bank_transfer_type_for_currency(x->currency);
	char id[ID_MAX], jtx[ID_MAX];
	id_new_at(id, CASH_TXN_PREFIX, r->now);
	int rc = ledger_cash_fund(db, r->merchant_id, id, x->amount, x->currency, r->now, jtx);
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	const struct cash_move m = {.id = id,
				    .customer = x->customer,
				    .type = "funded",
				    .currency = x->currency,
				    .bank_transfer_type = t->name,
				    .reference = x->reference,
				    .amount = x->amount};
	int64_t ending = 0;
	rc = cash_move(db, r->merchant_id, &m, jtx, r->now, &ending);
	if (rc == MOVE_RANGE)
		return req_fail(r, ERR_PARAM_BAD, "amount",
				"This would take the customer's cash balance above %lld %s.",
				(long long)LEDGER_AMOUNT_MAX, x->currency);
	struct event_origin o = {r->request_id[0] ? r->request_id : NULL, r->idempotency_key,
				 r->livemode};
	if (rc != DB_OK || txn_events(db, r->merchant_id, &o, &r->arena, id, r->now) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	/* the cash pays what waits for it, in this same write */
	if (reconcile(r, db, x->customer, x->currency, x->reference, x->fx) != 0)
		return -1;
	struct txn tx;
	if (txn_load(&r->arena, db, r->merchant_id, id, &tx) != DB_OK ||
	    txn_render(r, db, &tx, r->livemode, NULL, req_json(r)) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	return 0;
}

static int h_fund(struct req *r)
{
	struct ctx x = {.r = r, .customer = r->args[0]};
	if (r->livemode)
		return req_fail(r, ERR_PARAM_BAD, NULL,
				"Test helpers can only be used with a test mode key.");
	param_int(r, "amount", &x.amount);
	if (x.amount < 1 || x.amount > LEDGER_AMOUNT_MAX)
		return req_fail(r, ERR_PARAM_BAD, "amount",
				"Invalid amount: it must be a positive integer of at most %lld.",
				(long long)LEDGER_AMOUNT_MAX);
	if (param_currency(r, "currency", NULL, x.currency) != 0)
		return -1;
	if (!bank_transfer_type_for_currency(x.currency))
		return req_fail(r, ERR_INVALID_CURRENCY, "currency",
				"The currency %s is not supported for bank transfers (eur, gbp, "
				"jpy, mxn, usd).",
				x.currency);
	const char *ref = param_str(r, "reference");
	x.reference = ref && *ref ? ref : NULL;
	x.fx = app_fx_acquire(r->app);
	int rc = req_write(r, fund_fn, &x);
	fx_table_free(x.fx);
	return rc;
}

static int txn_retrieve_fn(struct db *db, void *p)
{
	struct ctx *x = p;
	struct req *r = x->r;
	if (customer_check(r, db, x->customer) != 0)
		return -1;
	struct txn t;
	int rc = txn_load(&r->arena, db, r->merchant_id, x->id, &t);
	if (rc == DB_NOTFOUND || (rc == DB_OK && strcmp(t.customer, x->customer) != 0))
		return req_fail_missing(r, "customer_cash_balance_transaction", x->id,
					"transaction");
	if (rc != DB_OK || txn_render(r, db, &t, r->livemode, NULL, req_json(r)) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	return 0;
}

static int h_txn_retrieve(struct req *r)
{
	struct ctx x = {.r = r, .customer = r->args[0], .id = r->args[1]};
	return req_read(r, txn_retrieve_fn, &x) == 0 ? 0 : -1;
}

static const char SQL_CURSOR[] =
    "SELECT created FROM customer_cash_balance_transactions WHERE merchant_id = $1 AND id = $2";
static const char SQL_DESC[] =
    "SELECT id FROM customer_cash_balance_transactions WHERE merchant_id = $1 AND id > $2"
    " AND id < $3 AND customer = $5 ORDER BY id DESC LIMIT $4";
static const char SQL_ASC[] =
    "SELECT id FROM customer_cash_balance_transactions WHERE merchant_id = $1 AND id > $2"
    " AND id < $3 AND customer = $5 ORDER BY id ASC LIMIT $4";

static int list_bind(struct req *r, struct db_stmt *st, int first, void *ctx)
{
	(void)ctx;
	db_bind_text(st, first, r->args[0], -1);
	return 0;
}

static int list_render(struct req *r, struct db *db, const char *id, struct json *j, void *ctx)
{
	(void)ctx;
	struct txn t;
	int rc = txn_load(&r->arena, db, r->merchant_id, id, &t);
	return rc == DB_OK ? txn_render(r, db, &t, r->livemode, "data", j) : rc;
}

static int h_txn_list(struct req *r)
{
	if (customer_check_read(r, r->args[0]) != 0)
		return -1;
	const char *url =
	    arena_printf(&r->arena, "/v1/customers/%s/cash_balance_transactions", r->args[0]);
	if (!url)
		return req_fail(r, ERR_API, NULL, NULL);
	const struct list_spec spec = {
	    .url = url,
	    .object_name = "customer_cash_balance_transaction",
	    .id_prefix = CASH_TXN_PREFIX,
	    .sql_cursor = SQL_CURSOR,
	    .sql_desc = SQL_DESC,
	    .sql_asc = SQL_ASC,
	    .bind_filters = list_bind,
	    .render = list_render,
	};
	return list_respond(r, &spec);
}

const struct route cash_balance_routes[] = {
    {"GET", "/v1/customers/{customer}/cash_balance", h_retrieve_balance, no_params, 0},
    {"POST", "/v1/customers/{customer}/cash_balance", h_update_balance, update_params, 0},
    {"POST", "/v1/customers/{customer}/funding_instructions", h_funding, funding_params, 0},
    {"GET", "/v1/customers/{customer}/cash_balance_transactions", h_txn_list, no_params,
     ROUTE_LIST},
    {"GET", "/v1/customers/{customer}/cash_balance_transactions/{transaction}", h_txn_retrieve,
     no_params, 0},
    {"POST", "/v1/test_helpers/customers/{customer}/fund_cash_balance", h_fund, fund_params, 0},
    {"POST", "/v1/payment_intents/{intent}/apply_customer_balance", h_apply, apply_params, 0},
    {NULL, NULL, NULL, NULL, 0},
};
