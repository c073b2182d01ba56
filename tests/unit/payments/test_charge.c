/*
 * charge_fee_facts: what the ledger's fee table reads of a charge (its method, from the head of
 * its payment_method_details column, and a card's country), on the renderings Tender writes.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "ledger/ledger.h"
#include "payments/payments.h"

static void facts(const char *details, const char *method, const char *country)
{
	struct charge ch;
	memset(&ch, 0, sizeof(ch));
	ch.card = details;
	struct ledger_pricing p = {290, 30, "usd", NULL, NULL, NULL};
	char c[3] = "??";
	charge_fee_facts(&ch, &p, c);
	cr_assert_str_eq(p.method, method, "%s", details ? details : "(null)");
	cr_assert_str_eq(p.card_country, country, "%s", details ? details : "(null)");
}

Test(charge, fee_facts_of_each_rendering)
{
	/* a card's own object (flow.c): "checks" comes before the card's country and has none */
	facts("{\"amount_authorized\":null,\"authorization_code\":\"123456\",\"brand\":\"jcb\","
	      "\"checks\":{\"address_line1_check\":null,\"address_postal_code_check\":null,"
	      "\"cvc_check\":\"pass\"},\"country\":\"JP\",\"exp_month\":12}",
	      "card", "JP");
	facts("{\"brand\":\"visa\",\"country\":null,\"exp_month\":12}", "card", "");
	facts(NULL, "card", "");
	/* a Terminal reader's whole details */
	facts("{\"card_present\":{\"amount_authorized\":2500,\"brand\":\"visa\","
	      "\"cardholder_name\":null,\"country\":\"US\"},\"type\":\"card_present\"}",
	      "card_present", "US");
	/* bank debits, redirects, lenders, bank transfers: the type's key first, no card country */
	facts("{\"us_bank_account\":{\"bank_name\":\"STRIPE TEST BANK\"},\"type\":"
	      "\"us_bank_account\"}",
	      "us_bank_account", "");
	facts("{\"ach_debit\":{\"country\":\"US\"},\"type\":\"ach_debit\"}", "ach_debit", "");
	facts("{\"sepa_debit\":{\"country\":\"DE\"},\"type\":\"sepa_debit\"}", "sepa_debit", "");
	facts("{\"ideal\":{\"bank\":\"ing\"},\"type\":\"ideal\"}", "ideal", "");
	facts("{\"bancontact\":{},\"type\":\"bancontact\"}", "bancontact", "");
	facts("{\"klarna\":{},\"type\":\"klarna\"}", "klarna", "");
	facts("{\"affirm\":{},\"type\":\"affirm\"}", "affirm", "");
	facts("{\"afterpay_clearpay\":{},\"type\":\"afterpay_clearpay\"}", "afterpay_clearpay", "");
	facts("{\"customer_balance\":{},\"type\":\"customer_balance\"}", "customer_balance", "");
	/* a key that only starts like a type's is not that type */
	facts("{\"idealx\":{},\"country\":\"NL\"}", "card", "NL");
}
