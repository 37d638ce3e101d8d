/* ep_users_remove: DELETE /api/v1/users/{username} — deregistration; records stay. The body
 * {"otp": "..."} carries the officer's fresh one-time password, which the SAM checks (without
 * it the SAM refuses). */
#include "server/server.h"

#include "sam/sam.h"

struct remove_req {
	char *otp;
};

static const struct json_field remove_spec[] = {
	JSPEC_STRING("otp", struct remove_req, otp, SAM_OTP_MAX, JF_SECRET),
	JSPEC_END,
};

void
ep_users_remove(struct srv_request *rq)
{
	struct remove_req req = { 0 };
	int r;

	if (req_parse(rq, remove_spec, &req) != 0)
		return;
	/* No code: the SAM refuses (after inkand's own role check has answered a wrong role). */
	r = auth_user_remove(&rq->srv->actx, &rq->areq, &rq->who, rq->params[0],
	                     req.otp != NULL ? req.otp : "");
	if (r != 0)
		reply_ink_err(rq, r, r == INK_ERR_NOT_FOUND ? "Unknown user" :
		              r == INK_ERR_AUTH ? "Wrong or reused OTP of the officer" : NULL);
	else
		reply_empty(rq, MHD_HTTP_NO_CONTENT);
	json_free_spec(remove_spec, &req);
}
