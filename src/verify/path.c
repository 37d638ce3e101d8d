/* path: X.509 validation of a signing or TSA certificate — chain to a trust anchor, validity at
 * the best signing time, key usage, algorithms, and revocation from CRLs and OCSP responses
 * (EN 319 102-1 XCV). */
#include "verify/verify_int.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <string.h>

#include "policy/policy.h"

/* Extended key usages that allow document signing (when the extension is present at all). */
static const char *const signing_ekus[] = {
	"2.5.29.37.0",               /* anyExtendedKeyUsage */
	"1.3.6.1.5.5.7.3.4",         /* emailProtection */
	"1.3.6.1.5.5.7.3.36",        /* id-kp-documentSigning (RFC 9336) */
	"1.2.840.113583.1.1.5",      /* Adobe authentic documents trust */
	"1.3.6.1.4.1.311.10.3.12",   /* Microsoft document signing */
	"1.3.6.1.5.5.7.3.3",         /* codeSigning */
};

/* ---- revocation ---- */

/* Where revocation data comes from: the label the report shows, and its origin's short name. */
static const struct {
	const char *label, *origin;
} rev_sources[] = {
	{ "service current CRL", "service" },
	{ "CRL embedded in the signature", "embedded" },
	{ "CRL supplied by the caller", "supplied" },
	{ "CRL in the PDF's document security store", "dss" },
	{ "CRL fetched from the distribution point", "fetched" },
	{ "OCSP response embedded in the signature", "embedded" },
	{ "OCSP response supplied by the caller", "supplied" },
	{ "OCSP response in the PDF's document security store", "dss" },
	{ "OCSP response fetched from the responder", "fetched" },
};
enum {
	SRC_SERVICE, SRC_CRL_EMBEDDED, SRC_CRL_SUPPLIED, SRC_CRL_DSS, SRC_CRL_FETCHED,
	SRC_OCSP_EMBEDDED, SRC_OCSP_SUPPLIED, SRC_OCSP_DSS, SRC_OCSP_FETCHED,
};
#define SRC(i) (rev_sources[(i)].label)

static const char *
rev_origin(const char *label)
{
	size_t i;

	for (i = 0; i < INK_ARRAY_LEN(rev_sources); i++)
		if (label == rev_sources[i].label)
			return rev_sources[i].origin;
	return "none";
}

void
rev_init(struct rev_result *rr)
{
	memset(rr, 0, sizeof(*rr));
	rr->status = REV_UNKNOWN;
	rr->source = "none";
	rr->revoked_at = rr->invalidity = rr->this_update = rr->next_update = rr->produced_at = -1;
	rr->reason = -1;
}

/* Whether crl can speak for every certificate of its issuer: a complete CRL (no delta CRL,
 * no issuingDistributionPoint scoping it, no critical extension not understood here), signed
 * with a digest the policy allows. */
bool
crl_complete(X509_CRL *crl)
{
	X509_EXTENSION *ext;
	int i, nid, mdnid = NID_undef;
	char oid[80];

	for (i = 0; i < X509_CRL_get_ext_count(crl); i++) {
		ext = X509_CRL_get_ext(crl, i);
		nid = OBJ_obj2nid(X509_EXTENSION_get_object(ext));
		if (nid == NID_delta_crl || nid == NID_issuing_distribution_point ||
		    (X509_EXTENSION_get_critical(ext) && nid != NID_crl_number &&
		     nid != NID_authority_key_identifier))
			return false;
	}
	if (!OBJ_find_sigid_algs(X509_CRL_get_signature_nid(crl), &mdnid, NULL))
		return false;
	if (mdnid == NID_undef)
		return true; /* EdDSA */
	oid_str(OBJ_nid2obj(mdnid), oid, sizeof(oid));
	return policy_hash_by_oid(oid) != NULL;
}

/* What the CRLs of one or more sources say about x: any complete, authentic CRL of its issuer
 * (name match, a valid signature) that lists x decides "revoked"; otherwise the newest one
 * decides "good". A pick carries over calls, so several sources are weighed together. */
struct crl_choice {
	X509_CRL *crl;
	const char *label;
	bool revoked;
};

static void
crl_pick(STACK_OF(X509_CRL) *crls, const char *label, X509 *x, X509 *issuer,
         struct crl_choice *best)
{
	EVP_PKEY *ipk = X509_get0_pubkey(issuer);
	X509_REVOKED *rev;
	X509_CRL *crl;
	bool revoked;
	int i, found;

	for (i = 0; ipk != NULL && i < sk_X509_CRL_num(crls); i++) {
		crl = sk_X509_CRL_value(crls, i);
		if (X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_issuer_name(x)) != 0 ||
		    !crl_complete(crl))
			continue;
		if (X509_CRL_verify(crl, ipk) != 1) {
			ERR_clear_error();
			continue;
		}
		rev = NULL;
		found = X509_CRL_get0_by_cert(crl, &rev, x);
		/* 2: a removeFromCRL entry (delta CRLs only): says nothing good either. */
		if (found == 2)
			continue;
		revoked = found == 1 && rev != NULL;
		if (best->crl == NULL || (revoked && !best->revoked) ||
		    (revoked == best->revoked &&
		     ASN1_TIME_compare(X509_CRL_get0_lastUpdate(crl),
		                       X509_CRL_get0_lastUpdate(best->crl)) > 0)) {
			best->crl = crl;
			best->label = label;
			best->revoked = revoked;
		}
	}
	ERR_clear_error();
}

/* What crl (from label) says about x, into rr. */
static void
crl_status(X509_CRL *crl, const char *label, X509 *x, struct rev_result *rr)
{
	X509_REVOKED *rev = NULL;
	ASN1_ENUMERATED *reason = NULL;
	ASN1_GENERALIZEDTIME *inval = NULL;

	rr->source = label;
	rr->ocsp = false;
	rr->this_update = asn1_time_secs(X509_CRL_get0_lastUpdate(crl));
	rr->next_update = asn1_time_secs(X509_CRL_get0_nextUpdate(crl));
	if (X509_CRL_get0_by_cert(crl, &rev, x) != 1 || rev == NULL) {
		rr->status = REV_GOOD;
		return;
	}
	rr->status = REV_REVOKED;
	rr->revoked_at = asn1_time_secs(X509_REVOKED_get0_revocationDate(rev));
	if ((reason = X509_REVOKED_get_ext_d2i(rev, NID_crl_reason, NULL, NULL)) != NULL)
		rr->reason = (int)ASN1_ENUMERATED_get(reason);
	if ((inval = X509_REVOKED_get_ext_d2i(rev, NID_invalidity_date, NULL, NULL)) != NULL)
		rr->invalidity = asn1_time_secs(inval);
	ASN1_ENUMERATED_free(reason);
	ASN1_GENERALIZEDTIME_free(inval);
	ERR_clear_error();
}

/* Fetches x's revocation data from its own URLs (fetch.c) into ctx->fetched and
 * ctx->fetched_ocsps, where they are weighed like data from any other source. */
static void
fetch_into(struct verify_ctx *ctx, X509 *x, X509 *issuer, struct verify_issues *is)
{
	struct verify_vdata vd = { 0 };
	char why[256];
	size_t i;

	if (ctx->fetcher == NULL && verify_fetch_new(&ctx->fetcher) != 0)
		return;
	if (fetch_cert(ctx->fetcher, x, issuer, &vd, why, sizeof(why)) != 0) {
		warn_add(is, "revocation data could not be fetched: %s", why);
		return;
	}
	for (i = 0; i < vd.ncrls; i++)
		if (crl_parse_into(ctx->fetched, vd.crls[i].data, vd.crls[i].len) != 0)
			warn_add(is, "a fetched CRL could not be kept");
	for (i = 0; i < vd.nocsps; i++)
		if (ocsp_parse_into(ctx->fetched_ocsps, vd.ocsps[i].data, vd.ocsps[i].len) != 0)
			warn_add(is, "a fetched OCSP response could not be kept");
	verify_vdata_free(&vd);
}

/* When rr's data was issued: an OCSP response's thisUpdate (the time its status is known to
 * be correct, never after producedAt), a CRL's thisUpdate. */
static int64_t
rev_issued(const struct rev_result *rr)
{
	return rr->this_update;
}

/* EN 319 102-1 revocation freshness: a "good" answer shows x was not revoked at T, the best
 * signing time a time-stamp proves, only if it was issued at or after T. An OCSP responder
 * answers on demand, so that is always obtainable and required: an old "good" response from
 * before a key compromise, put into a signature or a DSS, proves nothing. A CRL is issued on its
 * CA's schedule: it is taken for T also when T lies in its own validity window (thisUpdate ..
 * nextUpdate; the checker's default maximum age, nextUpdate - thisUpdate). Without a
 * time-stamp, T is the validation time, and data is fresh while its nextUpdate has not passed.
 * "Revoked" needs no freshness: a revocation is never undone (certificateHold is not honoured). */
static bool
rev_fresh(const struct rev_result *rr, int64_t poe, int64_t now)
{
	if (rr->status != REV_GOOD)
		return true;
	if (poe < 0)
		return rr->next_update < 0 || rr->next_update >= now;
	if (rev_issued(rr) >= poe)
		return true;
	return !rr->ocsp && rr->next_update >= poe;
}

/* Marks a "good" rr that is not fresh for the time it must prove as stale: it stays in the
 * report, but as REV_UNKNOWN it decides nothing. */
static void
rev_freshen(struct rev_result *rr, int64_t poe, int64_t now)
{
	if (rr->status == REV_UNKNOWN)
		return; /* nothing new: an earlier stale pick still stands as stale */
	rr->stale = false;
	if (rev_fresh(rr, poe, now))
		return;
	rr->status = REV_UNKNOWN;
	rr->stale = true;
	rr->must_prove = poe >= 0 ? poe : now;
}

/* Revocation data other than the service's: CRLs and OCSP responses embedded (in the
 * signature, or in the SignedData around a time-stamp), supplied, in a DSS, or fetched (when
 * fetch, and only when nothing else decides). "Revoked" from any of them wins, else the newest
 * (crl_pick); a newest "good" issued before the time it must prove (poe, or now without one)
 * does not decide (rev_freshen). */
static void
revocation_other(struct verify_ctx *ctx, X509 *x, X509 *issuer, STACK_OF(X509) *untrusted,
                 const struct verify_revdata *embedded, bool fetch, int64_t poe,
                 struct verify_issues *is, struct rev_result *rr)
{
	struct crl_choice best = { 0 };

	rev_init(rr);
	crl_pick(embedded->crls, SRC(SRC_CRL_EMBEDDED), x, issuer, &best);
	if (ctx->outer != NULL && ctx->outer != embedded)
		crl_pick(ctx->outer->crls, SRC(SRC_CRL_EMBEDDED), x, issuer, &best);
	crl_pick(ctx->crls, SRC(SRC_CRL_SUPPLIED), x, issuer, &best);
	if (ctx->dss != NULL)
		crl_pick(ctx->dss->crls, SRC(SRC_CRL_DSS), x, issuer, &best);
	crl_pick(ctx->fetched, SRC(SRC_CRL_FETCHED), x, issuer, &best);
	if (best.crl != NULL)
		crl_status(best.crl, best.label, x, rr);
	ocsp_pick(embedded->ocsps, SRC(SRC_OCSP_EMBEDDED), x, issuer, untrusted, ctx->now, is, rr);
	if (ctx->outer != NULL && ctx->outer != embedded)
		ocsp_pick(ctx->outer->ocsps, SRC(SRC_OCSP_EMBEDDED), x, issuer, untrusted, ctx->now,
		          is, rr);
	ocsp_pick(ctx->ocsps, SRC(SRC_OCSP_SUPPLIED), x, issuer, untrusted, ctx->now, is, rr);
	if (ctx->dss != NULL)
		ocsp_pick(ctx->dss->ocsps, SRC(SRC_OCSP_DSS), x, issuer, untrusted, ctx->now, is, rr);
	ocsp_pick(ctx->fetched_ocsps, SRC(SRC_OCSP_FETCHED), x, issuer, untrusted, ctx->now, is, rr);
	rev_freshen(rr, poe, ctx->now);
	if (rr->status != REV_UNKNOWN || !fetch)
		return;
	/* nothing at hand decides: what x's own URLs say now (once a run per URL) */
	fetch_into(ctx, x, issuer, is);
	crl_pick(ctx->fetched, SRC(SRC_CRL_FETCHED), x, issuer, &best);
	if (best.crl != NULL)
		crl_status(best.crl, best.label, x, rr);
	ocsp_pick(ctx->fetched_ocsps, SRC(SRC_OCSP_FETCHED), x, issuer, untrusted, ctx->now, is, rr);
	rev_freshen(rr, poe, ctx->now);
}

/* Whether issuer is one of the service's own CAs (same name and key: a re-issued CA
 * certificate is the same CA). */
static bool
service_issuer(const struct verify_ctx *ctx, X509 *issuer)
{
	X509 *ca;
	int i;

	for (i = 0; i < sk_X509_num(ctx->service_cas); i++) {
		ca = sk_X509_value(ctx->service_cas, i);
		if (X509_NAME_cmp(X509_get_subject_name(ca), X509_get_subject_name(issuer)) == 0 &&
		    EVP_PKEY_eq(X509_get0_pubkey(ca), X509_get0_pubkey(issuer)) == 1)
			return true;
	}
	ERR_clear_error();
	return false;
}

/* The revocation status of x: rr is what decides; other (status REV_UNKNOWN when none) is data
 * that was looked at but did not decide. For a certificate of the service's own CA only the
 * service's current data can say "good"; anything else is evidence of the past, except that
 * "revoked" from any authentic source still wins (a CA never unrevokes: certificateHold is not
 * offered, and a restored CA database must not bring a revoked certificate back). */
static void
revocation_check(struct verify_ctx *ctx, X509 *x, X509 *issuer, STACK_OF(X509) *untrusted,
                 const struct verify_revdata *embedded, int64_t poe, struct verify_issues *is,
                 struct rev_result *rr, struct rev_result *other, bool *service)
{
	struct crl_choice best = { 0 };
	struct rev_result tmp;

	rev_init(rr);
	rev_init(other);
	*service = service_issuer(ctx, issuer);
	if (!*service) {
		revocation_other(ctx, x, issuer, untrusted, embedded, ctx->fetch, poe, is, rr);
	} else {
		crl_pick(ctx->service_crls, SRC(SRC_SERVICE), x, issuer, &best);
		if (best.crl != NULL)
			crl_status(best.crl, best.label, x, rr);
		/* A CRL past its nextUpdate is not the service's current word (a replayed old one
		 * would say "good" for a certificate revoked since). */
		if (rr->status == REV_GOOD && rr->next_update >= 0 && rr->next_update < ctx->now) {
			warn_add(is, "the service's CRL is past its nextUpdate: it is not current, and "
			         "cannot say good");
			rev_init(rr);
		}
		/* The service's current CRL needs no freshness against poe: "not revoked" now
		 * implies "not revoked" at any earlier time, since a revocation is never undone.
		 * When the service answers OCSP, its own fresh response is consulted here, beside
		 * its CRL: nothing else may make one of its certificates good. */
		revocation_other(ctx, x, issuer, untrusted, embedded, false, poe, is, other);
		if (rr->status == REV_UNKNOWN)
			warn_add(is, "the service's current CRL for a certificate of its own CA is not at "
			         "hand: data carried by the signature cannot stand in for it");
		if (other->status == REV_REVOKED && rr->status != REV_REVOKED) {
			warn_add(is, "%s says revoked where the service's current CRL does not; revoked "
			         "stands", other->source);
			tmp = *rr;
			*rr = *other;
			*other = tmp;
		}
	}
	if (rr->status != REV_UNKNOWN && rr->next_update >= 0 && rr->next_update < ctx->now)
		warn_add(is, "the revocation data used (%s) is past its nextUpdate", rr->source);
}

/* RFC 5280 5.3.1 CRLReason names (7 is not used). */
static json_t *
reason_json(int reason)
{
	static const char *const names[] = {
		"unspecified", "keyCompromise", "cACompromise", "affiliationChanged", "superseded",
		"cessationOfOperation", "certificateHold", NULL, "removeFromCRL", "privilegeWithdrawn",
		"aACompromise",
	};

	if (reason < 0 || (size_t)reason >= INK_ARRAY_LEN(names) || names[reason] == NULL)
		return json_null();
	return json_string(names[reason]);
}

static json_t *
rev_json(const struct rev_result *rr, bool checked)
{
	static const char *const names[] = { "unknown", "good", "revoked" };

	return json_pack("{s:s, s:b, s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
	                 "status", checked ? names[rr->status] : "not checked",
	                 "stale", rr->stale,
	                 "source", rr->source,
	                 "origin", rev_origin(rr->source),
	                 "type", rr->status == REV_UNKNOWN && !rr->stale ? json_null() :
	                         json_string(rr->ocsp ? "OCSP" : "CRL"),
	                 "this_update", json_time(rr->this_update),
	                 "next_update", json_time(rr->next_update),
	                 "produced_at", json_time(rr->produced_at),
	                 "revoked_at", json_time(rr->revoked_at),
	                 "reason", reason_json(rr->reason),
	                 "invalidity_date", json_time(rr->invalidity));
}

/* ---- per-certificate checks ---- */

static void
cert_algs_check(X509 *x, const char *who, int64_t t, struct verify_issues *is, json_t *obj)
{
	int mdnid = NID_undef, pknid = NID_undef, secbits = 0;
	uint32_t flags = 0;
	char oid[80];

	key_check(X509_get0_pubkey(x), t, who, is, obj);
	if (X509_get_signature_info(x, &mdnid, &pknid, &secbits, &flags) != 1) {
		issue_add(is, VERIFY_INDETERMINATE, VERIFY_SUB_CRYPTO_CONSTRAINTS_FAILURE,
		          "%s: unknown signature algorithm", who);
		return;
	}
	if (mdnid == NID_undef)
		return; /* EdDSA: no separate digest */
	oid_str(OBJ_nid2obj(mdnid), oid, sizeof(oid));
	if (policy_hash_by_oid(oid) == NULL)
		issue_add(is, VERIFY_INDETERMINATE, VERIFY_SUB_CRYPTO_CONSTRAINTS_FAILURE,
		          "%s: signed with %s, which is not allowed", who, OBJ_nid2sn(mdnid));
}

static bool
eku_has(EXTENDED_KEY_USAGE *eku, const char *const *oids, size_t n)
{
	char oid[80];
	int i;
	size_t j;

	for (i = 0; i < sk_ASN1_OBJECT_num(eku); i++) {
		oid_str(sk_ASN1_OBJECT_value(eku, i), oid, sizeof(oid));
		for (j = 0; j < n; j++) {
			if (strcmp(oid, oids[j]) == 0)
				return true;
		}
	}
	return false;
}

static void
usage_check(X509 *x, enum verify_use use, struct verify_issues *is)
{
	static const char *const ts_eku[] = { "1.3.6.1.5.5.7.3.8" };
	EXTENDED_KEY_USAGE *eku = NULL;
	uint32_t ku;
	int crit = -1;
	const char *who = use == VERIFY_USE_TSA ? "TSA certificate" : "signing certificate";

	ku = X509_get_key_usage(x);
	if (ku == UINT32_MAX)
		warn_add(is, "%s has no key usage extension", who);
	else if ((ku & (KU_DIGITAL_SIGNATURE | KU_NON_REPUDIATION)) == 0)
		issue_add(is, VERIFY_INDETERMINATE, VERIFY_SUB_SIG_CONSTRAINTS_FAILURE,
		          "%s key usage allows neither digitalSignature nor nonRepudiation", who);
	eku = X509_get_ext_d2i(x, NID_ext_key_usage, &crit, NULL);
	if (use == VERIFY_USE_TSA) {
		if (eku == NULL || !eku_has(eku, ts_eku, 1))
			issue_add(is, VERIFY_INDETERMINATE, VERIFY_SUB_SIG_CONSTRAINTS_FAILURE,
			          "TSA certificate lacks the timeStamping extended key usage");
		else if (crit != 1 || sk_ASN1_OBJECT_num(eku) != 1)
			/* RFC 3161 2.3: timeStamping alone, in a critical extension. */
			issue_add(is, VERIFY_INDETERMINATE, VERIFY_SUB_SIG_CONSTRAINTS_FAILURE,
			          "TSA certificate's extended key usage is not timeStamping alone, "
			          "critical (RFC 3161)");
	} else if (eku != NULL && !eku_has(eku, signing_ekus, INK_ARRAY_LEN(signing_ekus))) {
		issue_add(is, VERIFY_INDETERMINATE, VERIFY_SUB_SIG_CONSTRAINTS_FAILURE,
		          "signing certificate's extended key usage does not allow document signing");
	} else if (eku == NULL && crit != -1) {
		issue_add(is, VERIFY_INDETERMINATE, VERIFY_SUB_FORMAT_FAILURE,
		          "signing certificate's extended key usage extension is malformed");
	}
	EXTENDED_KEY_USAGE_free(eku);
}

static enum verify_sub
chain_error_sub(int err)
{
	switch (err) {
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
		return VERIFY_SUB_NO_CERTIFICATE_CHAIN_FOUND;
	case X509_V_ERR_INVALID_CA:
	case X509_V_ERR_PATH_LENGTH_EXCEEDED:
	case X509_V_ERR_KEYUSAGE_NO_CERTSIGN:
	case X509_V_ERR_INVALID_PURPOSE:
	case X509_V_ERR_INVALID_EXTENSION:
	case X509_V_ERR_INVALID_POLICY_EXTENSION:
	case X509_V_ERR_NO_EXPLICIT_POLICY:
	case X509_V_ERR_PERMITTED_VIOLATION:
	case X509_V_ERR_EXCLUDED_VIOLATION:
	case X509_V_ERR_UNHANDLED_CRITICAL_EXTENSION:
		return VERIFY_SUB_CHAIN_CONSTRAINTS_FAILURE;
	default:
		return VERIFY_SUB_CERTIFICATE_CHAIN_GENERAL_FAILURE;
	}
}

/* Validity of x at the best signing time; rev tells whether "not revoked" is known. */
static void
validity_check(X509 *x, const char *who, const struct verify_times *t, int64_t now,
               enum rev_status rev, struct verify_issues *is)
{
	int64_t nb = asn1_time_secs(X509_get0_notBefore(x));
	int64_t na = asn1_time_secs(X509_get0_notAfter(x));
	char buf[21];

	if (nb < 0 || na < 0) {
		issue_add(is, VERIFY_TOTAL_FAILED, VERIFY_SUB_FORMAT_FAILURE,
		          "%s: unreadable validity period", who);
		return;
	}
	if (t->poe >= 0) {
		/* A time-stamp proves when the signature existed. */
		ink_time_str(t->poe, buf);
		if (t->poe < nb)
			issue_add(is, VERIFY_TOTAL_FAILED, VERIFY_SUB_NOT_YET_VALID,
			          "%s was not yet valid at the time-stamp's time %s", who, buf);
		else if (t->poe > na)
			issue_add(is, VERIFY_TOTAL_FAILED, VERIFY_SUB_EXPIRED,
			          "%s had expired before the time-stamp's time %s", who, buf);
		return;
	}
	if (now < nb) {
		issue_add(is, VERIFY_INDETERMINATE, VERIFY_SUB_NOT_YET_VALID,
		          "%s is not yet valid", who);
	} else if (now > na) {
		ink_time_str(na, buf);
		if (rev == REV_GOOD)
			issue_add(is, VERIFY_INDETERMINATE, VERIFY_SUB_OUT_OF_BOUNDS_NOT_REVOKED,
			          "%s expired on %s and no time-stamp proves the signature is older "
			          "(it is not revoked)", who, buf);
		else
			issue_add(is, VERIFY_INDETERMINATE, VERIFY_SUB_OUT_OF_BOUNDS_NO_POE,
			          "%s expired on %s and no time-stamp proves the signature is older",
			          who, buf);
	}
}

/* Revocations whose reason says the key may have been in other hands before the revocation
 * date (RFC 5280 5.3.1): keyCompromise, cACompromise, aACompromise. */
static bool
reason_compromise(int reason)
{
	return reason == 1 || reason == 2 || reason == 10;
}

/* Revocation as seen at the best signing time (EN 319 102-1 5.3.4, 5.6.2.4). The certificate
 * stops being trusted at its revocation date, or at the CRL entry's earlier invalidityDate;
 * for a compromise with no invalidityDate that moment is unknown, so a time-stamp older than
 * the revocation date proves nothing about it (docs/verify.md). */
static void
revocation_judge(const struct rev_result *rr, const char *who, bool ca, const struct verify_times *t,
                 bool require, struct verify_issues *is)
{
	char when[21], at[21];
	int64_t from = rr->revoked_at;
	bool unknown_start;

	if (rr->status == REV_UNKNOWN && rr->stale) {
		/* EN 319 102-1 5.2.5, 5.2.6: revocation data that is not fresh gives TRY_LATER. */
		ink_time_str(rr->this_update, when);
		ink_time_str(rr->must_prove, at);
		if (require)
			issue_add(is, VERIFY_INDETERMINATE, VERIFY_SUB_TRY_LATER,
			          "the newest revocation data for the %s (%s, issued %s) is not fresh: "
			          "it cannot show the certificate was not revoked at %s%s", who,
			          rr->source, when, at,
			          t->poe >= 0 ? ", the time-stamp's time" : ", the validation time");
		else
			warn_add(is, "revocation of the %s not checked (the newest data, %s, issued %s, "
			         "is older than %s)", who, rr->source, when, at);
		return;
	}
	if (rr->status == REV_UNKNOWN) {
		if (require)
			issue_add(is, VERIFY_INDETERMINATE, VERIFY_SUB_TRY_LATER,
			          "no revocation information for the %s (give a CRL or OCSP response)", who);
		else
			warn_add(is, "revocation of the %s not checked (no CRL or OCSP response)", who);
		return;
	}
	if (rr->status != REV_REVOKED)
		return;
	if (rr->invalidity >= 0 && (from < 0 || rr->invalidity < from))
		from = rr->invalidity;
	unknown_start = reason_compromise(rr->reason) && rr->invalidity < 0;
	ink_time_str(from >= 0 ? from : 0, when);
	if (t->poe >= 0 && from > t->poe && !unknown_start) {
		warn_add(is, "%s was revoked on %s, after the time-stamp proving the signature", who,
		         when);
		return;
	}
	if ((t->poe >= 0 && from <= t->poe) || (t->claimed >= 0 && from <= t->claimed)) {
		issue_add(is, VERIFY_TOTAL_FAILED, VERIFY_SUB_REVOKED, "%s was revoked on %s%s", who,
		          when, t->poe >= 0 && from <= t->poe ? ", before the time-stamp" :
		          ", before the claimed signing time");
		return;
	}
	if (unknown_start && t->poe >= 0)
		issue_add(is, VERIFY_INDETERMINATE,
		          ca ? VERIFY_SUB_REVOKED_CA_NO_POE : VERIFY_SUB_REVOKED_NO_POE,
		          "%s was revoked on %s for a compromise of unknown date: the time-stamp is "
		          "older than the revocation, but nothing proves it older than the compromise",
		          who, when);
	else
		issue_add(is, VERIFY_INDETERMINATE,
		          ca ? VERIFY_SUB_REVOKED_CA_NO_POE : VERIFY_SUB_REVOKED_NO_POE,
		          "%s was revoked on %s and no time-stamp proves the signature is older", who,
		          when);
}

void
path_validate(struct verify_ctx *ctx, X509 *leaf, STACK_OF(X509) *untrusted,
              const struct verify_revdata *embedded, const struct verify_times *t,
              enum verify_use use, struct verify_issues *is, json_t **chain_json,
              STACK_OF(X509) **chain_out)
{
	X509_STORE_CTX *sctx = NULL;
	STACK_OF(X509) *chain = NULL;
	struct rev_result rr, other;
	json_t *arr = NULL, *c, *rj;
	X509 *x;
	char who[64];
	int64_t best = t->poe >= 0 ? t->poe : ctx->now;
	/* The time revocation data must be fresh for: the proven time; but a time-stamp's TSA
	 * certificate has to be good when the token was made (its genTime), not when a later
	 * archive time-stamp proves the token (the data it carries is collected before that). */
	int64_t prove = use == VERIFY_USE_TSA && t->poe >= 0 && t->claimed >= 0 &&
	                t->claimed < t->poe ? t->claimed : t->poe;
	int err = X509_V_OK, n, i;
	bool anchored = false, anchor, service = false;

	*chain_json = NULL;
	*chain_out = NULL;
	if ((arr = json_array()) == NULL)
		return;
	if ((sctx = X509_STORE_CTX_new()) == NULL ||
	    X509_STORE_CTX_init(sctx, ctx->store, leaf, untrusted) != 1)
		goto out;
	/* Time is judged below against the best signing time, not by OpenSSL against now. */
	X509_STORE_CTX_set_flags(sctx, X509_V_FLAG_PARTIAL_CHAIN | X509_V_FLAG_NO_CHECK_TIME);
	if (X509_verify_cert(sctx) == 1) {
		anchored = true;
	} else {
		err = X509_STORE_CTX_get_error(sctx);
		if (verify_ctx_trust_count(ctx) == 0)
			issue_add(is, VERIFY_INDETERMINATE, VERIFY_SUB_NO_CERTIFICATE_CHAIN_FOUND,
			          "no trust anchor is configured");
		else
			issue_add(is, VERIFY_INDETERMINATE, chain_error_sub(err),
			          "%s: certificate chain: %s (depth %d)",
			          use == VERIFY_USE_TSA ? "TSA" : "signer",
			          X509_verify_cert_error_string(err), X509_STORE_CTX_get_error_depth(sctx));
	}
	ERR_clear_error();
	chain = X509_STORE_CTX_get1_chain(sctx);
	if (chain == NULL || sk_X509_num(chain) == 0) {
		sk_X509_pop_free(chain, X509_free);
		if ((chain = sk_X509_new_null()) == NULL || !X509_up_ref(leaf))
			goto out;
		if (sk_X509_push(chain, leaf) <= 0) {
			X509_free(leaf);
			goto out;
		}
	}
	n = sk_X509_num(chain);
	for (i = 0; i < n; i++) {
		x = sk_X509_value(chain, i);
		anchor = anchored && i == n - 1;
		snprintf(who, sizeof(who), "%s", i > 0 ? "CA certificate" :
		         use == VERIFY_USE_TSA ? "TSA certificate" : "signing certificate");
		c = json_pack("{s:o, s:o, s:o, s:o, s:o, s:b}", "subject",
		              json_name(X509_get_subject_name(x)), "issuer",
		              json_name(X509_get_issuer_name(x)), "serial", json_serial(x),
		              "not_before", json_time(asn1_time_secs(X509_get0_notBefore(x))),
		              "not_after", json_time(asn1_time_secs(X509_get0_notAfter(x))),
		              "trust_anchor", anchor);
		if (c == NULL || json_array_append_new(arr, c) != 0)
			goto out;
		if (anchor) {
			if (asn1_time_secs(X509_get0_notAfter(x)) < best)
				warn_add(is, "the trust anchor has expired");
			/* A signer trusted directly still has to meet the algorithm policy. */
			if (i == 0)
				key_check(X509_get0_pubkey(x), best, who, is, c);
			continue;
		}
		cert_algs_check(x, who, best, is, c);
		rev_init(&rr);
		if (i + 1 < n) {
			revocation_check(ctx, x, sk_X509_value(chain, i + 1), untrusted, embedded, prove,
			                 is, &rr, &other, &service);
			revocation_judge(&rr, who, i > 0, t, ctx->require_revocation, is);
			if ((rj = rev_json(&rr, true)) != NULL) {
				json_object_set_new(rj, "service_ca", json_boolean(service));
				if (other.status != REV_UNKNOWN)
					json_object_set_new(rj, "not_deciding", rev_json(&other, true));
			}
			json_object_set_new(c, "revocation", rj);
		} else {
			/* No issuer: the chain problem above already decides. */
			json_object_set_new(c, "revocation", rev_json(&rr, false));
		}
		validity_check(x, who, t, ctx->now, rr.status, is);
	}
	usage_check(leaf, use, is);
	*chain_out = chain;
	chain = NULL;
out:
	*chain_json = arr;
	sk_X509_pop_free(chain, X509_free);
	X509_STORE_CTX_free(sctx);
}
