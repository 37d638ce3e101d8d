/* policy: the CRYPTREC-based tables of allowed signature and digest algorithms, and key checks. */
#include "policy/policy.h"

#include <stdio.h>
#include <string.h>

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
