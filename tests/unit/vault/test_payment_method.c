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
	cr_assert_eq(vault_card_store(v, db, "acct_A", "card_t", "4242424242424242", &i, NOW, fp),
		     0);
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
	m->rc = pm_materialize(db, v, m->merchant, m->ref, NOW, &m->pm);
	return 0;
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

Test(payment_method, aliases_become_payment_methods_and_render)
{
	struct mat a = {.merchant = "acct_A", .ref = "pm_card_amex"},
		   b = {.merchant = "acct_A", .ref = "pm_card_amex"};
	cr_assert_eq(store_write(s, NULL, materialize_fn, &a), 0);
	cr_assert_eq(store_write(s, NULL, materialize_fn, &b), 0);
	cr_assert_eq(a.rc, 0);
	cr_assert_str_neq(a.pm.id, b.pm.id, "each use is a new PaymentMethod");
	cr_assert_str_neq(a.pm.card_id, b.pm.card_id);
	cr_assert_str_eq(a.pm.fingerprint, b.pm.fingerprint);
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
