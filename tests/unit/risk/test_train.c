#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xgboost/c_api.h>

#include "risk/model.h"
#include "risk/synth.h"
#include "risk/train.h"

struct tmp {
	char dir[64];
	char csv[96];
	char model[96];
};

static void tmp_make(struct tmp *t)
{
	snprintf(t->dir, sizeof(t->dir), "/tmp/risk_train_XXXXXX");
	cr_assert_not_null(mkdtemp(t->dir));
	snprintf(t->csv, sizeof(t->csv), "%s/data.csv", t->dir);
	snprintf(t->model, sizeof(t->model), "%s/model.json", t->dir);
}

static void tmp_clean(struct tmp *t)
{
	unlink(t->csv);
	unlink(t->model);
	rmdir(t->dir);
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
}

static double mean_score(struct risk_model *m, enum risk_synth_kind kind, uint64_t seed)
{
	struct risk_rng r;
	risk_rng_seed(&r, seed);
	double sum = 0;
	for (int i = 0; i < 100; i++) {
		struct risk_features f;
		double p = -1;
		risk_synth_row_kind(&r, kind, &f);
		cr_assert_eq(risk_model_score(m, &f, &p), 0);
		cr_assert(p >= 0.0 && p <= 1.0);
		sum += p;
	}
	return sum / 100;
}

Test(risk_train, tiny_model_ranks_fraud_above_legit, .timeout = 60)
{
	struct tmp t;
	tmp_make(&t);
	char err[512] = "";
	cr_assert_eq(risk_synth_write_file(t.csv, 4000, 3, err, sizeof(err)), 0, "%s", err);
	struct risk_train_opts o;
	risk_train_opts_default(&o);
	o.rounds = 15;
	o.max_depth = 3;
	o.eta = 0.3;
	o.nthread = 1;
	struct risk_train_report rep;
	cr_assert_eq(risk_train_csv(t.csv, t.model, &o, &rep, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(rep.train_rows + rep.test_rows, 4000);
	/* A fifth held out, give or take the hash. */
	cr_assert(rep.test_rows > 650 && rep.test_rows < 950, "test rows %llu",
		  (unsigned long long)rep.test_rows);
	cr_assert_gt(rep.test_positives, 0);
	cr_assert(rep.auc > 0.6 && rep.auc <= 1.0, "auc %f", rep.auc);
	cr_assert_eq(rep.points[0].tp + rep.points[0].fp + rep.points[0].fn + rep.points[0].tn,
		     rep.test_rows);
	/* Blocking is stricter than challenging: it can only flag fewer. */
	cr_assert_leq(rep.points[1].tp + rep.points[1].fp, rep.points[0].tp + rep.points[0].fp);

	struct risk_model *m = NULL;
	cr_assert_eq(risk_model_load_file(&m, t.model, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(risk_model_rounds(m), 15);

	double legit = mean_score(m, RISK_SYNTH_LEGIT, 100);
	double testing = mean_score(m, RISK_SYNTH_CARD_TESTING, 101);
	double big = mean_score(m, RISK_SYNTH_BIG_TICKET, 102);
	cr_assert_gt(testing, legit + 0.2, "card testing %f vs legit %f", testing, legit);
	cr_assert_gt(big, legit + 0.1, "big ticket %f vs legit %f", big, legit);

	/* One hand-written obvious case each way. */
	struct risk_features fraud, ok;
	risk_features_init(&fraud);
	fraud.amount_usd_minor = 100;
	fraud.mcc = 8398;
	fraud.hour_utc = 3;
	fraud.funding = RISK_FUNDING_PREPAID;
	fraud.card_brand = RISK_BRAND_VISA;
	memcpy(fraud.card_country, "US", 3);
	fraud.card_count_1h = 25;
	fraud.card_sum_1h_usd_minor = 2500;
	fraud.card_count_24h = 30;
	fraud.card_sum_24h_usd_minor = 3000;
	fraud.card_attempts_30d = 32;
	fraud.card_declines_30d = 20;
	fraud.first_time_card = true;
	fraud.ip_count_1h = 60;
	risk_features_init(&ok);
	ok.amount_usd_minor = 4500;
	ok.currency_is_usd = true;
	ok.mcc = 5411;
	ok.hour_utc = 16;
	ok.funding = RISK_FUNDING_DEBIT;
	ok.card_brand = RISK_BRAND_VISA;
	memcpy(ok.card_country, "US", 3);
	memcpy(ok.billing_country, "US", 3);
	ok.card_count_24h = 1;
	ok.card_sum_24h_usd_minor = 3000;
	ok.card_attempts_30d = 6;
	double pf, pl;
	cr_assert_eq(risk_model_score(m, &fraud, &pf), 0);
	cr_assert_eq(risk_model_score(m, &ok, &pl), 0);
	cr_assert_gt(pf, pl, "obvious fraud %f <= obvious legit %f", pf, pl);
	cr_assert_gt(pf, 0.5);
	cr_assert_lt(pl, 0.5);
	risk_model_free(m);
	tmp_clean(&t);
}

Test(risk_train, dense_scoring_matches_dmatrix_prediction, .timeout = 60)
{
	/* Guards the hand-built __array_interface__ string: scoring through it must agree with
	 * XGBoost's own DMatrix path for the same rows. */
	struct tmp t;
	tmp_make(&t);
	char err[512] = "";
	cr_assert_eq(risk_synth_write_file(t.csv, 2000, 8, err, sizeof(err)), 0, "%s", err);
	struct risk_train_opts o;
	risk_train_opts_default(&o);
	o.rounds = 8;
	o.max_depth = 3;
	o.nthread = 1;
	struct risk_train_report rep;
	cr_assert_eq(risk_train_csv(t.csv, t.model, &o, &rep, err, sizeof(err)), 0, "%s", err);
	struct risk_model *m = NULL;
	cr_assert_eq(risk_model_load_file(&m, t.model, err, sizeof(err)), 0, "%s", err);

	enum { N = 64 };
	float rows[N][RISK_FEATURE_COUNT];
	struct risk_rng r;
	risk_rng_seed(&r, 77);
	for (int i = 0; i < N; i++) {
		struct risk_features f;
		risk_synth_row_kind(&r, (enum risk_synth_kind)(i % 4), &f);
		risk_features_to_vector(&f, rows[i], RISK_FEATURE_COUNT);
	}
	BoosterHandle b;
	DMatrixHandle d;
	cr_assert_eq(XGBoosterCreate(NULL, 0, &b), 0);
	cr_assert_eq(XGBoosterLoadModel(b, t.model), 0);
	cr_assert_eq(XGDMatrixCreateFromMat(&rows[0][0], N, RISK_FEATURE_COUNT, NAN, &d), 0);
	bst_ulong len = 0;
	const float *out = NULL;
	cr_assert_eq(XGBoosterPredict(b, d, 0, 0, 0, &len, &out), 0);
	cr_assert_eq(len, N);
	float expect[N];
	memcpy(expect, out, sizeof(expect));
	for (int i = 0; i < N; i++) {
		double p;
		cr_assert_eq(risk_model_score_vector(m, rows[i], &p), 0);
		cr_assert_float_eq(p, (double)expect[i], 1e-6, "row %d: %f vs %f", i, p,
				   (double)expect[i]);
	}
	XGDMatrixFree(d);
	XGBoosterFree(b);
	risk_model_free(m);
	tmp_clean(&t);
}

Test(risk_train, training_is_deterministic, .timeout = 60)
{
	struct tmp t;
	tmp_make(&t);
	char err[512] = "", model2[128];
	snprintf(model2, sizeof(model2), "%s/model2.json", t.dir);
	cr_assert_eq(risk_synth_write_file(t.csv, 1500, 4, err, sizeof(err)), 0, "%s", err);
	struct risk_train_opts o;
	risk_train_opts_default(&o);
	o.rounds = 5;
	o.max_depth = 3;
	struct risk_train_report a, b;
	cr_assert_eq(risk_train_csv(t.csv, t.model, &o, &a, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(risk_train_csv(t.csv, model2, &o, &b, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(a.test_rows, b.test_rows);
	cr_assert_float_eq(a.auc, b.auc, 0);
	FILE *fa = fopen(t.model, "rb"), *fb = fopen(model2, "rb");
	cr_assert(fa && fb);
	int ca, cb;
	do {
		ca = fgetc(fa);
		cb = fgetc(fb);
		cr_assert_eq(ca, cb, "model files differ");
	} while (ca != EOF);
	fclose(fa);
	fclose(fb);
	unlink(model2);
	tmp_clean(&t);
}

Test(risk_train, rejects_bad_input)
{
	struct tmp t;
	tmp_make(&t);
	char err[512] = "";
	struct risk_train_opts o;
	risk_train_opts_default(&o);
	struct risk_train_report rep;

	cr_assert_lt(risk_train_csv("/nonexistent.csv", t.model, &o, &rep, err, sizeof(err)), 0);
	cr_assert(strstr(err, "cannot open") != NULL, "%s", err);

	write_text(t.csv, "a,b,label\n1,2,0\n");
	cr_assert_lt(risk_train_csv(t.csv, t.model, &o, &rep, err, sizeof(err)), 0);
	cr_assert(strstr(err, "line 1: header") != NULL, "%s", err);

	cr_assert_eq(risk_synth_write_file(t.csv, 50, 1, err, sizeof(err)), 0, "%s", err);
	FILE *f = fopen(t.csv, "a");
	cr_assert_not_null(f);
	fputs("1,2,3\n", f);
	fclose(f);
	cr_assert_lt(risk_train_csv(t.csv, t.model, &o, &rep, err, sizeof(err)), 0);
	cr_assert(strstr(err, "line 52:") != NULL, "%s", err);

	cr_assert_eq(risk_synth_write_file(t.csv, 500, 1, err, sizeof(err)), 0, "%s", err);
	cr_assert_lt(risk_train_csv(t.csv, "/tmp/x.bin", &o, &rep, err, sizeof(err)), 0);
	cr_assert(strstr(err, ".json") != NULL, "%s", err);
	o.rounds = 0;
	cr_assert_lt(risk_train_csv(t.csv, t.model, &o, &rep, err, sizeof(err)), 0);
	cr_assert(strstr(err, "rounds") != NULL, "%s", err);
	cr_assert_neq(access(t.model, F_OK), 0, "no model may be written on failure");
	tmp_clean(&t);
}

Test(risk_train, auc_reference_values)
{
	float p1[] = {0.1f, 0.2f, 0.8f, 0.9f};
	float y1[] = {0, 0, 1, 1};
	cr_assert_float_eq(risk_auc(p1, y1, 4), 1.0, 1e-12);
	float y2[] = {1, 1, 0, 0};
	cr_assert_float_eq(risk_auc(p1, y2, 4), 0.0, 1e-12);
	float p3[] = {0.5f, 0.5f, 0.5f, 0.5f};
	cr_assert_float_eq(risk_auc(p3, y1, 4), 0.5, 1e-12); /* all ties */
	float p4[] = {0.1f, 0.4f, 0.35f, 0.8f};
	float y4[] = {0, 0, 1, 1};
	cr_assert_float_eq(risk_auc(p4, y4, 4), 0.75, 1e-12);
	cr_assert_float_eq(risk_auc(p4, y1 + 0, 0), -1.0, 0);
	float yall[] = {1, 1, 1, 1};
	cr_assert_float_eq(risk_auc(p4, yall, 4), -1.0, 0);
}
