/* tender fraud synth|train|check-model|check-rules|bench (see src/cli/fraud.c --help). */
#ifndef TENDER_CLI_FRAUD_H
#define TENDER_CLI_FRAUD_H

/* argv[0] is "fraud", argv[1] the subcommand; returns the process exit code (0 ok, 1 failure,
 * 2 usage error). Also declared in cli/cli.h. */
int cli_fraud(int argc, char **argv);

#endif
