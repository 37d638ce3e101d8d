/* tstamp: an RFC 3161 time-stamp over a SHA-256 for `sign` and `extend` — from --tsa (RFC 3161
 * over HTTP) or from the service's CSC signatures/timestamp — checked against the imprint and
 * the nonce before it is used. */
#include "cli/cli.h"

#include <stdlib.h>
#include <string.h>

#include "formats/formats.h"

int
cli_timestamp(struct cli_ctx *c, const char *tsa, const uint8_t md[static FORMATS_SHA256_LEN],
              uint8_t **token, size_t *token_len)
{
	uint8_t nonce[FORMATS_TS_NONCE_LEN], *req = NULL, *reply = NULL, *tok = NULL;
	size_t req_len = 0, reply_len = 0, tok_len = 0;
	char *hash = NULL, nhex[2 * FORMATS_TS_NONCE_LEN + 1];
	struct cli_resp resp;
	json_t *body = NULL;
	int r;

	*token = NULL;
	*token_len = 0;
	memset(&resp, 0, sizeof(resp));
	if (tsa != NULL) {
		if ((r = formats_ts_request(md, nonce, &req, &req_len)) != 0 ||
		    (r = cli_http_post_bytes(c, tsa, "application/timestamp-query",
		                             "application/timestamp-reply", req, req_len, &reply,
		                             &reply_len)) != 0)
			goto out;
		if ((r = formats_ts_reply_token(reply, reply_len, md, nonce, &tok, &tok_len)) != 0) {
			r = cli_fail(c, r, "the TSA's answer is not a granted time-stamp of what was sent");
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
		if (b64_decode(cli_jstr(resp.json, "timestamp"), &tok, &tok_len) != 0 || tok_len == 0 ||
		    formats_ts_token_check(tok, tok_len, md, nonce) != 0) {
			r = cli_fail(c, INK_ERR_PROTOCOL, "signatures/timestamp: not a time-stamp of what was sent");
			goto out;
		}
	}
	*token = tok;
	*token_len = tok_len;
	tok = NULL;
	r = 0;
out:
	json_decref(body);
	cli_resp_free(&resp);
	free(hash);
	free(req);
	free(reply);
	free(tok);
	return r;
}
