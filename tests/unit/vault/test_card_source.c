/* Stripe's legacy card object over a card_… payment_methods row: brand names the old way, the
 * cardholder's name and address from billing_details, the customer shown, scoped by merchant,
 * and never the number. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/json.h"
#include "store/store.h"
#include "vault/card_source.h"
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
	snprintf(dir, sizeof(dir), "/tmp/tender-unit-cs-XXXXXX");
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

TestSuite(card_source, .init = setup, .fini = teardown);

static const char BILLING[] =
    "{\"address\":{\"city\":null,\"country\":\"US\",\"line1\":\"1 Main St\",\"line2\":null,"
    "\"postal_code\":\"94107\",\"state\":null},\"email\":null,\"name\":\"Jenny Rosen\","
    "\"phone\":null,\"tax_id\":null}";

/* card_A1 of acct_A (Mastercard, with a name and address, attached to cus_1) and card_A2
 * (Visa, no CVC, no billing details, attached to nobody) */
static int put_fn(struct db *db, void *p)
{
	(void)p;
	struct vault_card_info i;
	char fp[24];
	cr_assert_eq(vault_card_validate("5555555555554444", "6", "2035", "123", NOW, &i), 0);
	cr_assert_eq(
	    vault_card_store(v, db, "acct_A", "card_A1", "5555555555554444", NULL, &i, NOW, fp), 0);
	cr_assert_eq(pm_insert(db, "acct_A", "card_A1", "card_A1", &i, fp, BILLING, "{\"k\":\"v\"}",
			       "cus_1", NOW),
		     0);
	cr_assert_eq(vault_card_validate("4242424242424242", "12", "2034", NULL, NOW, &i), 0);
	cr_assert_eq(
	    vault_card_store(v, db, "acct_A", "card_V", "4242424242424242", NULL, &i, NOW, fp), 0);
	cr_assert_eq(pm_insert(db, "acct_A", "card_A2", "card_V", &i, fp, NULL, NULL, NULL, NOW),
		     0);
	cr_assert_eq(pm_insert(db, "acct_A", "pm_A3", "card_V", &i, fp, NULL, NULL, NULL, NOW), 0);
	return 0;
}

struct render {
	const char *merchant, *id, *customer;
	struct buf b;
	int rc;
};

static int render_fn(struct db *db, void *p)
{
	struct render *x = p;
	struct json j;
	json_init(&j, &x->b);
	x->rc = card_source_render(db, x->merchant, x->id, x->customer, &j);
	return 0;
}

static char *render(const char *merchant, const char *id, const char *customer, int *ret_rc)
{
	struct render r = {.merchant = merchant, .id = id, .customer = customer};
	buf_init(&r.b, 1 << 16);
	cr_assert_eq(store_read(s, NULL, render_fn, &r), 0);
	*ret_rc = r.rc;
	char *out = strdup(buf_cstr(&r.b));
	buf_release(&r.b);
	return out;
}

#define HAS(js, s) cr_assert(strstr((js), (s)) != NULL, "%s not in %s", (s), (js))

Test(card_source, renders_the_legacy_card)
{
	cr_assert_eq(store_write(s, NULL, put_fn, NULL), 0);
	int rc;
	char *js = render("acct_A", "card_A1", NULL, &rc);
	cr_assert_eq(rc, DB_OK);
	HAS(js, "{\"id\":\"card_A1\",\"object\":\"card\",");
	HAS(js, "\"brand\":\"MasterCard\"");
	HAS(js, "\"last4\":\"4444\"");
	HAS(js, "\"exp_month\":6,\"exp_year\":2035");
	HAS(js, "\"customer\":\"cus_1\"");
	HAS(js, "\"name\":\"Jenny Rosen\"");
	HAS(js, "\"address_line1\":\"1 Main St\",\"address_line1_check\":\"unchecked\"");
	HAS(js, "\"address_zip\":\"94107\",\"address_zip_check\":\"unchecked\"");
	HAS(js, "\"address_country\":\"US\"");
	HAS(js, "\"address_city\":null");
	HAS(js, "\"cvc_check\":\"pass\"");
	HAS(js, "\"metadata\":{\"k\":\"v\"}");
	cr_assert(strstr(js, "5555555555554444") == NULL, "never the number");
	free(js);
	/* the customer a charge shows, whatever the card's own now */
	js = render("acct_A", "card_A1", "cus_9", &rc);
	HAS(js, "\"customer\":\"cus_9\"");
	free(js);
	js = render("acct_A", "card_A2", NULL, &rc);
	cr_assert_eq(rc, DB_OK);
	HAS(js, "\"brand\":\"Visa\"");
	HAS(js, "\"customer\":null");
	HAS(js, "\"cvc_check\":null");
	HAS(js, "\"name\":null");
	HAS(js, "\"address_line1_check\":null");
	HAS(js, "\"metadata\":{}");
	free(js);
}

Test(card_source, only_card_ids_of_the_merchant)
{
	cr_assert_eq(store_write(s, NULL, put_fn, NULL), 0);
	int rc;
	char *js = render("acct_B", "card_A1", NULL, &rc);
	cr_assert_eq(rc, DB_NOTFOUND, "scoped by merchant");
	cr_assert_str_eq(js, "", "nothing rendered");
	free(js);
	js = render("acct_A", "pm_A3", NULL, &rc);
	cr_assert_eq(rc, DB_NOTFOUND, "a pm_ is not a card source");
	free(js);
	js = render("acct_A", "card_nope", NULL, &rc);
	cr_assert_eq(rc, DB_NOTFOUND);
	free(js);
	cr_assert(card_source_id("card_x"));
	cr_assert(!card_source_id("pm_x"));
	cr_assert(!card_source_id("car"));
	cr_assert(!card_source_id(NULL));
}

Test(card_source, brand_titles)
{
	cr_assert_str_eq(card_brand_title("visa"), "Visa");
	cr_assert_str_eq(card_brand_title("mastercard"), "MasterCard");
	cr_assert_str_eq(card_brand_title("amex"), "American Express");
	cr_assert_str_eq(card_brand_title("diners"), "Diners Club");
	cr_assert_str_eq(card_brand_title("unionpay"), "UnionPay");
	cr_assert_str_eq(card_brand_title("bogus"), "Unknown");
	cr_assert_str_eq(card_brand_title(NULL), "Unknown");
}
