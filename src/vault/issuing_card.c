/* Issued cards' numbers (issuing_card.h). */
#include "vault/issuing_card.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/str.h"

char issuing_luhn_digit(const char *digits, size_t n)
{
	/* from the right, every second digit of the number (the check digit being the first) is
	 * doubled: here that is the rightmost given digit and every second one left of it */
	unsigned sum = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned d = (unsigned)(digits[n - 1 - i] - '0');
		if (i % 2 == 0) {
			d *= 2;
			if (d > 9)
				d -= 9;
		}
		sum += d;
	}
	return (char)('0' + (10 - sum % 10) % 10);
}

void issuing_number_make(uint64_t r, char out[ISSUING_NUMBER_LEN + 1])
{
	snprintf(out, ISSUING_NUMBER_LEN + 1, "%s%05u", ISSUING_BIN, (unsigned)(r % 100000u));
	out[ISSUING_NUMBER_LEN - 1] = issuing_luhn_digit(out, ISSUING_NUMBER_LEN - 1);
	out[ISSUING_NUMBER_LEN] = '\0';
}

void issuing_card_expiry(int64_t now, int *ret_month, int *ret_year)
{
	time_t t = (time_t)now;
	struct tm tm;
	gmtime_r(&t, &tm);
	*ret_month = tm.tm_mon + 1;
	*ret_year = tm.tm_year + 1900 + 3;
}

int vault_issuing_card_make(struct vault *v, struct db *db, const char *merchant_id,
			    const char *card_id, int64_t now, struct vault_card_info *ret_info)
{
	unsigned char rnd[8];
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		return VAULT_ERR_NOKEY;
	uint64_t r = 0;
	for (size_t i = 0; i < sizeof(rnd); i++)
		r = (r << 8) | rnd[i];
	OPENSSL_cleanse(rnd, sizeof(rnd));
	char number[ISSUING_NUMBER_LEN + 1];
	issuing_number_make(r, number);
	memset(ret_info, 0, sizeof(*ret_info));
	str_copy(ret_info->brand, sizeof(ret_info->brand), "visa");
	str_copy(ret_info->last4, sizeof(ret_info->last4), number + ISSUING_NUMBER_LEN - 4);
	memcpy(ret_info->iin, number, 6);
	ret_info->iin[6] = '\0';
	str_copy(ret_info->funding, sizeof(ret_info->funding), "prepaid");
	str_copy(ret_info->country, sizeof(ret_info->country), "US");
	issuing_card_expiry(now, &ret_info->exp_month, &ret_info->exp_year);
	ret_info->cvc_provided = true;
	char fp[24];
	int rc = vault_card_store(v, db, merchant_id, card_id, number, NULL, ret_info, now, fp);
	OPENSSL_cleanse(number, sizeof(number));
	return rc;
}

static int copy_number(const struct vault_secret *s, void *ctx)
{
	char *out = ctx;
	str_copy(out, 20, vault_secret_number(s));
	return 0;
}

int vault_issuing_card_number(struct vault *v, struct db *db, const char *merchant_id,
			      const char *card_id, char out[20])
{
	out[0] = '\0';
	struct vault_access acc;
	int rc =
	    vault_card_reveal(v, db, merchant_id, card_id, "issuing_card", copy_number, out, &acc);
	if (rc != 0)
		return rc;
	rc = vault_access_record(db, &acc);
	if (rc != 0)
		OPENSSL_cleanse(out, 20);
	return rc;
}
