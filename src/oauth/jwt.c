/* jwt: JSON Web Tokens as the OAuth server receives them — compact JWS only (RFC 7515 7.1),
 * base64url read strictly, the algorithm taken from src/policy and required to fit the key the
 * client registered (never "none", never HMAC keyed by a public key); client assertions for
 * private_key_jwt (RFC 7523) and the CSC account_token. */
#include "oauth/oauth.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"

#define CLOCK_SKEW 60           /* seconds a client's clock may run ahead of ours */

static bool
b64url_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_';
}

static int
b64url_val(char c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' : c >= 'a' && c <= 'z' ? c - 'a' + 26 :
	       c >= '0' && c <= '9' ? c - '0' + 52 : c == '-' ? 62 : 63;
}

int
oauth_b64url_decode(const char *in, size_t len, uint8_t **out, size_t *outlen)
{
	char *std = NULL;
	uint8_t *p = NULL;
	size_t i, slen = (len + 3) / 4 * 4, n = 0;
	int r = INK_ERR_INVALID;

	*out = NULL;
	*outlen = 0;
	/* no padding, no whitespace, nothing but the URL-safe alphabet; the bits after the last
	 * byte zero, so that one value has one spelling (RFC 7515 2, RFC 4648 3.5) */
	if (len == 0 || len > OAUTH_JWT_MAX || len % 4 == 1)
		return INK_ERR_INVALID;
	for (i = 0; i < len; i++)
		if (!b64url_char(in[i]))
			return INK_ERR_INVALID;
	if ((len % 4 == 2 && (b64url_val(in[len - 1]) & 0x0f) != 0) ||
	    (len % 4 == 3 && (b64url_val(in[len - 1]) & 0x03) != 0))
		return INK_ERR_INVALID;
	if ((std = malloc(slen + 1)) == NULL || (p = malloc(slen / 4 * 3 + 1)) == NULL) {
		r = INK_ERR_ALLOC;
		goto out;
	}
	for (i = 0; i < slen; i++)
		std[i] = i >= len ? '=' : in[i] == '-' ? '+' : in[i] == '_' ? '/' : in[i];
	std[slen] = '\0';
	if ((r = b64_decode_to(std, slen, p, slen / 4 * 3, &n)) != 0)
		goto out;
	p[n] = '\0';
	*out = p;
	*outlen = n;
	p = NULL;
out:
	free(std);
	free(p);
	return r;
}

/* One base64url part holding a JSON object (no duplicate names). */
static json_t *
part_json(const char *in, size_t len)
{
	uint8_t *raw = NULL;
	size_t n = 0;
	json_t *o = NULL;

	if (oauth_b64url_decode(in, len, &raw, &n) != 0)
		return NULL;
	o = json_loadb((const char *)raw, n, JSON_REJECT_DUPLICATES, NULL);
	free(raw);
	if (o != NULL && !json_is_object(o)) {
		json_decref(o);
		o = NULL;
	}
	return o;
}

/* A compact JWS split and read: header and claims objects, the signing input's length
 * (header.payload) and the raw signature. */
struct jws {
	json_t *header, *claims;
	size_t input_len;
	uint8_t *sig;
	size_t sig_len;
	const char *alg;
};

static void
jws_free(struct jws *j)
{
	json_decref(j->header);
	json_decref(j->claims);
	free(j->sig);
	memset(j, 0, sizeof(*j));
}

static const char *
jws_split(const char *jws, struct jws *j)
{
	const char *d1, *d2;
	size_t len;

	memset(j, 0, sizeof(*j));
	if (jws == NULL || (len = strlen(jws)) == 0 || len > OAUTH_JWT_MAX)
		return "the JWT is missing or too long";
	if ((d1 = strchr(jws, '.')) == NULL || (d2 = strchr(d1 + 1, '.')) == NULL ||
	    strchr(d2 + 1, '.') != NULL)
		return "the JWT is not a compact JWS (three parts)";
	if ((j->header = part_json(jws, (size_t)(d1 - jws))) == NULL)
		return "the JWT header is not base64url JSON";
	if ((j->claims = part_json(d1 + 1, (size_t)(d2 - d1 - 1))) == NULL)
		return "the JWT claims are not base64url JSON";
	if (oauth_b64url_decode(d2 + 1, strlen(d2 + 1), &j->sig, &j->sig_len) != 0)
		return "the JWT signature is not base64url";
	if ((j->alg = json_string_value(json_object_get(j->header, "alg"))) == NULL)
		return "the JWT header names no alg";
	/* RFC 7515 4.1.11: an extension we do not know must not be ignored */
	if (json_object_get(j->header, "crit") != NULL)
		return "the JWT header has crit extensions";
	j->input_len = (size_t)(d2 - jws);
	return NULL;
}

/* Whether key is the kind alg signs with: the curve for ES*, an RSA key policy allows for
 * RS256/PS256. */
static bool
key_fits(EVP_PKEY *key, const struct policy_jws_alg *alg)
{
	char group[64], why[160];
	const char *warning = NULL;
	size_t glen = 0;

	if (alg->key_type == POLICY_KEY_EC)
		return EVP_PKEY_is_a(key, "EC") &&
		       EVP_PKEY_get_group_name(key, group, sizeof(group), &glen) == 1 &&
		       strcmp(group, alg->curve) == 0;
	return EVP_PKEY_is_a(key, "RSA") &&
	       policy_check_key(POLICY_KEY_RSA, EVP_PKEY_get_bits(key), NULL, ink_now(), &warning,
	                        why, sizeof(why)) == 0;
}

static EVP_PKEY *
pem_key(const char *pem)
{
	BIO *b = BIO_new_mem_buf(pem, -1);
	EVP_PKEY *k = b != NULL ? PEM_read_bio_PUBKEY(b, NULL, NULL, NULL) : NULL;

	BIO_free(b);
	return k;
}

const char *
oauth_pubkey_problem(const char *pem)
{
	static const char *const names[] = { "ES256", "ES384", "RS256" };
	EVP_PKEY *k;
	size_t i;
	bool ok = false;

	if (pem == NULL || pem[0] == '\0' || strlen(pem) > STORE_PUBKEY_MAX)
		return "the public key must be a PEM SubjectPublicKeyInfo of at most 4096 bytes";
	if ((k = pem_key(pem)) == NULL)
		return "the public key is not a PEM public key (-----BEGIN PUBLIC KEY-----)";
	for (i = 0; i < INK_ARRAY_LEN(names); i++)
		ok = ok || key_fits(k, policy_jws_alg_by_name(names[i]));
	EVP_PKEY_free(k);
	return ok ? NULL : "the public key must be ECDSA P-256 or P-384, or RSA 3072/4096 "
	                   "(2048 until 2030): JWS ES256, ES384, RS256 or PS256";
}

int
oauth_jws_verify_pem(const char *jws, const char *pem, json_t **claims, const char **why)
{
	const struct policy_jws_alg *alg;
	struct jws j;
	EVP_PKEY *key = NULL;
	EVP_MD_CTX *md = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	uint8_t *der = NULL;
	const uint8_t *sig;
	size_t sig_len;
	int r = INK_ERR_AUTH;

	*claims = NULL;
	if ((*why = jws_split(jws, &j)) != NULL)
		goto out;
	if ((alg = policy_jws_alg_by_name(j.alg)) == NULL) {
		*why = "the JWT alg is not allowed (ES256, ES384, RS256, PS256)";
		goto out;
	}
	if ((key = pem_key(pem)) == NULL || !key_fits(key, alg)) {
		*why = "the JWT alg does not fit the client's registered key";
		goto out;
	}
	sig = j.sig;
	sig_len = j.sig_len;
	if (alg->key_type == POLICY_KEY_EC) {
		/* R || S, each as long as the curve's order (RFC 7518 3.4) */
		if (j.sig_len != 2 * (size_t)((EVP_PKEY_get_bits(key) + 7) / 8) ||
		    ink_ecdsa_raw_to_der(j.sig, j.sig_len, &der, &sig_len) != 0) {
			*why = "the JWT signature has the wrong length";
			goto out;
		}
		sig = der;
	}
	if ((md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestVerifyInit_ex(md, &pctx, alg->digest, NULL, NULL, key, NULL) != 1 ||
	    (alg->key_type == POLICY_KEY_RSA &&
	     EVP_PKEY_CTX_set_rsa_padding(pctx, alg->pss ? RSA_PKCS1_PSS_PADDING :
	                                  RSA_PKCS1_PADDING) != 1) ||
	    (alg->pss && (EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1 ||
	                  EVP_PKEY_CTX_set_rsa_mgf1_md_name(pctx, alg->digest, NULL) != 1))) {
		r = INK_ERR_CRYPTO;
		*why = "cannot verify the JWT";
		goto out;
	}
	if (EVP_DigestVerify(md, sig, sig_len, (const unsigned char *)jws, j.input_len) != 1) {
		*why = "the JWT signature does not verify with the client's key";
		goto out;
	}
	*claims = j.claims;
	j.claims = NULL;
	r = 0;
out:
	ERR_clear_error();
	OPENSSL_free(der);
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(key);
	jws_free(&j);
	return r;
}

int
oauth_jws_verify_hs256(const char *jws, const uint8_t *key, size_t keylen, json_t **claims,
                       const char **why)
{
	struct jws j;
	uint8_t mac[32];
	size_t n = 0;
	int r = INK_ERR_AUTH;

	*claims = NULL;
	if ((*why = jws_split(jws, &j)) != NULL)
		goto out;
	if (strcmp(j.alg, "HS256") != 0) {
		*why = "the account_token alg must be HS256";
		goto out;
	}
	if (EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key, keylen, (const unsigned char *)jws,
	              j.input_len, mac, sizeof(mac), &n) == NULL || n != sizeof(mac)) {
		r = INK_ERR_CRYPTO;
		*why = "cannot verify the JWT";
		goto out;
	}
	if (j.sig_len != sizeof(mac) || CRYPTO_memcmp(mac, j.sig, sizeof(mac)) != 0) {
		*why = "the JWT signature does not verify with the client's secret";
		goto out;
	}
	*claims = j.claims;
	j.claims = NULL;
	r = 0;
out:
	OPENSSL_cleanse(mac, sizeof(mac));
	jws_free(&j);
	return r;
}

/* A NumericDate claim (RFC 7519 2): an integer. */
static bool
claim_time(const json_t *claims, const char *name, int64_t *t)
{
	const json_t *v = json_object_get(claims, name);

	if (!json_is_integer(v))
		return false;
	*t = (int64_t)json_integer_value(v);
	return true;
}

static bool
aud_one(const json_t *aud, const char *const *auds, size_t nauds)
{
	size_t k;

	for (k = 0; json_is_string(aud) && k < nauds; k++)
		if (strcmp(json_string_value(aud), auds[k]) == 0)
			return true;
	return false;
}

/* aud (a string or an array of strings) names one of auds. */
static bool
aud_matches(const json_t *claims, const char *const *auds, size_t nauds)
{
	const json_t *aud = json_object_get(claims, "aud"), *e;
	size_t i;

	if (!json_is_array(aud))
		return aud_one(aud, auds, nauds);
	json_array_foreach(aud, i, e)
		if (aud_one(e, auds, nauds))
			return true;
	return false;
}

/* jti: 1..OAUTH_JTI_MAX printable ASCII bytes. */
static const char *
claim_jti(const json_t *claims)
{
	const char *jti = json_string_value(json_object_get(claims, "jti"));
	size_t i, len = jti != NULL ? strlen(jti) : 0;

	if (len == 0 || len > OAUTH_JTI_MAX)
		return NULL;
	for (i = 0; i < len; i++)
		if ((unsigned char)jti[i] < 0x20 || (unsigned char)jti[i] >= 0x7f)
			return NULL;
	return jti;
}

static bool
claim_is(const json_t *claims, const char *name, const char *want)
{
	const char *v = json_string_value(json_object_get(claims, name));

	return v != NULL && strcmp(v, want) == 0;
}

int
oauth_client_assertion_check(struct store *st, const struct store_oauth_client *c,
                             const char *assertion, const char *const *auds, size_t nauds,
                             int64_t now, const char **why)
{
	json_t *claims = NULL;
	const char *jti;
	int64_t exp = 0, t = 0;
	int r;

	*why = NULL;
	if (c->public_key[0] == '\0') {
		*why = "the client is not registered for private_key_jwt";
		return INK_ERR_AUTH;
	}
	if ((r = oauth_jws_verify_pem(assertion, c->public_key, &claims, why)) != 0)
		return r;
	r = INK_ERR_AUTH;
	/* RFC 7523 3: iss and sub are the client; aud this server; exp bounds its life */
	if (!claim_is(claims, "iss", c->id) || !claim_is(claims, "sub", c->id))
		*why = "the client assertion's iss and sub must both be the client_id";
	else if (!aud_matches(claims, auds, nauds))
		*why = "the client assertion's aud is not this server's token endpoint or issuer";
	else if (!claim_time(claims, "exp", &exp))
		*why = "the client assertion has no exp";
	else if (exp <= now)
		*why = "the client assertion has expired";
	else if (exp > now + OAUTH_ASSERTION_TTL + CLOCK_SKEW)
		*why = "the client assertion lives longer than 5 minutes";
	else if (json_object_get(claims, "iat") != NULL &&
	         /* exp is bounded above: exp - TTL cannot overflow where exp - iat could */
	         (!claim_time(claims, "iat", &t) || t > now + CLOCK_SKEW || t < exp - OAUTH_ASSERTION_TTL))
		*why = "the client assertion's iat is in the future or more than 5 minutes before exp";
	else if (json_object_get(claims, "nbf") != NULL &&
	         (!claim_time(claims, "nbf", &t) || t > now + CLOCK_SKEW))
		*why = "the client assertion is not valid yet (nbf)";
	else if ((jti = claim_jti(claims)) == NULL)
		*why = "the client assertion needs a jti of 1..128 printable bytes";
	else if ((r = st->ops->oauth_jti_use(st, c->id, jti, exp, now)) == INK_ERR_REPLAY)
		*why = "the client assertion was used before (jti replayed)";
	else if (r != 0)
		*why = "cannot record the client assertion's jti";
	json_decref(claims);
	return r;
}

int
oauth_account_token_check(struct store *st, const struct store_oauth_client *c,
                          const char *token, int64_t now, char account[static STORE_NAME_MAX + 1],
                          const char **why)
{
	json_t *claims = NULL;
	const char *sub, *jti;
	int64_t iat = 0;
	char key_client[STORE_ID_LEN + 6];
	int r;

	account[0] = '\0';
	*why = NULL;
	/* CSC v1 8.3.1 / v2 8.3.2: HMAC-SHA256 keyed by SHA256(client_secret), which is exactly
	 * what the store keeps; a private_key_jwt client signs it with its registered key; a
	 * public client has nothing to sign with */
	if (c->public_client) {
		*why = "a public client cannot send an account_token";
		return INK_ERR_AUTH;
	}
	r = c->public_key[0] != '\0' ? oauth_jws_verify_pem(token, c->public_key, &claims, why) :
	    oauth_jws_verify_hs256(token, c->secret_hash, sizeof(c->secret_hash), &claims, why);
	if (r != 0)
		return r;
	r = INK_ERR_AUTH;
	if (!claim_is(claims, "azp", c->id))
		*why = "the account_token's azp is not the client_id";
	else if ((sub = json_string_value(json_object_get(claims, "sub"))) == NULL ||
	         sub[0] == '\0' || strlen(sub) > STORE_NAME_MAX)
		*why = "the account_token names no account (sub)";
	else if (!claim_time(claims, "iat", &iat) || iat > now + CLOCK_SKEW ||
	         iat + OAUTH_ASSERTION_TTL < now)
		*why = "the account_token's iat is missing, in the future or over 5 minutes old";
	else if (json_object_get(claims, "exp") != NULL &&
	         (!claim_time(claims, "exp", &iat) || iat <= now))
		*why = "the account_token has expired";
	else if ((jti = claim_jti(claims)) == NULL)
		*why = "the account_token needs a jti of 1..128 printable bytes";
	else {
		/* one jti space per client: "acct:" before the client's id keeps them apart from its
		 * assertions' (before the jti it made one of 124..128 bytes longer than the store's
		 * column allows: refused as replayed) */
		snprintf(key_client, sizeof(key_client), "acct:%s", c->id);
		if ((r = st->ops->oauth_jti_use(st, key_client, jti, now + OAUTH_ASSERTION_TTL +
		                                CLOCK_SKEW, now)) == INK_ERR_REPLAY)
			*why = "the account_token was used before (jti replayed)";
		else if (r != 0)
			*why = "cannot record the account_token's jti";
		else
			snprintf(account, STORE_NAME_MAX + 1, "%s", sub);
	}
	json_decref(claims);
	return r;
}
