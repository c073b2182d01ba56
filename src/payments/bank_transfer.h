/*
 * Bank transfers (Stripe's customer_balance funding): the five bank transfer types, the currency
 * and country each takes, and the virtual bank accounts ("financial addresses") a customer is
 * told to pay into. Tender makes those accounts up in test mode, once per customer and type, from
 * random digits (never anybody's real bank data), with the check digits the real schemes have
 * (IBAN's mod 97, CLABE's weighted digit, ABA's routing checksum) so a bank form takes them.
 * Pure logic: the caller gives the randomness and keeps the result.
 */
#ifndef TENDER_PAYMENTS_BANK_TRANSFER_H
#define TENDER_PAYMENTS_BANK_TRANSFER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct bank_transfer_type {
	const char *name;     /* "eu_bank_transfer" */
	const char *currency; /* the one currency it takes: "eur" */
	const char *country;  /* the account's country; NULL: the caller's (eu_bank_transfer) */
	const char *address;  /* the financial address's type: "iban", "sort_code", … */
	const char *networks; /* its supported_networks, a JSON array */
};

/* The type of that name, NULL for none. */
const struct bank_transfer_type *bank_transfer_type_find(const char *name);
/* The type that takes currency (lowercase ISO 4217), NULL for none. */
const struct bank_transfer_type *bank_transfer_type_for_currency(const char *currency);
/* The countries an eu_bank_transfer account can be in (Stripe's: BE, DE, ES, FR, IE, NL). */
bool bank_transfer_eu_country(const char *country);

/* IBAN check digits for country (2 capital letters) and bban (capital letters and digits):
 * out gets the 2 digits. false for input out of that alphabet or too long. */
bool iban_check_digits(const char *country, const char *bban, char out[3]);
/* Whether iban (no spaces) has valid check digits. */
bool iban_valid(const char *iban);
/* A CLABE's 18th digit from its first 17 (digits); -1 for anything else. */
int clabe_check_digit(const char *first17);
/* Whether an ABA routing number (9 digits) passes its checksum. */
bool aba_routing_valid(const char *routing);

/* At most this many of a customer's waiting intents are funded by one transfer. */
#define BANK_TRANSFER_WAITING_MAX 64

/*
 * Automatic reconciliation's allocation of `available` cash (>= 0) to n waiting intents, given
 * oldest first with what each still needs (remaining[i] > 0) and its reference (refs[i]): the
 * intent whose reference the transfer named (reference; NULL or no match: none) first, then the
 * others oldest first, each taking what it needs or what is left. take[i] gets intent i's
 * share (0: none); the shares add up to at most available. false (take untouched) for negative
 * or overflowing input.
 */
bool bank_transfer_allocate(int64_t available, const int64_t *remaining, const char *const *refs,
			    size_t n, const char *reference, int64_t *take);
/* The same where whole[i] (whole NULL: none) says intent i is paid all at once or not at all
 * (an invoice's: Stripe does not fund invoices partly): it takes what it needs when what is
 * left covers it, else nothing, and the cash goes on to the next. */
bool bank_transfer_allocate_whole(int64_t available, const int64_t *remaining,
				  const char *const *refs, const bool *whole, size_t n,
				  const char *reference, int64_t *take);

struct json;
/*
 * Renders the financial address of type t in country (the eu_bank_transfer country; ignored
 * for the others) for account holder `holder`, its numbers drawn from rnd (at least
 * BANK_TRANSFER_RANDOM_BYTES bytes; the same bytes give the same account), as Stripe shows it
 * ({"iban": {…}, "supported_networks": ["sepa"], "type": "iban"}, …). false when country is
 * not one the type takes.
 */
#define BANK_TRANSFER_RANDOM_BYTES 32
bool bank_transfer_address_render(const struct bank_transfer_type *t, const char *country,
				  const char *holder, const uint8_t *rnd, struct json *j);

#endif
