/*
 * From a fraud probability to an action and to Stripe's charge.outcome risk fields.
 *
 * Bands (design doc 5.2): p < challenge (0.5) allow; challenge <= p <= block (0.8) ask for 3-D
 * Secure; p > block (0.8) block. The same bands give Stripe's risk_level: normal / elevated /
 * highest, so a charge's risk_level always agrees with what Tender did. risk_score is
 * floor(100 p) clamped to 0..100, which keeps it monotone in p (risk_score >= 50 iff p >= 0.5).
 */
#ifndef TENDER_RISK_DECISION_H
#define TENDER_RISK_DECISION_H

enum risk_decision { RISK_ALLOW, RISK_REVIEW_3DS, RISK_BLOCK };

/* Stripe outcome.risk_level values. */
enum risk_level {
	RISK_LEVEL_NOT_ASSESSED, /* not a card payment / not scored */
	RISK_LEVEL_UNKNOWN,	 /* scoring failed */
	RISK_LEVEL_NORMAL,
	RISK_LEVEL_ELEVATED,
	RISK_LEVEL_HIGHEST,
};

struct risk_thresholds {
	double block;	  /* default 0.8: p > block blocks */
	double challenge; /* default 0.5: p >= challenge asks for 3DS */
};

#define RISK_THRESHOLD_BLOCK_DEFAULT 0.8
#define RISK_THRESHOLD_CHALLENGE_DEFAULT 0.5

void risk_thresholds_default(struct risk_thresholds *t);
/* 0 when 0 <= challenge <= block <= 1 (and both finite), else -EINVAL. */
int risk_thresholds_validate(const struct risk_thresholds *t);

/* NULL t means the defaults. A NaN probability blocks (fail closed). */
enum risk_decision risk_decide(const struct risk_thresholds *t, double probability);
const char *risk_decision_name(enum risk_decision d); /* "allow", "review_3ds", "block" */

/* Level consistent with risk_decide: allow -> normal, 3DS -> elevated, block -> highest. */
enum risk_level risk_level_for(const struct risk_thresholds *t, double probability);
/* "not_assessed", "unknown", "normal", "elevated", "highest" */
const char *risk_level_name(enum risk_level l);

/* Stripe outcome.risk_score: floor(100 p) clamped to 0..100 (NaN -> 100). */
int risk_score_from_probability(double probability);

#endif
