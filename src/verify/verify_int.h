/* verify_int: what the verify module's files share; not part of its interface. */
#ifndef INKAN_VERIFY_INT_H
#define INKAN_VERIFY_INT_H

#include <openssl/cms.h>
#include <openssl/ocsp.h>
#include <openssl/x509.h>
#include <qpdf/qpdf-c.h>

#include "verify/verify.h"

/* OpenSSL declares no stacks of these; revocation data holds several. */
DEFINE_STACK_OF(OCSP_BASICRESP)
DEFINE_STACK_OF(OCSP_RESPONSE)

/* Inputs larger than this are refused: a signature container is never this large. */
#define VERIFY_MAX_CRL (16u * 1024u * 1024u)
#define VERIFY_MAX_ISSUES 32
#define VERIFY_MAX_SIGNATURES 64
#define VERIFY_MAX_TIMESTAMPS 8
/* OCSP responses (and embedded CRLs) taken from one source at most. */
#define VERIFY_MAX_OCSP 64

struct verify_revdata;

struct verify_ctx {
	X509_STORE *store;            /* trust anchors */
	STACK_OF(X509) *anchors;      /* the same certificates, for counting and matching */
	STACK_OF(X509_CRL) *crls;     /* supplied by the caller */
	STACK_OF(OCSP_BASICRESP) *ocsps; /* supplied by the caller */
	struct verify_revdata *dss;   /* the document security store of the PDF being validated */
	STACK_OF(X509_CRL) *fetched;  /* fetched during a run (when allowed) */
	STACK_OF(OCSP_BASICRESP) *fetched_ocsps; /* the same, OCSP responses */
	struct verify_fetch *fetcher; /* made at the first fetch; its cache lives as long as ctx */
	const struct verify_revdata *outer; /* the CAdES SignedData's own revocation data, also
	                                     * for its time-stamps (NULL outside cms_run) */
	STACK_OF(X509) *outer_certs;  /* its certificates, likewise */
	const uint8_t *cades_der;     /* the CAdES being validated, DER (archive time-stamps) */
	size_t cades_len;
	size_t cades_signer;          /* the SignerInfo being validated */
	int64_t tsa_poe;              /* a proof of existence of the time-stamp being validated
	                               * (a later archive time-stamp's genTime), or -1 */
	STACK_OF(X509) *service_cas;  /* the service's own CAs: its current status decides */
	STACK_OF(X509_CRL) *service_crls; /* their current CRLs, as the service holds them now */
	char *service_source;         /* where those came from, for the report (or NULL) */
	bool fetch;
	bool require_revocation;
	int64_t time;                 /* 0: the clock */
	int64_t now;                  /* validation time of the current run */
};

/* The problems found while validating one signature, and the warnings. */
struct verify_issues {
	struct {
		enum verify_indication ind;
		enum verify_sub sub;
	} v[VERIFY_MAX_ISSUES];
	size_t n;
	json_t *problems;  /* [{indication, sub_indication, detail}] */
	json_t *warnings;  /* [string] */
};

void issues_init(struct verify_issues *is);
void issues_free(struct verify_issues *is);
void issue_add(struct verify_issues *is, enum verify_indication ind, enum verify_sub sub,
               const char *fmt, ...) INK_PRINTF(4, 5);
void warn_add(struct verify_issues *is, const char *fmt, ...) INK_PRINTF(2, 3);
/* The deciding indication of everything added so far. */
void issues_result(const struct verify_issues *is, enum verify_indication *ind,
                   enum verify_sub *sub);
/* Moves indication, sub_indication, problems and warnings into obj. */
void issues_to_json(struct verify_issues *is, json_t *obj);

/* What a certificate is being validated for. */
enum verify_use { VERIFY_USE_SIGNATURE, VERIFY_USE_TSA };

/* Times of a signature, seconds since the epoch; -1 when unknown. */
struct verify_times {
	int64_t poe;      /* proof of existence: the earliest valid signature time-stamp */
	int64_t claimed;  /* the signing-time attribute, or a time-stamp's genTime */
};

/* Revocation data carried by a signature: the SignedData's CRLs, and what its revocation-values
 * (CAdES) or revocationInfoArchival (Adobe) attributes hold. */
struct verify_revdata {
	STACK_OF(X509_CRL) *crls;
	STACK_OF(OCSP_BASICRESP) *ocsps;
	STACK_OF(X509) *certs;        /* a PDF's DSS /Certs: intermediates for any chain (or NULL) */
};
int revdata_init(struct verify_revdata *rd) INK_WUR;
void revdata_free(struct verify_revdata *rd);
/* Adds the CRLs and OCSP responses of si's revocation attributes to rd (malformed: a warning). */
void revdata_from_signer(CMS_SignerInfo *si, struct verify_revdata *rd, struct verify_issues *is);
/* Adds the CRLs, OCSP responses and certificates of a PDF's /DSS (q: pdfq_open) to rd; returns
 * how many. */
size_t dss_read(qpdf_data q, struct verify_revdata *rd);
/* Parses an OCSPResponse (successful, basic) or a BasicOCSPResponse, DER or PEM/base64, into dst. */
int ocsp_parse_into(STACK_OF(OCSP_BASICRESP) *dst, const uint8_t *data, size_t len) INK_WUR;

/* What is known about one certificate's revocation, and from where. */
enum rev_status { REV_UNKNOWN, REV_GOOD, REV_REVOKED };
struct rev_result {
	enum rev_status status;
	const char *source;      /* one of the labels of path.c's rev_sources[], or "none" */
	bool ocsp;               /* the deciding data is an OCSP response (else a CRL) */
	int64_t revoked_at;
	int64_t invalidity;      /* CRL entry invalidityDate (RFC 5280 5.3.2), or -1 */
	int64_t this_update;
	int64_t next_update;
	int64_t produced_at;     /* OCSP producedAt, or -1 */
	int reason;
	/* "good", but issued before the time it has to prove (EN 319 102-1 revocation freshness):
	 * it says nothing about that time, so it does not decide. */
	bool stale;
	int64_t must_prove;      /* that time, when stale */
};
/* A result that knows nothing yet. */
void rev_init(struct rev_result *rr);
/* Updates best with the OCSP responses of list about x (issued by issuer) that an authorised
 * responder signed: revoked beats good, otherwise the newest thisUpdate wins. */
void ocsp_pick(STACK_OF(OCSP_BASICRESP) *list, const char *label, X509 *x, X509 *issuer,
               STACK_OF(X509) *untrusted, int64_t now, struct verify_issues *is,
               struct rev_result *best);

/* Whether signer may answer for certificates of issuer: the issuer itself, or a responder it
 * certified with id-kp-OCSPSigning, valid at producedAt (RFC 6960 4.2.2.2). */
bool ocsp_responder_authorised(X509 *signer, X509 *issuer, OCSP_BASICRESP *bs);
/* The signature of bs verifies under signer's key. */
bool ocsp_sig_ok(OCSP_BASICRESP *bs, X509 *signer);
/* The signature algorithm of bs meets the policy. */
bool ocsp_alg_ok(OCSP_BASICRESP *bs);
/* The single response of bs about x (issued by issuer), or NULL. */
OCSP_SINGLERESP *ocsp_find(OCSP_BASICRESP *bs, X509 *x, X509 *issuer);
/* Whether crl can speak for every certificate of its issuer (complete, no delta or scope, an
 * allowed digest). */
bool crl_complete(X509_CRL *crl);

/* ---- fetching (fetch.c) ---- */

/* Fetches revocation data for x, issued by issuer, from x's own URLs: OCSP from the AIA
 * first, CRLs from the distribution points when no OCSP answer is usable; each answer checked
 * (fetch_check_ocsp, fetch_check_crl) and appended to out (a certificate that signed an OCSP
 * response for the issuer goes to out->certs). INK_ERR_NOT_FOUND with why[] when nothing
 * usable was found. */
int fetch_cert(struct verify_fetch *f, X509 *x, X509 *issuer, struct verify_vdata *out,
               char *why, size_t whysz) INK_WUR;
/* Checks a fetched OCSPResponse (DER) about x: successful, basic, a single response for x's
 * CertID with status good or revoked, signed by issuer or a responder it authorised
 * (id-kp-OCSPSigning) with an allowed algorithm, the nonce of req echoed (when req carries
 * one), thisUpdate not after now (+ skew), nextUpdate (when present) not before now. The
 * responder's certificate, when it is not the issuer, is returned in *responder (up-ref'd). */
int fetch_check_ocsp(const uint8_t *der, size_t len, X509 *x, X509 *issuer, OCSP_REQUEST *req,
                     int64_t now, X509 **responder, char *why, size_t whysz) INK_WUR;
/* Checks a fetched CRL (DER): issued by issuer (name and signature), complete, an allowed
 * digest, nextUpdate (when present) not before now. */
int fetch_check_crl(const uint8_t *der, size_t len, X509 *issuer, int64_t now, char *why,
                    size_t whysz) INK_WUR;
/* Appends a copy of data to a blob list (an identical blob already there is not added again). */
int vdata_add(struct verify_blob **list, size_t *n, const uint8_t *data, size_t len) INK_WUR;

/* Builds the chain of leaf to a trust anchor, checks validity at the best signing time, key
 * usage for use, algorithms and revocation. Problems go to is; the chain (subjects, validity,
 * revocation) to *chain_json. *chain_out (leaf first) is set when a chain was built. */
void path_validate(struct verify_ctx *ctx, X509 *leaf, STACK_OF(X509) *untrusted,
                   const struct verify_revdata *embedded, const struct verify_times *t,
                   enum verify_use use, struct verify_issues *is, json_t **chain_json,
                   STACK_OF(X509) **chain_out);

/* The content a SignerInfo is checked against. */
struct verify_content {
	const uint8_t *data;   /* detached document, or NULL */
	size_t len;
	const uint8_t *digest; /* or a digest of it */
	size_t digest_len;
	const char *digest_oid;
};

/* Validates one SignerInfo of cms (crypto, signing certificate, path, algorithms, and for
 * VERIFY_USE_SIGNATURE its signature time-stamps) into obj; problems into is. claimed is a
 * genTime for a time-stamp's signer, else -1 (the signing-time attribute is used). */
void signer_validate(struct verify_ctx *ctx, CMS_ContentInfo *cms, CMS_SignerInfo *si,
                     const struct verify_content *content, enum verify_use use, int64_t claimed,
                     struct verify_issues *is, json_t *obj);

/* Validates a TimeStampToken (DER ContentInfo) over data (or, when data is NULL, over the
 * given digest) into obj: indication, genTime, TSA, chain. *gen_time is the genTime when the
 * token is TOTAL-PASSED, else -1. Returns the token's indication; *sub its sub-indication. */
enum verify_indication tst_validate(struct verify_ctx *ctx, const uint8_t *der, size_t len,
                                    const struct verify_content *over, json_t *obj,
                                    int64_t *gen_time, enum verify_sub *sub);

/* Validates every signature dictionary of a PDF; appends one object per signature to sigs and
 * its result to the report arrays through add. INK_ERR_INVALID when none is found. */
struct verify_report;
int report_add(struct verify_report *r, json_t *sig, enum verify_indication ind,
               enum verify_sub sub) INK_WUR;
int pdf_validate(struct verify_ctx *ctx, const uint8_t *pdf, size_t len,
                 struct verify_report *r, char *err, size_t errsz) INK_WUR;

/* ---- PDF revisions (pdfdiff.c) ---- */

/* What a signature lets change after it: DocMDP P (1: nothing, 2: form filling and signing,
 * 3: also annotations; ISO 32000-2 12.8.2.2) and the fields FieldMDP transforms and /Lock
 * dictionaries freeze (a field is locked when any of them locks it). */
enum pdf_lock { PDF_LOCK_ALL, PDF_LOCK_INCLUDE, PDF_LOCK_EXCLUDE };
#define PDF_LOCK_FIELDS_MAX 64
#define PDF_LOCKS_MAX 4
struct pdf_lock_spec {
	enum pdf_lock action;
	char *fields[PDF_LOCK_FIELDS_MAX];  /* fully qualified names (UTF-8), owned */
	size_t nfields;
};
struct pdf_perms {
	int docmdp;
	struct pdf_lock_spec locks[PDF_LOCKS_MAX];
	size_t nlocks;
};

/* A signature the document holds: its dictionary's object number, where its signed revision
 * ends, and whether more than one field claims it. */
struct pdf_sigref {
	int id;
	size_t end;
	bool shared;
};

struct pdfdiff_result {
	size_t illegal;     /* modifications the permissions do not allow */
	bool complete;      /* false: the comparison stopped (too large, out of memory) */
};

/* Reads a PDF (or a revision: a prefix ending at its %%EOF) with qpdf; with repair false a
 * damaged file is refused rather than reconstructed. NULL when it cannot be read. */
qpdf_data pdfq_open(const uint8_t *pdf, size_t len, bool repair);
/* Drops qpdf's pending errors and warnings and frees *q; NULL is fine. */
void pdfq_close(qpdf_data *q);
/* Whether h is null or no object at all. */
bool pdfq_null(qpdf_data q, qpdf_oh h);
/* A dictionary's (or a stream's dictionary's) value for key; a null handle when absent. */
qpdf_oh pdfq_get(qpdf_data q, qpdf_oh dict, const char *key);
/* Whether dict[key] is the name given ("/Sig"). */
bool pdfq_name_is(qpdf_data q, qpdf_oh dict, const char *key, const char *name);
/* A field's attribute, inherited through /Parent (ISO 32000-2 12.7.4.1); null when absent. */
qpdf_oh pdfq_inherited(qpdf_data q, qpdf_oh f, const char *key);
/* Whether a field or widget is a signature field (/FT inherited through /Parent). */
bool pdfq_is_sig_field(qpdf_data q, qpdf_oh f);
/* Calls fn for each form field (the AcroForm's /Fields and their /Kids, depth first, 32 deep at
 * most: *deep says when there was more) with annot false, then for each annotation of every
 * page with annot true; returns the first non-zero return of fn, else 0. */
int pdfq_each_field(qpdf_data q, int (*fn)(qpdf_data q, qpdf_oh h, bool annot, void *arg),
                    void *arg, bool *deep) INK_WUR;
/* A field's fully qualified name (ISO 32000-2 12.7.4.2) into out[outsz]; false when it had to
 * be cut short (too long, or too many parents). */
bool pdfq_field_name(qpdf_data q, qpdf_oh f, char *out, size_t outsz);
/* Object pairs compared at most for one document, all its signatures together: a bound on
 * the work (and qpdf's memory) a submitted PDF can cost. */
#define PDFDIFF_BUDGET 1000000u
/* Compares the signed revision pdf[0..end) with the whole document qn (opened by pdfq_open)
 * object by object, from the catalog; each change goes to mods as {where, change, permitted}.
 * A new signature field is permitted only when its value is one of sigs, signed after end and
 * claimed by that field alone.
 * Each pair compared takes one from *budget; at 0 the comparison stops incomplete.
 * INK_ERR_INVALID when the revision cannot be read. */
int pdfdiff_run(qpdf_data qn, const uint8_t *pdf, size_t end, const struct pdf_perms *perms,
                const struct pdf_sigref *sigs, size_t nsigs, size_t *budget, json_t *mods,
                struct pdfdiff_result *res) INK_WUR;

/* ---- the level a PDF's signatures reach (pdflevel.c) ---- */

/* Whether every certificate of a chain (report JSON) is a trust anchor or had its revocation
 * decided by data the signature carries (embedded, or in a PDF's DSS) (cms.c). */
bool chain_carried(const json_t *chain);
/* The baseline level a signature's report object (its "chain" and "timestamps") reaches: B-B;
 * B-T with a valid signature time-stamp; B-LT when the validation data of its chain and of such
 * a time-stamp's chain are all inside; B-LTA with archives valid archive time-stamps besides. */
const char *level_of(const json_t *obj, bool timestamped, size_t archives);
/* Archive time-stamp k (0: the oldest) of a signature: its token (*tok, the caller's until the
 * check ends) and the input its imprint covers (*input malloc'd). INK_ERR_NOT_FOUND with *tok
 * NULL past the last; another error (why[]) when the input cannot be made: INK_ERR_INVALID
 * for what was altered since, the others for what cannot be checked. */
typedef int (*archive_input_fn)(void *arg, size_t k, const uint8_t **tok, size_t *tlen,
                                uint8_t **input, size_t *ilen, char *why, size_t whysz);
/* Validates a signature's archive time-stamps, newest first: the newest at the validation time,
 * each older one at the time the next proves (its genTime), each over its input; the report
 * goes to obj's "archive_timestamps". *poe is the genTime of the oldest one of the unbroken
 * chain from the newest (-1 when none is valid); *valid their number. */
void archive_chain_check(struct verify_ctx *ctx, archive_input_fn input_of, void *arg,
                         struct verify_issues *is, json_t *obj, int64_t *poe, size_t *valid);

/* A signature (or document time-stamp) of a PDF as judged: its report object (a reference of
 * its own), where its signed revision ends (0: unknown), whether it is a document time-stamp,
 * and whether it passed. */
struct pdf_done {
	json_t *sig;
	size_t end;
	bool docts;
	bool passed;
};
/* Sets "level" (ETSI EN 319 142-1: "B-B", "B-T", "B-LT", "B-LTA") in the report object of each
 * signature of d (in the order of their revisions) that passed: B-T with a valid signature
 * time-stamp or a valid document time-stamp after it; B-LT when, moreover, the revocation
 * data that decided every certificate of its chains (and its time-stamps' chains) is in the
 * document; B-LTA when, moreover, a valid document time-stamp signs a revision that holds the
 * document security store. pdf[len] is the whole file. */
void pdflevel_set(const uint8_t *pdf, size_t len, struct pdf_done *d, size_t n);

/* ---- the updates after a signature (pdfxref.c) ---- */

/* What was found of each update after a signature (its verdict does not depend on which
 * signature it follows), kept while a document's signatures are checked. */
struct pdfxref_seen {
	size_t start, stop;
	char why[256];   /* "" when the update is fine */
};
/* An "N G obj" header of the file with a generation other than 0. */
struct pdfxref_nz {
	size_t off;
	uint32_t num;
};
struct pdfxref_memo {
	struct pdfxref_seen *v;
	size_t n, cap;
	uint64_t work;   /* objects qpdf indexed to check them, all revisions opened together */
	struct pdfxref_nz *nz;  /* by number, then offset; read once, when first needed */
	size_t nnz, nzcap;
	int nz_state;    /* 0: not read yet, 1: read, -1: too many (every number counts as one) */
};
/* Checks each incremental update after the signed revision pdf[0..end) so that every reader
 * reads the objects pdfdiff compares: a revision of its own (ending in %%EOF, startxref into it)
 * whose cross-reference (a table or a stream, /Prev to the revision before, no /XRefStm)
 * lists every "N G obj" header of its bytes at its offset and nothing else, frees nothing
 * (but object 0), changes no generation, whose object streams hold each number once, at the
 * index given, and which qpdf reads without a warning. Verdicts are kept in m (zeroed before
 * a document's first call). Each refused update is an INDETERMINATE/SIG_CONSTRAINTS_FAILURE
 * in is (the first stops the check); returns their number. */
size_t pdfxref_check(const uint8_t *pdf, size_t len, size_t end, struct pdfxref_memo *m,
                     struct verify_issues *is) INK_WUR;
void pdfxref_memo_free(struct pdfxref_memo *m);

/* Detects the format of in->sig (when in->format is AUTO) and checks it against the input. */
int input_detect(const struct verify_input *in, enum verify_format *fmt, char *err,
                 size_t errsz) INK_WUR;
/* Validates a CMS signature or a standalone time-stamp into r. */
int cms_run(struct verify_ctx *ctx, const struct verify_input *in, enum verify_format fmt,
            struct verify_report *r, char *err, size_t errsz) INK_WUR;
/* Whether the input looks like XML (its first non-blank character is '<'). */
bool xades_detect(const uint8_t *p, size_t len);
/* Validates every ds:Signature (XMLDSig, XAdES) of an XML document into r (xades.c); a
 * detached reference is checked against in->doc and nothing else. INK_ERR_INVALID with
 * err[errsz] for input that is not acceptable XML (a DOCTYPE, not well-formed) or holds no
 * signature. */
int xades_run(struct verify_ctx *ctx, const struct verify_input *in, struct verify_report *r,
              char *err, size_t errsz) INK_WUR;
/* Decodes DER, PEM (any label) or whitespace-separated base64 into malloc'd DER. */
int der_decode(const uint8_t *in, size_t len, uint8_t **out, size_t *outlen) INK_WUR;

/* Parses DER or PEM CRLs and appends them to dst. */
int crl_parse_into(STACK_OF(X509_CRL) *dst, const uint8_t *data, size_t len) INK_WUR;

/* ---- small helpers (util.c) ---- */

/* ASN1_TIME as seconds since the epoch; -1 when unreadable. */
int64_t asn1_time_secs(const ASN1_TIME *t);
/* RFC 3339 JSON string of t (-1: null). */
json_t *json_time(int64_t t);
/* RFC 2253 name (UTF-8, control characters escaped) as a JSON string. */
json_t *json_name(const X509_NAME *n);
/* Name as text into out[outsz]. */
void name_str(const X509_NAME *n, char *out, size_t outsz);
/* Dotted OID into out[outsz]. */
void oid_str(const ASN1_OBJECT *o, char *out, size_t outsz);
/* Hex serial as a JSON string. */
json_t *json_serial(const X509 *x);
/* Key type and size text ("RSA-3072", "EC P-256", "Ed25519") and policy check at time t. */
void key_check(EVP_PKEY *pk, int64_t t, const char *who, struct verify_issues *is, json_t *obj);
/* Digest of data with the digest algorithm alg; INK_ERR_UNSUPPORTED for an unknown one. */
int digest_data(const X509_ALGOR *alg, const uint8_t *data, size_t len, uint8_t *out,
                size_t *outlen) INK_WUR;
/* Policy check of a digest algorithm OID; adds CRYPTO_CONSTRAINTS_FAILURE when refused. */
void digest_check(const X509_ALGOR *alg, const char *what, struct verify_issues *is);

#endif
