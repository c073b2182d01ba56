#include <criterion/criterion.h>
#include <string.h>

#include "core/digest.h"

/* FIPS 180-2's test vectors, through the algorithm fetched once */
Test(digest, sha256_hex_matches_the_standard_vectors)
{
	char out[65];
	cr_assert_eq(digest_sha256_hex("abc", 3, out), 0);
	cr_assert_str_eq(out, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	cr_assert_eq(digest_sha256_hex("", 0, out), 0);
	cr_assert_str_eq(out, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	cr_assert_eq(digest_sha256_hex(two, strlen(two), out), 0);
	cr_assert_str_eq(out, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	cr_assert_not_null(digest_sha256());
}

Test(digest, hex_is_lowercase_two_digits_per_byte)
{
	const unsigned char b[] = {0x00, 0x0f, 0xa0, 0xff};
	char out[9];
	digest_hex(b, sizeof(b), out);
	cr_assert_str_eq(out, "000fa0ff");
	digest_hex(b, 0, out);
	cr_assert_str_eq(out, "");
}
