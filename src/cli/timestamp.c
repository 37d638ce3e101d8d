/* timestamp: an RFC 3161 time-stamp token over a SHA-256 digest for `inkan sign` (B-T, B-LTA)
 * and `inkan extend` — from a TSA URL (RFC 3161 over HTTP) or from the service's CSC
 * signatures/timestamp with the saved token; the token's imprint and nonce are checked. */
#include "cli/cli.h"

#include <stdlib.h>
#include <string.h>

#include "formats/formats.h"

int
cli_timestamp(struct cli_ctx *c, const char *tsa, const uint8_t md[static 32], uint8_t **tok,
              size_t *tok_len)
{
	uint8_t nonce[FORMATS_TS_NONCE_LEN], *req = NULL, *reply = NULL, *t = NULL;
	size_t req_len = 0, reply_len = 0, t_len = 0;
	char *hash = NULL, nhex[2 * FORMATS_TS_NONCE_LEN + 1];
	struct cli_resp resp;
	json_t *body = NULL;
	int r;

	*tok = NULL;
	*tok_len = 0;
	memset(&resp, 0, sizeof(resp));
	if (tsa != NULL) {
		if ((r = formats_ts_request(md, nonce, &req, &req_len)) != 0 ||
		    (r = cli_http_post_bytes(c, tsa, "application/timestamp-query",
		                             "application/timestamp-reply", req, req_len, &reply,
		                             &reply_len)) != 0)
			goto out;
		if ((r = formats_ts_reply_token(reply, reply_len, md, nonce, &t, &t_len)) != 0) {
			r = cli_fail(c, r, "the TSA's answer is not a granted time-stamp for this digest");
			goto out;
		}
	} else {
		if ((r = ink_random(nonce, sizeof(nonce))) != 0 ||
		    (r = b64_encode(md, FORMATS_SHA256_LEN, &hash)) != 0)
			goto out;
		nonce[0] = (uint8_t)((nonce[0] & 0x7f) | 0x40);
		hex_encode(nonce, sizeof(nonce), nhex);
		if ((body = json_pack("{s:s, s:s, s:s}", "hash", hash, "hashAlgorithmOID",
		                      FORMATS_OID_SHA256, "nonce", nhex)) == NULL) {
			r = INK_ERR_ALLOC;
			goto out;
		}
		if ((r = cli_http(c, "POST", "/csc/v2/signatures/timestamp", body, CLI_AUTH_BEARER, NULL,
		                  NULL, &resp)) != 0)
			goto out;
		if (b64_decode(cli_jstr(resp.json, "timestamp"), &t, &t_len) != 0 || t_len == 0 ||
		    formats_ts_token_check(t, t_len, md, nonce) != 0) {
			r = cli_fail(c, INK_ERR_PROTOCOL, "signatures/timestamp: not a time-stamp of this digest");
			goto out;
		}
	}
	*tok = t;
	*tok_len = t_len;
	t = NULL;
	r = 0;
out:
	json_decref(body);
	cli_resp_free(&resp);
	free(hash);
	free(req);
	free(reply);
	free(t);
	return r;
}
