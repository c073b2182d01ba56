/*
 * The payment method types' table: names and bits both ways, the stored JSON arrays (written in
 * the table's order whatever order they were asked in, read back to the same set), a NULL array
 * meaning the caller's default, and the currency and capture facts the parsers check.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "payments/pm_types.h"

Test(pm_types, names_and_bits)
{
	cr_assert_eq(pm_type_bit("card"), PMT_CARD);
	cr_assert_eq(pm_type_bit("sepa_debit"), PMT_SEPA_DEBIT);
	cr_assert_eq(pm_type_bit("us_bank_account"), PMT_US_BANK_ACCOUNT);
	cr_assert_eq(pm_type_bit("ideal_x"), 0);
	cr_assert_eq(pm_type_bit("car"), 0);
	cr_assert_eq(pm_type_bit(NULL), 0);
	cr_assert_str_eq(pm_type_name(PMT_SEPA_DEBIT), "sepa_debit");
	cr_assert_null(pm_type_name(PMT_CARD | PMT_SEPA_DEBIT));
	cr_assert_str_eq(pm_type_currencies(PMT_SEPA_DEBIT)[0], "eur");
	cr_assert_null(pm_type_currencies(PMT_SEPA_DEBIT)[1]);
	cr_assert_str_eq(pm_type_currencies(PMT_US_BANK_ACCOUNT)[0], "usd");
	cr_assert_null(pm_type_currencies(PMT_CARD));
	cr_assert(pm_type_takes_currency(PMT_CARD, "jpy"));
	cr_assert(pm_type_takes_currency(PMT_SEPA_DEBIT, "eur"));
	cr_assert_not(pm_type_takes_currency(PMT_SEPA_DEBIT, "usd"));
	cr_assert_not(pm_type_takes_currency(PMT_SEPA_DEBIT, NULL));
	cr_assert_not(pm_type_takes_currency(PMT_CARD | PMT_SEPA_DEBIT, "eur")); /* not one type */
	cr_assert(pm_type_manual_capture(PMT_CARD));
	cr_assert_not(pm_type_manual_capture(PMT_SEPA_DEBIT));
	/* the redirect types: eur, automatic capture only */
	cr_assert_eq(pm_type_bit("ideal"), PMT_IDEAL);
	cr_assert_eq(pm_type_bit("bancontact"), PMT_BANCONTACT);
	cr_assert(pm_type_takes_currency(PMT_IDEAL, "eur"));
	cr_assert_not(pm_type_takes_currency(PMT_BANCONTACT, "usd"));
	cr_assert_not(pm_type_manual_capture(PMT_IDEAL));
	cr_assert_not(pm_type_manual_capture(PMT_BANCONTACT));
	cr_assert_eq(PMT_REDIRECT & (PMT_CARD | PMT_SEPA_DEBIT | PMT_US_BANK_ACCOUNT), 0);
}

Test(pm_types, bnpl)
{
	cr_assert_eq(pm_type_bit("affirm"), PMT_AFFIRM);
	cr_assert_eq(pm_type_bit("afterpay_clearpay"), PMT_AFTERPAY_CLEARPAY);
	cr_assert_eq(pm_type_bit("klarna"), PMT_KLARNA);
	cr_assert_eq(PMT_BNPL & ~PMT_REDIRECT, 0);
	/* several currencies each, and captured by hand as a card is */
	cr_assert(pm_type_takes_currency(PMT_AFFIRM, "usd"));
	cr_assert(pm_type_takes_currency(PMT_AFFIRM, "cad"));
	cr_assert_not(pm_type_takes_currency(PMT_AFFIRM, "eur"));
	cr_assert(pm_type_takes_currency(PMT_AFTERPAY_CLEARPAY, "gbp"));
	cr_assert(pm_type_takes_currency(PMT_AFTERPAY_CLEARPAY, "aud"));
	cr_assert_not(pm_type_takes_currency(PMT_AFTERPAY_CLEARPAY, "eur"));
	cr_assert(pm_type_takes_currency(PMT_KLARNA, "eur"));
	cr_assert(pm_type_takes_currency(PMT_KLARNA, "sek"));
	cr_assert_not(pm_type_takes_currency(PMT_KLARNA, "jpy"));
	cr_assert(pm_type_manual_capture(PMT_AFFIRM));
	cr_assert(pm_type_manual_capture(PMT_AFTERPAY_CLEARPAY));
	cr_assert(pm_type_manual_capture(PMT_KLARNA));
}

Test(pm_types, json_round_trip)
{
	char buf[128];
	cr_assert_str_eq(pm_types_json(PMT_SEPA_DEBIT | PMT_CARD, buf, sizeof(buf)),
			 "[\"card\",\"sepa_debit\"]");
	cr_assert_str_eq(pm_types_json(PMT_US_BANK_ACCOUNT, buf, sizeof(buf)),
			 "[\"us_bank_account\"]");
	cr_assert_str_eq(pm_types_json(0, buf, sizeof(buf)), "[]");
	cr_assert_null(pm_types_json(PMT_ALL, buf, 12)); /* too small: no truncated array */
	for (unsigned set = 0; set <= PMT_ALL; set++)
		cr_assert_eq(pm_types_from_json(pm_types_json(set, buf, sizeof(buf)), 0), set);
	cr_assert_eq(pm_types_from_json(NULL, PMT_CARD), PMT_CARD);
	/* a name that only contains another's is not that one */
	cr_assert_eq(pm_types_from_json("[\"cards\",\"sepa_debit_x\"]", 0), 0);
	cr_assert_str_eq(pm_types_list(PMT_ALL, buf, sizeof(buf)),
			 "card, sepa_debit, us_bank_account, ideal, bancontact, affirm, "
			 "afterpay_clearpay, klarna");
}

Test(pm_types, allows)
{
	cr_assert(pm_types_allows(NULL, PMT_CARD, "card"));
	cr_assert_not(pm_types_allows(NULL, PMT_CARD, "sepa_debit"));
	cr_assert(pm_types_allows(NULL, PMT_ALL, "sepa_debit"));
	cr_assert(pm_types_allows("[\"sepa_debit\"]", PMT_CARD, "sepa_debit"));
	cr_assert_not(pm_types_allows("[\"sepa_debit\"]", PMT_CARD, "card"));
	cr_assert_not(pm_types_allows("[\"card\"]", PMT_CARD, "unknown"));
}

/* automatic_payment_methods: the configuration's types, narrowed by what the intent can take */
Test(pm_types, automatic)
{
	unsigned on = PMT_CARD | PMT_IDEAL | PMT_SEPA_DEBIT | PMT_AFFIRM;
	cr_assert_eq(pm_types_automatic(on, PMT_ALL, "eur", false, true),
		     PMT_CARD | PMT_IDEAL | PMT_SEPA_DEBIT);
	cr_assert_eq(pm_types_automatic(on, PMT_ALL, "usd", false, true), PMT_CARD | PMT_AFFIRM);
	/* allow_redirects=never: no bank or lender redirect */
	cr_assert_eq(pm_types_automatic(on, PMT_ALL, "eur", false, false),
		     PMT_CARD | PMT_SEPA_DEBIT);
	cr_assert_eq(pm_types_automatic(on, PMT_ALL, "usd", false, false), PMT_CARD);
	/* capture_method=manual keeps the types that can be captured later */
	cr_assert_eq(pm_types_automatic(on, PMT_ALL, "usd", true, true), PMT_CARD | PMT_AFFIRM);
	cr_assert_eq(pm_types_automatic(on, PMT_ALL, "eur", true, true), PMT_CARD);
	/* a SetupIntent: no currency; iDEAL (its bank generates a debit) but no lender's plan,
	 * and no redirect at all with allow_redirects=never */
	cr_assert_eq(pm_types_automatic(on, PMT_SETUP, NULL, false, true),
		     PMT_CARD | PMT_SEPA_DEBIT | PMT_IDEAL);
	cr_assert_eq(pm_types_automatic(on, PMT_SETUP, NULL, false, false),
		     PMT_CARD | PMT_SEPA_DEBIT);
	/* a type the configuration has off is never offered */
	cr_assert_eq(pm_types_automatic(PMT_IDEAL, PMT_ALL, "usd", false, true), 0);
	cr_assert_eq(pm_types_automatic(0, PMT_ALL, "eur", false, true), 0);
}

/* card_present: a Terminal reader's card, any currency, captured by hand too; paid only through
 * a reader, so neither in PMT_ALL (what sessions, links and invoices take) nor automatic */
Test(pm_types, card_present)
{
	cr_assert_eq(pm_type_bit("card_present"), PMT_CARD_PRESENT);
	cr_assert_str_eq(pm_type_name(PMT_CARD_PRESENT), "card_present");
	cr_assert(pm_type_takes_currency(PMT_CARD_PRESENT, "usd"));
	cr_assert(pm_type_manual_capture(PMT_CARD_PRESENT));
	cr_assert_eq(PMT_ALL & PMT_CARD_PRESENT, 0);
	cr_assert(pm_types_allows("[\"card_present\"]", PMT_CARD, "card_present"));
	cr_assert_not(pm_types_allows("[\"card_present\"]", PMT_CARD, "card"));
	cr_assert_not(pm_types_allows(NULL, PMT_CARD, "card_present"));
	cr_assert_eq(pm_types_automatic(PMT_ALL, PMT_ALL, "usd", false, true) & PMT_CARD_PRESENT,
		     0);
	char buf[64];
	cr_assert_str_eq(pm_types_json(PMT_CARD | PMT_CARD_PRESENT, buf, sizeof(buf)),
			 "[\"card\",\"card_present\"]");
}
