/* policy: the cryptographic policy (CRYPTREC e-Government Recommended Ciphers List, LS-0001-2022).
 * Every algorithm, key size and curve the product accepts comes from here and nowhere else, and
 * so do the rules for signing PINs (inkan-sam enforces them, inkand explains them). */
#ifndef INKAN_POLICY_H
#define INKAN_POLICY_H

#include "common/common.h"

enum policy_key_type { POLICY_KEY_RSA = 1, POLICY_KEY_EC = 2, POLICY_KEY_ED25519 = 3, POLICY_KEY_ED448 = 4 };

/* A signature algorithm the service may produce, as named and numbered by the CSC API. */
struct policy_sig_alg {
	const char *name;        /* e.g. "ecdsa-with-SHA256" */
	const char *oid;         /* dotted OID, e.g. "1.2.840.10045.4.3.2" */
	enum policy_key_type key_type;
	const char *hash_oid;    /* digest the signature is over; NULL for RSASSA-PSS (from params) */
};

/* Allowed signature algorithms (CRYPTREC list), in the order /info lists them. */
const struct policy_sig_alg *policy_sig_algs(size_t *n);
/* Looks up an allowed signature algorithm by OID; NULL when refused or unknown. */
const struct policy_sig_alg *policy_sig_alg_by_oid(const char *oid);

/* A digest algorithm a client may send hashes for. */
struct policy_hash_alg {
	const char *name;        /* "SHA-256" */
	const char *oid;         /* "2.16.840.1.101.3.4.2.1" */
	size_t len;              /* digest length in bytes */
};
const struct policy_hash_alg *policy_hash_by_oid(const char *oid);
/* True for SHA-256, SHA-384 and SHA-512: what a digest of 32, 48 or 64 bytes is taken to be
 * when no algorithm was named for it. */
bool policy_hash_is_sha2(const char *oid);

/* A JWS algorithm (RFC 7518) a client may sign its assertions with: the key it needs and the
 * digest. No "none", no HMAC with a public key: an assertion's algorithm must fit the key the
 * client registered. */
struct policy_jws_alg {
	const char *name;        /* "ES256" */
	enum policy_key_type key_type;
	const char *curve;       /* EC: the OpenSSL group name the key must have; NULL for RSA */
	const char *digest;      /* OpenSSL digest name, "SHA256" */
	bool pss;                /* RSASSA-PSS, MGF1 with the same digest, salt = digest length */
};
/* ES256 (P-256), ES384 (P-384), RS256 and PS256 (RSA, as policy_check_key allows); NULL for
 * anything else. */
const struct policy_jws_alg *policy_jws_alg_by_name(const char *name);

/* Checks a key: RSA 3072/4096 (2048 with a warning until 2030-12-31, refused after),
 * EC P-256/P-384/P-521 (curve given as its OpenSSL short name), Ed25519/Ed448.
 * 0 when allowed (*warning set to a text when allowed with a warning, else NULL);
 * INK_ERR_POLICY with why[whysz] naming what is allowed otherwise. now is UTC seconds. */
int policy_check_key(enum policy_key_type type, int bits, const char *curve, int64_t now,
                     const char **warning, char *why, size_t whysz) INK_WUR;

/* Resolves what a CSC client asked for into one allowed signature algorithm and its digest:
 * sign_oid may be a specific algorithm (ecdsa-with-SHA256, sha256WithRSAEncryption, ...), a key
 * OID (rsaEncryption, ecPublicKey: the digest then comes from hash_oid), or RSASSA-PSS with
 * DER parameters pss_der (MGF1 with the same digest; the salt length as policy_pss_salt_ok()
 * may allow for some key) or hash_oid alone (salt length = digest length). hash_oid, when
 * given, must agree. *alg, *hash (a digest OID) and *pss_salt (the salt length in bytes for
 * RSASSA-PSS, -1 otherwise) set on success; INK_ERR_POLICY with why[] otherwise. */
int policy_resolve_sign(const char *sign_oid, const char *hash_oid, const uint8_t *pss_der,
                        size_t pss_len, const struct policy_sig_alg **alg, const char **hash,
                        long *pss_salt, char *why, size_t whysz) INK_WUR;
/* RSASSA-PSS salt lengths. RFC 8017 9.1.1 allows 0..emLen-hLen-2; the service signs with the
 * two that CSC clients ask for: the digest length (hash_len) and the maximum for the key. */
long policy_pss_salt_max(int key_bits, size_t hash_len);
bool policy_pss_salt_ok(int key_bits, size_t hash_len, long salt) INK_WUR;
/* The largest RSA key policy_check_key() allows (bits). */
#define POLICY_RSA_BITS_MAX 4096
/* The OIDs a key of this type can sign with, key OID first (credentials/info key/algo). */
size_t policy_algos_for_key(enum policy_key_type type, const char **out, size_t max);

/* ---- signing PINs ---- */

#define POLICY_PIN_MIN_LEN 4       /* lowest pin_min_len a configuration may set */
#define POLICY_PIN_MIN_DEFAULT 6   /* pin_min_len by default */
#define POLICY_PIN_MAX 64          /* longest PIN */

/* Checks a new signing PIN: min_len..POLICY_PIN_MAX printable ASCII characters (min_len is
 * taken as at least POLICY_PIN_MIN_LEN), and not trivial: no character or block repeated
 * throughout (000000, 121212, 123123), no run of digits up or down, wrapping from 9 to 0
 * (123456, 654321, 890123), no run of letters (abcdef), none of the most common PINs (112233,
 * 159753, 2580, qwerty, ...). 0 when acceptable; INK_ERR_POLICY with why[whysz] naming the
 * rule, never the PIN, otherwise. */
int policy_check_pin(const char *pin, size_t min_len, char *why, size_t whysz) INK_WUR;

/* ---- assurance levels (levels.c; docs/configuration.md, "Assurance levels") ---- */

/* What one assurance level sets. Every level keeps the floors (two factors, SCAL2, CRYPTREC
 * algorithms, certificates for electronic signatures only); a higher one only adds. */
struct policy_level {
	int level;
	size_t pin_min_len;         /* shortest signing PIN (pin_min_len may only raise it) */
	int64_t sad_ttl_max;        /* longest SAD lifetime, seconds (sad_ttl may only lower it) */
	int64_t multisign_max;      /* most hashes in one authorization (multisign likewise) */
	bool rsa2048;               /* RSA-2048 keys and signatures still accepted (until 2030) */
	bool pkcs11_required;       /* signing keys only in a PKCS#11 token */
	bool tsa_synced_clock;      /* no time-stamp on a clock that cannot vouch for it */
	int64_t cert_minutes_min;   /* shortest signer certificate cert_minutes may ask for */
};
/* The level's rules; NULL outside 1..4. */
const struct policy_level *policy_level_of(int64_t level);
/* The shortest signing PIN in force: the level's, or pin_min_len when that is higher. */
size_t policy_pin_min(const struct ink_config *cfg);
/* Whether the TSA must refuse on an unsynchronised clock (the level's or the setting's). */
bool policy_tsa_needs_synced_clock(const struct ink_config *cfg);
/* Checks that a configuration does not contradict its assurance level (a setting below the
 * level's floor, software keys where it wants a token): INK_ERR_CONFIG with why[] naming the
 * setting. Both daemons refuse to start on it. */
int policy_check_config(const struct ink_config *cfg, char *why, size_t whysz) INK_WUR;

/* Default key for a new credential (ECDSA P-256). */
#define POLICY_DEFAULT_CURVE "P-256"
/* Last day an RSA-2048 key may make a new signature (CRYPTREC: 112-bit security until 2030). */
#define POLICY_RSA2048_LAST_UTC INT64_C(1924991999) /* 2030-12-31T23:59:59Z */

#endif
