/*
 * Synthetic labelled card traffic for training and testing the fraud model.
 *
 * Tender has no real fraud labels to learn from, so the bundled model is trained on traffic drawn
 * from a written-down generative story (see synth.c and data/fraud/README.md). What it learns is
 * that story, not the world: it is a sane default and a fixture, to be replaced by a model
 * trained on a merchant's own labelled history.
 *
 * Output is a pure function of (rows, seed): the generator has its own PRNG (xoshiro256**
 * seeded through splitmix64), never rand(), and prints with a fixed format, so the same command
 * produces byte-identical files on every run of the same build.
 */
#ifndef TENDER_RISK_SYNTH_H
#define TENDER_RISK_SYNTH_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "risk/features.h"

/* Upper bound on generated / trained rows: keeps memory (rows x 22 floats) well under 1 GB. */
#define RISK_SYNTH_MAX_ROWS 2000000u

struct risk_rng {
	uint64_t s[4];
};

/* One splitmix64 step: advances *state and returns the next output. */
uint64_t risk_splitmix64(uint64_t *state);
void risk_rng_seed(struct risk_rng *r, uint64_t seed);
uint64_t risk_rng_next(struct risk_rng *r);
/* Uniform in [0, 1) with 53 random bits. */
double risk_rng_uniform(struct risk_rng *r);

/* Which part of the story a row came from (useful for tests and diagnostics). */
enum risk_synth_kind {
	RISK_SYNTH_LEGIT = 0,
	RISK_SYNTH_CARD_TESTING,
	RISK_SYNTH_BIG_TICKET,
	RISK_SYNTH_ACCOUNT_TAKEOVER,
	RISK_SYNTH_CLEAN_FRAUD, /* fraud that looks exactly like legitimate traffic */
};

/* Draws one row; *ret_label is 1 for fraud. */
void risk_synth_row(struct risk_rng *r, struct risk_features *ret_f, int *ret_label,
		    enum risk_synth_kind *ret_kind);

/* Draws one row (any kind) straight into the model's input vector, v[RISK_FEATURE_COUNT]: what
 * scoring benchmarks and tests feed risk_model_score_vector / _rows. */
void risk_synth_vector(struct risk_rng *r, float *v);

/* Draws one row of the given kind (for tests that need obvious fraud or obvious legit). */
void risk_synth_row_kind(struct risk_rng *r, enum risk_synth_kind kind,
			 struct risk_features *ret_f);

/* CSV: header "<risk_feature_names...>,label" then one line per row, values printed "%.9g".
 * These return 0 or -EIO. */
int risk_csv_write_header(FILE *out);
int risk_csv_write_row(FILE *out, const float *v, size_t n, int label);

/* Writes `rows` rows for `seed` to `path` (created/truncated). 0 or a negative errno; on error a
 * message goes to err. */
int risk_synth_write_file(const char *path, uint64_t rows, uint64_t seed, char *err, size_t errlen);

#endif
