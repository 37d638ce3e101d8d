/* test_jwt: the OAuth module's JSON Web Tokens — strict base64url, the JWS algorithms policy
 * allows and their fit to the registered key (alg confusion, "none", HMAC keyed by a public
 * key refused), private_key_jwt client assertions (aud, exp, iss/sub, jti once) and the CSC
 * account_token (HS256 keyed by SHA256(client_secret)), tokens signed here with OpenSSL. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "oauth/oauth.h"

#define NOW INT64_C(1800000000)
#define AUD "https://127.0.0.1:8443/oauth2/token"

struct fx {
	char dir[64];
	struct store *st;
	EVP_PKEY *ec256, *ec384, *rsa;
	char *pem256, *pem384, *pemrsa;
	struct store_oauth_client cl;
};

static void
b64url(const uint8_t *in, size_t len, char *out)
{
	char *std = NULL;
	size_t i, o = 0;

	assert_int_equal(b64_encode(in, len, &std), 0);
	for (i = 0; std[i] != '\0' && std[i] != '='; i++)
		out[o++] = std[i] == '+' ? '-' : std[i] == '/' ? '_' : std[i];
	out[o] = '\0';
	free(std);
}

static char *
pem_of(EVP_PKEY *k)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data, *out;
	long n;

	assert_int_equal(PEM_write_bio_PUBKEY(b, k), 1);
	n = BIO_get_mem_data(b, &data);
	out = strndup(data, (size_t)n);
	BIO_free(b);
	return out;
}

/* header.payload.signature; key NULL: hmac[32] for HS256, or "" for alg none. */
static char *
jws(const char *header, const char *claims, EVP_PKEY *key, const char *digest, bool pss,
    const uint8_t *hmac, size_t hmac_len)
{
	char *out = malloc(8192), sig64[2048];
	uint8_t sig[1024], raw[132];
	size_t n = sizeof(sig), o;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;

	b64url((const uint8_t *)header, strlen(header), out);
	o = strlen(out);
	out[o++] = '.';
	b64url((const uint8_t *)claims, strlen(claims), out + o);
	o = strlen(out);
	if (key != NULL) {
		assert_int_equal(EVP_DigestSignInit_ex(md, &pctx, digest, NULL, NULL, key, NULL), 1);
		if (pss) {
			assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING), 1);
			assert_int_equal(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST), 1);
		}
		assert_int_equal(EVP_DigestSign(md, sig, &n, (uint8_t *)out, o), 1);
		if (EVP_PKEY_is_a(key, "EC")) {
			/* DER to R || S */
			const uint8_t *p = sig;
			ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)n);
			size_t half = (size_t)(EVP_PKEY_get_bits(key) + 7) / 8;

			assert_non_null(es);
			BN_bn2binpad(ECDSA_SIG_get0_r(es), raw, (int)half);
			BN_bn2binpad(ECDSA_SIG_get0_s(es), raw + half, (int)half);
			ECDSA_SIG_free(es);
			memcpy(sig, raw, 2 * half);
			n = 2 * half;
		}
	} else if (hmac != NULL) {
		n = 0;
		assert_non_null(EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, hmac, hmac_len,
		                          (uint8_t *)out, o, sig, 32, &n));
	} else {
		n = 0;
	}
	EVP_MD_CTX_free(md);
	sig64[0] = '\0';
	if (n > 0)
		b64url(sig, n, sig64);
	snprintf(out + o, 8192 - o, ".%s", sig64);
	return out;
}

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char path[96];

	snprintf(f->dir, sizeof(f->dir), "/tmp/test_jwt.XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/s.db", f->dir);
	if (store_sqlite_ops.open(path, &f->st) != 0)
		return -1;
	f->ec256 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	f->ec384 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
	f->rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)3072);
	f->pem256 = pem_of(f->ec256);
	f->pem384 = pem_of(f->ec384);
	f->pemrsa = pem_of(f->rsa);
	snprintf(f->cl.id, sizeof(f->cl.id), "0123456789abcdef0123456789abcdef");
	snprintf(f->cl.public_key, sizeof(f->cl.public_key), "%s", f->pem256);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	char path[96];

	f->st->ops->close(f->st);
	snprintf(path, sizeof(path), "%s/s.db", f->dir);
	unlink(path);
	rmdir(f->dir);
	EVP_PKEY_free(f->ec256);
	EVP_PKEY_free(f->ec384);
	EVP_PKEY_free(f->rsa);
	free(f->pem256);
	free(f->pem384);
	free(f->pemrsa);
	free(f);
	return 0;
}

static void
test_b64url(void **state)
{
	uint8_t *out = NULL;
	size_t n = 0;

	(void)state;
	assert_int_equal(oauth_b64url_decode("aGk", 3, &out, &n), 0);
	assert_int_equal(n, 2);
	assert_memory_equal(out, "hi", 2);
	free(out);
	assert_int_equal(oauth_b64url_decode("-_8", 3, &out, &n), 0);
	free(out);
	/* padding, the standard alphabet, whitespace, a lone character, spare bits set */
	assert_int_equal(oauth_b64url_decode("aGk=", 4, &out, &n), INK_ERR_INVALID);
	assert_int_equal(oauth_b64url_decode("+/8", 3, &out, &n), INK_ERR_INVALID);
	assert_int_equal(oauth_b64url_decode("aG k", 4, &out, &n), INK_ERR_INVALID);
	assert_int_equal(oauth_b64url_decode("aGkaa", 5, &out, &n), INK_ERR_INVALID);
	assert_int_equal(oauth_b64url_decode("aGl", 3, &out, &n), INK_ERR_INVALID);
	assert_int_equal(oauth_b64url_decode("", 0, &out, &n), INK_ERR_INVALID);
	assert_null(out);
}

static void
test_keys(void **state)
{
	struct fx *f = *state;
	EVP_PKEY *p521 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-521");
	EVP_PKEY *ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	char *pem;

	assert_null(oauth_pubkey_problem(f->pem256));
	assert_null(oauth_pubkey_problem(f->pem384));
	assert_null(oauth_pubkey_problem(f->pemrsa));
	assert_non_null(oauth_pubkey_problem("not a key"));
	assert_non_null(oauth_pubkey_problem(""));
	pem = pem_of(p521);
	assert_non_null(oauth_pubkey_problem(pem));   /* no JWS algorithm of ours for it */
	free(pem);
	pem = pem_of(ed);
	assert_non_null(oauth_pubkey_problem(pem));
	free(pem);
	EVP_PKEY_free(p521);
	EVP_PKEY_free(ed);
}

static char *
claims(const char *iss, const char *sub, const char *aud, int64_t exp, const char *jti)
{
	char *c = malloc(512);

	snprintf(c, 512, "{\"iss\":\"%s\",\"sub\":\"%s\",\"aud\":\"%s\",\"exp\":%lld,"
	         "\"iat\":%lld,\"jti\":\"%s\"}", iss, sub, aud, (long long)exp, (long long)NOW, jti);
	return c;
}

static int
check(struct fx *f, const char *assertion, const char **why)
{
	static const char *const auds[] = { "https://127.0.0.1:8443", AUD };

	return oauth_client_assertion_check(f->st, &f->cl, assertion, auds, 2, NOW, why);
}

static void
test_assertion(void **state)
{
	struct fx *f = *state;
	const char *id = f->cl.id, *why = NULL;
	char *c, *t, hdr[] = "{\"alg\":\"ES256\",\"typ\":\"JWT\"}";
	json_t *cl = NULL;

	c = claims(id, id, AUD, NOW + 120, "a1");
	t = jws(hdr, c, f->ec256, "SHA256", false, NULL, 0);
	assert_int_equal(check(f, t, &why), 0);
	/* the same assertion again, on any node sharing the store */
	assert_int_equal(check(f, t, &why), INK_ERR_REPLAY);
	assert_non_null(strstr(why, "jti"));
	free(t);
	free(c);
	/* aud as an array naming the issuer */
	c = malloc(512);
	snprintf(c, 512, "{\"iss\":\"%s\",\"sub\":\"%s\",\"aud\":[\"x\",\"https://127.0.0.1:8443\"],"
	         "\"exp\":%lld,\"jti\":\"a2\"}", id, id, (long long)NOW + 60);
	t = jws(hdr, c, f->ec256, "SHA256", false, NULL, 0);
	assert_int_equal(check(f, t, &why), 0);
	free(t);
	free(c);

	/* wrong aud, expired, too long-lived, iss or sub another client, no jti */
	c = claims(id, id, "https://evil.example/oauth2/token", NOW + 60, "b1");
	t = jws(hdr, c, f->ec256, "SHA256", false, NULL, 0);
	assert_int_equal(check(f, t, &why), INK_ERR_AUTH);
	assert_non_null(strstr(why, "aud"));
	free(t);
	free(c);
	c = claims(id, id, AUD, NOW - 1, "b2");
	t = jws(hdr, c, f->ec256, "SHA256", false, NULL, 0);
	assert_int_equal(check(f, t, &why), INK_ERR_AUTH);
	assert_non_null(strstr(why, "expired"));
	free(t);
	free(c);
	c = claims(id, id, AUD, NOW + 3600, "b3");
	t = jws(hdr, c, f->ec256, "SHA256", false, NULL, 0);
	assert_int_equal(check(f, t, &why), INK_ERR_AUTH);
	free(t);
	free(c);
	c = claims("ffffffffffffffffffffffffffffffff", id, AUD, NOW + 60, "b4");
	t = jws(hdr, c, f->ec256, "SHA256", false, NULL, 0);
	assert_int_equal(check(f, t, &why), INK_ERR_AUTH);
	free(t);
	free(c);
	c = claims(id, "someone", AUD, NOW + 60, "b5");
	t = jws(hdr, c, f->ec256, "SHA256", false, NULL, 0);
	assert_int_equal(check(f, t, &why), INK_ERR_AUTH);
	free(t);
	free(c);
	c = claims(id, id, AUD, NOW + 60, "");
	t = jws(hdr, c, f->ec256, "SHA256", false, NULL, 0);
	assert_int_equal(check(f, t, &why), INK_ERR_AUTH);
	free(t);
	free(c);

	/* an iat at the bottom of int64 (signed by the client: exp - iat would overflow) */
	c = malloc(512);
	snprintf(c, 512, "{\"iss\":\"%s\",\"sub\":\"%s\",\"aud\":\"%s\",\"exp\":%lld,"
	         "\"iat\":-9223372036854775808,\"jti\":\"b6\"}", id, id, AUD, (long long)NOW + 60);
	t = jws(hdr, c, f->ec256, "SHA256", false, NULL, 0);
	assert_int_equal(check(f, t, &why), INK_ERR_AUTH);
	assert_non_null(strstr(why, "iat"));
	free(t);
	free(c);

	c = claims(id, id, AUD, NOW + 60, "c1");
	/* signed by another key */
	t = jws(hdr, c, f->ec384, "SHA256", false, NULL, 0);
	assert_int_equal(check(f, t, &why), INK_ERR_AUTH);
	free(t);
	/* alg confusion: ES384 named for a P-256 key; "none"; HS256 keyed by the public key */
	t = jws("{\"alg\":\"ES384\"}", c, f->ec256, "SHA384", false, NULL, 0);
	assert_int_equal(check(f, t, &why), INK_ERR_AUTH);
	assert_non_null(strstr(why, "fit"));
	free(t);
	t = jws("{\"alg\":\"none\"}", c, NULL, NULL, false, NULL, 0);
	assert_int_equal(check(f, t, &why), INK_ERR_AUTH);
	free(t);
	t = jws("{\"alg\":\"HS256\"}", c, NULL, NULL, false, (const uint8_t *)f->pem256,
	        strlen(f->pem256));
	assert_int_equal(check(f, t, &why), INK_ERR_AUTH);
	assert_non_null(strstr(why, "not allowed"));
	free(t);
	/* crit, a changed payload under a good signature, four parts */
	t = jws("{\"alg\":\"ES256\",\"crit\":[\"x\"],\"x\":1}", c, f->ec256, "SHA256", false, NULL, 0);
	assert_int_equal(check(f, t, &why), INK_ERR_AUTH);
	free(t);
	t = jws(hdr, c, f->ec256, "SHA256", false, NULL, 0);
	{
		char *d1 = strchr(t, '.'), *evil = NULL, *pay = claims(id, id, AUD, NOW + 60, "c2");
		char p64[512];

		b64url((const uint8_t *)pay, strlen(pay), p64);
		assert_true(asprintf(&evil, "%.*s.%s%s", (int)(d1 - t), t, p64,
		                     strchr(d1 + 1, '.')) > 0);
		assert_int_equal(check(f, evil, &why), INK_ERR_AUTH);
		assert_non_null(strstr(why, "does not verify"));
		free(evil);
		free(pay);
		assert_true(asprintf(&evil, "%s.x", t) > 0);
		assert_int_equal(check(f, evil, &why), INK_ERR_AUTH);
		free(evil);
	}
	/* still good after all those refusals, once */
	assert_int_equal(check(f, t, &why), 0);
	free(t);
	free(c);

	/* RSA: RS256 and PS256 */
	snprintf(f->cl.public_key, sizeof(f->cl.public_key), "%s", f->pemrsa);
	c = claims(id, id, AUD, NOW + 60, "r1");
	t = jws("{\"alg\":\"RS256\"}", c, f->rsa, "SHA256", false, NULL, 0);
	assert_int_equal(check(f, t, &why), 0);
	free(t);
	free(c);
	c = claims(id, id, AUD, NOW + 60, "r2");
	t = jws("{\"alg\":\"PS256\"}", c, f->rsa, "SHA256", true, NULL, 0);
	assert_int_equal(check(f, t, &why), 0);
	free(t);
	/* PS256 named over a PKCS#1 v1.5 signature */
	free(c);
	c = claims(id, id, AUD, NOW + 60, "r3");
	t = jws("{\"alg\":\"PS256\"}", c, f->rsa, "SHA256", false, NULL, 0);
	assert_int_equal(check(f, t, &why), INK_ERR_AUTH);
	free(t);
	free(c);
	/* a secret client has no assertion to make */
	f->cl.public_key[0] = '\0';
	c = claims(id, id, AUD, NOW + 60, "r4");
	t = jws("{\"alg\":\"RS256\"}", c, f->rsa, "SHA256", false, NULL, 0);
	assert_int_equal(check(f, t, &why), INK_ERR_AUTH);
	assert_int_equal(oauth_jws_verify_pem(t, f->pemrsa, &cl, &why), 0);
	json_decref(cl);
	free(t);
	free(c);
	snprintf(f->cl.public_key, sizeof(f->cl.public_key), "%s", f->pem256);
}

static void
test_account_token(void **state)
{
	struct fx *f = *state;
	struct store_oauth_client sc;
	const char *secret = "s3cr3t-s3cr3t-s3cr3t-s3cr3t-s3cr3t-s3cr3t-x", *why = NULL;
	char c[512], acct[STORE_NAME_MAX + 1], *t;
	unsigned int n = 0;

	memset(&sc, 0, sizeof(sc));
	snprintf(sc.id, sizeof(sc.id), "fedcba9876543210fedcba9876543210");
	assert_int_equal(EVP_Digest(secret, strlen(secret), sc.secret_hash, &n, EVP_sha256(), NULL), 1);
	snprintf(c, sizeof(c), "{\"sub\":\"alice\",\"iat\":%lld,\"jti\":\"t1\",\"iss\":\"Desk\","
	         "\"azp\":\"%s\"}", (long long)NOW - 10, sc.id);
	/* CSC: HMACSHA256(header.payload, SHA256(client_secret)) */
	t = jws("{\"typ\":\"JWT\",\"alg\":\"HS256\"}", c, NULL, NULL, false, sc.secret_hash, 32);
	assert_int_equal(oauth_account_token_check(f->st, &sc, t, NOW, acct, &why), 0);
	assert_string_equal(acct, "alice");
	assert_int_equal(oauth_account_token_check(f->st, &sc, t, NOW, acct, &why), INK_ERR_REPLAY);
	assert_string_equal(acct, "");
	free(t);
	/* keyed by the secret itself, not its hash: refused */
	snprintf(c, sizeof(c), "{\"sub\":\"alice\",\"iat\":%lld,\"jti\":\"t2\",\"azp\":\"%s\"}",
	         (long long)NOW, sc.id);
	t = jws("{\"alg\":\"HS256\"}", c, NULL, NULL, false, (const uint8_t *)secret, strlen(secret));
	assert_int_equal(oauth_account_token_check(f->st, &sc, t, NOW, acct, &why), INK_ERR_AUTH);
	free(t);
	/* another client's azp, stale iat */
	snprintf(c, sizeof(c), "{\"sub\":\"alice\",\"iat\":%lld,\"jti\":\"t3\",\"azp\":\"%s\"}",
	         (long long)NOW, f->cl.id);
	t = jws("{\"alg\":\"HS256\"}", c, NULL, NULL, false, sc.secret_hash, 32);
	assert_int_equal(oauth_account_token_check(f->st, &sc, t, NOW, acct, &why), INK_ERR_AUTH);
	free(t);
	snprintf(c, sizeof(c), "{\"sub\":\"alice\",\"iat\":%lld,\"jti\":\"t4\",\"azp\":\"%s\"}",
	         (long long)NOW - 3600, sc.id);
	t = jws("{\"alg\":\"HS256\"}", c, NULL, NULL, false, sc.secret_hash, 32);
	assert_int_equal(oauth_account_token_check(f->st, &sc, t, NOW, acct, &why), INK_ERR_AUTH);
	free(t);
	/* a public client has no secret to sign with */
	sc.public_client = true;
	snprintf(c, sizeof(c), "{\"sub\":\"alice\",\"iat\":%lld,\"jti\":\"t5\",\"azp\":\"%s\"}",
	         (long long)NOW, sc.id);
	t = jws("{\"alg\":\"HS256\"}", c, NULL, NULL, false, sc.secret_hash, 32);
	assert_int_equal(oauth_account_token_check(f->st, &sc, t, NOW, acct, &why), INK_ERR_AUTH);
	free(t);
	/* a private_key_jwt client signs it with its key; HS256 keyed by anything is refused */
	snprintf(c, sizeof(c), "{\"sub\":\"bob\",\"iat\":%lld,\"jti\":\"t6\",\"azp\":\"%s\"}",
	         (long long)NOW, f->cl.id);
	t = jws("{\"alg\":\"HS256\"}", c, NULL, NULL, false, f->cl.secret_hash, 32);
	assert_int_equal(oauth_account_token_check(f->st, &f->cl, t, NOW, acct, &why), INK_ERR_AUTH);
	free(t);
	t = jws("{\"alg\":\"ES256\"}", c, f->ec256, "SHA256", false, NULL, 0);
	assert_int_equal(oauth_account_token_check(f->st, &f->cl, t, NOW, acct, &why), 0);
	assert_string_equal(acct, "bob");
	free(t);
	/* a jti of the longest length allowed is taken, once; the same jti as an assertion's of
	 * that client stays apart */
	{
		char jti[OAUTH_JTI_MAX + 1];

		memset(jti, 'j', OAUTH_JTI_MAX);
		jti[OAUTH_JTI_MAX] = '\0';
		snprintf(c, sizeof(c), "{\"sub\":\"bob\",\"iat\":%lld,\"jti\":\"%s\",\"azp\":\"%s\"}",
		         (long long)NOW, jti, f->cl.id);
		t = jws("{\"alg\":\"ES256\"}", c, f->ec256, "SHA256", false, NULL, 0);
		assert_int_equal(oauth_account_token_check(f->st, &f->cl, t, NOW, acct, &why), 0);
		assert_int_equal(oauth_account_token_check(f->st, &f->cl, t, NOW, acct, &why),
		                 INK_ERR_REPLAY);
		free(t);
		assert_int_equal(f->st->ops->oauth_jti_use(f->st, f->cl.id, jti, NOW + 60, NOW), 0);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_b64url),
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_assertion),
		cmocka_unit_test(test_account_token),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
