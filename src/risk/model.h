/*
 * Scoring card attempts with a gradient-boosted tree model (XGBoost, binary:logistic).
 *
 * A struct risk_model wraps one XGBoost booster. Loading checks that the model was trained on
 * this build's feature vector (same column count, and same column names when the model carries
 * them), scores one row once to finish XGBoost's lazy configuration, and pins XGBoost to one
 * thread per prediction: a single row gains nothing from OpenMP and a team start-up would cost
 * more than the trees.
 *
 * Concurrency: risk_model_score() may be called from any number of threads on the same model
 * at once. XGBoost documents prediction as thread safe for tree boosters since 1.4 (doc/
 * prediction.rst "Thread Safety"; dmlc/xgboost#6648), and the C API keeps each thread's result
 * buffer in thread-local storage keyed by booster, so the booster itself needs no lock. The one
 * per-call object that is written, the proxy matrix holding the input row, comes from a small
 * pool guarded by a mutex held only to pop or push a handle (see model.c). What is NOT safe is
 * changing the booster (parameters, training) while it predicts, so a model is immutable after
 * risk_model_load_*(); to swap models load a new one and free the old one once no scorer uses it.
 */
#ifndef TENDER_RISK_MODEL_H
#define TENDER_RISK_MODEL_H

#include <stddef.h>

#include "risk/features.h"

struct risk_model;

/* Loads a model saved by `tender fraud train` (XGBoost JSON or UBJ). On failure returns a
 * negative code and writes a one-line reason to err (the server then refuses to start). */
int risk_model_load_file(struct risk_model **ret, const char *path, char *err, size_t errlen);
/* Loads the model embedded in the binary at build time (data/fraud/model.json). */
int risk_model_load_bundled(struct risk_model **ret, char *err, size_t errlen);
/* Loads a model from memory (JSON or UBJ bytes). */
int risk_model_load_buffer(struct risk_model **ret, const void *data, size_t len, char *err,
			   size_t errlen);
void risk_model_free(struct risk_model *m);

/* Fraud probability in [0, 1] for one attempt. Thread safe; 0 or a negative code. */
int risk_model_score(struct risk_model *m, const struct risk_features *f, double *ret_probability);
/* Rows that risk_model_score_rows takes at once. */
#define RISK_MODEL_ROWS_MAX 64
/* Fraud probabilities of n (1..RISK_MODEL_ROWS_MAX) attempts, rows of RISK_FEATURE_COUNT floats
 * each (row i at rows + i * RISK_FEATURE_COUNT), in one prediction: XGBoost's fixed cost per
 * call (parsing its JSON arguments) is paid once for all of them. ret[i] for row i. */
int risk_model_score_rows(struct risk_model *m, const float *rows, size_t n, double *ret);
/* Same, from an already built vector of RISK_FEATURE_COUNT floats. */
int risk_model_score_vector(struct risk_model *m, const float *v, double *ret_probability);

/* Number of trees-rounds in the model (for diagnostics). */
int risk_model_rounds(const struct risk_model *m);

/* The embedded model bytes, or NULL/0 when the binary was built without one. */
const unsigned char *risk_model_bundled_data(size_t *ret_len);

/* Micro-benchmark for `make bench`: loads the bundled model and scores `iterations` varied
 * synthetic rows on the calling thread. 0 or a negative code. */
int risk_bench_score(int iterations, double *ret_us_per_call);

#endif
