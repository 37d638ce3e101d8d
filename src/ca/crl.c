/* crl: the issuing CA's certificate revocation list (RFC 5280 §5, v2, complete CRLs only). */
#include "ca/ca_int.h"

#include <openssl/bn.h>
#include <time.h>
#include <string.h>

#define SERIAL_HEX_MAX 40

bool
ca_reason_valid(int reason)
{
	/* 7 is unassigned; removeFromCRL (8) may only appear in delta CRLs (RFC 5280 5.3.1). */
	return reason >= CA_REASON_UNSPECIFIED && reason <= CA_REASON_AA_COMPROMISE &&
	       reason != 7 && reason != 8;
}

/* Hex serial (1..40 digits, either case) as a positive ASN1_INTEGER. */
static int
parse_serial(const char *hex, ASN1_INTEGER **out)
{
	BIGNUM *bn = NULL;
	ASN1_INTEGER *ai = NULL;
	size_t i, n;
	int r = INK_ERR_INVALID;

	*out = NULL;
	if (hex == NULL || (n = strlen(hex)) == 0 || n > SERIAL_HEX_MAX)
		goto out;
	for (i = 0; i < n; i++) {
		if (!((hex[i] >= '0' && hex[i] <= '9') || (hex[i] >= 'a' && hex[i] <= 'f') ||
		      (hex[i] >= 'A' && hex[i] <= 'F')))
			goto out;
	}
	r = INK_ERR_CRYPTO;
	if (BN_hex2bn(&bn, hex) != (int)n || (ai = BN_to_ASN1_INTEGER(bn, NULL)) == NULL)
		goto out;
	*out = ai;
	ai = NULL;
	r = 0;
out:
	ASN1_INTEGER_free(ai);
	BN_free(bn);
	return r;
}

static int
add_entry(X509_CRL *crl, const struct ca_revoked *e, int64_t now)
{
	X509_REVOKED *rev = NULL;
	ASN1_INTEGER *serial = NULL;
	ASN1_TIME *when = NULL;
	ASN1_ENUMERATED *reason = NULL;
	int r = INK_ERR_INVALID;

	if (!ca_reason_valid(e->reason) || e->revoked_at <= 0 ||
	    e->revoked_at > now + CA_CLOCK_SLACK_SECS)
		goto out;
	if ((r = parse_serial(e->serial_hex, &serial)) != 0)
		goto out;
	r = INK_ERR_CRYPTO;
	if ((rev = X509_REVOKED_new()) == NULL || (when = ASN1_TIME_set(NULL, (time_t)e->revoked_at)) == NULL ||
	    X509_REVOKED_set_serialNumber(rev, serial) != 1 ||
	    X509_REVOKED_set_revocationDate(rev, when) != 1)
		goto out;
	/* RFC 5280 5.3.1: leave the extension out rather than say "unspecified". */
	if (e->reason != CA_REASON_UNSPECIFIED) {
		if ((reason = ASN1_ENUMERATED_new()) == NULL ||
		    ASN1_ENUMERATED_set(reason, e->reason) != 1 ||
		    X509_REVOKED_add1_ext_i2d(rev, NID_crl_reason, reason, 0, X509V3_ADD_DEFAULT) != 1)
			goto out;
	}
	if (X509_CRL_add0_revoked(crl, rev) != 1)
		goto out;
	rev = NULL;
	r = 0;
out:
	ASN1_ENUMERATED_free(reason);
	ASN1_TIME_free(when);
	ASN1_INTEGER_free(serial);
	X509_REVOKED_free(rev);
	return r;
}

int
ca_make_crl(EVP_PKEY *issuer_key, X509 *issuer, const struct ca_revoked *list, size_t n,
            int64_t crl_number, int next_days, X509_CRL **out)
{
	X509_CRL *crl = NULL;
	ASN1_TIME *t = NULL;
	ASN1_INTEGER *num = NULL;
	X509_EXTENSION *aki = NULL;
	STACK_OF(X509_REVOKED) *revs;
	const EVP_MD *md = NULL;
	X509V3_CTX v3;
	int64_t now = ink_now();
	size_t i;
	int r = INK_ERR_INVALID;

	if (out != NULL)
		*out = NULL;
	if (out == NULL || (list == NULL && n > 0) || n > CA_CRL_MAX_ENTRIES || crl_number < 0 ||
	    next_days < 1 || next_days > CA_CRL_DAYS_MAX)
		goto out;
	if ((r = ca_int_check_issuer(issuer_key, issuer, KU_CRL_SIGN)) != 0 ||
	    (r = ca_int_check_key(issuer_key, NULL, 0)) != 0 ||
	    (r = ca_int_digest(issuer_key, &md)) != 0)
		goto out;
	r = INK_ERR_ALLOC;
	if ((crl = X509_CRL_new()) == NULL)
		goto out;
	r = INK_ERR_CRYPTO;
	if (X509_CRL_set_version(crl, X509_CRL_VERSION_2) != 1 ||
	    X509_CRL_set_issuer_name(crl, X509_get_subject_name(issuer)) != 1)
		goto out;
	if ((t = ASN1_TIME_set(NULL, (time_t)now)) == NULL || X509_CRL_set1_lastUpdate(crl, t) != 1 ||
	    ASN1_TIME_adj(t, (time_t)now, next_days, 0) == NULL || X509_CRL_set1_nextUpdate(crl, t) != 1)
		goto out;
	for (i = 0; i < n; i++) {
		if ((r = add_entry(crl, &list[i], now)) != 0) {
			log_op("CRL entry %zu refused", i);
			goto out;
		}
	}
	r = INK_ERR_CRYPTO;
	if (X509_CRL_sort(crl) != 1)
		goto out;
	/* Sorted by serial: a duplicate sits next to its twin. */
	revs = X509_CRL_get_REVOKED(crl);
	for (i = 1; i < n; i++) {
		if (ASN1_INTEGER_cmp(X509_REVOKED_get0_serialNumber(sk_X509_REVOKED_value(revs, (int)i - 1)),
		                     X509_REVOKED_get0_serialNumber(sk_X509_REVOKED_value(revs, (int)i))) == 0) {
			log_op("duplicate serial in CRL entries");
			r = INK_ERR_INVALID;
			goto out;
		}
	}
	if ((num = ASN1_INTEGER_new()) == NULL || ASN1_INTEGER_set_int64(num, crl_number) != 1 ||
	    X509_CRL_add1_ext_i2d(crl, NID_crl_number, num, 0, X509V3_ADD_DEFAULT) != 1)
		goto out;
	X509V3_set_ctx(&v3, issuer, NULL, NULL, crl, 0);
	if ((aki = X509V3_EXT_nconf_nid(NULL, &v3, NID_authority_key_identifier, "keyid:always")) == NULL ||
	    X509_CRL_add_ext(crl, aki, -1) != 1)
		goto out;
	if (X509_CRL_sign(crl, issuer_key, md) <= 0)
		goto out;
	*out = crl;
	crl = NULL;
	r = 0;
out:
	X509_EXTENSION_free(aki);
	ASN1_INTEGER_free(num);
	ASN1_TIME_free(t);
	X509_CRL_free(crl);
	return r;
}

int
ca_crl_next_update(const uint8_t *der, size_t len, int64_t *next)
{
	const unsigned char *p = der;
	const ASN1_TIME *t;
	X509_CRL *crl = NULL;
	struct tm tm;
	int r = INK_ERR_INVALID;

	*next = 0;
	if (len == 0 || len > CA_CRL_DER_MAX)
		return INK_ERR_INVALID;
	if ((crl = d2i_X509_CRL(NULL, &p, (long)len)) == NULL || p != der + len)
		goto out;
	if ((t = X509_CRL_get0_nextUpdate(crl)) != NULL && ASN1_TIME_to_tm(t, &tm) == 1) {
		*next = (int64_t)timegm(&tm);
		r = 0;
	}
out:
	X509_CRL_free(crl);
	return r;
}
