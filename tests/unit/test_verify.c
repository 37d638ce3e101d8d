/* test_verify: signature validation — CAdES B-B/B-T made here with OpenSSL, time-stamps as
 * proof of existence, revocation from CRLs and embedded OCSP responses, PAdES assembled by hand,
 * garbage and truncation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <openssl/cms.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/ess.h>
#include <openssl/evp.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/ts.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "verify/verify.h"

#define YEAR (365 * 86400L)

struct pki {
	EVP_PKEY *root_key, *signer_key, *tsa_key, *nousage_key, *expired_key;
	X509 *root, *signer, *tsa, *nousage, *expired;
	char *root_pem;
};

static struct pki pki;
static const char doc[] = "inkan unit test document\n";

static EVP_PKEY *
ec_key(void)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");

	assert_non_null(k);
	return k;
}

static void
add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX v3;
	X509_EXTENSION *e;

	X509V3_set_ctx(&v3, issuer, x, NULL, NULL, 0);
	e = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
	assert_non_null(e);
	assert_int_equal(X509_add_ext(x, e, -1), 1);
	X509_EXTENSION_free(e);
}

/* A certificate for key, issued by issuer (NULL: self-signed), valid [nb, na] from now. */
static X509 *
mkcert(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *ikey, long nb, long na,
       const char *ku, const char *eku, bool ca)
{
	static long serial = 100;
	X509 *x = X509_new();
	X509_NAME *n = X509_NAME_new();

	assert_non_null(x);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0);
	X509_set_subject_name(x, n);
	X509_set_issuer_name(x, issuer != NULL ? X509_get_subject_name(issuer) : n);
	X509_NAME_free(n);
	X509_gmtime_adj(X509_getm_notBefore(x), nb);
	X509_gmtime_adj(X509_getm_notAfter(x), na);
	X509_set_pubkey(x, key);
	add_ext(x, issuer != NULL ? issuer : x, NID_basic_constraints,
	        ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
	if (ku != NULL)
		add_ext(x, issuer != NULL ? issuer : x, NID_key_usage, ku);
	if (eku != NULL)
		add_ext(x, issuer != NULL ? issuer : x, NID_ext_key_usage, eku);
	assert_true(X509_sign(x, issuer != NULL ? ikey : key, EVP_sha256()) > 0);
	return x;
}

static int
setup(void **state)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p;
	long n;

	(void)state;
	pki.root_key = ec_key();
	pki.root = mkcert("Unit Root", pki.root_key, NULL, NULL, -YEAR, 10 * YEAR,
	                  "critical,keyCertSign,cRLSign", NULL, true);
	pki.signer_key = ec_key();
	pki.signer = mkcert("Unit Signer", pki.signer_key, pki.root, pki.root_key, -3600, YEAR,
	                    "critical,digitalSignature,nonRepudiation", NULL, false);
	pki.tsa_key = ec_key();
	pki.tsa = mkcert("Unit TSA", pki.tsa_key, pki.root, pki.root_key, -3600, 9 * YEAR,
	                 "critical,digitalSignature", "critical,timeStamping", false);
	pki.nousage_key = ec_key();
	pki.nousage = mkcert("Unit No Usage", pki.nousage_key, pki.root, pki.root_key, -3600, YEAR,
	                     "critical,keyAgreement", NULL, false);
	pki.expired_key = ec_key();
	pki.expired = mkcert("Unit Expired", pki.expired_key, pki.root, pki.root_key, -3 * YEAR,
	                     -2 * YEAR, "critical,digitalSignature", NULL, false);
	assert_int_equal(PEM_write_bio_X509(b, pki.root), 1);
	n = BIO_get_mem_data(b, &p);
	pki.root_pem = strndup(p, (size_t)n);
	BIO_free(b);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	EVP_PKEY_free(pki.root_key);
	EVP_PKEY_free(pki.signer_key);
	EVP_PKEY_free(pki.tsa_key);
	EVP_PKEY_free(pki.nousage_key);
	EVP_PKEY_free(pki.expired_key);
	X509_free(pki.root);
	X509_free(pki.signer);
	X509_free(pki.tsa);
	X509_free(pki.nousage);
	X509_free(pki.expired);
	free(pki.root_pem);
	return 0;
}

/* A CRL of the root revoking cert at revoked_at seconds from now with a reason code (-1 none)
 * and an invalidityDate (invalid_at seconds from now; 0 none), made this_update seconds from
 * now, as DER. */
static uint8_t *
mkcrl_entry(X509 *cert, long revoked_at, int reason, long invalid_at, long this_update,
            size_t *len)
{
	X509_CRL *crl = X509_CRL_new();
	X509_REVOKED *rv = X509_REVOKED_new();
	ASN1_TIME *t = ASN1_TIME_new();
	ASN1_ENUMERATED *e = ASN1_ENUMERATED_new();
	ASN1_GENERALIZEDTIME *g = NULL;
	unsigned char *der = NULL;
	int n;

	X509_CRL_set_version(crl, 1);
	X509_CRL_set_issuer_name(crl, X509_get_subject_name(pki.root));
	X509_gmtime_adj(t, this_update);
	X509_CRL_set1_lastUpdate(crl, t);
	X509_gmtime_adj(t, 3 * YEAR);
	X509_CRL_set1_nextUpdate(crl, t);
	if (cert != NULL) {
		X509_REVOKED_set_serialNumber(rv, X509_get_serialNumber(cert));
		X509_gmtime_adj(t, revoked_at);
		X509_REVOKED_set_revocationDate(rv, t);
		if (reason >= 0) {
			ASN1_ENUMERATED_set(e, reason);
			assert_int_equal(X509_REVOKED_add1_ext_i2d(rv, NID_crl_reason, e, 0, 0), 1);
		}
		if (invalid_at != 0) {
			g = ASN1_GENERALIZEDTIME_adj(NULL, time(NULL), 0, invalid_at);
			assert_int_equal(X509_REVOKED_add1_ext_i2d(rv, NID_invalidity_date, g, 0, 0), 1);
		}
		X509_CRL_add0_revoked(crl, rv);
		rv = NULL;
	}
	X509_CRL_sort(crl);
	assert_true(X509_CRL_sign(crl, pki.root_key, EVP_sha256()) > 0);
	n = i2d_X509_CRL(crl, &der);
	assert_true(n > 0);
	*len = (size_t)n;
	ASN1_GENERALIZEDTIME_free(g);
	ASN1_ENUMERATED_free(e);
	X509_REVOKED_free(rv);
	ASN1_TIME_free(t);
	X509_CRL_free(crl);
	return der;
}

/* A CRL of the root revoking cert (when not NULL) at revoked_at seconds from now, as DER. */
static uint8_t *
mkcrl(X509 *revoked, long revoked_at, size_t *len)
{
	return mkcrl_entry(revoked, revoked_at, -1, 0, -60, len);
}

static struct verify_ctx *
ctx_trusting(bool crl)
{
	struct verify_ctx *ctx = NULL;
	uint8_t *der;
	size_t len;

	assert_int_equal(verify_ctx_new(&ctx), 0);
	assert_int_equal(verify_ctx_add_trust_pem(ctx, pki.root_pem, strlen(pki.root_pem)), 0);
	if (crl) {
		der = mkcrl(NULL, 0, &len);
		assert_int_equal(verify_ctx_add_crl(ctx, der, len), 0);
		OPENSSL_free(der);
	}
	return ctx;
}

/* A CMS signature of data by cert/key as DER; flags as CMS_sign's. */
static uint8_t *
cms_sign(X509 *cert, EVP_PKEY *key, const void *data, size_t len, unsigned flags, size_t *outlen)
{
	BIO *in = BIO_new_mem_buf(data, (int)len);
	CMS_ContentInfo *cms = CMS_sign(cert, key, NULL, in, flags | CMS_BINARY);
	unsigned char *der = NULL;
	int n;

	assert_non_null(cms);
	n = i2d_CMS_ContentInfo(cms, &der);
	assert_true(n > 0);
	*outlen = (size_t)n;
	CMS_ContentInfo_free(cms);
	BIO_free(in);
	return der;
}

/* An RFC 3161 token (DER) over data from the unit TSA. */
static uint8_t *
tst_make(const uint8_t *data, size_t len, size_t *outlen)
{
	TS_REQ *req = TS_REQ_new();
	TS_MSG_IMPRINT *mi = TS_MSG_IMPRINT_new();
	X509_ALGOR *alg = X509_ALGOR_new();
	ASN1_OBJECT *policy = OBJ_txt2obj("1.2.3.4.1", 1);
	TS_RESP_CTX *rc = TS_RESP_CTX_new();
	TS_RESP *resp;
	BIO *rb = BIO_new(BIO_s_mem());
	unsigned char md[32], *der = NULL;
	int n;

	SHA256(data, len, md);
	X509_ALGOR_set0(alg, OBJ_nid2obj(NID_sha256), V_ASN1_NULL, NULL);
	TS_MSG_IMPRINT_set_algo(mi, alg);
	TS_MSG_IMPRINT_set_msg(mi, md, sizeof(md));
	TS_REQ_set_version(req, 1);
	TS_REQ_set_msg_imprint(req, mi);
	TS_REQ_set_cert_req(req, 1);
	i2d_TS_REQ_bio(rb, req);
	TS_RESP_CTX_set_signer_cert(rc, pki.tsa);
	TS_RESP_CTX_set_signer_key(rc, pki.tsa_key);
	TS_RESP_CTX_set_signer_digest(rc, EVP_sha256());
	TS_RESP_CTX_set_ess_cert_id_digest(rc, EVP_sha256());
	TS_RESP_CTX_set_def_policy(rc, policy);
	TS_RESP_CTX_add_md(rc, EVP_sha256());
	resp = TS_RESP_create_response(rc, rb);
	assert_non_null(resp);
	assert_non_null(TS_RESP_get_token(resp));
	n = i2d_PKCS7(TS_RESP_get_token(resp), &der);
	assert_true(n > 0);
	*outlen = (size_t)n;
	TS_RESP_free(resp);
	TS_RESP_CTX_free(rc);
	BIO_free(rb);
	ASN1_OBJECT_free(policy);
	X509_ALGOR_free(alg);
	TS_MSG_IMPRINT_free(mi);
	TS_REQ_free(req);
	return der;
}

/* CAdES-B-T: a detached signature with a signature time-stamp over its value (or, when
 * wrong_imprint, over something else). */
static uint8_t *
cades_t(X509 *cert, EVP_PKEY *key, bool wrong_imprint, size_t *outlen)
{
	BIO *in = BIO_new_mem_buf(doc, (int)strlen(doc));
	CMS_ContentInfo *cms = CMS_sign(cert, key, NULL, in,
	                                CMS_BINARY | CMS_DETACHED | CMS_CADES);
	CMS_SignerInfo *si;
	ASN1_OCTET_STRING *sv;
	uint8_t *tok, *der = NULL;
	size_t toklen;
	int n;

	assert_non_null(cms);
	si = sk_CMS_SignerInfo_value(CMS_get0_SignerInfos(cms), 0);
	sv = CMS_SignerInfo_get0_signature(si);
	tok = wrong_imprint ? tst_make((const uint8_t *)"other", 5, &toklen) :
	                      tst_make(sv->data, (size_t)sv->length, &toklen);
	assert_int_equal(CMS_unsigned_add1_attr_by_NID(si, NID_id_smime_aa_timeStampToken,
	                                               V_ASN1_SEQUENCE, tok, (int)toklen), 1);
	n = i2d_CMS_ContentInfo(cms, &der);
	assert_true(n > 0);
	*outlen = (size_t)n;
	OPENSSL_free(tok);
	CMS_ContentInfo_free(cms);
	BIO_free(in);
	return der;
}

/* Runs one validation; returns the report (caller frees) or NULL with *ret set. */
static struct verify_report *
run(struct verify_ctx *ctx, const uint8_t *sig, size_t sig_len, const void *d, size_t dlen,
    int *ret)
{
	struct verify_input in = { .sig = sig, .sig_len = sig_len, .doc = d, .doc_len = dlen };
	struct verify_report *r = NULL;
	char err[256];

	*ret = verify_run(ctx, &in, &r, err, sizeof(err));
	if (*ret != 0) {
		assert_null(r);
		assert_true(strlen(err) > 0);
	}
	return r;
}

static void
expect(struct verify_ctx *ctx, const uint8_t *sig, size_t sig_len, const void *d, size_t dlen,
       enum verify_indication ind, enum verify_sub sub)
{
	struct verify_report *r;
	json_t *j;
	char *s;
	int ret;

	r = run(ctx, sig, sig_len, d, dlen, &ret);
	assert_int_equal(ret, 0);
	assert_int_equal(verify_report_count(r), 1);
	if (verify_report_indication(r, 0) != ind || verify_report_sub(r, 0) != sub) {
		j = verify_report_json(r);
		s = json_dumps(j, JSON_INDENT(1));
		print_error("got %s/%s, want %s/%s\n%s\n",
		            verify_indication_str(verify_report_indication(r, 0)),
		            verify_sub_str(verify_report_sub(r, 0)), verify_indication_str(ind),
		            verify_sub_str(sub), s);
		free(s);
		json_decref(j);
	}
	assert_int_equal(verify_report_indication(r, 0), ind);
	assert_int_equal(verify_report_sub(r, 0), sub);
	assert_int_equal(verify_report_all_passed(r), ind == VERIFY_TOTAL_PASSED);
	verify_report_free(r);
}

static void
test_cades_basic(void **state)
{
	struct verify_ctx *ctx = ctx_trusting(true), *bare = NULL;
	uint8_t *sig, *att, *noattr;
	size_t len, alen, nlen;
	char changed[sizeof(doc)];
	struct verify_report *r;
	json_t *j;
	int ret;

	(void)state;
	sig = cms_sign(pki.signer, pki.signer_key, doc, strlen(doc), CMS_DETACHED | CMS_CADES, &len);
	expect(ctx, sig, len, doc, strlen(doc), VERIFY_TOTAL_PASSED, VERIFY_SUB_NONE);
	r = run(ctx, sig, len, doc, strlen(doc), &ret);
	j = verify_report_json(r);
	assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(j, "signatures"), 0),
	                                                      "signing_certificate_attribute")), "matched");
	assert_true(json_is_true(json_object_get(j, "all_passed")));
	json_decref(j);
	verify_report_free(r);

	memcpy(changed, doc, sizeof(doc));
	changed[0] ^= 1;
	expect(ctx, sig, len, changed, strlen(changed), VERIFY_TOTAL_FAILED, VERIFY_SUB_HASH_FAILURE);
	expect(ctx, sig, len, NULL, 0, VERIFY_INDETERMINATE, VERIFY_SUB_SIGNED_DATA_NOT_FOUND);

	att = cms_sign(pki.signer, pki.signer_key, doc, strlen(doc), 0, &alen);
	expect(ctx, att, alen, NULL, 0, VERIFY_TOTAL_PASSED, VERIFY_SUB_NONE);
	/* A corrupted signature value (the last bytes of the DER). */
	att[alen - 3] ^= 0x55;
	r = run(ctx, att, alen, NULL, 0, &ret);
	assert_int_equal(ret, 0);
	assert_int_equal(verify_report_indication(r, 0), VERIFY_TOTAL_FAILED);
	verify_report_free(r);

	noattr = cms_sign(pki.signer, pki.signer_key, doc, strlen(doc), CMS_DETACHED | CMS_NOATTR, &nlen);
	expect(ctx, noattr, nlen, doc, strlen(doc), VERIFY_TOTAL_PASSED, VERIFY_SUB_NONE);
	expect(ctx, noattr, nlen, changed, strlen(changed), VERIFY_TOTAL_FAILED,
	       VERIFY_SUB_SIG_CRYPTO_FAILURE);

	/* No trust anchor configured. */
	assert_int_equal(verify_ctx_new(&bare), 0);
	expect(bare, sig, len, doc, strlen(doc), VERIFY_INDETERMINATE,
	       VERIFY_SUB_NO_CERTIFICATE_CHAIN_FOUND);
	verify_ctx_free(bare);
	OPENSSL_free(sig);
	OPENSSL_free(att);
	OPENSSL_free(noattr);
	verify_ctx_free(ctx);
}

static void
test_digest_input(void **state)
{
	struct verify_ctx *ctx = ctx_trusting(true);
	struct verify_input in = { 0 };
	struct verify_report *r = NULL;
	uint8_t *sig, md[32];
	size_t len;
	char err[256];

	(void)state;
	sig = cms_sign(pki.signer, pki.signer_key, doc, strlen(doc), CMS_DETACHED | CMS_CADES, &len);
	SHA256((const unsigned char *)doc, strlen(doc), md);
	in.sig = sig;
	in.sig_len = len;
	in.digest = md;
	in.digest_len = sizeof(md);
	in.digest_oid = "2.16.840.1.101.3.4.2.1";
	assert_int_equal(verify_run(ctx, &in, &r, err, sizeof(err)), 0);
	assert_int_equal(verify_report_indication(r, 0), VERIFY_TOTAL_PASSED);
	verify_report_free(r);
	md[0] ^= 1;
	assert_int_equal(verify_run(ctx, &in, &r, err, sizeof(err)), 0);
	assert_int_equal(verify_report_sub(r, 0), VERIFY_SUB_HASH_FAILURE);
	verify_report_free(r);
	in.digest_oid = "2.16.840.1.101.3.4.2.2";
	assert_int_equal(verify_run(ctx, &in, &r, err, sizeof(err)), 0);
	assert_int_equal(verify_report_sub(r, 0), VERIFY_SUB_SIGNED_DATA_NOT_FOUND);
	verify_report_free(r);
	OPENSSL_free(sig);
	verify_ctx_free(ctx);
}

static void
test_constraints(void **state)
{
	struct verify_ctx *ctx = ctx_trusting(true), *rev = ctx_trusting(false);
	uint8_t *sig, *crl;
	size_t len, clen;

	(void)state;
	sig = cms_sign(pki.nousage, pki.nousage_key, doc, strlen(doc), CMS_DETACHED, &len);
	expect(ctx, sig, len, doc, strlen(doc), VERIFY_INDETERMINATE,
	       VERIFY_SUB_SIG_CONSTRAINTS_FAILURE);
	OPENSSL_free(sig);

	/* Expired, no time-stamp: the CRL says not revoked. */
	sig = cms_sign(pki.expired, pki.expired_key, doc, strlen(doc), CMS_DETACHED, &len);
	expect(ctx, sig, len, doc, strlen(doc), VERIFY_INDETERMINATE,
	       VERIFY_SUB_OUT_OF_BOUNDS_NOT_REVOKED);
	OPENSSL_free(sig);

	/* Revoked an hour ago, signed now. */
	crl = mkcrl(pki.signer, -3600, &clen);
	assert_int_equal(verify_ctx_add_crl(rev, crl, clen), 0);
	sig = cms_sign(pki.signer, pki.signer_key, doc, strlen(doc), CMS_DETACHED, &len);
	expect(rev, sig, len, doc, strlen(doc), VERIFY_TOTAL_FAILED, VERIFY_SUB_REVOKED);
	OPENSSL_free(sig);
	OPENSSL_free(crl);

	/* No revocation data at all. */
	verify_ctx_free(rev);
	rev = ctx_trusting(false);
	sig = cms_sign(pki.signer, pki.signer_key, doc, strlen(doc), CMS_DETACHED, &len);
	expect(rev, sig, len, doc, strlen(doc), VERIFY_INDETERMINATE, VERIFY_SUB_TRY_LATER);
	verify_ctx_set_require_revocation(rev, false);
	expect(rev, sig, len, doc, strlen(doc), VERIFY_TOTAL_PASSED, VERIFY_SUB_NONE);
	OPENSSL_free(sig);
	verify_ctx_free(rev);
	verify_ctx_free(ctx);
}

/* A BasicOCSPResponse (DER) about cert signed by key (the root's when NULL): good, or revoked
 * at revoked_at seconds from now. */
static uint8_t *
mkocsp_at(X509 *cert, bool revoked, long revoked_at, X509 *by, EVP_PKEY *key, long this_update,
          size_t *len)
{
	OCSP_BASICRESP *bs = OCSP_BASICRESP_new();
	OCSP_CERTID *cid = OCSP_cert_to_id(EVP_sha256(), cert, pki.root);
	ASN1_TIME *now = X509_gmtime_adj(NULL, this_update), *next = X509_gmtime_adj(NULL, 7 * 86400L);
	ASN1_TIME *rev = X509_gmtime_adj(NULL, revoked_at);
	unsigned char *der = NULL;
	int n;

	assert_non_null(bs);
	assert_non_null(cid);
	assert_non_null(OCSP_basic_add1_status(bs, cid, revoked ? V_OCSP_CERTSTATUS_REVOKED :
	                                       V_OCSP_CERTSTATUS_GOOD, revoked ?
	                                       OCSP_REVOKED_STATUS_KEYCOMPROMISE : -1,
	                                       revoked ? rev : NULL, now, next));
	assert_int_equal(OCSP_basic_sign(bs, by != NULL ? by : pki.root,
	                                 key != NULL ? key : pki.root_key, EVP_sha256(), NULL,
	                                 by != NULL ? 0 : OCSP_NOCERTS), 1);
	n = i2d_OCSP_BASICRESP(bs, &der);
	assert_true(n > 0);
	*len = (size_t)n;
	ASN1_TIME_free(now);
	ASN1_TIME_free(next);
	ASN1_TIME_free(rev);
	OCSP_CERTID_free(cid);
	OCSP_BASICRESP_free(bs);
	return der;
}

/* The same, made (thisUpdate) a minute ago. */
static uint8_t *
mkocsp(X509 *cert, bool revoked, long revoked_at, X509 *by, EVP_PKEY *key, size_t *len)
{
	return mkocsp_at(cert, revoked, revoked_at, by, key, -60, len);
}

/* DER: tag, length, content (content OPENSSL_free'd). */
static uint8_t *
der_wrap(uint8_t tag, uint8_t *in, size_t len, size_t *outlen)
{
	uint8_t *out = OPENSSL_malloc(len + 6);
	size_t h = 0;

	assert_non_null(out);
	assert_true(len < 0x10000);
	out[h++] = tag;
	if (len < 0x80) {
		out[h++] = (uint8_t)len;
	} else if (len < 0x100) {
		out[h++] = 0x81;
		out[h++] = (uint8_t)len;
	} else {
		out[h++] = 0x82;
		out[h++] = (uint8_t)(len >> 8);
		out[h++] = (uint8_t)len;
	}
	memcpy(out + h, in, len);
	*outlen = h + len;
	OPENSSL_free(in);
	return out;
}

/* A CMS signature of doc by the unit signer carrying resp (a BasicOCSPResponse, DER, freed):
 * in a CAdES revocation-values unsigned attribute, or (adobe) wrapped in an OCSPResponse in
 * Adobe's revocationInfoArchival signed attribute. */
static uint8_t *
cms_with_ocsp(uint8_t *resp, size_t rlen, bool adobe, size_t *outlen)
{
	const unsigned flags = CMS_DETACHED | CMS_BINARY | CMS_PARTIAL;
	BIO *in = BIO_new_mem_buf(doc, (int)strlen(doc));
	CMS_ContentInfo *cms = CMS_sign(pki.signer, pki.signer_key, NULL, NULL, flags);
	CMS_SignerInfo *si;
	const unsigned char *p = resp;
	OCSP_BASICRESP *bs = NULL;
	OCSP_RESPONSE *full = NULL;
	unsigned char *der = NULL;
	uint8_t *attr;
	size_t alen;
	int n;

	assert_non_null(cms);
	si = sk_CMS_SignerInfo_value(CMS_get0_SignerInfos(cms), 0);
	if (adobe) {
		bs = d2i_OCSP_BASICRESP(NULL, &p, (long)rlen);
		full = OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL, bs);
		assert_non_null(full);
		OPENSSL_free(resp);
		resp = NULL;
		n = i2d_OCSP_RESPONSE(full, &resp);
		assert_true(n > 0);
		rlen = (size_t)n;
	}
	/* SEQUENCE { [1] EXPLICIT SEQUENCE OF { response } } in both syntaxes. */
	attr = der_wrap(0x30, resp, rlen, &alen);
	attr = der_wrap(0xa1, attr, alen, &alen);
	attr = der_wrap(0x30, attr, alen, &alen);
	if (adobe) {
		assert_int_equal(CMS_signed_add1_attr_by_txt(si, "1.2.840.113583.1.1.8",
		                                             V_ASN1_SEQUENCE, attr, (int)alen), 1);
		assert_int_equal(CMS_final(cms, in, NULL, flags), 1);
	} else {
		assert_int_equal(CMS_final(cms, in, NULL, flags), 1);
		assert_int_equal(CMS_unsigned_add1_attr_by_txt(si, "1.2.840.113549.1.9.16.2.24",
		                                               V_ASN1_SEQUENCE, attr, (int)alen), 1);
	}
	n = i2d_CMS_ContentInfo(cms, &der);
	assert_true(n > 0);
	*outlen = (size_t)n;
	OPENSSL_free(attr);
	OCSP_RESPONSE_free(full);
	OCSP_BASICRESP_free(bs);
	CMS_ContentInfo_free(cms);
	BIO_free(in);
	return der;
}

static void
test_embedded_ocsp(void **state)
{
	struct verify_ctx *ctx = ctx_trusting(false);
	uint8_t *resp, *sig;
	size_t rlen, len;

	(void)state;
	/* CAdES revocation-values with a good answer from the CA: no CRL needed. */
	resp = mkocsp(pki.signer, false, 0, NULL, NULL, &rlen);
	sig = cms_with_ocsp(resp, rlen, false, &len);
	expect(ctx, sig, len, doc, strlen(doc), VERIFY_TOTAL_PASSED, VERIFY_SUB_NONE);
	OPENSSL_free(sig);

	/* Adobe revocationInfoArchival saying revoked an hour before signing. */
	resp = mkocsp(pki.signer, true, -3600, NULL, NULL, &rlen);
	sig = cms_with_ocsp(resp, rlen, true, &len);
	expect(ctx, sig, len, doc, strlen(doc), VERIFY_TOTAL_FAILED, VERIFY_SUB_REVOKED);
	OPENSSL_free(sig);

	/* Signed by a key the issuer never authorised (the signer's own): proves nothing. */
	resp = mkocsp(pki.signer, false, 0, pki.signer, pki.signer_key, &rlen);
	sig = cms_with_ocsp(resp, rlen, false, &len);
	expect(ctx, sig, len, doc, strlen(doc), VERIFY_INDETERMINATE, VERIFY_SUB_TRY_LATER);
	OPENSSL_free(sig);

	/* An answer about another certificate says nothing about this one. */
	resp = mkocsp(pki.tsa, true, -3600, NULL, NULL, &rlen);
	sig = cms_with_ocsp(resp, rlen, false, &len);
	expect(ctx, sig, len, doc, strlen(doc), VERIFY_INDETERMINATE, VERIFY_SUB_TRY_LATER);
	OPENSSL_free(sig);

	/* Garbage as a caller-supplied response. */
	assert_int_equal(verify_ctx_add_ocsp(ctx, (const uint8_t *)doc, strlen(doc)),
	                 INK_ERR_INVALID);
	verify_ctx_free(ctx);
}

/* EN 319 102-1 revocation freshness: "good" OCSP responses issued before the signature
 * time-stamp (an attacker's, from before a key compromise) say nothing about its time. */
static void
test_ocsp_freshness(void **state)
{
	static const long when[] = { -60, 2 };
	struct verify_ctx *ctx;
	struct verify_report *r;
	uint8_t *sig, *resp;
	size_t len, rlen, i;
	json_t *j, *rev;
	int ret;

	(void)state;
	sig = cades_t(pki.signer, pki.signer_key, false, &len);
	for (i = 0; i < INK_ARRAY_LEN(when); i++) {
		ctx = ctx_trusting(false);
		resp = mkocsp_at(pki.signer, false, 0, NULL, NULL, when[i], &rlen);
		assert_int_equal(verify_ctx_add_ocsp(ctx, resp, rlen), 0);
		OPENSSL_free(resp);
		resp = mkocsp_at(pki.tsa, false, 0, NULL, NULL, when[i], &rlen);
		assert_int_equal(verify_ctx_add_ocsp(ctx, resp, rlen), 0);
		OPENSSL_free(resp);
		expect(ctx, sig, len, doc, strlen(doc),
		       when[i] < 0 ? VERIFY_INDETERMINATE : VERIFY_TOTAL_PASSED,
		       when[i] < 0 ? VERIFY_SUB_TRY_LATER : VERIFY_SUB_NONE);
		r = run(ctx, sig, len, doc, strlen(doc), &ret);
		assert_int_equal(ret, 0);
		j = verify_report_json(r);
		rev = json_object_get(json_array_get(json_object_get(json_array_get(
		          json_object_get(j, "signatures"), 0), "chain"), 0), "revocation");
		if (when[i] < 0) {
			assert_int_equal(verify_report_indication(r, 0), VERIFY_INDETERMINATE);
			assert_int_equal(verify_report_sub(r, 0), VERIFY_SUB_TRY_LATER);
			assert_true(json_is_true(json_object_get(rev, "stale")));
		} else {
			assert_int_equal(verify_report_indication(r, 0), VERIFY_TOTAL_PASSED);
			assert_string_equal(json_string_value(json_object_get(rev, "status")), "good");
		}
		json_decref(j);
		verify_report_free(r);
		verify_ctx_free(ctx);
	}
	OPENSSL_free(sig);
}

static void
test_timestamps(void **state)
{
	struct verify_ctx *ctx = ctx_trusting(true), *later = NULL;
	struct verify_report *r;
	uint8_t *sig, *crl, *tok;
	size_t len, clen, toklen;
	json_t *j, *s;
	int ret;

	(void)state;
	sig = cades_t(pki.signer, pki.signer_key, false, &len);
	r = run(ctx, sig, len, doc, strlen(doc), &ret);
	assert_int_equal(ret, 0);
	j = verify_report_json(r);
	s = json_array_get(json_object_get(j, "signatures"), 0);
	assert_string_equal(json_string_value(json_object_get(s, "best_signature_time_source")), "time-stamp");
	assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(s, "timestamps"), 0),
	                                                      "indication")), "TOTAL-PASSED");
	assert_int_equal(verify_report_indication(r, 0), VERIFY_TOTAL_PASSED);
	json_decref(j);
	verify_report_free(r);

	/* Two years on the signer's certificate has expired and it was revoked a year from now;
	 * the time-stamp proves the signature is older than both. */
	later = ctx_trusting(false);
	crl = mkcrl(pki.signer, YEAR / 2, &clen);
	assert_int_equal(verify_ctx_add_crl(later, crl, clen), 0);
	verify_ctx_set_time(later, (int64_t)time(NULL) + 2 * YEAR);
	expect(later, sig, len, doc, strlen(doc), VERIFY_TOTAL_PASSED, VERIFY_SUB_NONE);
	OPENSSL_free(sig);

	/* Without the time-stamp nothing proves the signature predates the revocation. */
	sig = cms_sign(pki.signer, pki.signer_key, doc, strlen(doc), CMS_DETACHED, &len);
	expect(later, sig, len, doc, strlen(doc), VERIFY_INDETERMINATE, VERIFY_SUB_REVOKED_NO_POE);
	OPENSSL_free(sig);
	OPENSSL_free(crl);
	verify_ctx_free(later);

	/* Signed (and time-stamped) after the certificate expired. */
	sig = cades_t(pki.expired, pki.expired_key, false, &len);
	expect(ctx, sig, len, doc, strlen(doc), VERIFY_TOTAL_FAILED, VERIFY_SUB_EXPIRED);
	OPENSSL_free(sig);

	/* A time-stamp over something else proves nothing: the signature is judged at "now". */
	sig = cades_t(pki.signer, pki.signer_key, true, &len);
	r = run(ctx, sig, len, doc, strlen(doc), &ret);
	assert_int_equal(verify_report_indication(r, 0), VERIFY_TOTAL_PASSED);
	j = verify_report_json(r);
	s = json_array_get(json_object_get(j, "signatures"), 0);
	assert_string_equal(json_string_value(json_object_get(s, "best_signature_time_source")), "validation time");
	assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(s, "timestamps"), 0),
	                                                      "sub_indication")), "HASH_FAILURE");
	json_decref(j);
	verify_report_free(r);
	OPENSSL_free(sig);

	/* A standalone token over the document. */
	tok = tst_make((const uint8_t *)doc, strlen(doc), &toklen);
	expect(ctx, tok, toklen, doc, strlen(doc), VERIFY_TOTAL_PASSED, VERIFY_SUB_NONE);
	expect(ctx, tok, toklen, "x", 1, VERIFY_TOTAL_FAILED, VERIFY_SUB_HASH_FAILURE);
	OPENSSL_free(tok);
	verify_ctx_free(ctx);
}

/* Appends objects (ids[i]: body[i] of blen[i] bytes) to buf (growing it) at *len with their
 * cross-reference section and trailer: one revision. */
static char *
pdf_revision(char *buf, size_t *len, const int *ids, const char *const *body, const size_t *blen,
             size_t n)
{
	size_t offs[8], i, prev = 0, cap = *len + 4096;
	char *p, *out, line[128];

	assert_true(n <= 8);
	for (i = 0; i < n; i++)
		cap += blen[i];
	out = realloc(buf, cap);
	assert_non_null(out);
	/* The previous revision's cross-reference section. */
	for (p = out; p != NULL && p < out + *len; p++) {
		p = memmem(p, *len - (size_t)(p - out), "startxref", 9);
		if (p == NULL)
			break;
		prev = strtoul(p + 9, NULL, 10);
	}
#define PUT(s, l) (memcpy(out + *len, (s), (l)), *len += (l))
	for (i = 0; i < n; i++) {
		offs[i] = *len;
		snprintf(line, sizeof(line), "%d 0 obj\n", ids[i]);
		PUT(line, strlen(line));
		PUT(body[i], blen[i]);
		PUT("\nendobj\n", 8);
	}
	offs[n] = *len;
	PUT("xref\n", 5);
	if (prev == 0)
		PUT("0 1\n0000000000 65535 f \n", 24);
	for (i = 0; i < n; i++) {
		snprintf(line, sizeof(line), "%d 1\n%010zu 00000 n \n", ids[i], offs[i]);
		PUT(line, strlen(line));
	}
	if (prev != 0)
		snprintf(line, sizeof(line), "trailer << /Size 8 /Root 1 0 R /Prev %zu >>\n", prev);
	else
		snprintf(line, sizeof(line), "trailer << /Size 8 /Root 1 0 R >>\n");
	PUT(line, strlen(line));
	snprintf(line, sizeof(line), "startxref\n%zu\n%%%%EOF\n", offs[n]);
	PUT(line, strlen(line));
#undef PUT
	out[*len] = '\0';
	return out;
}

/* A one-page PDF whose signature field (5, also the page's widget) holds a signature
 * dictionary (4) signed over its ByteRange. */
static char *
pdf_make(size_t *outlen)
{
	static const int ids[] = { 1, 2, 3, 5, 4 };
	static const char sig_head[] = "<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter "
	                               "/ETSI.CAdES.detached /ByteRange [0 AAAAAAAAAA BBBBBBBBBB "
	                               "CCCCCCCCCC] /Contents <";
	const size_t hexlen = 8192;
	const char *body[5] = {
		"<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [5 0 R] /SigFlags 3 >> >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 100 100] /Annots [5 0 R] >>",
		"<< /Type /Annot /Subtype /Widget /FT /Sig /T (S1) /V 4 0 R /Rect [0 0 0 0] /P 3 0 R >>",
		NULL,
	};
	size_t blen[5], i, b, c, d, slen, total = 0;
	char *sigobj, *pdf, *signed_bytes, num[24], *br;
	uint8_t *sig;

	sigobj = malloc(sizeof(sig_head) + hexlen + 8);
	assert_non_null(sigobj);
	memcpy(sigobj, sig_head, strlen(sig_head));
	memset(sigobj + strlen(sig_head), '0', hexlen);
	memcpy(sigobj + strlen(sig_head) + hexlen, "> >>", 5);
	body[4] = sigobj;
	for (i = 0; i < 5; i++)
		blen[i] = strlen(body[i]);
	pdf = malloc(16);
	assert_non_null(pdf);
	memcpy(pdf, "%PDF-1.7\n", 9);
	total = 9;
	pdf = pdf_revision(pdf, &total, ids, body, blen, 5);
	free(sigobj);
	br = strstr(pdf, "AAAAAAAAAA");
	b = (size_t)(strstr(pdf, "/Contents <") - pdf) + 10; /* up to, not including, '<' */
	c = b + hexlen + 2;                                   /* after '>' */
	d = total - c;
	snprintf(num, sizeof(num), "%-10zu", b);
	memcpy(br, num, 10);
	snprintf(num, sizeof(num), "%-10zu", c);
	memcpy(br + 11, num, 10);
	snprintf(num, sizeof(num), "%-10zu", d);
	memcpy(br + 22, num, 10);
	signed_bytes = malloc(b + d);
	memcpy(signed_bytes, pdf, b);
	memcpy(signed_bytes + b, pdf + c, d);
	sig = cms_sign(pki.signer, pki.signer_key, signed_bytes, b + d, CMS_DETACHED | CMS_CADES, &slen);
	assert_true(slen * 2 <= hexlen);
	for (i = 0; i < slen; i++)
		snprintf(pdf + b + 1 + 2 * i, 3, "%02x", sig[i]);
	pdf[b + 1 + 2 * slen] = '0'; /* snprintf's NUL */
	OPENSSL_free(sig);
	free(signed_bytes);
	*outlen = total;
	return pdf;
}

static void
test_pades(void **state)
{
	struct verify_ctx *ctx = ctx_trusting(true);
	struct verify_report *r;
	char *pdf, *bigger, *p;
	static const char upd[] = "\n3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 999 999] >> endobj\n"
	                          "trailer << /Root 1 0 R >>\n%%EOF\n";
	static const int page_id[] = { 3 };
	static const char *const page_body[] = {
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 999 999] /Annots [5 0 R] >>"
	};
	size_t len, total, page_len = strlen(page_body[0]);
	int ret;

	(void)state;
	pdf = pdf_make(&len);
	expect(ctx, (uint8_t *)pdf, len, NULL, 0, VERIFY_TOTAL_PASSED, VERIFY_SUB_NONE);

	/* An incremental update that changes the page. */
	bigger = malloc(len + sizeof(upd));
	memcpy(bigger, pdf, len);
	memcpy(bigger + len, upd, sizeof(upd));
	expect(ctx, (uint8_t *)bigger, len + strlen(upd), NULL, 0, VERIFY_INDETERMINATE,
	       VERIFY_SUB_SIG_CONSTRAINTS_FAILURE);
	free(bigger);
	/* The same as a well-formed revision. */
	bigger = malloc(len + 1);
	memcpy(bigger, pdf, len);
	total = len;
	bigger = pdf_revision(bigger, &total, page_id, page_body, &page_len, 1);
	expect(ctx, (uint8_t *)bigger, total, NULL, 0, VERIFY_INDETERMINATE,
	       VERIFY_SUB_SIG_CONSTRAINTS_FAILURE);
	/* The same revision hidden behind a second, empty cross-reference section whose
	 * "startxref N" is glued to a word ("Nx"): a reader skips that one for the startxref before
	 * it, which names the changed page; the check must not take the empty section instead. */
	{
		char tail[160], *q, *sx = NULL;
		size_t m;

		for (q = bigger; (q = memmem(q, total - (size_t)(q - bigger), "startxref", 9)) != NULL; q++)
			sx = q;
		assert_non_null(sx);
		m = strtoul(sx + 9, NULL, 10);
		assert_true(total > 6 && memcmp(bigger + total - 6, "%%EOF\n", 6) == 0);
		total -= 6;
		snprintf(tail, sizeof(tail), "xref\ntrailer << /Size 8 /Root 1 0 R /Prev %zu >>\n"
		         "startxref\n%zux\n%%%%EOF\n", m, total);
		bigger = realloc(bigger, total + strlen(tail) + 1);
		memcpy(bigger + total, tail, strlen(tail) + 1);
		total += strlen(tail);
		expect(ctx, (uint8_t *)bigger, total, NULL, 0, VERIFY_INDETERMINATE,
		       VERIFY_SUB_SIG_CONSTRAINTS_FAILURE);
		/* ... for that reason (before, only for the page object its section did not list) */
		{
			struct verify_report *rp = run(ctx, (uint8_t *)bigger, total, NULL, 0, &ret);
			json_t *j = verify_report_json(rp);
			char *js = json_dumps(j, 0);

			assert_non_null(strstr(js, "not a revision of their own"));
			free(js);
			json_decref(j);
			verify_report_free(rp);
		}
	}
	free(bigger);

	/* A byte inside the signed range. */
	p = strstr(pdf, "[0 0 100 100]");
	p[5] = '2';
	expect(ctx, (uint8_t *)pdf, len, NULL, 0, VERIFY_TOTAL_FAILED, VERIFY_SUB_HASH_FAILURE);
	p[5] = '1';
	/* A ByteRange that leaves more than /Contents out. */
	p = strstr(pdf, "/ByteRange [0 ");
	p[14] = (char)(p[14] - 1);
	expect(ctx, (uint8_t *)pdf, len, NULL, 0, VERIFY_TOTAL_FAILED, VERIFY_SUB_FORMAT_FAILURE);
	/* No signature at all. */
	r = run(ctx, (const uint8_t *)"%PDF-1.4\n%%EOF\n", 15, NULL, 0, &ret);
	assert_int_equal(ret, INK_ERR_INVALID);
	assert_null(r);
	free(pdf);
	verify_ctx_free(ctx);
}

/* pdf plus an incremental update whose catalog has a /DSS with resp (a BasicOCSPResponse,
 * DER, freed) as an OCSPResponse stream in /OCSPs. */
static char *
pdf_with_dss(const char *pdf, size_t len, uint8_t *resp, size_t rlen, size_t *outlen)
{
	static const int ids[] = { 6, 7, 1 };
	const unsigned char *p = resp;
	OCSP_BASICRESP *bs = d2i_OCSP_BASICRESP(NULL, &p, (long)rlen);
	OCSP_RESPONSE *full = OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL, bs);
	unsigned char *der = NULL;
	const char *body[3];
	size_t blen[3], h;
	char *stream, *out;
	int n = i2d_OCSP_RESPONSE(full, &der);

	assert_true(n > 0);
	stream = malloc((size_t)n + 64);
	assert_non_null(stream);
	h = (size_t)snprintf(stream, 64, "<< /Length %d >> stream\n", n);
	memcpy(stream + h, der, (size_t)n);
	memcpy(stream + h + (size_t)n, "\nendstream", 10);
	body[0] = stream;
	blen[0] = h + (size_t)n + 10;
	body[1] = "<< /OCSPs [6 0 R] >>";
	body[2] = "<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [5 0 R] /SigFlags 3 >> "
	          "/DSS 7 0 R >>";
	blen[1] = strlen(body[1]);
	blen[2] = strlen(body[2]);
	out = malloc(len + 1);
	assert_non_null(out);
	memcpy(out, pdf, len);
	*outlen = len;
	out = pdf_revision(out, outlen, ids, body, blen, 3);
	free(stream);
	OPENSSL_free(der);
	OPENSSL_free(resp);
	OCSP_RESPONSE_free(full);
	OCSP_BASICRESP_free(bs);
	return out;
}

static void
test_pades_dss(void **state)
{
	struct verify_ctx *ctx = ctx_trusting(false);
	char *pdf, *lt;
	uint8_t *resp;
	size_t len, ltlen, rlen;

	(void)state;
	pdf = pdf_make(&len);
	/* No revocation data anywhere. */
	expect(ctx, (uint8_t *)pdf, len, NULL, 0, VERIFY_INDETERMINATE, VERIFY_SUB_TRY_LATER);
	/* PAdES B-LT: the CA's "good" answer in the document security store. */
	resp = mkocsp(pki.signer, false, 0, NULL, NULL, &rlen);
	lt = pdf_with_dss(pdf, len, resp, rlen, &ltlen);
	expect(ctx, (uint8_t *)lt, ltlen, NULL, 0, VERIFY_TOTAL_PASSED, VERIFY_SUB_NONE);
	free(lt);
	/* ... or its "revoked an hour before". */
	resp = mkocsp(pki.signer, true, -3600, NULL, NULL, &rlen);
	lt = pdf_with_dss(pdf, len, resp, rlen, &ltlen);
	expect(ctx, (uint8_t *)lt, ltlen, NULL, 0, VERIFY_TOTAL_FAILED, VERIFY_SUB_REVOKED);
	free(lt);
	/* An answer signed by a key the CA never authorised proves nothing. */
	resp = mkocsp(pki.signer, false, 0, pki.signer, pki.signer_key, &rlen);
	lt = pdf_with_dss(pdf, len, resp, rlen, &ltlen);
	expect(ctx, (uint8_t *)lt, ltlen, NULL, 0, VERIFY_INDETERMINATE, VERIFY_SUB_TRY_LATER);
	free(lt);
	free(pdf);
	verify_ctx_free(ctx);
}

/* ---- issue 14: every path where the checked bytes or certificate could be other ones ---- */

/* Signature i of r as JSON; *root (the whole report) is the caller's to free. */
static json_t *
report_sig(const struct verify_report *r, size_t i, json_t **root)
{
	*root = verify_report_json(r);
	assert_non_null(*root);
	return json_array_get(json_object_get(*root, "signatures"), i);
}

/* Whether one of signature i's warnings contains text. */
static bool
report_warns(const struct verify_report *r, size_t i, const char *text)
{
	json_t *root, *warnings, *w;
	size_t k;
	bool found = false;

	/* (json_array_foreach evaluates its array more than once) */
	warnings = json_object_get(report_sig(r, i, &root), "warnings");
	json_array_foreach(warnings, k, w) {
		if (strstr(json_string_value(w), text) != NULL)
			found = true;
	}
	json_decref(root);
	return found;
}

/* Whether signature i's field key is the string want. */
static bool
report_says(const struct verify_report *r, size_t i, const char *key, const char *want)
{
	json_t *root;
	const char *v;
	bool same;

	v = json_string_value(json_object_get(report_sig(r, i, &root), key));
	same = v != NULL && strcmp(v, want) == 0;
	if (!same)
		print_error("%s is %s, want %s\n", key, v != NULL ? v : "(none)", want);
	json_decref(root);
	return same;
}

/* The signer's subject in signature i's report contains cn. */
static bool
report_signer_is(const struct verify_report *r, size_t i, const char *cn)
{
	json_t *root;
	const char *v;
	bool same;

	v = json_string_value(json_object_get(json_object_get(report_sig(r, i, &root), "signer"),
	                                      "subject"));
	same = v != NULL && strstr(v, cn) != NULL;
	json_decref(root);
	return same;
}

/* Validation with a document digest instead of the document. */
static struct verify_report *
run_digest(struct verify_ctx *ctx, const uint8_t *sig, size_t sig_len, const EVP_MD *md,
           const void *d, size_t dlen, const char *oid)
{
	struct verify_input in = { .sig = sig, .sig_len = sig_len, .digest_oid = oid };
	struct verify_report *r = NULL;
	unsigned char h[EVP_MAX_MD_SIZE];
	unsigned int hlen = 0;
	char err[256];

	assert_int_equal(EVP_Digest(d, dlen, h, &hlen, md, NULL), 1);
	in.digest = h;
	in.digest_len = hlen;
	assert_int_equal(verify_run(ctx, &in, &r, err, sizeof(err)), 0);
	return r;
}

/* DER of a CMS_ContentInfo (freed). */
static uint8_t *
cms_der(CMS_ContentInfo *cms, size_t *outlen)
{
	unsigned char *der = NULL;
	int n = i2d_CMS_ContentInfo(cms, &der);

	assert_true(n > 0);
	*outlen = (size_t)n;
	CMS_ContentInfo_free(cms);
	return der;
}

/* A signature of doc (detached) by signer/key whose SignedData holds first the certificates of
 * extra (NULL: none) and then, unless CMS_NOCERTS is in flags, the signer's. */
static uint8_t *
cms_sign_bag(X509 *signer, EVP_PKEY *key, X509 *extra, unsigned flags, size_t *outlen)
{
	const unsigned f = CMS_BINARY | CMS_DETACHED | CMS_PARTIAL;
	BIO *in = BIO_new_mem_buf(doc, (int)strlen(doc));
	CMS_ContentInfo *cms = CMS_sign(NULL, NULL, NULL, NULL, f);

	assert_non_null(cms);
	if (extra != NULL)
		assert_int_equal(CMS_add1_cert(cms, extra), 1);
	assert_non_null(CMS_add1_signer(cms, signer, key, EVP_sha256(), f | flags));
	assert_int_equal(CMS_final(cms, in, NULL, f), 1);
	BIO_free(in);
	return cms_der(cms, outlen);
}

/* A CMS signature (DER) as PEM text (malloc'd, not NUL-terminated). */
static char *
pem_of(const uint8_t *der, size_t len, size_t *outlen)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p, *out;
	long n;

	assert_true(PEM_write_bio(b, "CMS", "", der, (long)len) > 0);
	n = BIO_get_mem_data(b, &p);
	assert_true(n > 0);
	out = malloc((size_t)n);
	assert_non_null(out);
	memcpy(out, p, (size_t)n);
	*outlen = (size_t)n;
	BIO_free(b);
	return out;
}

static void
test_attached_and_document(void **state)
{
	struct verify_ctx *ctx = ctx_trusting(true);
	struct verify_report *r;
	const char *sha512 = "2.16.840.1.101.3.4.2.3", *sha256 = "2.16.840.1.101.3.4.2.1";
	uint8_t *att, *noattr, *det;
	char changed[sizeof(doc)], *pdf, *pem, *pem2;
	size_t alen, nlen, dlen, plen;
	int ret;

	(void)state;
	memcpy(changed, doc, sizeof(doc));
	changed[3] ^= 1;
	att = cms_sign(pki.signer, pki.signer_key, doc, strlen(doc), CMS_CADES, &alen);
	/* The document given is the content carried: judged over it. */
	r = run(ctx, att, alen, doc, strlen(doc), &ret);
	assert_int_equal(ret, 0);
	assert_int_equal(verify_report_indication(r, 0), VERIFY_TOTAL_PASSED);
	assert_true(report_says(r, 0, "signed_content", "encapsulated"));
	verify_report_free(r);
	/* Another document (or none: an empty file) next to an attached signature: never a pass
	 * for the content carried while the caller believes their file was checked. */
	expect(ctx, att, alen, changed, strlen(changed), VERIFY_TOTAL_FAILED, VERIFY_SUB_HASH_FAILURE);
	expect(ctx, att, alen, "", 0, VERIFY_TOTAL_FAILED, VERIFY_SUB_HASH_FAILURE);
	r = run(ctx, att, alen, changed, strlen(changed), &ret);
	assert_true(report_says(r, 0, "signed_content", "document"));
	verify_report_free(r);
	/* The same without signed attributes: the signature itself is checked over the document. */
	noattr = cms_sign(pki.signer, pki.signer_key, doc, strlen(doc), CMS_NOATTR, &nlen);
	expect(ctx, noattr, nlen, doc, strlen(doc), VERIFY_TOTAL_PASSED, VERIFY_SUB_NONE);
	expect(ctx, noattr, nlen, changed, strlen(changed), VERIFY_TOTAL_FAILED,
	       VERIFY_SUB_HASH_FAILURE);
	/* A digest instead: of the content carried (in any allowed algorithm), or of another. */
	r = run_digest(ctx, att, alen, EVP_sha512(), doc, strlen(doc), sha512);
	assert_int_equal(verify_report_indication(r, 0), VERIFY_TOTAL_PASSED);
	verify_report_free(r);
	r = run_digest(ctx, att, alen, EVP_sha256(), changed, strlen(changed), sha256);
	assert_int_equal(verify_report_indication(r, 0), VERIFY_TOTAL_FAILED);
	assert_int_equal(verify_report_sub(r, 0), VERIFY_SUB_HASH_FAILURE);
	verify_report_free(r);
	r = run_digest(ctx, noattr, nlen, EVP_sha256(), changed, strlen(changed), sha256);
	assert_int_equal(verify_report_indication(r, 0), VERIFY_TOTAL_FAILED);
	verify_report_free(r);
	/* Detached and no document: nothing was checked. */
	det = cms_sign(pki.signer, pki.signer_key, doc, strlen(doc), CMS_DETACHED | CMS_NOATTR, &dlen);
	expect(ctx, det, dlen, NULL, 0, VERIFY_INDETERMINATE, VERIFY_SUB_SIGNED_DATA_NOT_FOUND);
	r = run(ctx, det, dlen, NULL, 0, &ret);
	assert_true(report_says(r, 0, "signed_content", "none"));
	verify_report_free(r);
	/* Two PEM signatures in one input: refused, not the first checked and the second ignored. */
	pem = pem_of(att, alen, &plen);
	pem2 = malloc(2 * plen);
	assert_non_null(pem2);
	memcpy(pem2, pem, plen);
	memcpy(pem2 + plen, pem, plen);
	r = run(ctx, (uint8_t *)pem, plen, doc, strlen(doc), &ret);
	assert_int_equal(verify_report_indication(r, 0), VERIFY_TOTAL_PASSED);
	verify_report_free(r);
	r = run(ctx, (uint8_t *)pem2, 2 * plen, doc, strlen(doc), &ret);
	assert_int_equal(ret, INK_ERR_INVALID);
	free(pem);
	free(pem2);
	/* A PDF carries what it signs: a document given with it is refused, not ignored. */
	pdf = pdf_make(&plen);
	r = run(ctx, (uint8_t *)pdf, plen, doc, strlen(doc), &ret);
	assert_int_equal(ret, INK_ERR_INVALID);
	free(pdf);
	OPENSSL_free(att);
	OPENSSL_free(noattr);
	OPENSSL_free(det);
	verify_ctx_free(ctx);
}

/* A time-stamp token made by hand, as TS_RESP_create_response() would refuse to: the imprint
 * is data's digest under md; signed by cert/key; its signing-certificate-v2 attribute names
 * ess (NULL: no such attribute). */
static uint8_t *
tst_build(const void *data, size_t len, const EVP_MD *md, X509 *cert, EVP_PKEY *key, X509 *ess,
          size_t *outlen)
{
	const unsigned f = CMS_BINARY | CMS_PARTIAL | CMS_NOSMIMECAP;
	TS_TST_INFO *ti = TS_TST_INFO_new();
	TS_MSG_IMPRINT *mi = TS_MSG_IMPRINT_new();
	X509_ALGOR *alg = X509_ALGOR_new();
	ASN1_OBJECT *policy = OBJ_txt2obj("1.2.3.4.1", 1);
	ASN1_INTEGER *serial = ASN1_INTEGER_new();
	ASN1_GENERALIZEDTIME *gt = ASN1_GENERALIZEDTIME_adj(NULL, time(NULL), 0, -60);
	ESS_SIGNING_CERT_V2 *sc = NULL;
	CMS_ContentInfo *cms;
	CMS_SignerInfo *si;
	unsigned char h[EVP_MAX_MD_SIZE], *tder = NULL, *eder = NULL;
	unsigned int hlen = 0;
	BIO *in;
	int tlen, elen;

	assert_int_equal(EVP_Digest(data, len, h, &hlen, md, NULL), 1);
	X509_ALGOR_set0(alg, OBJ_nid2obj(EVP_MD_get_type(md)), V_ASN1_NULL, NULL);
	assert_int_equal(TS_MSG_IMPRINT_set_algo(mi, alg), 1);
	assert_int_equal(TS_MSG_IMPRINT_set_msg(mi, h, (int)hlen), 1);
	ASN1_INTEGER_set(serial, 42);
	assert_true(TS_TST_INFO_set_version(ti, 1) == 1 && TS_TST_INFO_set_policy_id(ti, policy) == 1 &&
	            TS_TST_INFO_set_msg_imprint(ti, mi) == 1 && TS_TST_INFO_set_serial(ti, serial) == 1 &&
	            TS_TST_INFO_set_time(ti, gt) == 1);
	assert_true((tlen = i2d_TS_TST_INFO(ti, &tder)) > 0);
	in = BIO_new_mem_buf(tder, tlen);
	assert_non_null(cms = CMS_sign(NULL, NULL, NULL, NULL, f));
	assert_int_equal(CMS_set1_eContentType(cms, OBJ_nid2obj(NID_id_smime_ct_TSTInfo)), 1);
	assert_non_null(si = CMS_add1_signer(cms, cert, key, EVP_sha256(), f));
	if (ess != NULL) {
		assert_non_null(sc = OSSL_ESS_signing_cert_v2_new_init(EVP_sha256(), ess, NULL, 1));
		assert_true((elen = i2d_ESS_SIGNING_CERT_V2(sc, &eder)) > 0);
		assert_int_equal(CMS_signed_add1_attr_by_NID(si, NID_id_smime_aa_signingCertificateV2,
		                                             V_ASN1_SEQUENCE, eder, elen), 1);
	}
	assert_int_equal(CMS_final(cms, in, NULL, CMS_BINARY), 1);
	BIO_free(in);
	OPENSSL_free(tder);
	OPENSSL_free(eder);
	ESS_SIGNING_CERT_V2_free(sc);
	ASN1_GENERALIZEDTIME_free(gt);
	ASN1_INTEGER_free(serial);
	ASN1_OBJECT_free(policy);
	X509_ALGOR_free(alg);
	TS_MSG_IMPRINT_free(mi);
	TS_TST_INFO_free(ti);
	return cms_der(cms, outlen);
}

/* A detached CAdES signature of doc by the unit signer with a signature time-stamp by tsa/key
 * over its own signature value, or over other (another signature's value) when not NULL. */
static uint8_t *
cades_stamped(const ASN1_OCTET_STRING *other, X509 *tsa, EVP_PKEY *tsa_key, size_t *outlen)
{
	BIO *in = BIO_new_mem_buf(doc, (int)strlen(doc));
	CMS_ContentInfo *cms = CMS_sign(pki.signer, pki.signer_key, NULL, in,
	                                CMS_BINARY | CMS_DETACHED | CMS_CADES);
	CMS_SignerInfo *si;
	const ASN1_OCTET_STRING *v;
	uint8_t *tok;
	size_t toklen;

	assert_non_null(cms);
	si = sk_CMS_SignerInfo_value(CMS_get0_SignerInfos(cms), 0);
	v = other != NULL ? other : CMS_SignerInfo_get0_signature(si);
	tok = tst_build(v->data, (size_t)v->length, EVP_sha256(), tsa, tsa_key, tsa, &toklen);
	assert_int_equal(CMS_unsigned_add1_attr_by_NID(si, NID_id_smime_aa_timeStampToken,
	                                               V_ASN1_SEQUENCE, tok, (int)toklen), 1);
	OPENSSL_free(tok);
	BIO_free(in);
	return cms_der(cms, outlen);
}

/* The signature value of the first SignerInfo of a CMS signature (DER). */
static ASN1_OCTET_STRING *
sig_value(const uint8_t *der, size_t len)
{
	const unsigned char *p = der;
	CMS_ContentInfo *cms = d2i_CMS_ContentInfo(NULL, &p, (long)len);
	ASN1_OCTET_STRING *v;

	assert_non_null(cms);
	v = ASN1_OCTET_STRING_dup(CMS_SignerInfo_get0_signature(
		sk_CMS_SignerInfo_value(CMS_get0_SignerInfos(cms), 0)));
	CMS_ContentInfo_free(cms);
	return v;
}

static void
test_timestamp_binding(void **state)
{
	struct verify_ctx *ctx = ctx_trusting(true), *later = ctx_trusting(true);
	struct verify_report *r;
	EVP_PKEY *lax_key = ec_key();
	X509 *lax = mkcert("Unit Lax TSA", lax_key, pki.root, pki.root_key, -3600, YEAR,
	                   "critical,digitalSignature", "timeStamping", false);
	ASN1_OCTET_STRING *other;
	uint8_t *tok, *sig;
	size_t toklen, len;
	json_t *root, *s;
	int ret;

	(void)state;
	/* The hand-made token is sound when nothing is wrong with it. */
	tok = tst_build(doc, strlen(doc), EVP_sha256(), pki.tsa, pki.tsa_key, pki.tsa, &toklen);
	expect(ctx, tok, toklen, doc, strlen(doc), VERIFY_TOTAL_PASSED, VERIFY_SUB_NONE);
	expect(ctx, tok, toklen, "other", 5, VERIFY_TOTAL_FAILED, VERIFY_SUB_HASH_FAILURE);
	OPENSSL_free(tok);
	/* The TSA's certificate must be named by the token's signing-certificate attribute. */
	tok = tst_build(doc, strlen(doc), EVP_sha256(), pki.tsa, pki.tsa_key, NULL, &toklen);
	expect(ctx, tok, toklen, doc, strlen(doc), VERIFY_INDETERMINATE,
	       VERIFY_SUB_NO_SIGNING_CERTIFICATE_FOUND);
	OPENSSL_free(tok);
	tok = tst_build(doc, strlen(doc), EVP_sha256(), pki.tsa, pki.tsa_key, pki.signer, &toklen);
	expect(ctx, tok, toklen, doc, strlen(doc), VERIFY_INDETERMINATE,
	       VERIFY_SUB_NO_SIGNING_CERTIFICATE_FOUND);
	OPENSSL_free(tok);
	/* RFC 3161 2.3: timeStamping in a critical extended key usage. */
	tok = tst_build(doc, strlen(doc), EVP_sha256(), lax, lax_key, lax, &toklen);
	expect(ctx, tok, toklen, doc, strlen(doc), VERIFY_INDETERMINATE,
	       VERIFY_SUB_SIG_CONSTRAINTS_FAILURE);
	OPENSSL_free(tok);
	/* An imprint made with a digest the policy refuses. */
	tok = tst_build(doc, strlen(doc), EVP_sha1(), pki.tsa, pki.tsa_key, pki.tsa, &toklen);
	expect(ctx, tok, toklen, doc, strlen(doc), VERIFY_INDETERMINATE,
	       VERIFY_SUB_CRYPTO_CONSTRAINTS_FAILURE);
	OPENSSL_free(tok);

	/* A signature time-stamp copied from another signature is not over this one's value: it
	 * proves nothing, which shows two years on when the signer's certificate has expired. */
	verify_ctx_set_time(later, (int64_t)time(NULL) + 2 * YEAR);
	sig = cms_sign(pki.signer, pki.signer_key, "another", 7, CMS_DETACHED | CMS_CADES, &len);
	other = sig_value(sig, len);
	OPENSSL_free(sig);
	sig = cades_stamped(other, pki.tsa, pki.tsa_key, &len);
	ASN1_OCTET_STRING_free(other);
	r = run(ctx, sig, len, doc, strlen(doc), &ret);
	assert_int_equal(ret, 0);
	assert_int_equal(verify_report_indication(r, 0), VERIFY_TOTAL_PASSED);
	assert_true(report_says(r, 0, "best_signature_time_source", "validation time"));
	assert_true(report_warns(r, 0, "proves nothing"));
	s = report_sig(r, 0, &root);
	assert_string_equal(json_string_value(json_object_get(json_array_get(
		json_object_get(s, "timestamps"), 0), "sub_indication")), "HASH_FAILURE");
	json_decref(root);
	verify_report_free(r);
	expect(later, sig, len, doc, strlen(doc), VERIFY_INDETERMINATE,
	       VERIFY_SUB_OUT_OF_BOUNDS_NOT_REVOKED);
	OPENSSL_free(sig);
	/* A token over the signature's own value is proof of existence... */
	sig = cades_stamped(NULL, pki.tsa, pki.tsa_key, &len);
	expect(later, sig, len, doc, strlen(doc), VERIFY_TOTAL_PASSED, VERIFY_SUB_NONE);
	OPENSSL_free(sig);
	/* ...unless its TSA's certificate is not one for time-stamping. */
	sig = cades_stamped(NULL, lax, lax_key, &len);
	expect(later, sig, len, doc, strlen(doc), VERIFY_INDETERMINATE,
	       VERIFY_SUB_OUT_OF_BOUNDS_NOT_REVOKED);
	OPENSSL_free(sig);
	X509_free(lax);
	EVP_PKEY_free(lax_key);
	verify_ctx_free(later);
	verify_ctx_free(ctx);
}

/* Whether a sorts before b in a DER SET OF (which is how a SignedData's certificates are
 * ordered, whatever the order they were added in). */
static bool
sorts_before(X509 *a, X509 *b)
{
	unsigned char *da = NULL, *db = NULL;
	int la = i2d_X509(a, &da), lb = i2d_X509(b, &db), c;

	assert_true(la > 0 && lb > 0);
	c = memcmp(da, db, (size_t)(la < lb ? la : lb));
	OPENSSL_free(da);
	OPENSSL_free(db);
	return c < 0 || (c == 0 && la < lb);
}

/* A certificate with cert's subject, issuer and serial but another key, signed by ca_key: what
 * an attacker can put next to a genuine signer's certificate. Made again (another key, another
 * ECDSA value) until it sorts before cert, where a verifier taking the first match finds it. */
static X509 *
impostor(X509 *cert, EVP_PKEY *ca_key)
{
	X509 *x = X509_dup(cert);
	EVP_PKEY *key;
	int i;

	assert_non_null(x);
	/* About one in two at first; thousands of tries when cert's own ECDSA value is short. */
	for (i = 0; i < 4096; i++) {
		key = ec_key();
		assert_int_equal(X509_set_pubkey(x, key), 1);
		EVP_PKEY_free(key);
		assert_true(X509_sign(x, ca_key, EVP_sha256()) > 0);
		if (sorts_before(x, cert))
			return x;
	}
	fail_msg("no impostor sorts first");
	return NULL;
}

/* A signing certificate of the unit root for key, with a subject key identifier; signed again
 * until it sorts before first when that is not NULL. */
static X509 *
cert_with_skid(const char *cn, EVP_PKEY *key, X509 *first)
{
	X509 *x = mkcert(cn, key, pki.root, pki.root_key, -3600, YEAR,
	                 "critical,digitalSignature,nonRepudiation", NULL, false);
	int i;

	add_ext(x, pki.root, NID_subject_key_identifier, "hash");
	for (i = 0; i < 64; i++) {
		assert_true(X509_sign(x, pki.root_key, EVP_sha256()) > 0);
		if (first == NULL || sorts_before(x, first))
			return x;
	}
	fail_msg("no certificate sorts first");
	return NULL;
}

static int
der_cmp(const void *a, const void *b)
{
	const ASN1_STRING *x = *(const ASN1_STRING *const *)a, *y = *(const ASN1_STRING *const *)b;
	int n = x->length < y->length ? x->length : y->length, c = memcmp(x->data, y->data, (size_t)n);

	return c != 0 ? c : x->length - y->length;
}

/* Signs si's signed attributes again with key after a test changed them (OpenSSL checks them
 * before it signs, which is what these tests get round). */
static void
resign(CMS_SignerInfo *si, EVP_PKEY *key)
{
	ASN1_STRING *enc[16];
	EVP_MD_CTX *mc = EVP_MD_CTX_new();
	unsigned char sig[512];
	size_t total = 0, off = 0, len, slen = sizeof(sig);
	uint8_t *set;
	int n = CMS_signed_get_attr_count(si), i;

	assert_true(n > 0 && n <= 16);
	for (i = 0; i < n; i++) {
		enc[i] = ASN1_STRING_new();
		enc[i]->length = i2d_X509_ATTRIBUTE(CMS_signed_get_attr(si, i), &enc[i]->data);
		assert_true(enc[i]->length > 0);
		total += (size_t)enc[i]->length;
	}
	/* DER: a SET OF in the order of its encodings. */
	qsort(enc, (size_t)n, sizeof(enc[0]), der_cmp);
	set = OPENSSL_malloc(total);
	for (i = 0; i < n; i++) {
		memcpy(set + off, enc[i]->data, (size_t)enc[i]->length);
		off += (size_t)enc[i]->length;
		ASN1_STRING_free(enc[i]);
	}
	set = der_wrap(0x31, set, total, &len);
	assert_int_equal(EVP_DigestSignInit(mc, NULL, EVP_sha256(), NULL, key), 1);
	assert_int_equal(EVP_DigestSign(mc, sig, &slen, set, len), 1);
	assert_int_equal(ASN1_STRING_set(CMS_SignerInfo_get0_signature(si), sig, (int)slen), 1);
	EVP_MD_CTX_free(mc);
	OPENSSL_free(set);
}

/* A detached CAdES signature of doc by the unit signer, signed again after its signed attribute
 * nid was removed (value NULL) or replaced by one of type/value, or (add) a second one added. */
static uint8_t *
cades_attr_changed(int nid, int type, const void *value, int vlen, bool add, size_t *outlen)
{
	BIO *in = BIO_new_mem_buf(doc, (int)strlen(doc));
	CMS_ContentInfo *cms = CMS_sign(pki.signer, pki.signer_key, NULL, in,
	                                CMS_BINARY | CMS_DETACHED | CMS_CADES);
	CMS_SignerInfo *si;
	int idx;

	assert_non_null(cms);
	si = sk_CMS_SignerInfo_value(CMS_get0_SignerInfos(cms), 0);
	assert_true((idx = CMS_signed_get_attr_by_NID(si, nid, -1)) >= 0);
	if (!add)
		X509_ATTRIBUTE_free(CMS_signed_delete_attr(si, idx));
	if (value != NULL)
		assert_int_equal(CMS_signed_add1_attr_by_NID(si, nid, type, value, vlen), 1);
	resign(si, pki.signer_key);
	BIO_free(in);
	return cms_der(cms, outlen);
}

static void
test_signer_certificate(void **state)
{
	struct verify_ctx *ctx = ctx_trusting(true);
	struct verify_report *r;
	EVP_PKEY *fake_ca_key = ec_key(), *k = ec_key();
	X509 *evil = impostor(pki.signer, fake_ca_key);
	X509 *skid = cert_with_skid("Unit Keyid Signer", k, NULL);
	X509 *renamed = cert_with_skid("Unit Renamed", k, skid);
	ESS_SIGNING_CERT_V2 *sc;
	unsigned char *ess = NULL;
	uint8_t *sig;
	size_t len;
	int ret, elen;

	(void)state;
	/* The sanity of the test: the checks below hold for this certificate and this one only. */
	sig = cms_sign(pki.signer, pki.signer_key, doc, strlen(doc), CMS_DETACHED | CMS_CADES, &len);
	expect(ctx, sig, len, doc, strlen(doc), VERIFY_TOTAL_PASSED, VERIFY_SUB_NONE);
	OPENSSL_free(sig);

	/* An impostor with the signer's issuer and serial, first in the SignedData: the
	 * signing-certificate attribute says which one signed, whatever the order. */
	sig = cms_sign_bag(pki.signer, pki.signer_key, evil, CMS_CADES, &len);
	r = run(ctx, sig, len, doc, strlen(doc), &ret);
	assert_int_equal(verify_report_indication(r, 0), VERIFY_TOTAL_PASSED);
	assert_true(report_says(r, 0, "signing_certificate_attribute", "matched"));
	verify_report_free(r);
	OPENSSL_free(sig);
	/* Without the attribute nothing tells them apart: no certificate is picked by order. */
	sig = cms_sign_bag(pki.signer, pki.signer_key, evil, CMS_NOATTR, &len);
	expect(ctx, sig, len, doc, strlen(doc), VERIFY_INDETERMINATE,
	       VERIFY_SUB_NO_SIGNING_CERTIFICATE_FOUND);
	OPENSSL_free(sig);
	/* The impostor alone: the attribute disowns it. */
	sig = cms_sign_bag(pki.signer, pki.signer_key, evil, CMS_CADES | CMS_NOCERTS, &len);
	expect(ctx, sig, len, doc, strlen(doc), VERIFY_INDETERMINATE,
	       VERIFY_SUB_NO_SIGNING_CERTIFICATE_FOUND);
	OPENSSL_free(sig);

	/* Signer named by key identifier, and a second certificate for the same key (same key
	 * identifier, other subject) first in the SignedData: the attribute picks the signer's. */
	sig = cms_sign_bag(skid, k, renamed, CMS_CADES | CMS_USE_KEYID, &len);
	r = run(ctx, sig, len, doc, strlen(doc), &ret);
	assert_int_equal(verify_report_indication(r, 0), VERIFY_TOTAL_PASSED);
	assert_true(report_signer_is(r, 0, "CN=Unit Keyid Signer"));
	verify_report_free(r);
	OPENSSL_free(sig);
	/* Only the other certificate: it matches the key identifier, not the attribute's hash. */
	sig = cms_sign_bag(skid, k, renamed, CMS_CADES | CMS_USE_KEYID | CMS_NOCERTS, &len);
	expect(ctx, sig, len, doc, strlen(doc), VERIFY_INDETERMINATE,
	       VERIFY_SUB_NO_SIGNING_CERTIFICATE_FOUND);
	OPENSSL_free(sig);
	/* Both, and no attribute to choose: which name signed is not known. */
	sig = cms_sign_bag(skid, k, renamed, CMS_NOATTR | CMS_USE_KEYID, &len);
	expect(ctx, sig, len, doc, strlen(doc), VERIFY_INDETERMINATE,
	       VERIFY_SUB_NO_SIGNING_CERTIFICATE_FOUND);
	OPENSSL_free(sig);

	/* Two signing-certificate-v2 attributes (the second naming the impostor): malformed. */
	assert_non_null(sc = OSSL_ESS_signing_cert_v2_new_init(EVP_sha256(), evil, NULL, 1));
	assert_true((elen = i2d_ESS_SIGNING_CERT_V2(sc, &ess)) > 0);
	sig = cades_attr_changed(NID_id_smime_aa_signingCertificateV2, V_ASN1_SEQUENCE, ess, elen,
	                         true, &len);
	expect(ctx, sig, len, doc, strlen(doc), VERIFY_TOTAL_FAILED, VERIFY_SUB_FORMAT_FAILURE);
	OPENSSL_free(sig);
	/* The test's re-signing is sound: the genuine attribute put back passes. */
	OPENSSL_free(ess);
	ESS_SIGNING_CERT_V2_free(sc);
	assert_non_null(sc = OSSL_ESS_signing_cert_v2_new_init(EVP_sha256(), pki.signer, NULL, 1));
	ess = NULL;
	assert_true((elen = i2d_ESS_SIGNING_CERT_V2(sc, &ess)) > 0);
	sig = cades_attr_changed(NID_id_smime_aa_signingCertificateV2, V_ASN1_SEQUENCE, ess, elen,
	                         false, &len);
	expect(ctx, sig, len, doc, strlen(doc), VERIFY_TOTAL_PASSED, VERIFY_SUB_NONE);
	OPENSSL_free(sig);
	OPENSSL_free(ess);
	ESS_SIGNING_CERT_V2_free(sc);
	X509_free(evil);
	X509_free(skid);
	X509_free(renamed);
	EVP_PKEY_free(fake_ca_key);
	EVP_PKEY_free(k);
	verify_ctx_free(ctx);
}

/* The n-th element inside the constructed DER value at p[len] (n < 0: the last one). */
static const uint8_t *
der_child(const uint8_t *p, size_t len, int n, size_t *elen)
{
	const unsigned char *q = p, *end, *start, *last = NULL;
	long l;
	int tag, cls, i = 0;

	assert_int_equal(ASN1_get_object(&q, &l, &tag, &cls, (long)len) & 0x80, 0);
	end = q + l;
	while (q < end) {
		start = q;
		assert_int_equal(ASN1_get_object(&q, &l, &tag, &cls, end - q) & 0x80, 0);
		q += l;
		*elen = (size_t)(q - start);
		last = start;
		if (i++ == n)
			return start;
	}
	assert_true(n < 0 && last != NULL);
	return last;
}

/* A detached signature of doc by the unit signer and then by signer2/key2 (CAdES both); the
 * second signature value corrupted when broken, or (counter) instead of a second signer, a
 * counter-signature by signer2 over the first signature's value. */
static uint8_t *
two_signatures(X509 *signer2, EVP_PKEY *key2, bool broken, bool counter, size_t *outlen)
{
	const unsigned f = CMS_BINARY | CMS_DETACHED | CMS_PARTIAL | CMS_CADES;
	BIO *in = BIO_new_mem_buf(doc, (int)strlen(doc));
	CMS_ContentInfo *cms = CMS_sign(NULL, NULL, NULL, NULL, f);
	CMS_SignerInfo *si;
	ASN1_OCTET_STRING *v;
	const uint8_t *p;
	uint8_t *cs;
	size_t cslen, n;

	assert_non_null(cms);
	assert_non_null(si = CMS_add1_signer(cms, pki.signer, pki.signer_key, EVP_sha256(), f));
	/* (the same certificate twice would be refused) */
	if (!counter)
		assert_non_null(CMS_add1_signer(cms, signer2, key2, EVP_sha256(),
		                                f | (signer2 == pki.signer ? CMS_NOCERTS : 0)));
	assert_int_equal(CMS_final(cms, in, NULL, f), 1);
	BIO_free(in);
	if (broken) {
		v = CMS_SignerInfo_get0_signature(sk_CMS_SignerInfo_value(CMS_get0_SignerInfos(cms), 1));
		v->data[v->length / 2] ^= 0x20;
	}
	if (counter) {
		/* RFC 5652 11.4: a SignerInfo over the signature value, as an unsigned attribute. */
		v = CMS_SignerInfo_get0_signature(si);
		cs = cms_sign(signer2, key2, v->data, (size_t)v->length, CMS_DETACHED, &cslen);
		p = der_child(cs, cslen, 1, &n);               /* [0] EXPLICIT */
		p = der_child(p, n, 0, &n);                    /* SignedData */
		p = der_child(p, n, -1, &n);                   /* signerInfos */
		p = der_child(p, n, 0, &n);                    /* the SignerInfo */
		assert_int_equal(CMS_unsigned_add1_attr_by_NID(si, NID_pkcs9_countersignature,
		                                               V_ASN1_SEQUENCE, p, (int)n), 1);
		OPENSSL_free(cs);
	}
	return cms_der(cms, outlen);
}

/* The index of the signature whose signer's subject contains cn (DER sorts the SignerInfos). */
static size_t
report_find(const struct verify_report *r, const char *cn)
{
	size_t i;

	for (i = 0; i < verify_report_count(r); i++) {
		if (report_signer_is(r, i, cn))
			return i;
	}
	fail_msg("no signature by %s", cn);
	return 0;
}

static void
test_several_signers(void **state)
{
	struct verify_ctx *ctx = ctx_trusting(true);
	struct verify_report *r;
	uint8_t *sig;
	size_t len, good, bad;
	json_t *root;
	int ret;

	(void)state;
	/* Each SignerInfo on its own; one that fails makes the whole not a pass. */
	sig = two_signatures(pki.nousage, pki.nousage_key, false, false, &len);
	r = run(ctx, sig, len, doc, strlen(doc), &ret);
	assert_int_equal(ret, 0);
	assert_int_equal(verify_report_count(r), 2);
	good = report_find(r, "CN=Unit Signer");
	bad = report_find(r, "CN=Unit No Usage");
	assert_int_equal(verify_report_indication(r, good), VERIFY_TOTAL_PASSED);
	assert_int_equal(verify_report_indication(r, bad), VERIFY_INDETERMINATE);
	assert_int_equal(verify_report_sub(r, bad), VERIFY_SUB_SIG_CONSTRAINTS_FAILURE);
	assert_false(verify_report_all_passed(r));
	root = verify_report_json(r);
	assert_true(json_is_false(json_object_get(root, "all_passed")));
	json_decref(root);
	verify_report_free(r);
	OPENSSL_free(sig);
	/* Two good signers pass together; the second's value corrupted fails alone. */
	sig = two_signatures(pki.signer, pki.signer_key, false, false, &len);
	r = run(ctx, sig, len, doc, strlen(doc), &ret);
	assert_int_equal(verify_report_count(r), 2);
	assert_true(verify_report_all_passed(r));
	verify_report_free(r);
	OPENSSL_free(sig);
	sig = two_signatures(pki.signer, pki.signer_key, true, false, &len);
	r = run(ctx, sig, len, doc, strlen(doc), &ret);
	assert_int_equal(verify_report_count(r), 2);
	bad = verify_report_indication(r, 0) == VERIFY_TOTAL_PASSED ? 1 : 0;
	assert_int_equal(verify_report_indication(r, 1 - bad), VERIFY_TOTAL_PASSED);
	assert_int_equal(verify_report_indication(r, bad), VERIFY_TOTAL_FAILED);
	assert_int_equal(verify_report_sub(r, bad), VERIFY_SUB_SIG_CRYPTO_FAILURE);
	assert_false(verify_report_all_passed(r));
	verify_report_free(r);
	OPENSSL_free(sig);
	/* A counter-signature is neither a signer nor validated as one: said in a warning. */
	sig = two_signatures(pki.nousage, pki.nousage_key, false, true, &len);
	r = run(ctx, sig, len, doc, strlen(doc), &ret);
	assert_int_equal(verify_report_count(r), 1);
	assert_int_equal(verify_report_indication(r, 0), VERIFY_TOTAL_PASSED);
	assert_true(report_signer_is(r, 0, "CN=Unit Signer"));
	assert_true(report_warns(r, 0, "counter-signature"));
	verify_report_free(r);
	OPENSSL_free(sig);
	verify_ctx_free(ctx);
}

static void
test_signed_attributes(void **state)
{
	struct verify_ctx *ctx = ctx_trusting(true);
	struct verify_report *r;
	const unsigned f = CMS_BINARY | CMS_DETACHED | CMS_PARTIAL | CMS_CADES;
	ASN1_OBJECT *other = OBJ_txt2obj("1.2.3.4.5", 1);
	unsigned char md[32];
	char changed[sizeof(doc)];
	CMS_ContentInfo *cms;
	BIO *in;
	uint8_t *sig;
	size_t len;
	int ret;

	(void)state;
	memcpy(changed, doc, sizeof(doc));
	changed[0] ^= 1;
	/* content-type naming something other than the content. */
	sig = cades_attr_changed(NID_pkcs9_contentType, V_ASN1_OBJECT,
	                         OBJ_nid2obj(NID_id_smime_ct_TSTInfo), -1, false, &len);
	expect(ctx, sig, len, doc, strlen(doc), VERIFY_TOTAL_FAILED, VERIFY_SUB_FORMAT_FAILURE);
	OPENSSL_free(sig);
	/* No content-type, no message-digest: nothing ties the signed attributes to a content. */
	sig = cades_attr_changed(NID_pkcs9_contentType, 0, NULL, 0, false, &len);
	expect(ctx, sig, len, doc, strlen(doc), VERIFY_TOTAL_FAILED, VERIFY_SUB_FORMAT_FAILURE);
	OPENSSL_free(sig);
	sig = cades_attr_changed(NID_pkcs9_messageDigest, 0, NULL, 0, false, &len);
	expect(ctx, sig, len, doc, strlen(doc), VERIFY_TOTAL_FAILED, VERIFY_SUB_FORMAT_FAILURE);
	expect(ctx, sig, len, changed, strlen(changed), VERIFY_TOTAL_FAILED, VERIFY_SUB_FORMAT_FAILURE);
	OPENSSL_free(sig);
	/* Two message-digests (the second of another document): neither counts. */
	SHA256((const unsigned char *)changed, strlen(changed), md);
	sig = cades_attr_changed(NID_pkcs9_messageDigest, V_ASN1_OCTET_STRING, md, sizeof(md), true,
	                         &len);
	expect(ctx, sig, len, doc, strlen(doc), VERIFY_TOTAL_FAILED, VERIFY_SUB_FORMAT_FAILURE);
	expect(ctx, sig, len, changed, strlen(changed), VERIFY_TOTAL_FAILED, VERIFY_SUB_FORMAT_FAILURE);
	OPENSSL_free(sig);
	/* The message-digest replaced by the other document's, signed: over that one only. */
	sig = cades_attr_changed(NID_pkcs9_messageDigest, V_ASN1_OCTET_STRING, md, sizeof(md), false,
	                         &len);
	expect(ctx, sig, len, changed, strlen(changed), VERIFY_TOTAL_PASSED, VERIFY_SUB_NONE);
	expect(ctx, sig, len, doc, strlen(doc), VERIFY_TOTAL_FAILED, VERIFY_SUB_HASH_FAILURE);
	OPENSSL_free(sig);
	/* A content that is not declared as data (content-type follows it): a warning. */
	in = BIO_new_mem_buf(doc, (int)strlen(doc));
	assert_non_null(cms = CMS_sign(NULL, NULL, NULL, NULL, f));
	assert_int_equal(CMS_set1_eContentType(cms, other), 1);
	assert_non_null(CMS_add1_signer(cms, pki.signer, pki.signer_key, EVP_sha256(), f));
	assert_int_equal(CMS_final(cms, in, NULL, f), 1);
	BIO_free(in);
	sig = cms_der(cms, &len);
	r = run(ctx, sig, len, doc, strlen(doc), &ret);
	assert_int_equal(verify_report_indication(r, 0), VERIFY_TOTAL_PASSED);
	assert_true(report_warns(r, 0, "1.2.3.4.5"));
	verify_report_free(r);
	OPENSSL_free(sig);
	ASN1_OBJECT_free(other);
	verify_ctx_free(ctx);
}

static void
test_garbage_and_truncation(void **state)
{
	struct verify_ctx *ctx = ctx_trusting(true);
	struct verify_report *r;
	uint8_t *sig, junk[512];
	char *pdf;
	size_t len, plen, i;
	int ret;

	(void)state;
	sig = cades_t(pki.signer, pki.signer_key, false, &len);
	/* Every prefix: an error or a report, never a crash or a leak (ASan). */
	for (i = 1; i < len; i++) {
		r = run(ctx, sig, i, doc, strlen(doc), &ret);
		assert_true(ret == INK_ERR_INVALID || (ret == 0 && !verify_report_all_passed(r)));
		verify_report_free(r);
	}
	/* Flipped bytes all over the signature. */
	for (i = 0; i < len; i += 7) {
		sig[i] ^= 0xa5;
		r = run(ctx, sig, len, doc, strlen(doc), &ret);
		assert_true(ret == INK_ERR_INVALID || ret == 0);
		verify_report_free(r);
		sig[i] ^= 0xa5;
	}
	OPENSSL_free(sig);
	pdf = pdf_make(&plen);
	for (i = 1; i < plen; i += 97) {
		r = run(ctx, (uint8_t *)pdf, i, NULL, 0, &ret);
		assert_true(ret != 0 || !verify_report_all_passed(r));
		verify_report_free(r);
	}
	free(pdf);
	for (i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)(i * 37 + 11);
	r = run(ctx, junk, sizeof(junk), NULL, 0, &ret);
	assert_int_equal(ret, INK_ERR_INVALID);
	r = run(ctx, (const uint8_t *)"MIIB", 4, NULL, 0, &ret);
	assert_int_equal(ret, INK_ERR_INVALID);
	r = run(ctx, (const uint8_t *)"-----BEGIN CMS-----\nMIIB\n-----END CMS-----\n", 42, NULL, 0, &ret);
	assert_int_equal(ret, INK_ERR_INVALID);
	(void)r;
	verify_ctx_free(ctx);
}

static void
test_ctx_errors(void **state)
{
	struct verify_ctx *ctx = NULL;

	(void)state;
	assert_int_equal(verify_ctx_new(&ctx), 0);
	assert_int_equal(verify_ctx_load_trust(ctx, "/nonexistent/roots.pem"), INK_ERR_NOT_FOUND);
	assert_int_equal(verify_ctx_add_trust_pem(ctx, "junk", 4), INK_ERR_INVALID);
	assert_int_equal(verify_ctx_add_crl(ctx, (const uint8_t *)"\x30\x03\x02\x01", 4), INK_ERR_INVALID);
	assert_int_equal(verify_ctx_trust_count(ctx), 0);
	verify_ctx_free(ctx);
	assert_string_equal(verify_sub_str(VERIFY_SUB_OUT_OF_BOUNDS_NO_POE), "OUT_OF_BOUNDS_NO_POE");
	assert_string_equal(verify_indication_str(VERIFY_TOTAL_FAILED), "TOTAL-FAILED");
}

/* The revocation object of signature 0's leaf, run through ctx (the report freed after). */
static void
expect_rev(struct verify_ctx *ctx, const uint8_t *sig, size_t len, const char *status,
           const char *source, const char *other)
{
	struct verify_report *r;
	json_t *j, *rev;
	int ret;

	r = run(ctx, sig, len, doc, strlen(doc), &ret);
	assert_int_equal(ret, 0);
	j = verify_report_json(r);
	rev = json_object_get(json_array_get(json_object_get(json_array_get(json_object_get(j,
	      "signatures"), 0), "chain"), 0), "revocation");
	assert_string_equal(json_string_value(json_object_get(rev, "status")), status);
	assert_string_equal(json_string_value(json_object_get(rev, "source")), source);
	if (other == NULL)
		assert_null(json_object_get(rev, "not_deciding"));
	else
		assert_string_equal(json_string_value(json_object_get(json_object_get(rev,
		                    "not_deciding"), "source")), other);
	json_decref(j);
	verify_report_free(r);
}

/* The service's own CA: its current CRL alone says "good"; the submitter's data cannot. */
static void
test_service_ca(void **state)
{
	struct verify_ctx *ctx;
	uint8_t *sig, *old, *cur;
	size_t len, olen, clen;

	(void)state;
	sig = cms_sign(pki.signer, pki.signer_key, doc, strlen(doc), CMS_DETACHED, &len);
	old = mkcrl_entry(NULL, 0, -1, 0, -7200, &olen);          /* all good, two hours ago */

	/* Ours, and no current CRL at hand: a "good" CRL the submitter brings decides nothing. */
	ctx = ctx_trusting(false);
	assert_int_equal(verify_ctx_add_service_ca(ctx, pki.root_pem, strlen(pki.root_pem)), 0);
	assert_int_equal(verify_ctx_add_crl(ctx, old, olen), 0);
	expect(ctx, sig, len, doc, strlen(doc), VERIFY_INDETERMINATE, VERIFY_SUB_TRY_LATER);
	expect_rev(ctx, sig, len, "unknown", "none", "CRL supplied by the caller");

	/* The current CRL says revoked (keyCompromise, after the signing time): that stands. */
	cur = mkcrl_entry(pki.signer, 60, 1, 0, 90, &clen);
	assert_int_equal(verify_ctx_add_service_crl(ctx, cur, clen), 0);
	expect(ctx, sig, len, doc, strlen(doc), VERIFY_INDETERMINATE, VERIFY_SUB_REVOKED_NO_POE);
	expect_rev(ctx, sig, len, "revoked", "service current CRL", "CRL supplied by the caller");
	verify_ctx_free(ctx);
	OPENSSL_free(cur);

	/* The current CRL says good, and decides. */
	ctx = ctx_trusting(false);
	assert_int_equal(verify_ctx_add_service_ca(ctx, pki.root_pem, strlen(pki.root_pem)), 0);
	cur = mkcrl_entry(NULL, 0, -1, 0, -60, &clen);
	assert_int_equal(verify_ctx_add_service_crl(ctx, cur, clen), 0);
	expect(ctx, sig, len, doc, strlen(doc), VERIFY_TOTAL_PASSED, VERIFY_SUB_NONE);
	expect_rev(ctx, sig, len, "good", "service current CRL", NULL);
	OPENSSL_free(cur);
	/* An authentic older "revoked" is not outvoted by the current "good" (no unrevoking). */
	cur = mkcrl_entry(pki.signer, -3600, 0, 0, -7000, &clen);
	assert_int_equal(verify_ctx_add_crl(ctx, cur, clen), 0);
	expect(ctx, sig, len, doc, strlen(doc), VERIFY_TOTAL_FAILED, VERIFY_SUB_REVOKED);
	expect_rev(ctx, sig, len, "revoked", "CRL supplied by the caller", "service current CRL");
	verify_ctx_free(ctx);
	OPENSSL_free(cur);

	/* Not ours: the old rules (the newest CRL of the issuer). */
	ctx = ctx_trusting(false);
	assert_int_equal(verify_ctx_add_crl(ctx, old, olen), 0);
	expect(ctx, sig, len, doc, strlen(doc), VERIFY_TOTAL_PASSED, VERIFY_SUB_NONE);
	expect_rev(ctx, sig, len, "good", "CRL supplied by the caller", NULL);
	verify_ctx_free(ctx);
	assert_int_equal(verify_ctx_new(&ctx), 0);
	assert_int_equal(verify_ctx_add_service_ca(ctx, "junk", 4), INK_ERR_INVALID);
	assert_int_equal(verify_ctx_add_service_crl(ctx, (const uint8_t *)"junk", 4), INK_ERR_INVALID);
	verify_ctx_free(ctx);
	OPENSSL_free(old);
	OPENSSL_free(sig);
}

/* der (a CRL of the root, freed) re-signed with an extension added (ext_nid: NID_delta_crl or
 * NID_issuing_distribution_point; NID_undef none) and, when next_update is not 0, another
 * nextUpdate (seconds from now). */
static uint8_t *
crl_tweak(uint8_t *der, size_t len, int ext_nid, long next_update, size_t *outlen)
{
	const unsigned char *p = der;
	X509_CRL *crl = d2i_X509_CRL(NULL, &p, (long)len);
	ASN1_INTEGER *num = ASN1_INTEGER_new();
	ISSUING_DIST_POINT *idp = ISSUING_DIST_POINT_new();
	ASN1_TIME *t = ASN1_TIME_new();
	unsigned char *out = NULL;
	int n;

	assert_non_null(crl);
	ASN1_INTEGER_set(num, 1);
	idp->onlyCA = 0xff;
	if (ext_nid == NID_delta_crl)
		assert_int_equal(X509_CRL_add1_ext_i2d(crl, NID_delta_crl, num, 1, 0), 1);
	else if (ext_nid == NID_issuing_distribution_point)
		assert_int_equal(X509_CRL_add1_ext_i2d(crl, NID_issuing_distribution_point, idp, 1, 0), 1);
	if (next_update != 0) {
		X509_gmtime_adj(t, next_update);
		X509_CRL_set1_nextUpdate(crl, t);
	}
	assert_true(X509_CRL_sign(crl, pki.root_key, EVP_sha256()) > 0);
	n = i2d_X509_CRL(crl, &out);
	assert_true(n > 0);
	*outlen = (size_t)n;
	ASN1_TIME_free(t);
	ISSUING_DIST_POINT_free(idp);
	ASN1_INTEGER_free(num);
	X509_CRL_free(crl);
	OPENSSL_free(der);
	return out;
}

/* Which CRLs speak (review findings): every authentic complete CRL is weighed, and revoked in
 * any of them wins over a newer good one; delta CRLs and CRLs scoped by an
 * issuingDistributionPoint say nothing; the service's CRL past its nextUpdate cannot say good. */
static void
test_crl_rules(void **state)
{
	struct verify_ctx *ctx;
	uint8_t *sig, *crl;
	size_t len, clen;

	(void)state;
	sig = cms_sign(pki.signer, pki.signer_key, doc, strlen(doc), CMS_DETACHED, &len);
	/* An older CRL revoking, a newer one (complete) not listing it: revoked. */
	ctx = ctx_trusting(false);
	crl = mkcrl_entry(pki.signer, -7200, -1, 0, -7000, &clen);
	assert_int_equal(verify_ctx_add_crl(ctx, crl, clen), 0);
	OPENSSL_free(crl);
	crl = mkcrl_entry(NULL, 0, -1, 0, -60, &clen);
	assert_int_equal(verify_ctx_add_crl(ctx, crl, clen), 0);
	OPENSSL_free(crl);
	expect(ctx, sig, len, doc, strlen(doc), VERIFY_TOTAL_FAILED, VERIFY_SUB_REVOKED);
	verify_ctx_free(ctx);
	/* A delta CRL, or one scoped to CA certificates, alone: no revocation information. */
	ctx = ctx_trusting(false);
	crl = mkcrl_entry(NULL, 0, -1, 0, -60, &clen);
	crl = crl_tweak(crl, clen, NID_delta_crl, 0, &clen);
	assert_int_equal(verify_ctx_add_crl(ctx, crl, clen), 0);
	OPENSSL_free(crl);
	crl = mkcrl_entry(NULL, 0, -1, 0, -60, &clen);
	crl = crl_tweak(crl, clen, NID_issuing_distribution_point, 0, &clen);
	assert_int_equal(verify_ctx_add_crl(ctx, crl, clen), 0);
	OPENSSL_free(crl);
	expect(ctx, sig, len, doc, strlen(doc), VERIFY_INDETERMINATE, VERIFY_SUB_TRY_LATER);
	verify_ctx_free(ctx);
	/* The service's own CRL, "good" but past its nextUpdate (replayed): not current. */
	ctx = ctx_trusting(false);
	assert_int_equal(verify_ctx_add_service_ca(ctx, pki.root_pem, strlen(pki.root_pem)), 0);
	crl = mkcrl_entry(NULL, 0, -1, 0, -10 * 86400, &clen);
	crl = crl_tweak(crl, clen, NID_undef, -3 * 86400, &clen);
	assert_int_equal(verify_ctx_add_service_crl(ctx, crl, clen), 0);
	OPENSSL_free(crl);
	expect(ctx, sig, len, doc, strlen(doc), VERIFY_INDETERMINATE, VERIFY_SUB_TRY_LATER);
	verify_ctx_free(ctx);
	OPENSSL_free(sig);
}

/* Revoked after a time-stamp: passes (EN 319 102-1 past signature validation) unless the
 * reason is a compromise of unknown date; an invalidityDate moves the revocation earlier. */
static void
test_revocation_reasons(void **state)
{
	static const struct {
		int reason;
		long invalid_at;
		enum verify_indication ind;
		enum verify_sub sub;
	} cases[] = {
		{ -1, 0, VERIFY_TOTAL_PASSED, VERIFY_SUB_NONE },
		{ 4, 0, VERIFY_TOTAL_PASSED, VERIFY_SUB_NONE },               /* superseded */
		{ 1, 0, VERIFY_INDETERMINATE, VERIFY_SUB_REVOKED_NO_POE },    /* keyCompromise */
		{ 2, 0, VERIFY_INDETERMINATE, VERIFY_SUB_REVOKED_NO_POE },    /* cACompromise */
		{ 1, YEAR / 4, VERIFY_TOTAL_PASSED, VERIFY_SUB_NONE },        /* compromised after */
		{ 1, -3600, VERIFY_TOTAL_FAILED, VERIFY_SUB_REVOKED },        /* ... before the POE */
		{ 4, -3600, VERIFY_TOTAL_FAILED, VERIFY_SUB_REVOKED },
	};
	struct verify_ctx *ctx;
	uint8_t *sig, *crl;
	size_t len, clen, i;

	(void)state;
	sig = cades_t(pki.signer, pki.signer_key, false, &len);
	for (i = 0; i < INK_ARRAY_LEN(cases); i++) {
		ctx = ctx_trusting(false);
		crl = mkcrl_entry(pki.signer, YEAR / 2, cases[i].reason, cases[i].invalid_at, YEAR, &clen);
		assert_int_equal(verify_ctx_add_crl(ctx, crl, clen), 0);
		verify_ctx_set_time(ctx, (int64_t)time(NULL) + YEAR + 60);
		expect(ctx, sig, len, doc, strlen(doc), cases[i].ind, cases[i].sub);
		OPENSSL_free(crl);
		verify_ctx_free(ctx);
	}
	OPENSSL_free(sig);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cades_basic),
		cmocka_unit_test(test_digest_input),
		cmocka_unit_test(test_constraints),
		cmocka_unit_test(test_ocsp_freshness),
		cmocka_unit_test(test_timestamps),
		cmocka_unit_test(test_embedded_ocsp),
		cmocka_unit_test(test_pades),
		cmocka_unit_test(test_pades_dss),
		cmocka_unit_test(test_attached_and_document),
		cmocka_unit_test(test_timestamp_binding),
		cmocka_unit_test(test_signer_certificate),
		cmocka_unit_test(test_several_signers),
		cmocka_unit_test(test_signed_attributes),
		cmocka_unit_test(test_garbage_and_truncation),
		cmocka_unit_test(test_ctx_errors),
		cmocka_unit_test(test_service_ca),
		cmocka_unit_test(test_crl_rules),
		cmocka_unit_test(test_revocation_reasons),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
