/* ep_auth_login: POST /csc/v{1,2}/auth/login — HTTP Basic username:password plus the current
 * TOTP code in the body -> bearer token (before the account holder enrolled their TOTP seed,
 * no code: the token then allows the password change and the enrolment only). */
#include "server/server.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sam/sam.h"

struct login_req {
	char *otp;
	bool remember_me;
};

static const struct json_field login_spec[] = {
	/* the OTP, or after a re-enrolment the SAM's activation code */
	JSPEC_STRING("otp", struct login_req, otp, 64, JF_SECRET),
	JSPEC_BOOL("rememberMe", struct login_req, remember_me, 0),
	JSPEC_END,
};

void
ep_auth_login(struct srv_request *rq)
{
	struct login_req req = { 0 };
	char token[AUTH_TOKEN_CHARS + 1], *cred = NULL;
	const char *user = NULL, *pw = NULL;
	int64_t expires_in = 0;
	bool must_change = false, enrol = false;
	int r;

	if (req_basic_credentials(rq, &cred, &user, &pw) != 0) {
		req_audit_refusal(rq, "auth.login", "malformed Basic authorization");
		reply_error(rq, MHD_HTTP_BAD_REQUEST, "invalid_request",
		            "Malformed or missing Basic authorization header (username:password)");
		return;
	}
	if (req_parse(rq, login_spec, &req) != 0) {
		req_audit_refusal(rq, "auth.login", "malformed login body");
		goto out;
	}
	r = auth_login(&rq->srv->actx, &rq->areq, user, pw, req.otp != NULL ? req.otp : "", token,
	               &expires_in, &must_change, &enrol);
	if (r != 0) {
		reply_ink_err(rq, r, r == INK_ERR_AUTH || r == INK_ERR_DISABLED ?
		              "Authentication failed: wrong username, password or OTP" : NULL);
		goto out;
	}
	reply_json(rq, MHD_HTTP_OK,
	           json_pack("{s:s, s:s, s:I, s:b, s:b}", "access_token", token, "token_type",
	                     "Bearer", "expires_in", (json_int_t)expires_in,
	                     "password_change_required", must_change, "enrolment_required", enrol));
out:
	explicit_bzero(token, sizeof(token));
	json_free_spec(login_spec, &req);
	secmem_free(cred);
}
