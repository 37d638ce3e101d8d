/* fuzz_tsa: RFC 3161 from outside — a TimeStampReq as POST /tsa parses it (formats_tsa_parse,
 * and the rejection answered for a refused one), and a TimeStampResp or token as the signer's
 * side checks it (formats_ts_reply_token, formats_ts_token_check). */
#include <openssl/evp.h>
#include <openssl/ts.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "formats/formats.h"
#include "fuzz.h"

/* The built-in TSA's default policy (config.c). */
#define FUZZ_TSA_POLICY "0.4.0.2023.1.1"

/* A refusal is answered with a well-formed TimeStampResp of status rejection. */
static void
reject(int fail_bit, const char *why)
{
	const uint8_t *p;
	uint8_t *resp = NULL;
	TS_RESP *tr = NULL;
	size_t len = 0;

	if (formats_tsa_reject(fail_bit, why, &resp, &len) != 0)
		abort();
	p = resp;
	if ((tr = d2i_TS_RESP(NULL, &p, (long)len)) == NULL || p != resp + len ||
	    ASN1_INTEGER_get(TS_STATUS_INFO_get0_status(TS_RESP_get_status_info(tr))) != 2 ||
	    TS_RESP_get_token(tr) != NULL)
		abort();
	TS_RESP_free(tr);
	free(resp);
}

static void
request(const uint8_t *data, size_t size)
{
	struct formats_tsa_parsed p;
	char why[128];

	if (formats_tsa_parse(data, size, FUZZ_TSA_POLICY, &p, why, sizeof(why)) != 0) {
		reject(p.fail_bit, why);
		return;
	}
	if (p.req.hash_oid != p.hash_oid || p.req.imprint != p.imprint || p.req.imprint_len == 0 ||
	    p.req.imprint_len > FORMATS_TS_IMPRINT_MAX || p.req.nonce_len > FORMATS_TS_NONCE_MAX ||
	    (p.req.nonce != NULL && p.req.nonce_len == 0))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t md[FORMATS_SHA256_LEN], *token = NULL;
	size_t token_len = 0;
	int r;

	fuzz_init();
	request(data, size);
	if (EVP_Digest(FUZZ_DOC, strlen(FUZZ_DOC), md, NULL, EVP_sha256(), NULL) != 1)
		abort();
	if (formats_ts_reply_token(data, size, md, NULL, &token, &token_len) == 0) {
		/* The token taken from a good reply passes the token check on its own. */
		if (formats_ts_token_check(token, token_len, md, NULL) != 0)
			abort();
		free(token);
	} else if (token != NULL) {
		abort();
	}
	r = formats_ts_token_check(data, size, md, NULL);
	(void)r;
	return 0;
}
