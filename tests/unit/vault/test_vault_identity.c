/*
 * Stripe Identity's personal data in the vault (vault_identity_*) against a real store (SQLite
 * in a temp dir): sealed and opened back, never in clear, bound to its merchant and report,
 * tampering refused, erased for a redaction, kept across a master key rotation.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
	snprintf(dir, sizeof(dir), "/tmp/tender-unit-vaultid-XXXXXX");
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

TestSuite(vault_identity, .init = setup, .fini = teardown);

static const char DATA[] = "{\"id_number\":{\"dob\":{\"day\":1,\"month\":1,\"year\":1901},"
			   "\"id_number\":\"987654320\"}}";

struct io {
	struct vault *v;
	const char *merchant, *id;
	int rc;
	char out[VAULT_IDENTITY_MAX + 1];
	int64_t n;
};

static int seal_fn(struct db *db, void *p)
{
	struct io *x = p;
	x->rc = vault_identity_store(v, db, x->merchant, x->id, DATA, 1795593221);
	return x->rc == DB_OK ? 0 : -1;
}

static int open_fn(struct db *db, void *p)
{
	struct io *x = p;
	x->rc = vault_identity_open(x->v ? x->v : v, db, x->merchant, x->id, x->out);
	return 0;
}

static int erase_fn(struct db *db, void *p)
{
	struct io *x = p;
	x->rc = vault_identity_erase(db, x->merchant, x->id);
	return x->rc == DB_OK ? 0 : -1;
}

static int exec_fn(struct db *db, void *p)
{
	return db_exec(db, p);
}

static int count_fn(struct db *db, void *p)
{
	struct io *x = p;
	struct db_stmt *st = db_prepare(db, x->id);
	if (!st)
		return -1;
	if (db_step(st) == DB_ROW)
		x->n = db_col_int64(st, 0);
	db_reset(st);
	return 0;
}

Test(vault_identity, sealed_and_opened_back_never_in_clear)
{
	struct io a = {.merchant = "acct_A", .id = "vr_1"};
	cr_assert_eq(store_write(s, NULL, seal_fn, &a), 0);
	cr_assert_eq(store_read(s, NULL, open_fn, &a), 0);
	cr_assert_eq(a.rc, DB_OK);
	cr_assert_str_eq(a.out, DATA);
	struct io q = {
	    .id = "SELECT COUNT(*) FROM vault_identity WHERE instr(sealed, "
		  "CAST('987654320' AS BLOB)) > 0 OR instr(sealed, CAST('1901' AS BLOB)) > 0"};
	cr_assert_eq(store_read(s, NULL, count_fn, &q), 0);
	cr_assert_eq(q.n, 0, "nothing of it in clear");
	/* nothing for another report or another merchant */
	struct io b = {.merchant = "acct_A", .id = "vr_2"},
		  c = {.merchant = "acct_B", .id = "vr_1"};
	store_read(s, NULL, open_fn, &b);
	cr_assert_eq(b.rc, DB_NOTFOUND);
	store_read(s, NULL, open_fn, &c);
	cr_assert_eq(c.rc, DB_NOTFOUND);
	cr_assert_eq(c.out[0], '\0');
}

Test(vault_identity, bound_to_its_row_and_tampering_refused)
{
	struct io a = {.merchant = "acct_A", .id = "vr_1"},
		  b = {.merchant = "acct_A", .id = "vr_2"};
	store_write(s, NULL, seal_fn, &a);
	store_write(s, NULL, seal_fn, &b);
	/* vr_1's ciphertext copied onto vr_2 does not open as vr_2 */
	cr_assert_eq(
	    store_write(s, NULL, exec_fn,
			"UPDATE vault_identity SET sealed = (SELECT sealed FROM vault_identity"
			" WHERE id = 'vr_1') WHERE id = 'vr_2'"),
	    0);
	store_read(s, NULL, open_fn, &b);
	cr_assert_eq(b.rc, VAULT_ERR_TAMPERED);
	cr_assert_eq(b.out[0], '\0');
	/* a flipped byte */
	cr_assert_eq(store_write(s, NULL, exec_fn,
				 "UPDATE vault_identity SET sealed = CAST(substr(sealed, 1, 20) ||"
				 " 'X' || substr(sealed, 22) AS BLOB) WHERE id = 'vr_1'"),
		     0);
	store_read(s, NULL, open_fn, &a);
	cr_assert_eq(a.rc, VAULT_ERR_TAMPERED);
	cr_assert_eq(a.out[0], '\0');
}

Test(vault_identity, erased_for_a_redaction)
{
	struct io a = {.merchant = "acct_A", .id = "vr_1"};
	store_write(s, NULL, seal_fn, &a);
	cr_assert_eq(store_write(s, NULL, erase_fn, &a), 0);
	store_read(s, NULL, open_fn, &a);
	cr_assert_eq(a.rc, DB_NOTFOUND);
	cr_assert_eq(store_write(s, NULL, erase_fn, &a), 0, "erasing again is no error");
}

Test(vault_identity, too_long_is_refused)
{
	char big[VAULT_IDENTITY_MAX + 2];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	cr_assert_eq(vault_identity_store(v, NULL, "acct_A", "vr_1", big, 1), VAULT_ERR_NOKEY);
}

Test(vault_identity, kept_across_a_rotation)
{
	struct io a = {.merchant = "acct_A", .id = "vr_1"};
	store_write(s, NULL, seal_fn, &a);
	char err[256];
	cr_assert_eq(vault_rotate(s, key1, key2, err, sizeof(err)), 0, "%s", err);
	struct vault *nv;
	cr_assert_eq(vault_open(&nv, key2, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(store_write(s, NULL, attach_fn, nv), 0);
	struct io b = {.v = nv, .merchant = "acct_A", .id = "vr_1"};
	store_read(s, NULL, open_fn, &b);
	cr_assert_eq(b.rc, DB_OK);
	cr_assert_str_eq(b.out, DATA);
	vault_free(nv);
}
