/* ep_auth_revoke: POST /csc/v{1,2}/auth/revoke — ends the bearer's session or another of its own. */
#include "server/server.h"

#include <string.h>

struct revoke_req {
	char *token;
	char *token_type_hint;
};

static const struct json_field revoke_spec[] = {
	JSPEC_STRING("token", struct revoke_req, token, 128, JF_SECRET),
	JSPEC_STRING("token_type_hint", struct revoke_req, token_type_hint, 32, 0),
	JSPEC_END,
};

void
ep_auth_revoke(struct srv_request *rq)
{
	struct revoke_req req = { 0 };
	int r;

	if (req_parse(rq, revoke_spec, &req) != 0)
		return;
	if (req.token_type_hint != NULL && strcmp(req.token_type_hint, "access_token") != 0) {
		reply_error(rq, MHD_HTTP_BAD_REQUEST, "invalid_request",
		            "Invalid parameter token_type_hint: only access_token is issued");
		goto out;
	}
	r = auth_logout(&rq->srv->actx, &rq->areq, &rq->who, req.token);
	if (r != 0) {
		reply_ink_err(rq, r, r == INK_ERR_INVALID ? "Invalid parameter token" : NULL);
		goto out;
	}
	reply_empty(rq, MHD_HTTP_NO_CONTENT);
out:
	json_free_spec(revoke_spec, &req);
}
