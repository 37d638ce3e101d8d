/* fuzz_cades: CMS/CAdES signatures and RFC 3161 time-stamps through verify_run() — as CAdES
 * over the seed document and over its digest, as a time-stamp over it, and detected (AUTO)
 * with no document. */
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_verify_one(data, size, VERIFY_FORMAT_CADES, FUZZ_WITH_DOC);
	fuzz_verify_one(data, size, VERIFY_FORMAT_CADES, FUZZ_WITH_DIGEST);
	fuzz_verify_one(data, size, VERIFY_FORMAT_TIMESTAMP, FUZZ_WITH_DOC);
	fuzz_verify_one(data, size, VERIFY_FORMAT_AUTO, FUZZ_NO_DOC);
	return 0;
}
