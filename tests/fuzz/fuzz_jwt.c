/* fuzz_jwt: the JSON Web Token readers of outside text (client assertions of private_key_jwt
 * clients, account_tokens) — strict base64url, the compact JWS split, the header and claims
 * JSON, the algorithm's fit to the key, the ECDSA r || s conversion, HS256. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "oauth/oauth.h"

/* A P-256 key: the seeds of corpus/jwt/ were signed by its private half (not kept). */
static const char pem[] =
	"-----BEGIN PUBLIC KEY-----\n"
	"MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEI1IcA3ZawkXpE1/rXd6YK7+xvQvY\n"
	"K/qmHJKrZkTpi5YXCyMJcPtcAWuVm/qURBZT1sUiShd+MrmsoE2TyVe+vg==\n"
	"-----END PUBLIC KEY-----\n";
/* The HS256 key of the account_token seeds: SHA-256 of "fuzz-secret". */
static const uint8_t hkey[32] = {
	0xea, 0xab, 0x94, 0xe2, 0x02, 0x69, 0xe8, 0xe0, 0xbb, 0x40, 0x0f, 0xcf, 0xd4, 0x01, 0x03, 0x90,
	0x53, 0x95, 0x51, 0x9f, 0x6e, 0x1f, 0xc4, 0x41, 0xe6, 0x0f, 0xaa, 0x69, 0xc6, 0x35, 0x12, 0xd8,
};

/* oauth_b64url_decode(): what it accepts is canonical — its bytes encode back to the input. */
static void
b64url(const char *s, size_t len)
{
	static const char alpha[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	uint8_t *raw = NULL;
	size_t n = 0, i, o = 0;
	char *enc;
	uint32_t acc = 0;
	int bits = 0;

	if (oauth_b64url_decode(s, len, &raw, &n) != 0) {
		if (raw != NULL || n != 0)
			abort();
		return;
	}
	if ((enc = malloc(len + 4)) == NULL)
		abort();
	for (i = 0; i < n; i++) {
		acc = (acc << 8) | raw[i];
		for (bits += 8; bits >= 6; bits -= 6)
			enc[o++] = alpha[(acc >> (bits - 6)) & 63];
	}
	if (bits > 0)
		enc[o++] = alpha[(acc << (6 - bits)) & 63];
	if (o != len || memcmp(enc, s, len) != 0)
		abort();
	free(enc);
	free(raw);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;
	json_t *claims = NULL;
	const char *why = NULL;

	fuzz_init();
	if (size > OAUTH_JWT_MAX + 16 || (s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	b64url(s, strlen(s));
	if (oauth_jws_verify_pem(s, pem, &claims, &why) == 0) {
		if (!json_is_object(claims))
			abort();
	} else if (claims != NULL || why == NULL) {
		abort();
	}
	json_decref(claims);
	claims = NULL;
	if (oauth_jws_verify_hs256(s, hkey, sizeof(hkey), &claims, &why) == 0) {
		if (!json_is_object(claims))
			abort();
	} else if (claims != NULL || why == NULL) {
		abort();
	}
	json_decref(claims);
	free(s);
	return 0;
}
