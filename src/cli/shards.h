#ifndef TENDER_CLI_SHARDS_H
#define TENDER_CLI_SHARDS_H

/* tender shards list | rebalance --move acct_… --to N (PostgreSQL shards). */
int cli_shards(int argc, char **argv);

#endif
