/*
 * Offline training of the fraud model from a labelled CSV (the format `tender fraud synth`
 * writes: a header of risk_feature_names then "label", one row per attempt).
 *
 * Every fifth row, chosen by a hash of the row index and split_seed (not by position, so a file
 * sorted by time or label still splits evenly), is held out; the rest trains binary:logistic
 * gradient-boosted trees through XGBoost's C API. The held-out rows are scored and the report
 * gives AUC, log loss, and precision/recall at the two operating points the payment path uses:
 * "challenge or block" (p >= 0.5) and "block" (p > 0.8), exactly as risk_decide() draws them.
 */
#ifndef TENDER_RISK_TRAIN_H
#define TENDER_RISK_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#define RISK_TRAIN_MAX_ROUNDS 1000
#define RISK_TRAIN_MAX_DEPTH 12

struct risk_train_opts {
	int rounds;	     /* boosting rounds = trees, 1..RISK_TRAIN_MAX_ROUNDS (default 80) */
	int max_depth;	     /* 1..RISK_TRAIN_MAX_DEPTH (default 5) */
	double eta;	     /* learning rate, (0, 1] (default 0.1) */
	int nthread;	     /* XGBoost threads, 1..64 (default 2) */
	uint64_t split_seed; /* chooses the held-out fifth (default 20240601) */
};

struct risk_operating_point {
	const char *name; /* "challenge_or_block (p >= 0.5)" … */
	double threshold;
	uint64_t tp, fp, fn, tn;
	double precision; /* tp / (tp + fp), 0 when nothing is flagged */
	double recall;	  /* tp / (tp + fn), 0 when there are no positives */
};

struct risk_train_report {
	uint64_t train_rows, train_positives;
	uint64_t test_rows, test_positives;
	int rounds;
	double auc;			       /* ROC AUC on the held-out rows (ties averaged) */
	double logloss;			       /* mean binary log loss on the held-out rows */
	struct risk_operating_point points[2]; /* [0] p >= 0.5, [1] p > 0.8 */
};

void risk_train_opts_default(struct risk_train_opts *o);

/* Trains on `input`, writes the model to `output` (name must end in .json or .ubj; written to a
 * temporary name and renamed). 0 or a negative code with a one-line reason in err. */
int risk_train_csv(const char *input, const char *output, const struct risk_train_opts *o,
		   struct risk_train_report *ret, char *err, size_t errlen);

/* ROC AUC of scores p against 0/1 labels y (n entries); -1 when a class is absent. Exposed for
 * tests. */
double risk_auc(const float *p, const float *y, size_t n);

#endif
