/* fuzz_xades: XML through the parser's safe settings (formats_xml_parse) and XML signatures
 * through verify_run() — reference resolution, transforms, the XAdES property reader, the
 * long-term properties (CertificateValues, RevocationValues, TimeStampValidationData,
 * ArchiveTimeStamp) — as XAdES with the seed document as the detached content, without it, and
 * detected (AUTO); and through what `inkan extend` reads of a signature (formats_xades_open and
 * its readers, the archive time-stamp's input). */
#include <libxml/tree.h>
#include <stdlib.h>

#include "formats/formats.h"
#include "fuzz.h"

/* What extending reads: the signature's properties, values and archive input. */
static void
extend_readers(const uint8_t *data, size_t size)
{
	struct formats_xades *x = NULL;
	struct formats_xades_info info;
	struct formats_der_list certs = { 0 }, crls = { 0 }, ocsps = { 0 };
	uint8_t md[FORMATS_SHA256_LEN];
	char why[256];

	if (formats_xades_open(data, size, &x, why, sizeof(why)) != 0)
		return;
	formats_xades_info(x, &info);
	if (formats_xades_certs(x, FORMATS_XADES_CERTS_CARRIED | FORMATS_XADES_CERTS_TOKENS,
	                        &certs) == 0 &&
	    formats_xades_revocation(x, &crls, &ocsps) == 0 &&
	    formats_xades_archive_digest(x, data, size, md, why, sizeof(why)) != 0)
		md[0] = 0;   /* an input that cannot be made is a refusal, not a finding */
	formats_der_list_free(&certs);
	formats_der_list_free(&crls);
	formats_der_list_free(&ocsps);
	formats_xades_free(x);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct _xmlDoc *doc = NULL;
	char why[256];

	if (formats_xml_parse(data, size, &doc, why, sizeof(why)) == 0)
		xmlFreeDoc(doc);
	fuzz_verify_one(data, size, VERIFY_FORMAT_XADES, FUZZ_WITH_DOC);
	fuzz_verify_one(data, size, VERIFY_FORMAT_AUTO, FUZZ_NO_DOC);
	extend_readers(data, size);
	return 0;
}
