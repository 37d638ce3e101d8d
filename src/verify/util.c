/* util: times, names, OIDs, key and digest policy checks, and input decoding for verify. */
#include "verify/verify_int.h"

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"

int64_t
asn1_time_secs(const ASN1_TIME *t)
{
	struct tm tm;

	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return -1;
	return (int64_t)timegm(&tm);
}

json_t *
json_time(int64_t t)
{
	char buf[21];

	if (t < 0)
		return json_null();
	ink_time_str(t, buf);
	return json_string(buf);
}

void
name_str(const X509_NAME *n, char *out, size_t outsz)
{
	BIO *b = NULL;
	int len;

	if (outsz == 0)
		return;
	out[0] = '\0';
	if (n == NULL || (b = BIO_new(BIO_s_mem())) == NULL)
		return;
	/* UTF-8 kept (Japanese names), control characters escaped. */
	if (X509_NAME_print_ex(b, n, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0 &&
	    (len = BIO_read(b, out, (int)outsz - 1)) > 0)
		out[len] = '\0';
	BIO_free(b);
}

json_t *
json_name(const X509_NAME *n)
{
	char buf[1024];

	name_str(n, buf, sizeof(buf));
	return json_string(buf);
}

void
oid_str(const ASN1_OBJECT *o, char *out, size_t outsz)
{
	if (outsz == 0)
		return;
	out[0] = '\0';
	if (o == NULL || OBJ_obj2txt(out, (int)outsz, o, 1) <= 0)
		snprintf(out, outsz, "?");
}

json_t *
json_serial(const X509 *x)
{
	const ASN1_INTEGER *s = X509_get0_serialNumber(x);
	BIGNUM *bn = NULL;
	char *hex = NULL;
	json_t *j;

	if ((bn = ASN1_INTEGER_to_BN(s, NULL)) == NULL || (hex = BN_bn2hex(bn)) == NULL)
		j = json_null();
	else
		j = json_string(hex);
	OPENSSL_free(hex);
	BN_free(bn);
	return j;
}

void
key_check(EVP_PKEY *pk, int64_t t, const char *who, struct verify_issues *is, json_t *obj)
{
	enum policy_key_type type;
	const char *warning = NULL;
	char curve[64] = "", desc[96], why[256];
	int bits;

	if (pk == NULL) {
		issue_add(is, VERIFY_INDETERMINATE, VERIFY_SUB_CRYPTO_CONSTRAINTS_FAILURE,
		          "%s: unreadable public key", who);
		return;
	}
	bits = EVP_PKEY_get_bits(pk);
	switch (EVP_PKEY_get_base_id(pk)) {
	case EVP_PKEY_RSA:
	case EVP_PKEY_RSA_PSS:
		type = POLICY_KEY_RSA;
		snprintf(desc, sizeof(desc), "RSA-%d", bits);
		break;
	case EVP_PKEY_EC:
		type = POLICY_KEY_EC;
		if (EVP_PKEY_get_utf8_string_param(pk, OSSL_PKEY_PARAM_GROUP_NAME, curve,
		                                   sizeof(curve), NULL) != 1)
			snprintf(curve, sizeof(curve), "?");
		snprintf(desc, sizeof(desc), "EC %s", curve);
		break;
	case EVP_PKEY_ED25519:
		type = POLICY_KEY_ED25519;
		snprintf(desc, sizeof(desc), "Ed25519");
		break;
	case EVP_PKEY_ED448:
		type = POLICY_KEY_ED448;
		snprintf(desc, sizeof(desc), "Ed448");
		break;
	default:
		snprintf(desc, sizeof(desc), "%s", EVP_PKEY_get0_type_name(pk) != NULL ?
		         EVP_PKEY_get0_type_name(pk) : "unknown");
		issue_add(is, VERIFY_INDETERMINATE, VERIFY_SUB_CRYPTO_CONSTRAINTS_FAILURE,
		          "%s: key type %s is not on the CRYPTREC list", who, desc);
		goto out;
	}
	if (policy_check_key(type, bits, curve, t, &warning, why, sizeof(why)) != 0)
		issue_add(is, VERIFY_INDETERMINATE, VERIFY_SUB_CRYPTO_CONSTRAINTS_FAILURE,
		          "%s: %s key refused: %s", who, desc, why);
	else if (warning != NULL)
		warn_add(is, "%s: %s", who, warning);
out:
	if (obj != NULL)
		json_object_set_new(obj, "key", json_string(desc));
}

int
digest_data(const X509_ALGOR *alg, const uint8_t *data, size_t len, uint8_t *out, size_t *outlen)
{
	const ASN1_OBJECT *obj = NULL;
	const EVP_MD *md;
	unsigned int n = 0;

	*outlen = 0;
	X509_ALGOR_get0(&obj, NULL, NULL, alg);
	if (obj == NULL || (md = EVP_get_digestbyobj(obj)) == NULL)
		return INK_ERR_UNSUPPORTED;
	if (EVP_Digest(data, len, out, &n, md, NULL) != 1)
		return INK_ERR_CRYPTO;
	*outlen = n;
	return 0;
}

void
digest_check(const X509_ALGOR *alg, const char *what, struct verify_issues *is)
{
	const ASN1_OBJECT *obj = NULL;
	char oid[80];

	X509_ALGOR_get0(&obj, NULL, NULL, alg);
	oid_str(obj, oid, sizeof(oid));
	if (policy_hash_by_oid(oid) == NULL)
		issue_add(is, VERIFY_INDETERMINATE, VERIFY_SUB_CRYPTO_CONSTRAINTS_FAILURE,
		          "%s: digest algorithm %s (%s) is not allowed (CRYPTREC: SHA-256/384/512, SHA3)",
		          what, OBJ_nid2sn(OBJ_obj2nid(obj)), oid);
}

/* Base64 with whitespace allowed; 0 only when every byte was base64 or white space. */
static int
b64_lenient(const uint8_t *in, size_t len, uint8_t **out, size_t *outlen)
{
	EVP_ENCODE_CTX *ec = NULL;
	uint8_t *p = NULL;
	int n1 = 0, n2 = 0, ret = INK_ERR_INVALID;
	size_t i;

	*out = NULL;
	*outlen = 0;
	if (len > INT32_MAX / 2)
		return INK_ERR_TOO_LARGE;
	for (i = 0; i < len; i++) {
		uint8_t c = in[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '+' || c == '/' || c == '=' || c == ' ' || c == '\t' || c == '\r' ||
		      c == '\n'))
			return INK_ERR_INVALID;
	}
	if ((p = malloc(len / 4 * 3 + 4)) == NULL || (ec = EVP_ENCODE_CTX_new()) == NULL) {
		ret = INK_ERR_ALLOC;
		goto out;
	}
	EVP_DecodeInit(ec);
	if (EVP_DecodeUpdate(ec, p, &n1, in, (int)len) < 0 || EVP_DecodeFinal(ec, p + n1, &n2) != 1 ||
	    n1 + n2 == 0)
		goto out;
	*outlen = (size_t)(n1 + n2);
	*out = p;
	p = NULL;
	ret = 0;
out:
	EVP_ENCODE_CTX_free(ec);
	free(p);
	return ret;
}

int
der_decode(const uint8_t *in, size_t len, uint8_t **out, size_t *outlen)
{
	BIO *b = NULL;
	char *name = NULL, *header = NULL;
	unsigned char *data = NULL;
	long dlen = 0;
	uint8_t *p = NULL;
	int ret = INK_ERR_INVALID;

	*out = NULL;
	*outlen = 0;
	if (len == 0)
		return INK_ERR_INVALID;
	if (in[0] == 0x30) {
		if ((p = malloc(len)) == NULL)
			return INK_ERR_ALLOC;
		memcpy(p, in, len);
		*out = p;
		*outlen = len;
		return 0;
	}
	if (len > INT32_MAX)
		return INK_ERR_TOO_LARGE;
	if (len > 11 && memmem(in, len < 4096 ? len : 4096, "-----BEGIN ", 11) != NULL) {
		if ((b = BIO_new_mem_buf(in, (int)len)) == NULL)
			return INK_ERR_ALLOC;
		if (PEM_read_bio(b, &name, &header, &data, &dlen) != 1 || dlen <= 0)
			goto out;
		if ((p = malloc((size_t)dlen)) == NULL) {
			ret = INK_ERR_ALLOC;
			goto out;
		}
		memcpy(p, data, (size_t)dlen);
		*out = p;
		*outlen = (size_t)dlen;
		ret = 0;
		goto out;
	}
	ret = b64_lenient(in, len, out, outlen);
out:
	OPENSSL_free(name);
	OPENSSL_free(header);
	OPENSSL_free(data);
	BIO_free(b);
	return ret;
}
