/* The vault: keys, sealing, reveal (see vault.h for the design). */
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
#include "core/log.h"
#include "http/errors.h"
#include "store/store.h"
#include "vault/testcards.h"
#include "verify/verify.h"

#define KEY_LEN 32
#define NONCE_LEN 12
#define TAG_LEN 16
#define DATA_KEYS_MAX 64
#define KEYFILE_MAX 256
#define PAN_MAX 19
static const char KEYFILE_MAGIC[] = "tender-master-key v1 ";
static const char CHECK_PLAINTEXT[] = "tender vault check value v1";

struct data_key {
	char id[ID_MAX];
	unsigned char key[KEY_LEN];
};

/* Everything secret lives in one mlock()ed, MADV_DONTDUMP mapping. */
struct vault_keys {
	unsigned char master[KEY_LEN];
	unsigned char kek[KEY_LEN];
	unsigned char check[KEY_LEN];
	struct data_key dks[DATA_KEYS_MAX];
	size_t ndks;
	char active[ID_MAX];
};

struct vault {
	struct vault_keys *k;
	size_t map_len;
	char key_id[17];
	pthread_mutex_t mu;
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

/* out = nonce || ciphertext || tag */
static int seal(const unsigned char *key, const unsigned char *aad, size_t aad_len,
                const unsigned char *pt, size_t pt_len, unsigned char *out)
{
	unsigned char *nonce = out, *ct = out + NONCE_LEN, *tag = out + NONCE_LEN + pt_len;
	if (RAND_bytes(nonce, NONCE_LEN) != 1)
		return -1;
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int len = 0, ok = c && EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, key, nonce) == 1 &&
	                  EVP_EncryptUpdate(c, NULL, &len, aad, (int)aad_len) == 1 &&
	                  EVP_EncryptUpdate(c, ct, &len, pt, (int)pt_len) == 1 &&
	                  EVP_EncryptFinal_ex(c, ct + len, &len) == 1 &&
	                  EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, TAG_LEN, tag) == 1;
	EVP_CIPHER_CTX_free(c);
	return ok ? 0 : -1;
}

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
	int ok = c && EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, key, in) == 1 &&
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

static void hex(const unsigned char *p, size_t n, char *out)
{
	static const char h[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = h[p[i] >> 4];
		out[2 * i + 1] = h[p[i] & 15];
	}
	out[2 * n] = '\0';
}

/* ---- key file ---- */

int vault_keygen(const char *path, char *err, size_t errlen)
{
	unsigned char key[KEY_LEN];
	char line[sizeof(KEYFILE_MAGIC) + 2 * KEY_LEN + 2];
	if (RAND_bytes(key, KEY_LEN) != 1) {
		snprintf(err, errlen, "no randomness available");
		return -1;
	}
	memcpy(line, KEYFILE_MAGIC, sizeof(KEYFILE_MAGIC) - 1);
	hex(key, KEY_LEN, line + sizeof(KEYFILE_MAGIC) - 1);
	size_t n = strlen(line);
	line[n++] = '\n';
	OPENSSL_cleanse(key, sizeof(key));
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "cannot create %s: %s", path,
		         errno == EEXIST ? "it exists already (refusing to overwrite a key)"
		                         : strerror(errno));
		OPENSSL_cleanse(line, sizeof(line));
		return -1;
	}
	ssize_t w = write(fd, line, n);
	int ok = w == (ssize_t)n && fsync(fd) == 0;
	close(fd);
	OPENSSL_cleanse(line, sizeof(line));
	if (!ok) {
		snprintf(err, errlen, "cannot write %s", path);
		unlink(path);
		return -1;
	}
	return 0;
}

static int read_key_file(const char *path, unsigned char *key, char *err, size_t errlen)
{
	struct stat sb;
	if (stat(path, &sb) != 0) {
		snprintf(err, errlen, "master key file %s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(sb.st_mode)) {
		snprintf(err, errlen, "master key file %s is not a regular file", path);
		return -1;
	}
	if (sb.st_mode & 077) {
		snprintf(err, errlen,
		         "master key file %s is accessible by group or others (mode %03o); "
		         "chmod 600 it",
		         path, (unsigned)(sb.st_mode & 0777));
		return -1;
	}
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "master key file %s is not readable: %s", path,
		         strerror(errno));
		return -1;
	}
	char buf[KEYFILE_MAX];
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	int rc = -1;
	size_t m = sizeof(KEYFILE_MAGIC) - 1;
	if (n > 0) {
		buf[n] = '\0';
		while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
			buf[--n] = '\0';
		if ((size_t)n == m + 2 * KEY_LEN && memcmp(buf, KEYFILE_MAGIC, m) == 0) {
			rc = 0;
			for (size_t i = 0; i < KEY_LEN && rc == 0; i++) {
				unsigned v = 0;
				for (int k = 0; k < 2; k++) {
					char ch = buf[m + 2 * i + (size_t)k];
					int d = ch >= '0' && ch <= '9'   ? ch - '0'
					        : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
					                                 : -1;
					if (d < 0)
						rc = -1;
					v = v * 16 + (unsigned)(d < 0 ? 0 : d);
				}
				key[i] = (unsigned char)v;
			}
		}
	}
	OPENSSL_cleanse(buf, sizeof(buf));
	if (rc != 0)
		snprintf(err, errlen, "master key file %s is not a Tender master key (make one with "
		                      "tender keygen)",
		         path);
	return rc;
}

int vault_open(struct vault **ret, const char *key_file, char *err, size_t errlen)
{
	/* no core dumps, no ptrace by other users: the key is in this process's memory */
	prctl(PR_SET_DUMPABLE, 0);
	struct vault *v = calloc(1, sizeof(*v));
	if (!v) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	long page = sysconf(_SC_PAGESIZE);
	v->map_len = (sizeof(struct vault_keys) + (size_t)page - 1) & ~((size_t)page - 1);
	void *mem = mmap(NULL, v->map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED) {
		snprintf(err, errlen, "cannot map key memory");
		free(v);
		return -1;
	}
	v->k = mem;
	if (mlock(mem, v->map_len) != 0)
		log_msg(LOG_WARN, "vault: cannot mlock key memory (%s)", strerror(errno));
	madvise(mem, v->map_len, MADV_DONTDUMP);
	pthread_mutex_init(&v->mu, NULL);
	if (read_key_file(key_file, v->k->master, err, errlen) != 0 ||
	    hkdf(v->k->master, "kek", 3, v->k->kek) != 0 ||
	    hkdf(v->k->master, "check", 5, v->k->check) != 0) {
		if (!err[0])
			snprintf(err, errlen, "cannot derive keys");
		vault_free(v);
		return -1;
	}
	unsigned char id[32];
	unsigned int idl = 0;
	HMAC(EVP_sha256(), v->k->master, KEY_LEN, (const unsigned char *)"tender-key-id", 13, id,
	     &idl);
	hex(id, 8, v->key_id);
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

/* ---- store binding, data keys ---- */

static const char SQL_META_GET[] = "SELECT master_key_id, check_value FROM vault_meta WHERE id = 1";
static const char SQL_META_PUT[] =
    "INSERT INTO vault_meta (id, master_key_id, check_value) VALUES (1, $1, $2)";
static const char SQL_DK_ACTIVE[] =
    "SELECT id FROM vault_data_keys WHERE state = 'active' ORDER BY created DESC, id DESC LIMIT 1";
static const char SQL_DK_GET[] = "SELECT wrapped FROM vault_data_keys WHERE id = $1";
static const char SQL_DK_PUT[] = "INSERT INTO vault_data_keys (id, master_key_id, wrapped, state,"
                                 " created) VALUES ($1, $2, $3, 'active', $4)";

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

/* Unwraps data key id (under the lock) into the cache. */
static struct data_key *dk_get(struct vault *v, struct db *db, const char *id)
{
	for (size_t i = 0; i < v->k->ndks; i++)
		if (strcmp(v->k->dks[i].id, id) == 0)
			return &v->k->dks[i];
	if (v->k->ndks >= DATA_KEYS_MAX)
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
		if (w && open_sealed(v->k->kek, (const unsigned char *)id, strlen(id), w, n, slot->key,
		                     KEY_LEN, &len) == 0 &&
		    len == KEY_LEN) {
			snprintf(slot->id, sizeof(slot->id), "%s", id);
			v->k->ndks++;
			dk = slot;
		}
	}
	db_reset(st);
	return dk;
}

int vault_attach(struct vault *v, struct db *db, char *err, size_t errlen)
{
	pthread_mutex_lock(&v->mu);
	int rc = -1;
	struct db_stmt *st = db_prepare(db, SQL_META_GET);
	if (!st)
		goto out;
	int step = db_step(st);
	if (step == DB_ROW) {
		size_t n = 0;
		const unsigned char *cv = db_col_blob(st, 1, &n);
		bool ok = cv && check_value_ok(v, cv, n);
		db_reset(st);
		if (!ok) {
			snprintf(err, errlen,
			         "the master key file does not match this store (the master key does "
			         "not decrypt the store's check value)");
			goto out;
		}
	} else {
		db_reset(st);
		unsigned char cv[NONCE_LEN + sizeof(CHECK_PLAINTEXT) + TAG_LEN];
		if (check_value_make(v, cv) != 0)
			goto out;
		st = db_prepare(db, SQL_META_PUT);
		if (!st)
			goto out;
		db_bind_text(st, 1, v->key_id, -1);
		db_bind_blob(st, 2, cv, NONCE_LEN + sizeof(CHECK_PLAINTEXT) - 1 + TAG_LEN);
		if (db_step_done(st) != DB_OK)
			goto out;
	}
	st = db_prepare(db, SQL_DK_ACTIVE);
	if (!st)
		goto out;
	char active[ID_MAX] = "";
	if (db_step(st) == DB_ROW)
		snprintf(active, sizeof(active), "%s", db_col_text(st, 0, NULL));
	db_reset(st);
	if (!active[0]) {
		unsigned char key[KEY_LEN], wrapped[NONCE_LEN + KEY_LEN + TAG_LEN];
		id_new(active, "dk_");
		if (RAND_bytes(key, KEY_LEN) != 1 ||
		    seal(v->k->kek, (const unsigned char *)active, strlen(active), key, KEY_LEN,
		         wrapped) != 0) {
			OPENSSL_cleanse(key, sizeof(key));
			goto out;
		}
		OPENSSL_cleanse(key, sizeof(key));
		st = db_prepare(db, SQL_DK_PUT);
		if (!st)
			goto out;
		db_bind_text(st, 1, active, -1);
		db_bind_text(st, 2, v->key_id, -1);
		db_bind_blob(st, 3, wrapped, sizeof(wrapped));
		db_bind_int64(st, 4, clock_now());
		if (db_step_done(st) != DB_OK)
			goto out;
	}
	if (!dk_get(v, db, active)) {
		snprintf(err, errlen, "cannot unwrap the active data key: the master key does not "
		                      "match this store");
		goto out;
	}
	snprintf(v->k->active, sizeof(v->k->active), "%s", active);
	rc = 0;
out:
	if (rc != 0 && !err[0])
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

/* Copies the digits of number (spaces and dashes dropped) into out. 0, or the error code. */
static int digits_of(const char *number, char *out, size_t *ret_n)
{
	size_t n = 0;
	for (const char *p = number; *p; p++) {
		if (*p == ' ' || *p == '-')
			continue;
		if (*p < '0' || *p > '9' || n >= PAN_MAX) {
			OPENSSL_cleanse(out, PAN_MAX + 1);
			return ERR_CARD_INVALID_NUMBER;
		}
		out[n++] = *p;
	}
	out[n] = '\0';
	*ret_n = n;
	if (n < 12) {
		OPENSSL_cleanse(out, PAN_MAX + 1);
		return ERR_CARD_INVALID_NUMBER;
	}
	return 0;
}

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

int vault_card_validate(const char *number, const char *exp_month, const char *exp_year,
                        const char *cvc, int64_t now, struct vault_card_info *ret)
{
	char d[PAN_MAX + 1];
	size_t n = 0;
	memset(ret, 0, sizeof(*ret));
	int rc = digits_of(number ? number : "", d, &n);
	if (rc != 0)
		return rc;
	if (!luhn_ok(d, n)) {
		OPENSSL_cleanse(d, sizeof(d));
		return ERR_CARD_INCORRECT_NUMBER;
	}
	const struct testcard *tc = testcard_by_number(d);
	snprintf(ret->brand, sizeof(ret->brand), "%s", tc ? tc->brand : brand_of(d, n));
	snprintf(ret->funding, sizeof(ret->funding), "%s", tc ? tc->funding : "credit");
	snprintf(ret->country, sizeof(ret->country), "%s", tc ? tc->country : "US");
	memcpy(ret->last4, d + n - 4, 4);
	ret->last4[4] = '\0';
	OPENSSL_cleanse(d, sizeof(d));
	struct tm tm;
	time_t t = (time_t)now;
	gmtime_r(&t, &tm);
	int year_now = tm.tm_year + 1900, month_now = tm.tm_mon + 1;
	int m, y;
	if (parse_small(exp_month, &m) != 0 || m < 1 || m > 12)
		return ERR_CARD_INVALID_EXPIRY_MONTH;
	if (parse_small(exp_year, &y) != 0)
		return ERR_CARD_INVALID_EXPIRY_YEAR;
	if (y < 100)
		y += 2000;
	if (y < year_now || y > year_now + 50)
		return ERR_CARD_INVALID_EXPIRY_YEAR;
	if (y == year_now && m < month_now)
		return ERR_CARD_INVALID_EXPIRY_MONTH;
	ret->exp_month = m;
	ret->exp_year = y;
	if (cvc && *cvc) {
		size_t want = strcmp(ret->brand, "amex") == 0 ? 4 : 3;
		size_t cl = strlen(cvc);
		bool digits = true;
		for (size_t i = 0; i < cl; i++)
			digits = digits && cvc[i] >= '0' && cvc[i] <= '9';
		if (!digits || cl != want)
			return ERR_CARD_INVALID_CVC;
		ret->cvc_provided = true;
	}
	return 0;
}

/* ---- sealing ---- */

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

static void fingerprint(struct vault *v, const char *merchant_id, const char *digits, char out[24])
{
	static const char B62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
	char info[ID_MAX + 16];
	int il = snprintf(info, sizeof(info), "fingerprint:%s", merchant_id);
	unsigned char key[KEY_LEN], mac[32];
	unsigned int ml = 0;
	hkdf(v->k->master, info, (size_t)il, key);
	HMAC(EVP_sha256(), key, KEY_LEN, (const unsigned char *)digits, strlen(digits), mac, &ml);
	for (int i = 0; i < 16; i++)
		out[i] = B62[mac[i] % 62];
	out[16] = '\0';
	OPENSSL_cleanse(key, sizeof(key));
	OPENSSL_cleanse(mac, sizeof(mac));
}

static const char SQL_CARD_PUT[] =
    "INSERT INTO vault_cards (merchant_id, id, data_key_id, sealed, fingerprint, exp_month,"
    " exp_year, cvc_provided, created) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";

static int store_digits(struct vault *v, struct db *db, const char *merchant_id,
                        const char *card_id, const char *d, const struct vault_card_info *info,
                        int64_t now, char ret_fp[24])
{
	unsigned char aad[2 * ID_MAX + 1], sealed[NONCE_LEN + PAN_MAX + TAG_LEN];
	size_t al = aad_for(merchant_id, card_id, aad, sizeof(aad));
	size_t n = strlen(d);
	pthread_mutex_lock(&v->mu);
	struct data_key *dk = v->k->active[0] ? dk_get(v, db, v->k->active) : NULL;
	int ok = dk && al && seal(dk->key, aad, al, (const unsigned char *)d, n, sealed) == 0;
	char dk_id[ID_MAX];
	snprintf(dk_id, sizeof(dk_id), "%s", dk ? dk->id : "");
	pthread_mutex_unlock(&v->mu);
	if (!ok)
		return VAULT_ERR_NOKEY;
	fingerprint(v, merchant_id, d, ret_fp);
	struct db_stmt *st = db_prepare(db, SQL_CARD_PUT);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, card_id, -1);
	db_bind_text(st, 3, dk_id, -1);
	db_bind_blob(st, 4, sealed, NONCE_LEN + n + TAG_LEN);
	db_bind_text(st, 5, ret_fp, -1);
	db_bind_int64(st, 6, info->exp_month);
	db_bind_int64(st, 7, info->exp_year);
	db_bind_int64(st, 8, info->cvc_provided);
	db_bind_int64(st, 9, now);
	return db_step_done(st);
}

int vault_card_store(struct vault *v, struct db *db, const char *merchant_id, const char *card_id,
                     const char *number, const struct vault_card_info *info, int64_t now,
                     char ret_fingerprint[24])
{
	char d[PAN_MAX + 1];
	size_t n = 0;
	if (digits_of(number, d, &n) != 0)
		return ERR_CARD_INVALID_NUMBER;
	int rc = store_digits(v, db, merchant_id, card_id, d, info, now, ret_fingerprint);
	OPENSSL_cleanse(d, sizeof(d));
	return rc;
}

bool vault_is_test_alias(const char *ref)
{
	return testcard_by_alias(ref) != NULL;
}

static void alias_info(const struct testcard *tc, int64_t now, struct vault_card_info *info)
{
	memset(info, 0, sizeof(*info));
	snprintf(info->brand, sizeof(info->brand), "%s", tc->brand);
	snprintf(info->funding, sizeof(info->funding), "%s", tc->funding);
	snprintf(info->country, sizeof(info->country), "%s", tc->country);
	size_t n = strlen(tc->number);
	memcpy(info->last4, tc->number + n - 4, 5);
	struct tm tm;
	time_t t = (time_t)now;
	gmtime_r(&t, &tm);
	info->exp_month = tm.tm_mon + 1;
	info->exp_year = tm.tm_year + 1900 + 1; /* Stripe's aliases carry next year's expiry */
	info->cvc_provided = true;
}

int vault_alias_info(struct vault *v, const char *merchant_id, const char *alias, int64_t now,
                     struct vault_card_info *ret_info, char ret_fingerprint[24])
{
	const struct testcard *tc = testcard_by_alias(alias);
	if (!tc)
		return DB_NOTFOUND;
	alias_info(tc, now, ret_info);
	fingerprint(v, merchant_id, tc->number, ret_fingerprint);
	return 0;
}

int vault_alias_reveal(const char *alias, vault_reveal_fn fn, void *ctx)
{
	const struct testcard *tc = testcard_by_alias(alias);
	if (!tc)
		return DB_NOTFOUND;
	struct vault_secret s;
	memset(&s, 0, sizeof(s));
	snprintf(s.number, sizeof(s.number), "%s", tc->number);
	struct tm tm;
	time_t t = (time_t)clock_now();
	gmtime_r(&t, &tm);
	s.exp_month = tm.tm_mon + 1;
	s.exp_year = tm.tm_year + 1900 + 1;
	s.cvc_provided = true;
	s.tc = tc;
	int rc = fn(&s, ctx);
	OPENSSL_cleanse(&s, sizeof(s));
	return rc;
}

int vault_card_store_alias(struct vault *v, struct db *db, const char *merchant_id,
                           const char *card_id, const char *alias, int64_t now,
                           struct vault_card_info *info, char ret_fingerprint[24])
{
	const struct testcard *tc = testcard_by_alias(alias);
	if (!tc)
		return DB_NOTFOUND;
	alias_info(tc, now, info);
	return store_digits(v, db, merchant_id, card_id, tc->number, info, now, ret_fingerprint);
}

/* ---- reveal ---- */

enum acq_behavior vault_secret_behavior(const struct vault_secret *s)
{
	return s->tc ? s->tc->behavior : ACQ_SUCCEED;
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

/* Decrypts into s. 0, DB_NOTFOUND or VAULT_ERR_TAMPERED. */
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
	snprintf(dk_id, sizeof(dk_id), "%s", db_col_text(st, 0, NULL) ? db_col_text(st, 0, NULL) : "");
	size_t n = 0;
	const unsigned char *blob = db_col_blob(st, 1, &n);
	unsigned char sealed[NONCE_LEN + PAN_MAX + TAG_LEN + 8];
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
	struct data_key *dk = dk_get(v, db, dk_id);
	int ok = sized && dk && al &&
	         open_sealed(dk->key, aad, al, sealed, n, (unsigned char *)s->number, PAN_MAX,
	                     &len) == 0;
	pthread_mutex_unlock(&v->mu);
	if (!ok) {
		OPENSSL_cleanse(s, sizeof(*s));
		return VAULT_ERR_TAMPERED;
	}
	s->number[len] = '\0';
	s->tc = testcard_by_number(s->number);
	return 0;
}

int vault_card_reveal(struct vault *v, struct db *db, const char *merchant_id,
                      const char *card_id, const char *purpose, vault_reveal_fn fn, void *ctx,
                      struct vault_access *ret_access)
{
	struct vault_secret s;
	memset(&s, 0, sizeof(s));
	int rc = decrypt_card(v, db, merchant_id, card_id, &s);
	if (rc == VAULT_ERR_TAMPERED) {
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
	if (ret_access) {
		snprintf(ret_access->merchant_id, sizeof(ret_access->merchant_id), "%s", merchant_id);
		snprintf(ret_access->card_id, sizeof(ret_access->card_id), "%s", card_id);
		snprintf(ret_access->purpose, sizeof(ret_access->purpose), "%s", purpose);
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

struct rotate_ctx {
	struct vault *old, *new;
	char err[512];
	int keys;
};

static const char SQL_DK_ALL[] = "SELECT id, wrapped FROM vault_data_keys ORDER BY id";
static const char SQL_DK_REWRAP[] =
    "UPDATE vault_data_keys SET wrapped = $2, master_key_id = $3 WHERE id = $1";
static const char SQL_META_ROTATE[] =
    "UPDATE vault_meta SET master_key_id = $1, check_value = $2, rotated = $3 WHERE id = 1";

static int rotate_fn(struct db *db, void *p)
{
	struct rotate_ctx *c = p;
	struct db_stmt *st = db_prepare(db, SQL_META_GET);
	if (!st)
		return -1;
	bool ok = false;
	if (db_step(st) == DB_ROW) {
		size_t n = 0;
		const unsigned char *cv = db_col_blob(st, 1, &n);
		ok = cv && check_value_ok(c->old, cv, n);
	}
	db_reset(st);
	if (!ok) {
		snprintf(c->err, sizeof(c->err), "the old master key does not match this store");
		return -1;
	}
	char ids[256][ID_MAX];
	int nk = 0;
	st = db_prepare(db, SQL_DK_ALL);
	if (!st)
		return -1;
	while (nk < 256 && db_step(st) == DB_ROW)
		snprintf(ids[nk++], ID_MAX, "%s", db_col_text(st, 0, NULL));
	db_reset(st);
	for (int i = 0; i < nk; i++) {
		struct data_key *dk = dk_get(c->old, db, ids[i]);
		unsigned char wrapped[NONCE_LEN + KEY_LEN + TAG_LEN];
		if (!dk || seal(c->new->k->kek, (const unsigned char *)ids[i], strlen(ids[i]), dk->key,
		                KEY_LEN, wrapped) != 0) {
			snprintf(c->err, sizeof(c->err), "data key %s does not unwrap", ids[i]);
			return -1;
		}
		st = db_prepare(db, SQL_DK_REWRAP);
		if (!st)
			return -1;
		db_bind_text(st, 1, ids[i], -1);
		db_bind_blob(st, 2, wrapped, sizeof(wrapped));
		db_bind_text(st, 3, c->new->key_id, -1);
		if (db_step_done(st) != DB_OK)
			return -1;
		c->keys++;
	}
	unsigned char cv[NONCE_LEN + sizeof(CHECK_PLAINTEXT) + TAG_LEN];
	if (check_value_make(c->new, cv) != 0)
		return -1;
	st = db_prepare(db, SQL_META_ROTATE);
	if (!st)
		return -1;
	db_bind_text(st, 1, c->new->key_id, -1);
	db_bind_blob(st, 2, cv, NONCE_LEN + sizeof(CHECK_PLAINTEXT) - 1 + TAG_LEN);
	db_bind_int64(st, 3, clock_now());
	return db_step_done(st) == DB_OK ? 0 : -1;
}

int vault_rotate(struct store *s, const char *old_key_file, const char *new_key_file, char *err,
                 size_t errlen)
{
	struct rotate_ctx c;
	memset(&c, 0, sizeof(c));
	if (vault_open(&c.old, old_key_file, err, errlen) != 0)
		return -1;
	if (vault_open(&c.new, new_key_file, err, errlen) != 0) {
		vault_free(c.old);
		return -1;
	}
	int rc = strcmp(c.old->key_id, c.new->key_id) == 0 ? -1 : 0;
	if (rc != 0)
		snprintf(err, errlen, "the new master key is the old one");
	else if (store_each_shard_write(s, rotate_fn, &c) != 0) {
		snprintf(err, errlen, "%s", c.err[0] ? c.err : "rotation failed; nothing changed");
		rc = -1;
	} else {
		snprintf(err, errlen, "re-wrapped %d data key(s) under master key %s", c.keys,
		         c.new->key_id);
	}
	vault_free(c.old);
	vault_free(c.new);
	return rc;
}

struct status_ctx {
	struct vault *v;
	struct buf *out;
};

static const char SQL_STATUS_META[] = "SELECT master_key_id, rotated FROM vault_meta WHERE id = 1";
static const char SQL_STATUS_KEYS[] =
    "SELECT k.id, k.master_key_id, k.state, (SELECT COUNT(*) FROM vault_cards c WHERE"
    " c.data_key_id = k.id) FROM vault_data_keys k ORDER BY k.created, k.id";

static int status_fn(struct db *db, void *p)
{
	struct status_ctx *c = p;
	struct db_stmt *st = db_prepare(db, SQL_STATUS_META);
	if (!st)
		return -1;
	if (db_step(st) == DB_ROW) {
		const char *id = db_col_text(st, 0, NULL);
		buf_printf(c->out, "store master key: %s%s\n", id ? id : "?",
		           c->v && id && strcmp(id, c->v->key_id) == 0 ? " (matches the key file)"
		           : c->v                                       ? " (DOES NOT match the key file)"
		                                                        : "");
		if (!db_col_is_null(st, 1))
			buf_printf(c->out, "last rotated: %lld\n", (long long)db_col_int64(st, 1));
	} else {
		buf_puts(c->out, "store master key: none yet (the vault is set up at first serve)\n");
	}
	db_reset(st);
	st = db_prepare(db, SQL_STATUS_KEYS);
	if (!st)
		return -1;
	while (db_step(st) == DB_ROW)
		buf_printf(c->out, "data key %s: %s, wrapped by %s, %lld card(s)\n",
		           db_col_text(st, 0, NULL), db_col_text(st, 2, NULL), db_col_text(st, 1, NULL),
		           (long long)db_col_int64(st, 3));
	db_reset(st);
	return 0;
}

int vault_status(struct store *s, const char *key_file, struct buf *out, char *err,
                 size_t errlen)
{
	struct status_ctx c = {NULL, out};
	if (key_file && vault_open(&c.v, key_file, err, errlen) != 0)
		return -1;
	if (c.v)
		buf_printf(out, "key file master key: %s\n", c.v->key_id);
	int rc = store_each_shard_read(s, status_fn, &c);
	vault_free(c.v);
	return rc;
}

static const char SQL_CARDS_ALL[] = "SELECT merchant_id, id FROM vault_cards";

int vault_verify(struct vault *v, struct db *db, struct verify_report *rep)
{
	rep->checks++;
	struct db_stmt *st = db_prepare(db, SQL_CARDS_ALL);
	if (!st)
		return -1;
	char (*list)[2][ID_MAX] = NULL;
	size_t n = 0, cap = 0;
	while (db_step(st) == DB_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			void *p = realloc(list, cap * sizeof(*list));
			if (!p)
				break;
			list = p;
		}
		snprintf(list[n][0], ID_MAX, "%s", db_col_text(st, 0, NULL));
		snprintf(list[n][1], ID_MAX, "%s", db_col_text(st, 1, NULL));
		n++;
	}
	db_reset(st);
	for (size_t i = 0; i < n; i++) {
		struct vault_secret s;
		memset(&s, 0, sizeof(s));
		int rc = decrypt_card(v, db, list[i][0], list[i][1], &s);
		if (rc != 0 || !luhn_ok(s.number, strlen(s.number)))
			verify_fail(rep, "vault", "card %s / %s does not decrypt and authenticate",
			            list[i][0], list[i][1]);
		OPENSSL_cleanse(&s, sizeof(s));
	}
	free(list);
	return 0;
}
