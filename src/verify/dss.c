/* dss: the validation data of a PDF's document security store (ISO 32000-2 12.8.4.3, PAdES
 * B-LT): the CRLs, OCSP responses and certificates in the catalog's /DSS, read with qpdf. Its
 * /VRI is not read: which data speak for which certificate is checked on the data themselves,
 * never taken from the document's say-so. */
#include "verify/verify_int.h"

#include "formats/formats.h"

#include <openssl/err.h>
#include <stdlib.h>

/* Streams read from one /DSS array at most. */
#define DSS_MAX_ITEMS 64

/* A stream's bytes, decoded here with a bound (qpdf would inflate a bomb whole): as stored
 * when it has no filter, inflated when its filter is /FlateDecode; NULL for anything else. */
static unsigned char *
dss_stream(qpdf_data q, qpdf_oh item, size_t *len)
{
	qpdf_oh filter = pdfq_get(q, item, "/Filter");
	unsigned char *raw = NULL;
	uint8_t *out = NULL;
	size_t rlen = 0;
	QPDF_BOOL filtered = QPDF_FALSE;

	*len = 0;
	if ((!pdfq_null(q, filter) && !qpdf_oh_is_name_and_equals(q, filter, "/FlateDecode")) ||
	    !pdfq_null(q, pdfq_get(q, item, "/DecodeParms")) ||
	    (qpdf_oh_get_stream_data(q, item, qpdf_dl_none, &filtered, &raw, &rlen) &
	     QPDF_ERRORS) != 0 || raw == NULL || rlen > VERIFY_MAX_CRL) {
		free(raw);
		return NULL;
	}
	if (pdfq_null(q, filter)) {
		*len = rlen;
		return raw;
	}
	if (formats_pdf_inflate(raw, rlen, VERIFY_MAX_CRL, &out, len) != 0)
		out = NULL;
	free(raw);
	return out;
}

/* Appends one DER certificate to dst. */
static int
cert_parse_into(STACK_OF(X509) *dst, const uint8_t *data, size_t len)
{
	const unsigned char *p = data;
	X509 *x = NULL;

	if (len > LONG_MAX || (x = d2i_X509(NULL, &p, (long)len)) == NULL ||
	    p != data + len) {
		ERR_clear_error();
		X509_free(x);
		return INK_ERR_INVALID;
	}
	if (sk_X509_push(dst, x) <= 0) {
		X509_free(x);
		return INK_ERR_ALLOC;
	}
	return 0;
}

/* Parses every stream of the array key of dss into rd (what: 'c' CRLs, 'o' OCSP responses,
 * 'x' certificates); returns how many parsed. */
static size_t
dss_array(qpdf_data q, qpdf_oh dss, const char *key, struct verify_revdata *rd, char what)
{
	qpdf_oh arr, item;
	unsigned char *data = NULL;
	size_t len = 0, got = 0;
	int i, n;

	arr = qpdf_oh_get_key(q, dss, key);
	if (!qpdf_oh_is_array(q, arr))
		return 0;
	n = qpdf_oh_get_array_n_items(q, arr);
	for (i = 0; i < n && i < DSS_MAX_ITEMS; i++) {
		item = qpdf_oh_get_array_item(q, arr, i);
		if (!qpdf_oh_is_stream(q, item))
			continue;
		if ((data = dss_stream(q, item, &len)) != NULL) {
			if ((what == 'o' ? ocsp_parse_into(rd->ocsps, data, len) :
			     what == 'x' ? cert_parse_into(rd->certs, data, len) :
			                   crl_parse_into(rd->crls, data, len)) == 0)
				got++;
		}
		free(data);
	}
	return got;
}

size_t
dss_read(qpdf_data q, struct verify_revdata *rd)
{
	qpdf_oh dss = pdfq_get(q, qpdf_get_root(q), "/DSS");

	if (!qpdf_oh_is_dictionary(q, dss))
		return 0;
	if (rd->certs == NULL && (rd->certs = sk_X509_new_null()) == NULL)
		return 0;
	return dss_array(q, dss, "/CRLs", rd, 'c') + dss_array(q, dss, "/OCSPs", rd, 'o') +
	       dss_array(q, dss, "/Certs", rd, 'x');
}
