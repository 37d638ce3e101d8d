/* ep_keys_renew: POST /api/v1/keys/{id}/renew — new key and certificate; the old one revoked. */
#include "server/server.h"

#include "sam/sam.h"

struct renew_req {
	char *pin;
	char *otp;
};

static const struct json_field renew_spec[] = {
	JSPEC_STRING("pin", struct renew_req, pin, 64, JF_REQUIRED | JF_SECRET),
	JSPEC_STRING("otp", struct renew_req, otp, SAM_OTP_MAX, JF_REQUIRED | JF_SECRET),
	JSPEC_END,
};

void
ep_keys_renew(struct srv_request *rq)
{
	struct renew_req req = { 0 };
	struct sam_cred c;
	int r;

	if (req_parse(rq, renew_spec, &req) != 0)
		return;
	r = auth_key_renew(&rq->srv->actx, &rq->areq, &rq->who, rq->params[0], req.pin, req.otp, &c);
	reply_cred(rq, r, MHD_HTTP_CREATED, &c);
	sam_cred_clear(&c);
	json_free_spec(renew_spec, &req);
}
