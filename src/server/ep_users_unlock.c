/* ep_users_unlock: POST /api/v1/users/{username}/unlock — the officer for the account (a
 * registration officer for a signer, a security officer otherwise) unlocks it; {"otp"}, their
 * own fresh code, is needed when the SAM locked the person (wrong one-time passwords). */
#include "server/server.h"

#include "sam/sam.h"

struct unlock_req {
	char *otp;
};

static const struct json_field unlock_spec[] = {
	JSPEC_STRING("otp", struct unlock_req, otp, SAM_OTP_MAX, JF_SECRET),
	JSPEC_END,
};

void
ep_users_unlock(struct srv_request *rq)
{
	struct unlock_req req = { 0 };
	int r;

	if (req_parse(rq, unlock_spec, &req) != 0)
		return;
	r = auth_user_unlock(&rq->srv->actx, &rq->areq, &rq->who, rq->params[0],
	                     req.otp != NULL ? req.otp : "");
	if (r != 0)
		reply_ink_err(rq, r, r == INK_ERR_NOT_FOUND ? "Unknown user" :
		              r == INK_ERR_DISABLED ? "Account deregistered" :
		              r == INK_ERR_AUTH ? "Wrong or missing OTP of the officer" : NULL);
	else
		reply_empty(rq, MHD_HTTP_NO_CONTENT);
	json_free_spec(unlock_spec, &req);
}
