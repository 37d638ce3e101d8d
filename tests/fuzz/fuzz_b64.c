/* fuzz_b64: the base64 decoders of outside text — strict b64_decode() (signHash hashes, SADs),
 * bearer tokens (base64url), and the lenient DER/PEM/base64 reader of the verifier. */
#include <stdlib.h>
#include <string.h>

#include "auth/auth.h"
#include "common/common.h"
#include "fuzz.h"
#include "verify/verify_int.h"

/* b64_decode(): what it accepts re-encodes to the same length and decodes to the same bytes. */
static void
strict(const char *s)
{
	uint8_t *raw = NULL, *again = NULL;
	char *enc = NULL;
	size_t n = 0, m = 0, len = strlen(s);

	if (b64_decode(s, &raw, &n) != 0) {
		if (raw != NULL || n != 0)
			abort();   /* out-params set on failure */
		return;
	}
	if (len % 4 != 0 || n > len / 4 * 3 || n + 2 < len / 4 * 3)
		abort();
	if (b64_encode(raw, n, &enc) != 0)
		abort();
	if (strlen(enc) != len || b64_decode(enc, &again, &m) != 0 || m != n ||
	    (n > 0 && memcmp(raw, again, n) != 0))
		abort();
	free(again);
	free(enc);
	free(raw);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t hash[32], *der = NULL;
	size_t derlen = 0;
	char *s;

	fuzz_init();
	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	strict(s);
	if (auth_token_hash(s, hash) == 0 && strlen(s) != AUTH_TOKEN_CHARS)
		abort();
	free(s);
	if (der_decode(data, size, &der, &derlen) == 0 && (der == NULL || derlen == 0))
		abort();
	free(der);
	return 0;
}
