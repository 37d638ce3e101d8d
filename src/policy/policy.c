/* policy: the CRYPTREC-based tables of allowed signature and digest algorithms, key checks, and
 * the rules a signing PIN must meet. */
#include "policy/policy.h"

#include <openssl/objects.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define OID_SHA256 "2.16.840.1.101.3.4.2.1"
#define OID_SHA384 "2.16.840.1.101.3.4.2.2"
#define OID_SHA512 "2.16.840.1.101.3.4.2.3"

/* CRYPTREC LS-0001-2022: RSASSA-PKCS1-v1_5, RSASSA-PSS, ECDSA, EdDSA. SHA-1 and MD5 based
 * schemes are absent on purpose: a lookup that finds nothing is a refusal. rsaEncryption
 * (a key OID that some CSC clients send as signAlgo with a separate hash) is not listed. */
static const struct policy_sig_alg sig_algs[] = {
	{ "sha256WithRSAEncryption", "1.2.840.113549.1.1.11", POLICY_KEY_RSA, OID_SHA256 },
	{ "sha384WithRSAEncryption", "1.2.840.113549.1.1.12", POLICY_KEY_RSA, OID_SHA384 },
	{ "sha512WithRSAEncryption", "1.2.840.113549.1.1.13", POLICY_KEY_RSA, OID_SHA512 },
	/* The digest of RSASSA-PSS comes from its parameters, not from the OID. */
	{ "RSASSA-PSS", "1.2.840.113549.1.1.10", POLICY_KEY_RSA, NULL },
	{ "ecdsa-with-SHA256", "1.2.840.10045.4.3.2", POLICY_KEY_EC, OID_SHA256 },
	{ "ecdsa-with-SHA384", "1.2.840.10045.4.3.3", POLICY_KEY_EC, OID_SHA384 },
	{ "ecdsa-with-SHA512", "1.2.840.10045.4.3.4", POLICY_KEY_EC, OID_SHA512 },
	/* PureEdDSA signs the message itself: there is no separate digest. */
	{ "Ed25519", "1.3.101.112", POLICY_KEY_ED25519, NULL },
	{ "Ed448", "1.3.101.113", POLICY_KEY_ED448, NULL },
};

static const struct policy_hash_alg hash_algs[] = {
	{ "SHA-256", OID_SHA256, 32 },
	{ "SHA-384", OID_SHA384, 48 },
	{ "SHA-512", OID_SHA512, 64 },
	{ "SHA3-256", "2.16.840.1.101.3.4.2.8", 32 },
	{ "SHA3-384", "2.16.840.1.101.3.4.2.9", 48 },
	{ "SHA3-512", "2.16.840.1.101.3.4.2.10", 64 },
};

/* OpenSSL short names and NIST names of the allowed curves. */
static const char *const curves[] = {
	"prime256v1", "P-256", "secp384r1", "P-384", "secp521r1", "P-521",
};

const struct policy_sig_alg *
policy_sig_algs(size_t *n)
{
	*n = INK_ARRAY_LEN(sig_algs);
	return sig_algs;
}

const struct policy_sig_alg *
policy_sig_alg_by_oid(const char *oid)
{
	size_t i;

	if (oid == NULL)
		return NULL;
	for (i = 0; i < INK_ARRAY_LEN(sig_algs); i++) {
		if (strcmp(sig_algs[i].oid, oid) == 0)
			return &sig_algs[i];
	}
	return NULL;
}

bool
policy_hash_is_sha2(const char *oid)
{
	return oid != NULL && (strcmp(oid, OID_SHA256) == 0 || strcmp(oid, OID_SHA384) == 0 ||
	                       strcmp(oid, OID_SHA512) == 0);
}

const struct policy_hash_alg *
policy_hash_by_oid(const char *oid)
{
	size_t i;

	if (oid == NULL)
		return NULL;
	for (i = 0; i < INK_ARRAY_LEN(hash_algs); i++) {
		if (strcmp(hash_algs[i].oid, oid) == 0)
			return &hash_algs[i];
	}
	return NULL;
}

static const struct policy_jws_alg jws_algs[] = {
	{ "ES256", POLICY_KEY_EC, "prime256v1", "SHA256", false },
	{ "ES384", POLICY_KEY_EC, "secp384r1", "SHA384", false },
	{ "RS256", POLICY_KEY_RSA, NULL, "SHA256", false },
	{ "PS256", POLICY_KEY_RSA, NULL, "SHA256", true },
};

const struct policy_jws_alg *
policy_jws_alg_by_name(const char *name)
{
	size_t i;

	for (i = 0; name != NULL && i < INK_ARRAY_LEN(jws_algs); i++)
		if (strcmp(jws_algs[i].name, name) == 0)
			return &jws_algs[i];
	return NULL;
}

static int
refuse(char *why, size_t whysz, const char *msg)
{
	if (why != NULL && whysz > 0)
		snprintf(why, whysz, "%s", msg);
	return INK_ERR_POLICY;
}

int
policy_check_key(enum policy_key_type type, int bits, const char *curve, int64_t now,
                 const char **warning, char *why, size_t whysz)
{
	size_t i;

	if (warning != NULL)
		*warning = NULL;
	if (why != NULL && whysz > 0)
		why[0] = '\0';
	switch (type) {
	case POLICY_KEY_RSA:
		if (bits == 3072 || bits == 4096)
			return 0;
		if (bits == 2048) {
			/* 112-bit strength: CRYPTREC allows new signatures through 2030 only. */
			if (now > POLICY_RSA2048_LAST_UTC)
				return refuse(why, whysz, "RSA-2048 is not allowed after 2030-12-31; "
				              "allowed: RSA 3072 or 4096 bits, ECDSA P-256/P-384/P-521, "
				              "Ed25519, Ed448");
			if (warning != NULL)
				*warning = "RSA-2048 is allowed only until 2030-12-31 (CRYPTREC); "
				           "use RSA-3072 or ECDSA P-256 for new keys";
			return 0;
		}
		return refuse(why, whysz, "RSA keys must be 3072 or 4096 bits "
		              "(2048 until 2030-12-31)");
	case POLICY_KEY_EC:
		for (i = 0; curve != NULL && i < INK_ARRAY_LEN(curves); i++) {
			if (strcmp(curves[i], curve) == 0)
				return 0;
		}
		return refuse(why, whysz, "EC keys must be on curve P-256, P-384 or P-521");
	case POLICY_KEY_ED25519:
	case POLICY_KEY_ED448:
		return 0;
	}
	return refuse(why, whysz, "allowed keys: RSA 3072/4096 (2048 until 2030-12-31), "
	              "ECDSA P-256/P-384/P-521, Ed25519, Ed448");
}

#define OID_RSA_KEY "1.2.840.113549.1.1.1"
#define OID_EC_KEY "1.2.840.10045.2.1"
#define OID_PSS "1.2.840.113549.1.1.10"
#define OID_MGF1 "1.2.840.113549.1.1.8"

/* The specific algorithm for a key type and digest (key OID + hash, as CSC v1 clients send). */
static const struct policy_sig_alg *
alg_for(enum policy_key_type type, const char *hash_oid)
{
	size_t i;

	for (i = 0; i < INK_ARRAY_LEN(sig_algs); i++)
		if (sig_algs[i].key_type == type && sig_algs[i].hash_oid != NULL &&
		    strcmp(sig_algs[i].hash_oid, hash_oid) == 0)
			return &sig_algs[i];
	return NULL;
}

static void
oid_text(const ASN1_OBJECT *o, char *out, size_t outsz)
{
	if (o == NULL || OBJ_obj2txt(out, (int)outsz, o, 1) <= 0)
		snprintf(out, outsz, "?");
}

/* RSASSA-PSS-params: digest, MGF1 digest and salt length; only the safe combination. */
static int
pss_params(const uint8_t *der, size_t len, char *hash, size_t hashsz, long *salt)
{
	const unsigned char *p = der;
	RSA_PSS_PARAMS *pp = NULL;
	X509_ALGOR *mgfhash = NULL;
	const ASN1_OBJECT *obj = NULL;
	const void *pval = NULL;
	int ptype = 0, r = INK_ERR_POLICY;
	char mgf[64], mh[64];

	*salt = 20;
	snprintf(hash, hashsz, "1.3.14.3.2.26");   /* RFC 4055 defaults: SHA-1 (refused) */
	if (len > 1024 || (pp = d2i_RSA_PSS_PARAMS(NULL, &p, (long)len)) == NULL ||
	    p != der + len)
		goto out;
	if (pp->hashAlgorithm != NULL)
		oid_text(pp->hashAlgorithm->algorithm, hash, hashsz);
	if (pp->saltLength != NULL)
		*salt = ASN1_INTEGER_get(pp->saltLength);
	if (pp->trailerField != NULL && ASN1_INTEGER_get(pp->trailerField) != 1)
		goto out;
	/* The mask generation function must be MGF1 with the message digest. */
	if (pp->maskGenAlgorithm == NULL)
		goto out;
	oid_text(pp->maskGenAlgorithm->algorithm, mgf, sizeof(mgf));
	X509_ALGOR_get0(&obj, &ptype, &pval, pp->maskGenAlgorithm);
	if (strcmp(mgf, OID_MGF1) != 0 || ptype != V_ASN1_SEQUENCE || pval == NULL)
		goto out;
	p = ((const ASN1_STRING *)pval)->data;
	if ((mgfhash = d2i_X509_ALGOR(NULL, &p, ((const ASN1_STRING *)pval)->length)) == NULL)
		goto out;
	oid_text(mgfhash->algorithm, mh, sizeof(mh));
	if (strcmp(mh, hash) != 0)
		goto out;
	r = 0;
out:
	X509_ALGOR_free(mgfhash);
	RSA_PSS_PARAMS_free(pp);
	return r;
}

long
policy_pss_salt_max(int key_bits, size_t hash_len)
{
	/* emLen = ceil((modBits - 1) / 8), sLen <= emLen - hLen - 2 */
	long em = ((long)key_bits - 1 + 7) / 8;

	return key_bits > 0 && em - (long)hash_len - 2 >= 0 ? em - (long)hash_len - 2 : -1;
}

bool
policy_pss_salt_ok(int key_bits, size_t hash_len, long salt)
{
	return salt == (long)hash_len || (salt > (long)hash_len &&
	                                  salt == policy_pss_salt_max(key_bits, hash_len));
}

int
policy_resolve_sign(const char *sign_oid, const char *hash_oid, const uint8_t *pss_der,
                    size_t pss_len, const struct policy_sig_alg **alg, const char **hash,
                    long *pss_salt, char *why, size_t whysz)
{
	const struct policy_sig_alg *a = NULL;
	const struct policy_hash_alg *h = NULL;
	char pss_hash[64];
	long salt = 0;

	*alg = NULL;
	*hash = NULL;
	*pss_salt = -1;
	if (sign_oid == NULL)
		return refuse(why, whysz, "Missing signAlgo");
	if (hash_oid != NULL && *hash_oid != '\0' && (h = policy_hash_by_oid(hash_oid)) == NULL)
		return refuse(why, whysz, "Invalid hashAlgorithmOID: allowed are SHA-256, SHA-384, "
		              "SHA-512 and SHA3-256/384/512 (2.16.840.1.101.3.4.2.1-3, 8-10)");
	if (strcmp(sign_oid, OID_RSA_KEY) == 0 || strcmp(sign_oid, OID_EC_KEY) == 0) {
		if (h == NULL)
			return refuse(why, whysz, "signAlgo is a key algorithm: hashAlgorithmOID required");
		a = alg_for(strcmp(sign_oid, OID_RSA_KEY) == 0 ? POLICY_KEY_RSA : POLICY_KEY_EC, h->oid);
	} else if (strcmp(sign_oid, OID_PSS) == 0) {
		a = policy_sig_alg_by_oid(OID_PSS);
		if (pss_der != NULL && pss_len > 0) {
			if (pss_params(pss_der, pss_len, pss_hash, sizeof(pss_hash), &salt) != 0)
				return refuse(why, whysz, "Invalid signAlgoParams: RSASSA-PSS-params with "
				              "MGF1 over the same digest expected");
			if (h != NULL && strcmp(h->oid, pss_hash) != 0)
				return refuse(why, whysz, "signAlgoParams and hashAlgorithmOID disagree");
			if ((h = policy_hash_by_oid(pss_hash)) == NULL)
				return refuse(why, whysz, "RSASSA-PSS digest not allowed (SHA-1 refused)");
			/* the key's size is the SAM's to know: here only what no key could allow */
			if (salt != (long)h->len &&
			    (salt < (long)h->len ||
			     salt > policy_pss_salt_max(POLICY_RSA_BITS_MAX, h->len)))
				return refuse(why, whysz, "RSASSA-PSS salt length must be the digest length "
				              "or the maximum for the key (emLen - hLen - 2)");
		}
		if (h == NULL)
			return refuse(why, whysz, "RSASSA-PSS needs signAlgoParams or hashAlgorithmOID");
		*pss_salt = pss_der != NULL && pss_len > 0 ? salt : (long)h->len;
	} else {
		a = policy_sig_alg_by_oid(sign_oid);
		if (a != NULL && a->hash_oid != NULL) {
			if (h != NULL && strcmp(h->oid, a->hash_oid) != 0)
				return refuse(why, whysz, "signAlgo and hashAlgorithmOID disagree");
			h = policy_hash_by_oid(a->hash_oid);
		}
	}
	if (a == NULL)
		return refuse(why, whysz, "Invalid signAlgo: allowed are ecdsa-with-SHA256/384/512, "
		              "sha256/384/512WithRSAEncryption, RSASSA-PSS, rsaEncryption or ecPublicKey "
		              "with a hash (SHA-1 and MD5 refused)");
	if (a->key_type == POLICY_KEY_ED25519 || a->key_type == POLICY_KEY_ED448)
		return refuse(why, whysz, "EdDSA signs whole messages, not hashes: signHash cannot "
		              "make an Ed25519 signature");
	if (h == NULL)
		return refuse(why, whysz, "Missing hashAlgorithmOID");
	*alg = a;
	*hash = h->oid;
	return 0;
}

size_t
policy_algos_for_key(enum policy_key_type type, const char **out, size_t max)
{
	size_t i, n = 0;

	if (n < max && type == POLICY_KEY_RSA)
		out[n++] = OID_RSA_KEY;
	if (n < max && type == POLICY_KEY_EC)
		out[n++] = OID_EC_KEY;
	for (i = 0; i < INK_ARRAY_LEN(sig_algs) && n < max; i++)
		if (sig_algs[i].key_type == type)
			out[n++] = sig_algs[i].oid;
	return n;
}

/* ---- signing PINs ---- */

/* Well-known frequent PINs the rules below do not already catch (repetitions and runs are
 * refused whatever their length): from published studies of 4- and 6-digit PIN frequency
 * (dates, keypad columns and diagonals, pairs), and keyboard rows. Compared ignoring case. */
static const char *const common_pins[] = {
	"1004", "2000", "2001", "1122", "2580", "0852", "5683", "1357", "2468", "1998",
	"112233", "112358", "123321", "123654", "147258", "147369", "147852", "159357", "159753",
	"258369", "456123", "741852", "753951", "789456", "852456", "963852", "100200", "102030",
	"11223344", "12344321", "abc123", "qwerty", "qwertz", "azerty", "asdfgh", "password",
};

/* One character or block repeated throughout: the PIN has a period of at most half its
 * length (000000, 121212, 123123, 12341234, abcabca). */
static bool
pin_repeats(const char *pin, size_t n)
{
	size_t p, i;

	for (p = 1; p <= n / 2; p++) {
		for (i = p; i < n && pin[i] == pin[i - p]; i++)
			;
		if (i == n)
			return true;
	}
	return false;
}

/* Every character one up (step 1) or one down (step -1) from the one before: digits wrap
 * from 9 to 0 as on a dial (890123, 210987); letters ignore case and do not wrap. */
static bool
pin_run(const char *pin, size_t n, int step)
{
	size_t i;
	int a, b;

	for (i = 1; i < n; i++) {
		a = (unsigned char)pin[i - 1];
		b = (unsigned char)pin[i];
		if (a >= '0' && a <= '9' && b >= '0' && b <= '9') {
			if ((a - '0' + step + 10) % 10 != b - '0')
				return false;
		} else if ((a | 0x20) >= 'a' && (a | 0x20) <= 'z' && (b | 0x20) >= 'a' &&
		           (b | 0x20) <= 'z') {
			if ((a | 0x20) + step != (b | 0x20))
				return false;
		} else {
			return false;
		}
	}
	return true;
}

int
policy_check_pin(const char *pin, size_t min_len, char *why, size_t whysz)
{
	char text[96];
	size_t n, i;

	if (why != NULL && whysz > 0)
		why[0] = '\0';
	if (min_len < POLICY_PIN_MIN_LEN)
		min_len = POLICY_PIN_MIN_LEN;
	if (min_len > POLICY_PIN_MAX)
		min_len = POLICY_PIN_MAX;
	if (pin == NULL)
		return refuse(why, whysz, "Missing PIN");
	n = strnlen(pin, POLICY_PIN_MAX + 1);
	if (n < min_len) {
		snprintf(text, sizeof(text), "PIN too short: at least %zu characters", min_len);
		return refuse(why, whysz, text);
	}
	if (n > POLICY_PIN_MAX)
		return refuse(why, whysz, "PIN too long: at most 64 characters");
	for (i = 0; i < n; i++)
		if ((unsigned char)pin[i] < 0x20 || (unsigned char)pin[i] > 0x7e)
			return refuse(why, whysz, "PIN must be printable ASCII characters");
	if (pin_repeats(pin, n))
		return refuse(why, whysz, "PIN too easy to guess: a character or a pattern repeated "
		              "(like 000000 or 121212)");
	if (pin_run(pin, n, 1) || pin_run(pin, n, -1))
		return refuse(why, whysz, "PIN too easy to guess: an ascending or descending run "
		              "(like 123456, 654321 or 890123)");
	for (i = 0; i < INK_ARRAY_LEN(common_pins); i++)
		if (strcasecmp(pin, common_pins[i]) == 0)
			return refuse(why, whysz, "PIN too easy to guess: one of the most common PINs");
	return 0;
}
