/*
 * /v1/customers/{customer}/sources: a customer's legacy card sources (Stripe's Cards API, the
 * pre-PaymentIntents flow much merchant code still uses): create from a token (source=tok_…),
 * list (object=card), retrieve, update (cardholder name and address, expiry, metadata), delete.
 *
 * Storage: a card source is a payment_methods row whose id is card_… and whose customer is set,
 * so that it is also a PaymentMethod as on Stripe (GET /v1/payment_methods/card_…, a
 * PaymentIntent's payment_method=card_…) and pays through the one payment path
 * (payments_card_authorize loads it like a pm_…). Its number stays sealed in vault_cards; the
 * cardholder's name and address are the row's billing_details. A token's source takes the
 * token's card.id, as on Stripe; a test alias (tok_visa …) gets a new card_… each time.
 *
 * Attaching verifies the card with the issuer through the payment path (payments_card_verify:
 * Radar and the acquirer's zero-amount check), as Stripe does: a declined card answers the card
 * error and is not attached; tok_chargeCustomerFail attaches and then declines its charges.
 *
 * Deleting detaches the row (customer NULL) rather than removing it: the charges that name the
 * card still render it as their `source`, and a detached card source can no longer pay
 * (payments_common.c refuses it) nor be seen as a PaymentMethod (payment_methods.c). Stripe
 * deletes a card however it leaves its customer (this DELETE, POST
 * /v1/payment_methods/card_…/detach, a new `source` replacing the default, the customer
 * deleted), and sends customer.source.deleted and payment_method.detached each time: so does
 * source_detach.
 *
 * Bank accounts (ba_…, legacy ACH) are sources too: api/bank_sources.c keeps them; here
 * source=btok_… attaches one, /sources/{ba_…} goes there, the list and the expanded customer's
 * `sources` show cards and bank accounts together by creation, and source_owned, source_detach
 * and source_newest (a customer's default_source) take either kind.
 */
#include "api/sources.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "api/bank_sources.h"
#include "api/common.h"
#include "api/list.h"
#include "api/resources.h"
#include "api/sources_api.h"
#include "app.h"
#include "core/str.h"
#include "events/events.h"
#include "http/form.h"
#include "store/store.h"
#include "vault/card_source.h"
#include "vault/payment_method.h"
#include "vault/vault.h"

/* ---- preparing a card before the write ---- */

static const char SQL_TOKEN_CARD[] =
    "SELECT card_id FROM tokens WHERE merchant_id = $1 AND id = $2";

struct token_card_ctx {
	struct req *r;
	const char *token;
	char id[ID_MAX];
	int rc;
};

/* The token's card.id, which its card source takes. Re-runnable: every output is assigned. */
static int token_card_fn(struct db *db, void *p)
{
	struct token_card_ctx *m = p;
	struct req *r = m->r;
	m->id[0] = '\0';
	struct db_stmt *st = db_prepare(db, SQL_TOKEN_CARD);
	if (!st) {
		m->rc = DB_ERR;
		return 0;
	}
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, m->token, -1);
	int rc = db_step(st);
	if (rc == DB_ROW)
		str_copy(m->id, sizeof(m->id), db_col_text(st, 0, NULL));
	db_reset(st);
	m->rc = rc == DB_ROW ? DB_OK : rc == DB_DONE ? DB_NOTFOUND : rc;
	/* a token made before cards had card_ ids */
	if (m->rc == DB_OK && !card_source_id(m->id))
		m->rc = DB_NOTFOUND;
	return 0;
}

int source_prepare(struct req *r, const char *ref, const char *param, const char *customer,
		   struct source_new *sn)
{
	memset(sn, 0, sizeof(*sn));
	if (!ref || strncmp(ref, "tok_", 4) != 0)
		return req_fail_missing(r, "token", ref ? ref : "", param);
	/* Nothing is stored before the verification: the attach's write stores the card under
	 * the id chosen here (payments_card_commit), and uses a token up in that same write, so
	 * that a failed verification or attach (or a crash) leaves the token unused and a retry
	 * with the same Idempotency-Key does what the first attempt would have done. A test alias
	 * gets a new card_…; a token's card keeps the token's card.id. */
	if (vault_is_test_alias(ref)) {
		id_new_at(sn->id, CARD_SOURCE_PREFIX, r->now);
	} else {
		struct token_card_ctx m = {.r = r, .token = ref};
		if (req_read(r, token_card_fn, &m) != 0)
			return -1;
		if (m.rc == DB_NOTFOUND)
			return req_fail_missing(r, "token", ref, param);
		if (m.rc != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
		str_copy(sn->id, sizeof(sn->id), m.id);
	}
	if (payments_card_verify(r, ref, param, customer, false, &sn->ca) != 0)
		return -1;
	str_copy(sn->ca.pm_id, sizeof(sn->ca.pm_id), sn->id);
	sn->ca.card.payment_method = arena_strdup(&r->arena, sn->id);
	if (!sn->ca.card.payment_method)
		return req_fail(r, ERR_API, NULL, NULL);
	sn->ca.pm_id_chosen = true;
	if (!sn->ca.decision.approved) {
		req_fail(r, sn->ca.decision.err, NULL, NULL);
		snprintf(r->err.decline_code, sizeof(r->err.decline_code), "%s",
			 sn->ca.decision.decline_code);
		return -1;
	}
	sn->set = true;
	return 0;
}

/* ---- inside writes ---- */

static const char SQL_ATTACH[] =
    "UPDATE payment_methods SET customer = $3, metadata = COALESCE($4, metadata)"
    " WHERE merchant_id = $1 AND id = $2 AND customer IS NULL AND detached = 0";
static const char SQL_DETACH[] = "UPDATE payment_methods SET customer = NULL, detached = 1"
				 " WHERE merchant_id = $1 AND id = $2 AND customer = $3";
static const char SQL_OWNED[] =
    "SELECT 1 FROM payment_methods WHERE merchant_id = $1 AND id = $2 AND customer = $3";
/* a customer's cards: the card_ ids (between "card_" and "card`", the next character) */
static const char SQL_COUNT[] =
    "SELECT COUNT(*) FROM payment_methods WHERE merchant_id = $1 AND customer = $2"
    " AND id > 'card_' AND id < 'card`'";
static const char SQL_NEWEST[] =
    "SELECT id FROM payment_methods WHERE merchant_id = $1 AND customer = $2"
    " AND id > 'card_' AND id < 'card`' AND id <> $3 ORDER BY id DESC LIMIT 1";
/* a customer's sources of both kinds, newest first: a bank account's key is 'card_' and its
 * id's body, so that cards and bank accounts order together by creation */
static const char SQL_EMBEDDED[] =
    "SELECT id FROM (SELECT id AS k, id FROM payment_methods WHERE merchant_id = $1"
    " AND customer = $2 AND id > 'card_' AND id < 'card`' UNION ALL SELECT 'card_' ||"
    " substr(id, 4) AS k, id FROM customer_bank_accounts WHERE merchant_id = $1"
    " AND customer = $2 AND deleted = 0 UNION ALL SELECT 'card_' || substr(id, 5) AS k, id"
    " FROM sources WHERE merchant_id = $1 AND customer = $2 AND type = 'card') AS u"
    " ORDER BY k DESC LIMIT $3";

#define EMBEDDED_LIMIT 10 /* what Stripe embeds in an expanded customer */

/* The card's JSON as it is now (r's arena), shown with customer. */
static const char *card_json(struct req *r, struct db *db, const char *id, const char *customer,
			     size_t *ret_len)
{
	struct buf b;
	struct json j;
	buf_init(&b, 64 * 1024);
	json_init(&j, &b);
	int rc = card_source_render(db, r->merchant_id, id, customer, &j);
	const char *s = rc == DB_OK && !b.failed ? arena_strndup(&r->arena, b.data, b.len) : NULL;
	*ret_len = b.len;
	buf_release(&b);
	return s;
}

static int card_event(struct req *r, struct db *db, const char *type, const char *id,
		      const char *js, size_t len, const char *prev)
{
	struct event_origin o = {r->request_id[0] ? r->request_id : NULL, r->idempotency_key,
				 r->livemode};
	if (event_append(db, r->merchant_id, &o, type, id, js, len, prev, r->now, NULL) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	return 0;
}

int source_attach(struct req *r, struct db *db, struct source_new *sn, const char *customer,
		  const char **ret_json, size_t *ret_len)
{
	struct db_stmt *st = db_prepare(db, SQL_COUNT);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, customer, -1);
	int64_t n = db_step(st) == DB_ROW ? db_col_int64(st, 0) : -1;
	db_reset(st);
	if (n < 0)
		return req_fail(r, ERR_API, NULL, NULL);
	if (n >= SOURCES_PER_CUSTOMER_MAX)
		return req_fail(r, ERR_PARAM_BAD, "source",
				"Customer %s already has the maximum of %d sources attached.",
				customer, SOURCES_PER_CUSTOMER_MAX);
	/* an alias's card is stored now (under sn->id), and the vault's record of the card's
	 * reveal for the verification is kept */
	if (payments_card_commit(r, db, &sn->ca) != 0)
		return -1;
	st = db_prepare(db, SQL_ATTACH);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, sn->id, -1);
	db_bind_text(st, 3, customer, -1);
	db_bind_text(st, 4, sn->metadata, -1);
	int64_t changed = 0;
	if (db_step_changes(st, &changed) != DB_OK || changed != 1)
		return req_fail(r, ERR_API, NULL, NULL);
	size_t len = 0;
	const char *js = card_json(r, db, sn->id, NULL, &len);
	if (!js)
		return req_fail(r, ERR_API, NULL, NULL);
	if (card_event(r, db, "customer.source.created", sn->id, js, len, NULL) != 0)
		return -1;
	if (ret_json) {
		*ret_json = js;
		*ret_len = len;
	}
	return 0;
}

int source_detach(struct req *r, struct db *db, const char *customer, const char *id)
{
	if (bank_source_id(id))
		return bank_source_detach(r, db, customer, id);
	if (source_api_id(id))
		return source_api_detach(r, db, customer, id);
	size_t len = 0;
	const char *js = card_json(r, db, id, NULL, &len); /* as it was, as on Stripe */
	if (!js)
		return req_fail(r, ERR_API, NULL, NULL);
	struct db_stmt *st = db_prepare(db, SQL_DETACH);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, id, -1);
	db_bind_text(st, 3, customer, -1);
	int64_t changed = 0;
	if (db_step_changes(st, &changed) != DB_OK || changed != 1)
		return req_fail(r, ERR_API, NULL, NULL);
	if (card_event(r, db, "customer.source.deleted", id, js, len, NULL) != 0)
		return -1;
	/* the card is a PaymentMethod too, and Stripe says so: payment_method.detached, with the
	 * PaymentMethod as it is now (no customer) */
	struct buf b;
	struct json j;
	buf_init(&b, 64 * 1024);
	json_init(&j, &b);
	int rc = pm_render(db, r->merchant_id, id, &j);
	if (rc == DB_OK && !b.failed)
		rc = card_event(r, db, "payment_method.detached", id, b.data, b.len, NULL);
	else
		rc = req_fail(r, ERR_API, NULL, NULL);
	buf_release(&b);
	return rc;
}

int source_owned(struct req *r, struct db *db, const char *customer, const char *id)
{
	if (bank_source_id(id))
		return bank_source_owned(r, db, customer, id);
	if (source_api_id(id))
		return source_api_owned(r, db, customer, id);
	if (!card_source_id(id))
		return 0;
	struct db_stmt *st = db_prepare(db, SQL_OWNED);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, id, -1);
	db_bind_text(st, 3, customer, -1);
	int rc = db_step(st);
	db_reset(st);
	if (rc == DB_ROW)
		return 1;
	return rc == DB_DONE ? 0 : rc;
}

int source_newest(struct req *r, struct db *db, const char *customer, const char *except,
		  char ret[ID_MAX])
{
	struct db_stmt *st = db_prepare(db, SQL_NEWEST);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, customer, -1);
	db_bind_text(st, 3, except ? except : "", -1);
	int rc = db_step(st);
	ret[0] = '\0';
	if (rc == DB_ROW)
		str_copy(ret, ID_MAX, db_col_text(st, 0, NULL));
	db_reset(st);
	if (rc != DB_ROW && rc != DB_DONE)
		return req_fail(r, ERR_API, NULL, NULL);
	/* the newer of its newest card and its newest bank account: both ids' bodies (after
	 * card_ and ba_) are id_new_at's, ordered by creation */
	char ba[ID_MAX];
	if (bank_source_newest(r, db, customer, except, ba) != 0)
		return -1;
	if (ba[0] && (!ret[0] || strcmp(ba + 3, ret + 5) > 0))
		str_copy(ret, ID_MAX, ba);
	/* and its newest src_… card source (the Sources API's), the body after src_ */
	char src[ID_MAX];
	if (source_api_newest(r, db, customer, except, src) != 0)
		return -1;
	if (src[0] && (!ret[0] || strcmp(src + 4, ret + (bank_source_id(ret) ? 3 : 5)) > 0))
		str_copy(ret, ID_MAX, src);
	return 0;
}

int sources_render_embedded(struct req *r, struct db *db, const char *customer, struct json *j)
{
	struct db_stmt *st = db_prepare(db, SQL_EMBEDDED);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, customer, -1);
	db_bind_int64(st, 3, EMBEDDED_LIMIT + 1);
	char *ids[EMBEDDED_LIMIT + 1];
	size_t n = 0;
	int rc;
	while (n < EMBEDDED_LIMIT + 1 && (rc = db_step(st)) == DB_ROW) {
		ids[n] = arena_strdup(&r->arena, db_col_text(st, 0, NULL));
		if (!ids[n++]) {
			db_reset(st);
			return DB_ERR;
		}
	}
	db_reset(st);
	bool has_more = n > EMBEDDED_LIMIT;
	if (has_more)
		n = EMBEDDED_LIMIT;
	json_obj_open(j);
	json_kv_str(j, "object", "list");
	json_key(j, "data");
	json_arr_open(j);
	for (size_t i = 0; i < n; i++) {
		rc = bank_source_id(ids[i]) ? bank_source_render(db, r->merchant_id, ids[i], j)
		     : source_api_id(ids[i])
			 ? source_api_render(db, r->merchant_id, r->livemode, ids[i], j)
			 : card_source_render(db, r->merchant_id, ids[i], NULL, j);
		if (rc != DB_OK)
			return rc == DB_NOTFOUND ? DB_ERR : rc;
	}
	json_arr_close(j);
	json_kv_bool(j, "has_more", has_more);
	const char *url = arena_printf(&r->arena, "/v1/customers/%s/sources", customer);
	if (!url)
		return DB_ERR;
	json_kv_str(j, "url", url);
	json_obj_close(j);
	return DB_OK;
}

/* ---- the routes ---- */

static const struct param_spec create_params[] = {
    {"source", PT_STRING, PF_REQUIRED, 255, NULL, NULL},
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    /* Stripe's validate=false skips the issuer's check; Tender always checks (the test cards
     * that decline would otherwise attach, and charges later fail the same way) */
    {"validate", PT_BOOL, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};

static const struct param_spec update_params[] = {
    {"name", PT_STRING, PF_EMPTYABLE, 256, NULL, NULL},
    {"address_city", PT_STRING, PF_EMPTYABLE, 200, NULL, NULL},
    {"address_country", PT_STRING, PF_EMPTYABLE, 2, NULL, NULL},
    {"address_line1", PT_STRING, PF_EMPTYABLE, 200, NULL, NULL},
    {"address_line2", PT_STRING, PF_EMPTYABLE, 200, NULL, NULL},
    {"address_state", PT_STRING, PF_EMPTYABLE, 200, NULL, NULL},
    {"address_zip", PT_STRING, PF_EMPTYABLE, 20, NULL, NULL},
    {"exp_month", PT_STRING, 0, 4, NULL, NULL},
    {"exp_year", PT_STRING, 0, 4, NULL, NULL},
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};

/* POST /sources/{id}: a card's fields, or a bank account's (bank_sources.c) */
static const struct param_spec source_update_params[] = {
    {"name", PT_STRING, PF_EMPTYABLE, 256, NULL, NULL},
    {"address_city", PT_STRING, PF_EMPTYABLE, 200, NULL, NULL},
    {"address_country", PT_STRING, PF_EMPTYABLE, 2, NULL, NULL},
    {"address_line1", PT_STRING, PF_EMPTYABLE, 200, NULL, NULL},
    {"address_line2", PT_STRING, PF_EMPTYABLE, 200, NULL, NULL},
    {"address_state", PT_STRING, PF_EMPTYABLE, 200, NULL, NULL},
    {"address_zip", PT_STRING, PF_EMPTYABLE, 20, NULL, NULL},
    {"exp_month", PT_STRING, 0, 4, NULL, NULL},
    {"exp_year", PT_STRING, 0, 4, NULL, NULL},
    {"account_holder_name", PT_STRING, PF_EMPTYABLE, 200, NULL, NULL},
    {"account_holder_type", PT_ENUM, 0, 0, (const char *const[]){"individual", "company", NULL},
     NULL},
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};

/* Stripe's source types: cards, bank accounts, and the Sources API's (src_…) */
static const char *const object_values[] = {"card", "bank_account", "source", NULL};

static const struct param_spec list_params[] = {
    {"object", PT_ENUM, 0, 0, object_values, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};

static const struct param_spec no_params[] = {{NULL, 0, 0, 0, NULL, NULL}};

struct src_ctx {
	struct req *r;
	const char *customer, *id;
	struct source_new sn;
};

static int create_fn(struct db *db, void *p)
{
	struct src_ctx *x = p;
	struct req *r = x->r;
	if (customer_check(r, db, x->customer) != 0)
		return -1;
	const char *js = NULL;
	size_t len = 0;
	if (source_attach(r, db, &x->sn, x->customer, &js, &len) != 0)
		return -1;
	/* a customer's first card becomes its default source */
	char ds[ID_MAX];
	if (customer_default_source(r, db, x->customer, "customer", ds) != 0)
		return -1;
	if (!ds[0] && customer_set_default_source(r, db, x->customer, x->sn.id) != 0)
		return -1;
	req_json(r);
	buf_append(&r->out, js, len);
	return r->out.failed ? req_fail(r, ERR_API, NULL, NULL) : 0;
}

/* ref: the token or alias the request names at param ("source", or the Cards API's "card") */
static int create_from(struct req *r, const char *ref, const char *param)
{
	struct src_ctx x = {.r = r, .customer = r->args[0]};
	/* the customer first: preparing the card uses its token up */
	if (customer_check_read(r, x.customer) != 0)
		return -1;
	const char *md = "{}";
	if (metadata_apply(r, NULL, "metadata", &md) != 0)
		return -1;
	if (source_prepare(r, ref, param, x.customer, &x.sn) != 0)
		return -1;
	x.sn.metadata = md;
	return req_write(r, create_fn, &x);
}

static int h_create(struct req *r)
{
	const char *src = param_str(r, "source");
	/* a bank account token (or Stripe's test ones): a bank account source */
	if (src && strncmp(src, "btok_", 5) == 0)
		return bank_source_h_create(r, src, "source");
	/* a source of the Sources API (api/sources_api.c) */
	if (source_api_id(src))
		return sources_api_h_attach(r, src);
	return create_from(r, src, "source");
}

/* POST /v1/customers/{customer}/cards (the Cards API): card=tok_…, or source=tok_… as older
 * code sends it; the same attach as the sources' create. */
static int h_cards_create(struct req *r)
{
	const char *card = param_str(r, "card"), *source = param_str(r, "source");
	if (card && *card && source && *source)
		return req_fail(r, ERR_PARAM_BAD, "card",
				"You cannot specify both card and source: pass the token as card.");
	if (card && *card)
		return create_from(r, card, "card");
	if (source && *source)
		return create_from(r, source, "source");
	return req_fail(r, ERR_PARAM_MISSING, "card", "%s", "card");
}

/* The customer exists and card x->id is one of its sources, else resource_missing. */
static int check_owned(struct db *db, struct src_ctx *x)
{
	struct req *r = x->r;
	if (customer_check(r, db, x->customer) != 0)
		return -1;
	/* a bank account or a src_… is not a card (the Cards API's routes; /sources sends them
	 * elsewhere) */
	if (bank_source_id(x->id) || source_api_id(x->id))
		return req_fail_missing(r, "source", x->id, "id");
	int own = source_owned(r, db, x->customer, x->id);
	if (own < 0)
		return req_fail(r, ERR_API, NULL, NULL);
	return own ? 0 : req_fail_missing(r, "source", x->id, "id");
}

static int retrieve_fn(struct db *db, void *p)
{
	struct src_ctx *x = p;
	if (check_owned(db, x) != 0)
		return -1;
	return card_source_render(db, x->r->merchant_id, x->id, NULL, req_json(x->r)) == DB_OK
		   ? 0
		   : req_fail(x->r, ERR_API, NULL, NULL);
}

static int h_retrieve(struct req *r)
{
	struct src_ctx x = {.r = r, .customer = r->args[0], .id = r->args[1]};
	return req_read(r, retrieve_fn, &x) == 0 ? 0 : -1;
}

/* ---- update: the cardholder's name and address (billing_details), expiry, metadata ---- */

static const char SQL_CARD_GET[] =
    "SELECT billing_details, metadata, exp_month, exp_year FROM payment_methods"
    " WHERE merchant_id = $1 AND id = $2";
static const char SQL_CARD_UPDATE[] =
    "UPDATE payment_methods SET billing_details = $3, metadata = $4, exp_month = $5,"
    " exp_year = $6 WHERE merchant_id = $1 AND id = $2 AND customer = $7";

/* The card's fields that live in billing_details: the card's name for it, and where. */
static const struct {
	const char *param, *address_key; /* address_key NULL: top level */
	const char *key;
} billing_fields[] = {
    {"name", NULL, "name"},
    {"address_city", "address", "city"},
    {"address_country", "address", "country"},
    {"address_line1", "address", "line1"},
    {"address_line2", "address", "line2"},
    {"address_state", "address", "state"},
    {"address_zip", "address", "postal_code"},
};
#define N_BILLING (sizeof(billing_fields) / sizeof(billing_fields[0]))

static const char *bd_get(json_t *bd, size_t i)
{
	json_t *o =
	    billing_fields[i].address_key ? json_object_get(bd, billing_fields[i].address_key) : bd;
	const char *s = json_string_value(json_object_get(o, billing_fields[i].key));
	return s && *s ? s : NULL;
}

static bool same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static int update_fn(struct db *db, void *p)
{
	struct src_ctx *x = p;
	struct req *r = x->r;
	if (check_owned(db, x) != 0)
		return -1;
	struct db_stmt *st = db_prepare(db, SQL_CARD_GET);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, x->id, -1);
	if (db_step(st) != DB_ROW) {
		db_reset(st);
		return req_fail(r, ERR_API, NULL, NULL);
	}
	const char *bd_text = col_text_dup(&r->arena, st, 0);
	const char *old_meta = col_text_dup(&r->arena, st, 1);
	int64_t old_em = db_col_int64(st, 2), old_ey = db_col_int64(st, 3);
	db_reset(st);
	json_t *bd = bd_text ? json_loads(bd_text, 0, NULL) : NULL;
	const char *oldv[N_BILLING], *newv[N_BILLING];
	for (size_t i = 0; i < N_BILLING; i++) {
		oldv[i] = bd_get(bd, i) ? arena_strdup(&r->arena, bd_get(bd, i)) : NULL;
		newv[i] = str_update(r, billing_fields[i].param, oldv[i]);
	}
	/* email and phone (a PaymentMethod's billing details) are kept */
	const char *email = json_string_value(json_object_get(bd, "email"));
	const char *phone = json_string_value(json_object_get(bd, "phone"));
	email = email ? arena_strdup(&r->arena, email) : NULL;
	phone = phone ? arena_strdup(&r->arena, phone) : NULL;
	json_decref(bd);
	const char *meta = old_meta ? old_meta : "{}";
	if (metadata_apply(r, meta, "metadata", &meta) != 0)
		return -1;
	int64_t em = old_em, ey = old_ey;
	const char *ems = param_str(r, "exp_month"), *eys = param_str(r, "exp_year");
	if ((ems && *ems) || (eys && *eys)) {
		/* the new expiry (a side not given keeps its stored value) must not be past */
		char mbuf[24], ybuf[24];
		snprintf(mbuf, sizeof(mbuf), "%lld", (long long)old_em);
		snprintf(ybuf, sizeof(ybuf), "%lld", (long long)old_ey);
		int m = 0, y = 0;
		int e = vault_card_validate_expiry(ems && *ems ? ems : mbuf,
						   eys && *eys ? eys : ybuf, r->now, &m, &y);
		if (e != 0)
			return req_fail(r, vault_card_err_api(e), vault_card_err_param(e), NULL);
		em = m;
		ey = y;
	}
	/* billing_details in the shape /v1/payment_methods stores it */
	struct buf b;
	struct json j;
	buf_init(&b, 64 * 1024);
	json_init(&j, &b);
	json_obj_open(&j);
	json_key(&j, "address");
	json_obj_open(&j);
	static const size_t addr_order[] = {1, 2, 3, 4,
					    6, 5}; /* city country line1 line2
						      postal_code state */
	for (size_t k = 0; k < sizeof(addr_order) / sizeof(addr_order[0]); k++)
		json_kv_str_or_null(&j, billing_fields[addr_order[k]].key, newv[addr_order[k]]);
	json_obj_close(&j);
	json_kv_str_or_null(&j, "email", email);
	json_kv_str_or_null(&j, "name", newv[0]);
	json_kv_str_or_null(&j, "phone", phone);
	json_kv_null(&j, "tax_id");
	json_obj_close(&j);
	const char *new_bd = b.failed ? NULL : arena_strdup(&r->arena, buf_cstr(&b));
	buf_release(&b);
	if (!new_bd)
		return req_fail(r, ERR_API, NULL, NULL);
	st = db_prepare(db, SQL_CARD_UPDATE);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, x->id, -1);
	db_bind_text(st, 3, new_bd, -1);
	db_bind_text(st, 4, meta, -1);
	db_bind_int64(st, 5, em);
	db_bind_int64(st, 6, ey);
	db_bind_text(st, 7, x->customer, -1);
	int64_t changed = 0;
	if (db_step_changes(st, &changed) != DB_OK || changed != 1)
		return req_fail(r, ERR_API, NULL, NULL);
	/* previous_attributes: the old value of every card field this update changed */
	buf_init(&b, 64 * 1024);
	json_init(&j, &b);
	json_obj_open(&j);
	for (size_t i = 0; i < N_BILLING; i++)
		if (!same(oldv[i], newv[i]))
			json_kv_str_or_null(&j, billing_fields[i].param, oldv[i]);
	if (em != old_em)
		json_kv_int(&j, "exp_month", old_em);
	if (ey != old_ey)
		json_kv_int(&j, "exp_year", old_ey);
	if (!same(old_meta ? old_meta : "{}", meta))
		json_kv_raw(&j, "metadata", old_meta ? old_meta : "{}",
			    strlen(old_meta ? old_meta : "{}"));
	json_obj_close(&j);
	const char *prev = b.failed ? NULL : arena_strdup(&r->arena, buf_cstr(&b));
	buf_release(&b);
	size_t len = 0;
	const char *js = card_json(r, db, x->id, NULL, &len);
	if (!js || !prev)
		return req_fail(r, ERR_API, NULL, NULL);
	if (card_event(r, db, "customer.source.updated", x->id, js, len, prev) != 0)
		return -1;
	req_json(r);
	buf_append(&r->out, js, len);
	return r->out.failed ? req_fail(r, ERR_API, NULL, NULL) : 0;
}

static int h_update(struct req *r)
{
	struct src_ctx x = {.r = r, .customer = r->args[0], .id = r->args[1]};
	return req_write(r, update_fn, &x);
}

/* /sources/{id}: a ba_… is a bank account (bank_sources.c), anything else a card */
static int h_src_retrieve(struct req *r)
{
	if (source_api_id(r->args[1]))
		return sources_api_h_customer_retrieve(r);
	return bank_source_id(r->args[1]) ? bank_source_h_retrieve(r) : h_retrieve(r);
}

static int h_src_update(struct req *r)
{
	if (bank_source_id(r->args[1]))
		return bank_source_h_update(r);
	if (source_api_id(r->args[1]))
		return req_fail(r, ERR_PARAM_BAD, NULL,
				"A source's owner and metadata are updated at /v1/sources/%s.",
				r->args[1]);
	static const char *const bank_only[] = {"account_holder_name", "account_holder_type", NULL};
	for (const char *const *p = bank_only; *p; p++)
		if (param_present(r, *p))
			return req_fail(r, ERR_PARAM_UNKNOWN, *p, "%s", *p);
	return h_update(r);
}

/* ---- delete: the card leaves the customer; a default source is replaced by the newest of
 * the others (or none) ---- */

static int delete_fn(struct db *db, void *p)
{
	struct src_ctx *x = p;
	struct req *r = x->r;
	if (check_owned(db, x) != 0)
		return -1;
	if (source_detach(r, db, x->customer, x->id) != 0)
		return -1;
	char ds[ID_MAX], next[ID_MAX];
	if (customer_default_source(r, db, x->customer, "customer", ds) != 0)
		return -1;
	if (strcmp(ds, x->id) == 0) {
		if (source_newest(r, db, x->customer, x->id, next) != 0)
			return -1;
		if (customer_set_default_source(r, db, x->customer, next[0] ? next : NULL) != 0)
			return -1;
	}
	struct json *j = req_json(r);
	json_obj_open(j);
	json_kv_str(j, "id", x->id);
	json_kv_str(j, "object", "card");
	json_kv_null(j, "currency");
	json_kv_bool(j, "deleted", true);
	json_obj_close(j);
	return 0;
}

static int h_delete(struct req *r)
{
	struct src_ctx x = {.r = r, .customer = r->args[0], .id = r->args[1]};
	return req_write(r, delete_fn, &x);
}

static int h_src_delete(struct req *r)
{
	if (source_api_id(r->args[1]))
		return sources_api_h_detach(r);
	return bank_source_id(r->args[1]) ? bank_source_h_delete(r) : h_delete(r);
}

/* ---- list ---- */

/*
 * Cards (payment_methods, card_…) and bank accounts (customer_bank_accounts, ba_…) list
 * together, keyed (list.h) by 'card_' and the id's body: both bodies come from id_new_at, so
 * the key orders every source by creation. Each table's range is walked on its primary key
 * with the page's limit, and the two are merged by key; `object` keeps one kind.
 */
static const char SQL_CURSOR[] =
    "SELECT id FROM payment_methods WHERE merchant_id = $1 AND id = $2 AND id > 'card_'"
    " AND id < 'card`' UNION ALL SELECT 'card_' || substr(id, 4) FROM customer_bank_accounts"
    " WHERE merchant_id = $1 AND id = $2 UNION ALL SELECT 'card_' || substr(id, 5) FROM sources"
    " WHERE merchant_id = $1 AND id = $2 AND type = 'card'";
#define SOURCES_BOTH(DIR)                                                                          \
	"SELECT id FROM (SELECT k, id FROM (SELECT id AS k, id FROM payment_methods"               \
	" WHERE merchant_id = $1 AND id > $2 AND id < $3 AND customer = $5"                        \
	" AND ($6 IS NULL OR $6 = 'card') ORDER BY id " DIR " LIMIT $4) AS c UNION ALL"            \
	" SELECT k, id FROM (SELECT 'card_' || substr(id, 4) AS k, id FROM customer_bank_accounts" \
	" WHERE merchant_id = $1 AND id > 'ba_' || substr($2, 6) AND id < 'ba_' || substr($3, 6)"  \
	" AND customer = $5 AND deleted = 0 AND ($6 IS NULL OR $6 = 'bank_account')"               \
	" ORDER BY id " DIR " LIMIT $4) AS b UNION ALL SELECT k, id FROM (SELECT 'card_' ||"       \
	" substr(id, 5) AS k, id FROM sources WHERE merchant_id = $1 AND id > 'src_' ||"           \
	" substr($2, 6) AND id < 'src_' || substr($3, 6) AND customer = $5 AND type = 'card'"      \
	" AND ($6 IS NULL OR $6 = 'source') ORDER BY id " DIR " LIMIT $4) AS s) AS u"              \
	" ORDER BY k " DIR " LIMIT $4"
static const char SQL_DESC[] = SOURCES_BOTH("DESC");
static const char SQL_ASC[] = SOURCES_BOTH("ASC");

static int list_bind(struct req *r, struct db_stmt *st, int first, void *ctx)
{
	(void)ctx;
	db_bind_text(st, first, r->args[0], -1);
	list_bind_filter(r, st, first + 1, "object");
	return 0;
}

static int list_render(struct req *r, struct db *db, const char *id, struct json *j, void *ctx)
{
	(void)ctx;
	if (bank_source_id(id))
		return bank_source_render(db, r->merchant_id, id, j);
	if (source_api_id(id))
		return source_api_render(db, r->merchant_id, r->livemode, id, j);
	return card_source_render(db, r->merchant_id, id, NULL, j);
}

/* what: "sources", or "cards" for the Cards API's list (card sources only, which every source
 * Tender keeps is) */
static int sources_list(struct req *r, const char *what)
{
	if (customer_check_read(r, r->args[0]) != 0)
		return -1;
	const char *url = arena_printf(&r->arena, "/v1/customers/%s/%s", r->args[0], what);
	if (!url)
		return req_fail(r, ERR_API, NULL, NULL);
	const struct list_spec spec = {
	    .url = url,
	    .object_name = "source",
	    .id_prefix = CARD_SOURCE_PREFIX,
	    .keyed = true,
	    .sql_cursor = SQL_CURSOR,
	    .sql_desc = SQL_DESC,
	    .sql_asc = SQL_ASC,
	    .bind_filters = list_bind,
	    .render = list_render,
	};
	return list_respond(r, &spec);
}

static int h_list(struct req *r)
{
	return sources_list(r, "sources");
}

static int h_cards_list(struct req *r)
{
	if (req_param_set(r, "object", "card") != 0)
		return -1;
	return sources_list(r, "cards");
}

static const struct param_spec cards_create_params[] = {
    {"card", PT_STRING, 0, 255, NULL, NULL},
    {"source", PT_STRING, 0, 255, NULL, NULL},
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};

const struct route sources_routes[] = {
    {"POST", "/v1/customers/{customer}/sources", h_create, create_params, 0},
    {"GET", "/v1/customers/{customer}/sources", h_list, list_params, ROUTE_LIST},
    {"GET", "/v1/customers/{customer}/sources/{id}", h_src_retrieve, no_params, 0},
    {"POST", "/v1/customers/{customer}/sources/{id}", h_src_update, source_update_params, 0},
    {"DELETE", "/v1/customers/{customer}/sources/{id}", h_src_delete, no_params, 0},
    /* the Cards API: the card-only view of the same sources */
    {"POST", "/v1/customers/{customer}/cards", h_cards_create, cards_create_params, 0},
    {"GET", "/v1/customers/{customer}/cards", h_cards_list, no_params, ROUTE_LIST},
    {"GET", "/v1/customers/{customer}/cards/{id}", h_retrieve, no_params, 0},
    {"POST", "/v1/customers/{customer}/cards/{id}", h_update, update_params, 0},
    {"DELETE", "/v1/customers/{customer}/cards/{id}", h_delete, no_params, 0},
    {NULL, NULL, NULL, NULL, 0},
};
