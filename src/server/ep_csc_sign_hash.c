/* ep_csc_sign_hash: POST /csc/v{1,2}/signatures/signHash — spend a SAD on its hashes; the
 * signatures come back in input order (ECDSA as DER SEQUENCE of r, s). */
#include "server/server.h"

#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"

#include <openssl/crypto.h>

struct sign_req {
	char *credential_id;
	char *sad;
	struct json_strings hashes;
	char *hash_oid;
	char *sign_algo;
	char *sign_algo_params;
	char *operation_mode;
	char *client_data;
};

#define SIGN_FIELDS(hashes_name, hash_oid_name)                                                   \
	JSPEC_STRING("credentialID", struct sign_req, credential_id, 64, JF_REQUIRED),           \
	JSPEC_STRING("SAD", struct sign_req, sad, 256, JF_SECRET),                 \
	JSPEC_STRINGS(hashes_name, struct sign_req, hashes, 1000, 100, JF_REQUIRED),              \
	JSPEC_STRING(hash_oid_name, struct sign_req, hash_oid, 64, 0),                            \
	JSPEC_STRING("signAlgo", struct sign_req, sign_algo, 64, JF_REQUIRED),                   \
	JSPEC_STRING("signAlgoParams", struct sign_req, sign_algo_params, 1024, 0),               \
	JSPEC_STRING("operationMode", struct sign_req, operation_mode, 8, 0),                     \
	JSPEC_STRING("clientData", struct sign_req, client_data, 4096, 0),                        \
	JSPEC_END

static const struct json_field sign_v2[] = { SIGN_FIELDS("hashes", "hashAlgorithmOID") };
static const struct json_field sign_v1[] = { SIGN_FIELDS("hash", "hashAlgo") };

/* {"signatures":["BASE64",...]} written in one buffer, as json_dumps(JSON_COMPACT) would write
 * it (base64 needs no escaping): no string per signature, no tree, no second copy. */
static char *
render_sigs(uint8_t *const *sigs, const size_t *lens, size_t n)
{
	static const char head[] = "{\"signatures\":[", tail[] = "]}";
	size_t i, len = sizeof(head) - 1 + sizeof(tail);
	char *text, *p;

	for (i = 0; i < n; i++) {
		if (lens[i] > B64_MAX_IN)
			return NULL;
		len += B64_LEN(lens[i]) + 3;   /* quotes and a comma */
	}
	if ((text = malloc(len)) == NULL)
		return NULL;
	p = text;
	memcpy(p, head, sizeof(head) - 1);
	p += sizeof(head) - 1;
	for (i = 0; i < n; i++) {
		if (i > 0)
			*p++ = ',';
		*p++ = '"';
		p += b64_encode_to(sigs[i], lens[i], p);
		*p++ = '"';
	}
	memcpy(p, tail, sizeof(tail));   /* with its NUL */
	return text;
}

void
ep_csc_sign_hash(struct srv_request *rq)
{
	const struct json_field *spec = req_is_v1(rq) ? sign_v1 : sign_v2;
	const struct policy_sig_alg *alg = NULL;
	struct sign_req req;
	uint8_t **raw = NULL, **sigs = NULL, *params = NULL;
	size_t *lens = NULL, *sig_lens = NULL, plen = 0, i;
	const char *hash = NULL;
	long salt = -1;
	char why[200];
	int r;

	memset(&req, 0, sizeof(req));
	if (req_parse(rq, spec, &req) != 0)
		return;
	/* A credential-scope OAuth access token is the SAD itself (CSC v2 8.3.2): for its own
	 * credential only, and a SAD sent beside it must be that same token. */
	if (rq->oauth) {
		const char *tok = req_bearer(rq);

		if (strcmp(req.credential_id, rq->oauth_cred) != 0 ||
		    (req.sad != NULL && (tok == NULL || strlen(req.sad) != strlen(tok) ||
		                         CRYPTO_memcmp(req.sad, tok, strlen(tok)) != 0))) {
			req_audit_refusal(rq, "csc.signHash", "OAuth token used for another credential or SAD");
			reply_error(rq, MHD_HTTP_BAD_REQUEST, "invalid_request",
			            "The access token does not authorize this credential");
			goto out;
		}
		if (req.sad == NULL && tok != NULL && (req.sad = secmem_strdup(tok)) == NULL) {
			reply_ink_err(rq, INK_ERR_ALLOC, NULL);
			goto out;
		}
	} else if (req.sad == NULL) {
		req_audit_refusal(rq, "csc.signHash", "no SAD");
		reply_error(rq, MHD_HTTP_BAD_REQUEST, "invalid_request", "Missing parameter SAD");
		goto out;
	}
	/* Only synchronous operation: the signatures are in this answer. */
	if (req.operation_mode != NULL && strcmp(req.operation_mode, "S") != 0) {
		req_audit_refusal(rq, "csc.signHash", "unsupported operationMode");
		reply_error(rq, MHD_HTTP_BAD_REQUEST, "invalid_request",
		            "Invalid parameter operationMode: only S (synchronous) is supported");
		goto out;
	}
	if (req.sign_algo_params != NULL && b64_decode(req.sign_algo_params, &params, &plen) != 0) {
		req_audit_refusal(rq, "csc.signHash", "malformed signAlgoParams");
		reply_error(rq, MHD_HTTP_BAD_REQUEST, "invalid_request",
		            "Invalid parameter signAlgoParams: base64 DER expected");
		goto out;
	}
	if (policy_resolve_sign(req.sign_algo, req.hash_oid, params, plen, &alg, &hash, &salt, why,
	                        sizeof(why)) != 0) {
		req_audit_refusal(rq, "csc.signHash", why);
		reply_error(rq, MHD_HTTP_BAD_REQUEST, "invalid_request", why);
		goto out;
	}
	if (req_hashes(rq, &req.hashes, &raw, &lens) != 0)
		goto out;
	if ((sigs = calloc(req.hashes.n, sizeof(*sigs))) == NULL ||
	    (sig_lens = calloc(req.hashes.n, sizeof(*sig_lens))) == NULL) {
		reply_ink_err(rq, INK_ERR_ALLOC, NULL);
		goto out;
	}
	r = auth_csc_sign(&rq->srv->actx, &rq->areq, &rq->who, req.credential_id, req.sad, alg->oid,
	                  hash, salt, (const uint8_t *const *)raw, lens, req.hashes.n, sigs, sig_lens);
	if (r != 0) {
		reply_csc_err(rq, r);
		goto out;
	}
	srv_metrics_signatures(alg, req.hashes.n);
	reply_json_text(rq, MHD_HTTP_OK, render_sigs(sigs, sig_lens, req.hashes.n));
out:
	for (i = 0; sigs != NULL && i < req.hashes.n; i++)
		free(sigs[i]);
	free(sigs);
	free(sig_lens);
	free(params);
	req_hashes_free(raw, lens, req.hashes.n);
	json_free_spec(spec, &req);
}
