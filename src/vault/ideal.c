#include "vault/ideal.h"

#include <string.h>

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

bool redirect_type_known(const char *type)
{
	return type && (strcmp(type, "ideal") == 0 || strcmp(type, "bancontact") == 0);
}
