/* cms: validation of CMS/CAdES SignerInfos (signature value, message digest, signing certificate,
 * signed and unsigned attributes) and of RFC 3161 time-stamp tokens. */
#include "verify/verify_int.h"

#include <openssl/err.h>
#include <openssl/ess.h>
#include <openssl/rsa.h>
#include <openssl/ts.h>
#include <stdlib.h>
#include <string.h>

#include "formats/formats.h"
#include "policy/policy.h"

#define OID_RSA_ENCRYPTION "1.2.840.113549.1.1.1"
#define OID_EC_PUBLIC_KEY "1.2.840.10045.2.1"

/* ---- input detection ---- */

/* A PDF header in the first KiB (readers allow junk before it); never DER, which may carry a
 * PDF as its attached content. */
static bool
is_pdf(const uint8_t *p, size_t len)
{
	return len > 0 && p[0] != 0x30 && memmem(p, len < 1024 ? len : 1024, "%PDF-", 5) != NULL;
}

/* The TimeStampToken inside a TimeStampResp (granted), or the DER itself when it already is a
 * token. *tok points into der or into *owned (free with OPENSSL_free). */
static int
tst_unwrap(const uint8_t *der, size_t len, const uint8_t **tok, size_t *toklen, uint8_t **owned,
           char *err, size_t errsz)
{
	const unsigned char *p = der;
	TS_RESP *resp = NULL;
	PKCS7 *token;
	unsigned char *out = NULL;
	int n, ret = INK_ERR_INVALID;
	long status;

	*tok = NULL;
	*toklen = 0;
	*owned = NULL;
	if ((resp = d2i_TS_RESP(NULL, &p, (long)len)) == NULL || p != der + len) {
		/* Not a response: a token is a ContentInfo. */
		*tok = der;
		*toklen = len;
		ret = 0;
		goto out;
	}
	status = ASN1_INTEGER_get(TS_STATUS_INFO_get0_status(TS_RESP_get_status_info(resp)));
	if (status != 0 && status != 1) {
		snprintf(err, errsz, "the time-stamp response is a refusal (PKIStatus %ld)", status);
		goto out;
	}
	if ((token = TS_RESP_get_token(resp)) == NULL ||
	    (n = i2d_PKCS7(token, &out)) <= 0) {
		snprintf(err, errsz, "the time-stamp response carries no token");
		goto out;
	}
	*owned = out;
	*tok = out;
	*toklen = (size_t)n;
	out = NULL;
	ret = 0;
out:
	ERR_clear_error();
	OPENSSL_free(out);
	TS_RESP_free(resp);
	return ret;
}

/* A SignedData ContentInfo spanning exactly der[len]; NULL otherwise. */
static CMS_ContentInfo *
cms_parse(const uint8_t *der, size_t len)
{
	const unsigned char *p = der;
	CMS_ContentInfo *cms;

	if (len > LONG_MAX || (cms = d2i_CMS_ContentInfo(NULL, &p, (long)len)) == NULL) {
		ERR_clear_error();
		return NULL;
	}
	if (p != der + len || OBJ_obj2nid(CMS_get0_type(cms)) != NID_pkcs7_signed) {
		CMS_ContentInfo_free(cms);
		return NULL;
	}
	return cms;
}

int
input_detect(const struct verify_input *in, enum verify_format *fmt, char *err, size_t errsz)
{
	CMS_ContentInfo *cms = NULL;
	uint8_t *der = NULL, *owned = NULL;
	const uint8_t *tok, *pem;
	size_t len = 0, toklen;
	bool pdf = is_pdf(in->sig, in->sig_len);
	int ret = INK_ERR_INVALID;

	*fmt = in->format;
	if (pdf || *fmt == VERIFY_FORMAT_PADES) {
		if (!pdf) {
			snprintf(err, errsz, "not a PDF file (no %%PDF- header)");
			return INK_ERR_INVALID;
		}
		if (*fmt != VERIFY_FORMAT_AUTO && *fmt != VERIFY_FORMAT_PADES) {
			snprintf(err, errsz, "the input is a PDF, not the format requested");
			return INK_ERR_INVALID;
		}
		/* Never let a caller believe a document of theirs was checked against a PDF. */
		if (in->doc != NULL || in->digest != NULL) {
			snprintf(err, errsz, "a signed PDF carries what it signs: give no document");
			return INK_ERR_INVALID;
		}
		*fmt = VERIFY_FORMAT_PADES;
		return 0;
	}
	if ((ret = der_decode(in->sig, in->sig_len, &der, &len)) != 0) {
		snprintf(err, errsz, "not a signature: neither DER, PEM, base64 nor PDF");
		return ret == INK_ERR_ALLOC ? ret : INK_ERR_INVALID;
	}
	/* der_decode() reads the first PEM block: a signature after it would go unchecked. */
	if (in->sig[0] != 0x30 && (pem = memmem(in->sig, in->sig_len, "-----BEGIN ", 11)) != NULL &&
	    memmem(pem + 11, in->sig_len - (size_t)(pem + 11 - in->sig), "-----BEGIN ", 11) != NULL) {
		snprintf(err, errsz, "several PEM blocks: give one signature at a time");
		ret = INK_ERR_INVALID;
		goto out;
	}
	if ((ret = tst_unwrap(der, len, &tok, &toklen, &owned, err, errsz)) != 0)
		goto out;
	ret = INK_ERR_INVALID;
	if ((cms = cms_parse(tok, toklen)) == NULL) {
		snprintf(err, errsz, "not a CMS SignedData, time-stamp or PDF (garbage or truncated?)");
		goto out;
	}
	if (OBJ_obj2nid(CMS_get0_eContentType(cms)) == NID_id_smime_ct_TSTInfo) {
		if (*fmt == VERIFY_FORMAT_CADES && owned == NULL) {
			/* A bare token is a CMS signature too; validate it as asked. */
			ret = 0;
			goto out;
		}
		if (*fmt != VERIFY_FORMAT_AUTO && *fmt != VERIFY_FORMAT_TIMESTAMP) {
			snprintf(err, errsz, "the input is a time-stamp, not the format requested");
			goto out;
		}
		*fmt = VERIFY_FORMAT_TIMESTAMP;
	} else {
		if (*fmt != VERIFY_FORMAT_AUTO && *fmt != VERIFY_FORMAT_CADES) {
			snprintf(err, errsz, "the input is a CMS signature, not the format requested");
			goto out;
		}
		*fmt = VERIFY_FORMAT_CADES;
	}
	ret = 0;
out:
	CMS_ContentInfo_free(cms);
	OPENSSL_free(owned);
	free(der);
	return ret;
}

/* ---- attributes ---- */

static int64_t
signing_time(CMS_SignerInfo *si)
{
	X509_ATTRIBUTE *a;
	ASN1_TYPE *t;
	int idx;

	if ((idx = CMS_signed_get_attr_by_NID(si, NID_pkcs9_signingTime, -1)) < 0 ||
	    (a = CMS_signed_get_attr(si, idx)) == NULL || (t = X509_ATTRIBUTE_get0_type(a, 0)) == NULL)
		return -1;
	if (t->type != V_ASN1_UTCTIME && t->type != V_ASN1_GENERALIZEDTIME)
		return -1;
	return asn1_time_secs((const ASN1_TIME *)t->value.asn1_string);
}

/* The DER of a signed attribute's value, parsed by d2i; NULL when absent. An attribute that
 * occurs twice or holds several values is malformed: which one would count? */
static void *
signed_attr_d2i(CMS_SignerInfo *si, int nid, void *(*d2i)(void **, const unsigned char **, long),
                bool *malformed)
{
	X509_ATTRIBUTE *a;
	ASN1_TYPE *t;
	const unsigned char *p;
	void *v;
	int idx;

	if ((idx = CMS_signed_get_attr_by_NID(si, nid, -1)) < 0 ||
	    (a = CMS_signed_get_attr(si, idx)) == NULL)
		return NULL;
	if (CMS_signed_get_attr_by_NID(si, nid, idx) >= 0 || X509_ATTRIBUTE_count(a) != 1 ||
	    (t = X509_ATTRIBUTE_get0_type(a, 0)) == NULL || t->type != V_ASN1_SEQUENCE) {
		*malformed = true;
		return NULL;
	}
	p = t->value.sequence->data;
	if ((v = d2i(NULL, &p, t->value.sequence->length)) == NULL ||
	    p != t->value.sequence->data + t->value.sequence->length) {
		ERR_clear_error();
		*malformed = true;
	}
	return v;
}

/* A SignerInfo's signing-certificate (v1) and signing-certificate-v2 attributes: what binds the
 * signature to one certificate rather than to a key (EN 319 102-1 5.2.3). */
struct ess_attrs {
	ESS_SIGNING_CERT *v1;
	ESS_SIGNING_CERT_V2 *v2;
	bool malformed;
};

static void
ess_read(CMS_SignerInfo *si, struct ess_attrs *e)
{
	memset(e, 0, sizeof(*e));
	e->v1 = signed_attr_d2i(si, NID_id_smime_aa_signingCertificate,
	                        (void *(*)(void **, const unsigned char **, long))d2i_ESS_SIGNING_CERT,
	                        &e->malformed);
	e->v2 = signed_attr_d2i(si, NID_id_smime_aa_signingCertificateV2,
	                        (void *(*)(void **, const unsigned char **, long))d2i_ESS_SIGNING_CERT_V2,
	                        &e->malformed);
	if (e->malformed) {
		ESS_SIGNING_CERT_free(e->v1);
		ESS_SIGNING_CERT_V2_free(e->v2);
		e->v1 = NULL;
		e->v2 = NULL;
	}
}

static void
ess_free(struct ess_attrs *e)
{
	ESS_SIGNING_CERT_free(e->v1);
	ESS_SIGNING_CERT_V2_free(e->v2);
	e->v1 = NULL;
	e->v2 = NULL;
}

/* Whether the attributes' first ESSCertID names x (its hash, and its issuer and serial when
 * given); the others, if any, must name a certificate of the signature or a trust anchor. */
static bool
ess_names(const struct ess_attrs *e, X509 *x, STACK_OF(X509) *certs, STACK_OF(X509) *anchors)
{
	STACK_OF(X509) *sk = NULL;
	bool ok = false;
	int i;

	/* Borrowed references: x first, as OSSL_ESS_check_signing_certs wants the signer. */
	if ((sk = sk_X509_new_null()) == NULL || sk_X509_push(sk, x) <= 0)
		goto out;
	for (i = 0; i < sk_X509_num(certs); i++) {
		if (sk_X509_push(sk, sk_X509_value(certs, i)) <= 0)
			goto out;
	}
	for (i = 0; i < sk_X509_num(anchors); i++) {
		if (sk_X509_push(sk, sk_X509_value(anchors, i)) <= 0)
			goto out;
	}
	ok = OSSL_ESS_check_signing_certs(e->v1, e->v2, sk, 0) > 0;
out:
	ERR_clear_error();
	sk_X509_free(sk);
	return ok;
}

/* The signing certificate: the one certificate of the SignedData that the SignerInfo's sid
 * names and, when there is a signing-certificate attribute, the one it names. Several distinct
 * candidates (an extra certificate with the same issuer and serial, or the same key identifier)
 * are never settled by order: without the attribute to decide, none is picked (EN 319 102-1
 * 5.2.3: NO_SIGNING_CERTIFICATE_FOUND). */
static X509 *
signer_pick(CMS_SignerInfo *si, STACK_OF(X509) *certs, STACK_OF(X509) *anchors,
            const struct ess_attrs *e, struct verify_issues *is)
{
	X509 *x, *found = NULL, *bound = NULL;
	int i, nfound = 0, nbound = 0;

	for (i = 0; i < sk_X509_num(certs); i++) {
		x = sk_X509_value(certs, i);
		if (CMS_SignerInfo_cert_cmp(si, x) != 0 || (found != NULL && X509_cmp(found, x) == 0))
			continue;
		if (found == NULL)
			found = x;
		nfound++;
		if ((e->v1 != NULL || e->v2 != NULL) && ess_names(e, x, certs, anchors) &&
		    (bound == NULL || X509_cmp(bound, x) != 0)) {
			bound = x;
			nbound++;
		}
	}
	if (nfound == 0) {
		issue_add(is, VERIFY_INDETERMINATE, VERIFY_SUB_NO_SIGNING_CERTIFICATE_FOUND,
		          "the signature does not carry the certificate it names");
		return NULL;
	}
	if (e->v1 != NULL || e->v2 != NULL) {
		if (nbound == 1)
			return bound;
		issue_add(is, VERIFY_INDETERMINATE, VERIFY_SUB_NO_SIGNING_CERTIFICATE_FOUND,
		          "the %s attribute names %s of the %d certificate%s matching the signer "
		          "identifier", e->v2 != NULL ? "signing-certificate-v2" : "signing-certificate",
		          nbound == 0 ? "none" : "several", nfound, nfound == 1 ? "" : "s");
		return NULL;
	}
	if (nfound == 1)
		return found;
	issue_add(is, VERIFY_INDETERMINATE, VERIFY_SUB_NO_SIGNING_CERTIFICATE_FOUND,
	          "%d different certificates in the signature match the signer identifier, and no "
	          "signing-certificate attribute says which one signed", nfound);
	return NULL;
}

/* signing-certificate(-v2) against the chain built for the signer (EN 319 102-1 5.2.3); signer
 * is NULL when signer_pick() found none (it said why). */
static void
ess_check(CMS_SignerInfo *si, const struct ess_attrs *e, X509 *signer, STACK_OF(X509) *chain,
          enum verify_use use, struct verify_issues *is, json_t *obj)
{
	STACK_OF(X509) *one = NULL;
	const char *state;
	int r;

	if (e->malformed) {
		issue_add(is, VERIFY_TOTAL_FAILED, VERIFY_SUB_FORMAT_FAILURE,
		          "malformed signing-certificate attribute (or more than one)");
		state = "malformed";
		goto out;
	}
	if (e->v1 == NULL && e->v2 == NULL) {
		state = "absent";
		if (use == VERIFY_USE_TSA)
			/* RFC 3161 2.4.1 (RFC 5816 for v2): a token names its TSA certificate. */
			issue_add(is, VERIFY_INDETERMINATE, VERIFY_SUB_NO_SIGNING_CERTIFICATE_FOUND,
			          "the time-stamp token has no signing-certificate attribute naming "
			          "the TSA certificate");
		else if (CMS_signed_get_attr_count(si) > 0)
			warn_add(is, "no signing-certificate-v2 attribute (CAdES-B requires one): the "
			         "signature binds the signer's key, not the certificate");
		else
			warn_add(is, "no signed attributes: the signature binds the signer's key, not "
			         "the certificate");
		goto out;
	}
	if (signer == NULL) {
		state = "mismatch";
		goto out;
	}
	if (chain == NULL) {
		if ((one = sk_X509_new_null()) == NULL || sk_X509_push(one, signer) <= 0) {
			state = "unchecked";
			goto out;
		}
		chain = one;
	}
	r = OSSL_ESS_check_signing_certs(e->v1, e->v2, chain, 0);
	ERR_clear_error();
	if (r > 0) {
		state = "matched";
	} else {
		state = "mismatch";
		issue_add(is, VERIFY_INDETERMINATE, VERIFY_SUB_NO_SIGNING_CERTIFICATE_FOUND,
		          "the %s attribute does not identify the %s certificate",
		          e->v2 != NULL ? "signing-certificate-v2" : "signing-certificate",
		          use == VERIFY_USE_TSA ? "TSA" : "signing");
	}
out:
	json_object_set_new(obj, "signing_certificate_attribute", json_string(state));
	sk_X509_free(one);
}

/* ---- cryptographic verification ---- */

static void
sigalg_check(const X509_ALGOR *psig, struct verify_issues *is, json_t *obj)
{
	const ASN1_OBJECT *o = NULL;
	char oid[80];
	int nid;

	X509_ALGOR_get0(&o, NULL, NULL, psig);
	oid_str(o, oid, sizeof(oid));
	nid = OBJ_obj2nid(o);
	json_object_set_new(obj, "signature_algorithm",
	                    json_string(nid != NID_undef ? OBJ_nid2ln(nid) : oid));
	/* Key OIDs in signatureAlgorithm (as openssl cms writes rsaEncryption): the digest
	 * algorithm, checked separately, decides. */
	if (policy_sig_alg_by_oid(oid) != NULL || strcmp(oid, OID_RSA_ENCRYPTION) == 0 ||
	    strcmp(oid, OID_EC_PUBLIC_KEY) == 0)
		return;
	issue_add(is, VERIFY_INDETERMINATE, VERIFY_SUB_CRYPTO_CONSTRAINTS_FAILURE,
	          "signature algorithm %s (%s) is not allowed (CRYPTREC)",
	          nid != NID_undef ? OBJ_nid2sn(nid) : "unknown", oid);
}

/* RSA PKCS#1 v1.5 without signed attributes: if the signature value decrypts to a well-formed
 * DigestInfo, the signature is intact and the content must have changed. */
static bool
rsa_sig_intact(EVP_PKEY *pk, const ASN1_OCTET_STRING *sig)
{
	EVP_PKEY_CTX *pctx = NULL;
	unsigned char buf[1024];
	size_t n = sizeof(buf);
	bool ok = false;

	if (EVP_PKEY_get_base_id(pk) != EVP_PKEY_RSA)
		return false;
	if ((pctx = EVP_PKEY_CTX_new(pk, NULL)) != NULL && EVP_PKEY_verify_recover_init(pctx) == 1 &&
	    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) == 1 &&
	    EVP_PKEY_verify_recover(pctx, buf, &n, sig->data, (size_t)sig->length) == 1 && n > 0 &&
	    buf[0] == 0x30)
		ok = true;
	ERR_clear_error();
	EVP_PKEY_CTX_free(pctx);
	return ok;
}

/* Verifies a signature without signed attributes over the content itself. 1 ok, 0 bad. */
static int
verify_content_direct(CMS_ContentInfo *cms, CMS_SignerInfo *si, const uint8_t *data, size_t len)
{
	BIO *dcont = NULL, *cmsbio = NULL, *next;
	char buf[16384];
	int r = 0;

	if (len > INT32_MAX || (dcont = BIO_new_mem_buf(data, (int)len)) == NULL)
		return 0;
	if ((cmsbio = CMS_dataInit(cms, dcont)) == NULL)
		goto out;
	while (BIO_read(cmsbio, buf, sizeof(buf)) > 0)
		;
	r = CMS_SignerInfo_verify_content(si, cmsbio) == 1;
out:
	/* The chain is the digest BIOs on top of dcont: free them, then dcont. */
	while (cmsbio != NULL && cmsbio != dcont) {
		next = BIO_pop(cmsbio);
		BIO_free(cmsbio);
		cmsbio = next;
	}
	BIO_free(dcont);
	ERR_clear_error();
	return r;
}

/* Without signed attributes and without the document: RSA PKCS#1 or ECDSA over the digest. */
static int
verify_digest_direct(EVP_PKEY *pk, const X509_ALGOR *pdig, const ASN1_OCTET_STRING *sig,
                     const uint8_t *dgst, size_t dlen)
{
	const ASN1_OBJECT *o = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	const EVP_MD *md;
	int r = -1, id = EVP_PKEY_get_base_id(pk);

	X509_ALGOR_get0(&o, NULL, NULL, pdig);
	if ((id != EVP_PKEY_RSA && id != EVP_PKEY_EC) || (md = EVP_get_digestbyobj(o)) == NULL)
		return -1;
	if ((pctx = EVP_PKEY_CTX_new(pk, NULL)) == NULL || EVP_PKEY_verify_init(pctx) != 1 ||
	    (id == EVP_PKEY_RSA && EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1) ||
	    EVP_PKEY_CTX_set_signature_md(pctx, md) != 1)
		goto out;
	r = EVP_PKEY_verify(pctx, sig->data, (size_t)sig->length, dgst, dlen) == 1;
out:
	ERR_clear_error();
	EVP_PKEY_CTX_free(pctx);
	return r;
}

static void
crypto_check(CMS_ContentInfo *cms, CMS_SignerInfo *si, X509 *signer,
             const struct verify_content *content, const X509_ALGOR *pdig,
             struct verify_issues *is)
{
	const ASN1_OBJECT *dobj = NULL;
	ASN1_OBJECT *ctype;
	ASN1_OCTET_STRING *mdattr;
	const ASN1_OCTET_STRING *sigval = CMS_SignerInfo_get0_signature(si);
	uint8_t dgst[EVP_MAX_MD_SIZE];
	const uint8_t *want = NULL;
	size_t dlen = 0;
	char oid[80];
	int r;

	X509_ALGOR_get0(&dobj, NULL, NULL, pdig);
	oid_str(dobj, oid, sizeof(oid));
	if (X509_get0_pubkey(signer) == NULL) {
		issue_add(is, VERIFY_INDETERMINATE, VERIFY_SUB_SIG_CRYPTO_FAILURE,
		          "unusable public key in the signing certificate");
		goto out;
	}
	CMS_SignerInfo_set1_signer_cert(si, signer);
	/* The digest of the document, when it can be had. */
	if (content->data != NULL) {
		if ((r = digest_data(pdig, content->data, content->len, dgst, &dlen)) != 0) {
			issue_add(is, VERIFY_INDETERMINATE, VERIFY_SUB_CRYPTO_CONSTRAINTS_FAILURE,
			          "unknown digest algorithm %s", oid);
			goto out;
		}
		want = dgst;
	} else if (content->digest != NULL) {
		if (strcmp(content->digest_oid, oid) != 0) {
			issue_add(is, VERIFY_INDETERMINATE, VERIFY_SUB_SIGNED_DATA_NOT_FOUND,
			          "the document digest given is %s, the signature uses %s",
			          content->digest_oid, oid);
			goto out;
		}
		want = content->digest;
		dlen = content->digest_len;
	}

	if (CMS_signed_get_attr_count(si) > 0) {
		ctype = CMS_signed_get0_data_by_OBJ(si, OBJ_nid2obj(NID_pkcs9_contentType), -3,
		                                    V_ASN1_OBJECT);
		if (ctype == NULL || OBJ_cmp(ctype, CMS_get0_eContentType(cms)) != 0)
			issue_add(is, VERIFY_TOTAL_FAILED, VERIFY_SUB_FORMAT_FAILURE,
			          "content-type attribute missing or different from the content");
		mdattr = CMS_signed_get0_data_by_OBJ(si, OBJ_nid2obj(NID_pkcs9_messageDigest), -3,
		                                     V_ASN1_OCTET_STRING);
		if (mdattr == NULL) {
			issue_add(is, VERIFY_TOTAL_FAILED, VERIFY_SUB_FORMAT_FAILURE,
			          "no message-digest attribute");
		} else if (want == NULL) {
			issue_add(is, VERIFY_INDETERMINATE, VERIFY_SUB_SIGNED_DATA_NOT_FOUND,
			          "detached signature: the signed document was not given");
		} else if ((size_t)mdattr->length != dlen ||
		           CRYPTO_memcmp(mdattr->data, want, dlen) != 0) {
			issue_add(is, VERIFY_TOTAL_FAILED, VERIFY_SUB_HASH_FAILURE,
			          "the message-digest attribute does not match the document");
		}
		if (CMS_SignerInfo_verify(si) != 1)
			issue_add(is, VERIFY_TOTAL_FAILED, VERIFY_SUB_SIG_CRYPTO_FAILURE,
			          "the signature value does not verify over the signed attributes");
		goto out;
	}

	/* No signed attributes: the signature is over the document itself. */
	if (content->data != NULL) {
		if (verify_content_direct(cms, si, content->data, content->len) == 1)
			goto out;
	} else if (want != NULL) {
		r = verify_digest_direct(X509_get0_pubkey(signer), pdig, sigval, want, dlen);
		if (r == 1)
			goto out;
		if (r < 0) {
			issue_add(is, VERIFY_INDETERMINATE, VERIFY_SUB_SIGNED_DATA_NOT_FOUND,
			          "a signature without signed attributes with this key type needs the "
			          "document, not its digest");
			goto out;
		}
	} else {
		issue_add(is, VERIFY_INDETERMINATE, VERIFY_SUB_SIGNED_DATA_NOT_FOUND,
		          "detached signature: the signed document was not given");
		goto out;
	}
	if (rsa_sig_intact(X509_get0_pubkey(signer), sigval))
		issue_add(is, VERIFY_TOTAL_FAILED, VERIFY_SUB_HASH_FAILURE,
		          "the document's digest differs from the one signed");
	else
		issue_add(is, VERIFY_TOTAL_FAILED, VERIFY_SUB_SIG_CRYPTO_FAILURE,
		          "the signature value does not verify over the document");
out:
	ERR_clear_error();
}

/* ---- signature time-stamps ---- */

static void
timestamps_check(struct verify_ctx *ctx, CMS_SignerInfo *si, struct verify_issues *is, json_t *obj,
                 int64_t *poe)
{
	const ASN1_OCTET_STRING *sv = CMS_SignerInfo_get0_signature(si);
	struct verify_content over = { .data = sv->data, .len = (size_t)sv->length };
	X509_ATTRIBUTE *a;
	ASN1_TYPE *t;
	json_t *arr = json_array(), *ts;
	int64_t gt;
	enum verify_indication ind;
	enum verify_sub sub;
	int idx = -1, j, count = 0;

	*poe = -1;
	while ((idx = CMS_unsigned_get_attr_by_NID(si, NID_id_smime_aa_timeStampToken, idx)) >= 0) {
		a = CMS_unsigned_get_attr(si, idx);
		for (j = 0; a != NULL && j < X509_ATTRIBUTE_count(a); j++) {
			if (++count > VERIFY_MAX_TIMESTAMPS)
				break;
			if ((ts = json_object()) == NULL)
				break;
			t = X509_ATTRIBUTE_get0_type(a, j);
			if (t == NULL || t->type != V_ASN1_SEQUENCE) {
				json_object_set_new(ts, "indication", json_string("TOTAL-FAILED"));
				json_object_set_new(ts, "sub_indication", json_string("FORMAT_FAILURE"));
				json_array_append_new(arr, ts);
				warn_add(is, "signature time-stamp %d is malformed", count);
				continue;
			}
			ind = tst_validate(ctx, t->value.sequence->data, (size_t)t->value.sequence->length,
			                   &over, ts, &gt, &sub);
			if (ind == VERIFY_TOTAL_PASSED) {
				if (*poe < 0 || gt < *poe)
					*poe = gt;
			} else {
				warn_add(is, "signature time-stamp %d is not valid (%s/%s); it proves nothing",
				         count, verify_indication_str(ind), verify_sub_str(sub));
			}
			json_array_append_new(arr, ts);
		}
	}
	json_object_set_new(obj, "timestamps", arr);
}

/* ---- archive time-stamps (CAdES B-LTA, EN 319 122-1 5.5.3; EN 319 102-1 past signature
 * validation) ---- */

void
archive_chain_check(struct verify_ctx *ctx, archive_input_fn input_of, void *arg,
                    struct verify_issues *is, json_t *obj, int64_t *poe, size_t *valid)
{
	const uint8_t *tok[VERIFY_MAX_TIMESTAMPS];
	uint8_t *input[VERIFY_MAX_TIMESTAMPS] = { 0 };
	size_t tlen[VERIFY_MAX_TIMESTAMPS], ilen[VERIFY_MAX_TIMESTAMPS], n = 0, k;
	char why[VERIFY_MAX_TIMESTAMPS][256];
	int rc[VERIFY_MAX_TIMESTAMPS];
	json_t *arr, *ts[VERIFY_MAX_TIMESTAMPS] = { 0 };
	struct verify_content over;
	int64_t gt, at = -1;
	enum verify_indication ind;
	enum verify_sub sub;
	bool intact = true;

	*poe = -1;
	*valid = 0;
	for (n = 0; n < VERIFY_MAX_TIMESTAMPS; n++) {
		tok[n] = NULL;
		why[n][0] = '\0';
		rc[n] = input_of(arg, n, &tok[n], &tlen[n], &input[n], &ilen[n], why[n], sizeof(why[n]));
		if (rc[n] == INK_ERR_NOT_FOUND && tok[n] == NULL)
			break;
	}
	if (n == 0)
		return;
	if ((arr = json_array()) == NULL) {
		for (k = 0; k < n; k++)
			free(input[k]);
		return;
	}
	if (n == VERIFY_MAX_TIMESTAMPS)
		warn_add(is, "only the first %d archive time-stamps are read", VERIFY_MAX_TIMESTAMPS);
	for (k = n; k-- > 0;) {
		if ((ts[k] = json_object()) == NULL)
			break;
		ind = VERIFY_INDETERMINATE;
		sub = VERIFY_SUB_NONE;
		if (rc[k] != 0) {
			json_object_set_new(ts[k], "format", json_string("timestamp"));
			json_object_set_new(ts[k], "indication", json_string(rc[k] != INK_ERR_INVALID ?
			                    "INDETERMINATE" : "TOTAL-FAILED"));
			json_object_set_new(ts[k], "sub_indication", json_string(
			                    rc[k] == INK_ERR_NOT_FOUND ? "SIGNED_DATA_NOT_FOUND" :
			                    rc[k] == INK_ERR_INVALID ? "HASH_FAILURE" : "FORMAT_FAILURE"));
			json_object_set_new(ts[k], "problems", json_pack("[{s:s}]", "detail", why[k]));
			if (rc[k] != INK_ERR_INVALID)
				warn_add(is, "archive time-stamp %zu: %s", k + 1, why[k]);
			else
				/* what it covered changed since: the signature was altered after it */
				issue_add(is, VERIFY_TOTAL_FAILED, VERIFY_SUB_HASH_FAILURE,
				          "archive time-stamp %zu: %s", k + 1, why[k]);
		} else {
			over = (struct verify_content){ .data = input[k], .len = ilen[k] };
			/* valid at the time the next one proves, or now for the newest */
			ctx->tsa_poe = intact ? at : -1;
			ind = tst_validate(ctx, tok[k], tlen[k], &over, ts[k], &gt, &sub);
			ctx->tsa_poe = -1;
			if (sub == VERIFY_SUB_HASH_FAILURE)
				issue_add(is, VERIFY_TOTAL_FAILED, VERIFY_SUB_HASH_FAILURE,
				          "archive time-stamp %zu does not match what it covers", k + 1);
		}
		json_object_set_new(ts[k], "covers_previous", json_boolean(rc[k] == 0));
		if (ind == VERIFY_TOTAL_PASSED && intact) {
			at = gt;
			*poe = gt;
			(*valid)++;
		} else {
			if (ind != VERIFY_TOTAL_PASSED && rc[k] == 0 && sub != VERIFY_SUB_HASH_FAILURE)
				warn_add(is, "archive time-stamp %zu is not valid (%s/%s): it proves "
				         "nothing, nor do the ones before it", k + 1,
				         verify_indication_str(ind), verify_sub_str(sub));
			intact = false;
		}
	}
	for (k = 0; k < n; k++) {
		if (ts[k] != NULL)
			json_array_append_new(arr, ts[k]);
		free(input[k]);
	}
	json_object_set_new(obj, "archive_timestamps", arr);
}

/* The CAdES archive time-stamp k and its input (formats_cades_ats_input). */
struct cades_ats {
	const struct verify_ctx *ctx;
	const struct verify_content *content;
};

static int
cades_ats_input(void *arg, size_t k, const uint8_t **tok, size_t *tlen, uint8_t **input,
                size_t *ilen, char *why, size_t whysz)
{
	const struct cades_ats *a = arg;

	return formats_cades_ats_input(a->ctx->cades_der, a->ctx->cades_len, a->ctx->cades_signer, k,
	                               a->content->data, a->content->len, tok, tlen, input, ilen, why,
	                               whysz);
}

/* Validates the signer's archive-time-stamp-v3 attributes (archive_chain_check). */
static void
archive_check(struct verify_ctx *ctx, const struct verify_content *content,
              struct verify_issues *is, json_t *obj, int64_t *poe, size_t *valid)
{
	struct cades_ats a = { ctx, content };

	*poe = -1;
	*valid = 0;
	if (ctx->cades_der != NULL)
		archive_chain_check(ctx, cades_ats_input, &a, is, obj, poe, valid);
}

/* Whether a revocation result (report JSON) came from data the signature carries (embedded,
 * or in a PDF's DSS). */
static bool
rev_carried(const json_t *rev)
{
	const char *origin = json_string_value(json_object_get(rev, "origin"));

	return origin != NULL && (strcmp(origin, "embedded") == 0 || strcmp(origin, "dss") == 0);
}

/* Whether every certificate of a chain (report JSON) is a trust anchor or has revocation data
 * inside the signature: the data that decided, or (for the service's own certificates, which
 * its current status decides) what was weighed beside it. */
bool
chain_carried(const json_t *chain)
{
	const json_t *c, *rev;
	size_t i;

	if (!json_is_array(chain) || json_array_size(chain) == 0)
		return false;
	json_array_foreach(chain, i, c) {
		if (json_is_true(json_object_get(c, "trust_anchor")))
			continue;
		rev = json_object_get(c, "revocation");
		if (!rev_carried(rev) && !rev_carried(json_object_get(rev, "not_deciding")))
			return false;
	}
	return true;
}

/* The baseline level the signature reaches (EN 319 122-1 / 319 142-1): B-T with a valid
 * signature time-stamp, B-LT when the validation data of its chain and of that time-stamp's
 * chain are all inside, B-LTA with a valid archive time-stamp besides. */
const char *
level_of(const json_t *obj, bool timestamped, size_t archives)
{
	const json_t *ts;
	size_t i;
	bool lt = false;

	if (!timestamped)
		return "B-B";
	if (chain_carried(json_object_get(obj, "chain"))) {
		json_array_foreach(json_object_get(obj, "timestamps"), i, ts) {
			if (json_is_string(json_object_get(ts, "indication")) &&
			    strcmp(json_string_value(json_object_get(ts, "indication")), "TOTAL-PASSED") == 0 &&
			    chain_carried(json_object_get(ts, "chain")))
				lt = true;
		}
	}
	if (!lt)
		return "B-T";
	return archives > 0 ? "B-LTA" : "B-LT";
}

/* ---- one SignerInfo ---- */

/* Appends extra's certificates (a reference each; extra may be NULL) to certs. */
static int
certs_append(STACK_OF(X509) *certs, STACK_OF(X509) *extra)
{
	int i;

	for (i = 0; extra != NULL && i < sk_X509_num(extra); i++) {
		if (!X509_up_ref(sk_X509_value(extra, i)))
			return INK_ERR_CRYPTO;
		if (sk_X509_push(certs, sk_X509_value(extra, i)) <= 0) {
			X509_free(sk_X509_value(extra, i));
			return INK_ERR_ALLOC;
		}
	}
	return 0;
}

void
signer_validate(struct verify_ctx *ctx, CMS_ContentInfo *cms, CMS_SignerInfo *si,
                const struct verify_content *content, enum verify_use use, int64_t claimed,
                struct verify_issues *is, json_t *obj)
{
	STACK_OF(X509) *certs = NULL, *chain = NULL;
	STACK_OF(X509_CRL) *crls = NULL;
	struct verify_revdata rd = { NULL, NULL, NULL };
	struct ess_attrs ess;
	X509_ALGOR *pdig = NULL, *psig = NULL;
	const ASN1_OBJECT *dobj = NULL;
	struct verify_times t = { .poe = -1, .claimed = claimed };
	json_t *chain_json = NULL;
	X509 *signer = NULL;
	int64_t ats_poe = -1;
	size_t archives = 0;
	bool timestamped = false;

	/* a time-stamp proven to exist by a later archive time-stamp is judged at that time */
	if (use == VERIFY_USE_TSA)
		t.poe = ctx->tsa_poe;
	ess_read(si, &ess);
	if ((certs = CMS_get1_certs(cms)) == NULL)
		certs = sk_X509_new_null();
	if (certs == NULL || revdata_init(&rd) != 0)
		goto out;
	/* a time-stamp's chain may be completed by the certificates of the signature around it,
	 * any chain by those of a PDF's document security store */
	if ((use == VERIFY_USE_TSA && certs_append(certs, ctx->outer_certs) != 0) ||
	    (ctx->dss != NULL && certs_append(certs, ctx->dss->certs) != 0))
		goto out;
	/* The SignedData's CRLs, then those of the revocation attributes. */
	if ((crls = CMS_get1_crls(cms)) != NULL) {
		/* As many as from any other source: each costs a signature check per certificate. */
		if (sk_X509_CRL_num(crls) > VERIFY_MAX_OCSP)
			warn_add(is, "the SignedData carries %d CRLs: only the first %d are read",
			         sk_X509_CRL_num(crls), VERIFY_MAX_OCSP);
		while (sk_X509_CRL_num(crls) > VERIFY_MAX_OCSP)
			X509_CRL_free(sk_X509_CRL_pop(crls));
		sk_X509_CRL_free(rd.crls);
		rd.crls = crls;
		crls = NULL;
	}
	revdata_from_signer(si, &rd, is);
	CMS_SignerInfo_get0_algs(si, NULL, NULL, &pdig, &psig);
	X509_ALGOR_get0(&dobj, NULL, NULL, pdig);
	json_object_set_new(obj, "digest_algorithm", json_string(OBJ_nid2sn(OBJ_obj2nid(dobj))));
	digest_check(pdig, use == VERIFY_USE_TSA ? "TSA signature" : "signature", is);
	sigalg_check(psig, is, obj);
	json_object_set_new(obj, "signed_attributes", json_boolean(CMS_signed_get_attr_count(si) > 0));
	if (use == VERIFY_USE_SIGNATURE) {
		t.claimed = signing_time(si);
		json_object_set_new(obj, "claimed_signing_time", json_time(t.claimed));
	}
	if (use == VERIFY_USE_SIGNATURE &&
	    CMS_unsigned_get_attr_by_NID(si, NID_pkcs9_countersignature, -1) >= 0)
		warn_add(is, "the signature carries counter-signatures: they are not validated and "
		         "not counted as signatures");
	if ((signer = signer_pick(si, certs, ctx->anchors, &ess, is)) == NULL) {
		ess_check(si, &ess, NULL, NULL, use, is, obj);
		goto out;
	}
	json_object_set_new(obj, "signer",
	                    json_pack("{s:o, s:o, s:o}", "subject",
	                              json_name(X509_get_subject_name(signer)), "issuer",
	                              json_name(X509_get_issuer_name(signer)), "serial",
	                              json_serial(signer)));
	crypto_check(cms, si, signer, content, pdig, is);
	if (use == VERIFY_USE_SIGNATURE) {
		archive_check(ctx, content, is, obj, &ats_poe, &archives);
		/* the signature time-stamps are judged at the time the archive time-stamps prove */
		ctx->tsa_poe = ats_poe;
		timestamps_check(ctx, si, is, obj, &t.poe);
		ctx->tsa_poe = -1;
		timestamped = t.poe >= 0;
		/* without a valid signature time-stamp, the oldest archive time-stamp still proves
		 * when the signature existed */
		if (t.poe < 0)
			t.poe = ats_poe;
		if (t.poe >= 0 && t.claimed > t.poe + 300)
			warn_add(is, "the claimed signing time is later than the time-stamp");
	}
	json_object_set_new(obj, "best_signature_time", json_time(t.poe >= 0 ? t.poe : ctx->now));
	json_object_set_new(obj, "best_signature_time_source",
	                    json_string(t.poe >= 0 ? "time-stamp" : "validation time"));
	path_validate(ctx, signer, certs, &rd, &t, use, is, &chain_json, &chain);
	json_object_set_new(obj, "chain", chain_json != NULL ? chain_json : json_array());
	ess_check(si, &ess, signer, chain, use, is, obj);
	if (use == VERIFY_USE_SIGNATURE)
		json_object_set_new(obj, "level", json_string(level_of(obj, timestamped, archives)));
out:
	ERR_clear_error();
	ess_free(&ess);
	sk_X509_pop_free(chain, X509_free);
	sk_X509_pop_free(certs, X509_free);
	revdata_free(&rd);
}

/* ---- time-stamp tokens ---- */

enum verify_indication
tst_validate(struct verify_ctx *ctx, const uint8_t *der, size_t len,
             const struct verify_content *over, json_t *obj, int64_t *gen_time,
             enum verify_sub *sub_out)
{
	struct verify_issues is;
	CMS_ContentInfo *cms = NULL;
	ASN1_OCTET_STRING **pos;
	TS_TST_INFO *tst = NULL;
	TS_MSG_IMPRINT *mi;
	X509_ALGOR *ialg;
	ASN1_OCTET_STRING *imsg;
	const ASN1_OBJECT *iobj = NULL;
	STACK_OF(CMS_SignerInfo) *sis;
	struct verify_content self = { 0 };
	const unsigned char *p;
	uint8_t dgst[EVP_MAX_MD_SIZE];
	size_t dlen = 0;
	int64_t gt = -1;
	char oid[80];
	enum verify_indication ind;
	enum verify_sub sub;

	*gen_time = -1;
	issues_init(&is);
	json_object_set_new(obj, "format", json_string("timestamp"));
	if ((cms = cms_parse(der, len)) == NULL ||
	    OBJ_obj2nid(CMS_get0_eContentType(cms)) != NID_id_smime_ct_TSTInfo ||
	    (pos = CMS_get0_content(cms)) == NULL || *pos == NULL) {
		issue_add(&is, VERIFY_TOTAL_FAILED, VERIFY_SUB_FORMAT_FAILURE,
		          "not an RFC 3161 time-stamp token");
		goto out;
	}
	p = (*pos)->data;
	if ((tst = d2i_TS_TST_INFO(NULL, &p, (*pos)->length)) == NULL ||
	    p != (*pos)->data + (*pos)->length) {
		issue_add(&is, VERIFY_TOTAL_FAILED, VERIFY_SUB_FORMAT_FAILURE, "malformed TSTInfo");
		goto out;
	}
	gt = asn1_time_secs(TS_TST_INFO_get_time(tst));
	json_object_set_new(obj, "gen_time", json_time(gt));
	if (gt < 0)
		issue_add(&is, VERIFY_TOTAL_FAILED, VERIFY_SUB_FORMAT_FAILURE, "unreadable genTime");
	mi = TS_TST_INFO_get_msg_imprint(tst);
	ialg = TS_MSG_IMPRINT_get_algo(mi);
	imsg = TS_MSG_IMPRINT_get_msg(mi);
	X509_ALGOR_get0(&iobj, NULL, NULL, ialg);
	oid_str(iobj, oid, sizeof(oid));
	json_object_set_new(obj, "imprint_algorithm", json_string(OBJ_nid2sn(OBJ_obj2nid(iobj))));
	digest_check(ialg, "time-stamp imprint", &is);
	if (over->data != NULL) {
		if (digest_data(ialg, over->data, over->len, dgst, &dlen) != 0)
			issue_add(&is, VERIFY_INDETERMINATE, VERIFY_SUB_CRYPTO_CONSTRAINTS_FAILURE,
			          "unknown imprint digest algorithm %s", oid);
		else if ((size_t)imsg->length != dlen || CRYPTO_memcmp(imsg->data, dgst, dlen) != 0)
			issue_add(&is, VERIFY_TOTAL_FAILED, VERIFY_SUB_HASH_FAILURE,
			          "the time-stamp's message imprint does not match the time-stamped data");
	} else if (over->digest != NULL) {
		if (strcmp(over->digest_oid, oid) != 0)
			issue_add(&is, VERIFY_INDETERMINATE, VERIFY_SUB_SIGNED_DATA_NOT_FOUND,
			          "the digest given is %s, the time-stamp imprint uses %s",
			          over->digest_oid, oid);
		else if ((size_t)imsg->length != over->digest_len ||
		         CRYPTO_memcmp(imsg->data, over->digest, over->digest_len) != 0)
			issue_add(&is, VERIFY_TOTAL_FAILED, VERIFY_SUB_HASH_FAILURE,
			          "the time-stamp's message imprint does not match the digest given");
	} else {
		issue_add(&is, VERIFY_INDETERMINATE, VERIFY_SUB_SIGNED_DATA_NOT_FOUND,
		          "the time-stamped data was not given");
	}
	sis = CMS_get0_SignerInfos(cms);
	if (sk_CMS_SignerInfo_num(sis) != 1) {
		issue_add(&is, VERIFY_TOTAL_FAILED, VERIFY_SUB_FORMAT_FAILURE,
		          "a time-stamp token has exactly one signer");
		goto out;
	}
	self.data = (*pos)->data;
	self.len = (size_t)(*pos)->length;
	signer_validate(ctx, cms, sk_CMS_SignerInfo_value(sis, 0), &self, VERIFY_USE_TSA, gt, &is,
	                obj);
out:
	ERR_clear_error();
	issues_result(&is, &ind, &sub);
	issues_to_json(&is, obj);
	issues_free(&is);
	if (ind == VERIFY_TOTAL_PASSED)
		*gen_time = gt;
	*sub_out = sub;
	TS_TST_INFO_free(tst);
	CMS_ContentInfo_free(cms);
	return ind;
}

/* ---- CAdES and standalone time-stamps ---- */

static int
add_result(struct verify_report *r, struct verify_issues *is, json_t *sig)
{
	enum verify_indication ind;
	enum verify_sub sub;

	issues_result(is, &ind, &sub);
	issues_to_json(is, sig);
	return report_add(r, sig, ind, sub);
}

/* Whether the document (or digest) given is the content the signature carries: 1 yes, 0 no,
 * -1 when the digest's algorithm is unknown. */
static int
given_is_content(const struct verify_input *in, const ASN1_OCTET_STRING *econ)
{
	uint8_t dgst[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	ASN1_OBJECT *o;
	const EVP_MD *md;

	if (in->doc != NULL)
		return in->doc_len == (size_t)econ->length &&
		       (in->doc_len == 0 || memcmp(in->doc, econ->data, in->doc_len) == 0);
	o = OBJ_txt2obj(in->digest_oid, 1);
	md = o != NULL ? EVP_get_digestbyobj(o) : NULL;
	ASN1_OBJECT_free(o);
	if (md == NULL || EVP_Digest(econ->data, (size_t)econ->length, dgst, &n, md, NULL) != 1) {
		ERR_clear_error();
		return -1;
	}
	return n == in->digest_len && CRYPTO_memcmp(dgst, in->digest, n) == 0;
}

/* Points ctx at what the SignedData carries for all its signers and time-stamps. */
static int
outer_init(struct verify_ctx *ctx, CMS_ContentInfo *cms, const uint8_t *der, size_t len,
           struct verify_revdata *outer)
{
	struct formats_der_list crls = { 0 }, ocsps = { 0 };
	size_t i;
	int ret;

	if ((ret = revdata_init(outer)) != 0)
		return ret;
	if (formats_cades_revocation(der, len, &crls, &ocsps) == 0) {
		/* one that does not parse is skipped: it decides nothing (the signature's own CRLs
		 * are read again, and reported, by signer_validate) */
		for (i = 0; i < crls.n && i < VERIFY_MAX_OCSP; i++)
			if (crl_parse_into(outer->crls, crls.v[i].data, crls.v[i].len) != 0)
				continue;
		for (i = 0; i < ocsps.n && i < VERIFY_MAX_OCSP; i++)
			if (ocsp_parse_into(outer->ocsps, ocsps.v[i].data, ocsps.v[i].len) != 0)
				continue;
	}
	formats_der_list_free(&crls);
	formats_der_list_free(&ocsps);
	ctx->outer = outer;
	ctx->outer_certs = CMS_get1_certs(cms);
	ctx->cades_der = der;
	ctx->cades_len = len;
	return 0;
}

static void
outer_clear(struct verify_ctx *ctx, struct verify_revdata *outer)
{
	ctx->outer = NULL;
	sk_X509_pop_free(ctx->outer_certs, X509_free);
	ctx->outer_certs = NULL;
	ctx->cades_der = NULL;
	ctx->cades_len = 0;
	ctx->cades_signer = 0;
	if (outer->crls != NULL || outer->ocsps != NULL)
		revdata_free(outer);
}

int
cms_run(struct verify_ctx *ctx, const struct verify_input *in, enum verify_format fmt,
        struct verify_report *r, char *err, size_t errsz)
{
	struct verify_content content = { .data = in->doc, .len = in->doc_len,
	                                   .digest = in->digest, .digest_len = in->digest_len,
	                                   .digest_oid = in->digest_oid };
	struct verify_issues is;
	CMS_ContentInfo *cms = NULL;
	STACK_OF(CMS_SignerInfo) *sis;
	ASN1_OCTET_STRING **pos;
	uint8_t *der = NULL, *owned = NULL;
	const uint8_t *tok;
	const char *what;
	char ctype[80];
	size_t len = 0, toklen;
	json_t *sig = NULL;
	int64_t gt;
	enum verify_indication ind;
	enum verify_sub sub;
	struct verify_revdata outer = { NULL, NULL, NULL };
	bool detached;
	int i, n, ret, same = 1;

	issues_init(&is);
	if ((ret = der_decode(in->sig, in->sig_len, &der, &len)) != 0)
		goto out;
	if (fmt == VERIFY_FORMAT_TIMESTAMP) {
		if ((ret = tst_unwrap(der, len, &tok, &toklen, &owned, err, errsz)) != 0)
			goto out;
		if ((sig = json_object()) == NULL) {
			ret = INK_ERR_ALLOC;
			goto out;
		}
		ind = tst_validate(ctx, tok, toklen, &content, sig, &gt, &sub);
		ret = report_add(r, sig, ind, sub);
		sig = NULL;
		goto out;
	}
	ret = INK_ERR_INVALID;
	if ((cms = cms_parse(der, len)) == NULL) {
		snprintf(err, errsz, "not a CMS SignedData (garbage or truncated?)");
		goto out;
	}
	sis = CMS_get0_SignerInfos(cms);
	if ((n = sk_CMS_SignerInfo_num(sis)) <= 0) {
		snprintf(err, errsz, "the CMS SignedData holds no signature (certificates only?)");
		goto out;
	}
	pos = CMS_get0_content(cms);
	detached = pos == NULL || *pos == NULL;
	/* An attached signature and a document as well: the signature is judged over the document
	 * the caller has, and a document that is not the content carried is HASH_FAILURE. Never a
	 * verdict on the carried content alone while the caller believes their file was checked. */
	if (!detached && (in->doc != NULL || in->digest != NULL))
		same = given_is_content(in, *pos);
	if (!detached && same == 1) {
		content = (struct verify_content){ .data = (*pos)->data, .len = (size_t)(*pos)->length };
		what = "encapsulated";
	} else {
		what = in->doc != NULL ? "document" : in->digest != NULL ? "document digest" : "none";
	}
	oid_str(CMS_get0_eContentType(cms), ctype, sizeof(ctype));
	/* the SignedData's own certificates and revocation data (OCSP responses as otherRevInfo,
	 * which OpenSSL does not hand out) serve its time-stamps too */
	if ((ret = outer_init(ctx, cms, der, len, &outer)) != 0)
		goto out;
	for (i = 0; i < n; i++) {
		ctx->cades_signer = (size_t)i;
		issues_free(&is);
		issues_init(&is);
		if ((sig = json_pack("{s:s, s:b, s:s}", "format", "cades", "detached", detached,
		                     "signed_content", what)) == NULL) {
			ret = INK_ERR_ALLOC;
			goto out;
		}
		if (same == 0)
			issue_add(&is, VERIFY_TOTAL_FAILED, VERIFY_SUB_HASH_FAILURE,
			          "the %s the content the signature carries", in->doc != NULL ?
			          "document given is not" : "digest given is not that of");
		else if (same < 0)
			issue_add(&is, VERIFY_INDETERMINATE, VERIFY_SUB_SIGNED_DATA_NOT_FOUND,
			          "the digest given (%s) cannot be compared with the content the "
			          "signature carries", in->digest_oid);
		if (OBJ_obj2nid(CMS_get0_eContentType(cms)) != NID_pkcs7_data)
			warn_add(&is, "the signed content is declared as %s, not as data", ctype);
		signer_validate(ctx, cms, sk_CMS_SignerInfo_value(sis, i), &content,
		                VERIFY_USE_SIGNATURE, -1, &is, sig);
		ret = add_result(r, &is, sig);
		sig = NULL;
		if (ret != 0)
			goto out;
	}
	ret = 0;
out:
	ERR_clear_error();
	outer_clear(ctx, &outer);
	issues_free(&is);
	json_decref(sig);
	CMS_ContentInfo_free(cms);
	OPENSSL_free(owned);
	free(der);
	return ret;
}
