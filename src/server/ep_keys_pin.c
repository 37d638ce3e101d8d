/* ep_keys_pin: POST /api/v1/keys/{id}/pin — change the signing PIN (old one required). */
#include "server/server.h"

#include "sam/sam.h"

struct pin_req {
	char *old_pin;
	char *new_pin;
	char *otp;
};

static const struct json_field pin_spec[] = {
	JSPEC_STRING("old_pin", struct pin_req, old_pin, 64, JF_REQUIRED | JF_SECRET),
	JSPEC_STRING("new_pin", struct pin_req, new_pin, 64, JF_REQUIRED | JF_SECRET),
	JSPEC_STRING("otp", struct pin_req, otp, SAM_OTP_MAX, JF_REQUIRED | JF_SECRET),
	JSPEC_END,
};

void
ep_keys_pin(struct srv_request *rq)
{
	struct pin_req req = { 0 };
	int r;

	if (req_parse(rq, pin_spec, &req) != 0 || req_pin_policy(rq, req.new_pin, "key.pin") != 0)
		goto out;
	r = auth_key_pin(&rq->srv->actx, &rq->areq, &rq->who, rq->params[0], req.old_pin, req.new_pin,
	                 req.otp);
	if (r != 0)
		reply_key_err(rq, r);
	else
		reply_empty(rq, MHD_HTTP_NO_CONTENT);
out:
	json_free_spec(pin_spec, &req);
}
