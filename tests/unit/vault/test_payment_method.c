/* PaymentMethods over sealed cards: tokens are single use, aliases become stored cards, the
 * rendered object carries the public facts only. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/json.h"
#include "store/store.h"
#include "vault/payment_method.h"
#include "vault/vault.h"

static char dir[256], key[300];
static struct store *s;
static struct vault *v;
static const int64_t NOW = 1795593221; /* 2026-11-25 */

static int attach_fn(struct db *db, void *p)
{
	char err[256];
	return vault_attach(p, db, err, sizeof(err));
}

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/tender-unit-pm-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(key, sizeof(key), "%s.key", dir);
	char err[256];
	cr_assert_eq(vault_keygen(key, err, sizeof(err)), 0, "%s", err);
	struct store_config cfg = {.data_dir = dir};
	cr_assert_eq(store_open(&s, &cfg, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(vault_open(&v, key, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(store_write(s, NULL, attach_fn, v), 0);
}

static void teardown(void)
{
	vault_free(v);
	store_close(s);
	char cmd[700];
	snprintf(cmd, sizeof(cmd), "rm -rf %s %s", dir, key);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(payment_method, .init = setup, .fini = teardown);

static const char SQL_TOKEN_PUT[] =
    "INSERT INTO tokens (merchant_id, id, created, card_id, brand, last4, exp_month, exp_year,"
    " funding, country, fingerprint, cvc_provided) VALUES ('acct_A', 'tok_1', 1, 'card_t', 'visa',"
    " '4242', 12, 2034, 'credit', 'US', 'fpfpfpfpfpfpfpfp', 1)";

static int token_fn(struct db *db, void *p)
{
	(void)p;
	struct vault_card_info i;
	char fp[24];
	cr_assert_eq(vault_card_validate("4242424242424242", "12", "2034", "123", NOW, &i), 0);
	cr_assert_eq(
	    vault_card_store(v, db, "acct_A", "card_t", "4242424242424242", NULL, &i, NOW, fp), 0);
	return db_exec(db, SQL_TOKEN_PUT);
}

struct mat {
	const char *merchant, *ref;
	struct pm_card pm;
	int rc;
};

static int materialize_fn(struct db *db, void *p)
{
	struct mat *m = p;
	m->rc = pm_materialize(db, v, m->merchant, m->ref, NULL, NOW, &m->pm);
	return 0;
}

/* the same materialization a month later (the alias's expiry moves to next month) */
static int materialize_later_fn(struct db *db, void *p)
{
	struct mat *m = p;
	m->rc = pm_materialize(db, v, m->merchant, m->ref, NULL, NOW + 31 * 86400, &m->pm);
	return 0;
}

struct count_ctx {
	const char *sql;
	int64_t n;
};

static int count_fn(struct db *db, void *p)
{
	struct count_ctx *c = p;
	struct db_stmt *st = db_prepare(db, c->sql);
	cr_assert(st != NULL);
	cr_assert_eq(db_step(st), DB_ROW);
	c->n = db_col_int64(st, 0);
	db_reset(st);
	return 0;
}

static int64_t count(const char *sql)
{
	struct count_ctx c = {sql, -1};
	cr_assert_eq(store_read(s, NULL, count_fn, &c), 0);
	return c.n;
}

struct render {
	const char *merchant, *id;
	struct buf b;
	int rc;
};

static int render_fn(struct db *db, void *p)
{
	struct render *x = p;
	struct json j;
	json_init(&j, &x->b);
	x->rc = pm_render(db, x->merchant, x->id, &j);
	return 0;
}

Test(payment_method, tokens_are_single_use)
{
	cr_assert_eq(store_write(s, NULL, token_fn, NULL), 0);
	struct mat m = {.merchant = "acct_A", .ref = "tok_1"};
	cr_assert_eq(store_write(s, NULL, materialize_fn, &m), 0);
	cr_assert_eq(m.rc, 0);
	cr_assert_str_eq(m.pm.card_id, "card_t");
	cr_assert_str_eq(m.pm.last4, "4242");
	cr_assert_eq(strncmp(m.pm.id, "pm_", 3), 0);
	struct mat again = {.merchant = "acct_A", .ref = "tok_1"};
	store_write(s, NULL, materialize_fn, &again);
	cr_assert_eq(again.rc, VAULT_ERR_TOKEN_USED);
	struct mat other = {.merchant = "acct_B", .ref = "tok_1"};
	store_write(s, NULL, materialize_fn, &other);
	cr_assert_eq(other.rc, DB_NOTFOUND, "another merchant's token does not exist");
	struct mat none = {.merchant = "acct_A", .ref = "tok_nope"};
	store_write(s, NULL, materialize_fn, &none);
	cr_assert_eq(none.rc, DB_NOTFOUND);
	struct mat junk = {.merchant = "acct_A", .ref = "card_t"};
	store_write(s, NULL, materialize_fn, &junk);
	cr_assert_eq(junk.rc, DB_NOTFOUND);
}

static int peek_fn(struct db *db, void *p)
{
	struct mat *m = p;
	m->rc = pm_token_peek(db, m->merchant, m->ref, &m->pm);
	return 0;
}

/* A payment reads its token before its write (pm_token_peek) and uses it up in that write
 * (pm_materialize): reading leaves it unused, so a payment that never committed leaves the token
 * to its retry. */
Test(payment_method, a_token_is_read_without_being_used_up)
{
	cr_assert_eq(store_write(s, NULL, token_fn, NULL), 0);
	for (int i = 0; i < 2; i++) {
		struct mat m = {.merchant = "acct_A", .ref = "tok_1"};
		cr_assert_eq(store_read(s, NULL, peek_fn, &m), 0);
		cr_assert_eq(m.rc, 0);
		cr_assert_str_eq(m.pm.id, "", "no PaymentMethod exists yet");
		cr_assert_str_eq(m.pm.card_id, "card_t");
		cr_assert_str_eq(m.pm.brand, "visa");
		cr_assert_str_eq(m.pm.last4, "4242");
		cr_assert_str_eq(m.pm.fingerprint, "fpfpfpfpfpfpfpfp");
		cr_assert_eq(m.pm.exp_year, 2034);
		cr_assert(m.pm.cvc_provided);
	}
	struct mat other = {.merchant = "acct_B", .ref = "tok_1"};
	store_read(s, NULL, peek_fn, &other);
	cr_assert_eq(other.rc, DB_NOTFOUND, "another merchant's token does not exist");
	struct mat none = {.merchant = "acct_A", .ref = "tok_nope"};
	store_read(s, NULL, peek_fn, &none);
	cr_assert_eq(none.rc, DB_NOTFOUND);
	struct mat used = {.merchant = "acct_A", .ref = "tok_1"};
	cr_assert_eq(store_write(s, NULL, materialize_fn, &used), 0);
	cr_assert_eq(used.rc, 0, "still unused after being read");
	struct mat after = {.merchant = "acct_A", .ref = "tok_1"};
	store_read(s, NULL, peek_fn, &after);
	cr_assert_eq(after.rc, VAULT_ERR_TOKEN_USED);
}

Test(payment_method, aliases_become_payment_methods_and_render)
{
	struct mat a = {.merchant = "acct_A", .ref = "pm_card_amex"},
		   b = {.merchant = "acct_A", .ref = "pm_card_amex"};
	cr_assert_eq(store_write(s, NULL, materialize_fn, &a), 0);
	cr_assert_eq(store_write(s, NULL, materialize_fn, &b), 0);
	cr_assert_eq(a.rc, 0);
	cr_assert_str_neq(a.pm.id, b.pm.id, "each use is a new PaymentMethod");
	cr_assert_str_eq(a.pm.card_id, b.pm.card_id, "the alias's card is sealed once");
	cr_assert_str_eq(a.pm.fingerprint, b.pm.fingerprint);
	struct mat c = {.merchant = "acct_B", .ref = "pm_card_amex"},
		   d = {.merchant = "acct_A", .ref = "pm_card_visa"};
	cr_assert_eq(store_write(s, NULL, materialize_fn, &c), 0);
	cr_assert_eq(store_write(s, NULL, materialize_fn, &d), 0);
	cr_assert_eq(c.rc, 0);
	cr_assert_eq(d.rc, 0);
	cr_assert_str_neq(a.pm.card_id, c.pm.card_id, "each merchant seals its own");
	cr_assert_str_neq(a.pm.card_id, d.pm.card_id, "each alias is its own card");
	cr_assert_str_eq(d.pm.brand, "visa");
	cr_assert_str_eq(d.pm.last4, "4242");
	struct mat later = {.merchant = "acct_A", .ref = "pm_card_amex"};
	cr_assert_eq(store_write(s, NULL, materialize_later_fn, &later), 0);
	cr_assert_eq(later.rc, 0);
	cr_assert_str_neq(a.pm.card_id, later.pm.card_id, "a new month's expiry is a new card");
	cr_assert_eq(later.pm.exp_month, 12);
	cr_assert_eq(count("SELECT COUNT(*) FROM vault_cards"), 4);
	cr_assert_eq(count("SELECT COUNT(*) FROM payment_methods"), 5);
	cr_assert_eq(count("SELECT COUNT(*) FROM vault_alias_cards"), 4);
	cr_assert_str_eq(a.pm.brand, "amex");
	cr_assert_eq(a.pm.exp_year, 2027);
	struct render r = {.merchant = "acct_A", .id = a.pm.id};
	buf_init(&r.b, 1 << 16);
	cr_assert_eq(store_read(s, NULL, render_fn, &r), 0);
	cr_assert_eq(r.rc, 0);
	const char *js = buf_cstr(&r.b);
	cr_assert(strstr(js, "\"object\":\"payment_method\"") != NULL, "%s", js);
	cr_assert(strstr(js, "\"display_brand\":\"american_express\"") != NULL, "%s", js);
	cr_assert(strstr(js, "\"last4\":\"0005\"") != NULL, "%s", js);
	cr_assert(strstr(js, "\"customer\":null") != NULL, "%s", js);
	cr_assert(strstr(js, "\"tax_id\":null") != NULL, "%s", js);
	cr_assert(strstr(js, "378282246310005") == NULL, "never the number");
	buf_release(&r.b);
	struct render missing = {.merchant = "acct_B", .id = a.pm.id};
	buf_init(&missing.b, 1 << 16);
	store_read(s, NULL, render_fn, &missing);
	cr_assert_eq(missing.rc, DB_NOTFOUND, "scoped by merchant");
	buf_release(&missing.b);
}

Test(payment_method, display_brands)
{
	cr_assert_str_eq(pm_display_brand("visa"), "visa");
	cr_assert_str_eq(pm_display_brand("amex"), "american_express");
	cr_assert_str_eq(pm_display_brand("diners"), "diners_club");
	cr_assert_str_eq(pm_display_brand("unionpay"), "union_pay");
	cr_assert_str_eq(pm_display_brand("unknown"), "other");
	cr_assert_str_eq(pm_display_brand(NULL), "other");
}

struct fresh {
	const char *id, *billing, *metadata, *customer;
	struct vault_card_info info;
	struct buf b;
};

static int insert_render_fn(struct db *db, void *p)
{
	struct fresh *x = p;
	cr_assert_eq(pm_insert(db, "acct_A", x->id, "card_x", &x->info, "FPfpFPfpFPfpFPfp",
			       x->billing, x->metadata, x->customer, NOW),
		     DB_OK);
	struct json j;
	json_init(&j, &x->b);
	pm_render_new(&j, x->id, &x->info, "FPfpFPfpFPfpFPfp", x->billing, x->metadata, x->customer,
		      NOW);
	return 0;
}

/* The object rendered when a PaymentMethod is created (from the values inserted) is, byte for
 * byte, the one read back later. */
Test(payment_method, a_new_payment_method_renders_as_read_back)
{
	struct fresh cases[] = {
	    {.id = "pm_1", .metadata = "{}"},
	    {.id = "pm_2",
	     .billing = "{\"address\":{\"city\":\"Paris\",\"country\":\"FR\",\"line1\":null,"
			"\"line2\":null,\"postal_code\":null,\"state\":null},\"email\":null,"
			"\"name\":\"A\",\"phone\":null,\"tax_id\":null}",
	     .metadata = "{\"k\":\"v\"}",
	     .customer = "cus_1"},
	    {.id = "pm_3"}, /* no billing, metadata NULL: rendered as stored ("{}") */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fresh *x = &cases[i];
		const char *num = i == 1 ? "378282246310005" : "4242424242424242";
		const char *cvc = i == 1 ? "1234" : i == 2 ? NULL : "123";
		cr_assert_eq(vault_card_validate(num, "12", "2034", cvc, NOW, &x->info), 0);
		if (i == 2)
			x->info.country[0] = '\0'; /* stored as NULL */
		buf_init(&x->b, 1 << 16);
		cr_assert_eq(store_write(s, NULL, insert_render_fn, x), 0);
		struct render r = {.merchant = "acct_A", .id = x->id};
		buf_init(&r.b, 1 << 16);
		cr_assert_eq(store_read(s, NULL, render_fn, &r), 0);
		cr_assert_eq(r.rc, 0);
		cr_assert_str_eq(buf_cstr(&x->b), buf_cstr(&r.b));
		buf_release(&r.b);
		buf_release(&x->b);
	}
}

struct load {
	const char *id;
	struct pm_card pm;
	int rc;
};

static int load_fn(struct db *db, void *p)
{
	struct load *l = p;
	l->rc = pm_load(db, "acct_A", l->id, &l->pm);
	return 0;
}

static int detach_fn(struct db *db, void *p)
{
	struct db_stmt *st =
	    db_prepare(db, "UPDATE payment_methods SET customer = NULL, detached = 1"
			   " WHERE merchant_id = 'acct_A' AND id = $1");
	cr_assert(st != NULL);
	db_bind_text(st, 1, p, -1);
	return db_step_done(st);
}

/* a PaymentMethod detached from its customer says so (the payment path refuses it); one never
 * attached does not */
Test(payment_method, detached_is_loaded)
{
	struct mat a = {.merchant = "acct_A", .ref = "pm_card_visa"};
	cr_assert_eq(store_write(s, NULL, materialize_fn, &a), 0);
	cr_assert_eq(a.rc, 0);
	cr_assert_not(a.pm.detached);
	struct load l = {.id = a.pm.id};
	cr_assert_eq(store_read(s, NULL, load_fn, &l), 0);
	cr_assert_eq(l.rc, DB_OK);
	cr_assert_not(l.pm.detached);
	cr_assert_eq(store_write(s, NULL, detach_fn, a.pm.id), 0);
	struct load d = {.id = a.pm.id};
	cr_assert_eq(store_read(s, NULL, load_fn, &d), 0);
	cr_assert_eq(d.rc, DB_OK);
	cr_assert(d.pm.detached);
	cr_assert_str_eq(d.pm.customer, "");
}
