/* formats: signature formats built on the signer's side — streaming digests, CMS/CAdES
 * SignedData (RFC 5652, ETSI EN 319 122-1 B-B/B-T), PAdES incremental updates (ETSI EN 319
 * 142-1), and RFC 3161 time-stamps (the client's request and reply, and the TSA's answer).
 * Needs no server and no database: a program prepares, gets the digest to sign, has it signed
 * anywhere (a CSC signHash), and embeds the signature (and a time-stamp). */
#ifndef INKAN_FORMATS_H
#define INKAN_FORMATS_H

#include <stdio.h>

#include "common/common.h"

#define FORMATS_SHA256_LEN 32
#define FORMATS_OID_SHA256 "2.16.840.1.101.3.4.2.1"

/* ---- streaming digest ---- */

/* Called now and then while hashing: bytes done of total. */
typedef void (*formats_progress_fn)(void *arg, uint64_t done, uint64_t total);

/* SHA-256 of the whole file at path, read in large blocks (any size); *size is its length.
 * progress may be NULL. */
int formats_digest_file(const char *path, formats_progress_fn progress, void *arg,
                        uint8_t md[static FORMATS_SHA256_LEN], uint64_t *size) INK_WUR;

/* ---- CMS / CAdES SignedData, signed outside ---- */

struct formats_cms;

struct formats_cms_params {
	const uint8_t *cert;           /* the signer's certificate (DER) */
	size_t cert_len;
	const uint8_t *const *extra;   /* more certificates to carry (issuing CA...), DER */
	const size_t *extra_lens;
	size_t nextra;
	const uint8_t *content_digest; /* SHA-256 of the signed content */
	bool signing_time;             /* CAdES: signing-time attribute; PAdES: none (/M instead) */
	int64_t when;                  /* signing time, seconds since the epoch */
	bool pss;                      /* RSA keys: RSASSA-PSS instead of PKCS #1 v1.5 */
};

/* Builds the signed attributes (content-type, message-digest, [signing-time],
 * signing-certificate-v2) for the certificate's key: ECDSA or RSA. Ed25519/Ed448 keys are
 * INK_ERR_UNSUPPORTED (they sign the attributes themselves, not a hash of them). */
int formats_cms_prepare(const struct formats_cms_params *p, struct formats_cms **out) INK_WUR;
/* The SHA-256 of the DER signed attributes: the one hash to authorize and sign. */
void formats_cms_tbs_digest(const struct formats_cms *c, uint8_t md[static FORMATS_SHA256_LEN]);
/* The signature algorithm to ask the signer for (dotted OID), and its DER parameters for
 * RSASSA-PSS (*params NULL otherwise; not owned). */
const char *formats_cms_sign_algo(const struct formats_cms *c, const uint8_t **params,
                                  size_t *params_len);
/* Sets the signature value (ECDSA as a DER SEQUENCE of r, s) after checking it against the
 * certificate's public key; INK_ERR_CRYPTO when it does not verify. */
int formats_cms_set_signature(struct formats_cms *c, const uint8_t *sig, size_t len) INK_WUR;
/* SHA-256 of the signature value: the imprint of a signature time-stamp (B-T). */
int formats_cms_signature_digest(const struct formats_cms *c,
                                 uint8_t md[static FORMATS_SHA256_LEN]) INK_WUR;
/* Adds a signature-time-stamp unsigned attribute (the TimeStampToken, DER); the token's
 * imprint must be the signature value's digest. */
int formats_cms_set_timestamp(struct formats_cms *c, const uint8_t *token, size_t len) INK_WUR;
/* The detached ContentInfo (DER, malloc'd). */
int formats_cms_der(const struct formats_cms *c, uint8_t **der, size_t *len) INK_WUR;
/* Writes the ContentInfo to out; with content != NULL (content_len bytes, read from its
 * current position) the content is carried inside (attached), streamed, and must hash to the
 * content digest signed (INK_ERR_INVALID otherwise: the file changed since). */
int formats_cms_write(const struct formats_cms *c, FILE *out, FILE *content,
                      uint64_t content_len) INK_WUR;
void formats_cms_free(struct formats_cms *c);

/* ---- CAdES long-term levels (ETSI EN 319 122-1), on a DER ContentInfo SignedData ---- */

/* A DER object (not owned). */
struct formats_blob {
	const uint8_t *data;
	size_t len;
};

/* B-LT: a copy of cms (*out, malloc'd) with certificates added to its certificates field and
 * CRLs and OCSP responses (OCSPResponse DER: otherRevInfo id-ri-ocsp-response, RFC 5940) to
 * its crls field; what is there already is not added again, nothing else changes (but the
 * version, 5 with otherRevInfo, as RFC 5652 5.1 wants). INK_ERR_INVALID when cms is not a
 * SignedData of definite lengths or a blob is not one DER element. */
int formats_cades_add_vdata(const uint8_t *cms, size_t len, const struct formats_blob *certs,
                            size_t ncerts, const struct formats_blob *crls, size_t ncrls,
                            const struct formats_blob *ocsps, size_t nocsps, uint8_t **out,
                            size_t *outlen) INK_WUR;
/* B-LTA: for the one signer of cms, the ATSHashIndexV3 (5.5.2; *index, malloc'd DER) of every
 * certificate, revocation value and unsigned attribute value it holds now, and the SHA-256 of
 * the archive-time-stamp-v3's imprint input (5.5.3) to have time-stamped. The content's hash:
 * the content carried, else content[clen], else (detached, no document) the signer's
 * message-digest attribute when the signer used SHA-256 (INK_ERR_NOT_FOUND otherwise). */
int formats_cades_ats_prepare(const uint8_t *cms, size_t len, const uint8_t *content,
                              size_t clen, uint8_t md[static FORMATS_SHA256_LEN],
                              uint8_t **index, size_t *index_len) INK_WUR;
/* Adds the time-stamp token (over md, from formats_cades_ats_prepare) as an
 * archive-time-stamp-v3 attribute after the signer's other unsigned attributes, the index
 * going into the token's own unsigned attributes as ats-hash-index-v3. *out malloc'd. */
int formats_cades_ats_add(const uint8_t *cms, size_t len, const uint8_t *token,
                          size_t token_len, const uint8_t *index, size_t index_len,
                          uint8_t **out, size_t *outlen) INK_WUR;
/* For validation: the k-th archive-time-stamp-v3 (in the order they were added) of signer
 * number `signer` of cms: its token (*token, pointing into cms) and its imprint input (5.5.3,
 * *input malloc'd; the caller hashes it with the token's imprint algorithm and compares),
 * after checking that the token's one ats-hash-index-v3 names only certificates, revocation
 * values and unsigned attribute values cms still holds, and covers every unsigned attribute
 * value before the time-stamp. INK_ERR_NOT_FOUND when there is no k-th (why[] empty) or the
 * content's hash is not at hand; INK_ERR_UNSUPPORTED when cms cannot be read here (BER, too
 * many elements); INK_ERR_INVALID (why[] says) when the time-stamp does not match what it must
 * cover; *token is set as soon as the k-th is found. */
int formats_cades_ats_input(const uint8_t *cms, size_t len, size_t signer, size_t k,
                            const uint8_t *content, size_t clen, const uint8_t **token,
                            size_t *token_len, uint8_t **input, size_t *input_len, char *why,
                            size_t whysz) INK_WUR;
/* What formats_cades_info() reads of a SignedData (its first signer). */
struct formats_cades_info {
	size_t signers;
	bool detached;
	size_t sig_timestamps;       /* signature-time-stamp attributes */
	size_t archive_timestamps;   /* archive-time-stamp-v3 attributes */
};
int formats_cades_info(const uint8_t *cms, size_t len, struct formats_cades_info *info) INK_WUR;
/* DER objects, each malloc'd (formats_der_list_free). */
struct formats_der_list {
	struct formats_blob *v;
	size_t n;
};
void formats_der_list_free(struct formats_der_list *l);
/* Appends a copy of p[len] to list unless an equal one is there. */
int formats_der_list_add(struct formats_der_list *list, const uint8_t *p, size_t len) INK_WUR;
/* Appends the certificates a SignedData (a time-stamp token, DER) carries to list, each once. */
int formats_cms_certs_add(const uint8_t *cms, size_t len, struct formats_der_list *list) INK_WUR;
/* The CRLs and the OCSP responses (otherRevInfo id-ri-ocsp-response) of the SignedData's
 * crls field, copied. */
int formats_cades_revocation(const uint8_t *cms, size_t len, struct formats_der_list *crls,
                             struct formats_der_list *ocsps) INK_WUR;
/* Every certificate the SignedData carries and those of its first signer's time-stamp tokens
 * (signature and archive time-stamps), each once. */
int formats_cades_certs(const uint8_t *cms, size_t len, struct formats_der_list *out) INK_WUR;
/* B-T on an existing signature: the SHA-256 of its (one) signer's signature value, and the
 * signature with a signature-time-stamp attribute (the token) added. */
int formats_cades_sig_digest(const uint8_t *cms, size_t len,
                             uint8_t md[static FORMATS_SHA256_LEN]) INK_WUR;
int formats_cades_add_sig_timestamp(const uint8_t *cms, size_t len, const uint8_t *token,
                                    size_t token_len, uint8_t **out, size_t *outlen) INK_WUR;

/* ---- PAdES: an incremental update with an empty signature, then its signature ---- */

struct formats_pdf;

#define FORMATS_PDF_CONTENTS_DEFAULT 32768   /* bytes of CMS the /Contents placeholder holds */

/* A visible signature: where its widget is and the text its appearance shows. */
#define FORMATS_PDF_LINES_MAX 4
struct formats_pdf_visible {
	int page;                      /* 1 for the first */
	double x, y, w, h;             /* the rectangle, in points from the page's lower left */
	const char *lines[FORMATS_PDF_LINES_MAX + 1]; /* UTF-8, NULL-terminated: shown in
	                                * Helvetica, WinAnsiEncoding; other scripts as '?' */
};

/* What the update holds. */
struct formats_pdf_opts {
	size_t contents_max;           /* bytes of CMS (or token) the /Contents placeholder holds */
	int64_t when;                  /* /M of a signature, seconds since the epoch */
	bool doc_timestamp;            /* a document time-stamp (/Type /DocTimeStamp, /SubFilter
	                                * /ETSI.RFC3161, PAdES B-LTA) instead of a signature */
	const struct formats_pdf_visible *visible; /* NULL: invisible (a signature only) */
	const char *name, *reason;     /* /Name and /Reason of a signature (UTF-8), or NULL */
};

/* Copies in_path to out_path and appends an incremental update (signature dictionary with
 * /SubFilter /ETSI.CAdES.detached, or a document time-stamp's, an invisible signature field on
 * the first page (or in the AcroForm alone for a document without pages), the catalog's
 * /AcroForm, a cross-reference section or stream like the file's own) whose /Contents is a
 * placeholder of o->contents_max bytes. The earlier bytes are not changed. Encrypted or damaged
 * PDFs are INK_ERR_INVALID. */
int formats_pdf_prepare(const char *in_path, const char *out_path,
                        const struct formats_pdf_opts *o, struct formats_pdf **out) INK_WUR;
/* SHA-256 over the /ByteRange (the whole new file except the /Contents value). */
int formats_pdf_digest(struct formats_pdf *p, formats_progress_fn progress, void *arg,
                       uint8_t md[static FORMATS_SHA256_LEN]) INK_WUR;
/* The /ByteRange of the update: [0 a b c]. */
void formats_pdf_byte_range(const struct formats_pdf *p, uint64_t br[static 4]);
/* Writes the CMS (DER) into the placeholder; INK_ERR_TOO_LARGE when it does not fit. */
int formats_pdf_embed(struct formats_pdf *p, const uint8_t *cms, size_t len) INK_WUR;
void formats_pdf_free(struct formats_pdf *p);
/* True when the file starts like a PDF ("%PDF-"). */
bool formats_is_pdf(const char *path);
/* The subject's common name of a certificate (DER) as UTF-8 into out[outsz] (cut short when
 * longer), for a visible signature; INK_ERR_INVALID when there is none. */
int formats_cert_name(const uint8_t *cert, size_t len, char *out, size_t outsz) INK_WUR;

/* ---- PAdES long-term (B-LT, B-LTA): the document security store ---- */

#define FORMATS_SHA1_LEN 20

/* A signature (or document time-stamp) a PDF holds, as its signature field's value reads. */
struct formats_pdf_sig {
	uint8_t *contents;             /* the /Contents value as stored (with its zero padding) */
	size_t contents_len;
	size_t der_len;                /* the CMS ContentInfo it starts with; 0: none */
	bool doc_timestamp;            /* /SubFilter /ETSI.RFC3161 */
	uint8_t vri_key[FORMATS_SHA1_LEN]; /* SHA-1 of /Contents: its key in the DSS's /VRI */
};
/* The signatures of the PDF at path (its signature fields' values, through the AcroForm's
 * /Fields and their /Kids), in no particular order. INK_ERR_INVALID for a file that is not a
 * readable, unencrypted PDF (one qpdf must repair included); *n 0 when it holds no signature. */
int formats_pdf_signatures(const char *path, struct formats_pdf_sig **out, size_t *n) INK_WUR;
void formats_pdf_signatures_free(struct formats_pdf_sig *s, size_t n);

/* ---- the bound on untrusted PDFs, before qpdf reads one (pdfguard.c) ---- */

/* Inflates zlib data (FlateDecode) up to cap bytes into *out (malloc'd; out may be NULL just to
 * measure): INK_ERR_TOO_LARGE beyond cap, INK_ERR_INVALID when it is not a whole zlib stream.
 * *outlen is what was produced, also on failure (*out is set only on success). */
int formats_pdf_inflate(const uint8_t *in, size_t inlen, size_t cap, uint8_t **out,
                        size_t *outlen) INK_WUR;
/* Before qpdf reads a PDF (it inflates cross-reference and object streams whole, with no bound
 * of its own): INK_ERR_TOO_LARGE, with why in err, for one whose such streams inflate beyond
 * 32 MiB each, 256 MiB in all. */
int formats_pdf_precheck(const uint8_t *pdf, size_t len, char *err, size_t errsz) INK_WUR;
/* The same for the file open on fd (mapped, read-only), or at path. */
int formats_pdf_precheck_fd(int fd, char *err, size_t errsz) INK_WUR;
int formats_pdf_precheck_path(const char *path, char *err, size_t errsz) INK_WUR;

/* The validation data of one signature: certificates, OCSP responses (OCSPResponse, DER) and
 * CRLs (DER) for its chain and its time-stamps' chains. */
struct formats_dss_entry {
	uint8_t vri_key[FORMATS_SHA1_LEN];
	const struct formats_blob *certs, *ocsps, *crls;
	size_t ncerts, nocsps, ncrls;
};
/* Copies in_path to out_path and appends an incremental update with the catalog's /DSS (ISO
 * 32000-2 12.8.4.3, ETSI EN 319 142-1 5.4): what the file's DSS already holds, plus each
 * entry's data in /Certs, /OCSPs and /CRLs (each distinct blob once; one the DSS holds already
 * is not added again) and a /VRI dictionary per entry (replacing one of the same key). The
 * earlier bytes are not changed. */
int formats_pdf_add_dss(const char *in_path, const char *out_path,
                        const struct formats_dss_entry *e, size_t n) INK_WUR;

/* ---- long-term validation data: what it must cover (ltv.c) ---- */

/* Certificates in one signature's chains at most. */
#define FORMATS_LTV_CERTS_MAX 64
/* One certificate of the chains a signature's validation needs. */
struct formats_ltv_cert {
	uint8_t *der;
	size_t len;
	int issuer;                    /* index of its issuer in the set; -1: not found */
	bool self_signed;              /* a root: no revocation data needed */
};
struct formats_ltv {
	struct formats_ltv_cert *v;
	size_t n;
};
/* The chains, leaf first, of the signers of a CMS SignedData (a PDF signature, or the
 * TimeStampToken of a document time-stamp) and of its signature time-stamps' signers, built
 * from the certificates they carry and extra (DER; e.g. intermediates fetched elsewhere).
 * INK_ERR_INVALID when cms is not a SignedData whose signer certificate it carries. */
int formats_ltv_chains(const uint8_t *cms, size_t len, const struct formats_blob *extra,
                       size_t nextra, struct formats_ltv *out) INK_WUR;
void formats_ltv_free(struct formats_ltv *l);

/* ---- RFC 3161 time-stamps: the client side ---- */

#define FORMATS_TS_NONCE_LEN 8

/* A TimeStampReq (DER, malloc'd) for a SHA-256 imprint with a fresh random nonce (kept in
 * nonce) and certReq true. */
int formats_ts_request(const uint8_t md[static FORMATS_SHA256_LEN],
                       uint8_t nonce[static FORMATS_TS_NONCE_LEN], uint8_t **der,
                       size_t *len) INK_WUR;
/* From a TimeStampResp: the token (DER, malloc'd) after checking the status is granted and
 * the TSTInfo's imprint and nonce are the request's. */
int formats_ts_reply_token(const uint8_t *reply, size_t len,
                           const uint8_t md[static FORMATS_SHA256_LEN], const uint8_t *nonce,
                           uint8_t **token, size_t *token_len) INK_WUR;
/* Checks a bare TimeStampToken's imprint (and nonce when not NULL). */
int formats_ts_token_check(const uint8_t *token, size_t len,
                           const uint8_t md[static FORMATS_SHA256_LEN],
                           const uint8_t *nonce) INK_WUR;

/* ---- RFC 3161: the TSA's side (called in inkan-sam, which holds the key) ---- */

#define FORMATS_TS_IMPRINT_MAX 64
#define FORMATS_TS_NONCE_MAX 32

/* What a TSA is asked to stamp: already parsed and checked by the caller. */
struct formats_tsa_req {
	const char *hash_oid;            /* an allowed digest (policy) */
	const uint8_t *imprint;          /* its length must be the digest's */
	size_t imprint_len;
	const uint8_t *nonce;            /* big-endian unsigned, or NULL */
	size_t nonce_len;
	bool cert_req;
};

/* Parses a TimeStampReq from untrusted bytes into r (pointers into storage[], which must
 * outlive r); refuses version != 1, unknown/refused digests, a wrong imprint length, a
 * requested policy other than policy_oid, extensions and negative nonces (why[] says). */
struct formats_tsa_parsed {
	int fail_bit;                    /* on refusal: the RFC 3161 PKIFailureInfo bit */
	char hash_oid[64];
	uint8_t imprint[FORMATS_TS_IMPRINT_MAX];
	uint8_t nonce[FORMATS_TS_NONCE_MAX];
	struct formats_tsa_req req;
};
int formats_tsa_parse(const uint8_t *der, size_t len, const char *policy_oid,
                      struct formats_tsa_parsed *out, char *why, size_t whysz) INK_WUR;
/* PKIFailureInfo bits (RFC 3161 2.4.2). */
#define FORMATS_TS_FAIL_BAD_ALG 0
#define FORMATS_TS_FAIL_BAD_REQUEST 2
#define FORMATS_TS_FAIL_BAD_DATA_FORMAT 5
#define FORMATS_TS_FAIL_TIME_NOT_AVAILABLE 14
#define FORMATS_TS_FAIL_UNACCEPTED_POLICY 15
#define FORMATS_TS_FAIL_UNACCEPTED_EXTENSION 16
/* A TimeStampResp with status rejection, the failure bit and text (DER, malloc'd): the
 * answer to a request the TSA refuses. Unsigned, as RFC 3161 has it. */
int formats_tsa_reject(int fail_bit, const char *text, uint8_t **resp, size_t *len) INK_WUR;
/* Signs a TSTInfo for r: the policy, a 128-bit random serial, genTime now (UTC), accuracy 1 s,
 * the nonce echoed, ESSCertIDv2 of the TSA certificate, certificates when asked. key and cert
 * are EVP_PKEY * and X509 *, chain a STACK_OF(X509) * of issuers (may be NULL). *resp is the
 * TimeStampResp (DER, malloc'd); serial_hex its serial, gen_time its genTime. */
int formats_tsa_respond(void *key, void *cert, void *chain, const char *policy_oid,
                        const struct formats_tsa_req *r, uint8_t **resp, size_t *len,
                        char serial_hex[static 65], int64_t *gen_time) INK_WUR;

/* ---- OCSP requests (RFC 6960), parsed in inkand for the SAM's responder ---- */

/* The largest OCSPRequest accepted, the most CertIDs in one, the largest CertID (DER) and the
 * largest nonce extension value (keys.h KEYS_OCSP_* are the SAM's same bounds). */
#define FORMATS_OCSP_REQ_MAX 4096
#define FORMATS_OCSP_IDS_MAX 8
#define FORMATS_OCSP_ID_MAX 256
#define FORMATS_OCSP_NONCE_MAX 64
struct formats_ocsp_req {
	uint8_t ids[FORMATS_OCSP_IDS_MAX][FORMATS_OCSP_ID_MAX];  /* each CertID, DER */
	size_t id_lens[FORMATS_OCSP_IDS_MAX];
	size_t n;
	uint8_t nonce[FORMATS_OCSP_NONCE_MAX];                   /* the nonce extension's value */
	size_t nonce_len;                                        /* 0: no nonce */
};
/* Parses exactly len bytes of untrusted DER as one OCSPRequest: 1..FORMATS_OCSP_IDS_MAX
 * requests, each CertID re-encoded; a nonce extension (at most one) of 1..FORMATS_OCSP_NONCE_MAX
 * bytes. A signature on the request is ignored (RFC 6960 4.1.2: optional, and anyone may ask).
 * INK_ERR_INVALID with why[whysz] saying what is wrong. */
int formats_ocsp_parse(const uint8_t *der, size_t len, struct formats_ocsp_req *out, char *why,
                       size_t whysz) INK_WUR;
/* An unsuccessful OCSPResponse (RFC 6960 4.2.1: malformedRequest 1, internalError 2, tryLater
 * 3, unauthorized 6): unsigned, no responseBytes. DER, malloc'd. */
#define FORMATS_OCSP_MALFORMED 1
#define FORMATS_OCSP_INTERNAL 2
#define FORMATS_OCSP_TRY_LATER 3
int formats_ocsp_error(int status, uint8_t **resp, size_t *len) INK_WUR;
/* The DER of resp (an OCSP_RESPONSE *) into *der (malloc'd). */
int formats_ocsp_der(const void *resp, uint8_t **der, size_t *len) INK_WUR;
/* When a successful response (DER) was produced and the earliest nextUpdate of its single
 * responses (RFC 5019 6.2: what an HTTP cache may keep it for). INK_ERR_INVALID when it is no
 * successful basic response or a single response has no nextUpdate. */
int formats_ocsp_validity(const uint8_t *der, size_t len, time_t *produced, time_t *next) INK_WUR;

/* ---- XML (xml.c): safe parsing, canonicalization, the XMLDSig algorithm identifiers ---- */

struct _xmlDoc;
struct _xmlNode;

/* The largest XML document parsed (a signed document and its signature). */
#define FORMATS_XML_MAX (64u << 20)
#define FORMATS_XMLDSIG_NS "http://www.w3.org/2000/09/xmldsig#"
#define FORMATS_XADES_NS "http://uri.etsi.org/01903/v1.3.2#"
#define FORMATS_XADES_SP_TYPE "http://uri.etsi.org/01903#SignedProperties"
#define FORMATS_XML_ENVELOPED "http://www.w3.org/2000/09/xmldsig#enveloped-signature"

/* Parses untrusted XML into *doc (an xmlDoc *, xmlFreeDoc() it): a DOCTYPE is refused (no DTD,
 * no entity declaration: XXE and entity expansion cannot happen), nothing is ever loaded
 * (XML_PARSE_NONET, no DTD loading, no entity substitution, no XInclude), libxml2's default
 * depth and size limits hold (never XML_PARSE_HUGE), at most FORMATS_XML_MAX bytes.
 * INK_ERR_INVALID with why[whysz] saying what is wrong. */
int formats_xml_parse(const uint8_t *data, size_t len, struct _xmlDoc **doc, char *why,
                      size_t whysz) INK_WUR;

/* A canonicalization algorithm (XMLDSig 6.5): C14N 1.0, 1.1 or exclusive, with comments or not. */
struct formats_c14n {
	int mode;             /* libxml2's xmlC14NMode */
	bool comments;
};
/* Looks up a canonicalization URI; INK_ERR_UNSUPPORTED when it is none of the six. */
int formats_c14n_by_uri(const char *uri, struct formats_c14n *out) INK_WUR;
#define FORMATS_C14N_EXC_URI "http://www.w3.org/2001/10/xml-exc-c14n#"

/* The canonical form (*out malloc'd) of the document subset: apex and its descendants (the
 * whole document when apex is NULL) less the subtree at exclude (may be NULL: the enveloped-
 * signature transform). prefixes: exclusive C14N's InclusiveNamespaces PrefixList, or NULL. */
int formats_xml_c14n(struct _xmlDoc *doc, struct _xmlNode *apex, struct _xmlNode *exclude,
                     const struct formats_c14n *alg, const char *prefixes, uint8_t **out,
                     size_t *len) INK_WUR;

/* An XMLDSig signature method (RFC 6931): its URI, the CSC/policy signature OID, the digest. */
struct formats_xml_sigalg {
	const char *uri;
	const char *oid;        /* policy_sig_alg_by_oid() decides whether it is allowed */
	const char *md;         /* OpenSSL digest name */
	bool ecdsa;             /* the value is r || s (XMLDSig), not DER */
	bool pss;               /* RSASSA-PSS (RFC 6931 2.3.10): MGF1 with md, salt its length */
};
/* The signature method of uri, or NULL when unknown (SHA-1 and MD5 based ones are unknown). */
const struct formats_xml_sigalg *formats_xml_sigalg_by_uri(const char *uri);
/* Sets a verification or signing context's padding for alg (RSASSA-PSS: MGF1 with its digest,
 * the salt as long as the digest); nothing for the others. INK_ERR_CRYPTO when refused. */
struct evp_pkey_ctx_st;
int formats_xml_sigalg_setup(struct evp_pkey_ctx_st *pctx,
                             const struct formats_xml_sigalg *alg) INK_WUR;
/* The OpenSSL digest name of an XMLDSig digest method URI (SHA-256/384/512) and its dotted OID
 * in *oid (for policy_hash_by_oid()), or NULL when unknown (SHA-1, MD5). */
const char *formats_xml_digest_by_uri(const char *uri, const char **oid);
#define FORMATS_XML_SHA256_URI "http://www.w3.org/2001/04/xmlenc#sha256"
#define FORMATS_XML_PSS_SHA256_URI "http://www.w3.org/2007/05/xmldsig-more#sha256-rsa-MGF1"

/* ---- XAdES (ETSI EN 319 132-1) baseline signatures, signed outside (xades.c) ---- */

enum formats_xades_place {
	FORMATS_XADES_ENVELOPED = 0,  /* inside the document, last child of its root */
	FORMATS_XADES_DETACHED,       /* beside it: the reference names the file */
	FORMATS_XADES_ENVELOPING,     /* the document inside the signature's ds:Object */
};

struct formats_xades;

struct formats_xades_params {
	const uint8_t *cert;           /* the signer's certificate (DER) */
	size_t cert_len;
	const uint8_t *const *extra;   /* more certificates for KeyInfo (issuing CA...), DER */
	const size_t *extra_lens;
	size_t nextra;
	enum formats_xades_place place;
	const uint8_t *doc;            /* the XML document (enveloped, enveloping) */
	size_t doc_len;
	const char *doc_uri;           /* detached: the reference's URI (the file's name) */
	const uint8_t *doc_digest;     /* detached: SHA-256 of the file */
	const char *mime;              /* DataObjectFormat MimeType */
	int64_t when;                  /* SigningTime, seconds since the epoch */
	bool pss;                      /* an RSA key signs with RSASSA-PSS (SHA-256, salt 32) */
};

/* Builds ds:Signature with SignedInfo (exclusive C14N; a reference to the document and one to
 * SignedProperties with SigningTime, SigningCertificateV2 and DataObjectFormat), the digests
 * computed here. The signature method follows the key: ECDSA or RSA PKCS #1 v1.5, with
 * SHA-384 for P-384, SHA-512 for P-521, SHA-256 otherwise. INK_ERR_UNSUPPORTED for other keys,
 * INK_ERR_INVALID (why[]) for a document that is not acceptable XML. */
int formats_xades_prepare(const struct formats_xades_params *p, struct formats_xades **out,
                          char *why, size_t whysz) INK_WUR;
/* The digest of SignedInfo's canonical form (the one hash to sign) into md[*len] (64 bytes
 * room), its dotted OID, and the signature algorithm's OID for signHash. */
void formats_xades_tbs(const struct formats_xades *x, uint8_t md[static 64], size_t *len,
                       const char **hash_oid, const char **sign_oid);
/* The signature algorithm's parameters for signHash (RSASSA-PSS-params, DER; x's), or NULL. */
const uint8_t *formats_xades_sign_params(const struct formats_xades *x, size_t *len);
/* Sets ds:SignatureValue from a CSC signature (ECDSA as DER, turned into r || s) after checking
 * it against the certificate's key; INK_ERR_CRYPTO when it does not verify. */
int formats_xades_set_signature(struct formats_xades *x, const uint8_t *sig, size_t len) INK_WUR;
/* SHA-256 of the canonical (exclusive C14N) ds:SignatureValue element: a SignatureTimeStamp's
 * imprint (B-T). */
int formats_xades_signature_digest(const struct formats_xades *x,
                                   uint8_t md[static FORMATS_SHA256_LEN]) INK_WUR;
/* Adds xades:SignatureTimeStamp with the token (DER) under UnsignedSignatureProperties. */
int formats_xades_set_timestamp(struct formats_xades *x, const uint8_t *token, size_t len) INK_WUR;
/* The signed document (enveloped) or the signature (detached, enveloping), serialized. */
int formats_xades_write(const struct formats_xades *x, FILE *out) INK_WUR;
void formats_xades_free(struct formats_xades *x);

/* ---- XAdES B-LT and B-LTA (ETSI EN 319 132-1 5.5) on a signed document (xadesltv.c) ---- */

#define FORMATS_XADES141_NS "http://uri.etsi.org/01903/v1.4.1#"

/* Whether n is the XAdES element name (namespace 1.3.2 or 1.4.1). */
bool formats_xades_is(const struct _xmlNode *n, const char *name);
/* The first element child of n that is ns:name (ns NULL: either XAdES namespace), or NULL. */
struct _xmlNode *formats_xml_child(struct _xmlNode *n, const char *ns, const char *name);
/* An element's base64 text (at most 16 MiB), white space removed, decoded into *out
 * (malloc'd). INK_ERR_INVALID when n is NULL, empty, too long or not base64. */
int formats_xml_b64(struct _xmlNode *n, uint8_t **out, size_t *len) INK_WUR;

/* Opens signed XML for extension: exactly one ds:Signature with XAdES QualifyingProperties
 * (the one extended). INK_ERR_INVALID (why[]) otherwise. Free with formats_xades_free(). */
int formats_xades_open(const uint8_t *xml, size_t len, struct formats_xades **out, char *why,
                       size_t whysz) INK_WUR;
/* What an opened (or made) signature holds already. */
struct formats_xades_info {
	size_t sig_timestamps, archives;   /* SignatureTimeStamp, ArchiveTimeStamp */
	bool cert_values, rev_values;      /* CertificateValues, RevocationValues */
	bool detached;                     /* a reference names a document outside */
};
void formats_xades_info(const struct formats_xades *x, struct formats_xades_info *out);
/* Which certificates formats_xades_certs() lists. */
#define FORMATS_XADES_CERTS_CARRIED 1  /* KeyInfo, CertificateValues, TimeStampValidationData */
#define FORMATS_XADES_CERTS_TOKENS 2   /* inside the time-stamp tokens */
/* Appends the certificates (DER, each once) of the kinds in which to *out. */
int formats_xades_certs(const struct formats_xades *x, int which,
                        struct formats_der_list *out) INK_WUR;
/* Appends the CRLs and OCSP responses of RevocationValues (also inside
 * TimeStampValidationData) to *crls and *ocsps. */
int formats_xades_revocation(const struct formats_xades *x, struct formats_der_list *crls,
                             struct formats_der_list *ocsps) INK_WUR;
/* Adds validation data: for_timestamps false, xades:CertificateValues and
 * xades:RevocationValues (INK_ERR_EXISTS when either is there); true, a
 * xadesv141:TimeStampValidationData holding them (for the time-stamps already in the
 * signature). An empty kind is left out. */
int formats_xades_add_vdata(struct formats_xades *x, bool for_timestamps,
                            const struct formats_blob *certs, size_t ncerts,
                            const struct formats_blob *crls, size_t ncrls,
                            const struct formats_blob *ocsps, size_t nocsps) INK_WUR;
/* The input of an ArchiveTimeStamp's message imprint (EN 319 132-1 5.5.2.2; *out malloc'd):
 * the output of each ds:Reference of SignedInfo (a node set canonicalized), then SignedInfo,
 * SignatureValue, KeyInfo, each unsigned signature property before ats (all when ats is NULL),
 * and each ds:Object but QualifyingProperties' — canonicalized with ats's CanonicalizationMethod
 * (exclusive C14N when ats is NULL). detached: the document a reference names outside (NULL:
 * INK_ERR_NOT_FOUND when one does). INK_ERR_UNSUPPORTED (why[]) for a reference this cannot
 * process (other transforms, an unknown or ambiguous ID). */
int formats_xades_ats_input(struct _xmlDoc *doc, struct _xmlNode *sig, struct _xmlNode *ats,
                            const uint8_t *detached, size_t detached_len, uint8_t **out,
                            size_t *len, char *why, size_t whysz) INK_WUR;
/* SHA-256 of the input of a new ArchiveTimeStamp over x. */
int formats_xades_archive_digest(const struct formats_xades *x, const uint8_t *detached,
                                 size_t detached_len, uint8_t md[static FORMATS_SHA256_LEN],
                                 char *why, size_t whysz) INK_WUR;
/* Appends xadesv141:ArchiveTimeStamp with the token (DER). */
int formats_xades_add_archive(struct formats_xades *x, const uint8_t *token, size_t len) INK_WUR;

#endif
