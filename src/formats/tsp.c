/* tsp: RFC 3161 time-stamps — the signer's request and the checks of the reply, and the TSA's
 * parse of a request and its signed answer (RFC 5816: ESSCertIDv2). */
#include "formats/formats_int.h"

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/objects.h>
#include <openssl/ts.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"

#define TS_DER_MAX 65536

/* Copies OpenSSL's DER (*tmp, n bytes) into a malloc'd buffer. Called as dup_der(&tmp,
 * i2d_X(obj, &tmp), ...): tmp is read here, after the i2d call that sets it has run, since
 * the order in which arguments are evaluated is unspecified (clang reads a tmp passed by
 * value before the call, still NULL). */
static int
dup_der(uint8_t *const *tmp, int n, uint8_t **der, size_t *len)
{
	if (n <= 0 || *tmp == NULL)
		return INK_ERR_CRYPTO;
	if ((*der = malloc((size_t)n)) == NULL)
		return INK_ERR_ALLOC;
	memcpy(*der, *tmp, (size_t)n);
	*len = (size_t)n;
	return 0;
}

int
formats_ts_request(const uint8_t md[static FORMATS_SHA256_LEN],
                   uint8_t nonce[static FORMATS_TS_NONCE_LEN], uint8_t **der, size_t *len)
{
	TS_REQ *req = NULL;
	TS_MSG_IMPRINT *mi = NULL;
	X509_ALGOR *alg = NULL;
	ASN1_INTEGER *n = NULL;
	BIGNUM *bn = NULL;
	uint8_t *tmp = NULL;
	int r = INK_ERR_CRYPTO;

	*der = NULL;
	*len = 0;
	if ((r = ink_random(nonce, FORMATS_TS_NONCE_LEN)) != 0)
		return r;
	nonce[0] &= 0x7f;   /* a positive INTEGER of a fixed size */
	nonce[0] |= 0x40;
	r = INK_ERR_CRYPTO;
	if ((req = TS_REQ_new()) == NULL || TS_REQ_set_version(req, 1) != 1 ||
	    (mi = TS_MSG_IMPRINT_new()) == NULL || (alg = X509_ALGOR_new()) == NULL)
		goto out;
	X509_ALGOR_set_md(alg, EVP_sha256());
	if (TS_MSG_IMPRINT_set_algo(mi, alg) != 1 ||
	    TS_MSG_IMPRINT_set_msg(mi, (unsigned char *)md, FORMATS_SHA256_LEN) != 1 ||
	    TS_REQ_set_msg_imprint(req, mi) != 1)
		goto out;
	if ((bn = BN_bin2bn(nonce, FORMATS_TS_NONCE_LEN, NULL)) == NULL ||
	    (n = BN_to_ASN1_INTEGER(bn, NULL)) == NULL || TS_REQ_set_nonce(req, n) != 1 ||
	    TS_REQ_set_cert_req(req, 1) != 1)
		goto out;
	r = dup_der(&tmp, i2d_TS_REQ(req, &tmp), der, len);
out:
	OPENSSL_free(tmp);
	BN_free(bn);
	ASN1_INTEGER_free(n);
	X509_ALGOR_free(alg);
	TS_MSG_IMPRINT_free(mi);
	TS_REQ_free(req);
	return r;
}

/* The TSTInfo's imprint must be SHA-256 of md, and its nonce (when asked) ours. */
static int
check_tst(TS_TST_INFO *tst, const uint8_t md[static FORMATS_SHA256_LEN], const uint8_t *nonce)
{
	TS_MSG_IMPRINT *mi = TS_TST_INFO_get_msg_imprint(tst);
	const ASN1_INTEGER *tn;
	ASN1_OCTET_STRING *m;
	X509_ALGOR *alg;
	const ASN1_OBJECT *obj = NULL;
	BIGNUM *a = NULL, *b = NULL;
	int ok = 0;

	if (mi == NULL || (alg = TS_MSG_IMPRINT_get_algo(mi)) == NULL ||
	    (m = TS_MSG_IMPRINT_get_msg(mi)) == NULL)
		return INK_ERR_INVALID;
	X509_ALGOR_get0(&obj, NULL, NULL, alg);
	if (obj == NULL || OBJ_obj2nid(obj) != NID_sha256 ||
	    ASN1_STRING_length(m) != FORMATS_SHA256_LEN ||
	    CRYPTO_memcmp(ASN1_STRING_get0_data(m), md, FORMATS_SHA256_LEN) != 0)
		return INK_ERR_INVALID;
	if (nonce == NULL)
		return 0;
	if ((tn = TS_TST_INFO_get_nonce(tst)) != NULL && (a = ASN1_INTEGER_to_BN(tn, NULL)) != NULL &&
	    (b = BN_bin2bn(nonce, FORMATS_TS_NONCE_LEN, NULL)) != NULL && BN_cmp(a, b) == 0)
		ok = 1;
	BN_free(a);
	BN_free(b);
	return ok ? 0 : INK_ERR_INVALID;
}

int
formats_ts_token_check(const uint8_t *token, size_t len, const uint8_t md[static FORMATS_SHA256_LEN],
                       const uint8_t *nonce)
{
	const uint8_t *p = token;
	PKCS7 *p7 = NULL;
	TS_TST_INFO *tst = NULL;
	int r = INK_ERR_INVALID;

	if (len == 0 || len > TS_DER_MAX)
		return INK_ERR_INVALID;
	if ((p7 = d2i_PKCS7(NULL, &p, (long)len)) == NULL || p != token + len ||
	    (tst = PKCS7_to_TS_TST_INFO(p7)) == NULL)
		goto out;
	r = check_tst(tst, md, nonce);
out:
	TS_TST_INFO_free(tst);
	PKCS7_free(p7);
	return r;
}

int
formats_ts_reply_token(const uint8_t *reply, size_t len, const uint8_t md[static FORMATS_SHA256_LEN],
                       const uint8_t *nonce, uint8_t **token, size_t *token_len)
{
	const uint8_t *p = reply;
	TS_RESP *resp = NULL;
	TS_STATUS_INFO *si;
	const ASN1_INTEGER *st;
	PKCS7 *p7;
	TS_TST_INFO *tst;
	uint8_t *tmp = NULL;
	long status;
	int r = INK_ERR_INVALID;

	*token = NULL;
	*token_len = 0;
	if (len == 0 || len > TS_DER_MAX)
		return INK_ERR_INVALID;
	if ((resp = d2i_TS_RESP(NULL, &p, (long)len)) == NULL || p != reply + len ||
	    (si = TS_RESP_get_status_info(resp)) == NULL ||
	    (st = TS_STATUS_INFO_get0_status(si)) == NULL)
		goto out;
	status = ASN1_INTEGER_get(st);
	/* granted (0) or grantedWithMods (1) */
	if ((status != 0 && status != 1) || (p7 = TS_RESP_get_token(resp)) == NULL ||
	    (tst = TS_RESP_get_tst_info(resp)) == NULL) {
		r = INK_ERR_DENIED;
		goto out;
	}
	if ((r = check_tst(tst, md, nonce)) != 0)
		goto out;
	if ((r = dup_der(&tmp, i2d_PKCS7(p7, &tmp), token, token_len)) != 0)
		goto out;
	/* The token is OpenSSL's encoding of what it read: a reply it reads but cannot write back
	 * readably is refused here, not embedded in a signature that nothing can then read. */
	if ((r = formats_ts_token_check(*token, *token_len, md, nonce)) != 0) {
		free(*token);
		*token = NULL;
		*token_len = 0;
		r = INK_ERR_INVALID;
	}
out:
	OPENSSL_free(tmp);
	TS_RESP_free(resp);
	return r;
}

/* ---- the TSA ---- */

int
formats_tsa_parse(const uint8_t *der, size_t len, const char *policy_oid,
                  struct formats_tsa_parsed *out, char *why, size_t whysz)
{
	const uint8_t *p = der;
	TS_REQ *req = NULL;
	TS_MSG_IMPRINT *mi;
	X509_ALGOR *alg;
	const ASN1_OBJECT *obj = NULL;
	const ASN1_INTEGER *nonce;
	ASN1_OBJECT *pol;
	ASN1_OCTET_STRING *m;
	const struct policy_hash_alg *h;
	BIGNUM *bn = NULL;
	char txt[128];
	int n, r = INK_ERR_INVALID;

	memset(out, 0, sizeof(*out));
	snprintf(why, whysz, "malformed TimeStampReq");
	out->fail_bit = FORMATS_TS_FAIL_BAD_DATA_FORMAT;
	if (len == 0 || len > TS_DER_MAX || (req = d2i_TS_REQ(NULL, &p, (long)len)) == NULL ||
	    p != der + len)
		goto out;
	if (TS_REQ_get_version(req) != 1) {
		snprintf(why, whysz, "unsupported TimeStampReq version");
		out->fail_bit = FORMATS_TS_FAIL_BAD_REQUEST;
		goto out;
	}
	if ((mi = TS_REQ_get_msg_imprint(req)) == NULL || (alg = TS_MSG_IMPRINT_get_algo(mi)) == NULL ||
	    (m = TS_MSG_IMPRINT_get_msg(mi)) == NULL)
		goto out;
	X509_ALGOR_get0(&obj, NULL, NULL, alg);
	if (obj == NULL || OBJ_obj2txt(txt, sizeof(txt), obj, 1) <= 0 ||
	    (h = policy_hash_by_oid(txt)) == NULL) {
		snprintf(why, whysz, "digest algorithm not allowed by policy");
		out->fail_bit = FORMATS_TS_FAIL_BAD_ALG;
		r = INK_ERR_POLICY;
		goto out;
	}
	if ((size_t)ASN1_STRING_length(m) != h->len || h->len > sizeof(out->imprint)) {
		snprintf(why, whysz, "message imprint length does not match its algorithm");
		goto out;
	}
	if ((pol = TS_REQ_get_policy_id(req)) != NULL &&
	    (OBJ_obj2txt(txt, sizeof(txt), pol, 1) <= 0 || strcmp(txt, policy_oid) != 0)) {
		snprintf(why, whysz, "requested TSA policy is not served here");
		out->fail_bit = FORMATS_TS_FAIL_UNACCEPTED_POLICY;
		r = INK_ERR_POLICY;
		goto out;
	}
	if (TS_REQ_get_exts(req) != NULL && sk_X509_EXTENSION_num(TS_REQ_get_exts(req)) > 0) {
		snprintf(why, whysz, "TimeStampReq extensions are not supported");
		out->fail_bit = FORMATS_TS_FAIL_UNACCEPTED_EXTENSION;
		r = INK_ERR_UNSUPPORTED;
		goto out;
	}
	if ((nonce = TS_REQ_get_nonce(req)) != NULL) {
		if ((bn = ASN1_INTEGER_to_BN(nonce, NULL)) == NULL || BN_is_negative(bn) ||
		    (n = BN_num_bytes(bn)) > FORMATS_TS_NONCE_MAX) {
			snprintf(why, whysz, "nonce must be a non-negative integer of at most %d bytes",
			         FORMATS_TS_NONCE_MAX);
			goto out;
		}
		if (BN_bn2bin(bn, out->nonce) != n)
			goto out;
		if (n == 0) {
			/* A nonce of 0 is still a nonce to echo: one zero byte, not "none". */
			out->nonce[0] = 0;
			n = 1;
		}
		out->req.nonce = out->nonce;
		out->req.nonce_len = (size_t)n;
	}
	snprintf(out->hash_oid, sizeof(out->hash_oid), "%s", h->oid);
	memcpy(out->imprint, ASN1_STRING_get0_data(m), h->len);
	out->req.hash_oid = out->hash_oid;
	out->req.imprint = out->imprint;
	out->req.imprint_len = h->len;
	out->req.cert_req = TS_REQ_get_cert_req(req) != 0;
	why[0] = '\0';
	r = 0;
out:
	BN_free(bn);
	TS_REQ_free(req);
	return r;
}

int
formats_tsa_reject(int fail_bit, const char *text, uint8_t **resp, size_t *len)
{
	struct der si = { 0 }, txt = { 0 }, out = { 0 };
	uint8_t bits[5] = { 0 };
	static const uint8_t rejection[] = { 0x02, 0x01, 0x02 };
	int r;

	*resp = NULL;
	*len = 0;
	if (fail_bit < 0 || fail_bit > 31)
		return INK_ERR_INVALID;
	/* PKIStatusInfo { status rejection(2), statusString { UTF8String }, failInfo BIT STRING } */
	der_raw(&si, rejection, sizeof(rejection));
	der_tlv(&txt, 0x0C, text, strlen(text));
	der_wrap(&si, 0x30, &txt);
	bits[0] = (uint8_t)(7 - fail_bit % 8);                   /* unused bits of the last byte */
	bits[1 + fail_bit / 8] = (uint8_t)(0x80 >> (fail_bit % 8));
	der_tlv(&si, 0x03, bits, (size_t)(2 + fail_bit / 8));
	der_wrap(&txt, 0x30, &si);
	der_wrap(&out, 0x30, &txt);
	if ((r = out.err) != 0) {
		der_free(&out);
		return r;
	}
	*resp = out.p;
	*len = out.len;
	return 0;
}

/* 128 random bits, positive: unique without any state to keep. */
static ASN1_INTEGER *
random_serial(TS_RESP_CTX *ctx, void *arg)
{
	uint8_t b[16];
	BIGNUM *bn = NULL;
	ASN1_INTEGER *s = NULL;

	(void)arg;
	if (ink_random(b, sizeof(b)) == 0) {
		b[0] = (uint8_t)((b[0] & 0x7f) | 0x40);
		if ((bn = BN_bin2bn(b, sizeof(b), NULL)) != NULL)
			s = BN_to_ASN1_INTEGER(bn, NULL);
	}
	BN_free(bn);
	if (s == NULL) {
		TS_RESP_CTX_set_status_info(ctx, TS_STATUS_REJECTION, "Error during serial number generation.");
		TS_RESP_CTX_add_failure_info(ctx, TS_INFO_ADD_INFO_NOT_AVAILABLE);
	}
	return s;
}

int
formats_tsa_respond(void *key, void *cert, void *chain, const char *policy_oid,
                    const struct formats_tsa_req *rq, uint8_t **resp, size_t *len,
                    char serial_hex[static 65], int64_t *gen_time)
{
	const struct policy_hash_alg *h;
	TS_RESP_CTX *ctx = NULL;
	TS_REQ *req = NULL;
	TS_MSG_IMPRINT *mi = NULL;
	X509_ALGOR *alg = NULL;
	ASN1_OBJECT *pol = NULL, *hobj = NULL;
	ASN1_INTEGER *n = NULL;
	BIGNUM *bn = NULL;
	BIO *bio = NULL;
	TS_RESP *res = NULL;
	TS_TST_INFO *tst;
	const EVP_MD *md;
	uint8_t *tmp = NULL;
	char *hex = NULL;
	struct tm tm;
	int r = INK_ERR_INVALID;

	*resp = NULL;
	*len = 0;
	serial_hex[0] = '\0';
	*gen_time = 0;
	/* The SAM checks what it signs: an allowed digest of the right length, a small nonce. */
	if (rq->hash_oid == NULL || (h = policy_hash_by_oid(rq->hash_oid)) == NULL ||
	    rq->imprint_len != h->len || rq->nonce_len > FORMATS_TS_NONCE_MAX ||
	    (rq->nonce == NULL) != (rq->nonce_len == 0))
		return INK_ERR_POLICY;
	r = INK_ERR_CRYPTO;
	if ((hobj = OBJ_txt2obj(rq->hash_oid, 1)) == NULL ||
	    (md = EVP_get_digestbyobj(hobj)) == NULL || (pol = OBJ_txt2obj(policy_oid, 1)) == NULL)
		goto out;
	if ((req = TS_REQ_new()) == NULL || TS_REQ_set_version(req, 1) != 1 ||
	    (mi = TS_MSG_IMPRINT_new()) == NULL || (alg = X509_ALGOR_new()) == NULL)
		goto out;
	X509_ALGOR_set_md(alg, md);
	if (TS_MSG_IMPRINT_set_algo(mi, alg) != 1 ||
	    TS_MSG_IMPRINT_set_msg(mi, (unsigned char *)rq->imprint, (int)rq->imprint_len) != 1 ||
	    TS_REQ_set_msg_imprint(req, mi) != 1 || TS_REQ_set_cert_req(req, rq->cert_req) != 1)
		goto out;
	if (rq->nonce != NULL &&
	    ((bn = BN_bin2bn(rq->nonce, (int)rq->nonce_len, NULL)) == NULL ||
	     (n = BN_to_ASN1_INTEGER(bn, NULL)) == NULL || TS_REQ_set_nonce(req, n) != 1))
		goto out;
	if ((bio = BIO_new(BIO_s_mem())) == NULL || i2d_TS_REQ_bio(bio, req) != 1)
		goto out;
	if ((ctx = TS_RESP_CTX_new()) == NULL ||
	    TS_RESP_CTX_set_signer_cert(ctx, cert) != 1 || TS_RESP_CTX_set_signer_key(ctx, key) != 1 ||
	    TS_RESP_CTX_set_signer_digest(ctx, EVP_sha256()) != 1 ||
	    TS_RESP_CTX_set_ess_cert_id_digest(ctx, EVP_sha256()) != 1 ||
	    TS_RESP_CTX_set_def_policy(ctx, pol) != 1 || TS_RESP_CTX_add_md(ctx, md) != 1 ||
	    TS_RESP_CTX_set_accuracy(ctx, INK_CLOCK_ACCURACY_US / 1000000, 0, 0) != 1 ||
	    (chain != NULL && TS_RESP_CTX_set_certs(ctx, chain) != 1))
		goto out;
	TS_RESP_CTX_set_serial_cb(ctx, random_serial, NULL);
	if ((res = TS_RESP_create_response(ctx, bio)) == NULL)
		goto out;
	if ((tst = TS_RESP_get_tst_info(res)) == NULL) {
		r = INK_ERR_CRYPTO;
		goto out;
	}
	if ((r = dup_der(&tmp, i2d_TS_RESP(res, &tmp), resp, len)) != 0)
		goto out;
	r = INK_ERR_CRYPTO;
	BN_free(bn);
	if ((bn = ASN1_INTEGER_to_BN(TS_TST_INFO_get_serial(tst), NULL)) == NULL ||
	    (hex = BN_bn2hex(bn)) == NULL || strlen(hex) > 64 ||
	    ASN1_TIME_to_tm(TS_TST_INFO_get_time(tst), &tm) != 1)
		goto out;
	snprintf(serial_hex, 65, "%s", hex);
	*gen_time = (int64_t)timegm(&tm);
	r = 0;
out:
	if (r != 0) {
		free(*resp);
		*resp = NULL;
		*len = 0;
	}
	OPENSSL_free(hex);
	OPENSSL_free(tmp);
	TS_RESP_free(res);
	TS_RESP_CTX_free(ctx);
	BIO_free(bio);
	BN_free(bn);
	ASN1_INTEGER_free(n);
	X509_ALGOR_free(alg);
	TS_MSG_IMPRINT_free(mi);
	TS_REQ_free(req);
	ASN1_OBJECT_free(pol);
	ASN1_OBJECT_free(hobj);
	return r;
}
