/* ep_csc_timestamp: POST /csc/v{1,2}/signatures/timestamp — an RFC 3161 time-stamp token from
 * the built-in TSA for a hash (CSC API 11.10 / v2 11.x): hash (base64), hashAlgo /
 * hashAlgorithmOID, optional nonce (hex) -> {"timestamp": base64 TimeStampToken}. */
#include "server/server.h"

#include <openssl/ts.h>
#include <stdlib.h>
#include <string.h>

#include "formats/formats.h"
#include "policy/policy.h"

struct ts_req {
	char *hash;
	char *hash_oid;
	char *nonce;
	char *client_data;
	int64_t size;
};

#define TS_FIELDS(oid_name)                                                            \
	JSPEC_STRING("hash", struct ts_req, hash, 128, JF_REQUIRED),                        \
	JSPEC_STRING(oid_name, struct ts_req, hash_oid, 64, JF_REQUIRED),                   \
	JSPEC_STRING("nonce", struct ts_req, nonce, 2 * FORMATS_TS_NONCE_MAX, 0),          \
	JSPEC_STRING("clientData", struct ts_req, client_data, 4096, 0),                    \
	JSPEC_INT("size", struct ts_req, size, 0, 1 << 20, 0),                              \
	JSPEC_END

static const struct json_field ts_v2[] = { TS_FIELDS("hashAlgorithmOID") };
static const struct json_field ts_v1[] = { TS_FIELDS("hashAlgo") };

static int
unhex(const char *s, uint8_t *out, size_t max, size_t *n)
{
	size_t len = strlen(s), i;
	unsigned v;

	if (len == 0 || len % 2 != 0 || len / 2 > max)
		return INK_ERR_INVALID;
	for (i = 0; i < len / 2; i++) {
		if (sscanf(s + 2 * i, "%2x", &v) != 1 || strchr("0123456789abcdefABCDEF", s[2 * i]) == NULL ||
		    strchr("0123456789abcdefABCDEF", s[2 * i + 1]) == NULL)
			return INK_ERR_INVALID;
		out[i] = (uint8_t)v;
	}
	*n = len / 2;
	return 0;
}

static void
bad(struct srv_request *rq, const char *why)
{
	tsa_audit(rq, NULL, why, NULL);
	reply_error(rq, MHD_HTTP_BAD_REQUEST, "invalid_request", why);
}

void
ep_csc_timestamp(struct srv_request *rq)
{
	const struct json_field *spec = req_is_v1(rq) ? ts_v1 : ts_v2;
	const struct policy_hash_alg *h;
	struct ts_req req;
	struct formats_tsa_req tr = { 0 };
	uint8_t *hash = NULL, *resp = NULL, nonce[FORMATS_TS_NONCE_MAX], *tok = NULL;
	size_t hlen = 0, len = 0, nlen = 0;
	const uint8_t *p;
	TS_RESP *res = NULL;
	PKCS7 *p7;
	char *b64 = NULL;
	int n, r;

	memset(&req, 0, sizeof(req));
	if (!tsa_rate_ok(rq))
		return;
	if (req_parse(rq, spec, &req) != 0)
		return;
	if ((h = policy_hash_by_oid(req.hash_oid)) == NULL) {
		bad(rq, "Invalid parameter hashAlgorithmOID: not an allowed digest");
		goto out;
	}
	if (b64_decode(req.hash, &hash, &hlen) != 0 || hlen != h->len) {
		bad(rq, "Invalid parameter hash: base64 of a digest of the given algorithm's length");
		goto out;
	}
	if (req.nonce != NULL && unhex(req.nonce, nonce, sizeof(nonce), &nlen) != 0) {
		bad(rq, "Invalid parameter nonce: hex, at most 32 bytes");
		goto out;
	}
	tr = (struct formats_tsa_req){
		.hash_oid = h->oid,
		.imprint = hash,
		.imprint_len = hlen,
		.nonce = nlen > 0 ? nonce : NULL,
		.nonce_len = nlen,
		.cert_req = true,
	};
	if ((r = tsa_issue(rq, &tr, &resp, &len)) != 0) {
		reply_ink_err(rq, r, NULL);
		goto out;
	}
	/* The CSC answer is the token alone. */
	p = resp;
	if ((res = d2i_TS_RESP(NULL, &p, (long)len)) == NULL || (p7 = TS_RESP_get_token(res)) == NULL ||
	    (n = i2d_PKCS7(p7, &tok)) <= 0 || b64_encode(tok, (size_t)n, &b64) != 0) {
		reply_ink_err(rq, INK_ERR_INTERNAL, NULL);
		goto out;
	}
	reply_json(rq, MHD_HTTP_OK, json_pack("{s:s}", "timestamp", b64));
out:
	OPENSSL_free(tok);
	free(b64);
	TS_RESP_free(res);
	free(resp);
	free(hash);
	json_free_spec(spec, &req);
}
