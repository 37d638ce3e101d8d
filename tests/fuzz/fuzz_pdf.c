/* fuzz_pdf: PDFs through verify_run() as PAdES, only by its public interface (the PDF reader
 * behind it may change). */
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_verify_one(data, size, VERIFY_FORMAT_PADES, FUZZ_NO_DOC);
	return 0;
}
