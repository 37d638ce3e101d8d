/* signhash: one hash signed through the CSC API — credentials/authorize with the signer's PIN
 * and OTP for exactly that hash (or, with a browser client, the service's own page: the signer
 * enters PIN and OTP there, and the access token is the SAD), then signatures/signHash with
 * the SAD — for every format. */
#include "cli/cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
cli_sign_hash(struct cli_ctx *c, const struct cli_sign_auth *how, const char *cred,
              const uint8_t *md, size_t md_len, const char *hash_oid, const char *algo,
              const uint8_t *params, size_t plen, uint8_t **sig_out, size_t *sig_len_out)
{
	struct cli_resp resp;
	uint8_t *sig = NULL;
	size_t sig_len = 0;
	char *pin = NULL, *otp = NULL, *hash = NULL, *pb64 = NULL, *sad = NULL, desc[300];
	const char *b, *base;
	json_t *body = NULL;
	int r;

	*sig_out = NULL;
	*sig_len_out = 0;
	memset(&resp, 0, sizeof(resp));
	if ((r = b64_encode(md, md_len, &hash)) != 0 ||
	    (params != NULL && (r = b64_encode(params, plen, &pb64)) != 0))
		goto out;
	if (how != NULL && how->browser != NULL) {
		/* the file's name only: its directory is nobody's business */
		base = strrchr(how->file, '/');
		snprintf(desc, sizeof(desc), "inkan sign %s", base != NULL ? base + 1 : how->file);
		if ((r = cli_browser_authorize(c, how->browser, cred, md, md_len, hash_oid, desc,
		                               &sad)) != 0)
			goto out;
		/* the access token is the SAD: it is the bearer of signHash */
		c->bearer = sad;
		goto sign;
	}
	if ((r = cli_get_pin(c, "Signing PIN: ", &pin)) != 0 || (r = cli_get_otp(c, &otp)) != 0)
		goto out;
	if ((body = json_pack("{s:s, s:i, s:[s], s:s, s:s, s:s}", "credentialID", cred,
	                      "numSignatures", 1, "hashes", hash, "hashAlgorithmOID", hash_oid,
	                      "PIN", pin, "OTP", otp)) == NULL) {
		r = cli_fail(c, INK_ERR_INVALID, "the PIN and OTP must be UTF-8 text");
		goto out;
	}
	r = cli_http(c, "POST", "/csc/v2/credentials/authorize", body, CLI_AUTH_BEARER, NULL, NULL, &resp);
	json_decref(body); /* wiped on free: it holds the PIN */
	body = NULL;
	if (r != 0)
		goto out;
	if ((sad = secmem_strdup(cli_jstr(resp.json, "SAD"))) == NULL || *sad == '\0') {
		r = cli_fail(c, INK_ERR_PROTOCOL, "credentials/authorize: no SAD in the answer");
		goto out;
	}
	cli_resp_free(&resp);
sign:
	if ((body = json_pack("{s:s, s:s, s:[s], s:s, s:s}", "credentialID", cred, "SAD", sad,
	                      "hashes", hash, "hashAlgorithmOID", hash_oid, "signAlgo",
	                      algo)) == NULL ||
	    (pb64 != NULL && json_object_set_new(body, "signAlgoParams", json_string(pb64)) != 0)) {
		r = INK_ERR_ALLOC;
		goto out;
	}
	if ((r = cli_http(c, "POST", "/csc/v2/signatures/signHash", body, CLI_AUTH_BEARER, NULL, NULL,
	                  &resp)) != 0)
		goto out;
	b = json_string_value(json_array_get(json_object_get(resp.json, "signatures"), 0));
	if (b == NULL || b64_decode(b, &sig, &sig_len) != 0) {
		r = cli_fail(c, INK_ERR_PROTOCOL, "signatures/signHash: no signature in the answer");
		goto out;
	}
	*sig_out = sig;
	*sig_len_out = sig_len;
	sig = NULL;
out:
	c->bearer = NULL;
	secmem_free(sad);
	json_decref(body);
	cli_resp_free(&resp);
	secmem_free(pin);
	secmem_free(otp);
	free(hash);
	free(pb64);
	free(sig);
	return r;
}
