/*
 * US bank accounts for ACH Direct Debit (us_bank_account) PaymentMethods: the checks Stripe makes
 * before it takes one (a routing number of 9 digits whose ABA checksum holds, an account number
 * of 4 to 17 digits), the bank name Stripe shows, and the outcome Stripe's published test account
 * numbers stand for (reusing enum sepa_behavior, vault/iban.h: the scheduler settles both bank
 * debits the same way). Pure: no I/O, no key. The account number is sealed by the vault
 * (vault_ach_store) and shown nowhere but its last four digits.
 */
#ifndef TENDER_VAULT_ACH_H
#define TENDER_VAULT_ACH_H

#include "vault/iban.h"

#define ACH_ROUTING_LEN 9
#define ACH_ACCOUNT_MIN 4
#define ACH_ACCOUNT_MAX 17

/* Checks a routing number: exactly 9 digits, 3·(d1+d4+d7) + 7·(d2+d5+d8) + (d3+d6+d9) ≡ 0
 * (mod 10). 0 with out filled, or -1. */
int ach_routing_check(const char *in, char out[ACH_ROUTING_LEN + 1]);

/* Checks an account number: 4 to 17 digits. 0 with out filled, or -1 (out wiped). */
int ach_account_check(const char *in, char out[ACH_ACCOUNT_MAX + 1]);

/* The bank Stripe names for a routing number in test mode ("STRIPE TEST BANK" for 110000000),
 * or NULL when unknown. */
const char *ach_bank_name(const char *routing);

/* What a debit from routing/account does in test mode (Stripe's ACH test account numbers at
 * routing 110000000; any other account succeeds). */
enum sepa_behavior ach_test_behavior(const char *routing, const char *account);

#endif
