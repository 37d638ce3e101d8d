/* csr: the external-CA path: a PKCS#10 request for our key, and checks on what the CA sends back. */
#include "ca/ca_int.h"

#include <limits.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"

/* Extended key usages that still mean "sign documents", accepted at level 3-4. */
static const char *const signing_ekus[] = {
	"1.3.6.1.5.5.7.3.4",        /* id-kp-emailProtection (S/MIME signing) */
	"1.3.6.1.5.5.7.3.36",       /* id-kp-documentSigning (RFC 9336) */
	"1.3.6.1.4.1.311.10.3.12",  /* Microsoft document signing */
	"1.2.840.113583.1.1.5",     /* Adobe authentic documents trust */
};

/* Signs req by ext (the key elsewhere): the algorithm for pub and md, the digest of the
 * request info, the signature as a bit string of whole bytes, checked under pub. */
static int
sign_outside(X509_REQ *req, EVP_PKEY *pub, const EVP_MD *md, const struct ca_signer *ext)
{
	X509_ALGOR *alg = NULL;
	ASN1_BIT_STRING *bits = NULL;
	uint8_t *tbs = NULL, dg[EVP_MAX_MD_SIZE], *sig = NULL;
	unsigned int dglen = 0;
	size_t siglen = 0;
	int n, sig_nid = NID_undef, r = INK_ERR_UNSUPPORTED;

	if (md == NULL || OBJ_find_sigid_by_algs(&sig_nid, EVP_MD_get_type(md),
	                                         EVP_PKEY_get_base_id(pub)) != 1)
		goto out;
	r = INK_ERR_CRYPTO;
	/* RSA's algorithm identifiers carry NULL parameters, ECDSA's none */
	if ((alg = X509_ALGOR_new()) == NULL ||
	    X509_ALGOR_set0(alg, OBJ_nid2obj(sig_nid), EVP_PKEY_is_a(pub, "RSA") ? V_ASN1_NULL :
	                    V_ASN1_UNDEF, NULL) != 1 || X509_REQ_set1_signature_algo(req, alg) != 1)
		goto out;
	if ((n = i2d_re_X509_REQ_tbs(req, &tbs)) <= 0 ||
	    EVP_Digest(tbs, (size_t)n, dg, &dglen, md, NULL) != 1)
		goto out;
	if ((r = ext->sign(ext->arg, md, dg, dglen, &sig, &siglen)) != 0)
		goto out;
	r = INK_ERR_CRYPTO;
	if (siglen > INT_MAX || (bits = ASN1_BIT_STRING_new()) == NULL ||
	    ASN1_BIT_STRING_set(bits, sig, (int)siglen) != 1)
		goto out;
	bits->flags &= ~(ASN1_STRING_FLAG_BITS_LEFT | 0x07);
	bits->flags |= ASN1_STRING_FLAG_BITS_LEFT;
	X509_REQ_set0_signature(req, bits);
	bits = NULL;
	if (X509_REQ_verify(req, pub) != 1) {
		log_error("the request signed outside does not verify under its public key");
		goto out;
	}
	r = 0;
out:
	X509_ALGOR_free(alg);
	ASN1_BIT_STRING_free(bits);
	OPENSSL_free(tbs);
	free(sig);
	return r;
}

int
ca_make_csr(EVP_PKEY *key, const struct ca_subject *subj, const struct ca_signer *ext,
            X509_REQ **out)
{
	X509_REQ *req = NULL;
	X509_NAME *name = NULL;
	STACK_OF(X509_EXTENSION) *exts = NULL;
	X509_EXTENSION *ku = NULL;
	const EVP_MD *md = NULL;
	char why[256];
	int r = INK_ERR_INVALID;

	if (out != NULL)
		*out = NULL;
	if (key == NULL || subj == NULL || out == NULL)
		goto out;
	if ((r = ca_int_check_key(key, why, sizeof(why))) != 0) {
		log_op("CSR key refused: %s", why);
		goto out;
	}
	if ((r = ca_int_name(subj, &name)) != 0 || (r = ca_int_digest(key, &md)) != 0)
		goto out;
	r = INK_ERR_ALLOC;
	if ((req = X509_REQ_new()) == NULL || (exts = sk_X509_EXTENSION_new_null()) == NULL)
		goto out;
	r = INK_ERR_CRYPTO;
	if (X509_REQ_set_version(req, X509_REQ_VERSION_1) != 1 ||
	    X509_REQ_set_subject_name(req, name) != 1 || X509_REQ_set_pubkey(req, key) != 1)
		goto out;
	if ((ku = X509V3_EXT_nconf_nid(NULL, NULL, NID_key_usage,
	                               "critical,digitalSignature,nonRepudiation")) == NULL ||
	    sk_X509_EXTENSION_push(exts, ku) <= 0)
		goto out;
	ku = NULL;
	if (X509_REQ_add_extensions(req, exts) != 1)
		goto out;
	if (ext != NULL)
		r = sign_outside(req, key, md, ext);
	else
		r = X509_REQ_sign(req, key, md) > 0 ? 0 : INK_ERR_CRYPTO;
	if (r != 0)
		goto out;
	*out = req;
	req = NULL;
	r = 0;
out:
	X509_EXTENSION_free(ku);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	X509_NAME_free(name);
	X509_REQ_free(req);
	return r;
}

static int
refuse(char *why, size_t whysz, const char *msg)
{
	if (why != NULL && whysz > 0)
		snprintf(why, whysz, "%s", msg);
	return INK_ERR_POLICY;
}

/* 1 when every extended key usage in cert is a document-signing one, 0 if not, <0 on error. */
static int
ekus_signing_only(X509 *cert)
{
	EXTENDED_KEY_USAGE *eku = NULL;
	char oid[64];
	int crit = -1, i, len, ok = 1;
	size_t j;
	bool found;

	if ((eku = X509_get_ext_d2i(cert, NID_ext_key_usage, &crit, NULL)) == NULL)
		return crit == -1 ? 1 : -1; /* absent: fine; present but unreadable: error */
	for (i = 0; i < sk_ASN1_OBJECT_num(eku) && ok; i++) {
		len = OBJ_obj2txt(oid, sizeof(oid), sk_ASN1_OBJECT_value(eku, i), 1);
		if (len <= 0 || (size_t)len >= sizeof(oid)) {
			ok = 0;
			break;
		}
		found = false;
		for (j = 0; j < INK_ARRAY_LEN(signing_ekus); j++)
			found = found || strcmp(oid, signing_ekus[j]) == 0;
		ok = found;
	}
	EXTENDED_KEY_USAGE_free(eku);
	return ok;
}

int
ca_check_usage(X509 *cert, int level, char *why, size_t whysz)
{
	const uint32_t sign = KU_DIGITAL_SIGNATURE | KU_NON_REPUDIATION;
	uint32_t flags, ku;
	int i;

	if (why != NULL && whysz > 0)
		why[0] = '\0';
	if (cert == NULL || level < 1 || level > 4)
		return INK_ERR_INVALID;
	flags = X509_get_extension_flags(cert);
	if (flags & EXFLAG_INVALID)
		return refuse(why, whysz, "certificate has malformed or duplicate extensions");
	if ((flags & EXFLAG_KUSAGE) == 0)
		return refuse(why, whysz, "certificate has no keyUsage extension");
	ku = X509_get_key_usage(cert);
	if ((ku & (KU_KEY_CERT_SIGN | KU_CRL_SIGN)) != 0)
		return refuse(why, whysz, "keyUsage allows keyCertSign or cRLSign");
	if ((flags & EXFLAG_CA) || X509_check_ca(cert) != 0)
		return refuse(why, whysz, "certificate is a CA certificate");
	if ((ku & sign) == 0)
		return refuse(why, whysz, "keyUsage has neither digitalSignature nor nonRepudiation");
	if (level >= 3) {
		if (ku != sign)
			return refuse(why, whysz, "at level 3 and 4 keyUsage must be exactly "
			              "digitalSignature and nonRepudiation");
		if ((i = X509_get_ext_by_NID(cert, NID_key_usage, -1)) < 0 ||
		    X509_EXTENSION_get_critical(X509_get_ext(cert, i)) != 1)
			return refuse(why, whysz, "at level 3 and 4 keyUsage must be critical");
		if (ekus_signing_only(cert) != 1)
			return refuse(why, whysz, "at level 3 and 4 extendedKeyUsage may only name "
			              "document signing");
	}
	return 0;
}

int
ca_check_issued(X509 *cert, EVP_PKEY *key, int level, char *why, size_t whysz)
{
	char oid[64], kwhy[256];
	EVP_PKEY *pub;
	int mdnid = NID_undef, r;

	if (why != NULL && whysz > 0)
		why[0] = '\0';
	if (cert == NULL || key == NULL || level < 1 || level > 4)
		return INK_ERR_INVALID;
	if ((pub = X509_get0_pubkey(cert)) == NULL) {
		ERR_clear_error();
		return refuse(why, whysz, "certificate public key unreadable or unsupported");
	}
	if (EVP_PKEY_eq(pub, key) != 1) {
		ERR_clear_error();
		return refuse(why, whysz, "certificate is for another key");
	}
	if ((r = ca_int_check_key(pub, kwhy, sizeof(kwhy))) != 0)
		return refuse(why, whysz, kwhy);
	if (X509_get_version(cert) != X509_VERSION_3)
		return refuse(why, whysz, "certificate is not X.509 v3");
	if (OBJ_obj2txt(oid, sizeof(oid), OBJ_nid2obj(X509_get_signature_nid(cert)), 1) <= 0 ||
	    policy_sig_alg_by_oid(oid) == NULL)
		return refuse(why, whysz, "certificate signature algorithm not allowed "
		              "(CRYPTREC: RSA PKCS#1 v1.5/PSS, ECDSA or EdDSA with SHA-2)");
	/* The digest inside the algorithm (RSASSA-PSS names it only in its parameters). */
	if (X509_get_signature_info(cert, &mdnid, NULL, NULL, NULL) != 1 ||
	    (mdnid != NID_undef &&
	     (OBJ_obj2txt(oid, sizeof(oid), OBJ_nid2obj(mdnid), 1) <= 0 ||
	      policy_hash_by_oid(oid) == NULL))) {
		ERR_clear_error();
		return refuse(why, whysz, "certificate signature digest not allowed (SHA-2 or SHA-3)");
	}
	if ((r = ca_check_usage(cert, level, why, whysz)) != 0)
		return r;
	if (X509_cmp_current_time(X509_get0_notBefore(cert)) >= 0)
		return refuse(why, whysz, "certificate is not valid yet");
	if (X509_cmp_current_time(X509_get0_notAfter(cert)) <= 0)
		return refuse(why, whysz, "certificate has expired");
	return 0;
}
