/* fuzz_xades: XML through the parser's safe settings (formats_xml_parse) and XML signatures
 * through verify_run() — reference resolution, transforms, the XAdES property reader — as
 * XAdES with the seed document as the detached content, without it, and detected (AUTO). */
#include <libxml/tree.h>

#include "formats/formats.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct _xmlDoc *doc = NULL;
	char why[256];

	if (formats_xml_parse(data, size, &doc, why, sizeof(why)) == 0)
		xmlFreeDoc(doc);
	fuzz_verify_one(data, size, VERIFY_FORMAT_XADES, FUZZ_WITH_DOC);
	fuzz_verify_one(data, size, VERIFY_FORMAT_AUTO, FUZZ_NO_DOC);
	return 0;
}
