/* ep_users_reenrol: POST /api/v1/users/{username}/reenrol — {"otp"}: a registration officer,
 * with their own fresh OTP, resets a lost second factor -> 200 {"activation_code"} (shown this
 * once): the person logs in with their own password and this code in the OTP's place, and
 * enrols a new seed. */
#include "server/server.h"

#include "sam/sam.h"

struct reenrol_req {
	char *otp;
};

static const struct json_field reenrol_spec[] = {
	JSPEC_STRING("otp", struct reenrol_req, otp, SAM_OTP_MAX, JF_REQUIRED | JF_SECRET),
	JSPEC_END,
};

void
ep_users_reenrol(struct srv_request *rq)
{
	struct reenrol_req req = { 0 };
	struct auth_new_secrets sec = { 0 };
	int r;

	if (req_parse(rq, reenrol_spec, &req) != 0)
		return;
	r = auth_user_reenrol(&rq->srv->actx, &rq->areq, &rq->who, rq->params[0], req.otp, &sec);
	if (r != 0)
		reply_ink_err(rq, r, r == INK_ERR_NOT_FOUND ? "Unknown user" :
		              r == INK_ERR_AUTH ? "Wrong or reused OTP of the officer" : NULL);
	else
		reply_json(rq, MHD_HTTP_OK, json_pack("{s:s, s:b}", "activation_code", sec.password,
		                                      "enrolment_required", 1));
	auth_secrets_free(&sec);
	json_free_spec(reenrol_spec, &req);
}
