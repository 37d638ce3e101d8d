/* verify: signature validation (ETSI EN 319 102-1 basic validation) of CMS/CAdES, PAdES and
 * RFC 3161 time-stamps, and its report. Offline by default: no server, no database. */
#ifndef INKAN_VERIFY_H
#define INKAN_VERIFY_H

#include <jansson.h>
#include <stdio.h>

#include "common/common.h"

/* ---- the result of one signature (EN 319 102-1 clause 5.1.3) ---- */

enum verify_indication {
	VERIFY_TOTAL_PASSED = 0,
	VERIFY_INDETERMINATE = 1,
	VERIFY_TOTAL_FAILED = 2,
};

/* Sub-indications, in the order that decides which one a report names when a signature has
 * several problems: the first TOTAL-FAILED one, else the first INDETERMINATE one. */
enum verify_sub {
	VERIFY_SUB_NONE = 0,
	VERIFY_SUB_FORMAT_FAILURE,
	VERIFY_SUB_HASH_FAILURE,
	VERIFY_SUB_SIG_CRYPTO_FAILURE,
	VERIFY_SUB_REVOKED,
	VERIFY_SUB_EXPIRED,
	VERIFY_SUB_NOT_YET_VALID,
	VERIFY_SUB_SIGNED_DATA_NOT_FOUND,
	VERIFY_SUB_NO_SIGNING_CERTIFICATE_FOUND,
	VERIFY_SUB_NO_CERTIFICATE_CHAIN_FOUND,
	VERIFY_SUB_CERTIFICATE_CHAIN_GENERAL_FAILURE,
	VERIFY_SUB_CHAIN_CONSTRAINTS_FAILURE,
	VERIFY_SUB_REVOKED_NO_POE,
	VERIFY_SUB_REVOKED_CA_NO_POE,
	VERIFY_SUB_OUT_OF_BOUNDS_NOT_REVOKED,
	VERIFY_SUB_OUT_OF_BOUNDS_NO_POE,
	VERIFY_SUB_TRY_LATER,
	VERIFY_SUB_SIG_CONSTRAINTS_FAILURE,
	VERIFY_SUB_CRYPTO_CONSTRAINTS_FAILURE,
	VERIFY_SUB_MAX_
};

/* "TOTAL-PASSED", "TOTAL-FAILED", "INDETERMINATE". */
const char *verify_indication_str(enum verify_indication ind);
/* The EN 319 102-1 name ("HASH_FAILURE", ...); "" for VERIFY_SUB_NONE. */
const char *verify_sub_str(enum verify_sub sub);

/* ---- validation context: trust anchors, revocation data, options ---- */

struct verify_ctx;

/* A context with no trust anchor (every chain then ends INDETERMINATE/NO_CERTIFICATE_CHAIN_FOUND),
 * no CRL, no network access, the clock as validation time. */
int verify_ctx_new(struct verify_ctx **out) INK_WUR;
void verify_ctx_free(struct verify_ctx *ctx);
/* Adds trust anchors: a file of PEM certificates, or a directory whose files hold PEM
 * certificates (any name; other files are skipped). Each certificate is an anchor in its own
 * right (an intermediate may be one). A missing path is INK_ERR_NOT_FOUND; a file with no
 * certificate INK_ERR_INVALID. */
int verify_ctx_load_trust(struct verify_ctx *ctx, const char *path) INK_WUR;
/* Adds trust anchors from PEM text in memory. */
int verify_ctx_add_trust_pem(struct verify_ctx *ctx, const char *pem, size_t len) INK_WUR;
/* Number of trust anchors loaded. */
size_t verify_ctx_trust_count(const struct verify_ctx *ctx);
/* Adds CRLs (DER, or one or more PEM blocks) as revocation data "supplied" by the caller. */
int verify_ctx_add_crl(struct verify_ctx *ctx, const uint8_t *data, size_t len) INK_WUR;
/* Reads a CRL file (DER or PEM) and adds it. */
int verify_ctx_load_crl(struct verify_ctx *ctx, const char *path) INK_WUR;
/* Adds an OCSP response (an OCSPResponse as `openssl ocsp -respout` writes it, or a bare
 * BasicOCSPResponse; DER or PEM/base64) "supplied" by the caller. INK_ERR_INVALID for anything
 * else, including a response whose status is not successful. */
int verify_ctx_add_ocsp(struct verify_ctx *ctx, const uint8_t *data, size_t len) INK_WUR;
/* Reads an OCSP response file and adds it. */
int verify_ctx_load_ocsp(struct verify_ctx *ctx, const char *path) INK_WUR;
/* Allows fetching revocation data that nothing at hand decides from the certificates' own URLs
 * (AIA OCSP, then CRL distribution points; the verify_fetch rules below), cached for the
 * context's life (default off: the server never turns it on; the CLI does unless --offline). */
void verify_ctx_set_fetch(struct verify_ctx *ctx, bool allow);
/* When off, missing revocation data is a warning instead of INDETERMINATE/TRY_LATER (default on). */
void verify_ctx_set_require_revocation(struct verify_ctx *ctx, bool require);
/* Validation time in seconds since the epoch (0: the clock at verify_run()). Revocation data
 * is fetched as it is now, whatever this says. */
void verify_ctx_set_time(struct verify_ctx *ctx, int64_t t);

/* ---- validation data fetched online (signing B-LT/B-LTA, extending, validating) ---- */

/* A DER object, malloc'd. */
struct verify_blob {
	uint8_t *data;
	size_t len;
};

/* What verify_fetch_chain() found: each list owned by the caller (verify_vdata_free). */
struct verify_vdata {
	struct verify_blob *ocsps;   /* OCSPResponse (successful, basic), checked */
	size_t nocsps;
	struct verify_blob *crls;    /* CertificateList, checked */
	size_t ncrls;
	struct verify_blob *certs;   /* delegated OCSP responders' certificates */
	size_t ncerts;
};
/* Frees the blobs and clears v; NULL is fine. */
void verify_vdata_free(struct verify_vdata *v);

/* Bounds of one fetch: bytes of an answer, seconds to connect, seconds in all. */
#define VERIFY_FETCH_MAX_BYTES (10u * 1024u * 1024u)
#define VERIFY_FETCH_CONNECT_TIMEOUT 5L
#define VERIFY_FETCH_TIMEOUT 15L

/* A fetcher for one run: http and https only (redirects too), bounded, each URL fetched once
 * (its answer, or its failure, is cached for the fetcher's life). Initialises libcurl. */
struct verify_fetch;
int verify_fetch_new(struct verify_fetch **out) INK_WUR;
void verify_fetch_free(struct verify_fetch *f);

/* Fetches the revocation data of every certificate of certs (DER, in any order: e.g. the
 * signer's chain leaf to root followed by a time-stamp's chain) that is not self-issued and
 * whose issuer is among them, from its own URLs: OCSP (AIA, with a nonce that must come back)
 * preferred, CRL (distribution points) otherwise. Each answer is checked before it is kept:
 * an OCSP response is about that certificate and signed by its issuer or a responder the
 * issuer authorised (id-kp-OCSPSigning), a CRL is its issuer's. On success *out holds what was
 * found. INK_ERR_NOT_FOUND (err[] names the certificate) when a certificate's issuer is not in
 * certs or none of its URLs gave usable data; INK_ERR_INVALID for a blob that is not a
 * certificate. */
int verify_fetch_chain(struct verify_fetch *f, const struct verify_blob *certs, size_t n,
                       struct verify_vdata *out, char *err, size_t errsz) INK_WUR;
/* The same for one certificate alone, whose issuer is given (what the issuer's own URLs say is
 * not asked): an intermediate whose responder is unreachable does not take the leaf's data
 * with it. INK_ERR_INVALID when issuer did not issue cert. */
int verify_fetch_cert(struct verify_fetch *f, const struct verify_blob *cert,
                      const struct verify_blob *issuer, struct verify_vdata *out, char *err,
                      size_t errsz) INK_WUR;
/* The same for the certificates that what they already have does not cover: a certificate
 * for which have (may be NULL) holds an OCSP response or a CRL that passes the checks above
 * now (current, its issuer's) is skipped; the others are fetched. */
int verify_fetch_missing(struct verify_fetch *f, const struct verify_blob *certs, size_t n,
                         const struct verify_vdata *have, struct verify_vdata *out, char *err,
                         size_t errsz) INK_WUR;
/* The check verify_fetch_chain() makes of what a URL served about cert (DER), issued by issuer
 * (DER), at time now: an OCSPResponse (ocsp true; no nonce is looked for, there was no request)
 * or a CRL (DER). 0 when it would be kept; INK_ERR_INVALID with why[] otherwise. */
int verify_fetch_check(bool ocsp, const uint8_t *data, size_t len, const uint8_t *cert,
                       size_t cert_len, const uint8_t *issuer, size_t issuer_len, int64_t now,
                       char *why, size_t whysz) INK_WUR;

/* ---- the service's own CA: its current status decides (docs/verify.md) ---- */

/* Names CAs of the service (PEM certificates; not trust anchors by this). Whether a certificate
 * one of them issued is revoked is decided by the service's current CRLs alone: revocation data
 * carried by the signature, in a PDF's DSS, supplied or fetched is reported as evidence of the
 * past and may add "revoked", but never makes such a certificate good; without a current CRL
 * its status is unknown. INK_ERR_INVALID when pem holds no certificate. */
int verify_ctx_add_service_ca(struct verify_ctx *ctx, const char *pem, size_t len) INK_WUR;
/* Adds a service CA's current CRL (DER or PEM), as the service holds it now. */
int verify_ctx_add_service_crl(struct verify_ctx *ctx, const uint8_t *data, size_t len) INK_WUR;
/* Where the service's CAs and CRLs came from, for the report ("this service", a URL). */
int verify_ctx_set_service_source(struct verify_ctx *ctx, const char *source) INK_WUR;
/* Number of service CAs named. */
size_t verify_ctx_service_count(const struct verify_ctx *ctx);

/* ---- one validation ---- */

enum verify_format {
	VERIFY_FORMAT_AUTO = 0,    /* detected: %PDF-, a time-stamp response/token, else CMS */
	VERIFY_FORMAT_CADES,       /* CMS SignedData (CAdES-B-*), DER, PEM or base64 */
	VERIFY_FORMAT_PADES,       /* a PDF with one or more signature dictionaries */
	VERIFY_FORMAT_TIMESTAMP,   /* an RFC 3161 TimeStampResp or TimeStampToken */
	VERIFY_FORMAT_XADES,       /* XML with XMLDSig/XAdES signatures (detected: starts with '<') */
};

/* Parses "cades", "pades", "timestamp", "xades", "auto"; INK_ERR_INVALID otherwise. */
int verify_format_parse(const char *s, enum verify_format *out) INK_WUR;

/* What to validate. sig is the signature (or the PDF, or the time-stamp); doc the signed
 * document when it is detached; or, instead of doc, its digest and the digest's dotted OID. */
struct verify_input {
	const uint8_t *sig;
	size_t sig_len;
	const uint8_t *doc;          /* NULL when none */
	size_t doc_len;
	const uint8_t *digest;       /* NULL when none */
	size_t digest_len;
	const char *digest_oid;      /* e.g. "2.16.840.1.101.3.4.2.1"; required with digest */
	enum verify_format format;
};

struct verify_report;

/* Validates every signature in the input. Returns 0 with a report whenever the input is a
 * signature container at all, whatever the signatures' indications; INK_ERR_INVALID with a
 * reason in err[errsz] when it is garbage, truncated, or holds no signature. */
int verify_run(struct verify_ctx *ctx, const struct verify_input *in,
               struct verify_report **out, char *err, size_t errsz) INK_WUR;
void verify_report_free(struct verify_report *r);

/* ---- the report ---- */

/* Number of signatures reported. */
size_t verify_report_count(const struct verify_report *r);
/* Indication and sub-indication of signature i (< count). */
enum verify_indication verify_report_indication(const struct verify_report *r, size_t i);
enum verify_sub verify_report_sub(const struct verify_report *r, size_t i);
/* True when there is at least one signature and every one is TOTAL-PASSED. */
bool verify_report_all_passed(const struct verify_report *r);
/* The report as JSON (docs/verify.md); a new reference, or NULL when out of memory. */
json_t *verify_report_json(const struct verify_report *r);
/* A short human summary; untrusted text (names from certificates) is printed with control
 * characters replaced. */
void verify_report_print(const struct verify_report *r, FILE *f);

#endif
