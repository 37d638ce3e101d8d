/* der: certificates and CRLs as bytes for the SAM protocol and the public endpoints, and as text. */
#include "ca/ca_int.h"

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <stdlib.h>
#include <string.h>

/* DER of any OpenSSL ASN.1 object into a malloc'd buffer. */
static int
der_of(const void *obj, const ASN1_ITEM *it, uint8_t **der, size_t *len)
{
	uint8_t *tmp = NULL;
	int n;

	if (der != NULL)
		*der = NULL;
	if (len != NULL)
		*len = 0;
	if (obj == NULL || der == NULL || len == NULL)
		return INK_ERR_INVALID;
	if ((n = ASN1_item_i2d((const ASN1_VALUE *)obj, &tmp, it)) <= 0)
		return INK_ERR_CRYPTO;
	if ((*der = malloc((size_t)n)) == NULL) {
		OPENSSL_free(tmp);
		return INK_ERR_ALLOC;
	}
	memcpy(*der, tmp, (size_t)n);
	*len = (size_t)n;
	OPENSSL_free(tmp);
	return 0;
}

int
ca_cert_der(X509 *cert, uint8_t **der, size_t *len)
{
	return der_of(cert, ASN1_ITEM_rptr(X509), der, len);
}

int
ca_crl_der(X509_CRL *crl, uint8_t **der, size_t *len)
{
	return der_of(crl, ASN1_ITEM_rptr(X509_CRL), der, len);
}

int
ca_cert_from_der(const uint8_t *der, size_t len, X509 **cert)
{
	X509 *x = NULL;
	const uint8_t *p = der;
	int r = INK_ERR_INVALID;

	if (cert != NULL)
		*cert = NULL;
	if (der == NULL || cert == NULL || len == 0)
		goto out;
	r = INK_ERR_TOO_LARGE;
	if (len > CA_DER_MAX)
		goto out;
	/* Exactly one certificate: trailing bytes mean the caller framed something wrongly. */
	r = INK_ERR_INVALID;
	if ((x = d2i_X509(NULL, &p, (long)len)) == NULL || p != der + len) {
		ERR_clear_error();
		goto out;
	}
	*cert = x;
	x = NULL;
	r = 0;
out:
	X509_free(x);
	return r;
}

/* RFC 2253 text of name into out[outsz]; UTF-8 left as is rather than escaped byte by byte. */
static int
dn_string(const X509_NAME *name, char *out, size_t outsz)
{
	BIO *bio = NULL;
	char *data = NULL;
	long n;
	int r = INK_ERR_ALLOC;

	out[0] = '\0';
	if ((bio = BIO_new(BIO_s_mem())) == NULL)
		goto out;
	r = INK_ERR_CRYPTO;
	if (X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) < 0)
		goto out;
	if ((n = BIO_get_mem_data(bio, &data)) < 0)
		goto out;
	r = INK_ERR_TOO_LARGE;
	if ((size_t)n >= outsz)
		goto out;
	if (n > 0)
		memcpy(out, data, (size_t)n);
	out[n] = '\0';
	r = 0;
out:
	BIO_free(bio);
	return r;
}

/* UTC seconds of t. */
static int
time_secs(const ASN1_TIME *t, int64_t *out)
{
	ASN1_TIME *epoch = NULL;
	int days, secs, r = INK_ERR_CRYPTO;

	*out = 0;
	if ((epoch = ASN1_TIME_set(NULL, 0)) == NULL ||
	    ASN1_TIME_diff(&days, &secs, epoch, t) != 1)
		goto out;
	*out = (int64_t)days * 86400 + secs;
	r = 0;
out:
	ASN1_TIME_free(epoch);
	return r;
}

/* CRLReason of an entry: 0 when it has none; -1 when it is unreadable or not one we write. */
static int
entry_reason(const X509_REVOKED *rev)
{
	ASN1_ENUMERATED *e;
	int crit = -1;
	long v;

	if ((e = X509_REVOKED_get_ext_d2i(rev, NID_crl_reason, &crit, NULL)) == NULL)
		return crit == -1 ? CA_REASON_UNSPECIFIED : -1;
	v = ASN1_ENUMERATED_get(e);
	ASN1_ENUMERATED_free(e);
	return v >= 0 && v <= CA_REASON_AA_COMPROMISE && ca_reason_valid((int)v) ? (int)v : -1;
}

int
ca_crl_read(const uint8_t *der, size_t len, X509 *issuer, struct ca_crl_entry **entries,
            size_t *n, int64_t *number)
{
	const uint8_t *p = der;
	X509_CRL *crl = NULL;
	ASN1_INTEGER *num = NULL;
	STACK_OF(X509_REVOKED) *revs;
	const X509_REVOKED *rev;
	struct ca_crl_entry *v = NULL;
	EVP_PKEY *key;
	size_t cnt = 0, i;
	int crit = -1, r = INK_ERR_INVALID;

	if (entries != NULL)
		*entries = NULL;
	if (n != NULL)
		*n = 0;
	if (number != NULL)
		*number = 0;
	if (der == NULL || len == 0 || issuer == NULL || entries == NULL || n == NULL || number == NULL)
		return INK_ERR_INVALID;
	if (len > CA_CRL_DER_MAX)
		return INK_ERR_TOO_LARGE;
	if ((crl = d2i_X509_CRL(NULL, &p, (long)len)) == NULL || p != der + len)
		goto out;
	r = INK_ERR_UNTRUSTED;
	if (X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(issuer)) != 0 ||
	    (key = X509_get0_pubkey(issuer)) == NULL || X509_CRL_verify(crl, key) != 1)
		goto out;
	r = INK_ERR_INVALID;
	if (X509_CRL_get_ext_by_NID(crl, NID_delta_crl, -1) >= 0)
		goto out;
	if ((num = X509_CRL_get_ext_d2i(crl, NID_crl_number, &crit, NULL)) == NULL) {
		if (crit != -1)
			goto out;
	} else if (ASN1_INTEGER_get_int64(number, num) != 1 || *number < 0) {
		goto out;
	}
	/* A CRL without entries has no list at all (num -1). */
	if ((revs = X509_CRL_get_REVOKED(crl)) != NULL && sk_X509_REVOKED_num(revs) > 0)
		cnt = (size_t)sk_X509_REVOKED_num(revs);
	if (cnt > CA_CRL_MAX_ENTRIES)
		goto out;
	if (cnt > 0 && (v = calloc(cnt, sizeof(*v))) == NULL) {
		r = INK_ERR_ALLOC;
		goto out;
	}
	for (i = 0; i < cnt; i++) {
		rev = sk_X509_REVOKED_value(revs, (int)i);
		if (ca_int_serial_hex(X509_REVOKED_get0_serialNumber(rev), v[i].serial_hex,
		                      sizeof(v[i].serial_hex)) != 0 ||
		    time_secs(X509_REVOKED_get0_revocationDate(rev), &v[i].revoked_at) != 0 ||
		    v[i].revoked_at <= 0 || (v[i].reason = entry_reason(rev)) < 0)
			goto out;
	}
	*entries = v;
	*n = cnt;
	v = NULL;
	r = 0;
out:
	if (r != 0 && number != NULL)
		*number = 0;
	ERR_clear_error();
	free(v);
	ASN1_INTEGER_free(num);
	X509_CRL_free(crl);
	return r;
}

int
ca_cert_info(X509 *cert, char *subject_dn, size_t sdnsz, char *issuer_dn, size_t idnsz,
             char serial_hex[static 41], int64_t *not_before, int64_t *not_after)
{
	int64_t nb = 0, na = 0;
	int r = INK_ERR_INVALID;

	serial_hex[0] = '\0';
	if (subject_dn != NULL && sdnsz > 0)
		subject_dn[0] = '\0';
	if (issuer_dn != NULL && idnsz > 0)
		issuer_dn[0] = '\0';
	if (not_before != NULL)
		*not_before = 0;
	if (not_after != NULL)
		*not_after = 0;
	if (cert == NULL || subject_dn == NULL || sdnsz == 0 || issuer_dn == NULL || idnsz == 0 ||
	    not_before == NULL || not_after == NULL)
		goto out;
	if ((r = dn_string(X509_get_subject_name(cert), subject_dn, sdnsz)) != 0 ||
	    (r = dn_string(X509_get_issuer_name(cert), issuer_dn, idnsz)) != 0 ||
	    (r = ca_int_serial_hex(X509_get0_serialNumber(cert), serial_hex, 41)) != 0 ||
	    (r = time_secs(X509_get0_notBefore(cert), &nb)) != 0 ||
	    (r = time_secs(X509_get0_notAfter(cert), &na)) != 0)
		goto out;
	*not_before = nb;
	*not_after = na;
	r = 0;
out:
	if (r != 0) {
		serial_hex[0] = '\0';
		if (subject_dn != NULL && sdnsz > 0)
			subject_dn[0] = '\0';
		if (issuer_dn != NULL && idnsz > 0)
			issuer_dn[0] = '\0';
	}
	return r;
}
