/*
 * The vault: keys, sealing, reveal (vault.h describes the design; this note covers the choices
 * that are not visible from the header).
 *
 * Key hierarchy. The 32-byte master key (the key file) is never used directly: HKDF-SHA256
 * derives a KEK (wraps data keys) and a check key (seals a fixed string, the store's check
 * value, so a wrong key file is refused at start instead of failing card by card). Data keys
 * are random, wrapped under the KEK with their own id as AAD, one active per shard. Rotation
 * re-wraps every row of vault_data_keys under the new KEK and replaces the check value in one
 * transaction per shard; vault_cards is not touched.
 *
 * Fingerprints. Stripe's fingerprint is the stable identity of a card number within an account
 * (merchants dedupe on it; Radar-style rules block by it), so it must not change when the
 * master key rotates. Its key therefore does not derive from the current master key: a
 * "fingerprint root" (derived from the master key the store was first set up with) is stored
 * wrapped like a data key (row id fpk_…, state 'retired' so it is never chosen to seal),
 * rotation re-wraps it with everything else, and the per-merchant key is
 * HKDF(root, "tender-fingerprint" || merchant_id). Every shard holds the same root (attach
 * copies it to a shard that has none), so a merchant moved between shards keeps its
 * fingerprints.
 *
 * Memory. struct vault_keys (master, derived keys, unwrapped data keys, fingerprint root, a
 * scratch slot for rotation) is one mlock()ed, MADV_DONTDUMP mapping wiped with OPENSSL_cleanse
 * on free. A revealed number lives in a stack struct for the duration of the callback and is
 * wiped after it; the process is non-dumpable (PR_SET_DUMPABLE 0) from the first vault_open.
 *
 * Concurrency. The data-key cache is appended to (never reordered) under v->mu; sealing and
 * opening hold the lock while they use a cached key. Derived keys are immutable after open.
 */
#include "vault/vault.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/digest.h"
#include "core/log.h"
#include "core/random.h"
#include "core/str.h"
#include "store/store.h"
#include "vault/testcards.h"
#include "verify/verify.h"

#define KEY_LEN 32
#define NONCE_LEN 12
#define TAG_LEN 16
#define WRAPPED_LEN (NONCE_LEN + KEY_LEN + TAG_LEN)
#define DATA_KEYS_MAX 256      /* unwrapped keys cached per process (all shards) */
#define ROTATE_KEYS_MAX 100000 /* rows of vault_data_keys one rotation will re-wrap per shard */
#define PAGE_ROWS 64	       /* rows read per statement when walking a table */
#define KEYFILE_MAX 256
#define PAN_MIN 12
#define PAN_MAX 19
#define PAN_INPUT_MAX 64 /* characters of card[number], separators included */
#define FPK_PREFIX "fpk_"
static const char KEYFILE_MAGIC[] = "tender-master-key v1 ";
static const char CHECK_PLAINTEXT[] = "tender vault check value v1";
#define CHECK_SEALED_LEN (NONCE_LEN + sizeof(CHECK_PLAINTEXT) - 1 + TAG_LEN)
_Static_assert(VAULT_SEALED_MAX == NONCE_LEN + PAN_MAX + TAG_LEN, "a sealed number fits");

struct data_key {
	char id[ID_MAX];
	unsigned char key[KEY_LEN];
};

/* Everything secret lives in one mlock()ed, MADV_DONTDUMP mapping. */
/* A merchant's fingerprint key (HKDF of the fingerprint root), kept so that fingerprinting a card
 * is one HMAC: the derivation costs twice the HMAC, on every tokenization and payment. */
#define FP_KEYS_MAX 64
struct fp_key {
	char merchant[ID_MAX];
	unsigned char key[KEY_LEN];
};

struct vault_keys {
	unsigned char master[KEY_LEN];
	unsigned char kek[KEY_LEN];
	unsigned char check[KEY_LEN];
	unsigned char fp_root[KEY_LEN];
	unsigned char scratch[KEY_LEN]; /* rotation: one unwrapped key at a time */
	bool has_fp_root;
	struct data_key dks[DATA_KEYS_MAX];
	size_t ndks;
	struct fp_key fpk[FP_KEYS_MAX];
	char active[ID_MAX]; /* the active data key of the shard attached last (status only) */
};

/* A test alias's fingerprint under one merchant. Not secret (every PaymentMethod shows its
 * card's fingerprint) and fixed (the number is Stripe's published one, the merchant's key never
 * changes once derived), so kept in plain memory: a confirm with pm_card_visa then derives no
 * HMAC (~3.7 us, ~20 K instructions in OpenSSL's one-shot HMAC). Direct-mapped; a miss computes. */
#define ALIAS_FP_MAX 256
struct alias_fp {
	char merchant[ID_MAX];
	const struct testcard *tc;
	char fp[24];
};

struct vault {
	struct vault_keys *k;
	size_t map_len;
	char key_id[17];
	pthread_mutex_t mu;
	struct alias_fp alias_fps[ALIAS_FP_MAX]; /* under mu */
	/* Each shard's active data key id as vault_attach found it (under mu; "" when unknown):
	 * what vault_card_preseal seals with. Ids are not secret. */
	char shard_active[VAULT_SHARDS_MAX][ID_MAX];
};

struct vault_secret {
	char number[PAN_MAX + 1];
	int exp_month, exp_year;
	bool cvc_provided;
	const struct testcard *tc;
};

/* ---- primitives (OpenSSL) ---- */

/* Fetching an algorithm walks OpenSSL's provider tables (tens of microseconds, on the writer's
 * path when a card is stored): fetch HKDF once and reuse it. */
static EVP_KDF *hkdf_alg;
static pthread_once_t hkdf_once = PTHREAD_ONCE_INIT;

static void hkdf_fetch(void)
{
	hkdf_alg = EVP_KDF_fetch(NULL, "HKDF", NULL);
}

static int hkdf(const unsigned char *key, const char *info, size_t info_len, unsigned char *out)
{
	pthread_once(&hkdf_once, hkdf_fetch);
	if (!hkdf_alg)
		return -1;
	EVP_KDF_CTX *ctx = EVP_KDF_CTX_new(hkdf_alg);
	if (!ctx)
		return -1;
	OSSL_PARAM params[] = {
	    OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0),
	    OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)key, KEY_LEN),
	    OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)"tender-vault", 12),
	    OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, info_len),
	    OSSL_PARAM_construct_end(),
	};
	int ok = EVP_KDF_derive(ctx, out, KEY_LEN, params) == 1;
	EVP_KDF_CTX_free(ctx);
	return ok ? 0 : -1;
}

/* AES-256-GCM, fetched once for the same reason (EVP_aes_256_gcm() is looked up again on every
 * EVP_EncryptInit: 1.1 µs against 0.74 µs per seal here). */
static EVP_CIPHER *gcm_alg;
static pthread_once_t gcm_once = PTHREAD_ONCE_INIT;

static void gcm_fetch(void)
{
	gcm_alg = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
}

static const EVP_CIPHER *gcm(void)
{
	pthread_once(&gcm_once, gcm_fetch);
	return gcm_alg;
}

/* HMAC-SHA256 through a MAC fetched once: the one-shot HMAC() fetches HMAC and SHA-256 on every
 * call (3.2 us against 2.5 us here). Each call duplicates a template context that has its
 * digest set and no key: setting the digest by name looks SHA-256 up again (~3,000 of a
 * fingerprint's ~17,000 instructions), and a template with a key in it would keep key material
 * in the heap, outside the vault's locked, undumpable pages. The copy is freed, and so wiped,
 * after each use. */
static EVP_MAC *hmac_alg;
static EVP_MAC_CTX *hmac_template;
static pthread_once_t hmac_once = PTHREAD_ONCE_INIT;

static void hmac_fetch(void)
{
	hmac_alg = EVP_MAC_fetch(NULL, "HMAC", NULL);
	hmac_template = hmac_alg ? EVP_MAC_CTX_new(hmac_alg) : NULL;
	OSSL_PARAM params[] = {
	    OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
	    OSSL_PARAM_construct_end(),
	};
	if (hmac_template && EVP_MAC_CTX_set_params(hmac_template, params) != 1) {
		EVP_MAC_CTX_free(hmac_template);
		hmac_template = NULL;
	}
}

static int hmac_sha256(const unsigned char *key, const unsigned char *data, size_t len,
		       unsigned char out[32])
{
	pthread_once(&hmac_once, hmac_fetch);
	EVP_MAC_CTX *c = hmac_template ? EVP_MAC_CTX_dup(hmac_template) : NULL;
	size_t ml = 0;
	int ok = c && EVP_MAC_init(c, key, KEY_LEN, NULL) == 1 &&
		 EVP_MAC_update(c, data, len) == 1 && EVP_MAC_final(c, out, &ml, 32) == 1 &&
		 ml == 32;
	EVP_MAC_CTX_free(c);
	return ok ? 0 : -1;
}

/* AES-256-GCM with a fresh random 96-bit nonce (from the CSPRNG's per-thread pool: a nonce need
 * not be secret, only never repeated). out = nonce || ciphertext || tag. */
static int seal(const unsigned char *key, const unsigned char *aad, size_t aad_len,
		const unsigned char *pt, size_t pt_len, unsigned char *out)
{
	unsigned char *nonce = out, *ct = out + NONCE_LEN, *tag = out + NONCE_LEN + pt_len;
	random_bytes(nonce, NONCE_LEN);
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int len = 0, ok = c && gcm() && EVP_EncryptInit_ex(c, gcm(), NULL, key, nonce) == 1 &&
			  EVP_EncryptUpdate(c, NULL, &len, aad, (int)aad_len) == 1 &&
			  EVP_EncryptUpdate(c, ct, &len, pt, (int)pt_len) == 1 &&
			  EVP_EncryptFinal_ex(c, ct + len, &len) == 1 &&
			  EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, TAG_LEN, tag) == 1;
	EVP_CIPHER_CTX_free(c);
	return ok ? 0 : -1;
}

/* Opens nonce || ciphertext || tag. Nothing is left in pt unless the tag verified. */
static int open_sealed(const unsigned char *key, const unsigned char *aad, size_t aad_len,
		       const unsigned char *in, size_t in_len, unsigned char *pt, size_t pt_max,
		       size_t *ret_len)
{
	if (in_len < NONCE_LEN + TAG_LEN || in_len - NONCE_LEN - TAG_LEN > pt_max)
		return -1;
	size_t ct_len = in_len - NONCE_LEN - TAG_LEN;
	unsigned char tag[TAG_LEN];
	memcpy(tag, in + NONCE_LEN + ct_len, TAG_LEN);
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int len = 0, len2 = 0;
	int ok = c && gcm() && EVP_DecryptInit_ex(c, gcm(), NULL, key, in) == 1 &&
		 EVP_DecryptUpdate(c, NULL, &len, aad, (int)aad_len) == 1 &&
		 EVP_DecryptUpdate(c, pt, &len, in + NONCE_LEN, (int)ct_len) == 1 &&
		 EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, TAG_LEN, tag) == 1 &&
		 EVP_DecryptFinal_ex(c, pt + len, &len2) == 1;
	EVP_CIPHER_CTX_free(c);
	if (!ok) {
		OPENSSL_cleanse(pt, pt_max);
		return -1;
	}
	*ret_len = (size_t)(len + len2);
	return 0;
}

static void err_clear(char *err, size_t errlen)
{
	if (errlen)
		err[0] = '\0';
}

/* ---- key file ---- */

/*
 * Format (one line, 86 bytes + newline):  tender-master-key v1 <64 lowercase hex digits>
 * Text, so an operator can tell the file apart from other secrets, and versioned, so a later
 * format can be told apart from this one.
 */
int vault_keygen(const char *path, char *err, size_t errlen)
{
	unsigned char key[KEY_LEN];
	char line[sizeof(KEYFILE_MAGIC) + 2 * KEY_LEN + 2];
	err_clear(err, errlen);
	if (RAND_bytes(key, KEY_LEN) != 1) {
		snprintf(err, errlen, "no randomness available");
		return -1;
	}
	memcpy(line, KEYFILE_MAGIC, sizeof(KEYFILE_MAGIC) - 1);
	digest_hex(key, KEY_LEN, line + sizeof(KEYFILE_MAGIC) - 1);
	OPENSSL_cleanse(key, sizeof(key));
	size_t n = strlen(line);
	line[n++] = '\n';
	/* O_EXCL also refuses a dangling symlink: the key lands exactly where asked, or nowhere */
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY, 0600);
	if (fd < 0) {
		int e = errno;
		snprintf(err, errlen, "cannot create %s: %s", path,
			 e == EEXIST ? "it exists already (refusing to overwrite a key)"
				     : strerror(e));
		OPENSSL_cleanse(line, sizeof(line));
		return -1;
	}
	ssize_t w = write(fd, line, n);
	int ok = w == (ssize_t)n && fsync(fd) == 0;
	ok = close(fd) == 0 && ok;
	OPENSSL_cleanse(line, sizeof(line));
	if (!ok) {
		snprintf(err, errlen, "cannot write %s", path);
		unlink(path);
		return -1;
	}
	return 0;
}

static int hexval(char ch)
{
	return ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

/* Reads and checks the key file into key (locked memory). The checks are made on the opened
 * file (fstat), not on the path, so the file checked is the file read. */
static int read_key_file(const char *path, unsigned char *key, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		int e = errno;
		if (e == ENOENT)
			snprintf(
			    err, errlen,
			    "master key file %s does not exist (make one with tender keygen FILE)",
			    path);
		else
			snprintf(err, errlen, "master key file %s is not readable: %s", path,
				 strerror(e));
		return -1;
	}
	struct stat sb;
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		snprintf(err, errlen, "master key file %s is not a regular file", path);
		close(fd);
		return -1;
	}
	if (sb.st_mode & 077) {
		snprintf(err, errlen,
			 "master key file %s is accessible by group or others (mode %03o); "
			 "chmod 600 it",
			 path, (unsigned)(sb.st_mode & 0777));
		close(fd);
		return -1;
	}
	char buf[KEYFILE_MAX];
	size_t n = 0;
	while (n < sizeof(buf) - 1) {
		ssize_t r = read(fd, buf + n, sizeof(buf) - 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	size_t m = sizeof(KEYFILE_MAGIC) - 1;
	int rc = n == m + 2 * KEY_LEN && memcmp(buf, KEYFILE_MAGIC, m) == 0 ? 0 : -1;
	for (size_t i = 0; i < KEY_LEN && rc == 0; i++) {
		int hi = hexval(buf[m + 2 * i]), lo = hexval(buf[m + 2 * i + 1]);
		if (hi < 0 || lo < 0)
			rc = -1;
		else
			key[i] = (unsigned char)(hi * 16 + lo);
	}
	OPENSSL_cleanse(buf, sizeof(buf));
	if (rc != 0) {
		OPENSSL_cleanse(key, KEY_LEN);
		snprintf(
		    err, errlen,
		    "master key file %s is not a Tender master key (expected one line "
		    "'tender-master-key v1 <64 hex digits>'; make one with tender keygen FILE)",
		    path);
	}
	return rc;
}

static pthread_once_t nodump_once = PTHREAD_ONCE_INIT;

static void nodump(void)
{
	/* no core dumps and no ptrace attach by other processes of the same user: the key is in
	 * this process's memory from now on */
	prctl(PR_SET_DUMPABLE, 0);
}

int vault_open(struct vault **ret, const char *key_file, char *err, size_t errlen)
{
	err_clear(err, errlen);
	pthread_once(&nodump_once, nodump);
	struct vault *v = calloc(1, sizeof(*v));
	if (!v) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	long page = sysconf(_SC_PAGESIZE);
	if (page <= 0)
		page = 4096;
	v->map_len = (sizeof(struct vault_keys) + (size_t)page - 1) & ~((size_t)page - 1);
	void *mem =
	    mmap(NULL, v->map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED) {
		snprintf(err, errlen, "cannot map key memory");
		free(v);
		return -1;
	}
	v->k = mem;
	/* Without mlock the keys may reach swap; serve on (RLIMIT_MEMLOCK is often small in
	 * containers) but say so once per open. */
	if (mlock(mem, v->map_len) != 0)
		log_msg(LOG_WARN, "vault: cannot mlock key memory (%s)", strerror(errno));
	madvise(mem, v->map_len, MADV_DONTDUMP);
	pthread_mutex_init(&v->mu, NULL);
	if (read_key_file(key_file, v->k->master, err, errlen) != 0) {
		vault_free(v);
		return -1;
	}
	unsigned char id[EVP_MAX_MD_SIZE];
	unsigned int idl = 0;
	if (hkdf(v->k->master, "kek", 3, v->k->kek) != 0 ||
	    hkdf(v->k->master, "check", 5, v->k->check) != 0 ||
	    !HMAC(EVP_sha256(), v->k->master, KEY_LEN, (const unsigned char *)"tender-key-id", 13,
		  id, &idl)) {
		snprintf(err, errlen, "cannot derive keys (OpenSSL)");
		vault_free(v);
		return -1;
	}
	digest_hex(id, 8, v->key_id);
	OPENSSL_cleanse(id, sizeof(id));
	*ret = v;
	return 0;
}

void vault_free(struct vault *v)
{
	if (!v)
		return;
	if (v->k) {
		OPENSSL_cleanse(v->k, v->map_len);
		munlock(v->k, v->map_len);
		munmap(v->k, v->map_len);
	}
	pthread_mutex_destroy(&v->mu);
	free(v);
}

const char *vault_key_id(const struct vault *v)
{
	return v->key_id;
}

/* ---- store binding, data keys ---- */

static const char SQL_META_GET[] = "SELECT master_key_id, check_value FROM vault_meta WHERE id = 1";
static const char SQL_META_PUT[] = "INSERT INTO vault_meta (id, master_key_id, check_value)"
				   " VALUES (1, $1, $2) ON CONFLICT (id) DO NOTHING";
/* On SQLite, read from the index of migration 0020 (tests/unit/store checks the plan) */
static const char SQL_DK_ACTIVE[] =
    "SELECT id FROM vault_data_keys WHERE state = 'active' ORDER BY created DESC, id DESC LIMIT 1";
static const char SQL_DK_GET[] = "SELECT wrapped FROM vault_data_keys WHERE id = $1";
static const char SQL_DK_PUT[] = "INSERT INTO vault_data_keys (id, master_key_id, wrapped, state,"
				 " created) VALUES ($1, $2, $3, $4, $5)";
static const char SQL_FPK_GET[] = "SELECT id, wrapped FROM vault_data_keys"
				  " WHERE substr(id, 1, 4) = 'fpk_' ORDER BY id LIMIT 1";

static int check_value_make(struct vault *v, unsigned char *out)
{
	return seal(v->k->check, (const unsigned char *)"check", 5,
		    (const unsigned char *)CHECK_PLAINTEXT, sizeof(CHECK_PLAINTEXT) - 1, out);
}

static bool check_value_ok(struct vault *v, const unsigned char *cv, size_t n)
{
	unsigned char pt[64];
	size_t len = 0;
	if (open_sealed(v->k->check, (const unsigned char *)"check", 5, cv, n, pt, sizeof(pt),
			&len) != 0)
		return false;
	return len == sizeof(CHECK_PLAINTEXT) - 1 && memcmp(pt, CHECK_PLAINTEXT, len) == 0;
}

/* Wraps key under the KEK of v with id as AAD and inserts the row. */
static int wrapped_put(struct vault *v, struct db *db, const char *id, const unsigned char *key,
		       const char *state)
{
	unsigned char wrapped[WRAPPED_LEN];
	if (seal(v->k->kek, (const unsigned char *)id, strlen(id), key, KEY_LEN, wrapped) != 0)
		return -1;
	struct db_stmt *st = db_prepare(db, SQL_DK_PUT);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, id, -1);
	db_bind_text(st, 2, v->key_id, -1);
	db_bind_blob(st, 3, wrapped, sizeof(wrapped));
	db_bind_text(st, 4, state, -1);
	db_bind_int64(st, 5, clock_now());
	return db_step_done(st);
}

/* The cached unwrapped data key id, loading it from db on first use (db NULL: the cache only).
 * Caller holds v->mu. */
static struct data_key *dk_get(struct vault *v, struct db *db, const char *id)
{
	for (size_t i = 0; i < v->k->ndks; i++)
		if (strcmp(v->k->dks[i].id, id) == 0)
			return &v->k->dks[i];
	if (!db || v->k->ndks >= DATA_KEYS_MAX || strlen(id) >= ID_MAX)
		return NULL;
	struct db_stmt *st = db_prepare(db, SQL_DK_GET);
	if (!st)
		return NULL;
	db_bind_text(st, 1, id, -1);
	struct data_key *dk = NULL;
	if (db_step(st) == DB_ROW) {
		size_t n = 0;
		const unsigned char *w = db_col_blob(st, 0, &n);
		struct data_key *slot = &v->k->dks[v->k->ndks];
		size_t len = 0;
		if (w &&
		    open_sealed(v->k->kek, (const unsigned char *)id, strlen(id), w, n, slot->key,
				KEY_LEN, &len) == 0 &&
		    len == KEY_LEN) {
			str_copy(slot->id, sizeof(slot->id), id);
			v->k->ndks++;
			dk = slot;
		}
	}
	db_reset(st);
	return dk;
}

/* The id of db's shard's active data key (each shard has its own) into out; "" when none. */
static int active_id(struct db *db, char out[ID_MAX])
{
	out[0] = '\0';
	struct db_stmt *st = db_prepare(db, SQL_DK_ACTIVE);
	if (!st)
		return DB_ERR;
	int rc = db_step(st);
	if (rc == DB_ROW) {
		const char *t = db_col_text(st, 0, NULL);
		str_copy(out, ID_MAX, t ? t : "");
	}
	db_reset(st);
	return rc < 0 ? rc : 0;
}

/* The unwrapped active data key of db's shard. Caller holds v->mu. */
static struct data_key *dk_active(struct vault *v, struct db *db)
{
	char id[ID_MAX];
	if (active_id(db, id) != 0 || !id[0])
		return NULL;
	return dk_get(v, db, id);
}

/* Loads the shard's fingerprint root, or stores the one in memory (a new shard, or a store that
 * has none yet). Caller holds v->mu. */
static int fp_root_attach(struct vault *v, struct db *db, char *err, size_t errlen)
{
	struct db_stmt *st = db_prepare(db, SQL_FPK_GET);
	if (!st)
		return -1;
	int step = db_step(st);
	if (step == DB_ROW) {
		const char *id = db_col_text(st, 0, NULL);
		size_t n = 0, len = 0;
		const unsigned char *w = db_col_blob(st, 1, &n);
		int ok = id && w &&
			 open_sealed(v->k->kek, (const unsigned char *)id, strlen(id), w, n,
				     v->k->scratch, KEY_LEN, &len) == 0 &&
			 len == KEY_LEN;
		db_reset(st);
		if (!ok) {
			snprintf(err, errlen,
				 "the fingerprint key does not unwrap: the master key does "
				 "not match this store");
			return -1;
		}
		if (v->k->has_fp_root &&
		    CRYPTO_memcmp(v->k->fp_root, v->k->scratch, KEY_LEN) != 0) {
			OPENSSL_cleanse(v->k->scratch, KEY_LEN);
			snprintf(err, errlen,
				 "the shards hold different fingerprint keys (were they "
				 "set up by different Tender installations?)");
			return -1;
		}
		memcpy(v->k->fp_root, v->k->scratch, KEY_LEN);
		OPENSSL_cleanse(v->k->scratch, KEY_LEN);
		v->k->has_fp_root = true;
		return 0;
	}
	db_reset(st);
	if (step != DB_DONE)
		return -1;
	if (!v->k->has_fp_root) {
		/* Derived, not random: nodes (or a retried transaction) setting up the same store
		 * at once make the same root, so whichever row wins agrees with every node's
		 * memory. It is stored wrapped from now on, so later master keys do not change it.
		 */
		if (hkdf(v->k->master, "tender-fingerprint-root", 23, v->k->fp_root) != 0)
			return -1;
		v->k->has_fp_root = true;
	}
	char id[ID_MAX];
	id_new(id, FPK_PREFIX);
	/* 'retired': never chosen to seal a card (SQL_DK_ACTIVE), re-wrapped by rotation */
	return wrapped_put(v, db, id, v->k->fp_root, "retired") == DB_OK ? 0 : -1;
}

int vault_attach(struct vault *v, struct db *db, char *err, size_t errlen)
{
	err_clear(err, errlen);
	pthread_mutex_lock(&v->mu);
	int rc = -1;
	struct db_stmt *st;
	/* at most twice: read the check value, or create it (a node racing us may create it
	 * first: ON CONFLICT keeps theirs) and read it back; then it must open under our key */
	for (int pass = 0; pass < 2; pass++) {
		st = db_prepare(db, SQL_META_GET);
		if (!st)
			goto out;
		int step = db_step(st);
		if (step == DB_ROW) {
			size_t n = 0;
			const unsigned char *cv = db_col_blob(st, 1, &n);
			bool ok = cv && check_value_ok(v, cv, n);
			db_reset(st);
			if (!ok) {
				snprintf(
				    err, errlen,
				    "master key does not match this store (key file %s does not "
				    "open the store's check value; was the key rotated?)",
				    v->key_id);
				goto out;
			}
			break;
		}
		db_reset(st);
		if (step != DB_DONE || pass > 0)
			goto out;
		unsigned char cv[CHECK_SEALED_LEN];
		if (check_value_make(v, cv) != 0)
			goto out;
		st = db_prepare(db, SQL_META_PUT);
		if (!st)
			goto out;
		db_bind_text(st, 1, v->key_id, -1);
		db_bind_blob(st, 2, cv, sizeof(cv));
		if (db_step_done(st) != DB_OK)
			goto out;
	}
	struct data_key *dk = dk_active(v, db);
	if (!dk) {
		/* none yet (or one that does not unwrap, which the check value makes unlikely):
		 * make a fresh one; a key that does not unwrap is then reported below */
		st = db_prepare(db, SQL_DK_ACTIVE);
		if (!st)
			goto out;
		bool exists = db_step(st) == DB_ROW;
		db_reset(st);
		if (exists) {
			snprintf(err, errlen,
				 "the active data key does not unwrap: the master key does "
				 "not match this store");
			goto out;
		}
		char id[ID_MAX];
		id_new(id, "dk_");
		if (RAND_bytes(v->k->scratch, KEY_LEN) != 1) {
			snprintf(err, errlen, "no randomness available");
			goto out;
		}
		int prc = wrapped_put(v, db, id, v->k->scratch, "active");
		OPENSSL_cleanse(v->k->scratch, KEY_LEN);
		if (prc != DB_OK || !(dk = dk_get(v, db, id)))
			goto out;
	}
	if (fp_root_attach(v, db, err, errlen) != 0)
		goto out;
	str_copy(v->k->active, sizeof(v->k->active), dk->id);
	int shard = store_current_shard();
	if (shard >= 0 && shard < VAULT_SHARDS_MAX)
		str_copy(v->shard_active[shard], ID_MAX, dk->id);
	rc = 0;
out:
	if (rc != 0 && errlen && !err[0])
		snprintf(err, errlen, "cannot set up the vault: %s", db_errmsg(db));
	pthread_mutex_unlock(&v->mu);
	return rc;
}

/* ---- validation ---- */

static bool luhn_ok(const char *d, size_t n)
{
	int sum = 0;
	bool dbl = false;
	for (size_t i = n; i-- > 0;) {
		int x = d[i] - '0';
		if (dbl) {
			x *= 2;
			if (x > 9)
				x -= 9;
		}
		sum += x;
		dbl = !dbl;
	}
	return sum % 10 == 0;
}

static long prefix_num(const char *d, size_t n, size_t len)
{
	long v = 0;
	for (size_t i = 0; i < len && i < n; i++)
		v = v * 10 + (d[i] - '0');
	return v;
}

/* IIN ranges as the networks publish them, most specific first where ranges overlap. */
static const char *brand_of(const char *d, size_t n)
{
	long p1 = prefix_num(d, n, 1), p2 = prefix_num(d, n, 2), p3 = prefix_num(d, n, 3),
	     p4 = prefix_num(d, n, 4);
	if (p1 == 4)
		return "visa";
	if ((p2 >= 51 && p2 <= 55) || (p4 >= 2221 && p4 <= 2720))
		return "mastercard";
	if (p2 == 34 || p2 == 37)
		return "amex";
	if (p4 == 6011 || (p3 >= 644 && p3 <= 649) || p2 == 65)
		return "discover";
	if ((p3 >= 300 && p3 <= 305) || p2 == 36 || p2 == 38 || p2 == 39)
		return "diners";
	if (p4 >= 3528 && p4 <= 3589)
		return "jcb";
	if (p2 == 62)
		return "unionpay";
	return "unknown";
}

/* Copies the digits of number (spaces and dashes dropped) into out (PAN_MAX + 1 bytes).
 * 0 or VAULT_CARD_INVALID_NUMBER; out is wiped on failure. */
static int digits_of(const char *number, char *out, size_t *ret_n)
{
	size_t n = 0, seen = 0;
	for (const char *p = number; *p; p++) {
		if (++seen > PAN_INPUT_MAX)
			goto bad;
		if (*p == ' ' || *p == '-')
			continue;
		if (*p < '0' || *p > '9' || n >= PAN_MAX)
			goto bad;
		out[n++] = *p;
	}
	out[n] = '\0';
	if (n < PAN_MIN)
		goto bad;
	*ret_n = n;
	return 0;
bad:
	OPENSSL_cleanse(out, PAN_MAX + 1);
	return VAULT_CARD_INVALID_NUMBER;
}

/* 1–4 ASCII digits. */
static int parse_small(const char *s, int *ret)
{
	if (!s || !*s || strlen(s) > 4)
		return -1;
	int v = 0;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		v = v * 10 + (*p - '0');
	}
	*ret = v;
	return 0;
}

int vault_card_validate_expiry(const char *exp_month, const char *exp_year, int64_t now,
			       int *ret_month, int *ret_year)
{
	struct tm tm;
	time_t t = (time_t)now;
	if (!gmtime_r(&t, &tm))
		return VAULT_CARD_INVALID_EXPIRY_YEAR;
	int year_now = tm.tm_year + 1900, month_now = tm.tm_mon + 1;
	int m, y;
	if (parse_small(exp_month, &m) != 0 || m < 1 || m > 12)
		return VAULT_CARD_INVALID_EXPIRY_MONTH;
	if (parse_small(exp_year, &y) != 0)
		return VAULT_CARD_INVALID_EXPIRY_YEAR;
	if (y < 100)
		y += 2000;
	/* a card is valid through the last day of its expiry month; Stripe answers a past expiry
	 * (also this year's past months) with invalid_expiry_year */
	if (y < year_now || (y == year_now && m < month_now) || y > year_now + 50)
		return VAULT_CARD_INVALID_EXPIRY_YEAR;
	*ret_month = m;
	*ret_year = y;
	return 0;
}

int vault_card_validate(const char *number, const char *exp_month, const char *exp_year,
			const char *cvc, int64_t now, struct vault_card_info *ret)
{
	char d[PAN_MAX + 1];
	size_t n = 0;
	struct vault_card_info info;
	memset(&info, 0, sizeof(info));
	int rc = digits_of(number ? number : "", d, &n);
	if (rc != 0)
		return rc;
	if (!luhn_ok(d, n)) {
		OPENSSL_cleanse(d, sizeof(d));
		return VAULT_CARD_INCORRECT_NUMBER;
	}
	const struct testcard *tc = testcard_by_number(d);
	const char *brand = tc ? tc->pub.brand : brand_of(d, n);
	str_copy(info.brand, sizeof(info.brand), brand);
	/* without a BIN table only the test cards' funding is known */
	str_copy(info.funding, sizeof(info.funding), tc ? tc->pub.funding : "unknown");
	str_copy(info.country, sizeof(info.country), tc ? tc->pub.country : "US");
	memcpy(info.last4, d + n - 4, 4);
	memcpy(info.iin, d, 6);
	OPENSSL_cleanse(d, sizeof(d));

	rc = vault_card_validate_expiry(exp_month, exp_year, now, &info.exp_month, &info.exp_year);
	if (rc != 0)
		return rc;
	if (cvc && *cvc) {
		/* most American Express cards print a four-digit CVC, some a three-digit one, and
		 * Stripe's API accepts both for amex; every other brand's is three digits */
		bool amex = strcmp(info.brand, "amex") == 0;
		size_t cl = strnlen(cvc, 8);
		bool digits = true;
		for (size_t i = 0; i < cl; i++)
			digits = digits && cvc[i] >= '0' && cvc[i] <= '9';
		if (!digits || !(cl == 3 || (amex && cl == 4)))
			return VAULT_CARD_INVALID_CVC;
		info.cvc_provided = true;
	}
	*ret = info;
	return 0;
}

int vault_cvc_validate(const char *cvc)
{
	size_t cl = cvc ? strnlen(cvc, 8) : 0;
	bool digits = cl == 3 || cl == 4;
	for (size_t i = 0; digits && i < cl; i++)
		digits = cvc[i] >= '0' && cvc[i] <= '9';
	return digits ? 0 : VAULT_CARD_INVALID_CVC;
}

enum api_err vault_card_err_api(int rc)
{
	switch (rc) {
	case VAULT_CARD_INVALID_NUMBER:
		return ERR_CARD_INVALID_NUMBER;
	case VAULT_CARD_INCORRECT_NUMBER:
		return ERR_CARD_INCORRECT_NUMBER;
	case VAULT_CARD_INVALID_EXPIRY_MONTH:
		return ERR_CARD_INVALID_EXPIRY_MONTH;
	case VAULT_CARD_INVALID_EXPIRY_YEAR:
		return ERR_CARD_INVALID_EXPIRY_YEAR;
	case VAULT_CARD_INVALID_CVC:
		return ERR_CARD_INVALID_CVC;
	case VAULT_ERR_TAMPERED:
		return ERR_CARD_PROCESSING;
	default:
		return ERR_API;
	}
}

const char *vault_card_err_param(int rc)
{
	switch (rc) {
	case VAULT_CARD_INVALID_NUMBER:
	case VAULT_CARD_INCORRECT_NUMBER:
		return "number";
	case VAULT_CARD_INVALID_EXPIRY_MONTH:
		return "exp_month";
	case VAULT_CARD_INVALID_EXPIRY_YEAR:
		return "exp_year";
	case VAULT_CARD_INVALID_CVC:
		return "cvc";
	default:
		return NULL;
	}
}

/* ---- sealing ---- */

/* AAD = merchant_id || 0x00 || card_id: a ciphertext copied to another row or merchant fails
 * authentication. 0 when the ids do not fit. */
static size_t aad_for(const char *merchant_id, const char *card_id, unsigned char *out, size_t max)
{
	size_t a = strlen(merchant_id), b = strlen(card_id);
	if (a + b + 1 > max)
		return 0;
	memcpy(out, merchant_id, a);
	out[a] = 0;
	memcpy(out + a + 1, card_id, b);
	return a + 1 + b;
}

/* HKDF(root, "tender-fingerprint" || merchant_id): the merchant's fingerprint key. */
static int fp_key_derive(struct vault *v, const char *merchant_id, unsigned char key[KEY_LEN])
{
	char info[ID_MAX + 32];
	int il = snprintf(info, sizeof(info), "tender-fingerprint%s", merchant_id);
	if (il < 0 || (size_t)il >= sizeof(info))
		return -1;
	return hkdf(v->k->fp_root, info, (size_t)il, key);
}

/* The merchant's fingerprint key: from the cache (a slot per hash of the merchant id, the last
 * merchant to use a slot keeps it), or derived and cached. The fingerprint root never changes
 * once set (fp_root_attach refuses a different one), so a cached key never goes stale. */
static int fp_key_get(struct vault *v, const char *merchant_id, unsigned char key[KEY_LEN])
{
	size_t ml = strlen(merchant_id);
	if (ml == 0 || ml >= ID_MAX) /* "" would match an unused slot */
		return fp_key_derive(v, merchant_id, key);
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < ml; i++)
		h = (h ^ (unsigned char)merchant_id[i]) * 1099511628211ull;
	struct fp_key *e = &v->k->fpk[h % FP_KEYS_MAX];
	pthread_mutex_lock(&v->mu);
	if (strcmp(e->merchant, merchant_id) == 0) {
		memcpy(key, e->key, KEY_LEN);
		pthread_mutex_unlock(&v->mu);
		return 0;
	}
	pthread_mutex_unlock(&v->mu);
	if (fp_key_derive(v, merchant_id, key) != 0)
		return -1;
	pthread_mutex_lock(&v->mu);
	memcpy(e->merchant, merchant_id, ml + 1);
	memcpy(e->key, key, KEY_LEN);
	pthread_mutex_unlock(&v->mu);
	return 0;
}

/* 16 base62 characters of HMAC-SHA256(number) under the merchant's fingerprint key. The first
 * 128 bits of the MAC are read as one integer and divided down, so every character is uniform
 * to within 2^-32 (a byte % 62 would favour the first 8 characters). */
static int fingerprint(struct vault *v, const char *merchant_id, const char *digits, char out[24])
{
	static const char B62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
	if (!v->k->has_fp_root)
		return VAULT_ERR_NOKEY;
	unsigned char key[KEY_LEN], mac[32];
	int rc = VAULT_ERR_NOKEY;
	if (fp_key_get(v, merchant_id, key) == 0 &&
	    hmac_sha256(key, (const unsigned char *)digits, strlen(digits), mac) == 0) {
		unsigned __int128 x = 0;
		for (int i = 0; i < 16; i++)
			x = (x << 8) | mac[i];
		for (int i = 0; i < 16; i++) {
			out[i] = B62[(unsigned)(x % 62)];
			x /= 62;
		}
		out[16] = '\0';
		rc = 0;
	}
	OPENSSL_cleanse(key, sizeof(key));
	OPENSSL_cleanse(mac, sizeof(mac));
	return rc;
}

int vault_bank_fingerprint(struct vault *v, const char *merchant_id, const char *routing,
			   const char *account, char ret_fingerprint[24])
{
	/* a prefix no card number has, so a bank account never shares a card's fingerprint */
	char in[128];
	int n = snprintf(in, sizeof(in), "bank:%s:%s", routing, account);
	int rc = n > 0 && (size_t)n < sizeof(in) ? fingerprint(v, merchant_id, in, ret_fingerprint)
						 : VAULT_ERR_NOKEY;
	OPENSSL_cleanse(in, sizeof(in));
	return rc;
}

int vault_page_token(struct vault *v, const char *merchant_id, const char *object_id,
		     char ret_token[VAULT_PAGE_TOKEN_LEN + 1])
{
	static const char B62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
	char info[ID_MAX + 16];
	unsigned char key[KEY_LEN], mac[32];
	int il = snprintf(info, sizeof(info), "tender-page%s", merchant_id);
	size_t ol = strlen(object_id);
	if (!v->k->has_fp_root || il < 0 || (size_t)il >= sizeof(info) || ol == 0 || ol >= ID_MAX ||
	    hkdf(v->k->fp_root, info, (size_t)il, key) != 0)
		return VAULT_ERR_NOKEY;
	int rc = hmac_sha256(key, (const unsigned char *)object_id, ol, mac);
	OPENSSL_cleanse(key, sizeof(key));
	if (rc != 0)
		return VAULT_ERR_NOKEY;
	/* 256 bits read as base62 digits, least significant first: 43 digits hold them all */
	unsigned char n[32];
	memcpy(n, mac, sizeof(n));
	for (int i = 0; i < VAULT_PAGE_TOKEN_LEN; i++) {
		unsigned rem = 0;
		for (int k = 0; k < 32; k++) {
			unsigned cur = rem * 256u + n[k];
			n[k] = (unsigned char)(cur / 62u);
			rem = cur % 62u;
		}
		ret_token[i] = B62[rem];
	}
	ret_token[VAULT_PAGE_TOKEN_LEN] = '\0';
	return 0;
}

static const char SQL_CARD_PUT[] =
    "INSERT INTO vault_cards (merchant_id, id, data_key_id, sealed, fingerprint, exp_month,"
    " exp_year, cvc_provided, created) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
static const char SQL_DK_HERE[] = "SELECT 1 FROM vault_data_keys WHERE id = $1";

/* Seals the digits d of card card_id under the active data key whose id is in active (the key
 * is loaded into the cache from db when db is given, else it must be cached), and fingerprints
 * them. Nothing of d is kept. 0 or VAULT_ERR_NOKEY. */
static int seal_digits(struct vault *v, struct db *db, const char *merchant_id, const char *card_id,
		       const char *d, const char *active, struct vault_sealed_card *out)
{
	unsigned char aad[2 * ID_MAX + 1];
	size_t al = aad_for(merchant_id, card_id, aad, sizeof(aad));
	size_t n = strlen(d);
	if (!al || n > PAN_MAX || !active[0] || strlen(merchant_id) >= ID_MAX ||
	    strlen(card_id) >= ID_MAX)
		return VAULT_ERR_NOKEY;
	int frc = fingerprint(v, merchant_id, d, out->fingerprint);
	if (frc != 0)
		return frc;
	/* the lock covers only the cache and the key's use */
	pthread_mutex_lock(&v->mu);
	struct data_key *dk = dk_get(v, db, active);
	int ok = dk && seal(dk->key, aad, al, (const unsigned char *)d, n, out->sealed) == 0;
	if (ok)
		str_copy(out->data_key_id, sizeof(out->data_key_id), dk->id);
	pthread_mutex_unlock(&v->mu);
	if (!ok)
		return VAULT_ERR_NOKEY;
	out->sealed_len = NONCE_LEN + n + TAG_LEN;
	str_copy(out->merchant_id, sizeof(out->merchant_id), merchant_id);
	str_copy(out->card_id, sizeof(out->card_id), card_id);
	out->ok = true;
	return 0;
}

/* Inserts the vault_cards row of a sealed card. */
static int put_sealed(struct db *db, const struct vault_sealed_card *s,
		      const struct vault_card_info *info, int64_t now)
{
	struct db_stmt *st = db_prepare(db, SQL_CARD_PUT);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, s->merchant_id, -1);
	db_bind_text(st, 2, s->card_id, -1);
	db_bind_text(st, 3, s->data_key_id, -1);
	db_bind_blob(st, 4, s->sealed, s->sealed_len);
	db_bind_text(st, 5, s->fingerprint, -1);
	db_bind_int64(st, 6, info->exp_month);
	db_bind_int64(st, 7, info->exp_year);
	db_bind_int64(st, 8, info->cvc_provided);
	db_bind_int64(st, 9, now);
	return db_step_done(st);
}

static int store_digits(struct vault *v, struct db *db, const char *merchant_id,
			const char *card_id, const char *d, const struct vault_card_info *info,
			int64_t now, char ret_fp[24])
{
	char active[ID_MAX];
	if (active_id(db, active) != 0 || !active[0])
		return VAULT_ERR_NOKEY;
	struct vault_sealed_card s;
	memset(&s, 0, sizeof(s));
	int rc = seal_digits(v, db, merchant_id, card_id, d, active, &s);
	if (rc == 0)
		rc = put_sealed(db, &s, info, now);
	if (rc == DB_OK)
		memcpy(ret_fp, s.fingerprint, sizeof(s.fingerprint));
	return rc;
}

int vault_card_preseal(struct vault *v, int shard, const char *merchant_id, const char *card_id,
		       const char *number, struct vault_sealed_card *ret)
{
	memset(ret, 0, sizeof(*ret));
	char active[ID_MAX] = "";
	if (shard >= 0 && shard < VAULT_SHARDS_MAX) {
		pthread_mutex_lock(&v->mu);
		str_copy(active, sizeof(active), v->shard_active[shard]);
		pthread_mutex_unlock(&v->mu);
	}
	char d[PAN_MAX + 1];
	size_t n = 0;
	int rc = digits_of(number ? number : "", d, &n);
	if (rc == 0)
		rc = seal_digits(v, NULL, merchant_id, card_id, d, active, ret);
	OPENSSL_cleanse(d, sizeof(d));
	if (rc != 0)
		memset(ret, 0, sizeof(*ret));
	return rc;
}

/* Whether pre may be stored as card_id of merchant_id on db: sealed for that card (the AAD
 * binds both) under a data key this shard holds. The key was the shard's active one when the
 * process attached; a merchant moved to another shard since finds it missing there. */
static bool presealed_fits(struct db *db, const struct vault_sealed_card *pre,
			   const char *merchant_id, const char *card_id)
{
	if (!pre || !pre->ok || strcmp(pre->merchant_id, merchant_id) != 0 ||
	    strcmp(pre->card_id, card_id) != 0)
		return false;
	struct db_stmt *st = db_prepare(db, SQL_DK_HERE);
	if (!st)
		return false;
	db_bind_text(st, 1, pre->data_key_id, -1);
	bool here = db_step(st) == DB_ROW;
	db_reset(st);
	return here;
}

int vault_issuing_cvc(struct vault *v, const char *merchant_id, const char *card_id,
		      char ret_cvc[4])
{
	char info[ID_MAX + 24];
	unsigned char key[KEY_LEN], mac[32];
	int il = snprintf(info, sizeof(info), "tender-issuing-cvc%s", merchant_id);
	size_t cl = strlen(card_id);
	if (!v->k->has_fp_root || il < 0 || (size_t)il >= sizeof(info) || cl == 0 || cl >= ID_MAX ||
	    hkdf(v->k->fp_root, info, (size_t)il, key) != 0)
		return VAULT_ERR_NOKEY;
	int rc = hmac_sha256(key, (const unsigned char *)card_id, cl, mac);
	OPENSSL_cleanse(key, sizeof(key));
	if (rc != 0)
		return VAULT_ERR_NOKEY;
	/* 32 bits of the MAC modulo 1000: a bias of under one in four million per value */
	uint32_t x =
	    ((uint32_t)mac[0] << 24) | ((uint32_t)mac[1] << 16) | ((uint32_t)mac[2] << 8) | mac[3];
	OPENSSL_cleanse(mac, sizeof(mac));
	snprintf(ret_cvc, 4, "%03u", (unsigned)(x % 1000u));
	return 0;
}

int vault_card_store(struct vault *v, struct db *db, const char *merchant_id, const char *card_id,
		     const char *number, const struct vault_sealed_card *pre,
		     const struct vault_card_info *info, int64_t now, char ret_fingerprint[24])
{
	if (presealed_fits(db, pre, merchant_id, card_id)) {
		int rc = put_sealed(db, pre, info, now);
		if (rc == DB_OK)
			memcpy(ret_fingerprint, pre->fingerprint, sizeof(pre->fingerprint));
		return rc;
	}
	char d[PAN_MAX + 1];
	size_t n = 0;
	int rc = digits_of(number ? number : "", d, &n);
	if (rc != 0)
		return rc;
	rc = store_digits(v, db, merchant_id, card_id, d, info, now, ret_fingerprint);
	OPENSSL_cleanse(d, sizeof(d));
	return rc;
}

/* ---- IBANs (SEPA Direct Debit) ---- */

#define IBAN_SEALED_MAX (NONCE_LEN + 34 + TAG_LEN)
static const char SQL_IBAN_PUT[] =
    "INSERT INTO vault_ibans (merchant_id, id, data_key_id, sealed, fingerprint, created)"
    " VALUES ($1, $2, $3, $4, $5, $6)";

/* Seals a bank account (an IBAN, or a US routing:account pair) as row id of vault_ibans; its
 * fingerprint is of prefix + the account, the prefix keeping the two forms (and cards) apart. */
static int bank_store(struct vault *v, struct db *db, const char *merchant_id, const char *iban_id,
		      const char *prefix, const char *iban, int64_t now, char ret_fingerprint[24])
{
	char active[ID_MAX];
	if (active_id(db, active) != 0 || !active[0])
		return VAULT_ERR_NOKEY;
	unsigned char aad[2 * ID_MAX + 1];
	size_t al = aad_for(merchant_id, iban_id, aad, sizeof(aad));
	size_t n = strlen(iban);
	if (!al || n < 5 || n > 34)
		return VAULT_ERR_NOKEY;
	/* a prefix no card number has: an IBAN never shares a card's fingerprint */
	char in[48];
	int il = snprintf(in, sizeof(in), "%s%s", prefix, iban);
	char fp[24];
	int rc = il > 0 && (size_t)il < sizeof(in) ? fingerprint(v, merchant_id, in, fp)
						   : VAULT_ERR_NOKEY;
	OPENSSL_cleanse(in, sizeof(in));
	if (rc != 0)
		return rc;
	unsigned char sealed[IBAN_SEALED_MAX];
	char dk_id[ID_MAX];
	pthread_mutex_lock(&v->mu);
	struct data_key *dk = dk_get(v, db, active);
	int ok = dk && seal(dk->key, aad, al, (const unsigned char *)iban, n, sealed) == 0;
	if (ok)
		str_copy(dk_id, sizeof(dk_id), dk->id);
	pthread_mutex_unlock(&v->mu);
	if (!ok)
		return VAULT_ERR_NOKEY;
	struct db_stmt *st = db_prepare(db, SQL_IBAN_PUT);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, iban_id, -1);
	db_bind_text(st, 3, dk_id, -1);
	db_bind_blob(st, 4, sealed, NONCE_LEN + n + TAG_LEN);
	db_bind_text(st, 5, fp, -1);
	db_bind_int64(st, 6, now);
	rc = db_step_done(st);
	if (rc == DB_OK)
		memcpy(ret_fingerprint, fp, sizeof(fp));
	return rc;
}

int vault_iban_store(struct vault *v, struct db *db, const char *merchant_id, const char *iban_id,
		     const char *iban, int64_t now, char ret_fingerprint[24])
{
	return bank_store(v, db, merchant_id, iban_id, "iban:", iban, now, ret_fingerprint);
}

int vault_ach_store(struct vault *v, struct db *db, const char *merchant_id, const char *id,
		    const char *routing, const char *account, int64_t now, char ret_fingerprint[24])
{
	char both[40];
	int n = snprintf(both, sizeof(both), "%s:%s", routing, account);
	int rc = n > 0 && (size_t)n < sizeof(both)
		     ? bank_store(v, db, merchant_id, id, "ach:", both, now, ret_fingerprint)
		     : VAULT_ERR_NOKEY;
	OPENSSL_cleanse(both, sizeof(both));
	return rc;
}

/* ---- sealed rows of text: identity data (Stripe Identity's verification reports) and Apps'
 * secrets. Each table is (merchant_id, id, data_key_id, sealed, created), a row sealed under the
 * shard's active data key with the AAD binding merchant and id. ---- */

struct text_table {
	const char *put, *get, *del, *what;
	size_t max;
};

static const char SQL_IDENTITY_GET[] =
    "SELECT data_key_id, sealed FROM vault_identity WHERE merchant_id = $1 AND id = $2";
static const char SQL_APP_SECRET_GET[] =
    "SELECT data_key_id, sealed FROM vault_app_secrets WHERE merchant_id = $1 AND id = $2";

static const struct text_table identity_table = {
    "INSERT INTO vault_identity (merchant_id, id, data_key_id, sealed, created)"
    " VALUES ($1, $2, $3, $4, $5)",
    SQL_IDENTITY_GET,
    "DELETE FROM vault_identity WHERE merchant_id = $1 AND id = $2",
    "identity data",
    VAULT_IDENTITY_MAX,
};
static const struct text_table app_secret_table = {
    "INSERT INTO vault_app_secrets (merchant_id, id, data_key_id, sealed, created)"
    " VALUES ($1, $2, $3, $4, $5)",
    SQL_APP_SECRET_GET,
    "DELETE FROM vault_app_secrets WHERE merchant_id = $1 AND id = $2",
    "app secret",
    VAULT_APP_SECRET_MAX,
};

#define TEXT_MAX                                                                                   \
	(VAULT_APP_SECRET_MAX > VAULT_IDENTITY_MAX ? VAULT_APP_SECRET_MAX : VAULT_IDENTITY_MAX)

static int text_store(struct vault *v, struct db *db, const struct text_table *t,
		      const char *merchant_id, const char *id, const char *data, int64_t now)
{
	size_t n = strlen(data);
	unsigned char aad[2 * ID_MAX + 1];
	size_t al = aad_for(merchant_id, id, aad, sizeof(aad));
	if (!al || n == 0 || n > t->max)
		return VAULT_ERR_NOKEY;
	unsigned char sealed[NONCE_LEN + TEXT_MAX + TAG_LEN];
	char dk_id[ID_MAX];
	pthread_mutex_lock(&v->mu);
	struct data_key *dk = dk_active(v, db);
	int ok = dk && seal(dk->key, aad, al, (const unsigned char *)data, n, sealed) == 0;
	if (ok)
		str_copy(dk_id, sizeof(dk_id), dk->id);
	pthread_mutex_unlock(&v->mu);
	if (!ok)
		return VAULT_ERR_NOKEY;
	struct db_stmt *st = db_prepare(db, t->put);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, id, -1);
	db_bind_text(st, 3, dk_id, -1);
	db_bind_blob(st, 4, sealed, NONCE_LEN + n + TAG_LEN);
	db_bind_int64(st, 5, now);
	return db_step_done(st);
}

/* out has room for t->max + 1 bytes */
static int text_open(struct vault *v, struct db *db, const struct text_table *t,
		     const char *merchant_id, const char *id, char *out)
{
	out[0] = '\0';
	unsigned char aad[2 * ID_MAX + 1];
	size_t al = aad_for(merchant_id, id, aad, sizeof(aad));
	if (!al)
		return DB_NOTFOUND;
	struct db_stmt *st = db_prepare(db, t->get);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, id, -1);
	int rc = db_step(st);
	if (rc != DB_ROW) {
		db_reset(st);
		return rc == DB_DONE ? DB_NOTFOUND : rc < 0 ? rc : DB_ERR;
	}
	char dk_id[ID_MAX];
	const char *k = db_col_text(st, 0, NULL);
	str_copy(dk_id, sizeof(dk_id), k ? k : "");
	size_t n = 0, len = 0;
	const unsigned char *sealed = db_col_blob(st, 1, &n);
	pthread_mutex_lock(&v->mu);
	struct data_key *dk = dk_get(v, db, dk_id);
	int ok = dk && sealed &&
		 open_sealed(dk->key, aad, al, sealed, n, (unsigned char *)out, t->max, &len) == 0;
	pthread_mutex_unlock(&v->mu);
	db_reset(st);
	if (!ok) {
		OPENSSL_cleanse(out, t->max + 1);
		log_msg(LOG_ALERT, "vault: %s %s of %s failed authentication", t->what, id,
			merchant_id);
		return VAULT_ERR_TAMPERED;
	}
	out[len] = '\0';
	return DB_OK;
}

static int text_erase(struct db *db, const struct text_table *t, const char *merchant_id,
		      const char *id)
{
	struct db_stmt *st = db_prepare(db, t->del);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, id, -1);
	return db_step_done(st);
}

int vault_identity_store(struct vault *v, struct db *db, const char *merchant_id, const char *id,
			 const char *data, int64_t now)
{
	return text_store(v, db, &identity_table, merchant_id, id, data, now);
}

int vault_identity_open(struct vault *v, struct db *db, const char *merchant_id, const char *id,
			char out[VAULT_IDENTITY_MAX + 1])
{
	return text_open(v, db, &identity_table, merchant_id, id, out);
}

int vault_identity_erase(struct db *db, const char *merchant_id, const char *id)
{
	return text_erase(db, &identity_table, merchant_id, id);
}

int vault_app_secret_store(struct vault *v, struct db *db, const char *merchant_id, const char *id,
			   const char *payload, int64_t now)
{
	return text_store(v, db, &app_secret_table, merchant_id, id, payload, now);
}

int vault_app_secret_open(struct vault *v, struct db *db, const char *merchant_id, const char *id,
			  char out[VAULT_APP_SECRET_MAX + 1])
{
	return text_open(v, db, &app_secret_table, merchant_id, id, out);
}

int vault_app_secret_erase(struct db *db, const char *merchant_id, const char *id)
{
	return text_erase(db, &app_secret_table, merchant_id, id);
}

/* a bank account's number as vault_ach_store sealed it (the same sealed-row shape) */
static const struct text_table ach_table = {
    NULL,
    "SELECT data_key_id, sealed FROM vault_ibans WHERE merchant_id = $1 AND id = $2",
    NULL,
    "bank account",
    VAULT_ACH_OPEN_MAX - 1,
};

int vault_ach_open(struct vault *v, struct db *db, const char *merchant_id, const char *id,
		   char out[VAULT_ACH_OPEN_MAX])
{
	return text_open(v, db, &ach_table, merchant_id, id, out);
}

bool vault_is_test_alias(const char *ref)
{
	return testcard_by_alias(ref) != NULL;
}

/* Stripe's aliases carry next year's expiry, this month, and a CVC that was given. */
static void alias_expiry(int64_t now, int *ret_month, int *ret_year)
{
	struct tm tm;
	time_t t = (time_t)now;
	gmtime_r(&t, &tm);
	*ret_month = tm.tm_mon + 1;
	*ret_year = tm.tm_year + 1900 + 1;
}

static void alias_info(const struct testcard *tc, int64_t now, struct vault_card_info *info)
{
	memset(info, 0, sizeof(*info));
	str_copy(info->brand, sizeof(info->brand), tc->pub.brand);
	str_copy(info->funding, sizeof(info->funding), tc->pub.funding);
	str_copy(info->country, sizeof(info->country), tc->pub.country);
	str_copy(info->last4, sizeof(info->last4), tc->pub.last4);
	memcpy(info->iin, tc->number, 6);
	alias_expiry(now, &info->exp_month, &info->exp_year);
	info->cvc_provided = true;
}

int vault_alias_info(struct vault *v, const char *merchant_id, const char *alias, int64_t now,
		     struct vault_card_info *ret_info, char ret_fingerprint[24])
{
	const struct testcard *tc = testcard_by_alias(alias);
	if (!tc)
		return DB_NOTFOUND;
	size_t ml = strlen(merchant_id);
	uint64_t h = 1469598103934665603ull ^ (uint64_t)(uintptr_t)tc;
	for (size_t i = 0; i < ml; i++)
		h = (h ^ (unsigned char)merchant_id[i]) * 1099511628211ull;
	struct alias_fp *e = &v->alias_fps[h % ALIAS_FP_MAX];
	bool cached = false;
	if (ml > 0 && ml < ID_MAX) {
		pthread_mutex_lock(&v->mu);
		if (e->tc == tc && strcmp(e->merchant, merchant_id) == 0) {
			memcpy(ret_fingerprint, e->fp, sizeof(e->fp));
			cached = true;
		}
		pthread_mutex_unlock(&v->mu);
	}
	if (!cached) {
		int rc = fingerprint(v, merchant_id, tc->number, ret_fingerprint);
		if (rc != 0)
			return rc;
		if (ml > 0 && ml < ID_MAX) {
			pthread_mutex_lock(&v->mu);
			memcpy(e->merchant, merchant_id, ml + 1);
			e->tc = tc;
			memcpy(e->fp, ret_fingerprint, sizeof(e->fp));
			pthread_mutex_unlock(&v->mu);
		}
	}
	alias_info(tc, now, ret_info);
	return 0;
}

int vault_alias_reveal(const char *alias, vault_reveal_fn fn, void *ctx)
{
	const struct testcard *tc = testcard_by_alias(alias);
	if (!tc)
		return DB_NOTFOUND;
	struct vault_secret s;
	memset(&s, 0, sizeof(s));
	str_copy(s.number, sizeof(s.number), tc->number);
	alias_expiry(clock_now(), &s.exp_month, &s.exp_year);
	s.cvc_provided = true;
	s.tc = tc;
	int rc = fn(&s, ctx);
	OPENSSL_cleanse(&s, sizeof(s));
	return rc;
}

static int decrypt_card(struct vault *v, struct db *db, const char *merchant_id,
			const char *card_id, struct vault_secret *s);

int vault_card_clone(struct vault *v, struct db *db, const char *from_merchant,
		     const char *from_card_id, const char *to_merchant, const char *to_card_id,
		     const struct vault_card_info *info, int64_t now, char ret_fingerprint[24])
{
	struct vault_secret s;
	memset(&s, 0, sizeof(s));
	int rc = decrypt_card(v, db, from_merchant, from_card_id, &s);
	if (rc == 0)
		rc = store_digits(v, db, to_merchant, to_card_id, s.number, info, now,
				  ret_fingerprint);
	OPENSSL_cleanse(&s, sizeof(s));
	return rc;
}

int vault_card_store_alias(struct vault *v, struct db *db, const char *merchant_id,
			   const char *card_id, const char *alias, int64_t now,
			   struct vault_card_info *ret_info, char ret_fingerprint[24])
{
	const struct testcard *tc = testcard_by_alias(alias);
	if (!tc)
		return DB_NOTFOUND;
	struct vault_card_info info;
	alias_info(tc, now, &info);
	int rc = store_digits(v, db, merchant_id, card_id, tc->number, &info, now, ret_fingerprint);
	if (rc == DB_OK)
		*ret_info = info;
	return rc;
}

/*
 * A test alias's card is Stripe's published number: sealing it again for every PaymentMethod
 * (AES-GCM, a fingerprint HMAC, a vault_cards row) bought nothing, so the first use per merchant,
 * alias and expiry seals it and records it in vault_alias_cards, and later uses share it. The
 * claim row goes in first (ON CONFLICT DO NOTHING) and the card is sealed only by the
 * transaction whose claim inserted: two nodes racing on a new month (PostgreSQL) end up with one
 * card, and the loser reads the winner's row.
 */
static const char SQL_ALIAS_GET[] =
    "SELECT card_id, fingerprint FROM vault_alias_cards"
    " WHERE merchant_id = $1 AND alias = $2 AND exp_year = $3 AND exp_month = $4";
static const char SQL_ALIAS_CLAIM[] =
    "INSERT INTO vault_alias_cards (merchant_id, alias, exp_year, exp_month, card_id,"
    " fingerprint) VALUES ($1, $2, $3, $4, $5, $6)"
    " ON CONFLICT (merchant_id, alias, exp_year, exp_month) DO NOTHING";

/* DB_OK with the stored card's id and fingerprint, DB_NOTFOUND, or < 0. */
static int alias_card_get(struct db *db, const char *merchant_id, const char *alias,
			  const struct vault_card_info *info, char ret_card_id[ID_MAX],
			  char ret_fp[24])
{
	struct db_stmt *st = db_prepare(db, SQL_ALIAS_GET);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, alias, -1);
	db_bind_int64(st, 3, info->exp_year);
	db_bind_int64(st, 4, info->exp_month);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		const char *id = db_col_text(st, 0, NULL), *fp = db_col_text(st, 1, NULL);
		str_copy(ret_card_id, ID_MAX, id ? id : "");
		str_copy(ret_fp, 24, fp ? fp : "");
	}
	db_reset(st);
	if (rc == DB_ROW)
		return DB_OK;
	return rc == DB_DONE ? DB_NOTFOUND : rc;
}

int vault_alias_card(struct vault *v, struct db *db, const char *merchant_id, const char *alias,
		     int64_t now, char ret_card_id[ID_MAX], struct vault_card_info *ret_info,
		     char ret_fingerprint[24])
{
	const struct testcard *tc = testcard_by_alias(alias);
	if (!tc)
		return DB_NOTFOUND;
	struct vault_card_info info;
	alias_info(tc, now, &info);
	char card_id[ID_MAX], fp[24];
	int rc = alias_card_get(db, merchant_id, alias, &info, card_id, fp);
	if (rc == DB_NOTFOUND) {
		id_new(card_id, "card_");
		rc = fingerprint(v, merchant_id, tc->number, fp);
		if (rc != 0)
			return rc;
		struct db_stmt *st = db_prepare(db, SQL_ALIAS_CLAIM);
		if (!st)
			return DB_ERR;
		db_bind_text(st, 1, merchant_id, -1);
		db_bind_text(st, 2, alias, -1);
		db_bind_int64(st, 3, info.exp_year);
		db_bind_int64(st, 4, info.exp_month);
		db_bind_text(st, 5, card_id, -1);
		db_bind_text(st, 6, fp, -1);
		rc = db_step(st);
		int64_t n = rc == DB_DONE ? db_changes(st) : 0;
		db_reset(st);
		if (rc != DB_DONE)
			return rc < 0 ? rc : DB_ERR;
		if (n == 1)
			rc = store_digits(v, db, merchant_id, card_id, tc->number, &info, now, fp);
		else /* another transaction claimed it first and has committed */
			rc = alias_card_get(db, merchant_id, alias, &info, card_id, fp);
		if (rc == DB_NOTFOUND)
			rc = DB_ERR;
	}
	if (rc != DB_OK)
		return rc;
	str_copy(ret_card_id, ID_MAX, card_id);
	memcpy(ret_fingerprint, fp, sizeof(fp));
	*ret_info = info;
	return DB_OK;
}

/* ---- reveal ---- */

enum acq_behavior vault_secret_behavior(const struct vault_secret *s)
{
	return s->tc ? s->tc->pub.behavior : ACQ_SUCCEED;
}

const struct vault_testcard *vault_secret_testcard(const struct vault_secret *s)
{
	return s->tc ? &s->tc->pub : NULL;
}

bool vault_secret_is_test_card(const struct vault_secret *s)
{
	return s->tc != NULL;
}

int vault_secret_exp_month(const struct vault_secret *s)
{
	return s->exp_month;
}

int vault_secret_exp_year(const struct vault_secret *s)
{
	return s->exp_year;
}

bool vault_secret_cvc_provided(const struct vault_secret *s)
{
	return s->cvc_provided;
}

const char *vault_secret_number(const struct vault_secret *s)
{
	return s->number;
}

static const char SQL_CARD_GET[] = "SELECT data_key_id, sealed, exp_month, exp_year, cvc_provided"
				   " FROM vault_cards WHERE merchant_id = $1 AND id = $2";

/* Decrypts card_id into s. 0, DB_NOTFOUND, a DB error, or VAULT_ERR_TAMPERED (s wiped). */
static int decrypt_card(struct vault *v, struct db *db, const char *merchant_id,
			const char *card_id, struct vault_secret *s)
{
	struct db_stmt *st = db_prepare(db, SQL_CARD_GET);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, card_id, -1);
	int rc = db_step(st);
	if (rc != DB_ROW) {
		db_reset(st);
		return rc == DB_DONE ? DB_NOTFOUND : rc;
	}
	char dk_id[ID_MAX];
	const char *t = db_col_text(st, 0, NULL);
	str_copy(dk_id, sizeof(dk_id), t ? t : "");
	size_t n = 0;
	const unsigned char *blob = db_col_blob(st, 1, &n);
	unsigned char sealed[NONCE_LEN + PAN_MAX + TAG_LEN];
	bool sized = blob && n <= sizeof(sealed);
	if (sized)
		memcpy(sealed, blob, n);
	s->exp_month = (int)db_col_int64(st, 2);
	s->exp_year = (int)db_col_int64(st, 3);
	s->cvc_provided = db_col_int64(st, 4) != 0;
	db_reset(st);
	unsigned char aad[2 * ID_MAX + 1];
	size_t al = aad_for(merchant_id, card_id, aad, sizeof(aad));
	size_t len = 0;
	pthread_mutex_lock(&v->mu);
	struct data_key *dk = dk_id[0] ? dk_get(v, db, dk_id) : NULL;
	int ok = sized && dk && al &&
		 open_sealed(dk->key, aad, al, sealed, n, (unsigned char *)s->number, PAN_MAX,
			     &len) == 0;
	pthread_mutex_unlock(&v->mu);
	OPENSSL_cleanse(sealed, sizeof(sealed));
	if (ok) {
		s->number[len] = '\0';
		/* a well-formed plaintext is 12–19 digits; anything else was not sealed by us */
		ok = len >= PAN_MIN && strspn(s->number, "0123456789") == len;
	}
	if (!ok) {
		OPENSSL_cleanse(s, sizeof(*s));
		return VAULT_ERR_TAMPERED;
	}
	s->tc = testcard_by_number(s->number);
	return 0;
}

int vault_card_reveal(struct vault *v, struct db *db, const char *merchant_id, const char *card_id,
		      const char *purpose, vault_reveal_fn fn, void *ctx,
		      struct vault_access *ret_access)
{
	struct vault_secret s;
	memset(&s, 0, sizeof(s));
	int rc = decrypt_card(v, db, merchant_id, card_id, &s);
	if (rc == VAULT_ERR_TAMPERED) {
		/* the one place the vault logs: an integrity failure is an incident, and the
		 * caller only sees a processing_error */
		log_msg(LOG_ALERT,
			"vault: card %s of merchant %s failed authentication (tampered or moved "
			"ciphertext, or a data key that does not unwrap); nothing was decrypted",
			card_id, merchant_id);
		return rc;
	}
	if (rc != 0)
		return rc;
	rc = fn(&s, ctx);
	OPENSSL_cleanse(&s, sizeof(s));
	/* the number was revealed whatever fn answered: the access is recorded either way */
	if (ret_access) {
		memset(ret_access, 0, sizeof(*ret_access));
		snprintf(ret_access->merchant_id, sizeof(ret_access->merchant_id), "%s",
			 merchant_id);
		str_copy(ret_access->card_id, sizeof(ret_access->card_id), card_id);
		snprintf(ret_access->purpose, sizeof(ret_access->purpose), "%s",
			 purpose ? purpose : "");
		ret_access->at = clock_now();
	}
	return rc;
}

static const char SQL_ACCESS[] =
    "INSERT INTO vault_access_log (merchant_id, card_id, purpose, at) VALUES ($1, $2, $3, $4)";

int vault_access_record(struct db *db, const struct vault_access *a)
{
	if (!a->card_id[0])
		return 0;
	struct db_stmt *st = db_prepare(db, SQL_ACCESS);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, a->merchant_id, -1);
	db_bind_text(st, 2, a->card_id, -1);
	db_bind_text(st, 3, a->purpose, -1);
	db_bind_int64(st, 4, a->at);
	return db_step_done(st);
}

/* ---- rotation, status, verification ---- */

struct rotate_counts {
	int keys; /* data keys re-wrapped */
	int fpks; /* fingerprint roots re-wrapped */
	int shards;
	int already;
};

struct rotate_ctx {
	struct vault *old, *new;
	char err[512];
	struct rotate_counts n;
	/* the shard rotate_fn last ran on (-1 before the first) and the counts before that run:
	 * a run again on the same shard (its first was undone, see store.h) counts from there */
	int shard;
	struct rotate_counts base;
};

static const char SQL_DK_PAGE[] = "SELECT id, wrapped FROM vault_data_keys WHERE id > $1"
				  " ORDER BY id LIMIT $2";
static const char SQL_DK_REWRAP[] =
    "UPDATE vault_data_keys SET wrapped = $2, master_key_id = $3 WHERE id = $1";
static const char SQL_META_ROTATE[] =
    "UPDATE vault_meta SET master_key_id = $1, check_value = $2, rotated = $3 WHERE id = 1";

struct wrapped_row {
	char id[ID_MAX];
	unsigned char w[WRAPPED_LEN];
	size_t n;
};

/* Re-wraps one row from the old KEK to the new one (the key only ever in locked scratch). */
static int rewrap(struct rotate_ctx *c, struct db *db, const struct wrapped_row *row)
{
	size_t len = 0;
	unsigned char out[WRAPPED_LEN];
	const unsigned char *aad = (const unsigned char *)row->id;
	int ok = open_sealed(c->old->k->kek, aad, strlen(row->id), row->w, row->n,
			     c->old->k->scratch, KEY_LEN, &len) == 0 &&
		 len == KEY_LEN &&
		 seal(c->new->k->kek, aad, strlen(row->id), c->old->k->scratch, KEY_LEN, out) == 0;
	OPENSSL_cleanse(c->old->k->scratch, KEY_LEN);
	if (!ok) {
		snprintf(c->err, sizeof(c->err),
			 "data key %s does not unwrap under the old master key; nothing changed",
			 row->id);
		return -1;
	}
	struct db_stmt *st = db_prepare(db, SQL_DK_REWRAP);
	if (!st)
		return -1;
	db_bind_text(st, 1, row->id, -1);
	db_bind_blob(st, 2, out, sizeof(out));
	db_bind_text(st, 3, c->new->key_id, -1);
	if (db_step_done(st) != DB_OK)
		return -1;
	if (strncmp(row->id, FPK_PREFIX, strlen(FPK_PREFIX)) == 0)
		c->n.fpks++;
	else
		c->n.keys++;
	return 0;
}

/* One shard, one transaction: either every key of the shard and its check value move to the
 * new master key, or nothing does. A shard already under the new key is skipped, so a rotation
 * that failed half-way across shards is finished by running it again. */
static int rotate_fn(struct db *db, void *p)
{
	struct rotate_ctx *c = p;
	int shard = store_current_shard();
	if (c->shard == shard) {
		c->n = c->base;
	} else {
		c->shard = shard;
		c->base = c->n;
	}
	c->n.shards++;
	struct db_stmt *st = db_prepare(db, SQL_META_GET);
	if (!st)
		return -1;
	int step = db_step(st);
	bool old_ok = false, new_ok = false;
	if (step == DB_ROW) {
		size_t n = 0;
		const unsigned char *cv = db_col_blob(st, 1, &n);
		old_ok = cv && check_value_ok(c->old, cv, n);
		new_ok = cv && check_value_ok(c->new, cv, n);
	}
	db_reset(st);
	if (step == DB_DONE) {
		snprintf(c->err, sizeof(c->err),
			 "the store has no vault yet (tender serve sets it up with its key file); "
			 "nothing to rotate");
		return -1;
	}
	if (new_ok) {
		c->n.already++;
		return 0;
	}
	if (!old_ok) {
		snprintf(c->err, sizeof(c->err),
			 "master key does not match this store (the old key file %s does not open "
			 "the store's check value); nothing changed",
			 c->old->key_id);
		return -1;
	}
	struct wrapped_row *page = calloc(PAGE_ROWS, sizeof(*page));
	if (!page)
		return -1;
	char after[ID_MAX] = "";
	int rc = 0, total = 0;
	for (;;) {
		st = db_prepare(db, SQL_DK_PAGE);
		if (!st) {
			rc = -1;
			break;
		}
		db_bind_text(st, 1, after, -1);
		db_bind_int64(st, 2, PAGE_ROWS);
		int np = 0;
		while (np < PAGE_ROWS && (step = db_step(st)) == DB_ROW) {
			const char *id = db_col_text(st, 0, NULL);
			size_t n = 0;
			const void *w = db_col_blob(st, 1, &n);
			if (!id || !w || n != WRAPPED_LEN || strlen(id) >= ID_MAX) {
				snprintf(c->err, sizeof(c->err),
					 "data key %s is malformed; nothing changed",
					 id ? id : "?");
				rc = -1;
				break;
			}
			str_copy(page[np].id, ID_MAX, id);
			memcpy(page[np].w, w, n);
			page[np].n = n;
			np++;
		}
		db_reset(st);
		if (rc == 0 && step < 0)
			rc = -1;
		if (rc != 0)
			break;
		for (int i = 0; i < np && rc == 0; i++)
			rc = rewrap(c, db, &page[i]);
		total += np;
		if (rc != 0 || np < PAGE_ROWS)
			break;
		if (total >= ROTATE_KEYS_MAX) {
			snprintf(c->err, sizeof(c->err),
				 "more than %d data keys in one shard; nothing changed",
				 ROTATE_KEYS_MAX);
			rc = -1;
			break;
		}
		str_copy(after, sizeof(after), page[np - 1].id);
	}
	OPENSSL_cleanse(page, PAGE_ROWS * sizeof(*page));
	free(page);
	if (rc != 0)
		return -1;
	unsigned char cv[CHECK_SEALED_LEN];
	if (check_value_make(c->new, cv) != 0)
		return -1;
	st = db_prepare(db, SQL_META_ROTATE);
	if (!st)
		return -1;
	db_bind_text(st, 1, c->new->key_id, -1);
	db_bind_blob(st, 2, cv, sizeof(cv));
	db_bind_int64(st, 3, clock_now());
	return db_step_done(st) == DB_OK ? 0 : -1;
}

int vault_rotate(struct store *s, const char *old_key_file, const char *new_key_file, char *err,
		 size_t errlen)
{
	struct rotate_ctx c;
	memset(&c, 0, sizeof(c));
	c.shard = -1;
	err_clear(err, errlen);
	if (vault_open(&c.old, old_key_file, err, errlen) != 0)
		return -1;
	if (vault_open(&c.new, new_key_file, err, errlen) != 0) {
		vault_free(c.old);
		return -1;
	}
	int rc = 0;
	if (strcmp(c.old->key_id, c.new->key_id) == 0) {
		snprintf(err, errlen, "the new master key is the old one");
		rc = -1;
	} else if (store_each_shard_write(s, rotate_fn, &c) != 0) {
		snprintf(err, errlen, "%s",
			 c.err[0] ? c.err : "rotation failed (store error); nothing changed");
		rc = -1;
	} else {
		snprintf(err, errlen,
			 "re-wrapped %d data key(s) and %d fingerprint key(s) on %d shard(s) under "
			 "master key %s%s; serve with the new key file from now on",
			 c.n.keys, c.n.fpks, c.n.shards - c.n.already, c.new->key_id,
			 c.n.already ? " (shards already under the new key were skipped)" : "");
	}
	vault_free(c.old);
	vault_free(c.new);
	return rc;
}

struct status_ctx {
	struct vault *v;
	struct buf *out;
	int shard;
};

static const char SQL_STATUS_META[] = "SELECT master_key_id, rotated FROM vault_meta WHERE id = 1";
static const char SQL_STATUS_KEYS[] =
    "SELECT k.id, k.master_key_id, k.state, k.created, (SELECT COUNT(*) FROM vault_cards c"
    " WHERE c.data_key_id = k.id) FROM vault_data_keys k ORDER BY k.created, k.id LIMIT 10000";

static int status_fn(struct db *db, void *p)
{
	struct status_ctx *c = p;
	buf_printf(c->out, "shard %d\n", c->shard++);
	struct db_stmt *st = db_prepare(db, SQL_STATUS_META);
	if (!st)
		return -1;
	if (db_step(st) == DB_ROW) {
		const char *id = db_col_text(st, 0, NULL);
		const char *match = "";
		if (c->v)
			match = id && strcmp(id, c->v->key_id) == 0
				    ? " (matches the key file)"
				    : " (DOES NOT match the key file)";
		buf_printf(c->out, "  master key: %s%s\n", id ? id : "?", match);
		if (!db_col_is_null(st, 1))
			buf_printf(c->out, "  last rotated: %lld\n",
				   (long long)db_col_int64(st, 1));
	} else {
		buf_puts(c->out, "  master key: none yet (tender serve sets the vault up)\n");
	}
	db_reset(st);
	st = db_prepare(db, SQL_STATUS_KEYS);
	if (!st)
		return -1;
	int64_t keys = 0, cards = 0;
	while (db_step(st) == DB_ROW) {
		const char *id = db_col_text(st, 0, NULL);
		if (id && strncmp(id, FPK_PREFIX, strlen(FPK_PREFIX)) == 0) {
			buf_printf(c->out, "  fingerprint key %s: wrapped by %s\n", id,
				   db_col_text(st, 1, NULL));
			continue;
		}
		keys++;
		cards += db_col_int64(st, 4);
		buf_printf(c->out, "  data key %s: %s, wrapped by %s, created %lld, %lld card(s)\n",
			   id ? id : "?", db_col_text(st, 2, NULL), db_col_text(st, 1, NULL),
			   (long long)db_col_int64(st, 3), (long long)db_col_int64(st, 4));
	}
	db_reset(st);
	buf_printf(c->out, "  %lld data key(s), %lld card(s)\n", (long long)keys, (long long)cards);
	return 0;
}

int vault_status(struct store *s, const char *key_file, struct buf *out, char *err, size_t errlen)
{
	struct status_ctx c = {NULL, out, 0};
	err_clear(err, errlen);
	if (key_file && vault_open(&c.v, key_file, err, errlen) != 0)
		return -1;
	if (c.v)
		buf_printf(out, "key file master key: %s\n", c.v->key_id);
	int rc = store_each_shard_read(s, status_fn, &c);
	if (rc != 0)
		snprintf(err, errlen, "cannot read the store");
	vault_free(c.v);
	return rc;
}

/* The sealed tables vault_verify walks: each row of each must open under its data key (and a
 * card's number pass the Luhn check). IBANs and US bank accounts are never read back by a
 * request (but a Treasury account number, when expanded), and identity data only when expanded,
 * so without this a damaged row would go unnoticed until it was needed. */
static const struct sealed_table {
	const char *table, *what, *page_sql, *get_sql;
} sealed_tables[] = {
    {"vault_cards", "card",
     "SELECT merchant_id, id FROM vault_cards WHERE (merchant_id, id) > ($1, $2)"
     " ORDER BY merchant_id, id LIMIT $3",
     NULL},
    {"vault_ibans", "bank account",
     "SELECT merchant_id, id FROM vault_ibans WHERE (merchant_id, id) > ($1, $2)"
     " ORDER BY merchant_id, id LIMIT $3",
     "SELECT data_key_id, sealed FROM vault_ibans WHERE merchant_id = $1 AND id = $2"},
    {"vault_identity", "identity data",
     "SELECT merchant_id, id FROM vault_identity WHERE (merchant_id, id) > ($1, $2)"
     " ORDER BY merchant_id, id LIMIT $3",
     SQL_IDENTITY_GET},
    {"vault_app_secrets", "app secret",
     "SELECT merchant_id, id FROM vault_app_secrets WHERE (merchant_id, id) > ($1, $2)"
     " ORDER BY merchant_id, id LIMIT $3",
     SQL_APP_SECRET_GET},
};

/* Whether row (merchant_id, id) of t opens under its data key and holds what it should. */
static bool sealed_row_ok(struct vault *v, struct db *db, const struct sealed_table *t,
			  const char *merchant_id, const char *id)
{
	if (!t->get_sql) { /* a card: the number, Luhn-checked */
		struct vault_secret s;
		memset(&s, 0, sizeof(s));
		bool ok = decrypt_card(v, db, merchant_id, id, &s) == 0 &&
			  luhn_ok(s.number, strlen(s.number));
		OPENSSL_cleanse(&s, sizeof(s));
		return ok;
	}
	unsigned char aad[2 * ID_MAX + 1];
	size_t al = aad_for(merchant_id, id, aad, sizeof(aad));
	struct db_stmt *st = al ? db_prepare(db, t->get_sql) : NULL;
	if (!st)
		return false;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, id, -1);
	bool ok = false;
	if (db_step(st) == DB_ROW) {
		char dk_id[ID_MAX];
		const char *k = db_col_text(st, 0, NULL);
		str_copy(dk_id, sizeof(dk_id), k ? k : "");
		size_t n = 0, len = 0;
		const unsigned char *sealed = db_col_blob(st, 1, &n);
		unsigned char out[TEXT_MAX + 1];
		pthread_mutex_lock(&v->mu);
		struct data_key *dk = dk_get(v, db, dk_id);
		ok = dk && sealed &&
		     open_sealed(dk->key, aad, al, sealed, n, out, TEXT_MAX, &len) == 0 && len > 0;
		pthread_mutex_unlock(&v->mu);
		OPENSSL_cleanse(out, sizeof(out));
	}
	db_reset(st);
	return ok;
}

/* Walks table t a page at a time and reports every row that does not open. 0, or -1. */
static int verify_table(struct vault *v, struct db *db, const struct sealed_table *t,
			struct verify_report *rep, char (*page)[2][ID_MAX])
{
	char after_m[ID_MAX] = "", after_id[ID_MAX] = "";
	for (;;) {
		struct db_stmt *st = db_prepare(db, t->page_sql);
		if (!st)
			return -1;
		db_bind_text(st, 1, after_m, -1);
		db_bind_text(st, 2, after_id, -1);
		db_bind_int64(st, 3, PAGE_ROWS);
		int np = 0, step;
		while (np < PAGE_ROWS && (step = db_step(st)) == DB_ROW) {
			const char *m = db_col_text(st, 0, NULL), *id = db_col_text(st, 1, NULL);
			if (!m || !id || strlen(m) >= ID_MAX || strlen(id) >= ID_MAX) {
				/* not an id Tender made; the cursor could not step past it */
				verify_fail(rep, "vault", "%s holds a malformed id", t->table);
				step = DB_ERR;
				break;
			}
			str_copy(page[np][0], ID_MAX, m);
			str_copy(page[np][1], ID_MAX, id);
			np++;
		}
		db_reset(st);
		if (step < 0)
			return -1;
		for (int i = 0; i < np; i++)
			if (!sealed_row_ok(v, db, t, page[i][0], page[i][1]))
				verify_fail(rep, "vault",
					    "%s %s / %s does not decrypt and authenticate", t->what,
					    page[i][0], page[i][1]);
		if (np < PAGE_ROWS)
			return 0;
		str_copy(after_m, sizeof(after_m), page[np - 1][0]);
		str_copy(after_id, sizeof(after_id), page[np - 1][1]);
	}
}

int vault_verify(struct vault *v, struct db *db, struct verify_report *rep)
{
	rep->checks++;
	char(*page)[2][ID_MAX] = calloc(PAGE_ROWS, sizeof(*page));
	if (!page)
		return -1;
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < sizeof(sealed_tables) / sizeof(*sealed_tables); i++)
		rc = verify_table(v, db, &sealed_tables[i], rep, page);
	free(page);
	return rc;
}
