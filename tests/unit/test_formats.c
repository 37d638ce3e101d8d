/* test_formats: CMS/CAdES assembly for an external signer (checked with OpenSSL's CMS_verify),
 * the RFC 3161 client and TSA halves against each other, the PAdES update (read back with
 * qpdf), the streaming digest, and the refusals of each. */
#include <setjmp.h>
#include <ctype.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/evp.h>
#include <openssl/ocsp.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>
#include <openssl/ts.h>
#include <openssl/x509.h>
#include <qpdf/qpdf-c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ca/ca.h"
#include "formats/formats.h"

struct pki {
	EVP_PKEY *root_key, *tsa_key, *ec_key, *rsa_key;
	X509 *root, *tsa, *ec_cert, *rsa_cert;
	char dir[64];
};

static int
pki_setup(void **state)
{
	struct pki *p = calloc(1, sizeof(*p));
	struct ca_subject s = { .common_name = "Test Root", .organization = "t", .country = "JP" };
	char serial[33];

	if (p == NULL || ca_make_root(&s, 30, &p->root_key, &p->root) != 0)
		return -1;
	s.common_name = "Test TSA";
	if (ca_make_tsa(p->root_key, p->root, &s, 30, NULL, &p->tsa_key, &p->tsa) != 0)
		return -1;
	s.common_name = "Signer EC";
	if ((p->ec_key = EVP_EC_gen("P-256")) == NULL ||
	    ca_issue_signer(p->root_key, p->root, p->ec_key, &s, 4, NULL, NULL, 30, &p->ec_cert, serial) != 0)
		return -1;
	s.common_name = "Signer RSA";
	if ((p->rsa_key = EVP_RSA_gen(3072)) == NULL ||
	    ca_issue_signer(p->root_key, p->root, p->rsa_key, &s, 4, NULL, NULL, 30, &p->rsa_cert, serial) != 0)
		return -1;
	snprintf(p->dir, sizeof(p->dir), "/tmp/inkan-test-formats.XXXXXX");
	if (mkdtemp(p->dir) == NULL)
		return -1;
	*state = p;
	return 0;
}

static int
pki_teardown(void **state)
{
	struct pki *p = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", p->dir);
	if (system(cmd) != 0)
		return -1;
	EVP_PKEY_free(p->root_key);
	EVP_PKEY_free(p->tsa_key);
	EVP_PKEY_free(p->ec_key);
	EVP_PKEY_free(p->rsa_key);
	X509_free(p->root);
	X509_free(p->tsa);
	X509_free(p->ec_cert);
	X509_free(p->rsa_cert);
	free(p);
	return 0;
}

/* What a CSC service would do: sign the prehashed digest. */
static size_t
sign_digest(EVP_PKEY *key, bool pss, const uint8_t md[32], uint8_t *sig, size_t cap)
{
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(key, NULL);
	size_t n = cap;

	assert_non_null(c);
	assert_int_equal(EVP_PKEY_sign_init(c), 1);
	assert_int_equal(EVP_PKEY_CTX_set_signature_md(c, EVP_sha256()), 1);
	if (pss) {
		assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_PSS_PADDING), 1);
		assert_int_equal(EVP_PKEY_CTX_set_rsa_pss_saltlen(c, 32), 1);
	}
	assert_int_equal(EVP_PKEY_sign(c, sig, &n, md, 32), 1);
	EVP_PKEY_CTX_free(c);
	return n;
}

static uint8_t *
cert_der(X509 *x, size_t *len)
{
	uint8_t *d = NULL;
	int n = i2d_X509(x, &d);

	assert_true(n > 0);
	*len = (size_t)n;
	return d;
}

/* OpenSSL's own CMS_verify over the detached content, with root as the trust anchor. */
static int
openssl_verify(X509 *root, const uint8_t *der, size_t len, const char *content)
{
	X509_STORE *st = X509_STORE_new();
	BIO *in = BIO_new_mem_buf(der, (int)len), *data = BIO_new_mem_buf(content, (int)strlen(content));
	CMS_ContentInfo *cms = d2i_CMS_bio(in, NULL);
	int ok;

	assert_non_null(cms);
	X509_STORE_add_cert(st, root);
	X509_STORE_set_purpose(st, X509_PURPOSE_ANY);
	ok = CMS_verify(cms, NULL, st, data, NULL, CMS_BINARY) == 1;
	CMS_ContentInfo_free(cms);
	BIO_free(in);
	BIO_free(data);
	X509_STORE_free(st);
	return ok;
}

static void
cades_for(struct pki *p, EVP_PKEY *key, X509 *cert, bool pss)
{
	const char *doc = "a contract\n";
	uint8_t md[32], tbs[32], sig[1024], *cd = NULL, *der = NULL;
	size_t cl = 0, len = 0, sl;
	unsigned mdl = 0;
	struct formats_cms *c = NULL;
	const uint8_t *params;
	size_t plen;

	assert_int_equal(EVP_Digest(doc, strlen(doc), md, &mdl, EVP_sha256(), NULL), 1);
	cd = cert_der(cert, &cl);
	struct formats_cms_params prm = {
		.cert = cd, .cert_len = cl, .content_digest = md, .signing_time = true,
		.when = 1790000000, .pss = pss,
	};
	assert_int_equal(formats_cms_prepare(&prm, &c), 0);
	/* No signature yet: nothing to write. */
	assert_int_equal(formats_cms_der(c, &der, &len), INK_ERR_INVALID);
	formats_cms_tbs_digest(c, tbs);
	formats_cms_sign_algo(c, &params, &plen);
	assert_true(pss ? params != NULL : params == NULL);
	/* A signature over something else is refused before it is embedded. */
	sl = sign_digest(key, pss, md, sig, sizeof(sig));
	assert_int_equal(formats_cms_set_signature(c, sig, sl), INK_ERR_CRYPTO);
	sl = sign_digest(key, pss, tbs, sig, sizeof(sig));
	assert_int_equal(formats_cms_set_signature(c, sig, sl), 0);
	assert_int_equal(formats_cms_der(c, &der, &len), 0);
	assert_true(openssl_verify(p->root, der, len, doc));
	assert_false(openssl_verify(p->root, der, len, "a contract!\n"));
	{
		/* Attached: the content streamed in must be the content signed. */
		FILE *in = tmpfile(), *out = tmpfile();

		assert_non_null(in);
		assert_non_null(out);
		fputs(doc, in);
		rewind(in);
		assert_int_equal(formats_cms_write(c, out, in, strlen(doc)), 0);
		rewind(in);
		fputs("A", in);
		rewind(in);
		assert_int_equal(formats_cms_write(c, out, in, strlen(doc)), INK_ERR_INVALID);
		fclose(in);
		fclose(out);
	}
	free(der);
	free(cd);
	formats_cms_free(c);
}

/* Signs the hash of SignedInfo as the SAM would: the raw digest with the key. */
static uint8_t *
sign_tbs(EVP_PKEY *key, const uint8_t *md, size_t mdlen, size_t *siglen)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(key, NULL);
	uint8_t *sig = NULL;

	assert_non_null(ctx);
	assert_int_equal(EVP_PKEY_sign_init(ctx), 1);
	assert_int_equal(EVP_PKEY_CTX_set_signature_md(ctx, mdlen == 64 ? EVP_sha512() : mdlen == 48 ?
	                                               EVP_sha384() : EVP_sha256()), 1);
	assert_int_equal(EVP_PKEY_sign(ctx, NULL, siglen, md, mdlen), 1);
	assert_non_null(sig = malloc(*siglen));
	assert_int_equal(EVP_PKEY_sign(ctx, sig, siglen, md, mdlen), 1);
	EVP_PKEY_CTX_free(ctx);
	return sig;
}

static void
xades_for(EVP_PKEY *key, X509 *cert, const char *want_oid)
{
	static const char doc[] = "<?xml version=\"1.0\"?>\n<a:Doc xmlns:a=\"urn:t\"><!-- c --><a:x>1</a:x></a:Doc>\n";
	struct formats_xades *x = NULL;
	uint8_t *cd, md[64], *sig, ts[FORMATS_SHA256_LEN], bad[8] = { 0 };
	size_t cl = 0, mdlen = 0, siglen = 0, outlen = 0;
	const char *hash_oid, *sign_oid;
	char why[256], *out = NULL;
	FILE *f;

	cd = cert_der(cert, &cl);
	struct formats_xades_params prm = {
		.cert = cd, .cert_len = cl, .place = FORMATS_XADES_ENVELOPED,
		.doc = (const uint8_t *)doc, .doc_len = strlen(doc), .mime = "text/xml", .when = 1800000000,
	};
	assert_int_equal(formats_xades_prepare(&prm, &x, why, sizeof(why)), 0);
	formats_xades_tbs(x, md, &mdlen, &hash_oid, &sign_oid);
	assert_int_equal(mdlen, 32);
	assert_string_equal(hash_oid, FORMATS_OID_SHA256);
	assert_string_equal(sign_oid, want_oid);
	/* A value that does not verify is refused; the real one is taken. */
	assert_int_equal(formats_xades_set_signature(x, bad, sizeof(bad)), INK_ERR_CRYPTO);
	sig = sign_tbs(key, md, mdlen, &siglen);
	assert_int_equal(formats_xades_set_signature(x, sig, siglen), 0);
	assert_int_equal(formats_xades_signature_digest(x, ts), 0);
	assert_non_null(f = open_memstream(&out, &outlen));
	assert_int_equal(formats_xades_write(x, f), 0);
	fclose(f);
	assert_non_null(strstr(out, "<a:x>1</a:x><ds:Signature"));
	assert_non_null(strstr(out, "SigningCertificateV2"));
	free(out);
	free(sig);
	formats_xades_free(x);
	x = NULL;
	/* A document with a DOCTYPE is not signed. */
	prm.doc = (const uint8_t *)"<!DOCTYPE a [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><a>&e;</a>";
	prm.doc_len = strlen((const char *)prm.doc);
	assert_int_equal(formats_xades_prepare(&prm, &x, why, sizeof(why)), INK_ERR_INVALID);
	assert_null(x);
	assert_non_null(strstr(why, "DOCTYPE"));
	free(cd);
}

static void
test_xades(void **state)
{
	struct pki *p = *state;
	struct formats_c14n alg;
	struct _xmlDoc *doc = NULL;
	const char *oid = NULL;
	char why[256];

	xades_for(p->ec_key, p->ec_cert, "1.2.840.10045.4.3.2");
	xades_for(p->rsa_key, p->rsa_cert, "1.2.840.113549.1.1.11");
	assert_int_equal(formats_xml_parse((const uint8_t *)"<a><b></a>", 10, &doc, why, sizeof(why)),
	                 INK_ERR_INVALID);
	assert_null(doc);
	assert_int_equal(formats_xml_parse((const uint8_t *)"", 0, &doc, why, sizeof(why)), INK_ERR_INVALID);
	assert_int_equal(formats_c14n_by_uri("http://www.w3.org/TR/1999/REC-xslt-19991116", &alg),
	                 INK_ERR_UNSUPPORTED);
	assert_int_equal(formats_c14n_by_uri("http://www.w3.org/2006/12/xml-c14n11#WithComments", &alg), 0);
	assert_true(alg.comments);
	assert_null(formats_xml_sigalg_by_uri("http://www.w3.org/2000/09/xmldsig#rsa-sha1"));
	assert_null(formats_xml_digest_by_uri("http://www.w3.org/2000/09/xmldsig#sha1", &oid));
}

/* A XAdES B-B of doc by cert (enveloped, or detached over doc), serialized (malloc'd). */
static char *
xades_text(EVP_PKEY *key, const uint8_t *cd, size_t cl, enum formats_xades_place place,
           const char *doc)
{
	struct formats_xades *x = NULL;
	uint8_t md[64], *sig, fmd[FORMATS_SHA256_LEN];
	size_t mdlen = 0, siglen = 0, outlen = 0;
	unsigned int n = 0;
	const char *hash_oid, *sign_oid;
	char why[256], *out = NULL;
	FILE *f;

	assert_int_equal(EVP_Digest(doc, strlen(doc), fmd, &n, EVP_sha256(), NULL), 1);
	struct formats_xades_params prm = {
		.cert = cd, .cert_len = cl, .place = place, .doc = (const uint8_t *)doc,
		.doc_len = strlen(doc), .doc_uri = "doc.xml", .doc_digest = fmd, .mime = "text/xml",
		.when = 1800000000,
	};
	assert_int_equal(formats_xades_prepare(&prm, &x, why, sizeof(why)), 0);
	formats_xades_tbs(x, md, &mdlen, &hash_oid, &sign_oid);
	sig = sign_tbs(key, md, mdlen, &siglen);
	assert_int_equal(formats_xades_set_signature(x, sig, siglen), 0);
	assert_non_null(f = open_memstream(&out, &outlen));
	assert_int_equal(formats_xades_write(x, f), 0);
	fclose(f);
	free(sig);
	formats_xades_free(x);
	return out;
}

/* B-LT and B-LTA on a signed document: what is there is read, what is added is found again,
 * and the archive time-stamp's input refuses what it cannot process. */
static void
test_xades_ltv(void **state)
{
	static const char doc[] = "<?xml version=\"1.0\"?>\n<a:Doc xmlns:a=\"urn:t\"><a:x>1</a:x></a:Doc>\n";
	struct pki *p = *state;
	struct formats_xades *x = NULL;
	struct formats_xades_info info;
	struct formats_der_list certs = { 0 }, crls = { 0 }, ocsps = { 0 };
	uint8_t *cd, md1[FORMATS_SHA256_LEN], md2[FORMATS_SHA256_LEN], tok[] = { 0x30, 0x00 };
	size_t cl = 0;
	char why[256], *text, *two, *bad, *at;
	struct formats_blob crl = { tok, sizeof(tok) };

	cd = cert_der(p->ec_cert, &cl);
	text = xades_text(p->ec_key, cd, cl, FORMATS_XADES_ENVELOPED, doc);
	assert_int_equal(formats_xades_open((const uint8_t *)text, strlen(text), &x, why, sizeof(why)), 0);
	formats_xades_info(x, &info);
	assert_true(info.sig_timestamps == 0 && info.archives == 0 && !info.cert_values &&
	            !info.rev_values && !info.detached);
	assert_int_equal(formats_xades_certs(x, FORMATS_XADES_CERTS_CARRIED, &certs), 0);
	assert_int_equal(certs.n, 1);
	/* CertificateValues once; the time-stamps' data as TimeStampValidationData */
	assert_int_equal(formats_xades_add_vdata(x, false, certs.v, certs.n, NULL, 0, NULL, 0), 0);
	assert_int_equal(formats_xades_add_vdata(x, false, certs.v, certs.n, NULL, 0, NULL, 0),
	                 INK_ERR_EXISTS);
	assert_int_equal(formats_xades_add_vdata(x, true, certs.v, certs.n, &crl, 1, NULL, 0), 0);
	formats_xades_info(x, &info);
	assert_true(info.cert_values && !info.rev_values);
	formats_der_list_free(&certs);
	assert_int_equal(formats_xades_certs(x, FORMATS_XADES_CERTS_CARRIED, &certs), 0);
	assert_int_equal(certs.n, 1);
	assert_int_equal(formats_xades_revocation(x, &crls, &ocsps), 0);
	assert_true(crls.n == 1 && ocsps.n == 0);
	/* the archive input covers what came before: another property changes it */
	assert_int_equal(formats_xades_archive_digest(x, NULL, 0, md1, why, sizeof(why)), 0);
	assert_int_equal(formats_xades_add_archive(x, tok, sizeof(tok)), 0);
	assert_int_equal(formats_xades_archive_digest(x, NULL, 0, md2, why, sizeof(why)), 0);
	assert_memory_not_equal(md1, md2, sizeof(md1));
	formats_xades_info(x, &info);
	assert_int_equal(info.archives, 1);
	formats_xades_free(x);
	x = NULL;
	/* a transform the input cannot follow */
	assert_non_null(bad = strdup(text));
	assert_non_null(at = strstr(bad, "http://www.w3.org/2000/09/xmldsig#enveloped-signature"));
	memcpy(at, "http://www.w3.org/TR/1999/REC-xslt-19991116", 43);
	memmove(at + 43, at + 53, strlen(at + 53) + 1);
	assert_int_equal(formats_xades_open((const uint8_t *)bad, strlen(bad), &x, why, sizeof(why)), 0);
	assert_int_equal(formats_xades_archive_digest(x, NULL, 0, md1, why, sizeof(why)),
	                 INK_ERR_UNSUPPORTED);
	assert_non_null(strstr(why, "transform"));
	formats_xades_free(x);
	x = NULL;
	free(bad);
	/* no signature, two signatures: which one is not clear */
	assert_int_equal(formats_xades_open((const uint8_t *)doc, strlen(doc), &x, why, sizeof(why)),
	                 INK_ERR_INVALID);
	assert_null(x);
	assert_non_null(strstr(why, "no XAdES signature"));
	assert_non_null(at = strstr(text, "<ds:Signature"));
	assert_true(asprintf(&two, "<w>%.*s%.*s</w>", (int)(strstr(text, "</ds:Signature>") + 15 - at),
	                     at, (int)(strstr(text, "</ds:Signature>") + 15 - at), at) > 0);
	assert_int_equal(formats_xades_open((const uint8_t *)two, strlen(two), &x, why, sizeof(why)),
	                 INK_ERR_INVALID);
	assert_non_null(strstr(why, "more than one"));
	free(two);
	free(text);
	/* detached: the archive input needs the document */
	text = xades_text(p->ec_key, cd, cl, FORMATS_XADES_DETACHED, doc);
	assert_int_equal(formats_xades_open((const uint8_t *)text, strlen(text), &x, why, sizeof(why)), 0);
	formats_xades_info(x, &info);
	assert_true(info.detached);
	assert_int_equal(formats_xades_archive_digest(x, NULL, 0, md1, why, sizeof(why)),
	                 INK_ERR_NOT_FOUND);
	assert_int_equal(formats_xades_archive_digest(x, (const uint8_t *)doc, strlen(doc), md1, why,
	                                              sizeof(why)), 0);
	formats_xades_free(x);
	free(text);
	formats_der_list_free(&certs);
	formats_der_list_free(&crls);
	formats_der_list_free(&ocsps);
	free(cd);
}

static void
test_cades_ecdsa(void **state)
{
	struct pki *p = *state;

	cades_for(p, p->ec_key, p->ec_cert, false);
}

static void
test_cades_rsa(void **state)
{
	struct pki *p = *state;

	cades_for(p, p->rsa_key, p->rsa_cert, false);
	cades_for(p, p->rsa_key, p->rsa_cert, true);
}

static void
test_cades_refusals(void **state)
{
	struct pki *p = *state;
	EVP_PKEY *ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	struct ca_subject s = { .common_name = "Ed", .organization = "t", .country = "JP" };
	uint8_t md[32] = { 0 }, *cd = NULL, junk[10] = { 0x30 };
	size_t cl = 0;
	char serial[33];
	X509 *edc = NULL;
	struct formats_cms *c = NULL;

	assert_non_null(ed);
	assert_int_equal(ca_issue_signer(p->root_key, p->root, ed, &s, 4, NULL, NULL, 30, &edc, serial), 0);
	cd = cert_der(edc, &cl);
	struct formats_cms_params prm = { .cert = cd, .cert_len = cl, .content_digest = md };
	assert_int_equal(formats_cms_prepare(&prm, &c), INK_ERR_UNSUPPORTED);
	assert_null(c);
	prm.cert = junk;
	prm.cert_len = sizeof(junk);
	assert_int_equal(formats_cms_prepare(&prm, &c), INK_ERR_INVALID);
	free(cd);
	X509_free(edc);
	EVP_PKEY_free(ed);
}

static void
test_timestamp(void **state)
{
	struct pki *p = *state;
	uint8_t md[32], other[32], nonce[FORMATS_TS_NONCE_LEN], *req = NULL, *resp = NULL, *tok = NULL;
	size_t rl = 0, sl = 0, tl = 0;
	struct formats_tsa_parsed pr;
	char why[128], serial[65], serial2[65];
	int64_t gen = 0;

	memset(md, 0x11, sizeof(md));
	memset(other, 0x22, sizeof(other));
	assert_int_equal(formats_ts_request(md, nonce, &req, &rl), 0);
	assert_int_equal(formats_tsa_parse(req, rl, "1.2.3.4", &pr, why, sizeof(why)), 0);
	assert_int_equal(pr.req.imprint_len, 32);
	assert_true(pr.req.cert_req);
	assert_int_equal(formats_tsa_respond(p->tsa_key, p->tsa, NULL, "1.2.3.4", &pr.req, &resp, &sl,
	                                     serial, &gen), 0);
	assert_true(strlen(serial) >= 30);
	assert_true(gen > 1700000000);
	assert_int_equal(formats_ts_reply_token(resp, sl, md, nonce, &tok, &tl), 0);
	assert_int_equal(formats_ts_token_check(tok, tl, md, nonce), 0);
	assert_int_equal(formats_ts_token_check(tok, tl, other, NULL), INK_ERR_INVALID);
	nonce[7] ^= 1;
	assert_int_equal(formats_ts_token_check(tok, tl, md, nonce), INK_ERR_INVALID);
	free(tok);
	tok = NULL;
	assert_int_equal(formats_ts_reply_token(resp, sl, md, nonce, &tok, &tl), INK_ERR_INVALID);
	assert_null(tok);
	free(resp);
	resp = NULL;
	/* A second token: another serial. */
	assert_int_equal(formats_tsa_respond(p->tsa_key, p->tsa, NULL, "1.2.3.4", &pr.req, &resp, &sl,
	                                     serial2, &gen), 0);
	assert_string_not_equal(serial, serial2);
	free(resp);
	resp = NULL;
	/* The SAM side refuses fields that do not make sense, whatever inkand sent. */
	pr.req.imprint_len = 20;
	assert_int_equal(formats_tsa_respond(p->tsa_key, p->tsa, NULL, "1.2.3.4", &pr.req, &resp, &sl,
	                                     serial, &gen), INK_ERR_POLICY);
	pr.req.imprint_len = 32;
	pr.req.hash_oid = "1.3.14.3.2.26";
	assert_int_equal(formats_tsa_respond(p->tsa_key, p->tsa, NULL, "1.2.3.4", &pr.req, &resp, &sl,
	                                     serial, &gen), INK_ERR_POLICY);
	assert_null(resp);
	/* inkand's parse: garbage, a foreign policy, SHA-1. */
	assert_int_equal(formats_tsa_parse(req, rl - 1, "1.2.3.4", &pr, why, sizeof(why)), INK_ERR_INVALID);
	assert_int_equal(formats_tsa_parse((const uint8_t *)"junk", 4, "1.2.3.4", &pr, why, sizeof(why)),
	                 INK_ERR_INVALID);
	free(req);
	{
		TS_REQ *r = TS_REQ_new();
		TS_MSG_IMPRINT *mi = TS_MSG_IMPRINT_new();
		X509_ALGOR *a = X509_ALGOR_new();
		ASN1_OBJECT *pol = OBJ_txt2obj("1.9.9.9", 1);
		uint8_t *d = NULL;
		int n;

		X509_ALGOR_set_md(a, EVP_sha1());
		TS_MSG_IMPRINT_set_algo(mi, a);
		TS_MSG_IMPRINT_set_msg(mi, md, 20);
		TS_REQ_set_version(r, 1);
		TS_REQ_set_msg_imprint(r, mi);
		n = i2d_TS_REQ(r, &d);
		assert_int_equal(formats_tsa_parse(d, (size_t)n, "1.2.3.4", &pr, why, sizeof(why)), INK_ERR_POLICY);
		assert_int_equal(pr.fail_bit, FORMATS_TS_FAIL_BAD_ALG);
		{
			/* The rejection OpenSSL reads back: status rejection, badAlg, the text. */
			uint8_t *rj = NULL;
			size_t rjl = 0;
			const uint8_t *pp;
			TS_RESP *tr;

			assert_int_equal(formats_tsa_reject(pr.fail_bit, why, &rj, &rjl), 0);
			pp = rj;
			assert_non_null(tr = d2i_TS_RESP(NULL, &pp, (long)rjl));
			assert_int_equal(ASN1_INTEGER_get(TS_STATUS_INFO_get0_status(TS_RESP_get_status_info(tr))), 2);
			assert_int_equal(ASN1_BIT_STRING_get_bit(TS_STATUS_INFO_get0_failure_info(TS_RESP_get_status_info(tr)), 0), 1);
			assert_null(TS_RESP_get_token(tr));
			TS_RESP_free(tr);
			free(rj);
		}
		OPENSSL_free(d);
		d = NULL;
		X509_ALGOR_set_md(a, EVP_sha256());
		TS_MSG_IMPRINT_set_algo(mi, a);
		TS_MSG_IMPRINT_set_msg(mi, md, 32);
		TS_REQ_set_msg_imprint(r, mi);
		TS_REQ_set_policy_id(r, pol);
		n = i2d_TS_REQ(r, &d);
		assert_int_equal(formats_tsa_parse(d, (size_t)n, "1.2.3.4", &pr, why, sizeof(why)), INK_ERR_POLICY);
		assert_non_null(strstr(why, "policy"));
		assert_int_equal(formats_tsa_parse(d, (size_t)n, "1.9.9.9", &pr, why, sizeof(why)), 0);
		assert_null(pr.req.nonce);
		OPENSSL_free(d);
		d = NULL;
		{
			/* A nonce of 0 is a nonce: echoed as one zero byte, never dropped. */
			ASN1_INTEGER *zero = ASN1_INTEGER_new();

			assert_int_equal(ASN1_INTEGER_set(zero, 0), 1);
			assert_int_equal(TS_REQ_set_nonce(r, zero), 1);
			ASN1_INTEGER_free(zero);
			n = i2d_TS_REQ(r, &d);
			assert_int_equal(formats_tsa_parse(d, (size_t)n, "1.9.9.9", &pr, why, sizeof(why)), 0);
			assert_non_null(pr.req.nonce);
			assert_int_equal(pr.req.nonce_len, 1);
			assert_int_equal(pr.req.nonce[0], 0);
		}
		OPENSSL_free(d);
		ASN1_OBJECT_free(pol);
		X509_ALGOR_free(a);
		TS_MSG_IMPRINT_free(mi);
		TS_REQ_free(r);
	}
}

static void
write_text(const char *path, const char *s)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(s, 1, strlen(s), f), strlen(s));
	assert_int_equal(fclose(f), 0);
}

/* A one-page PDF with a correct classic cross-reference table. */
static void
write_pdf(const char *path)
{
	static const char *objs[] = {
		"1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n",
		"2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Count 1 >>\nendobj\n",
		"3 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>\nendobj\n",
	};
	char buf[2048];
	size_t off[3], n, i;

	n = (size_t)snprintf(buf, sizeof(buf), "%%PDF-1.4\n");
	for (i = 0; i < 3; i++) {
		off[i] = n;
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s", objs[i]);
	}
	snprintf(buf + n, sizeof(buf) - n,
	         "xref\n0 4\n0000000000 65535 f \n%010zu 00000 n \n%010zu 00000 n \n%010zu 00000 n \n"
	         "trailer\n<< /Size 4 /Root 1 0 R >>\nstartxref\n%zu\n%%%%EOF\n", off[0], off[1], off[2], n);
	write_text(path, buf);
}

static void
test_pades(void **state)
{
	struct pki *p = *state;
	char in[128], out[128], out2[128];
	struct formats_pdf *pdf = NULL;
	uint8_t md[32], md2[32], fake[100];
	uint64_t br[4];
	struct stat a, b;
	qpdf_data q;
	FILE *f;
	char *orig, *signed_;

	snprintf(in, sizeof(in), "%s/in.pdf", p->dir);
	snprintf(out, sizeof(out), "%s/out.pdf", p->dir);
	snprintf(out2, sizeof(out2), "%s/out2.pdf", p->dir);
	write_pdf(in);
	assert_true(formats_is_pdf(in));
	assert_int_equal(formats_pdf_prepare(in, out, &(struct formats_pdf_opts){ .contents_max = 4096, .when = 1790000000 }, &pdf), 0);
	/* The output exists now: never overwritten. */
	{
		struct formats_pdf *x = NULL;

		assert_int_equal(formats_pdf_prepare(in, out, &(struct formats_pdf_opts){ .contents_max = 4096, .when = 1790000000 }, &x), INK_ERR_EXISTS);
		assert_null(x);
	}
	assert_int_equal(formats_pdf_digest(pdf, NULL, NULL, md), 0);
	formats_pdf_byte_range(pdf, br);
	assert_int_equal(stat(in, &a), 0);
	assert_int_equal(stat(out, &b), 0);
	assert_true(br[1] > (uint64_t)a.st_size);
	assert_int_equal(br[2] - br[1], 2 * 4096 + 2);
	assert_int_equal(br[2] + br[3], (uint64_t)b.st_size);
	memset(fake, 0xab, sizeof(fake));
	assert_int_equal(formats_pdf_embed(pdf, fake, sizeof(fake)), 0);
	/* The digest covers everything but /Contents: embedding does not change it. */
	assert_int_equal(formats_pdf_digest(pdf, NULL, NULL, md2), 0);
	assert_memory_equal(md, md2, 32);
	{
		uint8_t *big = calloc(1, 5000);

		assert_int_equal(formats_pdf_embed(pdf, big, 5000), INK_ERR_TOO_LARGE);
		free(big);
	}
	formats_pdf_free(pdf);
	pdf = NULL;
	/* The original bytes are the file's prefix. */
	orig = calloc(1, (size_t)a.st_size);
	signed_ = calloc(1, (size_t)a.st_size);
	f = fopen(in, "rb");
	assert_int_equal(fread(orig, 1, (size_t)a.st_size, f), (size_t)a.st_size);
	fclose(f);
	f = fopen(out, "rb");
	assert_int_equal(fread(signed_, 1, (size_t)a.st_size, f), (size_t)a.st_size);
	fclose(f);
	assert_memory_equal(orig, signed_, (size_t)a.st_size);
	free(orig);
	free(signed_);
	/* qpdf reads the update without warnings: one signature field with a /Sig value. */
	q = qpdf_init();
	qpdf_silence_errors(q);
	assert_int_equal(qpdf_read(q, out, NULL), 0);
	{
		qpdf_oh acro = qpdf_oh_get_key(q, qpdf_get_root(q), "/AcroForm");
		qpdf_oh fields = qpdf_oh_get_key(q, acro, "/Fields");
		qpdf_oh v;

		assert_int_equal(qpdf_oh_get_array_n_items(q, fields), 1);
		v = qpdf_oh_get_key(q, qpdf_oh_get_array_item(q, fields, 0), "/V");
		assert_true(qpdf_oh_is_name_and_equals(q, qpdf_oh_get_key(q, v, "/SubFilter"),
		                                       "/ETSI.CAdES.detached"));
		assert_int_equal(qpdf_oh_get_array_n_items(q, qpdf_oh_get_key(q, qpdf_get_page_n(q, 0), "/Annots")), 1);
	}
	qpdf_cleanup(&q);
	/* A second signature on the signed file: two fields. */
	assert_int_equal(formats_pdf_prepare(out, out2, &(struct formats_pdf_opts){ .contents_max = 4096, .when = 1790000001 }, &pdf), 0);
	formats_pdf_free(pdf);
	q = qpdf_init();
	qpdf_silence_errors(q);
	assert_int_equal(qpdf_read(q, out2, NULL), 0);
	assert_int_equal(qpdf_oh_get_array_n_items(q, qpdf_oh_get_key(q, qpdf_oh_get_key(q, qpdf_get_root(q),
	                 "/AcroForm"), "/Fields")), 2);
	qpdf_cleanup(&q);
	/* Not a PDF: refused, no output left behind. */
	write_text(in, "%PDF-1.4\nnothing here\n");
	unlink(out);
	assert_int_equal(formats_pdf_prepare(in, out, &(struct formats_pdf_opts){ .contents_max = 4096, .when = 0 }, &pdf), INK_ERR_INVALID);
	assert_null(pdf);
	assert_int_not_equal(access(out, F_OK), 0);
	write_text(in, "hello");
	assert_false(formats_is_pdf(in));
}

/* Items of the /DSS array key of the PDF at path, and whether its /VRI holds vkey. */
static int
dss_items(const char *path, const char *key, const char *vkey, bool *has_vri)
{
	qpdf_data q = qpdf_init();
	qpdf_oh dss;
	int n;

	qpdf_silence_errors(q);
	assert_int_equal(qpdf_read(q, path, NULL), 0);
	assert_false(qpdf_more_warnings(q));
	dss = qpdf_oh_get_key(q, qpdf_get_root(q), "/DSS");
	assert_true(qpdf_oh_is_dictionary(q, dss));
	n = qpdf_oh_get_array_n_items(q, qpdf_oh_get_key(q, dss, key));
	*has_vri = qpdf_oh_has_key(q, qpdf_oh_get_key(q, dss, "/VRI"), vkey);
	qpdf_cleanup(&q);
	return n;
}

/* in, which qpdf reads without a warning, gets no DSS update: refused, nothing written. */
static void
refused_though_readable(const char *in, const char *out, const struct formats_dss_entry *e)
{
	qpdf_data q = qpdf_init();

	qpdf_silence_errors(q);
	assert_int_equal(qpdf_read(q, in, NULL), 0);
	assert_false(qpdf_more_warnings(q));
	qpdf_cleanup(&q);
	assert_int_equal(formats_pdf_add_dss(in, out, e, 1), INK_ERR_INVALID);
	assert_int_not_equal(access(out, F_OK), 0);
}

static void
test_pades_dss(void **state)
{
	struct pki *p = *state;
	char in[128], ts[128], d1[128], d2[128], vkey[48];
	struct formats_pdf_opts o = { .contents_max = 2048, .doc_timestamp = true };
	struct formats_pdf *pdf = NULL;
	struct formats_pdf_sig *sigs = NULL;
	uint8_t *root = NULL, *ec = NULL, fake_tok[5] = { 0x30, 0x03, 0x02, 0x01, 0x00 };
	uint8_t fake_crl[3] = { 0x30, 0x01, 0x00 }, sha1[20], *zeros;
	struct formats_blob certs[3], crls[1];
	struct formats_dss_entry e;
	size_t n = 0, i;
	int rl, el;
	bool has;

	snprintf(in, sizeof(in), "%s/dss-in.pdf", p->dir);
	snprintf(ts, sizeof(ts), "%s/dss-ts.pdf", p->dir);
	snprintf(d1, sizeof(d1), "%s/dss-1.pdf", p->dir);
	snprintf(d2, sizeof(d2), "%s/dss-2.pdf", p->dir);
	write_pdf(in);
	/* A document time-stamp: /DocTimeStamp, /ETSI.RFC3161, no /M. */
	assert_int_equal(formats_pdf_prepare(in, ts, &o, &pdf), 0);
	assert_int_equal(formats_pdf_embed(pdf, fake_tok, sizeof(fake_tok)), 0);
	formats_pdf_free(pdf);
	assert_int_equal(formats_pdf_signatures(ts, &sigs, &n), 0);
	assert_int_equal(n, 1);
	assert_true(sigs[0].doc_timestamp);
	assert_int_equal(sigs[0].contents_len, 2048);
	/* The VRI key is the SHA-1 of the whole /Contents value, padding included. */
	zeros = calloc(1, 2048);
	memcpy(zeros, fake_tok, sizeof(fake_tok));
	SHA1(zeros, 2048, sha1);
	free(zeros);
	assert_memory_equal(sigs[0].vri_key, sha1, 20);
	/* A DSS: the root given twice is stored once; the VRI entry under the uppercase key. */
	rl = i2d_X509(p->root, &root);
	el = i2d_X509(p->ec_cert, &ec);
	certs[0] = (struct formats_blob){ .data = root, .len = (size_t)rl };
	certs[1] = (struct formats_blob){ .data = ec, .len = (size_t)el };
	certs[2] = certs[0];
	crls[0] = (struct formats_blob){ .data = fake_crl, .len = sizeof(fake_crl) };
	memset(&e, 0, sizeof(e));
	memcpy(e.vri_key, sigs[0].vri_key, 20);
	e.certs = certs;
	e.ncerts = 3;
	e.crls = crls;
	e.ncrls = 1;
	vkey[0] = '/';
	hex_encode(sha1, 20, vkey + 1);
	for (i = 1; vkey[i] != '\0'; i++)
		vkey[i] = (char)toupper((unsigned char)vkey[i]);
	assert_int_equal(formats_pdf_add_dss(ts, d1, &e, 1), 0);
	assert_int_equal(formats_pdf_add_dss(ts, d1, &e, 1), INK_ERR_EXISTS);
	assert_int_equal(dss_items(d1, "/Certs", vkey, &has), 2);
	assert_true(has);
	assert_int_equal(dss_items(d1, "/CRLs", vkey, &has), 1);
	/* Again over it: nothing stored twice, the entry replaced, the earlier bytes kept. */
	assert_int_equal(formats_pdf_add_dss(d1, d2, &e, 1), 0);
	assert_int_equal(dss_items(d2, "/Certs", vkey, &has), 2);
	assert_true(has);
	assert_int_equal(dss_items(d2, "/CRLs", vkey, &has), 1);
	{
		struct stat a;
		char *x = NULL, *y = NULL;
		size_t xl = 0, yl = 0;

		assert_int_equal(stat(d1, &a), 0);
		assert_int_equal(ink_read_file(d1, 1u << 20, &x, &xl), 0);
		assert_int_equal(ink_read_file(d2, 1u << 20, &y, &yl), 0);
		assert_true(yl > xl);
		assert_memory_equal(x, y, xl);
		free(x);
		free(y);
	}
	/* A blob of nothing is refused, and nothing is left behind. */
	unlink(d2);
	crls[0].len = 0;
	assert_int_equal(formats_pdf_add_dss(d1, d2, &e, 1), INK_ERR_INVALID);
	assert_int_not_equal(access(d2, F_OK), 0);
	formats_pdf_signatures_free(sigs, n);
	/* A visible signature: on an existing page only; its widget has an appearance; a document
	 * time-stamp shows nothing. */
	{
		struct formats_pdf_visible v = { .page = 2, .x = 10, .y = 10, .w = 200, .h = 40,
		                                 .lines = { "Signed by Ren\xc3\xa9 (x)", "\xe5\xb1\xb1", NULL } };
		struct formats_pdf_opts vo = { .contents_max = 1024, .visible = &v, .name = "Ren\xc3\xa9",
		                               .reason = "ok" };
		char vp[128];
		qpdf_data q;
		qpdf_oh w;

		snprintf(vp, sizeof(vp), "%s/dss-vis.pdf", p->dir);
		assert_int_equal(formats_pdf_prepare(d1, vp, &vo, &pdf), INK_ERR_INVALID);
		assert_int_not_equal(access(vp, F_OK), 0);
		v.page = 1;
		vo.doc_timestamp = true;
		assert_int_equal(formats_pdf_prepare(d1, vp, &vo, &pdf), INK_ERR_INVALID);
		vo.doc_timestamp = false;
		assert_int_equal(formats_pdf_prepare(d1, vp, &vo, &pdf), 0);
		formats_pdf_free(pdf);
		pdf = NULL;
		q = qpdf_init();
		qpdf_silence_errors(q);
		assert_int_equal(qpdf_read(q, vp, NULL), 0);
		assert_false(qpdf_more_warnings(q));
		w = qpdf_oh_get_array_item(q, qpdf_oh_get_key(q, qpdf_get_page_n(q, 0), "/Annots"), 1);
		assert_true(qpdf_oh_is_stream(q, qpdf_oh_get_key(q, qpdf_oh_get_key(q, w, "/AP"), "/N")));
		assert_int_equal((int)qpdf_oh_get_numeric_value(q, qpdf_oh_get_array_item(q,
		                 qpdf_oh_get_key(q, w, "/Rect"), 2)), 210);
		assert_string_equal(qpdf_oh_get_utf8_value(q, qpdf_oh_get_key(q,
		                    qpdf_oh_get_key(q, w, "/V"), "/Name")), "Ren\xc3\xa9");
		qpdf_cleanup(&q);
		assert_int_equal(formats_cert_name(root, (size_t)rl, vp, sizeof(vp)), 0);
		assert_true(strlen(vp) > 0);
	}
	/* Bytes before "%PDF-" (readers then shift every offset): no update is written. */
	{
		char *x = NULL, *y = NULL;
		size_t xl = 0;

		assert_int_equal(ink_read_file(d1, 1u << 20, &x, &xl), 0);
		y = malloc(xl + 11);
		y[0] = '%';
		memcpy(y + 1, x, xl);
		crls[0].len = sizeof(fake_crl);
		assert_int_equal(ink_write_file(in, x, xl, 0600), 0);
		unlink(d2);
		assert_int_equal(formats_pdf_add_dss(in, d2, &e, 1), 0);  /* the same, untouched: fine */
		unlink(d2);
		assert_int_equal(ink_write_file(in, y, xl + 1, 0600), 0);
		assert_int_equal(formats_pdf_add_dss(in, d2, &e, 1), INK_ERR_INVALID);
		assert_int_not_equal(access(d2, F_OK), 0);
		/* ... also when they start like a header but hold no version ("%PDF-1x"): a reader
		 * passes over them to the real header (qpdf reads the file cleanly, shifted). As many
		 * bytes as put the last startxref's offset on an object's header, not on garbage. */
		{
			char *sx = NULL, *h = NULL, *t;
			size_t at, shift;

			for (t = x; (t = memmem(t, xl - (size_t)(t - x), "startxref", 9)) != NULL; t++)
				sx = t;
			assert_non_null(sx);
			at = strtoul(sx + 9, NULL, 10);
			for (t = x; (t = memmem(t, at - (size_t)(t - x), " 0 obj", 6)) != NULL; t++)
				h = t;
			assert_non_null(h);
			while (h > x && h[-1] >= '0' && h[-1] <= '9')
				h--;
			shift = at - (size_t)(h - x);
			assert_true(shift >= 8 && shift < 1000);
			free(y);
			y = malloc(xl + shift);
			memset(y, ' ', shift);
			memcpy(y, "%PDF-1x", 7);
			y[shift - 1] = '\n';
			memcpy(y + shift, x, xl);
			assert_int_equal(ink_write_file(in, y, xl + shift, 0600), 0);
			free(y);
			y = malloc(xl + 11);
		}
		refused_though_readable(in, d2, &e);
		/* A last "startxref" that is no keyword with an offset (qpdf reads past it to the one
		 * before, cleanly): no update chained to an offset no reader follows. */
		memcpy(y, x, xl);
		memcpy(y + xl, "startxref+1", 11);
		assert_int_equal(ink_write_file(in, y, xl + 11, 0600), 0);
		refused_though_readable(in, d2, &e);
		free(x);
		free(y);
	}
	/* Not a PDF. */
	write_text(in, "hello");
	sigs = NULL;
	assert_int_equal(formats_pdf_signatures(in, &sigs, &n), INK_ERR_INVALID);
	assert_null(sigs);
	assert_int_equal(n, 0);
	OPENSSL_free(root);
	OPENSSL_free(ec);
}

static void
test_digest_file(void **state)
{
	struct pki *p = *state;
	char path[128];
	uint8_t *data = malloc(3u << 20), md[32], want[32];
	uint64_t size = 0;
	unsigned n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/d.bin", p->dir);
	for (size_t i = 0; i < (3u << 20); i++)
		data[i] = (uint8_t)(i * 7);
	f = fopen(path, "wb");
	assert_int_equal(fwrite(data, 1, (3u << 20) - 5, f), (3u << 20) - 5);
	fclose(f);
	assert_int_equal(EVP_Digest(data, (3u << 20) - 5, want, &n, EVP_sha256(), NULL), 1);
	assert_int_equal(formats_digest_file(path, NULL, NULL, md, &size), 0);
	assert_int_equal(size, (3u << 20) - 5);
	assert_memory_equal(md, want, 32);
	assert_int_equal(formats_digest_file(p->dir, NULL, NULL, md, &size), INK_ERR_INVALID);
	assert_int_equal(formats_digest_file("/nonexistent/x", NULL, NULL, md, &size), INK_ERR_IO);
	free(data);
}

/* An OCSPRequest of n CertIDs (serials 1..n under a made-up issuer) and `nonces` nonce
 * extensions whose value is nlen bytes, as DER into der[] (returns its length). */
static size_t
ocsp_req(int n, int nonces, int nlen, uint8_t *der, size_t max)
{
	OCSP_REQUEST *req = OCSP_REQUEST_new();
	unsigned char *p = NULL;
	uint8_t nonce[200];
	int i, len;

	assert_non_null(req);
	for (i = 0; i < n; i++) {
		ASN1_INTEGER *serial = ASN1_INTEGER_new();
		ASN1_OCTET_STRING *key = ASN1_OCTET_STRING_new();
		OCSP_CERTID *id;
		X509_NAME *issuer = X509_NAME_new();

		assert_int_equal(ASN1_INTEGER_set(serial, i + 1), 1);
		assert_int_equal(X509_NAME_add_entry_by_txt(issuer, "CN", MBSTRING_ASC,
		                                            (const unsigned char *)"Issuer", -1, -1, 0), 1);
		assert_int_equal(ASN1_OCTET_STRING_set(key, (const unsigned char *)"0123456789", 10), 1);
		assert_non_null(id = OCSP_cert_id_new(EVP_sha1(), issuer, key, serial));
		assert_non_null(OCSP_request_add0_id(req, id));
		ASN1_INTEGER_free(serial);
		ASN1_OCTET_STRING_free(key);
		X509_NAME_free(issuer);
	}
	memset(nonce, 0x42, sizeof(nonce));
	/* (OCSP_request_add1_nonce replaces: a second one is added as a raw extension) */
	for (i = 0; i < nonces; i++) {
		ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
		X509_EXTENSION *ext;

		assert_int_equal(ASN1_OCTET_STRING_set(os, nonce, nlen), 1);
		assert_non_null(ext = X509_EXTENSION_create_by_NID(NULL, NID_id_pkix_OCSP_Nonce, 0, os));
		assert_int_equal(OCSP_REQUEST_add_ext(req, ext, -1), 1);
		X509_EXTENSION_free(ext);
		ASN1_OCTET_STRING_free(os);
	}
	len = i2d_OCSP_REQUEST(req, &p);
	assert_true(len > 0 && (size_t)len <= max);
	memcpy(der, p, (size_t)len);
	OPENSSL_free(p);
	OCSP_REQUEST_free(req);
	return (size_t)len;
}

/* formats_ocsp_parse: what inkand keeps of a request, and every bound it refuses. */
static void
test_ocsp_parse(void **state)
{
	struct formats_ocsp_req *q = malloc(sizeof(*q));
	uint8_t der[8192], *resp = NULL;
	const unsigned char *p;
	OCSP_RESPONSE *or;
	char why[128];
	size_t len, rlen = 0;

	(void)state;
	assert_non_null(q);
	len = ocsp_req(1, 1, 16, der, sizeof(der));
	assert_int_equal(formats_ocsp_parse(der, len, q, why, sizeof(why)), 0);
	assert_int_equal(q->n, 1);
	assert_int_equal(q->nonce_len, 16);           /* the extension's value, byte for byte */
	assert_int_equal(q->nonce[0], 0x42);
	len = ocsp_req(8, 0, 0, der, sizeof(der));
	assert_int_equal(formats_ocsp_parse(der, len, q, why, sizeof(why)), 0);
	assert_int_equal(q->n, 8);
	assert_int_equal(q->nonce_len, 0);
	/* refused: nine CertIDs, none, two nonces, a nonce over 64 bytes, a trailing byte, garbage */
	len = ocsp_req(9, 0, 0, der, sizeof(der));
	assert_int_equal(formats_ocsp_parse(der, len, q, why, sizeof(why)), INK_ERR_INVALID);
	assert_int_equal(q->n, 0);
	len = ocsp_req(0, 0, 0, der, sizeof(der));
	assert_int_equal(formats_ocsp_parse(der, len, q, why, sizeof(why)), INK_ERR_INVALID);
	len = ocsp_req(1, 2, 16, der, sizeof(der));
	assert_int_equal(formats_ocsp_parse(der, len, q, why, sizeof(why)), INK_ERR_INVALID);
	assert_non_null(strstr(why, "nonce"));
	len = ocsp_req(1, 1, 65, der, sizeof(der));
	assert_int_equal(formats_ocsp_parse(der, len, q, why, sizeof(why)), INK_ERR_INVALID);
	len = ocsp_req(1, 0, 0, der, sizeof(der));
	der[len] = 0;
	assert_int_equal(formats_ocsp_parse(der, len + 1, q, why, sizeof(why)), INK_ERR_INVALID);
	assert_int_equal(formats_ocsp_parse((const uint8_t *)"garbage", 7, q, why, sizeof(why)),
	                 INK_ERR_INVALID);
	assert_int_equal(formats_ocsp_parse(der, FORMATS_OCSP_REQ_MAX + 1, q, why, sizeof(why)),
	                 INK_ERR_INVALID);
	/* the unsigned answers */
	assert_int_equal(formats_ocsp_error(FORMATS_OCSP_MALFORMED, &resp, &rlen), 0);
	p = resp;
	assert_non_null(or = d2i_OCSP_RESPONSE(NULL, &p, (long)rlen));
	assert_int_equal(OCSP_response_status(or), OCSP_RESPONSE_STATUS_MALFORMEDREQUEST);
	OCSP_RESPONSE_free(or);
	free(resp);
	assert_int_equal(formats_ocsp_error(0, &resp, &rlen), INK_ERR_INVALID);
	assert_int_equal(formats_ocsp_error(4, &resp, &rlen), INK_ERR_INVALID);
	assert_null(resp);
	free(q);
}

/* An empty CRL of the root, DER. */
static uint8_t *
root_crl(struct pki *p, size_t *len)
{
	X509_CRL *crl = X509_CRL_new();
	ASN1_TIME *now = ASN1_TIME_set(NULL, time(NULL));
	uint8_t *d = NULL;
	int n;

	assert_non_null(crl);
	assert_non_null(now);
	assert_int_equal(X509_CRL_set_version(crl, X509_CRL_VERSION_2), 1);
	assert_int_equal(X509_CRL_set_issuer_name(crl, X509_get_subject_name(p->root)), 1);
	assert_int_equal(X509_CRL_set1_lastUpdate(crl, now), 1);
	assert_true(X509_CRL_sign(crl, p->root_key, EVP_sha256()) > 0);
	assert_true((n = i2d_X509_CRL(crl, &d)) > 0);
	*len = (size_t)n;
	ASN1_TIME_free(now);
	X509_CRL_free(crl);
	return d;
}

/* A time-stamp token over md from the test TSA (nonce-free, with its certificate). */
static uint8_t *
tsa_token(struct pki *p, const uint8_t md[32], size_t *len)
{
	struct formats_tsa_req r = { .hash_oid = FORMATS_OID_SHA256, .imprint = md,
	                             .imprint_len = 32, .cert_req = true };
	uint8_t *resp = NULL, *tok = NULL;
	size_t rl = 0;
	char serial[65];
	int64_t gen;

	assert_int_equal(formats_tsa_respond(p->tsa_key, p->tsa, NULL, "1.2.3.4", &r, &resp, &rl,
	                                     serial, &gen), 0);
	assert_int_equal(formats_ts_reply_token(resp, rl, md, NULL, &tok, len), 0);
	free(resp);
	return tok;
}

/* The archive time-stamp k of der is over exactly what formats_cades_ats_prepare() asked. */
static void
ats_matches(const uint8_t *der, size_t len, size_t k, const char *doc, const uint8_t md[32])
{
	const uint8_t *tok = NULL;
	uint8_t *in = NULL, h[32];
	size_t tl = 0, il = 0;
	unsigned hl = 0;
	char why[256];

	assert_int_equal(formats_cades_ats_input(der, len, 0, k, (const uint8_t *)doc, strlen(doc),
	                                         &tok, &tl, &in, &il, why, sizeof(why)), 0);
	assert_int_equal(EVP_Digest(in, il, h, &hl, EVP_sha256(), NULL), 1);
	assert_memory_equal(h, md, 32);
	assert_int_equal(formats_ts_token_check(tok, tl, md, NULL), 0);
	free(in);
}

/* CAdES B-LT and B-LTA on the encoding: validation data added once, archive time-stamps whose
 * imprint the validator recomputes, renewal, and what alterations and garbage get. */
static void
test_cades_lt(void **state)
{
	struct pki *p = *state;
	const char *doc = "a contract\n";
	uint8_t md[32], tbs[32], sig[256], md1[32], md2[32], *cd = NULL, *der = NULL, *lt = NULL,
	        *again = NULL, *lta = NULL, *lta2 = NULL, *idx = NULL, *tok = NULL, *tsa = NULL,
	        *root = NULL, *bad = NULL, *in = NULL, *pos;
	size_t cl, len, ltl, agl, l1, l2, il, tl, tsal, rootl, inl;
	const uint8_t *t0 = NULL;
	uint8_t *crl = NULL;
	size_t crll = 0;
	static const uint8_t ocsp[] = { 0x30, 0x03, 0x0a, 0x01, 0x00 };
	static const uint8_t two[] = { 0x30, 0x00, 0x30, 0x00 };
	struct formats_cms *c = NULL;
	struct formats_cades_info info;
	struct formats_der_list certs = { 0 }, crls = { 0 }, ocsps = { 0 };
	unsigned mdl = 0;
	char why[256];

	assert_int_equal(EVP_Digest(doc, strlen(doc), md, &mdl, EVP_sha256(), NULL), 1);
	cd = cert_der(p->ec_cert, &cl);
	tsa = cert_der(p->tsa, &tsal);
	root = cert_der(p->root, &rootl);
	crl = root_crl(p, &crll);
	struct formats_cms_params prm = { .cert = cd, .cert_len = cl, .content_digest = md,
	                                  .signing_time = true, .when = 1790000000 };
	assert_int_equal(formats_cms_prepare(&prm, &c), 0);
	formats_cms_tbs_digest(c, tbs);
	assert_int_equal(formats_cms_set_signature(c, sig, sign_digest(p->ec_key, false, tbs, sig,
	                                                                sizeof(sig))), 0);
	assert_int_equal(formats_cms_der(c, &der, &len), 0);

	/* B-LT: two certificates, a CRL and an OCSP response (otherRevInfo), version 5 */
	struct formats_blob cb[] = { { tsa, tsal }, { root, rootl }, { cd, cl } };
	struct formats_blob rb[] = { { crl, crll } }, ob[] = { { ocsp, sizeof(ocsp) } };
	assert_int_equal(formats_cades_add_vdata(der, len, cb, 3, rb, 1, ob, 1, &lt, &ltl), 0);
	assert_true(openssl_verify(p->root, lt, ltl, doc));
	assert_int_equal(formats_cades_certs(lt, ltl, &certs), 0);
	assert_int_equal(certs.n, 3);   /* the signer's was there already */
	assert_int_equal(formats_cades_revocation(lt, ltl, &crls, &ocsps), 0);
	assert_int_equal(crls.n, 1);
	assert_int_equal(ocsps.n, 1);
	assert_memory_equal(ocsps.v[0].data, ocsp, sizeof(ocsp));
	assert_non_null(memmem(lt, ltl, "\x02\x01\x05", 3));
	/* again: nothing new */
	assert_int_equal(formats_cades_add_vdata(lt, ltl, cb, 3, rb, 1, ob, 1, &again, &agl), 0);
	assert_int_equal(agl, ltl);
	assert_memory_equal(again, lt, ltl);
	/* a blob that is not one DER element */
	struct formats_blob badb[] = { { two, sizeof(two) } };
	assert_int_equal(formats_cades_add_vdata(lt, ltl, badb, 1, NULL, 0, NULL, 0, &bad, &il),
	                 INK_ERR_INVALID);
	assert_null(bad);

	/* B-LTA: no archive time-stamp yet; one over what prepare asked */
	assert_int_equal(formats_cades_ats_input(lt, ltl, 0, 0, NULL, 0, &t0, &tl, &in, &inl, why,
	                                         sizeof(why)), INK_ERR_NOT_FOUND);
	assert_null(t0);
	assert_int_equal(formats_cades_ats_prepare(lt, ltl, (const uint8_t *)doc, strlen(doc), md1,
	                                           &idx, &il), 0);
	/* detached without the document: the message-digest attribute stands for its hash */
	{
		uint8_t m[32], *i2 = NULL;
		size_t i2l = 0;

		assert_int_equal(formats_cades_ats_prepare(lt, ltl, NULL, 0, m, &i2, &i2l), 0);
		assert_memory_equal(m, md1, 32);
		free(i2);
	}
	tok = tsa_token(p, md1, &tl);
	assert_int_equal(formats_cades_ats_add(lt, ltl, tok, tl, idx, il, &lta, &l1), 0);
	assert_true(openssl_verify(p->root, lta, l1, doc));
	ats_matches(lta, l1, 0, doc, md1);
	assert_int_equal(formats_cades_info(lta, l1, &info), 0);
	assert_int_equal(info.archive_timestamps, 1);
	assert_true(info.detached);
	free(idx);
	free(tok);
	idx = NULL;

	/* renewal: a second one covers the first, which still checks */
	assert_int_equal(formats_cades_ats_prepare(lta, l1, NULL, 0, md2, &idx, &il), 0);
	tok = tsa_token(p, md2, &tl);
	assert_int_equal(formats_cades_ats_add(lta, l1, tok, tl, idx, il, &lta2, &l2), 0);
	ats_matches(lta2, l2, 0, doc, md1);
	ats_matches(lta2, l2, 1, doc, md2);

	/* a byte of a covered certificate altered: the index names what is not there */
	assert_non_null(pos = memmem(lta2, l2, tsa, tsal));
	pos[tsal / 2] ^= 0x01;
	assert_int_equal(formats_cades_ats_input(lta2, l2, 0, 1, NULL, 0, &t0, &tl, &in, &inl, why,
	                                         sizeof(why)), INK_ERR_INVALID);
	assert_null(in);
	assert_true(why[0] != '\0');
	/* garbage */
	assert_int_equal(formats_cades_ats_prepare(two, sizeof(two), NULL, 0, md2, &bad, &il),
	                 INK_ERR_INVALID);
	assert_int_equal(formats_cades_info(two, sizeof(two), &info), INK_ERR_INVALID);

	formats_der_list_free(&certs);
	formats_der_list_free(&crls);
	formats_der_list_free(&ocsps);
	free(idx);
	free(tok);
	free(lta);
	free(lta2);
	free(lt);
	free(again);
	free(der);
	free(cd);
	free(tsa);
	free(root);
	OPENSSL_free(crl);
	formats_cms_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_xades),
		cmocka_unit_test(test_xades_ltv),
		cmocka_unit_test(test_cades_ecdsa),
		cmocka_unit_test(test_cades_rsa),
		cmocka_unit_test(test_cades_refusals),
		cmocka_unit_test(test_cades_lt),
		cmocka_unit_test(test_timestamp),
		cmocka_unit_test(test_pades),
		cmocka_unit_test(test_pades_dss),
		cmocka_unit_test(test_ocsp_parse),
		cmocka_unit_test(test_digest_file),
	};

	return cmocka_run_group_tests(tests, pki_setup, pki_teardown);
}
