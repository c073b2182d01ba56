/* tender fraud synth|train|check-model|check-rules|bench */
#include "cli/fraud.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/parse.h"
#include "risk/decision.h"
#include "risk/model.h"
#include "risk/rules.h"
#include "risk/synth.h"
#include "risk/train.h"

static void usage(FILE *f)
{
	fputs(
	    "usage: tender fraud synth --rows N --seed S --output FILE.csv\n"
	    "       tender fraud train --input FILE.csv --output MODEL.json [--rounds N]\n"
	    "                          [--max-depth D] [--eta X] [--threads T] [--split-seed S]\n"
	    "       tender fraud check-model [--model MODEL.json]\n"
	    "       tender fraud check-rules --rules FILE\n"
	    "       tender fraud bench [--iterations N]\n"
	    "\n"
	    "  synth        writes N labelled synthetic card attempts (CSV: one column per model\n"
	    "               feature, then label 0/1; ~3.5 % fraud). The same N and S always give\n"
	    "               the same file. The data follows a written-down story, not real "
	    "traffic\n"
	    "               (see data/fraud/README.md).\n"
	    "  train        trains gradient-boosted trees (XGBoost, binary:logistic) on the CSV,\n"
	    "               holding out a deterministic 20 %, prints held-out AUC and precision/\n"
	    "               recall at p >= 0.5 (3DS or block) and p > 0.8 (block), and saves the\n"
	    "               model.\n"
	    "  check-model  loads a model the way the server does (default: the bundled one) and\n"
	    "               scores sample attempts; exits 1 with the reason if it would not load.\n"
	    "  check-rules  parses a merchant rules file and reports the first error by line.\n"
	    "  bench        times single-attempt scoring with the bundled model.\n"
	    "\n"
	    "  --rows N          rows to generate, 1..2000000 (synth, required)\n"
	    "  --seed S          PRNG seed, a non-negative integer (synth, required)\n"
	    "  --output FILE     where to write the CSV (synth) or the model, ending in .json\n"
	    "                    (train); required\n"
	    "  --input FILE      labelled CSV to train on (train, required)\n"
	    "  --rounds N        boosting rounds = trees, 1..1000 (train, default 80)\n"
	    "  --max-depth D     maximum tree depth, 1..12 (train, default 5)\n"
	    "  --eta X           learning rate, 0 < X <= 1 (train, default 0.1)\n"
	    "  --threads T       XGBoost threads, 1..64 (train, default 2)\n"
	    "  --split-seed S    chooses the held-out 20 % (train, default 20240601)\n"
	    "  --model FILE      model file to check instead of the bundled one (check-model)\n"
	    "  --rules FILE      rules file to check (check-rules, required)\n"
	    "  --iterations N    scoring calls to time, 1..10000000 (bench, default 100000)\n"
	    "  --help            this text\n",
	    f);
}

struct flags {
	const char *output, *input, *model, *rules;
	int64_t rows, seed, rounds, max_depth, threads, split_seed, iterations;
	double eta;
	int have_rows, have_seed;
};

static int int_flag(const char *name, const char *s, int64_t lo, int64_t hi, int64_t *ret)
{
	int64_t v;
	if (parse_i64(s, &v) != 0 || v < lo || v > hi) {
		fprintf(stderr, "tender fraud: --%s must be an integer in %lld..%lld\n", name,
			(long long)lo, (long long)hi);
		return -1;
	}
	*ret = v;
	return 0;
}

static int parse_flags(const char *sub, int argc, char **argv, struct flags *fl)
{
	static const struct option opts[] = {
	    {"rows", required_argument, NULL, 'r'},
	    {"seed", required_argument, NULL, 's'},
	    {"output", required_argument, NULL, 'o'},
	    {"input", required_argument, NULL, 'i'},
	    {"rounds", required_argument, NULL, 'n'},
	    {"max-depth", required_argument, NULL, 'd'},
	    {"eta", required_argument, NULL, 'e'},
	    {"threads", required_argument, NULL, 't'},
	    {"split-seed", required_argument, NULL, 'S'},
	    {"model", required_argument, NULL, 'm'},
	    {"rules", required_argument, NULL, 'R'},
	    {"iterations", required_argument, NULL, 'I'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	/* Which flags each subcommand accepts; anything else is a usage error. */
	static const struct {
		const char *sub;
		const char *allowed;
	} allowed[] = {
	    {"synth", "rso"},	  {"train", "ionedtS"}, {"check-model", "m"},
	    {"check-rules", "R"}, {"bench", "I"},
	};
	const char *ok = NULL;
	for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
		if (strcmp(allowed[i].sub, sub) == 0)
			ok = allowed[i].allowed;
	if (ok == NULL) {
		fprintf(stderr, "tender fraud: unknown subcommand '%s'\n", sub);
		usage(stderr);
		return 2;
	}
	optind = 1;
	int c;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'h') {
			usage(stdout);
			return 1;
		}
		if (c == '?' || c == ':') {
			usage(stderr);
			return 2;
		}
		if (strchr(ok, c) == NULL) {
			const char *name = "?";
			for (const struct option *o = opts; o->name; o++)
				if (o->val == c)
					name = o->name;
			fprintf(stderr, "tender fraud %s: --%s does not apply here\n", sub, name);
			return 2;
		}
		int rc = 0;
		switch (c) {
		case 'r':
			rc = int_flag("rows", optarg, 1, RISK_SYNTH_MAX_ROWS, &fl->rows);
			fl->have_rows = 1;
			break;
		case 's':
			rc = int_flag("seed", optarg, 0, INT64_MAX, &fl->seed);
			fl->have_seed = 1;
			break;
		case 'o':
			fl->output = optarg;
			break;
		case 'i':
			fl->input = optarg;
			break;
		case 'n':
			rc = int_flag("rounds", optarg, 1, RISK_TRAIN_MAX_ROUNDS, &fl->rounds);
			break;
		case 'd':
			rc = int_flag("max-depth", optarg, 1, RISK_TRAIN_MAX_DEPTH, &fl->max_depth);
			break;
		case 't':
			rc = int_flag("threads", optarg, 1, 64, &fl->threads);
			break;
		case 'S':
			rc = int_flag("split-seed", optarg, 0, INT64_MAX, &fl->split_seed);
			break;
		case 'I':
			rc = int_flag("iterations", optarg, 1, 10000000, &fl->iterations);
			break;
		case 'e': {
			char *end;
			errno = 0;
			double v = strtod(optarg, &end);
			if (end == optarg || *end != '\0' || errno != 0 || !(v > 0.0 && v <= 1.0)) {
				fprintf(stderr, "tender fraud: --eta must be a number in (0, 1]\n");
				rc = -1;
			}
			fl->eta = v;
			break;
		}
		case 'm':
			fl->model = optarg;
			break;
		case 'R':
			fl->rules = optarg;
			break;
		default:
			rc = -1;
			break;
		}
		if (rc != 0)
			return 2;
	}
	if (optind < argc) {
		fprintf(stderr, "tender fraud %s: unexpected argument '%s'\n", sub, argv[optind]);
		return 2;
	}
	return 0;
}

static int do_synth(const struct flags *fl)
{
	if (!fl->have_rows || !fl->have_seed || fl->output == NULL) {
		fprintf(stderr, "tender fraud synth: --rows, --seed and --output are required\n");
		return 2;
	}
	char err[512];
	if (risk_synth_write_file(fl->output, (uint64_t)fl->rows, (uint64_t)fl->seed, err,
				  sizeof(err)) != 0) {
		fprintf(stderr, "tender fraud synth: %s\n", err);
		return 1;
	}
	fprintf(stderr, "wrote %lld rows to %s\n", (long long)fl->rows, fl->output);
	return 0;
}

static void print_point(const struct risk_operating_point *p)
{
	printf("  %-30s precision %.4f  recall %.4f  (tp %llu fp %llu fn %llu tn %llu)\n", p->name,
	       p->precision, p->recall, (unsigned long long)p->tp, (unsigned long long)p->fp,
	       (unsigned long long)p->fn, (unsigned long long)p->tn);
}

static int do_train(const struct flags *fl)
{
	if (fl->input == NULL || fl->output == NULL) {
		fprintf(stderr, "tender fraud train: --input and --output are required\n");
		return 2;
	}
	struct risk_train_opts o;
	risk_train_opts_default(&o);
	if (fl->rounds)
		o.rounds = (int)fl->rounds;
	if (fl->max_depth)
		o.max_depth = (int)fl->max_depth;
	if (fl->threads)
		o.nthread = (int)fl->threads;
	if (fl->eta > 0.0)
		o.eta = fl->eta;
	if (fl->split_seed >= 0)
		o.split_seed = (uint64_t)fl->split_seed;
	struct risk_train_report rep;
	char err[512];
	if (risk_train_csv(fl->input, fl->output, &o, &rep, err, sizeof(err)) != 0) {
		fprintf(stderr, "tender fraud train: %s\n", err);
		return 1;
	}
	printf("trained %d rounds, max depth %d, eta %g on %llu rows (%llu fraud)\n", rep.rounds,
	       o.max_depth, o.eta, (unsigned long long)rep.train_rows,
	       (unsigned long long)rep.train_positives);
	printf("held out %llu rows (%llu fraud):\n", (unsigned long long)rep.test_rows,
	       (unsigned long long)rep.test_positives);
	printf("  AUC %.4f  log loss %.4f\n", rep.auc, rep.logloss);
	print_point(&rep.points[0]);
	print_point(&rep.points[1]);
	printf("model written to %s\n", fl->output);
	return 0;
}

static int do_check_model(const struct flags *fl)
{
	char err[512];
	struct risk_model *m = NULL;
	int rc = fl->model ? risk_model_load_file(&m, fl->model, err, sizeof(err))
			   : risk_model_load_bundled(&m, err, sizeof(err));
	if (rc != 0) {
		fprintf(stderr, "tender fraud check-model: %s\n", err);
		return 1;
	}
	printf("model %s: %d rounds, %d features\n", fl->model ? fl->model : "(bundled)",
	       risk_model_rounds(m), (int)RISK_FEATURE_COUNT);
	static const struct {
		const char *name;
		enum risk_synth_kind kind;
	} kinds[] = {
	    {"legitimate", RISK_SYNTH_LEGIT},
	    {"card testing", RISK_SYNTH_CARD_TESTING},
	    {"big ticket", RISK_SYNTH_BIG_TICKET},
	    {"account takeover", RISK_SYNTH_ACCOUNT_TAKEOVER},
	};
	struct risk_rng rng;
	risk_rng_seed(&rng, 7);
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		double sum = 0;
		int n = 200;
		for (int i = 0; i < n && rc == 0; i++) {
			struct risk_features f;
			double p = 0;
			risk_synth_row_kind(&rng, kinds[k].kind, &f);
			rc = risk_model_score(m, &f, &p);
			sum += p;
		}
		if (rc != 0)
			break;
		double mean = sum / n;
		printf("  %-18s mean p %.3f  -> %s / %s\n", kinds[k].name, mean,
		       risk_decision_name(risk_decide(NULL, mean)),
		       risk_level_name(risk_level_for(NULL, mean)));
	}
	risk_model_free(m);
	if (rc != 0) {
		fprintf(stderr, "tender fraud check-model: scoring failed (%d)\n", rc);
		return 1;
	}
	return 0;
}

static int do_check_rules(const struct flags *fl)
{
	if (fl->rules == NULL) {
		fprintf(stderr, "tender fraud check-rules: --rules FILE is required\n");
		return 2;
	}
	char err[512];
	struct risk_rules *r = NULL;
	if (risk_rules_load_file(fl->rules, &r, err, sizeof(err)) != 0) {
		fprintf(stderr, "tender fraud check-rules: %s\n", err);
		return 1;
	}
	printf("%s: %zu rules ok\n", fl->rules, risk_rules_count(r));
	/* `in @alias` with no list of that name in the file: the merchants' value lists
	 * (POST /v1/radar/value_lists); named here, as a typo would otherwise match nothing */
	for (size_t k = 0; k < risk_rules_value_list_count(r); k++)
		printf("value list @%s: each merchant's Radar value list of that alias\n",
		       risk_rules_value_list(r, k, NULL));
	risk_rules_free(r);
	return 0;
}

static int do_bench(const struct flags *fl)
{
	int iters = fl->iterations ? (int)fl->iterations : 100000;
	double us = 0;
	int rc = risk_bench_score(iters, &us);
	if (rc != 0) {
		fprintf(stderr, "tender fraud bench: failed (%s)\n", strerror(-rc));
		return 1;
	}
	/* scripts/bench.sh reads the "us_per_call VALUE" line. */
	printf("fraud scoring: %d calls on one thread (bundled model)\n", iters);
	printf("us_per_call %.2f\n", us);
	return 0;
}

int cli_fraud(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	const char *sub = argv[1];
	struct flags fl;
	memset(&fl, 0, sizeof(fl));
	fl.split_seed = -1;
	int rc = parse_flags(sub, argc - 1, argv + 1, &fl);
	if (rc == 1) /* --help */
		return 0;
	if (rc != 0)
		return rc;
	if (strcmp(sub, "synth") == 0)
		return do_synth(&fl);
	if (strcmp(sub, "train") == 0)
		return do_train(&fl);
	if (strcmp(sub, "check-model") == 0)
		return do_check_model(&fl);
	if (strcmp(sub, "check-rules") == 0)
		return do_check_rules(&fl);
	return do_bench(&fl);
}
