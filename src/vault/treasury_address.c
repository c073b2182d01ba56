/* Treasury financial accounts' ABA account numbers (treasury_address.h). */
#include "vault/treasury_address.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <string.h>

#include "core/str.h"

void treasury_account_number_make(uint64_t r, char out[TREASURY_ACCOUNT_LEN + 1])
{
	out[0] = (char)('1' + r % 9);
	r /= 9;
	for (int i = 1; i < TREASURY_ACCOUNT_LEN; i++) {
		out[i] = (char)('0' + r % 10);
		r /= 10;
	}
	out[TREASURY_ACCOUNT_LEN] = '\0';
}

int vault_treasury_address_make(struct vault *v, struct db *db, const char *merchant_id,
				const char *fa_id, int64_t now, char ret_last4[5])
{
	unsigned char rnd[8];
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		return VAULT_ERR_NOKEY;
	uint64_t r = 0;
	for (size_t i = 0; i < sizeof(rnd); i++)
		r = (r << 8) | rnd[i];
	OPENSSL_cleanse(rnd, sizeof(rnd));
	char number[TREASURY_ACCOUNT_LEN + 1];
	treasury_account_number_make(r, number);
	r = 0;
	char fp[24];
	int rc = vault_ach_store(v, db, merchant_id, fa_id, TREASURY_ROUTING, number, now, fp);
	if (rc == 0)
		str_copy(ret_last4, 5, number + TREASURY_ACCOUNT_LEN - 4);
	OPENSSL_cleanse(number, sizeof(number));
	return rc;
}

int vault_treasury_account_number(struct vault *v, struct db *db, const char *merchant_id,
				  const char *fa_id, int64_t now,
				  char out[TREASURY_ACCOUNT_LEN + 1])
{
	out[0] = '\0';
	char both[VAULT_ACH_OPEN_MAX];
	int rc = vault_ach_open(v, db, merchant_id, fa_id, both);
	if (rc != DB_OK)
		return rc;
	/* sealed as routing ":" account */
	const char *colon = strchr(both, ':');
	if (colon && strlen(colon + 1) == TREASURY_ACCOUNT_LEN)
		memcpy(out, colon + 1, TREASURY_ACCOUNT_LEN + 1);
	else
		rc = VAULT_ERR_TAMPERED;
	OPENSSL_cleanse(both, sizeof(both));
	if (rc != DB_OK)
		return rc;
	struct vault_access acc = {.at = now};
	str_copy(acc.merchant_id, sizeof(acc.merchant_id), merchant_id);
	str_copy(acc.card_id, sizeof(acc.card_id), fa_id);
	str_copy(acc.purpose, sizeof(acc.purpose), "treasury_account_number");
	rc = vault_access_record(db, &acc);
	if (rc != 0)
		OPENSSL_cleanse(out, TREASURY_ACCOUNT_LEN + 1);
	return rc;
}
