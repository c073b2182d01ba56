#include "risk/decision.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>

void risk_thresholds_default(struct risk_thresholds *t)
{
	t->block = RISK_THRESHOLD_BLOCK_DEFAULT;
	t->challenge = RISK_THRESHOLD_CHALLENGE_DEFAULT;
}

int risk_thresholds_validate(const struct risk_thresholds *t)
{
	if (!(t->challenge >= 0.0 && t->challenge <= 1.0))
		return -EINVAL;
	if (!(t->block >= 0.0 && t->block <= 1.0))
		return -EINVAL;
	if (t->challenge > t->block)
		return -EINVAL;
	return 0;
}

enum risk_decision risk_decide(const struct risk_thresholds *t, double probability)
{
	struct risk_thresholds def;
	if (t == NULL) {
		risk_thresholds_default(&def);
		t = &def;
	}
	if (isnan(probability) || probability > t->block)
		return RISK_BLOCK;
	if (probability >= t->challenge)
		return RISK_REVIEW_3DS;
	return RISK_ALLOW;
}

const char *risk_decision_name(enum risk_decision d)
{
	switch (d) {
	case RISK_ALLOW:
		return "allow";
	case RISK_REVIEW_3DS:
		return "review_3ds";
	case RISK_BLOCK:
		return "block";
	}
	return "block";
}

enum risk_level risk_level_for(const struct risk_thresholds *t, double probability)
{
	switch (risk_decide(t, probability)) {
	case RISK_ALLOW:
		return RISK_LEVEL_NORMAL;
	case RISK_REVIEW_3DS:
		return RISK_LEVEL_ELEVATED;
	case RISK_BLOCK:
		break;
	}
	return RISK_LEVEL_HIGHEST;
}

const char *risk_level_name(enum risk_level l)
{
	switch (l) {
	case RISK_LEVEL_NOT_ASSESSED:
		return "not_assessed";
	case RISK_LEVEL_UNKNOWN:
		return "unknown";
	case RISK_LEVEL_NORMAL:
		return "normal";
	case RISK_LEVEL_ELEVATED:
		return "elevated";
	case RISK_LEVEL_HIGHEST:
		return "highest";
	}
	return "unknown";
}

int risk_score_from_probability(double probability)
{
	if (isnan(probability))
		return 100;
	double s = floor(probability * 100.0);
	if (s < 0.0)
		return 0;
	if (s > 100.0)
		return 100;
	return (int)s;
}
