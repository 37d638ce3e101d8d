/* util: what the CA's files share: subject names, keys against policy, issuer checks, extensions. */
#include "ca/ca_int.h"

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "policy/policy.h"

/* X.520 upper bounds (ub-common-name, ub-organization-name, ub-serial-number). */
#define NAME_CHARS_MAX 64
#define CURVE_NAME_MAX 64

/* Number of characters in a UTF-8 string without control characters, or -1 when it is not one.
 * Overlong forms, surrogates and code points above U+10FFFF are refused. */
static long
utf8_chars(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	long n = 0;
	uint32_t cp, min;
	int k, i;

	while (*p != '\0') {
		if (*p < 0x80) {
			if (*p < 0x20 || *p == 0x7f)
				return -1;
			p++;
			n++;
			continue;
		}
		if ((*p & 0xe0) == 0xc0) {
			k = 1;
			cp = *p & 0x1f;
			min = 0x80;
		} else if ((*p & 0xf0) == 0xe0) {
			k = 2;
			cp = *p & 0x0f;
			min = 0x800;
		} else if ((*p & 0xf8) == 0xf0) {
			k = 3;
			cp = *p & 0x07;
			min = 0x10000;
		} else {
			return -1;
		}
		for (i = 1; i <= k; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return -1;
			cp = (cp << 6) | (p[i] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) ||
		    (cp >= 0x80 && cp < 0xa0))
			return -1;
		p += k + 1;
		n++;
	}
	return n;
}

/* X.680 PrintableString: letters, digits, space and '()+,-./:=? */
static bool
printable(const char *s)
{
	for (; *s != '\0'; s++) {
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		      (*s >= '0' && *s <= '9') || strchr(" '()+,-./:=?", *s) != NULL))
			return false;
	}
	return true;
}

static bool
text_ok(const char *s, bool required)
{
	long n;

	if (s == NULL)
		return !required;
	n = utf8_chars(s);
	return n >= 1 && n <= NAME_CHARS_MAX;
}

int
ca_int_name(const struct ca_subject *subj, X509_NAME **out)
{
	X509_NAME *name = NULL;
	const char *c;
	int r = INK_ERR_INVALID;

	*out = NULL;
	if (subj == NULL || !text_ok(subj->common_name, true) ||
	    !text_ok(subj->organization, false))
		goto out;
	c = subj->country;
	if (c != NULL && (strlen(c) != 2 || c[0] < 'A' || c[0] > 'Z' || c[1] < 'A' || c[1] > 'Z'))
		goto out;
	if (subj->serial_number != NULL &&
	    (subj->serial_number[0] == '\0' || strlen(subj->serial_number) > NAME_CHARS_MAX ||
	     !printable(subj->serial_number)))
		goto out;
	r = INK_ERR_ALLOC;
	if ((name = X509_NAME_new()) == NULL)
		goto out;
	/* OpenSSL's string table makes C and serialNumber PrintableStrings and, with the default
	 * "utf8only" mask, O and CN UTF8Strings. */
	r = INK_ERR_CRYPTO;
	if (c != NULL && X509_NAME_add_entry_by_NID(name, NID_countryName, MBSTRING_ASC,
	                                            (const unsigned char *)c, -1, -1, 0) != 1)
		goto out;
	if (subj->organization != NULL &&
	    X509_NAME_add_entry_by_NID(name, NID_organizationName, MBSTRING_UTF8,
	                               (const unsigned char *)subj->organization, -1, -1, 0) != 1)
		goto out;
	if (X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_UTF8,
	                               (const unsigned char *)subj->common_name, -1, -1, 0) != 1)
		goto out;
	if (subj->serial_number != NULL &&
	    X509_NAME_add_entry_by_NID(name, NID_serialNumber, MBSTRING_ASC,
	                               (const unsigned char *)subj->serial_number, -1, -1, 0) != 1)
		goto out;
	*out = name;
	name = NULL;
	r = 0;
out:
	X509_NAME_free(name);
	return r;
}

int
ca_int_check_key(EVP_PKEY *key, char *why, size_t whysz)
{
	char curve[CURVE_NAME_MAX];
	const char *warning = NULL;
	enum policy_key_type type;
	size_t clen = 0;
	int r;

	if (why != NULL && whysz > 0)
		why[0] = '\0';
	curve[0] = '\0';
	if (EVP_PKEY_is_a(key, "RSA") || EVP_PKEY_is_a(key, "RSA-PSS")) {
		type = POLICY_KEY_RSA;
	} else if (EVP_PKEY_is_a(key, "EC")) {
		type = POLICY_KEY_EC;
		if (EVP_PKEY_get_group_name(key, curve, sizeof(curve), &clen) != 1)
			curve[0] = '\0';
	} else if (EVP_PKEY_is_a(key, "ED25519")) {
		type = POLICY_KEY_ED25519;
	} else if (EVP_PKEY_is_a(key, "ED448")) {
		type = POLICY_KEY_ED448;
	} else {
		if (why != NULL && whysz > 0)
			snprintf(why, whysz, "key type %s is not allowed; allowed: RSA 3072/4096 "
			         "(2048 until 2030-12-31), ECDSA P-256/P-384/P-521, Ed25519, Ed448",
			         EVP_PKEY_get0_type_name(key) != NULL ? EVP_PKEY_get0_type_name(key) : "?");
		return INK_ERR_POLICY;
	}
	r = policy_check_key(type, EVP_PKEY_get_bits(key), curve[0] != '\0' ? curve : NULL,
	                     ink_now(), &warning, why, whysz);
	if (r == 0 && warning != NULL)
		log_warn("%s", warning);
	return r;
}

int
ca_int_digest(EVP_PKEY *key, const EVP_MD **md)
{
	int bits;

	*md = NULL;
	if (EVP_PKEY_is_a(key, "ED25519") || EVP_PKEY_is_a(key, "ED448"))
		return 0;
	if ((bits = EVP_PKEY_get_security_bits(key)) <= 0)
		return INK_ERR_CRYPTO;
	if (bits <= 128)
		*md = EVP_sha256();
	else if (bits <= 192)
		*md = EVP_sha384();
	else
		*md = EVP_sha512();
	return 0;
}

int
ca_int_check_issuer(EVP_PKEY *issuer_key, X509 *issuer, uint32_t ku_bit)
{
	uint32_t ku;

	if (issuer_key == NULL || issuer == NULL)
		return INK_ERR_INVALID;
	if (X509_check_private_key(issuer, issuer_key) != 1) {
		ERR_clear_error();
		log_bug("issuer key does not match the issuer certificate");
		return INK_ERR_INVALID;
	}
	if (X509_check_ca(issuer) != 1 || (X509_get_extension_flags(issuer) & EXFLAG_INVALID)) {
		log_bug("issuer certificate is not a CA");
		return INK_ERR_INVALID;
	}
	ku = X509_get_key_usage(issuer);
	if ((X509_get_extension_flags(issuer) & EXFLAG_KUSAGE) == 0 || (ku & ku_bit) == 0) {
		log_bug("issuer certificate lacks the key usage to sign this");
		return INK_ERR_INVALID;
	}
	if (X509_cmp_current_time(X509_get0_notBefore(issuer)) >= 0 ||
	    X509_cmp_current_time(X509_get0_notAfter(issuer)) <= 0) {
		log_error("issuer certificate is not valid now");
		return INK_ERR_EXPIRED;
	}
	return 0;
}

int
ca_int_add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX v3;
	X509_EXTENSION *ext = NULL;
	int r = INK_ERR_CRYPTO;

	X509V3_set_ctx(&v3, issuer != NULL ? issuer : x, x, NULL, NULL, 0);
	if ((ext = X509V3_EXT_nconf_nid(NULL, &v3, nid, value)) == NULL)
		goto out;
	if (X509_add_ext(x, ext, -1) != 1)
		goto out;
	r = 0;
out:
	X509_EXTENSION_free(ext);
	return r;
}

int
ca_int_set_serial(X509 *x)
{
	uint8_t raw[CA_SERIAL_LEN];
	BIGNUM *bn = NULL;
	int r;

	if ((r = ink_random(raw, sizeof(raw))) != 0)
		return r;
	r = INK_ERR_CRYPTO;
	raw[0] = (uint8_t)((raw[0] & 0x7f) | 0x40);
	if ((bn = BN_bin2bn(raw, sizeof(raw), NULL)) == NULL ||
	    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) == NULL)
		goto out;
	r = 0;
out:
	BN_free(bn);
	return r;
}

int
ca_int_serial_hex(const ASN1_INTEGER *serial, char *out, size_t outsz)
{
	BIGNUM *bn = NULL;
	char *hex = NULL;
	int r = INK_ERR_CRYPTO;

	if (outsz > 0)
		out[0] = '\0';
	if ((bn = ASN1_INTEGER_to_BN(serial, NULL)) == NULL)
		goto out;
	if (BN_is_negative(bn) || BN_num_bytes(bn) > 20) {
		r = INK_ERR_UNSUPPORTED;
		goto out;
	}
	if ((hex = BN_bn2hex(bn)) == NULL)
		goto out;
	if (strlen(hex) >= outsz) {
		r = INK_ERR_TOO_LARGE;
		goto out;
	}
	memcpy(out, hex, strlen(hex) + 1);
	r = 0;
out:
	OPENSSL_free(hex);
	BN_free(bn);
	return r;
}

int
ca_serial_hex(const ASN1_INTEGER *serial, char out[static 41])
{
	return ca_int_serial_hex(serial, out, 41);
}

void
ca_cert_subject(const uint8_t *der, size_t len, char *out, size_t outsz)
{
	const unsigned char *p = der;
	X509 *x = NULL;
	BIO *bio = NULL;
	char *mem = NULL;
	long n;

	if (outsz == 0)
		return;
	out[0] = '\0';
	if (der == NULL || len == 0 || len > LONG_MAX || (x = d2i_X509(NULL, &p, (long)len)) == NULL ||
	    (bio = BIO_new(BIO_s_mem())) == NULL)
		goto out;
	/* RFC 2253 order, UTF-8 kept as is (a Japanese name reads as written) */
	if (X509_NAME_print_ex(bio, X509_get_subject_name(x), 0,
	                       XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) < 0)
		goto out;
	n = BIO_get_mem_data(bio, &mem);
	if (n > 0)
		snprintf(out, outsz, "%.*s", (int)(n < (long)outsz ? n : (long)outsz - 1), mem);
out:
	BIO_free(bio);
	X509_free(x);
}
