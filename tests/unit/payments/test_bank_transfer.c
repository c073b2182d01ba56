/*
 * Bank transfers' pure parts: the type table (names, currencies, countries), the check digits
 * of the virtual accounts Tender makes up (IBAN mod 97, CLABE, ABA) against published examples,
 * and the financial addresses: Stripe's shapes, the same bytes giving the same account, valid
 * check digits whatever the bytes, and countries a type does not take refused.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "core/json.h"
#include "payments/bank_transfer.h"

Test(bank_transfer, types)
{
	cr_assert_str_eq(bank_transfer_type_find("eu_bank_transfer")->currency, "eur");
	cr_assert_null(bank_transfer_type_find("eu_bank_transfer")->country);
	cr_assert_str_eq(bank_transfer_type_find("jp_bank_transfer")->address, "zengin");
	cr_assert_null(bank_transfer_type_find("ca_bank_transfer"));
	cr_assert_null(bank_transfer_type_find(NULL));
	cr_assert_str_eq(bank_transfer_type_for_currency("mxn")->name, "mx_bank_transfer");
	cr_assert_str_eq(bank_transfer_type_for_currency("usd")->name, "us_bank_transfer");
	cr_assert_null(bank_transfer_type_for_currency("cad"));
	cr_assert(bank_transfer_eu_country("NL"));
	cr_assert_not(bank_transfer_eu_country("IT"));
	cr_assert_not(bank_transfer_eu_country(NULL));
}

Test(bank_transfer, check_digits)
{
	char c[3];
	cr_assert(iban_check_digits("DE", "370400440532013000", c));
	cr_assert_str_eq(c, "89"); /* DE89 3704 0044 0532 0130 00 */
	cr_assert(iban_check_digits("GB", "WEST12345698765432", c));
	cr_assert_str_eq(c, "82"); /* GB82 WEST 1234 5698 7654 32 */
	cr_assert_not(iban_check_digits("DE", "37040044-053", c));
	cr_assert_not(iban_check_digits("de", "370400440532013000", c));
	cr_assert(iban_valid("DE89370400440532013000"));
	cr_assert_not(iban_valid("DE88370400440532013000"));
	cr_assert_eq(clabe_check_digit("03218000011835971"), 9); /* 032180000118359719 */
	cr_assert_eq(clabe_check_digit("0321800001183597"), -1);
	cr_assert_eq(clabe_check_digit("0321800001183597x"), -1);
	cr_assert(aba_routing_valid("110000000"));
	cr_assert(aba_routing_valid("021000021"));
	cr_assert_not(aba_routing_valid("021000022"));
}

static char *render(const char *type, const char *country, const uint8_t *rnd)
{
	static char out[2048];
	struct buf b;
	struct json j;
	buf_init(&b, 1u << 12);
	json_init(&j, &b);
	bool ok =
	    bank_transfer_address_render(bank_transfer_type_find(type), country, "Shop", rnd, &j);
	if (!ok) {
		buf_release(&b);
		return NULL;
	}
	snprintf(out, sizeof(out), "%.*s", (int)b.len, b.data);
	buf_release(&b);
	return out;
}

/* the value of "key":"…" in s */
static const char *field(const char *s, const char *key, char *out, size_t n)
{
	char k[64];
	snprintf(k, sizeof(k), "\"%s\":\"", key);
	const char *p = strstr(s, k);
	cr_assert_not_null(p, "%s has no %s", s, key);
	p += strlen(k);
	const char *e = strchr(p, '"');
	snprintf(out, n, "%.*s", (int)(e - p), p);
	return out;
}

Test(bank_transfer, addresses)
{
	uint8_t rnd[BANK_TRANSFER_RANDOM_BYTES];
	char v[64];
	for (int seed = 0; seed < 50; seed++) {
		for (size_t i = 0; i < sizeof(rnd); i++)
			rnd[i] = (uint8_t)(seed * 31 + i * 7 + (i * i) % 13);
		const char *countries[] = {"BE", "DE", "ES", "FR", "IE", "NL"};
		for (size_t c = 0; c < 6; c++) {
			char *s = render("eu_bank_transfer", countries[c], rnd);
			cr_assert_not_null(s);
			cr_assert(strstr(s, "\"type\":\"iban\""));
			cr_assert(strstr(s, "\"supported_networks\":[\"sepa\"]"));
			field(s, "iban", v, sizeof(v));
			cr_assert(strncmp(v, countries[c], 2) == 0, "%s", v);
			cr_assert(iban_valid(v), "%s", v);
		}
		char *s = render("mx_bank_transfer", NULL, rnd);
		field(s, "clabe", v, sizeof(v));
		cr_assert_eq(strlen(v), 18);
		char first17[18];
		snprintf(first17, sizeof(first17), "%.17s", v);
		cr_assert_eq(clabe_check_digit(first17), v[17] - '0');
		s = render("us_bank_transfer", NULL, rnd);
		cr_assert(aba_routing_valid(field(s, "routing_number", v, sizeof(v))));
		cr_assert_eq(strlen(field(s, "account_number", v, sizeof(v))), 12);
		s = render("gb_bank_transfer", NULL, rnd);
		cr_assert_eq(strlen(field(s, "sort_code", v, sizeof(v))), 6);
		cr_assert_eq(strlen(field(s, "account_number", v, sizeof(v))), 8);
		s = render("jp_bank_transfer", NULL, rnd);
		cr_assert_eq(strlen(field(s, "account_number", v, sizeof(v))), 7);
		cr_assert_str_eq(field(s, "account_type", v, sizeof(v)), "futsu");
	}
	/* the same bytes, the same account */
	memset(rnd, 7, sizeof(rnd));
	char first[2048];
	snprintf(first, sizeof(first), "%s", render("eu_bank_transfer", "DE", rnd));
	cr_assert_str_eq(render("eu_bank_transfer", "DE", rnd), first);
	cr_assert_null(render("eu_bank_transfer", "IT", rnd));
	cr_assert_null(render("eu_bank_transfer", NULL, rnd));
}

/* automatic reconciliation: the named intent first, then the oldest; each takes what it needs
 * or what is left; nothing more than there is */
Test(bank_transfer, allocate)
{
	const int64_t need[] = {1000, 1500, 700};
	const char *const refs[] = {"AAAA", "BBBB", "CCCC"};
	int64_t take[3];
	cr_assert(bank_transfer_allocate(1500, need, refs, 3, "BBBB", take));
	cr_assert_eq(take[1], 1500);
	cr_assert_eq(take[0], 0);
	cr_assert_eq(take[2], 0);
	cr_assert(bank_transfer_allocate(1200, need, refs, 3, NULL, take));
	cr_assert_eq(take[0], 1000);
	cr_assert_eq(take[1], 200); /* partially funded */
	cr_assert_eq(take[2], 0);
	cr_assert(bank_transfer_allocate(5000, need, refs, 3, "CCCC", take));
	cr_assert_eq(take[2], 700);
	cr_assert_eq(take[0], 1000);
	cr_assert_eq(take[1], 1500); /* 1800 stays on the balance */
	cr_assert(bank_transfer_allocate(500, need, refs, 3, "ZZZZ", take));
	cr_assert_eq(take[0], 500);
	cr_assert_eq(take[1], 0);
	cr_assert(bank_transfer_allocate(0, need, refs, 3, "AAAA", take));
	cr_assert_eq(take[0] + take[1] + take[2], 0);
	cr_assert(bank_transfer_allocate(100, need, refs, 0, NULL, take));
	cr_assert_not(bank_transfer_allocate(-1, need, refs, 3, NULL, take));
	const int64_t bad[] = {100, 0};
	cr_assert_not(bank_transfer_allocate(100, bad, refs, 2, NULL, take));
}

Test(bank_transfer, allocate_whole)
{
	/* intent 0 pays an invoice (all or nothing), 1 and 2 take what is there */
	const int64_t need[] = {1000, 1500, 700};
	const char *const refs[] = {"AAAA", "BBBB", "CCCC"};
	const bool whole[] = {true, false, true};
	int64_t take[3];
	/* 900 does not cover the invoice: the cash passes it by */
	cr_assert(bank_transfer_allocate_whole(900, need, refs, whole, 3, NULL, take));
	cr_assert_eq(take[0], 0);
	cr_assert_eq(take[1], 900);
	cr_assert_eq(take[2], 0);
	/* named first and covered */
	cr_assert(bank_transfer_allocate_whole(1200, need, refs, whole, 3, "AAAA", take));
	cr_assert_eq(take[0], 1000);
	cr_assert_eq(take[1], 200);
	cr_assert_eq(take[2], 0);
	/* what is left after 0 and 1 (200) does not cover 2: it stays on the balance */
	cr_assert(bank_transfer_allocate_whole(2700, need, refs, whole, 3, NULL, take));
	cr_assert_eq(take[0], 1000);
	cr_assert_eq(take[1], 1500);
	cr_assert_eq(take[2], 0);
	/* a whole one skipped, a later whole one it covers takes it */
	cr_assert(bank_transfer_allocate_whole(700, need, refs, whole, 3, "CCCC", take));
	cr_assert_eq(take[2], 700);
	cr_assert_eq(take[0] + take[1], 0);
}
