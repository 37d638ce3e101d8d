/* token: bearer tokens (256 random bits, base64url); the server keeps only their SHA-256. */
#include "auth/auth.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <string.h>

#define TOKEN_RAW_LEN 32

static const char b64url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static int
sha256(const void *p, size_t n, uint8_t hash[static 32])
{
	unsigned int len = 0;

	if (EVP_Digest(p, n, hash, &len, EVP_sha256(), NULL) != 1 || len != 32)
		return INK_ERR_CRYPTO;
	return 0;
}

int
auth_token_new(char out[static AUTH_TOKEN_CHARS + 1], uint8_t hash[static 32])
{
	uint8_t raw[TOKEN_RAW_LEN];
	uint32_t acc = 0;
	size_t i, o = 0;
	int bits = 0, r = INK_ERR_INTERNAL;

	memset(out, 0, AUTH_TOKEN_CHARS + 1);
	memset(hash, 0, 32);
	if ((r = ink_random(raw, sizeof(raw))) != 0)
		goto out;
	for (i = 0; i < sizeof(raw); i++) {
		acc = (acc << 8) | raw[i];
		bits += 8;
		while (bits >= 6) {
			bits -= 6;
			out[o++] = b64url[(acc >> bits) & 0x3f];
		}
	}
	/* 256 bits leave 4 over: one last character, no padding. */
	if (bits > 0)
		out[o++] = b64url[(acc << (6 - bits)) & 0x3f];
	if (o != AUTH_TOKEN_CHARS) {
		log_bug("token encoded to %zu characters", o);
		r = INK_ERR_INTERNAL;
		goto out;
	}
	out[o] = '\0';
	if ((r = sha256(out, AUTH_TOKEN_CHARS, hash)) != 0)
		goto out;
	r = 0;
out:
	OPENSSL_cleanse(raw, sizeof(raw));
	OPENSSL_cleanse(&acc, sizeof(acc));
	if (r != 0) {
		OPENSSL_cleanse(out, AUTH_TOKEN_CHARS + 1);
		OPENSSL_cleanse(hash, 32);
	}
	return r;
}

int
auth_token_hash(const char *token, uint8_t hash[static 32])
{
	size_t i;

	memset(hash, 0, 32);
	if (token == NULL || strnlen(token, AUTH_TOKEN_CHARS + 1) != AUTH_TOKEN_CHARS)
		return INK_ERR_AUTH;
	for (i = 0; i < AUTH_TOKEN_CHARS; i++) {
		/* strchr would also match the terminating NUL, which strnlen already excluded. */
		if (strchr(b64url, token[i]) == NULL)
			return INK_ERR_AUTH;
	}
	return sha256(token, AUTH_TOKEN_CHARS, hash);
}
