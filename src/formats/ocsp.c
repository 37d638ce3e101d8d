/* ocsp: RFC 6960 requests read from the network (bounded, re-encoded) and the unsigned error
 * responses. The responder itself, its key and its answers are inkan-sam's (keys/ocsp.c). */
#include "formats/formats.h"

#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int
refuse(char *why, size_t whysz, const char *text)
{
	snprintf(why, whysz, "%s", text);
	ERR_clear_error();
	return INK_ERR_INVALID;
}

/* Whether a re-encoded CertID reads back as exactly one: OpenSSL writes some parameters it read
 * (an ANY of an odd tag) in a form it then refuses, and the SAM reads what is sent here. */
static bool
reads_back(const uint8_t *der, size_t len)
{
	const unsigned char *p = der;
	OCSP_CERTID *id = d2i_OCSP_CERTID(NULL, &p, (long)len);
	bool ok = id != NULL && p == der + len;

	OCSP_CERTID_free(id);
	return ok;
}

int
formats_ocsp_parse(const uint8_t *der, size_t len, struct formats_ocsp_req *out, char *why,
                   size_t whysz)
{
	OCSP_REQUEST *req = NULL;
	const unsigned char *p = der;
	const ASN1_OCTET_STRING *v;
	X509_EXTENSION *ext;
	unsigned char *enc;
	int i, n, idx, elen;
	int r = INK_ERR_INVALID;

	memset(out, 0, sizeof(*out));
	if (why != NULL && whysz > 0)
		why[0] = '\0';
	if (len == 0 || len > FORMATS_OCSP_REQ_MAX)
		return refuse(why, whysz, "OCSP request empty or too large");
	if ((req = d2i_OCSP_REQUEST(NULL, &p, (long)len)) == NULL || p != der + len) {
		r = refuse(why, whysz, "not one DER OCSPRequest");
		goto out;
	}
	if ((n = OCSP_request_onereq_count(req)) < 1 || n > FORMATS_OCSP_IDS_MAX) {
		r = refuse(why, whysz, "an OCSP request must ask about 1 to 8 certificates");
		goto out;
	}
	for (i = 0; i < n; i++) {
		OCSP_CERTID *id = OCSP_onereq_get0_id(OCSP_request_onereq_get0(req, i));

		enc = out->ids[i];
		if ((elen = i2d_OCSP_CERTID(id, NULL)) <= 0 || elen > FORMATS_OCSP_ID_MAX ||
		    i2d_OCSP_CERTID(id, &enc) != elen || !reads_back(out->ids[i], (size_t)elen)) {
			r = refuse(why, whysz, "a CertID is malformed or too large");
			goto out;
		}
		out->id_lens[i] = (size_t)elen;
	}
	out->n = (size_t)n;
	if ((idx = OCSP_REQUEST_get_ext_by_NID(req, NID_id_pkix_OCSP_Nonce, -1)) >= 0) {
		if (OCSP_REQUEST_get_ext_by_NID(req, NID_id_pkix_OCSP_Nonce, idx) >= 0) {
			r = refuse(why, whysz, "more than one nonce");
			goto out;
		}
		ext = OCSP_REQUEST_get_ext(req, idx);
		v = X509_EXTENSION_get_data(ext);
		if (v == NULL || ASN1_STRING_length(v) < 1 ||
		    ASN1_STRING_length(v) > FORMATS_OCSP_NONCE_MAX) {
			r = refuse(why, whysz, "the nonce is empty or too long");
			goto out;
		}
		out->nonce_len = (size_t)ASN1_STRING_length(v);
		memcpy(out->nonce, ASN1_STRING_get0_data(v), out->nonce_len);
	}
	r = 0;
out:
	if (r != 0) {
		memset(out, 0, sizeof(*out));
		ERR_clear_error();
	}
	OCSP_REQUEST_free(req);
	return r;
}

int
formats_ocsp_der(const void *resp, uint8_t **der, size_t *len)
{
	unsigned char *p = NULL;
	int n, r = INK_ERR_CRYPTO;

	*der = NULL;
	*len = 0;
	if ((n = i2d_OCSP_RESPONSE(resp, &p)) <= 0)
		goto out;
	r = INK_ERR_ALLOC;
	if ((*der = malloc((size_t)n)) == NULL)
		goto out;
	memcpy(*der, p, (size_t)n);
	*len = (size_t)n;
	r = 0;
out:
	OPENSSL_free(p);
	ERR_clear_error();
	return r;
}

int
formats_ocsp_error(int status, uint8_t **resp, size_t *len)
{
	OCSP_RESPONSE *or = NULL;
	int r;

	*resp = NULL;
	*len = 0;
	if (status < 1 || status > 6 || status == 4)
		return INK_ERR_INVALID;
	if ((or = OCSP_response_create(status, NULL)) == NULL)
		return INK_ERR_CRYPTO;
	r = formats_ocsp_der(or, resp, len);
	OCSP_RESPONSE_free(or);
	return r;
}

static int
asn1_time_t(const ASN1_GENERALIZEDTIME *t, time_t *out)
{
	struct tm tm;

	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return INK_ERR_INVALID;
	*out = timegm(&tm);
	return 0;
}

int
formats_ocsp_validity(const uint8_t *der, size_t len, time_t *produced, time_t *next)
{
	const unsigned char *p = der;
	OCSP_RESPONSE *or = d2i_OCSP_RESPONSE(NULL, &p, (long)len);
	OCSP_BASICRESP *bs = NULL;
	ASN1_GENERALIZEDTIME *thisupd, *nextupd;
	time_t t;
	int i, n, r = INK_ERR_INVALID;

	if (or == NULL || p != der + len ||
	    OCSP_response_status(or) != OCSP_RESPONSE_STATUS_SUCCESSFUL ||
	    (bs = OCSP_response_get1_basic(or)) == NULL ||
	    asn1_time_t(OCSP_resp_get0_produced_at(bs), produced) != 0 ||
	    (n = OCSP_resp_count(bs)) <= 0)
		goto out;
	for (i = 0; i < n; i++) {
		nextupd = NULL;
		(void)OCSP_single_get0_status(OCSP_resp_get0(bs, i), NULL, NULL, &thisupd, &nextupd);
		if (asn1_time_t(nextupd, &t) != 0)
			goto out;
		if (i == 0 || t < *next)
			*next = t;
	}
	r = 0;
out:
	OCSP_BASICRESP_free(bs);
	OCSP_RESPONSE_free(or);
	ERR_clear_error();
	return r;
}
