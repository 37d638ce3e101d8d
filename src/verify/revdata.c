/* revdata: revocation data other than the caller's CRLs — OCSP responses (given by the caller or
 * embedded in a signature as CAdES revocation-values or Adobe's revocationInfoArchival) and the
 * OCSP status of one certificate (RFC 6960: CertID match, responder authorised by the issuer,
 * signature, algorithm policy). */
#include "verify/verify_int.h"

#include <openssl/asn1t.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <string.h>

#include "policy/policy.h"

/* CAdES RevocationValues (ETSI EN 319 122-1, explicit tags):
 *   SEQUENCE { crlVals [0] SEQUENCE OF CertificateList OPTIONAL,
 *              ocspVals [1] SEQUENCE OF BasicOCSPResponse OPTIONAL,
 *              otherRevVals [2] OtherRevVals OPTIONAL } */
typedef struct {
	STACK_OF(X509_CRL) *crls;
	STACK_OF(OCSP_BASICRESP) *ocsps;
	ASN1_TYPE *other;
} REV_VALUES;

ASN1_SEQUENCE(REV_VALUES) = {
	ASN1_EXP_SEQUENCE_OF_OPT(REV_VALUES, crls, X509_CRL, 0),
	ASN1_EXP_SEQUENCE_OF_OPT(REV_VALUES, ocsps, OCSP_BASICRESP, 1),
	ASN1_EXP_OPT(REV_VALUES, other, ASN1_ANY, 2),
} ASN1_SEQUENCE_END(REV_VALUES)

DECLARE_ASN1_FUNCTIONS(REV_VALUES)
IMPLEMENT_ASN1_FUNCTIONS(REV_VALUES)

/* Adobe RevocationInfoArchival (signed attribute 1.2.840.113583.1.1.8, ISO 32000-1 12.8.3.3.2):
 *   SEQUENCE { crl [0] EXPLICIT SEQUENCE OF CRLs OPTIONAL,
 *              ocsp [1] EXPLICIT SEQUENCE OF OCSPResponse OPTIONAL,
 *              otherRevInfo [2] EXPLICIT SEQUENCE OF OtherRevInfo OPTIONAL } */
typedef struct {
	STACK_OF(X509_CRL) *crls;
	STACK_OF(OCSP_RESPONSE) *ocsps;
	STACK_OF(ASN1_TYPE) *other;
} REV_ARCHIVAL;

ASN1_SEQUENCE(REV_ARCHIVAL) = {
	ASN1_EXP_SEQUENCE_OF_OPT(REV_ARCHIVAL, crls, X509_CRL, 0),
	ASN1_EXP_SEQUENCE_OF_OPT(REV_ARCHIVAL, ocsps, OCSP_RESPONSE, 1),
	ASN1_EXP_SEQUENCE_OF_OPT(REV_ARCHIVAL, other, ASN1_ANY, 2),
} ASN1_SEQUENCE_END(REV_ARCHIVAL)

DECLARE_ASN1_FUNCTIONS(REV_ARCHIVAL)
IMPLEMENT_ASN1_FUNCTIONS(REV_ARCHIVAL)

#define OID_REVOCATION_VALUES "1.2.840.113549.1.9.16.2.24"
#define OID_ADBE_REVOCATION "1.2.840.113583.1.1.8"
/* Seconds an OCSP thisUpdate may lie in the future (clock skew). */
#define OCSP_SKEW 300

int
revdata_init(struct verify_revdata *rd)
{
	memset(rd, 0, sizeof(*rd));
	if ((rd->crls = sk_X509_CRL_new_null()) == NULL ||
	    (rd->ocsps = sk_OCSP_BASICRESP_new_null()) == NULL) {
		revdata_free(rd);
		return INK_ERR_ALLOC;
	}
	return 0;
}

void
revdata_free(struct verify_revdata *rd)
{
	sk_X509_CRL_pop_free(rd->crls, X509_CRL_free);
	sk_OCSP_BASICRESP_pop_free(rd->ocsps, OCSP_BASICRESP_free);
	sk_X509_pop_free(rd->certs, X509_free);
	rd->crls = NULL;
	rd->ocsps = NULL;
	rd->certs = NULL;
}

/* Moves the successful BasicOCSPResponse out of an OCSPResponse into dst. */
static int
ocsp_push_response(STACK_OF(OCSP_BASICRESP) *dst, OCSP_RESPONSE *resp)
{
	OCSP_BASICRESP *bs = NULL;

	if (OCSP_response_status(resp) != OCSP_RESPONSE_STATUS_SUCCESSFUL)
		return INK_ERR_INVALID;
	if ((bs = OCSP_response_get1_basic(resp)) == NULL)
		return INK_ERR_INVALID;
	if (sk_OCSP_BASICRESP_num(dst) >= VERIFY_MAX_OCSP || sk_OCSP_BASICRESP_push(dst, bs) <= 0) {
		OCSP_BASICRESP_free(bs);
		return INK_ERR_ALLOC;
	}
	return 0;
}

int
ocsp_parse_into(STACK_OF(OCSP_BASICRESP) *dst, const uint8_t *data, size_t len)
{
	OCSP_RESPONSE *resp = NULL;
	OCSP_BASICRESP *bs = NULL;
	uint8_t *der = NULL;
	const unsigned char *p;
	size_t dlen = 0;
	int ret;

	if (len > VERIFY_MAX_CRL)
		return INK_ERR_TOO_LARGE;
	if ((ret = der_decode(data, len, &der, &dlen)) != 0)
		return ret;
	ret = INK_ERR_INVALID;
	if (dlen > INT32_MAX)
		goto out;
	/* An OCSPResponse (what responders and `openssl ocsp -respout` give), or a bare
	 * BasicOCSPResponse (what CAdES revocation-values hold). */
	p = der;
	if ((resp = d2i_OCSP_RESPONSE(NULL, &p, (long)dlen)) != NULL && p == der + dlen) {
		ret = ocsp_push_response(dst, resp);
		goto out;
	}
	ERR_clear_error();
	p = der;
	if ((bs = d2i_OCSP_BASICRESP(NULL, &p, (long)dlen)) != NULL && p == der + dlen) {
		if (sk_OCSP_BASICRESP_num(dst) >= VERIFY_MAX_OCSP ||
		    sk_OCSP_BASICRESP_push(dst, bs) <= 0) {
			ret = INK_ERR_ALLOC;
			goto out;
		}
		bs = NULL;
		ret = 0;
	}
out:
	ERR_clear_error();
	OCSP_RESPONSE_free(resp);
	OCSP_BASICRESP_free(bs);
	free(der);
	return ret;
}

/* The DER of the first value of attribute oid (signed or unsigned), or NULL. */
static const ASN1_STRING *
attr_value(CMS_SignerInfo *si, const char *oid, bool is_signed)
{
	ASN1_OBJECT *o = OBJ_txt2obj(oid, 1);
	X509_ATTRIBUTE *a = NULL;
	ASN1_TYPE *t;
	int idx;

	if (o == NULL)
		return NULL;
	idx = is_signed ? CMS_signed_get_attr_by_OBJ(si, o, -1) :
	                  CMS_unsigned_get_attr_by_OBJ(si, o, -1);
	ASN1_OBJECT_free(o);
	if (idx >= 0)
		a = is_signed ? CMS_signed_get_attr(si, idx) : CMS_unsigned_get_attr(si, idx);
	if (a == NULL || (t = X509_ATTRIBUTE_get0_type(a, 0)) == NULL || t->type != V_ASN1_SEQUENCE)
		return NULL;
	return t->value.sequence;
}

/* Moves up to the caps' worth of src into dst (src keeps what is left, freed by its owner). */
static void
move_crls(STACK_OF(X509_CRL) *dst, STACK_OF(X509_CRL) *src)
{
	X509_CRL *c;

	while (sk_X509_CRL_num(dst) < VERIFY_MAX_OCSP && (c = sk_X509_CRL_shift(src)) != NULL) {
		if (sk_X509_CRL_push(dst, c) <= 0) {
			X509_CRL_free(c);
			return;
		}
	}
}

void
revdata_from_signer(CMS_SignerInfo *si, struct verify_revdata *rd, struct verify_issues *is)
{
	const ASN1_STRING *v;
	const unsigned char *p;
	REV_VALUES *rv = NULL;
	REV_ARCHIVAL *ra = NULL;
	OCSP_BASICRESP *bs;
	int i;

	if ((v = attr_value(si, OID_REVOCATION_VALUES, false)) != NULL) {
		p = v->data;
		if ((rv = d2i_REV_VALUES(NULL, &p, v->length)) == NULL) {
			warn_add(is, "the revocation-values attribute is malformed; ignored");
		} else {
			if (rv->crls != NULL)
				move_crls(rd->crls, rv->crls);
			while (rv->ocsps != NULL && sk_OCSP_BASICRESP_num(rd->ocsps) < VERIFY_MAX_OCSP &&
			       (bs = sk_OCSP_BASICRESP_shift(rv->ocsps)) != NULL) {
				if (sk_OCSP_BASICRESP_push(rd->ocsps, bs) <= 0)
					OCSP_BASICRESP_free(bs);
			}
		}
	}
	if ((v = attr_value(si, OID_ADBE_REVOCATION, true)) != NULL) {
		p = v->data;
		if ((ra = d2i_REV_ARCHIVAL(NULL, &p, v->length)) == NULL) {
			warn_add(is, "the revocationInfoArchival attribute is malformed; ignored");
		} else {
			if (ra->crls != NULL)
				move_crls(rd->crls, ra->crls);
			for (i = 0; ra->ocsps != NULL && i < sk_OCSP_RESPONSE_num(ra->ocsps); i++) {
				if (ocsp_push_response(rd->ocsps, sk_OCSP_RESPONSE_value(ra->ocsps, i)) != 0)
					warn_add(is, "an archived OCSP response is not usable; ignored");
			}
		}
	}
	ERR_clear_error();
	REV_VALUES_free(rv);
	REV_ARCHIVAL_free(ra);
}

/* Whether signer may answer for certificates of issuer: the issuer itself, or a responder it
 * certified with id-kp-OCSPSigning (RFC 6960 4.2.2.2). */
bool
ocsp_responder_authorised(X509 *signer, X509 *issuer, OCSP_BASICRESP *bs)
{
	EVP_PKEY *ipk = X509_get0_pubkey(issuer);
	const ASN1_GENERALIZEDTIME *produced = OCSP_resp_get0_produced_at(bs);
	int64_t at = produced != NULL ? asn1_time_secs(produced) : -1;

	if (ipk == NULL)
		return false;
	if (X509_cmp(signer, issuer) == 0 || EVP_PKEY_eq(X509_get0_pubkey(signer), ipk) == 1)
		return true;
	if (X509_check_issued(issuer, signer) != X509_V_OK || X509_verify(signer, ipk) != 1)
		return false;
	/* A delegated responder speaks only while its own certificate is valid. */
	if (at < 0 || at < asn1_time_secs(X509_get0_notBefore(signer)) ||
	    at > asn1_time_secs(X509_get0_notAfter(signer)))
		return false;
	return (X509_get_extension_flags(signer) & EXFLAG_XKUSAGE) != 0 &&
	       (X509_get_extended_key_usage(signer) & XKU_OCSP_SIGN) != 0;
}

/* The signature of bs verifies under signer's key (and no other certificate's). */
bool
ocsp_sig_ok(OCSP_BASICRESP *bs, X509 *signer)
{
	STACK_OF(X509) *only = sk_X509_new_null();
	bool ok;

	/* The chain of signer was judged by ocsp_responder_authorised(); here only the signature. */
	ok = only != NULL && sk_X509_push(only, signer) > 0 &&
	     OCSP_basic_verify(bs, only, NULL, OCSP_NOINTERN | OCSP_NOVERIFY) == 1;
	sk_X509_free(only);
	return ok;
}

/* The signature algorithm of bs meets the policy (its digest is allowed). */
bool
ocsp_alg_ok(OCSP_BASICRESP *bs)
{
	const X509_ALGOR *alg = OCSP_resp_get0_tbs_sigalg(bs);
	const ASN1_OBJECT *o = NULL;
	int md = NID_undef, pk = NID_undef;
	char oid[80];

	RSA_PSS_PARAMS *pss = NULL;
	int ptype = V_ASN1_UNDEF;
	bool ok;

	X509_ALGOR_get0(&o, &ptype, NULL, alg);
	if (OBJ_obj2nid(o) == NID_rsassaPss) {
		/* The digest is in the parameters; absent, it is SHA-1. */
		if (ptype != V_ASN1_SEQUENCE ||
		    (pss = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(RSA_PSS_PARAMS),
		                                     alg->parameter)) == NULL ||
		    pss->hashAlgorithm == NULL) {
			RSA_PSS_PARAMS_free(pss);
			return false;
		}
		oid_str(pss->hashAlgorithm->algorithm, oid, sizeof(oid));
		ok = policy_hash_by_oid(oid) != NULL;
		RSA_PSS_PARAMS_free(pss);
		return ok;
	}
	if (!OBJ_find_sigid_algs(OBJ_obj2nid(o), &md, &pk))
		return false;
	if (md == NID_undef)
		return pk == NID_ED25519 || pk == NID_ED448; /* EdDSA signs without a digest */
	oid_str(OBJ_nid2obj(md), oid, sizeof(oid));
	return policy_hash_by_oid(oid) != NULL;
}

/* The single response of bs about x, or NULL. */
OCSP_SINGLERESP *
ocsp_find(OCSP_BASICRESP *bs, X509 *x, X509 *issuer)
{
	OCSP_SINGLERESP *single;
	OCSP_CERTID *mine;
	ASN1_OBJECT *mdobj = NULL;
	const EVP_MD *md;
	int i, n = OCSP_resp_count(bs);

	for (i = 0; i < n; i++) {
		single = OCSP_resp_get0(bs, i);
		if (OCSP_id_get0_info(NULL, &mdobj, NULL, NULL,
		                      (OCSP_CERTID *)OCSP_SINGLERESP_get0_id(single)) != 1 ||
		    (md = EVP_get_digestbyobj(mdobj)) == NULL)
			continue;
		if ((mine = OCSP_cert_to_id(md, x, issuer)) == NULL)
			continue;
		if (OCSP_id_cmp(mine, OCSP_SINGLERESP_get0_id(single)) == 0) {
			OCSP_CERTID_free(mine);
			return single;
		}
		OCSP_CERTID_free(mine);
	}
	return NULL;
}

void
ocsp_pick(STACK_OF(OCSP_BASICRESP) *list, const char *label, X509 *x, X509 *issuer,
          STACK_OF(X509) *untrusted, int64_t now, struct verify_issues *is, struct rev_result *best)
{
	OCSP_BASICRESP *bs;
	OCSP_SINGLERESP *single;
	STACK_OF(X509) *certs = NULL;
	ASN1_GENERALIZEDTIME *rev = NULL, *thisupd = NULL, *nextupd = NULL;
	X509 *signer = NULL;
	int i, status, reason = -1;
	int64_t tu;

	if ((certs = sk_X509_new_null()) == NULL)
		return;
	/* The responder's certificate may be the issuer, or carried in the response. */
	if (sk_X509_push(certs, issuer) <= 0)
		goto out;
	for (i = 0; untrusted != NULL && i < sk_X509_num(untrusted); i++) {
		if (sk_X509_push(certs, sk_X509_value(untrusted, i)) <= 0)
			goto out;
	}
	for (i = 0; list != NULL && i < sk_OCSP_BASICRESP_num(list); i++) {
		bs = sk_OCSP_BASICRESP_value(list, i);
		if ((single = ocsp_find(bs, x, issuer)) == NULL)
			continue;
		signer = NULL;
		if (OCSP_resp_get0_signer(bs, &signer, certs) != 1 || signer == NULL) {
			warn_add(is, "an OCSP response (%s) names a responder it does not carry; ignored",
			         label);
			continue;
		}
		if (!ocsp_responder_authorised(signer, issuer, bs)) {
			warn_add(is, "an OCSP response (%s) is signed by a responder the issuer did not "
			         "authorise; ignored", label);
			continue;
		}
		if (!ocsp_sig_ok(bs, signer)) {
			warn_add(is, "an OCSP response (%s) has a bad signature; ignored", label);
			continue;
		}
		if (!ocsp_alg_ok(bs)) {
			warn_add(is, "an OCSP response (%s) is signed with an algorithm the policy does "
			         "not allow; ignored", label);
			continue;
		}
		status = OCSP_single_get0_status(single, &reason, &rev, &thisupd, &nextupd);
		tu = thisupd != NULL ? asn1_time_secs(thisupd) : -1;
		if (tu < 0 || tu > now + OCSP_SKEW) {
			warn_add(is, "an OCSP response (%s) has no usable thisUpdate; ignored", label);
			continue;
		}
		if (status != V_OCSP_CERTSTATUS_GOOD && status != V_OCSP_CERTSTATUS_REVOKED)
			continue; /* "unknown" says nothing */
		/* Revoked beats good; otherwise the newest answer wins. */
		if (best->status == REV_REVOKED && status != V_OCSP_CERTSTATUS_REVOKED)
			continue;
		if (best->status != REV_UNKNOWN && tu <= best->this_update &&
		    !(status == V_OCSP_CERTSTATUS_REVOKED && best->status != REV_REVOKED))
			continue;
		best->source = label;
		best->ocsp = true;
		best->this_update = tu;
		best->next_update = nextupd != NULL ? asn1_time_secs(nextupd) : -1;
		best->produced_at = OCSP_resp_get0_produced_at(bs) != NULL ?
		                    asn1_time_secs(OCSP_resp_get0_produced_at(bs)) : -1;
		best->invalidity = -1;
		if (status == V_OCSP_CERTSTATUS_REVOKED) {
			best->status = REV_REVOKED;
			best->revoked_at = rev != NULL ? asn1_time_secs(rev) : -1;
			best->reason = reason;
		} else {
			best->status = REV_GOOD;
			best->revoked_at = -1;
			best->reason = -1;
		}
	}
out:
	ERR_clear_error();
	sk_X509_free(certs);
}
