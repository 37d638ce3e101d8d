/* ep_keys_auth_mode: POST /api/v1/keys/{id}/auth-mode — the signer chooses whether their key
 * may also be activated by credentials/authorize (a client forwarding PIN and OTP) or only on
 * the OAuth consent page; PIN and a fresh OTP, kept and enforced by inkan-sam. */
#include "server/server.h"

#include <string.h>

#include "sam/sam.h"

struct mode_req {
	char *auth_mode;
	char *pin;
	char *otp;
};

static const struct json_field mode_spec[] = {
	JSPEC_STRING("authMode", struct mode_req, auth_mode, 16, JF_REQUIRED),
	JSPEC_STRING("pin", struct mode_req, pin, 64, JF_REQUIRED | JF_SECRET),
	JSPEC_STRING("otp", struct mode_req, otp, SAM_OTP_MAX, JF_REQUIRED | JF_SECRET),
	JSPEC_END,
};

void
ep_keys_auth_mode(struct srv_request *rq)
{
	struct mode_req req = { 0 };
	bool oauth_only;
	int r;

	if (req_parse(rq, mode_spec, &req) != 0)
		goto out;
	if (strcmp(req.auth_mode, "explicit") != 0 && strcmp(req.auth_mode, "oauth2code") != 0) {
		req_audit_refusal(rq, "key.auth_mode", "authMode neither explicit nor oauth2code");
		reply_error(rq, MHD_HTTP_BAD_REQUEST, "invalid_request",
		            "Invalid parameter authMode: explicit or oauth2code");
		goto out;
	}
	oauth_only = strcmp(req.auth_mode, "oauth2code") == 0;
	r = auth_key_auth_mode(&rq->srv->actx, &rq->areq, &rq->who, rq->params[0], req.pin,
	                       oauth_only, req.otp);
	if (r != 0)
		reply_key_err(rq, r);
	else
		reply_empty(rq, MHD_HTTP_NO_CONTENT);
out:
	json_free_spec(mode_spec, &req);
}
