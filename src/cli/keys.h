/* tender keygen FILE; tender keys rotate|status (the vault's master keys). Also declared in
 * cli/cli.h with the other commands; kept here so the vault's CLI has a header of its own. */
#ifndef TENDER_CLI_KEYS_H
#define TENDER_CLI_KEYS_H

int cli_keygen(int argc, char **argv);
int cli_keys(int argc, char **argv);

#endif
