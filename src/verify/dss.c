/* dss: the revocation data of a PDF's document security store (ISO 32000-2 12.8.4.3, PAdES
 * B-LT): the CRLs and OCSP responses in the catalog's /DSS, read with qpdf. */
#include "verify/verify_int.h"

#include <qpdf/qpdf-c.h>
#include <stdlib.h>

/* Streams read from one /DSS array at most. */
#define DSS_MAX_ITEMS 64

/* Parses every stream of the array key of dss into rd with parse; returns how many parsed. */
static size_t
dss_array(qpdf_data q, qpdf_oh dss, const char *key, struct verify_revdata *rd, bool ocsp)
{
	qpdf_oh arr, item;
	unsigned char *data = NULL;
	size_t len = 0, got = 0;
	QPDF_BOOL filtered = QPDF_FALSE;
	int i, n;

	arr = qpdf_oh_get_key(q, dss, key);
	if (!qpdf_oh_is_array(q, arr))
		return 0;
	n = qpdf_oh_get_array_n_items(q, arr);
	for (i = 0; i < n && i < DSS_MAX_ITEMS; i++) {
		item = qpdf_oh_get_array_item(q, arr, i);
		if (!qpdf_oh_is_stream(q, item))
			continue;
		data = NULL;
		if ((qpdf_oh_get_stream_data(q, item, qpdf_dl_generalized, &filtered, &data, &len) &
		     QPDF_ERRORS) == 0 && filtered && data != NULL && len <= VERIFY_MAX_CRL) {
			if ((ocsp ? ocsp_parse_into(rd->ocsps, data, len) :
			            crl_parse_into(rd->crls, data, len)) == 0)
				got++;
		}
		free(data);
	}
	return got;
}

size_t
dss_read(const uint8_t *pdf, size_t len, struct verify_revdata *rd)
{
	qpdf_data q = qpdf_init();
	qpdf_oh root, dss;
	size_t got = 0;

	if (q == NULL)
		return 0;
	qpdf_silence_errors(q);
	qpdf_set_suppress_warnings(q, QPDF_TRUE);
	if ((qpdf_read_memory(q, "signed PDF", (const char *)pdf, len, NULL) & QPDF_ERRORS) != 0)
		goto out;
	root = qpdf_get_root(q);
	dss = qpdf_oh_get_key(q, root, "/DSS");
	if (!qpdf_oh_is_dictionary(q, dss))
		goto out;
	got = dss_array(q, dss, "/CRLs", rd, false) + dss_array(q, dss, "/OCSPs", rd, true);
out:
	/* Errors are taken (and dropped: no DSS is no DSS), or qpdf reports them on stderr. */
	while (qpdf_has_error(q))
		(void)qpdf_get_error(q);
	while (qpdf_more_warnings(q))
		(void)qpdf_next_warning(q);
	qpdf_cleanup(&q);
	return got;
}
