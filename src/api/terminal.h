/* Stripe Terminal: what its two files share (api/terminal.c: locations, configurations,
 * connection tokens; api/terminal_readers.c: readers, their actions and the simulated reader's
 * test helper). */
#ifndef TENDER_API_TERMINAL_H
#define TENDER_API_TERMINAL_H

#include <stdbool.h>

#include "http/req.h"
#include "processor/processor.h"

struct db;

/* Whether location id is one of r's merchant's locations, not deleted (inside a transaction).
 * DB_OK, DB_NOTFOUND, or < 0. */
int terminal_location_live(struct req *r, struct db *db, const char *id);

/* The declines Stripe's Terminal testing guide lists for a physical test card, by the amount's
 * last two digits (00 approves): 01 call_issuer, 05 generic_decline, 55 incorrect_pin, 65
 * withdrawal_count_limit_exceeded, 75 pin_try_exceeded. The decline code, or NULL when the
 * amount is approved. Pure. */
const char *terminal_test_amount_decline(long long amount);
/* d declined by the issuer with decline code `code` (card_declined), as the test acquirer
 * declines (processor/testacq.c). */
void terminal_decline(struct processor_decision *d, const char *code);

#endif
