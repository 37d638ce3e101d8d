/* ep_csc_authorize: POST /csc/v{1,2}/credentials/authorize — PIN and OTP for exactly these
 * hashes -> a SAD (SCAL2: hashes are required). */
#include "server/server.h"

#include <string.h>

#include "sam/sam.h"

struct authz_req {
	char *credential_id;
	int64_t num_signatures;
	struct json_strings hashes;
	char *hash_oid;
	char *pin;
	char *otp;
	char *description;
	char *client_data;
};

#define AUTHZ_FIELDS(hashes_name, hash_oid_name)                                                  \
	JSPEC_STRING("credentialID", struct authz_req, credential_id, 64, JF_REQUIRED),          \
	JSPEC_INT("numSignatures", struct authz_req, num_signatures, 1, 1000, JF_REQUIRED),      \
	JSPEC_STRINGS(hashes_name, struct authz_req, hashes, 1000, 100, JF_REQUIRED),             \
	JSPEC_STRING(hash_oid_name, struct authz_req, hash_oid, 64, 0),                           \
	JSPEC_STRING("PIN", struct authz_req, pin, 64, JF_REQUIRED | JF_SECRET),                 \
	JSPEC_STRING("OTP", struct authz_req, otp, SAM_OTP_MAX, JF_REQUIRED | JF_SECRET),                 \
	JSPEC_STRING("description", struct authz_req, description, 500, 0),                      \
	JSPEC_STRING("clientData", struct authz_req, client_data, 4096, 0),                       \
	JSPEC_END

static const struct json_field authz_v2[] = { AUTHZ_FIELDS("hashes", "hashAlgorithmOID") };
static const struct json_field authz_v1[] = { AUTHZ_FIELDS("hash", "hashAlgo") };

void
ep_csc_authorize(struct srv_request *rq)
{
	const struct json_field *spec = req_is_v1(rq) ? authz_v1 : authz_v2;
	struct authz_req req;
	uint8_t **raw = NULL;
	size_t *lens = NULL;
	char sad[AUTH_SAD_CHARS + 1];
	int64_t expires_in = 0;
	int r;

	memset(&req, 0, sizeof(req));
	if (!rq->srv->cfg.allow_explicit_authorize) {
		/* the service decided: PIN and OTP go to its own consent page only (oauth2/authorize) */
		req_audit_refusal(rq, "csc.authorize", "explicit authorization disabled (allow_explicit_authorize)");
		reply_error(rq, MHD_HTTP_FORBIDDEN, "access_denied",
		            "credentials/authorize is disabled on this service: use oauth2/authorize");
		return;
	}
	if (req_parse(rq, spec, &req) != 0)
		return;
	if (req_hashes(rq, &req.hashes, &raw, &lens) != 0)
		goto out;
	/* SCAL2: one hash per signature, each listed. */
	if ((size_t)req.num_signatures != req.hashes.n) {
		req_audit_refusal(rq, "csc.authorize", "numSignatures differs from the number of hashes");
		reply_error(rq, MHD_HTTP_BAD_REQUEST, "invalid_request",
		            "Invalid parameter numSignatures: it must equal the number of hashes");
		goto out;
	}
	if ((int64_t)req.hashes.n > rq->srv->cfg.multisign) {
		req_audit_refusal(rq, "csc.authorize", "more hashes than multisign allows");
		reply_csc_err(rq, INK_ERR_TOO_LARGE);
		goto out;
	}
	r = auth_csc_authorize(&rq->srv->actx, &rq->areq, &rq->who, req.credential_id,
	                       (const uint8_t *const *)raw, lens, req.hashes.n, req.hash_oid, req.pin,
	                       req.otp, sad, &expires_in);
	if (r == INK_ERR_DENIED) {
		/* inkan-sam refused it: the owner keeps this key for the consent page alone */
		reply_error(rq, MHD_HTTP_FORBIDDEN, "access_denied",
		            "this credential accepts only oauth2/authorize (authMode oauth2code)");
		goto out;
	}
	if (r != 0) {
		reply_csc_err(rq, r);
		goto out;
	}
	reply_json(rq, MHD_HTTP_OK, json_pack("{s:s, s:I}", "SAD", sad, "expiresIn", (json_int_t)expires_in));
	explicit_bzero(sad, sizeof(sad));
out:
	req_hashes_free(raw, lens, req.hashes.n);
	json_free_spec(spec, &req);
}
