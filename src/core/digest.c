#include "core/digest.h"

#include <pthread.h>

static EVP_MD *sha256;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void sha256_fetch(void)
{
	sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
}

const EVP_MD *digest_sha256(void)
{
	pthread_once(&sha256_once, sha256_fetch);
	return sha256;
}

void digest_hex(const unsigned char *p, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hex[p[i] >> 4];
		out[2 * i + 1] = hex[p[i] & 15];
	}
	out[2 * n] = '\0';
}

int digest_sha256_hex(const void *p, size_t n, char out[65])
{
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned int dl = 0;
	const EVP_MD *md = digest_sha256();
	out[0] = '\0';
	if (!md || EVP_Digest(p, n, d, &dl, md, NULL) != 1 || dl != 32)
		return -1;
	digest_hex(d, 32, out);
	return 0;
}
