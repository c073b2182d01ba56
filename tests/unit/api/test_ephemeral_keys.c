/*
 * Ephemeral keys (api/ephemeral_keys.c): a secret carries its merchant and nothing that can be
 * forged into another's, expiry is exclusive at `expires`, and authentication finds a key only
 * by the SHA-256 of its secret, only while it is live and its customer exists.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/ephemeral_keys.h"
#include "merchant/merchant.h"
#include "store/db.h"
#include "store/store.h"

static const char MERCHANT[] = "acct_0VczM66b00000kfygrbD708w";

Test(ephkey_secret, round_trip_carries_the_merchant)
{
	char s[EPHKEY_SECRET_MAX], m[ID_MAX];
	bool session = true;
	cr_assert_eq(ephkey_secret_new(MERCHANT, false, false, s, sizeof(s)), 0);
	cr_assert_eq(strncmp(s, "ek_test_", 8), 0, "%s", s);
	cr_assert(ephkey_secret_shaped(s));
	cr_assert_eq(ephkey_secret_parse(s, m, &session), 0);
	cr_assert_str_eq(m, MERCHANT);
	cr_assert_not(session);
	/* base64url only: no '+', '/' or padding */
	cr_assert_eq(
	    strspn(s + 8, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
	    strlen(s + 8));

	cr_assert_eq(ephkey_secret_new(MERCHANT, true, false, s, sizeof(s)), 0);
	cr_assert_eq(strncmp(s, "cuss_secret_", 12), 0, "%s", s);
	cr_assert_eq(ephkey_secret_parse(s, m, &session), 0);
	cr_assert(session);
	cr_assert_str_eq(m, MERCHANT);

	cr_assert_eq(ephkey_secret_new(MERCHANT, false, true, s, sizeof(s)), 0);
	cr_assert_eq(strncmp(s, "ek_live_", 8), 0, "%s", s);
}

Test(ephkey_secret, each_secret_is_new)
{
	char a[EPHKEY_SECRET_MAX], b[EPHKEY_SECRET_MAX];
	cr_assert_eq(ephkey_secret_new(MERCHANT, false, false, a, sizeof(a)), 0);
	cr_assert_eq(ephkey_secret_new(MERCHANT, false, false, b, sizeof(b)), 0);
	cr_assert_str_neq(a, b);
}

Test(ephkey_secret, refuses_what_it_could_not_have_made)
{
	char m[ID_MAX], s[EPHKEY_SECRET_MAX];
	bool session;
	cr_assert_eq(ephkey_secret_parse("sk_test_abcdefghijkl", m, &session), -1);
	cr_assert_eq(ephkey_secret_parse("ek_test_", m, &session), -1);
	cr_assert_eq(ephkey_secret_parse("ek_test_garbage!!", m, &session), -1);
	/* base64 of "acct_x" without the comma and random part */
	cr_assert_eq(ephkey_secret_parse("ek_test_YWNjdF94YWNjdF94", m, &session), -1);
	/* a merchant id with a short random part: "acct_x,abc" */
	cr_assert_eq(ephkey_secret_parse("ek_test_YWNjdF94LGFiYw", m, &session), -1);
	cr_assert_eq(ephkey_secret_new(MERCHANT, false, false, s, sizeof(s)), 0);
	s[strlen(s) - 3] = '\0'; /* truncated */
	cr_assert_eq(ephkey_secret_parse(s, m, &session), -1);
	/* "acct_x!,<32 random>": not an account id's shape */
	cr_assert_eq(
	    ephkey_secret_parse("ek_test_YWNjdF94ISxBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQQ", m,
				&session),
	    -1);
	/* "acct_x,<32 random>" is one */
	cr_assert_eq(
	    ephkey_secret_parse("ek_test_YWNjdF94LEFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB", m,
				&session),
	    0);
	cr_assert_str_eq(m, "acct_x");
	cr_assert_not(ephkey_secret_shaped("sk_test_abc"));
	cr_assert_not(ephkey_secret_shaped("pk_test_abc"));
	/* a merchant id that does not fit, or with the separator in it */
	char big[ID_MAX + 8];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	cr_assert_eq(ephkey_secret_new(big, false, false, s, sizeof(s)), -1);
	cr_assert_eq(ephkey_secret_new("acct_a,b", false, false, s, sizeof(s)), -1);
	cr_assert_eq(ephkey_secret_new(MERCHANT, false, false, s, 16), -1);
}

Test(ephkey_expiry, usable_until_expires_exclusive)
{
	cr_assert_eq(ephkey_expires_at(1000, EPHKEY_TTL_S), 4600);
	cr_assert_eq(ephkey_expires_at(1000, CUSTOMER_SESSION_TTL_S), 2800);
	cr_assert_eq(ephkey_expires_at(INT64_MAX - 10, EPHKEY_TTL_S), INT64_MAX);
	cr_assert(ephkey_usable(4600, 1000));
	cr_assert(ephkey_usable(4600, 4599));
	cr_assert_not(ephkey_usable(4600, 4600));
	cr_assert_not(ephkey_usable(4600, 9999));
	/* a deleted key: expires moved to the moment of deletion */
	cr_assert_not(ephkey_usable(2000, 2000));
}

/* ---- authentication against a store ---- */

static char dir[256];
static struct store *st_;

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/tender-unit-ephkey-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	char err[256];
	struct store_config cfg = {.data_dir = dir};
	cr_assert_eq(store_open(&st_, &cfg, err, sizeof(err)), 0, "%s", err);
}

static void teardown(void)
{
	store_close(st_);
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

struct seed {
	const char *secret_hash, *kind;
	int64_t expires;
	int deleted;
};

static int seed_fn(struct db *db, void *p)
{
	const struct seed *s = p;
	struct db_stmt *st = db_prepare(db, "INSERT INTO merchants (id, name, settlement_currency,"
					    " created) VALUES ($1, 'M', 'usd', 1)"
					    " ON CONFLICT (id) DO NOTHING");
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, MERCHANT, -1);
	if (db_step_done(st) != DB_OK)
		return DB_ERR;
	st = db_prepare(db,
			"INSERT INTO customers (merchant_id, id, created, invoice_prefix, deleted)"
			" VALUES ($1, 'cus_a', 1, 'ABCDEF', $2)"
			" ON CONFLICT (merchant_id, id) DO UPDATE SET deleted = $2");
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, MERCHANT, -1);
	db_bind_int64(st, 2, s->deleted);
	if (db_step_done(st) != DB_OK)
		return DB_ERR;
	st = db_prepare(db, "INSERT INTO ephemeral_keys (merchant_id, id, kind, customer,"
			    " secret_hash, created, expires) VALUES ($1, 'ephkey_a', $2, 'cus_a',"
			    " $3, 1000, $4) ON CONFLICT (merchant_id, id) DO UPDATE SET"
			    " expires = $4");
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, MERCHANT, -1);
	db_bind_text(st, 2, s->kind, -1);
	db_bind_text(st, 3, s->secret_hash, -1);
	db_bind_int64(st, 4, s->expires);
	return db_step_done(st);
}

TestSuite(ephkey_auth, .init = setup, .fini = teardown);

Test(ephkey_auth, live_key_of_an_existing_customer_only)
{
	char secret[EPHKEY_SECRET_MAX], other[EPHKEY_SECRET_MAX], hash[65];
	cr_assert_eq(ephkey_secret_new(MERCHANT, false, false, secret, sizeof(secret)), 0);
	cr_assert_eq(ephkey_secret_new(MERCHANT, false, false, other, sizeof(other)), 0);
	merchant_key_hash(secret, hash);
	cr_assert_str_neq(hash, secret);
	struct seed s = {.secret_hash = hash, .kind = "ephemeral_key", .expires = 4600};
	cr_assert_eq(store_write(st_, MERCHANT, seed_fn, &s), 0);

	struct ephkey_auth a;
	memset(&a, 0, sizeof(a));
	/* a well-formed secret of a merchant that does not exist */
	char nobody[EPHKEY_SECRET_MAX];
	cr_assert_eq(ephkey_secret_new("acct_nobody", false, false, nobody, sizeof(nobody)), 0);
	cr_assert_eq(ephkey_authenticate(st_, nobody, 2000, &a), 1);
	cr_assert_eq(ephkey_authenticate(st_, secret, 4599, &a), 0);
	cr_assert_str_eq(a.merchant_id, MERCHANT);
	cr_assert_str_eq(a.customer, "cus_a");
	cr_assert_not(a.livemode);
	/* at expires and after: refused */
	cr_assert_eq(ephkey_authenticate(st_, secret, 4600, &a), 1);
	/* another secret of the same merchant, and the stored hash presented as a key */
	cr_assert_eq(ephkey_authenticate(st_, other, 2000, &a), 1);
	cr_assert_eq(ephkey_authenticate(st_, hash, 2000, &a), 1);
	/* the same random part presented as a customer session: kinds do not mix */
	char as_session[EPHKEY_SECRET_MAX + 16];
	snprintf(as_session, sizeof(as_session), "cuss_secret_%s", secret + 8);
	cr_assert_eq(ephkey_authenticate(st_, as_session, 2000, &a), 1);

	/* deleted (expires moved back) */
	s.expires = 1500;
	cr_assert_eq(store_write(st_, MERCHANT, seed_fn, &s), 0);
	cr_assert_eq(ephkey_authenticate(st_, secret, 2000, &a), 1);
	/* live again, but its customer deleted */
	s.expires = 4600;
	s.deleted = 1;
	cr_assert_eq(store_write(st_, MERCHANT, seed_fn, &s), 0);
	cr_assert_eq(ephkey_authenticate(st_, secret, 2000, &a), 1);
	s.deleted = 0;
	cr_assert_eq(store_write(st_, MERCHANT, seed_fn, &s), 0);
	cr_assert_eq(ephkey_authenticate(st_, secret, 2000, &a), 0);
}
