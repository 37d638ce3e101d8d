/* fuzz_ocsp: an OCSP request from outside, as POST /ocsp and GET /ocsp/{base64} parse it before
 * anything goes to inkan-sam (formats_ocsp_parse): what it keeps stays within its bounds and
 * every CertID it hands on reads back as one; the unsigned error answers are well-formed. */
#include <openssl/ocsp.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "formats/formats.h"
#include "fuzz.h"

static void
error_answer(int status)
{
	const uint8_t *p;
	uint8_t *resp = NULL;
	OCSP_RESPONSE *or = NULL;
	size_t len = 0;

	if (formats_ocsp_error(status, &resp, &len) != 0)
		abort();
	p = resp;
	if ((or = d2i_OCSP_RESPONSE(NULL, &p, (long)len)) == NULL || p != resp + len ||
	    OCSP_response_status(or) != status)
		abort();
	OCSP_RESPONSE_free(or);
	free(resp);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct formats_ocsp_req *q;
	const uint8_t *p;
	OCSP_CERTID *id;
	char why[128];
	size_t i;

	fuzz_init();
	if ((q = malloc(sizeof(*q))) == NULL)
		abort();
	if (formats_ocsp_parse(data, size, q, why, sizeof(why)) != 0) {
		if (why[0] == '\0' || q->n != 0)
			abort();
		error_answer(FORMATS_OCSP_MALFORMED);
		free(q);
		return 0;
	}
	if (q->n < 1 || q->n > FORMATS_OCSP_IDS_MAX || q->nonce_len > FORMATS_OCSP_NONCE_MAX)
		abort();
	for (i = 0; i < q->n; i++) {
		if (q->id_lens[i] == 0 || q->id_lens[i] > FORMATS_OCSP_ID_MAX)
			abort();
		p = q->ids[i];
		/* what the SAM will read (keys/ocsp.c): exactly one CertID */
		if ((id = d2i_OCSP_CERTID(NULL, &p, (long)q->id_lens[i])) == NULL ||
		    p != q->ids[i] + q->id_lens[i])
			abort();
		OCSP_CERTID_free(id);
	}
	free(q);
	return 0;
}
