/*
 * The in-process claims and their release generations: a keyed request looks its key up again
 * after claiming it exactly when a request with the same key may have finished since its first
 * look (server.c process_back).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "http/form.h"
#include "http/idempotency.h"
#include "http/req.h"

static void req_init(struct req *r, const char *merchant, const char *key)
{
	memset(r, 0, sizeof(*r));
	arena_init(&r->arena, 1 << 16);
	snprintf(r->merchant_id, sizeof(r->merchant_id), "%s", merchant);
	r->idempotency_key = key;
}

static void req_done(struct req *r)
{
	idem_release(r);
	arena_release(&r->arena);
}

Test(idempotency, a_release_between_first_look_and_claim_is_noticed)
{
	struct req first, second;
	req_init(&first, "acct_A", "order-1");
	req_init(&second, "acct_A", "order-1");
	/* the first request runs and finishes while the second is between its look and claim */
	idem_note_generation(&first);
	cr_assert_eq(idem_claim(&first), 0);
	idem_note_generation(&second);
	/* in flight: the second is refused (409) */
	cr_assert_neq(idem_claim(&second), 0);
	cr_assert(second.err.set);
	second.err.set = false;
	req_done(&first);
	cr_assert_eq(idem_claim(&second), 0);
	cr_assert(second.idem_changed, "a finished request went unnoticed: no second look");
	req_done(&second);
}

Test(idempotency, no_release_means_no_second_look)
{
	struct req r, other;
	req_init(&r, "acct_A", "order-2");
	req_init(&other, "acct_B", "unrelated-key-xyz");
	idem_note_generation(&r);
	cr_assert_eq(idem_claim(&r), 0);
	cr_assert(!r.idem_changed);
	req_done(&r);
	/* a claim taken and released for the same key later is seen by the next request */
	idem_note_generation(&other);
	cr_assert_eq(idem_claim(&other), 0);
	req_done(&other);
}

/* The hash of a request as the server takes it: method, path, parsed form. */
static void hash_of(const char *body, char out[65])
{
	struct req r;
	req_init(&r, "acct_A", NULL);
	r.method = "POST";
	r.path = "/v1/payment_methods";
	struct form_error e;
	struct form_node *root;
	cr_assert_eq(form_parse(&r.arena, body, strlen(body), &root, &e), 0);
	r.params = root;
	idem_hash_request(&r);
	memcpy(out, r.idem_hash, 65);
	arena_release(&r.arena);
}

/* A stored hash must not let anyone test guesses of a card number, CVC, bank account number or
 * IBAN: those values never enter it, so two requests differing only there hash the same, and a
 * difference anywhere else still tells them apart. */
Test(idempotency, secrets_never_enter_the_request_hash)
{
	static const char *pairs[][2] = {
	    {"type=card&card[number]=4242424242424242&card[cvc]=123",
	     "type=card&card[number]=4000000000000002&card[cvc]=999"},
	    {"type=sepa_debit&sepa_debit[iban]=DE89370400440532013000",
	     "type=sepa_debit&sepa_debit[iban]=DE62370400440532013001"},
	    {"type=us_bank_account&us_bank_account[account_number]=000123456789",
	     "type=us_bank_account&us_bank_account[account_number]=000111111116"},
	};
	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		char a[65], b[65];
		hash_of(pairs[i][0], a);
		hash_of(pairs[i][1], b);
		cr_assert_str_eq(a, b, "%s", pairs[i][0]);
	}
	char a[65], b[65];
	hash_of("type=sepa_debit&sepa_debit[iban]=DE89370400440532013000&billing_details[name]=A",
		a);
	hash_of("type=sepa_debit&sepa_debit[iban]=DE89370400440532013000&billing_details[name]=B",
		b);
	cr_assert_str_neq(a, b);
}
