#include "risk/model.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xgboost/c_api.h>

#include "core/clock.h"
#include "risk/synth.h"

/* In-place prediction parks the input in a "proxy" DMatrix. Passing none makes XGBoost build a
 * fresh one per call, and building one reads the cgroup CPU quota from /sys (three syscalls),
 * which more than doubles the cost of scoring a row (measured: ~45 us -> ~18 us). A proxy is
 * written by each prediction, so it cannot be shared by concurrent scorers: keep a small pool,
 * each scorer borrows one under a mutex (held only for the pop/push) and gives it back. When
 * all RISK_MODEL_PROXIES are out, the caller falls back to the slow path rather than waiting. */
#define RISK_MODEL_PROXIES 64

struct risk_model {
	BoosterHandle booster;
	int rounds;
	pthread_mutex_t lock;
	int nfree;    /* proxies idle in free_proxies[0..nfree) */
	int ncreated; /* proxies ever created, <= RISK_MODEL_PROXIES */
	DMatrixHandle free_proxies[RISK_MODEL_PROXIES];
};

static DMatrixHandle proxy_borrow(struct risk_model *m)
{
	DMatrixHandle h = NULL;
	bool create = false;
	pthread_mutex_lock(&m->lock);
	if (m->nfree > 0) {
		h = m->free_proxies[--m->nfree];
	} else if (m->ncreated < RISK_MODEL_PROXIES) {
		m->ncreated++;
		create = true;
	}
	pthread_mutex_unlock(&m->lock);
	if (create && XGProxyDMatrixCreate(&h) != 0) {
		pthread_mutex_lock(&m->lock);
		m->ncreated--;
		pthread_mutex_unlock(&m->lock);
		h = NULL;
	}
	return h;
}

static void proxy_return(struct risk_model *m, DMatrixHandle h)
{
	if (h == NULL)
		return;
	pthread_mutex_lock(&m->lock);
	/* nfree < ncreated <= RISK_MODEL_PROXIES: every handle out was counted in. */
	m->free_proxies[m->nfree++] = h;
	pthread_mutex_unlock(&m->lock);
}

/* XGBoost's last error can carry a multi-line C++ stack trace; keep the first line, which is the
 * reason, and drop the "[time] file:line: " prefix when present. */
static void xgb_error(char *err, size_t errlen, const char *what)
{
	const char *msg = XGBGetLastError();
	if (msg == NULL)
		msg = "";
	const char *p = strstr(msg, ": ");
	if (msg[0] == '[' && p != NULL && p - msg < 200)
		msg = p + 2;
	size_t n = strcspn(msg, "\n");
	if (n > 300)
		n = 300;
	snprintf(err, errlen, "%s: %.*s", what, (int)n, msg);
}

/* Only the fields XGBoost 1.6's in-place prediction reads: it parses this on every call, and
 * every key costs a std::stringstream in its JSON reader. */
static const char PREDICT_CONFIG[] = "{\"type\": 0, \"iteration_begin\": 0, "
				     "\"iteration_end\": 0, \"strict_shape\": false, "
				     "\"missing\": NaN, \"cache_id\": 0}";

int risk_model_score_rows(struct risk_model *m, const float *rows, size_t n, double *ret)
{
	if (n == 0 || n > RISK_MODEL_ROWS_MAX)
		return -EINVAL;
	/* The __array_interface__ for n rows of float32; "true" marks the buffer read-only. */
	char iface[160];
	int len =
	    snprintf(iface, sizeof(iface),
		     "{\"data\": [%" PRIuPTR ", true], \"shape\": [%zu, %d], \"typestr\": \"<f4\", "
		     "\"version\": 3}",
		     (uintptr_t)rows, n, (int)RISK_FEATURE_COUNT);
	if (len < 0 || (size_t)len >= sizeof(iface))
		return -EINVAL;
	const bst_ulong *shape = NULL;
	bst_ulong dim = 0;
	const float *out = NULL;
	DMatrixHandle proxy = proxy_borrow(m);
	int rc =
	    XGBoosterPredictFromDense(m->booster, iface, PREDICT_CONFIG, proxy, &shape, &dim, &out);
	proxy_return(m, proxy);
	/* out lives in this thread's XGBoost-local storage, so reading it after giving the
	 * proxy back is fine. */
	if (rc != 0)
		return -EIO;
	if (out == NULL || dim < 1 || shape == NULL || shape[0] != n)
		return -EIO;
	for (size_t i = 0; i < n; i++) {
		double p = (double)out[i];
		if (!(p >= 0.0 && p <= 1.0))
			return -ERANGE;
		ret[i] = p;
	}
	return 0;
}

int risk_model_score_vector(struct risk_model *m, const float *v, double *ret_probability)
{
	return risk_model_score_rows(m, v, 1, ret_probability);
}

int risk_model_score(struct risk_model *m, const struct risk_features *f, double *ret_probability)
{
	float v[RISK_FEATURE_COUNT];
	risk_features_to_vector(f, v, RISK_FEATURE_COUNT);
	return risk_model_score_vector(m, v, ret_probability);
}

/* Refuses models that would silently score garbage: wrong width, other column names, or an
 * objective whose output is not a probability. */
static int check_model(struct risk_model *m, char *err, size_t errlen)
{
	bst_ulong nfeat = 0;
	if (XGBoosterGetNumFeature(m->booster, &nfeat) != 0) {
		xgb_error(err, errlen, "cannot read model");
		return -EINVAL;
	}
	if (nfeat != RISK_FEATURE_COUNT) {
		snprintf(err, errlen, "model expects %" PRIu64 " features, this build has %d",
			 (uint64_t)nfeat, (int)RISK_FEATURE_COUNT);
		return -EINVAL;
	}
	bst_ulong nnames = 0;
	const char **names = NULL;
	if (XGBoosterGetStrFeatureInfo(m->booster, "feature_name", &nnames, &names) != 0) {
		xgb_error(err, errlen, "cannot read model feature names");
		return -EINVAL;
	}
	if (nnames != 0) {
		if (nnames != RISK_FEATURE_COUNT) {
			snprintf(err, errlen, "model has %" PRIu64 " feature names, expected %d",
				 (uint64_t)nnames, (int)RISK_FEATURE_COUNT);
			return -EINVAL;
		}
		for (size_t i = 0; i < RISK_FEATURE_COUNT; i++) {
			if (names[i] == NULL || strcmp(names[i], risk_feature_names[i]) != 0) {
				snprintf(err, errlen,
					 "model feature %zu is '%.64s', this build expects '%s'", i,
					 names[i] ? names[i] : "", risk_feature_names[i]);
				return -EINVAL;
			}
		}
	}
	bst_ulong clen = 0;
	const char *config = NULL;
	if (XGBoosterSaveJsonConfig(m->booster, &clen, &config) != 0 || config == NULL) {
		xgb_error(err, errlen, "cannot read model configuration");
		return -EINVAL;
	}
	if (strstr(config, "\"name\":\"binary:logistic\"") == NULL) {
		snprintf(err, errlen, "model objective is not binary:logistic");
		return -EINVAL;
	}
	if (strstr(config, "\"name\":\"gbtree\"") == NULL) {
		/* Thread-safe prediction is documented for tree boosters only. */
		snprintf(err, errlen, "model booster is not gbtree");
		return -EINVAL;
	}
	if (XGBoosterBoostedRounds(m->booster, &m->rounds) != 0 || m->rounds <= 0) {
		snprintf(err, errlen, "model has no trees");
		return -EINVAL;
	}
	return 0;
}

/* Common tail of the loaders: validate, pin to one thread, warm up, hand out. */
static int finish_load(struct risk_model *m, struct risk_model **ret, char *err, size_t errlen)
{
	int rc = check_model(m, err, errlen);
	if (rc != 0)
		goto fail;
	if (XGBoosterSetParam(m->booster, "nthread", "1") != 0) {
		xgb_error(err, errlen, "cannot configure model");
		rc = -EINVAL;
		goto fail;
	}
	/* XGBoost configures a loaded booster lazily on its first prediction; do that here, on
	 * one thread, so concurrent scorers never race into it. */
	float zero[RISK_FEATURE_COUNT] = {0};
	double p;
	rc = risk_model_score_vector(m, zero, &p);
	if (rc != 0) {
		xgb_error(err, errlen, "model cannot score");
		goto fail;
	}
	*ret = m;
	return 0;
fail:
	risk_model_free(m);
	return rc;
}

static struct risk_model *model_new(char *err, size_t errlen)
{
	struct risk_model *m = calloc(1, sizeof(*m));
	if (m == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (pthread_mutex_init(&m->lock, NULL) != 0) {
		snprintf(err, errlen, "cannot create mutex");
		free(m);
		return NULL;
	}
	if (XGBoosterCreate(NULL, 0, &m->booster) != 0) {
		xgb_error(err, errlen, "cannot create booster");
		pthread_mutex_destroy(&m->lock);
		free(m);
		return NULL;
	}
	return m;
}

int risk_model_load_file(struct risk_model **ret, const char *path, char *err, size_t errlen)
{
	/* Check readability ourselves: XGBoost's message for a missing file is a stack trace. */
	FILE *fp = fopen(path, "rb");
	if (fp == NULL) {
		int e = errno;
		snprintf(err, errlen, "cannot open fraud model %s: %s", path, strerror(e));
		return -e;
	}
	int c;
	do {
		c = fgetc(fp);
	} while (c == ' ' || c == '\n' || c == '\r' || c == '\t');
	fclose(fp);
	if (c == EOF) {
		snprintf(err, errlen, "fraud model %s is empty", path);
		return -EINVAL;
	}
	/* JSON and UBJ models both open an object; anything else (a CSV, the legacy binary
	 * format) would only get a C++ exception text from XGBoost. */
	if (c != '{') {
		snprintf(err, errlen, "fraud model %s is not an XGBoost JSON/UBJ model", path);
		return -EINVAL;
	}
	struct risk_model *m = model_new(err, errlen);
	if (m == NULL)
		return -ENOMEM;
	if (XGBoosterLoadModel(m->booster, path) != 0) {
		char why[320];
		xgb_error(why, sizeof(why), "parse error");
		snprintf(err, errlen, "cannot load fraud model %s: %s", path, why);
		risk_model_free(m);
		return -EINVAL;
	}
	int rc = finish_load(m, ret, err, errlen);
	if (rc != 0) {
		char why[320];
		snprintf(why, sizeof(why), "%s", err);
		snprintf(err, errlen, "fraud model %s rejected: %s", path, why);
	}
	return rc;
}

int risk_model_load_buffer(struct risk_model **ret, const void *data, size_t len, char *err,
			   size_t errlen)
{
	if (data == NULL || len == 0) {
		snprintf(err, errlen, "empty fraud model");
		return -EINVAL;
	}
	struct risk_model *m = model_new(err, errlen);
	if (m == NULL)
		return -ENOMEM;
	if (XGBoosterLoadModelFromBuffer(m->booster, data, (bst_ulong)len) != 0) {
		xgb_error(err, errlen, "cannot load fraud model");
		risk_model_free(m);
		return -EINVAL;
	}
	return finish_load(m, ret, err, errlen);
}

int risk_model_load_bundled(struct risk_model **ret, char *err, size_t errlen)
{
	size_t len = 0;
	const unsigned char *data = risk_model_bundled_data(&len);
	if (data == NULL || len == 0) {
		snprintf(err, errlen, "this tender was built without a bundled fraud model");
		return -ENOENT;
	}
	return risk_model_load_buffer(ret, data, len, err, errlen);
}

void risk_model_free(struct risk_model *m)
{
	if (m == NULL)
		return;
	for (int i = 0; i < m->nfree; i++)
		XGDMatrixFree(m->free_proxies[i]);
	if (m->booster != NULL)
		XGBoosterFree(m->booster);
	pthread_mutex_destroy(&m->lock);
	free(m);
}

int risk_model_rounds(const struct risk_model *m)
{
	return m->rounds;
}

#define BENCH_ROWS 1024

int risk_bench_score(int iterations, double *ret_us_per_call)
{
	if (iterations <= 0 || iterations > 100000000)
		return -EINVAL;
	char err[256];
	struct risk_model *m = NULL;
	int rc = risk_model_load_bundled(&m, err, sizeof(err));
	if (rc != 0)
		return rc;
	float(*rows)[RISK_FEATURE_COUNT] = calloc(BENCH_ROWS, sizeof(*rows));
	if (rows == NULL) {
		risk_model_free(m);
		return -ENOMEM;
	}
	struct risk_rng rng;
	risk_rng_seed(&rng, 42);
	for (size_t i = 0; i < BENCH_ROWS; i++)
		risk_synth_vector(&rng, rows[i]);
	double sink = 0.0;
	int64_t t0 = clock_mono_us();
	for (int i = 0; i < iterations && rc == 0; i++) {
		double p;
		rc = risk_model_score_vector(m, rows[(size_t)i % BENCH_ROWS], &p);
		sink += p;
	}
	int64_t t1 = clock_mono_us();
	free(rows);
	risk_model_free(m);
	if (rc != 0)
		return rc;
	if (!(sink >= 0.0))
		return -ERANGE;
	*ret_us_per_call = (double)(t1 - t0) / (double)iterations;
	return 0;
}
