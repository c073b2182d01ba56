#include <criterion/criterion.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xgboost/c_api.h>

#include "risk/model.h"
#include "risk/synth.h"

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
}

/* Loading `text` as a model file must fail with an error mentioning `want`. */
static void load_fails(const char *text, const char *want)
{
	char dir[] = "/tmp/risk_model_XXXXXX";
	cr_assert_not_null(mkdtemp(dir));
	char path[64];
	snprintf(path, sizeof(path), "%s/m.json", dir);
	write_text(path, text);
	struct risk_model *m = NULL;
	char err[512] = "";
	int rc = risk_model_load_file(&m, path, err, sizeof(err));
	unlink(path);
	rmdir(dir);
	cr_assert_lt(rc, 0, "loading '%s' should fail", text);
	cr_assert_null(m);
	cr_assert(strlen(err) > 0);
	cr_assert(strchr(err, '\n') == NULL, "error must be one line: %s", err);
	cr_assert(strstr(err, want) != NULL, "error '%s' lacks '%s'", err, want);
}

Test(risk_model, bad_model_files_fail_with_a_reason)
{
	struct risk_model *m = NULL;
	char err[512];
	cr_assert_lt(risk_model_load_file(&m, "/nonexistent/model.json", err, sizeof(err)), 0);
	cr_assert_null(m);
	cr_assert(strstr(err, "cannot open fraud model /nonexistent/model.json") != NULL, "%s",
		  err);

	load_fails("", "is empty");
	load_fails("amount,label\n1,0\n", "not an XGBoost JSON/UBJ model");
	load_fails("{\"learner\": 3}", "cannot load fraud model");
	load_fails("{not json", "cannot load fraud model");
	load_fails("{\"learner\": {\"attributes\": {}}, \"version\": [1, 7, 4]}",
		   "cannot load fraud model");

	cr_assert_lt(risk_model_load_buffer(&m, "", 0, err, sizeof(err)), 0);
	cr_assert_lt(risk_model_load_buffer(&m, "{]", 2, err, sizeof(err)), 0);
	cr_assert(strlen(err) > 0);
}

Test(risk_model, model_for_other_features_is_refused)
{
	/* A valid binary:logistic model, but trained on 3 columns. */
	float x[8][3];
	float y[8];
	for (int i = 0; i < 8; i++) {
		x[i][0] = (float)i;
		x[i][1] = (float)(i % 2);
		x[i][2] = 1.0f;
		y[i] = (float)(i % 2);
	}
	DMatrixHandle d;
	BoosterHandle b;
	cr_assert_eq(XGDMatrixCreateFromMat(&x[0][0], 8, 3, NAN, &d), 0);
	cr_assert_eq(XGDMatrixSetFloatInfo(d, "label", y, 8), 0);
	cr_assert_eq(XGBoosterCreate(&d, 1, &b), 0);
	cr_assert_eq(XGBoosterSetParam(b, "objective", "binary:logistic"), 0);
	cr_assert_eq(XGBoosterSetParam(b, "nthread", "1"), 0);
	cr_assert_eq(XGBoosterUpdateOneIter(b, 0, d), 0);
	char dir[] = "/tmp/risk_model_XXXXXX";
	cr_assert_not_null(mkdtemp(dir));
	char path[64];
	snprintf(path, sizeof(path), "%s/three.json", dir);
	cr_assert_eq(XGBoosterSaveModel(b, path), 0);
	XGBoosterFree(b);
	XGDMatrixFree(d);

	struct risk_model *m = NULL;
	char err[512];
	cr_assert_lt(risk_model_load_file(&m, path, err, sizeof(err)), 0);
	cr_assert_null(m);
	cr_assert(strstr(err, "model expects 3 features, this build has 22") != NULL, "%s", err);
	unlink(path);
	rmdir(dir);
}

Test(risk_model, bundled_model_loads_and_scores_in_unit_interval)
{
	size_t len = 0;
	const unsigned char *data = risk_model_bundled_data(&len);
	cr_assert_not_null(data, "built without the bundled model: add the CMake lines for "
				 "data/fraud/model.json (TENDER_HAVE_BUNDLED_MODEL)");
	cr_assert_gt(len, 1000);
	cr_assert_eq(data[0], '{');

	struct risk_model *m = NULL;
	char err[512] = "";
	cr_assert_eq(risk_model_load_bundled(&m, err, sizeof(err)), 0, "%s", err);
	cr_assert_gt(risk_model_rounds(m), 0);
	cr_assert_leq(risk_model_rounds(m), 100);

	struct risk_rng r;
	risk_rng_seed(&r, 2024);
	double legit = 0, fraud = 0;
	for (int i = 0; i < 400; i++) {
		struct risk_features f;
		int label;
		double p = -1;
		risk_synth_row(&r, &f, &label, NULL);
		cr_assert_eq(risk_model_score(m, &f, &p), 0);
		cr_assert(p >= 0.0 && p <= 1.0, "p = %f", p);
		struct risk_features t;
		risk_synth_row_kind(&r, RISK_SYNTH_CARD_TESTING, &t);
		cr_assert_eq(risk_model_score(m, &t, &p), 0);
		fraud += p;
		risk_synth_row_kind(&r, RISK_SYNTH_LEGIT, &t);
		cr_assert_eq(risk_model_score(m, &t, &p), 0);
		legit += p;
	}
	cr_assert_gt(fraud / 400, 0.5);
	cr_assert_lt(legit / 400, 0.1);

	/* An all-unknown attempt still scores. */
	struct risk_features empty;
	risk_features_init(&empty);
	double p = -1;
	cr_assert_eq(risk_model_score(m, &empty, &p), 0);
	cr_assert(p >= 0.0 && p <= 1.0);
	risk_model_free(m);
	risk_model_free(NULL);
}

#define THREADS 4
#define PER_THREAD 300
#define ROWS 64

struct shared {
	struct risk_model *m;
	float rows[ROWS][RISK_FEATURE_COUNT];
	double expect[ROWS];
	int mismatches[THREADS];
	int failures[THREADS];
};

struct worker_arg {
	struct shared *s;
	int id;
};

static void *worker(void *p)
{
	struct worker_arg *a = p;
	for (int i = 0; i < PER_THREAD; i++) {
		int k = (i * 7 + a->id * 13) % ROWS;
		double prob;
		if (risk_model_score_vector(a->s->m, a->s->rows[k], &prob) != 0)
			a->s->failures[a->id]++;
		else if (prob != a->s->expect[k])
			a->s->mismatches[a->id]++;
	}
	return NULL;
}

Test(risk_model, concurrent_scoring_is_consistent, .timeout = 60)
{
	char err[512] = "";
	struct risk_model *m = NULL;
	cr_assert_eq(risk_model_load_bundled(&m, err, sizeof(err)), 0, "%s", err);
	struct shared *s = calloc(1, sizeof(*s));
	cr_assert_not_null(s);
	s->m = m;
	struct risk_rng r;
	risk_rng_seed(&r, 9);
	for (int i = 0; i < ROWS; i++) {
		risk_synth_vector(&r, s->rows[i]);
		cr_assert_eq(risk_model_score_vector(s->m, s->rows[i], &s->expect[i]), 0);
	}
	pthread_t th[THREADS];
	struct worker_arg args[THREADS];
	for (int i = 0; i < THREADS; i++) {
		args[i] = (struct worker_arg){s, i};
		cr_assert_eq(pthread_create(&th[i], NULL, worker, &args[i]), 0);
	}
	for (int i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < THREADS; i++) {
		cr_assert_eq(s->failures[i], 0, "thread %d: %d failures", i, s->failures[i]);
		cr_assert_eq(s->mismatches[i], 0, "thread %d: %d mismatches", i, s->mismatches[i]);
	}
	risk_model_free(s->m);
	free(s);
}

/* Rows scored together get exactly the probability each gets alone, whatever the batch size. */
Test(risk_model, rows_scored_together_score_as_alone)
{
	char err[512] = "";
	struct risk_model *m = NULL;
	cr_assert_eq(risk_model_load_bundled(&m, err, sizeof(err)), 0, "%s", err);
	static float rows[RISK_MODEL_ROWS_MAX][RISK_FEATURE_COUNT];
	double alone[RISK_MODEL_ROWS_MAX], together[RISK_MODEL_ROWS_MAX];
	struct risk_rng r;
	risk_rng_seed(&r, 77);
	for (int i = 0; i < RISK_MODEL_ROWS_MAX; i++) {
		risk_synth_vector(&r, rows[i]);
		cr_assert_eq(risk_model_score_vector(m, rows[i], &alone[i]), 0);
	}
	for (size_t n = 1; n <= RISK_MODEL_ROWS_MAX; n = n * 2 + 1) {
		cr_assert_eq(risk_model_score_rows(m, &rows[0][0], n, together), 0);
		for (size_t i = 0; i < n; i++)
			cr_assert_eq(together[i], alone[i], "row %zu of %zu", i, n);
	}
	cr_assert_lt(risk_model_score_rows(m, &rows[0][0], 0, together), 0);
	cr_assert_lt(risk_model_score_rows(m, &rows[0][0], RISK_MODEL_ROWS_MAX + 1, together), 0);
	risk_model_free(m);
}

Test(risk_model, bench_runs)
{
	double us = -1;
	cr_assert_eq(risk_bench_score(200, &us), 0);
	cr_assert(us >= 0.0 && isfinite(us));
	cr_assert_lt(risk_bench_score(0, &us), 0);
}
