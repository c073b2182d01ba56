#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "risk/synth.h"

static char *slurp(const char *path, size_t *ret_len)
{
	FILE *f = fopen(path, "rb");
	cr_assert_not_null(f, "open %s", path);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *buf = malloc((size_t)n + 1);
	cr_assert_not_null(buf);
	cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*ret_len = (size_t)n;
	return buf;
}

Test(risk_synth, splitmix_and_xoshiro_reference_values)
{
	/* splitmix64 from state 0 (Vigna's reference implementation). */
	uint64_t st = 0;
	cr_assert_eq(risk_splitmix64(&st), 0xe220a8397b1dcdafull);
	cr_assert_eq(risk_splitmix64(&st), 0x6e789e6aa1b965f4ull);
	struct risk_rng a, b;
	risk_rng_seed(&a, 123);
	risk_rng_seed(&b, 123);
	for (int i = 0; i < 100; i++)
		cr_assert_eq(risk_rng_next(&a), risk_rng_next(&b));
	for (int i = 0; i < 1000; i++) {
		double u = risk_rng_uniform(&a);
		cr_assert(u >= 0.0 && u < 1.0);
	}
}

Test(risk_synth, same_seed_same_bytes_other_seed_differs)
{
	char dir[] = "/tmp/risk_synth_XXXXXX";
	cr_assert_not_null(mkdtemp(dir));
	char p1[64], p2[64], p3[64], err[256];
	snprintf(p1, sizeof(p1), "%s/a.csv", dir);
	snprintf(p2, sizeof(p2), "%s/b.csv", dir);
	snprintf(p3, sizeof(p3), "%s/c.csv", dir);
	cr_assert_eq(risk_synth_write_file(p1, 3000, 99, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(risk_synth_write_file(p2, 3000, 99, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(risk_synth_write_file(p3, 3000, 100, err, sizeof(err)), 0, "%s", err);
	size_t n1, n2, n3;
	char *a = slurp(p1, &n1), *b = slurp(p2, &n2), *c = slurp(p3, &n3);
	cr_assert_eq(n1, n2);
	cr_assert(memcmp(a, b, n1) == 0, "same seed must give identical files");
	cr_assert(n1 != n3 || memcmp(a, c, n1) != 0, "another seed must differ");

	/* Header, then 3000 rows of 23 comma-separated fields. */
	const char *nl = strchr(a, '\n');
	cr_assert_not_null(nl);
	cr_assert(strncmp(a, "amount_usd_minor,log_amount,", 28) == 0);
	cr_assert(strncmp(nl - 6, ",label", 6) == 0);
	size_t lines = 0, commas = 0;
	for (size_t i = 0; i < n1; i++) {
		lines += a[i] == '\n';
		commas += a[i] == ',';
	}
	cr_assert_eq(lines, 3001);
	cr_assert_eq(commas, 3001 * RISK_FEATURE_COUNT);
	free(a);
	free(b);
	free(c);
	unlink(p1);
	unlink(p2);
	unlink(p3);
	rmdir(dir);
}

Test(risk_synth, fraud_rate_and_story)
{
	struct risk_rng r;
	risk_rng_seed(&r, 5);
	int n = 40000, fraud = 0, kinds[5] = {0};
	double fraud_night = 0, legit_night = 0;
	for (int i = 0; i < n; i++) {
		struct risk_features f;
		int label;
		enum risk_synth_kind k;
		risk_synth_row(&r, &f, &label, &k);
		cr_assert(label == 0 || label == 1);
		cr_assert_eq(label, k != RISK_SYNTH_LEGIT);
		cr_assert(f.amount_usd_minor >= 50 && f.amount_usd_minor <= 5000000);
		cr_assert(f.hour_utc >= 0 && f.hour_utc <= 23);
		cr_assert(f.card_declines_30d <= f.card_attempts_30d);
		cr_assert(f.card_count_1h <= f.card_count_24h);
		kinds[k]++;
		fraud += label;
		bool night = f.hour_utc <= 5;
		if (label)
			fraud_night += night;
		else
			legit_night += night;
	}
	double rate = (double)fraud / n;
	cr_assert(rate > 0.02 && rate < 0.05, "fraud rate %f", rate);
	for (int k = 1; k < 5; k++)
		cr_assert_gt(kinds[k], 0, "kind %d never drawn", k);
	/* Fraud happens at night more often than legitimate traffic does. */
	cr_assert_gt(fraud_night / fraud, legit_night / (n - fraud));
}

Test(risk_synth, card_testing_rows_look_like_card_testing)
{
	struct risk_rng r;
	risk_rng_seed(&r, 11);
	double small = 0, velocity = 0, legit_velocity = 0;
	int n = 2000;
	for (int i = 0; i < n; i++) {
		struct risk_features f, l;
		risk_synth_row_kind(&r, RISK_SYNTH_CARD_TESTING, &f);
		risk_synth_row_kind(&r, RISK_SYNTH_LEGIT, &l);
		small += f.amount_usd_minor < 1000;
		velocity += f.card_count_1h;
		legit_velocity += l.card_count_1h;
	}
	cr_assert_gt(small / n, 0.6);
	cr_assert_gt(velocity / n, 5.0 * legit_velocity / n);
}

Test(risk_synth, bad_arguments)
{
	char err[256];
	cr_assert_lt(risk_synth_write_file("/tmp/never.csv", 0, 1, err, sizeof(err)), 0);
	cr_assert_lt(risk_synth_write_file("/nonexistent-dir/x.csv", 10, 1, err, sizeof(err)), 0);
	cr_assert(strstr(err, "cannot create") != NULL, "%s", err);
}
