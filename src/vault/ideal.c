#include "vault/ideal.h"

#include <string.h>

#include "vault/iban.h"
#include "vault/payment_method.h"
#include "vault/vault.h"

/* Stripe's ideal[bank] values and their BICs (the PaymentMethod's and the charge's ideal.bic),
 * as its API reference lists them. */
static const struct ideal_bank BANKS[] = {
    {"abn_amro", "ABNANL2A", "ABN AMRO"},
    {"asn_bank", "ASNBNL21", "ASN Bank"},
    {"bunq", "BUNQNL2A", "bunq"},
    {"handelsbanken", "HANDNL2A", "Handelsbanken"},
    {"ing", "INGBNL2A", "ING"},
    {"knab", "KNABNL2H", "Knab"},
    {"moneyou", "MOYONL21", "Moneyou"},
    {"n26", "NTSBDEB1", "N26"},
    {"rabobank", "RABONL2U", "Rabobank"},
    {"regiobank", "RBRBNL21", "RegioBank"},
    {"revolut", "REVOLT21", "Revolut"},
    {"sns_bank", "SNSBNL2A", "SNS Bank"},
    {"triodos_bank", "TRIONL2U", "Triodos Bank"},
    {"van_lanschot", "FVLBNL22", "Van Lanschot"},
    {"yoursafe", "BITSNL2A", "Yoursafe"},
};

const struct ideal_bank *redirect_ideal_bank(const char *code)
{
	if (!code || !*code)
		return NULL;
	for (size_t i = 0; i < sizeof(BANKS) / sizeof(BANKS[0]); i++)
		if (strcmp(BANKS[i].code, code) == 0)
			return &BANKS[i];
	return NULL;
}

static const char *const TYPES[] = {"ideal", "bancontact", "affirm", "afterpay_clearpay", "klarna"};

const char *redirect_type_known(const char *type)
{
	for (size_t i = 0; type && i < sizeof(TYPES) / sizeof(TYPES[0]); i++)
		if (strcmp(TYPES[i], type) == 0)
			return TYPES[i];
	return NULL;
}

bool redirect_type_bnpl(const char *type)
{
	return type && (strcmp(type, "affirm") == 0 || strcmp(type, "afterpay_clearpay") == 0 ||
			strcmp(type, "klarna") == 0);
}

/* Stripe's test IBANs of the Netherlands and Belgium, both succeeding debits */
static const char *test_iban(const char *type)
{
	return type && strcmp(type, "bancontact") == 0 ? "BE62510007547061" : "NL39RABO0300065264";
}

const char *redirect_test_iban_last4(const char *type)
{
	const char *iban = test_iban(type);
	return iban + strlen(iban) - 4;
}

int redirect_generate_sepa(struct vault *v, struct db *db, const char *merchant_id,
			   const char *type, const char *pm_id, const char *iban_id,
			   const char *billing_details, int64_t now)
{
	char iban[IBAN_MAX + 1];
	struct iban_info info;
	if (iban_check(test_iban(type), iban, &info) != 0)
		return DB_ERR;
	char fp[24];
	int rc = vault_iban_store(v, db, merchant_id, iban_id, iban, now, fp);
	if (rc != DB_OK)
		return rc;
	struct pm_bank b = {.type = "sepa_debit",
			    .secret_id = iban_id,
			    .last4 = info.last4,
			    .fingerprint = fp,
			    .behavior = (int)iban_test_behavior(iban),
			    .country = info.country,
			    .bank_code = info.bank_code,
			    .branch_code = info.branch_code};
	return pm_insert_bank(db, merchant_id, pm_id, &b, billing_details, NULL, now, NULL);
}
