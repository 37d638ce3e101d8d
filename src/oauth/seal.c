/* seal: the OAuth flow rows in the shared store are sealed under a key derived from the value
 * the row is found by (cookie, request_uri handle, code, access token) — the store keeps only
 * that value's SHA-256, so a database row, or a dump of all of them, opens nothing and cannot
 * be forged: a code's SAD stays as secret as the code itself (docs/oauth.md). */
#include "oauth/oauth_int.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

#define NONCE_LEN 12
#define TAG_LEN 16

static const char *const labels[] = {
	[OAUTH_SEAL_PAGE] = "inkan oauth page v1",
	[OAUTH_SEAL_PAR] = "inkan oauth pushed request v1",
	[OAUTH_SEAL_CODE] = "inkan oauth code v1",
	[OAUTH_SEAL_TOKEN] = "inkan oauth token v1",
};

/* key[32] = HKDF-SHA256(value, info = the kind's label). */
static int
derive(enum oauth_seal_kind kind, const char *value, uint8_t key[static 32])
{
	OSSL_PARAM params[4], *p = params;
	EVP_KDF *kdf = NULL;
	EVP_KDF_CTX *kctx = NULL;
	int r = INK_ERR_CRYPTO;

	if ((unsigned)kind >= sizeof(labels) / sizeof(labels[0]) || value == NULL ||
	    value[0] == '\0')
		return INK_ERR_INVALID;
	if ((kdf = EVP_KDF_fetch(NULL, OSSL_KDF_NAME_HKDF, NULL)) == NULL ||
	    (kctx = EVP_KDF_CTX_new(kdf)) == NULL)
		goto out;
	*p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)value, strlen(value));
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)labels[kind],
	                                         strlen(labels[kind]));
	*p = OSSL_PARAM_construct_end();
	if (EVP_KDF_derive(kctx, key, 32, params) == 1)
		r = 0;
out:
	EVP_KDF_CTX_free(kctx);
	EVP_KDF_free(kdf);
	return r;
}

int
oauth_seal(enum oauth_seal_kind kind, const char *value, const uint8_t hash[static 32],
           const char *plain, size_t len, uint8_t **out, size_t *outlen)
{
	EVP_CIPHER_CTX *ctx = NULL;
	uint8_t key[32], *b = NULL;
	int n, r;

	*out = NULL;
	*outlen = 0;
	if (len == 0 || len > STORE_FLOW_BODY_MAX - NONCE_LEN - TAG_LEN)
		return INK_ERR_TOO_LARGE;
	if ((r = derive(kind, value, key)) != 0)
		return r;
	r = INK_ERR_CRYPTO;
	if ((b = malloc(NONCE_LEN + len + TAG_LEN)) == NULL) {
		r = INK_ERR_ALLOC;
		goto out;
	}
	if (RAND_bytes(b, NONCE_LEN) != 1 || (ctx = EVP_CIPHER_CTX_new()) == NULL ||
	    EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, b) != 1 ||
	    EVP_EncryptUpdate(ctx, NULL, &n, hash, 32) != 1 ||
	    EVP_EncryptUpdate(ctx, b + NONCE_LEN, &n, (const uint8_t *)plain, (int)len) != 1 ||
	    EVP_EncryptFinal_ex(ctx, b + NONCE_LEN + n, &n) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG_LEN, b + NONCE_LEN + len) != 1)
		goto out;
	*out = b;
	*outlen = NONCE_LEN + len + TAG_LEN;
	b = NULL;
	r = 0;
out:
	EVP_CIPHER_CTX_free(ctx);
	OPENSSL_cleanse(key, sizeof(key));
	if (b != NULL) {
		OPENSSL_cleanse(b, NONCE_LEN + len + TAG_LEN);
		free(b);
	}
	return r;
}

int
oauth_unseal(enum oauth_seal_kind kind, const char *value, const uint8_t hash[static 32],
             const uint8_t *body, size_t len, char **plain)
{
	EVP_CIPHER_CTX *ctx = NULL;
	uint8_t key[32];
	char *p = NULL;
	size_t plen;
	int n, r;

	*plain = NULL;
	if (body == NULL || len <= NONCE_LEN + TAG_LEN || len > STORE_FLOW_BODY_MAX)
		return INK_ERR_STORE;
	if ((r = derive(kind, value, key)) != 0)
		return r;
	plen = len - NONCE_LEN - TAG_LEN;
	r = INK_ERR_STORE;
	if ((p = malloc(plen + 1)) == NULL) {
		r = INK_ERR_ALLOC;
		goto out;
	}
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL ||
	    EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, body) != 1 ||
	    EVP_DecryptUpdate(ctx, NULL, &n, hash, 32) != 1 ||
	    EVP_DecryptUpdate(ctx, (uint8_t *)p, &n, body + NONCE_LEN, (int)plen) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG_LEN,
	                        (void *)(body + NONCE_LEN + plen)) != 1 ||
	    EVP_DecryptFinal_ex(ctx, (uint8_t *)p + n, &n) != 1)
		goto out;
	p[plen] = '\0';
	*plain = p;
	p = NULL;
	r = 0;
out:
	EVP_CIPHER_CTX_free(ctx);
	OPENSSL_cleanse(key, sizeof(key));
	if (p != NULL) {
		OPENSSL_cleanse(p, plen + 1);
		free(p);
	}
	return r;
}
