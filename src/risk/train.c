#include "risk/train.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xgboost/c_api.h>

#include "risk/decision.h"
#include "risk/features.h"
#include "risk/synth.h"

#define CSV_COLS (RISK_FEATURE_COUNT + 1)
#define CSV_LINE_MAX 1024

void risk_train_opts_default(struct risk_train_opts *o)
{
	o->rounds = 80;
	o->max_depth = 5;
	o->eta = 0.1;
	o->nthread = 2;
	o->split_seed = 20240601;
}

/* A growable row-major float matrix of RISK_FEATURE_COUNT columns plus labels. */
struct rows {
	float *x;
	float *y;
	size_t n, cap;
	size_t positives;
};

static int rows_push(struct rows *r, const float *v, float label)
{
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 4096;
		float *x = realloc(r->x, cap * RISK_FEATURE_COUNT * sizeof(float));
		if (x == NULL)
			return -ENOMEM;
		r->x = x;
		float *y = realloc(r->y, cap * sizeof(float));
		if (y == NULL)
			return -ENOMEM;
		r->y = y;
		r->cap = cap;
	}
	memcpy(r->x + r->n * RISK_FEATURE_COUNT, v, RISK_FEATURE_COUNT * sizeof(float));
	r->y[r->n] = label;
	r->n++;
	if (label > 0.5f)
		r->positives++;
	return 0;
}

static void rows_release(struct rows *r)
{
	free(r->x);
	free(r->y);
	memset(r, 0, sizeof(*r));
}

static int check_header(const char *line, char *err, size_t errlen)
{
	char want[CSV_LINE_MAX];
	size_t off = 0;
	for (size_t i = 0; i < RISK_FEATURE_COUNT; i++) {
		int n = snprintf(want + off, sizeof(want) - off, "%s,", risk_feature_names[i]);
		if (n < 0 || (size_t)n >= sizeof(want) - off)
			return -EINVAL;
		off += (size_t)n;
	}
	snprintf(want + off, sizeof(want) - off, "label");
	size_t len = strcspn(line, "\r\n");
	if (len != strlen(want) || memcmp(line, want, len) != 0) {
		snprintf(err, errlen,
			 "line 1: header does not match this build's feature columns (expected "
			 "\"%.60s...label\")",
			 want);
		return -EINVAL;
	}
	return 0;
}

static int parse_row(char *line, float *v, float *label)
{
	char *p = line;
	for (size_t i = 0; i < CSV_COLS; i++) {
		char *end;
		errno = 0;
		float x = strtof(p, &end);
		if (end == p || errno == ERANGE || !isfinite(x))
			return -EINVAL;
		char want = i + 1 < CSV_COLS ? ',' : '\0';
		if (want == '\0') {
			while (*end == '\r' || *end == '\n')
				end++;
		}
		if (*end != want)
			return -EINVAL;
		if (i < RISK_FEATURE_COUNT) {
			v[i] = x;
		} else {
			if (x != 0.0f && x != 1.0f)
				return -EINVAL;
			*label = x;
		}
		p = end + 1;
	}
	return 0;
}

/* Reads the CSV into a training and a held-out set. */
static int read_csv(const char *path, uint64_t split_seed, struct rows *train, struct rows *test,
		    char *err, size_t errlen)
{
	FILE *in = fopen(path, "r");
	if (in == NULL) {
		int e = errno;
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(e));
		return -e;
	}
	char line[CSV_LINE_MAX];
	int rc = 0;
	uint64_t lineno = 0, data_rows = 0;
	while (fgets(line, sizeof(line), in) != NULL) {
		lineno++;
		if (strchr(line, '\n') == NULL && !feof(in)) {
			snprintf(err, errlen, "line %llu: longer than %d bytes",
				 (unsigned long long)lineno, CSV_LINE_MAX - 1);
			rc = -EINVAL;
			break;
		}
		if (lineno == 1) {
			rc = check_header(line, err, errlen);
			if (rc != 0)
				break;
			continue;
		}
		if (line[0] == '\n' || line[0] == '\r' || line[0] == '\0')
			continue;
		if (data_rows >= RISK_SYNTH_MAX_ROWS) {
			snprintf(err, errlen, "more than %u data rows", RISK_SYNTH_MAX_ROWS);
			rc = -E2BIG;
			break;
		}
		float v[RISK_FEATURE_COUNT], label = 0.0f;
		if (parse_row(line, v, &label) != 0) {
			snprintf(err, errlen,
				 "line %llu: expected %d finite numbers and a 0/1 label, comma "
				 "separated",
				 (unsigned long long)lineno, (int)RISK_FEATURE_COUNT);
			rc = -EINVAL;
			break;
		}
		uint64_t h = split_seed ^ (data_rows * 0x9e3779b97f4a7c15ull);
		bool hold_out = risk_splitmix64(&h) % 5 == 0;
		rc = rows_push(hold_out ? test : train, v, label);
		if (rc != 0) {
			snprintf(err, errlen, "out of memory at line %llu",
				 (unsigned long long)lineno);
			break;
		}
		data_rows++;
	}
	if (rc == 0 && ferror(in)) {
		snprintf(err, errlen, "read error on %s", path);
		rc = -EIO;
	}
	fclose(in);
	if (rc == 0 && lineno == 0) {
		snprintf(err, errlen, "%s is empty", path);
		rc = -EINVAL;
	}
	if (rc == 0 && (train->positives == 0 || train->positives == train->n)) {
		snprintf(err, errlen, "training rows need both labels (have %zu rows, %zu fraud)",
			 train->n, train->positives);
		rc = -EINVAL;
	}
	if (rc == 0 && test->n == 0) {
		snprintf(err, errlen, "too few rows to hold out a test set");
		rc = -EINVAL;
	}
	return rc;
}

struct scored {
	float p;
	float y;
};

static int cmp_scored(const void *a, const void *b)
{
	float pa = ((const struct scored *)a)->p, pb = ((const struct scored *)b)->p;
	return (pa > pb) - (pa < pb);
}

double risk_auc(const float *p, const float *y, size_t n)
{
	struct scored *s = malloc((n ? n : 1) * sizeof(*s));
	if (s == NULL)
		return -1.0;
	double npos = 0, nneg = 0;
	for (size_t i = 0; i < n; i++) {
		s[i].p = p[i];
		s[i].y = y[i];
		if (y[i] > 0.5f)
			npos++;
		else
			nneg++;
	}
	if (npos == 0 || nneg == 0) {
		free(s);
		return -1.0;
	}
	qsort(s, n, sizeof(*s), cmp_scored);
	/* Mann-Whitney: sum of the (tie-averaged, 1-based) ranks of the positives. */
	double rank_sum = 0;
	for (size_t i = 0; i < n;) {
		size_t j = i;
		double tie_pos = 0;
		while (j < n && s[j].p == s[i].p) {
			if (s[j].y > 0.5f)
				tie_pos++;
			j++;
		}
		double avg_rank = ((double)(i + 1) + (double)j) / 2.0;
		rank_sum += tie_pos * avg_rank;
		i = j;
	}
	free(s);
	return (rank_sum - npos * (npos + 1) / 2.0) / (npos * nneg);
}

static void operating_point(struct risk_operating_point *op, const char *name, double threshold,
			    enum risk_decision at_least, const float *p, const float *y, size_t n)
{
	struct risk_thresholds t;
	risk_thresholds_default(&t);
	memset(op, 0, sizeof(*op));
	op->name = name;
	op->threshold = threshold;
	for (size_t i = 0; i < n; i++) {
		bool flagged = risk_decide(&t, (double)p[i]) >= at_least;
		bool fraud = y[i] > 0.5f;
		if (flagged && fraud)
			op->tp++;
		else if (flagged)
			op->fp++;
		else if (fraud)
			op->fn++;
		else
			op->tn++;
	}
	op->precision = op->tp + op->fp ? (double)op->tp / (double)(op->tp + op->fp) : 0.0;
	op->recall = op->tp + op->fn ? (double)op->tp / (double)(op->tp + op->fn) : 0.0;
}

static bool has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && strcmp(s + n - m, suffix) == 0;
}

static void xgb_err(char *err, size_t errlen, const char *what)
{
	const char *msg = XGBGetLastError();
	size_t n = msg ? strcspn(msg, "\n") : 0;
	snprintf(err, errlen, "%s: %.*s", what, (int)(n > 300 ? 300 : n), msg ? msg : "");
}

static int set_params(BoosterHandle b, const struct risk_train_opts *o, char *err, size_t errlen)
{
	char depth[16], eta[32], nthread[16];
	snprintf(depth, sizeof(depth), "%d", o->max_depth);
	snprintf(eta, sizeof(eta), "%.17g", o->eta);
	snprintf(nthread, sizeof(nthread), "%d", o->nthread);
	const char *params[][2] = {
	    {"booster", "gbtree"},
	    {"objective", "binary:logistic"},
	    {"tree_method", "hist"},
	    {"max_depth", depth},
	    {"eta", eta},
	    {"nthread", nthread},
	    {"min_child_weight", "2"},
	    {"lambda", "1"},
	    {"seed", "0"},
	    {"verbosity", "1"},
	};
	for (size_t i = 0; i < sizeof(params) / sizeof(params[0]); i++) {
		if (XGBoosterSetParam(b, params[i][0], params[i][1]) != 0) {
			xgb_err(err, errlen, "cannot set training parameter");
			return -EINVAL;
		}
	}
	return 0;
}

static int make_dmatrix(const struct rows *r, DMatrixHandle *ret, char *err, size_t errlen)
{
	DMatrixHandle d = NULL;
	if (XGDMatrixCreateFromMat(r->x, (bst_ulong)r->n, RISK_FEATURE_COUNT, NAN, &d) != 0) {
		xgb_err(err, errlen, "cannot build matrix");
		return -EINVAL;
	}
	if (XGDMatrixSetFloatInfo(d, "label", r->y, (bst_ulong)r->n) != 0 ||
	    XGDMatrixSetStrFeatureInfo(d, "feature_name", (const char **)risk_feature_names,
				       RISK_FEATURE_COUNT) != 0) {
		xgb_err(err, errlen, "cannot label matrix");
		XGDMatrixFree(d);
		return -EINVAL;
	}
	*ret = d;
	return 0;
}

static int validate_opts(const struct risk_train_opts *o, const char *output, char *err,
			 size_t errlen)
{
	if (o->rounds < 1 || o->rounds > RISK_TRAIN_MAX_ROUNDS) {
		snprintf(err, errlen, "rounds must be 1..%d", RISK_TRAIN_MAX_ROUNDS);
		return -EINVAL;
	}
	if (o->max_depth < 1 || o->max_depth > RISK_TRAIN_MAX_DEPTH) {
		snprintf(err, errlen, "max depth must be 1..%d", RISK_TRAIN_MAX_DEPTH);
		return -EINVAL;
	}
	if (!(o->eta > 0.0 && o->eta <= 1.0)) {
		snprintf(err, errlen, "eta must be in (0, 1]");
		return -EINVAL;
	}
	if (o->nthread < 1 || o->nthread > 64) {
		snprintf(err, errlen, "nthread must be 1..64");
		return -EINVAL;
	}
	/* XGBoost picks the file format from the extension; anything else would get the legacy
	 * binary format. */
	if (!has_suffix(output, ".json") && !has_suffix(output, ".ubj")) {
		snprintf(err, errlen, "output file name must end in .json (or .ubj)");
		return -EINVAL;
	}
	if (strlen(output) > 4000) {
		snprintf(err, errlen, "output path too long");
		return -ENAMETOOLONG;
	}
	return 0;
}

int risk_train_csv(const char *input, const char *output, const struct risk_train_opts *o,
		   struct risk_train_report *ret, char *err, size_t errlen)
{
	struct rows train = {0}, test = {0};
	DMatrixHandle dtrain = NULL, dtest = NULL;
	BoosterHandle booster = NULL;
	float *pred = NULL;
	struct risk_train_report rep;
	char tmp[4200];
	memset(&rep, 0, sizeof(rep));

	int rc = validate_opts(o, output, err, errlen);
	if (rc != 0)
		return rc;
	rc = read_csv(input, o->split_seed, &train, &test, err, errlen);
	if (rc != 0)
		goto out;
	rc = make_dmatrix(&train, &dtrain, err, errlen);
	if (rc != 0)
		goto out;
	rc = make_dmatrix(&test, &dtest, err, errlen);
	if (rc != 0)
		goto out;
	if (XGBoosterCreate(&dtrain, 1, &booster) != 0) {
		xgb_err(err, errlen, "cannot create booster");
		rc = -EINVAL;
		goto out;
	}
	rc = set_params(booster, o, err, errlen);
	if (rc != 0)
		goto out;
	for (int i = 0; i < o->rounds; i++) {
		if (XGBoosterUpdateOneIter(booster, i, dtrain) != 0) {
			xgb_err(err, errlen, "training failed");
			rc = -EIO;
			goto out;
		}
	}
	/* Names travel with the model so a loader can refuse a different column order. */
	if (XGBoosterSetStrFeatureInfo(booster, "feature_name", (const char **)risk_feature_names,
				       RISK_FEATURE_COUNT) != 0) {
		xgb_err(err, errlen, "cannot name model features");
		rc = -EIO;
		goto out;
	}

	const bst_ulong *shape = NULL;
	bst_ulong dim = 0;
	const float *out = NULL;
	if (XGBoosterPredictFromDMatrix(
		booster, dtest,
		"{\"type\": 0, \"training\": false, \"iteration_begin\": 0, "
		"\"iteration_end\": 0, \"strict_shape\": false}",
		&shape, &dim, &out) != 0 ||
	    dim < 1 || shape[0] != test.n) {
		xgb_err(err, errlen, "scoring the held-out rows failed");
		rc = -EIO;
		goto out;
	}
	pred = malloc(test.n * sizeof(float));
	if (pred == NULL) {
		snprintf(err, errlen, "out of memory");
		rc = -ENOMEM;
		goto out;
	}
	memcpy(pred, out, test.n * sizeof(float));

	rep.train_rows = train.n;
	rep.train_positives = train.positives;
	rep.test_rows = test.n;
	rep.test_positives = test.positives;
	rep.rounds = o->rounds;
	rep.auc = risk_auc(pred, test.y, test.n);
	double ll = 0;
	for (size_t i = 0; i < test.n; i++) {
		double p = fmin(fmax((double)pred[i], 1e-15), 1.0 - 1e-15);
		ll -= test.y[i] > 0.5f ? log(p) : log(1.0 - p);
	}
	rep.logloss = ll / (double)test.n;
	operating_point(&rep.points[0], "challenge_or_block (p >= 0.5)",
			RISK_THRESHOLD_CHALLENGE_DEFAULT, RISK_REVIEW_3DS, pred, test.y, test.n);
	operating_point(&rep.points[1], "block (p > 0.8)", RISK_THRESHOLD_BLOCK_DEFAULT, RISK_BLOCK,
			pred, test.y, test.n);

	/* Write next to the target then rename, so a crash never leaves half a model under the
	 * name a server loads. The temporary keeps the extension: XGBoost chooses the format by
	 * it. */
	snprintf(tmp, sizeof(tmp), "%s.tmp%ld%s", output, (long)getpid(),
		 has_suffix(output, ".json") ? ".json" : ".ubj");
	if (XGBoosterSaveModel(booster, tmp) != 0) {
		xgb_err(err, errlen, "cannot save model");
		unlink(tmp);
		rc = -EIO;
		goto out;
	}
	if (rename(tmp, output) != 0) {
		int e = errno;
		snprintf(err, errlen, "cannot rename model into %s: %s", output, strerror(e));
		unlink(tmp);
		rc = -e;
		goto out;
	}
	*ret = rep;
	rc = 0;
out:
	free(pred);
	if (booster)
		XGBoosterFree(booster);
	if (dtrain)
		XGDMatrixFree(dtrain);
	if (dtest)
		XGDMatrixFree(dtest);
	rows_release(&train);
	rows_release(&test);
	return rc;
}
