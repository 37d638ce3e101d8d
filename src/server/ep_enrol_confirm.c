/* ep_enrol_confirm: POST /api/v1/enrol/confirm — {"otp"}: the first code of the new seed
 * activates it (the SAM records when and from where); the session becomes a full one. */
#include "server/server.h"

#include "sam/sam.h"

struct confirm_req {
	char *otp;
};

static const struct json_field confirm_spec[] = {
	JSPEC_STRING("otp", struct confirm_req, otp, SAM_OTP_MAX, JF_REQUIRED | JF_SECRET),
	JSPEC_END,
};

void
ep_enrol_confirm(struct srv_request *rq)
{
	struct confirm_req req = { 0 };
	int r;

	if (req_parse(rq, confirm_spec, &req) != 0)
		return;
	r = auth_enrol_confirm(&rq->srv->actx, &rq->areq, &rq->who, req.otp);
	if (r != 0)
		reply_ink_err(rq, r, r == INK_ERR_AUTH ? "Wrong OTP for the new seed" : NULL);
	else
		reply_empty(rq, MHD_HTTP_NO_CONTENT);
	json_free_spec(confirm_spec, &req);
}
