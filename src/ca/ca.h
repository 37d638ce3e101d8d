/* ca: certificates: the built-in CA (root, issuing CA, TSA, signer certificates, CRL), the PKCS#10
 * path for an external CA, DER helpers, and the self-signed TLS certificate of the embedded default.
 * Everything except ca_make_tls_cert() is a pure library: no files, no database, no global state;
 * the key manager in inkan-sam persists keys and certificates and passes OpenSSL objects in. */
#ifndef INKAN_CA_H
#define INKAN_CA_H

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "common/common.h"

/* ---- the self-signed TLS certificate ---- */

/* Makes an ECDSA P-256 key (PEM, mode 0600) and a self-signed X.509 v3 certificate valid for
 * `days` days for "localhost" and 127.0.0.1 (subjectAltName), serverAuth EKU. */
int ca_make_tls_cert(const char *cert_path, const char *key_path, int days) INK_WUR;

/* What a certificate's PEM says of itself (the compliance report's TLS evidence): present
 * false when pem is NULL or holds no certificate. */
struct ca_cert_facts {
	bool present;
	int64_t not_after;
	char subject[256], key[32];   /* key: e.g. "EC-256" */
};
void ca_cert_facts(const char *pem, struct ca_cert_facts *out);
/* A DER CRL's nextUpdate (UTC seconds) without checking who signed it (the metrics' CRL
 * expiry); INK_ERR_INVALID when it is not one CRL or has none. */
int ca_crl_next_update(const uint8_t *der, size_t len, int64_t *next) INK_WUR;
/* A certificate's (DER) subject as one line (RFC 2253, UTF-8 kept) into out[outsz]; "" when
 * it cannot be read. */
void ca_cert_subject(const uint8_t *der, size_t len, char *out, size_t outsz);

/* ---- the built-in CA ---- */

/* Longest validity any certificate may ask for (30 years), and the longest CRL next update. */
#define CA_DAYS_MAX 10950
#define CA_CRL_DAYS_MAX 366
/* Most entries one CRL may hold. */
#define CA_CRL_MAX_ENTRIES 1000000
/* Largest DER certificate ca_cert_from_der() accepts. */
#define CA_DER_MAX 65536

/* A distinguished name: C, O, CN, serialNumber, in that order. common_name is required (UTF-8,
 * at most 64 characters); organization optional (UTF-8, at most 64); country optional (two
 * upper-case letters, "JP"); serial_number optional (PrintableString, at most 64, e.g. a user id). */
struct ca_subject {
	const char *common_name;
	const char *organization;
	const char *country;
	const char *serial_number;
};

/* Common rules of the issuing functions below: every key (new, subject or issuer) must be allowed
 * by policy_check_key() (INK_ERR_POLICY otherwise; RSA-2048 is logged as a warning); the signature
 * digest follows the issuer key's strength (SHA-256 up to 128 bits, SHA-384 up to 192, SHA-512
 * above; none for EdDSA); serials are 16 random bytes, positive; notBefore is backdated 5 minutes
 * for clock skew and notAfter never runs past the issuer's; the issuer must be a CA certificate
 * with keyCertSign that matches issuer_key (INK_ERR_INVALID otherwise) and is valid now
 * (INK_ERR_EXPIRED otherwise); crl_url, when given, must be an http:// or https:// URL of printable
 * ASCII (written as one URI, never parsed); days is 1..CA_DAYS_MAX; subject fields are checked
 * (INK_ERR_INVALID). On failure every output is NULL (serial_hex empty). */

/* Makes a new P-384 key and a self-signed root CA certificate for it (SHA-384; basicConstraints
 * CA:TRUE, keyUsage keyCertSign+cRLSign, both critical; SKI). */
int ca_make_root(const struct ca_subject *subj, int days, EVP_PKEY **key, X509 **cert) INK_WUR;
/* Makes a new P-384 key and an issuing CA certificate for it signed by the root (CA:TRUE
 * pathlen:0 and keyCertSign+cRLSign, both critical; SKI/AKI; certificatePolicies anyPolicy;
 * CRL distribution point crl_url when not NULL). */
int ca_make_issuing(EVP_PKEY *root_key, X509 *root, const struct ca_subject *subj, int days,
                    const char *crl_url, EVP_PKEY **key, X509 **cert) INK_WUR;
/* Makes a new P-256 key and a time-stamping certificate for it signed by the issuing CA
 * (extendedKeyUsage timeStamping only, critical; keyUsage digitalSignature+nonRepudiation,
 * critical; CA:FALSE; SKI/AKI; CRL distribution point crl_url when not NULL). */
int ca_make_tsa(EVP_PKEY *issuer_key, X509 *issuer, const struct ca_subject *subj, int days,
                const char *crl_url, EVP_PKEY **key, X509 **cert) INK_WUR;
/* Makes a new P-256 key and a delegated OCSP responder certificate for it signed by the issuing
 * CA (RFC 6960 4.2.2.2: extendedKeyUsage id-kp-OCSPSigning only, critical; keyUsage
 * digitalSignature, critical; id-pkix-ocsp-nocheck; CA:FALSE; SKI/AKI; no CRL DP). */
int ca_make_ocsp(EVP_PKEY *issuer_key, X509 *issuer, const struct ca_subject *subj, int days,
                 EVP_PKEY **key, X509 **cert) INK_WUR;
/* Issues a signer's certificate for the public part of subject_key at assurance level 1..4:
 * keyUsage exactly digitalSignature+nonRepudiation, critical, at every level (signing-only keys),
 * no extendedKeyUsage; CA:FALSE critical; SKI/AKI; CRL distribution point crl_url when not NULL;
 * certificatePolicies policy_oid (dotted OID) when not NULL. The serial goes to serial_hex
 * (upper-case hex, as `openssl x509 -serial` prints it). subject_key may be public-only and must
 * not be the issuer's key. */
int ca_issue_signer(EVP_PKEY *issuer_key, X509 *issuer, EVP_PKEY *subject_key,
                    const struct ca_subject *subj, int level, const char *policy_oid,
                    const char *crl_url, int days, X509 **cert, char serial_hex[static 33]) INK_WUR;

/* Where a signer's certificate sends relying parties for its status (each NULL for none): the
 * CRL distribution point and the authorityInfoAccess OCSP responder, URLs as crl_url above. */
struct ca_urls {
	const char *crl;
	const char *ocsp;
};
/* ca_issue_signer with both URLs, and a lifetime of minutes (when not 0) instead of days. */
int ca_issue_signer_ex(EVP_PKEY *issuer_key, X509 *issuer, EVP_PKEY *subject_key,
                       const struct ca_subject *subj, int level, const char *policy_oid,
                       const struct ca_urls *urls, int days, int minutes, X509 **cert,
                       char serial_hex[static 33]) INK_WUR;
/* A serial number as ca_cert_info() writes it (upper-case hex); INK_ERR_UNSUPPORTED for a
 * negative or over-long one. */
int ca_serial_hex(const ASN1_INTEGER *serial, char out[static 41]) INK_WUR;

/* ---- revocation ---- */

/* RFC 5280 CRLReason values. */
enum ca_reason {
	CA_REASON_UNSPECIFIED = 0,
	CA_REASON_KEY_COMPROMISE = 1,
	CA_REASON_CA_COMPROMISE = 2,
	CA_REASON_AFFILIATION_CHANGED = 3,
	CA_REASON_SUPERSEDED = 4,
	CA_REASON_CESSATION_OF_OPERATION = 5,
	CA_REASON_CERTIFICATE_HOLD = 6,
	/* 7 is unused; 8 (removeFromCRL) belongs to delta CRLs only, which we do not make. */
	CA_REASON_PRIVILEGE_WITHDRAWN = 9,
	CA_REASON_AA_COMPROMISE = 10,
};

/* True when reason is a CRLReason ca_make_crl() accepts (0..10 except 7 and 8). */
bool ca_reason_valid(int reason) INK_WUR;

/* One revoked certificate: its serial (hex, either case, at most 40 digits), when it was revoked
 * (UTC seconds, not in the future) and why (enum ca_reason). */
struct ca_revoked {
	const char *serial_hex;
	int64_t revoked_at;
	int reason;
};

/* Makes a v2 CRL signed by the issuing CA listing n entries (list may be NULL when n is 0;
 * duplicate serials are INK_ERR_INVALID), sorted by serial, with crlNumber crl_number (>= 0), AKI,
 * thisUpdate now and nextUpdate now + next_days (1..CA_CRL_DAYS_MAX). A reason other than
 * unspecified is written as a CRLReason entry extension (RFC 5280: unspecified is left out). */
int ca_make_crl(EVP_PKEY *issuer_key, X509 *issuer, const struct ca_revoked *list, size_t n,
                int64_t crl_number, int next_days, X509_CRL **crl) INK_WUR;

/* ---- an external CA ---- */

/* Signs for a request whose private key lives elsewhere (a PKCS#11 token): the digest dg (of
 * md) of what is signed, the signature as X.509 wants it for that key and md (ECDSA: DER
 * Ecdsa-Sig-Value; RSA: PKCS#1 v1.5 with DigestInfo); *sig malloc'd. */
struct ca_signer {
	int (*sign)(void *arg, const EVP_MD *md, const uint8_t *dg, size_t dglen, uint8_t **sig,
	            size_t *siglen);
	void *arg;
};
/* Makes a PKCS#10 request for key (policy-allowed) and subj, asking (extensionRequest) for
 * keyUsage digitalSignature+nonRepudiation, critical; signed with key (private), or, when ext
 * is given, by ext for the public key (the signature is checked against it before it is
 * handed out). */
int ca_make_csr(EVP_PKEY *key, const struct ca_subject *subj, const struct ca_signer *ext,
                X509_REQ **req) INK_WUR;
/* Checks a certificate an external CA issued for key before it is linked: same public key, v3,
 * a policy-allowed signature algorithm, the usage of ca_check_usage(), valid now. INK_ERR_POLICY
 * with why[whysz] naming the problem otherwise. The chain to the external CA and the subject
 * are not checked here (keys/extcert.c does). */
int ca_check_issued(X509 *cert, EVP_PKEY *key, int level, char *why, size_t whysz) INK_WUR;
/* The usage part of that check: not a CA, keyUsage present with digitalSignature or
 * nonRepudiation and neither keyCertSign nor cRLSign, at level >= 3 exactly
 * digitalSignature+nonRepudiation marked critical and no extendedKeyUsage other than a
 * document-signing one. INK_ERR_POLICY with why[whysz] otherwise. */
int ca_check_usage(X509 *cert, int level, char *why, size_t whysz) INK_WUR;

/* ---- encodings ---- */

/* DER of cert into *der (malloc'd). */
int ca_cert_der(X509 *cert, uint8_t **der, size_t *len) INK_WUR;
/* DER of crl into *der (malloc'd). */
int ca_crl_der(X509_CRL *crl, uint8_t **der, size_t *len) INK_WUR;
/* Parses exactly len bytes (at most CA_DER_MAX) of DER as one certificate. */
int ca_cert_from_der(const uint8_t *der, size_t len, X509 **cert) INK_WUR;

/* Largest DER CRL ca_crl_read() accepts. */
#define CA_CRL_DER_MAX (64 * 1024 * 1024)
/* One entry of a CRL read back: the serial as ca_cert_info() writes it, when, why (CRLReason,
 * 0 when the entry has none). */
struct ca_crl_entry {
	char serial_hex[41];
	int64_t revoked_at;
	int reason;
};
/* Reads exactly len bytes (at most CA_CRL_DER_MAX) of DER as one complete CRL that issuer
 * issued: its issuer name is issuer's subject and its signature verifies under issuer's key
 * (INK_ERR_UNTRUSTED otherwise). A delta CRL, more than CA_CRL_MAX_ENTRIES entries, or an entry
 * with an unreadable serial, date or reason (or one ca_make_crl() would not write) is
 * INK_ERR_INVALID. *entries malloc'd (NULL when there are none); *number its crlNumber (0 when
 * it has none). */
int ca_crl_read(const uint8_t *der, size_t len, X509 *issuer, struct ca_crl_entry **entries,
                size_t *n, int64_t *number) INK_WUR;
/* Subject and issuer as RFC 2253 strings (UTF-8 kept as is), serial as upper-case hex, validity
 * as UTC seconds; INK_ERR_TOO_LARGE when a DN does not fit, INK_ERR_UNSUPPORTED for a negative or
 * over-long (> 20 bytes) serial. */
int ca_cert_info(X509 *cert, char *subject_dn, size_t sdnsz, char *issuer_dn, size_t idnsz,
                 char serial_hex[static 41], int64_t *not_before, int64_t *not_after) INK_WUR;

#endif
