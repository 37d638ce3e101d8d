/* totp: RFC 6238 one-time passwords (HMAC-SHA-1, 30 s, 6 digits), base32 and otpauth URIs. */
#include "auth/auth.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <string.h>

#define TOTP_DIGITS 6
#define TOTP_MOD 1000000u
/* More than a few minutes of drift either way is a broken clock, not a slow finger. */
#define TOTP_WINDOW_MAX 10

int
auth_totp_code(const uint8_t *seed, size_t seedlen, int64_t step, uint32_t *code)
{
	uint8_t msg[8], mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0, off;
	uint32_t bin;
	int i, r = INK_ERR_CRYPTO;

	*code = 0;
	if (seed == NULL || seedlen == 0 || seedlen > INT32_MAX || step < 0)
		return INK_ERR_INVALID;
	for (i = 7; i >= 0; i--) {
		msg[i] = (uint8_t)(step & 0xff);
		step >>= 8;
	}
	if (HMAC(EVP_sha1(), seed, (int)seedlen, msg, sizeof(msg), mac, &maclen) == NULL ||
	    maclen != 20)
		goto out;
	/* RFC 4226 5.3 dynamic truncation. */
	off = mac[maclen - 1] & 0x0f;
	bin = ((uint32_t)(mac[off] & 0x7f) << 24) | ((uint32_t)mac[off + 1] << 16) |
	      ((uint32_t)mac[off + 2] << 8) | (uint32_t)mac[off + 3];
	*code = bin % TOTP_MOD;
	r = 0;
out:
	OPENSSL_cleanse(mac, sizeof(mac));
	return r;
}

int
auth_totp_verify(const uint8_t *seed, size_t seedlen, const char *code, int64_t now,
                 int window, int64_t *step)
{
	char want[TOTP_DIGITS + 1];
	uint32_t c = 0, found = 0, eq;
	uint64_t mask;
	int64_t t, s, matched = 0;
	int i, r = INK_ERR_INTERNAL;

	if (step != NULL)
		*step = 0;
	if (seed == NULL || seedlen == 0 || now < 0 || window < 0 || window > TOTP_WINDOW_MAX)
		return INK_ERR_INVALID;
	/* Anything but exactly six ASCII digits is a wrong code, not a malformed request:
	 * the caller counts it as a failed attempt. */
	if (code == NULL || strnlen(code, TOTP_DIGITS + 1) != TOTP_DIGITS)
		return INK_ERR_AUTH;
	for (i = 0; i < TOTP_DIGITS; i++) {
		if (code[i] < '0' || code[i] > '9')
			return INK_ERR_AUTH;
	}
	t = now / AUTH_TOTP_STEP;
	/* Every step of the window is computed and compared, so the time taken does not tell
	 * which step (if any) matched. */
	for (s = t - window; s <= t + window; s++) {
		if (s < 0)
			continue;
		if ((r = auth_totp_code(seed, seedlen, s, &c)) != 0)
			goto out;
		snprintf(want, sizeof(want), "%06u", (unsigned)c);
		eq = (uint32_t)(CRYPTO_memcmp(want, code, TOTP_DIGITS) == 0);
		mask = (uint64_t)0 - (uint64_t)(eq & (found ^ 1u));
		matched = (int64_t)(((uint64_t)matched & ~mask) | ((uint64_t)s & mask));
		found |= eq;
	}
	if (!found) {
		r = INK_ERR_AUTH;
		goto out;
	}
	if (step != NULL)
		*step = matched;
	r = 0;
out:
	OPENSSL_cleanse(want, sizeof(want));
	OPENSSL_cleanse(&c, sizeof(c));
	return r;
}

int
auth_base32_encode(const uint8_t *in, size_t len, char *out, size_t outsz)
{
	static const char alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
	uint32_t acc = 0;
	size_t i, o = 0, need;
	int bits = 0;

	if (outsz > 0)
		out[0] = '\0';
	if (in == NULL && len > 0)
		return INK_ERR_INVALID;
	if (len > (SIZE_MAX - 5) / 8)
		return INK_ERR_TOO_LARGE;
	need = (len * 8 + 4) / 5;
	if (need >= outsz)
		return INK_ERR_TOO_LARGE;
	for (i = 0; i < len; i++) {
		acc = (acc << 8) | in[i];
		bits += 8;
		while (bits >= 5) {
			bits -= 5;
			out[o++] = alpha[(acc >> bits) & 0x1f];
		}
	}
	if (bits > 0)
		out[o++] = alpha[(acc << (5 - bits)) & 0x1f];
	out[o] = '\0';
	/* The seed passes through acc. */
	OPENSSL_cleanse(&acc, sizeof(acc));
	return 0;
}

/* Appends s to out at *o, percent-encoding every byte outside RFC 3986 "unreserved". */
static int
put_pct(char *out, size_t outsz, size_t *o, const char *s, bool encode)
{
	static const char hex[] = "0123456789ABCDEF";
	unsigned char c;

	for (; *s != '\0'; s++) {
		c = (unsigned char)*s;
		if (!encode || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~') {
			if (*o + 1 >= outsz)
				return INK_ERR_TOO_LARGE;
			out[(*o)++] = (char)c;
		} else {
			if (*o + 3 >= outsz)
				return INK_ERR_TOO_LARGE;
			out[(*o)++] = '%';
			out[(*o)++] = hex[c >> 4];
			out[(*o)++] = hex[c & 0x0f];
		}
	}
	out[*o] = '\0';
	return 0;
}

int
auth_otpauth_uri(const char *issuer, const char *username, const char *seed_b32, char *out,
                 size_t outsz)
{
	size_t o = 0, i;
	int r = INK_ERR_INVALID;

	if (outsz == 0)
		return INK_ERR_TOO_LARGE;
	out[0] = '\0';
	if (issuer == NULL || username == NULL || seed_b32 == NULL || issuer[0] == '\0' ||
	    username[0] == '\0' || seed_b32[0] == '\0')
		return INK_ERR_INVALID;
	/* The label is "issuer:account"; authenticator apps split it on the first colon, some
	 * after decoding %3A, so a colon in either part would be misread. */
	if (strchr(issuer, ':') != NULL || strchr(username, ':') != NULL)
		return INK_ERR_INVALID;
	for (i = 0; seed_b32[i] != '\0'; i++) {
		if (!((seed_b32[i] >= 'A' && seed_b32[i] <= 'Z') ||
		      (seed_b32[i] >= '2' && seed_b32[i] <= '7')))
			return INK_ERR_INVALID;
	}
	if ((r = put_pct(out, outsz, &o, "otpauth://totp/", false)) != 0 ||
	    (r = put_pct(out, outsz, &o, issuer, true)) != 0 ||
	    (r = put_pct(out, outsz, &o, ":", false)) != 0 ||
	    (r = put_pct(out, outsz, &o, username, true)) != 0 ||
	    (r = put_pct(out, outsz, &o, "?secret=", false)) != 0 ||
	    (r = put_pct(out, outsz, &o, seed_b32, false)) != 0 ||
	    (r = put_pct(out, outsz, &o, "&issuer=", false)) != 0 ||
	    (r = put_pct(out, outsz, &o, issuer, true)) != 0 ||
	    (r = put_pct(out, outsz, &o, "&algorithm=SHA1&digits=6&period=30", false)) != 0)
		goto out;
	r = 0;
out:
	/* The URI carries the seed: a half-written one is wiped, not left behind. */
	if (r != 0)
		OPENSSL_cleanse(out, outsz);
	return r;
}
