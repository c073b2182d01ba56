#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "http/errors.h"
#include "store/store.h"
#include "vault/vault.h"

static char dir[256], key1[300], key2[300];
static struct store *s;
static struct vault *v;

static int attach_fn(struct db *db, void *p)
{
	char err[256];
	return vault_attach(p, db, err, sizeof(err));
}

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/tender-unit-vault-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(key1, sizeof(key1), "%s.k1", dir);
	snprintf(key2, sizeof(key2), "%s.k2", dir);
	char err[256];
	cr_assert_eq(vault_keygen(key1, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(vault_keygen(key2, err, sizeof(err)), 0, "%s", err);
	struct store_config cfg = {.data_dir = dir};
	cr_assert_eq(store_open(&s, &cfg, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(vault_open(&v, key1, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(store_write(s, NULL, attach_fn, v), 0);
}

static void teardown(void)
{
	vault_free(v);
	store_close(s);
	char cmd[1024];
	snprintf(cmd, sizeof(cmd), "rm -rf %s %s %s", dir, key1, key2);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(vault, .init = setup, .fini = teardown);

static const int64_t NOW = 1795593221; /* 2026-11 */

Test(vault, validation_like_stripe)
{
	struct vault_card_info i;
	cr_assert_eq(vault_card_validate("4242424242424242", "12", "2034", "123", NOW, &i), 0);
	cr_assert_str_eq(i.brand, "visa");
	cr_assert_str_eq(i.last4, "4242");
	cr_assert_eq(vault_card_validate("4242 4242-4242 4242", "1", "34", NULL, NOW, &i), 0);
	cr_assert_eq(i.exp_year, 2034);
	cr_assert_eq(vault_card_validate("4242424242424241", "12", "2034", NULL, NOW, &i),
	             ERR_CARD_INCORRECT_NUMBER);
	cr_assert_eq(vault_card_validate("42424242x4242424", "12", "2034", NULL, NOW, &i),
	             ERR_CARD_INVALID_NUMBER);
	cr_assert_eq(vault_card_validate("", "12", "2034", NULL, NOW, &i), ERR_CARD_INVALID_NUMBER);
	cr_assert_eq(vault_card_validate("0000000000000000000000000000000000000000", "12", "2034",
	                                 NULL, NOW, &i),
	             ERR_CARD_INVALID_NUMBER);
	cr_assert_eq(vault_card_validate("\xef\xbc\x94\xef\xbc\x92", "12", "2034", NULL, NOW, &i),
	             ERR_CARD_INVALID_NUMBER);
	cr_assert_eq(vault_card_validate("4242424242424242", "13", "2034", NULL, NOW, &i),
	             ERR_CARD_INVALID_EXPIRY_MONTH);
	cr_assert_eq(vault_card_validate("4242424242424242", "0", "2034", NULL, NOW, &i),
	             ERR_CARD_INVALID_EXPIRY_MONTH);
	cr_assert_eq(vault_card_validate("4242424242424242", "12", "2001", NULL, NOW, &i),
	             ERR_CARD_INVALID_EXPIRY_YEAR);
	cr_assert_eq(vault_card_validate("4242424242424242", "10", "2026", NULL, NOW, &i),
	             ERR_CARD_INVALID_EXPIRY_MONTH);
	cr_assert_eq(vault_card_validate("4242424242424242", "12", "2099", NULL, NOW, &i),
	             ERR_CARD_INVALID_EXPIRY_YEAR);
	cr_assert_eq(vault_card_validate("4242424242424242", "12", "2034", "12", NOW, &i),
	             ERR_CARD_INVALID_CVC);
	cr_assert_eq(vault_card_validate("378282246310005", "12", "2034", "123", NOW, &i),
	             ERR_CARD_INVALID_CVC);
	cr_assert_eq(vault_card_validate("378282246310005", "12", "2034", "1234", NOW, &i), 0);
	cr_assert_str_eq(i.brand, "amex");
}

Test(vault, brands)
{
	struct {
		const char *n, *b;
	} t[] = {{"5555555555554444", "mastercard"}, {"2223003122003222", "mastercard"},
	         {"6011111111111117", "discover"},   {"3056930009020004", "diners"},
	         {"36227206271667", "diners"},       {"3566002020360505", "jcb"},
	         {"6200000000000005", "unionpay"}};
	for (size_t k = 0; k < sizeof(t) / sizeof(t[0]); k++) {
		struct vault_card_info i;
		cr_assert_eq(vault_card_validate(t[k].n, "12", "2034", NULL, NOW, &i), 0, "%s", t[k].b);
		cr_assert_str_eq(i.brand, t[k].b);
	}
}

struct io {
	const char *merchant, *card;
	char fp[24];
	int rc;
	char seen[24];
};

static int seal_fn(struct db *db, void *p)
{
	struct io *x = p;
	struct vault_card_info i;
	vault_card_validate("4000000000000002", "12", "2034", "123", NOW, &i);
	x->rc = vault_card_store(v, db, x->merchant, x->card, "4000000000000002", &i, NOW, x->fp);
	return x->rc;
}

static int see(const struct vault_secret *sec, void *p)
{
	struct io *x = p;
	snprintf(x->seen, sizeof(x->seen), "%s", vault_secret_number(sec));
	return vault_secret_behavior(sec) == ACQ_DECLINE_GENERIC ? 0 : -1;
}

static int reveal_fn(struct db *db, void *p)
{
	struct io *x = p;
	struct vault_access a;
	x->rc = vault_card_reveal(v, db, x->merchant, x->card, "test", see, x, &a);
	return 0;
}

Test(vault, seal_reveal_roundtrip_and_fingerprints)
{
	struct io a = {.merchant = "acct_A", .card = "card_1"}, b = {.merchant = "acct_A", .card = "card_2"}, c = {.merchant = "acct_B", .card = "card_3"};
	cr_assert_eq(store_write(s, NULL, seal_fn, &a), 0);
	cr_assert_eq(store_write(s, NULL, seal_fn, &b), 0);
	cr_assert_eq(store_write(s, NULL, seal_fn, &c), 0);
	cr_assert_str_eq(a.fp, b.fp, "same card, same merchant: same fingerprint");
	cr_assert_str_neq(a.fp, c.fp, "other merchant: other fingerprint");
	store_read(s, NULL, reveal_fn, &a);
	cr_assert_eq(a.rc, 0);
	cr_assert_str_eq(a.seen, "4000000000000002");
}

static int move_fn(struct db *db, void *p)
{
	(void)p;
	/* copy card_1's ciphertext onto card_2's row, as someone with write access could */
	return db_exec(db, "UPDATE vault_cards SET sealed = (SELECT sealed FROM vault_cards WHERE "
	                   "id = 'card_1') WHERE id = 'card_2'");
}

static int tamper_fn(struct db *db, void *p)
{
	(void)p;
	return db_exec(db, "UPDATE vault_cards SET sealed = substr(sealed, 1, 14) || X'00' || "
	                   "substr(sealed, 16) WHERE id = 'card_1'");
}

Test(vault, moved_or_tampered_ciphertext_does_not_decrypt)
{
	struct io a = {.merchant = "acct_A", .card = "card_1"}, b = {.merchant = "acct_A", .card = "card_2"};
	store_write(s, NULL, seal_fn, &a);
	store_write(s, NULL, seal_fn, &b);
	cr_assert_eq(store_write(s, NULL, move_fn, NULL), 0);
	store_read(s, NULL, reveal_fn, &b);
	cr_assert_eq(b.rc, VAULT_ERR_TAMPERED);
	cr_assert_eq(b.seen[0], '\0');
	cr_assert_eq(store_write(s, NULL, tamper_fn, NULL), 0);
	store_read(s, NULL, reveal_fn, &a);
	cr_assert_eq(a.rc, VAULT_ERR_TAMPERED);
}

Test(vault, wrong_master_key_is_refused_rotation_keeps_cards)
{
	struct io a = {.merchant = "acct_A", .card = "card_1"};
	store_write(s, NULL, seal_fn, &a);
	char err[256] = "";
	struct vault *other;
	cr_assert_eq(vault_open(&other, key2, err, sizeof(err)), 0);
	cr_assert_neq(store_write(s, NULL, attach_fn, other), 0);
	vault_free(other);
	cr_assert_eq(vault_rotate(s, key1, key2, err, sizeof(err)), 0, "%s", err);
	vault_free(v);
	cr_assert_eq(vault_open(&v, key2, err, sizeof(err)), 0);
	cr_assert_eq(store_write(s, NULL, attach_fn, v), 0, "the new key opens the store");
	store_read(s, NULL, reveal_fn, &a);
	cr_assert_eq(a.rc, 0);
	cr_assert_str_eq(a.seen, "4000000000000002");
	struct vault *old;
	cr_assert_eq(vault_open(&old, key1, err, sizeof(err)), 0);
	cr_assert_neq(store_write(s, NULL, attach_fn, old), 0, "the old key no longer does");
	vault_free(old);
}

Test(vault, key_file_checks)
{
	char err[256];
	struct vault *x;
	cr_assert_neq(vault_keygen(key1, err, sizeof(err)), 0, "never overwrites a key");
	cr_assert_neq(vault_open(&x, "/nonexistent/key", err, sizeof(err)), 0);
	chmod(key1, 0640);
	cr_assert_neq(vault_open(&x, key1, err, sizeof(err)), 0);
	cr_assert(strstr(err, "group or others") != NULL, "%s", err);
	chmod(key1, 0600);
	FILE *f = fopen(key1, "w");
	fputs("not a key\n", f);
	fclose(f);
	cr_assert_neq(vault_open(&x, key1, err, sizeof(err)), 0);
}
