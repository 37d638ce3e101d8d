/* ep_enrol: POST /api/v1/enrol — the account holder's own TOTP seed, made in the SAM and shown
 * in this reply alone, after the first password change; confirmed by ep_enrol_confirm. */
#include "server/server.h"

void
ep_enrol(struct srv_request *rq)
{
	struct auth_new_secrets sec = { 0 };
	int r = auth_enrol(&rq->srv->actx, &rq->areq, &rq->who, &sec);

	if (r == INK_ERR_EXISTS)
		reply_ink_err(rq, r, "The second factor is enrolled already (a registration officer "
		              "resets a lost one)");
	else if (r != 0)
		reply_ink_err(rq, r, NULL);
	else
		reply_json(rq, MHD_HTTP_OK, json_pack("{s:s, s:s}", "totp_secret", sec.totp_seed_b32,
		                                      "otpauth_uri", sec.otpauth_uri));
	auth_secrets_free(&sec);
}
