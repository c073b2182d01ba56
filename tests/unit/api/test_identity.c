/* Stripe Identity's pure rules (api/identity.c): the id numbers the hosted page takes, and the
 * test outcomes it offers a session by its type and options. */
#include <criterion/criterion.h>
#include <string.h>

#include "api/identity.h"

Test(identity, ssn_normalize)
{
	char out[10];
	cr_assert_eq(identity_ssn_normalize("987-65-4320", out), 0);
	cr_assert_str_eq(out, "987654320");
	cr_assert_eq(identity_ssn_normalize(" 912 34 5671 ", out), 0);
	cr_assert_str_eq(out, "912345671");
	cr_assert_eq(identity_ssn_normalize("000000000", out), 0);
	static const char *const bad[] = {"",	       "12345678",    "1234567890",
					  "12345678a", "123.45.6789", NULL};
	for (int i = 0; bad[i]; i++)
		cr_assert_eq(identity_ssn_normalize(bad[i], out), -1, "%s", bad[i]);
	cr_assert_eq(identity_ssn_normalize(NULL, out), -1);
}

static bool offers(const struct vsession *s, const char *code)
{
	struct identity_outcome o[8];
	int n = identity_outcomes(s, o);
	for (int i = 0; i < n; i++)
		if (strcmp(o[i].code, code) == 0)
			return true;
	return false;
}

Test(identity, outcomes_by_type_and_options)
{
	struct vsession doc = {.type = "document", .options = "{\"document\":{}}"};
	cr_assert(offers(&doc, "verified"));
	cr_assert(offers(&doc, "document_expired"));
	cr_assert(offers(&doc, "document_unverified_other"));
	cr_assert(offers(&doc, "document_type_not_supported"));
	cr_assert(!offers(&doc, "selfie_face_mismatch"), "no selfie asked for");
	cr_assert(!offers(&doc, "id_number_mismatch"), "no id number asked for");
	cr_assert(!identity_wants_id_number(&doc));

	struct vsession full = {.type = "document",
				.options = "{\"document\":{\"require_id_number\":true,"
					   "\"require_matching_selfie\":true}}"};
	cr_assert(offers(&full, "selfie_face_mismatch"));
	cr_assert(offers(&full, "id_number_mismatch"));
	cr_assert(identity_wants_id_number(&full));

	struct vsession idn = {.type = "id_number", .options = "{\"id_number\":{}}"};
	cr_assert(offers(&idn, "verified"));
	cr_assert(offers(&idn, "id_number_mismatch"));
	cr_assert(offers(&idn, "id_number_insufficient_document_data"));
	cr_assert(offers(&idn, "id_number_unverified_other"));
	cr_assert(!offers(&idn, "document_expired"));
	cr_assert(identity_wants_id_number(&idn));
}
