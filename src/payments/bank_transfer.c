#include "payments/bank_transfer.h"

#include <stdio.h>
#include <string.h>

#include "core/json.h"

/* The networks and sender facts are Stripe's for each type (API reference: funding
 * instructions, cash balance transactions). */
static const struct bank_transfer_type types[] = {
    {"eu_bank_transfer", "eur", NULL, "iban", "[\"sepa\"]"},
    {"gb_bank_transfer", "gbp", "GB", "sort_code", "[\"bacs\",\"fps\"]"},
    {"jp_bank_transfer", "jpy", "JP", "zengin", "[\"zengin\"]"},
    {"mx_bank_transfer", "mxn", "MX", "spei", "[\"spei\"]"},
    {"us_bank_transfer", "usd", "US", "aba", "[\"ach\",\"domestic_wire_us\"]"},
};
#define NTYPES (sizeof(types) / sizeof(types[0]))

/* the eu_bank_transfer countries, with their BBAN's shape: letters of the bank code (taken
 * from the bank's name, "TNDR") then digits */
static const struct {
	const char *country;
	int letters, digits;
} eu[] = {
    {"BE", 0, 12}, {"DE", 0, 18}, {"ES", 0, 20}, {"FR", 0, 23}, {"IE", 4, 14}, {"NL", 4, 10},
};

/* Tender's test bank: its code in an IBAN's BBAN and in a BIC, and its name */
#define BANK_LETTERS "TNDR"
#define BANK_NAME "Tender Test Bank"

const struct bank_transfer_type *bank_transfer_type_find(const char *name)
{
	for (size_t i = 0; name && i < NTYPES; i++)
		if (strcmp(types[i].name, name) == 0)
			return &types[i];
	return NULL;
}

const struct bank_transfer_type *bank_transfer_type_for_currency(const char *currency)
{
	for (size_t i = 0; currency && i < NTYPES; i++)
		if (strcmp(types[i].currency, currency) == 0)
			return &types[i];
	return NULL;
}

static int eu_index(const char *country)
{
	for (size_t i = 0; country && i < sizeof(eu) / sizeof(eu[0]); i++)
		if (strcmp(eu[i].country, country) == 0)
			return (int)i;
	return -1;
}

bool bank_transfer_eu_country(const char *country)
{
	return eu_index(country) >= 0;
}

/* mod 97 of the number a string of digits and capital letters spells (A = 10 … Z = 35),
 * digit by digit; -1 for another character */
static int mod97_feed(int acc, const char *s)
{
	for (; *s; s++) {
		if (*s >= '0' && *s <= '9') {
			acc = (acc * 10 + (*s - '0')) % 97;
		} else if (*s >= 'A' && *s <= 'Z') {
			int v = *s - 'A' + 10;
			acc = (acc * 100 + v) % 97;
		} else {
			return -1;
		}
	}
	return acc;
}

bool iban_check_digits(const char *country, const char *bban, char out[3])
{
	if (!country || strlen(country) != 2 || !bban || strlen(bban) > 30)
		return false;
	/* ISO 13616: move the country and "00" behind the BBAN; check = 98 - (that mod 97) */
	char tail[5] = {country[0], country[1], '0', '0', '\0'};
	int acc = mod97_feed(0, bban);
	if (acc < 0 || tail[0] < 'A' || tail[0] > 'Z' || tail[1] < 'A' || tail[1] > 'Z')
		return false;
	acc = mod97_feed(acc, tail);
	int check = 98 - acc;
	out[0] = (char)('0' + check / 10);
	out[1] = (char)('0' + check % 10);
	out[2] = '\0';
	return true;
}

bool iban_valid(const char *iban)
{
	size_t n = iban ? strlen(iban) : 0;
	if (n < 5 || n > 34)
		return false;
	char moved[40];
	snprintf(moved, sizeof(moved), "%s%.4s", iban + 4, iban);
	return mod97_feed(0, moved) == 1;
}

int clabe_check_digit(const char *first17)
{
	static const int w[3] = {3, 7, 1};
	if (!first17 || strlen(first17) != 17)
		return -1;
	int sum = 0;
	for (int i = 0; i < 17; i++) {
		if (first17[i] < '0' || first17[i] > '9')
			return -1;
		sum += ((first17[i] - '0') * w[i % 3]) % 10;
	}
	return (10 - sum % 10) % 10;
}

bool aba_routing_valid(const char *routing)
{
	static const int w[3] = {3, 7, 1};
	if (!routing || strlen(routing) != 9)
		return false;
	int sum = 0;
	for (int i = 0; i < 9; i++) {
		if (routing[i] < '0' || routing[i] > '9')
			return false;
		sum += (routing[i] - '0') * w[i % 3];
	}
	return sum % 10 == 0;
}

/* n digits from rnd (one byte each) into out */
static void digits(const uint8_t *rnd, int n, char *out)
{
	for (int i = 0; i < n; i++)
		out[i] = (char)('0' + rnd[i] % 10);
	out[n] = '\0';
}

static void open_address(struct json *j, const struct bank_transfer_type *t)
{
	json_obj_open(j);
	json_key(j, t->address);
	json_obj_open(j);
}

static void close_address(struct json *j, const struct bank_transfer_type *t)
{
	json_obj_close(j);
	json_kv_raw(j, "supported_networks", t->networks, strlen(t->networks));
	json_kv_str(j, "type", t->address);
	json_obj_close(j);
}

bool bank_transfer_address_render(const struct bank_transfer_type *t, const char *country,
				  const char *holder, const uint8_t *rnd, struct json *j)
{
	char num[40], buf[48];
	if (!t)
		return false;
	if (strcmp(t->address, "iban") == 0) {
		int e = eu_index(country);
		if (e < 0)
			return false;
		char bban[32], check[3];
		snprintf(bban, sizeof(bban), "%.*s", eu[e].letters, BANK_LETTERS);
		digits(rnd, eu[e].digits, bban + eu[e].letters);
		if (!iban_check_digits(country, bban, check))
			return false;
		snprintf(buf, sizeof(buf), "%s%s%s", country, check, bban);
		char bic[12];
		snprintf(bic, sizeof(bic), "%s%sXX", BANK_LETTERS, country);
		open_address(j, t);
		json_kv_str(j, "account_holder_name", holder);
		json_kv_str(j, "bic", bic);
		json_kv_str(j, "country", country);
		json_kv_str(j, "iban", buf);
		close_address(j, t);
	} else if (strcmp(t->address, "sort_code") == 0) {
		char sort[8];
		digits(rnd, 6, sort);
		digits(rnd + 6, 8, num);
		open_address(j, t);
		json_kv_str(j, "account_holder_name", holder);
		json_kv_str(j, "account_number", num);
		json_kv_str(j, "sort_code", sort);
		close_address(j, t);
	} else if (strcmp(t->address, "zengin") == 0) {
		char branch[4];
		digits(rnd, 3, branch);
		digits(rnd + 3, 7, num);
		snprintf(buf, sizeof(buf), "Branch %s", branch);
		open_address(j, t);
		json_kv_str(j, "account_holder_name", holder);
		json_kv_str(j, "account_number", num);
		json_kv_str(j, "account_type", "futsu");
		json_kv_str(j, "bank_code", "9990");
		json_kv_str(j, "bank_name", BANK_NAME);
		json_kv_str(j, "branch_code", branch);
		json_kv_str(j, "branch_name", buf);
		close_address(j, t);
	} else if (strcmp(t->address, "spei") == 0) {
		/* bank 646, plaza 180, an 11-digit account, the check digit */
		memcpy(num, "646180", 6);
		digits(rnd, 11, num + 6);
		int c = clabe_check_digit(num);
		if (c < 0)
			return false;
		num[17] = (char)('0' + c);
		num[18] = '\0';
		open_address(j, t);
		json_kv_str(j, "bank_code", "646");
		json_kv_str(j, "bank_name", BANK_NAME);
		json_kv_str(j, "clabe", num);
		close_address(j, t);
	} else {
		/* Stripe's test routing number (it passes the ABA checksum) */
		digits(rnd, 12, num);
		open_address(j, t);
		json_kv_str(j, "account_number", num);
		json_kv_str(j, "bank_name", BANK_NAME);
		json_kv_str(j, "routing_number", "110000000");
		close_address(j, t);
	}
	return true;
}

bool bank_transfer_allocate(int64_t available, const int64_t *remaining, const char *const *refs,
			    size_t n, const char *reference, int64_t *take)
{
	return bank_transfer_allocate_whole(available, remaining, refs, NULL, n, reference, take);
}

bool bank_transfer_allocate_whole(int64_t available, const int64_t *remaining,
				  const char *const *refs, const bool *whole, size_t n,
				  const char *reference, int64_t *take)
{
	if (available < 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (remaining[i] <= 0)
			return false;
	size_t first = n; /* the intent the reference names, if any */
	for (size_t i = 0; reference && *reference && i < n; i++)
		if (refs[i] && strcmp(refs[i], reference) == 0) {
			first = i;
			break;
		}
	int64_t left = available;
	for (size_t k = 0; k <= n; k++) {
		/* k = 0: the named one; then everyone else in order */
		size_t i = k == 0 ? first : k - 1;
		if (i >= n || (k > 0 && i == first))
			continue;
		int64_t t = remaining[i] < left ? remaining[i] : left;
		if (whole && whole[i] && t < remaining[i])
			t = 0;
		take[i] = t;
		left -= t;
	}
	return true;
}
