#include <criterion/criterion.h>
#include <math.h>

#include "risk/decision.h"

Test(risk_decision, default_bands)
{
	cr_assert_eq(risk_decide(NULL, 0.0), RISK_ALLOW);
	cr_assert_eq(risk_decide(NULL, 0.4999), RISK_ALLOW);
	cr_assert_eq(risk_decide(NULL, 0.5), RISK_REVIEW_3DS);
	cr_assert_eq(risk_decide(NULL, 0.79), RISK_REVIEW_3DS);
	cr_assert_eq(risk_decide(NULL, 0.8), RISK_REVIEW_3DS); /* block needs p > 0.8 */
	cr_assert_eq(risk_decide(NULL, 0.8001), RISK_BLOCK);
	cr_assert_eq(risk_decide(NULL, 1.0), RISK_BLOCK);
	cr_assert_eq(risk_decide(NULL, NAN), RISK_BLOCK); /* fail closed */
}

Test(risk_decision, custom_thresholds)
{
	struct risk_thresholds t;
	risk_thresholds_default(&t);
	cr_assert_float_eq(t.block, 0.8, 0);
	cr_assert_float_eq(t.challenge, 0.5, 0);
	cr_assert_eq(risk_thresholds_validate(&t), 0);
	t.block = 0.95;
	t.challenge = 0.3;
	cr_assert_eq(risk_thresholds_validate(&t), 0);
	cr_assert_eq(risk_decide(&t, 0.29), RISK_ALLOW);
	cr_assert_eq(risk_decide(&t, 0.3), RISK_REVIEW_3DS);
	cr_assert_eq(risk_decide(&t, 0.9), RISK_REVIEW_3DS);
	cr_assert_eq(risk_decide(&t, 0.96), RISK_BLOCK);
	/* challenge == block: nothing is challenged above it. */
	t.challenge = t.block = 0.6;
	cr_assert_eq(risk_thresholds_validate(&t), 0);
	cr_assert_eq(risk_decide(&t, 0.6), RISK_REVIEW_3DS);
	cr_assert_eq(risk_decide(&t, 0.61), RISK_BLOCK);
}

Test(risk_decision, invalid_thresholds)
{
	struct risk_thresholds t = {.block = 0.4, .challenge = 0.5};
	cr_assert_lt(risk_thresholds_validate(&t), 0);
	t = (struct risk_thresholds){.block = 1.2, .challenge = 0.5};
	cr_assert_lt(risk_thresholds_validate(&t), 0);
	t = (struct risk_thresholds){.block = 0.8, .challenge = NAN};
	cr_assert_lt(risk_thresholds_validate(&t), 0);
	t = (struct risk_thresholds){.block = 0.8, .challenge = -0.1};
	cr_assert_lt(risk_thresholds_validate(&t), 0);
}

Test(risk_decision, levels_agree_with_decisions)
{
	cr_assert_eq(risk_level_for(NULL, 0.1), RISK_LEVEL_NORMAL);
	cr_assert_eq(risk_level_for(NULL, 0.5), RISK_LEVEL_ELEVATED);
	cr_assert_eq(risk_level_for(NULL, 0.9), RISK_LEVEL_HIGHEST);
	for (int i = 0; i <= 1000; i++) {
		double p = i / 1000.0;
		enum risk_decision d = risk_decide(NULL, p);
		enum risk_level l = risk_level_for(NULL, p);
		cr_assert_eq(l, d == RISK_ALLOW	       ? RISK_LEVEL_NORMAL
				: d == RISK_REVIEW_3DS ? RISK_LEVEL_ELEVATED
						       : RISK_LEVEL_HIGHEST);
	}
	cr_assert_str_eq(risk_level_name(RISK_LEVEL_NORMAL), "normal");
	cr_assert_str_eq(risk_level_name(RISK_LEVEL_ELEVATED), "elevated");
	cr_assert_str_eq(risk_level_name(RISK_LEVEL_HIGHEST), "highest");
	cr_assert_str_eq(risk_level_name(RISK_LEVEL_NOT_ASSESSED), "not_assessed");
	cr_assert_str_eq(risk_level_name(RISK_LEVEL_UNKNOWN), "unknown");
	cr_assert_str_eq(risk_decision_name(RISK_REVIEW_3DS), "review_3ds");
}

Test(risk_decision, risk_score_is_0_to_100_and_monotone)
{
	cr_assert_eq(risk_score_from_probability(0.0), 0);
	cr_assert_eq(risk_score_from_probability(0.499), 49);
	cr_assert_eq(risk_score_from_probability(0.5), 50);
	cr_assert_eq(risk_score_from_probability(0.999), 99);
	cr_assert_eq(risk_score_from_probability(1.0), 100);
	cr_assert_eq(risk_score_from_probability(-3.0), 0);
	cr_assert_eq(risk_score_from_probability(7.0), 100);
	cr_assert_eq(risk_score_from_probability(NAN), 100);
	int prev = 0;
	for (int i = 0; i <= 10000; i++) {
		int s = risk_score_from_probability(i / 10000.0);
		cr_assert(s >= prev && s <= 100);
		prev = s;
	}
}
